"""DPTN training (tfposegen.models.dptn.train): the objective against closed forms, the
schedule, and a tiny overfit on one synthetic pair."""

import numpy as np
import pytest
import tensorflow as tf

from tfposegen.data.synthetic_persons import make_person
from tfposegen.metrics.image import ssim_color
from tfposegen.models.dptn import presets
from tfposegen.models.dptn import train as T
from tfposegen.models.dptn.networks import DPTNGenerator, ResDiscriminator
from tfposegen.pose.maps import gaussian_heatmaps_np

H, W = 32, 24


def _pair(seed=3):
    src, kp_s = make_person(seed, 1, H, W)
    tgt, kp_t = make_person(seed, 2, H, W)
    f = np.float32
    return {"source_image": (src.astype(f) / 127.5 - 1)[None],
            "target_image": (tgt.astype(f) / 127.5 - 1)[None],
            "source_pose": gaussian_heatmaps_np(kp_s, H, W, sigma=1.5)[None],
            "target_pose": gaussian_heatmaps_np(kp_t, H, W, sigma=1.5)[None]}


@pytest.fixture(scope="module")
def tiny():
    keras_seed = tf.keras.utils.set_random_seed
    keras_seed(0)
    batch = _pair()
    G, D = DPTNGenerator(**presets.TINY_G), ResDiscriminator(**presets.TINY_D)
    G(batch["source_image"], batch["source_pose"], batch["target_pose"])
    D(batch["target_image"])
    vgg = T.make_loss_vgg()   # seeded random weights: the test needs no ImageNet file
    return G, D, vgg, batch


def test_generator_objective_closed_form(tiny):
    G, D, vgg, batch = tiny
    fake_t, fake_s = G(batch["source_image"], batch["source_pose"], batch["target_pose"])
    only_l1 = {"lambda_style": 0.0, "lambda_content": 0.0, "lambda_g": 0.0, "t_s_ratio": 0.8}
    out = T.generator_losses(D, vgg, batch, fake_t, fake_s, only_l1)
    l1_t = np.abs(np.asarray(fake_t) - batch["target_image"]).mean()
    l1_s = np.abs(np.asarray(fake_s) - batch["source_image"]).mean()
    assert float(out["total"]) == pytest.approx(0.8 * 5 * l1_t + 0.2 * 5 * l1_s, rel=1e-5)
    only_gan = dict(only_l1, lambda_rec=0.0, lambda_g=2.0)
    u_before = np.asarray(D.block0.convs[0].u).copy()
    out = T.generator_losses(D, vgg, batch, fake_t, fake_s, only_gan)
    scores = np.asarray(D(fake_t))        # inference: the u the call above left
    assert float(out["total"]) == pytest.approx(2 * np.mean((scores - 1) ** 2), rel=1e-4)
    assert not np.allclose(np.asarray(D.block0.convs[0].u), u_before)  # D ran in training mode
    full = T.generator_losses(D, vgg, batch, fake_t, fake_s)
    parts = (0.5 * (full["app_gen_t"] + full["style_gen_t"] + full["content_gen_t"])
             + 0.5 * (full["app_gen_s"] + full["style_gen_s"] + full["content_gen_s"])
             + full["ad_gen_t"])
    assert float(full["total"]) == pytest.approx(float(parts), rel=1e-6)
    assert float(full["style_gen_t"]) > 0 and float(full["content_gen_t"]) > 0


def test_learning_rate_schedule_closed_form():
    assert [T.lr_factor(e, 100, 100) for e in (1, 100, 101, 200)] == [
        1.0, 1.0, 1 - 1 / 101, 1 - 100 / 101]
    assert T.lr_factor(5, 2, 3) == pytest.approx(0.25)


def test_overfit_one_pair_lowers_l1_and_raises_ssim(tiny):
    G, D, vgg, batch = tiny
    trainer = T.DPTNTrainer({"G": G, "D": D}, vgg, batch_size=1, iterations_per_epoch=1000,
                            lr=2e-3, weights={"lambda_style": 0.0})
    to_u8 = lambda x: np.clip((np.asarray(x[0]) + 1) * 127.5, 0, 255).astype(np.uint8)  # noqa: E731

    def scores():
        fake_t, _ = G(batch["source_image"], batch["source_pose"], batch["target_pose"])
        target = batch["target_image"]
        return (np.abs(np.asarray(fake_t) - target).mean(),
                ssim_color(to_u8(fake_t), to_u8(target)))

    first = scores()
    for _ in range(100):
        losses = trainer.train_step(batch)
    last = scores()
    print("\nDPTN overfit (L1, SSIM): start", np.round(first, 4), "after 100", np.round(last, 4))
    assert set(losses) == set(T.LOSS_NAMES) | {"lr"}
    assert all(np.isfinite(v) for v in losses.values())
    assert last[0] < 0.5 * first[0]
    assert last[1] > first[1] + 0.2


def test_train_resume_and_test_scripts(tmp_path):
    """run_scripts/dptn/train.py on a synthetic dataroot, run again with a longer schedule
    (resumes), then test.py: the original's file names at the stored size; a missing
    dataroot exits 2 naming what is missing."""
    import os
    import subprocess
    import sys

    from PIL import Image

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    common = [f"--dataroot={tmp_path / 'data'}", "--synthetic", "--name=synth",
              f"--checkpoints_dir={tmp_path / 'ck'}", "--preset=tiny", "--dis_layers=3"]

    def run(script, *extra):
        return subprocess.run([sys.executable, os.path.join(root, "run_scripts", "dptn", script),
                               *common, *extra], capture_output=True, text=True, env=env,
                              timeout=600)

    first = run("train.py", "--niter=1", "--niter_decay=1", "--batchSize=2",
                "--save_latest_freq=4")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "trained to step 4 of 4" in first.stdout
    again = run("train.py", "--niter=2", "--niter_decay=1", "--batchSize=2",
                "--save_latest_freq=4")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "at step 4" in again.stderr and "trained to step 6 of 6" in again.stdout
    assert {"1_net", "2_net", "3_net", "latest_net"} <= set(os.listdir(tmp_path / "ck" / "synth"))
    test = run("test.py", "--phase=train", f"--results_dir={tmp_path / 'res'}")
    assert test.returncode == 0, test.stderr[-2000:]
    names = sorted(os.listdir(tmp_path / "res"))
    assert len(names) == 4 and all("_2_" in n and n.endswith("_vis.jpg") for n in names)
    assert Image.open(tmp_path / "res" / names[0]).size == (22, 32)   # the stored size
    bad = run("test.py", f"--results_dir={tmp_path / 'bad'}")        # no test split
    assert bad.returncode == 2 and "no fasion-resize-pairs-test.csv" in bad.stderr
    assert not os.path.exists(tmp_path / "bad")
