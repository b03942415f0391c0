"""Pose-transfer scoring protocols (tfposegen.metrics.pose_transfer): the PATN / ADGAN and
GFLA SSIM calls against scikit-image's own numbers (tests/reference/make_ssim_reference.py),
padding, batching, strip reading and bad folders."""

import json
import pathlib
import sys

import numpy as np
import pytest
from PIL import Image

from tfposegen.metrics import pose_transfer as P
from tfposegen.metrics.fid import MetricInputError
from tfposegen.metrics.image import psnr

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
from make_ssim_reference import image_pairs  # noqa: E402

SKIMAGE = json.loads((ROOT / "tests" / "reference" / "ssim_skimage.json").read_text())


@pytest.mark.parametrize("k", range(3))
def test_protocol_ssim_equals_skimage(k):
    gen, ref = image_pairs()[k]
    want = SKIMAGE["pairs"][k]
    assert P.ssim_patn(gen, ref) == pytest.approx(want["ssim_patn"], abs=1e-9)
    assert P.ssim_gfla(gen, ref) == pytest.approx(want["ssim_gfla"], abs=1e-9)


class _MeanLPIPS:
    """Stands in for LPIPS: the mean |a - b| per image, so batching can be checked."""

    def __init__(self):
        self.batches = []

    def distance(self, a, b):
        self.batches.append(len(a))
        return np.abs(a - b).mean(axis=(1, 2, 3))


def test_scores_pad_for_patn_and_drop_partial_batches_for_gfla(rng):
    gen = rng.integers(0, 256, (70, 56, 52, 3)).astype(np.uint8)
    tgt = np.clip(gen.astype(int) + rng.integers(-30, 30, gen.shape), 0, 255).astype(np.uint8)
    lp = _MeanLPIPS()
    patn = P.scores(gen[:3], tgt[:3], "patn", lpips=lp)
    padded = [(P.pad_patn(g), P.pad_patn(t)) for g, t in zip(gen[:3], tgt[:3])]
    assert padded[0][0].shape == (56, 132, 3) and (padded[0][0][:, :40] == 255).all()
    assert patn["ssim"] == pytest.approx(np.mean([P.ssim_patn(g, t) for g, t in padded]))
    assert patn["psnr"] == pytest.approx(np.mean([psnr(t, g, 255) for g, t in padded]))
    # the white margins are equal in both: LPIPS's stand-in sees 80 more equal columns
    assert patn["lpips"] == pytest.approx(np.mean([np.abs(g / 127.5 - t / 127.5).mean()
                                                   for g, t in padded]))
    lp = _MeanLPIPS()
    gfla = P.scores(gen, tgt, "gfla", lpips=lp)
    assert lp.batches == [64]  # 70 images: one batch of 64, the last 6 dropped as GFLA
    assert gfla["n"] == 70
    assert gfla["ssim"] == pytest.approx(np.mean([P.ssim_gfla(g, t) for g, t in zip(gen, tgt)]))
    assert gfla["l1"] == pytest.approx(np.abs(gen / 255.0 - tgt / 255.0).mean())
    assert gfla["psnr"] == pytest.approx(np.mean([psnr(t, g, 255) for g, t in zip(gen, tgt)]))
    assert gfla["lpips"] == pytest.approx(np.mean([np.abs(g / 127.5 - t / 127.5).mean()
                                                   for g, t in zip(gen[:64], tgt[:64])]))
    with pytest.raises(MetricInputError, match="protocol"):
        P.scores(gen, tgt, "dptn")
    with pytest.raises(MetricInputError, match="equal"):
        P.scores(gen[:2], tgt[:3], "gfla")


def test_read_results_strips_fakes_and_ground_truth(tmp_path, rng):
    panels = [rng.integers(0, 256, (16, 12, 3)).astype(np.uint8) for _ in range(5)]
    Image.fromarray(np.concatenate(panels, 1)).save(tmp_path / "a.jpg___b.jpg_vis.png")
    fake = rng.integers(0, 256, (16, 12, 3)).astype(np.uint8)
    Image.fromarray(fake).save(tmp_path / "a.jpg___b.jpg_fake.png")
    gt = tmp_path / "gt"
    gt.mkdir()
    truth = rng.integers(0, 256, (16, 12, 3)).astype(np.uint8)
    Image.fromarray(truth).save(gt / "b.jpg", format="PNG")  # lossless, whatever the name
    g, t, names = P.read_results(str(tmp_path), "patn")
    assert names == ["a.jpg___b.jpg_vis.png"]
    np.testing.assert_array_equal(g[0], panels[4])
    np.testing.assert_array_equal(t[0], panels[2])
    g, t, _ = P.read_results(str(tmp_path), "gfla", gt_dir=str(gt))
    np.testing.assert_array_equal(g[0], fake)
    np.testing.assert_array_equal(t[0], truth)
    (gt / "b.jpg").unlink()
    with pytest.raises(MetricInputError, match="b.jpg: target image not found"):
        P.read_results(str(tmp_path), "gfla", gt_dir=str(gt))
    Image.fromarray(np.zeros((16, 61, 3), np.uint8)).save(tmp_path / "c___d_vis.png")
    with pytest.raises(MetricInputError, match="c___d_vis.png: a test strip must be"):
        P.read_results(str(tmp_path), "patn")
    with pytest.raises(MetricInputError, match="no <P1>___<P2>_vis.jpg"):
        P.read_results(str(gt), "patn")
