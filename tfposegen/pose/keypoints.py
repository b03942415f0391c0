"""BlazePose's 33 landmarks -> the 18 OpenPose/COCO joints.

OpenPose order (COCO model, as OpenPose documents it): 0 nose, 1 neck, 2 R shoulder,
3 R elbow, 4 R wrist, 5 L shoulder, 6 L elbow, 7 L wrist, 8 R hip, 9 R knee, 10 R ankle,
11 L hip, 12 L knee, 13 L ankle, 14 R eye, 15 L eye, 16 R ear, 17 L ear; "right" is the
person's right. (DPIG's comments name 14-17 the other way round, its
``datasets/convert_DF.py``; the data it was trained on came from OpenPose, so OpenPose's meaning is
used here.)
The neck is the midpoint of the shoulders, as OpenPose's COCO neck.

Keypoints are float32 [18, 2] (row, col) in image pixels, **(-1, -1) for a missing joint**
(the convention of keypoint files; :func:`tfposegen.pose.maps.keypoints_to_rcv_np` turns
them into DPIG's (row, col, vis) with (0, 0, 0) for missing).

Keypoint files are read and written by :mod:`tfposegen.pose.formats`.
"""


import numpy as np
from PIL import Image

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


def fit_photo(image, keypoints, height, width, labels=None):
    """Scale a photo to fit ``height`` x ``width`` (aspect kept, bicubic) and pad the rest
    with the photo's border colour (median of its outermost pixels), centred, moving the
    keypoints (and a label map) with it.

    Args:
        image: uint8 [h, w, 3].
        keypoints: float [18, 2] (row, col) in the photo, (-1, -1) missing.
        height, width: the model's frame.
        labels: optional integer [h, w] label map (resized nearest-neighbour, padded with 0).

    Returns:
        (uint8 [height, width, 3], float32 [18, 2] keypoints in the new frame, (-1, -1)
        kept), plus the uint8 [height, width] labels when given.
    """
    image = np.asarray(image)
    h, w = image.shape[:2]
    scale = min(height / h, width / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    top, left = (height - nh) // 2, (width - nw) // 2
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    out = np.empty((height, width, 3), np.uint8)
    out[:] = np.median(border, axis=0).astype(np.uint8)
    out[top:top + nh, left:left + nw] = np.asarray(
        Image.fromarray(image).resize((nw, nh), Image.BICUBIC))
    kp = np.asarray(keypoints, np.float32)
    moved = kp * np.float32(scale) + np.array([top, left], np.float32)
    kp = np.where(np.all(kp >= 0, -1, keepdims=True), moved, -1).astype(np.float32)
    if labels is None:
        return out, kp
    fitted = np.zeros((height, width), np.uint8)
    fitted[top:top + nh, left:left + nw] = np.asarray(
        Image.fromarray(np.asarray(labels, np.uint8)).resize((nw, nh), Image.NEAREST))
    return out, kp, fitted
