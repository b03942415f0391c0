"""DPIG's per-pair numbers as ``score.py`` / ``score_mask.py`` of
charliememory/Disentangled-Person-Image-Generation compute them (grey SSIM / PSNR / L1 / L2,
or the same on masked colour images); the formulas are in :mod:`tfposegen.metrics.image`.
"""

import numpy as np

from tfposegen.metrics.image import l1_mean, l2_mean, psnr, rgb2gray, ssim, ssim_color


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
