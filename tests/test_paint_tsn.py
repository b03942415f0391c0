"""PAINT TSN networks (tfposegen.models.paint.tsn) against the original PyTorch code.

tests/data/paint/ holds what tests/reference/make_paint_tsn_reference.py made with the
ORIGINAL ``InpaintGenerator`` (TSN/model/pennet.py in gxl-groups/PAINT; cnum 4, SPADE hidden
16, every layer of the released one, 256 x 256 inputs) and ``define_D(3, 8, 'basic',
norm='batch')`` (TSN/core/networks.py): their seeded weights as TSN's trainer saves them
(``tsn_tiny_gen.pth`` = ``{'netG': ...}``, ``tsn_tiny_dis.pth`` = ``{'netD': ...}`` with
``module.`` names; torch's legacy stream) and, in ``tsn_reference.npz``, their outputs,
intermediate maps and attention weights on the inputs the reference module redraws with
numpy, plus the parameter counts of the full-size originals.
"""

import os
import shutil

import numpy as np
import pytest
from conftest import reference_arrays, reference_module

from tfposegen.convert.torch_checkpoint import TorchCheckpointError, load_torch_file, to_keras
from tfposegen.layers.partial_conv import PartialConv2D
from tfposegen.models.paint import presets, tsn, weights

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "paint")
GEN, DIS = os.path.join(DATA, "tsn_tiny_gen.pth"), os.path.join(DATA, "tsn_tiny_dis.pth")
REF = reference_module("make_paint_tsn_reference.py")


@pytest.fixture(scope="module")
def ref():
    return reference_arrays(REF, os.path.join(DATA, "tsn_reference.npz"))


@pytest.fixture(scope="module")
def nets():
    G = tsn.TSNGenerator(**presets.TINY_TSN_G)
    D = tsn.TSNDiscriminator(**presets.TINY_TSN_D)
    assert weights.load_tsn_generator_state(G, GEN) == 304
    assert weights.load_tsn_discriminator_state(D, DIS) == 22
    return {"G": G, "D": D}


@pytest.fixture(scope="module")
def full():
    """The released configuration, built without running (1.7 s for 81 M parameters)."""
    return {"G": tsn.TSNGenerator(**presets.TSN_G), "D": tsn.TSNDiscriminator(**presets.TSN_D)}


@pytest.fixture(scope="module")
def run(ref, nets):
    """One generator call (3 s on two cores): output and intermediate maps."""
    x = ref["inputs"]
    out, feats = nets["G"](*[x[k] for k in REF.G_ARGS], return_features=True)
    return np.asarray(out, np.float64), {k: np.asarray(v) for k, v in feats.items()}


def test_full_size_parameter_counts_match_the_original(ref, full):
    G, D = full["G"], full["D"]
    trainable = int(sum(np.prod(w.shape) for w in D.trainable_weights))
    assert G.count_params() == int(ref["params_G"]) == presets.PARAMS_TSN["G"] == 81_189_635
    assert trainable == int(ref["params_D"]) == presets.PARAMS_TSN["D"] == 2_766_529
    # Keras also counts the running statistics (torch buffers, 1,792 floats)
    assert D.count_params() - trainable == int(ref["buffers_D_floats"]) == 1_792
    g_map, d_map = weights.tsn_generator_weight_map(G), weights.tsn_discriminator_weight_map(D)
    assert len(g_map) == int(ref["full_G_tensors"]) == len(G.weights) == 304
    assert len(d_map) + 3 == int(ref["full_D_tensors"]) == 25   # + num_batches_tracked
    # never called by the forward pass: spade6, the conv_1 / conv_s / norm_1 / norm_s of the
    # other blocks and every residual block's model1 (30,953,824 parameters)
    unused = sum(int(np.prod(v.shape)) for v, name, _ in g_map
                 if name.startswith("spade6.") or ".model1." in name
                 or any(f".{p}" in name for p in ("conv_1.", "conv_s.", "norm_1.", "norm_s.")))
    assert unused == 30_953_824


def test_generator_matches_the_original(ref, run):
    out, _ = run
    assert out.shape == (2, REF.SIZE, REF.SIZE, 3)
    keep = ref["keep"]
    # measured 1.7e-5 (float32 through two encoders, ten attentions and the decoder)
    assert np.abs(out[:, keep][:, :, keep] - ref["g_keep"]).max() < 1e-4
    # every pixel, through sums of 256 values (measured 3.4e-4)
    assert np.abs(out.sum(axis=2) - ref["g_sum_w"]).max() < 2.5e-3
    assert np.abs(out.sum(axis=1) - ref["g_sum_h"]).max() < 2.5e-3
    assert np.abs(out).max() <= 1.0 and out.std() > 0.3         # tanh, far from constant


def test_intermediate_maps_match_the_original(ref, run):
    _, feats = run
    names = [k[2:] for k in ref if k.startswith("f_")]
    assert len(names) == 17
    for name in names:
        value = feats[name]
        if name == "up1":
            value = value[:, ref["keep_128"]][:, :, ref["keep_128"]]
        # measured <= 2.3e-5 (attention outputs up to 7)
        assert np.abs(value - ref[f"f_{name}"]).max() < 1e-4, name
    assert np.abs(ref["f_top_att3"]).max() > 1.0      # the attention pasted real features


def test_attention_weights_match_the_original(ref, nets, run):
    _, f = run
    x = ref["inputs"]
    top, bottom = nets["G"].attentions
    _, w4 = top[3](f["top_enc4"], f["top_att5"], f["top_hole4"], x["mask_t"],
                   return_weights=True)
    _, w5 = bottom[4](f["bottom_enc5"], f["bottom_enc6"], f["bottom_hole5"], x["mask_b"],
                      return_weights=True)
    _, w2 = top[1](f["top_enc2"], f["top_att3"], f["top_hole2"], x["mask_t"],
                   return_weights=True)
    w4, w5, w2 = np.asarray(w4), np.asarray(w5), np.asarray(w2)
    assert w4.shape == (2, 64, 64) and w5.shape == (2, 16, 16) and w2.shape == (2, 1024, 1024)
    assert np.abs(w4 - ref["w_top4"]).max() < 1e-5      # measured 1.7e-6
    assert np.abs(w5 - ref["w_bottom5"]).max() < 1e-5
    cols = ref["w_top2_cols"]
    assert np.abs(w2[:, :, cols] - ref["w_top2"]).max() < 1e-5
    rest = np.delete(w2, cols, axis=2)
    assert np.all(rest == np.float32(1e-8)) and ref["w_top2_floor"] == np.float32(1e-8)
    # masked sources score 0, not -inf, so they share the softmax with exp(0) terms: with
    # -inf the single usable source would take weight 1 at every query of the region
    best = ref["w_top4"].max(axis=-1)
    assert (ref["w_top4"] > 1e-7).any(axis=1).sum(axis=-1).tolist() == [1, 1]
    assert np.sum((best > 0.01) & (best < 0.99)) >= 3


@pytest.mark.parametrize("training", [False, True])
def test_discriminator_matches_the_original(ref, training):
    D = tsn.TSNDiscriminator(**presets.TINY_TSN_D)
    weights.load_tsn_discriminator_state(D, DIS)
    out = np.asarray(D(ref["inputs"]["img2"], training=training))
    assert out.shape == (2, 35, 35, 1)          # 256 -> 129 -> 65 -> 33 -> 34 -> 35
    assert np.abs(out - ref["d_train" if training else "d_eval"]).max() < 1e-4
    state = load_torch_file(DIS)["netD"]
    for j, i in enumerate((3, 6, 9)):   # the running statistics after the call
        mean, var = (np.asarray(D.norms[j].moving_mean), np.asarray(D.norms[j].moving_variance))
        if training:   # momentum 0.1, unbiased batch variance
            np.testing.assert_allclose(mean, ref[f"d_bn{i}_mean"], atol=1e-6)
            np.testing.assert_allclose(var, ref[f"d_bn{i}_var"], rtol=1e-5)
        else:           # eval mode reads them and leaves them alone
            np.testing.assert_array_equal(mean, state[f"module.model.{i}.running_mean"])
            np.testing.assert_array_equal(var, state[f"module.model.{i}.running_var"])


def test_files_are_legacy_and_load_by_name_with_or_without_prefix(nets, tmp_path):
    clones = {}
    for path, key, prefix, model, mapper, loader in (
            (GEN, "netG", "", nets["G"], weights.tsn_generator_weight_map,
             weights.load_tsn_generator_state),
            (DIS, "netD", "module.", nets["D"], weights.tsn_discriminator_weight_map,
             weights.load_tsn_discriminator_state)):
        with open(path, "rb") as f:
            assert f.read(1) == b"\x80"      # torch 1.1's legacy stream, not a zip
        raw = load_torch_file(path)
        assert list(raw) == [key]
        names = [n for n in raw[key] if not n.endswith("num_batches_tracked")]
        assert [prefix + n for _, n, _ in mapper(model)] == names   # names and their order
        flipped = {(k[len(prefix):] if prefix else f"module.{k}"): v for k, v in raw[key].items()}
        clone = clones[key] = type(model).from_config(model.get_config())
        assert loader(clone, flipped) == len(names)       # a bare dict, the other prefix form
        for variable, torch_name, kind in mapper(clone):
            np.testing.assert_array_equal(np.asarray(variable),
                                          to_keras(raw[key][prefix + torch_name], kind))
    for name in ("gen", "dis"):
        shutil.copy(os.path.join(DATA, f"tsn_tiny_{name}.pth"), tmp_path / f"{name}_00033.pth")
    (tmp_path / "latest.ckpt").write_text("00033\n")
    assert weights.load_tsn_checkpoints(tmp_path, D=nets["D"]) == {"D": 22}
    assert weights.load_tsn_checkpoints(tmp_path, 33, G=clones["netG"]) == {"G": 304}


def test_bad_checkpoints_raise_naming_the_file_and_assign_nothing(nets, full, tmp_path):
    before = np.asarray(full["G"].encoders[0][0].kernel).copy()
    with pytest.raises(TorchCheckpointError, match="tsn_tiny_gen.pth.*shape mismatch"):
        weights.load_tsn_generator_state(full["G"], GEN)
    np.testing.assert_array_equal(np.asarray(full["G"].encoders[0][0].kernel), before)
    G = nets["G"]   # every failure below assigns nothing
    with pytest.raises(TorchCheckpointError, match="tsn_tiny_dis.pth.*no 'netG' entry"):
        weights.load_tsn_generator_state(G, DIS)
    state = dict(load_torch_file(GEN)["netG"])
    del state["spade6.norm_s.mlp_beta.0.bias"]            # unused by forward, still required
    state["extra.weight"] = np.zeros(3, np.float32)
    with pytest.raises(TorchCheckpointError, match=r"my_gen.pth.*1 missing.*spade6\.norm_s"
                                                   r".*1 unused.*extra\.weight"):
        weights.load_tsn_generator_state(G, {"netG": state}, path="my_gen.pth")
    (tmp_path / "gen_00001.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(TorchCheckpointError, match="gen_00001.pth.*not a PyTorch checkpoint"):
        weights.load_tsn_checkpoints(tmp_path, 1, G=G)
    with pytest.raises(TorchCheckpointError, match="latest.ckpt"):
        weights.load_tsn_checkpoints(tmp_path, G=G)
    D = tsn.TSNDiscriminator(**dict(presets.TINY_TSN_D, n_layers=4))
    with pytest.raises(TorchCheckpointError, match=r"tsn_tiny_dis.pth.*missing.*model\.12"):
        weights.load_tsn_discriminator_state(D, DIS)


def _numpy_partial_conv(x, mask, kernel, bias, stride, pad, multi_channel):
    """NVIDIA's PartialConv2d in float64 loops (NHWC, kernel [k, k, Cin, Cout])."""
    k, cin = kernel.shape[0], x.shape[-1]
    if mask.shape[-1] == 1:
        mask = np.repeat(mask, cin, axis=-1)
    xp = np.pad(x * mask, [(0, 0), (pad, pad), (pad, pad), (0, 0)])
    mp = np.pad(mask, [(0, 0), (pad, pad), (pad, pad), (0, 0)])
    ho, wo = (xp.shape[1] - k) // stride + 1, (xp.shape[2] - k) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, kernel.shape[-1]))
    upd = np.zeros((x.shape[0], ho, wo, 1))
    for i in range(ho):
        for j in range(wo):
            win = xp[:, i * stride:i * stride + k, j * stride:j * stride + k]
            mwin = mp[:, i * stride:i * stride + k, j * stride:j * stride + k]
            count = mwin.sum(axis=(1, 2, 3)) if multi_channel else mwin[..., 0].sum((1, 2))
            window = k * k * (cin if multi_channel else 1)
            u = np.clip(count, 0, 1)
            ratio = window / (count + 1e-8) * u
            raw = np.einsum("bhwc,hwco->bo", win, kernel)
            out[:, i, j] = (raw * ratio[:, None] + bias) * u[:, None]
            upd[:, i, j, 0] = u
    return out, upd


@pytest.mark.parametrize("multi_channel", [True, False])
def test_partial_conv_follows_nvidia(rng, multi_channel):
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    channels = 3 if multi_channel else 1
    mask = (rng.random((2, 9, 8, channels)) > 0.6).astype(np.float32)
    mask[1, :5] = 0.0                                    # windows that see no valid pixel
    layer = PartialConv2D(5, 3, strides=2, padding=1, multi_channel=multi_channel,
                          return_mask=True)
    out, upd = layer(x, mask)
    layer.bias.assign(rng.standard_normal(5).astype(np.float32))
    out, upd = layer(x, mask)
    want, want_upd = _numpy_partial_conv(x, mask, np.asarray(layer.kernel),
                                         np.asarray(layer.bias), 2, 1, multi_channel)
    np.testing.assert_allclose(np.asarray(out), want, atol=1e-5)
    assert upd.shape == (2, 5, 4, 5 if multi_channel else 1)
    np.testing.assert_array_equal(np.asarray(upd)[..., :1], want_upd)
    assert np.any(want_upd == 0) and np.all(np.asarray(out)[np.broadcast_to(
        np.asarray(upd) == 0, out.shape)] == 0)
    clone = PartialConv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    if multi_channel:   # no mask: all ones, border windows still rescaled (27 / 18 at edges)
        free = np.asarray(layer(x)[0])
        np.testing.assert_allclose(free, _numpy_partial_conv(
            x, np.ones_like(x), np.asarray(layer.kernel), np.asarray(layer.bias), 2, 1,
            True)[0], atol=1e-5)


def test_resizes_follow_torch():
    x = np.arange(2 * 256 * 256, dtype=np.float32).reshape(2, 256, 256, 1) % 7
    near = np.asarray(tsn.resize_nearest_torch(x, (8, 8)))
    np.testing.assert_array_equal(near, x[:, ::32, ::32])            # first pixel of a block
    a = np.asarray(tsn.resize_bilinear_align_corners(x, (5, 3)))
    src_r, src_c = np.arange(5) * 255 / 4, np.arange(3) * 255 / 2    # corners aligned
    r0, c0 = np.floor(src_r).astype(int), np.floor(src_c).astype(int)
    r1, c1 = np.minimum(r0 + 1, 255), np.minimum(c0 + 1, 255)
    lr, lc = (src_r - r0)[:, None], (src_c - c0)[None, :]
    want = ((1 - lr) * ((1 - lc) * x[:, r0][:, :, c0, 0] + lc * x[:, r0][:, :, c1, 0])
            + lr * ((1 - lc) * x[:, r1][:, :, c0, 0] + lc * x[:, r1][:, :, c1, 0]))
    np.testing.assert_allclose(a[..., 0], want, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(tsn.resize_bilinear_align_corners(x, (256, 256))),
                                  x)


def test_configs_round_trip_and_argument_errors(nets):
    for model in nets.values():
        clone = type(model).from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        assert clone.count_params() == model.count_params()
    G = nets["G"]
    for layer in (G.attentions[0][0], G.attentions[1][4], G.spades[2], G.spades[2].norm_0,
                  G.up_blocks[1], nets["D"].norms[0]):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    assert [a.fuse for a in G.attentions[0]] == [True] * 4 + [False]
    assert [a.size for a in G.attentions[0]] == [3, 3, 3, 2, 1]
    with pytest.raises(ValueError, match="multiple of 4"):
        tsn.TSNGenerator(cnum=6)
