"""tfposegen.losses: GAN losses against numpy formulas and closed forms, feature losses against
numpy, the contextual loss and VGG19 taps against torch runs of the originals
(tests/reference/make_losses_reference.py -> tests/data/losses/)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import DATA

from tfposegen import losses as L

REF = DATA / "losses"


def _softplus(x):
    return np.logaddexp(0.0, x)


def _bce(x, y):
    p = 1.0 / (1.0 + np.exp(-x))
    return np.mean(-(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


@pytest.fixture
def logits(rng):
    return (rng.standard_normal((6, 1)).astype(np.float32) * 2,
            rng.standard_normal((6, 4, 4, 1)).astype(np.float32) * 2)


def _close(value, expected, tol=1e-6):
    np.testing.assert_allclose(float(value), float(expected), rtol=tol, atol=tol)


# --- GAN losses ---------------------------------------------------------------------------


def test_gan_losses_match_numpy(logits):
    real, fake = logits
    r, f = real.astype(np.float64), fake.astype(np.float64)
    _close(L.logistic_d_loss(real, fake), _softplus(f).mean() + _softplus(-r).mean())
    _close(L.logistic_g_loss(fake), _softplus(-f).mean())
    _close(L.bce_d_loss(real, fake), _bce(r, 1.0) + _bce(f, 0.0))
    _close(L.bce_d_loss(real, fake, 0.9, 0.1), _bce(r, 0.9) + _bce(f, 0.1))
    _close(L.bce_g_loss(fake), _bce(f, 1.0))
    _close(L.lsgan_d_loss(real, fake), np.mean((r - 1) ** 2) + np.mean(f ** 2))
    _close(L.lsgan_d_loss(real, fake, 0.9, -0.2), np.mean((r - 0.9) ** 2) + np.mean((f + 0.2) ** 2))
    _close(L.lsgan_g_loss(fake), np.mean((f - 1) ** 2))
    _close(L.wgan_d_loss(real, fake), f.mean() - r.mean())
    _close(L.wgan_g_loss(fake), -f.mean())
    _close(L.hinge_d_loss(real, fake),
           np.maximum(1 - r, 0).mean() + np.maximum(1 + f, 0).mean())
    _close(L.hinge_g_loss(fake), -f.mean())
    for value in (L.logistic_d_loss(real, fake), L.hinge_d_loss(real, fake)):
        assert value.dtype == "float32" and tuple(value.shape) == ()


def test_gan_loss_boundaries():
    ones, zeros = np.ones((3, 2), np.float32), np.zeros((3, 2), np.float32)
    # Hinge: margins met exactly or beyond -> 0; at zero scores each term is 1.
    _close(L.hinge_d_loss(ones, -ones), 0.0)
    _close(L.hinge_d_loss(5 * ones, -7 * ones), 0.0)
    _close(L.hinge_d_loss(zeros, zeros), 2.0)
    _close(L.hinge_d_loss(0.5 * ones, -ones), 0.5)
    # LSGAN: perfect outputs -> 0, with default and custom labels; one-sided error.
    _close(L.lsgan_d_loss(ones, zeros), 0.0)
    _close(L.lsgan_d_loss(0.9 * ones, 0.1 * ones, 0.9, 0.1), 0.0)
    _close(L.lsgan_d_loss(zeros, zeros), 1.0)
    _close(L.lsgan_g_loss(ones), 0.0)
    # WGAN: equal scores -> 0; sign convention.
    _close(L.wgan_d_loss(ones, ones), 0.0)
    _close(L.wgan_d_loss(3 * ones, ones), -2.0)
    # Logistic at zero logits: 2 log 2 (D), log 2 (G); BCE with 1/0 labels is the same.
    _close(L.logistic_d_loss(zeros, zeros), 2 * np.log(2))
    _close(L.logistic_g_loss(zeros), np.log(2))
    big = np.full((2,), 80.0, np.float32)  # stable far in the tails
    _close(L.logistic_d_loss(big, -big), 2 * _softplus(-80.0), 1e-30)
    _close(L.bce_g_loss(-big), 80.0, 1e-6)
    with pytest.raises(ValueError, match="float"):
        L.wgan_g_loss(np.ones(3, np.int32))


def test_r1_penalty_closed_form(rng):
    x = rng.standard_normal((3, 4, 5, 2)).astype(np.float32)
    w_np = rng.standard_normal((4, 5, 2)).astype(np.float32)
    w = tf.Variable(w_np)

    def disc(images):  # D(x) = sum w * x^2 per sample -> dD/dx = 2 w x
        return tf.reduce_sum(w * images ** 2, axis=[1, 2, 3])

    with tf.GradientTape() as tape:
        penalty = L.r1_penalty(disc, x)
    x64, w64 = x.astype(np.float64), w_np.astype(np.float64)
    expected = np.mean(np.sum((2 * w64 * x64) ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-5)
    # The outer tape sees the inner gradient: d/dw mean_n sum 4 w^2 x^2 = mean_n 8 w x^2.
    grad_w = tape.gradient(penalty, w)
    np.testing.assert_allclose(grad_w.numpy(), np.mean(8 * w64 * x64 ** 2, axis=0),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="does not depend"):
        L.r1_penalty(lambda images: tf.constant([1.0, 2.0, 3.0]), x)


def test_clip_weights(rng):
    values = rng.uniform(-1, 1, (4, 3)).astype(np.float32)
    kv, tv = keras.Variable(values), tf.Variable(values[0])
    L.clip_weights([kv, tv], 0.01)
    np.testing.assert_array_equal(np.asarray(kv), np.clip(values, -0.01, 0.01))
    np.testing.assert_array_equal(tv.numpy(), np.clip(values[0], -0.01, 0.01))
    assert np.abs(np.asarray(kv)).max() == np.float32(0.01)
    with pytest.raises(ValueError, match="clip"):
        L.clip_weights([kv], 0.0)


# --- feature losses -----------------------------------------------------------------------


def _feats(rng, shapes):
    return {name: rng.standard_normal(s).astype(np.float32) for name, s in shapes.items()}


def _gram_np(f):
    b, h, w, c = f.shape
    f = f.astype(np.float64)
    return np.einsum("bhwc,bhwd->bcd", f, f) / (h * w * c)


def test_gram_and_style_loss_match_numpy(rng):
    shapes = {"relu2_2": (2, 6, 5, 4), "relu3_4": (2, 3, 3, 7)}
    a, b = _feats(rng, shapes), _feats(rng, shapes)
    gram = np.asarray(L.gram_matrix(a["relu2_2"]))
    assert gram.shape == (2, 4, 4)
    np.testing.assert_allclose(gram, _gram_np(a["relu2_2"]), rtol=1e-5, atol=1e-6)
    expected = sum(wt * np.abs(_gram_np(a[k]) - _gram_np(b[k])).mean()
                   for k, wt in zip(shapes, (1.0, 0.25)))
    got = L.style_loss(a, b, layers=tuple(shapes), weights=(1.0, 0.25))
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="relu4_4"):
        L.style_loss(a, b)  # DPTN's default taps are not all there


def test_content_losses_match_numpy(rng):
    shapes = {"relu1_1": (2, 8, 8, 3), "relu2_1": (2, 4, 4, 5)}
    a, b = _feats(rng, shapes), _feats(rng, shapes)
    l1 = sum(np.abs(a[k].astype(np.float64) - b[k]).mean() * wt for k, wt in zip(shapes, (2, 1)))
    mse = sum(((a[k].astype(np.float64) - b[k]) ** 2).mean() for k in shapes)
    np.testing.assert_allclose(float(L.content_l1(a, b, tuple(shapes), (2, 1))), l1, rtol=1e-6)
    np.testing.assert_allclose(float(L.content_mse(a, b, tuple(shapes))), mse, rtol=1e-6)
    with pytest.raises(ValueError, match="weights"):
        L.content_l1(a, b, tuple(shapes), (1.0,))


def test_l1_plus_perceptual_matches_numpy(rng):
    x, y = rng.uniform(-1, 1, (2, 2, 8, 8, 3)).astype(np.float32)
    fx, fy = rng.standard_normal((2, 2, 8, 8, 64)).astype(np.float32)
    loss, l1, perc = L.l1_plus_perceptual(x, y, fx, fy, lambda_l1=10.0, lambda_perceptual=3.0)
    e_l1 = np.abs(x.astype(np.float64) - y).mean() * 10
    e_perc = np.abs(fx.astype(np.float64) - fy).mean() * 3
    np.testing.assert_allclose([float(loss), float(l1), float(perc)],
                               [e_l1 + e_perc, e_l1, e_perc], rtol=1e-6)
    _, _, perc2 = L.l1_plus_perceptual(x, y, fx, fy, perceptual_is_l1=False)
    np.testing.assert_allclose(float(perc2), ((fx.astype(np.float64) - fy) ** 2).mean(), rtol=1e-6)
    fx_t, fy_t = tf.constant(fx), tf.constant(fy)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([fx_t, fy_t])
        total = L.l1_plus_perceptual(x, y, fx_t, fy_t)[0]
    assert tape.gradient(total, fy_t) is None  # target features detached, as ADGAN
    assert tape.gradient(total, fx_t) is not None


def _cx_numpy(x, y, sigma, b):
    """Contextual loss per Mechrez et al. / ADGAN's CXLoss, one sample at a time (float64)."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    mu = y.reshape(-1, y.shape[-1]).mean(axis=0)
    losses = []
    for xs, ys in zip(x, y):
        xi = (xs - mu).reshape(-1, xs.shape[-1])
        yj = (ys - mu).reshape(-1, ys.shape[-1])
        xi /= np.linalg.norm(xi, axis=1, keepdims=True)
        yj /= np.linalg.norm(yj, axis=1, keepdims=True)
        d = (1.0 - xi @ yj.T) / 2.0  # [Px, Py]
        d_rel = d / (d.min(axis=1, keepdims=True) + 1e-5)
        w = np.exp((b - d_rel) / sigma)
        cx_ij = w / w.sum(axis=1, keepdims=True)
        losses.append(-np.log(cx_ij.max(axis=0).mean()))
    return float(np.mean(losses))


def test_contextual_loss_matches_numpy_and_adgan():
    ref = np.load(REF / "cx.npz")
    x, y = ref["x_nhwc"], ref["y_nhwc"]
    for sigma in (0.5, 0.1):
        expected = float(ref[f"loss_sigma{sigma}"])  # ADGAN's CXLoss in torch, float64
        np.testing.assert_allclose(_cx_numpy(x, y, sigma, 1.0), expected, rtol=1e-10)
        got = L.contextual_loss(x.astype(np.float32), y.astype(np.float32), sigma=sigma)
        np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    # The target's statistics centre both: swapping the roles changes the loss.
    swapped = float(L.contextual_loss(y[:, :, :3].astype(np.float32), x[:, :4].astype(np.float32)))
    np.testing.assert_allclose(swapped, _cx_numpy(y[:, :, :3], x[:, :4], 0.5, 1.0), rtol=1e-5)
    # Identical features: every position's best match is itself -> loss near 0.
    assert float(L.contextual_loss(y.astype(np.float32), y.astype(np.float32), sigma=0.1)) < 1e-3
    with pytest.raises(ValueError, match="channels"):
        L.contextual_loss(x[..., :4].astype(np.float32), y.astype(np.float32))


# --- VGG19 --------------------------------------------------------------------------------


def _vgg_test_weights(seed=20240519):
    # The same draws as vgg_weights() in tests/reference/make_losses_reference.py.
    rng = np.random.default_rng(seed)
    state = {}
    for i, (cin, cout) in {0: (3, 64), 2: (64, 64), 5: (64, 128), 7: (128, 128)}.items():
        kernel = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
        state[f"features.{i}.weight"] = kernel * np.float32(np.sqrt(2.0 / (9 * cin)))
        state[f"features.{i}.bias"] = rng.standard_normal(cout).astype(np.float32) * np.float32(0.1)
    return state


def test_vgg19_taps_shapes_and_parameters():
    taps = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "conv4_2", 36)
    model = L.VGG19Features(layers=taps)
    assert model.count_params() == 20_024_384  # torchvision vgg19().features
    assert L.VGG19_LAYERS[3] == "relu1_2" and L.VGG19_LAYERS[21] == "conv4_2"
    out = model(np.zeros((2, 64, 64, 3), np.float32))
    assert list(out) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "conv4_2", "pool5"]
    shapes = {k: tuple(v.shape) for k, v in out.items()}
    assert shapes == {"relu1_1": (2, 64, 64, 64), "relu2_1": (2, 32, 32, 128),
                      "relu3_1": (2, 16, 16, 256), "relu4_1": (2, 8, 8, 512),
                      "relu5_1": (2, 4, 4, 512), "conv4_2": (2, 8, 8, 512),
                      "pool5": (2, 2, 2, 512)}
    with pytest.raises(ValueError, match="relu6_1"):
        L.VGG19Features(layers=("relu6_1",))
    with pytest.raises(ValueError, match="input_range"):
        L.VGG19Features(input_range="[0,255]")


def test_vgg19_matches_torchvision():
    ref = np.load(REF / "vgg.npz")
    state = _vgg_test_weights()
    np.testing.assert_allclose([np.float64(v).sum() for v in state.values()], ref["weight_sums"],
                               rtol=0, atol=1e-9)  # the reference's weights, bit for bit
    model = L.VGG19Features(layers=("relu2_1", "relu2_2"), input_range="[-1,1]")
    assigned = L.assign_torchvision_vgg19(model, state, strict=False)
    assert assigned == sorted(state)
    out = model(ref["image_nhwc"])
    for tap in ("relu2_1", "relu2_2"):
        err = np.abs(np.asarray(out[tap]) - ref[tap]).max()
        assert err < 1e-4, (tap, err)
    with pytest.raises(ValueError, match="features.10.weight"):
        L.assign_torchvision_vgg19(model, state)  # strict: the other 12 convs are missing
    bad = dict(state, **{"features.0.weight": state["features.2.weight"]})
    with pytest.raises(ValueError, match="features.0.weight"):
        L.assign_torchvision_vgg19(model, bad, strict=False)


def test_load_torchvision_vgg19_from_pth():
    model = L.VGG19Features(layers=("relu1_1",))
    assigned = L.load_torchvision_vgg19(model, REF / "features0.pth", strict=False)
    assert assigned == ["features.0.bias", "features.0.weight"]
    state = _vgg_test_weights()
    conv = model.stack[0]
    np.testing.assert_array_equal(np.asarray(conv.kernel),
                                  state["features.0.weight"].transpose(2, 3, 1, 0))
    np.testing.assert_array_equal(np.asarray(conv.bias), state["features.0.bias"])
