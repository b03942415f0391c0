"""run_scripts/dgp/prepare_dgp.py: a DGP sample folder from a model photo and a product photo."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from test_cloth_parse import draw_tshirt
from test_coarse_align import draw_model

from tfposegen.models.dgp import masks
from tfposegen.models.dgp.inputs import prepare_pair, read_pair

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "run_scripts" / "dgp" / "prepare_dgp.py"


def _run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def inputs(tmp_path):
    model_img, model_parse = draw_model(200)
    product, _ = draw_tshirt(240)
    paths = {"model_img": tmp_path / "model.png", "model_parse": tmp_path / "parse.png",
             "cloth_img": tmp_path / "shirt.png"}
    Image.fromarray(model_img).save(paths["model_img"])
    Image.fromarray(model_parse).save(paths["model_parse"])
    Image.fromarray(product).save(paths["cloth_img"])
    return paths


def _flags(paths, out_dir, **changes):
    paths = {**paths, **changes}
    return [f"--{k}={v}" for k, v in paths.items()] + [f"--out_dir={out_dir}"]


def test_writes_a_folder_that_dgp_reads(inputs, tmp_path):
    out = tmp_path / "sample"
    result = _run(*_flags(inputs, out), "--cloth_sleeve=long")
    assert result.returncode == 0, result.stderr
    cloth, model = out / "cloth", out / "model_info"
    assert (f"deepGenPro.py --cloth_dir {cloth}/ --model_dir {model}/ --cloth_sleeve long "
            f"--output_dir {out}/output/") in result.stdout
    assert sorted(p.name for p in cloth.iterdir()) == [
        "cloth_img.png", "cloth_parse.png", "coarse_align.png", "residual_parse.png"]
    assert sorted(p.name for p in model.iterdir()) == ["model_img.png", "model_parse.png"]
    pair = read_pair(str(cloth) + "/", str(model) + "/")
    assert pair["coarse_align"].shape == (200, 200, 3)
    np.testing.assert_array_equal(pair["model_parse"],
                                  np.asarray(Image.open(inputs["model_parse"])))
    garment = np.isin(pair["cloth_parse"], (32, 64, 128))
    assert 0.2 < garment.mean() < 0.6 and {64, 128} <= set(np.unique(pair["cloth_parse"]))
    residual = Image.open(cloth / "residual_parse.png")
    assert residual.mode == "1"
    np.testing.assert_array_equal(
        np.asarray(residual),
        masks.residual_mask(pair["model_parse"], pair["cloth_parse"], "long"))
    cloth_img = np.asarray(Image.open(cloth / "cloth_img.png"))
    np.testing.assert_array_equal(cloth_img[pair["cloth_parse"] == 0], 255)
    np.testing.assert_array_equal(cloth_img[garment], pair["coarse_align"][garment])
    prepare_pair(pair, "long", 64)  # DGP's mask preparation accepts it


def test_non_square_model_photo_is_padded(inputs, tmp_path):
    model = np.asarray(Image.open(inputs["model_img"]))[:, 20:180]
    parse = np.asarray(Image.open(inputs["model_parse"]))[:, 20:180]
    Image.fromarray(model).save(inputs["model_img"])
    Image.fromarray(parse).save(inputs["model_parse"])
    out = tmp_path / "sample"
    result = _run(*_flags(inputs, out))
    assert result.returncode == 0, result.stderr
    assert "padded the 160x200 model photo to 200x200" in result.stdout
    pair = read_pair(str(out / "cloth"), str(out / "model_info"))
    np.testing.assert_array_equal(pair["model_parse"][:, 20:180], parse)
    assert not pair["model_parse"][:, :20].any()


def test_bad_inputs_exit_2_naming_the_file(inputs, tmp_path):
    out = tmp_path / "sample"
    missing = tmp_path / "nope.png"
    result = _run(*_flags(inputs, out, cloth_img=missing))
    assert result.returncode == 2
    assert f"prepare_dgp.py: error: {missing}: --cloth_img not found" in result.stderr

    noisy = tmp_path / "busy.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 120, 3), np.uint8)).save(noisy)
    result = _run(*_flags(inputs, out, cloth_img=noisy))
    assert result.returncode == 2 and f"{noisy}: the image border is not one plain" in result.stderr

    bad_parse = tmp_path / "bad_parse.png"
    Image.fromarray(np.full((200, 200), 7, np.uint8)).save(bad_parse)
    result = _run(*_flags(inputs, out, model_parse=bad_parse))
    want = f"{bad_parse}: --model_parse has unexpected label values [7]"
    assert result.returncode == 2 and want in result.stderr

    small_parse = tmp_path / "small_parse.png"
    Image.fromarray(np.zeros((100, 100), np.uint8)).save(small_parse)
    result = _run(*_flags(inputs, out, model_parse=small_parse))
    assert result.returncode == 2 and "must match" in result.stderr

    no_trunk = tmp_path / "no_trunk.png"
    parse = np.asarray(Image.open(inputs["model_parse"]))
    Image.fromarray(np.where(parse == 64, 0, parse).astype(np.uint8)).save(no_trunk)
    result = _run(*_flags(inputs, out, model_parse=no_trunk))
    assert result.returncode == 2 and f"{no_trunk}: model parse: no trunk" in result.stderr

    result = _run(f"--model_img={inputs['model_img']}", f"--cloth_img={inputs['cloth_img']}")
    assert result.returncode == 2 and "--out_dir is required" in result.stderr
    assert not out.exists()  # nothing written on any error
