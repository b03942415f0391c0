"""The bundled demo: garment-region PSNR, the demo weights, and run_scripts/dgp/dgp_demo.py."""

import json
import pathlib
import subprocess

import numpy as np
import pytest

from tfposegen.metrics.image import masked_psnr
from tfposegen.models.dgp.metrics import garment_region

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO_PKL = ROOT / "pretrained" / "demo" / "dgp_demo_64.pkl"


def test_masked_psnr_counts_only_the_region():
    rng = np.random.default_rng(0)
    ref = rng.integers(10, 240, (16, 16, 3), dtype=np.uint8)
    mask = np.zeros((16, 16), bool)
    mask[4:9, 2:12] = True
    image = ref.copy()
    image[mask] += 5                       # error 5 inside the region
    image[~mask] = 255 - image[~mask]      # anything outside
    assert masked_psnr(image, ref, mask) == pytest.approx(20 * np.log10(255 / 5))
    assert masked_psnr(ref, ref, mask) == float("inf")
    with pytest.raises(ValueError, match="empty"):
        masked_psnr(image, ref, np.zeros_like(mask))
    with pytest.raises(ValueError, match="shapes differ"):
        masked_psnr(image[:8], ref, mask)


def test_garment_region_is_body_and_sleeves_resized_nearest():
    rng = np.random.default_rng(1)
    parse = rng.choice(np.array([0, 23, 32, 64, 128], np.uint8), size=(256, 256))
    region = garment_region(parse, 64)
    # OpenCV's nearest picks source pixel floor(4 * i) for a 4x reduction
    np.testing.assert_array_equal(region, np.isin(parse[::4, ::4], (32, 64, 128)))


@pytest.fixture(scope="module")
def demo_networks():
    from tfposegen.models.dgp.dnnlib import load_networks

    return load_networks(str(DEMO_PKL))


def test_demo_weights_are_bundled_and_small():
    assert DEMO_PKL.is_file(), "pretrained/demo/dgp_demo_64.pkl is missing"
    assert DEMO_PKL.stat().st_size < 20 << 20


def test_demo_encoder_inverts_held_out_people(demo_networks):
    """The trained encoder + generator reconstruct synthetic people they never saw (seeds
    past the training set's 0-9999) far better than the average W does."""
    from tfposegen.data.synthetic import make_model_images

    nets = demo_networks
    assert nets.Gs.resolution == 64 and nets.E is not None and nets.D is not None
    x = np.stack(list(make_model_images(range(20000, 20008), 64))).astype(np.float32)
    x = x / 127.5 - 1
    recon = nets.Gs.synthesis(nets.E(x), noise_mode="const").numpy()
    w_avg = np.broadcast_to(nets.Gs.mapping.dlatent_avg.numpy(), (8, nets.Gs.num_ws, nets.Gs.w_dim))
    mean = nets.Gs.synthesis(w_avg, noise_mode="const").numpy()

    def psnr(a):
        return 10 * np.log10(4 / np.mean((a - x) ** 2))

    assert psnr(recon) > psnr(mean) + 3
    assert psnr(recon) > 15  # measured: 16.1 dB, the average W 12.6 dB


def test_readme_demo_runs_and_keeps_the_garment(tmp_path, warm_python):
    """dgp_demo.py (short run) writes DGP's outputs, the PSNR table and the panel; already
    the projection is closer to the coarse alignment in the garment than the encoder."""
    out = tmp_path / "demo"
    proc = subprocess.run(
        [warm_python.python, str(ROOT / "run_scripts" / "dgp" / "dgp_demo.py"),
         f"--output_dir={out}", "--projection_steps=10", "--semantic_steps=5",
         "--pattern_steps=5", "--nosave_video"], capture_output=True, text=True,
        env=warm_python.env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("outputs_encoder.png", "outputs_projection.png",
                 "outputs_semantic_search.png", "outputs_pattern_search.png", "demo.png",
                 "sample/model_info/model_img.png", "sample/cloth_1/coarse_align.png"):
        assert (out / name).is_file(), name
    psnr = json.loads((out / "garment_psnr.json").read_text())
    assert list(psnr) == ["encoder", "projection", "semantic_search", "pattern_search"]
    assert psnr["projection"] > psnr["encoder"]
    assert "garment region" in proc.stdout


def test_generate_images_samples_the_demo_generator(tmp_path, warm_python):
    script = str(ROOT / "run_scripts" / "stylegan2" / "generate_images.py")
    python, env = warm_python.python, warm_python.env()
    proc = subprocess.run([python, script, f"--outdir={tmp_path}", "--seeds=0-2"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PIL import Image

    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    assert grid.shape == (64, 192, 3) and grid.std() > 20   # three 64 px people, not flat
    proc = subprocess.run([python, script, f"--outdir={tmp_path}", "--seeds=1-x"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "--seeds" in proc.stderr
    proc = subprocess.run([python, script, f"--network={tmp_path / 'nope.pkl'}"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "nope.pkl: --network not found" in proc.stderr
