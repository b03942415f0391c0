"""BlazePose's 33 landmarks -> the 18 OpenPose/COCO joints, and keypoint file writers.

OpenPose order (COCO model, as OpenPose documents it): 0 nose, 1 neck, 2 R shoulder,
3 R elbow, 4 R wrist, 5 L shoulder, 6 L elbow, 7 L wrist, 8 R hip, 9 R knee, 10 R ankle,
11 L hip, 12 L knee, 13 L ankle, 14 R eye, 15 L eye, 16 R ear, 17 L ear; "right" is the
person's right. (DPIG's comments name 14-17 the other way round, ``reference/dpig.md``
2.2; the data it was trained on came from OpenPose, so OpenPose's meaning is used here.)
The neck is the midpoint of the shoulders, as OpenPose's COCO neck.

Keypoints are float32 [18, 2] (row, col) in image pixels, **(-1, -1) for a missing joint**
(the convention of keypoint files; :func:`tfposegen.ops.pose.keypoints_to_rcv_np` turns
them into DPIG's (row, col, vis) with (0, 0, 0) for missing).

The writers produce the files that :mod:`tfposegen.data.dpig_convert` reads
(``--pose_file`` of the converters): the PATN / GFLA CSV, OpenPose JSON files, an RCV
pickle and OpenPose's ``all_peaks`` / ``subsets`` pickles. Every file is written
atomically.
"""

import json
import os
import pickle

import numpy as np

from tfposegen.utils.files import atomic_path, write_json

OPENPOSE_NAMES = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
                  "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee",
                  "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye",
                  "left_eye", "right_ear", "left_ear")
NUM_JOINTS = 18

# OpenPose joint k = mean of these BlazePose landmarks (names in blazepose.LANDMARK_NAMES).
BLAZEPOSE_TO_OPENPOSE = ((0,), (11, 12), (12,), (14,), (16,), (11,), (13,), (15,), (24,),
                         (26,), (28,), (23,), (25,), (27,), (5,), (2,), (8,), (7,))


def to_openpose(landmarks, visibility, image_shape, min_visibility=0.5, inside_only=True):
    """33 BlazePose landmarks -> 18 OpenPose joints.

    A joint is missing when a landmark it is made of has visibility below
    ``min_visibility`` or, with ``inside_only``, when it falls outside the image (row
    outside [0, H-1] or col outside [0, W-1]); the neck needs both shoulders.

    Args:
        landmarks: float [33, 2] (row, col) image pixels.
        visibility: float [33] in [0, 1].
        image_shape: (H, W, ...) of the image.
        min_visibility: threshold in [0, 1].
        inside_only: drop joints outside the image (False keeps them; a joint with a
            negative coordinate then still reads as missing to (-1, -1) readers).

    Returns:
        (keypoints float32 [18, 2] (row, col) pixels with (-1, -1) for missing joints,
        scores float32 [18] in [0, 1]: the smallest visibility of the joint's landmarks,
        0 for missing joints).
    """
    landmarks = np.asarray(landmarks, np.float32)
    visibility = np.asarray(visibility, np.float32)
    h, w = image_shape[:2]
    keypoints = np.full((NUM_JOINTS, 2), -1, np.float32)
    scores = np.zeros(NUM_JOINTS, np.float32)
    for k, sources in enumerate(BLAZEPOSE_TO_OPENPOSE):
        point = landmarks[list(sources)].mean(axis=0)
        score = float(visibility[list(sources)].min())
        inside = 0 <= point[0] <= h - 1 and 0 <= point[1] <= w - 1
        if score >= min_visibility and (inside or not inside_only):
            keypoints[k], scores[k] = point, score
    return keypoints, scores


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


def detect_keypoints(image, model=None, min_visibility=0.5, facing="auto", mirror=True,
                     model_dir=None, fetch=True):
    """Photo -> 18 OpenPose keypoints with BlazePose.

    Args:
        image: file path or uint8 [H, W, 3] RGB.
        model: a :class:`tfposegen.pose.blazepose.BlazePose` to reuse (else one is built
            from ``model_dir`` / ``fetch``).
        min_visibility: see :func:`to_openpose`.
        facing, mirror: see :meth:`tfposegen.pose.blazepose.BlazePose.__call__`.

    Returns:
        (keypoints float32 [18, 2] (row, col) pixels, (-1, -1) missing; scores float32
        [18] in [0, 1], 0 for missing joints).

    Raises:
        PoseInputError, NoPersonError, ModelFilesError (see :mod:`tfposegen.pose.blazepose`).
    """
    from tfposegen.pose.blazepose import BlazePose

    model = model or BlazePose(model_dir, fetch)
    result = model(image, facing=facing, mirror=mirror)
    return to_openpose(result.landmarks, result.visibility, result.segmentation.shape,
                       min_visibility)
