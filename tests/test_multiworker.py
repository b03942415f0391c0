"""Multi-worker training on one machine: two worker processes on 127.0.0.1, each with its own
``TF_CONFIG``, run ``train_stylegan2.py`` / ``train_encoder.py --strategy multiworker``
(``MultiWorkerMirroredStrategy``, CPU collectives over gRPC loopback), and their weights and
losses equal those of one process (``--strategy default``) with the same global batch.

The records come in two files, so a FILE-sharded pipeline (each worker reading other files)
would not give the single run's batches. D has no minibatch-stddev groups
(``--mbstd_group_size 1``): with groups, a replica's D sees its own share of the batch only.
Also checked: only the chief writes into ``--outdir`` (worker 1 saves its checkpoints into a
temporary folder and deletes it), a cluster resumed from the chief's checkpoint continues as
the uninterrupted single process, and workers that restore different steps stop with an
error. Every group of processes is killed at a timeout (the test fails with their output).
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
STYLEGAN2 = ROOT / "run_scripts" / "stylegan2" / "train_stylegan2.py"
ENCODER = ROOT / "run_scripts" / "dgp" / "train_encoder.py"
TIMEOUT = 240  # seconds for one group of processes (about 20 s each when idle)
# the workers keep the default --jit_compile (which they must ignore: XLA has no CPU
# collectives); the single process runs the same (non-XLA) code
SINGLE = ["--nojit_compile"]

GAN_FLAGS = ["--resolution=8", "--fmap_base=32", "--fmap_max=8", "--latent=8",
             "--mapping_layers=1", "--mbstd_group_size=1", "--batch_size=4",
             "--snapshot_kimg=0.004"]
ENCODER_FLAGS = ["--encoder_filters=8", "--encoder_filters_max=16", "--batch_size=4",
                 "--snapshot_kimg=0.008"]


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _env(tf_config=None, tmpdir=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return env


def _run_all(jobs, timeout=TIMEOUT):
    """Start every ``(name, argv, env, log_path)`` at once; wait for all (killing all at the
    timeout, or as soon as one fails: its peers would wait for it); return
    ``{name: (returncode, output)}``."""
    procs = {}
    for name, argv, env, log_path in jobs:
        log = open(log_path, "w+")  # noqa: SIM115 (closed below)
        procs[name] = (subprocess.Popen([sys.executable, *map(str, argv)], env=env, cwd=ROOT,
                                        stdout=log, stderr=subprocess.STDOUT), log)
    deadline = time.time() + timeout
    failed = timed_out = False
    while any(p.poll() is None for p, _ in procs.values()):
        failed = any(p.poll() not in (None, 0) for p, _ in procs.values())
        timed_out = time.time() > deadline
        if failed or timed_out:
            break
        time.sleep(0.2)
    out = {}
    for name, (p, log) in procs.items():
        if p.poll() is None:
            p.kill()
            p.wait()
        log.seek(0)
        out[name] = (p.returncode, log.read())
        log.close()
    if timed_out or any(rc != 0 for rc, _ in out.values()):
        why = f"timed out after {timeout} s" if timed_out else "failed"
        pytest.fail(f"{why}:\n" + "\n".join(f"--- {n} (rc {rc}):\n{text[-2500:]}"
                                            for n, (rc, text) in out.items()))
    return out


def _cluster_jobs(script, flags, outdir, tmp, single_outdir=None, worker1_outdir=None,
                  single_flags=()):
    """Jobs of a two-worker cluster (and of the single process, if ``single_outdir``)."""
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    jobs = []
    for i, out in enumerate((outdir, worker1_outdir or outdir)):
        tmpdir = tmp / f"tmp_worker{i}"
        tmpdir.mkdir(exist_ok=True)
        env = _env({"cluster": cluster, "task": {"type": "worker", "index": i}}, tmpdir)
        jobs.append((f"worker{i}", [script, *flags, f"--outdir={out}", "--strategy=multiworker"],
                     env, tmp / f"worker{i}.log"))
    if single_outdir is not None:
        jobs.append(("single", [script, *flags, *single_flags, f"--outdir={single_outdir}"],
                     _env(), tmp / "single.log"))
    return jobs


def _checkpoint(outdir):
    """``{key: array}`` of the newest checkpoint of a run (the data iterator left out)."""
    import tensorflow as tf

    path = tf.train.latest_checkpoint(str(outdir / "checkpoints"))
    assert path, f"no checkpoint in {outdir}"
    reader = tf.train.load_checkpoint(path)
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if not k.startswith(("data/", "_CHECKPOINTABLE_OBJECT_GRAPH"))}


def _losses(outdir):
    """``{(tag, step): value}`` of the ``loss/*`` TensorBoard scalars of a run."""
    import tensorflow as tf

    out = {}
    for f in sorted((outdir / "logs").glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(f)):
            for v in event.summary.value:
                if v.tag.startswith("loss/"):
                    out[v.tag, event.step] = float(tf.make_ndarray(v.tensor))
    return out


def _assert_same_run(cluster_dir, single_dir, noisy=0.0, noisy_atol=0.0):
    """Same losses at every step (to 1e-4) and weights (to 1e-5) in the newest checkpoints
    of two runs, but for a fraction ``noisy`` of the elements, allowed ``noisy_atol``."""
    a, b = _losses(cluster_dir), _losses(single_dir)
    assert a and a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-4, abs=1e-6), k
    ca, cb = _checkpoint(cluster_dir), _checkpoint(single_dir)
    assert ca.keys() == cb.keys()
    off = total = 0
    for k in ca:
        np.testing.assert_allclose(ca[k], cb[k], rtol=0, atol=max(1e-5, noisy_atol), err_msg=k)
        off += int(np.sum(np.abs(ca[k] - cb[k]) > 1e-5))
        total += ca[k].size
    assert off <= noisy * total, f"{off} of {total} weights differ by more than 1e-5"
    return ca


def _assert_only_chief_wrote(outdir, tmp, runs):
    names = {p.name for p in outdir.iterdir()}
    assert {"checkpoints", "logs"} <= names
    assert not [n for n in names if n.startswith(".")], names  # no worker sub-folders
    assert len(list((outdir / "logs").glob("events.out.tfevents.*"))) == runs  # chief's only
    assert not list((tmp / "tmp_worker1").iterdir())  # worker 1's checkpoints were deleted


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from tfposegen.data.image_records import write_image_records

    folder = tmp_path_factory.mktemp("records")
    rng = np.random.default_rng(0)
    write_image_records([rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(16)],
                        folder, "x", 8, num_shards=2)
    return folder


@pytest.fixture(scope="module")
def gan_runs(records, tmp_path_factory):
    """StyleGAN2 training: a two-worker cluster makes one step, and resumed, a second; one
    process makes both at once."""
    tmp = tmp_path_factory.mktemp("gan")
    flags = [f"--data={records}", *GAN_FLAGS]
    first = _run_all(_cluster_jobs(STYLEGAN2, [*flags, "--total_kimg=0.004"], tmp / "cluster",
                                   tmp, single_outdir=tmp / "single",
                                   single_flags=[*SINGLE, "--total_kimg=0.008"]))
    second = _run_all(_cluster_jobs(STYLEGAN2, [*flags, "--total_kimg=0.008"], tmp / "cluster",
                                    tmp))
    return tmp, flags, first, second


def test_stylegan2_two_workers_make_the_update_of_one_process(gan_runs):
    """Same losses (step 1 from the first cluster run, step 2 from the resumed one) and
    weights: the workers restored weights, optimisers, step and data position from the
    chief's folder."""
    tmp, _, first, second = gan_runs
    assert "train 1/1" in first["worker1"][1] and "train 2/2" in first["single"][1]
    assert "training without XLA" in first["worker0"][1]
    assert "resumed from" in second["worker1"][1] and "train 2/2" in second["worker1"][1]
    ckpt = _assert_same_run(tmp / "cluster", tmp / "single")
    assert int(ckpt["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 2
    assert (tmp / "cluster" / "network-snapshot-000000.pkl").is_file()
    assert (tmp / "cluster" / "fakes000000.png").is_file()
    _assert_only_chief_wrote(tmp / "cluster", tmp, runs=2)


def test_workers_that_restore_different_steps_stop(gan_runs, tmp_path):
    """Worker 1 pointed at an empty folder would start at step 0 while the chief resumes at
    2: both stop before training instead of running out of step."""
    tmp, flags, _, _ = gan_runs
    jobs = _cluster_jobs(STYLEGAN2, [*flags, "--total_kimg=0.012"], tmp / "cluster", tmp_path,
                         worker1_outdir=tmp_path / "elsewhere")
    with pytest.raises(pytest.fail.Exception, match="the workers disagree on the step"):
        _run_all(jobs)


def test_encoder_two_workers_make_the_update_of_one_process(gan_runs, records):
    """The encoder (batch norm synchronised over the workers) on the single run's GAN."""
    tmp, _, _, _ = gan_runs
    enc = tmp / "encoder"
    enc.mkdir()
    flags = [f"--data={records}", f"--network={tmp / 'single' / 'network-snapshot-000000.pkl'}",
             *ENCODER_FLAGS, "--total_kimg=0.008"]
    out = _run_all(_cluster_jobs(ENCODER, flags, enc / "cluster", enc, enc / "single", SINGLE))
    assert "train_encoder 2/2" in out["worker1"][1]
    # Adam's first steps are +-lr whatever the gradient's size, so parameters whose gradient
    # is zero but for round-off (a bias feeding a batch norm) move by +-lr with signs that
    # differ between the runs (with the batch-norm means they feed): a few, by < steps * lr
    steps, lr = 2, 1e-4
    ckpt = _assert_same_run(enc / "cluster", enc / "single", noisy=0.01, noisy_atol=steps * lr)
    assert int(ckpt["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 2
    assert (enc / "cluster" / "encoder-stylegan2-000000.pkl").is_file()
    assert (enc / "cluster" / "recon000000.png").is_file()
    _assert_only_chief_wrote(enc / "cluster", enc, runs=1)
