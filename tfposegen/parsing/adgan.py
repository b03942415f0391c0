"""ADGAN's 8-class parse of a photo (``semantic_merge3`` of menyifang/ADGAN: background,
pants, hair, skirt, face, upper clothes, arm, leg; :data:`tfposegen.parsing.labels.
ADGAN_LABELS`) from BlazePose keypoints and person masks, without a human-parsing network.

The original's parse maps came from a LIP-trained parser merged to 8 classes; its web
service (sgoldyaev/DeepFashion.ADGAN) used Mask R-CNN person masks as one class. Here the
regions come from DGP's model parse (:func:`tfposegen.parsing.model.parse_from_keypoints`:
arms, trunk and hair grown by a watershed from keypoint and colour seeds) split by the body's
geometry and by skin colour (lengths are fractions of the shoulder width ``sw``):

* hair, and the person more than 0.2 ``sw`` above the shoulder line (the head) -> face
  where skin-coloured, else hair; trunk between there and the shoulder line (the neck) -> face
  where skin-coloured, else upper clothes (a collar);
* trunk down to the hip line (the hips' mean depth along the body axis, or 1.6 ``sw`` below
  the shoulders without hips) -> upper clothes;
* trunk below the hip line -> leg where it is skin-coloured, else pants;
* arms -> arm where skin-coloured, else upper clothes (sleeves).

Skin colour is a robust Lab model (:func:`tfposegen.parsing.model.colour_zscore`) of the
person's pixels around the nose, or, without a nose, of the neck, or, with the head cut
off, of the arm pixels beyond the wrists (hands); without any nothing is called skin. Skirts are
never predicted (a rule cannot tell them from trousers).

Coordinates are (row, col) pixels; keypoints are 18 OpenPose joints, (-1, -1) missing.
"""

import cv2
import numpy as np

from tfposegen.parsing import labels as L
from tfposegen.parsing.model import body_frame, colour_zscore, parse_from_keypoints

PANTS, HAIR, SKIRT, FACE, UPPER, ARM, LEG = range(1, 8)
_HIPS_DEFAULT = 1.6   # hip line below the shoulders without hips, fraction of sw
_SKIN_Z = 2.5         # robust Lab distance below which a pixel is skin
_NOSE_RADIUS = 0.15   # skin sample around the nose, fraction of sw
_NECK_ZONE = 0.2      # above the shoulder line by more than this (fraction of sw): the head
_HAND_BEYOND = 0.1    # hand samples: arm pixels this far (fraction of sw) past the wrist
_MIN_SAMPLE = 20


def _skin_sample(parse, keypoints, depth, frame):
    """bool [H, W] pixels whose colour defines skin: around the nose, else the neck, else
    the hands."""
    _, _, _, sw, present = frame
    person = parse != L.BACKGROUND
    rows, cols = np.mgrid[:parse.shape[0], :parse.shape[1]]
    if present[0]:
        nose = ((rows - keypoints[0][0]) ** 2 + (cols - keypoints[0][1]) ** 2
                < (_NOSE_RADIUS * sw) ** 2) & person
        if nose.sum() >= _MIN_SAMPLE:
            return nose
    neck = (parse == L.TRUNK) & (depth < 0) & (depth > -_NECK_ZONE)
    if neck.sum() >= _MIN_SAMPLE:
        return neck
    hands = np.zeros(parse.shape, bool)
    for elbow, wrist in ((3, 4), (6, 7)):
        if present[elbow] and present[wrist]:
            axis = keypoints[wrist] - keypoints[elbow]
            axis = axis / max(np.linalg.norm(axis), 1e-6)
            along = (rows - keypoints[wrist][0]) * axis[0] + (cols - keypoints[wrist][1]) * axis[1]
            hands |= along > _HAND_BEYOND * sw
    return hands & ((parse == L.ARM_LEFT) | (parse == L.ARM_RIGHT))


def adgan_from_model_parse(image, parse, keypoints, person_prob):
    """Split DGP's model parse into ADGAN's 8 classes (module docstring).

    Args:
        image: uint8 [H, W, 3] RGB.
        parse: uint8 [H, W] model parse (values 0, 16, 32, 64, 255).
        keypoints: float [18, 2] OpenPose joints (row, col), both shoulders present.
        person_prob: float [H, W] in [0, 1] or bool; the head is the person (> 0.5) above
            the neck, also where the watershed gave it to the background.

    Returns:
        uint8 [H, W] ADGAN labels in {0, 1, 2, 4, 5, 6, 7}.
    """
    image = np.ascontiguousarray(image, np.uint8)
    parse = np.asarray(parse)
    keypoints = np.asarray(keypoints, np.float64)
    frame = body_frame(keypoints)
    neck, _, down, sw, present = frame
    h, w = parse.shape
    rows, cols = np.mgrid[:h, :w]
    depth = ((rows - neck[0]) * down[0] + (cols - neck[1]) * down[1]) / sw  # > 0 below
    hips = [float((keypoints[k] - neck) @ down) / sw for k in (8, 11) if present[k]]
    hip_line = np.mean(hips) if hips else _HIPS_DEFAULT
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    sample = _skin_sample(parse, keypoints, depth, frame)
    if sample.sum() >= _MIN_SAMPLE:
        skin = colour_zscore(lab, sample) < _SKIN_Z
        skin = cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN,
                                np.ones((3, 3), np.uint8)) > 0
    else:
        skin = np.zeros((h, w), bool)
    person = (parse != L.BACKGROUND) | (np.asarray(person_prob, np.float32) > 0.5)
    trunk = parse == L.TRUNK
    arms = (parse == L.ARM_LEFT) | (parse == L.ARM_RIGHT)
    head = person & (depth < -_NECK_ZONE)
    neck_zone = trunk & (depth >= -_NECK_ZONE) & (depth <= 0)
    legs = trunk & (depth > hip_line)
    out = np.zeros((h, w), np.uint8)
    out[trunk & (depth > 0) & (depth <= hip_line)] = UPPER
    out[neck_zone] = UPPER
    out[neck_zone & skin] = FACE
    out[legs] = PANTS
    out[legs & skin] = LEG
    out[arms] = UPPER
    out[arms & skin] = ARM
    hair = head | (parse == L.HAIR)
    out[hair] = HAIR
    out[hair & skin] = FACE
    return out


def adgan_parse(image, keypoints, person_prob):
    """ADGAN's 8-class parse of a photo from its keypoints and person probability (no
    models; module docstring).

    Args:
        image: uint8 [H, W, 3] RGB.
        keypoints: float [18, 2] OpenPose joints (row, col), (-1, -1) missing, both
            shoulders present (:func:`tfposegen.parsing.model.parse_keypoints` makes them
            from a BlazePose result).
        person_prob: float [H, W] in [0, 1] or bool
            (:func:`tfposegen.parsing.model.person_probability`).

    Returns:
        uint8 [H, W] ADGAN labels 0..7 (skirt 3 never occurs).

    Raises:
        ValueError: a shoulder is missing, or shapes disagree.
    """
    parse = parse_from_keypoints(image, keypoints, person_prob)
    return adgan_from_model_parse(image, parse, keypoints, person_prob)


def class_iou(parse, reference, classes=range(8)):
    """Per-class IoU of two ADGAN label maps of the same size: {class: IoU}, NaN where
    the class is in neither."""
    parse, reference = np.asarray(parse), np.asarray(reference)
    out = {}
    for c in classes:
        a, b = parse == c, reference == c
        union = (a | b).sum()
        out[c] = float((a & b).sum() / union) if union else float("nan")
    return out
