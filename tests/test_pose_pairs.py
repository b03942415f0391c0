"""Pose-transfer pair data: Gaussian pose maps (PATN / GFLA ``cords_to_map``), the pairs /
annotation CSVs, the TFRecord conversion and the tf.data reader."""

import io
import json
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf
from conftest import DATA
from PIL import Image

from tfposegen.data import pose_pairs as PP
from tfposegen.pose.formats import PoseFileError, read_annotation_csv
from tfposegen.pose.maps import gaussian_heatmaps, gaussian_heatmaps_np

SIZE = (64, 44)  # a small DeepFashion-like frame (H, W)


def formula(kp, height, width, sigma, old_size=None):
    """The pose map written out joint by joint (float64, then float32)."""
    out = np.zeros((height, width, 18), np.float32)
    for k, (r, c) in enumerate(np.asarray(kp, np.float64)):
        if r == -1 or c == -1:
            continue
        if old_size is not None:
            r, c = int(r / old_size[0] * height), int(c / old_size[1] * width)
        for y in range(height):
            for x in range(width):
                out[y, x, k] = np.exp(-((y - r) ** 2 + (x - c) ** 2) / (2.0 * sigma ** 2))
    return out


def random_keypoints(rng, n, frame):
    kp = np.stack([rng.integers(-40, frame[0] + 40, (n, 18)),
                   rng.integers(-40, frame[1] + 40, (n, 18))], -1)
    kp[rng.random((n, 18)) < 0.2] = -1
    kp[0, 3, 0] = -1  # only the row missing
    return kp


def test_gaussian_maps_match_formula(rng):
    kp = random_keypoints(rng, 2, (24, 20))
    for old in (None, (24, 20), (30, 17)):
        for k in range(2):
            got = gaussian_heatmaps_np(kp[k], 24, 20, 3.0, old)
            np.testing.assert_array_equal(got, formula(kp[k], 24, 20, 3.0, old))
    assert not gaussian_heatmaps_np(kp[0], 24, 20)[..., 3].any()


def test_gaussian_maps_match_originals():
    """Maps from cords_to_map of PATN tool/pose_utils.py, PATN's uint8 pose-file writer and
    GFLA util/pose_utils.py (tests/reference/make_pose_pairs_reference.py)."""
    ref = np.load(DATA / "pose_pairs" / "heatmaps.npz")
    ch, rows, cols = list(ref["channels"]), slice(1, None, 6), slice(2, None, 5)
    worst = 0.0
    for k in range(3):
        kp = np.stack([json.loads(str(ref[f"y_{k}"])), json.loads(str(ref[f"x_{k}"]))], 1)
        cases = [(f"patn_{k}_32x24", kp // 8, (32, 24), None),
                 (f"patn_{k}_256x176", kp, (256, 176), None)]
        cases += [(f"gfla_{k}_{h}x{w}", kp, (h, w), (256, 176))
                  for h, w in ((256, 256), (256, 176), (32, 24))]
        for key, points, (h, w), old in cases:
            ours = gaussian_heatmaps_np(points, h, w, 6, old)[..., ch]
            tf_ours = gaussian_heatmaps(points[None], h, w, 6, old).numpy()[0][..., ch]
            if h > 32:
                ours, tf_ours = ours[rows, cols], tf_ours[rows, cols]
            for got in (ours, tf_ours):
                err = np.abs(got - ref[key]).max()
                assert err < 1e-6, key
                worst = max(worst, err)
        peaks = np.argwhere(gaussian_heatmaps_np(kp, 256, 176, peak_only=True))
        np.testing.assert_array_equal(peaks, ref[f"patn_uint8_{k}"])
        tf_peaks = gaussian_heatmaps(kp[None], 256, 176, peak_only=True).numpy()[0]
        np.testing.assert_array_equal(np.argwhere(tf_peaks), ref[f"patn_uint8_{k}"])
    print(f"max |ours - original| = {worst:.2e}")


def test_tf_op_matches_numpy(rng):
    kp = random_keypoints(rng, 3, (256, 176))
    frames = np.array([[256, 176], [128, 64], [256, 176]])
    got = gaussian_heatmaps(tf.constant(kp, tf.float32), 48, 40, 6.0, frames).numpy()
    fixed = gaussian_heatmaps(kp, 48, 40, 6.0, (256, 176)).numpy()
    for b in range(3):
        np.testing.assert_allclose(got[b], gaussian_heatmaps_np(kp[b], 48, 40, 6.0, frames[b]),
                                   rtol=0, atol=3e-7)
        np.testing.assert_allclose(fixed[b], gaussian_heatmaps_np(kp[b], 48, 40, 6.0,
                                                                  (256, 176)), rtol=0, atol=3e-7)
    graph = tf.function(lambda k: gaussian_heatmaps(k, 48, 40))
    np.testing.assert_array_equal(graph(tf.constant(kp)).numpy(),
                                  gaussian_heatmaps(kp, 48, 40).numpy())


# ------------------------------------------------------------------ files and records


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("pairs"))
    entries = PP.make_synthetic_pose_pairs(root, num_people=3, views=2, size=SIZE)
    out = os.path.join(root, "records")
    result = PP.write_pose_pair_records(out, os.path.join(root, "train"), csv_path(root),
                                        ann_path(root), image_size=SIZE, num_shards=2)
    return root, entries, out, result


def csv_path(root):
    return os.path.join(root, "fashion-resize-pairs-train.csv")


def ann_path(root):
    return os.path.join(root, "fashion-resize-annotation-train.csv")


def batches(pattern, **kw):
    out = {}
    for b in PP.pose_pair_dataset(pattern, **kw):
        for k, v in b.items():
            out.setdefault(k, []).append(v.numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def test_synthetic_layout_is_deterministic(layout, tmp_path):
    root, entries, _, _ = layout
    again = PP.make_synthetic_pose_pairs(str(tmp_path), num_people=3, views=2, size=SIZE)
    assert list(again) == list(entries)
    for name in list(entries)[:2]:
        with open(os.path.join(root, "train", name), "rb") as a, \
                open(tmp_path / "train" / name, "rb") as b:
            assert a.read() == b.read()
    assert PP.read_pairs_csv(csv_path(root))[:2] == [(list(entries)[0], list(entries)[1]),
                                                      (list(entries)[1], list(entries)[0])]
    assert PP.adgan_parse_path("fashionWOMENPantsid0000218301_1front.jpg") == os.path.join(
        "semantic_merge3", "WOMEN", "Pants", "id_00002183", "01_1_front.npy")


def test_round_trip_bit_identical(layout):
    root, entries, out, result = layout
    assert result["records"] == result["pairs"] == 6 and len(result["written_shards"]) == 2
    with open(os.path.join(out, PP.SUMMARY_FILE)) as f:
        summary = json.load(f)
    assert summary["schema_version"] == PP.SCHEMA_VERSION and summary["records"] == 6
    raw = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(
        result["written_shards"][0]))).numpy()).features.feature
    name = raw["source_name"].bytes_list.value[0].decode()
    with open(os.path.join(root, "train", name), "rb") as f:
        assert raw["source_image"].bytes_list.value[0] == f.read()
    got = batches(out, image_size=SIZE, batch_size=4, shuffle=False)
    pairs = PP.read_pairs_csv(csv_path(root))
    assert [n.decode() for n in got["source_name"]] == [a for a, _ in pairs]
    for i, (a, b) in enumerate(pairs):
        for role, name in (("source", a), ("target", b)):
            pixels = np.asarray(Image.open(os.path.join(root, "train", name)).convert("RGB"))
            np.testing.assert_array_equal(got[f"{role}_image"][i],
                                          (pixels.astype(np.float32) / 255 - 0.5) / 0.5)
            np.testing.assert_array_equal(got[f"{role}_keypoints"][i], entries[name])
            np.testing.assert_allclose(got[f"{role}_pose"][i],
                                       gaussian_heatmaps_np(entries[name], *SIZE), atol=3e-7)


def test_resize_to_square_matches_pil(layout, rng):
    """GFLA / DPTN: torchvision F.resize(img, (256, 256)) = PIL resize, BILINEAR."""
    root, entries, out, _ = layout
    got = batches(out, image_size=(64, 64), batch_size=6, shuffle=False)
    worst = 0
    for i, name in enumerate(got["source_name"]):
        name = name.decode()
        pil = Image.open(os.path.join(root, "train", name)).convert("RGB")
        ref = np.asarray(pil.resize((64, 64), Image.BILINEAR), np.float32) / 255
        worst = max(worst, np.abs((got["source_image"][i] + 1) / 2 - ref).max())
        scaled = np.where(entries[name] == -1, -1, entries[name] / np.array(SIZE) * [64, 64])
        np.testing.assert_allclose(got["source_keypoints"][i], scaled, rtol=1e-6)
        np.testing.assert_allclose(got["source_pose"][i], gaussian_heatmaps_np(
            entries[name], 64, 64, old_size=SIZE), atol=3e-7)
    assert worst <= 1e-6  # enlarging one axis: bit-exact
    for (h, w), (oh, ow) in (((256, 176), (256, 256)), ((37, 23), (20, 30)),
                             ((100, 80), (100, 48)), ((60, 40), (90, 40)),
                             ((128, 64), (128, 64))):
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        ref = np.asarray(Image.fromarray(image).resize((ow, oh), Image.BILINEAR), np.int32)
        diff = np.abs(PP.pil_bilinear_resize(image, oh, ow).numpy().astype(np.int32) - ref)
        # Pillow 13 may run the vertical pass first when both axes change: one level
        assert diff.max() <= (1 if h != oh and w != ow else 0), (h, w, oh, ow)


def test_jpeg_decoded_as_pil(tmp_path):
    PP.make_synthetic_pose_pairs(str(tmp_path), num_people=1, views=1, size=SIZE,
                                 image_format="jpg")
    path = next((tmp_path / "train").iterdir())
    ours = PP.decode_image(tf.constant(path.read_bytes())).numpy()
    np.testing.assert_array_equal(ours, np.asarray(Image.open(path).convert("RGB")))


def test_resume_skips_existing_shards(layout, tmp_path):
    root, _, out, result = layout
    args = (os.path.join(root, "train"), csv_path(root), ann_path(root))
    new = str(tmp_path / "records")
    first = PP.write_pose_pair_records(new, *args, image_size=SIZE, num_shards=3)
    shards = first["written_shards"]
    original = [pathlib.Path(p).read_bytes() for p in shards]
    with open(shards[0], "wb") as f:
        f.write(b"kept")
    os.remove(shards[2])
    again = PP.write_pose_pair_records(new, *args, image_size=SIZE, num_shards=3,
                                       num_workers=2)
    assert again["written_shards"] == [shards[2]] and again["kept_shards"] == shards[:2]
    assert pathlib.Path(shards[0]).read_bytes() == b"kept"
    assert pathlib.Path(shards[2]).read_bytes() == original[2]  # same bytes, 2 workers


def test_missing_items_are_skipped_and_counted(layout, tmp_path):
    root, entries, _, _ = layout
    names = list(entries)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"from,to\n{names[0]},{names[1]}\n{names[0]},absent.png\n"
                     f"{names[2]},{names[3]}\n")
    ann = tmp_path / "ann.csv"
    lines = pathlib.Path(ann_path(root)).read_text().splitlines(keepends=True)
    ann.write_text("".join(line for line in lines if names[3] not in line))
    result = PP.write_pose_pair_records(str(tmp_path / "rec"), os.path.join(root, "train"),
                                        str(pairs), str(ann), image_size=SIZE)
    assert (result["records"], result["skipped_missing_image"],
            result["skipped_missing_keypoints"]) == (1, 1, 1)


def test_bad_csv_lines_name_file_and_line(tmp_path):
    bad = tmp_path / "pairs.csv"
    bad.write_text("from,to\na.png,b.png\nc.png\n")
    with pytest.raises(PP.PosePairsError, match=f"{bad}:3"):
        PP.read_pairs_csv(str(bad))
    bad.write_text("source,target\na.png,b.png\n")
    with pytest.raises(PP.PosePairsError, match=f"{bad}:1"):
        PP.read_pairs_csv(str(bad))
    ann = tmp_path / "ann.csv"
    ann.write_text("name:keypoints_y:keypoints_x\na.png: [1, 2]: [3, 4]\n")
    with pytest.raises(PoseFileError, match=f"{ann}:2"):
        read_annotation_csv(str(ann))


def test_seeded_shuffle(layout):
    _, _, out, _ = layout

    def order(seed):
        got = batches(out, image_size=SIZE, batch_size=6, seed=seed, shuffle_buffer=6)
        return [n.decode() for n in got["source_name"]] + \
            [n.decode() for n in got["target_name"]]

    first = order(0)
    assert order(0) == first
    assert order(1) != first and sorted(order(1)) == sorted(first)


def test_parsing_maps(layout, tmp_path):
    root, entries, _, _ = layout
    rng = np.random.default_rng(3)
    labels = {}
    for k, name in enumerate(entries):
        labels[name] = rng.integers(0, 10, SIZE).astype(np.uint8)  # 8, 9: no class
        path = tmp_path / "parse" / PP.adgan_parse_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if k % 2:
            np.save(path, labels[name])
        else:  # the same rule, a PNG label map
            path = path.with_suffix(".png")
            Image.fromarray(labels[name]).save(path)

    def rule(name):
        path = PP.adgan_parse_path(name)
        return path if os.path.isfile(tmp_path / "parse" / path) else path[:-4] + ".png"

    out = str(tmp_path / "rec")
    PP.write_pose_pair_records(out, os.path.join(root, "train"), csv_path(root), ann_path(root),
                               parse_dir=str(tmp_path / "parse"), parse_path=rule,
                               image_size=SIZE)
    got = batches(out, image_size=SIZE, batch_size=6, shuffle=False, with_parse=True)
    for i, name in enumerate(got["source_name"]):
        want = np.eye(10, 8, dtype=np.float32)[labels[name.decode()]]
        np.testing.assert_array_equal(got["source_parse"][i], want)
    stored = tf.train.Example.FromString(next(iter(tf.data.TFRecordDataset(
        PP.shard_paths(out, 1)[0]))).numpy()).features.feature["target_parse"]
    png = Image.open(io.BytesIO(stored.bytes_list.value[0]))
    assert png.format == "PNG" and png.mode == "L"
