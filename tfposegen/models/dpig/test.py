"""DPIG testing (``trainer.py`` / ``trainer_256.py`` in
charliememory/Disentangled-Person-Image-Generation): the PG2 task (1001 / 12), sampling of factors
(1002 on DF, 13 on Market) and the Market re-id set (11), writing the original's folders and
file names.

Into ``<model_dir>/<test_dir_name>/``: ``x/``, ``x_target/``, ``G/``, ``pose/``,
``pose_target/``, ``mask/``, ``mask_target/`` (+ ``G_pose/`` for 1002) with ``%05d.png``
per sample ``idx = batch * B + row`` (1002's ``G/%04d_c1s1_%06d_%05d.png`` (batch, row, idx),
11 / 13's ``G/%04d_c1s1_%06d_%05d_%f.png`` (+ the image's mean critic logit), and
``G_pose/%04d_%04d.png``); grids ``x_fixed.png`` ... of the first batch and
``<i>_G_ssim<mean>.png`` (batch mean grey SSIM against x_target (PG2) or x (sampling)).
Pixels are truncated to uint8 as the original; ``mask/`` holds the **source** pose mask
(DF radius 4; Market the radius-7 "r6" mask, as the Market testers read ``mask_r6``).

Fixes of the released testers (default) and ``original_quirks=True`` reproducing them:

* data order: one pass in file order (the original's provider shuffled with repetition:
  quirk = seeded shuffle, cycling);
* 1002 fed x and its boxes but took visibility and the real poses from a freshly dequeued
  batch (quirk = those two from the next batch of the iterator);
* 13 likewise took the real poses, ``mask_r6`` and visibility from a fresh batch (quirk =
  from the next batch). 11 renders in *random* real poses by design: it always takes them
  from the next batch.
"""

import os

import numpy as np
import tensorflow as tf

from tfposegen.metrics.image import ssim_gray
from tfposegen.models.dpig import losses as L
from tfposegen.models.dpig.models import appearance
from tfposegen.models.dpig.train import pose_image, save_grid, to_uint8
from tfposegen.pose.maps import normalize_rcv, pose_heatmap
from tfposegen.utils.files import write_png

FOLDERS = ("x", "x_target", "G", "pose", "pose_target", "mask", "mask_target")


def test_dir_name(number, batch_num, batch_size, sample_app=False, sample_pose=False,
                  sample_fg=False, sample_bg=False):
    """The original's result folder name of a test model (1001, 1002, 11, 12, 13)."""
    if number == 11:
        return f"test_result_ROI7_RealFgBgRandomPose_FixFgRandBg_pretrain_{batch_num}x{batch_size}"
    if number == 13:
        return (f"test_result_ROI7_SampleFg{sample_fg}SampleBg{sample_bg}SamplePose"
                f"{sample_pose}_pretrain_{batch_num}x{batch_size}")
    if number == 1001:
        return f"test_result_ROI7_Condition_TargetPose_{batch_num}x{batch_size}"
    if number == 12:
        return f"test_samples_result_ROI7_Condition_TargetPose_{batch_num}x{batch_size}"
    return (f"test_result_ROI7_SampleApp{sample_app}SamplePose{sample_pose}_pretrain_"
            f"{batch_num}x{batch_size}")


def _batch_ssim(G, ref):
    return float(np.mean([ssim_gray(g, r) for g, r in zip(G, ref)]))


def _write_common(folder, i, batch, G, g_names):
    """Per-sample PNGs of one batch (G under ``g_names``)."""
    x, xt = to_uint8(batch["x"]), to_uint8(batch["x_target"])
    pose, pose_t = pose_image(batch["pose"]), pose_image(batch["pose_target"])
    key = "mask_r6" if "mask_r6" in batch else "mask"
    mask = (np.asarray(batch[key])[..., 0] * 255).astype(np.uint8)
    mask_t = (np.asarray(batch[key + "_target"])[..., 0] * 255).astype(np.uint8)
    n = x.shape[0]
    for j in range(n):
        idx = i * n + j
        for sub, arr in (("x", x), ("x_target", xt), ("pose", pose), ("pose_target", pose_t),
                         ("mask", mask), ("mask_target", mask_t)):
            write_png(os.path.join(folder, sub, f"{idx:05d}.png"), arr[j])
        write_png(os.path.join(folder, "G", g_names(i, j, idx)), G[j])
    if i == 0:
        for t, xs, ps, ms in (("", x, pose, mask), ("_target", xt, pose_t, mask_t)):
            save_grid(xs, os.path.join(folder, f"x{t}_fixed.png"))
            save_grid(ms, os.path.join(folder, f"mask{t}_fixed.png"))
            save_grid(ps, os.path.join(folder, f"pose{t}_fixed.png"))


def _sampled(mapping, n, rng):
    """Mapping net on N(0, 0.2^2) noise: [n, mapping.dim]."""
    return mapping(rng.normal([n, mapping.dim], stddev=L.NOISE_STDDEV))


def _first_repeated(t, n):
    """Row 0 of ``t`` repeated n times."""
    return tf.repeat(t[:1], n, axis=0)


def _make_dirs(folder, extra=()):
    for sub in FOLDERS + tuple(extra):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)


def run_pg2(nets, dataset, data, folder, batch_num):
    """PG2 task (1001 / 12): G = Gen(Enc(x, boxes, vis), pose map of x_target).

    Args:
        nets: dict with "encoder", "generator" (restored).
        dataset: "df" or "market".
        data: iterator of batches (``dpig_dataset`` dicts).
        folder: output folder (created).
        batch_num: batches to run (stops early when ``data`` ends).

    Returns:
        number of images written to ``G/``.
    """
    _make_dirs(folder)
    written = 0
    for i in range(batch_num):
        batch = next(data, None)
        if batch is None:
            break
        G = to_uint8(nets["generator"](appearance(nets, dataset, batch), batch["pose_target"]))
        _write_common(folder, i, batch, G, lambda i, j, idx: f"{idx:05d}.png")
        if i == 0:
            mean = _batch_ssim(G, to_uint8(batch["x_target"]))
            save_grid(G, os.path.join(folder, f"{i}_G_ssim{mean}.png"))
        written += G.shape[0]
    return written


def run_sample_factors(nets, data, folder, batch_num, sample_app, sample_pose, seed=0,
                       original_quirks=False):
    """Sampling of appearance and / or pose (1002, DF).

    Appearance: ``sample_app`` -> Gaussian_FC(z), z ~ N(0, 0.2^2) per row; else the first
    row's real embedding repeated. Pose: ``sample_pose`` -> the pose decoder applied to the
    pose encoder's embedding of the batch's real poses (what the original wires; PoseGaussian
    is restored but unused there); else the first row's real pose repeated. The normalised
    RCV becomes the generator's pose map as the original's (de-normalise, clip, truncate).

    Args:
        nets: "encoder", "generator", "app_mapping", "pose_ae" (restored).
        data: iterator of batches; folder, batch_num: as :func:`run_pg2`.
        original_quirks: take the visibility and the real poses from the next batch of
            ``data`` (the released tester's feeding bug).

    Returns:
        number of images written to ``G/``.
    """
    _make_dirs(folder, ("G_pose",))
    rng = tf.random.Generator.from_seed(seed)
    written = 0
    for i in range(batch_num):
        batch = next(data, None)
        other = next(data, None) if original_quirks else batch
        if batch is None or other is None:
            break
        h, w = batch["x"].shape[1], batch["x"].shape[2]
        n = batch["x"].shape[0]
        fed = dict(batch, part_vis=other["part_vis"])
        rcv = normalize_rcv(other["pose_rcv"], h, w)
        rcv_g = nets["pose_ae"](rcv) if sample_pose else _first_repeated(rcv, n)
        reloss = float(L.pose_reconstruction_loss(rcv, rcv_g))
        pose = pose_heatmap(rcv_g, h, w, normalized=True)
        if sample_app:
            app = _sampled(nets["app_mapping"], n, rng)
        else:
            app = _first_repeated(appearance(nets, "df", fed), n)
        G = to_uint8(nets["generator"](app, pose))
        _write_samples(folder, i, batch, G, pose, reloss,
                       lambda i, j, idx: f"{i:04d}_c1s1_{j:06d}_{idx:05d}.png")
        written += n
    return written


def _write_samples(folder, i, batch, G, pose, reloss, g_names):
    """A sampling test's batch: the common folders, ``G_pose/`` and the first 4 batches'
    grids (G with its grey SSIM against x, the inflated pose maps)."""
    G_pose = pose_image(pose)
    _write_common(folder, i, batch, G, g_names)
    for j in range(G.shape[0]):
        write_png(os.path.join(folder, "G_pose", f"{i:04d}_{j:04d}.png"), G_pose[j])
    if i < 4:
        mean = _batch_ssim(G, to_uint8(batch["x"]))
        save_grid(G, os.path.join(folder, f"{i}_G_ssim{mean}.png"))
        save_grid(G_pose, os.path.join(folder, f"{i}_G_pose_inflated_reLoss{reloss}.png"))


def run_sample_market(nets, data, folder, batch_num, number, sample_fg=False, sample_bg=False,
                      sample_pose=False, one_app_per_batch=False, seed=0,
                      original_quirks=False):
    """Market sampling tests 11 (re-id set) and 13 (sampling factors), Market 128x64.

    Appearance = [fg 224 | bg 128]. Model 13: each factor sampled (``sample_fg`` /
    ``sample_bg``: its mapping net on N(0, 0.2^2) noise per row) or the first row's real
    embedding repeated; pose: ``sample_pose`` -> the pose AE's reconstruction of the real
    poses (as 1002), else the first row's real pose repeated. Model 11 (``sample_fg`` stands
    for the original's ``sample_app``): with it, both factors sampled per row, and with
    ``one_app_per_batch`` the first row's foreground repeated (one identity per batch, a
    new background per row); without it, real embeddings (first row's foreground repeated
    when ``one_app_per_batch``); the poses are the real poses of the next batch. Each image
    is named with its mean critic logit.

    Args:
        nets: "encoder", "generator", "critic", "fg_mapping", "bg_mapping", "pose_ae".
        data: iterator of Market batches (with ``mask_r6``); folder, batch_num: as
            :func:`run_pg2`.
        number: 11 or 13.
        original_quirks: 13: real poses, ``mask_r6`` and visibility from the next batch.

    Returns:
        number of images written to ``G/``.
    """
    _make_dirs(folder, ("G_pose",))
    rng = tf.random.Generator.from_seed(seed)
    written = 0
    for i in range(batch_num):
        batch = next(data, None)
        other = next(data, None) if number == 11 or original_quirks else batch
        if batch is None or other is None:
            break
        h, w = batch["x"].shape[1], batch["x"].shape[2]
        n = batch["x"].shape[0]
        fed = dict(batch, mask_r6=other["mask_r6"], part_vis=other["part_vis"])
        real = appearance(nets, "market", fed)
        part = nets["fg_mapping"].dim
        fg, bg = real[:, :part], real[:, part:]
        rcv = normalize_rcv(other["pose_rcv"], h, w)
        if number == 11:
            if sample_fg:
                fg, bg = _sampled(nets["fg_mapping"], n, rng), _sampled(nets["bg_mapping"], n, rng)
            if one_app_per_batch:
                fg = _first_repeated(fg, n)
            rcv_g = rcv
        else:
            fg = _sampled(nets["fg_mapping"], n, rng) if sample_fg else _first_repeated(fg, n)
            bg = _sampled(nets["bg_mapping"], n, rng) if sample_bg else _first_repeated(bg, n)
            rcv_g = nets["pose_ae"](rcv) if sample_pose else _first_repeated(rcv, n)
        reloss = float(L.pose_reconstruction_loss(rcv, rcv_g))
        pose = pose_heatmap(rcv_g, h, w, normalized=True)
        fake = nets["generator"](tf.concat([fg, bg], -1), pose)
        score = np.asarray(tf.reduce_mean(tf.reshape(nets["critic"](fake), [n, -1]), -1))
        _write_samples(folder, i, batch, to_uint8(fake), pose, reloss,
                       lambda i, j, idx, s=score: f"{i:04d}_c1s1_{j:06d}_{idx:05d}_{s[j]:f}.png")
        written += n
    return written


__all__ = ["FOLDERS", "run_pg2", "run_sample_factors", "run_sample_market", "test_dir_name"]
