"""DPIG testing (reference/dpig.md 7.1-7.3): the PG2 task (1001 / 12) and sampling of
factors (1002), writing the original's folders and file names.

Into ``<model_dir>/<test_dir_name>/``: ``x/``, ``x_target/``, ``G/``, ``pose/``,
``pose_target/``, ``mask/``, ``mask_target/`` (+ ``G_pose/`` for 1002) with ``%05d.png``
per sample ``idx = batch * B + row`` (1002's ``G/%04d_c1s1_%06d_%05d.png`` (batch, row, idx)
and ``G_pose/%04d_%04d.png``); grids ``x_fixed.png`` ... of the first batch and
``<i>_G_ssim<mean>.png`` (batch mean grey SSIM against x_target (PG2) or x (sampling)).
Pixels are truncated to uint8 as the original; ``mask/`` holds the **source** pose mask.

Fixes of the released testers (default) and ``original_quirks=True`` reproducing them:

* data order: one pass in file order (the original's provider shuffled with repetition:
  quirk = seeded shuffle, cycling);
* 1002 fed x and its boxes but took visibility and the real poses from a freshly dequeued
  batch (quirk = those two from the next batch of the iterator).
"""

import os

import numpy as np
import tensorflow as tf

from tfposegen.dpig import losses as L
from tfposegen.dpig.scores import ssim_gray
from tfposegen.dpig.train import NUM_PARTS, pose_image, save_grid, to_uint8
from tfposegen.ops.pose import normalize_rcv, pose_heatmap
from tfposegen.utils.files import write_png

FOLDERS = ("x", "x_target", "G", "pose", "pose_target", "mask", "mask_target")


def test_dir_name(number, batch_num, batch_size, sample_app=False, sample_pose=False):
    """The original's result folder name of a test model (1001, 1002, 12)."""
    if number == 1001:
        return f"test_result_ROI7_Condition_TargetPose_{batch_num}x{batch_size}"
    if number == 12:
        return f"test_samples_result_ROI7_Condition_TargetPose_{batch_num}x{batch_size}"
    return (f"test_result_ROI7_SampleApp{sample_app}SamplePose{sample_pose}_pretrain_"
            f"{batch_num}x{batch_size}")


def _appearance(nets, dataset, batch):
    boxes = batch["part_bbox"][:, :NUM_PARTS]
    vis = tf.cast(batch["part_vis"][:, :NUM_PARTS], tf.float32)
    if dataset == "market":
        return nets["encoder"](batch["x"], batch["mask_r6"], boxes, vis)
    return nets["encoder"](batch["x"], boxes, vis)


def _batch_ssim(G, ref):
    return float(np.mean([ssim_gray(g, r) for g, r in zip(G, ref)]))


def _write_common(folder, i, batch, G, g_names):
    """Per-sample PNGs of one batch (G under ``g_names``)."""
    x, xt = to_uint8(batch["x"]), to_uint8(batch["x_target"])
    pose, pose_t = pose_image(batch["pose"]), pose_image(batch["pose_target"])
    mask = (np.asarray(batch["mask"])[..., 0] * 255).astype(np.uint8)
    mask_t = (np.asarray(batch["mask_target"])[..., 0] * 255).astype(np.uint8)
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
        G = to_uint8(nets["generator"](_appearance(nets, dataset, batch), batch["pose_target"]))
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
    RCV becomes the generator's pose map as dpig.md 2.3 (de-normalise, clip, truncate).

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
        rcv_g = nets["pose_ae"](rcv) if sample_pose else tf.repeat(rcv[:1], n, axis=0)
        reloss = float(L.pose_reconstruction_loss(rcv, rcv_g))
        pose = pose_heatmap(rcv_g, h, w, normalized=True)
        if sample_app:
            app = nets["app_mapping"](rng.normal([n, nets["app_mapping"].dim],
                                                 stddev=L.NOISE_STDDEV))
        else:
            app = tf.repeat(_appearance(nets, "df", fed)[:1], n, axis=0)
        G = to_uint8(nets["generator"](app, pose))
        G_pose = pose_image(pose)
        _write_common(folder, i, batch, G, lambda i, j, idx: f"{i:04d}_c1s1_{j:06d}_{idx:05d}.png")
        for j in range(n):
            write_png(os.path.join(folder, "G_pose", f"{i:04d}_{j:04d}.png"), G_pose[j])
        if i < 4:
            mean = _batch_ssim(G, to_uint8(batch["x"]))
            save_grid(G, os.path.join(folder, f"{i}_G_ssim{mean}.png"))
            save_grid(G_pose, os.path.join(folder, f"{i}_G_pose_inflated_reLoss{reloss}.png"))
        written += n
    return written


__all__ = ["FOLDERS", "run_pg2", "run_sample_factors", "test_dir_name"]
