"""DPTN networks (tfposegen.models.dptn) against the original PyTorch code.

tests/data/dptn/reference.npz holds what the ORIGINAL ``DPTNGenerator`` and
``ResDiscriminator`` (models/networks.py in PangzeCheung/Dual-task-Pose-Transformer-Network)
computed with the seeded weights of tests/reference/make_dptn_reference.py, which the tests
redraw with numpy (the stored per-tensor sums check that they did).
``tiny_G_dataparallel.pth`` is ``torch.save(nn.DataParallel(G).state_dict())`` of a tiny
generator: ``module.`` prefixes and the duplicated (aliased) keys of the released files.
"""

import os

import numpy as np
import pytest
from conftest import reference_module, rel_err

from tfposegen.convert.torch_checkpoint import TorchCheckpointError, load_torch_file, to_keras
from tfposegen.models.dptn import presets, weights
from tfposegen.models.dptn.networks import DPTNGenerator, ResDiscriminator

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "dptn")
REF = reference_module("make_dptn_reference.py")


@pytest.fixture(scope="module")
def ref():
    data = dict(np.load(os.path.join(DATA, "reference.npz")))
    for prefix, seed in (("g", REF.G_SEED), ("d4", REF.D_SEEDS["d4"]),
                         ("d3", REF.D_SEEDS["d3"])):
        state = REF.regenerate(data, prefix, seed)
        sums = [float(np.sum(state[str(n)], dtype=np.float64)) for n in data[f"{prefix}_names"]]
        np.testing.assert_allclose(sums, data[f"{prefix}_sums"], rtol=1e-12,
                                   err_msg="numpy no longer draws the reference weights")
        data[f"{prefix}_state"] = state
    data["inputs"] = REF.inputs()
    return data


@pytest.fixture(scope="module")
def netg(ref):
    model = DPTNGenerator(**presets.DPTN_G)
    source, pose_s, pose_t = ref["inputs"]
    model(source, pose_s, pose_t)  # build
    assert weights.load_generator_state(model, ref["g_state"]) == 168
    return model


def test_parameter_counts_match_the_original(ref, netg):
    counts = [netg.count_params()]
    for preset in (presets.DPTN_D_FASHION, presets.DPTN_D_MARKET):
        d = ResDiscriminator(**preset)
        d(np.zeros((1, 64, 48, 3), np.float32))
        counts.append(sum(int(np.prod(v.shape)) for v in d.trainable_weights))
    # counted by the reference script on the original torch modules
    assert counts == ref["param_counts"].tolist()
    assert counts == [presets.PARAMS_RELEASED[k] for k in ("G", "D_fashion", "D_market")]
    assert counts == [9_794_371, 664_577, 238_209]


def test_generator_and_its_intermediates_match_the_original(ref, netg):
    source, pose_s, pose_t = ref["inputs"]
    f_ss = netg.encode(source, pose_s, pose_s)
    f_st = netg.encode(source, pose_s, pose_t)
    f_s = netg.source_encoder(source)
    assert rel_err(f_ss, ref["f_ss"]) < 1e-4
    assert rel_err(f_st, ref["f_st"]) < 1e-4
    assert rel_err(f_s, ref["f_s"]) < 1e-4
    # the PTM on the original's own features isolates the transformer
    assert rel_err(netg.ptm(ref["f_ss"], ref["f_st"], ref["f_s"]), ref["ptm"]) < 1e-4
    out_t, out_s = netg(source, pose_s, pose_t)
    assert out_t.shape == (2, REF.HEIGHT, REF.WIDTH, 3)
    assert rel_err(out_t, ref["out_t"]) < 1e-4
    assert rel_err(out_s, ref["out_s"]) < 1e-4
    assert netg(source, pose_s, pose_t, is_train=False)[1] is None
    assert np.std(ref["out_t"]) > 0.05 and np.abs(ref["out_t"] - ref["out_s"]).max() > 0.05


def test_generator_gradients_match_the_original(ref):
    # one backward pass of the original: d sum(out_t * w_t + out_s * w_s) / d inputs,
    # taken here in float64 (same weights). In float32 the comparison is ill-conditioned:
    # a LeakyReLU input within rounding of 0 (~1e-7) takes the other slope under another
    # summation order (another CPU's kernels, another thread count), which changes every
    # gradient behind it - measured up to 6e-2 on an AVX-512 CPU against the AMD CPU the
    # reference was made next to. float64 has no such flips; what is left is the rounding of
    # the original's float32 gradients (measured 6.9e-5 .. 7.8e-5 on both CPUs).
    import keras
    import tensorflow as tf

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        model = DPTNGenerator(**presets.DPTN_G)
        inputs = [tf.constant(x, tf.float64) for x in ref["inputs"]]
        model(*inputs)
        assert weights.load_generator_state(model, ref["g_state"]) == 168
    finally:
        keras.config.set_dtype_policy(previous)
    assert {v.dtype for v in model.weights} == {"float64"}
    w_t, w_s = REF.gradient_weights()
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        out_t, out_s = model(*inputs)
        scalar = tf.reduce_sum(tf.cast(out_t, tf.float64) * w_t +
                               tf.cast(out_s, tf.float64) * w_s)
    grads = tape.gradient(scalar, inputs)
    for grad, key in zip(grads, ("grad_source", "grad_pose_s", "grad_pose_t")):
        expected = ref[key]
        assert np.abs(expected).max() > 1e-3, key                 # not degenerate
        assert rel_err(grad, expected) < 1e-4, key


@pytest.mark.parametrize("key,preset", [("d4", presets.DPTN_D_FASHION),
                                        ("d3", presets.DPTN_D_MARKET)])
def test_discriminators_match_the_original_in_eval_and_train_mode(ref, key, preset):
    model = ResDiscriminator(**preset)
    source = ref["inputs"][0]
    model(source)
    assert weights.load_discriminator_state(model, ref[f"{key}_state"]) == len(ref[f"{key}_names"])
    assert rel_err(model(source), ref[key]) < 1e-4
    # train mode: one power iteration per spectral-normed conv, u updated in place
    assert rel_err(model(source, training=True), ref[f"{key}_train"]) < 1e-4
    np.testing.assert_allclose(np.asarray(model.block0.convs[0].u), ref[f"{key}_u_after"],
                               atol=1e-6)


def test_weight_map_covers_the_original_state_dict(ref, netg):
    names = {name for _, name, _ in weights.generator_weight_map(netg)}
    aliases = weights.generator_aliases()
    assert names | set(aliases) == {str(n) for n in ref["g_names"]}
    assert not names & set(aliases)
    # every alias took its Sequential twin's value in the original (shared storage)
    state = ref["g_state"]
    for alias, name in aliases.items():
        np.testing.assert_array_equal(state[alias], state[name])


def test_dataparallel_file_with_aliases_loads_strictly(tmp_path):
    path = os.path.join(DATA, "tiny_G_dataparallel.pth")
    raw = load_torch_file(path)
    assert raw and all(k.startswith("module.") for k in raw)
    assert "module.mblock0.conv1.weight" in raw and "module.mblock0.model.2.weight" in raw
    model = DPTNGenerator(**presets.TINY_G)
    model(*[np.zeros((1, 32, 24, c), np.float32) for c in (3, 18, 18)])
    assert weights.load_generator_state(model, path) == len(weights.generator_weight_map(model))
    for variable, name, kind in weights.generator_weight_map(model):
        np.testing.assert_array_equal(np.asarray(variable), to_keras(raw[f"module.{name}"], kind),
                                      err_msg=name)


def test_bad_checkpoints_raise_and_assign_nothing(ref, netg):
    state = ref["g_state"]
    before = np.asarray(netg.decoder.outconv.convs[0].kernel).copy()
    changed = dict(state)
    changed["mblock0.conv1.weight"] = state["mblock0.conv1.weight"] + 1
    with pytest.raises(TorchCheckpointError, match="differ from their twins"):
        weights.load_generator_state(netg, changed)
    missing = {k: v for k, v in state.items() if not k.startswith("PTM.decoder.norm")}
    with pytest.raises(TorchCheckpointError, match="PTM.decoder.norm"):
        weights.load_generator_state(netg, missing)
    with pytest.raises(TorchCheckpointError, match="shape mismatch"):   # a tiny G's file
        weights.load_generator_state(netg, os.path.join(DATA, "tiny_G_dataparallel.pth"))
    np.testing.assert_array_equal(np.asarray(netg.decoder.outconv.convs[0].kernel), before)


def test_configs_round_trip(netg):
    from tfposegen.models.dptn import blocks

    clone = DPTNGenerator.from_config(netg.get_config())
    assert clone.count_params() == netg.count_params()
    d = ResDiscriminator(**presets.TINY_D)
    assert ResDiscriminator.from_config(d.get_config()).count_params() == d.count_params()
    enc, dec = netg.content_encoder, netg.decoder
    for block in (enc, netg.source_encoder, dec, enc.block0, enc.encoders[0], enc.mblocks[0],
                  dec.decoders[0], dec.outconv, d.block0, d.encoders[0]):
        again = type(block).from_config(block.get_config())
        assert again.get_config() == block.get_config(), type(block).__name__
    assert isinstance(dec.outconv, blocks.Output) and not dec.outconv.norm
