"""Image resize rules of the originals, written with ``keras.ops`` (NHWC).

``resize_bilinear_legacy`` reproduces TF1's ``tf.image.resize_images(..., BILINEAR)`` /
``tf.compat.v1.image.resize`` (the ``ResizeBilinear`` kernel with ``half_pixel_centers=False``),
which DGP uses to bring its 512 px images and masks to the 331 px input of the attribute
ResNet101. TF2's ``tf.image.resize`` samples at half-pixel centres and differs by up to
55/255 on a sample image (``DGP.py`` in RuiLiFeng/Deep-Generative-Projection resizes with TF1's
``tf.image.resize_bilinear``).

The sampling positions and weights are computed once in numpy (float32, in the same order as
the TF kernel), and the op is two gathers and two linear interpolations, one per axis: exact
element-wise float32 math, differentiable, static in shape and XLA friendly. It deliberately
avoids a matrix product with interpolation matrices, which would run at reduced precision on
GPUs that use TF32 for matmuls.
"""

import numpy as np
from keras import ops


def legacy_bilinear_weights(in_size, out_size, align_corners=False):
    """Source indices and weights of TF1 bilinear resizing along one axis.

    The TF kernel's float32 arithmetic: ``scale = in / out`` (``(in - 1) / (out - 1)`` with
    ``align_corners``), ``src = dst * scale``, ``lower = floor(src)``,
    ``upper = min(ceil(src), in - 1)``, ``lerp = src - floor(src)``.

    Args:
        in_size, out_size: positive ints, number of samples before / after resizing.
        align_corners: TF1's ``align_corners`` flag (False in DGP).

    Returns:
        ``(lower, upper, lerp)``: int32 arrays [out_size] of indices in [0, in_size - 1] and a
        float32 array [out_size] of weights in [0, 1); output sample ``i`` is
        ``v[lower[i]] + (v[upper[i]] - v[lower[i]]) * lerp[i]``.
    """
    in_size, out_size = int(in_size), int(out_size)
    if in_size < 1 or out_size < 1:
        raise ValueError(f"resize: sizes must be positive, got {in_size} -> {out_size}")
    if align_corners and out_size > 1:
        scale = np.float32(in_size - 1) / np.float32(out_size - 1)
    else:
        scale = np.float32(in_size) / np.float32(out_size)
    src = np.arange(out_size, dtype=np.float32) * np.float32(scale)
    floor = np.floor(src)
    lower = np.maximum(floor, 0).astype(np.int32)
    upper = np.minimum(np.ceil(src), in_size - 1).astype(np.int32)
    lerp = (src - floor).astype(np.float32)
    return lower, upper, lerp


def _lerp_axis(x, in_size, out_size, axis, align_corners):
    if in_size == out_size and not align_corners:
        return x
    lower, upper, lerp = legacy_bilinear_weights(in_size, out_size, align_corners)
    shape = [1, 1, 1, 1]
    shape[axis] = out_size
    a = ops.take(x, lower, axis=axis)
    b = ops.take(x, upper, axis=axis)
    return a + (b - a) * ops.cast(lerp.reshape(shape), x.dtype)


def resize_bilinear_legacy(images, size, align_corners=False):
    """Bilinear resize exactly as TF1 ``tf.image.resize_images`` (``half_pixel_centers=False``).

    Equals ``tf.compat.v1.image.resize(images, size, method='bilinear',
    align_corners=align_corners)`` up to float32 rounding: the width is interpolated first,
    then the height, as the TF kernel does. The op is linear, so any value range works
    ([0, 255] images and 0/1 masks in DGP; masks become fractional at edges).

    Args:
        images: float tensor [N, H, W, C] with static H and W.
        size: ``(out_h, out_w)`` positive ints.
        align_corners: TF1's flag; False in DGP.

    Returns:
        tensor [N, out_h, out_w, C] of the dtype of ``images``.
    """
    shape = tuple(images.shape)
    if len(shape) != 4 or shape[1] is None or shape[2] is None:
        raise ValueError(f"resize_bilinear_legacy: expected images [N, H, W, C] with static "
                         f"H and W, got shape {list(shape)}")
    out_h, out_w = (int(s) for s in size)
    x = _lerp_axis(images, shape[2], out_w, axis=2, align_corners=align_corners)
    return _lerp_axis(x, shape[1], out_h, axis=1, align_corners=align_corners)


def resize_nearest_legacy(images, size):
    """Nearest-neighbour resize as TF1 ``tf.image.resize_images(..., method=1)``
    (``align_corners=False``, ``half_pixel_centers=False``): source index
    ``min(floor(dst * in / out), in - 1)`` per axis (idinvert's VGG input resize).

    Args:
        images: tensor [N, H, W, C] with static H and W.
        size: ``(out_h, out_w)`` positive ints.

    Returns:
        tensor [N, out_h, out_w, C] of the dtype of ``images``.
    """
    shape = tuple(images.shape)
    out = images
    for axis, out_size in ((1, int(size[0])), (2, int(size[1]))):
        in_size = shape[axis]
        if in_size != out_size:
            scale = np.float32(in_size) / np.float32(out_size)
            src = np.floor(np.arange(out_size, dtype=np.float32) * scale)
            out = ops.take(out, np.minimum(src, in_size - 1).astype(np.int32), axis=axis)
    return out
