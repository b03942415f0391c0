"""Frechet Inception Distance (FID) and Inception Score (IS) from network outputs.

FID follows ``calculate_frechet_distance`` in ``src/pytorch_fid/fid_score.py`` in
mseitzer/pytorch-fid, which is line for line the one in ``fid.py`` in bioinf-jku/TTUR:

* statistics: ``mu = mean(features, axis=0)``, ``sigma = np.cov(features, rowvar=False)``
  (unbiased, ``N - 1``), in float64;
* ``d^2 = ||mu1 - mu2||^2 + tr(sigma1) + tr(sigma2) - 2 tr(sqrtm(sigma1 @ sigma2))`` with
  ``scipy.linalg.sqrtm(..., disp=False)`` (SciPy >= 1.16 deprecates ``disp``: there the same
  square root is taken without it);
* if that square root has a non-finite entry (a singular product), it is computed again from
  ``(sigma1 + eps I) @ (sigma2 + eps I)`` (``eps = 1e-6``; the originals print / warn);
* a complex result whose diagonal has an imaginary part above ``1e-3`` (``np.allclose`` with
  ``atol=1e-3``) is an error; otherwise the real part is used.

Features: ``InceptionFeatures`` runs ``keras.applications.InceptionV3`` (no top, global
average pooling: the 2048-d ``pool3`` vector) from a Keras weights file, feeding images as
pytorch-fid does (bilinear resize to 299 x 299 without antialiasing, values in [-1, 1]).
Published FID numbers use instead the 2015 TensorFlow graph (TTUR) or its PyTorch copy,
pytorch-fid's ``pt_inception-2015-12-05`` weights in its ``FIDInceptionA/C/E_1/E_2`` blocks
(``src/pytorch_fid/inception.py``): other weights (1008 classes), average pools that skip the
padding (as Keras' already do) and a max pool in the last block's pool branch. That network is
not built here: FIDs from Keras-application weights are comparable only with FIDs from the
same weights, not with published numbers.

Inception Score from class probabilities follows ``inception_score/model.py`` in
openai/improved-gan.
"""

import os
import warnings

import numpy as np
import scipy
from scipy import linalg

INCEPTION_SIZE = 299
POOL3_DIMS = 2048


class MetricInputError(ValueError):
    """Features, statistics, images or probabilities of the wrong shape or range."""


def _sqrtm(matrix):
    """``scipy.linalg.sqrtm`` without its error printout: ``disp=False`` before SciPy 1.16."""
    major, minor = (int(v) for v in scipy.__version__.split(".")[:2])
    if (major, minor) >= (1, 16):
        return linalg.sqrtm(matrix)
    return linalg.sqrtm(matrix, disp=False)[0]


def feature_statistics(features):
    """Mean and covariance of a feature set, as pytorch-fid's ``calculate_activation_statistics``.

    Args:
        features: float array [N, D], N >= 2.

    Returns:
        (mu float64 [D], sigma float64 [D, D]) with ``np.cov(features, rowvar=False)``.
    """
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise MetricInputError(f"features: expected [N >= 2, D], got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Frechet distance of two Gaussians, as ``calculate_frechet_distance`` in
    mseitzer/pytorch-fid (``fid_score.py``) and bioinf-jku/TTUR (``fid.py``).

    Args:
        mu1, mu2: means [D].
        sigma1, sigma2: covariances [D, D].
        eps: diagonal offset added to both covariances when ``sqrtm(sigma1 @ sigma2)`` is not
            finite.

    Returns:
        float (float64 arithmetic); 0 for equal statistics up to rounding.

    Raises:
        MetricInputError: shapes differ, or the square root keeps an imaginary diagonal part
            above 1e-3.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or mu1.ndim != 1:
        raise MetricInputError(f"mu1, mu2: expected equal [D] shapes, got {mu1.shape}, {mu2.shape}")
    dims = mu1.shape[0]
    if sigma1.shape != (dims, dims) or sigma2.shape != (dims, dims):
        raise MetricInputError(f"sigma1, sigma2: expected [{dims}, {dims}], got {sigma1.shape}, "
                               f"{sigma2.shape}")
    diff = mu1 - mu2
    covmean = _sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        warnings.warn(f"frechet_distance: singular product; adding {eps} to the diagonal of the "
                      "covariances", RuntimeWarning, stacklevel=2)
        offset = np.eye(dims) * eps
        covmean = _sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise MetricInputError("frechet_distance: imaginary component "
                                   f"{np.max(np.abs(covmean.imag))} in sqrtm(sigma1 @ sigma2)")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid_from_features(features_a, features_b):
    """FID of two feature sets [N_a, D] and [N_b, D] (see ``frechet_distance``)."""
    mu_a, sigma_a = feature_statistics(features_a)
    mu_b, sigma_b = feature_statistics(features_b)
    return frechet_distance(mu_a, sigma_a, mu_b, sigma_b)


def iterate_batches(images, batch_size):
    """Yield NHWC numpy batches from an array or from an iterable of batches.

    Args:
        images: numpy array [N, H, W, C] (sliced into ``batch_size`` pieces, the last one
            smaller), or an iterable (e.g. a batched ``tf.data.Dataset``) whose elements are
            [B, H, W, C] arrays / tensors, used as they come.
        batch_size: positive int, used for arrays only.
    """
    if batch_size < 1:
        raise MetricInputError(f"batch_size: expected >= 1, got {batch_size}")
    if isinstance(images, np.ndarray):
        for start in range(0, images.shape[0], batch_size):
            yield images[start:start + batch_size]
        return
    for batch in images:
        yield np.asarray(batch)


def extract_features(images, extractor, batch_size=50):
    """Run ``extractor`` over ``images`` batch by batch (no progress output).

    Args:
        images: see ``iterate_batches``.
        extractor: callable [B, H, W, C] -> [B, D] (e.g. ``InceptionFeatures``).
        batch_size: batch size for array inputs.

    Returns:
        float64 [N, D].
    """
    feats = [np.asarray(extractor(batch), np.float64) for batch in iterate_batches(images,
                                                                                  batch_size)]
    if not feats:
        raise MetricInputError("images: no batches")
    return np.concatenate(feats, axis=0)


def fid(images_a, images_b, extractor, batch_size=50):
    """FID between two image sets through ``extractor`` (see ``extract_features``)."""
    return fid_from_features(extract_features(images_a, extractor, batch_size),
                             extract_features(images_b, extractor, batch_size))


def paint_fid(references, tests, extractor, batch_size=4):
    """FID as PAINT's ``eval.py`` computes it (gxl-groups/PAINT, TSN and AFN): features in
    batches of ``batch_size`` (4) with the last ``N mod 4`` images of each set DROPPED, then
    :func:`fid_from_features`. PAINT's features are torchvision's ImageNet InceptionV3 with
    its corner-aligned resize: ``TorchvisionInceptionFeatures(path, align_corners=True)``
    (:mod:`tfposegen.metrics.torchvision_inception`), fed uint8 images (divided by 255). Not
    comparable with the standard (TF-Inception) FID.

    Args:
        references, tests: uint8 [N, H, W, 3] arrays (``*_orig.png`` and the generated
            images), each with at least ``batch_size`` images.
        extractor: callable [B, H, W, 3] -> [B, D].
        batch_size: eval.py's 4.

    Returns:
        float.
    """
    sets = []
    for name, images in (("references", references), ("tests", tests)):
        images = np.asarray(images)
        used = images.shape[0] // batch_size * batch_size if images.ndim == 4 else 0
        if used < max(2, batch_size):
            raise MetricInputError(f"{name}: need [N, H, W, 3] with at least {batch_size} "
                                   f"images, got shape {images.shape}")
        sets.append(images[:used])
    return fid(*sets, extractor, batch_size)


def inception_inputs(images):
    """Images as pytorch-fid feeds them to Inception (``InceptionV3.forward`` in
    ``src/pytorch_fid/inception.py`` in mseitzer/pytorch-fid).

    Args:
        images: [B, H, W, 3], uint8 in [0, 255] or float in [-1, 1].

    Returns:
        float32 tensor [B, 299, 299, 3] in [-1, 1]: bilinear resize with half-pixel centres and
        no antialiasing (``F.interpolate(mode="bilinear", align_corners=False)``), skipped at
        299 x 299. pytorch-fid resizes [0, 1] values and then maps them to [-1, 1]; bilinear
        weights sum to 1, so the order does not matter.
    """
    import keras

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise MetricInputError(f"images: expected [B, H, W, 3], got shape {images.shape}")
    if images.dtype == np.uint8:
        x = images.astype(np.float32) / 127.5 - 1.0
    else:
        x = images.astype(np.float32)
        if x.size and (x.min() < -1.0 - 1e-3 or x.max() > 1.0 + 1e-3):
            raise MetricInputError("images: float images must be in [-1, 1], got "
                                   f"[{x.min()}, {x.max()}]")
    if x.shape[1:3] == (INCEPTION_SIZE, INCEPTION_SIZE):
        return keras.ops.convert_to_tensor(x)
    return keras.ops.image.resize(x, (INCEPTION_SIZE, INCEPTION_SIZE), interpolation="bilinear",
                                  antialias=False)


class InceptionFeatures:
    """2048-d ``pool3`` features of a Keras InceptionV3 loaded from a weights file.

    The model is ``keras.applications.InceptionV3(include_top=False, pooling="avg",
    weights=weights_path)``; weights ImageNet-trained by Keras give FIDs comparable only with
    other FIDs from the same weights (see module docstring). Images are fed as pytorch-fid
    feeds them (``inception_inputs``).

    Args:
        weights_path: Keras weights file of that no-top model (``.weights.h5`` or Keras' own
            ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``).

    Call with images [B, H, W, 3]: uint8 in [0, 255], or float in [-1, 1]. Returns float32
    numpy [B, 2048].
    """

    def __init__(self, weights_path):
        import keras

        if not os.path.isfile(weights_path):
            raise MetricInputError(f"weights_path: no file {weights_path!r}")
        self.model = keras.applications.InceptionV3(include_top=False, pooling="avg",
                                                    weights=weights_path,
                                                    input_shape=(INCEPTION_SIZE, INCEPTION_SIZE,
                                                                 3))

    def __call__(self, images):
        x = inception_inputs(images)
        return np.asarray(self.model(x, training=False), np.float32)


def inception_score(probabilities, splits=10):
    """Inception Score from class probabilities, as ``get_inception_score`` in
    ``inception_score/model.py`` in openai/improved-gan.

    Split ``i`` holds rows ``i * N // splits`` to ``(i + 1) * N // splits``; per split
    ``IS_i = exp(mean_x sum_y p(y|x) (log p(y|x) - log p(y)))`` with ``p(y)`` the split's mean.

    Args:
        probabilities: float [N, K] softmax outputs (K = 1000, or 1008 for the 2015 graph),
            rows summing to 1, N >= splits.
        splits: number of splits.

    The one difference from the original: a zero probability contributes ``0 log 0 = 0``
    (the original's ``0 * log 0`` is NaN); with all probabilities positive the two agree.

    Returns:
        (mean, std) of the split scores, floats; 1 for identical rows, K for K equally
        frequent one-hot classes in every split.
    """
    p = np.asarray(probabilities, np.float64)
    if p.ndim != 2 or p.shape[0] < splits or splits < 1:
        raise MetricInputError(f"probabilities: expected [N >= splits={splits}, K], got shape "
                               f"{p.shape}")
    if p.min() < 0 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise MetricInputError("probabilities: rows must be non-negative and sum to 1")
    n = p.shape[0]
    scores = []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = part * (np.log(part) - np.log(part.mean(axis=0, keepdims=True)))
        kl = np.where(part > 0, kl, 0.0)
        scores.append(np.exp(kl.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
