"""Reference scores from scikit-image for tests/test_dpig_scores.py.

    python -m venv /tmp/skenv && /tmp/skenv/bin/pip install scikit-image
    /tmp/skenv/bin/python tests/reference/make_ssim_reference.py

DPIG's score.py / score_mask.py used skimage's ``compare_ssim`` (now
``skimage.metrics.structural_similarity``: 7x7 uniform window, K1 0.01, K2 0.03, sample
covariance), ``rgb2gray`` and ``compare_psnr``; ADGAN's tool/getMetrics_fashion.py (PATN's)
calls it with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
multichannel=True, data_range=generated.max() - generated.min()`` (``ssim_patn``) and GFLA's
script/metrics.py on [0, 1] floats with ``data_range=1, win_size=51, multichannel=True``
(``ssim_gfla``). This script scores the image pairs of
:func:`image_pairs` (numpy only, so the test makes the same images without skimage) with
skimage itself and writes ``ssim_skimage.json`` beside it.
"""

import json
import os

import numpy as np


def image_pairs():
    """Three (generated, reference) uint8 [H, W, 3] pairs, shapes 128x64 and 64x64: smooth
    colour ramps with boxes (reference), degraded by noise, a shift and a blur-like mix."""
    rng = np.random.default_rng(2018)
    pairs = []
    for k, (h, w) in enumerate([(128, 64), (128, 64), (64, 64)]):
        y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
        ref = np.stack([200 * y + 20, 180 * x + 30, 120 * (1 - y) * x + 60], -1)
        for _ in range(4):
            r0, c0 = rng.integers(0, h - 16), rng.integers(0, w - 16)
            ref[r0:r0 + rng.integers(8, 16), c0:c0 + rng.integers(8, 16)] = rng.uniform(0, 255, 3)
        gen = ref + rng.normal(0, 12 + 10 * k, ref.shape)
        gen = np.roll(gen, k, axis=1)
        gen = 0.7 * gen + 0.3 * np.roll(gen, 1, axis=0)
        pairs.append((np.clip(gen, 0, 255).astype(np.uint8),
                      np.clip(ref, 0, 255).astype(np.uint8)))
    return pairs


def main():
    import skimage
    from skimage.color import rgb2gray
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    out = {"skimage": skimage.__version__, "pairs": []}
    for gen, ref in image_pairs():
        g, r = rgb2gray(gen), rgb2gray(ref)
        rng = r.max() - r.min()
        out["pairs"].append({
            "ssim_gray": structural_similarity(g, r, data_range=rng),
            "psnr_gray": peak_signal_noise_ratio(r, g, data_range=rng),
            "ssim_color": structural_similarity(gen, ref, channel_axis=-1, data_range=255),
            "psnr_color": peak_signal_noise_ratio(ref, gen, data_range=255),
            "ssim_patn": structural_similarity(ref, gen, gaussian_weights=True, sigma=1.5,
                                               use_sample_covariance=False, channel_axis=-1,
                                               data_range=gen.max() - gen.min()),
            "ssim_gfla": structural_similarity(gen / 255.0, ref / 255.0, data_range=1,
                                               win_size=51, channel_axis=-1)})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ssim_skimage.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
