"""DPTN training (tfposegen.models.dptn.train): the objective against closed forms, the
schedule, and a tiny overfit on one synthetic pair."""

import re

import numpy as np
import pytest
import tensorflow as tf
from conftest import TWO_LOGICAL_CPUS, assert_same_update
from loopback import ROOT, assert_only_chief_wrote, assert_same_run, cluster_jobs, run_all

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
    for _ in range(50):
        losses = trainer.train_step(batch)
    last = scores()
    print("\nDPTN overfit (L1, SSIM): start", np.round(first, 4), "after 50", np.round(last, 4))
    # measured: start (0.594, 0.024), after 50 (0.264, 0.472), after 100 (0.187, 0.598)
    assert set(losses) == set(T.LOSS_NAMES) | {"lr_G", "lr_D"}
    assert all(np.isfinite(v) for v in losses.values())
    assert last[0] < 0.5 * first[0]
    assert last[1] > first[1] + 0.2


def test_train_resume_and_test_scripts(tmp_path, warm_python):
    """run_scripts/dptn/train.py on a synthetic dataroot, run again with a longer schedule
    (resumes), then test.py: the original's file names at the stored size; a missing
    dataroot exits 2 naming what is missing. Trained with ``--run_eagerly`` (no tracing of
    the tiny networks; the traced step runs in the replica and loopback-worker tests)."""
    import os
    import subprocess

    from PIL import Image

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env, python = warm_python.env(PYTHONPATH=root), warm_python.python
    common = [f"--dataroot={tmp_path / 'data'}", "--synthetic", "--name=synth",
              f"--checkpoints_dir={tmp_path / 'ck'}", "--preset=tiny", "--dis_layers=3"]

    def run(script, *extra):
        return subprocess.run([python, os.path.join(root, "run_scripts", "dptn", script),
                               *common, *extra], capture_output=True, text=True, env=env,
                              timeout=600)

    first = run("train.py", "--niter=1", "--niter_decay=1", "--batchSize=2",
                "--save_latest_freq=4", "--run_eagerly")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "trained to step 4 of 4" in first.stdout
    again = run("train.py", "--niter=2", "--niter_decay=1", "--batchSize=2",
                "--save_latest_freq=4", "--run_eagerly")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "at step 4" in again.stderr and "trained to step 6 of 6" in again.stdout
    assert {"1_net", "2_net", "3_net", "latest_net"} <= set(os.listdir(tmp_path / "ck" / "synth"))
    test = run("test.py", "--phase=train", f"--results_dir={tmp_path / 'res'}",
               "--metrics=dptn_step", f"--scores_json={tmp_path / 'scores.json'}")
    assert test.returncode == 0, test.stderr[-2000:]
    names = sorted(os.listdir(tmp_path / "res"))
    assert len(names) == 4 and all("_2_" in n and n.endswith("_vis.jpg") for n in names)
    assert Image.open(tmp_path / "res" / names[0]).size == (22, 32)   # the stored size
    export = subprocess.run([python, os.path.join(root, "run_scripts",
                                                          "export_savedmodel.py"),
                             f"--dptn_netG={tmp_path / 'ck' / 'synth' / 'latest_net'}",
                             f"--export_dir={tmp_path / 'export'}"], capture_output=True,
                            text=True, env=env, timeout=600)
    assert export.returncode == 0, export.stderr[-2000:]
    assert os.path.isfile(tmp_path / "export" / "1" / "saved_model.pb")
    bad = run("test.py", f"--results_dir={tmp_path / 'bad'}")        # no test split
    assert bad.returncode == 2 and "no fasion-resize-pairs-test.csv" in bad.stderr
    assert not os.path.exists(tmp_path / "bad")
    eager = run("train.py", "--run_eagerly", "--strategy=multiworker")
    assert eager.returncode == 2 and "--strategy default" in eager.stderr.splitlines()[-1]
    # Market-1501's layout (market-*.csv, 2:1 persons seen at their stored size)
    market = [f"--dataroot={tmp_path / 'market'}", "--dataset_mode=market", "--name=market"]
    trained = run("train.py", *market, "--niter=1", "--niter_decay=0", "--batchSize=2",
                  "--run_eagerly")
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "trained to step 2 of 2" in trained.stdout
    assert "market-pairs-train.csv" in os.listdir(tmp_path / "market")
    test = run("test.py", *market, "--phase=train", f"--results_dir={tmp_path / 'mres'}")
    assert test.returncode == 0, test.stderr[-2000:]
    names = sorted(os.listdir(tmp_path / "mres"))
    assert len(names) == 4 and re.fullmatch(r"\d{4}_c1s1_\d{6}_01_2_\d{4}_c2s1_\d{6}_01_vis"
                                            r"\.jpg", names[0]), names
    assert Image.open(tmp_path / "mres" / names[0]).size == (16, 32)


MIRRORED = TWO_LOGICAL_CPUS + """from tfposegen.models.dptn import presets, train as T
from tfposegen.models.dptn.networks import DPTNGenerator, ResDiscriminator
rng = np.random.default_rng(0)
H = W = 16
batch = {k: rng.uniform(-1, 1, (2, H, W, 3)).astype(np.float32)
         for k in ("source_image", "target_image")}
batch.update({k: (rng.uniform(0, 1, (2, H, W, 18)) ** 8).astype(np.float32)
              for k in ("source_pose", "target_pose")})
out = {}
for name, st in (("one", tf.distribute.get_strategy()),
                 ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
    with st.scope():
        keras.utils.set_random_seed(0)
        nets = {"G": DPTNGenerator(**presets.TINY_G),
                "D": ResDiscriminator(**dict(presets.TINY_D, layers=2))}
        vgg = T.make_loss_vgg()
    t = T.DPTNTrainer(nets, vgg, batch_size=2, iterations_per_epoch=10, lr=1e-3, strategy=st)
    for opt in t.opts.values():  # Adam would turn the rounding of ~0 gradients into lr steps
        opt.epsilon = 1e-3
    tf.config.run_functions_eagerly(True)  # the replica math, not tracing, is under test
    losses = [t.train_step(batch) for _ in range(2)]
    out[name] = {"replicas": t.replicas, "losses": losses,
                 "G": [v.numpy().tolist() for v in nets["G"].trainable_weights[-6:]],
                 "D": [v.numpy().tolist() for v in nets["D"].weights]}
print(json.dumps(out))
"""


def test_two_replicas_make_the_update_of_one_device(warm_python):
    """MirroredStrategy on two logical CPUs against one device, the same global batch of two
    different pairs: the same losses and, after two steps, the same G and D weights,
    spectral-norm vectors included (deterministic ops, Adam epsilon 1e-3 as the other
    trainers' replica tests). Both run eagerly: the traced step under several replicas runs
    in the loopback-worker test below."""
    assert_same_update(MIRRORED, T.LOSS_NAMES, warm=warm_python)


RELOAD = """
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
out = m.signatures["dptn_pose_transfer"](images=tf.constant(x["images"]),
    source_keypoints=tf.constant(x["kp_s"]), target_keypoints=tf.constant(x["kp_t"]))
bad = "accepted"
try:
    m.signatures["dptn_pose_transfer"](images=tf.constant(x["images"][:, :-8]),
        source_keypoints=tf.constant(x["kp_s"]), target_keypoints=tf.constant(x["kp_t"]))
except Exception as e:
    bad = type(e).__name__
np.savez(sys.argv[3], names=np.array(sorted(m.signatures)), bad=np.array(bad),
         **{k: v.numpy() for k, v in out.items()})
"""


def test_export_round_trips_in_a_fresh_process(tiny, tmp_path):
    """dptn_pose_transfer (uint8 source + keypoints in the annotation frame) reloaded in a new
    process equals the generator fed the numpy pose maps of the original's cords_to_map."""
    import os
    import subprocess
    import sys

    from tfposegen.models.dptn.export import export_dptn
    from tfposegen.utils.files import to_uint8

    G = tiny[0]
    old = (32, 22)
    images, kps = [], []
    for seed in (3, 4):
        for pose in (1, 2):
            image, kp = make_person(seed, pose, *old)
            images.append(np.asarray(tf.image.resize(image, (H, H), "bilinear")))
            kps.append(kp.astype(np.float32))
    u8 = np.stack(images[::2]).round().astype(np.uint8)
    kp_s, kp_t = np.stack(kps[::2]), np.stack(kps[1::2])
    path = export_dptn(G, tmp_path / "dptn", 1, H, H, old_size=old)
    np.savez(tmp_path / "in.npz", images=u8, kp_s=kp_s, kp_t=kp_t)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", RELOAD, path, str(tmp_path / "in.npz"),
                           str(tmp_path / "out.npz")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=root), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = np.load(tmp_path / "out.npz")
    assert "dptn_pose_transfer" in out["names"] and str(out["bad"]) != "accepted"
    maps = [np.stack([gaussian_heatmaps_np(k, H, H, old_size=old) for k in kp])
            for kp in (kp_s, kp_t)]
    want, _ = G(u8.astype(np.float32) / 127.5 - 1, *maps, is_train=False)
    np.testing.assert_allclose(out["images_float"], np.asarray(want), atol=1e-5)
    assert np.mean(out["images"] != to_uint8(np.asarray(want))) < 0.01


def test_dptn_two_workers_make_the_update_of_one_process(tmp_path, warm_python):
    """DPTN's ``--strategy multiworker`` against ``--strategy default`` with the global batch
    of two pairs, one iteration (one epoch: the ``1_net`` folder is written by the chief
    only). The three processes make the synthetic dataroot and its records at once (it
    appears once). The single process runs eagerly (the same ops, no tracing)."""
    flags = [f"--dataroot={tmp_path / 'data'}", "--synthetic", "--synthetic_size=32,22",
             "--synthetic_people=1", "--batchSize=2", "--niter=1", "--niter_decay=0",
             "--preset=tiny", "--dis_layers=3"]
    script = ROOT / "run_scripts" / "dptn" / "train.py"
    out = run_all(cluster_jobs(script, flags, tmp_path / "cluster" / "run", tmp_path,
                               single_outdir=tmp_path / "single" / "run",
                               single_flags=["--run_eagerly"],
                               out_flags=lambda out: [f"--checkpoints_dir={out.parent}",
                                                      f"--name={out.name}"]),
                  warm=warm_python)
    assert "trained to step 1 of 1" in out["worker1"][1]
    # Adam's first step is +-lr for a gradient that is zero but for round-off: a few weights
    ckpt = assert_same_run(tmp_path / "cluster" / "run", tmp_path / "single" / "run",
                           noisy=0.001, noisy_atol=2e-4)
    assert int(ckpt["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 1
    assert (tmp_path / "cluster" / "run" / "1_net").is_dir()
    assert_only_chief_wrote(tmp_path / "cluster" / "run", tmp_path, runs=1)
