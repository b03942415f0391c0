"""Two training processes on 127.0.0.1 as a ``MultiWorkerMirroredStrategy`` cluster (each
with its own ``TF_CONFIG``; CPU collectives over gRPC loopback), started beside the single
process they must match, and the checks that compare their runs (TensorBoard losses and the
newest checkpoints)."""

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
TIMEOUT = 240  # seconds for one group of processes (about 20 s each when idle)


def free_ports(n):
    """``n`` free TCP ports on 127.0.0.1."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def worker_env(tf_config=None, tmpdir=None):
    """The environment of a script process: this checkout on PYTHONPATH, no GPU, quiet TF,
    ``TF_CONFIG`` and ``TMPDIR`` when given."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return env


def run_all(jobs, timeout=TIMEOUT, warm=None):
    """Start every ``(name, argv, env, log_path)`` at once (as forks of ``warm``, the
    ``warm_python`` fixture, if given); wait for all (killing all at the timeout, or as soon
    as one fails: its peers would wait for it); return ``{name: (returncode, output)}``."""
    procs = {}
    for name, argv, env, log_path in jobs:
        log = open(log_path, "w+")  # noqa: SIM115 (closed below)
        python = warm.python if warm else sys.executable
        env = dict(env, TFPOSEGEN_FORK_SERVER=warm.socket) if warm else env
        procs[name] = (subprocess.Popen([python, *map(str, argv)], env=env, cwd=ROOT,
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


def cluster_jobs(script, flags, outdir, tmp, single_outdir=None, worker1_outdir=None,
                 single_flags=(), out_flags=lambda out: [f"--outdir={out}"]):
    """Jobs of a two-worker cluster (and of the single process, if ``single_outdir``) for
    ``run_all``; ``out_flags(folder)``: the script's flags naming its output folder."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    jobs = []
    for i, out in enumerate((outdir, worker1_outdir or outdir)):
        tmpdir = tmp / f"tmp_worker{i}"
        tmpdir.mkdir(exist_ok=True)
        env = worker_env({"cluster": cluster, "task": {"type": "worker", "index": i}}, tmpdir)
        jobs.append((f"worker{i}", [script, *flags, *out_flags(out), "--strategy=multiworker"],
                     env, tmp / f"worker{i}.log"))
    if single_outdir is not None:
        jobs.append(("single", [script, *flags, *single_flags, *out_flags(single_outdir)],
                     worker_env(), tmp / "single.log"))
    return jobs


def checkpoint_values(outdir):
    """``{key: array}`` of the newest checkpoint of a run (the data iterator left out)."""
    import tensorflow as tf

    path = tf.train.latest_checkpoint(str(outdir / "checkpoints"))
    assert path, f"no checkpoint in {outdir}"
    reader = tf.train.load_checkpoint(path)
    return {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
            if not k.startswith(("data/", "_CHECKPOINTABLE_OBJECT_GRAPH"))}


def loss_scalars(outdir):
    """``{(tag, step): value}`` of the ``loss/*`` TensorBoard scalars of a run."""
    import tensorflow as tf

    out = {}
    for f in sorted((outdir / "logs").glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(f)):
            for v in event.summary.value:
                if v.tag.startswith("loss/"):
                    out[v.tag, event.step] = float(tf.make_ndarray(v.tensor))
    return out


def assert_same_run(cluster_dir, single_dir, noisy=0.0, noisy_atol=0.0):
    """Same losses at every step (to 1e-4) and weights (to 1e-5) in the newest checkpoints
    of two runs, but for a fraction ``noisy`` of the elements, allowed ``noisy_atol``."""
    a, b = loss_scalars(cluster_dir), loss_scalars(single_dir)
    assert a and a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-4, abs=1e-6), k
    ca, cb = checkpoint_values(cluster_dir), checkpoint_values(single_dir)
    assert ca.keys() == cb.keys()
    off = total = 0
    for k in ca:
        np.testing.assert_allclose(ca[k], cb[k], rtol=0, atol=max(1e-5, noisy_atol), err_msg=k)
        off += int(np.sum(np.abs(ca[k] - cb[k]) > 1e-5))
        total += ca[k].size
    assert off <= noisy * total, f"{off} of {total} weights differ by more than 1e-5"
    return ca


def assert_only_chief_wrote(outdir, tmp, runs):
    """Only the chief wrote into ``outdir`` (``runs`` event files: one per run) and worker
    1's temporary checkpoints were deleted."""
    names = {p.name for p in outdir.iterdir()}
    assert {"checkpoints", "logs"} <= names
    assert not [n for n in names if n.startswith(".")], names  # no worker sub-folders
    assert len(list((outdir / "logs").glob("events.out.tfevents.*"))) == runs  # chief's only
    assert not list((tmp / "tmp_worker1").iterdir())  # worker 1's checkpoints were deleted
