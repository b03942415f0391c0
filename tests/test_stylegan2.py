"""StyleGAN2 networks: the full-size DGP layout, API, noise modes, XLA, bad input."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfposegen.models.dgp.encoder import Encoder, idinvert_layout
from tfposegen.models.stylegan2 import Discriminator, Generator, build_stylegan2


def n_values(pairs):
    return sum(int(np.prod(v.shape)) for _, v in pairs)


@pytest.fixture(scope="module")
def dgp512():
    return build_stylegan2("dgp_512")


def test_dgp_512_variable_names_and_shapes(dgp512):
    """NVlabs/stylegan2 ``training/networks_stylegan2.py`` (TF1 layouts; const / noise are NHWC
    here)."""
    G, D = dgp512
    syn = dict(G.synthesis.dnnlib_variables())
    assert len(syn) == 123 and n_values(syn.items()) == 28_874_359
    assert len(G.mapping.dnnlib_variables()) == 16
    assert n_values(G.mapping.dnnlib_variables()) == 2_101_248
    assert G.num_ws == 16
    want = {"noise0": (1, 4, 4, 1), "noise14": (1, 512, 512, 1),
            "4x4/Const/const": (1, 4, 4, 512), "4x4/Conv/weight": (3, 3, 512, 512),
            "4x4/ToRGB/mod_weight": (512, 512), "128x128/Conv0_up/weight": (3, 3, 512, 256),
            "256x256/Conv1/mod_weight": (512, 128), "512x512/Conv0_up/weight": (3, 3, 128, 64),
            "512x512/Conv0_up/noise_strength": (), "512x512/ToRGB/weight": (1, 1, 64, 3),
            "512x512/ToRGB/bias": (3,)}
    for name, shape in want.items():
        assert tuple(syn[name].shape) == shape, name
    assert list(syn)[:16] == [f"noise{i}" for i in range(15)] + ["4x4/Const/const"]
    d = dict(D.dnnlib_variables())
    assert len(d) == 43 and n_values(d.items()) == 28_982_849
    for name, shape in {"512x512/FromRGB/weight": (1, 1, 3, 64),
                        "512x512/Conv1_down/weight": (3, 3, 64, 128),
                        "64x64/Skip/weight": (1, 1, 512, 512),
                        "4x4/Conv/weight": (3, 3, 513, 512),
                        "4x4/Dense0/weight": (8192, 512), "Output/weight": (512, 1)}.items():
        assert tuple(d[name].shape) == shape, name


def test_dgp_512_encoder_layout():
    E = Encoder(**idinvert_layout(512))
    v = E.dnnlib_variables()
    assert len(v) == 111 and n_values(v) == 88_554_560
    d = dict(v)
    assert tuple(d["FromImg/weight"].shape) == (5, 5, 3, 64)
    assert tuple(d["E_block_2/Shortcut/weight"].shape) == (1, 1, 256, 512)
    assert "E_block_3/Shortcut/weight" not in d
    assert tuple(d["Latent_out/weight"].shape) == (8192, 8192)
    assert E.compute_output_spec(keras.KerasTensor((1, 512, 512, 3))).shape == (1, 16, 512)


def test_api_shapes_and_truncation(rng):
    G, D = build_stylegan2("tiny_32")
    z = rng.normal(size=(3, 64)).astype(np.float32)
    ws = G.mapping(z)
    assert ws.shape == (3, G.num_ws, 64)
    np.testing.assert_allclose(ws[:, 0], ws[:, -1])
    G.mapping.dlatent_avg.assign(rng.normal(size=64).astype(np.float32))
    avg = G.mapping.dlatent_avg.numpy()
    wt = np.asarray(G.mapping(z, truncation_psi=0.5, truncation_cutoff=2))
    np.testing.assert_allclose(wt[:, :2], avg + 0.5 * (np.asarray(ws)[:, :2] - avg), atol=1e-5)
    np.testing.assert_allclose(wt[:, 2:], np.asarray(ws)[:, 2:], atol=1e-6)
    img = G.synthesis(ws)
    assert img.shape == (3, 32, 32, 3)
    assert D(img).shape == (3, 1)


def test_noise_modes(rng):
    G, _ = build_stylegan2("tiny_32")
    for layer in G.synthesis.weights:
        if "noise_strength" in layer.path:
            layer.assign(1.0)
    ws = G.mapping(rng.normal(size=(1, 64)).astype(np.float32))
    const1, const2 = G.synthesis(ws), G.synthesis(ws, noise_mode="const")
    np.testing.assert_array_equal(const1, const2)
    r1, r2 = G.synthesis(ws, noise_mode="random"), G.synthesis(ws, noise_mode="random")
    assert np.abs(np.asarray(r1) - np.asarray(r2)).max() > 1e-3
    none = G.synthesis(ws, noise_mode="none")
    zeros = [tf.zeros_like(v) for v in G.synthesis.noise_vars]
    np.testing.assert_allclose(none, G.synthesis(ws, noise=zeros), atol=1e-6)
    given = [v + 0 for v in G.synthesis.noise_vars]
    np.testing.assert_allclose(G.synthesis(ws, noise=given), const1, atol=1e-6)


def test_synthesis_and_discriminator_under_xla_with_gradients(rng):
    G, D = build_stylegan2("tiny_32")
    for v in G.synthesis.weights:
        if "noise_strength" in v.path:  # 0 at init, which would zero the noise gradients
            v.assign(0.5)
    ws = tf.constant(rng.normal(size=(2, G.num_ws, 64)).astype(np.float32))
    noise = [tf.Variable(v) for v in G.synthesis.noise_vars]

    def step(ws):
        with tf.GradientTape() as tape:
            tape.watch(ws)
            img = G.synthesis(ws, noise=noise)
            loss = tf.reduce_mean(tf.nn.softplus(-D(img))) + tf.reduce_mean(img ** 2)
        return loss, tape.gradient(loss, [ws] + noise)

    l0, g0 = step(ws)
    l1, g1 = tf.function(step, jit_compile=True)(ws)
    np.testing.assert_allclose(l1, l0, rtol=1e-4)
    for a, b in zip(g0, g1):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-5)
    assert all(float(tf.reduce_max(tf.abs(g))) > 0 for g in g0)


def test_get_config_round_trip(rng):
    G, D = build_stylegan2("tiny_32")
    G2 = Generator.from_config(G.get_config())
    D2 = Discriminator.from_config(D.get_config())
    assert [tuple(v.shape) for _, v in G2.dnnlib_variables()] == \
        [tuple(v.shape) for _, v in G.dnnlib_variables()]
    assert [n for n, _ in D2.dnnlib_variables()] == [n for n, _ in D.dnnlib_variables()]


def test_wrong_input_shapes_are_named(rng):
    G, D = build_stylegan2("tiny_32")
    with pytest.raises(ValueError, match=r"ws: expected shape \[N, 8, 64\]"):
        G.synthesis(np.zeros((1, 7, 64), np.float32))
    with pytest.raises(ValueError, match=r"z: expected shape \[N, 64\]"):
        G.mapping(np.zeros((1, 512), np.float32))
    with pytest.raises(ValueError, match=r"images: expected shape \[N, 32, 32, 3\]"):
        D(np.zeros((1, 3, 32, 32), np.float32))
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(G.mapping(np.zeros((1, 64), np.float32)), noise_mode="fresh")
    with pytest.raises(ValueError, match="unknown StyleGAN2 preset"):
        build_stylegan2("huge")
