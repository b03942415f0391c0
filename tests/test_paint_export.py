"""PAINT's SavedModel (``tfposegen.models.paint.export``): ``paint_design`` and
``paint_design_in_view`` of the tiny 64 x 64 networks (what run_scripts/export_savedmodel.py
--paint_preset tiny exports), reloaded in a fresh process, against the numpy path of
``tfposegen.models.paint.pipeline`` (gxl-groups/PAINT's LGN, TSN and AFN test loaders and
scripts chained); the graph's pose disks and swatch placement against the numpy ones; bad
calls rejected."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tensorflow as tf

from tfposegen.export.archive import from_uint8
from tfposegen.models.paint import export as E
from tfposegen.models.paint import pipeline as P
from tfposegen.utils.files import to_uint8

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE, WEIGHT_SEED = 64, 0
SEEDS = (3, 2 ** 40 + 5)          # the second beyond int32
ENV = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")

RELOAD = """
import os, sys, time, numpy as np, tensorflow as tf
deadline = time.time() + 600           # started with the export: TF imported meanwhile
while not os.path.exists(sys.argv[3] + ".go") and time.time() < deadline:
    time.sleep(0.1)
m = tf.saved_model.load(sys.argv[1])
x = np.load(sys.argv[2])
keys = ("keypoints", "top_swatch", "top_swatch_size", "bottom_swatch", "bottom_swatch_size")
a = {k: tf.constant(x[k]) for k in keys}
out = {"names": np.array(sorted(m.signatures))}
for s in x["seeds"]:
    res = m.signatures["paint_design"](**a, seed=tf.constant(s, tf.int64))
    out.update({f"{s}/{k}": v.numpy() for k, v in res.items()})
s = tf.constant(x["seeds"][0], tf.int64)
res = m.signatures["paint_design_in_view"](**a, seed=s, view_keypoints=tf.constant(x["view"]))
out.update({f"view/{k}": v.numpy() for k, v in res.items()})
far = x["keypoints"].copy()
far[1, 4] = (10, 70)
big = x["top_swatch_size"].copy()
big[0] = (65, 10)
bad = []
for change in (dict(keypoints=far), dict(top_swatch_size=big),
               dict(bottom_swatch_size=x["bottom_swatch_size"][:1])):
    try:
        m.signatures["paint_design"](**dict(a, **{k: tf.constant(v) for k, v in change.items()}),
                                     seed=s)
        bad.append("accepted")
    except tf.errors.InvalidArgumentError as e:
        bad.append(e.message)
try:
    m.signatures["paint_design_in_view"](**a, seed=s, view_keypoints=tf.constant(far))
    bad.append("accepted")
except tf.errors.InvalidArgumentError as e:
    bad.append(e.message)
np.savez(sys.argv[3], bad=np.array(bad), **out)
"""


def _persons():
    """Two synthetic persons at 64 px: keypoints [2, 18, 2] float32, their other poses, and
    uint8 swatches of different sizes (a bottom swatch cut to 20 x 13) padded with noise into
    [2, 64, 64, 3] with their sizes [2, 2]."""
    rng = np.random.default_rng(0)
    kps, views, tops, bottoms = [], [], [], []
    for person in (1, 2):
        kp, view, (top, bottom) = P.synthetic_inputs(seed=person, size=SIZE)
        kps.append(kp)
        views.append(view)
        tops.append(np.round((top + 1) * 127.5).astype(np.uint8))
        bottoms.append(np.round((bottom + 1) * 127.5).astype(np.uint8))
    bottoms[1] = bottoms[1][:, :7]
    tops[0] = np.tile(tops[0], (3, 1, 1))[:20]
    x = dict(keypoints=np.stack(kps).astype(np.float32), view=np.stack(views).astype(np.float32))
    for name, swatches in (("top_swatch", tops), ("bottom_swatch", bottoms)):
        padded = rng.integers(0, 256, (2, SIZE, SIZE, 3), dtype=np.uint8)
        for b, s in enumerate(swatches):
            padded[b, :s.shape[0], :s.shape[1]] = s
        x[name] = padded
        x[f"{name}_size"] = np.array([s.shape[:2] for s in swatches], np.int32)
    return x


def _numpy_path(nets, x, seeds):
    """The numpy path of every call RELOAD makes: per seed, and for ``view`` (the first seed,
    the persons' other poses as target views), pipeline.py's stages chained as
    ``design_pipeline`` chains them (equal to it: test_paint_pipeline.py), batched over the
    persons: person b with code ``random_codes(seed, 2)[b]``, i.e. row b of
    ``design_pipeline(keypoints[b], its swatches, seed, num_layouts=2)``. Swatches in
    [-1, 1] as the graph converts them (grappler makes x / 127.5 a product with the
    reciprocal, 1 ulp off numpy's for some values)."""
    to_float = tf.function(from_uint8)
    floats = {n: to_float(tf.constant(x[n])).numpy() for n in ("top_swatch", "bottom_swatch")}
    swatches = [[f[b, :x[f"{n}_size"][b, 0], :x[f"{n}_size"][b, 1]] for n, f in floats.items()]
                for b in range(2)]
    mirrored = np.stack([P.mirror_keypoints(k, SIZE) for k in x["keypoints"]])
    pose = P.lgn_inputs(x["keypoints"], SIZE, SIZE)
    want = {}
    with warnings.catch_warnings():   # TSN's deepest attention sees 1 x 1 at 64 px
        warnings.simplefilter("ignore", UserWarning)
        for seed in seeds:
            z = P.random_codes(seed, 2)
            labels = P.layouts(nets.lgn, pose, z)[0]
            parts = [P.tsn_inputs(labels[b:b + 1], *swatches[b]) for b in range(2)]
            design = P.designs(nets.tsn, {k: np.concatenate([p[k] for p in parts])
                                          for k in parts[0]})
            for key, view in ((seed, mirrored), ("view", x["view"])):
                if key == "view" and seed != seeds[0]:
                    continue
                view_labels = P.layouts(nets.lgn, P.lgn_inputs(view, SIZE, SIZE), z)[0]
                image = P.views(nets.afn, P.afn_inputs(design, labels, view_labels))[0]
                want[key] = dict(z=z, layouts=labels, designs=design, view_layouts=view_labels,
                                 views=image)
    return want


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory):
    """The tiny networks exported here (``export_networks``, what the script's
    ``--paint_preset tiny`` runs), reloaded and called in a fresh process (started first, so
    that its TF import overlaps the export; the numpy path computed while it runs):
    (outputs, numpy results per seed and for ``view``, inputs)."""
    tmp = tmp_path_factory.mktemp("paint_export")
    x = _persons()
    np.savez(tmp / "in.npz", seeds=np.array(SEEDS, np.int64), **x)
    reload = subprocess.Popen([sys.executable, "-c", RELOAD, str(tmp / "paint" / "1"),
                               str(tmp / "in.npz"), str(tmp / "out.npz")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        with warnings.catch_warnings():   # TSN's deepest attention sees 1 x 1 at 64 px
            warnings.simplefilter("ignore", UserWarning)
            E.export_networks(tmp / "paint", 1, "tiny", seed=WEIGHT_SEED)
        (tmp / "out.npz.go").touch()
        want = _numpy_path(P.build_networks("tiny", seed=WEIGHT_SEED), x, SEEDS)
        _, err = reload.communicate(timeout=600)
        assert reload.returncode == 0, err[-3000:]
    finally:
        if reload.poll() is None:
            reload.kill()
            reload.communicate()
    return dict(np.load(tmp / "out.npz")), want, x


@pytest.mark.parametrize("key", [*SEEDS, "view"])
def test_signatures_give_the_numpy_pipeline(reloaded, key):
    """Codes and layouts equal, layout colours equal, designs and views within one uint8
    level of the numpy path (measured: designs 0 levels, floats within 2e-7; views 1 level,
    floats within 2e-5: AFN's warps in a grappler-optimised graph)."""
    out, want, _ = reloaded
    want = want[key]
    got = {k.split("/", 1)[1]: v for k, v in out.items() if k.startswith(f"{key}/")}
    np.testing.assert_array_equal(got["codes"], want["z"])
    for name in ("layouts", "view_layouts"):
        assert got[name].dtype == np.int32 and got[name].shape == (2, SIZE, SIZE)
        np.testing.assert_array_equal(got[name], want[name])
        np.testing.assert_array_equal(got[name.replace("layouts", "layout_images")],
                                      P.colour_layout(want[name]))
    for name in ("designs", "views"):
        assert got[name].dtype == np.uint8 and got[name].shape == (2, SIZE, SIZE, 3)
        diff = np.abs(got[name].astype(int) - to_uint8(want[name]))
        assert diff.max() <= 1, (name, diff.max())
        np.testing.assert_allclose(got[f"{name}_float"], want[name], atol=1e-4)


def test_persons_differ_and_seeds_matter(reloaded):
    out, _, _ = reloaded
    a, b = (f"{s}/layouts" for s in SEEDS)
    assert not np.array_equal(out[a], out[b])
    assert not np.array_equal(out[a][0], out[a][1])
    assert not np.array_equal(out["view/views"], out[f"{SEEDS[0]}/views"])


def test_bad_calls_are_rejected(reloaded):
    out, _, _ = reloaded
    assert {"paint_design", "paint_design_in_view"} <= set(out["names"])
    far, big, batch, view = out["bad"]
    assert "keypoints: a joint lies outside the 64 x 64 canvas" in far
    assert "top_swatch_size: a swatch size (h, w) is outside 1..64 x 1..64" in big
    assert "the same batch size" in batch
    assert "view_keypoints: a joint lies outside" in view


def test_graph_disks_and_swatches_equal_the_numpy_ones():
    """PIL's disks at fractional, integer, border and near-zero joints; swatches of sizes up to
    the canvas in empty, clipped and scattered regions (bit-exact)."""
    rng = np.random.default_rng(1)
    kp = rng.uniform(0, SIZE, (12, 18, 2))
    kp[:3] = rng.uniform(0, 6, (3, 18, 2))          # x - 4 < 0: PIL's box one pixel smaller
    kp[3:5] = np.minimum(np.round(kp[3:5]), SIZE - 1)
    kp[5:7] = np.minimum(rng.uniform(SIZE - 5, SIZE, (2, 18, 2)), SIZE - 1e-3)
    kp[7, ::2] = -1
    kp[8] = rng.integers(0, 3, (18, 2))             # x, y <= 1: not drawn
    kp[9, :2] = ((1e-7, 0.5), (0.999, 3.0001))
    kp = kp.astype(np.float32)
    np.testing.assert_array_equal(E.pose_disks(kp, SIZE, SIZE).numpy(),
                                  P.lgn_inputs(kp, SIZE, SIZE))
    np.testing.assert_array_equal(E.mirror_keypoints(kp, SIZE).numpy(),
                                  np.stack([P.mirror_keypoints(k, SIZE) for k in kp]))
    regions = np.zeros((8, SIZE, SIZE), np.float32)
    regions[1, 0:2] = 1
    regions[2, 40:63, 5:30] = 1
    regions[3] = rng.random((SIZE, SIZE)) < 0.05
    regions[4:, 10:50, 20:40] = 1
    sizes = np.array([[10, 12], [12, 12], [64, 64], [1, 1], [64, 3], [5, 64], [33, 31],
                      [20, 9]], np.int32)
    swatches = rng.uniform(-1, 1, (8, SIZE, SIZE, 3)).astype(np.float32)
    for column in (32.0, 25.0):
        masked, square = E.place_swatches(swatches, sizes, regions, column)
        for b, (h, w) in enumerate(sizes):
            want = P.place_swatch(swatches[b, :h, :w], regions[b], column)
            np.testing.assert_array_equal(masked[b], want[0])
            np.testing.assert_array_equal(square[b], want[1])


def test_export_networks_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="no such LGN generator file"):
        E.export_networks(tmp_path, 1, "released", [str(tmp_path / "none.pth"), "a", "b"])
    with pytest.raises(ValueError, match="needs the LGN, TSN and AFN"):
        E.export_networks(tmp_path, 1, "released")
    with pytest.raises(ValueError, match="the tiny preset has random weights"):
        E.export_networks(tmp_path, 1, "tiny", ["a", None, None])
    with pytest.raises(ValueError, match="preset: 'released' or 'tiny'"):
        E.export_networks(tmp_path, 1, "huge")
    assert not any(tmp_path.iterdir())


def test_script_flags():
    """--paint_*_G select PAINT's released networks and need all three (checked before
    TensorFlow is imported: exit status 2, one line); the tiny preset is what
    export_networks(..., "tiny") exports above."""
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "run_scripts",
                                                        "export_savedmodel.py"),
                           "--paint_lgn_G=40_net_G.pth", "--export_dir=unused"],
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("PAINT's released networks need --paint_tsn_G, "
                                        "--paint_afn_G")
