"""The model parse of DGP from a photo: 0 background, 16 arm on the image-left side,
32 arm on the image-right side, 64 trunk, 255 hair (:mod:`tfposegen.parsing.labels`).

What each label covers, read off the shipped samples: the **arms** run from the shoulder
(a cut from just outside the top of the shoulder joint down to the armpit) to the
fingertips, including the bare skin beside the garment's arm hole; the **trunk** is
everything else of the body: neck, the face and chin when in the picture, chest, the worn
top, midriff, trousers; **hair** is the hair around the head and falling over the shoulders
(the samples are cut at the chin, so whether a visible face would be trunk is inferred:
the face is treated as trunk, like the chin and neck). The arm labels go by image side,
not by the person's side (16 = the person's right arm for a frontal photo).

How (all rules geometric, lengths as fractions of the shoulder width ``sw``):

1. The person probability (mean of BlazePose's segmentation and mediapipe's selfie
   segmentation, unless a mask is given) gives sure background (< 0.2) and the region where
   seeds may lie (> 0.5); pixels coloured like the background (robust Lab statistics of the
   sure background) that are not sure foreground become background seeds too.
2. Seeds drawn from the 18 keypoints: trunk = neck-to-hips axis, the shoulder line, the
   central part of the shoulders-hips quadrilateral, legs and hips; each arm = a cut line
   from above the outer shoulder to the armpit (with a trunk twin just medial of it), then
   mid-cut -> elbow -> wrist -> hand. A missing wrist is put one upper-arm length beyond
   the elbow.
3. Skin and hair seeds from colour: a robust Lab model of the skin is taken at the throat
   (above the shoulder midpoint); above the shoulder line, skin-coloured pixels connected to
   the throat near the body axis seed the trunk; clearly non-skin pixels connected to the
   head (the top image rows when the head is cut off, the scalp above the nose otherwise)
   seed the hair (so garment straps, which do not reach the head, stay trunk).
4. OpenCV's watershed on the lightly blurred photo grows the seeds to image edges; the
   one-pixel watershed lines take their neighbours' label.

Coordinates are (row, col) pixels; keypoints are the 18 OpenPose joints with (-1, -1) for
missing ones (:mod:`tfposegen.pose.keypoints`).
"""

import cv2
import numpy as np
from scipy import ndimage

from tfposegen.parsing.labels import ARM_LEFT, ARM_RIGHT, BACKGROUND, HAIR, MODEL_LABELS, TRUNK
from tfposegen.pose import blazepose, segmentation
from tfposegen.pose.keypoints import to_openpose

# Watershed marker ids -> label values.
_MARKER_LABELS = {1: BACKGROUND, 2: ARM_LEFT, 3: ARM_RIGHT, 4: TRUNK, 5: HAIR}

# BlazePose landmarks with visibility at least this are used for parsing (lower than the
# keypoint files' 0.5: an arm seed slightly off still lies on the arm), also outside the image.
PARSE_MIN_VISIBILITY = 0.2
# Person probability thresholds.
_SURE_BACKGROUND, _FOREGROUND, _BACKGROUND_LIKE_MAX = 0.2, 0.5, 0.7
# Seed geometry, fractions of the shoulder width.
_LINE_WIDTH = 0.015
_NECK_UP = 0.3            # trunk axis starts this far above the shoulder midpoint
_SHOULDER_INSET = 0.15    # trunk's shoulder line stops this far inside each shoulder
_CORE_INSET = 0.25        # trunk core: shoulders-hips quadrilateral, sides moved this far in
_CUT_OUT, _CUT_UP, _CUT_DOWN = 0.07, 0.07, 0.15  # arm cut: top beside/above the joint, armpit
_CUT_GAP = 0.03           # arm and trunk seeds on either side of the cut
_HAND = 0.3               # hand seed beyond the wrist, fraction of the forearm
_BODY_LENGTH = 1.5        # axis length below the shoulders when the hips are missing
# Colour rules (OpenCV 8-bit Lab units; robust z-scores with per-channel floors).
_LAB_FLOOR = (20.0, 4.0, 4.0)
_THROAT_UP, _THROAT_RADIUS = 0.15, 0.06
_HEAD_ZONE = 0.1          # hair and skin seeds only above (shoulder line + this)
_NECK_HALF_WIDTH = 0.3    # skin seeds only this close to the body axis
_SCALP = 0.25             # head anchor: this far above the nose
_SEED_CORE = 0.02         # colour seeds keep this far inside the person mask
_MIN_HAIR = 0.1           # hair seed components smaller than (this * sw)^2 are dropped
_HAIR_Z, _SKIN_Z, _BACKGROUND_Z = 4.0, 1.5, 1.0
_BLUR_SIGMA = 1.0


def _point(p):
    return int(round(float(p[1]))), int(round(float(p[0])))


def _disk(radius):
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def colour_zscore(lab, sample):
    """Robust colour distance of every pixel to the pixels in ``sample``.

    Args:
        lab: float32 [H, W, 3] OpenCV 8-bit Lab image.
        sample: bool [H, W], the reference pixels (at least one).

    Returns:
        float32 [H, W] >= 0: per-channel distances to the sample's median in units of its
        scaled MAD (floored at (20, 4, 4) Lab units), combined as a Euclidean norm.
    """
    values = lab[sample]
    median = np.median(values, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(values - median), axis=0), _LAB_FLOOR)
    return np.sqrt((((lab - median) / spread) ** 2).sum(-1))


def body_frame(keypoints):
    """The body's frame from 18 OpenPose keypoints (float [18, 2] (row, col), (-1, -1)
    missing): (shoulder midpoint float [2], unit vectors ``across`` (joint 2 -> joint 5) and
    ``down`` (perpendicular, toward the hips, or toward the image bottom without hips),
    the shoulder width in pixels, bool [18] presence of the joints).

    Raises:
        ValueError: a shoulder is missing or the shoulders nearly coincide.
    """
    present = np.all(keypoints >= 0, axis=1)
    if not (present[2] and present[5]):
        raise ValueError("model parse needs both shoulders (keypoints 2 and 5)")
    right, left = keypoints[2], keypoints[5]
    width = float(np.linalg.norm(left - right))
    if width < 2:
        raise ValueError(f"shoulders are {width:.1f} pixels apart; cannot parse")
    neck = (right + left) / 2
    across = (left - right) / width
    down = np.array([across[1], -across[0]])
    hips = [keypoints[k] for k in (8, 11) if present[k]]
    if (np.dot(np.mean(hips, 0) - neck, down) < 0) if hips else down[0] < 0:
        down = -down
    return neck, across, down, width, present


def _line_seeds(shape, keypoints):
    """Trunk and arm seed lines: uint8 [H, W] each (trunk 1; arms 2 image-left, 3 right)."""
    neck, across, down, sw, present = body_frame(keypoints)
    width = max(2, int(round(_LINE_WIDTH * sw)))
    trunk, arms = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)

    def line(canvas, a, b, value):
        cv2.line(canvas, _point(a), _point(b), int(value), width)

    hips = present[8] and present[11]
    bottom = (keypoints[8] + keypoints[11]) / 2 if hips else neck + down * _BODY_LENGTH * sw
    line(trunk, neck - down * _NECK_UP * sw, bottom, 1)
    right, left = keypoints[2], keypoints[5]
    hip_r, hip_l = ((keypoints[8], keypoints[11]) if hips else
                    (bottom - across * sw / 3, bottom + across * sw / 3))
    corners = [right + _CORE_INSET * (left - right), left + _CORE_INSET * (right - left),
               hip_l + _CORE_INSET * (hip_r - hip_l), hip_r + _CORE_INSET * (hip_l - hip_r)]
    cv2.fillPoly(trunk, [np.array([_point(c) for c in corners], np.int32)], 1)
    line(trunk, right + _SHOULDER_INSET * (left - right),
         left + _SHOULDER_INSET * (right - left), 1)
    for a, b in ((8, 9), (9, 10), (11, 12), (12, 13), (8, 11)):
        if present[a] and present[b]:
            line(trunk, keypoints[a], keypoints[b], 1)
    for shoulder, elbow, wrist in ((2, 3, 4), (5, 6, 7)):
        s = keypoints[shoulder]
        outward = (s - neck) / np.linalg.norm(s - neck)
        armpit = s + down * _CUT_DOWN * sw
        top = s + outward * _CUT_OUT * sw - down * _CUT_UP * sw
        top = 2 * top - armpit  # run the cut out of the silhouette
        gap = outward * _CUT_GAP * sw
        line(trunk, top - gap, armpit - gap, 1)
        value = 2 if s[1] < neck[1] else 3
        line(arms, top + gap, armpit + gap, value)
        if not present[elbow]:
            continue
        e = keypoints[elbow]
        w = keypoints[wrist] if present[wrist] else 2 * e - s
        # the upper-arm seed starts mid-cut: near the shoulder the joint lies at the
        # arm's inner edge, so a seed from the armpit can touch the garment
        for a, b in (((top + armpit) / 2 + gap, e), (e, w), (w, w + _HAND * (w - e))):
            line(arms, a, b, value)
    return trunk, arms


def _colour_seeds(lab, keypoints, foreground):
    """Skin (trunk) and hair seeds above the shoulders: bool [H, W] each."""
    neck, across, down, sw, present = body_frame(keypoints)
    h, w = foreground.shape
    rows, cols = np.mgrid[:h, :w]
    rel = np.stack([rows - neck[0], cols - neck[1]], -1).astype(np.float32)
    height = -(rel @ down.astype(np.float32)) / sw   # > 0 above the shoulder line
    lateral = np.abs(rel @ across.astype(np.float32)) / sw
    throat = neck - down * _THROAT_UP * sw
    sample = foreground & ((rows - throat[0]) ** 2 + (cols - throat[1]) ** 2
                           < (_THROAT_RADIUS * sw) ** 2)
    none = np.zeros((h, w), bool)
    if sample.sum() < 10:
        return none, none
    z = colour_zscore(lab, sample)
    radius = max(1, int(round(_SEED_CORE * sw)))
    core = cv2.erode(foreground.astype(np.uint8), _disk(radius)) > 0
    zone = core & (height > -_HEAD_ZONE)

    def connected(candidates, anchor):
        labels, _ = ndimage.label(candidates)
        ids = np.unique(labels[anchor & candidates])
        return np.isin(labels, ids[ids > 0])

    skin = connected(zone & (z < _SKIN_Z) & (lateral < _NECK_HALF_WIDTH), sample)
    hair = cv2.morphologyEx((zone & (z > _HAIR_Z)).astype(np.uint8), cv2.MORPH_OPEN,
                            _disk(radius)) > 0
    head = np.zeros((h, w), bool)
    head[:max(2, h // 100)] = True   # the head is cut off at the top
    if present[0]:
        head |= height > float((neck - keypoints[0]) @ down) / sw + _SCALP
    hair = connected(hair, head)
    labels, count = ndimage.label(hair)   # drop specks (shadows under the chin)
    sizes = ndimage.sum(hair, labels, np.arange(1, count + 1))
    hair = np.isin(labels, 1 + np.flatnonzero(sizes >= (_MIN_HAIR * sw) ** 2))
    shrink = np.ones((3, 3), np.uint8)
    return cv2.erode(skin.astype(np.uint8), shrink) > 0, cv2.erode(hair.astype(np.uint8),
                                                                   shrink) > 0


def parse_from_keypoints(image, keypoints, person_prob):
    """The model parse from a photo, its keypoints and a person probability (no models).

    Args:
        image: uint8 [H, W, 3] RGB.
        keypoints: float [18, 2] OpenPose joints (row, col) pixels, (-1, -1) missing; both
            shoulders are required, arms without an elbow only get the shoulder cut.
        person_prob: float [H, W] in [0, 1] (or bool), the person's probability.

    Returns:
        uint8 [H, W] with values in {0, 16, 32, 64, 255} (module docstring).

    Raises:
        ValueError: a shoulder is missing, or shapes disagree.
    """
    image = np.ascontiguousarray(image, np.uint8)
    prob = np.asarray(person_prob, np.float32)
    keypoints = np.asarray(keypoints, np.float64)
    if image.ndim != 3 or image.shape[2] != 3 or prob.shape != image.shape[:2]:
        raise ValueError(f"image must be [H, W, 3] and person_prob [H, W]; got "
                         f"{image.shape} and {prob.shape}")
    if keypoints.shape != (18, 2):
        raise ValueError(f"keypoints must be [18, 2] (row, col), got {keypoints.shape}")
    foreground = prob > _FOREGROUND
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    trunk, arms = _line_seeds(prob.shape, keypoints)
    skin, hair = _colour_seeds(lab, keypoints, foreground)
    markers = np.zeros(prob.shape, np.int32)
    markers[(trunk > 0) & foreground] = 4
    markers[(arms > 0) & foreground] = arms[(arms > 0) & foreground]
    markers[skin & (markers == 0)] = 4
    markers[hair & (markers != 2) & (markers != 3)] = 5
    sure_bg = prob < _SURE_BACKGROUND
    markers[sure_bg] = 1
    if sure_bg.sum() >= 10:
        like_bg = (colour_zscore(lab, sure_bg) < _BACKGROUND_Z) & (prob < _BACKGROUND_LIKE_MAX)
        like_bg = cv2.morphologyEx(like_bg.astype(np.uint8), cv2.MORPH_OPEN,
                                   np.ones((3, 3), np.uint8)) > 0
        markers[like_bg & (markers == 0)] = 1
    smooth = cv2.GaussianBlur(image, (0, 0), _BLUR_SIGMA)
    regions = cv2.watershed(smooth, markers)
    edges = regions < 0
    regions[edges] = 0
    regions[edges] = cv2.dilate(regions.astype(np.uint8), np.ones((3, 3), np.uint8))[edges]
    parse = np.zeros(prob.shape, np.uint8)
    for marker, value in _MARKER_LABELS.items():
        parse[regions == marker] = value
    return parse


def parse_keypoints(pose_result, image_shape):
    """The keypoints the parse rules use from a BlazePose result: float32 [18, 2] (row,
    col), joints of visibility >= 0.2 also outside the image, and the neck and shoulders
    however unsure (the rules need both shoulders)."""
    keypoints, _ = to_openpose(pose_result.landmarks, pose_result.visibility, image_shape,
                               PARSE_MIN_VISIBILITY, inside_only=False)
    anyway, _ = to_openpose(pose_result.landmarks, pose_result.visibility, image_shape, 0.0,
                            inside_only=False)
    keypoints[[1, 2, 5]] = anyway[[1, 2, 5]]
    return keypoints


def person_probability(pose_result, selfie_prob):
    """Person probability used by :func:`model_parse`: the mean of BlazePose's
    segmentation (``pose_result.segmentation``) and the selfie model's, float32 [H, W] in
    [0, 1]."""
    return ((pose_result.segmentation + np.asarray(selfie_prob, np.float32)) / 2).astype(
        np.float32)


def model_parse(image, keypoints=None, mask=None, pose_model=None, selfie_model=None,
                model_dir=None, fetch=True):
    """DGP's model parse of a photo.

    Args:
        image: file path or uint8 [H, W, 3] RGB.
        keypoints: optional float [18, 2] OpenPose joints (row, col), (-1, -1) missing;
            None runs BlazePose.
        mask: optional person mask, float [H, W] in [0, 1] or bool; None runs BlazePose
            and the selfie segmentation.
        pose_model: a :class:`tfposegen.pose.blazepose.BlazePose` to reuse (built from
            ``model_dir`` / ``fetch`` when needed and None).
        selfie_model: a :class:`tfposegen.pose.segmentation.SelfieSegmentation` to reuse.
        model_dir, fetch: where the BlazePose files are (see
            :func:`tfposegen.pose.model_files.model_paths`).

    Returns:
        uint8 [H, W] with values in {0, 16, 32, 64, 255}, same size as the image.

    Raises:
        PoseInputError / NoPersonError: unusable image or nobody in it.
        ModelFilesError: model files needed and unavailable.
        ValueError: keypoints without both shoulders.
    """
    image, name = blazepose.load_image(image)
    if keypoints is None or mask is None:
        pose_model = pose_model or blazepose.BlazePose(model_dir, fetch)
        result = pose_model(image, name=name)
        if keypoints is None:
            keypoints = parse_keypoints(result, image.shape)
        if mask is None:
            selfie_model = selfie_model or segmentation.SelfieSegmentation(model_dir, fetch)
            mask = person_probability(result, selfie_model(image))
    return parse_from_keypoints(image, keypoints, np.asarray(mask, np.float32))


def parse_iou(parse, reference, labels=tuple(MODEL_LABELS)):
    """Per-label intersection over union of two label maps.

    Args:
        parse: uint8 [H, W] label map; resized (nearest neighbour) to the reference's size
            when the sizes differ.
        reference: uint8 [H2, W2] label map.
        labels: label values to score.

    Returns:
        dict label -> IoU in [0, 1], NaN when the label is in neither map.
    """
    parse, reference = np.asarray(parse), np.asarray(reference)
    if parse.shape != reference.shape:
        parse = cv2.resize(parse, reference.shape[::-1], interpolation=cv2.INTER_NEAREST)
    scores = {}
    for value in labels:
        a, b = parse == value, reference == value
        union = int((a | b).sum())
        scores[value] = float((a & b).sum() / union) if union else float("nan")
    return scores
