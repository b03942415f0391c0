"""SavedModel export: every DGP signature round-trips through a fresh process."""

import pathlib
import subprocess

import keras
import numpy as np
import pytest
from warm_python import server as warm

from tfposegen.models.dgp.dnnlib import save_dnnlib_pickle
from tfposegen.models.dgp.presets import build_dgp_networks
from tfposegen.utils.files import to_uint8

ROOT = pathlib.Path(__file__).resolve().parents[1]

RELOAD = """
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
out = {}
for n in (1, 4):
    u8, f = x["u8"][:n], x["f"][:n]
    for name, arg in (("dgp_encode", u8), ("dgp_encode_float", f), ("dgp_generate", u8),
                      ("dgp_generate_float", f), ("dgp_synthesize", x["w"][:n])):
        sig = m.signatures[name]
        key = "w_plus" if name == "dgp_synthesize" else "images"
        res = sig(**{key: tf.constant(arg)})
        for k, v in res.items():
            out[f"{name}/{n}/{k}"] = v.numpy()
bad = []
for name, arg in (("dgp_generate", x["f"][:1]), ("dgp_generate", x["u8"][:1, :8]),
                  ("dgp_synthesize", x["w"][:1, :2])):
    key = "w_plus" if name == "dgp_synthesize" else "images"
    try:
        m.signatures[name](**{key: tf.constant(arg)})
    except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
        bad.append(type(e).__name__)
out["bad"] = np.array(bad)
out["default"] = np.array(list(m.signatures["serving_default"].structured_outputs))
np.savez(sys.argv[3], **out)
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    keras.utils.set_random_seed(3)
    E, D, Gs = build_dgp_networks("tiny_32")
    pkl = tmp / "net.pkl"
    save_dnnlib_pickle(pkl, D, Gs, E=E)
    proc = subprocess.run([warm().python, str(ROOT / "run_scripts" / "export_savedmodel.py"),
                           f"--network={pkl}", f"--export_dir={tmp / 'dgp'}"],
                          capture_output=True, text=True, env=warm().env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    f = (u8.astype(np.float32) / 127.5 - 1).astype(np.float32)
    w = rng.standard_normal((4, Gs.num_ws, Gs.w_dim)).astype(np.float32)
    np.savez(tmp / "in.npz", u8=u8, f=f, w=w)
    return tmp, pkl, (E, Gs), (u8, f, w)


def test_every_signature_round_trips_in_a_fresh_process(exported, reloaded):
    tmp, _, (E, Gs), (u8, f, w) = exported
    assert (tmp / "dgp" / "1" / "saved_model.pb").is_file()
    out = np.load(reloaded["DGP"])
    for n in (1, 4):
        w_plus = E(f[:n]).numpy()
        images = Gs.synthesis(w_plus, noise_mode="const").numpy()
        synth = Gs.synthesis(w[:n], noise_mode="const").numpy()
        for name in ("dgp_encode", "dgp_encode_float", "dgp_generate", "dgp_generate_float"):
            np.testing.assert_allclose(out[f"{name}/{n}/w_plus"], w_plus, rtol=1e-4, atol=1e-4)
        for name in ("dgp_generate", "dgp_generate_float"):
            np.testing.assert_allclose(out[f"{name}/{n}/images_float"], images, atol=1e-4)
            assert np.mean(out[f"{name}/{n}/images"] != to_uint8(images)) < 0.01
        np.testing.assert_allclose(out[f"dgp_synthesize/{n}/images_float"], synth, atol=1e-4)
        assert out[f"dgp_synthesize/{n}/images"].dtype == np.uint8
    assert len(out["bad"]) == 3  # wrong dtype, wrong image size, wrong W+ rows: rejected
    assert set(out["default"]) == {"images", "images_float", "w_plus"}


def test_export_refuses_to_overwrite_a_version(exported):
    tmp, pkl, _, _ = exported
    proc = subprocess.run([warm().python, str(ROOT / "run_scripts" / "export_savedmodel.py"),
                           f"--network={pkl}", f"--export_dir={tmp / 'dgp'}"],
                          capture_output=True, text=True, env=warm().env())
    assert proc.returncode == 2 and "this version exists" in proc.stderr
    assert sorted(p.name for p in (tmp / "dgp").iterdir()) == ["1"]  # no temporary left


DPIG_RELOAD = """
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
out = {"names": np.array(sorted(m.signatures))}
for n in (1, 4):
    kp, kt = tf.constant(x["kp"][:n]), tf.constant(x["kt"][:n])
    for name, im in (("dpig_pose_transfer", x["u8"][:n]), ("dpig_pose_transfer_float", x["f"][:n])):
        res = m.signatures[name](images=tf.constant(im), keypoints=kp, target_keypoints=kt)
        out.update({f"{name}/{n}/{k}": v.numpy() for k, v in res.items()})
    if "dpig_sample" in m.signatures:
        seeds = tf.constant(x["seeds"][:n])
        out.update({f"dpig_sample/{n}/{k}": v.numpy()
                    for k, v in m.signatures["dpig_sample"](seeds=seeds).items()})
        res = m.signatures["dpig_sample_in_pose"](seeds=seeds, keypoints=kt)
        out.update({f"dpig_sample_in_pose/{n}/{k}": v.numpy() for k, v in res.items()})
bad = []
for im, kp in ((x["f"][:1], x["kp"][:1]), (x["u8"][:1, :8], x["kp"][:1]),
               (x["u8"][:1], x["kp"][:1, :17])):
    try:
        m.signatures["dpig_pose_transfer"](images=tf.constant(im), keypoints=tf.constant(kp),
                                           target_keypoints=tf.constant(x["kt"][:1]))
        bad.append("accepted")
    except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
        bad.append(type(e).__name__)
out["bad"] = np.array(bad)
np.savez(sys.argv[3], **out)
"""


def _rcv_to_keypoints(rcv):
    rcv = np.asarray(rcv)
    return np.where(rcv[..., 2:] > 0, rcv[..., :2], -1).astype(np.float32)


def _dpig_export(tmp_path, dataset):
    """DPIG test networks (random, tiny) of a dataset checkpointed and exported by the
    script in the background: (the export process, the records' first batch of 4, spec,
    networks, the reload inputs file)."""
    import tensorflow as tf

    from tfposegen.data import synthetic_persons as S
    from tfposegen.models.dpig import convert as C
    from tfposegen.models.dpig import models as M
    from tfposegen.models.dpig.pipeline import dpig_dataset
    from tfposegen.train.common import model_variables

    h, w = 128, 64
    if dataset == "DF":
        S.write_rcv_layout(str(tmp_path / "raw"), identities=2, poses=3, seed=5, size=(h, w))
        C.write_plan(C.plan_rcv(str(tmp_path / "raw"), "train"), verbose=False)
        records, number = tmp_path / "raw" / "train", 1002
    else:
        S.write_market_layout(str(tmp_path / "raw"), identities=2, poses=3, seed=6)
        C.write_plan(C.plan_market(str(tmp_path / "raw"), "train"), verbose=False)
        records, number = tmp_path / "raw" / "Market_train_data", 13
    batch = next(iter(dpig_dataset(str(records), dataset, 4, shuffle=False, height=h, width=w)))
    keras.utils.set_random_seed(4)
    spec = M.get_spec(number)
    nets = M.build_networks(spec, h, w, hidden=8, z_num=8, fc_hidden=32)
    prefix = tf.train.Checkpoint(**{M.GROUPS[k]: model_variables(m) for k, m in nets.items()
                                    if k != "critic"}).save(str(tmp_path / "ckpt" / "all"))
    flags = [f"--{f}={prefix}" for f in spec.restores]
    proc = subprocess.Popen([warm().python, str(ROOT / "run_scripts" / "export_savedmodel.py"),
                             f"--dpig_dataset={dataset}", f"--img_H={h}", f"--img_W={w}",
                             "--conv_hidden_num=8", "--z_num=8", "--fc_hidden=32",
                             f"--export_dir={tmp_path / 'dpig'}", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=warm().env())
    f = batch["x"].numpy()
    u8 = np.round((f + 1) * 127.5).astype(np.uint8)
    f = u8.astype(np.float32) / 127.5 - 1  # the same image through both signatures
    np.savez(tmp_path / "in.npz", u8=u8, f=f, kp=_rcv_to_keypoints(batch["pose_rcv"]),
             kt=_rcv_to_keypoints(batch["pose_rcv_target"]), seeds=np.array([7, 8, 9, 10]))
    return proc, dict(batch=batch, spec=spec, nets=nets, f=f, tmp=tmp_path)


@pytest.fixture(scope="module")
def dpig_exported(tmp_path_factory):
    """DF and Market DPIG exports (``_dpig_export``), the export processes checked."""
    runs = {d: _dpig_export(tmp_path_factory.mktemp(f"dpig_{d}"), d) for d in ("DF", "Market")}
    for proc, _ in runs.values():
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    return {d: run for d, (_, run) in runs.items()}


# every reload script above, one after another in one fresh process (one TF start-up)
RELOAD_ALL = """
import json, sys
for code, args in json.loads(sys.argv[1]):
    sys.argv = ["-c", *args]
    exec(compile(code, "<reload>", "exec"), {"__name__": "__main__"})
assert "tfposegen" not in sys.modules, "the SavedModels needed the library"
"""


@pytest.fixture(scope="module")
def reloaded(exported, dpig_exported):
    """The DGP and both DPIG SavedModels loaded and called in one fresh process, a plain
    Python without tfposegen (as TF Serving has none): {"DGP" / "DF" / "Market": its
    outputs file}."""
    import json
    import os
    import sys

    dgp_tmp = exported[0]
    jobs = {"DGP": (RELOAD, [str(dgp_tmp / "dgp" / "1"), str(dgp_tmp / "in.npz"),
                             str(dgp_tmp / "out.npz")])}
    for d, run in dpig_exported.items():
        tmp = run["tmp"]
        jobs[d] = (DPIG_RELOAD, [str(tmp / "dpig" / "1"), str(tmp / "in.npz"),
                                 str(tmp / "out.npz")])
    proc = subprocess.run([sys.executable, "-c", RELOAD_ALL, json.dumps(list(jobs.values()))],
                          capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {k: args[2] for k, (_, args) in jobs.items()}


@pytest.mark.parametrize("dataset", ["DF", "Market"])
def test_dpig_signatures_round_trip_in_a_fresh_process(dpig_exported, reloaded, dataset):
    """Pose transfer from keypoints alone equals the Keras models fed the records' own part
    boxes, visibility, masks and pose maps (built by the converters and tf.data pipeline);
    sampling is the same per seed whatever the batch; bad inputs are rejected."""
    import tensorflow as tf

    from tfposegen.models.dpig import models as M

    run = dpig_exported[dataset]
    batch, spec, nets, f = run["batch"], run["spec"], run["nets"], run["f"]
    h, w = 128, 64
    out = np.load(reloaded[dataset])
    assert set(out["names"]) >= {"dpig_pose_transfer", "dpig_pose_transfer_float",
                                 "dpig_sample", "dpig_sample_in_pose"}
    fed = dict(batch, x=tf.constant(f))
    want = nets["generator"](M.appearance(nets, spec.dataset, fed), batch["pose_target"])
    for n in (1, 4):
        for name in ("dpig_pose_transfer", "dpig_pose_transfer_float"):
            np.testing.assert_allclose(out[f"{name}/{n}/images_float"], want[:n], atol=1e-4)
            assert out[f"{name}/{n}/images"].dtype == np.uint8
        kp = out[f"dpig_sample/{n}/keypoints"]
        assert kp.shape == (n, 18, 2) and np.all(kp < [h, w])
    np.testing.assert_allclose(out["dpig_sample/1/images_float"],
                               out["dpig_sample/4/images_float"][:1], atol=1e-5)
    assert not np.allclose(out["dpig_sample/4/images_float"][0],
                           out["dpig_sample/4/images_float"][1], atol=1e-3)
    assert "accepted" not in out["bad"], out["bad"]  # float to uint8, wrong size, 17 joints
