"""2x2 max pooling with TensorFlow's gradient, in a form XLA runs well on CPU."""

from keras import ops

from tfposegen.ops.xla import compiling_with_xla


def max_pool_2x2(x):
    """2x2 max pooling with stride 2 and VALID padding (VGG's pools), NHWC.

    The gradient goes to the first maximum of each window in row-major order, as
    TensorFlow's ``MaxPool`` gradient (and torch's ``max_pool2d``) routes it, ties included.
    Under ``jit_compile`` it is computed from the four window phases (compare and select),
    since XLA's select-and-scatter gradient of ``MaxPool`` is ~3x slower on CPU (VGG16's
    pools at 256 px, forward+backward); elsewhere it is ``ops.max_pool``.

    Args:
        x: [N, H, W, C] float; an odd last row / column is dropped.

    Returns:
        [N, H // 2, W // 2, C], same dtype.
    """
    if not compiling_with_xla():
        return ops.max_pool(x, 2, strides=2, padding="valid")
    h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
    phases = [x[:, a:h:2, b:w:2] for a in (0, 1) for b in (0, 1)]  # row-major window order
    y = ops.stop_gradient(ops.maximum(ops.maximum(phases[0], phases[1]),
                                      ops.maximum(phases[2], phases[3])))
    out, taken = None, None
    for p in phases:
        hit = ops.equal(p, y)
        if taken is not None:
            hit = ops.logical_and(hit, ops.logical_not(taken))
        taken = hit if taken is None else ops.logical_or(taken, hit)
        term = ops.where(hit, p, ops.zeros_like(p))
        out = term if out is None else out + term
    return out
