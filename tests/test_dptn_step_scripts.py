"""run_scripts/dptn_step/{train,test}.py (the run scripts of gkalstn000/DPTN_step's train.py and
test.py) on a synthetic dataroot: training resumes, test.py writes the original's step folders
and file names with the library's chain, style mixing switches the source at the given step,
and bad inputs give one clean error line.

The subprocesses run with ``--run_eagerly`` (no minute-long tracing of the tiny networks on
CPU); the graph path of the iteration is the library's (tests/test_dptn_step_train.py)."""

import os
import subprocess

import numpy as np
import warm_python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "run_scripts", "dptn_step")
STEPS = 2
SIZE = 32
TINY = ["--ngf=4", "--img_f=8", "--layers_g=2", "--num_blocks=1", "--num_CABs=1",
        "--num_TTBs=1", f"--step_size={STEPS}", "--dis_layers=2", "--run_eagerly"]


def _command(script, *args):
    return [warm_python.server().python, os.path.join(SCRIPTS, script), *args]


def _run(script, *args):
    env = warm_python.server().env(PYTHONPATH=ROOT)
    return subprocess.run(_command(script, *args), capture_output=True, text=True, env=env,
                          timeout=600)


def _start(script, *args):
    """A script started in the background (stdout / stderr collected by ``communicate``)."""
    env = warm_python.server().env(PYTHONPATH=ROOT)
    return subprocess.Popen(_command(script, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _expected(tmp_path):
    """The library's chains on the test split with ``2_net``'s generator, converted as the
    original's ToPILImage: plain (source A) and mixed (A at step 1, the pair's target
    after), per step uint8 [N, H, W, 3]."""
    import tensorflow as tf

    from tfposegen.data.pose_pairs import pose_pair_dataset
    from tfposegen.models.dptn import weights
    from tfposegen.models.dptn.step_networks import generate_steps
    from tfposegen.models.dptn.step_train import step_pose_maps
    from tfposegen.utils.files import to_uint8

    nets, meta = weights.load_networks(tmp_path / "ck" / "synth" / "2_net")
    G = nets["G"]
    records = f"{tmp_path / 'data'}_test_higher_records"
    batch = next(iter(pose_pair_dataset(records, (SIZE, SIZE), batch_size=8, shuffle=False)))
    n = int(batch["source_image"].shape[0])
    pose_s, pose_t = (step_pose_maps(batch[f"{r}_keypoints"], SIZE, SIZE)
                      for r in ("source", "target"))
    noise = tf.stack([tf.random.stateless_normal([SIZE, SIZE, 3], [0, i]) for i in range(n)])
    plain, _ = generate_steps(G, batch["source_image"], pose_s, pose_t, noise)
    mixed, _ = generate_steps(G, [batch["source_image"], batch["target_image"]],
                              [pose_s, pose_t], pose_t, noise)
    names = [(a.decode(), b.decode()) for a, b in zip(batch["source_name"].numpy(),
                                                      batch["target_name"].numpy())]
    return (meta, names, [to_uint8(np.asarray(x)) for x in plain],
            [to_uint8(np.asarray(x)) for x in mixed])


def test_train_resume_test_and_style_mixing(tmp_path):
    """train.py 2 iterations; then, side by side, the same command with one more epoch
    (resumes at step 2, ends at 3: epoch folders 1..3, latest_net of step 3) and test.py on
    ``2_net`` with ``--mix_source target --mix_from 2``: it writes <save_id>_1 .. _S with
    ``<from>_2_<to>_vis.png`` at the network size; step 1 equals the library's plain chain
    (source A), step 2 its mixed chain (the pair's target as source) and not the plain
    one."""
    import json

    from PIL import Image

    common = [f"--dataroot={tmp_path / 'data'}", "--synthetic", "--synthetic_people=1",
              "--id=synth", f"--checkpoints_dir={tmp_path / 'ck'}", *TINY]
    train = [*common, "--face_crop=off", "--batchSize=2", "--save_epoch_freq=1",
             "--niter_decay=0"]
    first = _run("train.py", *train, "--niter=2")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "trained to step 2 of 2" in first.stdout
    exp = tmp_path / "ck" / "synth"
    again = _start("train.py", *train, "--niter=3")
    test = _start("test.py", *common, f"--results_dir={tmp_path / 'res'}", "--save_id=mix",
                  "--which_epoch=2", "--mix_source=target", "--mix_from=2", "--batchSize=2",
                  "--simple_test", "--metrics=dptn_step",
                  f"--scores_json={tmp_path / 'scores.json'}")
    out, err = test.communicate(timeout=600)
    assert test.returncode == 0, err[-3000:]
    meta, pairs, plain, mixed = _expected(tmp_path)  # test.py wrote the test split's records
    assert sorted(os.listdir(tmp_path / "res")) == [f"mix_{k}" for k in range(1, STEPS + 1)]
    assert meta["step"] == 2
    names = [f"{a[:-4]}_2_{b[:-4]}_vis.png" for a, b in pairs]   # .jpg dropped, as the code
    for k in range(1, STEPS + 1):
        assert sorted(os.listdir(tmp_path / "res" / f"mix_{k}")) == sorted(names)
    for i, name in enumerate(names):
        got = [np.asarray(Image.open(tmp_path / "res" / f"mix_{k}" / name))
               for k in range(1, STEPS + 1)]
        assert got[0].shape == (SIZE, SIZE, 3) and got[0].dtype == np.uint8
        np.testing.assert_array_equal(got[0], plain[0][i])       # step 1: source A
        np.testing.assert_array_equal(got[0], mixed[0][i])
        np.testing.assert_array_equal(got[1], mixed[1][i])       # step 2: the target as B
        assert not np.array_equal(got[1], plain[1][i])

    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    assert "at step 2" in err and "trained to step 3 of 3" in out
    assert {"1_net", "2_net", "3_net", "latest_net", "checkpoints", "logs", "opt.txt"} <= set(
        os.listdir(exp))
    assert json.loads((exp / "latest_net" / "networks.json").read_text())["step"] == 3
    assert "--batchSize=2" in (exp / "opt.txt").read_text()


def test_bad_inputs_exit_2_naming_the_file(tmp_path):
    """A dataroot without the split's CSV, a missing checkpoint, --continue_train with
    nothing to continue: status 2, one line naming the path, no traceback (checked before
    TensorFlow is imported)."""
    bad = _run("train.py", f"--dataroot={tmp_path / 'nothing'}", "--id=x",
               f"--checkpoints_dir={tmp_path / 'ck'}")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert f"{tmp_path / 'nothing' / 'fashion-pairs-train.csv'}: no pairs CSV" in bad.stderr
    (tmp_path / "data" / "test_higher").mkdir(parents=True)
    for kind in ("pairs", "annotation"):
        (tmp_path / "data" / f"fashion-{kind}-test.csv").write_text("")
    missing = _run("test.py", f"--dataroot={tmp_path / 'data'}", "--id=x", "--which_epoch=7",
                   f"--checkpoints_dir={tmp_path / 'ck'}", f"--results_dir={tmp_path / 'res'}")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert str(tmp_path / "ck" / "x" / "7_net.pth") in missing.stderr
    assert not (tmp_path / "res").exists()
    cont = _run("train.py", f"--dataroot={tmp_path / 'data'}", "--phase=test", "--id=x",
                "--continue_train", f"--checkpoints_dir={tmp_path / 'ck'}")
    assert cont.returncode == 2 and "Traceback" not in cont.stderr
    assert "nothing to continue from" in cont.stderr and "latest_net.pth" in cont.stderr
