"""ADGAN's 8-class parse from keypoints and a person mask (tfposegen.parsing.adgan) on
synthetic persons, whose drawn parts are the ground truth."""

import numpy as np
import pytest

from tfposegen.data.synthetic_persons import make_person
from tfposegen.parsing.adgan import ARM, FACE, HAIR, PANTS, UPPER, adgan_parse, class_iou

SEEDS = range(12)


@pytest.fixture(scope="module")
def scores():
    """Per-person IoU with the true keypoints and silhouette, and whether the face shows."""
    out = []
    for seed in SEEDS:
        image, kp, labels = make_person(seed, seed + 100, 256, 176, with_parse=True)
        parse = adgan_parse(image, kp.astype(np.float64), labels > 0)
        assert parse.dtype == np.uint8 and parse.shape == labels.shape
        assert set(np.unique(parse)) <= {0, 1, 2, 4, 5, 6, 7}
        out.append((class_iou(parse, labels), kp[0, 0] >= 0))
    return out


def test_every_class_is_found_where_the_rules_can_see_it(scores):
    def mean(c, front_only=False):
        return np.nanmean([s[c] for s, front in scores if front or not front_only])

    # measured: background 0.999, pants 0.991, hair 0.991, face 1.000, upper 0.931,
    # arms on persons facing the camera 0.955
    assert mean(0) > 0.99 and mean(PANTS) > 0.97 and mean(HAIR) > 0.95
    assert mean(FACE) > 0.98 and mean(UPPER) > 0.88
    assert mean(ARM, front_only=True) > 0.9


def test_back_views_have_no_face_and_no_skin_model(scores):
    # without a nose, a neck or hands there is no skin sample: the arms stay upper clothes
    backs = [s for s, front in scores if not front]
    assert backs, "the seeds should include back views"
    for s in backs:
        assert np.isnan(s[FACE]) and s[ARM] == 0.0


def test_class_iou_closed_form():
    a = np.array([[0, 1], [1, 2]])
    b = np.array([[0, 1], [2, 2]])
    iou = class_iou(a, b, classes=(0, 1, 2, 3))
    assert iou[0] == 1.0 and iou[1] == 0.5 and iou[2] == 0.5 and np.isnan(iou[3])


def test_missing_shoulder_is_a_clear_error():
    image, kp, labels = make_person(0, 100, 128, 88, with_parse=True)
    kp = kp.astype(np.float64)
    kp[5] = -1
    with pytest.raises(ValueError, match="both shoulders"):
        adgan_parse(image, kp, labels > 0)
