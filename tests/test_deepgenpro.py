"""run_scripts/dgp/deepGenPro.py end to end: original flags, outputs, losses, bad input."""

import json
import pathlib
import subprocess

import imageio.v2 as imageio
import numpy as np
import pytest
from conftest import SHARED
from dgp_helpers import dgp_networks, make_pair
from PIL import Image
from warm_python import server as warm

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "run_scripts" / "dgp" / "deepGenPro.py"
MODEL_1 = SHARED / "data" / "dgp" / "model_1"
PNGS = ["rough_alignment.png", "outputs_encoder.png", "outputs_projection.png",
        "outputs_semantic_search.png", "outputs_pattern_search.png", "residual_parse.png",
        "mask_arm.png", "mask_inner.png"]
STEPS = {"projection": 3, "semantic_search": 8, "pattern_search": 8}


def _run(*args):
    return subprocess.run([warm().python, str(SCRIPT), *args], capture_output=True,
                          text=True, timeout=600, env=warm().env())


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A tiny (E, D, Gs) pickle and Keras-2 VGG16 weights, all random."""
    import keras

    from tfposegen.convert.keras_h5 import write_keras2_h5
    from tfposegen.models.dgp.dnnlib import save_dnnlib_pickle

    folder = tmp_path_factory.mktemp("weights")
    E, D, G = dgp_networks()
    save_dnnlib_pickle(folder / "tiny.pkl", D, G, E=E)
    keras.utils.set_random_seed(1)
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    write_keras2_h5(vgg, str(folder / "vgg.h5"))
    return folder


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    if MODEL_1.is_dir():
        return f"{MODEL_1}/cloth_1/", f"{MODEL_1}/model_info/"
    return make_pair(tmp_path_factory.mktemp("pair"), size=422)


def test_original_command_line_writes_every_output(weights, pair, tmp_path):
    """The original's flags (with ``--nojit_compile``: the XLA steps of deepGenPro.py run in
    test_demo.py; here they took 2.1x the test's time) write every output."""
    cloth_dir, model_dir = pair
    out = tmp_path / "output"
    proc = _run("--cloth_dir", cloth_dir, "--model_dir", model_dir, "--cloth_sleeve", "short",
                "--output_dir", f"{out}/", "--network_pkl", str(weights / "tiny.pkl"),
                "--percepture_model", str(weights / "vgg.h5"), "--attr_model=",
                "--projection_steps", str(STEPS["projection"]),
                "--semantic_steps", str(STEPS["semantic_search"]),
                "--pattern_steps", str(STEPS["pattern_search"]), "--nojit_compile")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "--attr_model is empty" in proc.stderr
    for name in PNGS[:5]:
        assert Image.open(out / name).size == (32, 32), name
    assert Image.open(out / "residual_parse.png").mode == "1"
    for phase, n in STEPS.items():
        log = json.loads((out / f"{phase}_losses.json").read_text())
        total = log["terms"]["total"]
        assert len(total) == n
        assert total[-1] < total[0], (phase, total)  # each phase lowers its own loss
        video = imageio.mimread(out / f"{phase}.mp4", memtest=False)
        assert len(video) == n and video[0].shape == (32, 96, 3)
    assert {"pix", "feat", "adv", "total"} == set(
        json.loads((out / "projection_losses.json").read_text())["terms"])
    assert len(imageio.mimread(out / "DGP.mp4", memtest=False)) == sum(STEPS.values())
    # the final image of the video is the written result (up to H.264 loss on 32 px noise)
    last = imageio.mimread(out / "pattern_search.mp4", memtest=False)[-1][:, 64:]
    final = np.asarray(Image.open(out / "outputs_pattern_search.png"))
    assert np.abs(last.astype(int) - final).mean() < 25  # unrelated images: about 80
    assert not (out / ".dgp_state").exists()
    if MODEL_1.is_dir():  # the original's input folders are never written to
        assert sorted(p.name for p in (MODEL_1 / "cloth_1").iterdir()) == [
            "cloth_parse.png", "coarse_align.png", "residual_parse.png"]


@pytest.mark.parametrize("case,expect", [
    ("sleeve", "--cloth_sleeve"),
    ("output_is_file", "--output_dir exists and is not a folder"),
    ("no_network", "--network_pkl not found"),
    ("no_vgg", "--percepture_model not found"),
    ("bad_label", "unexpected label values"),
    ("bad_pickle", "bad.pkl"),
])
def test_bad_input_stops_with_a_clear_message(weights, tmp_path, case, expect):
    cloth_dir, model_dir = make_pair(tmp_path / "pair")
    out = tmp_path / "out"
    out.mkdir()
    (out / "outputs_encoder.png").write_bytes(b"earlier result")
    args = {"--cloth_dir": cloth_dir, "--model_dir": model_dir, "--output_dir": str(out),
            "--network_pkl": str(weights / "tiny.pkl"), "--percepture_model": "",
            "--attr_model": "", "--projection_steps": "1", "--semantic_steps": "1",
            "--pattern_steps": "1"}
    if case == "sleeve":
        args["--cloth_sleeve"] = "medium"
    elif case == "output_is_file":
        args["--output_dir"] = str(tmp_path / "pair" / "cloth" / "coarse_align.png")
    elif case == "no_network":
        args["--network_pkl"] = str(tmp_path / "missing.pkl")
    elif case == "no_vgg":
        args["--percepture_model"] = str(tmp_path / "vgg.h5")
    elif case == "bad_label":
        Image.fromarray(np.full((40, 40), 200, np.uint8)).save(f"{cloth_dir}/cloth_parse.png")
    elif case == "bad_pickle":
        (tmp_path / "bad.pkl").write_bytes(b"\x80\x04garbage")
        args["--network_pkl"] = str(tmp_path / "bad.pkl")
    proc = _run(*[f"{k}={v}" for k, v in args.items()])
    assert proc.returncode != 0
    assert expect in proc.stderr, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert (out / "outputs_encoder.png").read_bytes() == b"earlier result"
    assert sorted(p.name for p in out.iterdir()) == ["outputs_encoder.png"]
