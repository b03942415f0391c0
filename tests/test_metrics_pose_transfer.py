"""Pose-transfer scoring protocols (tfposegen.metrics.pose_transfer): the PATN / ADGAN and
GFLA SSIM calls against scikit-image's own numbers (tests/reference/make_ssim_reference.py),
padding, batching, strip reading and bad folders; the DPTN protocols' folders, resizing,
FID batches, network input ranges and statistics cache with stand-in networks."""

import json
import os
import pathlib
import sys

import cv2
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
    padded_g, padded_t = (np.stack(x) for x in zip(*padded))
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
    with pytest.raises(MetricInputError, match="'dptn' reads a results folder"):
        P.scores(gen, tgt, "dptn")
    tv = _Stats()
    with_tv = P.scores(gen[:3], tgt[:3], "patn", torchvision_inception=tv)
    assert tv.calls[0][0] == (3, 56, 132, 3) and tv.calls[0][2] > 1  # uint8, padded
    assert with_tv["fid_torchvision"] == pytest.approx(_fid(_Stats(), padded_g, padded_t))
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


class _Stats:
    """Stands in for an Inception network: per image the channel means, the std and the
    channel mean squares (7 features, times ``scale``); records each batch's shape and
    value range."""

    def __init__(self, scale=1.0):
        self.calls, self.scale = [], scale

    def __call__(self, x):
        x = np.asarray(x, np.float64)
        self.calls.append((x.shape, float(x.min()), float(x.max())))
        return self.scale * np.concatenate([x.mean(axis=(1, 2)), x.std(axis=(1, 2, 3))[:, None],
                                            (x ** 2).mean(axis=(1, 2))], 1)

    def batches(self):
        return [shape[0] for shape, _, _ in self.calls if shape[0] > 1]  # not the probe


def _write_images(folder, names, rng, shape):
    folder.mkdir(parents=True, exist_ok=True)
    images = []
    for name in names:
        image = rng.integers(0, 256, shape).astype(np.uint8)
        Image.fromarray(image).save(folder / name, format="PNG")  # lossless, whatever the name
        images.append(image)
    return np.stack(images)


def _fid(extractor, generated, real):
    return P.frechet_distance(*P.feature_statistics(extractor(generated)),
                              *P.feature_statistics(extractor(real)))


def test_dptn_fid_networks_batches_and_ranges(tmp_path, rng):
    gen_paths = [tmp_path / "res" / f"p{i:03d}_2_q{i:03d}_vis.png" for i in range(70)]
    gen = _write_images(tmp_path / "res", [p.name for p in gen_paths], rng, (10, 6, 3))
    real = _write_images(tmp_path / "real", [f"r{i:03d}.jpg" for i in range(100)], rng,
                         (10, 6, 3))
    std, tv = _Stats(), _Stats()
    out = P.dptn_fid(gen_paths, tmp_path / "real", "dptn", {"fid": std, "fid_torchvision": tv})
    assert tv.batches() == [64, 64] and std.batches() == [64, 64]  # 100 -> 64, 70 -> 64
    assert min(lo for _, lo, _ in std.calls) < 0 <= min(lo for _, lo, _ in tv.calls)
    assert max(hi for _, _, hi in tv.calls) <= 1.0
    want = _fid(_Stats(), gen[:64] / 255.0, real[:64] / 255.0)
    assert out["fid_torchvision"] == pytest.approx(want, rel=1e-5)
    assert out["fid"] == pytest.approx(_fid(_Stats(), gen[:64] / 127.5 - 1, real[:64] / 127.5 - 1),
                                       rel=1e-5)
    # 40 real images: batch 40 for them, and the code's batch size only shrinks: 40 again
    small = tmp_path / "real40"
    small.mkdir()
    for i in range(40):
        (small / f"r{i:03d}.jpg").write_bytes((tmp_path / "real" / f"r{i:03d}.jpg").read_bytes())
    tv = _Stats()
    out = P.dptn_fid(gen_paths, small, "dptn", {"fid_torchvision": tv})
    assert tv.batches() == [40, 40]
    assert out["fid_torchvision"] == pytest.approx(_fid(_Stats(), gen[:40] / 255.0,
                                                        real[:40] / 255.0), rel=1e-5)
    # dptn_step: cv2.resize of the float images to 256x176, floored, / 255
    tv = _Stats()
    out = P.dptn_fid(gen_paths[:3], small, "dptn_step", {"fid_torchvision": tv})
    assert [s for s, _, _ in tv.calls] == [(40, 256, 176, 3), (3, 256, 176, 3)]

    def step(images):
        return np.stack([np.floor(cv2.resize(i.astype(np.float32), (176, 256))) / 255
                         for i in images])
    assert out["fid_torchvision"] == pytest.approx(_fid(_Stats(), step(gen[:3]),
                                                        step(real[:40])), rel=1e-5)
    Image.fromarray(np.zeros((11, 6, 3), np.uint8)).save(small / "z.png")
    with pytest.raises(MetricInputError, match=r"z.png: image of size \(11, 6\)"):
        P.dptn_fid(gen_paths, small, "dptn", {"fid": _Stats()})
    with pytest.raises(MetricInputError, match="no folder of real images"):
        P.dptn_fid(gen_paths, tmp_path / "nowhere", "dptn", {"fid": _Stats()})


def test_dptn_fid_cache_is_keyed_by_files_and_network(tmp_path, rng):
    gen_paths = [tmp_path / f"p{i}_2_q{i}_vis.png" for i in range(8)]
    _write_images(tmp_path, [p.name for p in gen_paths], rng, (10, 6, 3))
    real_dir = tmp_path / "real"
    _write_images(real_dir, [f"r{i}.jpg" for i in range(12)], rng, (10, 6, 3))
    tv = _Stats()
    first = P.dptn_fid(gen_paths, real_dir, "dptn", {"fid_torchvision": tv}, cache=True)
    assert tv.batches() == [12, 8] and (real_dir / "fid_statistics_dptn_fid_torchvision.npz"
                                        ).is_file()
    tv = _Stats()
    again = P.dptn_fid(gen_paths, real_dir, "dptn", {"fid_torchvision": tv}, cache=True)
    assert tv.batches() == [8] and again == first           # the real set from the cache
    tv = _Stats(scale=2.0)                                   # other weights: recomputed
    P.dptn_fid(gen_paths, real_dir, "dptn", {"fid_torchvision": tv}, cache=True)
    assert tv.batches() == [12, 8]
    _write_images(real_dir, ["r99.jpg"], rng, (10, 6, 3))   # another file: recomputed
    tv = _Stats(scale=2.0)
    P.dptn_fid(gen_paths, real_dir, "dptn", {"fid_torchvision": tv}, cache=True)
    assert tv.batches() == [13, 8]
    assert sorted(os.listdir(real_dir))[0] == "fid_statistics_dptn_fid_torchvision.npz"


def test_dptn_scores_pad_resize_and_lpips_batches(tmp_path, rng, monkeypatch):
    res, gt = tmp_path / "res", tmp_path / "gt"
    gen = _write_images(res, ["a_2_b_vis.jpg", "c_2_d_vis.jpg"], rng, (64, 52, 3))
    tgt = _write_images(gt, ["b.jpg", "d.jpg"], rng, (64, 52, 3))
    _write_images(gt, ["b.png"], rng, (64, 52, 3))          # dptn reads <to>.jpg first
    got = P.dptn_scores(str(res), str(gt), "dptn", lpips=_MeanLPIPS())
    pad = [(P.pad_patn(g), P.pad_patn(t)) for g, t in zip(gen, tgt)]
    assert got["n"] == 2
    assert got["ssim"] == pytest.approx(np.mean([P.ssim_gfla(g, t) for g, t in pad]))
    assert got["ssim_256"] == pytest.approx(np.mean([P.ssim_patn(g, t) for g, t in pad]))
    assert got["psnr"] == pytest.approx(np.mean([psnr(t / 255, g / 255, 1) for g, t in pad]))
    assert got["l1"] == pytest.approx(np.mean([np.abs(g / 255 - t / 255).mean() for g, t in pad]))
    assert got["mae"] == pytest.approx(np.mean([np.abs(t / 255 - g / 255).sum() / (
        t / 255 + g / 255).sum() for g, t in pad]))
    assert got["lpips"] == pytest.approx(np.abs(gen / 127.5 - tgt / 127.5).mean())  # unpadded
    market = P.dptn_scores(str(res), str(gt), "dptn_market")
    assert market["ssim"] == pytest.approx(np.mean([P.ssim_gfla(g, t) for g, t in zip(gen, tgt)]))
    step = P.dptn_scores(str(res), str(gt), "dptn_step")    # <to>.png, both 256x176
    pairs = [(cv2.resize(g, (176, 256)), cv2.resize(t, (176, 256)))
             for g, t in zip(gen, [np.asarray(Image.open(gt / "b.png")), tgt[1]])]
    assert step["ssim_256"] == pytest.approx(np.mean([P.ssim_gaussian(g, t, 1.2)
                                                      for g, t in pairs]))
    assert step["ssim"] == pytest.approx(np.mean([P.ssim_gfla(g, t) for g, t in pairs]))
    table = P.format_table({"dptn": {**got, "fid_torchvision": 1.5}, "dptn_step": step})
    assert "fid_torchvision" in table.splitlines()[0] and "1.5000" in table
    # LPIPS batches: dptn every pair, dptn_step whole batches of min(64, N) (70 -> 64)
    names = [f"s{i:02d}_2_t{i:02d}_vis.png" for i in range(70)]
    _write_images(tmp_path / "many", names, rng, (4, 3, 3))
    _write_images(tmp_path / "many_gt", [f"t{i:02d}.png" for i in range(70)], rng, (4, 3, 3))
    monkeypatch.setattr(P, "_pair_scores", lambda g, t, protocol: {"ssim": 0.0})
    for protocol, batches in (("dptn", [64, 6]), ("dptn_step", [64])):
        lp = _MeanLPIPS()
        P.dptn_scores(str(tmp_path / "many"), str(tmp_path / "many_gt"), protocol, lpips=lp)
        assert lp.batches == batches, protocol


def test_dptn_folder_errors_name_the_file(tmp_path, rng):
    res, gt = tmp_path / "res", tmp_path / "gt"
    _write_images(res, ["a_2_b_vis.jpg"], rng, (64, 52, 3))
    gt.mkdir()
    with pytest.raises(MetricInputError, match=r"gt/b\.jpg: target image of a_2_b_vis.jpg"):
        P.dptn_scores(str(res), str(gt), "dptn")
    with pytest.raises(MetricInputError, match="needs the folder of the target images"):
        P.score_folder(str(res), ["dptn"])
    with pytest.raises(MetricInputError, match="no <from>_2_<to>_vis"):
        P.dptn_scores(str(gt), str(gt), "dptn_step")
    _write_images(gt, ["b.jpg"], rng, (64, 40, 3))
    with pytest.raises(MetricInputError, match=r"a_2_b_vis.jpg vs .*b\.jpg: images of sizes"):
        P.dptn_scores(str(res), str(gt), "dptn_market")
    with pytest.raises(MetricInputError, match="read_results reads the patn and gfla"):
        P.read_results(str(res), "dptn")
