"""PAINT AFN networks (tfposegen.models.paint.afn) and the warps (tfposegen.ops.warp) against
the original PyTorch code.

tests/data/paint/ holds what tests/reference/make_paint_afn_reference.py made with the
ORIGINAL ``InpaintGenerator`` (AFN/model/pennet.py in gxl-groups/PAINT; released topology,
width 4 instead of 64) and netD2 (``define_D(24, 8, 'basic', norm='instance')``,
AFN/core/networks.py): their seeded weights as AFN's trainer saves them
(``afn_tiny_gen.pth`` = ``{'netG': ...}``, ``afn_tiny_dis2.pth`` = ``{'netD2': ...}`` with
``module.`` names; torch's legacy stream) and, in ``afn_reference.npz``, their outputs on the
inputs the reference module redraws with numpy (computed in float64 from the float32 weights,
so that the reference has no rounding of its own; torch's float32 run is stored too), the
original ``F.grid_sample`` / ``bilinear_warp`` on small arrays, the Resample2d CUDA forward
kernel compiled for the CPU, and the parameter counts of the full-size originals.
"""

import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import reference_arrays, reference_module, rel_err

from tfposegen.convert.torch_checkpoint import TorchCheckpointError, load_torch_file, to_keras
from tfposegen.models.paint import afn, presets, weights
from tfposegen.ops import warp

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "paint")
GEN, DIS2 = os.path.join(DATA, "afn_tiny_gen.pth"), os.path.join(DATA, "afn_tiny_dis2.pth")
REF = reference_module("make_paint_afn_reference.py")


@pytest.fixture(scope="module")
def ref():
    return reference_arrays(REF, os.path.join(DATA, "afn_reference.npz"))


@pytest.fixture(scope="module")
def nets():
    G = afn.AFNGenerator(**presets.TINY_AFN_G)
    D2 = afn.AFNDiscriminator(**presets.TINY_AFN_D2)
    assert weights.load_afn_generator_state(G, GEN) == 141
    assert weights.load_afn_discriminator_state(D2, DIS2) == 10
    return {"G": G, "D2": D2}


@pytest.fixture(scope="module")
def full():
    """The released configurations, built without running."""
    return {"G": afn.AFNGenerator(**presets.AFN_G), "D2": afn.AFNDiscriminator(**presets.AFN_D2)}


def _run_g(model, x):
    image, flows = model(x["image"], x["target_parsing"], x["source_parsing"])
    return np.asarray(image, np.float64), [np.asarray(f, np.float64) for f in flows]


# ------------------------------------------------------------------------- numpy twins


def np_grid_sample(source, grid, align_corners):
    """``F.grid_sample(mode='bilinear', padding_mode='zeros')``, NHWC, float64 loops."""
    b, h, w, c = source.shape
    out = np.zeros(grid.shape[:3] + (c,))
    for n, i, j in np.ndindex(*grid.shape[:3]):
        gx, gy = (float(v) for v in grid[n, i, j])
        if align_corners:
            xs, ys = (gx + 1) / 2 * (w - 1), (gy + 1) / 2 * (h - 1)
        else:
            xs, ys = ((gx + 1) * w - 1) / 2, ((gy + 1) * h - 1) / 2
        x0, y0 = int(np.floor(xs)), int(np.floor(ys))
        for yy, wy in ((y0, y0 + 1 - ys), (y0 + 1, ys - y0)):
            for xx, wx in ((x0, x0 + 1 - xs), (x0 + 1, xs - x0)):
                if 0 <= yy < h and 0 <= xx < w:
                    out[n, i, j] += wy * wx * source[n, yy, xx]
    return out


def np_bilinear_warp(source, flow, align_corners=True):
    """pennet.bilinear_warp: the base grid in float32 (``.float()``), the rest in float64."""
    _, h, w, _ = flow.shape
    bx = np.arange(w, dtype=np.float32) / np.float32(w - 1) * np.float32(2) - np.float32(1)
    by = np.arange(h, dtype=np.float32) / np.float32(h - 1) * np.float32(2) - np.float32(1)
    gx = bx.astype(np.float64)[None, None, :] + 2 * flow[..., 0].astype(np.float64) / w
    gy = by.astype(np.float64)[None, :, None] + 2 * flow[..., 1].astype(np.float64) / h
    return np_grid_sample(source, np.stack([gx, gy], axis=-1), align_corners)


def np_resample2d(source, flow, kernel_size, dilation, sigma):
    """``kernel_resample2d_update_output`` (resample2d_kernel.cu), NHWC, float64 loops."""
    _, h1, w1, c = source.shape

    def weight(d):
        return np.exp(-d * d / (2 * sigma * sigma if sigma != 0 else 1e-8))

    out = np.zeros(flow.shape[:3] + (c,))
    for n, y, x in np.ndindex(*flow.shape[:3]):
        xf, yf = x + float(flow[n, y, x, 0]), y + float(flow[n, y, x, 1])
        x0, y0 = np.floor(xf), np.floor(yf)
        alpha, beta = xf - x0, yf - y0
        val, total = np.zeros(c), 0.0
        for fy in range(kernel_size // 2):
            rows = ((int(np.clip(y0 - fy * dilation, 0, h1 - 1)), weight(fy * dilation + beta)),
                    (int(np.clip(y0 + (fy + 1) * dilation, 0, h1 - 1)),
                     weight((fy + 1) * dilation - beta)))
            for fx in range(kernel_size // 2):
                cols = ((int(np.clip(x0 - fx * dilation, 0, w1 - 1)),
                         weight(fx * dilation + alpha)),
                        (int(np.clip(x0 + (fx + 1) * dilation, 0, w1 - 1)),
                         weight((fx + 1) * dilation - alpha)))
                for row, wy in rows:
                    for col, wx in cols:
                        val += wy * wx * source[n, row, col]
                        total += wy * wx
        out[n, y, x] = val / (total if total != 0 else 1e-8)
    return out


# ------------------------------------------------------------------------------- warps


@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_matches_torch_and_numpy(ref, align_corners):
    x = ref["inputs"]
    out = np.asarray(warp.grid_sample_bilinear(x["gs_source"], x["gs_grid"], align_corners))
    torch_out = ref[f"gs_out_ac{int(align_corners)}"]
    assert out.shape == torch_out.shape == (2, 4, 6, 3)
    assert np.abs(out - torch_out).max() < 1e-6
    assert np.abs(out - np_grid_sample(x["gs_source"], x["gs_grid"], align_corners)).max() < 1e-5
    outside = np.abs(x["gs_grid"]).max(-1) > 1.2     # taps fade to zero, not clamped
    assert outside.any() and np.abs(torch_out[outside]).max() < np.abs(torch_out).max()
    if align_corners:   # (-1, -1) and (1, 1) are the centres of the corner pixels
        np.testing.assert_allclose(out[0, 0, 0], x["gs_source"][0, 0, 0], atol=1e-6)
        np.testing.assert_allclose(out[0, 0, 1], x["gs_source"][0, -1, -1], atol=1e-6)


@pytest.mark.parametrize("align_corners", [True, False])
def test_bilinear_warp_matches_the_original(ref, align_corners):
    x = ref["inputs"]
    out = np.asarray(warp.bilinear_warp(x["bw_source"], x["bw_flow"], align_corners))
    assert out.shape == (2, 6, 8, 3)
    assert np.abs(out - ref[f"bw_out_ac{int(align_corners)}"]).max() < 1e-6
    twin = np_bilinear_warp(x["bw_source"], x["bw_flow"], align_corners)
    assert np.abs(out - twin).max() < 1e-5     # float32 against float64
    zero = np.asarray(warp.bilinear_warp(x["bw_source"], np.zeros_like(x["bw_flow"]),
                                         align_corners))
    if align_corners:    # zero flow = identity under torch 1.1's convention only
        np.testing.assert_allclose(zero, x["bw_source"], atol=1e-6)
    else:
        assert np.abs(zero - x["bw_source"]).max() > 0.1


def test_bilinear_warp_is_differentiable_in_the_flow():
    rng = np.random.default_rng(5)
    source = rng.standard_normal((1, 4, 5, 2))
    flow = rng.uniform(-1.5, 1.5, (1, 4, 5, 2))
    probe = rng.standard_normal((1, 4, 5, 2))
    f = tf.Variable(flow)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(warp.bilinear_warp(tf.constant(source), f) * probe)
    grad = tape.gradient(loss, f).numpy()
    eps, numeric = 1e-6, np.zeros_like(flow)
    for idx in np.ndindex(*flow.shape):
        step = np.zeros_like(flow)
        step[idx] = eps
        numeric[idx] = np.sum((np_bilinear_warp(source, flow + step)
                               - np_bilinear_warp(source, flow - step)) * probe) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, atol=1e-5)
    assert np.abs(grad).max() > 0.1


@pytest.mark.parametrize("case", range(len(REF.RESAMPLE_CASES)))
def test_resample2d_matches_the_cuda_kernel(ref, case):
    kernel_size, dilation, sigma = REF.RESAMPLE_CASES[case]
    x = ref["inputs"]
    out = np.asarray(warp.resample2d(x["rs_source"], x["rs_flow"], kernel_size, dilation, sigma))
    kernel = ref[f"rs_out_{case}"]
    assert out.shape == kernel.shape == (2, 5, 6, 3)    # the flow's size, not the source's
    assert np.abs(out - kernel).max() < 1e-5
    twin = np_resample2d(x["rs_source"], x["rs_flow"], kernel_size, dilation, sigma)
    assert np.abs(out - twin).max() < 1e-5
    per_pixel = np.full(x["rs_flow"].shape[:3] + (1,), sigma, np.float32)
    by_map = np.asarray(warp.resample2d(x["rs_source"], x["rs_flow"], kernel_size, dilation,
                                        per_pixel))
    np.testing.assert_array_equal(by_map, out)


def test_resample2d_edge_cases():
    rng = np.random.default_rng(3)
    source = rng.standard_normal((1, 4, 5, 2)).astype(np.float32)
    flow = rng.integers(-6, 7, (1, 3, 4, 2)).astype(np.float32)
    # kernel_size 1: no taps, SAFE_DIV(0, 0) = 0
    assert not np.asarray(warp.resample2d(source, flow, kernel_size=1)).any()
    # sigma 0 at integer positions: only the zero-distance tap, the clamped pixel itself
    out = np.asarray(warp.resample2d(source, flow, kernel_size=4, sigma=0.0))
    ys = np.clip(np.arange(3)[:, None] + flow[0, ..., 1], 0, 3).astype(int)
    xs = np.clip(np.arange(4)[None, :] + flow[0, ..., 0], 0, 4).astype(int)
    np.testing.assert_array_equal(out[0], source[0, ys, xs])
    # ... and 0 between pixels (every weight underflows)
    half = np.asarray(warp.resample2d(source, flow + 0.5, kernel_size=2, sigma=0.0))
    assert not half.any()
    # a huge sigma: the plain mean of the 2 x 2 clamped neighbours
    frac = flow + 0.25
    mean = np.asarray(warp.resample2d(source, frac, kernel_size=2, sigma=1e4))
    np.testing.assert_allclose(mean, np_resample2d(source, frac, 2, 1, 1e4), atol=1e-5)
    with pytest.raises(ValueError, match="2 channels"):
        warp.resample2d(source, flow[..., :1])


def test_warp_argument_errors():
    with pytest.raises(ValueError, match="same height and width"):
        warp.bilinear_warp(np.zeros((1, 4, 4, 3), np.float32), np.zeros((1, 4, 5, 2), np.float32))
    with pytest.raises(ValueError, match="height must be >= 2"):
        warp.bilinear_warp(np.zeros((1, 1, 4, 3), np.float32), np.zeros((1, 1, 4, 2), np.float32))
    with pytest.raises(ValueError, match="4-D NHWC"):
        warp.bilinear_warp(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 2), np.float32))
    with pytest.raises(ValueError, match=r"\[B, Ho, Wo, 2\]"):
        warp.grid_sample_bilinear(np.zeros((1, 4, 4, 3), np.float32),
                                  np.zeros((1, 4, 4, 3), np.float32))


# ---------------------------------------------------------------------------- networks


def test_full_size_parameter_counts_match_the_original(ref, full):
    G, D2 = full["G"], full["D2"]
    assert G.count_params() == int(ref["params_G"]) == presets.AFN_PARAMS_RELEASED["G"]
    assert G.count_params() == 70_364_035
    cc = G.conv_column
    unused = sum(c.count_params() for c in cc.at_conv01 + cc.at_conv02)
    parts = [G.flow_column.count_params(), cc.count_params() - unused, unused]
    assert parts == ref["params_G_parts"].tolist() == [37_325_888, 32_300_483, 737_664]
    assert D2.count_params() == int(ref["params_D2"]) == presets.AFN_PARAMS_RELEASED["D2"]
    assert afn.AFNDiscriminator(input_nc=6).count_params() == int(ref["params_D6"])
    # one variable per state-dict tensor
    assert len(weights.afn_generator_weight_map(G)) == int(ref["full_G_tensors"]) == 141
    assert len(G.weights) == 141
    assert len(weights.afn_discriminator_weight_map(D2)) == int(ref["full_D2_tensors"])
    assert len(D2.weights) == 10


@pytest.mark.parametrize("training", [False, True])
def test_generator_matches_the_original(ref, nets, training):
    x = ref["inputs"]
    image, flows = nets["G"](x["image"], x["target_parsing"], x["source_parsing"],
                             training=training)
    image = np.asarray(image, np.float64)
    assert image.shape == (2, REF.SIZE, REF.SIZE, 3)
    assert [tuple(f.shape) for f in flows] == [(2, 16, 16, 2), (2, 32, 32, 2), (2, 64, 64, 2)]
    # measured 2.8e-5 / 6.2e-5 against the float64 reference: float32 rounding of the flow
    # column, amplified by the warps (torch's own float32 run is off by 8.5e-5)
    for i, f in enumerate(flows):
        assert np.abs(np.asarray(f) - ref[f"g_flow_{i}"]).max() < 1e-4, i
        assert ref[f"g_flow_{i}"].std() > 0.4     # displacements of pixels, not noise
    assert np.abs(image - ref["g_image"]).max() < 1e-4
    assert np.abs(image - ref["g_image_torch32"]).max() < 2e-4
    assert ref["g_image"].std() > 0.3 and np.abs(ref["g_image"]).max() < 1.0   # tanh


def test_generator_in_float64_is_exact(ref):
    """The port computes what the original computes: in float64 the only difference left is
    the reference's float32 storage."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        G = afn.AFNGenerator(**presets.TINY_AFN_G)
        weights.load_afn_generator_state(G, GEN)
        x = {k: v.astype(np.float64) for k, v in ref["inputs"].items()}
        image, flows = _run_g(G, x)
    finally:
        keras.config.set_dtype_policy(previous)
    assert G.flow_column.down[0][0].conv.kernel.dtype == "float64"
    assert np.abs(image - ref["g_image"]).max() < 1e-6
    for i, f in enumerate(flows):
        assert rel_err(f, ref[f"g_flow_{i}"]) < 1e-6, i


def test_torch13_warp_convention_gives_another_image(ref, nets):
    x = ref["inputs"]
    model = afn.AFNGenerator(**dict(presets.TINY_AFN_G, align_corners=False))
    weights.load_afn_generator_state(model, GEN)
    image, _ = _run_g(model, x)
    sub = ref["g_image_align_false_sub"]
    assert np.abs(image[:, ::2, ::2] - sub).max() < 1e-4
    assert np.abs(sub - ref["g_image"][:, ::2, ::2]).max() > 0.5


@pytest.mark.parametrize("training", [False, True])
def test_discriminator_matches_the_original(ref, nets, training):
    scores = nets["D2"](ref["inputs"]["pose"], training=training)
    assert tuple(scores.shape) == (2, 19, 19, 1)     # 128 -> 65 -> 33 -> 17 -> 18 -> 19
    assert np.abs(np.asarray(scores) - ref["d2_scores"]).max() < 1e-4


def test_files_are_legacy_trainer_checkpoints_and_load_in_every_form(nets):
    for path, entry, model, mapper, loader, prefix in (
            (GEN, "netG", nets["G"], weights.afn_generator_weight_map,
             weights.load_afn_generator_state, ""),
            (DIS2, "netD2", nets["D2"], weights.afn_discriminator_weight_map,
             weights.load_afn_discriminator_state, "module.")):
        with open(path, "rb") as f:
            assert f.read(1) == b"\x80"      # torch 1.1's legacy stream, not a zip
        raw = load_torch_file(path)
        assert list(raw) == [entry]
        names = [prefix + n for _, n, _ in mapper(model)]
        assert names == list(raw[entry])     # names and their order
        bare = {k[len(prefix):]: v for k, v in raw[entry].items()}
        for source in (bare, {f"module.{k}": v for k, v in bare.items()}, {entry: bare}):
            clone = type(model).from_config(model.get_config())
            assert loader(clone, source) == len(bare)
            for variable, torch_name, kind in mapper(clone):
                np.testing.assert_array_equal(np.asarray(variable),
                                              to_keras(bare[torch_name], kind))


def test_load_afn_checkpoints_reads_latest_ckpt(tmp_path, nets):
    shutil.copy(GEN, tmp_path / "gen_00007.pth")
    shutil.copy(DIS2, tmp_path / "dis2_00007.pth")
    (tmp_path / "latest.ckpt").write_text("00007\n")
    G = afn.AFNGenerator(**presets.TINY_AFN_G)
    D2 = afn.AFNDiscriminator(**presets.TINY_AFN_D2)
    assert weights.load_afn_checkpoints(tmp_path, G=G, D2=D2) == {"G": 141, "D2": 10}
    np.testing.assert_array_equal(np.asarray(G.conv_column.to_image.conv.kernel),
                                  np.asarray(nets["G"].conv_column.to_image.conv.kernel))
    assert weights.load_afn_checkpoints(tmp_path, 7, D2=D2) == {"D2": 10}
    with pytest.raises(TorchCheckpointError, match="gen_00008.pth"):
        weights.load_afn_checkpoints(tmp_path, "8", G=G)
    os.remove(tmp_path / "latest.ckpt")
    with pytest.raises(TorchCheckpointError, match="latest.ckpt"):
        weights.load_afn_checkpoints(tmp_path, G=G)


def test_bad_checkpoints_raise_naming_the_file_and_assign_nothing(full):
    G = full["G"]
    before = np.asarray(G.flow_column.down[0][0].conv.kernel).copy()
    with pytest.raises(TorchCheckpointError, match="afn_tiny_gen.pth.*shape mismatch"):
        weights.load_afn_generator_state(G, GEN)
    np.testing.assert_array_equal(np.asarray(G.flow_column.down[0][0].conv.kernel), before)
    tiny = afn.AFNGenerator(**presets.TINY_AFN_G)
    with pytest.raises(TorchCheckpointError, match=r"afn_tiny_dis2.pth.*'netG'.*\['netD2'\]"):
        weights.load_afn_generator_state(tiny, DIS2)
    bare_dis2 = load_torch_file(DIS2)["netD2"]
    with pytest.raises(TorchCheckpointError, match=r"dis2.pth.*141 missing.*10 unused"):
        weights.load_afn_generator_state(tiny, bare_dis2, path="dis2.pth")
    one_res = afn.AFNGenerator(**dict(presets.TINY_AFN_G, n_res=1))
    with pytest.raises(TorchCheckpointError, match=r"afn_tiny_gen.pth.*unused.*model\.1\.model"):
        weights.load_afn_generator_state(one_res, GEN)
    four = afn.AFNDiscriminator(**dict(presets.TINY_AFN_D2, n_layers=4))
    with pytest.raises(TorchCheckpointError, match=r"afn_tiny_dis2.pth.*missing.*model\.14"):
        weights.load_afn_discriminator_state(four, DIS2)
    state = dict(load_torch_file(GEN)["netG"])
    del state["f_gen.conv_column.at_conv02.conv03.0.bias"]    # unused in forward, still needed
    with pytest.raises(TorchCheckpointError, match=r"my_gen.pth.*1 missing.*at_conv02"):
        weights.load_afn_generator_state(tiny, state, path="my_gen.pth")
    with pytest.raises(TorchCheckpointError, match=r"<AFN netG state dict>.*missing"):
        weights.load_afn_generator_state(tiny, state)
    with pytest.raises(TorchCheckpointError, match="no_such_gen.pth"):
        weights.load_afn_generator_state(tiny, os.path.join(DATA, "no_such_gen.pth"))


def test_configs_round_trip_and_argument_errors(nets):
    for model in nets.values():
        clone = type(model).from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        assert clone.count_params() == model.count_params()
    for layer in (nets["G"].flow_column, nets["G"].conv_column, nets["G"].flow_column.down[0][0],
                  nets["G"].flow_column.up_trans[0], nets["G"].conv_column.up_res[0][0]):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    G = nets["G"]
    with pytest.raises(ValueError, match="multiples of 16"):
        G(np.zeros((1, 40, 40, 3), np.float32), np.zeros((1, 40, 40, 9), np.float32),
          np.zeros((1, 40, 40, 9), np.float32))
    with pytest.raises(ValueError, match="expected 9 channels"):
        G(np.zeros((1, 64, 64, 3), np.float32), np.zeros((1, 64, 64, 9), np.float32),
          np.zeros((1, 64, 64, 20), np.float32))
    with pytest.raises(ValueError, match="norm must be"):
        afn.ConvBlock(3, 4, 3, norm="bn")
