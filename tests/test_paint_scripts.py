"""run_scripts/paint/train.py and test.py (gxl-groups/PAINT's per-stage ``train.py`` /
``test.py`` of LGN/, TSN/, AFN/) on a tiny synthetic Fashion-Gen layout."""

import concurrent.futures
import json
import math
import os
import shutil
import subprocess

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_train_resume_and_test_every_stage(tmp_path, warm_python):
    """Each stage trains one iteration, traced (the tests' only traced PAINT steps; tiny
    networks, 64 x 64, two garments per split), LGN resumes for a second one (eagerly),
    each test writes the original's files and finite scores (TSN also from the original's
    ``gen_<N>.pth``); a missing dataroot exits 2 naming it. The three stages' chains run
    side by side."""
    # one TF thread per process: the runs go side by side on the machine's cores
    env, python = warm_python.env(PYTHONPATH=ROOT, TF_NUM_INTRAOP_THREADS="1",
                                  TF_NUM_INTEROP_THREADS="1"), warm_python.python
    data, models, ck = tmp_path / "data", tmp_path / "models", tmp_path / "ck"
    common = [f"--dataroot={data}", "--preset=tiny", f"--save_dir={models}",
              f"--checkpoints_dir={ck}"]

    def run(script, stage, *extra):
        proc = subprocess.run([python, os.path.join(ROOT, "run_scripts", "paint", script),
                               f"--stage={stage}", *common, *extra], capture_output=True,
                              text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout, proc.stderr

    train = ["--synthetic"]
    # the README's LGN command line (--model stage1_gan runs bicycle_gan)
    lgn = ["--name=LGN", "--model=stage1_gan", "--direction=AtoB", "--batch_size=2",
           "--niter_decay=0"]

    def lgn_chain():      # LGN trains, resumes (two epochs of one step), tests
        first = run("train.py", "lgn", *train, *lgn, "--niter=1")
        again = run("train.py", "lgn", *train, *lgn, "--niter=2", "--run_eagerly")
        return first, again, run("test.py", "lgn", "--name=LGN", "--epoch=2",
                                 f"--results_dir={tmp_path}", "--phase=lgn", "--n_samples=1")

    def tsn_chain():   # then the original's gen_<N>.pth (tiny, tests/data) and latest.ckpt
        out = (run("train.py", "tsn", *train, "--iterations=0", "--save_freq=1", "-n",
                   "pennet", "--batch_size=1"), run("test.py", "tsn", "-l", "3"))
        pth.mkdir(parents=True)
        shutil.copy(os.path.join(ROOT, "tests", "data", "paint", "tsn_tiny_gen.pth"),
                    pth / "gen_00033.pth")
        (pth / "latest.ckpt").write_text("00033\n")
        return out + (run("test.py", "tsn", f"--save_dir={pth.parent}"),)

    def afn_chain():
        return (run("train.py", "afn", *train, "--iterations=0", "--save_freq=1", "-m",
                    "pconv", "--batch_size=1"), run("test.py", "afn", "--model_name=pennet"))

    def bad_input():
        return subprocess.run([python, os.path.join(ROOT, "run_scripts", "paint", "train.py"),
                               "--stage=tsn", f"--dataroot={missing}", "--preset=tiny"],
                              capture_output=True, text=True, env=env, timeout=300)

    missing, pth = tmp_path / "nowhere", tmp_path / "pth" / "pennet_pen5_pconv256"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:   # the chains side by side
        jobs = [pool.submit(f) for f in (lgn_chain, tsn_chain, afn_chain, bad_input)]
        (first, again, _), (tsn_train, _, _), (afn_train, _), bad = [j.result() for j in jobs]
    assert "trained to step 1 of 1" in first[0]
    assert "at step 1" in again[1] and "trained to step 2 of 2" in again[0]
    assert all("trained to step 1 of 1" in out[0] for out in (tsn_train, afn_train))
    assert bad.returncode == 2 and str(missing) in bad.stderr.splitlines()[-1], bad.stderr
    assert {"1_net", "2_net", "latest_net", "checkpoints", "logs", "opt.txt"} <= set(
        os.listdir(ck / "LGN"))
    tsn_dir, afn_dir = models / "pennet_pen5_pconv256", models / "pennet_pen55_pconv256"
    assert {"net_00001", "latest.ckpt", "checkpoints", "logs", "opt.txt"} <= set(
        os.listdir(tsn_dir))
    assert (tsn_dir / "latest.ckpt").read_text() == "00001\n"
    assert {"G.weights.h5", "D2.weights.h5"} <= set(os.listdir(afn_dir / "net_00001"))
    names = {"lgn": (["RB", "FB", "ground truth", "encoded", "1"], (64, 64)),
             "tsn": ([".png", "_orig.png", "_mask.png"], (64, 64)),
             "afn": ([f"_{k}.png" for k in ("pred1", "pred2", "orig", "pose1", "pose2")],
                     (64, 64))}
    lgn_res = tmp_path / "lgn"
    for sub in names["lgn"][0]:
        assert sorted(os.listdir(lgn_res / sub)) == ["0.png", "1.png"], sub
        assert Image.open(lgn_res / sub / "0.png").size == (64, 64)
    assert Image.open(lgn_res / "RB" / "0.png").mode == "L"
    scores = {"lgn": json.loads((lgn_res / "scores.json").read_text())}
    for stage, folder in (("tsn", tsn_dir / "results_00001_level_03"),
                          ("afn", afn_dir / "results_00001_level_None"),
                          ("tsn", pth / "results_00033_level_None")):
        scores[stage] = json.loads((folder / "scores.json").read_text())
        written = sorted(os.path.relpath(os.path.join(d, f), folder)
                         for d, _, fs in os.walk(folder) for f in fs if f != "scores.json")
        stems = sorted({n.split("_")[0] + "_" + n.split("_")[1] for n in written})
        assert len(stems) == 2 and len(written) == 2 * len(names[stage][0]), written
        for stem in stems:
            for suffix in names[stage][0]:
                path = folder / f"{stem}_1{suffix}"   # <a>_<N>/<id>_1<suffix>
                assert Image.open(path).size == names[stage][1], path
    for key in ("miou", "pixel_accuracy", "mean_pixel_accuracy", "miou_sum_over_1999"):
        assert math.isfinite(scores["lgn"][key]) and 0 <= scores["lgn"][key] <= 1, key
    for stage in ("tsn", "afn"):
        assert all(math.isfinite(scores[stage][k]) for k in ("mae", "psnr", "ssim")), stage
    assert scores["afn"]["images"] == 4 and scores["lgn"]["images"] == 2

