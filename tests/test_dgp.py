"""DGP: masks, loss terms, optimiser, phases, resumable runs (anywhere, on procedural pairs)."""

import json

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import SHARED
from dgp_helpers import dgp_networks, make_pair
from PIL import Image, ImageChops, ImageFilter
from scipy import ndimage

from tfposegen.models.dgp import losses, masks
from tfposegen.models.dgp.inputs import DGPInputError, prepare_pair, read_pair
from tfposegen.models.dgp.project import DGPProjector
from tfposegen.models.dgp.run import STATE_DIR, DGPStateError, run_dgp

DGP_DATA = SHARED / "data" / "dgp"
SAMPLES = [("model_1", "cloth_1"), ("model_2", "cloth_2")]
needs_data = pytest.mark.skipif(not DGP_DATA.is_dir(), reason="../shared/data/dgp absent")


def _read(path):
    return np.asarray(Image.open(path))


# ----------------------------------------------------------------------------- masks

@needs_data
@pytest.mark.parametrize("model,cloth", SAMPLES)
def test_residual_mask_bit_identical_to_original_files(model, cloth):
    model_parse = _read(DGP_DATA / model / "model_info" / "model_parse.png")
    cloth_parse = _read(DGP_DATA / model / cloth / "cloth_parse.png")
    expected = _read(DGP_DATA / model / cloth / "residual_parse.png")
    got = masks.residual_mask(model_parse, cloth_parse, "short")
    assert got.shape == expected.shape and got.dtype == bool
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("sleeve", ["short", "long"])
def test_residual_mask_equals_pil(sleeve, rng):
    """PIL's point / MaxFilter(7) / logical_and, as the original, on random label maps of
    different sizes (the result takes the smaller size)."""
    model = rng.choice([0, 16, 32, 64, 255], size=(41, 37)).astype(np.uint8)
    model[rng.random(model.shape) < 0.8] = 0
    cloth = rng.choice([0, 23, 32, 64, 128], size=(35, 44)).astype(np.uint8)
    body = Image.fromarray(model).point(
        (lambda i: i == 64) if sleeve == "short" else (lambda i: i != 0), mode="1")
    less = Image.fromarray(cloth).point(lambda i: i in (0, 23), mode="1")
    expected = np.asarray(ImageChops.logical_and(body.filter(ImageFilter.MaxFilter(7)),
                                                 less.filter(ImageFilter.MaxFilter(7))))
    np.testing.assert_array_equal(masks.residual_mask(model, cloth, sleeve), expected)


def _sample_maps(tmp_path):
    if DGP_DATA.is_dir():
        return (_read(DGP_DATA / "model_1" / "model_info" / "model_parse.png"),
                _read(DGP_DATA / "model_1" / "cloth_1" / "cloth_parse.png"))
    cloth_dir, model_dir = make_pair(tmp_path, size=422)
    return _read(f"{model_dir}/model_parse.png"), _read(f"{cloth_dir}/cloth_parse.png")


def test_arm_and_inner_masks_equal_independent_morphology(tmp_path):
    """scipy binary morphology with a zero border on the OpenCV-resized label maps."""
    model, cloth = _sample_maps(tmp_path)
    arm, inner = masks.arm_and_inner_masks(model, cloth, 512)
    m = cv2.resize(model, (512, 512), interpolation=cv2.INTER_CUBIC)
    c = cv2.resize(cloth, (512, 512), interpolation=cv2.INTER_CUBIC)
    box = lambda k: np.ones((k, k), bool)  # noqa: E731
    body = ndimage.binary_erosion((m == 16) | (m == 32), box(3), border_value=0)
    body = ndimage.binary_dilation(body, box(11), border_value=0)
    garment = ndimage.binary_dilation((c == 32) | (c == 64) | (c == 128), box(5))
    garment = ndimage.binary_erosion(garment, box(15), border_value=0)
    want_arm = body & (c == 32)
    want_arm[:256] = False
    want_arm = ndimage.binary_dilation(want_arm, box(5))
    np.testing.assert_array_equal(arm, want_arm.astype(np.float32))
    np.testing.assert_array_equal(inner, (garment & ~want_arm).astype(np.float32))
    assert inner.sum() > 1000 and not inner[:7].any() and not inner[:, -7:].any()
    assert not arm[:254].any()


@needs_data
def test_pixel_mask_as_original_reads_residual_png():
    """cv2.imread of the written 1-bit PNG, cubic resize to 512, //255, 1 - that."""
    path = DGP_DATA / "model_1" / "cloth_1" / "residual_parse.png"
    res = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (512, 512),
                     interpolation=cv2.INTER_CUBIC)
    got = masks.loss_mask_from_residual(_read(path), 512)
    np.testing.assert_array_equal(got, 1 - res // 255)
    assert 0 < (got == 0).sum() < 512 * 512


# ----------------------------------------------------------------------------- losses

def _fake_d(images):
    return keras.ops.mean(images, axis=[1, 2, 3])[:, None] * 3.0


def test_projection_terms_weights_and_reductions(rng):
    r = 32
    x = rng.uniform(-1, 1, (1, r, r, 3)).astype(np.float32)
    x_rec = rng.uniform(-1.2, 1.2, (1, r, r, 3)).astype(np.float32)
    mask = (rng.random((1, r, r, 1)) > 0.3).astype(np.float32)
    vgg = lambda im: keras.ops.reshape(im[:, ::4, ::4, :] * 0.01, (1, -1))  # noqa: E731
    attr = lambda im: keras.ops.mean(im, axis=[1, 2]) * 0.1  # noqa: E731
    terms = losses.projection_terms(
        x, x_rec, mask, _fake_d, vgg, vgg(losses.vgg_input(x, mask)),
        attr, attr(losses.attr_input(x, mask)))
    terms = {k: float(v) for k, v in terms.items()}

    x255, r255 = (x + 1) / 2 * 255, (x_rec + 1) / 2 * 255
    pix = np.mean(((x - x_rec) * mask) ** 2)
    feat = np.mean(((x255 * mask)[:, ::4, ::4] * 0.01 - (r255 * mask)[:, ::4, ::4] * 0.01) ** 2)
    legacy = lambda im: tf.compat.v1.image.resize(im, [331, 331]).numpy()  # noqa: E731
    m331 = legacy(mask)
    attr_np = np.sum(((legacy(x255) * m331).mean(axis=(1, 2)) * 0.1
                      - (legacy(r255) * m331).mean(axis=(1, 2)) * 0.1) ** 2)
    adv = np.log1p(np.exp(-3 * x_rec.mean()))
    np.testing.assert_allclose(terms["pix"], pix, rtol=1e-5)
    np.testing.assert_allclose(terms["feat"], feat, rtol=1e-4)
    np.testing.assert_allclose(terms["attr"], attr_np, rtol=1e-3)
    np.testing.assert_allclose(terms["adv"], adv, rtol=1e-5)
    np.testing.assert_allclose(terms["total"], pix + 5e-5 * feat + adv + 5e-5 * attr_np,
                               rtol=1e-4)
    without = losses.projection_terms(x, x_rec, mask, _fake_d)
    assert set(without) == {"pix", "adv", "total"}
    weighted = losses.projection_terms(x, x_rec, mask, _fake_d, adv_weight=0.25)
    np.testing.assert_allclose(float(weighted["total"]), pix + 0.25 * adv, rtol=1e-5)


def test_search_terms_weights_and_reductions(rng):
    r = 16
    x, x_rec, proj = (rng.uniform(-1, 1, (1, r, r, 3)).astype(np.float32) for _ in range(3))
    arm = (rng.random((1, r, r, 1)) > 0.8).astype(np.float32)
    inner = (rng.random((1, r, r, 1)) > 0.5).astype(np.float32) * (1 - arm)
    terms = {k: float(v) for k, v in
             losses.search_terms(x, x_rec, proj, arm, inner, _fake_d).items()}
    want = {"inner": np.mean((x - x_rec) ** 2 * inner), "arm": np.mean((proj - x_rec) ** 2 * arm),
            "outer": np.mean((proj - x_rec) ** 2 * (1 - arm) * (1 - inner)),
            "adv": np.log1p(np.exp(-3 * x_rec.mean()))}
    want["total"] = want["inner"] + want["adv"] + 0.9 * want["outer"] + want["arm"]
    for k, v in want.items():
        np.testing.assert_allclose(terms[k], v, rtol=1e-5, err_msg=k)
    weighted = losses.search_terms(x, x_rec, proj, arm, inner, _fake_d, adv_weight=0.25)
    np.testing.assert_allclose(float(weighted["total"]),
                               want["total"] - 0.75 * want["adv"], rtol=1e-5)


# ----------------------------------------------------------------------------- phases

@pytest.fixture(scope="module")
def tiny():
    return dgp_networks()


@pytest.fixture
def pair_inputs(tmp_path, tiny):
    cloth_dir, model_dir = make_pair(tmp_path / "pair")
    return prepare_pair(read_pair(cloth_dir, model_dir), "short", tiny[2].resolution)


def test_first_adam_step_is_tf1_adam_with_epsilon_1e8(tiny, pair_inputs):
    E, D, G = tiny
    p = DGPProjector(G.synthesis, D, E, pair_inputs, jit_compile=False)
    p.encode()
    p.start_phase("projection")
    wp0 = p.wp.numpy()
    with tf.GradientTape() as tape:
        total = losses.projection_terms(p.x, G.synthesis(p.wp, noise=p.noise), p.pixel_mask,
                                        D)["total"]
    g = tape.gradient(total, p.wp.value).numpy()
    p.step()
    # TF1 Adam, first step: lr_t = lr sqrt(1 - b2) / (1 - b1); m = (1 - b1) g; v = (1 - b2) g^2
    lr_t = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    want = wp0 - lr_t * (0.1 * g) / (np.sqrt(0.001 * g ** 2) + 1e-8)
    np.testing.assert_allclose(p.wp.numpy(), want, rtol=1e-5, atol=1e-7)
    # at the smallest gradient, epsilon 1e-7 (Keras' default) would give a visibly other step
    i = np.unravel_index(np.argmin(np.abs(g)), g.shape)
    keras_default = wp0 - lr_t * (0.1 * g) / (np.sqrt(0.001 * g ** 2) + 1e-7)
    assert abs(keras_default[i] - want[i]) > 20 * abs(p.wp.numpy()[i] - want[i])


def test_pattern_search_changes_only_noise_and_search_uses_projection_image(tiny,
                                                                            pair_inputs):
    E, D, G = tiny
    p = DGPProjector(G.synthesis, D, E, pair_inputs, jit_compile=True)
    p.encode()
    projected = p.render() + 0.5
    p.start_phase("pattern_search", projected)
    wp0, noise0 = p.wp.numpy(), [n.numpy() for n in p.noise]
    terms, image = p.step()
    np.testing.assert_array_equal(p.wp.numpy(), wp0)
    assert all(np.abs(n.numpy() - n0).max() > 0 for n, n0 in zip(p.noise, noise0))
    # the arm / outer terms compare against the given projection image
    want = losses.search_terms(p.x, image, projected, p.mask_arm, p.mask_inner, D)
    np.testing.assert_allclose(terms["outer"], float(want["outer"]), rtol=1e-4)
    # the stored noise of the generator is untouched (the next run starts from it)
    np.testing.assert_array_equal(G.synthesis.noise_vars[0].numpy(), p.noise_init[0])


def test_projector_rejects_mismatched_encoder(tiny, pair_inputs):
    from tfposegen.models.dgp.encoder import Encoder, idinvert_layout

    E, D, G = tiny
    other = Encoder(**idinvert_layout(32, filters=8, filters_max=16, num_ws=4, w_dim=64))
    with pytest.raises(ValueError, match="does not fit the generator"):
        DGPProjector(G.synthesis, D, other, pair_inputs)


STEPS = {"projection": 4, "semantic_search": 6, "pattern_search": 6}


def test_interrupted_run_resumes_to_identical_outputs(tiny, pair_inputs, tmp_path):
    E, D, G = tiny
    # one projector, traced once; without XLA (the phases' XLA steps run in the pattern
    # search test above and in test_demo.py's run of deepGenPro.py; XLA took 2.4x the time)
    p = DGPProjector(G.synthesis, D, E, pair_inputs, jit_compile=False)

    def run(out, **kw):
        return run_dgp(p, pair_inputs, str(out), STEPS, {"test": 1}, checkpoint_every=3,
                       save_video=False, log=lambda *a: None, **kw)

    whole = run(tmp_path / "whole")
    out = tmp_path / "resumed"
    assert run(out, stop_after=5) is None
    assert (out / STATE_DIR / "state.npz").is_file()
    assert not (out / "outputs_semantic_search.png").exists()
    assert run(out, stop_after=4) is None
    resumed = run(out)
    for name, image in whole.items():
        np.testing.assert_array_equal(resumed[name], image, err_msg=name)
        assert (out / f"outputs_{name}.png").read_bytes() == (
            tmp_path / "whole" / f"outputs_{name}.png").read_bytes()
    for phase in STEPS:
        a = json.loads((out / f"{phase}_losses.json").read_text())
        b = json.loads((tmp_path / "whole" / f"{phase}_losses.json").read_text())
        assert a == b and len(a["terms"]["total"]) == STEPS[phase]
    assert not (out / STATE_DIR).exists()


def test_resume_with_other_settings_is_refused(tiny, pair_inputs, tmp_path):
    E, D, G = tiny
    p = DGPProjector(G.synthesis, D, E, pair_inputs)
    run_dgp(p, pair_inputs, str(tmp_path), STEPS, {"steps": 1}, save_video=False,
            stop_after=0, log=lambda *a: None)
    with pytest.raises(DGPStateError, match="differs in: steps"):
        run_dgp(p, pair_inputs, str(tmp_path), STEPS, {"steps": 2}, log=lambda *a: None)


# ----------------------------------------------------------------------------- inputs

@pytest.mark.parametrize("break_it,match", [
    (lambda c, m: (c / "coarse_align.png").unlink(), "coarse alignment not found"),
    (lambda c, m: Image.fromarray(np.full((20, 20), 7, np.uint8)).save(m / "model_parse.png"),
     r"unexpected label values \[7\]"),
    (lambda c, m: Image.new("L", (20, 24)).save(c / "cloth_parse.png"), "must be square"),
    (lambda c, m: Image.new("L", (20, 20)).save(c / "coarse_align.png"), "must be an RGB"),
    (lambda c, m: Image.new("RGB", (20, 20)).save(m / "model_parse.png"), "greyscale label"),
    (lambda c, m: (c / "cloth_parse.png").write_bytes(b"not a png"), "cannot read"),
])
def test_bad_inputs_name_the_file(tmp_path, break_it, match):
    cloth_dir, model_dir = make_pair(tmp_path)
    import pathlib
    break_it(pathlib.Path(cloth_dir), pathlib.Path(model_dir))
    with pytest.raises(DGPInputError, match=match) as info:
        read_pair(cloth_dir, model_dir)
    assert str(tmp_path) in str(info.value)


# ----------------------------------------------------------------------------- full size

def _written(concrete, variables):
    """For each variable: whether the traced step function writes it (Adam's fused update on
    its gradient; Keras leaves out a variable whose gradient is None)."""
    inner = {id(outer): placeholder for outer, placeholder in concrete.graph.captures}
    writes = {"AssignVariableOp", "AssignSubVariableOp", "AssignAddVariableOp",
              "ResourceApplyAdam"}
    return [id(v.value.handle) in inner and any(
        op.type in writes for op in inner[id(v.value.handle)].consumers()) for v in variables]


def test_full_size_graphs_of_every_phase_lower_to_xla(tmp_path):
    """DGP's 512 px networks (random weights) with VGG16 and ResNet101: the encoder runs
    once; the three phases' steps are traced and lowered to XLA's HLO at full size, their
    outputs and written variables checked on the graph (their XLA steps run at 64 px in
    test_demo.py, the pattern search's at 32 px above; compiling and running the projection
    here took a minute of CI time)."""
    from tfposegen.models.dgp.perceptual import AttributeFeatures, VGG16Features

    cloth_dir, model_dir = ((f"{DGP_DATA}/model_1/cloth_1", f"{DGP_DATA}/model_1/model_info")
                            if DGP_DATA.is_dir() else make_pair(tmp_path, size=422))
    inputs = prepare_pair(read_pair(cloth_dir, model_dir), "short", 512)
    E, D, G = dgp_networks("dgp_512")
    p = DGPProjector(G.synthesis, D, E, inputs, vgg=VGG16Features(512),
                     attr=AttributeFeatures(), jit_compile=True)
    assert p.wp.shape == (1, 16, 512) and len(p.noise) == 15
    assert tuple(p.encoder(p.x, training=False).shape) == (1, 16, 512)
    expected = {"projection": {"pix", "feat", "attr", "adv", "total"},
                "semantic_search": {"inner", "arm", "outer", "adv", "total"}}
    for phase in ("projection", "semantic_search", "pattern_search"):
        p.start_phase(phase, np.zeros((1, 512, 512, 3), np.float32))
        concrete = p._step.get_concrete_function()
        terms, image = concrete.structured_outputs
        assert image.shape == (1, 512, 512, 3)
        assert set(terms) == expected.get(phase, expected["semantic_search"])
        assert all(t.shape == () for t in terms.values())
        assert all(_written(concrete, p.variables(phase))), phase
        other = [p.wp] if phase == "pattern_search" else p.noise
        assert not any(_written(concrete, other)), phase
        assert "HloModule" in p._step.experimental_get_compiler_ir()(stage="hlo")
