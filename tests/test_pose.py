"""Keypoints from photos (tfposegen.pose): the 33 -> 18 mapping, writers read back by the
DPIG converters' readers, SSD anchors and box decoding, ROI geometry, model-file errors,
bad input, and BlazePose on the real DGP photos (skipped without ../shared/data or the
model files)."""

import math
import os
import pickle
import subprocess
import warnings
import zipfile

import numpy as np
import pytest
from conftest import SHARED
from PIL import Image

from tfposegen.pose import blazepose as B
from tfposegen.pose import formats as F
from tfposegen.pose import keypoints as K
from tfposegen.pose import model_files as M

DGP = SHARED / "data" / "dgp"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# OpenPose COCO-18 joint -> BlazePose landmark name(s), written out by hand from the two
# projects' documentation (independent of the module's index table).
HAND_TABLE = [
    ("nose", ["nose"]), ("neck", ["left_shoulder", "right_shoulder"]),
    ("right_shoulder", ["right_shoulder"]), ("right_elbow", ["right_elbow"]),
    ("right_wrist", ["right_wrist"]), ("left_shoulder", ["left_shoulder"]),
    ("left_elbow", ["left_elbow"]), ("left_wrist", ["left_wrist"]),
    ("right_hip", ["right_hip"]), ("right_knee", ["right_knee"]),
    ("right_ankle", ["right_ankle"]), ("left_hip", ["left_hip"]),
    ("left_knee", ["left_knee"]), ("left_ankle", ["left_ankle"]),
    ("right_eye", ["right_eye"]), ("left_eye", ["left_eye"]),
    ("right_ear", ["right_ear"]), ("left_ear", ["left_ear"]),
]


def landmarks_by_index():
    """Landmark i at (10 i + 3, 7 i + 5): every source is recognisable from its position."""
    i = np.arange(33, dtype=np.float32)
    return np.stack([10 * i + 3, 7 * i + 5], axis=1)


# ------------------------------------------------------------------ mapping


def test_mapping_matches_hand_table():
    lm = landmarks_by_index()
    kp, scores = K.to_openpose(lm, np.ones(33), (1000, 1000))
    assert tuple(name for name, _ in HAND_TABLE) == K.OPENPOSE_NAMES
    for k, (_, sources) in enumerate(HAND_TABLE):
        expected = np.mean([lm[B.LANDMARK_NAMES.index(s)] for s in sources], axis=0)
        np.testing.assert_allclose(kp[k], expected, err_msg=HAND_TABLE[k][0])
    assert np.all(scores == 1)


def test_neck_is_shoulder_midpoint_and_missing_joints():
    lm = landmarks_by_index()
    lm[11], lm[12] = (40, 90), (44, 30)          # left, right shoulder
    vis = np.ones(33)
    vis[B.LANDMARK_NAMES.index("left_wrist")] = 0.3
    lm[B.LANDMARK_NAMES.index("right_knee")] = (120, -2)     # left of the image
    lm[B.LANDMARK_NAMES.index("right_ankle")] = (200, 50)    # below a 200-row image
    kp, scores = K.to_openpose(lm, vis, (200, 300))
    np.testing.assert_allclose(kp[1], (42, 60))
    for name in ("left_wrist", "right_knee", "right_ankle"):
        k = K.OPENPOSE_NAMES.index(name)
        assert tuple(kp[k]) == (-1, -1) and scores[k] == 0, name
    # neck needs both shoulders
    vis[11] = 0.1
    kp, _ = K.to_openpose(lm, vis, (200, 300))
    assert tuple(kp[1]) == (-1, -1) and tuple(kp[5]) == (-1, -1)
    # inside_only=False keeps joints outside the image
    kp, _ = K.to_openpose(lm, np.ones(33), (200, 300), inside_only=False)
    np.testing.assert_allclose(kp[K.OPENPOSE_NAMES.index("right_ankle")], (200, 50))


def test_facing_swaps_sides_only_when_needed():
    lm = landmarks_by_index()
    lm[11], lm[12] = (50, 80), (50, 20)     # right shoulder on image-left: frontal
    upright = B.Roi(100, 50, 200, 0.0)
    assert B.faces_camera(lm, upright)
    assert not B.faces_camera(lm[B._SWAP_SIDES], upright)
    # lying, head to the right (ROI rotated +90 degrees): a frontal person's right
    # shoulder is then at the top
    lm[11], lm[12] = (80, 150), (20, 150)
    assert B.faces_camera(lm, B.Roi(50, 100, 200, math.pi / 2))
    assert not B.faces_camera(lm, B.Roi(50, 100, 200, -math.pi / 2))
    assert sorted(B._SWAP_SIDES) == list(range(33)) and B._SWAP_SIDES[0] == 0
    assert B.LANDMARK_NAMES[B._SWAP_SIDES[B.LANDMARK_NAMES.index("left_heel")]] == \
        "right_heel"


# ------------------------------------------------------------------ writers -> readers


def sample_entries():
    rng = np.random.default_rng(3)
    entries, scores = {}, {}
    for name in ("a_01.jpg", "b_02.png"):
        kp = rng.uniform(0, 250, (18, 2)).astype(np.float32)
        kp[rng.choice(18, 5, replace=False)] = -1
        entries[name] = kp
        scores[name] = np.where(kp[:, 0] >= 0, rng.uniform(0.5, 1, 18), 0)
    return entries, scores


def expected_rcv(kp, rounded):
    present = kp[:, 0] >= 0
    xy = np.round(kp) if rounded else kp
    return np.concatenate([xy * present[:, None], present[:, None]], 1)


def test_csv_round_trip(tmp_path):
    entries, _ = sample_entries()
    path = tmp_path / "poses.csv"
    F.write_keypoint_csv(path, entries)
    read = F.load_poses(str(path))
    assert set(read) == set(entries)
    for name, kp in entries.items():
        np.testing.assert_allclose(read[name].rcv, expected_rcv(kp, True))
        assert read[name].integer
    with pytest.raises(ValueError, match="':'"):
        F.write_keypoint_csv(tmp_path / "bad.csv", {"a:b.jpg": entries["a_01.jpg"]})


def test_openpose_json_round_trip(tmp_path):
    entries, scores = sample_entries()
    paths = F.write_openpose_json(tmp_path / "json", entries, scores)
    assert [os.path.basename(p) for p in paths] == ["a_01_keypoints.json",
                                                    "b_02_keypoints.json"]
    read = F.load_poses(str(tmp_path / "json"))
    for name, kp in entries.items():
        pose = F.lookup(read, name)
        np.testing.assert_allclose(pose.rcv, expected_rcv(kp, False), atol=1e-3)


def test_rcv_pickle_round_trip(tmp_path):
    entries, _ = sample_entries()
    path = tmp_path / "train.pickle"
    F.write_rcv_pickle(path, entries)
    read = F.load_poses(str(path))
    for name, kp in entries.items():
        np.testing.assert_allclose(read[name].rcv, expected_rcv(kp, False), rtol=1e-6)
    with open(path, "rb") as f:
        assert f.read(2) == b"\x80\x02"   # protocol 2, readable by the Python 2 originals


@pytest.mark.parametrize("select", ["first", "best"])
def test_openpose_pickles_round_trip(tmp_path, select):
    entries, scores = sample_entries()
    peaks = tmp_path / "all_peaks_dic_DeepFashion.p"
    F.write_openpose_pickles(peaks, tmp_path / "subsets_dic_DeepFashion.p", entries, scores)
    read = F.load_poses(str(peaks), select)
    for name, kp in entries.items():
        np.testing.assert_allclose(read[name].rcv, expected_rcv(kp, True))
    with open(tmp_path / "subsets_dic_DeepFashion.p", "rb") as f:
        row = pickle.load(f)["a_01.jpg"][0]
    assert row[19] == 13 and row[18] == pytest.approx(scores["a_01.jpg"].sum())


# ------------------------------------------------------------------ detector geometry


def test_ssd_anchors():
    anchors = B.ssd_anchors()
    assert anchors.shape == (2254, 2)   # 28*28*2 + 14*14*2 + 7*7*6
    np.testing.assert_allclose(anchors[0], (0.5 / 28, 0.5 / 28))
    np.testing.assert_allclose(anchors[1], anchors[0])           # 2 anchors per cell
    np.testing.assert_allclose(anchors[2], (0.5 / 28, 1.5 / 28))  # cells go along a row
    np.testing.assert_allclose(anchors[56], (1.5 / 28, 0.5 / 28))
    np.testing.assert_allclose(anchors[1568], (0.5 / 14, 0.5 / 14))
    np.testing.assert_allclose(anchors[1960:1966], np.full((6, 2), 0.5 / 7))  # 3 layers
    np.testing.assert_allclose(anchors[1966], (0.5 / 7, 1.5 / 7))
    np.testing.assert_allclose(anchors[-1], (6.5 / 7, 6.5 / 7))


def test_decode_and_weighted_nms():
    anchors = B.ssd_anchors()
    raw = np.zeros((2254, 12), np.float32)
    logits = np.full(2254, -10.0, np.float32)
    # anchor 1960 (centre 1/14, 1/14): box x +22.4 px, y -11.2 px, w 44.8, h 67.2
    raw[1960, :4] = (22.4, -11.2, 44.8, 67.2)
    raw[1960, 4:6] = (0, 22.4)                     # keypoint 0 (x, y) offsets
    logits[1960] = 2.0
    scores, boxes, kps = B.decode_detections(raw, logits, anchors)
    assert scores.shape == (1,) and scores[0] == pytest.approx(1 / (1 + math.exp(-2)))
    row, col = 1 / 14 - 0.05, 1 / 14 + 0.1
    np.testing.assert_allclose(boxes[0], (row - 0.15, col - 0.1, row + 0.15, col + 0.1),
                               atol=1e-6)
    np.testing.assert_allclose(kps[0, 0], (1 / 14 + 0.1, 1 / 14), atol=1e-6)
    # two overlapping boxes merge (score-weighted), a far one stays
    b = np.array([[0, 0, 1, 1], [0, 0.1, 1, 1.1], [2, 2, 3, 3]], np.float32)
    k = np.array([[[0, 0]], [[0, 1]], [[5, 5]]], np.float32)
    s, bb, kk = B.weighted_nms(np.array([0.9, 0.6, 0.8], np.float32), b, k)
    np.testing.assert_allclose(s, (0.9, 0.8))
    np.testing.assert_allclose(bb[0], (0, 0.04, 1, 1.04), atol=1e-6)
    np.testing.assert_allclose(kk[0, 0], (0, 0.4), atol=1e-6)
    np.testing.assert_allclose(bb[1], b[2])


def test_roi_from_detection_keypoints():
    # hip centre (row 300, col 200), body-circle point straight up 80 px: upright ROI
    roi = B.detection_roi([(300, 200), (220, 200), (0, 0), (0, 0)])
    assert roi == pytest.approx(B.Roi(300, 200, 2 * 80 * 1.25, 0.0))
    # body-circle point to the right: rotated +90 degrees; the crop's top-centre maps to
    # the image point that way, its centre to the hip centre
    roi = B.detection_roi([(300, 200), (300, 280), (0, 0), (0, 0)])
    assert roi.rotation == pytest.approx(math.pi / 2)
    matrix = B.roi_matrix(roi, 256)
    np.testing.assert_allclose(matrix @ (128, 0, 1), (200 + roi.size / 2, 300), atol=1e-6)
    np.testing.assert_allclose(matrix @ (128, 128, 1), (200, 300), atol=1e-6)


# ------------------------------------------------------------------ model files, bad input


def test_missing_model_files_with_fetching_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("TFPOSEGEN_CACHE", str(tmp_path / "cache"))
    with pytest.raises(M.ModelFilesError, match="fetching is disabled") as e:
        M.model_paths(("pose_detection.tflite",), fetch=False)
    assert "pip download mediapipe==0.10.21" in str(e.value)
    with pytest.raises(M.ModelFilesError, match="missing pose_detection.tflite, "
                                                 "pose_landmark_full.tflite"):
        B.BlazePose(model_dir=tmp_path, fetch=False)
    (tmp_path / "pose_detection.tflite").write_bytes(b"not a model")
    with pytest.raises(M.ModelFilesError, match="unexpected SHA-256"):
        M.model_paths(("pose_detection.tflite",), model_dir=tmp_path)


def test_model_files_from_a_wheel_in_model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TFPOSEGEN_CACHE", str(tmp_path / "cache"))
    fake = tmp_path / "wheels"
    fake.mkdir()
    member = M.MODEL_FILES["selfie_segmentation.tflite"][0]
    with zipfile.ZipFile(fake / "mediapipe-0.10.21-x.whl", "w") as z:
        z.writestr(member, b"tampered")
    with pytest.raises(M.ModelFilesError, match="unexpected SHA-256"):
        M.model_paths(("selfie_segmentation.tflite",), model_dir=fake)
    assert not (tmp_path / "cache" / "blazepose" / "selfie_segmentation.tflite").exists()


def test_bad_images(tmp_path):
    with pytest.raises(B.PoseInputError, match="at least 64"):
        B.load_image(np.zeros((40, 300, 3), np.uint8))
    with pytest.raises(B.PoseInputError, match="uint8"):
        B.load_image(np.zeros((100, 100, 3), np.float32))
    (tmp_path / "bad.png").write_bytes(b"no image")
    with pytest.raises(B.PoseInputError, match="bad.png: cannot read"):
        B.load_image(str(tmp_path / "bad.png"))
    grey, _ = B.load_image(np.zeros((70, 80), np.uint8))
    assert grey.shape == (70, 80, 3)


# ------------------------------------------------------------------ real photos


@pytest.fixture(scope="module")
def model():
    if not DGP.is_dir():
        pytest.skip(f"{DGP} not present")
    try:
        return B.BlazePose()
    except M.ModelFilesError as e:
        pytest.skip(f"BlazePose model files unavailable: {e}")


def photo(sample):
    return str(DGP / sample / "model_info" / "model_img.png")


@pytest.mark.parametrize("sample", ["model_1", "model_2"])
def test_real_photo_keypoints(model, sample):
    kp, scores = K.detect_keypoints(photo(sample), model)
    h, w = Image.open(photo(sample)).size[::-1]
    names = K.OPENPOSE_NAMES
    for name in ("neck", "right_shoulder", "left_shoulder", "right_elbow", "left_elbow"):
        assert scores[names.index(name)] >= 0.5, name
    present = kp[:, 0] >= 0
    assert np.all((kp[present] >= 0) & (kp[present] <= (h - 1, w - 1)))
    r_sho, l_sho, neck = kp[2], kp[5], kp[1]
    assert r_sho[1] < neck[1] < l_sho[1]           # frontal: person's right on image-left
    assert abs(r_sho[0] - l_sho[0]) < 0.1 * h       # shoulders level, in the upper third
    assert max(r_sho[0], l_sho[0]) < h / 3
    assert kp[3][0] > r_sho[0] + 0.2 * h and kp[6][0] > l_sho[0] + 0.2 * h  # elbows below
    assert kp[3][1] < r_sho[1] + 0.05 * w and kp[6][1] > l_sho[1] - 0.05 * w
    # the head is cut off in these photos: no face joints
    assert not present[[0, 14, 15, 16, 17]].any()


def test_real_photo_segmentation_and_facing(model):
    result = model(photo("model_2"))
    reference = np.asarray(Image.open(photo("model_2").replace("img", "parse"))) > 0
    person = result.segmentation > 0.5
    assert (person & reference).sum() / (person | reference).sum() > 0.95
    back = model(photo("model_2"), facing="back")
    np.testing.assert_allclose(back.landmarks, result.landmarks[B._SWAP_SIDES])


def test_blank_image_has_no_person(model, tmp_path):
    path = tmp_path / "blank.png"
    Image.new("RGB", (200, 160), "white").save(path)
    with pytest.raises(B.NoPersonError, match="blank.png: no person"):
        model(str(path))


def test_two_people_warn_and_use_the_most_confident(model):
    a = np.asarray(Image.open(photo("model_1")).convert("RGB"))
    b = np.asarray(Image.open(photo("model_2")).convert("RGB"))[:a.shape[0], :a.shape[1]]
    image = np.concatenate([a, np.full((a.shape[0], 100, 3), 255, np.uint8), b], axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model(image, mirror=False)
    assert any(issubclass(w.category, B.MultiplePeopleWarning) for w in caught)
    detections = model.detect(image)
    assert len(detections) == 2
    assert result.detection.score == max(d.score for d in detections)
    shoulders = result.landmarks[[11, 12], 1]      # both on the chosen person's half
    side = a.shape[1] + 100 if detections[0].box[1] > a.shape[1] else 0
    assert np.all((shoulders > side) & (shoulders < side + a.shape[1]))


def test_script_writes_csv_and_fails_cleanly(model, tmp_path, warm_python):
    images = tmp_path / "images"
    images.mkdir()
    for sample in ("model_1", "model_2"):
        Image.open(photo(sample)).save(images / f"{sample}.png")
    out = tmp_path / "poses.csv"
    python, env = warm_python.python, warm_python.env()
    script = os.path.join(ROOT, "run_scripts", "detect_keypoints.py")
    done = subprocess.run([python, script, str(images), "--output", str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    poses = F.load_keypoint_csv(str(out))
    assert set(poses) == {"model_1.png", "model_2.png"}
    kp, _ = K.detect_keypoints(photo("model_2"), model)
    np.testing.assert_allclose(poses["model_2.png"].rcv[:, :2],
                               np.round(kp) * (kp >= 0), atol=0)
    Image.new("RGB", (40, 40), "white").save(images / "tiny.png")
    done = subprocess.run([python, script, str(images / "tiny.png"), "--output",
                           str(tmp_path / "x.csv")], capture_output=True, text=True, env=env,
                          cwd=ROOT)
    assert done.returncode == 2
    assert "detect_keypoints.py: error: " + str(images / "tiny.png") in done.stderr
    assert not (tmp_path / "x.csv").exists()
