"""DPIG training / testing (tfposegen.models.dpig, run_scripts/dpig/main.py) on tiny synthetic
records."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from scipy.ndimage import label as ndimage_label

from tfposegen.data import synthetic_persons as S
from tfposegen.metrics import image as image_metrics
from tfposegen.models.dpig import convert as C
from tfposegen.models.dpig import interpolate as I
from tfposegen.models.dpig import models as M
from tfposegen.models.dpig import scores
from tfposegen.models.dpig import test as T
from tfposegen.models.dpig import train as TR
from tfposegen.models.dpig.pipeline import dpig_dataset
from tfposegen.pose.maps import normalize_rcv, pose_heatmap

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAIN = ROOT / "run_scripts" / "dpig" / "main.py"
SHARED = ROOT.parent / "shared"
H, W = 128, 64  # smallest size the DCGAN critic takes
TINY = dict(hidden=8, z_num=8, fc_hidden=32, critic_dim=8)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """(DF-style records folder, Market records folder), 128x64 synthetic people."""
    root = tmp_path_factory.mktemp("dpig")
    S.write_rcv_layout(str(root / "df"), identities=2, poses=3, seed=5, size=(H, W))
    C.write_plan(C.plan_rcv(str(root / "df"), "train"), verbose=False)
    S.write_market_layout(str(root / "mk"), identities=2, poses=2, seed=6)
    C.write_plan(C.plan_market(str(root / "mk"), "train"), verbose=False)
    return str(root / "df" / "train"), str(root / "mk" / "Market_train_data")


def _trainer(number, path, lr=1e-3, seed=0):
    spec = M.get_spec(number)
    tf.keras.utils.set_random_seed(seed)
    nets = M.build_networks(spec, H, W, **TINY)
    trainer = TR.DPIGTrainer(spec, nets, 2, lr, lr, 1000, seed=seed)
    ds = dpig_dataset(path, "Market" if spec.dataset == "market" else "DF", 2, seed=seed,
                      height=H, width=W)
    return trainer, ds


@pytest.mark.parametrize("number", [101, 102, 103, 104, 1, 2, 3, 4])
def test_models_train_finite_and_moving(records, number):
    path = records[1] if number < 100 else records[0]
    trainer, ds = _trainer(number, path)
    data = iter(trainer.model_inputs(ds))
    before = [v.numpy().copy() for _, g, d, _, _ in trainer.groups for v in g + d]
    history = [trainer.train_step(data) for _ in range(3)]
    after = [v.numpy() for _, g, d, _, _ in trainer.groups for v in g + d]
    for losses in history:
        assert all(np.isfinite(v) for v in losses.values()), losses
    key = [k for k in history[-1] if "loss" in k][0]
    assert len({h[key] for h in history}) > 1  # losses move
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    for mode, _, d_vars, _, _ in trainer.groups:  # WGAN critics stay clipped
        if mode == "wgan":
            assert max(float(np.abs(v.numpy()).max()) for v in d_vars) <= 0.01 + 1e-7


def test_heatmaps_built_in_the_step_equal_the_pipelines(records):
    """main.py trains on uint8 batches without ``pose``: the step converts them and builds
    the heat-maps from ``pose_rcv``."""
    out = []
    for step_side in (False, True):
        trainer, _ = _trainer(101, records[0])
        ds = dpig_dataset(records[0], "DF", 2, shuffle=False, height=H, width=W,
                          heatmaps=not step_side, uint8=step_side)
        batch = next(iter(trainer.model_inputs(ds)))
        assert ("pose" in batch) != step_side
        assert (batch["x"].dtype == tf.uint8) == (batch["mask"].dtype == tf.uint8) == step_side
        out.append(trainer.train_step(iter([batch, batch])))
    assert out[0] == out[1]


def test_tf1_rmsprop_first_step():
    v = tf.Variable([1.0, -2.0])
    opt = TR.TF1RMSProp(0.1)
    opt.build([v])
    opt.apply([tf.constant([0.5, 2.0])], [v])
    ms = 0.9 + 0.1 * np.array([0.25, 4.0])
    np.testing.assert_allclose(v.numpy(), [1.0, -2.0] - 0.1 * np.array([0.5, 2.0]) /
                               np.sqrt(ms + 1e-10), rtol=1e-6)
    assert TR.learning_rate(1.0, 99, 100) == 1.0 and TR.learning_rate(1.0, 100, 100) == 0.5


def _recon_scores(trainer, batch):
    G = TR.to_uint8(trainer.nets["generator"](trainer.appearance(batch), batch["pose"]))
    x = TR.to_uint8(batch["x"])
    masks = (np.asarray(batch["mask"])[..., 0] * 255).astype(np.uint8)
    l1 = float(np.abs(G.astype(float) - x).mean()) / 255
    return (l1, float(np.mean([image_metrics.ssim_gray(g, r) for g, r in zip(G, x)])),
            float(np.mean([scores.pair_scores(g, r, m)["ssim"] for g, r, m in zip(G, x, masks)])))


def test_overfit_handful_of_pairs(records):
    """Model 101 (the tiny widths, learning rates 2e-3) on one batch of 2 pairs: L1 falls and
    the person's mask-SSIM rises; grey SSIM, dominated by the flat background and swinging
    with the adversarial term (0.33 .. 0.45 between steps 30 and 40, measured), must not
    collapse."""
    spec = M.get_spec(101)
    tf.keras.utils.set_random_seed(1)
    nets = M.build_networks(spec, H, W, **TINY)
    trainer = TR.DPIGTrainer(spec, nets, 2, 2e-3, 2e-3, 100000, seed=1)
    ds = dpig_dataset(records[0], "DF", 2, shuffle=False, height=H, width=W).take(1).cache()
    batch = next(iter(ds))
    data = iter(trainer.model_inputs(ds.repeat()))
    first = _recon_scores(trainer, batch)
    late = []  # the adversarial term makes single points noisy: average the last three
    for step in range(1, 41):
        trainer.train_step(data)
        if step in (30, 35, 40):
            late.append(_recon_scores(trainer, batch))
    print("\noverfit 101 (2 pairs; L1, grey SSIM, mask-SSIM): start", np.round(first, 4),
          "steps 30 / 35 / 40", np.round(late, 4).tolist())
    l1, ssim, mask_ssim = np.mean(late, axis=0)
    # measured: start (0.543, 0.414, 0.628), steps 30-40 (0.156, 0.409, 0.781)
    assert l1 < 0.4 * first[0]
    assert mask_ssim > first[2] + 0.1  # inside the person
    assert ssim > first[1] - 0.1


def test_restore_chain_and_tests_write_folders(records, tmp_path):
    trainer, ds = _trainer(101, records[0], seed=3)
    TR.train_loop(trainer, iter(trainer.model_inputs(ds)), next(iter(ds)), str(tmp_path / "m101"),
                  1, log=lambda *_: None)
    nets = M.build_networks(M.get_spec(1001), H, W, **TINY)
    TR.restore_networks(str(tmp_path / "m101" / "model.ckpt-0"), nets)
    np.testing.assert_array_equal(nets["generator"].weights[0].numpy(),
                                  trainer.nets["generator"].weights[0].numpy())
    test_ds = dpig_dataset(records[0], "DF", 2, shuffle=False, repeat=False, height=H, width=W)
    out = tmp_path / "t1001"
    assert T.run_pg2(nets, "df", iter(test_ds), str(out), 2) == 4
    for sub in T.FOLDERS:
        assert sorted(os.listdir(out / sub)) == [f"{i:05d}.png" for i in range(4)]
    assert any(n.startswith("0_G_ssim") for n in os.listdir(out))
    nets2 = M.build_networks(M.get_spec(1002), H, W, **TINY)
    out2 = tmp_path / "t1002"
    n = T.run_sample_factors(nets2, iter(test_ds), str(out2), 1, True, True)
    assert n == 2 and sorted(os.listdir(out2 / "G")) == ["0000_c1s1_000000_00000.png",
                                                         "0000_c1s1_000001_00001.png"]
    assert sorted(os.listdir(out2 / "G_pose")) == ["0000_0000.png", "0000_0001.png"]
    with pytest.raises(TR.RestoreError, match="nowhere"):
        TR.restore_networks(str(tmp_path / "nowhere"), nets)


def test_main_flags_match_config_and_errors(tmp_path, capsys, warm_python):
    sys.path.insert(0, str(ROOT / "run_scripts" / "dpig"))
    import main as dpig_main

    cfg = vars(dpig_main.build_parser().parse_known_args([])[0])
    expected = dict(img_H=128, img_W=64, conv_hidden_num=128, z_num=64, dataset="CelebA",
                    split="train", batch_size=16, grayscale=False, num_worker=4, is_train=True,
                    test_one_by_one=False, optimizer="adam", start_step=0, ckpt_path=None,
                    pretrained_path=None, max_step=500000, lr_update_step=100000,
                    L1Loss_weight=20, d_lr=0.00008, g_lr=0.00008, beta1=0.5, beta2=0.999,
                    gamma=0.5, lambda_k=0.001, use_gpu=True, gpu=-1, model=0, D_arch="DCGAN",
                    sample_pose=False, load_path="", log_step=200, save_model_secs=1000,
                    num_log_samples=3, log_level="INFO", log_dir="logs", model_dir=None,
                    data_dir="data", test_data_path=None, sample_per_image=64,
                    random_seed=123, inverse_pose=False, one_app_per_batch=False)
    assert {k: cfg[k] for k in expected} == expected
    assert dpig_main.str2bool("TRUE") and not dpig_main.str2bool("yes")
    env = warm_python.env()
    base = [warm_python.python, str(MAIN), f"--log_dir={tmp_path}",
            f"--data_dir={tmp_path}"]
    r = subprocess.run(base + ["--dataset=none", "--model=101"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 2 and "main.py: error:" in r.stderr and "none" in r.stderr
    assert "Traceback" not in r.stderr
    # the same exit in this process (the script's process exit is checked just above)
    with pytest.raises(SystemExit) as exit_info:
        dpig_main.main(base[2:] + ["--dataset=none", "--model=7"])
    assert exit_info.value.code == 2 and "--model 7" in capsys.readouterr().err


def _checkpoint_values(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {k: reader.get_tensor(k) for k, dt in reader.get_variable_to_dtype_map().items()
            if (dt.is_floating or dt.is_integer) and not k.startswith("save_counter")}


def test_market_sampling_tests_write_folders(records, tmp_path):
    """13 without sampling repeats row 0's factors (identical images, named with the
    critic's mean logit of the image); with sampled fg the rows differ; 11 writes its
    re-id names; mask/ holds the r6 mask as the Market testers."""
    nets = M.build_networks(M.get_spec(13), H, W, **TINY)
    ds = dpig_dataset(records[1], "Market", 2, shuffle=False, repeat=False, height=H, width=W)
    batch = next(iter(ds))
    out = tmp_path / "t13"
    assert T.run_sample_market(nets, iter(ds), str(out), 1, 13) == 2
    names = sorted(os.listdir(out / "G"))
    assert [n[:23] for n in names] == ["0000_c1s1_000000_00000_", "0000_c1s1_000001_00001_"]
    emb = nets["encoder"](batch["x"], batch["mask_r6"], batch["part_bbox"][:, :M.NUM_PARTS],
                          tf.cast(batch["part_vis"][:, :M.NUM_PARTS], tf.float32))
    rcv = normalize_rcv(batch["pose_rcv"], H, W)
    fake = nets["generator"](tf.repeat(emb[:1], 2, 0),
                             pose_heatmap(tf.repeat(rcv[:1], 2, 0), H, W, normalized=True))
    logit = float(tf.reduce_mean(nets["critic"](fake)[:1]))
    assert float(names[0][23:-4]) == pytest.approx(logit, abs=2e-6)
    g = [np.asarray(Image.open(out / "G" / n)) for n in names]
    np.testing.assert_array_equal(g[0], g[1])
    np.testing.assert_array_equal(g[0], TR.to_uint8(fake)[0])
    mask = np.asarray(Image.open(out / "mask" / "00000.png"))
    np.testing.assert_array_equal(mask, np.asarray(batch["mask_r6"])[0, ..., 0] * 255)
    assert not np.array_equal(mask, np.asarray(batch["mask"])[0, ..., 0] * 255)
    out_fg = tmp_path / "t13fg"
    T.run_sample_market(nets, iter(ds), str(out_fg), 1, 13, sample_fg=True)
    g = [np.asarray(Image.open(out_fg / "G" / n)) for n in sorted(os.listdir(out_fg / "G"))]
    assert not np.array_equal(g[0], g[1])
    out11 = tmp_path / "t11"
    assert T.run_sample_market(nets, iter(ds), str(out11), 1, 11, True,
                               one_app_per_batch=True) == 2
    assert len(os.listdir(out11 / "G_pose")) == 2
    assert T.test_dir_name(11, 751, 32) == \
        "test_result_ROI7_RealFgBgRandomPose_FixFgRandBg_pretrain_751x32"


@pytest.mark.parametrize("dataset", ["DF", "market"])
def test_run_scripts_synthetic_train_then_test(tmp_path, dataset, warm_python):
    """DPIG_SYNTHETIC=1 run_<dataset>_train.sh then run_<dataset>_test.sh: the 4 training
    models checkpoint, every test writes its folder, the scorers write their files. The
    scripts' ``python`` commands run as forks of one interpreter that has imported
    TensorFlow (:class:`WarmPython`), each a new process as the scripts start them."""
    env = warm_python.env(DPIG_SYNTHETIC="1", LOG_DIR=str(tmp_path / "logs"),
                          DATA_DIR=str(tmp_path / "data"))
    for stage in ("train", "test"):
        script = ROOT / "run_scripts" / "dpig" / f"run_{dataset}_{stage}.sh"
        r = subprocess.run(["bash", str(script)],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr[-3000:]
    logs = tmp_path / "logs"
    models = sorted(p.name.split("_")[0] for p in logs.iterdir()
                    if (p / "checkpoint").exists())
    assert models == (["MODEL101", "MODEL102", "MODEL103", "MODEL104"] if dataset == "DF"
                      else ["MODEL1", "MODEL2", "MODEL3", "MODEL4"])
    results = sorted(logs.glob("*/test*_2x2"))
    assert len(results) == (2 if dataset == "DF" else 3)
    for folder in results:
        assert len(list((folder / "G").iterdir())) == 4
    pg2 = [f for f in results if "Condition" in f.name][0]
    assert (pg2 / "score.txt").read_text().startswith("Image number: 4")
    assert (pg2 / "score_mask.txt").exists()


def test_interpolation_ends_at_both_images(records, tmp_path):
    """slerp hits both ends and keeps the norm between equal-norm vectors; pose and
    appearance strips start at the source's own rendering and end at the target's factor."""
    a, b = tf.constant([[3.0, 0.0]]), tf.constant([[0.0, 3.0]])
    np.testing.assert_allclose(I.slerp(0.0, a, b), a, atol=1e-6)
    np.testing.assert_allclose(I.slerp(1.0, a, b), b, atol=1e-6)
    assert float(tf.norm(I.slerp(0.3, a, b))) == pytest.approx(3.0, abs=1e-5)
    np.testing.assert_allclose(I.slerp(0.5, a, 2 * a), 1.5 * a, atol=1e-6)  # parallel: lerp
    nets = M.build_networks(M.get_spec(1002), H, W, **TINY)
    ds = dpig_dataset(records[0], "DF", 2, shuffle=False, repeat=False, height=H, width=W)
    it = iter(ds)
    src, tgt = next(it), next(it)
    render = lambda app, rcv: nets["generator"](app, pose_heatmap(  # noqa: E731
        nets["pose_ae"](normalize_rcv(rcv, H, W)), H, W, normalized=True))
    app_s, app_t = M.appearance(nets, "df", src), M.appearance(nets, "df", tgt)
    pose = I.interpolate(nets, "df", src, tgt, "pose", steps=3)
    np.testing.assert_allclose(pose[0], render(app_s, src["pose_rcv"]), atol=1e-5)
    np.testing.assert_allclose(pose[-1], render(app_s, tgt["pose_rcv"]), atol=1e-5)
    app = I.interpolate(nets, "df", src, tgt, "appearance", steps=3)
    heat = pose_heatmap(normalize_rcv(src["pose_rcv"], H, W), H, W, normalized=True)
    np.testing.assert_allclose(app[-1], nets["generator"](app_t, heat), atol=1e-5)
    assert not np.allclose(app[1], app[0], atol=1e-4)
    assert I.run_interpolation(nets, "df", iter(ds), str(tmp_path / "i"), 1, "pose", 4) == 2
    strip = np.asarray(Image.open(tmp_path / "i" / "0_0.png"))
    assert strip.shape[1] == 6 * (W + 2) + 2


def _tiny_101_checkpoint(tmp_path):
    tf.keras.utils.set_random_seed(2)
    nets = M.build_networks(M.get_spec(101), H, W, hidden=8, z_num=8, critic_dim=8)
    prefix = tf.train.Checkpoint(**{M.GROUPS[k]: TR.model_variables(m)
                                    for k, m in nets.items()}).save(str(tmp_path / "c" / "m"))
    return nets, prefix


def test_pose_transfer_script_equals_the_models(records, tmp_path, warm_python):
    """pose_transfer.py on a photo with keypoint files: the output equals the encoder and
    generator fed the fitted photo, part boxes from its keypoints and the target pose map;
    a photo already at the model's size is left as it is."""
    nets, prefix = _tiny_101_checkpoint(tmp_path)
    batch = next(iter(dpig_dataset(records[0], "DF", 2, shuffle=False, height=H, width=W)))
    photo = TR.to_uint8(batch["x"])[0]
    Image.fromarray(photo).save(tmp_path / "me.png")
    kp = lambda rcv: [[int(r) if v else -1 for r, _, v in rcv], [int(c) if v else -1  # noqa
                                                                   for _, c, v in rcv]]
    for name, rcv in (("me.png", batch["pose_rcv"][0]), ("pose.png", batch["pose_rcv_target"][0])):
        ys, xs = kp(np.asarray(rcv))
        (tmp_path / f"{name}.csv").write_text(f"name:keypoints_y:keypoints_x\n{name}: {ys}: {xs}\n")
    python, env = warm_python.python, warm_python.env()
    r = subprocess.run([python, str(ROOT / "run_scripts" / "dpig" / "pose_transfer.py"),
                        f"--photo={tmp_path / 'me.png'}",
                        f"--photo_keypoints={tmp_path / 'me.png.csv'}",
                        f"--target={tmp_path / 'pose.png.csv'}", f"--pretrained_path={prefix}",
                        f"--img_H={H}", f"--img_W={W}", "--conv_hidden_num=8", "--z_num=8",
                        f"--output={tmp_path / 'out.png'}"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    x = tf.constant(photo[None].astype(np.float32) / 127.5 - 1)
    first = {k: v[:1] for k, v in batch.items()}
    want = TR.to_uint8(nets["generator"](M.appearance(nets, "df", dict(first, x=x)),
                                         first["pose_target"]))[0]
    got = np.asarray(Image.open(tmp_path / "out.png"))
    assert np.mean(np.abs(got.astype(int) - want)) < 0.5
    assert (tmp_path / "out_strip.png").exists()
    r = subprocess.run([python, str(ROOT / "run_scripts" / "dpig" / "pose_transfer.py"),
                        f"--photo={tmp_path / 'me.png'}", f"--target={tmp_path / 'nowhere.csv'}",
                        f"--photo_keypoints={tmp_path / 'me.png.csv'}",
                        f"--pretrained_path={prefix}", f"--output={tmp_path / 'o.png'}"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "nowhere.csv" in r.stderr and "Traceback" not in r.stderr


def test_pose_transfer_script_on_two_photos(tmp_path, warm_python):
    """The target pose detected in a second photo (the DGP sample photos, BlazePose)."""
    dgp = SHARED / "data" / "dgp"
    if not dgp.is_dir():
        pytest.skip(f"{dgp} not present")
    _, prefix = _tiny_101_checkpoint(tmp_path)
    r = subprocess.run([warm_python.python,
                        str(ROOT / "run_scripts" / "dpig" / "pose_transfer.py"),
                        f"--photo={dgp / 'model_1' / 'model_info' / 'model_img.png'}",
                        f"--target={dgp / 'model_2' / 'model_info' / 'model_img.png'}",
                        f"--pretrained_path={prefix}", f"--img_H={H}", f"--img_W={W}",
                        "--conv_hidden_num=8", "--z_num=8",
                        f"--output={tmp_path / 'o' / 'x.png'}"], capture_output=True,
                       text=True, env=warm_python.env())
    if "model files" in r.stderr:
        pytest.skip("BlazePose model files unavailable")
    assert r.returncode == 0, r.stderr[-3000:]
    strip = np.asarray(Image.open(tmp_path / "o" / "x_strip.png"))
    pose = strip[2:2 + H, 2 + (W + 2):2 + (W + 2) + W, 0]
    assert ndimage_label(pose > 0)[1] >= 6  # at least 6 joint disks drawn


MIRRORED = """
import sys
import numpy as np, tensorflow as tf
# without it, the conv filter gradients of the mirrored run are summed in a load-dependent
# order: 1 in 3 runs with the machine busy put the first kernel 3e-5..1e-4 off
tf.config.experimental.enable_op_determinism()
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tfposegen.models.dpig.pipeline import dpig_dataset
from tfposegen.models.dpig import models as M
from tfposegen.models.dpig import train as TR
out = {}
for number in (101, 103):
    for name, strategy in (("one", tf.distribute.get_strategy()),
                           ("two", tf.distribute.MirroredStrategy(
                               ["/cpu:0", "/cpu:1"],
                               cross_device_ops=tf.distribute.ReductionToOneDevice()))):
        with strategy.scope():
            tf.keras.utils.set_random_seed(0)
            spec = M.get_spec(number)
            nets = M.build_networks(spec, 128, 64, hidden=8, z_num=8, fc_hidden=32, critic_dim=8)
        trainer = TR.DPIGTrainer(spec, nets, 2, 1e-3, 1e-3, 1000, seed=0, strategy=strategy)
        # Adam (eps 1e-8) turns the rounding noise of a near-zero gradient into a +-lr step,
        # so two summation orders can differ by 2 lr in a few elements; eps 1e-3 keeps real
        # gradients' steps and silences the rounding noise
        for opt in (o for group in trainer.groups for o in group[3:]):
            if isinstance(opt, tf.keras.optimizers.Adam):
                opt.epsilon = 1e-3
        data = iter(trainer.model_inputs(dpig_dataset(sys.argv[1], "DF", 2, shuffle=False,
                                                    height=128, width=64)))
        tf.config.run_functions_eagerly(True)  # the replica math, not tracing, is under test
        losses = [trainer.train_step(data) for _ in range(2)]
        for gi, (mode, g, d, _, _) in enumerate(trainer.groups):
            for i, v in enumerate(g + d):
                out[f"{number}/{name}/{gi}/{i}"] = v.numpy()
        out[f"{number}/{name}/loss"] = np.array([losses[-1][k] for k in sorted(losses[-1])])
np.savez(sys.argv[2], **out)
"""


def test_two_replicas_make_the_update_of_one_device(records, tmp_path, warm_python):
    """MirroredStrategy on two logical CPUs against one device, global batch 2: model 101
    (DCGAN critic with batch statistics, synchronised across replicas) and 103 (WGAN with
    clipping, mapping-net noise drawn for the global batch) end with the same weights, every
    variable to 5e-6, and losses (measured: 7.5e-7 apart, bit-identical over 8 runs with up to
    4 copies at once on 2 cores; unsynchronised batch statistics put 140,000 of 425,000
    weights of 101 more than 1e-5 apart). Both run eagerly: the traced steps under several
    replicas run in the loopback-worker tests below."""
    proc = subprocess.run([warm_python.python, "-c", MIRRORED, records[0],
                           str(tmp_path / "o.npz")], capture_output=True, text=True,
                          env=warm_python.env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = np.load(tmp_path / "o.npz")
    for number in (101, 103):
        keys = [k for k in out if k.startswith(f"{number}/one/") and not k.endswith("loss")]
        assert len(keys) > 10
        for k in keys:
            np.testing.assert_allclose(out[k.replace("/one/", "/two/")], out[k], atol=5e-6,
                                       rtol=0, err_msg=k)
        np.testing.assert_allclose(out[f"{number}/two/loss"], out[f"{number}/one/loss"],
                                   rtol=1e-4, atol=1e-6)


def _free_ports(n):
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _main_flags(records, tmp_path, number, max_step=None, python=sys.executable):
    """main.py's command line (run by ``python``) for a deterministic tiny run of ``number``
    on the DF records, logging into ``tmp_path``."""
    data_dir, dataset = os.path.split(records[0])
    return [python, str(MAIN), f"--data_dir={data_dir}", f"--dataset={dataset}",
            f"--model={number}", "--img_H=128", "--img_W=64", "--batch_size=2",
            "--conv_hidden_num=8", "--z_num=8", "--critic_dim=8", "--fc_hidden=32",
            "--log_step=100", "--deterministic=true", f"--log_dir={tmp_path}"] + (
                [f"--max_step={max_step}"] if max_step else [])


def _start_cluster(base, model_dir, env):
    """Two main.py worker processes under MultiWorkerMirroredStrategy on 127.0.0.1."""
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for i in range(2):
        config = json.dumps({"cluster": {"worker": workers},
                             "task": {"type": "worker", "index": i}})
        env = dict(env, TF_CONFIG=config)
        procs.append(subprocess.Popen(base + ["--strategy=multiworker",
                                              f"--model_dir={model_dir}"],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True))
    return procs


def _wait_cluster(procs):
    """Wait for processes of :func:`_start_cluster` / :func:`_start`; their outputs."""
    try:
        logs = [p.communicate(timeout=240)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    return logs


def _start(argv, env):
    """One process, its output collected as :func:`_start_cluster`'s."""
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _assert_cluster_made_the_update(number, cluster_dir, one_dir):
    """The cluster's checkpoint after 2 steps equals the single process's: 103 to float
    rounding; 101 but for Adam's sign steps on near-zero gradients in a few elements."""
    one = _checkpoint_values(str(one_dir / "model.ckpt-1"))
    cluster = _checkpoint_values(str(cluster_dir / "model.ckpt-1"))
    assert one.keys() == cluster.keys()
    # 101: Adam turns the rounding noise of near-zero gradients (e.g. conv biases before
    # batch norm) into +-lr steps, so a few elements may differ by up to 2 lr per step
    # (on two logical devices: 0.03% of the weights; 21% without synchronised batch stats)
    lr, steps = 8e-5, 2
    off = total = 0
    for k in one:
        np.testing.assert_allclose(cluster[k], one[k], rtol=0, err_msg=k,
                                   atol=2 * lr * steps + 1e-5 if number == 101 else 1e-6)
        off += int(np.sum(np.abs(cluster[k] - one[k]) > 1e-5))
        total += one[k].size
    assert off <= 0.002 * total, f"{off} of {total} values differ by more than 1e-5"


def test_two_workers_on_loopback_make_the_update_of_one_process(records, tmp_path,
                                                                  warm_python):
    """main.py under MultiWorkerMirroredStrategy, two worker processes on 127.0.0.1 sharing
    the model dir (only the chief writes there) against one process, global batch 2, 2 steps,
    model 103 (model 101: in the next test, whose first leg is its single process). The
    processes are forks of :class:`WarmPython`'s server."""
    base = _main_flags(records, tmp_path, 103, max_step=2, python=warm_python.python)
    env = warm_python.env()
    procs = _start_cluster(base, tmp_path / "cluster", env)
    single = subprocess.run(base + [f"--model_dir={tmp_path / 'one'}"], capture_output=True,
                            text=True, env=env)
    _wait_cluster(procs)
    assert single.returncode == 0, single.stderr[-2000:]
    _assert_cluster_made_the_update(103, tmp_path / "cluster", tmp_path / "one")
    assert sorted(os.listdir(tmp_path)) == ["cluster", "one"]  # worker 1 wrote no folder


def test_resume_in_new_process_is_bit_identical_and_two_workers_make_its_update(
        records, tmp_path, warm_python):
    """main.py (model 101) to step 4 in one process equals main.py to step 2, then resumed
    to 4 in a second process: networks, both optimisers' slots and the step, bit for bit.
    The first leg (2 steps) is also the single process two loopback workers under
    MultiWorkerMirroredStrategy (sharing the model dir; only the chief writes there) must
    match, as model 103 in the test above (one set of processes for both checks). Every
    process is a new fork of :class:`WarmPython`'s server (TF imported, no runtime yet)."""
    base = _main_flags(records, tmp_path, 101, python=warm_python.python)
    env = warm_python.env()
    leg = lambda name, steps: _start(  # noqa: E731
        base + [f"--model_dir={tmp_path / name}", f"--max_step={steps}"], env)
    # the cluster and the whole run beside the split run's two legs, one after the other
    procs = _start_cluster(base + ["--max_step=2"], tmp_path / "cluster", env)
    procs.append(leg("whole", 4))
    try:
        assert "resumed" not in _wait_cluster([leg("split", 2)])[0]
        assert "resumed from" in _wait_cluster([leg("split", 4)])[0]
    finally:
        _wait_cluster(procs)
    whole = _checkpoint_values(str(tmp_path / "whole" / "model.ckpt-3"))
    split = _checkpoint_values(str(tmp_path / "split" / "model.ckpt-3"))
    first = _checkpoint_values(str(tmp_path / "split" / "model.ckpt-1"))
    assert whole.keys() == split.keys() and len(whole) > 100
    assert any("opt" in k for k in whole)
    for k in whole:
        np.testing.assert_array_equal(whole[k], split[k], err_msg=k)
    assert any(not np.array_equal(whole[k], first[k]) for k in whole)  # it did train on
    _assert_cluster_made_the_update(101, tmp_path / "cluster", tmp_path / "split")
    assert sorted(os.listdir(tmp_path)) == ["cluster", "split", "whole"]  # worker 1: none
