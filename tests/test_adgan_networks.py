"""ADGAN networks (tfposegen.models.adgan) against the original PyTorch code.

tests/data/adgan/reference.npz holds what the ORIGINAL ``ADGen`` and ``ResnetDiscriminator``
(models/model_adgen.py, models/networks.py in menyifang/ADGAN) computed with the seeded weights
of tests/reference/make_adgan_reference.py, which the tests regenerate with numpy (the stored
per-array sums check that they did). ``small_d_dataparallel.pth`` is a discriminator state
dict written by ``torch.save(nn.DataParallel(D).state_dict())``: every key starts with
``module.``, as in the released netG files that load as noise in the original (issues #6, #30).
"""

import os

import numpy as np
import pytest
from conftest import reference_module, rel_err

from tfposegen.convert.torch_checkpoint import TorchCheckpointError, load_torch_file, to_keras
from tfposegen.models.adgan import presets, weights
from tfposegen.models.adgan.discriminators import ResnetDiscriminator
from tfposegen.models.adgan.networks import ADGen, VggStyleEncoder, parsing_one_hot

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "adgan")
REF = reference_module("make_adgan_reference.py")


def _rel_to_scale(actual, expected):
    """max |a - e| / max(1, max |e|): the error against the scale of the whole tensor."""
    actual = np.asarray(actual, np.float64)
    return float(np.max(np.abs(actual - expected)) / max(1.0, np.max(np.abs(expected))))


@pytest.fixture(scope="module")
def ref():
    data = dict(np.load(os.path.join(DATA, "reference.npz")))
    states = REF.reference_states()
    np.testing.assert_allclose(REF.weight_sums(*states), data["weight_sums"], rtol=1e-12,
                               err_msg="numpy no longer generates the reference weights")
    data["states"] = dict(zip(("netG", "D_PB", "D_PP", "small"), states))
    data["pose_f"] = data["pose"].astype(np.float32)
    data["parsing"] = np.asarray(parsing_one_hot(data["labels"]))
    return data


@pytest.fixture(scope="module")
def netg(ref):
    model = ADGen(**presets.ADGEN_RELEASED)
    assert weights.load_adgen_state(model, ref["states"]["netG"]) == 130
    return model


def test_parameter_counts_match_the_original(ref, netg):
    trainable = sum(int(np.prod(v.shape)) for v in netg.trainable_weights)
    d_pb = ResnetDiscriminator(**presets.D_PB_RELEASED)
    d_pp = ResnetDiscriminator(**presets.D_PP_RELEASED)
    ours = [netg.count_params(), trainable, d_pb.count_params(), d_pp.count_params()]
    # counted by the reference script on the original torch modules
    assert ours == ref["param_counts"].tolist()
    assert ours == [presets.PARAMS_RELEASED[k] for k in
                    ("netG", "netG_trainable", "netD_PB", "netD_PP")]
    assert ours == [48_799_299, 28_774_915, 3_975_424, 3_928_384]
    assert netg.enc_style.vgg.count_params() == 20_024_384
    assert not netg.enc_style.vgg.trainable_weights


def test_generator_intermediates_match_the_original(ref, netg):
    pose_code = netg.encode_pose(ref["pose_f"])
    style = netg.encode_style(ref["source"], ref["parsing"])
    adain = netg.adain_params(style)
    # 19 convs with instance norm; the statistics are summed channel-major
    # (tfposegen.layers.normalization), 1.2e-4 off when summed over the H, W axes of NHWC
    assert rel_err(pose_code, ref["pose_code"]) < 1e-4
    assert rel_err(style, ref["style"]) < 1e-4  # 8 classes x 64, class-major
    assert rel_err(netg.fc(style), ref["style_fc"]) < 1e-4
    assert rel_err(adain, ref["adain"]) < 1e-4
    # the decoder on the original's own pose code isolates the AdaIN decoder
    assert rel_err(netg.decode(ref["pose_code"], ref["adain"]), ref["image"]) < 1e-4


def test_generator_output_matches_the_original(ref, netg):
    image = np.asarray(netg(ref["pose_f"], ref["source"], ref["parsing"]))
    assert image.shape == (2, REF.HEIGHT, REF.WIDTH, 3)
    assert rel_err(image, ref["image"]) < 1e-4


def test_generator_gradients_match_the_original(ref, netg):
    # one backward pass of the original: d sum(netG(BP2, P1, SP1) * w) / d inputs and weights
    import tensorflow as tf

    pose, source = tf.constant(ref["pose_f"]), tf.constant(ref["source"])
    by_name = {name: v for v, name, _ in weights.adgen_weight_map(netg)}
    params = [by_name["mlp.model.2.fc.weight"], by_name["enc_content.model.0.conv.weight"]]
    with tf.GradientTape() as tape:
        tape.watch([pose, source])
        scalar = tf.reduce_sum(netg(pose, source, ref["parsing"]) * ref["grad_weights"])
    g_pose, g_source, g_mlp, g_conv = tape.gradient(scalar, [pose, source, *params])
    # Keras layouts: Dense (in, out), Conv2D (kh, kw, in, out)
    g_mlp = np.asarray(g_mlp).T[::REF.MLP_ROWS]
    g_conv = np.asarray(g_conv).transpose(3, 2, 0, 1)
    # elementwise where the gradients are O(1): through the VGG and the masks, and the MLP
    assert rel_err(g_source, ref["grad_source"]) < 1e-4
    assert rel_err(g_mlp, ref["grad_mlp_out"]) < 1e-4
    # the pose gradients reach |160| after 19 instance norms; float32 rounding of that scale
    # (6e-4 absolute) is then 4e-4 of the few small entries: measured against the scale
    assert _rel_to_scale(g_pose, ref["grad_pose"]) < 1e-4
    assert _rel_to_scale(g_conv, ref["grad_pose_conv0"]) < 1e-4
    assert np.abs(ref["grad_source"]).max() > 1e-3  # the reference is not degenerate


def test_style_code_is_class_major(ref, netg):
    # class i's 64 channels depend only on the pixels of class i
    parsing = ref["parsing"].copy()
    source = ref["source"].copy()
    source[parsing[..., 5] > 0] *= -1.0
    style = np.asarray(netg.encode_style(source, parsing))
    changed = np.abs(style - ref["style"]).reshape(2, 8, 64).max(axis=(0, 2)) > 1e-3
    assert changed.tolist() == [i == 5 for i in range(8)]


@pytest.mark.parametrize("key,partner", [("D_PB", "pose_f"), ("D_PP", "source")])
def test_discriminators_match_the_original(ref, key, partner):
    preset = presets.D_PB_RELEASED if key == "D_PB" else presets.D_PP_RELEASED
    model = ResnetDiscriminator(**preset)
    assert weights.load_discriminator_state(model, ref["states"][key]) == 18
    x = np.concatenate([ref["target"], ref[partner]], axis=-1)
    out = np.asarray(model(x))
    assert out.shape == (2, REF.HEIGHT // 4, REF.WIDTH // 4, 256)
    assert rel_err(out, ref[key.lower()]) < 1e-4
    # dropout(0.5) only in training mode
    assert np.max(np.abs(np.asarray(model(x, training=True)) - out)) > 1e-2


def test_dataparallel_checkpoint_loads_like_the_plain_state(ref):
    path = os.path.join(DATA, "small_d_dataparallel.pth")
    raw = load_torch_file(path)
    assert raw and all(k.startswith("module.") for k in raw)
    plain = ref["states"]["small"]
    from_file = ResnetDiscriminator(21, ndf=REF.SMALL_NDF)
    from_plain = ResnetDiscriminator(21, ndf=REF.SMALL_NDF)
    weights.load_discriminator_state(from_file, path)
    weights.load_discriminator_state(from_plain, plain)
    for a, b in zip(from_file.weights, from_plain.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    x = np.concatenate([ref["target"], ref["pose_f"]], axis=-1)
    assert rel_err(from_file(x), ref["d_small"]) < 1e-4


def test_prefixed_generator_state_loads_every_tensor(ref, netg):
    state = ref["states"]["netG"]
    weights.load_adgen_state(netg, {f"module.{k}": v for k, v in state.items()})
    for variable, name, kind in weights.adgen_weight_map(netg):
        np.testing.assert_array_equal(np.asarray(variable), to_keras(state[name], kind),
                                      err_msg=name)


def test_bad_checkpoints_raise_and_assign_nothing(ref, netg):
    state = ref["states"]["netG"]
    before = np.asarray(netg.fc.kernel).copy()
    wrong_prefix = {f"netG.{k}": v * 0 for k, v in state.items()}
    with pytest.raises(TorchCheckpointError, match="130 missing"):
        weights.load_adgen_state(netg, wrong_prefix)
    missing = {k: v * 0 for k, v in state.items() if k != "mlp.model.2.fc.bias"}
    with pytest.raises(TorchCheckpointError, match="mlp.model.2.fc.bias"):
        weights.load_adgen_state(netg, missing)
    extra = dict(state, **{"dec.model.9.conv.weight": np.zeros((3, 3, 1, 1), np.float32)})
    with pytest.raises(TorchCheckpointError, match="1 unused"):
        weights.load_adgen_state(netg, extra)
    with pytest.raises(TorchCheckpointError, match="shape mismatch"):
        weights.load_discriminator_state(ResnetDiscriminator(6), ref["states"]["D_PB"])
    np.testing.assert_array_equal(np.asarray(netg.fc.kernel), before)


def test_weight_map_covers_the_original_key_order():
    shapes = REF.adgan_state_shapes(**{k: presets.ADGEN_TINY[k] for k in
                                       ("n_res", "style_dim", "mlp_dim", "n_downsample")})
    model = ADGen(**presets.ADGEN_TINY)
    names = [name for _, name, _ in weights.adgen_weight_map(model)]
    assert names == [n for n, _ in shapes if "running_" not in n]
    d = ResnetDiscriminator(6, use_dropout=False, n_downsampling=3, n_blocks=1)
    assert [n for _, n, _ in weights.discriminator_weight_map(d)] == [
        "model.1.weight", "model.1.bias", "model.4.weight", "model.4.bias", "model.7.weight",
        "model.7.bias", "model.10.weight", "model.10.bias", "model.13.conv_block.1.weight",
        "model.13.conv_block.1.bias", "model.13.conv_block.5.weight",
        "model.13.conv_block.5.bias"]


def test_save_and_load_networks_round_trip(ref, tmp_path):
    d = ResnetDiscriminator(21, ndf=REF.SMALL_NDF)
    weights.load_discriminator_state(d, ref["states"]["small"])
    folder = weights.save_networks({"netD_PB": d}, tmp_path / "adgan", {"source": "seeded"})
    nets, meta = weights.load_networks(folder)
    assert meta["source"] == "seeded"
    x = np.concatenate([ref["target"], ref["pose_f"]], axis=-1)
    np.testing.assert_array_equal(np.asarray(nets["netD_PB"](x)), np.asarray(d(x)))


def test_parsing_one_hot_and_input_errors():
    labels = np.array([[[0, 7], [3, 9]]], np.uint8)
    hot = np.asarray(parsing_one_hot(labels))
    assert hot.shape == (1, 2, 2, 8)
    np.testing.assert_array_equal(hot.sum(-1), [[[1, 1], [1, 0]]])  # 9: no class
    assert hot[0, 1, 0, 3] == 1 and hot[0, 0, 1, 7] == 1
    with pytest.raises(ValueError, match="dim must be 64"):
        VggStyleEncoder(dim=32)
    with pytest.raises(ValueError, match="input must be"):
        ResnetDiscriminator(21)(np.zeros((1, 16, 16, 6), np.float32))


def test_demo_generator_file_round_trip(tmp_path):
    from tfposegen.losses.perceptual import assign_torchvision_vgg19, seeded_vgg19_state

    model = ADGen(**presets.ADGEN_TINY)
    assign_torchvision_vgg19(model.enc_style.vgg, seeded_vgg19_state(5))
    path = weights.save_demo_generator(model, tmp_path / "demo.npz", 5, {"step": 7})
    loaded, meta = weights.load_demo_generator(path)
    assert meta == {"vgg_seed": 5, "step": 7}
    assert loaded.get_config() == model.get_config()
    for (a, name, _), (b, _, _) in zip(weights.adgen_weight_map(loaded),
                                       weights.adgen_weight_map(model)):
        # the VGG exactly, from the seed; the rest rounded to the file's float16
        want = np.asarray(b) if name.startswith("enc_style.vgg.") else \
            np.asarray(b).astype(np.float16)
        np.testing.assert_array_equal(np.asarray(a), want, err_msg=name)
    # the file stores ~2 bytes per trainable parameter, not the frozen VGG
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    assert os.path.getsize(path) < 2.1 * trainable
    with pytest.raises(ValueError, match="not seeded_vgg19_state"):
        weights.save_demo_generator(model, tmp_path / "other.npz", 6)
    assert not (tmp_path / "other.npz").exists()
    (tmp_path / "bad.npz").write_bytes(b"nonsense")
    with pytest.raises(TorchCheckpointError, match="bad.npz: not an ADGAN demo generator"):
        weights.load_demo_generator(tmp_path / "bad.npz")
