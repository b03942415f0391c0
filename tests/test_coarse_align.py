"""Coarse alignment: thin-plate splines, body anchors, a drawn T-shirt on a drawn model, and
DGP's samples."""

import numpy as np
import pytest
from conftest import SHARED
from PIL import Image, ImageDraw
from scipy import ndimage
from test_cloth_parse import draw_tshirt, iou

from tfposegen.models.dgp import masks
from tfposegen.models.dgp.coarse_align import (
    CoarseAlignError,
    body_anchors,
    coarse_align,
    fit_tps,
    warp_tps,
)
from tfposegen.models.dgp.metrics import garment_region
from tfposegen.parsing.cloth import cloth_parse

DGP_DATA = SHARED / "data" / "dgp"
needs_data = pytest.mark.skipif(not DGP_DATA.is_dir(), reason="../shared/data/dgp absent")

# A model in unit coordinates (x, y): trunk (neck at the top, trousers at the bottom) and the
# image-left arm hanging from its shoulder corner at (0.26, 0.20); the other arm mirrored.
_TRUNK = [(0.44, 0.0), (0.56, 0.0), (0.57, 0.12), (0.74, 0.19), (0.70, 0.32), (0.69, 0.6),
          (0.71, 1.0), (0.29, 1.0), (0.31, 0.6), (0.30, 0.32), (0.26, 0.19), (0.43, 0.12)]
_ARM = [(0.26, 0.19), (0.19, 0.60), (0.17, 0.98), (0.25, 0.98), (0.27, 0.60), (0.30, 0.32)]
_RAISED_ARM = [(0.26, 0.19), (0.02, 0.33), (0.05, 0.39), (0.30, 0.31)]   # 30 deg below level


def draw_model(size=256, scale=1.0, shift=(0.0, 0.0), arm=_ARM):
    """A model photo and its DGP parse.

    Returns:
        (uint8 [size, size, 3] RGB photo, uint8 [size, size] labels {0, 16, 32, 64}).
    """
    def pixels(points, mirror=False):
        return [(((1 - x if mirror else x) - 0.5) * scale * size + size / 2 + shift[0] * size,
                 y * scale * size + shift[1] * size) for x, y in points]

    parse = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(parse)
    draw.polygon(pixels(_TRUNK), fill=64)
    draw.polygon(pixels(arm), fill=16)
    draw.polygon(pixels(arm, mirror=True), fill=32)
    parse = np.asarray(parse)
    photo = np.full((size, size, 3), 255, np.uint8)
    photo[parse == 64] = (20, 20, 20)
    photo[np.isin(parse, (16, 32))] = (225, 185, 160)
    return photo, parse


def test_tps_is_exact_at_control_points_and_identity_for_equal_points():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (9, 2))
    dst = src + rng.normal(0, 8, src.shape)
    np.testing.assert_allclose(fit_tps(src, dst)(src), dst, atol=1e-6)
    points = rng.uniform(-50, 150, (50, 2))
    np.testing.assert_allclose(fit_tps(src, src)(points), points, atol=1e-6)
    shift = fit_tps(src, src + (3.0, -2.0))   # an affine map stays affine
    np.testing.assert_allclose(shift(points), points + (3.0, -2.0), atol=1e-6)


def test_warp_tps_moves_marked_points_to_their_targets():
    src = np.array([[20.0, 20.0], [100.0, 25.0], [30.0, 100.0], [95.0, 90.0], [60.0, 60.0]])
    dst = src + np.array([[5, -3], [-6, 4], [8, 2], [-4, -7], [3, 5]])
    image = np.zeros((128, 128), np.uint8)
    for k, (x, y) in enumerate(src.astype(int)):
        image[y - 2:y + 3, x - 2:x + 3] = 50 + 40 * k
    warped = warp_tps(image, src, dst, (128, 128), interpolation=0)
    for k, target in enumerate(dst):
        ys, xs = np.nonzero(warped == 50 + 40 * k)
        np.testing.assert_allclose((xs.mean(), ys.mean()), target, atol=0.6)
    np.testing.assert_array_equal(warp_tps(image, src, src, (128, 128)), image)


def test_body_anchors_of_the_drawn_model():
    _, parse = draw_model()
    anchors = body_anchors(parse)
    left, right = anchors["shoulder"] / 256
    width = right[0] - left[0]
    # silhouette corners at (0.26, 0.19) / (0.74, 0.19), raised by 3 % of the width
    np.testing.assert_allclose(left, (0.26, 0.19 - 0.03 * width), atol=0.02)
    np.testing.assert_allclose(right, (0.74, 0.19 - 0.03 * width), atol=0.02)
    assert all(arm is not None for arm in anchors["arms"])
    np.testing.assert_allclose(anchors["armpit"] / 256, [[left[0] + 0.12 * width,
                                                          left[1] + 0.42 * width],
                                                         [right[0] - 0.12 * width,
                                                          left[1] + 0.42 * width]], atol=0.01)


def _aligned(size=256, scale=1.0, shift=(0.0, 0.0), sleeve="short"):
    model_img, model_parse = draw_model(size, scale, shift)
    product, _ = draw_tshirt(size)
    return model_img, model_parse, coarse_align(model_img, model_parse, product,
                                                cloth_parse(product), sleeve)


@pytest.mark.parametrize("sleeve", ["short", "long"])
def test_drawn_shirt_lands_on_the_drawn_body(sleeve):
    model_img, model_parse, (coarse, parse) = _aligned(sleeve=sleeve)
    assert coarse.shape == model_img.shape and coarse.dtype == np.uint8
    assert parse.shape == model_parse.shape and parse.dtype == np.uint8
    assert set(np.unique(parse)) <= {0, 23, 32, 64, 128}
    garment = np.isin(parse, (32, 64, 128))
    body = ndimage.binary_dilation(model_parse > 0, iterations=5)
    assert (garment & body).sum() / garment.sum() > 0.92       # on trunk and arms (sleeves
                                                               # keep some flare)
    anchors = body_anchors(model_parse)
    chest = np.zeros_like(garment)
    chest[int(anchors["shoulder"][:, 1].max()) + 5:200] = True
    assert (garment & chest & (model_parse == 64)).sum() / (chest & (model_parse == 64)).sum() \
        > 0.9                                                  # covers the upper trunk
    for label, arm in ((64, 16), (128, 32)):                   # sleeves cover the upper arms
        upper_arm = model_parse == arm
        upper_arm[np.nonzero(upper_arm)[0].min() + 38:] = False
        assert ((parse == label) & upper_arm).sum() / upper_arm.sum() > 0.75
    np.testing.assert_array_equal(coarse[~garment], model_img[~garment])
    assert np.abs(coarse[garment].astype(int) - model_img[garment]).mean() > 30


@pytest.mark.parametrize("sleeve,most", [("short", 30), ("long", 30)])
def test_sleeves_turn_towards_raised_arms(sleeve, most):
    model_img, model_parse = draw_model(arm=_RAISED_ARM)
    product, _ = draw_tshirt()
    _, parse = coarse_align(model_img, model_parse, product, cloth_parse(product), sleeve)

    def direction(mask):  # principal axis, pointing away from the body's centre
        ys, xs = np.nonzero(mask)
        points = np.stack([xs - xs.mean(), ys - ys.mean()], axis=1)
        axis = np.linalg.svd(points, full_matrices=False)[2][0]
        return axis * np.sign(axis[0] * (xs.mean() - 128))

    for label, arm in ((64, 16), (128, 32)):
        arm_axis, sleeve_axis = direction(model_parse == arm), direction(parse == label)
        angle = np.degrees(np.arccos(np.clip(arm_axis @ sleeve_axis, -1, 1)))
        assert angle < most + 8, (label, angle)  # 43 deg without turning to the arm
        assert ((parse == label) & (model_parse == arm)).sum() > 0.2 * (parse == label).sum()


def test_alignment_follows_the_body():
    _, _, (_, parse) = _aligned()
    _, _, (_, moved) = _aligned(shift=(0.06, 0.04))
    back = np.roll(moved, (-round(0.04 * 256), -round(0.06 * 256)), axis=(0, 1))
    assert iou(np.isin(back, (32, 64, 128)), np.isin(parse, (32, 64, 128))) > 0.93
    _, _, (_, small) = _aligned(scale=0.8)
    ratio = np.isin(small, (32, 64, 128)).sum() / np.isin(parse, (32, 64, 128)).sum()
    assert 0.8 ** 2 * 0.85 < ratio < 0.8 ** 2 * 1.15


def test_residual_mask_of_the_alignment_is_the_uncovered_trunk():
    _, model_parse, (_, parse) = _aligned()
    residual = masks.residual_mask(model_parse, parse, "short")
    assert residual.sum() < 0.45 * (model_parse == 64).sum()
    assert residual[:20].any()              # the neck above the collar
    assert not residual[70:150, 100:156].any()  # the chest is covered
    assert residual[240:].mean() > 0.2     # the trousers below the hem


def test_bad_inputs():
    model_img, model_parse = draw_model()
    product, truth = draw_tshirt()
    with pytest.raises(CoarseAlignError, match="no trunk"):
        coarse_align(model_img, np.where(model_parse == 64, 0, model_parse).astype(np.uint8),
                     product, truth)
    with pytest.raises(CoarseAlignError, match="must be"):
        coarse_align(model_img[:100], model_parse, product, truth)
    with pytest.raises(CoarseAlignError, match="cloth_sleeve"):
        coarse_align(model_img, model_parse, product, truth, "sleeveless")


@needs_data
def test_dgp_sample_alignment():
    # model_2/cloth_2/cloth_img.png is the garment already in the model frame, so the
    # shipped cloth_parse.png is what a perfect alignment would give.
    folder = DGP_DATA / "model_2"
    model_img = np.asarray(Image.open(folder / "model_info" / "model_img.png").convert("RGB"))
    model_parse = np.asarray(Image.open(folder / "model_info" / "model_parse.png"))
    product = np.asarray(Image.open(folder / "cloth_2" / "cloth_img.png").convert("RGB"))
    shipped = np.asarray(Image.open(folder / "cloth_2" / "cloth_parse.png"))
    _, parse = coarse_align(model_img, model_parse, product, cloth_parse(product))
    assert iou(garment_region(parse, 512), garment_region(shipped, 512)) > 0.88  # 0.91
    for label, least in ((32, 0.87), (64, 0.62), (128, 0.7)):  # 0.90 0.67 0.77
        assert iou(garment_region(np.where(parse == label, 32, 0), 512),
                   garment_region(np.where(shipped == label, 32, 0), 512)) > least, label
    # model_1's body with model_2's garment: no ground truth; the garment must sit on it
    folder = DGP_DATA / "model_1" / "model_info"
    model_img = np.asarray(Image.open(folder / "model_img.png").convert("RGB"))
    model_parse = np.asarray(Image.open(folder / "model_parse.png"))
    _, parse = coarse_align(model_img, model_parse, product, cloth_parse(product))
    garment = np.isin(parse, (32, 64, 128))
    assert (garment & (model_parse > 0)).sum() / garment.sum() > 0.92
