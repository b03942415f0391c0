"""PAINT's chained stages (tfposegen.models.paint.pipeline, run_scripts/paint/generate.py) on
the tiny 64 x 64 networks: each stage's inputs as the original loaders build them, shapes and
ranges of each stage's output, the chain equal to the stages called by hand, seeds, the
bad-input errors, and the script on --synthetic."""

import os
import subprocess
import warnings

import numpy as np
import pytest

from tfposegen.models.paint import pipeline as P
from tfposegen.parsing.labels import CIHP_PALETTE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = 64


@pytest.fixture(scope="module")
def nets():
    return P.build_networks("tiny", seed=0)


@pytest.fixture(scope="module")
def inputs():
    return P.synthetic_inputs(seed=1, size=SIZE)


@pytest.fixture(scope="module")
def chain(nets, inputs):
    keypoints, view, swatches = inputs
    with warnings.catch_warnings():   # TSN's deepest attention sees 1 x 1 at 64 px
        warnings.simplefilter("ignore", UserWarning)
        return P.design_pipeline(nets, keypoints, swatches, seed=3, num_layouts=2,
                                 view_keypoints=view)


def test_pose_maps_are_pil_disks_and_skip_the_not_found_corner():
    kp = -np.ones((18, 2))
    kp[0] = (20, 30)          # (row, col)
    kp[1] = (0.5, 0.5)        # x <= 1 and y <= 1: the loader's "not found"
    kp[2] = (0, 40)           # y = 0 but x > 1: drawn, clipped at the border
    pose = P.lgn_inputs(kp, SIZE, SIZE)
    assert pose.shape == (1, SIZE, SIZE, 18) and pose.dtype == np.float32
    assert set(np.unique(pose)) == {-1.0, 1.0}
    disk = pose[0, :, :, 0] > 0
    assert disk.sum() == 61 and disk[20, 30]                 # Pillow's 9 x 9 box fill
    assert disk.sum(1)[16:25].tolist() == [3, 7, 7, 9, 9, 9, 7, 7, 3]
    assert not (pose[0, :, :, 1] > 0).any() and not (pose[0, :, :, 3:] > 0).any()
    assert (pose[0, :5, 36:45, 2] > 0).any() and pose[0, 0, 40, 2] == 1


def test_paint_pose_json_reads_x_y_as_row_col(tmp_path):
    from tfposegen.pose.formats import PoseFileError, read_paint_json

    path = tmp_path / "70881_1.json"
    path.write_text('{"0": [12.5, 30, 0.9], "3": [0, 0]}')
    kp = read_paint_json(str(path))
    assert kp[0].tolist() == [30, 12.5] and kp[3].tolist() == [0, 0]
    assert (kp[[1, 2, *range(4, 18)]] == -1).all()
    path.write_text("[1, 2]")
    with pytest.raises(PoseFileError, match="70881_1.json: not PAINT's"):
        read_paint_json(str(path))


def test_random_codes_are_three_pieces_of_n_minus_1_var_4():
    z = P.random_codes(5, 2000)
    assert z.shape == (2000, 24) and z.dtype == np.float32
    assert abs(z.mean() + 1) < 0.05 and abs(z.std() - 2) < 0.05
    np.testing.assert_array_equal(P.random_codes(5, 3), P.random_codes(5, 3))
    assert not np.array_equal(P.random_codes(5, 3), P.random_codes(6, 3))


def test_swatch_box_follows_the_tsn_loader():
    region = np.zeros((SIZE, SIZE), bool)
    region[10:30, 20:41] = True              # 420 pixels; the 210th: row 20, col 0 + 20
    r = (20 * SIZE + 20) / SIZE               # true division: 20.3125
    assert P.swatch_box(region, (9, 9), 32) == (int(r - 4.5), int(r + 4.5), 27, 36, 0, 0)
    # an empty region centres the square; a square cut by the top border keeps its place
    assert P.swatch_box(np.zeros((SIZE, SIZE)), (10, 12), 5)[:4] == (27, 37, 26, 38)
    top = np.zeros((SIZE, SIZE), bool)
    top[0:2, :] = True
    r0, r1, c0, c1, dr, dc = P.swatch_box(top, (12, 12), 32)
    assert (r0, dr, c0, c1, dc) == (0, 5, 26, 38, 0) and r1 == 7    # r = 1: rows -5 .. 6
    swatch = np.linspace(-1, 1, 12 * 12 * 3, dtype=np.float32).reshape(12, 12, 3)
    masked, square = P.place_swatch(swatch, top, 32)
    assert square.sum() == 7 * 12
    np.testing.assert_array_equal(masked[0:2, 26:38], swatch[5:7])   # inside the region
    assert not masked[2:].any()                                       # cut by the region


def test_tsn_inputs_regions_squares_and_one_hot():
    labels = np.zeros((1, SIZE, SIZE), np.int32)
    labels[0, 10:30, 16:48] = 5               # upper clothes
    labels[0, 30:40, 16:48] = 6               # dress: top region, not bottom
    labels[0, 40:60, 16:48] = 9               # pants
    top = np.full((12, 12, 3), 0.5, np.float32)
    bottom = np.full((10, 8, 3), -0.5, np.float32)
    x = P.tsn_inputs(labels, top, bottom)
    assert list(x) == ["imgt_masked", "imgb_masked", "mask_t", "mask_b", "mask_to", "mask_bo",
                       "parsing"]
    assert x["parsing"].shape == (1, SIZE, SIZE, 20) and x["mask_t"].shape == (1, SIZE, SIZE, 1)
    assert x["mask_t"].sum() == 30 * 32 and x["mask_b"].sum() == 20 * 32
    assert x["mask_to"].sum() == 144 and x["mask_bo"].sum() == 80
    bottom_cols = np.nonzero(x["mask_bo"][0, :, :, 0].any(0))[0]
    assert bottom_cols.tolist() == list(range(21, 29))               # centre 100 * 64 / 256
    for img, square, region, value in (("imgt_masked", "mask_to", "mask_t", 0.5),
                                       ("imgb_masked", "mask_bo", "mask_b", -0.5)):
        expected = np.broadcast_to(value * x[square] * x[region], (1, SIZE, SIZE, 3))
        np.testing.assert_array_equal(x[img], expected)
    np.testing.assert_array_equal(np.argmax(x["parsing"], -1), labels)


def test_afn_parsing_and_colours():
    labels = np.arange(20, dtype=np.int32).reshape(1, 1, 20)
    merged = np.argmax(P.afn_parsing(labels), -1)[0, 0]
    assert merged.tolist() == [8, 3, 0, 7, 8, 4, 5, 4, 2, 5, 1, 8, 5, 7, 1, 1, 2, 2, 6, 6]
    np.testing.assert_array_equal(P.colour_layout(labels[0]), np.array([CIHP_PALETTE], np.uint8))


def test_chain_shapes_and_ranges(chain):
    n = 2
    assert chain["z"].shape == (n, 24)
    for key in ("layouts", "view_layouts"):
        assert chain[key].shape == (n, SIZE, SIZE) and chain[key].dtype == np.int32
        assert chain[key].min() >= 0 and chain[key].max() <= 19
    probs = chain["layout_probs"]
    assert probs.shape == (n, SIZE, SIZE, 20) and probs.min() > 0
    np.testing.assert_allclose(probs.sum(-1), 1, atol=1e-5)
    np.testing.assert_array_equal(np.argmax(probs, -1), chain["layouts"])
    for key in ("designs", "views"):
        assert chain[key].shape == (n, SIZE, SIZE, 3)
        assert chain[key].min() >= -1 and chain[key].max() <= 1
    assert [f.shape for f in chain["flows"]] == [(n, 8, 8, 2), (n, 16, 16, 2), (n, 32, 32, 2)]


def test_chain_equals_the_stages_by_hand(nets, inputs, chain):
    keypoints, view, (top, bottom) = inputs
    z = P.random_codes(3, 2)
    labels, one_hot, _ = P.layouts(nets.lgn, P.lgn_inputs(keypoints, SIZE, SIZE), z)
    view_labels = P.layouts(nets.lgn, P.lgn_inputs(view, SIZE, SIZE), z)[0]
    np.testing.assert_array_equal(one_hot, P.one_hot(labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        design = P.designs(nets.tsn, P.tsn_inputs(labels, top, bottom))
    image, _ = P.views(nets.afn, P.afn_inputs(design, labels, view_labels))
    np.testing.assert_array_equal(chain["z"], z)
    np.testing.assert_array_equal(chain["layouts"], labels)
    np.testing.assert_array_equal(chain["view_layouts"], view_labels)
    np.testing.assert_allclose(chain["designs"], design, atol=1e-6)
    np.testing.assert_allclose(chain["views"], image, atol=1e-6)


def test_seeds_fix_the_layouts(nets, inputs, chain):
    pose = P.lgn_inputs(inputs[0], SIZE, SIZE)
    same = P.layouts(nets.lgn, pose, P.random_codes(3, 2))
    other = P.layouts(nets.lgn, pose, P.random_codes(4, 2))
    np.testing.assert_array_equal(same[0], chain["layouts"])
    assert not np.array_equal(other[0], chain["layouts"])
    # the default target view: the mirrored pose
    mirrored = P.mirror_keypoints(inputs[0], SIZE)
    assert np.array_equal(P.mirror_keypoints(mirrored, SIZE), inputs[0])


def test_bad_inputs_raise_naming_what_is_wrong(nets, inputs):
    keypoints, view, (top, bottom) = inputs
    run = P.design_pipeline
    with pytest.raises(ValueError, match=r"keypoints: expected \[18, 2\].*\(17, 2\)"):
        run(nets, keypoints[:17], (top, bottom))
    far = keypoints.copy()
    far[4] = (10, SIZE + 3)
    with pytest.raises(ValueError, match=r"joint 4 \(right_wrist\).*outside the 64 x 64"):
        run(nets, far, (top, bottom))
    with pytest.raises(ValueError, match="view keypoints: joint 4"):
        run(nets, keypoints, (top, bottom), view_keypoints=far)
    with pytest.raises(ValueError, match="top swatch: 65 x 10 is larger than the 64 x 64"):
        run(nets, keypoints, (np.zeros((65, 10, 3)), bottom))
    with pytest.raises(ValueError, match=r"bottom swatch: expected an RGB image.*\(8, 8\)"):
        run(nets, keypoints, (top, np.zeros((8, 8))))
    with pytest.raises(ValueError, match=r"bottom swatch: values must lie in \[-1, 1\]"):
        run(nets, keypoints, (top, np.full((8, 8, 3), 255.0)))
    with pytest.raises(ValueError, match="number of layouts must be >= 1"):
        run(nets, keypoints, (top, bottom), num_layouts=0)
    with pytest.raises(ValueError, match="labels must be 0..19"):
        P.tsn_inputs(np.full((1, SIZE, SIZE), 20), top, bottom)
    with pytest.raises(ValueError, match=r"z: expected \[B, 24\]"):
        P.layouts(nets.lgn, P.lgn_inputs(keypoints, SIZE, SIZE), np.zeros((1, 8)))


def test_script_writes_every_output_on_synthetic(tmp_path, warm_python):
    env = warm_python.env(CUDA_VISIBLE_DEVICES="")
    out = tmp_path / "out"
    proc = subprocess.run([warm_python.python, os.path.join(ROOT, "run_scripts/paint/generate.py"),
                           "--out", str(out), "--synthetic", "--preset", "tiny",
                           "--num_layouts", "2", "--seed", "1"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = sorted(f"synthetic_{kind}{k}.png" for kind in ("layout", "design", "view")
                   for k in range(2))
    assert sorted(os.listdir(out)) == names
    from PIL import Image
    layout = np.asarray(Image.open(out / "synthetic_layout0.png"))
    assert layout.shape == (SIZE, SIZE, 3)
    assert {tuple(c) for c in layout.reshape(-1, 3)} <= set(CIHP_PALETTE)
