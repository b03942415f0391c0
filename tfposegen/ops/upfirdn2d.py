"""upfirdn2d: zero-insertion upsampling, padding, FIR filtering and decimation (NHWC).

Reproduces NVlabs StyleGAN2's ``dnnlib/tflib/ops/upfirdn_2d.py`` (the TF1 "ref" semantics):
for each channel plane, (1) insert ``up - 1`` zeros after every sample, (2) pad ``pad0`` zeros
before and ``pad1`` after (negative values crop), (3) convolve (true convolution, i.e. the
kernel flipped) in VALID mode, (4) keep every ``down``-th sample starting at index 0. The same
steps run along rows and columns.

Filters given as 1-D taps are applied separably (two 1-D passes of shifted slices, exact for
the outer-product kernels StyleGAN2 uses, and cheap on CPUs and under XLA), with the adjoint
filter, in the same form, as their gradient; 2-D filters run as a depthwise convolution.

Under ``tf.function(jit_compile=True)`` the stride-2 convolutions of ``upsample_conv2d`` and
``conv_downsample2d`` take their value or their gradients from polyphase forms (stride-1
convolutions on the input grid), since XLA on CPU runs convolutions of dilated inputs at about
half speed; the products are the same (StyleGAN2 synthesis at 256 px: forward 0.86x,
forward+backward 0.90x the time; ``benchmarks/bench_stylegan2.py``).
"""

import numpy as np
from keras import ops

from tfposegen.ops.xla import compiling_with_xla


def setup_filter(k):
    """Normalise FIR taps as TF1 ``_setup_kernel`` does.

    Args:
        k: 1-D taps (applied separably, e.g. ``[1, 3, 3, 1]``), a 2-D kernel, or ``None``
            (box filter ``[1, 1]``).

    Returns:
        float64 numpy array, 1-D taps scaled so that ``outer(f, f)`` sums to 1, or a 2-D kernel
        that sums to 1.
    """
    if k is None:
        k = [1, 1]
    k = np.asarray(k, dtype=np.float64)
    if k.ndim == 1:
        return k / np.sum(k)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"FIR filter must be 1-D taps or a square 2-D kernel, got shape {k.shape}")
    return k / np.sum(k)


def _zero_insert(x, up, axes=(1, 2)):
    """``up - 1`` zeros after every sample along ``axes`` of an NHWC tensor."""
    if up == 1:
        return x
    dims = list(x.shape[1:])
    split, pad = [-1], [[0, 0]]
    for axis, n in enumerate(dims, start=1):
        split.append(n)
        pad.append([0, 0])
        if axis in axes:
            split.append(1)
            pad.append([0, up - 1])
    x = ops.pad(ops.reshape(x, split), pad)
    return ops.reshape(x, [-1] + [n * up if axis in axes else n
                                  for axis, n in enumerate(dims, start=1)])


def _pad_or_crop(x, pad0, pad1):
    if pad0 > 0 or pad1 > 0:
        p = [max(pad0, 0), max(pad1, 0)]
        x = ops.pad(x, [[0, 0], p, p, [0, 0]])
    if pad0 < 0 or pad1 < 0:
        h, w = x.shape[1], x.shape[2]
        x = x[:, max(-pad0, 0):h - max(-pad1, 0), max(-pad0, 0):w - max(-pad1, 0), :]
    return x


def _fir_1d(x, taps, axis, down):
    """VALID true convolution with 1-D ``taps`` along ``axis`` (1 or 2), then decimation."""
    taps = np.asarray(taps, dtype=np.float64)[::-1]
    if x.shape[axis] - len(taps) + 1 < 1:
        raise ValueError(f"FIR filter of {len(taps)} taps is longer than the padded input "
                         f"({x.shape[axis]} samples)")
    return _correlate_1d(x, tuple(float(c) for c in taps), axis, down)


def _correlate_1d(x, taps, axis, down):
    """``y[m] = sum_t taps[t] * x[m * down + t]`` along ``axis`` (VALID), as a sum of shifted
    slices. Its gradient is the adjoint filter in the same form (``_correlate_1d_adjoint``)
    instead of the one TensorFlow derives (a padded copy of the gradient per tap, which both
    XLA and TensorFlow's kernels run far slower than the filter: StyleGAN2 synthesis at 256 px
    with its W+ gradient took 0.76x the time with the adjoint as a tf.function, 0.97x under
    XLA; the discriminator with its image gradient 0.61x / 0.92x)."""
    import tensorflow as tf

    @tf.custom_gradient
    def correlate(x):
        def grad(dy):
            return _correlate_1d_adjoint(dy, taps, axis, down, x.shape[axis])

        return _shifted_sum(x, taps, axis, down), grad

    return correlate(x)


def _correlate_1d_adjoint(dy, taps, axis, down, n_in):
    """Adjoint of ``_correlate_1d``: ``dx[n] = sum_t taps[t] * z[n - t]``, ``z`` being ``dy``
    with ``down - 1`` zeros after each sample; the same correlation (reversed taps, stride 1)
    of ``z`` padded by ``len(taps) - 1`` before, so its own gradient is ``_correlate_1d``
    again (any order)."""
    sl = [slice(None)] * 4
    sl[axis] = slice(0, (dy.shape[axis] - 1) * down + 1)   # no zeros after the last sample
    z = _zero_insert(dy, down, axes=(axis,))[tuple(sl)]
    pad = [[0, 0]] * 4
    pad[axis] = [len(taps) - 1, n_in - z.shape[axis]]
    return _correlate_1d(ops.pad(z, pad), taps[::-1], axis, 1)


def _shifted_sum(x, taps, axis, down):
    n_out = (x.shape[axis] - len(taps)) // down + 1
    acc = None
    for t, c in enumerate(taps):
        if c == 0:
            continue
        sl = [slice(None)] * 4
        sl[axis] = slice(t, t + (n_out - 1) * down + 1, down)
        term = x[tuple(sl)] * c
        acc = term if acc is None else acc + term
    return acc


def upfirdn2d(x, f, up=1, down=1, pad0=0, pad1=0, gain=1.0):
    """Upsample, pad, FIR-filter and downsample a batch of images.

    Args:
        x: float tensor [N, H, W, C] (any value range; the op is linear).
        f: filter from ``setup_filter`` (1-D separable taps or 2-D kernel), not flipped.
        up, down: integer factors, the same along both axes.
        pad0, pad1: padding before / after along both axes, applied after zero insertion;
            negative values crop.
        gain: overall scale of the filter (e.g. ``up**2`` to keep the signal magnitude).

    Returns:
        tensor [N, (H*up + pad0 + pad1 - kh)//down + 1, (same for W), C], same dtype as ``x``.
    """
    f = np.asarray(f, dtype=np.float64)
    x = _zero_insert(x, up)
    x = _pad_or_crop(x, pad0, pad1)
    if f.ndim == 1:
        x = _fir_1d(x, f * gain, axis=1, down=down)
        return _fir_1d(x, f, axis=2, down=down)
    c = x.shape[-1]
    kernel = np.tile((f[::-1, ::-1] * gain)[:, :, None, None], [1, 1, c, 1]).astype(np.float32)
    return ops.depthwise_conv(x, ops.cast(kernel, x.dtype), strides=down, padding="valid")


def filter2d(x, k=(1, 3, 3, 1), gain=1.0):
    """Low-pass filter keeping the size: ``upfirdn2d`` with centred padding. [N,H,W,C]->same."""
    f = setup_filter(k)
    p = f.shape[0] - 1
    return upfirdn2d(x, f, pad0=(p + 1) // 2, pad1=p // 2, gain=gain)


def upsample2d(x, k=(1, 3, 3, 1), factor=2, gain=1.0):
    """TF1 ``upsample_2d``: zero insertion + FIR. [N,H,W,C] -> [N,H*factor,W*factor,C]."""
    f = setup_filter(k)
    p = f.shape[0] - factor
    return upfirdn2d(x, f, up=factor, pad0=(p + 1) // 2 + factor - 1, pad1=p // 2,
                     gain=gain * factor ** 2)


def downsample2d(x, k=(1, 3, 3, 1), factor=2, gain=1.0):
    """TF1 ``downsample_2d``: FIR + decimation. [N,H,W,C] -> [N,H/factor,W/factor,C]."""
    f = setup_filter(k)
    p = f.shape[0] - factor
    return upfirdn2d(x, f, down=factor, pad0=(p + 1) // 2, pad1=p // 2, gain=gain)


def upsample_conv2d(x, w, k=(1, 3, 3, 1), factor=2, gain=1.0):
    """TF1 ``upsample_conv_2d``: stride-``factor`` transposed convolution, then FIR.

    The TF1 code flips the stored kernel and swaps its channel axes before
    ``conv2d_transpose``; this does the same, so kernels taken straight from a TF pickle are
    used unflipped (equivalently: zero-insert, pad k-1, cross-correlate with the stored kernel).

    Args:
        x: [N, H, W, Cin].
        w: kernel [kh, kw, Cin, Cout] (TF HWIO layout), already multiplied by its runtime scale.

    Returns:
        [N, H*factor, W*factor, Cout].
    """
    kh, kw = int(w.shape[0]), int(w.shape[1])
    if kh != kw:
        raise ValueError(f"upsample_conv2d needs a square kernel, got {kh}x{kw}")
    f = setup_filter(k)
    p = (f.shape[0] - factor) - (kw - 1)
    y = _transposed_conv(x, w, factor)
    return upfirdn2d(y, f, pad0=(p + 1) // 2 + factor - 1, pad1=p // 2 + 1,
                     gain=gain * factor ** 2)


def conv_downsample2d(x, w, k=(1, 3, 3, 1), factor=2, gain=1.0):
    """TF1 ``conv_downsample_2d``: FIR (padding once), then stride-``factor`` VALID conv.

    Args:
        x: [N, H, W, Cin].
        w: kernel [kh, kw, Cin, Cout], already multiplied by its runtime scale.

    Returns:
        [N, H/factor, W/factor, Cout].
    """
    kw = int(w.shape[1])
    f = setup_filter(k)
    p = (f.shape[0] - factor) + (kw - 1)
    x = upfirdn2d(x, f, pad0=(p + 1) // 2, pad1=p // 2, gain=gain)
    return _strided_conv(x, w, factor)


def _transposed_conv(x, w, factor):
    """Stride-``factor`` transposed convolution: zero-insert ``x``, pad ``k - 1``, correlate with
    ``w`` [k, k, Cin, Cout]. [N, H, W, Cin] -> [N, (H-1)*factor + k, (W-1)*factor + k, Cout].

    XLA on CPU runs a convolution of a dilated (zero-inserted) input at about half the speed
    of a stride-1 one, so under ``jit_compile`` the value is computed in polyphase form
    (``_transposed_conv_phases``) and the gradients, which are strided convolutions, in the
    ordinary form. Same products either way. oneDNN (TF without XLA) runs the ordinary form
    faster, so it is used there.
    """
    if int(w.shape[0]) < factor or not compiling_with_xla():
        return _transposed_conv_dilated(x, w, factor)
    return _value_and_gradient_forms(_transposed_conv_phases, _transposed_conv_dilated,
                                     x, w, factor)


def _strided_conv(x, w, factor):
    """VALID convolution with stride ``factor``, [N, H, W, Cin] -> [N, (H-k)//factor + 1, ...].

    Under ``jit_compile`` its gradients come from the polyphase form
    (``_strided_conv_phases``), whose data gradient is made of stride-1 convolutions instead
    of the dilated-input one XLA runs at about half speed on CPU; its value from the ordinary
    strided convolution, which XLA runs well.
    """
    if not compiling_with_xla():
        return _strided_conv_plain(x, w, factor)
    return _value_and_gradient_forms(_strided_conv_plain, _strided_conv_phases, x, w, factor)


def _value_and_gradient_forms(value_form, gradient_form, x, w, factor):
    """``value_form(x, w, factor)`` with the gradients (w.r.t. ``x`` and ``w``, to any order) of
    ``gradient_form``: two equal, bilinear computations of one convolution. TensorFlow only."""
    import tensorflow as tf

    @tf.custom_gradient
    def conv(x, w):
        def grad(dy):
            with tf.GradientTape() as tape:
                tape.watch([x, w])
                y = gradient_form(x, w, factor)
            return tape.gradient(y, [x, w], output_gradients=dy)

        return value_form(x, w, factor), grad

    return conv(tf.convert_to_tensor(x), tf.convert_to_tensor(w, dtype=x.dtype))


def _transposed_conv_dilated(x, w, factor):
    k = int(w.shape[0])
    kernel = ops.transpose(ops.flip(ops.flip(w, 0), 1), [0, 1, 3, 2])
    y = ops.conv_transpose(x, kernel, strides=factor, padding="valid")
    # Keras pads the output when k < factor.
    return y[:, :(x.shape[1] - 1) * factor + k, :(x.shape[2] - 1) * factor + k, :]


def _transposed_conv_phases(x, w, factor):
    """Output phase ``r`` (rows ``factor*m + r``) only meets the taps ``w[j0::factor]``: one
    stride-1 convolution on the input grid per phase, then the phases interleaved."""
    k = int(w.shape[0])
    h, wd, cout = x.shape[1], x.shape[2], w.shape[3]
    rows = [_phase(k, factor, r, h) for r in range(factor)]
    cols = [_phase(k, factor, r, wd) for r in range(factor)]
    nh, nw = rows[0][3], cols[0][3]  # phase 0 is the longest
    grid = []
    for taps_r, before_r, after_r, n_r in rows:
        line = []
        for taps_c, before_c, after_c, n_c in cols:
            xp = ops.pad(x, [[0, 0], [before_r, after_r], [before_c, after_c], [0, 0]])
            y = ops.conv(xp, w[taps_r][:, taps_c], strides=1, padding="valid")
            line.append(ops.pad(y, [[0, 0], [0, nh - n_r], [0, nw - n_c], [0, 0]]))
        grid.append(ops.stack(line, axis=3))  # [N, nh, nw, factor, Cout]
    y = ops.reshape(ops.stack(grid, axis=2), [-1, nh * factor, nw * factor, cout])
    return y[:, :(h - 1) * factor + k, :(wd - 1) * factor + k, :]


def _phase(k, factor, r, n_in):
    """Output phase ``r`` of a transposed conv along one axis: (tap slice, pad before, pad after,
    length). Output ``factor*m + r`` = sum over taps ``j = j0 + factor*t`` of
    ``x[m + t - before] * w[j]``."""
    j0 = (k - 1 - r) % factor
    n_taps = len(range(j0, k, factor))
    before = (k - 1 - j0 - r) // factor
    n_out = -(-((n_in - 1) * factor + k - r) // factor)
    return slice(j0, k, factor), before, n_out - n_in - before + n_taps - 1, n_out


def _strided_conv_plain(x, w, factor):
    return ops.conv(x, w, strides=factor, padding="valid")


def _strided_conv_phases(x, w, factor):
    """Sum over input phases ``x[:, a::factor, b::factor]`` of stride-1 convolutions with the
    taps ``w[a::factor, b::factor]``. The phases are taken by padding to a multiple of
    ``factor``, reshaping and unstacking, whose gradient is one interleave, not a padded copy
    per phase as for strided slices (discriminator at 256 px with its image gradient under
    XLA: 0.95x the time)."""
    import tensorflow as tf

    k, (h, wd, c) = int(w.shape[0]), x.shape[1:]
    ho, wo = (h - k) // factor + 1, (wd - k) // factor + 1
    hp, wp = -(-h // factor), -(-wd // factor)
    x = ops.pad(x, [[0, 0], [0, hp * factor - h], [0, wp * factor - wd], [0, 0]])
    x = ops.reshape(x, [-1, hp, factor, wp, factor, c])
    y = None
    for a, rows in enumerate(tf.unstack(x, axis=2)[:k]):
        for b, phase in enumerate(tf.unstack(rows, axis=3)[:k]):
            term = ops.conv(phase, w[a::factor, b::factor], strides=1,
                            padding="valid")[:, :ho, :wo]
            y = term if y is None else y + term
    return y
