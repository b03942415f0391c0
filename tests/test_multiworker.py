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
DPTN's and DPTN_step's scripts have the same check in test_dptn_train.py and
test_dptn_step_train.py.
"""

import numpy as np
import pytest
from loopback import (
    ROOT,
    assert_only_chief_wrote,
    assert_same_run,
    cluster_jobs,
    run_all,
)

STYLEGAN2 = ROOT / "run_scripts" / "stylegan2" / "train_stylegan2.py"
ENCODER = ROOT / "run_scripts" / "dgp" / "train_encoder.py"
# the workers keep the default --jit_compile (which they must ignore: XLA has no CPU
# collectives); the single process runs the same ops eagerly (no tracing)
SINGLE = ["--run_eagerly"]

GAN_FLAGS = ["--resolution=8", "--fmap_base=32", "--fmap_max=8", "--latent=8",
             "--mapping_layers=1", "--mbstd_group_size=1", "--batch_size=4",
             "--snapshot_kimg=0.004"]
ENCODER_FLAGS = ["--encoder_filters=8", "--encoder_filters_max=16", "--batch_size=4",
                 "--snapshot_kimg=0.008"]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from tfposegen.data.image_records import write_image_records

    folder = tmp_path_factory.mktemp("records")
    rng = np.random.default_rng(0)
    write_image_records([rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(16)],
                        folder, "x", 8, num_shards=2)
    return folder


@pytest.fixture(scope="module")
def gan_runs(records, tmp_path_factory, warm_python):
    """StyleGAN2 training: a two-worker cluster makes one step, and resumed, a second; one
    process makes both at once."""
    tmp = tmp_path_factory.mktemp("gan")
    flags = [f"--data={records}", *GAN_FLAGS]
    first = run_all(cluster_jobs(STYLEGAN2, [*flags, "--total_kimg=0.004"], tmp / "cluster",
                                   tmp, single_outdir=tmp / "single",
                                   single_flags=[*SINGLE, "--total_kimg=0.008"]),
                    warm=warm_python)
    second = run_all(cluster_jobs(STYLEGAN2, [*flags, "--total_kimg=0.008"], tmp / "cluster",
                                    tmp), warm=warm_python)
    return tmp, flags, first, second


def test_stylegan2_two_workers_make_the_update_of_one_process(gan_runs):
    """Same losses (step 1 from the first cluster run, step 2 from the resumed one) and
    weights: the workers restored weights, optimisers, step and data position from the
    chief's folder."""
    tmp, _, first, second = gan_runs
    assert "train 1/1" in first["worker1"][1] and "train 2/2" in first["single"][1]
    assert "training without XLA" in first["worker0"][1]
    assert "resumed from" in second["worker1"][1] and "train 2/2" in second["worker1"][1]
    ckpt = assert_same_run(tmp / "cluster", tmp / "single")
    assert int(ckpt["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 2
    assert (tmp / "cluster" / "network-snapshot-000000.pkl").is_file()
    assert (tmp / "cluster" / "fakes000000.png").is_file()
    assert_only_chief_wrote(tmp / "cluster", tmp, runs=2)


def test_workers_that_restore_different_steps_stop(gan_runs, tmp_path, warm_python):
    """Worker 1 pointed at an empty folder would start at step 0 while the chief resumes at
    2: both stop before training instead of running out of step."""
    tmp, flags, _, _ = gan_runs
    jobs = cluster_jobs(STYLEGAN2, [*flags, "--total_kimg=0.012"], tmp / "cluster", tmp_path,
                         worker1_outdir=tmp_path / "elsewhere")
    with pytest.raises(pytest.fail.Exception, match="the workers disagree on the step"):
        run_all(jobs, warm=warm_python)


def test_encoder_two_workers_make_the_update_of_one_process(gan_runs, records, warm_python):
    """The encoder (batch norm synchronised over the workers) on the single run's GAN."""
    tmp, _, _, _ = gan_runs
    enc = tmp / "encoder"
    enc.mkdir()
    flags = [f"--data={records}", f"--network={tmp / 'single' / 'network-snapshot-000000.pkl'}",
             *ENCODER_FLAGS, "--total_kimg=0.008"]
    out = run_all(cluster_jobs(ENCODER, flags, enc / "cluster", enc, enc / "single", SINGLE),
                  warm=warm_python)
    assert "train_encoder 2/2" in out["worker1"][1]
    # Adam's first steps are +-lr whatever the gradient's size, so parameters whose gradient
    # is zero but for round-off (a bias feeding a batch norm) move by +-lr with signs that
    # differ between the runs (with the batch-norm means they feed): a few, by < steps * lr
    steps, lr = 2, 1e-4
    ckpt = assert_same_run(enc / "cluster", enc / "single", noisy=0.01, noisy_atol=steps * lr)
    assert int(ckpt["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 2
    assert (enc / "cluster" / "encoder-stylegan2-000000.pkl").is_file()
    assert (enc / "cluster" / "recon000000.png").is_file()
    assert_only_chief_wrote(enc / "cluster", enc, runs=1)
