"""Procedural photos for the web service's demo: the default catalogue and shopper photos
made by :func:`tfposegen.data.synthetic_persons.make_person` (256 x 176) with a simple face
drawn on (eyes, nose, mouth: without them BlazePose takes the blank head for the back of
one), so that the service, its tests and its README run with no photo downloaded. The seeds
are persons facing the camera that BlazePose finds and the shopper pipeline accepts
(checked by tests/test_websvc.py)."""

import numpy as np
from PIL import Image, ImageDraw

from tfposegen.data.synthetic_persons import make_person

PRODUCT_SEEDS = (0, 11, 20, 24, 28, 29)
SHOPPER_SEEDS = (42, 45, 47, 53)
SIZE = (256, 176)


def draw_face(image, keypoints):
    """Eyes, nose and mouth at the nose (0) and eye (14, 15) keypoints (row, col) of a
    person facing the camera: uint8 [H, W, 3] -> a new uint8 [H, W, 3]. Scaled for a
    256-pixel-high person image."""
    picture = Image.fromarray(np.asarray(image, np.uint8))
    draw = ImageDraw.Draw(picture)
    for eye in (14, 15):
        r, c = keypoints[eye]
        draw.ellipse([c - 3, r - 2, c + 3, r + 2], fill=(30, 20, 20))
        draw.ellipse([c - 1, r - 1, c + 1, r + 1], fill=(250, 250, 250))
    r, c = keypoints[0]
    draw.line([(c, r - 3), (c - 1, r + 3)], fill=(120, 80, 60), width=1)
    draw.line([(c - 5, r + 7), (c + 5, r + 7)], fill=(150, 40, 40), width=2)
    return np.asarray(picture)


def demo_photo(seed):
    """uint8 [256, 176, 3] RGB: person ``seed`` in pose ``seed + 100``, with a face drawn
    when the pose faces the camera."""
    image, keypoints = make_person(seed, seed + 100, *SIZE)
    if np.all(keypoints[[0, 14, 15]] >= 0):
        image = draw_face(image, keypoints)
    return image


def demo_catalog():
    """A :class:`tfposegen.serving.web.Catalog` of the :data:`PRODUCT_SEEDS` persons."""
    from tfposegen.serving.web import Catalog

    return Catalog([(f"demo product {s}", demo_photo(s)) for s in PRODUCT_SEEDS])
