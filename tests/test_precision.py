"""Mixed bfloat16 (tfposegen.train.precision): the flag's validation, DGP's projection and a
trainer step under ``mixed_bfloat16``, float32 variables and losses, the policy restored."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from dgp_helpers import dgp_networks, make_pair

from tfposegen.models.dgp.inputs import prepare_pair, read_pair
from tfposegen.models.dgp.project import DGPProjector
from tfposegen.train import precision as P

BF16 = "mixed_bfloat16"
# tiny_32, encode + 2 projection steps (pixel + adversarial terms), bf16 against float32:
# measured 42.3 dB eagerly, 43.7 dB traced, on this machine; the bound leaves 7 dB of margin.
MIN_PSNR_DB = 35.0


@pytest.fixture(autouse=True)
def float32_policy():
    """Every test starts and ends with the float32 global policy."""
    keras.mixed_precision.set_dtype_policy("float32")
    yield
    keras.mixed_precision.set_dtype_policy("float32")


def test_unknown_precision_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="float32, mixed_bfloat16.*'float16'"):
        P.set_precision("float16")
    assert P.current_precision() == "float32"  # nothing changed
    with pytest.raises(ValueError, match="mixed_bfloat16"):
        P.check_precision("bf16")
    assert P.set_precision(BF16) == "float32"  # returns the previous policy
    assert P.current_precision() == BF16
    assert keras.layers.Dense(2).compute_dtype == "bfloat16"


def test_precision_scope_restores_the_policy_also_on_errors():
    with pytest.raises(RuntimeError), P.precision_scope(BF16):
        assert keras.mixed_precision.dtype_policy().name == BF16
        raise RuntimeError("boom")
    assert P.current_precision() == "float32"
    assert keras.layers.Dense(2).compute_dtype == "float32"


def test_to_float32_casts_nested_outputs_and_keeps_float32_tensors():
    x32 = tf.constant([1.5, -2.0])
    assert P.to_float32(x32) is x32  # float32 runs are untouched
    out = P.to_float32({"a": tf.constant([0.1], tf.bfloat16), "b": (x32, None)})
    assert out["a"].dtype == tf.float32 and out["b"][0] is x32 and out["b"][1] is None
    # bfloat16 keeps 8 mantissa bits: 0.1 -> 0.10009765625
    assert float(out["a"][0]) == pytest.approx(0.10009765625, abs=0)


def _projection(tmp_path, precision, steps=2):
    """Encode + ``steps`` projection steps of tiny_32 built under ``precision``."""
    with P.precision_scope(precision):
        E, D, G = dgp_networks()
        cloth, model = make_pair(tmp_path, size=64)
        inputs = prepare_pair(read_pair(cloth, model), "short", 32)
        projector = DGPProjector(G.synthesis, D, E, inputs, jit_compile=False)
        projector.encode()
        projector.start_phase("projection")
        terms = [projector.step()[0] for _ in range(steps)]
        return projector, G, terms, projector.render()


def test_dgp_projection_in_bfloat16_is_close_to_float32(tmp_path, eager):
    p32, _, terms32, image32 = _projection(tmp_path / "a", "float32")
    p16, G, terms16, image16 = _projection(tmp_path / "b", BF16)
    assert p32.precision == "float32" and p16.precision == BF16
    # bfloat16 compute, float32 everywhere else
    assert G.synthesis.compute_dtype == "bfloat16" and p16.encoder.compute_dtype == "bfloat16"
    variables = (G.weights + p16.discriminator.weights + p16.encoder.weights
                 + [p16.wp, *p16.noise] + list(p16.optimizer.variables))
    for var in variables:  # (Adam's step counter is int64)
        assert var.dtype in ("float32", "int64"), var.path
    assert len(p16.optimizer.variables) > 2 and p16.optimizer.variables[2].dtype == "float32"
    assert image16.dtype == np.float32 and image16.shape == (1, 32, 32, 3)
    for t32, t16 in zip(terms32, terms16):
        assert all(np.isfinite(v) for v in t16.values())
        assert t16["total"] == pytest.approx(t32["total"], rel=0.05)
    assert not np.array_equal(image16, image32)  # it did run in bfloat16
    psnr = 10 * np.log10(4.0 / np.mean((image16.astype(np.float64) - image32) ** 2))
    assert psnr > MIN_PSNR_DB, psnr
    # W+ moved in both, by similar steps (Adam's first steps are about lr per entry)
    w32, w16 = p32.wp.numpy(), p16.wp.numpy()
    assert np.mean(np.abs(w16 - w32)) < 0.1 * np.mean(np.abs(w32))


def test_projector_refuses_networks_of_another_policy(tmp_path):
    E, D, G = dgp_networks()  # float32
    cloth, model = make_pair(tmp_path, size=64)
    inputs = prepare_pair(read_pair(cloth, model), "short", 32)
    with pytest.raises(ValueError, match="set_precision\\('mixed_bfloat16'\\)"):
        DGPProjector(G.synthesis, D, E, inputs, jit_compile=False, precision=BF16)


def test_encoder_trainer_step_in_bfloat16_gives_finite_float32_losses(eager):
    from tfposegen.models.dgp.encoder import Encoder, idinvert_layout
    from tfposegen.models.dgp.train_encoder import EncoderTrainer
    from tfposegen.models.stylegan2 import build_stylegan2

    with P.precision_scope(BF16):
        keras.utils.set_random_seed(0)
        G, D = build_stylegan2("tiny_32")
        E = Encoder(**idinvert_layout(32, filters=16, filters_max=32, num_ws=G.num_ws,
                                      w_dim=G.w_dim))
        trainer = EncoderTrainer(E, G.synthesis, D, learning_rate=1e-3, decay_steps=4,
                                 jit_compile=False)
        reals = tf.clip_by_value(G(np.random.default_rng(0).normal(
            size=(2, G.z_dim)).astype(np.float32)), -1, 1)
        assert reals.dtype == tf.float32  # networks return float32
        before = [v.numpy().copy() for v in E.trainable_weights]
        losses = trainer.train_step(reals)
    assert {"pixel", "E_loss", "D_loss", "r1_penalty"} <= set(losses)
    assert all(isinstance(v, float) and np.isfinite(v) for v in losses.values()), losses
    assert losses["pixel"] > 0 and losses["D_loss"] > 0
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, E.trainable_weights))
    assert all(v.dtype == "float32" for v in E.weights + D.weights)
    assert P.current_precision() == "float32"


def test_saved_networks_load_under_the_global_policy(tmp_path):
    """The dtype policy is not part of a saved network: float32 saves load in bfloat16."""
    from tfposegen.models.dpig import networks as N

    nets = N.build_networks("market", ["pose_critic"])
    N.save_networks(nets, tmp_path / "nets", "market")
    with P.precision_scope(BF16):
        back, dataset = N.load_networks(tmp_path / "nets")
    critic = back["pose_critic"]
    assert dataset == "market" and critic.compute_dtype == "bfloat16"
    emb = np.random.default_rng(0).normal(size=(2, critic.input_dim)).astype(np.float32)
    want, got = np.asarray(nets["pose_critic"](emb)), critic(emb)
    assert got.dtype == tf.float32  # float32 out
    np.testing.assert_allclose(np.asarray(got), want, rtol=0.05, atol=0.05 * np.abs(want).max())
    assert N.load_networks(tmp_path / "nets")[0]["pose_critic"].compute_dtype == "float32"
