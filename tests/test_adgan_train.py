"""ADGAN training (tfposegen.models.adgan.train) and run_scripts/adgan/.

Every loss term is checked against numpy written here from the original's code
(models/adgan.py, losses/CX_style_loss.py, losses/L1_plus_perceptualLoss.py in
menyifang/ADGAN); the schedule against its closed form; a tiny run overfits one pair; the
scripts run the synthetic chain (train, resume, test) and convert a DataParallel .pth.
"""

import glob
import os
import shutil
import subprocess

import keras
import numpy as np
import pytest
import warm_python
from conftest import TWO_LOGICAL_CPUS, assert_same_update

from tfposegen.convert.torch_checkpoint import TorchCheckpointError, load_torch_file, to_keras
from tfposegen.losses.perceptual import VGG19Features
from tfposegen.models.adgan import presets, visualize, weights
from tfposegen.models.adgan import train as T
from tfposegen.models.adgan.discriminators import ResnetDiscriminator
from tfposegen.models.adgan.networks import ADGen, parsing_one_hot

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "run_scripts", "adgan")
SMALL_D = os.path.join(ROOT, "tests", "data", "adgan", "small_d_dataparallel.pth")
H = W = 16  # smallest side the CX VGG (relu4_2 at H/8) and the texture encoder allow


def _start(script, *args):
    """``python run_scripts/adgan/<script> args...`` (a fork of the warm interpreter)."""
    warm = warm_python.server()
    env = warm.env(PYTHONPATH=ROOT)
    return subprocess.Popen([warm.python, os.path.join(SCRIPTS, script), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _run(script, *args):
    proc = _start(script, *args)
    stdout, stderr = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _cx_numpy(target, inference, sigma=0.5, b=1.0):
    """CXLoss.forward(featureT=target, featureI=inference), NCHW, step by step."""
    t = np.transpose(target, (0, 3, 1, 2)).astype(np.float64)
    x = np.transpose(inference, (0, 3, 1, 2)).astype(np.float64)
    mu = t.mean(axis=(0, 2, 3), keepdims=True)
    t, x = t - mu, x - mu
    t = t / np.linalg.norm(t, axis=1, keepdims=True)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    losses = []
    for n in range(t.shape[0]):
        tp = t[n].reshape(t.shape[1], -1)  # C x Pt
        xp = x[n].reshape(x.shape[1], -1)  # C x Pi
        d = (1 - tp.T @ xp) / 2  # [target j, inference i]
        rel = d / (d.min(axis=0, keepdims=True) + 1e-5)
        w = np.exp((b - rel) / sigma)
        cx = w / w.sum(axis=0, keepdims=True)
        losses.append(-np.log(cx.max(axis=1).mean()))
    return float(np.mean(losses))


def test_discriminator_and_gan_losses_closed_form(rng):
    real = rng.normal(size=(2, 4, 4, 8)).astype(np.float32)
    fake = rng.normal(size=(2, 4, 4, 8)).astype(np.float32)
    expected = 0.5 * (5 * np.mean((real - 1) ** 2) + 5 * np.mean(fake ** 2))
    assert abs(float(T.discriminator_loss(real, fake)) - expected) < 1e-5
    expected_g = (5 * np.mean((real - 1) ** 2) + 5 * np.mean((fake - 1) ** 2)) / 2
    assert abs(float(T.generator_gan_loss(real, fake)) - expected_g) < 1e-5


def test_cx_loss_matches_the_original_steps(rng):
    feats = {k: rng.normal(size=(2, 3, 2, 5)).astype(np.float32) for k in ("a", "b", "c", "d")}
    real, fake = {"r32": feats["a"], "r42": feats["b"]}, {"r32": feats["c"], "r42": feats["d"]}
    got = float(T.cx_loss(real, fake, layers=("r32", "r42")))
    expected = 0.1 * (_cx_numpy(feats["a"], feats["c"]) + _cx_numpy(feats["b"], feats["d"]))
    assert abs(got - expected) < 1e-5
    # the target is the first argument: swapping real and fake changes the value
    assert abs(float(T.cx_loss(fake, real, layers=("r32", "r42"))) - got) > 1e-3


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    nets = {"netG": ADGen(**presets.ADGEN_TINY),
            "netD_PB": ResnetDiscriminator(21, ndf=8, n_blocks=1),
            "netD_PP": ResnetDiscriminator(6, ndf=8, n_blocks=1)}
    rows, cols = np.mgrid[:H, :W]
    target = np.stack([np.sin(rows / 3.0), np.cos(cols / 4.0), (rows - cols) / 16.0], -1)
    pose = np.zeros((1, H, W, 18), np.float32)
    pose[0, 4, 8, 0] = pose[0, 10, 5, 1] = 1
    batch = {"source_image": target[None, :, ::-1].astype(np.float32),
             "target_image": target[None].astype(np.float32), "target_pose": pose,
             "source_pose": pose, "source_parse": np.asarray(parsing_one_hot(
                 (rows * 8 // H)[None]))}
    return nets, T.make_loss_vggs(), batch


def test_generator_losses_match_numpy(tiny):
    nets, vggs, batch = tiny
    fake = np.asarray(nets["netG"](batch["target_pose"], batch["source_image"],
                                   batch["source_parse"]))
    out = {k: float(v) for k, v in T.generator_losses(nets, vggs, batch, fake,
                                                      training=False).items()}
    p1, p2, bp2 = batch["source_image"], batch["target_image"], batch["target_pose"]
    pb = np.asarray(nets["netD_PB"](np.concatenate([fake, bp2], -1)))
    pp = np.asarray(nets["netD_PP"](np.concatenate([fake, p1], -1)))
    gan = (5 * np.mean((pb - 1) ** 2) + 5 * np.mean((pp - 1) ** 2)) / 2
    # perceptual: torchvision relu1_2 on ((x + 1) / 2 - mean) / std, the model's own weights
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    raw = VGG19Features("relu1_2", input_range=None)
    raw.set_weights(vggs["perceptual"].get_weights())
    fa = np.asarray(raw(((fake + 1) / 2 - mean) / std)["relu1_2"])
    fb = np.asarray(raw(((p2 + 1) / 2 - mean) / std)["relu1_2"])
    origin = np.mean(np.abs(fake - p2))
    perceptual = np.mean(np.abs(fa - fb))
    cr, cf = vggs["cx"](p2), vggs["cx"](fake)
    cx = 0.1 * sum(_cx_numpy(np.asarray(cr[k]), np.asarray(cf[k]))
                   for k in ("relu3_2", "relu4_2"))
    assert cr["relu4_2"].shape == (1, 2, 2, 512)
    expected = {"origin_L1": origin, "perceptual": perceptual, "pair_L1loss": origin + perceptual,
                "pair_GANloss": gan, "CXLoss": cx, "total": origin + perceptual + gan + cx}
    for k, v in expected.items():
        assert abs(out[k] - v) < 1e-4 * max(1.0, abs(v)), (k, out[k], v)


def test_learning_rate_schedule_closed_form():
    f = [T.lr_factor(e, 500, 500) for e in (1, 499, 500, 501, 999, 1000)]
    np.testing.assert_allclose(f, [1, 1, 1 - 1 / 501, 1 - 2 / 501, 1 - 500 / 501, 0], atol=1e-12)
    assert T.iterations_per_epoch(6) == 667
    assert [T.epoch_of_step(s, 6) for s in (0, 666, 667, 1333, 1334)] == [1, 1, 2, 2, 3]


def test_vis_strip_panels():
    pose = np.zeros((H, W, 18), np.float32)
    pose[4, 4, 1] = pose[4, 10, 2] = 1  # neck, right shoulder: limb (1, 2)
    pose[12, 3, 9] = 0.05  # below the 0.1 threshold: missing
    image = np.zeros((H, W, 3), np.float32)
    strip = visualize.vis_strip(image, pose, image + 0.5, pose, image - 1)
    assert strip.shape == (H, 5 * W, 3) and strip.dtype == np.uint8
    assert (strip[:, :W] == 127).all()  # (0 + 1) / 2 * 255 = 127.5, truncated
    assert (strip[:, 2 * W:3 * W] == 191).all() and (strip[:, 4 * W:] == 0).all()
    drawing = strip[:, W:2 * W]
    np.testing.assert_array_equal(drawing, strip[:, 3 * W:4 * W])
    assert drawing[4, 7].tolist() == [255, 255, 255]  # on the limb, outside both discs
    assert drawing[4, 5].tolist() == [255, 85, 0] and drawing[5, 10].tolist() == [255, 170, 0]
    assert drawing[12, 3].tolist() == [0, 0, 0] and drawing[8, 7].tolist() == [0, 0, 0]
    assert visualize.pose_joints(pose)[[1, 2, 9]].tolist() == [[4, 4], [4, 10], [-1, -1]]


def test_overfit_one_pair_lowers_the_l1_and_raises_ssim(tiny):
    from tfposegen.metrics.image import ssim_color

    nets, vggs, batch = tiny
    target = visualize.tensor_to_uint8(batch["target_image"][0])

    def ssim_now():
        fake = nets["netG"](batch["target_pose"], batch["source_image"], batch["source_parse"])
        return ssim_color(visualize.tensor_to_uint8(fake[0]), target)

    # lambda_GAN 0.5, not the scripts' 5: with 5, pair_GANloss (~8, against a random D with
    # dropout) outweighs the L1 terms (~0.6) and how fast the pair is learnt hangs on the seed
    # and on the CPU's rounding (SSIM gain after 24 steps, seeds 0-19: 0.15 to 1.02; seed 0:
    # 0.27 with oneDNN, 0.58 without, 0.78 on an AVX2-only CPU). With 0.5, seeds 0-19 (oneDNN
    # on) and 0-9 (off): gain 0.84 to 1.10, L1 of the last five steps 0.15 to 0.23 of the first
    # five's; both D still train.
    trainer = T.ADGANTrainer(nets, vggs, batch_size=1, niter=100, niter_decay=0,
                             weights={"lambda_GAN": 0.5})
    before = [np.asarray(v).copy() for v in nets["netG"].enc_style.vgg.weights[:2]]
    ssim0 = ssim_now()
    l1 = [trainer.train_step(batch)["origin_L1"] for _ in range(24)]
    assert int(trainer.step.numpy()) == 24
    assert np.mean(l1[-5:]) < 0.4 * np.mean(l1[:5]), np.round(l1, 3)  # measured: 0.17
    ssim1 = ssim_now()
    assert ssim1 > ssim0 + 0.6, (ssim0, ssim1)  # measured: -0.03 -> 0.95
    for a, v in zip(before, nets["netG"].enc_style.vgg.weights[:2]):
        np.testing.assert_array_equal(a, np.asarray(v))  # the texture VGG stays frozen


MIRRORED = TWO_LOGICAL_CPUS + """from tfposegen.models.adgan import presets, train as T
from tfposegen.models.adgan.discriminators import ResnetDiscriminator
from tfposegen.models.adgan.networks import ADGen, parsing_one_hot
rng = np.random.default_rng(0)
H = W = 16
labels = rng.integers(0, 8, (2, H, W))
pose = np.zeros((2, H, W, 18), np.float32)
pose[0, 3, 4, 0] = pose[1, 9, 12, 1] = pose[1, 5, 5, 4] = 1
batch = {"source_image": rng.uniform(-1, 1, (2, H, W, 3)).astype(np.float32),
         "target_image": rng.uniform(-1, 1, (2, H, W, 3)).astype(np.float32),
         "source_pose": pose[::-1].copy(), "target_pose": pose,
         "source_parse": np.asarray(parsing_one_hot(labels))}
out = {}
for name, st in (("one", tf.distribute.get_strategy()),
                 ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
    with st.scope():
        keras.utils.set_random_seed(0)
        nets = {"netG": ADGen(**presets.ADGEN_TINY),
                "netD_PB": ResnetDiscriminator(21, ndf=8, n_blocks=1, use_dropout=False),
                "netD_PP": ResnetDiscriminator(6, ndf=8, n_blocks=1, use_dropout=False)}
        vggs = T.make_loss_vggs()
    t = T.ADGANTrainer(nets, vggs, batch_size=2, strategy=st)
    for opt in t.opts.values():  # Adam would turn the rounding of ~0 gradients into lr steps
        opt.epsilon = 1e-3
    losses = [t.train_step(batch) for _ in range(2)]  # both traced: the same kernels
    out[name] = {"replicas": t.replicas, "losses": losses,
                 "G": [v.numpy().tolist() for v in nets["netG"].trainable_weights[-6:]],
                 "D": [v.numpy().tolist() for v in nets["netD_PB"].trainable_weights]}
print(json.dumps(out))
"""


def test_two_replicas_make_the_update_of_one_device(warm_python):
    """MirroredStrategy on two logical CPUs against one device, same global batch of two
    different pairs (D without dropout): the same losses, CX included (its centring mean is
    all-reduced), and the same weights after two steps. Deterministic ops and Adam epsilon
    1e-3, as the DPIG replica test: with epsilon 1e-8, a gradient near 0 whose rounding
    depends on the summation order moves its weight by about lr either way (measured up to
    1e-3 under load). The one-device reference is traced too, not eager: with oneDNN (on by
    default on CPUs with AVX512_VNNI / AMX) eager ops run other kernels than the graph, the
    fake differs by ~1e-6, which flips ReLU / max-pool choices in the CX loss's VGG and moves
    dCX/dfake by 0.75%; measured after two steps, eager reference against two replicas: losses
    up to 2.8e-5 relative apart (D_PP 1.0e-5, CX 2.8e-5), D_PB weights 1.1e-4; traced: 3e-7
    and 2e-8 (without oneDNN, eager or traced: 4e-7 and 1e-7)."""
    assert_same_update(MIRRORED, T.LOSS_NAMES, warm=warm_python)


def test_vgg_conv_and_checkpoint_configs(tiny):
    vgg = T.make_loss_vggs()["cx"]
    rng = np.random.default_rng(0)
    state = {}
    for layer in vgg.stack:
        if layer.name.startswith("conv"):
            o, i = layer.kernel.shape[3], layer.kernel.shape[2]
            state[f"{layer.name}.weight"] = rng.normal(size=(o, i, 3, 3)).astype(np.float32)
            state[f"{layer.name}.bias"] = rng.normal(size=(o,)).astype(np.float32)
    assert weights.load_vgg_conv(vgg, state) == 32
    conv = vgg.stack[[layer.name for layer in vgg.stack].index("conv4_2")]
    np.testing.assert_array_equal(np.asarray(conv.kernel), to_keras(state["conv4_2.weight"],
                                                                    "conv2d"))
    with pytest.raises(TorchCheckpointError, match="conv5_4.bias"):
        weights.load_vgg_conv(vgg, {k: v for k, v in state.items() if k != "conv5_4.bias"})
    g = tiny[0]["netG"]
    g_state = {name: np.zeros(1) for _, name, _ in weights.adgen_weight_map(g)}
    g_state["fc.fc.weight"] = np.zeros((64, 64))
    g_state["mlp.model.0.fc.weight"] = np.zeros((32, 64))
    assert weights.adgen_config(g_state) == presets.ADGEN_TINY
    with pytest.raises(ValueError, match="not an ADGAN netG state dict"):
        weights.adgen_config({"model.1.weight": np.zeros((8, 21, 7, 7))})
    d_state = {k[len("module."):]: v for k, v in load_torch_file(SMALL_D).items()}
    config = weights.discriminator_config(d_state)
    d = ResnetDiscriminator(**config)
    assert weights.load_discriminator_state(d, d_state) == 18
    assert config["input_nc"] == 21 and config["n_blocks"] == 3 and config["use_dropout"]


def test_load_label_networks_folder_and_original_files(tmp_path):
    src = ResnetDiscriminator(21, ndf=8, n_blocks=1)
    weights.save_networks({"netD_PB": src}, tmp_path / "latest_net")
    mine = {"netD_PB": ResnetDiscriminator(21, ndf=8, n_blocks=1)}
    loaded = weights.load_label_networks(str(tmp_path), "latest", mine)
    assert loaded == str(tmp_path / "latest_net")
    for a, b in zip(mine["netD_PB"].weights, src.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the original's <label>_net_<key>.pth (DataParallel keys), strictly
    shutil.copyfile(SMALL_D, tmp_path / "800_net_netD_PB.pth")
    config = weights.discriminator_config({k[len("module."):]: v
                                     for k, v in load_torch_file(SMALL_D).items()})
    orig = {"netD_PB": ResnetDiscriminator(**config)}
    assert weights.load_label_networks(str(tmp_path), "800", orig) == [
        str(tmp_path / "800_net_netD_PB.pth")]
    with pytest.raises(TorchCheckpointError, match="800_net_netD_PB.pth"):
        weights.load_label_networks(str(tmp_path), "800", mine)  # wrong size: nothing loads
    with pytest.raises(FileNotFoundError, match="700_net_netD_PB.pth"):
        weights.load_label_networks(str(tmp_path), "700", mine)


def test_train_resume_and_test_scripts(tmp_path):
    data, ck, res = tmp_path / "data", tmp_path / "ck", tmp_path / "res"
    common = [f"--dataroot={data}", f"--checkpoints_dir={ck}", "--name=s", "--synthetic",
              "--preset=tiny", "--ndf=8", "--n_layers_D=1", "--niter_decay=0",
              "--epoch_size=1", "--batchSize=1", "--save_latest_freq=100", "--num_shards=1",
              "--save_epoch_freq=1", "--run_eagerly"]   # traced: the replica test
    first = _run("train.py", *common, "--niter=2")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "trained to step 2 of 2" in first.stdout
    assert os.path.isfile(ck / "s" / "checkpoints" / "ckpt-2.index")
    # every epoch's networks, though the snapshots (latest_net) come only at the end
    assert {"1_net", "2_net", "latest_net"} <= set(os.listdir(ck / "s"))
    # resume (step 2 -> 3) while test.py renders with the step-2 networks (2_net, which the
    # resumed run does not touch): two processes at once to save time
    second = _start("train.py", *common, "--niter=3")
    test = _run("test.py", f"--dataroot={data}", f"--checkpoints_dir={ck}", "--name=s",
                f"--results_dir={res}", "--which_epoch=2", "--synthetic", "--save_fake",
                "--metrics=patn")
    out_second, err_second = second.communicate(timeout=300)
    assert second.returncode == 0, err_second[-3000:]
    assert "at step 2" in err_second and "trained to step 3 of 3" in out_second
    assert os.path.isfile(ck / "s" / "checkpoints" / "ckpt-3.index")
    assert os.path.isfile(ck / "s" / "3_net" / "networks.json")
    import tensorflow as tf

    tags = {v.tag for path in glob.glob(str(ck / "s" / "logs" / "events.out.tfevents.*"))
            for e in tf.compat.v1.train.summary_iterator(path) for v in e.summary.value}
    assert {f"loss/{k}" for k in T.LOSS_NAMES} | {"loss/lr", "vis"} <= tags, tags
    assert "--batchSize=1" in (ck / "s" / "opt.txt").read_text()
    assert sorted(os.listdir(ck / "s" / "web" / "images")) == ["epoch002_vis.png",
                                                                "epoch003_vis.png"]

    assert test.returncode == 0, test.stderr[-3000:]
    out = res / "s" / "test_2" / "images"
    lines = (data / "fashion-resize-pairs-test.csv").read_text().split()[1:]
    pairs = [line.split(",") for line in lines]
    assert len(pairs) == 4
    assert sorted(os.listdir(out)) == sorted(f"{a}___{b}_{k}" for a, b in pairs
                                             for k in ("vis.jpg", "fake.png"))
    from PIL import Image

    a, b = pairs[0]
    vis = np.asarray(Image.open(out / f"{a}___{b}_vis.jpg"))
    assert vis.shape == (H, 5 * W, 3)
    fake = np.asarray(Image.open(out / f"{a}___{b}_fake.png"))
    # the generated panel again, from the saved networks, in this process
    from tfposegen.data.pose_pairs import pose_pair_dataset

    nets, meta = weights.load_networks(ck / "s" / "2_net")
    assert meta["step"] == 2
    batch = next(iter(pose_pair_dataset(f"{data}_test_records", (H, W), shuffle=False,
                                        with_parse=True, peak_only=True)))
    assert batch["source_name"][0].numpy().decode() == a
    mine = nets["netG"](batch["target_pose"], batch["source_image"], batch["source_parse"])
    np.testing.assert_array_equal(fake, visualize.tensor_to_uint8(mine[0]))
    # --metrics patn: the strips' panels, padded, scored as tool/getMetrics_fashion.py
    import json

    from tfposegen.metrics import pose_transfer

    scores = json.loads((res / "s" / "test_2" / "scores.json").read_text())["patn"]
    strips = [pose_transfer.split_vis_strip(np.asarray(Image.open(out / f"{p}___{q}_vis.jpg")))
              for p, q in sorted(pairs)]
    assert scores["n"] == 4
    assert scores["ssim"] == pytest.approx(np.mean([
        pose_transfer.ssim_patn(pose_transfer.pad_patn(s[4]), pose_transfer.pad_patn(s[2]))
        for s in strips]), abs=1e-12)
    assert "psnr" in scores and "lpips" not in scores  # no LPIPS weights given


def test_convert_weights_script(tmp_path):
    out = tmp_path / "net"
    good = _run("convert_weights.py", f"--netD_PB={SMALL_D}", f"--output={out}")
    assert good.returncode == 0, good.stderr[-3000:]
    nets, meta = weights.load_networks(out)
    assert meta["source"]["netD_PB"] == SMALL_D
    direct = ResnetDiscriminator(**weights.discriminator_config(
        {k[len("module."):]: v for k, v in load_torch_file(SMALL_D).items()}))
    weights.load_discriminator_state(direct, SMALL_D)
    x = np.random.default_rng(0).normal(size=(1, H, W, 21)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(nets["netD_PB"](x)), np.asarray(direct(x)))

    bad = tmp_path / "bad_net_netG.pth"
    bad.write_bytes(b"not a checkpoint")
    proc = _run("convert_weights.py", f"--netG={bad}", f"--output={tmp_path / 'x'}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert f"{bad}: not a PyTorch checkpoint" in proc.stderr
    assert not os.path.exists(tmp_path / "x")


@pytest.mark.parametrize("case", ["parse_labels", "image_size", "parse_size"])
def test_bad_dataroot_files_are_named_and_nothing_is_written(tmp_path, case):
    from tfposegen.data.pose_pairs import PosePairsError, adgan_parse_path
    from tfposegen.models.adgan.data import dataroot_records, make_synthetic_dataroot

    root = tmp_path / "root"
    names = make_synthetic_dataroot(str(root), (32, 24))
    parse = root / adgan_parse_path(names[0])
    if case == "parse_labels":
        np.save(parse, np.full((32, 24), 9, np.uint8))  # ADGAN has classes 0..7
        bad, what = parse, "parsing labels must be 0..7, found 9..9"
    elif case == "parse_size":
        np.save(parse, np.zeros((30, 24), np.uint8))
        bad, what = parse, "parsing map of shape (30, 24), its image is 32x24"
    else:
        from PIL import Image

        bad = root / "test" / names[1]
        Image.fromarray(np.zeros((40, 24, 3), np.uint8)).save(bad)
        what = "image is 40x24, the dataset's images are 32x24"
    with pytest.raises(PosePairsError) as info:
        dataroot_records(str(root), "test", dir_sem=str(root))
    assert str(info.value) == f"{bad}: {what}"
    assert sorted(os.listdir(tmp_path)) == ["root"]  # no records folder left behind


def test_scripts_reject_bad_keypoints_and_foreign_checkpoints(tmp_path):
    data, ck = tmp_path / "data", tmp_path / "ck"
    from tfposegen.models.adgan.data import make_synthetic_dataroot

    make_synthetic_dataroot(str(data))
    csv = data / "fashion-resize-annotation-test.csv"
    lines = csv.read_text().splitlines()
    name, ys, xs = lines[1].split(":")
    lines[1] = f"{name}:{ys.replace('[', '[1, ')}:{xs}"  # 19 rows
    csv.write_text("\n".join(lines) + "\n")
    # a discriminator's file where the generator should be
    (ck / "s").mkdir(parents=True)
    shutil.copyfile(SMALL_D, ck / "s" / "5_net_netG.pth")
    common = [f"--dataroot={data}", f"--checkpoints_dir={ck}", "--name=s", "--synthetic",
              f"--results_dir={tmp_path / 'res'}"]
    foreign = _run("test.py", *common, "--which_epoch=5")
    assert foreign.returncode == 2 and "Traceback" not in foreign.stderr, foreign.stderr[-2000:]
    assert "USAGE" not in foreign.stderr.upper()
    assert f"{ck / 's' / '5_net_netG.pth'}: not an ADGAN netG state dict" in foreign.stderr
    weights.save_networks({"netG": ADGen(**presets.ADGEN_TINY)}, ck / "s" / "latest_net")
    keypoints = _run("test.py", *common)
    assert keypoints.returncode == 2 and "Traceback" not in keypoints.stderr
    assert f"{csv}:2:" in keypoints.stderr, keypoints.stderr[-2000:]
    assert not (tmp_path / "res").exists()
    assert sorted(os.listdir(tmp_path)) == ["ck", "data"]  # no records folder either
