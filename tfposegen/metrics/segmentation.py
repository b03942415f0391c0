"""Segmentation scores as PAINT's LGN test computes them (``LGN/miou.py``, the
``SegmentationMetric`` class of jfzhang95/pytorch-deeplab-xception as forked in
gxl-groups/PAINT, called from ``LGN/test.py``).

The rules, all from that code:

- confusion matrix: rows the ground truth, columns the prediction,
  ``bincount(C * label + prediction)``; pixels whose label is outside ``0..C-1`` or in
  ``ignore_labels`` (``[255]`` in LGN/test.py) do not count;
- class IoU ``diag / (row sum + column sum - diag)``; a class absent from both the label and
  the prediction gives 0 / 0 = NaN and is **dropped** from the mean (the original's filter
  ``IoU[IoU < inf]`` is false for NaN), so an image's mIoU averages the classes present in
  its label or its prediction;
- pixel accuracy ``trace / total``; class pixel accuracy ``diag / row sum`` (NaN for a class
  absent from the label, dropped from the mean pixel accuracy likewise);
- over a test set LGN/test.py builds a fresh matrix per image (batch 1) and **sums the
  per-image mIoU**, then divides by the constant 1999 (its ``--num_test`` default) whatever
  the number of images tested: :class:`PerImageScores` keeps the sum and the count, and
  :meth:`PerImageScores.mean_iou` divides by the count or by a given divisor (1999 for the
  released number).

The original keeps the matrix in float32 torch tensors and divides in float32; here counts
are int64 and ratios float64 (the two differ by float32 rounding, below 1e-6).

In LGN/test.py both maps are argmaxes over 20 channels (``fake_B.max(1)[1]``,
``real_B.max(1)[1]``): a label pixel outside 0..19 in the parsing PNG has an all-zero one-hot
and so becomes class 0 there, never 255; :func:`labels_of` gives those argmaxes.
"""

import numpy as np

PAINT_CLASSES = 20
PAINT_IGNORE = (255,)


def labels_of(scores):
    """int64 [..., H, W] argmax over the last axis of [..., H, W, C] scores / one-hot maps
    (the first maximum on ties), as LGN/test.py's ``x.max(1)[1]`` on NCHW tensors."""
    return np.argmax(np.asarray(scores), axis=-1).astype(np.int64)


def confusion_matrix(prediction, label, num_classes=PAINT_CLASSES, ignore_labels=PAINT_IGNORE):
    """The confusion matrix of one or more label maps (``genConfusionMatrix``, LGN/miou.py
    in gxl-groups/PAINT).

    Args:
        prediction: int [..., H, W] predicted classes 0..C-1.
        label: int, same shape: the ground truth; pixels outside 0..C-1 or in
            ``ignore_labels`` are not counted.
        num_classes: C (20 for PAINT's layouts).
        ignore_labels: label values to skip (``[255]`` in LGN/test.py).

    Returns:
        int64 [C, C]: entry [i, j] counts pixels of label i predicted as j.

    Raises:
        ValueError: shapes differ, or a counted pixel's prediction is outside 0..C-1 (the
            original would index the wrong cell or fail).
    """
    prediction, label = np.asarray(prediction), np.asarray(label)
    if prediction.shape != label.shape:
        raise ValueError(f"prediction {prediction.shape} and label {label.shape} differ")
    keep = (label >= 0) & (label < num_classes)
    for ignored in ignore_labels:
        keep &= label != ignored
    pred = prediction[keep].astype(np.int64)
    if pred.size and (pred.min() < 0 or pred.max() >= num_classes):
        raise ValueError(f"predicted classes must be 0..{num_classes - 1}, got "
                         f"{pred.min()}..{pred.max()}")
    index = num_classes * label[keep].astype(np.int64) + pred
    return np.bincount(index, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def class_iou(confusion):
    """float64 [C] IoU per class of a confusion matrix (``IntersectionOverUnion``): diag /
    (row sum + column sum - diag); NaN for a class in neither the label nor the
    prediction."""
    m = np.asarray(confusion, np.float64)
    diag = np.diag(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return diag / (m.sum(axis=1) + m.sum(axis=0) - diag)


def mean_iou(confusion):
    """float mIoU of a confusion matrix (``meanIntersectionOverUnion``): the mean of
    :func:`class_iou` over the classes that are not NaN (present in the label or the
    prediction); NaN when no pixel counted."""
    iou = class_iou(confusion)
    iou = iou[iou < np.inf]
    return float(iou.mean()) if iou.size else float("nan")


def pixel_accuracy(confusion):
    """float in [0, 1]: correctly labelled pixels / counted pixels (``pixelAccuracy``); NaN
    when no pixel counted."""
    m = np.asarray(confusion, np.float64)
    total = m.sum()
    return float(np.trace(m) / total) if total else float("nan")


def class_pixel_accuracy(confusion):
    """float64 [C]: diag / row sum, per label class (``classPixelAccuracy``); NaN for a
    class absent from the label."""
    m = np.asarray(confusion, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(m) / m.sum(axis=1)


def mean_pixel_accuracy(confusion):
    """float: mean of :func:`class_pixel_accuracy` over the classes present in the label
    (``meanPixelAccuracy``); NaN when no pixel counted."""
    acc = class_pixel_accuracy(confusion)
    acc = acc[acc < np.inf]
    return float(acc.mean()) if acc.size else float("nan")


def image_scores(prediction, label, num_classes=PAINT_CLASSES, ignore_labels=PAINT_IGNORE):
    """One image's scores as LGN/test.py computes them (a fresh ``SegmentationMetric(20)``
    per test image): dict of floats ``miou``, ``pixel_accuracy``, ``mean_pixel_accuracy``.

    Args:
        prediction, label: int [H, W] class maps (:func:`labels_of` of LGN's softmax and of
            the one-hot ground truth).
        num_classes, ignore_labels: see :func:`confusion_matrix`.
    """
    m = confusion_matrix(prediction, label, num_classes, ignore_labels)
    return dict(miou=mean_iou(m), pixel_accuracy=pixel_accuracy(m),
                mean_pixel_accuracy=mean_pixel_accuracy(m))


class PerImageScores:
    """Per-image scores summed over a test set as LGN/test.py accumulates its mIoU (``sum =
    sum + metric.meanIntersectionOverUnion()`` per image, then ``sum / 1999``).

    ``add(prediction, label)`` takes one map [H, W] or a batch [B, H, W] (each image scored
    on its own); ``mean_iou(divisor=None)`` is the sum divided by the number of images
    added, or by ``divisor`` (1999 reproduces the released script whatever the number of
    images); ``pixel_accuracy`` and ``mean_pixel_accuracy`` likewise (the original computes
    them but prints neither). An image whose mIoU is NaN (no counted pixel) adds NaN, as
    the original's sum would.
    """

    def __init__(self, num_classes=PAINT_CLASSES, ignore_labels=PAINT_IGNORE):
        self.num_classes, self.ignore_labels = num_classes, tuple(ignore_labels)
        self.sums = dict(miou=0.0, pixel_accuracy=0.0, mean_pixel_accuracy=0.0)
        self.count = 0

    def add(self, prediction, label):
        """Score int [H, W] or [B, H, W] maps image by image; returns the last image's
        dict (:func:`image_scores`)."""
        prediction, label = np.asarray(prediction), np.asarray(label)
        if prediction.shape != label.shape or prediction.ndim not in (2, 3):
            raise ValueError(f"expected two [H, W] or [B, H, W] maps of one shape, got "
                             f"{prediction.shape} and {label.shape}")
        if prediction.ndim == 2:
            prediction, label = prediction[None], label[None]
        scores = None
        for p, g in zip(prediction, label):
            scores = image_scores(p, g, self.num_classes, self.ignore_labels)
            for key, value in scores.items():
                self.sums[key] += value
            self.count += 1
        return scores

    def _mean(self, key, divisor):
        n = self.count if divisor is None else divisor
        if not n:
            raise ValueError("no image scored yet")
        return self.sums[key] / n

    def mean_iou(self, divisor=None):
        """float: summed per-image mIoU / (images added, or ``divisor``)."""
        return self._mean("miou", divisor)

    def pixel_accuracy(self, divisor=None):
        """float: summed per-image pixel accuracy / (images added, or ``divisor``)."""
        return self._mean("pixel_accuracy", divisor)

    def mean_pixel_accuracy(self, divisor=None):
        """float: summed per-image mean class accuracy / (images added, or ``divisor``)."""
        return self._mean("mean_pixel_accuracy", divisor)


def lgn_miou(predictions, labels, divisor=None, num_classes=PAINT_CLASSES,
             ignore_labels=PAINT_IGNORE):
    """LGN's test-set mIoU (LGN/test.py with LGN/miou.py in gxl-groups/PAINT): per-image
    mIoU (classes present in the label or the prediction) summed and divided by the number
    of images, or by ``divisor`` (1999 = the released script's constant).

    Args:
        predictions, labels: int [B, H, W] class maps (:func:`labels_of`).
        divisor: None (the mean) or the number to divide the sum by.

    Returns:
        float in [0, 1].
    """
    acc = PerImageScores(num_classes, ignore_labels)
    acc.add(predictions, labels)
    return acc.mean_iou(divisor)


__all__ = ["PAINT_CLASSES", "PAINT_IGNORE", "PerImageScores", "class_iou",
           "class_pixel_accuracy", "confusion_matrix", "image_scores", "labels_of", "lgn_miou",
           "mean_iou", "mean_pixel_accuracy", "pixel_accuracy"]
