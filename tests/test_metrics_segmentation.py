"""PAINT's scores: LGN's per-image mIoU / pixel accuracy (tfposegen.metrics.segmentation, as
LGN/miou.py + LGN/test.py compute them) against independent numpy formulas, and TSN / AFN
eval.py's relative-L1 "MAE", PSNR and 51 x 51 uniform-window SSIM
(tfposegen.metrics.image.paint_image_scores)."""

import numpy as np
import pytest

import tfposegen.metrics as metrics
from tfposegen.metrics import image as I
from tfposegen.metrics import segmentation as S


def test_the_originals_own_example():
    # the __main__ block of LGN/miou.py: 3 classes, 255 ignored, printed results
    pred = np.array([[0, 1, 2], [2, 1, 1]])
    label = np.array([[0, 1, 255], [1, 1, 2]])
    m = S.confusion_matrix(pred, label, 3, [255])
    assert m.tolist() == [[1, 0, 0], [0, 2, 1], [0, 1, 0]]
    assert S.pixel_accuracy(m) == pytest.approx(0.6)
    np.testing.assert_allclose(S.class_pixel_accuracy(m), [1, 2 / 3, 0])
    assert S.mean_pixel_accuracy(m) == pytest.approx(0.555556, abs=1e-6)
    np.testing.assert_allclose(S.class_iou(m), [1, 0.5, 0])
    assert S.mean_iou(m) == pytest.approx(0.5)


def _independent_miou(pred, label, classes, ignore=(255,)):
    keep = (label >= 0) & (label < classes) & ~np.isin(label, ignore)
    p, g = pred[keep], label[keep]
    ious = []
    for c in range(classes):
        union = np.sum((p == c) | (g == c))
        if union:                       # a class in neither map is not averaged
            ious.append(np.sum((p == c) & (g == c)) / union)
    return np.mean(ious), np.mean(p == g)


def test_miou_and_pixel_accuracy_match_an_independent_formula():
    rng = np.random.default_rng(0)
    for _ in range(25):
        classes = int(rng.integers(2, 21))
        shape = tuple(rng.integers(1, 12, 2))
        label = rng.integers(0, classes, shape)
        label[rng.random(shape) < 0.1] = 255
        pred = np.where(rng.random(shape) < 0.6, label % classes,
                        rng.integers(0, classes, shape))
        if not np.any(label != 255):
            continue
        miou, acc = _independent_miou(pred, label, classes)
        scores = S.image_scores(pred, label, classes)
        assert scores["miou"] == pytest.approx(miou, abs=1e-12)
        assert scores["pixel_accuracy"] == pytest.approx(acc, abs=1e-12)


def test_absent_classes_are_dropped_and_labels_out_of_range_ignored():
    label = np.zeros((4, 4), int)
    label[:2] = 7
    # perfect on the two present classes: 1.0, not 2 / 20
    assert S.image_scores(label, label)["miou"] == 1.0
    pred = label.copy()
    pred[0, 0] = 3                      # class 3 only in the prediction: IoU 0 and it counts
    assert S.image_scores(pred, label)["miou"] == pytest.approx((1 + 7 / 8 + 0) / 3)
    odd = label.copy()
    odd[3] = 20                         # >= C: not counted, like 255
    m = S.confusion_matrix(label, odd)
    assert m.sum() == 12 and S.mean_iou(m) == 1.0
    assert np.isnan(S.mean_iou(np.zeros((20, 20), int)))
    with pytest.raises(ValueError, match="0..19"):
        S.confusion_matrix(np.full((2, 2), 20), np.zeros((2, 2), int))


def test_test_set_mean_is_a_sum_of_per_image_scores_over_a_divisor():
    rng = np.random.default_rng(1)
    label = rng.integers(0, 20, (3, 8, 8))
    pred = np.where(rng.random((3, 8, 8)) < 0.5, label, rng.integers(0, 20, (3, 8, 8)))
    per_image = [_independent_miou(p, g, 20)[0] for p, g in zip(pred, label)]
    assert S.lgn_miou(pred, label) == pytest.approx(np.mean(per_image), abs=1e-12)
    assert S.lgn_miou(pred, label, divisor=1999) == pytest.approx(sum(per_image) / 1999)
    acc = S.PerImageScores()
    for p, g in zip(pred, label):       # batch-1 accumulation as LGN/test.py
        acc.add(p, g)
    assert acc.count == 3 and acc.mean_iou() == pytest.approx(np.mean(per_image))
    assert acc.pixel_accuracy() == pytest.approx(np.mean(pred == label))
    # not the mIoU of one confusion matrix pooled over the test set
    pooled = S.mean_iou(S.confusion_matrix(pred, label))
    assert abs(pooled - acc.mean_iou()) > 1e-3
    with pytest.raises(ValueError, match="no image"):
        S.PerImageScores().mean_iou()


def test_labels_of_is_the_argmax_of_scores_and_one_hots():
    probs = np.zeros((2, 3, 20))
    probs[0, 0, 4] = 1
    probs[0, 1, [2, 5]] = 0.5           # a tie: the first index
    probs[1, 2, 19] = 0.9
    labels = S.labels_of(probs)
    assert labels.dtype == np.int64 and labels.tolist() == [[4, 2, 0], [0, 0, 19]]


def _brute_ssim(a, b, win=51):
    """The SSIM map's mean over the pixels at least win // 2 from the border, each window
    taken directly (those windows lie inside the image: no padding involved)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    half, n = win // 2, win * win
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values = []
    for r in range(half, a.shape[0] - half):
        for c in range(half, a.shape[1] - half):
            x = a[r - half:r + half + 1, c - half:c + half + 1]
            y = b[r - half:r + half + 1, c - half:c + half + 1]
            mx, my = x.mean(), y.mean()
            vx, vy = x.var() * n / (n - 1), y.var() * n / (n - 1)
            cov = ((x - mx) * (y - my)).sum() / (n - 1)
            values.append((2 * mx * my + c1) * (2 * cov + c2)
                          / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
    return np.mean(values)


def test_paint_image_scores_match_eval_py_formulas():
    rng = np.random.default_rng(2)
    refs = [rng.integers(0, 256, (54, 55, 3)).astype(np.uint8) for _ in range(2)]
    tests = [np.clip(r.astype(int) + rng.integers(-30, 31, r.shape), 0, 255).astype(np.uint8)
             for r in refs]
    scores = I.paint_image_scores(refs, tests)
    mae = np.mean([np.abs(r.astype(float) - t).sum() / (r.astype(float) + t).sum()
                   for r, t in zip(refs, tests)])
    psnr = np.mean([10 * np.log10(255 ** 2 / np.mean((r.astype(float) - t) ** 2))
                    for r, t in zip(refs, tests)])
    ssim = np.mean([np.mean([_brute_ssim(r[..., c], t[..., c]) for c in range(3)])
                    for r, t in zip(refs, tests)])
    assert scores["mae"] == pytest.approx(mae, rel=1e-5)       # float32 in the original
    assert scores["psnr"] == pytest.approx(psnr, rel=1e-12)
    assert scores["ssim"] == pytest.approx(ssim, abs=1e-9)
    # the 7 x 7 default window gives another number
    default = I.ssim_multichannel(refs[0], tests[0], 255.0)
    assert abs(default - I.ssim_multichannel(refs[0], tests[0], 255.0, win_size=51)) > 1e-4
    same = I.paint_image_scores(refs[:1], refs[:1])
    assert same["mae"] == 0 and same["ssim"] == pytest.approx(1) and same["psnr"] == np.inf
    with pytest.raises(ValueError, match="equally many"):
        I.paint_image_scores(refs, tests[:1])


def test_relative_l1_is_not_the_mean_absolute_error():
    a = np.full((2, 2, 3), 100, np.uint8)
    b = np.full((2, 2, 3), 50, np.uint8)
    assert I.relative_l1(a, b) == pytest.approx(50 / 150)
    assert I.l1_mean(a, b) == 50


def test_exported_from_the_metrics_package():
    for name in ("lgn_miou", "PerImageScores", "confusion_matrix", "mean_iou",
                 "pixel_accuracy", "relative_l1", "paint_image_scores", "labels_of"):
        assert getattr(metrics, name) is not None and name in metrics.__all__
