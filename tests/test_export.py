"""SavedModel export: every DGP signature round-trips through a fresh process."""

import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from tfposegen.convert import save_dnnlib_pickle
from tfposegen.nets.stylegan2 import build_dgp_networks
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
    proc = subprocess.run([sys.executable, str(ROOT / "run_scripts" / "export_savedmodel.py"),
                           f"--network={pkl}", f"--export_dir={tmp / 'dgp'}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    f = (u8.astype(np.float32) / 127.5 - 1).astype(np.float32)
    w = rng.standard_normal((4, Gs.num_ws, Gs.w_dim)).astype(np.float32)
    np.savez(tmp / "in.npz", u8=u8, f=f, w=w)
    return tmp, pkl, (E, Gs), (u8, f, w)


def test_every_signature_round_trips_in_a_fresh_process(exported):
    tmp, _, (E, Gs), (u8, f, w) = exported
    assert (tmp / "dgp" / "1" / "saved_model.pb").is_file()
    subprocess.run([sys.executable, "-c", RELOAD, str(tmp / "dgp" / "1"), str(tmp / "in.npz"),
                    str(tmp / "out.npz")], check=True, capture_output=True)
    out = np.load(tmp / "out.npz")
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
    proc = subprocess.run([sys.executable, str(ROOT / "run_scripts" / "export_savedmodel.py"),
                           f"--network={pkl}", f"--export_dir={tmp / 'dgp'}"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "this version exists" in proc.stderr
    assert sorted(p.name for p in (tmp / "dgp").iterdir()) == ["1"]  # no temporary left
