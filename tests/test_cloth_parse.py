"""Cloth parse of product photos: drawn T-shirts with known regions, bad inputs, DGP's sample."""

import numpy as np
import pytest
from conftest import SHARED
from PIL import Image, ImageDraw

from tfposegen.parsing.cloth import (
    ClothParseError,
    cloth_parse,
    foreground_mask,
    garment_anchors,
)

DGP_DATA = SHARED / "data" / "dgp"
needs_data = pytest.mark.skipif(not DGP_DATA.is_dir(), reason="../shared/data/dgp absent")

# A T-shirt in unit coordinates (x, y): body, image-left sleeve (hanging apart from the
# torso below the armpit), collar inside (above the front neckline).
_BODY = [(0.40, 0.12), (0.24, 0.20), (0.30, 0.42), (0.29, 0.90), (0.71, 0.90), (0.70, 0.42),
         (0.76, 0.20), (0.60, 0.12), (0.55, 0.17), (0.50, 0.19), (0.45, 0.17)]
_SLEEVE = [(0.24, 0.20), (0.30, 0.42), (0.17, 0.52), (0.08, 0.45)]
_COLLAR = [(0.41, 0.10), (0.59, 0.10), (0.60, 0.12), (0.55, 0.17), (0.50, 0.19), (0.45, 0.17),
           (0.40, 0.12)]


def draw_tshirt(size=256, scale=1.0, shift=(0.0, 0.0), seed=0):
    """A product photo of a T-shirt on a plain background and its true labels.

    Returns:
        (uint8 [size, size, 3] RGB photo, uint8 [size, size] labels {0, 23, 32, 64, 128}).
    """
    def pixels(points, mirror=False):
        return [(((1 - x if mirror else x) - 0.5) * scale * size + size / 2 + shift[0] * size,
                 (y - 0.5) * scale * size + size / 2 + shift[1] * size) for x, y in points]

    labels = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(labels)
    draw.polygon(pixels(_BODY), fill=32)
    draw.polygon(pixels(_SLEEVE), fill=64)
    draw.polygon(pixels(_SLEEVE, mirror=True), fill=128)
    draw.polygon(pixels(_COLLAR), fill=23)
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    colours = {0: (242, 241, 238), 23: (120, 110, 100), 32: (40, 90, 170), 64: (40, 90, 170),
               128: (40, 90, 170)}
    photo = np.zeros((size, size, 3), np.float32)
    for label, colour in colours.items():
        photo[labels == label] = colour
    garment = np.isin(labels, (32, 64, 128))
    stripes = (np.arange(size)[:, None] // max(2, round(size / 40)) % 2 == 0) & garment
    photo[stripes] *= 0.8  # a striped fabric
    band = Image.new("L", (size, size), 0)  # the front collar band: an edge above the body
    ImageDraw.Draw(band).line(pixels(_COLLAR[2:]), fill=1, width=max(2, size // 80))
    photo[np.asarray(band) > 0] = (230, 230, 230)
    photo += rng.normal(0, 1.5, photo.shape)
    return np.clip(photo, 0, 255).astype(np.uint8), labels


def iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


@pytest.mark.parametrize("size,scale,shift", [(256, 1.0, (0, 0)), (180, 0.8, (0.05, 0.02)),
                                              (400, 0.9, (-0.03, 0.0))])
def test_drawn_tshirt_labels_cover_their_regions(size, scale, shift):
    photo, truth = draw_tshirt(size, scale, shift)
    parse = cloth_parse(photo)
    assert parse.shape == truth.shape and parse.dtype == np.uint8
    assert set(np.unique(parse)) <= {0, 23, 32, 64, 128}
    assert iou(parse > 0, truth > 0) > 0.97
    for label, least in ((32, 0.93), (64, 0.85), (128, 0.85), (23, 0.6)):
        assert iou(parse == label, truth == label) > least, label


def test_image_left_sleeve_is_64_and_mirroring_swaps_the_sleeves():
    photo, _ = draw_tshirt()
    parse = cloth_parse(photo)
    columns = {label: np.nonzero(parse == label)[1].mean() for label in (64, 128)}
    assert columns[64] < photo.shape[1] / 2 < columns[128]
    mirrored = cloth_parse(photo[:, ::-1])[:, ::-1]
    swapped = np.where(parse == 64, 128, np.where(parse == 128, 64, parse))
    assert iou(mirrored == 64, swapped == 64) > 0.95
    assert iou(mirrored == 32, swapped == 32) > 0.97


def test_path_input_equals_array_input(tmp_path):
    photo, _ = draw_tshirt()
    path = tmp_path / "shirt.png"
    Image.fromarray(photo).save(path)
    np.testing.assert_array_equal(cloth_parse(path), cloth_parse(photo))


def test_sleeveless_top_has_no_sleeve_labels():
    photo, truth = draw_tshirt()
    photo[np.isin(truth, (64, 128))] = (242, 241, 238)
    parse = cloth_parse(photo)
    assert not np.isin(parse, (64, 128)).any()
    assert iou(parse > 0, np.isin(truth, (23, 32))) > 0.97


def test_garment_anchors_of_the_drawn_shirt():
    photo, truth = draw_tshirt(scale=1.0)
    anchors = garment_anchors(truth)
    size = photo.shape[0]
    # the drawn seam runs from the shoulder (0.24, 0.20) to the armpit (0.30, 0.42)
    np.testing.assert_allclose(anchors.shoulder[0] / size, (0.24, 0.20), atol=0.02)
    np.testing.assert_allclose(anchors.armpit[0] / size, (0.30, 0.42), atol=0.02)
    np.testing.assert_allclose(anchors.shoulder[1] / size, (0.76, 0.20), atol=0.02)
    assert anchors.cuff[0, 0] < anchors.shoulder[0, 0] and anchors.cuff[0, 1] > 0.4 * size
    assert abs(anchors.hem[0, 1] / size - 0.87) < 0.03


def test_noisy_border_is_refused_naming_the_file(tmp_path):
    photo, _ = draw_tshirt()
    noisy = np.random.default_rng(0).integers(0, 256, photo.shape, dtype=np.uint8)
    noisy[40:-40, 40:-40] = photo[40:-40, 40:-40]
    path = tmp_path / "on_a_sofa.png"
    Image.fromarray(noisy).save(path)
    with pytest.raises(ClothParseError, match=r"on_a_sofa\.png: the image border is not one"):
        cloth_parse(path)


def test_bad_inputs_are_refused(tmp_path):
    photo, _ = draw_tshirt()
    with pytest.raises(ClothParseError, match="at least 32 px"):
        foreground_mask(photo[:20, :20])
    with pytest.raises(ClothParseError, match="not one plain colour"):
        foreground_mask(photo[60:200, 60:200])      # cropped inside the striped garment
    cropped = np.full((100, 100, 3), 240, np.uint8)
    cropped[55:] = (40, 90, 170)                    # a plain garment cut by three sides
    with pytest.raises(ClothParseError, match="covers 47% of the image border"):
        foreground_mask(cropped)
    with pytest.raises(ClothParseError, match="no garment found"):
        foreground_mask(np.full((64, 64, 3), 200, np.uint8))
    with pytest.raises(ClothParseError, match="expected uint8"):
        cloth_parse(photo.astype(np.float32))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(ClothParseError, match=r"broken\.png: cannot read"):
        cloth_parse(broken)


@needs_data
def test_dgp_sample_product_photo():
    # model_2/cloth_2/cloth_img.png is the garment already in the model frame, pixel-aligned
    # with the shipped cloth_parse.png: a ground truth for the parse.
    folder = DGP_DATA / "model_2" / "cloth_2"
    parse = cloth_parse(folder / "cloth_img.png")
    truth = np.asarray(Image.open(folder / "cloth_parse.png"))
    assert iou(parse > 0, truth > 0) > 0.97
    for label, least in ((32, 0.96), (64, 0.88), (128, 0.88), (23, 0.72)):  # 0.98 0.92 0.93 0.79
        assert iou(parse == label, truth == label) > least, label
