"""PAINT's data layer (tfposegen.models.paint.data): the Fashion-Gen layout and lists, each
stage's item as the original loaders build it (LGN/data/aligned_dataset.py,
TSN/core/dataset.py, AFN/core/dataset.py), the Canny boundary, the random choices'
distributions, TFRecords read back equal to the in-memory items, and errors naming the file.
Tiny 64 x 64 synthetic layouts."""

import json
import math
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tfposegen.models.paint import data as D
from tfposegen.models.paint import pipeline as P
from tfposegen.pose.formats import read_paint_json

SIZE = 64


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("paint") / "pen5_jpg_root")   # breaks str.replace
    lines = D.write_synthetic_layout(folder, num_train=3, num_test=1, size=SIZE, seed=0)
    assert lines["train"] == ["42_70880/70881_1.jpg", "43_70890/70891_1.jpg",
                              "44_70900/70901_1.jpg"]
    assert lines["test"] == ["45_70910/70911_1.jpg"]
    return folder


def _labels(root, stem):
    return np.asarray(Image.open(D.view_path(root, stem, "parsing")))


def _image(root, stem):
    rgb = np.asarray(Image.open(D.view_path(root, stem, "image")).convert("RGB"))
    return (rgb.astype(np.float32) / 255 - 0.5) / 0.5


# ------------------------------------------------------------------ Canny


def _reference_canny01(mask):
    """cv2.Canny(mask, 0, 1) of a 0/1 mask pixel by pixel from OpenCV's algorithm: 3x3 Sobel
    with replicated borders, m = |dx| + |dy|, non-maximum suppression along the gradient's
    sector (horizontal if |dy| < tan 22.5 |dx|, vertical if |dy| > tan 67.5 |dx|, else the
    diagonal the signs pick), neighbour outside the image = 0, ``>`` against the previous
    pixel and ``>=`` against the next one (strict both ways on diagonals). On a 0/1 mask
    dx and dy have the parity of the number of differing corners, so m is even: every
    survivor has m >= 2 > 1 (strong) and hysteresis keeps them all."""
    height, width = mask.shape

    def px(r, c):
        return int(mask[min(max(r, 0), height - 1), min(max(c, 0), width - 1)])

    dx, dy = np.zeros(mask.shape, int), np.zeros(mask.shape, int)
    for r in range(height):
        for c in range(width):
            dx[r, c] = sum(w * (px(r + i, c + 1) - px(r + i, c - 1))
                           for i, w in ((-1, 1), (0, 2), (1, 1)))
            dy[r, c] = sum(w * (px(r + 1, c + j) - px(r - 1, c + j))
                           for j, w in ((-1, 1), (0, 2), (1, 1)))
    mag = np.abs(dx) + np.abs(dy)
    assert np.all(mag % 2 == 0)

    def m(r, c):
        return mag[r, c] if 0 <= r < height and 0 <= c < width else 0

    out = np.zeros(mask.shape, np.uint8)
    t22, t67 = math.tan(math.pi / 8), math.tan(3 * math.pi / 8)
    for r in range(height):
        for c in range(width):
            g, x, y = mag[r, c], abs(dx[r, c]), abs(dy[r, c])
            if g == 0:
                continue
            if y < t22 * x:
                keep = g > m(r, c - 1) and g >= m(r, c + 1)
            elif y > t67 * x:
                keep = g > m(r - 1, c) and g >= m(r + 1, c)
            else:
                s = -1 if dx[r, c] * dy[r, c] < 0 else 1
                keep = g > m(r - 1, c - s) and g > m(r + 1, c + s)
            out[r, c] = 255 if keep else 0
    return out


def test_canny_boundary_of_simple_masks_by_hand():
    # a step has m = 4 on both pixels of the transition; NMS keeps the first of the pair in
    # raster direction: left / top edges on the background, right / bottom on the object
    half = np.zeros((8, 8), np.uint8)
    half[:, 5:] = 1
    expected = np.zeros((8, 8), np.uint8)
    expected[:, 4] = 255
    np.testing.assert_array_equal(D.canny_edges(half, 0, 1), expected)
    dot = np.zeros((9, 9), np.uint8)
    dot[4, 4] = 1
    ring = np.zeros((9, 9), np.uint8)
    ring[3:6, 3:6] = 255
    ring[4, 4] = 0
    np.testing.assert_array_equal(D.canny_edges(dot, 0, 1), ring)
    rect = np.zeros((10, 12), np.uint8)
    rect[3:7, 4:9] = 1
    edges = (D.canny_edges(rect, 0, 1) > 0).astype(int)
    rows = {2: [5, 6, 7], 3: [4, 8], 4: [3, 8], 5: [3, 8], 6: [4, 5, 6, 7, 8]}
    hand = np.zeros_like(edges)
    for r, cols in rows.items():
        hand[r, cols] = 1        # corners follow the diagonal sectors
    np.testing.assert_array_equal(edges, hand)
    assert not D.canny_edges(np.ones((6, 6), np.uint8), 0, 1).any()
    assert not D.canny_edges(np.zeros((6, 6), np.uint8), 0, 1).any()


def test_canny_matches_the_pixel_by_pixel_reference_on_random_masks():
    rng = np.random.default_rng(3)
    for k in range(24):
        shape = tuple(rng.integers(2, 17, 2))
        mask = (rng.random(shape) < (0.15, 0.5, 0.85)[k % 3]).astype(np.uint8)
        np.testing.assert_array_equal(D.canny_edges(mask, 0, 1), _reference_canny01(mask))


def test_lgn_components_are_masks_and_the_canny_of_their_union():
    labels = np.zeros((16, 16), int)
    labels[2:6, 3:9] = 5
    labels[6:10, 3:9] = 7           # upper garment = 5 + 7, one region
    labels[11:14, 2:5] = 12
    labels[0:2, 10:14] = 13
    comp = D.lgn_components(labels)
    assert set(comp) == {"ct", "cb", "c3"} and comp["ct"].shape == (16, 16, 4)
    np.testing.assert_array_equal(comp["ct"][..., 0], labels == 5)
    np.testing.assert_array_equal(comp["ct"][..., 2], labels == 7)
    union = ((labels == 5) | (labels == 7)).astype(np.uint8)
    np.testing.assert_array_equal(comp["ct"][..., 3], _reference_canny01(union) / 255)
    assert comp["ct"][5:7, 4:8, 3].sum() == 0          # no edge between 5 and 7
    np.testing.assert_array_equal(comp["cb"][..., 2], labels == 12)
    assert not comp["cb"][..., :2].any()
    assert comp["c3"][..., 3].any() and comp["c3"].dtype == np.float32


# ------------------------------------------------------------------ random choices


def test_view_and_role_distributions():
    n = 4000
    rngs = [D.item_rng(7, i) for i in range(n)]
    views = np.bincount([D.lgn_view(r) for r in rngs], minlength=3) / n
    np.testing.assert_allclose(views, [0.25, 0.5, 0.25], atol=0.03)
    roles = [D.afn_roles(D.item_rng(8, i)) for i in range(n)]
    freq = {p: roles.count(p) / n for p in set(roles)}
    expected = {(0, 1, 2): 1 / 8, (0, 2, 1): 1 / 8, (1, 0, 2): 1 / 4, (1, 2, 0): 1 / 4,
                (2, 1, 0): 1 / 8, (2, 0, 1): 1 / 8}
    assert set(freq) == set(expected)
    for p, f in expected.items():
        assert freq[p] == pytest.approx(f, abs=0.03), p
    sides = np.array([D.tsn_sides(D.item_rng(9, i)) for i in range(n)])
    assert sides[:, 0].min() == 40 and sides[:, 0].max() == 60
    assert sides[:, 1].min() == 32 and sides[:, 1].max() == 48
    ends = np.mean(sides[:, 0] == 40) / np.mean(sides[:, 0] == 50)
    assert ends == pytest.approx(0.5, abs=0.25)          # ends half as likely
    assert D.tsn_sides(D.item_rng(9, 0), width=64) == tuple(s // 4 for s in sides[0])


def test_swatch_squares_against_a_hand_computation():
    labels = np.zeros((256, 256), int)
    labels[100:140, 90:170] = 5      # 3200 px; the 1600th in raster order is (120, 90)
    labels[150:200, 60:100] = 9      # 2000 px; the 1000th is (175, 60)
    image = np.random.default_rng(0).uniform(-1, 1, (256, 256, 3)).astype(np.float32)
    item = D.tsn_example(image, labels, 50, 40)
    # top: r = 120 + 90 / 256, rows int(r - 25) .. int(r + 25) = 95..145, columns 103..153
    square = np.zeros((256, 256, 1), np.float32)
    square[95:145, 103:153] = 1
    np.testing.assert_array_equal(item["mask_to"], square)
    # bottom: r = 175 + 60 / 256 -> rows 155..195; column centre 100 -> columns 80..120
    square_b = np.zeros((256, 256, 1), np.float32)
    square_b[155:195, 80:120] = 1
    np.testing.assert_array_equal(item["mask_bo"], square_b)
    np.testing.assert_array_equal(item["mask_t"][..., 0], labels == 5)
    np.testing.assert_array_equal(item["swatch_t"], image * (labels == 5)[..., None] * square)
    assert not item["swatch_t"][95:100, 103:153].any()   # square rows outside the garment
    np.testing.assert_array_equal(item["swatch_b"], image * (labels == 9)[..., None] * square_b)
    # an empty region centres the square on the canvas, bottom included (not column 100)
    empty = D.tsn_example(image, np.zeros((256, 256), int), 40, 32)
    np.testing.assert_array_equal(np.argwhere(empty["mask_bo"][..., 0])[[0, -1]],
                                  [[112, 112], [143, 143]])
    assert not empty["swatch_b"].any()


# ------------------------------------------------------------------ layout round trip


def test_layout_files_and_lists(root):
    stem = "42_70880/70882_2"
    for part in ("image", "parsing", "pose", "canny"):
        assert os.path.isfile(D.view_path(root, stem, part)), part
    assert D.view_path(root, stem, "parsing").endswith(
        os.path.join("parsing", "42_70880", "70882_2.png"))
    assert D.read_list(os.path.join(root, "all_train.txt"))[0] == "42_70880/70881_1.jpg"
    assert D.PaintLayout(root, "afn", "test").names == ["45_70910/70911_1.jpg"]
    with open(D.view_path(root, stem, "pose")) as f:
        assert set(json.load(f)) == {str(k) for k in range(18)}
    one, two = _labels(root, "42_70880/70881_1"), _labels(root, stem)
    assert set(np.unique(one)) <= {0, 2, 5, 9, 13, 14, 15}
    mirrored = one[:, ::-1].copy()
    mirrored[one[:, ::-1] == 14], mirrored[one[:, ::-1] == 15] = 15, 14
    np.testing.assert_array_equal(two, mirrored)            # view 2 = view 1 mirrored
    kp1 = read_paint_json(D.view_path(root, "42_70880/70881_1", "pose"))
    kp2 = read_paint_json(D.view_path(root, stem, "pose"))
    assert kp2[5, 1] == SIZE - 1 - kp1[2, 1] and kp2[5, 0] == kp1[2, 0]


def test_lgn_items(root):
    layout = D.PaintLayout(root, "lgn")
    assert len(layout) == 3
    seen = set()
    for epoch in range(6):
        item = layout.item(1, seed=5, epoch=epoch)
        view = D.lgn_view(D.item_rng(5, 1, epoch))
        seen.add(view)
        stem = D.garment_views("43_70890/70891_1.jpg")[view]
        labels = _labels(root, stem)
        assert {k: v.shape for k, v in item.items()} == {
            "A": (SIZE, SIZE, 18), "B": (SIZE, SIZE, 20), "ct": (SIZE, SIZE, 4),
            "cb": (SIZE, SIZE, 4), "c3": (SIZE, SIZE, 4)}
        assert all(v.dtype == np.float32 for v in item.values())
        np.testing.assert_array_equal(item["B"], P.one_hot(labels))
        kp = read_paint_json(D.view_path(root, stem, "pose"))
        np.testing.assert_array_equal(item["A"], P.pose_disks(kp, SIZE, SIZE))
        assert set(np.unique(item["A"])) == {-1.0, 1.0}
        hidden = np.all(kp == 0, axis=1)      # written [0, 0]: PAINT's "not found"
        assert np.all(item["A"][..., hidden] == -1)
        np.testing.assert_array_equal(item["ct"][..., :3], item["B"][..., 5:8])
        np.testing.assert_array_equal(item["cb"][..., :3], item["B"][..., [8, 9, 12]])
        np.testing.assert_array_equal(item["c3"][..., :3], item["B"][..., [1, 2, 13]])
        edge = item["ct"][..., 3]
        union = np.isin(labels, (5, 6, 7))
        padded = np.pad(union, 1, mode="edge")
        differs = np.zeros_like(union)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                differs |= padded[1 + dr:1 + dr + SIZE, 1 + dc:1 + dc + SIZE] != union
        assert edge.any() and np.all(differs[edge > 0])     # a one-pixel boundary
    assert len(seen) > 1
    np.testing.assert_array_equal(layout.item(2, seed=3)["A"], layout.item(2, seed=3)["A"])


def test_tsn_items(root):
    layout = D.PaintLayout(root, "tsn")
    item = layout.item(0, seed=11)
    assert set(item) == set(D.KEYS["tsn"])
    image = _image(root, "42_70880/70881_1")
    labels = _labels(root, "42_70880/70881_1")
    np.testing.assert_array_equal(item["image"], image)
    np.testing.assert_array_equal(item["parsing"], P.one_hot(labels))
    np.testing.assert_array_equal(item["mask_t"][..., 0], np.isin(labels, (5, 6, 7)))
    np.testing.assert_array_equal(item["mask_b"][..., 0], np.isin(labels, (9, 12)))
    top, bottom = D.tsn_sides(D.item_rng(11, 0), SIZE)
    assert item["mask_to"].sum() == top * top and item["mask_bo"].sum() == bottom * bottom
    np.testing.assert_array_equal(item["swatch_t"], image * item["mask_t"] * item["mask_to"])
    np.testing.assert_array_equal(item["swatch_b"], image * item["mask_b"] * item["mask_bo"])
    assert item["image"].min() >= -1 and item["image"].max() <= 1


def test_afn_items(root):
    layout = D.PaintLayout(root, "afn")
    stems = D.listed_views(layout.names[2])
    assert stems == ("44_70900/70901_1", "44_70900/70902_2", "44_70900/70903_3")
    for seed in range(4):
        item = layout.item(2, seed=seed)
        roles = D.afn_roles(D.item_rng(seed, 2))
        for suffix, k in zip(("", "_p1", "_p2"), roles):
            np.testing.assert_array_equal(item["image" + suffix], _image(root, stems[k]))
            expected = P.afn_parsing(_labels(root, stems[k])[None])[0]
            np.testing.assert_array_equal(item["parsing" + suffix], expected)
            assert item["parsing" + suffix].shape == (SIZE, SIZE, 9)
            np.testing.assert_array_equal(item["parsing" + suffix].sum(-1), 1)


# ------------------------------------------------------------------ records


def test_records_round_trip_equals_the_items(root, tmp_path):
    for stage, shards in (("lgn", 1), ("tsn", 2), ("afn", 1)):
        out = str(tmp_path / stage)
        summary = D.write_records(out, root, stage, num_shards=shards)
        assert summary["records"] == 3 and summary["height"] == SIZE
        assert len(summary["shards"]) == shards
        layout = D.PaintLayout(root, stage)
        ds = D.record_dataset(out, batch_size=2, shuffle=False, seed=4, repeat=True)
        batches = list(ds.take(3))               # 6 elements: epochs 0 and 1
        assert all(b[k].shape[1:] == (SIZE, SIZE, D.CHANNELS[stage][k])
                   for b in batches for k in D.KEYS[stage])
        for position in range(6):
            b, i = batches[position // 2], position % 2
            expected = layout.item(position % 3, seed=4, epoch=position // 3)
            for key in D.KEYS[stage]:
                np.testing.assert_array_equal(b[key][i].numpy(), expected[key], err_msg=key)
    shuffled = D.record_dataset(str(tmp_path / "afn"), batch_size=1, shuffle=True, seed=1,
                                with_names=True)
    layout = D.PaintLayout(root, "afn")
    names = []
    for b in shuffled:
        name = b["name"][0].numpy().decode()
        names.append(name)
        expected = layout.item(layout.names.index(name), seed=1)
        np.testing.assert_array_equal(b["image_p2"][0].numpy(), expected["image_p2"])
    assert sorted(names) == layout.names
    with pytest.raises(D.PaintDataError, match="no .tfrecord"):
        D.record_dataset(str(tmp_path / "nothing"))


# ------------------------------------------------------------------ errors


@pytest.fixture
def small(tmp_path):
    folder = str(tmp_path / "small")
    D.write_synthetic_layout(folder, num_train=2, num_test=1, size=32, seed=2)
    return folder


def test_one_line_lists_and_names(small):
    flist = os.path.join(small, "flist", "pen5", "test.flist")
    with open(flist, "w") as f:
        f.write("# a comment\n\n  44_72900/72901_1.jpg  extra\n")   # no newline at the end
    f_test = D.PaintLayout(small, "tsn", "test")
    assert f_test.names == ["44_72900/72901_1.jpg"]
    assert f_test.item(0)["image"].shape == (32, 32, 3)
    assert D.PaintLayout(small, "afn", "test").item(0)["parsing"].shape == (32, 32, 9)
    lgn = D.PaintLayout(small, "lgn", list_file="all_test.txt")
    assert lgn.names == ["44_72900/72901_1.jpg"] and lgn.item(0)["A"].shape == (32, 32, 18)
    assert D.garment_views("x_y_70880/70881_1.jpg") == (
        "x_y_70880/70881_1", "x_y_70880/70882_2", "x_y_70880/70883_3")
    with open(os.path.join(small, "flist", "pen55", "test.flist"), "w") as f:
        f.write("nonsense.jpg\n")
    with pytest.raises(D.PaintDataError, match="pen55.test.flist: 'nonsense.jpg'"):
        D.PaintLayout(small, "afn", "test").item(0)
    with pytest.raises(D.PaintDataError, match="not found"):
        D.PaintLayout(small, "tsn", "val")


def test_missing_and_bad_files_name_the_file(small):
    stem = "42_72880/72882_2"
    parsing = D.view_path(small, stem, "parsing")
    os.remove(parsing)
    for stage in ("lgn", "afn"):      # both read view 2 of the first garment
        with pytest.raises(D.PaintDataError, match=f"{parsing}: parsing file not found"):
            D.PaintLayout(small, stage).item(0)
    D.PaintLayout(small, "tsn").item(0)               # TSN reads view 1 only
    Image.fromarray(np.full((32, 32), 21, np.uint8)).save(parsing)
    with pytest.raises(D.PaintDataError, match=f"{parsing}: labels must be 0..19"):
        D.PaintLayout(small, "afn").item(0)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(parsing)
    with pytest.raises(D.PaintDataError, match="single-channel"):
        D.PaintLayout(small, "afn").item(0)
    pose = D.view_path(small, stem, "pose")
    with open(pose, "w") as f:
        f.write('{"0": [1, 2], "1": "nope"')
    with pytest.raises(D.PaintDataError, match=pose):
        D.PaintLayout(small, "lgn").item(0)
    image = D.view_path(small, "44_72900/72901_1", "image")
    with open(image, "wb") as f:
        f.write(b"not a jpeg")
    with pytest.raises(D.PaintDataError, match=f"{image}: cannot read the image"):
        D.PaintLayout(small, "tsn", "test").item(0)


def test_skip_bad_items_substitutes_item_zero(small):
    shutil.rmtree(os.path.join(small, "imageyy", "44_72900"))
    with open(os.path.join(small, "flist", "pen5", "train.flist"), "a") as f:
        f.write("44_72900/72901_1.jpg\n")
    layout = D.PaintLayout(small, "tsn", skip_bad_items=True)
    assert len(layout) == 3 and layout.names[2] == "44_72900/72901_1.jpg"
    with pytest.warns(UserWarning, match="loading error"):
        item = layout.item(2, seed=1)
    np.testing.assert_array_equal(item["image"], layout.item(0, seed=1)["image"])
    with pytest.raises(D.PaintDataError, match="image file not found"):
        D.PaintLayout(small, "tsn").item(2)
