"""StyleGAN2 training: loss terms against closed forms, EMA, lazy Adam, exact resume, script."""

import pathlib
import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf
import warm_python

from tfposegen.data.image_records import image_dataset, write_image_records
from tfposegen.models.stylegan2 import Discriminator, Generator
from tfposegen.models.stylegan2.train import (
    StyleGAN2Trainer,
    d_logistic_loss,
    ema_beta,
    g_nonsaturating_loss,
    lazy_adam,
    path_lengths,
    r1_penalty,
)

SCRIPT = (pathlib.Path(__file__).resolve().parents[1] / "run_scripts" / "stylegan2"
          / "train_stylegan2.py")


def test_logistic_losses():
    real, fake = np.array([[0.3], [-2.0]], np.float32), np.array([[1.0], [0.5]], np.float32)
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    np.testing.assert_allclose(d_logistic_loss(real, fake), (sp(fake) + sp(-real))[:, 0],
                               rtol=1e-6)
    np.testing.assert_allclose(g_nonsaturating_loss(fake), sp(-fake)[:, 0], rtol=1e-6)


def test_r1_penalty_of_a_quadratic_critic(rng):
    """D(x) = sum(w * x^2) has dD/dx = 2 w x."""
    w = tf.constant(rng.normal(size=(1, 4, 4, 3)).astype(np.float32))
    x = tf.constant(rng.normal(size=(2, 4, 4, 3)).astype(np.float32))
    D = lambda im: tf.reduce_sum(w * im ** 2, axis=[1, 2, 3])[:, None]  # noqa: E731
    want = np.sum((2 * w.numpy() * x.numpy()) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(r1_penalty(D, x), want, rtol=1e-5)


def test_path_lengths_of_a_linear_synthesis(rng):
    """images = ws . A: J^T y = A y per W+ row; length = sqrt(mean_rows |A y|^2)."""
    A = rng.normal(size=(5, 4 * 4 * 3)).astype(np.float32)
    ws = tf.constant(rng.normal(size=(2, 3, 5)).astype(np.float32))
    y = rng.normal(size=(2, 4, 4, 3)).astype(np.float32)
    syn = lambda w, noise: tf.reshape(tf.reduce_sum(w, 1) @ A, [-1, 4, 4, 3])  # noqa: E731
    jy = y.reshape(2, -1) @ A.T  # [N, 5], same for every row
    want = np.sqrt(np.sum(jy ** 2, axis=1))
    np.testing.assert_allclose(path_lengths(syn, ws, None, y), want, rtol=1e-5)


def test_ema_and_lazy_adam_constants():
    assert ema_beta(32, 10) == pytest.approx(0.5 ** (32 / 10000))
    opt = lazy_adam(0.002, 16)
    c = 16 / 17
    assert float(opt.learning_rate) == pytest.approx(0.002 * c)
    assert opt.beta_1 == 0.0 and opt.beta_2 == pytest.approx(0.99 ** c)
    assert opt.epsilon == 1e-8


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    folder = tmp_path_factory.mktemp("records")
    rng = np.random.default_rng(0)
    write_image_records([rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
                         for _ in range(24)], folder, "x", 16)
    return folder


def _trainer(seed):
    """A 16-pixel StyleGAN2 (every kind of layer; less tracing than the 32-pixel preset)."""
    keras.utils.set_random_seed(seed)
    G = Generator(resolution=16, z_dim=32, w_dim=32,
                  mapping_kwargs=dict(num_layers=2, layer_features=32),
                  synthesis_kwargs=dict(fmap_base=64, fmap_max=16))
    D = Discriminator(resolution=16, fmap_base=64, fmap_max=16)
    return StyleGAN2Trainer(G, D, batch_size=4, g_reg_interval=2, d_reg_interval=2,
                            jit_compile=False)


def test_gs_moving_average_lazy_regularisers_and_identical_resume(records, tmp_path):
    """The first two steps of a run (traced): Gs is the moving average of G and the
    regularisers run lazily; then, checkpointed after those two steps, a trainer with other
    initial weights restored from it makes the next two steps as the first (one run for both
    checks; those steps eagerly, the same ops, so the second trainer traces nothing)."""
    def run(trainer, it, n):
        return [trainer.train_step(next(it)) for _ in range(n)]

    a = _trainer(0)
    it_a = iter(image_dataset(records, 4, 16, seed=3, xflip=True))
    out0 = a.train_step(next(it_a))
    prev = [v.numpy() for v in a.Gs.weights]
    out1 = a.train_step(next(it_a))
    assert {"pl_penalty", "r1_penalty"} <= set(out0) and "r1_penalty" not in out1
    assert float(a.pl_mean.numpy()) > 0
    trainable = {id(v) for v in a.G.trainable_weights}
    for gs, g, p in zip(a.Gs.weights, a.G.weights, prev):
        if id(g) in trainable:  # Gs = G + (Gs_prev - G) * beta
            np.testing.assert_allclose(gs.numpy(), g.numpy() + (p - g.numpy()) * a.beta,
                                       rtol=1e-5, atol=1e-7)
            assert not np.array_equal(gs.numpy(), g.numpy())
        else:  # noise maps, dlatent_avg: copied
            np.testing.assert_array_equal(gs.numpy(), g.numpy())

    path = a.checkpoint(data=it_a).write(str(tmp_path / "ck"))
    tf.config.run_functions_eagerly(True)  # the resumed steps of a and b: the same ops, and
    try:                                   # b's functions need no tracing of their own
        want = run(a, it_a, 2)
        b = _trainer(7)  # other initial weights: everything must come from the checkpoint
        it_b = iter(image_dataset(records, 4, 16, seed=3, xflip=True))
        b.checkpoint(data=it_b).read(path).assert_consumed()
        assert run(b, it_b, 2) == want
    finally:
        tf.config.run_functions_eagerly(False)
    for x, y in zip(a.Gs.weights, b.Gs.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_script_writes_checkpoints_grids_pickles_and_logs(records, tmp_path):
    """train_stylegan2.py, run eagerly (its traced steps run above and in
    test_multiworker.py), writes checkpoints, grids, pickles and logs; missing records, and
    --run_eagerly with another strategy, exit 2 with one line."""
    from tfposegen.models.dgp.dnnlib import load_dnnlib_pickle

    out = tmp_path / "run"
    warm = warm_python.server()
    proc = subprocess.run(
        [warm.python, str(SCRIPT), f"--data={records}", f"--outdir={out}",
         "--resolution=16", "--fmap_base=64", "--fmap_max=16", "--latent=32",
         "--mapping_layers=2", "--batch_size=4", "--total_kimg=0.012",
         "--snapshot_kimg=0.012", "--run_eagerly"],
        capture_output=True, text=True, timeout=600, env=warm.env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "train 3/3" in proc.stderr
    nets = load_dnnlib_pickle(out / "network-snapshot-000000.pkl")
    assert nets.G is not None and nets.Gs.resolution == 16
    assert (out / "fakes000000.png").is_file()
    assert list((out / "logs").glob("events.out.tfevents.*"))
    assert (out / "checkpoints" / "checkpoint").is_file()
    bad = subprocess.run([warm.python, str(SCRIPT), f"--data={tmp_path / 'none'}",
                          f"--outdir={out}"], capture_output=True, text=True, env=warm.env())
    assert bad.returncode == 2 and "no .tfrecords files" in bad.stderr
    eager = subprocess.run([warm.python, str(SCRIPT), f"--data={records}", f"--outdir={out}",
                            "--run_eagerly", "--strategy=multiworker"],
                           capture_output=True, text=True, env=warm.env())
    assert eager.returncode == 2 and "(--strategy default)" in eager.stderr.splitlines()[-1]


MIRRORED = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import json, numpy as np, tensorflow as tf, keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from tfposegen.models.stylegan2 import Discriminator, Generator
from tfposegen.models.stylegan2.train import StyleGAN2Trainer
reals = np.random.default_rng(0).uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
out = {}
for name, st in (("one", tf.distribute.get_strategy()),
                 ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
    with st.scope():
        keras.utils.set_random_seed(0)
        G = Generator(resolution=8, z_dim=16, w_dim=16,
                      mapping_kwargs=dict(num_layers=2, layer_features=16),
                      synthesis_kwargs=dict(fmap_base=64, fmap_max=16))
        D = Discriminator(resolution=8, fmap_base=64, fmap_max=16, mbstd_group_size=1)
    t = StyleGAN2Trainer(G, D, batch_size=4, g_reg_interval=2, d_reg_interval=2,
                         jit_compile=False, strategy=st)
    it = iter(t.distribute(tf.data.Dataset.from_tensors(reals).repeat()))
    tf.config.run_functions_eagerly(name == "one")  # the reference untraced (same ops)
    losses = [t.train_step(next(it)) for _ in range(3)]
    tf.config.run_functions_eagerly(False)
    out[name] = {"replicas": t.replicas, "losses": losses,
                 "Gs": [v.numpy().tolist() for v in t.Gs.weights],
                 "D": [v.numpy().tolist() for v in t.D.weights]}
print(json.dumps(out))
"""


def test_two_replicas_make_the_update_of_one_device():
    """MirroredStrategy on two logical CPUs against one device, same global batch (D without
    minibatch stddev, whose groups would differ): same losses and weights. At 8 px: every
    kind of layer (an up-sampling block in G, a down-sampling one in D), half the tracing
    of 16 px."""
    warm = warm_python.server()
    proc = subprocess.run([warm.python, "-c", MIRRORED], capture_output=True, text=True,
                          timeout=600, env=warm.env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    one, two = out["one"], out["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    for a, b in zip(one["losses"], two["losses"]):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-7), k
    for key in ("Gs", "D"):
        for a, b in zip(one[key], two[key]):
            np.testing.assert_allclose(a, b, atol=1e-5)
