"""The bundled DPTN_step demo generator (pretrained/demo/dptn_step_demo_64_net/, recipe in
pretrained/README.md) on synthetic persons it never saw: it loads with the library's loader,
and its coarse-to-fine chain comes closer to the target at every step."""

import io
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "pretrained", "demo", "dptn_step_demo_64_net")
H, W = 64, 44      # the synthetic persons' stored size (and keypoint frame)
N = 64             # the network size (stretched to a square, as DPTN_step's loader)
PEOPLE = 200       # trained on persons 0..199 of train.py --synthetic


@pytest.fixture(scope="module")
def demo():
    from tfposegen.models.dptn import weights

    nets, meta = weights.load_networks(DEMO)
    return nets["G"], meta


def _pair(person, i):
    """Person ``person``'s view 1 -> view 2 as the synthetic dataroot holds them (JPEG 95,
    views of ``make_synthetic_pose_pairs``), read as test.py reads them: images float
    [N, N, 3] in [-1, 1] (Pillow's bilinear stretch), the target uint8, keypoints in the
    network frame, and pair ``i``'s seeded noise."""
    import tensorflow as tf
    from PIL import Image

    from tfposegen.data.synthetic_persons import make_person

    out = []
    for v in range(2):
        image, kp, _ = make_person(person, person * 31 + v, H, W, with_parse=True)
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=95)
        pixels = np.asarray(Image.open(buf).convert("RGB").resize((N, N), Image.BILINEAR))
        kp = np.where(kp == -1, -1.0, kp * np.array([N / H, N / W])).astype(np.float32)
        out.append((pixels, kp))
    (src, kp_s), (tgt, kp_t) = out
    noise = tf.random.stateless_normal([N, N, 3], [0, i])
    return src.astype(np.float32) / 127.5 - 1, kp_s, tgt, kp_t, noise


def test_demo_file_is_small(demo):
    G, meta = demo
    size = sum(os.path.getsize(os.path.join(DEMO, f)) for f in os.listdir(DEMO))
    assert size < 20e6
    assert (G.config["height"], G.config["width"], G.config["steps"]) == (N, N, 3)
    assert meta["synthetic_people"] == PEOPLE


def test_demo_steps_approach_unseen_targets(demo):
    import tensorflow as tf

    from tfposegen.metrics.image import psnr
    from tfposegen.models.dptn.step_networks import generate_steps
    from tfposegen.models.dptn.step_train import step_pose_maps
    from tfposegen.utils.files import to_uint8

    G, _ = demo
    pairs = [_pair(PEOPLE + 10 + k, k) for k in range(2)]  # persons 210, 211: never seen
    src, kp_s, tgt, kp_t, noise = (np.stack([p[j] for p in pairs]) for j in range(5))
    outs, _ = generate_steps(G, tf.constant(src), step_pose_maps(kp_s, N, N),
                             step_pose_maps(kp_t, N, N), tf.constant(noise))
    scores = np.array([[psnr(t, o, 255) for t, o in zip(tgt, to_uint8(np.asarray(out)))]
                       for out in outs])  # [steps, pairs]
    assert (np.diff(scores, axis=0) > 0).all(), scores
    # measured (pretrained/README.md): steps 8.51 / 10.77 / 12.84 and 8.85 / 11.60 / 14.13 dB
    assert scores[-1].min() > 11.8, scores
