"""ADGAN attribute transfer and SavedModel export (tiny random generator, 44 x 36 images)."""

import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from tfposegen.models.adgan.attribute_transfer import attribute_transfer, swap_components
from tfposegen.models.adgan.export import export_adgan
from tfposegen.models.adgan.networks import ADGen
from tfposegen.models.adgan.presets import ADGEN_TINY
from tfposegen.models.adgan.weights import save_networks
from tfposegen.parsing.labels import ADGAN_LABELS
from tfposegen.pose.maps import gaussian_heatmaps_np

ROOT = pathlib.Path(__file__).resolve().parents[1]
H, W = 44, 36

RELOAD = """
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
out = {"names": np.array(sorted(m.signatures))}
c = lambda k, n: tf.constant(x[k][:n])
for n in (1, 2):
    res = m.signatures["adgan_pose_transfer"](images=c("u8", n), parse=c("parse", n),
                                              target_keypoints=c("kp", n))
    out.update({f"pose/{n}/{k}": v.numpy() for k, v in res.items()})
    res = m.signatures["adgan_attribute_transfer"](
        images=c("u8", n), parse=c("parse", n), images_b=c("u8_b", n), parse_b=c("parse_b", n),
        target_keypoints=c("kp", n), component_mask=c("mask", n))
    out.update({f"attr/{n}/{k}": v.numpy() for k, v in res.items()})
bad = []
good = dict(images=x["u8"][:1], parse=x["parse"][:1], target_keypoints=x["kp"][:1])
for key, value in (("parse", x["parse"][:1, :40]), ("target_keypoints", x["kp"][:1, :17]),
                   ("images", x["u8"][:1, :, :32])):
    try:
        m.signatures["adgan_pose_transfer"](**{k: tf.constant(v) for k, v in
                                               dict(good, **{key: value}).items()})
        bad.append("accepted")
    except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
        bad.append(type(e).__name__)
try:
    m.signatures["adgan_attribute_transfer"](
        images=c("u8", 1), parse=c("parse", 1), images_b=c("u8_b", 1), parse_b=c("parse_b", 1),
        target_keypoints=c("kp", 1), component_mask=tf.constant(x["mask"][:1, :7]))
    bad.append("accepted")
except (TypeError, ValueError, tf.errors.InvalidArgumentError) as e:
    bad.append(type(e).__name__)
out["bad"] = np.array(bad)
np.savez(sys.argv[3], **out)
"""


def _keypoints(rng, n):
    kp = np.stack([rng.integers(0, H, (n, 18)), rng.integers(0, W, (n, 18))], -1)
    kp[:, 3] = -1  # a missing joint
    return kp.astype(np.float32)


def _images(rng):
    """Two uint8 [H, W, 3] images, each a random colour with +-30 noise."""
    noise = rng.integers(-30, 31, (2, H, W, 3))
    return np.clip(rng.integers(0, 256, (2, 1, 1, 3)) + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def setup(tmp_path_factory, warm_python):
    """The generator, inputs, background runs (script, SavedModel reload) and the Keras
    references, computed while the subprocesses run."""
    tmp = tmp_path_factory.mktemp("adgan_transfer")
    keras.utils.set_random_seed(5)
    netG = ADGen(**ADGEN_TINY)
    for layer in [netG.fc, *netG.mlp]:  # at the initial scale the style barely shows (3e-4)
        layer.kernel.assign(layer.kernel * 3.0)
    save_networks({"netG": netG}, str(tmp / "net"))
    rng = np.random.default_rng(1)
    data = dict(u8=_images(rng), u8_b=_images(rng),
                parse=rng.integers(0, 8, (2, H, W)).astype(np.int32),
                parse_b=rng.integers(0, 8, (2, H, W)).astype(np.int32),
                kp=_keypoints(rng, 2), mask=np.zeros((2, 8), np.float32))
    data["mask"][0, 5] = 1  # upper clothes
    data["mask"][1, [1, 2]] = 1  # pants, hair
    runs = _start_script_runs(tmp, data, warm_python)
    path = export_adgan(netG, str(tmp / "adgan"), height=H, width=W)
    np.savez(tmp / "in.npz", **data)
    runs["reload"] = subprocess.Popen([sys.executable, "-c", RELOAD, path, str(tmp / "in.npz"),
                                       str(tmp / "out.npz")], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
    image_a, parse_a, pose = _floats(data, 2)
    image_b, parse_b, _ = _floats(data, 2, "_b")
    ref = {"render_a": np.asarray(netG(pose, image_a, parse_a)),
           "render_b": np.asarray(netG(pose, image_b, parse_b)),
           "attr": np.concatenate([np.asarray(attribute_transfer(  # one sample at a time
               netG, pose[i:i + 1], image_a[i:i + 1], parse_a[i:i + 1], image_b[i:i + 1],
               parse_b[i:i + 1], [ADGAN_LABELS[c] for c in np.flatnonzero(data["mask"][i])]))
               for i in range(2)])}
    return dict(tmp=tmp, netG=netG, data=data, runs=runs, ref=ref)


def _start_script_runs(tmp, data, warm_python):
    """Start the script in the background: a good run (A = sample 0, B = sample 0 of B, the
    target pose of sample 0, upper clothes from B) writing out.png, and a run whose
    --parse_b is missing (forks of ``warm_python``'s server)."""
    files = {}
    for key in ("a", "b"):
        files[f"image_{key}"] = tmp / f"{key}.png"
        Image.fromarray(data["u8" if key == "a" else "u8_b"][0]).save(files[f"image_{key}"])
    files["parse_a"] = tmp / "a_parse.npy"
    np.save(files["parse_a"], data["parse"][0].astype(np.uint8))
    files["parse_b"] = tmp / "b_parse.png"
    Image.fromarray(data["parse_b"][0].astype(np.uint8)).save(files["parse_b"])
    ys, xs = data["kp"][0].astype(int).T  # row "a.png", the default --target_name
    files["target_keypoints"] = tmp / "annotation.csv"
    files["target_keypoints"].write_text(f"name:keypoints_y:keypoints_x\n"
                                         f"a.png: {ys.tolist()}: {xs.tolist()}\n")
    files.update(netG=tmp / "net", components="upper clothes")

    def start(**changed):
        script = ROOT / "run_scripts" / "adgan" / "attribute_transfer.py"
        return subprocess.Popen([warm_python.python, str(script)] + [
            f"--{k}={v}" for k, v in {**files, **changed}.items()],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=warm_python.env())

    return {"ok": start(output=tmp / "out.png"),
            "missing": start(parse_b=tmp / "nope.npy", output=tmp / "bad.png")}


def _floats(data, n, suffix=""):
    """Numpy inputs of the Keras model: images in [-1, 1], one-hot parsing, pose maps."""
    images = data["u8" + suffix][:n].astype(np.float32) / 127.5 - 1
    parse = np.eye(8, dtype=np.float32)[data["parse" + suffix][:n]]
    pose = np.stack([gaussian_heatmaps_np(k, H, W, peak_only=True) for k in data["kp"][:n]])
    return images, parse, pose


def test_swap_components_equals_numpy_slice_assignment():
    rng = np.random.default_rng(0)
    for width in (512, 64):
        a, b = (rng.standard_normal((3, width)).astype(np.float32) for _ in range(2))
        per = width // 8
        want = a.copy()
        for name in ("upper clothes", "hair"):
            i = ADGAN_LABELS.index(name)
            want[:, per * i:per * (i + 1)] = b[:, per * i:per * (i + 1)]
        got = np.asarray(swap_components(a, b, ["upper clothes", " Hair "]))
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.asarray(swap_components(a, b, "pants"))[:, per:2 * per],
                                      b[:, per:2 * per])
    with pytest.raises(ValueError, match="'shoes'.*background, pants, hair, skirt, face"):
        swap_components(a, b, ["pants", "shoes"])


def test_attribute_transfer_all_or_no_classes_is_plain_rendering(setup):
    netG, data, ref = setup["netG"], setup["data"], setup["ref"]
    image_a, parse_a, pose = _floats(data, 2)
    image_b, parse_b, _ = _floats(data, 2, "_b")
    all_b = attribute_transfer(netG, pose, image_a, parse_a, image_b, parse_b, ADGAN_LABELS)
    none = attribute_transfer(netG, pose, image_a, parse_a, image_b, parse_b, [])
    np.testing.assert_array_equal(np.asarray(all_b), ref["render_b"])
    np.testing.assert_array_equal(np.asarray(none), ref["render_a"])
    # A and B differ, and so does the upper-clothes swap from both, so the checks bite
    assert np.abs(ref["render_a"] - ref["render_b"]).max() > 1e-2
    some = ref["attr"][0]
    assert min(np.abs(some - ref["render_a"][0]).max(),
               np.abs(some - ref["render_b"][0]).max()) > 1e-3


def _to_uint8(images):
    return (np.clip(images / 2 + 0.5, 0, 1) * 255).astype(np.uint8)


def test_export_round_trips_in_a_fresh_process(setup):
    ref, reload = setup["ref"], setup["runs"]["reload"]
    _, err = reload.communicate(timeout=300)
    assert reload.returncode == 0, err[-2000:]
    out = np.load(setup["tmp"] / "out.npz")
    assert {"adgan_pose_transfer", "adgan_attribute_transfer"} <= set(out["names"])
    for n in (1, 2):
        for key, want in (("pose", ref["render_a"][:n]), ("attr", ref["attr"][:n])):
            np.testing.assert_allclose(out[f"{key}/{n}/images_float"], want, atol=1e-4)
            u8 = out[f"{key}/{n}/images"]
            assert u8.dtype == np.uint8 and u8.shape == (n, H, W, 3)
            assert np.mean(u8 != _to_uint8(want)) < 0.01
    # parse 40 rows, 17 joints, 32 columns, a 7-class mask: all rejected
    assert len(out["bad"]) == 4 and "accepted" not in out["bad"], out["bad"]


def test_script_writes_png_and_names_a_missing_parse_file(setup):
    tmp, runs = setup["tmp"], setup["runs"]
    _, err = runs["missing"].communicate(timeout=120)
    assert runs["missing"].returncode == 2, err
    assert f"{tmp / 'nope.npy'}: parsing map not found" in err, err
    assert not (tmp / "bad.png").exists()
    _, err = runs["ok"].communicate(timeout=300)
    assert runs["ok"].returncode == 0, err[-2000:]
    got = np.asarray(Image.open(tmp / "out.png"))
    want = _to_uint8(setup["ref"]["attr"][0])  # the same inputs and upper clothes from B
    assert got.shape == (H, W, 3)
    assert np.abs(got.astype(int) - want).max() <= 1 and np.mean(got != want) < 0.01
