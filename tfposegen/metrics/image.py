"""Image similarity: SSIM, PSNR (whole image and inside a mask), mean L1 / L2.

SSIM follows scikit-image's ``compare_ssim`` (written here with scipy). Its defaults, as
DPIG's scorers call it: 7x7 uniform window (``scipy.ndimage.uniform_filter``, reflect
borders), K1 0.01, K2 0.03, sample covariances (N / (N - 1), N = 49), the mean of the SSIM
map without a 3-pixel border; the window and covariance options that the PATN / ADGAN and
GFLA / DPTN scorers set are arguments of :func:`ssim` (``tfposegen.metrics.pose_transfer``).
Grey images are skimage's ``rgb2gray`` of uint8 images: ``[0.2125, 0.7154, 0.0721]`` of the
[0, 1] floats.
PSNR ``10 log10(data_range^2 / MSE)``; L1 ``mean |a - b|``; L2 ``sqrt(sum (a - b)^2) / N``
(not an RMSE; ``score.py`` in charliememory/Disentangled-Person-Image-Generation).
PAINT's ``eval.py`` (:func:`paint_image_scores`): its "MAE" is a relative L1
(:func:`relative_l1`) and its SSIM uses a 51 x 51 uniform window.
"""

import numpy as np
from scipy import ndimage

GREY = np.array([0.2125, 0.7154, 0.0721])


def rgb2gray(image):
    """uint8 [H, W, 3] -> float64 [H, W] in [0, 1] (skimage's coefficients)."""
    return (np.asarray(image, np.float64) / 255.0) @ GREY


def ssim(a, b, data_range, win_size=7, gaussian_sigma=None, sample_covariance=True):
    """Mean SSIM of two single-channel images (scikit-image's ``structural_similarity``).

    Args:
        a, b: float or int arrays [H, W] (H, W >= the window).
        data_range: dynamic range (skimage: ``max - min`` of the reference in the scorers).
        win_size: side of the uniform window (ignored with ``gaussian_sigma``).
        gaussian_sigma: Gaussian window of this sigma instead (skimage's
            ``gaussian_weights=True``: ``scipy.ndimage.gaussian_filter`` truncated at 3.5
            sigma, so 11x11 at sigma 1.5).
        sample_covariance: variances with the N / (N - 1) correction (skimage's
            ``use_sample_covariance``, N the window's pixel count).

    Returns:
        float in [-1, 1]: the SSIM map's mean without a (window - 1) / 2 border.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if gaussian_sigma is None:
        filt = lambda x: ndimage.uniform_filter(x, size=win_size)  # noqa: E731
    else:
        win_size = 2 * int(3.5 * gaussian_sigma + 0.5) + 1
        filt = lambda x: ndimage.gaussian_filter(x, sigma=gaussian_sigma, truncate=3.5)  # noqa: E731
    if a.shape != b.shape or a.ndim != 2 or min(a.shape) < win_size:
        raise ValueError(f"ssim: need two equal [H, W] images of at least {win_size}x"
                         f"{win_size} (the window), got {a.shape} and {b.shape}")
    cov = win_size ** 2 / (win_size ** 2 - 1.0) if sample_covariance else 1.0
    ua, ub = filt(a), filt(b)
    vaa = cov * (filt(a * a) - ua * ua)
    vbb = cov * (filt(b * b) - ub * ub)
    vab = cov * (filt(a * b) - ua * ub)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ua * ub + c1) * (2 * vab + c2)) / ((ua ** 2 + ub ** 2 + c1) * (vaa + vbb + c2))
    pad = (win_size - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean())


def ssim_multichannel(a, b, data_range, **window):
    """skimage's ``multichannel=True``: the mean over channels of :func:`ssim` of [H, W, C]
    arrays (``window``: :func:`ssim`'s window arguments)."""
    return float(np.mean([ssim(a[..., c], b[..., c], data_range, **window)
                          for c in range(a.shape[-1])]))


def ssim_gray(generated, reference):
    """The scorers' SSIM: grey uint8 images, data_range = max - min of the grey reference.

    Args:
        generated, reference: uint8 [H, W, 3].
    """
    g, r = rgb2gray(generated), rgb2gray(reference)
    return ssim(g, r, data_range=r.max() - r.min())


def ssim_color(generated, reference):
    """``compare_ssim(multichannel=True)`` of uint8 [H, W, 3] images: the mean of the
    per-channel SSIM with data_range 255."""
    return ssim_multichannel(generated, reference, 255.0)


def psnr(reference, test, data_range):
    """``compare_psnr``: ``10 log10(data_range^2 / mean((ref - test)^2))`` (inf if equal)."""
    mse = np.mean((np.asarray(reference, np.float64) - np.asarray(test, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def l1_mean(a, b):
    """``sum |a - b| / N`` over all N values."""
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


def l2_mean(a, b):
    """``sqrt(sum (a - b)^2) / N`` over all N values (the original's definition)."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(np.sqrt(np.sum(d ** 2)) / d.size)


def masked_psnr(image, reference, mask):
    """PSNR in dB (peak 255) over the pixels where ``mask`` is True, all channels.

    Args:
        image, reference: uint8 [R, R, 3].
        mask: bool [R, R] with at least one True pixel.

    Returns:
        float; ``inf`` when the masked pixels are equal.
    """
    if image.shape != reference.shape or image.shape[:2] != mask.shape:
        raise ValueError(f"shapes differ: image {image.shape}, reference {reference.shape}, "
                         f"mask {mask.shape}")
    if not mask.any():
        raise ValueError("mask is empty")
    diff = image[mask].astype(np.float64) - reference[mask].astype(np.float64)
    mse = float(np.mean(diff ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def relative_l1(reference, test):
    """PAINT's "MAE" (``compare_mae`` of TSN/core/metric.py and AFN/core/metric.py in
    gxl-groups/PAINT): ``sum |r - f| / sum (r + f)`` of one image pair, in float32 as the
    original (a relative L1, not the mean absolute error; NaN for two black images).

    Args:
        reference, test: uint8 (or any numeric) arrays of one shape, e.g. [H, W, 3].

    Returns:
        float (>= 0; at most 1 for non-negative images).
    """
    r, f = np.asarray(reference).astype(np.float32), np.asarray(test).astype(np.float32)
    if r.shape != f.shape:
        raise ValueError(f"shapes differ: {r.shape} and {f.shape}")
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.sum(np.abs(r - f)) / np.sum(r + f))


PAINT_SSIM_WINDOW = 51


def paint_image_scores(references, tests):
    """TSN / AFN ``eval.py``'s image scores (``mae``, ``psnr``, ``ssim`` of
    TSN/core/metric.py in gxl-groups/PAINT), each averaged over the image pairs:

    - ``mae``: :func:`relative_l1` per pair (not the mean absolute error);
    - ``psnr``: scikit-image's ``peak_signal_noise_ratio`` of uint8 images (data range 255,
      MSE over all pixels and channels; inf for an identical pair, which makes the mean inf);
    - ``ssim``: ``structural_similarity(multichannel=True, win_size=51)``: per channel a
      **51 x 51 uniform** window (not the 7 x 7 default nor a Gaussian), K1 0.01, K2 0.03,
      sample covariance (N = 51^2), data range 255, the mean without a 25-pixel border,
      then the mean over channels (:func:`ssim_multichannel`; the images must be at least
      51 x 51).

    The FID that eval.py also prints is :func:`tfposegen.metrics.fid.paint_fid` (torchvision's
    Inception with a corner-aligned resize, batches of 4: not the standard FID).

    Args:
        references, tests: sequences of uint8 [H, W, 3] (``*_orig.png`` and the generated
            images of eval.py), paired in order.

    Returns:
        dict of floats ``mae``, ``psnr``, ``ssim``.
    """
    if len(references) != len(tests) or not len(references):
        raise ValueError(f"need equally many reference and test images (at least one), got "
                         f"{len(references)} and {len(tests)}")
    scores = dict(mae=0.0, psnr=0.0, ssim=0.0)
    for r, f in zip(references, tests):
        r, f = np.asarray(r), np.asarray(f)
        if r.shape != f.shape or r.ndim != 3:
            raise ValueError(f"expected two [H, W, C] images of one shape, got {r.shape} and "
                             f"{f.shape}")
        scores["mae"] += relative_l1(r, f)
        scores["psnr"] += psnr(r, f, 255.0)
        scores["ssim"] += ssim_multichannel(r, f, 255.0, win_size=PAINT_SSIM_WINDOW)
    return {k: v / len(references) for k, v in scores.items()}


__all__ = ["PAINT_SSIM_WINDOW", "l1_mean", "l2_mean", "masked_psnr", "paint_image_scores",
           "psnr", "relative_l1", "rgb2gray", "ssim", "ssim_color", "ssim_gray",
           "ssim_multichannel"]
