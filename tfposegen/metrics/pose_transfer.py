"""Pose-transfer scores under the published protocols (ADGAN, DPTN, DPTN_step and PAINT use
them), with two FID networks.

``patn``: tool/getMetrics_fashion.py of menyifang/ADGAN (PATN's, tengteng95/Pose-Transfer).
It reads the test script's ``<P1>___<P2>_vis.jpg`` strips, cuts them into five panels
(target = panel 2, generated = panel 4, 0-based), pads each panel with 40 white columns on
both sides (DeepFashion 256x176 -> 256x256, ``addBounding``) and scores SSIM with
``compare_ssim(target, generated, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, multichannel=True, data_range=generated.max() -
generated.min())`` (the generated image's range: the script's choice). PSNR (peak 255), LPIPS
and FID are computed here on the same padded uint8 panels.

``gfla``: script/metrics.py of RenYurui/Global-Flow-Local-Attention (DPTN's metrics.py is a
modified copy: ``dptn`` below) on the unpadded 256x176 images: generated images against the
dataset's ground-truth files, ``compare_ssim`` on [0, 1] floats with ``data_range=1,
win_size=51, multichannel=True`` (``ssim``), the padded protocol's SSIM formula without
padding on [0, 255] floats (``ssim_256``), ``compare_psnr`` with data range 1, mean |a - b|
on [0, 1] (``l1``), LPIPS (AlexNet, v0.1) and FID in batches of ``min(64, N)`` that drop the
last partial batch, as that script does (its FID compares with the real images of
``fid_real_path``, the training images in the papers).

The DPTN protocols read DPTN-style folders, ``<from>_2_<to>_vis.jpg|png`` generated images
(run_scripts/dptn/test.py, run_scripts/dptn_step/test.py), sorted by name, each against
``gt_dir/<to>`` + the code's extension (the other of .jpg / .png tried next); images are read
as RGB (the codes' imageio keeps grey / RGBA), and the generated FID set is these results
(the codes glob every image of the folder):

``dptn``: metrics/metrics.py of PangzeCheung/Dual-task-Pose-Transformer-Network (its
scripts/eval_fashion.sh); ``dptn_market`` the same with ``--market``. Targets ``<to>.jpg``.
For ``dptn`` both images are padded to 256 wide with white (``pad_256``: 40 columns each
side; here any width gets 40) before ``ssim`` (window 51, data range 1, on [0, 1]),
``ssim_256`` (Gaussian sigma 1.5, population covariances, the generated image's range, on
[0, 255]), ``psnr`` (data range 1), ``l1`` (mean |a - b| on [0, 1]) and ``mae``
(``sum |a - b| / sum (a + b)``); ``dptn_market`` does not pad. LPIPS on the unpadded
images in [-1, 1], every pair (the code's batch of 1). FID: the generated images against
every ``*.jpg`` / ``*.png`` of ``fid_real_dir`` (the code's ``fid_real_path``, the training
images), both as stored (one size; no resize), divided by 255.

``dptn_step``: utils/metrics_step.py of gkalstn000/DPTN_step at its last step (S = 5: the
quantisation step ``dj[5] = 1``, i.e. a floor). Targets ``<to>.png``. Reconstruction scores on
``cv2.resize(image, (176, 256))`` (INTER_LINEAR on the uint8 images: rounded) of both
images, no padding, with ``ssim_256``'s Gaussian sigma 1.2 (the code's; its printed "SSIM" is
``ssim_256``). LPIPS on ``cv2.resize`` of the float32 images (not rounded) in [-1, 1], in
batches of ``min(64, N)`` dropping the last partial batch. FID: every image
``cv2.resize``d as float32 to 256x176 (also when it has that size: then unchanged), floored
(``// 1 * 1``), divided by 255. One difference: the code floors its LPIPS targets after
mapping them to [-1, 1] (``// d * d`` on ``[-1, 1]`` values makes them -1, 0 or 1); here
LPIPS compares with the real targets, as its utils/metrics.py does.

FID under the DPTN protocols: batches of 64 that drop the last partial batch; the real folder
is computed first and the code's ``self.batch_size`` only shrinks (``min(64, N_real,
N_generated)`` for the generated set). Files are taken sorted (the code's glob order is the
file system's, so which images the partial batch drops may differ). The codes cache
``statistics.npz`` in both folders (DPTN's metrics.py and DPTN_step's utils/metrics.py; the
cache is off in metrics_step.py and only read in metrics/networks/fid.py), so a rerun after
new results scores stale statistics; not here: with ``fid_cache`` only the real folder's
statistics are kept, in ``fid_statistics_<protocol>_<score>.npz`` beside the images, keyed by
the file names, sizes and times and by the network's output on a probe image, and
recomputed when any differs.

FID networks (each score named):

* ``fid``: ``tfposegen.metrics.fid.InceptionFeatures``, a Keras InceptionV3 weights file fed
  as pytorch-fid feeds its network (see that module: values comparable with each other, not
  with published tables);
* ``fid_torchvision``: ``tfposegen.metrics.torchvision_inception.TorchvisionInceptionFeatures``,
  torchvision's ImageNet ``inception_v3`` as the DPTN codes wrap it, the network of their
  published FIDs (with torchvision's ``inception_v3_google-*.pth`` and a DPTN protocol:
  their computation, up to the file order noted above).

Both take uint8 images; the DPTN protocols' float images go to ``fid`` in [-1, 1] and to
``fid_torchvision`` in [0, 1], each network's own range.
"""

import hashlib
import os
import warnings

import numpy as np

from tfposegen.metrics.fid import (
    MetricInputError,
    extract_features,
    feature_statistics,
    fid_from_features,
    frechet_distance,
)
from tfposegen.metrics.image import psnr, ssim_multichannel

PROTOCOLS = ("patn", "gfla", "dptn", "dptn_market", "dptn_step")
DPTN_PROTOCOLS = ("dptn", "dptn_market", "dptn_step")
PATN_BOUND = 40
GFLA_BATCH = 64
VIS_PANELS = 5
DPTN_STEP_SIZE = (256, 176)  # (H, W) of the DPTN_step code's cv2.resize(..., (176, 256))
# Target-name extensions of the DPTN protocols: the code's first, the other tried next.
DPTN_TARGET_EXT = {"dptn": (".jpg", ".png"), "dptn_market": (".jpg", ".png"),
                   "dptn_step": (".png", ".jpg")}
# FID score name -> the float range its network takes (uint8 images work for both).
FID_RANGES = {"fid": (-1.0, 1.0), "fid_torchvision": (0.0, 1.0)}


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


def ssim_gaussian(generated, target, sigma=1.5):
    """The ``ssim_256`` call of uint8 [H, W, 3] images on [0, 255] floats: Gaussian window
    of ``sigma``, population covariances, data range of ``generated``. float."""
    g = np.asarray(generated, np.float64)
    return ssim_multichannel(np.asarray(target, np.float64), g, float(g.max() - g.min()),
                             gaussian_sigma=sigma, sample_covariance=False)


def ssim_patn(generated, target):
    """PATN / ADGAN SSIM of uint8 [H, W, 3] images (module docstring): Gaussian window
    (sigma 1.5), population covariances, data range of ``generated``. float."""
    return ssim_gaussian(generated, target, 1.5)


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


def _networks(inception, torchvision_inception):
    """{FID score name: extractor} of the given networks."""
    return {k: v for k, v in (("fid", inception), ("fid_torchvision", torchvision_inception))
            if v is not None}


def _lpips_mean(lpips, generated, targets, batch, used):
    """Mean LPIPS of float [N, H, W, 3] sets in [-1, 1] over the first ``used`` pairs."""
    dist = [np.asarray(lpips.distance(generated[i:i + batch], targets[i:i + batch]))
            for i in range(0, used, batch)]
    return np.mean(np.concatenate(dist))


def scores(generated, targets, protocol, lpips=None, inception=None, fid_real=None,
           torchvision_inception=None):
    """Mean scores of N generated images against their targets under "patn" or "gfla".

    Args:
        generated, targets: uint8 [N, H, W, 3], pair i = (generated i, target i).
        protocol: "patn" or "gfla" (module docstring; the DPTN protocols read folders:
            :func:`dptn_scores`).
        lpips: optional ``tfposegen.metrics.lpips.LPIPS`` with loaded weights.
        inception: optional ``tfposegen.metrics.fid.InceptionFeatures`` (score ``fid``).
        fid_real: uint8 [M, h, w, 3] real images for FID (default: ``targets``); "patn"
            pads them as the panels.
        torchvision_inception: optional
            ``tfposegen.metrics.torchvision_inception.TorchvisionInceptionFeatures`` (score
            ``fid_torchvision``, the same images through the DPTN codes' network).

    Returns:
        dict of floats: ``ssim``, ``psnr``, ``lpips`` / ``fid`` / ``fid_torchvision`` when
        their networks are given, and for "gfla" also ``ssim_256`` and ``l1``; ``n`` = N.
    """
    if protocol in DPTN_PROTOCOLS:
        raise MetricInputError(f"protocol {protocol!r} reads a results folder: use "
                               "dptn_scores or score_folder")
    if protocol not in ("patn", "gfla"):
        raise MetricInputError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    generated, targets = _check_sets(generated, targets)
    if protocol == "gfla" and min(generated.shape[1:3]) < 51:
        raise MetricInputError(f"the gfla protocol's 51x51 SSIM window needs images of at "
                               f"least 51x51, got {generated.shape[1:3]}")
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
        out["lpips"] = _lpips_mean(lpips, generated / 127.5 - 1.0, targets / 127.5 - 1.0,
                                   batch, used)
    for key, extractor in _networks(inception, torchvision_inception).items():
        out[key] = fid_from_features(extract_features(generated[:used], extractor),
                                     extract_features(real[:used_real], extractor))
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

    if protocol not in ("patn", "gfla"):
        raise MetricInputError(f"read_results reads the patn and gfla strips, not {protocol!r} "
                               "(see dptn_pairs)")
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




def dptn_pairs(results_dir, gt_dir, protocol):
    """The (generated, target) files of a DPTN results folder.

    Args:
        results_dir: folder of ``<from>_2_<to>_vis.jpg|png`` images.
        gt_dir: folder of the targets: ``<to>`` + the protocol's extension (the code's:
            ``.jpg`` for "dptn" / "dptn_market", ``.png`` for "dptn_step"; the other tried
            next), ``<to>`` being the name's part after the last ``_2_`` and before ``_vis``
            (the codes' ``preprocess_path_for_deform_task``).
        protocol: one of ``DPTN_PROTOCOLS``.

    Returns:
        (generated paths, target paths), sorted by result name.

    Raises:
        MetricInputError: no results, no ``gt_dir``, or a missing target (named).
    """
    if protocol not in DPTN_PROTOCOLS:
        raise MetricInputError(f"protocol must be one of {DPTN_PROTOCOLS}, got {protocol!r}")
    names = sorted(f for f in os.listdir(results_dir) if "_2_" in f and f.endswith(
        ("_vis.jpg", "_vis.png"))) if os.path.isdir(results_dir) else []
    if not names:
        raise MetricInputError(f"{results_dir}: no <from>_2_<to>_vis.jpg|png results")
    if not gt_dir or not os.path.isdir(gt_dir):
        raise MetricInputError(f"{gt_dir}: the {protocol} protocol needs the folder of the "
                               "target images")
    generated, targets = [], []
    for name in names:
        stem = name.split("_2_")[-1].split("_vis")[0]
        options = [os.path.join(gt_dir, stem + ext) for ext in DPTN_TARGET_EXT[protocol]]
        found = [p for p in options if os.path.isfile(p)]
        if not found:
            raise MetricInputError(f"{options[0]}: target image of {name} not found")
        generated.append(os.path.join(results_dir, name))
        targets.append(found[0])
    return generated, targets


def _read(path, what):
    from tfposegen.utils.files import ImageReadError, read_rgb

    try:
        return read_rgb(path, what)
    except ImageReadError as e:
        raise MetricInputError(str(e)) from None


def _cv2_resize(image, size=DPTN_STEP_SIZE):
    """``cv2.resize(image, (W, H))`` with INTER_LINEAR (uint8 in: rounded; float32: not)."""
    import cv2

    if image.shape[:2] == tuple(size):
        return image.copy()
    return cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)


def dptn_fid_image(path, protocol):
    """One image as the protocol's FID reads it: float32 [H, W, 3] in [0, 1] (``dptn_step``:
    256x176, resized as float32 and floored; the others as stored)."""
    image = _read(path, "FID image").astype(np.float32)
    if protocol == "dptn_step":
        image = np.floor(_cv2_resize(image))
    return image / np.float32(255.0)


def _pair_scores(generated, target, protocol):
    """Reconstruction scores of one uint8 pair (module docstring)."""
    if protocol == "dptn_step":
        generated, target = _cv2_resize(generated), _cv2_resize(target)
    elif protocol == "dptn":
        generated, target = pad_patn(generated), pad_patn(target)
    if generated.shape != target.shape:
        raise MetricInputError(f"images of sizes {generated.shape} and {target.shape} ("
                               f"{protocol} compares them as stored; dptn_step resizes both)")
    if min(generated.shape[:2]) < 51:
        raise MetricInputError(f"the {protocol} protocol's 51x51 SSIM window needs images of "
                               f"at least 51x51, got {generated.shape[:2]}")
    g, t = generated / 255.0, target / 255.0
    return {"ssim": ssim_gfla(generated, target),
            "ssim_256": ssim_gaussian(generated, target, 1.2 if protocol == "dptn_step" else 1.5),
            "psnr": psnr(t, g, 1.0), "l1": np.abs(t - g).mean(),
            "mae": np.abs(t - g).sum() / (t + g).sum()}


def _stack(paths, load, size=None):
    """np.stack of ``load(path)`` for ``paths``, all of the first one's (or ``size``'s)
    shape, else MetricInputError naming the file."""
    images = []
    for path in paths:
        image = load(path)
        size = image.shape if size is None else size
        if image.shape != size:
            raise MetricInputError(f"{path}: image of size {image.shape[:2]}, expected "
                                   f"{size[:2]} as the others (one size per batch)")
        images.append(image)
    return np.stack(images)


def _lpips_image(path, protocol, what):
    image = _read(path, f"{what} image")
    if protocol == "dptn_step":
        image = _cv2_resize(image.astype(np.float32))
    return image.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def _fingerprint(paths):
    """sha256 of the files' names, sizes and modification times."""
    h = hashlib.sha256()
    for path in paths:
        st = os.stat(path)
        h.update(f"{os.path.basename(path)}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _probe(shape, extractor, lo):
    """The extractor's features of a fixed image of ``shape`` [H, W, 3] (the cache key's
    network part)."""
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.stack([(np.sin(xx / 7.0 + c) * np.cos(yy / 11.0) + 1) / 2 for c in range(3)], -1)
    x = image[None].astype(np.float32)
    return np.asarray(extractor(x if lo == 0.0 else 2 * x - 1), np.float64)


def _folder_statistics(paths, protocol, networks, batch, cache_dir=None):
    """{score: (mu, sigma)} of the first ``len(paths) // batch * batch`` images, read batch
    by batch; with ``cache_dir`` kept in / taken from its keyed ``.npz`` files."""
    from tfposegen.utils.files import write_npz

    first = dptn_fid_image(paths[0], protocol)
    used = len(paths) // batch * batch
    stats, todo, keys = {}, {}, {}
    for key, extractor in networks.items():
        if cache_dir is None:
            todo[key] = extractor
            continue
        cache = os.path.join(cache_dir, f"fid_statistics_{protocol}_{key}.npz")
        probe = _probe(first.shape, extractor, FID_RANGES[key][0])
        keys[key] = (cache, f"{protocol} {used} {batch} {_fingerprint(paths)}", probe)
        if os.path.isfile(cache):
            with np.load(cache) as f:
                same = (str(f["key"]) == keys[key][1] and f["probe"].shape == probe.shape
                        and np.allclose(f["probe"], probe, rtol=1e-4, atol=1e-5))
                if same:
                    stats[key] = (f["mu"].copy(), f["sigma"].copy())
                    continue
        todo[key] = extractor
    if todo:
        feats = {key: [] for key in todo}
        for start in range(0, used, batch):
            x = _stack(paths[start:start + batch], lambda p: dptn_fid_image(p, protocol),
                       first.shape)
            for key, extractor in todo.items():
                feats[key].append(np.asarray(extractor(x if FID_RANGES[key][0] == 0.0
                                                       else 2 * x - 1), np.float64))
        for key in todo:
            stats[key] = feature_statistics(np.concatenate(feats[key]))
            if key in keys:
                cache, text, probe = keys[key]
                try:
                    write_npz(cache, mu=stats[key][0], sigma=stats[key][1], key=np.array(text),
                              probe=probe)
                except OSError as e:
                    warnings.warn(f"{cache}: FID statistics not cached ({e})", RuntimeWarning,
                                  stacklevel=2)
    return stats


def _image_files(folder, extensions=(".jpg", ".png")):
    """Sorted paths of the ``extensions`` files of a real-image folder (the DPTN codes' glob
    of ``*.jpg`` and ``*.png``, case-sensitive as on Linux)."""
    if not folder or not os.path.isdir(folder):
        raise MetricInputError(f"{folder}: no folder of real images for FID")
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(extensions))
    if not files:
        raise MetricInputError(f"{folder}: no {' / '.join(extensions)} images for FID")
    return files


def dptn_fid(generated, real_dir, protocol, networks, cache=False):
    """FID of generated image files against a real-image folder under a DPTN protocol.

    Args:
        generated: paths of the generated images.
        real_dir: folder of real images (every ``*.jpg`` / ``*.png``, sorted).
        protocol: one of ``DPTN_PROTOCOLS`` (module docstring: reading, batches of 64 with
            the partial batch dropped, the code's shrinking batch size).
        networks: {"fid": extractor, "fid_torchvision": extractor} (either or both); the
            images go in as float32 [B, H, W, 3] in the score's ``FID_RANGES``.
        cache: keep the real folder's statistics in ``real_dir`` (module docstring).

    Returns:
        {score: float}.

    Raises:
        MetricInputError: no real images, fewer than 2 images in a set, or images of another
            size in a batch (named).
    """
    real = _image_files(real_dir)
    if len(real) < 2 or len(generated) < 2:
        raise MetricInputError(f"FID needs at least 2 images per set, got {len(generated)} "
                               f"generated and {len(real)} real")
    batch = min(GFLA_BATCH, len(real))
    real_stats = _folder_statistics(real, protocol, networks, batch, real_dir if cache else None)
    batch = min(batch, len(generated))  # the code's batch size only shrinks
    gen_stats = _folder_statistics(list(generated), protocol, networks, batch)
    return {key: frechet_distance(*gen_stats[key], *real_stats[key]) for key in networks}


def dptn_scores(results_dir, gt_dir, protocol, lpips=None, inception=None,
                torchvision_inception=None, fid_real_dir=None, fid_cache=False):
    """Mean scores of a DPTN results folder under ``protocol`` (module docstring).

    Args:
        results_dir: folder of ``<from>_2_<to>_vis.jpg|png`` images.
        gt_dir: folder of the target images (``dptn_pairs``).
        protocol: "dptn", "dptn_market" or "dptn_step".
        lpips: optional ``tfposegen.metrics.lpips.LPIPS`` (AlexNet, as the codes).
        inception, torchvision_inception: optional FID networks (scores ``fid`` and
            ``fid_torchvision``, module docstring); they need ``fid_real_dir``.
        fid_real_dir: folder of the real images for FID (the codes: the training images).
        fid_cache: keep the real folder's FID statistics there (keyed; see ``dptn_fid``).

    Returns:
        dict: ``n`` (pairs), ``ssim``, ``ssim_256``, ``psnr``, ``l1``, ``mae``, and
        ``lpips`` / ``fid`` / ``fid_torchvision`` when their networks are given; floats.
    """
    generated, targets = dptn_pairs(results_dir, gt_dir, protocol)
    rows = []
    for g, t in zip(generated, targets):
        try:
            rows.append(_pair_scores(_read(g, "generated image"), _read(t, "target image"),
                                     protocol))
        except MetricInputError as e:
            raise MetricInputError(f"{g} vs {t}: {e}") from None
    out = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
    n = len(generated)
    if lpips is not None:  # dptn: every pair (the code's batch 1); dptn_step: whole batches
        batch = min(GFLA_BATCH, n)
        used = n // batch * batch if protocol == "dptn_step" else n
        dist = [np.asarray(lpips.distance(
            _stack(generated[i:i + batch], lambda p: _lpips_image(p, protocol, "generated")),
            _stack(targets[i:i + batch], lambda p: _lpips_image(p, protocol, "target"))))
            for i in range(0, used, batch)]
        out["lpips"] = np.mean(np.concatenate(dist))
    networks = _networks(inception, torchvision_inception)
    if networks:
        out.update(dptn_fid(generated, fid_real_dir, protocol, networks, fid_cache))
    return {"n": n, **{k: float(v) for k, v in out.items()}}


def score_folder(results_dir, protocols, gt_dir=None, lpips=None, inception=None,
                 fid_real_dir=None, torchvision_inception=None, fid_cache=False):
    """{protocol: scores} of a results folder: "patn" / "gfla" read strips
    (:func:`read_results`, :func:`scores`; FID against the images of ``fid_real_dir``, sorted,
    of one size, when given, else the targets), the DPTN protocols DPTN folders
    (:func:`dptn_scores`; ``fid_cache`` applies to them)."""
    real = None
    networks = _networks(inception, torchvision_inception)
    out = {}
    for protocol in protocols:
        if protocol in DPTN_PROTOCOLS:
            out[protocol] = dptn_scores(results_dir, gt_dir, protocol, lpips, inception,
                                        torchvision_inception, fid_real_dir, fid_cache)
            continue
        if fid_real_dir and networks and real is None:
            files = _image_files(fid_real_dir, (".jpg", ".jpeg", ".png", ".JPG", ".JPEG",
                                                ".PNG"))
            real = _stack(files, lambda p: _read(p, "FID image"))
        generated, targets, _ = read_results(results_dir, protocol, gt_dir)
        out[protocol] = scores(generated, targets, protocol, lpips, inception, real,
                               torchvision_inception)
    return out


def networks_from_files(lpips_backbone=None, lpips_lin=None, inception_weights=None,
                        torchvision_inception=None, lpips_net="alex"):
    """The scoring networks from their files, each None when its file is not given: (LPIPS
    from torchvision's backbone .pth and the lpips v0.1 linear .pth, ``InceptionFeatures``
    from a Keras weights file, ``TorchvisionInceptionFeatures`` from
    ``inception_v3_google-*.pth``). Every given file is checked to exist before any network is
    built; MetricInputError names the first missing one (or one LPIPS file without the
    other). Reading errors are ValueErrors naming the file."""
    files = {"lpips_backbone": lpips_backbone, "lpips_lin": lpips_lin,
             "inception_weights": inception_weights,
             "torchvision_inception": torchvision_inception}
    if bool(lpips_backbone) != bool(lpips_lin):
        raise MetricInputError("LPIPS needs both its backbone and its linear-layer file")
    for what, path in files.items():
        if path and not os.path.isfile(path):
            raise MetricInputError(f"{path}: no such file ({what})")
    from tfposegen.metrics import fid, lpips
    from tfposegen.metrics import torchvision_inception as tv

    return (lpips.from_files(lpips_net, lpips_backbone, lpips_lin) if lpips_backbone else None,
            fid.InceptionFeatures(inception_weights) if inception_weights else None,
            tv.TorchvisionInceptionFeatures(torchvision_inception)
            if torchvision_inception else None)


def format_table(result):
    """The scores as a text table, one row per protocol."""
    keys = sorted({k for row in result.values() for k in row if k != "n"})
    widths = [max(9, len(k)) for k in keys]
    lines = ["protocol     n      " + "  ".join(f"{k:>{w}s}" for k, w in zip(keys, widths))]
    for protocol, row in result.items():
        lines.append(f"{protocol:11s}  {row['n']:<5d}  " + "  ".join(
            f"{row[k]:{w}.4f}" if k in row else f"{'-':>{w}s}" for k, w in zip(keys, widths)))
    return "\n".join(lines)
