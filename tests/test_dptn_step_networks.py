"""DPTN_step networks (tfposegen.models.dptn.step_networks) against the original PyTorch code.

tests/data/dptn/step_reference.npz holds what the ORIGINAL generator and discriminator of
gkalstn000/DPTN_step (models/dptn_networks/) computed with the seeded weights of
tests/reference/make_dptn_step_reference.py, which the tests redraw with numpy (the stored
per-tensor sums check that they did): a 3-step chain at 64 x 64, the gradients of step 2,
the discriminator with its step head. ``tiny_step_net.pth`` is the single checkpoint file the
code writes (``{'netG', 'netD', 'optG', 'optD'}`` with the 5000-row positional table).
"""

import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import reference_module, rel_err

from tfposegen.convert.torch_checkpoint import TorchCheckpointError
from tfposegen.models.dptn import presets, weights
from tfposegen.models.dptn.step_networks import (
    StepDiscriminator,
    StepGenerator,
    generate_steps,
)

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "dptn")
REF = reference_module("make_dptn_step_reference.py")
BASE = reference_module("make_dptn_reference.py")
SIZE = REF.SIZE


@pytest.fixture(scope="module")
def ref():
    data = dict(np.load(os.path.join(DATA, "step_reference.npz")))
    for prefix, seed in (("g", REF.G_SEED), ("d", REF.D_SEED)):
        state = BASE.regenerate(data, prefix, seed)
        sums = [float(np.sum(state[str(n)], dtype=np.float64)) for n in data[f"{prefix}_names"]]
        np.testing.assert_allclose(sums, data[f"{prefix}_sums"], rtol=1e-12,
                                   err_msg="numpy no longer draws the reference weights")
        data[f"{prefix}_state"] = state
    data["inputs"] = REF.inputs()
    return data


@pytest.fixture(scope="module")
def netg(ref):
    model = StepGenerator(SIZE, SIZE, **presets.DPTN_STEP_G)
    # the stored rows of the original's table (ours are within 2e-6 of them)
    assert np.max(np.abs(np.asarray(model.step_maps) - ref["pe_rows"])) < 2e-6
    model.step_maps.assign(ref["pe_rows"])
    assert weights.load_generator_state(model, ref["g_state"], prefixes=weights.PREFIXES["step"]) \
        == len(weights.generator_weight_map(model, weights.PREFIXES["step"]))
    return model


def test_parameter_counts_match_the_original(ref, netg):
    def trainable(model):
        return sum(int(np.prod(v.shape)) for v in model.trainable_weights)

    d = StepDiscriminator((256, 256), **presets.DPTN_STEP_D)
    counts = [trainable(netg), trainable(d)]
    assert counts == ref["param_counts"].tolist()  # counted on the original torch modules
    assert counts == [presets.PARAMS_RELEASED["step_G"], presets.PARAMS_RELEASED["step_D"]]
    assert counts == [9_799_491, 9_054_726]


def test_three_step_chain_matches_the_original(ref, netg):
    source, _, pose_s, pose_t, noise = ref["inputs"]
    targets, recons = generate_steps(netg, source, pose_s, pose_t, noise, steps=3)
    for j in (1, 2, 3):
        assert rel_err(targets[j - 1], ref[f"out_t_{j}"]) < 1e-4, j
        assert rel_err(recons[j - 1], ref[f"out_s_{j}"]) < 1e-4, j
    # the PTM output of step 1, from the sub-networks
    from tfposegen.models.dptn.steps import step_target

    src = step_target(source, 1, 5) + netg.step_map(2)
    xt = noise + netg.step_map(1)
    f_ss = netg.content_encoder(tf.concat([src, pose_s], -1))
    f_st = netg.content_encoder(tf.concat([xt, pose_t], -1))
    ptm = netg.ptm(f_ss, f_st, netg.source_encoder(src))
    assert rel_err(ptm, ref["ptm_1"]) < 1e-4
    np.testing.assert_array_equal(step_target(source, 2, 5), ref["gt_src_2"])


def test_step_two_gradients_match_the_original(ref):
    """In float64 on both sides: at random weights the outputs pass many LeakyReLU kinks and
    float32 rounding moves single input gradients by ~1% (torch's float32 gradient against
    its own float64 one, and ours likewise), which would hide a real difference."""
    import keras

    keras.config.set_floatx("float64")  # for the build and the call (the layers' constants)
    keras.config.set_dtype_policy("float64")
    try:
        g64 = StepGenerator(SIZE, SIZE, **presets.DPTN_STEP_G)
        g64.step_maps.assign(ref["pe_rows"].astype(np.float64))
        weights.load_generator_state(g64, ref["g_state"], prefixes=weights.PREFIXES["step"])
        _, _, pose_s, pose_t, _ = ref["inputs"]
        leaves = [tf.constant(a, tf.float64)
                  for a in (pose_s, pose_t, ref["gt_src_2"], ref["out_t_1"])]
        w_t, w_s = REF.gradient_weights().astype(np.float64)
        with tf.GradientTape() as tape:
            tape.watch(leaves)
            out_t, out_s = g64(*leaves, step=2)
            total = tf.reduce_sum(out_t * w_t + out_s * w_s)
        grads = tape.gradient(total, leaves)
    finally:
        keras.config.set_floatx("float32")
        keras.config.set_dtype_policy("float32")
    for key, grad in zip(("source_pose", "target_pose", "source_step", "xt"), grads):
        grad = grad.numpy()
        if "pose" in key:
            grad = grad[..., REF.GRAD_POSE_CHANNELS]
        assert rel_err(grad, ref[f"grad_{key}"]) < 1e-5, key  # measured 2.8e-7


def test_discriminator_and_step_head_match_the_original(ref):
    d = StepDiscriminator((REF.D_SIZE, REF.D_SIZE), **dict(presets.DPTN_STEP_D, layers=3))
    weights.load_discriminator_state(d, ref["d_state"])
    x = REF.discriminator_input()
    pred, logp = d(x)
    assert rel_err(pred, ref["d_pred"]) < 1e-4 and rel_err(logp, ref["d_logp"]) < 1e-4
    np.testing.assert_allclose(np.exp(logp).sum(-1), 1.0, rtol=1e-5)
    pred, logp = d(x, training=True)  # one power iteration, as torch's train mode
    assert rel_err(pred, ref["d_pred_train"]) < 1e-4
    assert rel_err(logp, ref["d_logp_train"]) < 1e-4


def _tiny():
    g = StepGenerator(8, 8, **dict(presets.DPTN_STEP_G, ngf=4, img_f=16, layers=2,
                                   num_blocks=1, num_CABs=1, num_TTBs=1))
    d = StepDiscriminator((128, 128), **dict(presets.DPTN_STEP_D, ndf=2, img_f=2, layers=3))
    return g, d


def test_single_file_checkpoint_loads_and_runs_as_the_original(ref):
    from tfposegen.models.dptn.steps import step_target

    g, d = _tiny()
    path = os.path.join(DATA, "tiny_step_net.pth")
    counts = weights.load_step_checkpoint(path, g, d)
    assert counts == {"G": len(weights.generator_weight_map(g, weights.PREFIXES["step"])) + 1,
                      "D": len(weights.discriminator_weight_map(d))}
    source, _, pose_s, pose_t, noise = (a[:, :8, :8] for a in ref["inputs"])
    out_t, out_s = g(pose_s, pose_t, step_target(source, 1, 5), noise, step=1)
    assert rel_err(out_t, ref["tiny_out_t"]) < 1e-4 and rel_err(out_s, ref["tiny_out_s"]) < 1e-4


def test_bad_step_checkpoints_raise_and_assign_nothing():
    g, d = _tiny()
    path = os.path.join(DATA, "tiny_step_net.pth")
    bigger = StepGenerator(16, 16, **dict(presets.DPTN_STEP_G, ngf=4, img_f=16, layers=2,
                                          num_blocks=1, num_CABs=1, num_TTBs=1))
    before = np.asarray(bigger.step_maps).copy()
    with pytest.raises(TorchCheckpointError, match="positional_encoding.pe has shape"):
        weights.load_step_checkpoint(path, G=bigger)
    np.testing.assert_array_equal(np.asarray(bigger.step_maps), before)
    four = StepDiscriminator((128, 128), **dict(presets.DPTN_STEP_D, ndf=2, img_f=2, layers=3,
                                                steps=4))
    with pytest.raises(TorchCheckpointError, match="classifies 5 steps"):
        weights.load_step_checkpoint(path, D=four)
    with pytest.raises(TorchCheckpointError, match="not a DPTN_step checkpoint"):
        weights.load_step_checkpoint(os.path.join(DATA, "tiny_G_dataparallel.pth"), G=g)


def test_style_mixing_keeps_the_first_source_until_the_switch(ref, netg):
    source, target, pose_s, pose_t, noise = ref["inputs"]
    pure, _ = generate_steps(netg, source, pose_s, pose_t, noise, steps=3)
    mixed, _ = generate_steps(netg, [source, target, target], [pose_s, pose_t, pose_t],
                              pose_t, noise, steps=3)
    np.testing.assert_allclose(mixed[0], pure[0], atol=1e-6)  # step 1 saw person A only
    assert np.mean(np.abs(mixed[2] - pure[2])) > 1e-3           # later steps see person B
    with pytest.raises(ValueError, match="2 entries for 3 steps"):
        generate_steps(netg, [source, target], pose_s, pose_t, noise, steps=3)


def test_configs_round_trip(netg):
    clone = StepGenerator.from_config(netg.get_config())
    assert clone.count_params() == netg.count_params()
    _, d = _tiny()
    again = StepDiscriminator.from_config(d.get_config())
    assert again.count_params() == d.count_params()
