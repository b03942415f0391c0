"""ops against independent formulas: scipy.signal.upfirdn, per-sample fused modulation, numpy."""

import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from tfposegen import ops


def ref_upfirdn2d(x, k1, up, down, pad0, pad1, gain):
    """NHWC reference from scipy's 1-D upfirdn (full convolution), cropped to TF1's padding."""
    k1 = np.asarray(k1, np.float64) / np.sum(k1)
    kh = len(k1)

    def along(a, axis, g):
        full = np.apply_along_axis(lambda v: scipy.signal.upfirdn(k1 * g, v, up=up), axis, a)
        n = a.shape[axis] * up
        # scipy: zero insertion then full convolution; TF1: pad (pad0, pad1) then VALID.
        padded = np.pad(full, [(0, 0)] * axis + [(kh, kh)] + [(0, 0)] * (a.ndim - axis - 1))
        start = kh + (kh - 1) - pad0
        length = n + pad0 + pad1 - kh + 1
        sl = [slice(None)] * a.ndim
        sl[axis] = slice(start, start + length, down)
        return padded[tuple(sl)]

    return along(along(x.astype(np.float64), 1, gain), 2, 1.0)


@pytest.mark.parametrize("up,down,pad0,pad1,gain", [
    (2, 1, 2, 1, 4.0), (1, 1, 1, 1, 4.0), (1, 1, 2, 2, 1.0), (1, 2, 1, 1, 1.0), (1, 1, -1, 2, 1.0)])
def test_upfirdn2d_matches_scipy(rng, up, down, pad0, pad1, gain):
    x = rng.normal(size=(2, 9, 9, 3)).astype(np.float32)
    k = [1, 3, 3, 1]
    got = ops.upfirdn2d(x, ops.setup_filter(k), up=up, down=down, pad0=pad0, pad1=pad1,
                        gain=gain)
    want = ref_upfirdn2d(x, k, up, down, pad0, pad1, gain)
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("up,down,pad0,pad1", [(2, 1, 2, 1), (1, 2, 1, 1), (1, 3, 0, 2),
                                               (2, 2, 1, 0), (1, 1, -1, 2)])
def test_upfirdn2d_gradients_are_the_transposed_filter_to_second_order(rng, up, down, pad0,
                                                                       pad1, jit):
    """The FIR's gradient (its adjoint filter, with and without XLA) is M^T dy for the matrix
    M of the scipy reference, and the gradient of ``sum(g^2)``, ``g = M^T sin(M x)``, is
    ``M^T (cos(M x) * M 2g)``."""
    shape, k = (1, 5, 6, 1), [1, 2, 5, 3]  # asymmetric: the adjoint reverses the taps
    basis = np.eye(int(np.prod(shape))).reshape((-1,) + shape)
    m = np.stack([ref_upfirdn2d(e, k, up, down, pad0, pad1, 2.0).ravel() for e in basis], 1)
    x = rng.normal(size=shape)

    def grads(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = ops.upfirdn2d(x, ops.setup_filter(k), up, down, pad0, pad1, gain=2.0)
            g = inner.gradient(y, x, output_gradients=tf.sin(y))
            loss = tf.reduce_sum(tf.square(g))
        return g, outer.gradient(loss, x)

    g, gg = tf.function(grads, jit_compile=jit)(tf.constant(x, tf.float32))
    y = m @ x.ravel()
    want_g = m.T @ np.sin(y)
    np.testing.assert_allclose(np.ravel(g), want_g, atol=1e-5)
    np.testing.assert_allclose(np.ravel(gg), m.T @ (np.cos(y) * (m @ (2 * want_g))),
                               atol=1e-4)


def test_upfirdn2d_2d_kernel_equals_separable(rng):
    x = rng.normal(size=(1, 8, 8, 2)).astype(np.float32)
    f1 = ops.setup_filter([1, 3, 3, 1])
    sep = ops.upfirdn2d(x, f1, up=2, pad0=2, pad1=1, gain=4)
    full = ops.upfirdn2d(x, np.outer(f1, f1), up=2, pad0=2, pad1=1, gain=4)
    np.testing.assert_allclose(np.asarray(sep), np.asarray(full), atol=1e-6)


def test_resample_helpers_shapes_and_dc_gain():
    x = np.ones((1, 8, 8, 2), np.float32)
    up = np.asarray(ops.upsample2d(x))
    down = np.asarray(ops.downsample2d(x))
    assert up.shape == (1, 16, 16, 2) and down.shape == (1, 4, 4, 2)
    # Interior pixels of a constant image keep their value (filters are normalised).
    np.testing.assert_allclose(up[:, 2:-2, 2:-2], 1.0, atol=1e-6)
    np.testing.assert_allclose(down[:, 1:-1, 1:-1], 1.0, atol=1e-6)


def ref_upsample_conv(x, w):
    """NVlabs/stylegan2 ``dnnlib/tflib/ops/upfirdn_2d.py``: zero-insert to 2H-1, pad 2, correlate
    with the stored
    (unflipped) kernel, pad 1, FIR 4*K4 -> 2H."""
    n, h, wd, cin = x.shape
    z = np.zeros((n, 2 * h - 1, 2 * wd - 1, cin))
    z[:, ::2, ::2] = x
    z = np.pad(z, [(0, 0), (2, 2), (2, 2), (0, 0)])
    k = w.shape[0]
    out = np.zeros((n, z.shape[1] - k + 1, z.shape[2] - k + 1, w.shape[3]))
    for i in range(k):
        for j in range(k):
            out += np.einsum("nhwc,co->nhwo", z[:, i:i + out.shape[1], j:j + out.shape[2]],
                             w[i, j])
    return ref_upfirdn2d(out, [1, 3, 3, 1], 1, 1, 1, 1, 4.0)


def test_upsample_conv2d_matches_zero_insertion_form(rng):
    x = rng.normal(size=(2, 5, 5, 3)).astype(np.float32)
    w = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    got = np.asarray(ops.upsample_conv2d(x, w))
    assert got.shape == (2, 10, 10, 4)
    np.testing.assert_allclose(got, ref_upsample_conv(x, w), atol=1e-4)


def test_upsample_then_conv_is_not_the_same(rng):
    """Pitfall 9 of the spec: resize-then-conv is a different operator."""
    x = rng.normal(size=(1, 5, 5, 3)).astype(np.float32)
    w = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    naive = tf.nn.conv2d(ops.upsample2d(x), w, 1, "SAME")
    assert np.abs(np.asarray(naive) - np.asarray(ops.upsample_conv2d(x, w))).max() > 0.1


def test_conv_downsample2d_matches_filter_then_strided_conv(rng):
    x = rng.normal(size=(1, 8, 8, 3)).astype(np.float32)
    for k in (1, 3):
        w = rng.normal(size=(k, k, 3, 2)).astype(np.float32)
        p = 2 + (k - 1)
        filt = ref_upfirdn2d(x, [1, 3, 3, 1], 1, 1, (p + 1) // 2, p // 2, 1.0)
        want = tf.nn.conv2d(filt.astype(np.float32), w, 2, "VALID")
        got = ops.conv_downsample2d(x, w)
        assert got.shape == (1, 4, 4, 2)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)


def test_bias_act():
    x = np.array([[-2.0, 3.0]], np.float32)
    b = np.array([1.0, -1.0], np.float32)
    np.testing.assert_allclose(ops.bias_act(x, b, "lrelu"), [[-0.2 * np.sqrt(2), 2 * np.sqrt(2)]],
                               rtol=1e-6)
    np.testing.assert_allclose(ops.bias_act(x, b, "linear"), [[-1.0, 2.0]])
    with pytest.raises(ValueError, match="unknown activation"):
        ops.bias_act(x, b, "gelu2")


def test_modulated_conv2d_matches_fused_per_sample_form(rng):
    x = rng.normal(size=(3, 6, 6, 4)).astype(np.float32)
    w = rng.normal(size=(3, 3, 4, 5)).astype(np.float32) / 6
    s = rng.normal(size=(3, 4)).astype(np.float32) + 1
    for up in (False, True):
        got = np.asarray(ops.modulated_conv2d(x, w, s, demodulate=True, up=up))
        for n in range(3):
            ww = w * s[n][None, None, :, None]
            ww = ww / np.sqrt(np.sum(ww ** 2, axis=(0, 1, 2)) + 1e-8)
            want = (ops.upsample_conv2d(x[n:n + 1], ww) if up
                    else tf.nn.conv2d(x[n:n + 1], ww, 1, "SAME"))
            np.testing.assert_allclose(got[n:n + 1], np.asarray(want), atol=1e-4)


def test_minibatch_stddev_groups_like_tf1(rng):
    x = rng.normal(size=(4, 2, 2, 6)).astype(np.float32)
    got = np.asarray(ops.minibatch_stddev(x, group_size=2, num_new_features=2))
    assert got.shape == (4, 2, 2, 8)
    np.testing.assert_array_equal(got[..., :6], x)
    # TF1: group size 2, M = 2 groups, sample i belongs to group i % 2.
    for i in range(4):
        members = x[[i % 2, i % 2 + 2]]
        for f in range(2):
            chans = members[..., 3 * f:3 * f + 3]
            std = np.sqrt(chans.var(axis=0) + 1e-8).mean()
            np.testing.assert_allclose(got[i, :, :, 6 + f], std, rtol=1e-5)
    one = np.asarray(ops.minibatch_stddev(x[:1]))
    np.testing.assert_allclose(one[..., -1], 1e-4, rtol=1e-5)


def test_ops_compile_with_xla_and_have_gradients(rng):
    x = tf.constant(rng.normal(size=(2, 8, 8, 4)).astype(np.float32))
    w = tf.constant(rng.normal(size=(3, 3, 4, 4)).astype(np.float32))
    s = tf.constant(rng.normal(size=(2, 4)).astype(np.float32) + 1)

    def f(x):
        y = ops.modulated_conv2d(x, w, s, up=True)
        y = ops.conv_downsample2d(ops.bias_act(y, None, "lrelu"), w)
        return tf.reduce_sum(ops.minibatch_stddev(ops.upsample2d(y)) ** 2)

    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = f(x)
        return loss, tape.gradient(loss, x)

    l0, g0 = grad(x)
    l1, g1 = tf.function(grad, jit_compile=True)(x)
    np.testing.assert_allclose(l1, l0, rtol=1e-4)
    np.testing.assert_allclose(g1, g0, rtol=1e-3, atol=1e-3)
    assert float(tf.reduce_max(tf.abs(g0))) > 0


def test_max_pool_2x2_matches_tf_max_pool_with_ties_under_xla(rng):
    """Values and gradients of ``tf.nn.max_pool2d(x, 2, 2)``, ties included (the gradient
    goes to the first maximum of a window), with and without XLA; an odd edge is dropped."""
    x = np.round(rng.normal(size=(2, 7, 6, 3)) * 2) / 2   # many ties
    x[0, :2, :2, 0] = 3.0                                  # a window of four equal maxima
    x = tf.constant(x.astype(np.float32))
    weights = tf.constant(rng.normal(size=(2, 3, 3, 3)).astype(np.float32))

    def value_and_grad(pool):
        def f(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = pool(tf.nn.relu(x))
                loss = tf.reduce_sum(y * weights)
            return y, tape.gradient(loss, x)
        return f

    want = value_and_grad(lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"))(x)
    assert want[0].shape == (2, 3, 3, 3)
    for jit in (False, True):
        f = tf.function(value_and_grad(ops.max_pool_2x2), jit_compile=jit)
        got = f(x)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
        types = {op.type for op in f.get_concrete_function(x).graph.get_operations()}
        assert ("MaxPool" in types) != jit


def test_xla_forms_of_up_and_down_convolutions_agree_to_second_order(rng):
    """Under jit_compile the transposed conv takes its value, and the strided conv its
    gradients, from polyphase forms: values, gradients and the gradient of a gradient penalty
    (R1 / path length) equal those of the ordinary forms that run without XLA."""
    x = tf.constant(rng.normal(size=(2, 5, 6, 3)).astype(np.float32))
    w = tf.constant(rng.normal(size=(3, 3, 3, 3)).astype(np.float32) / 3)

    def penalty(x, w):
        with tf.GradientTape() as outer:
            outer.watch(w)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.nn.leaky_relu(ops.upsample_conv2d(x, w), 0.2)
                y = ops.conv_downsample2d(tf.nn.leaky_relu(ops.conv_downsample2d(y, w), 0.2),
                                          w[1:2, 1:2])
                loss = tf.reduce_sum(tf.square(y))
            gx = inner.gradient(loss, x)
            pen = tf.reduce_sum(tf.square(gx))
        return y, gx, outer.gradient(pen, w)

    plain = penalty(x, w)
    xla = tf.function(penalty, jit_compile=True)(x, w)
    assert plain[0].shape == (2, 2, 3, 3)
    for a, b in zip(xla, plain):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * float(tf.reduce_max(tf.abs(b))))

    def op_types(jit):
        f = tf.function(lambda x: ops.upsample_conv2d(x, w), jit_compile=jit)
        return {op.type for op in f.get_concrete_function(x).graph.get_operations()}

    assert "Conv2DBackpropInput" in op_types(False)
    assert "Conv2DBackpropInput" not in op_types(True)


@pytest.mark.parametrize("size", [(19, 5), (4, 9), (7, 13)])
def test_resize_nearest_legacy_matches_tf1(size, rng):
    from tfposegen.ops import resize_nearest_legacy

    x = rng.normal(size=(2, 7, 13, 3)).astype(np.float32)
    want = tf.compat.v1.image.resize(x, size, method=1).numpy()
    np.testing.assert_array_equal(np.asarray(resize_nearest_legacy(x, size)), want)
    if size == (19, 5):  # TF2's half-pixel nearest samples elsewhere
        assert not np.array_equal(tf.image.resize(x, size, method="nearest").numpy(), want)
