"""DPIG data: pose ops, record schema, converters, tf.data reader, on synthetic people."""

import json
import os
import pathlib
import pickle
import subprocess

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from scipy import ndimage

from tfposegen.data import synthetic_persons as S
from tfposegen.models.dpig import convert as C
from tfposegen.models.dpig.pipeline import PipelineError, dpig_dataset, frame_count, to_float
from tfposegen.pose import formats as F
from tfposegen.pose import maps as P

ROOT = pathlib.Path(__file__).resolve().parents[1]

# the schema of datasets/convert_DF.py, written out independently of tfposegen.models.dpig.records:
# key -> (value list kind, number of values or None for variable), for DF at 256x256.
DF_TABLE = {
    "image_name": ("bytes_list", 1), "image_raw": ("bytes_list", 1), "id": ("int64_list", 1),
    "cam": ("int64_list", 1), "attrs": ("int64_list", None),
    "pose_peaks": ("float_list", 16 * 16 * 18), "pose_peaks_rcv": ("float_list", 54),
    "pose_mask_r4": ("int64_list", 65536), "pose_mask_r8": ("int64_list", 65536),
    "indices_r4": ("int64_list", None), "values_r4": ("float_list", None),
    "indices_r8": ("int64_list", None), "values_r8": ("float_list", None),
    "pose_subs": ("float_list", None), "part_bbox": ("int64_list", 148),
    "part_vis": ("int64_list", 37), "roi10_mask": ("int64_list", 655360),
}
DF_SCALARS = {"label": ("int64_list", 1), "image_format": ("bytes_list", 1),
              "image_height": ("int64_list", 1), "image_width": ("int64_list", 1),
              "real_data": ("int64_list", 1), "shape": ("int64_list", 1)}


def _table_keys(table):
    out = {}
    for key, spec in table.items():
        if key == "pose_peaks_rcv":
            out.update({f"pose_peaks_{i}_rcv": spec for i in (0, 1)})
        else:
            out.update({f"{key}_{i}": spec for i in (0, 1)})
    return out


def _read_examples(path):
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]


def _values(example, key):
    feature = example.features.feature[key]
    return list(getattr(feature, feature.WhichOneof("kind")).value)


@pytest.fixture(scope="module")
def df_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("df")
    layout = S.write_df_layout(str(root), identities=2, poses=2, seed=3)
    return root, layout


@pytest.fixture(scope="module")
def df_train(df_root):
    root, _ = df_root
    result = C.write_plan(C.plan_df(str(root), "train"), num_workers=2, verbose=False)
    return root, result


# ------------------------------------------------------------------ pose ops


def test_heatmap_hand_cases_and_numpy_twin(rng):
    rcv = np.zeros((1, 18, 3), np.float32)
    rcv[0, 1] = (5.9, 7.2, 1)  # truncated to (5, 7)
    rcv[0, 2] = (3, 3, 0)  # invisible
    rcv[0, 3] = (20, 3, 1)  # centre outside a 16-row image
    hm = P.pose_heatmap(rcv, 16, 12).numpy()[0]
    rr, cc = np.mgrid[:16, :12]
    disk = (rr - 5) ** 2 + (cc - 7) ** 2 <= 16
    np.testing.assert_array_equal(hm[..., 1], np.where(disk, 1, -1))
    assert disk.sum() == 49 - 0  # the full radius-4 disk fits: 49 pixels
    assert (hm[..., [0, 2, 3]] == -1).all()
    # normalised input: (0, 0) -> row H/2, col W/2
    norm = np.zeros((1, 18, 3), np.float32)
    norm[0, 0] = (0, 0, 1)
    hn = P.pose_heatmap(norm, 16, 12, normalized=True).numpy()[0, ..., 0]
    assert hn[8, 6] == 1 and hn[8, 11] == -1 and hn[4, 6] == 1 and hn[3, 6] == -1
    batch = np.concatenate([rng.uniform(-3, 40, (3, 18, 2)),
                            rng.integers(0, 2, (3, 18, 1))], -1).astype(np.float32)
    np.testing.assert_array_equal(P.pose_heatmap(batch, 32, 24).numpy(),
                                  P.pose_heatmap_np(batch, 32, 24))


def test_normalize_rcv():
    rcv = np.zeros((18, 3), np.float32)
    rcv[0] = (64, 16, 1)
    out = P.normalize_rcv_np(rcv, 128, 64)
    np.testing.assert_allclose(out[0], [0, -0.5, 1])
    np.testing.assert_allclose(out[1], [-1, -1, 0])  # missing joint
    np.testing.assert_allclose(P.normalize_rcv(rcv, 128, 64).numpy(), out)
    np.testing.assert_allclose(P.denormalize_rcv_np(out, 128, 64)[0], rcv[0])
    assert P.keypoints_to_rcv_np([[3, 4]] + [[-1, -1]] * 17)[:2].tolist() == [[3, 4, 1],
                                                                              [0, 0, 0]]


def _reference_mask(rcv, height, width, radius, integer):
    """The converters' _getPoseMask re-stated literally (loops, scipy closing)."""
    dense = np.zeros((height, width))

    def stamp(r, c):
        r, c = int(r), int(c)
        for i in range(-radius, radius + 1):
            for j in range(-radius, radius + 1):
                if np.sqrt(i * i + j * j) <= radius and 0 <= r + i < height and 0 <= c + j < width:
                    dense[r + i, c + j] = 1

    for a, b in P.MASK_LIMBS:
        if rcv[a][2] and rcv[b][2]:
            r0, c0, r1, c1 = rcv[a][0], rcv[a][1], rcv[b][0], rcv[b][1]
            if integer:
                r0, c0, r1, c1 = int(r0), int(c0), int(r1), int(c1)
            stamp(r0, c0)
            stamp(r1, c1)
            n = int(np.sqrt((r0 - r1) ** 2 + (c0 - c1) ** 2) / radius)
            for i in range(1, n if n > 1 else 1):
                if integer:  # Python 2 integer division
                    stamp(r0 + (r1 - r0) * i // n, c0 + (c1 - c0) * i // n)
                else:
                    stamp(r0 + (r1 - r0) * i / n, c0 + (c1 - c0) * i / n)
    dense = ndimage.grey_dilation(dense, footprint=np.ones((5, 5)))
    return ndimage.grey_erosion(dense, footprint=np.ones((5, 5)))


def test_pose_mask_hand_case_reference_and_tf_twin(rng):
    rcv = np.zeros((18, 3))
    rcv[1], rcv[2] = (10, 10, 1), (10, 30, 1)  # neck - R shoulder, 20 px apart
    mask = P.pose_mask_np(rcv, 40, 40, 4)
    assert mask[10, 20] == 1 and mask[6, 20] == 1 and mask[5, 20] == 0
    assert mask[10, 34] == 1 and mask[10, 35] == 0 and mask[10, 5] == 0
    assert mask.sum() == _reference_mask(rcv, 40, 40, 4, True).sum()
    for integer, (h, w) in ((True, (64, 48)), (False, (64, 48)), (True, (128, 64))):
        kp = np.concatenate([rng.uniform(-6, h + 6, (4, 18, 1)), rng.uniform(-6, w + 6, (4, 18, 1)),
                             rng.random((4, 18, 1)) > 0.2], -1)
        if integer:
            kp[..., :2] = np.floor(kp[..., :2])
        for radius in (4, 7):
            ours = np.stack([P.pose_mask_np(k, h, w, radius, integer) for k in kp])
            ref = np.stack([_reference_mask(k, h, w, radius, integer) for k in kp])
            np.testing.assert_array_equal(ours, ref)
            tf_mask = P.pose_mask(kp, h, w, radius, integer).numpy()[..., 0]
            np.testing.assert_array_equal(tf_mask, ours)


def test_part_boxes_hand_cases_and_tf_twin(rng):
    rcv = np.zeros((18, 3))
    rcv[0], rcv[12], rcv[10] = (50, 100, 1), (200, 120, 1), (240, 90, 1)
    boxes, vis = P.part_boxes_np(rcv, "df")  # whole body: r 10, r_single 20, nose up 10
    assert boxes[0].tolist() == [20, 80, 60, 120] and vis[0] == 1  # head: nose only
    assert boxes[16].tolist() == [30, 80, 250, 130]  # whole body, 3 joints
    assert boxes[17].tolist() == [20, 80, 60, 120]  # single joint 0
    assert boxes[1].tolist() == [0, 0, 1, 1] and vis[1] == 0  # upper body absent
    assert boxes[15].tolist() == [220, 70, 255, 110]  # ankle alone, clipped at 255
    rcv[10] = 0  # no right knee/ankle: not whole body: r 20, r_single 40, nose up 25
    boxes, vis = P.part_boxes_np(rcv, "df")
    assert boxes[0].tolist() == [0, 60, 65, 140] and vis[15] == 0
    small = np.zeros((18, 3))
    small[2], small[3] = (30, 20, 1), (50, 60, 1)
    mboxes, mvis = P.part_boxes_np(small, "market")  # r 6, r_single 10, clip 127 x 63
    assert mboxes[10].tolist() == [24, 14, 56, 63] and mboxes[19].tolist() == [20, 10, 40, 30]
    assert (np.flatnonzero(mvis) + 1).tolist() == [1, 2, 5, 8, 11, 12, 17, 20, 21, 36]
    batch = np.concatenate([rng.uniform(-5, 260, (6, 18, 2)), rng.random((6, 18, 1)) > 0.4], -1)
    for rule in ("df", "market"):
        b_tf, v_tf = P.part_boxes(batch, rule)
        b_np, v_np = P.part_boxes_np(batch, rule)
        np.testing.assert_array_equal(b_tf.numpy(), b_np)
        np.testing.assert_array_equal(v_tf.numpy(), v_np)


# ------------------------------------------------------------------ pairs


def test_pair_rules_and_python2_shuffle():
    import random
    items = list(range(5))
    C.py2_shuffle(items, random.Random(0))
    assert items == [2, 0, 1, 3, 4]  # Python 2 random.shuffle after random.seed(0)
    files = ["a_1.jpg", "a_2.jpg", "a_3.jpg", "b_1.jpg"] + [f"z{k:04d}_x.jpg" for k in range(1997)]
    pos, neg = C.same_identity_pairs(files, C.df_identity, random.Random(0))
    assert len(pos) == 6 and ["a_2.jpg", "a_1.jpg"] in pos  # 3 images -> 3 pairs, both orders
    assert len(neg) == 6 and all(b == files[2000] for _, b in neg)  # only j % 2000 == 0


def test_df_train_records_pairs_metadata_and_independent_schema(df_root, df_train):
    root, layout = df_root
    _, result = df_train
    out = root / "DF_train_data"
    # 2 identities x 2 poses: 2 pairs (both orders) per identity, flipped folder first
    assert result["records"] == 8 and result["skipped_no_pose"] == 0
    names = sorted(os.listdir(out))
    assert names == ["DeepFashion_train_00000-of-00001.tfrecord", "n_pairs_train.p",
                     "n_pairs_train_flip.p", "p_pairs_train.p", "p_pairs_train_flip.p",
                     "pn_pairs_num_train.p", "pn_pairs_num_train_flip.p",
                     "tf_record_pair_num.txt"]
    assert pickle.loads((out / "pn_pairs_num_train.p").read_bytes()) == 4
    assert (out / "tf_record_pair_num.txt").read_text() == "cnt:8"
    examples = _read_examples(out / names[0])
    table = {**_table_keys(DF_TABLE), **DF_SCALARS}
    for ex in examples:
        assert set(ex.features.feature) == set(table)
        for key, (kind, length) in table.items():
            assert ex.features.feature[key].WhichOneof("kind") == kind, key
            if length is not None:
                assert len(_values(ex, key)) == length, key
    first = examples[0]
    name0 = _values(first, "image_name_0")[0].decode()
    assert name0 in layout["filted_up_train_flip"]  # flipped pairs come first
    raw = (root / "filted_up_train_flip" / name0).read_bytes()
    assert _values(first, "image_raw_0")[0] == raw
    assert _values(first, "image_format")[0] == b"jpg" and _values(first, "cam_0") == [-1]
    # DF takes the first OpenPose peak of every joint
    peaks = pickle.loads((root / "PoseFiltered" / "all_peaks_dic_DeepFashion_Flip.p").read_bytes())
    rcv = np.array(_values(first, "pose_peaks_0_rcv")).reshape(18, 3)
    for k, joint in enumerate(peaks[name0]):
        expected = (joint[0][1], joint[0][0], 1) if joint else (0, 0, 0)
        assert tuple(rcv[k]) == expected
    mask = np.array(_values(first, "pose_mask_r8_0")).reshape(256, 256)
    np.testing.assert_array_equal(mask, P.pose_mask_np(rcv, 256, 256, 8))
    boxes = np.array(_values(first, "part_bbox_0")).reshape(37, 4)
    np.testing.assert_array_equal(boxes, P.part_boxes_np(rcv, "df")[0])


def test_end_to_end_pipeline_batches(df_root, df_train):
    root, _ = df_root
    out = root / "DF_train_data"
    ds = dpig_dataset(str(out), "DF", batch_size=4, shuffle=False, repeat=False)
    batches = list(ds)
    assert len(batches) == 2
    b = batches[0]
    assert b["x"].shape == (4, 256, 256, 3) and b["pose"].shape == (4, 256, 256, 18)
    assert b["mask"].shape == (4, 256, 256, 1) and b["part_bbox"].shape == (4, 37, 4)
    assert b["part_vis_target"].dtype == tf.int64
    examples = _read_examples(out / "DeepFashion_train_00000-of-00001.tfrecord")
    ex = examples[0]
    image = tf.io.decode_jpeg(_values(ex, "image_raw_1")[0]).numpy()
    np.testing.assert_allclose(b["x_target"][0].numpy(), image / 127.5 - 1, atol=1e-6)
    rcv = np.array(_values(ex, "pose_peaks_0_rcv"), np.float32).reshape(1, 18, 3)
    np.testing.assert_array_equal(b["pose"][0].numpy(), P.pose_heatmap_np(rcv, 256, 256)[0])
    mask = np.array(_values(ex, "pose_mask_r4_0")).reshape(256, 256, 1)
    np.testing.assert_array_equal(b["mask"][0].numpy(), mask)
    assert set(np.unique(b["pose"].numpy())) <= {-1.0, 1.0}
    lean = next(iter(dpig_dataset(str(out), "DF", 4, shuffle=False, repeat=False,
                                  heatmaps=False)))
    assert "pose" not in lean and lean["pose_rcv"].shape == (4, 18, 3)
    raw = next(iter(dpig_dataset(str(out), "DF", 4, shuffle=False, repeat=False,
                                 heatmaps=False, uint8=True)))
    assert raw["x"].dtype == raw["mask"].dtype == tf.uint8
    for key, value in to_float(raw).items():
        np.testing.assert_array_equal(value.numpy(), b[key].numpy(), err_msg=key)

    def order(seed):
        ds = dpig_dataset(str(out), "DF", batch_size=8, shuffle=True, seed=seed, repeat=False)
        return next(iter(ds))["image_name"].numpy().tolist()

    assert order(1) == order(1) and sorted(order(1)) == sorted(order(2))


def test_reader_field_records_are_small_and_read_the_same(df_root, df_train, tmp_path):
    root, _ = df_root
    plan = C.plan_df(str(root), "train")._replace(out_dir=str(tmp_path / "lean"))
    assert C.write_plan(plan, verbose=False, fields="reader")["records"] == df_train[1]["records"]
    full, lean = root / "DF_train_data", tmp_path / "lean"
    name = "DeepFashion_train_00000-of-00001.tfrecord"
    # only what the original readers (datasets/deepfashion.py) require, from DF_TABLE's keys
    wanted = {"image_name", "image_raw", "id", "cam", "pose_peaks_rcv", "pose_mask_r4",
              "pose_mask_r8", "part_bbox", "part_vis"}
    keys = set(_table_keys({k: v for k, v in DF_TABLE.items() if k in wanted})) | set(DF_SCALARS)
    examples, originals = _read_examples(lean / name), _read_examples(full / name)
    assert set(examples[0].features.feature) == keys
    for key in keys:
        assert _values(examples[3], key) == _values(originals[3], key), key
    assert (lean / name).stat().st_size < (full / name).stat().st_size / 4
    for a, b in zip(dpig_dataset(str(full), "DF", 4, shuffle=False, repeat=False),
                    dpig_dataset(str(lean), "DF", 4, shuffle=False, repeat=False)):
        for key in a:
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
    with pytest.raises(ValueError, match="fields"):
        C.write_plan(plan, verbose=False, fields="some")


def _batches_equal(a_dir, b_dir, dataset, **options):
    """Every batch of two readers over the same pairs is equal; how many batches."""
    n = 0
    for a, b in zip(dpig_dataset(str(a_dir), dataset, 2, shuffle=False, repeat=False, **options),
                    dpig_dataset(str(b_dir), dataset, 2, shuffle=False, repeat=False, **options)):
        if options.get("uint8"):
            a, b = to_float(a, dataset=dataset), to_float(b, dataset=dataset)
        assert sorted(a) == sorted(b)
        for key in a:
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
        n += 1
    return n


def test_keypoint_field_records_rebuild_the_masks_exactly(df_root, df_train, tmp_path):
    root, layout = df_root
    plan = C.plan_df(str(root), "train")._replace(out_dir=str(tmp_path / "kp"))
    assert C.write_plan(plan, verbose=False, fields="keypoints")["records"] == \
        df_train[1]["records"]
    name = "DeepFashion_train_00000-of-00001.tfrecord"
    wanted = {"image_name", "image_raw", "id", "pose_peaks_rcv", "part_bbox", "part_vis"}
    keys = set(_table_keys({k: v for k, v in DF_TABLE.items() if k in wanted}))
    assert set(_read_examples(tmp_path / "kp" / name)[0].features.feature) == keys
    assert (tmp_path / "kp" / name).stat().st_size * 20 < \
        (root / "DF_train_data" / name).stat().st_size
    full, kp = root / "DF_train_data", tmp_path / "kp"
    batch = next(iter(dpig_dataset(str(kp), "DF", 2, shuffle=False, uint8=True)))
    assert "mask" not in batch and to_float(batch, dataset="df")["mask"].shape == (2, 256, 256, 1)
    assert _batches_equal(full, kp, "DF") == df_train[1]["records"] // 2
    assert _batches_equal(full, kp, "DF", heatmaps=False, uint8=True) > 0
    assert _batches_equal(full, full, "DF", masks="keypoints") > 0  # masks from keypoints too
    with pytest.raises(PipelineError, match=f"{kp / name}.*masks='keypoints'"):
        dpig_dataset(str(kp), "DF", 2, masks="records")
    mroot = tmp_path / "market"
    S.write_market_layout(str(mroot), identities=2, poses=3, seed=5)
    for fields in ("all", "keypoints"):
        plan = C.plan_market(str(mroot), "train")._replace(out_dir=str(tmp_path / fields))
        C.write_plan(plan, verbose=False, fields=fields)
    assert _batches_equal(tmp_path / "all", tmp_path / "keypoints", "Market", heatmaps=False,
                          uint8=True) > 0  # mask and the radius-7 mask_r6
    S.write_openpose_json(str(tmp_path / "json"), layout["filted_up_test"])
    plan = C.plan_df(str(root), "test", pose_file=str(tmp_path / "json"))
    with pytest.raises(C.ConvertError, match="float"):
        C.write_plan(plan._replace(out_dir=str(tmp_path / "f")), verbose=False,
                     fields="keypoints")


def test_resume_after_interruption_gives_identical_files(df_root, tmp_path, monkeypatch):
    root, _ = df_root
    plan = C.plan_df(str(root), "test")._replace(out_dir=str(tmp_path / "full"))
    C.write_plan(plan, num_shards=2, num_workers=1, verbose=False)
    full = {p.name: p.read_bytes() for p in (tmp_path / "full").glob("*.tfrecord")}
    assert len(full) == 2
    part = plan._replace(out_dir=str(tmp_path / "part"))
    real, calls = C.format_record, []

    def failing(item, fields):
        calls.append(1)
        if len(calls) == 3:  # 4 records, 2 per shard: stop inside the second shard
            raise KeyboardInterrupt
        return real(item, fields)

    monkeypatch.setattr(C, "format_record", failing)
    with pytest.raises(KeyboardInterrupt):
        C.write_plan(part, num_shards=2, num_workers=1, verbose=False)
    left = sorted(os.listdir(tmp_path / "part"))
    assert [n for n in left if n.endswith(".tfrecord")] == [sorted(full)[0]]  # no partial file
    assert not [n for n in left if ".tmp" in n]
    monkeypatch.setattr(C, "format_record", real)
    result = C.write_plan(part, num_shards=2, num_workers=2, verbose=False)
    assert len(result["kept_shards"]) == 1 and len(result["written_shards"]) == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "part").glob("*.tfrecord")} == full


def test_csv_and_openpose_json_ingest(df_root, tmp_path):
    root, layout = df_root
    truth = layout["filted_up_test"]
    csv = root / "annotations" / "filted_up_test.csv"
    missing = sorted(truth)[0]
    lines = [ln for ln in csv.read_text().splitlines() if not ln.startswith(missing)]
    edited = tmp_path / "poses.csv"
    edited.write_text("\n".join(lines) + "\n")
    plan = C.plan_df(str(root), "test", pose_file=str(edited))._replace(
        out_dir=str(tmp_path / "csv"))
    result = C.write_plan(plan, num_workers=1, verbose=False)
    n = len(truth) // 2  # 2 identities x 2 poses -> 8 pairs; a missing image removes 2
    assert result["skipped_no_pose"] == 2 and result["images_without_pose"] == 1
    assert result["records"] == 2 * n - 2
    for ex in _read_examples(next((tmp_path / "csv").glob("*.tfrecord"))):
        name = _values(ex, "image_name_0")[0].decode()
        rcv = np.array(_values(ex, "pose_peaks_0_rcv")).reshape(18, 3)
        np.testing.assert_array_equal(rcv, P.keypoints_to_rcv_np(truth[name]))
        assert _values(ex, "pose_subs_0") == []
    S.write_openpose_json(str(tmp_path / "json"), truth)
    poses = F.load_openpose_json(str(tmp_path / "json"))
    name = sorted(truth)[2]
    np.testing.assert_array_equal(F.lookup(poses, name).rcv, P.keypoints_to_rcv_np(truth[name]))


def test_keypoints_outside_image_are_counted(df_root, tmp_path):
    root, layout = df_root
    entries = {n: k.copy() for n, k in layout["filted_up_test_samples"].items()}
    next(iter(entries.values()))[1] = (300, 20)  # neck below a 256-row image
    S.write_keypoint_csv(str(tmp_path / "p.csv"), entries)
    plan = C.plan_df(str(root), "test_samples", pose_file=str(tmp_path / "p.csv"))
    result = C.write_plan(plan._replace(out_dir=str(tmp_path / "o")), verbose=False)
    assert result["records"] == 2 and result["outside"] == 2  # once per record holding it


def test_market_and_rcv_converters(tmp_path):
    mroot = tmp_path / "market"
    layout = S.write_market_layout(str(mroot), identities=2, poses=3, seed=5)
    plan = C.plan_market(str(mroot), "test", test_skip=1, test_cap=3)
    result = C.write_plan(plan, num_workers=1, verbose=False)
    # first sorted test file dropped: identities with 2 and 3 images -> 2 + 6 pairs, cap 3
    assert result["pairs"] == 8 and result["records"] == 3
    out = mroot / "Market_test_data" / "Market1501_test_00000-of-00001.tfrecord"
    ex = _read_examples(out)[0]
    name = _values(ex, "image_name_0")[0].decode()
    assert name in layout["bounding_box_test"] and _values(ex, "cam_0") == [int(name[6])]
    rcv = np.array(_values(ex, "pose_peaks_0_rcv")).reshape(18, 3)
    r6 = np.array(_values(ex, "pose_mask_r6_0")).reshape(128, 64)
    np.testing.assert_array_equal(r6, P.pose_mask_np(rcv, 128, 64, 7))  # "r6" is radius 7
    assert len(_values(ex, "pose_peaks_0")) == 16 * 8 * 18 and not any(_values(ex, "seg_0"))
    batch = next(iter(dpig_dataset(str(out), "Market", 2, shuffle=False, repeat=False)))
    assert batch["x"].shape == (2, 128, 64, 3) and batch["mask_r6"].shape == (2, 128, 64, 1)
    rroot = tmp_path / "rcv"
    S.write_rcv_layout(str(rroot), identities=2, poses=2, seed=7)
    other = tmp_path / "rcv2"
    S.write_rcv_layout(str(other), identities=1, poses=3, seed=8)
    result = C.write_plan(C.plan_rcv(str(rroot), "test_seq_other", str(other)), verbose=False)
    assert result["records"] == 3
    ex = _read_examples(rroot / "test_seq_other" / "DeepFashion_test_00000-of-00001.tfrecord")[0]
    assert _values(ex, "image_format") == [b"png"] and len(_values(ex, "pose_mask_r10_1")) == 65536
    result = C.write_plan(C.plan_rcv(str(rroot), "train"), verbose=False)
    assert result["records"] == 4  # each image once, with the image 100 later (or the last)


def test_bad_input_messages_name_the_path(df_root, tmp_path, warm_python):
    root, _ = df_root
    with pytest.raises(C.ConvertError, match=str(tmp_path / "none" / "PoseFiltered")):
        C.plan_df(str(tmp_path / "none"), "test")
    (tmp_path / "PoseFiltered").mkdir()
    for stem in ("all_peaks_dic", "subsets_dic"):
        (tmp_path / "PoseFiltered" / f"{stem}_DeepFashion.p").write_bytes(pickle.dumps({}))
    with pytest.raises(C.ConvertError, match=str(tmp_path / "filted_up_test") + ": image folder"):
        C.plan_df(str(tmp_path), "test")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("name:keypoints_y:keypoints_x\nx.jpg: [1, 2]\n")
    with pytest.raises(F.PoseFileError, match=f"{bad_csv}:2"):
        F.load_keypoint_csv(str(bad_csv))
    proc = subprocess.run([warm_python.python,
                           str(ROOT / "run_scripts" / "dpig" / "convert_DF.py"),
                           str(tmp_path / "none"), "test"], capture_output=True, text=True,
                          env=warm_python.env())
    assert proc.returncode == 2
    assert f"convert_DF.py: error: {tmp_path / 'none'}" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupted_records_reported_with_file_and_index(df_root, df_train, tmp_path, capfd):
    root, _ = df_root
    good = _read_examples(root / "DF_train_data" / "DeepFashion_train_00000-of-00001.tfrecord")
    path = tmp_path / "bad.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as w:
        for k, ex in enumerate(good[:5]):
            w.write(b"not an example" if k == 2 else ex.SerializeToString())
    data = path.read_bytes()
    path.write_bytes(data[:-100])  # truncate the last record

    def count(on_error):
        ds = dpig_dataset(str(path), "DF", 1, shuffle=False, repeat=False, on_error=on_error)
        return sum(1 for _ in ds)

    assert frame_count(str(path)) == (4, False)  # the fifth record does not fit
    assert count("skip") == 3  # records 0, 1, 3
    err = capfd.readouterr().err
    assert f"{path}" in err and "record index 2 to 2" in err
    assert "record index 4 to 4" in err and "truncated" in err
    with pytest.raises(tf.errors.InvalidArgumentError, match="record index.*2"):
        count("raise")


def test_synthetic_persons_are_reproducible(tmp_path):
    a, ka = S.make_person(1, 2, 128, 64)
    b, kb = S.make_person(1, 2, 128, 64)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ka, kb)
    assert a.shape == (128, 64, 3) and ka.shape == (18, 2)
    present = ka[:, 0] >= 0
    assert (ka[present, 0] < 128).all() and (ka[present, 1] < 64).all()
    flipped, kf = S.flip_person(a, ka)
    np.testing.assert_array_equal(flipped[:, ::-1], a)
    assert kf[2, 0] == ka[5, 0] and (kf[2, 1] == 63 - ka[5, 1] or ka[5, 0] < 0)  # L <-> R
    peaks, subset = S.openpose_entry(ka, 0)
    assert subset.shape[1] == 20 and len(peaks) == 18
    line = S._csv_line("x.jpg", ka)
    assert json.loads(line.split(":")[1]) == ka[:, 0].tolist()
    assert Image.fromarray(flipped).size == (64, 128)
