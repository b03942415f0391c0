"""Pose and appearance interpolation between two real images (DPIG's README figures; the
released code has only the flags and a slerp helper, ``utils.py``).

Both factors are interpolated in their embedding space by spherical interpolation:
appearance embeddings from the encoder (DF [224], Market [fg 224 | bg 128]), pose
embeddings from the pose auto-encoder's encoder (decoded back to keypoints and drawn as the
generator's pose map). Images NHWC float32 in [-1, 1].
"""

import os

import numpy as np
import tensorflow as tf

from tfposegen.models.dpig.models import appearance
from tfposegen.models.dpig.train import save_grid, to_uint8
from tfposegen.pose.maps import normalize_rcv, pose_heatmap

FACTORS = ("appearance", "fg", "bg", "pose")


def slerp(t, low, high):
    """Spherical interpolation of row vectors (linear where they are parallel), as the
    original's ``utils.slerp`` but batched.

    Args:
        t: float in [0, 1].
        low, high: float [B, D].

    Returns:
        float32 [B, D]; ``low`` at t = 0 and ``high`` at t = 1.
    """
    low, high = tf.cast(low, tf.float32), tf.cast(high, tf.float32)
    unit = lambda v: v / tf.maximum(tf.norm(v, axis=-1, keepdims=True), 1e-12)  # noqa: E731
    cos = tf.clip_by_value(tf.reduce_sum(unit(low) * unit(high), -1, keepdims=True), -1., 1.)
    omega = tf.acos(cos)
    so = tf.sin(omega)
    safe = tf.where(so > 1e-6, so, 1.0)
    spherical = (tf.sin((1.0 - t) * omega) * low + tf.sin(t * omega) * high) / safe
    return tf.where(so > 1e-6, spherical, (1.0 - t) * low + t * high)


def interpolate(nets, dataset, source, target, factor, steps=8):
    """Render ``source`` while one factor moves from its own value to ``target``'s.

    Args:
        nets: "encoder", "generator" (+ "pose_ae" for ``factor="pose"``), restored.
        dataset: "df" or "market".
        source, target: batches (``dpig_dataset`` dicts) of equal size B.
        factor: "appearance" (whole embedding), "fg" / "bg" (Market's two parts) or "pose".
        steps: frames, t = 0 ... 1 inclusive.

    Returns:
        float32 [steps, B, H, W, 3] in [-1, 1]: frame 0 has the source's factor, the last
        frame the target's, the other factors stay the source's. Pose frames are drawn from
        the pose AE's decoding, so their ends are the AE's reconstructions of the two poses.
    """
    if factor not in FACTORS:
        raise ValueError(f"factor must be one of {FACTORS}, got {factor!r}")
    h, w = source["x"].shape[1], source["x"].shape[2]
    app_s = appearance(nets, dataset, source)
    rcv_s = normalize_rcv(source["pose_rcv"], h, w)
    frames = []
    if factor == "pose":
        ae = nets["pose_ae"]
        z_s, z_t = ae.encode(rcv_s), ae.encode(normalize_rcv(target["pose_rcv"], h, w))
    else:
        app_t = appearance(nets, dataset, target)
        part = app_s.shape[-1] if factor == "appearance" else nets["fg_mapping"].dim
        keep = slice(0, part) if factor != "bg" else slice(part, None)
    for t in np.linspace(0.0, 1.0, steps):
        if factor == "pose":
            rcv, app = nets["pose_ae"].decode(slerp(t, z_s, z_t)), app_s
        else:
            mixed = slerp(t, app_s[:, keep], app_t[:, keep])
            app = (mixed if factor == "appearance" else
                   tf.concat([mixed, app_s[:, part:]], -1) if factor == "fg" else
                   tf.concat([app_s[:, :part], mixed], -1))
            rcv = rcv_s
        frames.append(nets["generator"](app, pose_heatmap(rcv, h, w, normalized=True)))
    return tf.stack(frames)


def run_interpolation(nets, dataset, data, folder, batch_num, factor, steps=8):
    """Interpolate between consecutive batches' images (source = batch 2k, target = batch
    2k + 1, row by row) and write one grid per source row: ``<folder>/<k>_<row>.png``, the
    source image, ``steps`` frames, then the target image (``steps + 2`` columns).

    Returns:
        number of grids written.
    """
    os.makedirs(folder, exist_ok=True)
    written = 0
    for k in range(batch_num):
        source, target = next(data, None), next(data, None)
        if source is None or target is None:
            break
        frames = to_uint8(interpolate(nets, dataset, source, target, factor, steps))
        xs, xt = to_uint8(source["x"]), to_uint8(target["x"])
        for row in range(frames.shape[1]):
            strip = np.concatenate([xs[row:row + 1], frames[:, row], xt[row:row + 1]])
            save_grid(strip, os.path.join(folder, f"{k}_{row}.png"), nrow=steps + 2)
            written += 1
    return written


__all__ = ["FACTORS", "interpolate", "run_interpolation", "slerp"]
