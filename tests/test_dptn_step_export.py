"""DPTN_step's SavedModel (``tfposegen.models.dptn.export``): ``dptn_step_pose_transfer``
and ``dptn_step_style_mix`` - the inference chain of ``DPTNModel.generate_fake``
(models/dptn_model.py in gkalstn000/DPTN_step) with the pose maps of ``obtain_bone``
(util/util.py) built in the graph."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfposegen.convert.torch_checkpoint import state_dict
from tfposegen.data.synthetic_persons import make_person
from tfposegen.export.archive import from_uint8
from tfposegen.models.dptn import export, presets, weights
from tfposegen.models.dptn.step_networks import (
    StepDiscriminator,
    StepGenerator,
    generate_steps,
)
from tfposegen.pose.limb_maps import dptn_step_pose_np

H = W = 32
STEPS = 2
TINY_G = dict(presets.DPTN_STEP_G, ngf=4, img_f=8, layers=2, num_blocks=1, num_CABs=1,
              num_TTBs=1, steps=STEPS)
OLD = (256, 176)        # --dptn_dataset fashion: keypoints in DeepFashion's frame
SEED = 7
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RELOAD = """
import sys, numpy as np, tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
a = dict(images=tf.constant(x["images"]), source_keypoints=tf.constant(x["kp_s"]),
         target_keypoints=tf.constant(x["kp_t"]), seed=tf.constant(x["seed"]))
out = {f"transfer_{k}": v.numpy() for k, v in m.signatures["dptn_step_pose_transfer"](**a).items()}
mix = m.signatures["dptn_step_style_mix"]
b = dict(a, images_b=tf.constant(x["images_b"]), source_keypoints_b=tf.constant(x["kp_b"]))
for k in (1, 2, int(x["steps"]) + 1):
    res = mix(**b, mix_from=tf.constant(k, tf.int32))
    out.update({f"mix{k}_{n}": v.numpy() for n, v in res.items()})
bad = []
for kp in (x["kp_s"][:, :17], np.concatenate([x["kp_s"], x["kp_s"][..., :1]], -1)):
    try:
        m.signatures["dptn_step_pose_transfer"](**dict(a, source_keypoints=tf.constant(kp)))
        bad.append("accepted")
    except Exception as e:
        bad.append(type(e).__name__)
np.savez(sys.argv[3], names=np.array(sorted(m.signatures)), bad=np.array(bad), **out)
"""


def persons():
    """Two sources, two other persons (B), two targets at 32 x 32, keypoints in the 256 x 176
    frame (a missing joint, one outside the frame)."""
    images, kps = [], []
    for seed, pose in ((3, 1), (4, 2), (5, 3), (6, 0), (3, 4), (4, 0)):
        image, kp = make_person(seed, pose, 32, 22)
        images.append(np.asarray(tf.image.resize(image, (H, W), "bilinear")).round())
        kps.append(np.where(kp >= 0, kp * 8 + 0.5, -1).astype(np.float32))
    kps[0][4] = -1
    kps[1][10, 1] = 180.0
    u8 = np.stack(images).astype(np.uint8)
    return u8[:2], np.stack(kps[:2]), u8[2:4], np.stack(kps[2:4]), np.stack(kps[4:])


def keras_steps(G, sources, source_kps, kp_t):
    """generate_steps on the numpy pose maps (per-step sources: lists of uint8 images)."""
    def maps(kp):
        return np.stack([dptn_step_pose_np(k, H, W, OLD) for k in kp])

    # [-1, 1] as the signature's graph computes it: grappler makes x / 127.5 a product with
    # the reciprocal, 1 ulp off eagerly for some values, and the last step (the source
    # itself, not quantised) of a tiny random network amplifies 1e-7 to 1e-4
    float_sources = [tf.function(from_uint8)(tf.constant(u8)) for u8 in sources]
    noise = export.step_noise(SEED, (len(kp_t), H, W, 3))
    targets, _ = generate_steps(G, float_sources, [maps(k) for k in source_kps], maps(kp_t),
                                noise)
    return np.stack([np.asarray(t) for t in targets])


def test_step_export_round_trips_in_a_fresh_process(tmp_path, warm_python):
    """A networks folder exported by run_scripts/export_savedmodel.py --dptn_step_checkpoint,
    reloaded in a new process: dptn_step_pose_transfer equals generate_steps fed the numpy
    pose maps and step_noise(seed) at every step (measured: 0), the final image is the last
    step; dptn_step_style_mix with mix_from 2 equals generate_steps with sources [A, B] and
    their own poses, mix_from 1 is B's transfer, S + 1 A's; keypoints of the wrong shape are
    refused."""
    tf.keras.utils.set_random_seed(0)
    G = StepGenerator(H, W, **TINY_G)
    folder = weights.save_networks({"G": G}, str(tmp_path / "latest_net"))
    proc = subprocess.run(
        [warm_python.python, os.path.join(ROOT, "run_scripts", "export_savedmodel.py"),
         f"--dptn_step_checkpoint={folder}", f"--export_dir={tmp_path / 'export'}"],
        capture_output=True, text=True, env=warm_python.env(PYTHONPATH=ROOT), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    images, kp_s, images_b, kp_b, kp_t = persons()
    np.savez(tmp_path / "in.npz", images=images, kp_s=kp_s, images_b=images_b, kp_b=kp_b,
             kp_t=kp_t, seed=np.int64(SEED), steps=STEPS)
    proc = subprocess.run([sys.executable, "-c", RELOAD, str(tmp_path / "export" / "1"),
                           str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = np.load(tmp_path / "out.npz")
    assert {"dptn_step_pose_transfer", "dptn_step_style_mix"} <= set(out["names"])
    assert "accepted" not in out["bad"].tolist()

    want = keras_steps(G, [images] * STEPS, [kp_s] * STEPS, kp_t)
    got = out["transfer_step_images_float"]
    assert got.shape == (STEPS, 2, H, W, 3) and out["transfer_step_images"].dtype == np.uint8
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_array_equal(out["transfer_images_float"], got[-1])
    np.testing.assert_array_equal(out["transfer_images"], out["transfer_step_images"][-1])
    u8 = np.clip(want / 2 + 0.5, 0, 1) * 255
    assert np.mean(out["transfer_step_images"] != u8.astype(np.uint8)) < 0.01

    mixed = keras_steps(G, [images, images_b], [kp_s, kp_b], kp_t)
    np.testing.assert_allclose(out["mix2_step_images_float"], mixed, atol=1e-5)
    np.testing.assert_allclose(out["mix2_step_images_float"][0], got[0], atol=1e-6)
    assert np.abs(out["mix2_images_float"] - got[-1]).max() > 1e-3      # B's style shows
    np.testing.assert_allclose(out[f"mix{STEPS + 1}_step_images_float"], got, atol=1e-6)
    all_b = keras_steps(G, [images_b] * STEPS, [kp_b] * STEPS, kp_t)
    np.testing.assert_allclose(out["mix1_step_images_float"], all_b, atol=1e-5)


def test_step_checkpoint_file_and_folder_errors(tmp_path, monkeypatch):
    """The original's single-file checkpoint goes into StepGenerator(**generator) through
    weights.load_step_checkpoint (step maps and weights are the file's), exported with the
    dataset's keypoint frame and the sigmas; a missing path, a folder without a
    StepGenerator and an unknown dataset raise ValueError."""
    exported = {}
    monkeypatch.setattr(export, "export_dptn_step",
                        lambda G, *args: exported.update(G=G, args=args) or "done")
    config = dict(presets.DPTN_STEP_G, height=8, width=8, ngf=4, img_f=16, layers=2,
                  num_blocks=1, num_CABs=1, num_TTBs=1)
    path = os.path.join(ROOT, "tests", "data", "dptn", "tiny_step_net.pth")
    assert export.export_step_generator_file(path, tmp_path, 3, "market", 2.0, 2.0,
                                             generator=config) == "done"
    assert exported["args"] == (tmp_path, 3, (128, 64), 2.0, 2.0)
    state = state_dict(path, key="netG")
    table = state["positional_encoding.pe"][:7, 0].reshape(7, 8, 8)     # S + 2 rows
    np.testing.assert_array_equal(np.asarray(exported["G"].step_maps), table)
    bias = exported["G"].decoder.outconv.convs[0].layer.bias
    np.testing.assert_array_equal(np.asarray(bias), state["De.outconv.model.2.bias"])
    with pytest.raises(ValueError, match="no such DPTN_step checkpoint"):
        export.export_step_generator_file(str(tmp_path / "nothing"), tmp_path)
    with pytest.raises(ValueError, match="dataset must be one of"):
        export.export_step_generator_file(path, tmp_path, dataset="deepfashion")
    folder = weights.save_networks({"D": StepDiscriminator((8, 8), ndf=2, img_f=2, layers=2)},
                                   str(tmp_path / "d_only"))
    with pytest.raises(ValueError, match="no DPTN_step generator G"):
        export.export_step_generator_file(folder, tmp_path)
