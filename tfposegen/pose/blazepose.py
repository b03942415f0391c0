"""BlazePose (mediapipe's pose solution, full model) with ``tf.lite.Interpreter`` and numpy.

Two stages, as mediapipe's ``PoseDetectionCpu`` + ``PoseLandmarkByRoiCpu`` graphs:

1. **Detector** (``pose_detection.tflite``): the image is letterboxed (centred, black) to a
   square, resized to 224x224 and scaled to [-1, 1]. The model scores 2254 SSD anchors
   (:func:`ssd_anchors`) and regresses a box and 4 keypoints per anchor (hip centre, a point
   on the circle enclosing the whole body, shoulder centre, a point on the circle enclosing
   the upper body). Scores are sigmoids (logits clipped to +-100), boxes below
   ``min_detection_score`` are dropped, and weighted non-maximum suppression (IoU > 0.3)
   merges the rest (:func:`weighted_nms`).
2. **Landmarks** (``pose_landmark_full.tflite``): the region of interest is a square
   centred on the hip centre, of side 2 x 1.25 x |hip centre - body circle point| and
   rotated so that this vector points up (:func:`detection_roi`). The ROI is warped to
   256x256 (edge pixels replicated), scaled to [0, 1]; the model gives 39 landmarks (the
   first 33 are BlazePose's) with visibility and presence logits, a pose presence score,
   a 256x256 person segmentation logit map and 64x64 heat-maps that refine the landmark
   positions (7x7 window, as mediapipe). Everything is mapped back to the image.

Coordinates: (row, col) pixels of the input image, continuous, with OpenCV's convention
that integer values are pixel centres (mediapipe's too). Landmarks may lie outside the
image. Angles are radians, positive = clockwise on screen (rows grow downward).

Person selection: the most confident detection is used (mediapipe takes the first after
NMS, the same one); when several separate people are detected a :class:`MultiplePeopleWarning`
is issued.

Facing (an addition): without a face in the picture BlazePose often cannot tell a front view
from a back view, and then swaps the person's left and right (seen on DGP's model photos,
which are cut at the chin). ``facing="auto"`` (the default) keeps the model's answer when
the nose is inside the image and visible, and otherwise assumes the person faces the
camera (the usual case of fashion and try-on photos), swapping every left/right landmark
pair when the model said otherwise; "model", "front" and "back" force a choice.

Mirror test (an addition, on by default): the pipeline also runs on the mirrored photo and
the run with the higher pose score is kept (mapped back). On photos without a face one of
the two runs often places the arms clearly better (seen on DGP's model_1).
"""

import collections
import math
import os
import warnings

import cv2
import numpy as np

from tfposegen.pose import model_files

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
MIN_IMAGE_SIDE = 64
NUM_LANDMARKS = 33

# Anchor rule of mediapipe's pose detector (SsdAnchorsCalculator options of the graph).
_ANCHOR_STRIDES = (8, 16, 32, 32, 32)
_ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 + the interpolated-scale anchor (also 1.0)
_NUM_DETECTOR_KEYPOINTS = 4
_SCORE_CLIP = 100.0
_NMS_IOU = 0.3
_ROI_SCALE = 1.25
_HEATMAP_KERNEL = 7
_HEATMAP_MIN_CONFIDENCE = 0.5

# BlazePose landmark names (index = position in the 33 landmarks).
LANDMARK_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index")


FACINGS = ("auto", "model", "front", "back")
# Landmark permutation that exchanges the person's left and right.
_SWAP_SIDES = np.arange(NUM_LANDMARKS)
for _pair in ((1, 4), (2, 5), (3, 6), *((k, k + 1) for k in range(7, NUM_LANDMARKS, 2))):
    _SWAP_SIDES[list(_pair)] = _pair[::-1]
del _pair


class PoseInputError(ValueError):
    """An image BlazePose cannot use (unreadable, too small, wrong shape); the message
    names the file when a path was given."""


class NoPersonError(PoseInputError):
    """No person was found in the image; the message names the file when known."""


class MultiplePeopleWarning(UserWarning):
    """Several people were detected; the most confident one was used."""


Roi = collections.namedtuple("Roi", "row col size rotation")
Roi.__doc__ = """A square region of interest: centre (row, col) in image pixels, side
``size`` in pixels and ``rotation`` in radians (clockwise on screen)."""

Detection = collections.namedtuple("Detection", "score box keypoints")
Detection.__doc__ = """One detector output in image pixels: ``score`` in [0, 1], ``box``
float32 [4] (row_min, col_min, row_max, col_max), ``keypoints`` float32 [4, 2] (row, col):
hip centre, body-circle point, shoulder centre, upper-body-circle point."""


class PoseResult(collections.namedtuple(
        "PoseResult", "landmarks visibility presence pose_score detection roi segmentation")):
    """BlazePose output for one image of size H x W.

    Attributes:
        landmarks: float32 [33, 2] (row, col) image pixels (may lie outside the image).
        visibility: float32 [33] in [0, 1] (sigmoid of the model's visibility logit).
        presence: float32 [33] in [0, 1] (sigmoid of the presence logit).
        pose_score: float in [0, 1], the landmark model's pose presence score.
        detection: :class:`Detection` that gave the ROI.
        roi: :class:`Roi` the landmark model looked at.
        segmentation: float32 [H, W] in [0, 1], person probability (0 outside the ROI).
    """

    __slots__ = ()


def _sigmoid(x):
    return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(x, np.float64))


def ssd_anchors(input_size=DETECTOR_SIZE, strides=_ANCHOR_STRIDES,
                per_layer=_ANCHORS_PER_LAYER):
    """Anchor centres of mediapipe's SSD rule with fixed (1 x 1) anchor sizes.

    Layers with equal consecutive strides share one feature map and put their anchors
    together per cell; cells go row by row, and each cell holds ``per_layer`` anchors per
    layer, all at the cell centre ((i + 0.5) / feature size).

    Args:
        input_size: detector input side (224).
        strides: one stride per layer.
        per_layer: anchors per cell and layer.

    Returns:
        float32 [N, 2] (row, col) centres normalised to [0, 1] (N = 2254 by default).
    """
    centres, k = [], 0
    while k < len(strides):
        same = 1
        while k + same < len(strides) and strides[k + same] == strides[k]:
            same += 1
        n = math.ceil(input_size / strides[k])
        grid = (np.arange(n, dtype=np.float32) + 0.5) / n
        rows, cols = np.meshgrid(grid, grid, indexing="ij")
        cell = np.stack([rows.ravel(), cols.ravel()], axis=1)
        centres.append(np.repeat(cell, same * per_layer, axis=0))
        k += same
    return np.concatenate(centres).astype(np.float32)


def decode_detections(raw_boxes, raw_scores, anchors, min_score=0.5,
                      input_size=DETECTOR_SIZE):
    """Detector tensors -> scored boxes and keypoints (mediapipe's ``TensorsToDetections``).

    Args:
        raw_boxes: float32 [N, 12]: per anchor x, y, w, h of the box then x, y of 4
            keypoints, in detector-input pixels relative to the anchor centre.
        raw_scores: float32 [N] or [N, 1] logits.
        anchors: float32 [N, 2] (row, col) from :func:`ssd_anchors`.
        min_score: keep anchors with sigmoid score >= this.
        input_size: detector input side.

    Returns:
        (scores float32 [M], boxes float32 [M, 4] (row_min, col_min, row_max, col_max),
        keypoints float32 [M, 4, 2] (row, col)); coordinates normalised to the detector
        input ([0, 1] inside it).
    """
    scores = _sigmoid(np.clip(np.reshape(raw_scores, -1), -_SCORE_CLIP, _SCORE_CLIP))
    keep = scores >= min_score
    raw = np.asarray(raw_boxes, np.float64)[keep] / input_size
    anchor = anchors[keep].astype(np.float64)
    centre = raw[:, [1, 0]] + anchor          # (row, col)
    half = raw[:, [3, 2]] / 2                 # (h / 2, w / 2)
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    kps = raw[:, 4:].reshape(-1, _NUM_DETECTOR_KEYPOINTS, 2)[..., ::-1] + anchor[:, None]
    return scores[keep].astype(np.float32), boxes.astype(np.float32), kps.astype(np.float32)


def box_iou(box, boxes):
    """IoU of one box [4] with boxes [M, 4], both (row_min, col_min, row_max, col_max)."""
    lo = np.maximum(box[:2], boxes[:, :2])
    hi = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area + areas - inter, 1e-12)


def weighted_nms(scores, boxes, keypoints, iou_threshold=_NMS_IOU):
    """Weighted non-maximum suppression (mediapipe's ``WEIGHTED`` algorithm).

    The best remaining box absorbs every remaining box with IoU > ``iou_threshold``
    (itself included); box corners and keypoints become the score-weighted means of the
    absorbed ones, the score stays the best one's.

    Args:
        scores: float32 [M]; boxes: float32 [M, 4]; keypoints: float32 [M, K, 2] (any
            consistent coordinates).

    Returns:
        the same three arrays for the merged detections, best first.
    """
    order = np.argsort(-scores, kind="stable")
    out = ([], [], [])
    while order.size:
        similar = box_iou(boxes[order[0]], boxes[order]) > iou_threshold
        members = order[similar]
        w = scores[members][:, None]
        out[0].append(scores[order[0]])
        out[1].append((boxes[members] * w).sum(0) / w.sum())
        out[2].append((keypoints[members] * w[:, :, None]).sum(0) / w.sum())
        order = order[~similar]
    if not out[0]:
        return (np.zeros(0, np.float32), np.zeros((0, 4), np.float32),
                np.zeros((0,) + keypoints.shape[1:], np.float32))
    return tuple(np.asarray(a, np.float32) for a in out)


def detection_roi(keypoints, scale=_ROI_SCALE):
    """The landmark model's ROI from detector keypoints (mediapipe's ``PoseDetectionToRoi``).

    Args:
        keypoints: float [4, 2] (row, col) pixels: hip centre, body-circle point, ...
        scale: side multiplier (1.25).

    Returns:
        :class:`Roi`: centred on the hip centre, side 2 x scale x the distance hip centre ->
        body-circle point, rotated so that this vector points up in the crop.
    """
    (r0, c0), (r1, c1) = np.asarray(keypoints, np.float64)[:2]
    size = 2 * math.hypot(r1 - r0, c1 - c0) * scale
    angle = math.pi / 2 - math.atan2(-(r1 - r0), c1 - c0)
    angle = angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))
    return Roi(float(r0), float(c0), float(size), float(angle))


def roi_matrix(roi, out_size):
    """Affine map from crop pixels to image pixels.

    Args:
        roi: :class:`Roi`.
        out_size: crop side in pixels.

    Returns:
        float64 [2, 3] ``A`` with (x, y) = A @ (u, v, 1): crop (u = col, v = row) -> image
        (x = col, y = row), OpenCV's order; crop corner (0, 0) is the ROI's top-left corner
        and (out_size, out_size) its bottom-right one.
    """
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    k = roi.size / out_size
    half = roi.size / 2
    return np.array([
        [cos * k, -sin * k, roi.col - cos * half + sin * half],
        [sin * k, cos * k, roi.row - sin * half - cos * half]])


def _crop(image, matrix, out_size, border):
    return cv2.warpAffine(image, matrix, (out_size, out_size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border,
                          borderValue=0)


def load_image(image):
    """An RGB image for BlazePose from a path or an array.

    Args:
        image: file path, or uint8 array [H, W] (grey), [H, W, 3] (RGB) or [H, W, 4] (RGBA).

    Returns:
        (uint8 [H, W, 3] RGB, name for messages: the path or "image").

    Raises:
        PoseInputError: unreadable file, wrong shape or dtype, side below 64 pixels.
    """
    name = "image"
    if isinstance(image, (str, os.PathLike)):
        from tfposegen.utils.files import ImageReadError, read_rgb

        name = os.fspath(image)
        try:
            image = read_rgb(name)
        except ImageReadError as e:
            raise PoseInputError(str(e)) from None
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise PoseInputError(f"{name}: expected uint8 pixels, got {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise PoseInputError(f"{name}: expected an [H, W, 3] RGB image, got shape "
                             f"{image.shape}")
    if min(image.shape[:2]) < MIN_IMAGE_SIDE:
        raise PoseInputError(f"{name}: image is {image.shape[1]}x{image.shape[0]} pixels; "
                             f"BlazePose needs at least {MIN_IMAGE_SIDE} on each side")
    return np.ascontiguousarray(image[..., :3]), name


def _interpreter(path):
    import tensorflow as tf
    with warnings.catch_warnings():  # tf.lite.Interpreter's deprecation notice
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=path)
    interpreter.allocate_tensors()
    return interpreter


def _run(interpreter, x):
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x[None])
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"])[0]
            for d in interpreter.get_output_details()}


def _refine_with_heatmap(points, heatmap):
    """Move crop-normalised (x, y) points [K, 2] to the sigmoid-weighted centre of a 7x7
    heat-map window when its peak is >= 0.5 (mediapipe's rule: cell indices, no +0.5)."""
    size = heatmap.shape[0]
    off = (_HEATMAP_KERNEL - 1) // 2
    out = points.copy()
    for k, (x, y) in enumerate(points):
        col, row = int(x * size), int(y * size)
        if not (0 <= col < size and 0 <= row < size):
            continue
        r0, r1 = max(0, row - off), min(size, row + off + 1)
        c0, c1 = max(0, col - off), min(size, col + off + 1)
        conf = _sigmoid(heatmap[r0:r1, c0:c1, k])
        if conf.max() >= _HEATMAP_MIN_CONFIDENCE:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[k] = ((cols * conf).sum() / conf.sum() / size,
                      (rows * conf).sum() / conf.sum() / size)
    return out


def faces_camera(landmarks, roi):
    """Whether landmarks describe a person facing the camera.

    True when the right shoulder (landmark 12) lies left of the left shoulder (11) as seen
    along the body's up direction (the ROI's up: the crop's top), i.e. on the image-left
    for an upright person.

    Args:
        landmarks: float [33, 2] (row, col).
        roi: :class:`Roi` of the landmark model.
    """
    (r_left, c_left), (r_right, c_right) = np.asarray(landmarks, np.float64)[[11, 12]]
    # up = (sin t, -cos t) in (col, row); screen-left of up = (-cos t, -sin t)
    return (c_right - c_left) * -math.cos(roi.rotation) + \
        (r_right - r_left) * -math.sin(roi.rotation) > 0


def _face_in_image(landmarks, visibility, shape, min_visibility=0.5):
    row, col = landmarks[0]
    return (visibility[0] >= min_visibility and 0 <= row <= shape[0] - 1
            and 0 <= col <= shape[1] - 1)


def _unmirror(result, width):
    """A result on the mirrored image -> the same result on the image (columns mirrored,
    left and right exchanged, ROI rotation negated)."""
    def cols(points):
        return np.concatenate([points[..., :1], width - 1 - points[..., 1:]], axis=-1)

    det = result.detection
    box = np.array([det.box[0], width - 1 - det.box[3], det.box[2], width - 1 - det.box[1]],
                   np.float32)
    return result._replace(
        landmarks=cols(result.landmarks)[_SWAP_SIDES], visibility=result.visibility[_SWAP_SIDES],
        presence=result.presence[_SWAP_SIDES],
        detection=det._replace(box=box, keypoints=cols(det.keypoints)),
        roi=result.roi._replace(col=width - 1 - result.roi.col, rotation=-result.roi.rotation),
        segmentation=np.ascontiguousarray(result.segmentation[:, ::-1]))


class BlazePose:
    """BlazePose full: image -> 33 landmarks, visibilities and a person mask.

    Args:
        model_dir: folder with the ``.tflite`` files (or the mediapipe wheel); None uses
            the cache (:mod:`tfposegen.pose.model_files`).
        fetch: download the files into the cache when missing (ignored with model_dir).
        min_detection_score: detector score threshold (mediapipe: 0.5).
        min_pose_score: landmark model presence threshold (mediapipe: 0.5).

    Raises:
        ModelFilesError: model files missing and not fetchable.
    """

    def __init__(self, model_dir=None, fetch=True, min_detection_score=0.5,
                 min_pose_score=0.5):
        paths = model_files.model_paths(("pose_detection.tflite", "pose_landmark_full.tflite"),
                                        model_dir, fetch)
        self._detector = _interpreter(paths["pose_detection.tflite"])
        self._landmarker = _interpreter(paths["pose_landmark_full.tflite"])
        self._anchors = ssd_anchors()
        self.min_detection_score = min_detection_score
        self.min_pose_score = min_pose_score

    def detect(self, image):
        """Run the detector.

        Args:
            image: uint8 [H, W, 3] RGB.

        Returns:
            list of :class:`Detection` in image pixels, most confident first (empty when
            nobody is found).
        """
        h, w = image.shape[:2]
        side = max(h, w)
        # Letterbox: the square of side ``side`` centred on the image, black outside.
        roi = Roi(h / 2, w / 2, side, 0.0)
        matrix = roi_matrix(roi, DETECTOR_SIZE)
        x = _crop(image, matrix, DETECTOR_SIZE, cv2.BORDER_CONSTANT)
        out = _run(self._detector, x.astype(np.float32) / 127.5 - 1)
        raw_boxes, raw_scores = (out[k] for k in sorted(out, key=lambda k: out[k].shape[-1],
                                                        reverse=True))
        scores, boxes, kps = weighted_nms(*decode_detections(
            raw_boxes, raw_scores, self._anchors, self.min_detection_score))
        # normalised detector input (row, col) -> image pixels
        offset = np.array([(side - h) / 2, (side - w) / 2], np.float32)
        return [Detection(float(s), (b.reshape(2, 2) * side - offset).ravel(),
                          k * side - offset) for s, b, k in zip(scores, boxes, kps)]

    def landmarks(self, image, roi):
        """Run the landmark model on a ROI.

        Args:
            image: uint8 [H, W, 3] RGB.
            roi: :class:`Roi`.

        Returns:
            (landmarks float32 [33, 2] (row, col) pixels, visibility float32 [33],
            presence float32 [33], pose_score float, segmentation float32 [H, W] in [0, 1]).
        """
        matrix = roi_matrix(roi, LANDMARK_SIZE)
        x = _crop(image, matrix, LANDMARK_SIZE, cv2.BORDER_REPLICATE)
        out = _run(self._landmarker, x.astype(np.float32) / 255)
        by_shape = {v.shape: v for v in out.values()}
        raw = by_shape[(195,)].reshape(39, 5)[:NUM_LANDMARKS]
        heatmap = next(v for v in out.values() if v.ndim == 3 and v.shape[-1] == 39)
        seg = next(v for v in out.values() if v.shape == (LANDMARK_SIZE, LANDMARK_SIZE, 1))
        xy = _refine_with_heatmap(raw[:, :2] / LANDMARK_SIZE, heatmap) * LANDMARK_SIZE
        image_xy = xy @ matrix[:, :2].T + matrix[:, 2]
        mask = cv2.warpAffine(_sigmoid(seg[..., 0]).astype(np.float32), matrix,
                              (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return (image_xy[:, ::-1].astype(np.float32), _sigmoid(raw[:, 3]).astype(np.float32),
                _sigmoid(raw[:, 4]).astype(np.float32), float(by_shape[(1,)][0]), mask)

    def __call__(self, image, facing="auto", mirror=True, name=None):
        """Detect one person and their landmarks.

        Args:
            image: file path or uint8 [H, W, 3] RGB (grey / RGBA accepted), sides >= 64.
            facing: "auto", "model", "front" or "back" (module docstring).
            mirror: also run on the mirrored image and keep whichever run has the higher
                pose score (an addition; it helps on photos without a face, where one of
                the two runs often misplaces the arms).
            name: how messages name the image (default: its path, or "image").

        Returns:
            :class:`PoseResult`.

        Raises:
            PoseInputError: unusable image.
            NoPersonError: no detection, or the landmark model finds no pose in the ROI.
        """
        if facing not in FACINGS:
            raise ValueError(f"facing must be one of {FACINGS}, got {facing!r}")
        image, path = load_image(image)
        name = name or path
        result = self._single(image, name, warn=True)
        if mirror:
            try:
                flipped = self._single(np.ascontiguousarray(image[:, ::-1]), name, warn=False)
            except NoPersonError:
                flipped = None
            if flipped is not None and flipped.pose_score > result.pose_score:
                result = _unmirror(flipped, image.shape[1])
        points, vis, pres = result.landmarks, result.visibility, result.presence
        if facing == "auto":
            facing = "model" if _face_in_image(points, vis, image.shape) else "front"
        if facing != "model" and faces_camera(points, result.roi) != (facing == "front"):
            result = result._replace(landmarks=points[_SWAP_SIDES], visibility=vis[_SWAP_SIDES],
                                     presence=pres[_SWAP_SIDES])
        return result

    def _single(self, image, name, warn):
        detections = self.detect(image)
        if not detections:
            raise NoPersonError(f"{name}: no person found (pose detector score < "
                                f"{self.min_detection_score})")
        if warn and len(detections) > 1:
            warnings.warn(f"{name}: {len(detections)} people detected (scores "
                          f"{', '.join(f'{d.score:.2f}' for d in detections)}); using the "
                          f"most confident", MultiplePeopleWarning, stacklevel=3)
        best = detections[0]
        roi = detection_roi(best.keypoints)
        points, vis, pres, pose_score, mask = self.landmarks(image, roi)
        if pose_score < self.min_pose_score:
            raise NoPersonError(f"{name}: no person found (landmark model pose score "
                                f"{pose_score:.2f} < {self.min_pose_score})")
        return PoseResult(points, vis, pres, pose_score, best, roi, mask)
