"""DPIG scores (tfposegen.models.dpig.scores, tfposegen.metrics.image,
run_scripts/dpig/score.py, score_mask.py): skimage's SSIM
and PSNR reproduced, pairing by sample index, the target mask by default."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tfposegen.metrics import image as image_metrics
from tfposegen.models.dpig import scores

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
from make_ssim_reference import image_pairs  # noqa: E402

SKIMAGE = json.loads((ROOT / "tests" / "reference" / "ssim_skimage.json").read_text())


@pytest.mark.parametrize("k", range(3))
def test_scores_equal_skimage(k):
    """Numbers written by scikit-image itself (tests/reference/make_ssim_reference.py)."""
    gen, ref = image_pairs()[k]
    want = SKIMAGE["pairs"][k]
    got = scores.pair_scores(gen, ref)
    assert got["ssim"] == pytest.approx(want["ssim_gray"], abs=1e-9)
    assert got["psnr"] == pytest.approx(want["psnr_gray"], abs=1e-9)
    assert image_metrics.ssim_color(gen, ref) == pytest.approx(want["ssim_color"], abs=1e-9)
    assert image_metrics.psnr(ref, gen, 255.0) == pytest.approx(want["psnr_color"], abs=1e-9)


def _ssim_reference(a, b, data_range):
    """Wang et al. SSIM with skimage's defaults, written as explicit window loops."""
    k, n = 7, 49
    a, b = a.astype(np.float64), b.astype(np.float64)
    pa = np.pad(a, 3, mode="symmetric")
    pb = np.pad(b, 3, mode="symmetric")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    vals = []
    for r in range(3, a.shape[0] - 3):
        for c in range(3, a.shape[1] - 3):
            wa, wb = pa[r:r + k, c:c + k], pb[r:r + k, c:c + k]
            ma, mb = wa.mean(), wb.mean()
            va, vb = wa.var(ddof=1), wb.var(ddof=1)
            cov = ((wa - ma) * (wb - mb)).sum() / (n - 1)
            vals.append((2 * ma * mb + c1) * (2 * cov + c2) /
                        ((ma * ma + mb * mb + c1) * (va + vb + c2)))
    return float(np.mean(vals))


def test_ssim_matches_reference_formula(rng):
    a = rng.integers(0, 256, (24, 20, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 40, a.shape), 0, 255).astype(np.uint8)
    ga, gb = a @ np.array([0.2125, 0.7154, 0.0721]) / 255, b @ np.array(
        [0.2125, 0.7154, 0.0721]) / 255
    ref = _ssim_reference(ga, gb, gb.max() - gb.min())
    assert abs(image_metrics.ssim_gray(a, b) - ref) < 1e-10
    assert image_metrics.ssim(ga, ga, 1.0) == pytest.approx(1.0)




def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _score(script, folder, *extra):
    r = subprocess.run([sys.executable, str(ROOT / "run_scripts" / "dpig" / script), "1", "0",
                        str(folder.parent), folder.name, *extra], capture_output=True,
                       text=True)
    values = dict(line.split(": ") for line in r.stdout.splitlines() if "_G_x_" in line)
    return r, {k: float(v) for k, v in values.items()}


def test_score_scripts_pair_by_index_and_use_the_target_mask(tmp_path):
    """G files written in the sampling tests' names, created in scrambled order, pair with
    x_target by their index; score_mask uses mask_target/ (mask/ with --original_quirks)."""
    pairs = image_pairs()[:2] * 2  # 4 pairs of 128x64
    folder = tmp_path / "test_result"
    rng = np.random.default_rng(0)
    for i in (2, 0, 3, 1):
        gen, ref = pairs[i]
        _write(folder / "x_target" / f"{i:05d}.png", ref)
        _write(folder / "G" / f"0000_c1s1_{i:06d}_{i:05d}_0.5.png", gen)
        _write(folder / "mask" / f"{i:05d}.png", np.where(rng.random(ref.shape[:2]) < .5, 255,
                                                          0).astype(np.uint8))
        _write(folder / "mask_target" / f"{i:05d}.png",
               np.pad(np.full((64, 32), 255, np.uint8), ((32, 32), (16, 16))))
    r, got = _score("score.py", folder)
    assert r.returncode == 0, r.stderr
    want = [scores.pair_scores(g, x) for g, x in pairs]
    assert got["ssim_G_x_mean"] == pytest.approx(np.mean([w["ssim"] for w in want]), abs=2e-6)
    assert got["l1_G_x_mean"] == pytest.approx(np.mean([w["l1"] for w in want]), abs=2e-6)
    assert (folder / "score.txt").read_text().startswith("Image number: 4")
    r, got = _score("score_mask.py", folder)
    assert r.returncode == 0, r.stderr
    target = np.asarray(Image.open(folder / "mask_target" / "00000.png"))
    want = np.mean([scores.pair_scores(g, x, target)["ssim"] for g, x in pairs])
    assert got["ssim_G_x_mean"] == pytest.approx(want, abs=2e-6)
    r, got = _score("score_mask.py", folder, "--original_quirks")
    assert r.returncode == 0 and got["ssim_G_x_mean"] != pytest.approx(want, abs=1e-3)
    (folder / "G" / "0000_c1s1_000003_00003_0.5.png").rename(folder / "G" / "00009.png")
    r, _ = _score("score.py", folder)
    assert r.returncode == 2 and "different sample indices" in r.stderr
    r, _ = _score("score.py", tmp_path / "nowhere")
    assert r.returncode == 2 and "nowhere" in r.stderr and "Traceback" not in r.stderr
