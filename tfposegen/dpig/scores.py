"""DPIG metrics as ``score.py`` / ``score_mask.py`` compute them (reference/dpig.md 7.5).

SSIM follows scikit-image's ``compare_ssim`` defaults (written here with scipy): 7x7 uniform
window (``scipy.ndimage.uniform_filter``, reflect borders), K1 0.01, K2 0.03, sample
covariances (N / (N - 1), N = 49), the mean of the SSIM map without a 3-pixel border.
Grey images are skimage's ``rgb2gray`` of uint8 images: ``[0.2125, 0.7154, 0.0721]`` of the
[0, 1] floats. PSNR ``10 log10(data_range^2 / MSE)``; L1 ``mean |a - b|``; L2
``sqrt(sum (a - b)^2) / N`` (not an RMSE). The Inception Score uses the 2015 Inception graph
(``classify_image_graph_def.pb``) the original used; a Keras InceptionV3 gives other numbers.
"""

import numpy as np
from scipy import ndimage

GREY = np.array([0.2125, 0.7154, 0.0721])


def rgb2gray(image):
    """uint8 [H, W, 3] -> float64 [H, W] in [0, 1] (skimage's coefficients)."""
    return (np.asarray(image, np.float64) / 255.0) @ GREY


def ssim(a, b, data_range, win_size=7):
    """Mean SSIM of two single-channel images (see module docstring).

    Args:
        a, b: float or int arrays [H, W] (H, W >= win_size).
        data_range: dynamic range (skimage: ``max - min`` of the reference in the scorers).

    Returns:
        float in [-1, 1].
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    filt = lambda x: ndimage.uniform_filter(x, size=win_size)  # noqa: E731
    cov = win_size ** 2 / (win_size ** 2 - 1.0)
    ua, ub = filt(a), filt(b)
    vaa = cov * (filt(a * a) - ua * ua)
    vbb = cov * (filt(b * b) - ub * ub)
    vab = cov * (filt(a * b) - ua * ub)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ua * ub + c1) * (2 * vab + c2)) / ((ua ** 2 + ub ** 2 + c1) * (vaa + vbb + c2))
    pad = (win_size - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean())


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
    return float(np.mean([ssim(generated[..., c], reference[..., c], 255.0)
                          for c in range(generated.shape[-1])]))


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


def pair_scores(generated, reference, mask=None):
    """score.py's (``mask`` None: grey) or score_mask.py's (masked colour) numbers of one
    pair of uint8 [H, W, 3] images; ``mask`` uint8 [H, W] (0 / 255).

    Returns:
        dict ssim, psnr, l1, l2.
    """
    if mask is None:
        g, r = rgb2gray(generated), rgb2gray(reference)
        rng = r.max() - r.min()
        return {"ssim": ssim(g, r, rng), "psnr": psnr(r, g, rng), "l1": l1_mean(g, r),
                "l2": l2_mean(g, r)}
    m = (np.asarray(mask, np.float64) / 255.0)[..., None]
    g = (m * generated).astype(np.uint8)
    r = (m * reference).astype(np.uint8)
    return {"ssim": ssim_color(g, r), "psnr": psnr(r, g, 255.0), "l1": l1_mean(g, r),
            "l2": l2_mean(g, r)}


def inception_score(images, graph_path, splits=10):
    """Inception Score with the 2015 graph, as OpenAI's improved-GAN code.

    Images (uint8 [H, W, 3], any size) are fed one by one as float 0..255 into
    ``ExpandDims:0``; p(y|x) = softmax(pool_3 @ W) with the graph's ``softmax/logits`` weight
    matrix and no bias; IS = exp(mean KL(p(y|x) || p(y))) per split.

    Args:
        images: list of uint8 arrays.
        graph_path: ``classify_image_graph_def.pb``.

    Returns:
        (mean, std) over ``splits``.
    """
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    with open(graph_path, "rb") as f:
        graph_def.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        pool = graph.get_tensor_by_name("pool_3:0")
        weights = graph.get_operation_by_name("softmax/logits/MatMul").inputs[1]
    with tf.compat.v1.Session(graph=graph) as sess:
        w = sess.run(weights)
        feats = [sess.run(pool, {"ExpandDims:0": np.asarray(im, np.float32)[None]})
                 for im in images]
    logits = np.reshape(np.concatenate(feats), [len(images), -1]) @ w
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    scores = []
    for part in np.array_split(p, splits):
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


__all__ = ["inception_score", "l1_mean", "l2_mean", "pair_scores", "psnr", "rgb2gray", "ssim",
           "ssim_color", "ssim_gray"]
