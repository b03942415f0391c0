"""Pose-transfer scores under the two published protocols (ADGAN, DPTN and PAINT use them).

``patn``: tool/getMetrics_fashion.py of menyifang/ADGAN (PATN's, tengteng95/Pose-Transfer).
It reads the test script's ``<P1>___<P2>_vis.jpg`` strips, cuts them into five panels
(target = panel 2, generated = panel 4, 0-based), pads each panel with 40 white columns on
both sides (DeepFashion 256x176 -> 256x256, ``addBounding``) and scores SSIM with
``compare_ssim(target, generated, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, multichannel=True, data_range=generated.max() -
generated.min())`` (the generated image's range: the script's choice). PSNR (peak 255), LPIPS
and FID are computed here on the same padded uint8 panels.

``gfla``: script/metrics.py of RenYurui/Global-Flow-Local-Attention (which DPTN reuses) on
the unpadded 256x176 images: generated images against the dataset's ground-truth files,
``compare_ssim`` on [0, 1] floats with ``data_range=1, win_size=51, multichannel=True``
(``ssim``), the padded protocol's SSIM formula without padding on [0, 255] floats
(``ssim_256``), ``compare_psnr`` with data range 1, mean |a - b| on [0, 1] (``l1``), LPIPS
(AlexNet, v0.1) and FID in batches of ``min(64, N)`` that drop the last partial batch, as
that script does (its FID compares with the real images of ``fid_real_path``, the training
images in the papers).

FID features come from ``tfposegen.metrics.fid.InceptionFeatures`` (a Keras weights file;
see that module for why its values are not those of published tables).
"""

import os

import numpy as np

from tfposegen.metrics.fid import MetricInputError, extract_features, fid_from_features
from tfposegen.metrics.image import psnr, ssim_multichannel

PROTOCOLS = ("patn", "gfla")
PATN_BOUND = 40
GFLA_BATCH = 64
VIS_PANELS = 5


def split_vis_strip(strip, panels=VIS_PANELS):
    """The panels of a test strip [H, panels * W, 3] -> list of ``panels`` uint8 [H, W, 3]
    (the scorers' ``w = width / 5`` cut: [source, source pose, target, target pose,
    generated])."""
    strip = np.asarray(strip)
    if strip.ndim != 3 or strip.shape[1] % panels:
        raise MetricInputError(f"a test strip must be [H, {panels} * W, 3], got {strip.shape}")
    w = strip.shape[1] // panels
    return [strip[:, i * w:(i + 1) * w] for i in range(panels)]


def pad_patn(image, bound=PATN_BOUND):
    """``addBounding``: uint8 [H, W, 3] -> [H, W + 2 * bound, 3] with white (255) columns."""
    h, w, c = image.shape
    out = np.full((h, w + 2 * bound, c), 255, np.uint8)
    out[:, bound:bound + w] = image
    return out


def ssim_patn(generated, target):
    """PATN / ADGAN SSIM of uint8 [H, W, 3] images (module docstring): Gaussian window
    (sigma 1.5), population covariances, data range of ``generated``. float."""
    g = np.asarray(generated, np.float64)
    return ssim_multichannel(np.asarray(target, np.float64), g, float(g.max() - g.min()),
                             gaussian_sigma=1.5, sample_covariance=False)


def ssim_gfla(generated, target):
    """GFLA SSIM of uint8 [H, W, 3] images: [0, 1] floats, 51x51 uniform window, sample
    covariances, data range 1 (module docstring). float."""
    return ssim_multichannel(np.asarray(generated, np.float64) / 255.0,
                             np.asarray(target, np.float64) / 255.0, 1.0, win_size=51)


def _check_sets(generated, targets):
    generated, targets = np.asarray(generated), np.asarray(targets)
    if generated.ndim != 4 or generated.shape != targets.shape or generated.shape[-1] != 3:
        raise MetricInputError(f"generated and target images must be equal [N, H, W, 3], got "
                               f"{generated.shape} and {targets.shape}")
    if generated.dtype != np.uint8 or targets.dtype != np.uint8:
        raise MetricInputError("generated and target images must be uint8")
    return generated, targets


def _gfla_used(n):
    """Images GFLA's batched loops use out of ``n``: whole batches of min(64, n)."""
    batch = min(GFLA_BATCH, n)
    return n // batch * batch, batch


def scores(generated, targets, protocol, lpips=None, inception=None, fid_real=None):
    """Mean scores of N generated images against their targets under ``protocol``.

    Args:
        generated, targets: uint8 [N, H, W, 3], pair i = (generated i, target i).
        protocol: "patn" or "gfla" (module docstring).
        lpips: optional ``tfposegen.metrics.lpips.LPIPS`` with loaded weights.
        inception: optional ``tfposegen.metrics.fid.InceptionFeatures`` (for FID).
        fid_real: uint8 [M, h, w, 3] real images for FID (default: ``targets``); "patn"
            pads them as the panels.

    Returns:
        dict of floats: ``ssim``, ``psnr``, ``lpips`` / ``fid`` when their networks are
        given, and for "gfla" also ``ssim_256`` and ``l1``; ``n`` = N.
    """
    generated, targets = _check_sets(generated, targets)
    if protocol == "gfla" and min(generated.shape[1:3]) < 51:
        raise MetricInputError(f"the gfla protocol's 51x51 SSIM window needs images of at "
                               f"least 51x51, got {generated.shape[1:3]}")
    if protocol not in PROTOCOLS:
        raise MetricInputError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    n = len(generated)
    real = targets if fid_real is None else np.asarray(fid_real)
    if protocol == "patn":
        generated = np.stack([pad_patn(g) for g in generated])
        targets = np.stack([pad_patn(t) for t in targets])
        real = np.stack([pad_patn(r) for r in real])
        out = {"ssim": np.mean([ssim_patn(g, t) for g, t in zip(generated, targets)]),
               "psnr": np.mean([psnr(t, g, 255.0) for g, t in zip(generated, targets)])}
        used, batch, used_real = n, GFLA_BATCH, len(real)
    else:
        out = {"ssim": np.mean([ssim_gfla(g, t) for g, t in zip(generated, targets)]),
               "ssim_256": np.mean([ssim_patn(g, t) for g, t in zip(generated, targets)]),
               "psnr": np.mean([psnr(t / 255.0, g / 255.0, 1.0)
                                for g, t in zip(generated, targets)]),
               "l1": np.mean(np.abs(generated / 255.0 - targets / 255.0))}
        used, batch = _gfla_used(n)
        used_real = _gfla_used(len(real))[0]
    if lpips is not None:
        dist = [np.asarray(lpips.distance(generated[i:i + batch] / 127.5 - 1.0,
                                          targets[i:i + batch] / 127.5 - 1.0))
                for i in range(0, used, batch)]
        out["lpips"] = np.mean(np.concatenate(dist))
    if inception is not None:
        out["fid"] = fid_from_features(extract_features(generated[:used], inception),
                                       extract_features(real[:used_real], inception))
    return {"n": n, **{k: float(v) for k, v in out.items()}}


def read_results(results_dir, protocol, gt_dir=None):
    """The (generated, target) uint8 image sets of a test folder, as ``protocol`` reads them.

    Args:
        results_dir: folder of ``<P1>___<P2>_vis.jpg|png`` strips (and, from
            ``run_scripts/adgan/test.py --save_fake``, ``<P1>___<P2>_fake.png``).
        protocol: "patn": both panels from the strips (JPEG and all, as the original);
            "gfla": the ``_fake.png`` image (else the strip's panel) against
            ``gt_dir/<P2>`` (else the strip's target panel).
        gt_dir: folder of the dataset's target images (the test phase folder).

    Returns:
        (generated uint8 [N, H, W, 3], targets uint8 [N, H, W, 3], sorted strip names).

    Raises:
        MetricInputError: no strips, a strip or image that cannot be read or has another
            size (the message names the file).
    """
    from tfposegen.utils.files import ImageReadError, read_rgb

    if protocol not in PROTOCOLS:
        raise MetricInputError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    names = sorted(f for f in os.listdir(results_dir) if f.endswith(("_vis.jpg", "_vis.png"))
                   and "___" in f) if os.path.isdir(results_dir) else []
    if not names:
        raise MetricInputError(f"{results_dir}: no <P1>___<P2>_vis.jpg test strips")
    generated, targets = [], []
    for name in names:
        path = os.path.join(results_dir, name)
        try:
            strip = read_rgb(path, "test strip")
            try:
                panels = split_vis_strip(strip)
            except MetricInputError as e:
                raise MetricInputError(f"{path}: {e}") from None
            gen, target = panels[4], panels[2]
            if protocol == "gfla":
                fake = path[:-len("_vis.jpg")] + "_fake.png"
                if os.path.isfile(fake):
                    gen = read_rgb(fake, "generated image")
                if gt_dir is not None:
                    target = read_rgb(os.path.join(gt_dir, name[:-len("_vis.jpg")]
                                                   .split("___", 1)[1]), "target image")
        except ImageReadError as e:
            raise MetricInputError(str(e)) from None
        if gen.shape != target.shape or (generated and gen.shape != generated[0].shape):
            raise MetricInputError(f"{path}: images of sizes {gen.shape} and {target.shape} "
                                   f"(the first pair: {generated[0].shape if generated else '-'})")
        generated.append(gen)
        targets.append(target)
    return np.stack(generated), np.stack(targets), names


def score_folder(results_dir, protocols, gt_dir=None, lpips=None, inception=None,
                 fid_real_dir=None):
    """{protocol: :func:`scores`} of a results folder (:func:`read_results`); FID against
    the images of ``fid_real_dir`` (sorted, of one size) when given, else the targets."""
    from tfposegen.utils.files import read_rgb

    real = None
    if fid_real_dir and inception is not None:
        files = sorted(f for f in os.listdir(fid_real_dir)
                       if f.lower().endswith((".jpg", ".jpeg", ".png")))
        real = np.stack([read_rgb(os.path.join(fid_real_dir, f)) for f in files])
    out = {}
    for protocol in protocols:
        generated, targets, _ = read_results(results_dir, protocol, gt_dir)
        out[protocol] = scores(generated, targets, protocol, lpips, inception, real)
    return out


def format_table(result):
    """The scores as a text table, one row per protocol."""
    keys = sorted({k for row in result.values() for k in row if k != "n"})
    lines = ["protocol  n      " + "  ".join(f"{k:>9s}" for k in keys)]
    for protocol, row in result.items():
        lines.append(f"{protocol:8s}  {row['n']:<5d}  " + "  ".join(
            f"{row[k]:9.4f}" if k in row else f"{'-':>9s}" for k in keys))
    return "\n".join(lines)
