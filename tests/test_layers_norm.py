"""tfposegen.layers.normalization and .spectral_norm against numpy formulas and torch.

The torch arrays come from tests/reference/make_layers_reference.py (torch.nn.InstanceNorm2d,
ADGAN's AdaptiveInstanceNorm2d / LayerNorm / assign_adain_params, torch.nn.utils.spectral_norm).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import DATA

from tfposegen.layers.normalization import (
    AdaptiveInstanceNorm,
    InstanceNorm,
    LayerNormMUNIT,
    split_adain_params,
)
from tfposegen.layers.spectral_norm import SpectralNormalization

TOL = 1e-5


@pytest.fixture(scope="module")
def norm_ref():
    return dict(np.load(DATA / "layers" / "norm.npz"))


@pytest.fixture(scope="module")
def sn_ref():
    return dict(np.load(DATA / "layers" / "spectral.npz"))


def _np_instance_norm(x, eps=1e-5):
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def _err(a, b):
    a, b = (np.asarray(keras.ops.convert_to_numpy(t), np.float64) for t in (a, b))
    return float(np.max(np.abs(a - b)))


def test_instance_norm_numpy_and_group_norm(rng):
    x = (rng.standard_normal((2, 5, 6, 3)) * 3 + 2).astype(np.float32)
    y = keras.ops.convert_to_numpy(InstanceNorm()(x))
    assert _err(y, _np_instance_norm(x.astype(np.float64))) < TOL
    group = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)
    assert _err(y, group(x)) < TOL
    layer = InstanceNorm(affine=True)
    layer.build(x.shape)
    gamma, beta = rng.uniform(0.5, 2, 3).astype(np.float32), rng.standard_normal(3)
    layer.set_weights([gamma, beta.astype(np.float32)])
    assert [w.path.split("/")[-1] for w in layer.weights] == ["gamma", "beta"]
    expected = _np_instance_norm(x.astype(np.float64)) * gamma + beta
    assert _err(layer(x), expected) < TOL


def test_instance_norm_torch(norm_ref):
    r = norm_ref
    assert _err(InstanceNorm()(r["in_x"]), r["in_plain"]) < TOL
    layer = InstanceNorm(affine=True)
    layer.build(r["in_x"].shape)
    layer.set_weights([r["in_gamma"], r["in_beta"]])
    assert _err(layer(r["in_x"]), r["in_affine"]) < TOL


def test_adain_numpy(rng):
    x = (rng.standard_normal((3, 4, 5, 2)) * 2 - 1).astype(np.float32)
    gamma, beta = (rng.standard_normal((3, 2)).astype(np.float32) for _ in range(2))
    y = AdaptiveInstanceNorm()(x, gamma, beta)
    expected = (_np_instance_norm(x.astype(np.float64)) * gamma[:, None, None, :]
                + beta[:, None, None, :])
    assert _err(y, expected) < TOL


def test_adain_torch_and_param_order(norm_ref):
    r = norm_ref
    pairs = split_adain_params(r["adain_params"], [4, 3])
    # ADGAN assigns mean (columns [0, C)) to bias and std (columns [C, 2C)) to weight.
    np.testing.assert_array_equal(r["adain_params"][:, 4:8], r["adain0_weight"].reshape(2, 4))
    for i, (gamma, beta) in enumerate(pairs):
        c = r[f"adain{i}_x"].shape[-1]
        np.testing.assert_array_equal(gamma, r[f"adain{i}_weight"].reshape(2, c))
        np.testing.assert_array_equal(beta, r[f"adain{i}_bias"].reshape(2, c))
        assert _err(AdaptiveInstanceNorm()(r[f"adain{i}_x"], gamma, beta), r[f"adain{i}_y"]) < TOL
    with pytest.raises(ValueError, match="need 16"):
        split_adain_params(r["adain_params"], [4, 4])


def _np_layer_norm(x, gamma, beta, eps=1e-5):
    flat = x.reshape(x.shape[0], -1).astype(np.float64)
    shape = (-1,) + (1,) * (x.ndim - 1)
    mean = flat.mean(axis=1).reshape(shape)
    std = flat.std(axis=1, ddof=1).reshape(shape)
    return (x - mean) / (std + eps) * gamma + beta


@pytest.mark.parametrize("shape", [(1, 4, 5, 3), (3, 4, 5, 3), (3, 3)])
def test_layer_norm_munit_numpy(rng, shape):
    x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
    layer = LayerNormMUNIT()
    layer.build(x.shape)
    gamma = keras.ops.convert_to_numpy(layer.gamma)
    assert gamma.min() >= 0 and gamma.max() < 1 and np.ptp(gamma) > 0  # torch's U[0, 1) init
    beta = rng.standard_normal(3).astype(np.float32)
    layer.beta.assign(beta)
    assert _err(layer(x), _np_layer_norm(x, gamma, beta)) < TOL
    # eps is added to the std, not the variance: with eps 0.5 the two differ visibly.
    plain = LayerNormMUNIT(affine=False, epsilon=0.5)
    assert _err(plain(x), _np_layer_norm(x, 1.0, 0.0, eps=0.5)) < TOL


def test_layer_norm_munit_torch(norm_ref):
    r = norm_ref
    layer = LayerNormMUNIT()
    layer.build(r["ln_x1"].shape)
    layer.set_weights([r["ln_gamma"], r["ln_beta"]])
    for batch in (1, 3):
        assert _err(layer(r[f"ln_x{batch}"]), r[f"ln_y{batch}"]) < TOL


def test_norm_configs_and_errors():
    for layer in (InstanceNorm(epsilon=1e-3, affine=True), AdaptiveInstanceNorm(epsilon=2e-5),
                  LayerNormMUNIT(epsilon=1e-4, affine=False)):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="rank >= 3"):
        InstanceNorm()(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="gamma"):
        AdaptiveInstanceNorm()(np.zeros((2, 3, 3, 4), np.float32), np.zeros((2, 3), np.float32),
                               np.zeros((2, 4), np.float32))


_SN_CASES = {  # name -> (Keras layer factory, torch weight -> Keras kernel transpose)
    "conv": (lambda: keras.layers.Conv2D(8, 3), (2, 3, 1, 0)),                 # OIHW -> HWIO
    "linear": (lambda: keras.layers.Dense(5), (1, 0)),                         # (out, in)
    "convt": (lambda: keras.layers.Conv2DTranspose(3, 3, strides=2), (2, 3, 1, 0)),  # IOHW->HWOI
}


def _nhwc(a):
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a


@pytest.mark.parametrize("name", sorted(_SN_CASES))
def test_spectral_norm_matches_torch(sn_ref, name):
    r = {k[len(name) + 1:]: v for k, v in sn_ref.items() if k.startswith(name + "_")}
    make, perm = _SN_CASES[name]
    layer = SpectralNormalization(make())
    layer.build(_nhwc(r["x0"]).shape)
    kernel = r["weight_orig"].transpose(perm)
    layer.layer.kernel.assign(kernel)
    layer.layer.bias.assign(r["bias"])
    layer.u.assign(r["u0"])  # torch's weight_u / weight_v load verbatim
    layer.v.assign(r["v0"])
    assert not layer.u.trainable and layer.layer.kernel.trainable
    for step in range(3):
        x = tf.constant(_nhwc(r[f"x{step}"]))
        with tf.GradientTape() as tape:
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * _nhwc(r["probe"])) if step == 0 else None
        assert _err(y, _nhwc(r[f"y{step}"])) < TOL, step
        assert _err(layer.u, r[f"u{step + 1}"]) < TOL, step
        assert _err(layer.v, r[f"v{step + 1}"]) < TOL, step
        if step == 0:
            grad = tape.gradient(loss, layer.layer.kernel)
            # sums over many outputs (|grad| up to ~35): the same float32 bound, relative
            assert _err(grad, r["grad"].transpose(perm)) < TOL * np.abs(r["grad"]).max()
    # the power iteration really moved u (else the per-step checks above prove little)
    assert _err(r["u3"], r["u0"]) > 1e-2
    u_before = keras.ops.convert_to_numpy(layer.u)
    assert _err(layer(_nhwc(r["xeval"]), training=False), _nhwc(r["yeval"])) < TOL
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.u), u_before)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.layer.kernel), kernel)


def test_spectral_norm_config_and_errors():
    layer = SpectralNormalization(keras.layers.Conv2DTranspose(3, 3), n_power_iterations=2,
                                  eps=1e-10)
    clone = SpectralNormalization.from_config(layer.get_config())
    assert (clone.n_power_iterations, clone.eps) == (2, 1e-10)
    assert isinstance(clone.layer, keras.layers.Conv2DTranspose)
    clone.build((1, 4, 4, 2))
    assert tuple(clone.u.shape) == (3,) and tuple(clone.v.shape) == (2 * 3 * 3,)
    assert abs(float(keras.ops.norm(clone.u)) - 1) < 1e-6
    with pytest.raises(ValueError, match="cannot wrap"):
        SpectralNormalization(keras.layers.LayerNormalization())
    with pytest.raises(ValueError, match="channels_last"):
        SpectralNormalization(keras.layers.Conv2D(2, 3, data_format="channels_first"))
