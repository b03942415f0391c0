"""DPTN_step's quantised step targets (``get_groundtruth`` of gkalstn000/DPTN_step's
data/base_dataset.py): the coarse-to-fine ground truths of its S generation steps.

For step j < S, with ``d_j = 255 - (255 // S) * j``, the image in [-1, 1] (float32, from
``ToTensor`` + ``Normalize(0.5, 0.5)``) becomes ``a = (x + 1) / 2 * 255``,
``q = (a // d_j) * d_j``, ``q / 255 * 2 - 1``, every operation in float32 in this order;
step S is the image itself. ``a`` is not an exact integer, so the result differs from
integer arithmetic on the uint8 pixels at a few levels (S = 5: pixel 51 at d = 51 becomes
0, not 51). torch's ``//`` on floats is ``floor_divide``: the exact remainder ``fmod(a, d)``
is taken off before dividing, then floored, and rounded up when the quotient is within 0.5
below the next integer; both functions here do the same and agree with torch at every level
(checked with torch 2.14 for S = 3, 4, 5, 7).
"""

import numpy as np
import tensorflow as tf


def step_divisors(steps):
    """``d_j`` for j = 1 .. steps - 1 (S = 5: 204, 153, 102, 51)."""
    return [255 - (255 // int(steps)) * j for j in range(1, int(steps))]


def _check(step, steps):
    if not 1 <= int(step) <= int(steps):
        raise ValueError(f"step must be in 1..{steps}, got {step}")


def step_target_np(image, step, steps):
    """Numpy twin of :func:`step_target`: float32 image in [-1, 1], any shape -> float32
    quantised image in [-1, 1]."""
    _check(step, steps)
    image = np.asarray(image, np.float32)
    if int(step) == int(steps):
        return image
    d = np.float32(255 - (255 // int(steps)) * int(step))
    a = (image + np.float32(1)) / np.float32(2) * np.float32(255)
    div = (a - np.fmod(a, d)) / d
    q = np.floor(div)
    q = np.where(div - q > 0.5, q + 1, q).astype(np.float32)
    return (q * d / np.float32(255) * np.float32(2) - np.float32(1)).astype(np.float32)


def step_target(image, step, steps):
    """The ground truth of step ``step`` (1-based) of ``steps``: float32 tensor in [-1, 1],
    any shape -> float32 tensor in [-1, 1] (graph-safe; ``step`` and ``steps`` Python
    ints)."""
    _check(step, steps)
    image = tf.convert_to_tensor(image, tf.float32)
    if int(step) == int(steps):
        return image
    d = tf.constant(255 - (255 // int(steps)) * int(step), tf.float32)
    a = (image + 1.0) / 2.0 * 255.0
    div = (a - tf.truncatemod(a, d)) / d
    q = tf.floor(div)
    q = tf.where(div - q > 0.5, q + 1.0, q)
    return q * d / 255.0 * 2.0 - 1.0


def step_map(step, height, width):
    """DPTN_step's "step map": row ``step`` of the sinusoidal table ``PositionalEncoding(d_model
    = H * W)`` of its models/dptn_networks/generator.py, as a float32 [H, W] map in [-1, 1]
    (column k -> pixel (k // W, k % W)); the generator adds it to its image inputs
    (``pe[j]`` to the target-branch input, ``pe[j + 1]`` to the source image of step j).

    Computed as the code builds the table, in float32: ``div = exp(float32(2i) *
    float32(-ln(10000) / d))``, then ``sin(step * div)`` at even and ``cos(step * div)`` at
    odd columns. Only the rows used are computed, so the 5000 x 65,536 table (1.31 GB) that
    the original stores in every checkpoint is never needed.
    """
    d = int(height) * int(width)
    div = np.exp(np.arange(0, d, 2).astype(np.float32)
                 * np.float32(-np.log(10000.0) / d)).astype(np.float32)
    angle = (np.float32(step) * div).astype(np.float32)
    row = np.empty(d, np.float32)
    row[0::2] = np.sin(angle)
    row[1::2] = np.cos(angle[: d // 2])
    return row.reshape(int(height), int(width))
