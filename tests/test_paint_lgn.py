"""PAINT LGN networks (tfposegen.models.paint) against the original PyTorch code.

tests/data/paint/ holds what tests/reference/make_paint_lgn_reference.py made with the
ORIGINAL ``G_Unet_add_all``, ``E_ResNet`` and ``D_NLayersMulti`` (LGN/models/networks.py in
gxl-groups/PAINT) at the released topology and a small width: their seeded weights as LGN
saves them (``lgn_tiny_net_{G,E,D}.pth``, torch's legacy stream, no prefix) and, in
``lgn_reference.npz``, their outputs on the inputs the reference module redraws with numpy,
plus the parameter counts of the full-size originals.
"""

import os

import numpy as np
import pytest
from conftest import reference_arrays, reference_module

from tfposegen.convert.torch_checkpoint import TorchCheckpointError, load_torch_file, to_keras
from tfposegen.models.paint import lgn, presets, weights

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "paint")
REF = reference_module("make_paint_lgn_reference.py")
EPOCH = "lgn_tiny"   # lgn_tiny_net_G.pth etc., named as LGN's <epoch>_net_<X>.pth


def _file(name):
    return os.path.join(DATA, f"{EPOCH}_net_{name}.pth")


@pytest.fixture(scope="module")
def ref():
    return reference_arrays(REF, os.path.join(DATA, "lgn_reference.npz"))


@pytest.fixture(scope="module")
def nets():
    out = {"G": lgn.LGNGenerator(**presets.TINY_G), "E": lgn.LGNEncoder(**presets.TINY_E),
           "D": lgn.LGNDiscriminator(**presets.TINY_D)}
    assert weights.load_checkpoints(DATA, EPOCH, **out) == {"G": 32, "E": 30, "D": 20}
    return out


def test_full_size_parameter_counts_match_the_original(ref):
    full = {"G": lgn.LGNGenerator(**presets.LGN_G), "E": lgn.LGNEncoder(**presets.LGN_E),
            "D": lgn.LGNDiscriminator(**presets.LGN_D)}   # built without running
    counts = {k: m.count_params() for k, m in full.items()}
    assert counts == {k: int(ref[f"params_{k}"]) for k in counts}   # counted in torch
    assert counts == presets.PARAMS_RELEASED
    assert counts == {"G": 55_614_868, "E": 2_591_056, "D": 3_485_090}
    assert [s.count_params() for s in full["D"].scales] == ref["params_D_scales"].tolist()
    maps = {"G": weights.generator_weight_map, "E": weights.encoder_weight_map,
            "D": weights.discriminator_weight_map}
    for k, m in full.items():   # one variable per state-dict tensor
        assert len(maps[k](m)) == int(ref[f"full_{k}_tensors"]) == len(m.weights), k


@pytest.mark.parametrize("training", [False, True])
def test_generator_matches_the_original(ref, nets, training):
    x = ref["inputs"]
    out = np.asarray(nets["G"](x["pose"], x["z"], training=training), np.float64)
    assert out.shape == (2, REF.SIZE, REF.SIZE, 20)
    keep = ref["keep"]
    # measured 8.6e-6: float32 rounding through 16 convolutions and the softmax
    assert np.abs(out[:, keep][:, :, keep] - ref["g_keep"]).max() < 1e-4
    # every pixel, through sums of 256 probabilities (measured 3.7e-4 = 256 x 1.5e-6)
    assert np.abs(out.sum(axis=2) - ref["g_sum_w"]).max() < 2.5e-3
    assert np.abs(out.sum(axis=1) - ref["g_sum_h"]).max() < 2.5e-3
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-5)       # softmax, no tanh
    assert ref["g_keep"].max(axis=-1).mean() > 0.2    # far from uniform: a real test


@pytest.mark.parametrize("training", [False, True])
def test_encoder_matches_the_original(ref, nets, training):
    mu, logvar = nets["E"](ref["inputs"]["component"], training=training)
    assert mu.shape == logvar.shape == (2, 8)
    assert np.abs(np.asarray(mu) - ref["e_mu"]).max() < 1e-4
    assert np.abs(np.asarray(logvar) - ref["e_logvar"]).max() < 1e-4


@pytest.mark.parametrize("training", [False, True])
def test_discriminator_matches_the_original(ref, nets, training):
    maps = nets["D"](ref["inputs"]["layout"], training=training)
    assert [tuple(m.shape) for m in maps] == [(2, 30, 30, 1), (2, 14, 14, 1)]
    for i, m in enumerate(maps):
        assert np.abs(np.asarray(m) - ref[f"d_{i}"]).max() < 1e-4, i


def test_dropout_variant_acts_in_training_only(ref, nets):
    x = ref["inputs"]
    model = lgn.LGNGenerator(**dict(presets.TINY_G, use_dropout=True))
    weights.load_generator_state(model, _file("G"))
    eval_out = np.asarray(model(x["pose"], x["z"]))
    np.testing.assert_allclose(eval_out, np.asarray(nets["G"](x["pose"], x["z"])), atol=1e-6)
    assert np.abs(np.asarray(model(x["pose"], x["z"], training=True)) - eval_out).max() > 1e-2


def test_files_are_bare_legacy_state_dicts_and_load_with_module_prefix(nets):
    for name, model, mapper in (("G", nets["G"], weights.generator_weight_map),
                                ("E", nets["E"], weights.encoder_weight_map),
                                ("D", nets["D"], weights.discriminator_weight_map)):
        with open(_file(name), "rb") as f:
            assert f.read(1) == b"\x80"      # torch 1.1's legacy stream, not a zip
        raw = load_torch_file(_file(name))
        assert [n for _, n, _ in mapper(model)] == list(raw), name   # names and their order
        prefixed = {f"module.{k}": v for k, v in raw.items()}
        clone = type(model).from_config(model.get_config())
        loader = {"G": weights.load_generator_state, "E": weights.load_encoder_state,
                  "D": weights.load_discriminator_state}[name]
        assert loader(clone, prefixed) == len(raw)
        for variable, torch_name, kind in mapper(clone):
            np.testing.assert_array_equal(np.asarray(variable), to_keras(raw[torch_name], kind))


def test_bad_checkpoints_raise_naming_the_file_and_assign_nothing(tmp_path):
    full = lgn.LGNGenerator(**presets.LGN_G)
    before = np.asarray(full.down_convs[0].kernel).copy()
    with pytest.raises(TorchCheckpointError, match="lgn_tiny_net_G.pth.*shape mismatch"):
        weights.load_generator_state(full, _file("G"))
    np.testing.assert_array_equal(np.asarray(full.down_convs[0].kernel), before)
    three = lgn.LGNDiscriminator(**dict(presets.TINY_D, num_D=3))
    with pytest.raises(TorchCheckpointError, match=r"lgn_tiny_net_D.pth.*missing.*model_2\.0"):
        weights.load_discriminator_state(three, _file("D"))
    seven = lgn.LGNGenerator(**dict(presets.TINY_G, num_downs=7))
    with pytest.raises(TorchCheckpointError, match="lgn_tiny_net_G.pth.*unused"):
        weights.load_generator_state(seven, _file("G"))
    with pytest.raises(TorchCheckpointError, match="40_net_E.pth"):
        weights.load_checkpoints(tmp_path, "40", E=lgn.LGNEncoder(**presets.TINY_E))
    # dict sources are named too; torch < 0.4 instance-norm statistics are dropped as
    # BaseModel.load_networks does, but only at instance-norm positions
    state = dict(load_torch_file(_file("E")))
    encoder = lgn.LGNEncoder(**presets.TINY_E)
    assert weights.load_encoder_state(
        encoder, {**state, "conv.1.conv.3.running_mean": np.zeros(8, np.float32)}) == 30
    with pytest.raises(TorchCheckpointError, match="my_E.pth.*unused.*conv.0.running_mean"):
        weights.load_encoder_state(encoder, {**state, "conv.0.running_mean": np.zeros(8)},
                                   path="my_E.pth")
    del state["fcVar.0.bias"]
    state["fc.0.weight"] = state["fc.0.weight"].T
    with pytest.raises(TorchCheckpointError, match=r"my_E.pth.*1 missing.*fcVar\.0\.bias.*"
                                                   r"shape mismatch.*fc\.0\.weight"):
        weights.load_encoder_state(encoder, state, path="my_E.pth")


def test_configs_round_trip_and_argument_errors(nets):
    for model in nets.values():
        clone = type(model).from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        assert clone.count_params() == model.count_params()
    block = nets["E"].blocks[0]
    assert type(block).from_config(block.get_config()).get_config() == block.get_config()
    scale = nets["D"].scales[1]
    assert scale.ndf == 4 and type(scale).from_config(scale.get_config()).ndf == 4
    with pytest.raises(ValueError, match="num_downs must be >= 6"):
        lgn.LGNGenerator(**dict(presets.TINY_G, num_downs=5))
    with pytest.raises(ValueError, match="needs 256 x 256"):
        nets["E"](np.zeros((1, 128, 128, 4), np.float32))


def test_exclusive_average_pool_counts_only_in_image_elements():
    x = np.arange(2 * 5 * 6 * 3, dtype=np.float32).reshape(2, 5, 6, 3)
    out = np.asarray(lgn.avg_pool_exclusive(x))
    assert out.shape == (2, 3, 3, 3)
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], constant_values=np.nan)
    for i in range(3):
        for j in range(3):
            window = padded[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
            np.testing.assert_allclose(out[:, i, j], np.nanmean(window, axis=(1, 2)),
                                       rtol=1e-6)
