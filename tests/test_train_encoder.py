"""Encoder training (idinvert recipe): loss terms, overfitting a tiny batch, resume, script.

The overfit test traces the training step (in this process); the loss-term, resume and
script tests run the same ops eagerly (tracing a tiny step costs more than running it), and
the script's traced step runs in test_multiworker.py's workers."""

import pathlib
import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf
from warm_python import server as warm

from tfposegen.data.image_records import write_image_records
from tfposegen.models.dgp.encoder import Encoder, idinvert_layout
from tfposegen.models.dgp.train_encoder import EncoderTrainer
from tfposegen.models.stylegan2 import build_stylegan2

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "run_scripts" / "dgp" / "train_encoder.py"


def _setup(seed=0, lr=1e-4, vgg=None, perceptual_size=32):
    keras.utils.set_random_seed(seed)
    G, D = build_stylegan2("tiny_32")
    E = Encoder(**idinvert_layout(32, filters=16, filters_max=32, num_ws=G.num_ws,
                                  w_dim=G.w_dim))
    t = EncoderTrainer(E, G.synthesis, D, vgg=vgg, perceptual_size=perceptual_size,
                       learning_rate=lr, decay_steps=4, jit_compile=False)
    reals = G(np.random.default_rng(seed).normal(size=(4, G.z_dim)).astype(np.float32))
    return G, t, tf.clip_by_value(reals, -1, 1)


def test_loss_terms_and_decayed_learning_rate(eager):
    from tfposegen.models.dgp.perceptual import VGG16Features

    vgg = VGG16Features(64)
    G, t, reals = _setup(vgg=vgg, perceptual_size=64)
    E_before = [v.numpy() for v in t.E.weights]
    D_before = [v.numpy() for v in t.D.weights]
    # the E step's loss, recomputed from E and D as they were before it
    fakes = t.reconstruct(reals, training=True).numpy()
    for v, b in zip(t.E.weights, E_before):  # undo the BN statistics update of that call
        v.assign(b)
    logits = t.D(fakes).numpy()

    def up(x):  # nearest 32 -> 64
        return np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)

    feats = np.mean((vgg((up(reals.numpy()) + 1) * 127.5) - vgg((up(fakes) + 1) * 127.5)) ** 2)
    out = t.train_step(reals)
    np.testing.assert_allclose(out["pixel"], np.mean((fakes - reals.numpy()) ** 2), rtol=1e-4)
    np.testing.assert_allclose(out["adv"], 0.08 * np.mean(np.log1p(np.exp(-logits))),
                               rtol=1e-4)
    np.testing.assert_allclose(out["feats"], 5e-5 * feats, rtol=1e-3)
    np.testing.assert_allclose(out["E_loss"], out["pixel"] + out["adv"] + out["feats"],
                               rtol=1e-6)
    assert out["D_loss"] == pytest.approx(out["loss_real"] + out["loss_fake"]
                                          + 5 * out["r1_penalty"], rel=1e-5)
    assert any(not np.array_equal(v.numpy(), b) for v, b in zip(t.D.weights, D_before))
    # the moving BN statistics (initially 0) moved: E runs in training mode
    assert np.abs(t.E.from_img_bn.moving_mean.numpy()).max() > 0
    assert float(t.E_opt.learning_rate) == pytest.approx(1e-4 * 0.8 ** (1 / 4), rel=1e-5)


def test_overfits_a_tiny_batch_of_generated_images():
    G, t, reals = _setup(lr=2e-3)
    g_before = [v.numpy() for v in G.weights]
    pixel = [t.train_step(reals)["pixel"] for _ in range(25)]
    assert np.mean(pixel[-5:]) < 0.7 * np.mean(pixel[:5]), pixel
    assert all(np.array_equal(v.numpy(), b) for v, b in zip(G.weights, g_before))


def test_resumed_training_is_identical(tmp_path, eager):
    """A trainer with zeroed encoder weights, restored from a checkpoint taken after one
    step, makes the next two steps exactly as the one that wrote it."""
    G, a, reals = _setup()
    a.train_step(reals)
    path = a.checkpoint().write(str(tmp_path / "ck"))
    want = [a.train_step(reals) for _ in range(2)]
    _, b, _ = _setup(seed=0)
    for v in b.E.weights:  # scramble, so everything must come from the checkpoint
        v.assign(tf.zeros_like(v))
    b.checkpoint().read(path).assert_consumed()
    assert [b.train_step(reals) for _ in range(2)] == want


def test_script_writes_a_dgp_pickle(tmp_path):
    from tfposegen.models.dgp.dnnlib import load_dnnlib_pickle, save_dnnlib_pickle

    G, t, reals = _setup()
    save_dnnlib_pickle(tmp_path / "gan.pkl", t.D, G, G=G)
    write_image_records(list(((reals.numpy() + 1) * 127.5).astype(np.uint8)), tmp_path / "d",
                        "x", 32)
    out = tmp_path / "run"
    proc = subprocess.run(
        [warm().python, str(SCRIPT), f"--data={tmp_path / 'd'}",
         f"--network={tmp_path / 'gan.pkl'}", f"--outdir={out}", "--encoder_filters=16",
         "--encoder_filters_max=32", "--batch_size=2", "--total_kimg=0.004",
         "--run_eagerly"], capture_output=True, text=True, timeout=600, env=warm().env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "without the perceptual term" in proc.stderr
    nets = load_dnnlib_pickle(out / "encoder-stylegan2-000000.pkl")
    assert nets.E is not None and nets.E.num_ws == G.num_ws and nets.G is None
    assert (out / "recon000000.png").is_file()
    bad = subprocess.run([warm().python, str(SCRIPT), f"--data={tmp_path / 'd'}",
                          f"--network={tmp_path / 'missing.pkl'}", f"--outdir={out}"],
                         capture_output=True, text=True, env=warm().env())
    assert bad.returncode == 2 and "missing.pkl" in bad.stderr
