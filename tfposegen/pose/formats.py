"""Keypoint files, read and written in one place: the PATN / GFLA annotation CSV
(``name:keypoints_y:keypoints_x``, used by PATN, GFLA, ADGAN and DPTN), OpenPose JSON files
and OpenPose's ``all_peaks`` / ``subsets`` pickles (DPIG's DeepFashion and Market sources),
and RCV pickles ``{name: float [18, 3] (row, col, vis)}`` (DPIG's ``convert_RCV.py``).

Two conventions meet here, and every function says which it uses:

* keypoint files and :func:`tfposegen.pose.keypoints.detect_keypoints`: float [18, 2]
  (row, col) in pixels, **(-1, -1) for a missing joint**;
* readers return :class:`Pose`: ``rcv`` float64 [18, 3] (row, col, vis) with (0, 0, 0) for
  a missing joint, as DPIG's converters (charliememory/Disentangled-Person-Image-Generation
  ``convert_DF.py``) store them.

Writers write each file atomically. Joint order: the 18 OpenPose/COCO joints
(:data:`tfposegen.pose.keypoints.OPENPOSE_NAMES`).
"""

import collections
import glob
import json
import os
import pickle

import numpy as np

from tfposegen.pose.keypoints import NUM_JOINTS
from tfposegen.pose.maps import keypoints_to_rcv_np
from tfposegen.utils.files import atomic_path, write_json


class PoseFileError(ValueError):
    """An unreadable keypoint file; the message names the file (and line)."""


Pose = collections.namedtuple("Pose", "rcv integer subs")
Pose.__doc__ = """One person's keypoints: ``rcv`` float64 [18, 3] (row, col, vis) pixels,
(0, 0, 0) missing; ``integer`` (int coordinates: floor-division limb points); ``subs`` the
OpenPose subset row written as ``pose_subs`` (empty list when the source has none)."""



# ------------------------------------------------------------------ readers




def _best_person(subsets):
    """Index of the first highest-scoring subset row (score at [-2], must exceed -1)."""
    best, score = -1, -1
    for i, row in enumerate(subsets):
        if row[-2] > score:
            best, score = i, row[-2]
    return best


def openpose_pose(all_peaks, subsets, select):
    """OpenPose pickle entry -> :class:`Pose`, or None when the entry has no person.

    Args:
        all_peaks: 18 lists of peaks (x, y, score, id).
        subsets: float array [people, 20] (ids, score, count).
        select: "first" (DF: the first peak of each joint, the original's effective rule)
            or "best" (Market: per joint the last peak whose id is in the best person's
            row, no peak if none).
    """
    subsets = np.asarray(subsets).reshape(-1, 20) if np.size(subsets) else np.zeros((0, 20))
    best = _best_person(subsets.tolist())
    if best < 0:
        return None
    peaks = [list(p) for p in all_peaks]
    if select == "best":
        ids = subsets[best][:18].tolist()
        chosen = [[p for p in joint if p[-1] in ids][-1:] for joint in peaks]
        peaks = chosen
    rcv = np.zeros((18, 3))
    for k, joint in enumerate(peaks):
        if joint:
            rcv[k] = (joint[0][1], joint[0][0], 1)
    return Pose(rcv, True, subsets[0].tolist())


def _read_pickle(path):
    if not os.path.isfile(path):
        raise PoseFileError(f"{path}: pose file not found")
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except Exception as e:  # pickle raises many types on a bad file
        raise PoseFileError(f"{path}: cannot read as a pickle ({e})") from None


def load_openpose_pickles(peaks_path, subsets_path, select):
    """{name: Pose or None} from the two OpenPose pickles (see :func:`openpose_pose`)."""
    peaks, subsets = _read_pickle(peaks_path), _read_pickle(subsets_path)
    return {name: openpose_pose(p, subsets[name], select) if name in subsets else None
            for name, p in peaks.items()}


def read_annotation_csv(path):
    """Keypoints of a PATN / GFLA ``name:keypoints_y:keypoints_x`` annotation CSV exactly as
    written (``load_pose_cords_from_strings`` in tengteng95/Pose-Transfer
    ``util/pose_utils.py``). The values are kept: PATN, GFLA, ADGAN and DPTN treat only -1 as
    missing and draw out-of-frame joints (:func:`load_keypoint_csv` gives DPIG's view).

    Returns:
        {name: int64 [18, 2] (row, col)}.

    Raises:
        PoseFileError: missing file or a malformed line (``path:line``).
    """
    if not os.path.isfile(path):
        raise PoseFileError(f"{path}: pose file not found")
    poses = {}
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip() or line.startswith("name:"):
                continue
            try:
                name, ys, xs = line.split(":")
                kp = np.stack([json.loads(ys), json.loads(xs)], axis=1).astype(np.int64)
                assert kp.shape == (NUM_JOINTS, 2)
            except Exception:
                raise PoseFileError(f"{path}:{line_no}: not 'name: [18 ys]: [18 xs]'") from None
            poses[name.strip()] = kp
    return poses


def load_keypoint_csv(path):
    """{name: Pose} from a PATN / GFLA ``name:keypoints_y:keypoints_x`` file (integer
    coordinates; every negative coordinate counts as missing, as DPIG's converters)."""
    return {name: Pose(keypoints_to_rcv_np(kp).astype(np.float64), True, [])
            for name, kp in read_annotation_csv(path).items()}


def load_openpose_json(folder):
    """{image name: Pose} from OpenPose JSON files ``<stem>_keypoints.json`` (the image
    name is matched by stem, any extension; float coordinates; confidence 0 = missing)."""
    if not os.path.isdir(folder):
        raise PoseFileError(f"{folder}: OpenPose JSON folder not found")
    poses = {}
    for path in sorted(glob.glob(os.path.join(folder, "*_keypoints.json"))):
        try:
            with open(path) as f:
                people = json.load(f)["people"]
            flat = np.asarray(people[0]["pose_keypoints_2d"], np.float64).reshape(-1, 3)[:18]
        except Exception:
            raise PoseFileError(f"{path}: no people[0].pose_keypoints_2d") from None
        vis = (flat[:, 2] > 0).astype(np.float64)
        rcv = np.stack([flat[:, 1] * vis, flat[:, 0] * vis, vis], axis=1)
        poses[os.path.basename(path)[:-len("_keypoints.json")]] = Pose(rcv, False, [])
    return poses


def read_paint_json(path):
    """One image's keypoints in PAINT's ``pose/<folder>/<id>_<view>.json`` form
    (``{"0": [x, y], ..., "17": [x, y]}``, read by LGN/data/aligned_dataset.py in
    gxl-groups/PAINT: extra entries after x, y ignored, a missing key is a missing joint).

    Returns:
        float64 [18, 2] (row, col), (-1, -1) for a missing key. The values are kept: PAINT
        itself skips a joint with x <= 1 and y <= 1 when it draws (``(0, 0)`` = not found).

    Raises:
        PoseFileError: missing file or not that form (the message names the file).
    """
    if not os.path.isfile(path):
        raise PoseFileError(f"{path}: pose file not found")
    kp = np.full((NUM_JOINTS, 2), -1.0)
    try:
        with open(path) as f:
            data = json.load(f)
        assert isinstance(data, dict)
        for k in range(NUM_JOINTS):
            if str(k) in data:
                x, y = (float(v) for v in data[str(k)][:2])
                kp[k] = (y, x)
    except Exception:
        raise PoseFileError(f'{path}: not PAINT\'s {{"0": [x, y], ...}} keypoints') from None
    return kp


def load_rcv_pickle(path):
    """{name: Pose} from a pickle {name: float [18, 3] (row, col, vis)} (convert_RCV)."""
    return {name: Pose(np.asarray(v, np.float64).reshape(18, 3), False, [])
            for name, v in _read_pickle(path).items()}


def load_poses(path, select="first"):
    """Any supported keypoint source by its name: a ``.csv`` file, a folder (OpenPose
    JSON), a ``.pickle`` (RCV dict) or an ``all_peaks_dic*.p`` (with its ``subsets_dic``
    twin)."""
    if os.path.isdir(path):
        return load_openpose_json(path)
    if path.endswith(".csv"):
        return load_keypoint_csv(path)
    if path.endswith(".pickle"):
        return load_rcv_pickle(path)
    head, base = os.path.split(path)
    return load_openpose_pickles(path, os.path.join(head, base.replace("all_peaks", "subsets")),
                                 select)


def lookup(poses, name):
    """Pose of an image (OpenPose JSON entries are keyed by stem)."""
    return poses.get(name, poses.get(os.path.splitext(name)[0]))


# ------------------------------------------------------------------ writers


def _check(keypoints):
    kp = np.asarray(keypoints, np.float64)
    if kp.shape != (NUM_JOINTS, 2):
        raise ValueError(f"keypoints must be [18, 2] (row, col), got shape {kp.shape}")
    return kp


def _present(kp):
    return np.all(kp >= 0, axis=1)


def _int_coords(kp):
    """Rounded integer (row, col) lists with -1 for missing joints."""
    out = np.where(_present(kp)[:, None], np.round(kp), -1).astype(int)
    return out[:, 0].tolist(), out[:, 1].tolist()


def write_keypoint_csv(path, entries):
    """The PATN / GFLA keypoint CSV: a ``name:keypoints_y:keypoints_x`` header, then per
    image ``name: [18 rows]: [18 cols]`` (JSON integer lists, rounded, -1 missing).

    Args:
        path: output file.
        entries: dict image name -> keypoints [18, 2] (row, col), (-1, -1) missing.
    """
    lines = ["name:keypoints_y:keypoints_x"]
    for name, keypoints in entries.items():
        if ":" in name or "\n" in name:
            raise ValueError(f"{name!r}: image names in a keypoint CSV cannot contain ':'")
        ys, xs = _int_coords(_check(keypoints))
        lines.append(f"{name}: {json.dumps(ys)}: {json.dumps(xs)}")
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")


def openpose_json(keypoints, scores=None):
    """One image's OpenPose JSON document (one person, COCO 18 joints).

    Args:
        keypoints: [18, 2] (row, col), (-1, -1) missing.
        scores: [18] confidences in (0, 1] for present joints (default 1).

    Returns:
        dict ``{"version": 1.3, "people": [{"pose_keypoints_2d": [x, y, c] * 18}]}`` with
        (0, 0, 0) for missing joints, as OpenPose writes them.
    """
    kp = _check(keypoints)
    present = _present(kp)
    scores = np.ones(NUM_JOINTS) if scores is None else np.asarray(scores, np.float64)
    conf = np.where(present, np.clip(scores, 1e-3, 1.0), 0.0)  # > 0 marks a present joint
    flat = np.stack([kp[:, 1] * present, kp[:, 0] * present, conf], axis=1)
    return {"version": 1.3, "people": [{"pose_keypoints_2d": [float(round(v, 3))
                                                              for v in flat.ravel()]}]}


def write_openpose_json(folder, entries, scores=None):
    """OpenPose JSON files ``<folder>/<image stem>_keypoints.json``, one per image.

    Args:
        folder: output folder (created if missing).
        entries: dict image name -> keypoints [18, 2] (row, col), (-1, -1) missing.
        scores: optional dict image name -> [18] confidences.

    Returns:
        list of written paths.
    """
    os.makedirs(folder, exist_ok=True)
    paths = []
    for name, keypoints in entries.items():
        stem = os.path.splitext(os.path.basename(name))[0]
        paths.append(os.path.join(folder, f"{stem}_keypoints.json"))
        write_json(paths[-1], openpose_json(keypoints, (scores or {}).get(name)))
    return paths


def rcv(keypoints):
    """[18, 2] (row, col) with (-1, -1) missing -> float32 [18, 3] (row, col, vis) with
    (0, 0, 0) missing (DPIG's RCV)."""
    kp = _check(keypoints)
    present = _present(kp)
    return np.concatenate([kp * present[:, None], present[:, None]], 1).astype(np.float32)


def _write_pickle(path, obj):
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def write_rcv_pickle(path, entries):
    """convert_RCV's pose pickle: {image name: float32 [18, 3] (row, col, vis)}, missing
    joints (0, 0, 0), protocol 2.

    Args:
        path: output ``.pickle`` file.
        entries: dict image name -> keypoints [18, 2] (row, col), (-1, -1) missing.
    """
    _write_pickle(path, {name: rcv(kp) for name, kp in entries.items()})


def openpose_peaks(keypoints, scores=None):
    """One image's OpenPose pickle entries (one person).

    Args:
        keypoints: [18, 2] (row, col), (-1, -1) missing.
        scores: [18] confidences (default 1).

    Returns:
        (all_peaks: 18 lists, each empty or [(x, y, score, id)] with integer x = col,
        y = row and ids numbered 0, 1, ... over present joints; subsets: float64 [1, 20]
        = 18 peak ids (-1 missing), total score, number of joints).
    """
    kp = _check(keypoints)
    present = _present(kp)
    scores = np.ones(NUM_JOINTS) if scores is None else np.asarray(scores, np.float64)
    ys, xs = _int_coords(kp)
    peaks, row, next_id = [], np.full(20, -1.0), 0
    for k in range(NUM_JOINTS):
        if present[k]:
            peaks.append([(xs[k], ys[k], float(scores[k]), next_id)])
            row[k], next_id = next_id, next_id + 1
        else:
            peaks.append([])
    row[18], row[19] = float(scores[present].sum()), float(present.sum())
    return peaks, row[None]


def write_openpose_pickles(peaks_path, subsets_path, entries, scores=None):
    """OpenPose pickles as DPIG's DF / Market converters read them: ``all_peaks`` {name:
    18 peak lists} and ``subsets`` {name: float [people, 20]} (see :func:`openpose_peaks`),
    protocol 2. Name them ``all_peaks_dic_<X>.p`` / ``subsets_dic_<X>.p`` so that
    ``--pose_file <all_peaks path>`` finds the twin.

    Args:
        peaks_path, subsets_path: output files.
        entries: dict image name -> keypoints [18, 2] (row, col), (-1, -1) missing.
        scores: optional dict image name -> [18] confidences.
    """
    peaks, subsets = {}, {}
    for name, keypoints in entries.items():
        peaks[name], subsets[name] = openpose_peaks(keypoints, (scores or {}).get(name))
    _write_pickle(peaks_path, peaks)
    _write_pickle(subsets_path, subsets)
