"""The procedural DGP sample generator (tfposegen.data.synthetic)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from tfposegen.data import synthetic
from tfposegen.models.dgp import inputs, masks

ARRAYS = ("model_img", "model_parse", "cloth_img", "cloth_parse", "coarse_align")
CLOTH_LABELS = {"tank": {0, 23, 32}, "short": {0, 23, 32, 64, 128}, "long": {0, 23, 32, 64, 128}}


@pytest.fixture(scope="module")
def samples():
    """30 samples at 128 px (seed -> sample)."""
    return {seed: synthetic.make_dgp_sample(seed, 128) for seed in range(30)}


def test_shapes_and_types(samples):
    s = samples[0]
    for name in ARRAYS:
        assert s[name].dtype == np.uint8
    for name in ("model_img", "cloth_img", "coarse_align"):
        assert s[name].shape == (128, 128, 3)
    for name in ("model_parse", "cloth_parse"):
        assert s[name].shape == (128, 128)
    assert s["sleeve"] in synthetic.SLEEVES
    assert s["cloth_sleeve"] == ("long" if s["sleeve"] == "long" else "short")


def test_reproducible_and_seed_dependent():
    a = synthetic.make_dgp_sample(3, 96)
    b = synthetic.make_dgp_sample(3, 96)
    c = synthetic.make_dgp_sample(4, 96)
    for name in ARRAYS:
        np.testing.assert_array_equal(a[name], b[name])
        assert not np.array_equal(a[name], c[name]), name
    assert a["info"] == b["info"]


def test_written_files_byte_identical_and_readable(tmp_path):
    contents = []
    for run in ("a", "b"):
        cloth_dir, model_dir, flag = synthetic.write_dgp_sample(tmp_path / run, 11, 80)
        assert cloth_dir == os.path.join(str(tmp_path / run), "cloth_1")
        assert model_dir == os.path.join(str(tmp_path / run), "model_info")
        files = [os.path.join(model_dir, f"{n}.png") for n in ("model_img", "model_parse")]
        files += [os.path.join(cloth_dir, f"{n}.png")
                  for n in ("cloth_img", "cloth_parse", "coarse_align")]
        data = []
        for f in files:
            with open(f, "rb") as fh:
                data.append(fh.read())
        contents.append(data)
        assert sorted(os.listdir(cloth_dir)) == ["cloth_img.png", "cloth_parse.png",
                                                 "coarse_align.png"]
    assert contents[0] == contents[1]
    sample = synthetic.make_dgp_sample(11, 80)
    assert flag == sample["cloth_sleeve"]
    pair = inputs.read_pair(cloth_dir, model_dir)
    np.testing.assert_array_equal(pair["model_parse"], sample["model_parse"])
    np.testing.assert_array_equal(pair["cloth_parse"], sample["cloth_parse"])
    np.testing.assert_array_equal(pair["coarse_align"], sample["coarse_align"])
    prepared = inputs.prepare_pair(pair, flag, 64)
    assert prepared.rough_alignment.shape == (64, 64, 3)
    assert prepared.residual.shape == (80, 80) and prepared.residual.any()
    assert prepared.mask_inner.shape == (64, 64) and prepared.mask_inner.sum() > 0
    assert 0 < prepared.pixel_mask.mean() < 1


@pytest.mark.parametrize("sleeve", synthetic.SLEEVES)
def test_label_sets(sleeve):
    for seed in range(6):
        s = synthetic.make_dgp_sample(seed, 96, sleeve=sleeve)
        assert s["sleeve"] == sleeve
        assert s["cloth_sleeve"] == ("long" if sleeve == "long" else "short")
        assert set(np.unique(s["cloth_parse"]).tolist()) == CLOTH_LABELS[sleeve]
        model_labels = set(np.unique(s["model_parse"]).tolist())
        expected = {0, 16, 32, 64} | ({255} if s["info"]["hair"] else set())
        assert model_labels == expected


def test_model_does_not_depend_on_new_garment():
    models = [synthetic.make_dgp_sample(5, 64, sleeve=k) for k in synthetic.SLEEVES]
    for s in models[1:]:
        np.testing.assert_array_equal(s["model_img"], models[0]["model_img"])
        np.testing.assert_array_equal(s["model_parse"], models[0]["model_parse"])
    images = list(synthetic.make_model_images([5, 6], 64))
    assert len(images) == 2 and images[0].shape == (64, 64, 3) and images[0].dtype == np.uint8
    np.testing.assert_array_equal(images[0], models[0]["model_img"])


def test_arm_sides_and_areas(samples):
    for seed, s in samples.items():
        m, c = s["model_parse"], s["cloth_parse"]
        size = m.shape[0]
        left = np.nonzero(m == 16)[1].mean()
        right = np.nonzero(m == 32)[1].mean()
        assert left < size / 2 < right, seed
        area = {k: (m == k).mean() for k in (16, 32, 64, 255)}
        assert 0.2 < area[64] < 0.65, (seed, area)
        assert 0.002 < area[16] < 0.12 and 0.002 < area[32] < 0.12, (seed, area)
        assert area[255] < 0.12, (seed, area)
        assert 0.15 < (c == 32).mean() < 0.55, seed
        assert 0 < (c == 23).mean() < 0.05, seed
        if s["sleeve"] != "tank":
            assert np.nonzero(c == 64)[1].mean() < size / 2 < np.nonzero(c == 128)[1].mean()
        # the collar opening is at the top centre, the trunk reaches the bottom edge
        rows, cols = np.nonzero(c == 23)
        assert rows.max() < 0.4 * size and abs(cols.mean() - size / 2) < 0.1 * size
        assert (m[-1] == 64).any() and (m[0] == 64).any()
        # white product background
        assert (s["cloth_img"][c == 0] == 255).all()


def test_coarse_alignment_is_cloth_over_model(samples):
    for s in samples.values():
        pasted = np.isin(s["cloth_parse"], (32, 64, 128))
        np.testing.assert_array_equal(s["coarse_align"][pasted], s["cloth_img"][pasted])
        np.testing.assert_array_equal(s["coarse_align"][~pasted], s["model_img"][~pasted])


def test_dgp_masks(samples):
    arm_samples = 0
    for seed, s in samples.items():
        m, c, flag = s["model_parse"], s["cloth_parse"], s["cloth_sleeve"]
        residual = masks.residual_mask(m, c, flag)
        body = m == 64 if flag == "short" else m != 0
        old_shows = body & np.isin(c, (0, 23))
        assert old_shows.any(), seed
        assert residual[old_shows].all() and residual.any(), seed
        mask_arm, mask_inner = masks.arm_and_inner_masks(m, c, 128)
        assert mask_inner.sum() > 0.1 * 128 * 128, seed
        arm_samples += mask_arm.sum() > 0
        if {"hip", "bent"} & set(s["info"]["poses"]):
            assert mask_arm.sum() > 0, seed  # arms lying over the new garment's body
    assert arm_samples >= 5


def test_variety_over_50_seeds():
    sleeves, model_sleeves, patterns, poses, skins, hair = set(), set(), set(), set(), [], set()
    images = []
    for seed in range(50):
        s = synthetic.make_dgp_sample(seed, 48)
        info = s["info"]
        sleeves.add(s["sleeve"])
        model_sleeves.add(info["model_sleeve"])
        patterns.update((info["cloth_pattern"], info["model_pattern"]))
        poses.update(info["poses"])
        skins.append(np.dot(info["skin"], (0.299, 0.587, 0.114)))
        hair.add(info["hair"])
        images.append(s["model_img"])
    assert sleeves == set(synthetic.SLEEVES) and model_sleeves == set(synthetic.SLEEVES)
    assert patterns == set(synthetic.PATTERNS)
    assert poses == set(synthetic.POSES)
    assert hair == {True, False}
    assert max(skins) - min(skins) > 90 and len({round(v) for v in skins}) > 30
    flat = np.stack(images).reshape(50, -1).astype(np.int16)
    assert len({im.tobytes() for im in flat}) == 50


def test_images_are_shaded_not_flat(samples):
    s = samples[1]
    trunk = s["model_img"][s["model_parse"] == 64]
    assert len(np.unique(trunk.reshape(-1, 3), axis=0)) > 200
    background = s["model_img"][s["model_parse"] == 0]
    assert background.mean() > 200


def test_bad_arguments():
    with pytest.raises(ValueError, match="sleeve"):
        synthetic.make_dgp_sample(0, 64, sleeve="vest")
    with pytest.raises(ValueError, match="size"):
        synthetic.make_dgp_sample(0, 16)
    with pytest.raises(ValueError, match="seed"):
        synthetic.make_dgp_sample(-1, 64)


def test_no_tensorflow_import():
    code = ("import sys, tfposegen.data.synthetic as s; s.make_dgp_sample(0, 32); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_synthetic_training_records(tmp_path, warm_python):
    """images_to_tfrecords.py --synthetic writes make_model_images' images, in seed order."""
    from tfposegen.data.image_records import image_dataset

    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "run_scripts", "stylegan2", "images_to_tfrecords.py")
    proc = subprocess.run([warm_python.python, script, "--synthetic=3", "--synthetic_seed=5",
                           f"--out_dir={tmp_path}", "--resolution=32"],
                          capture_output=True, text=True, env=warm_python.env())
    assert proc.returncode == 0, proc.stderr
    batch = next(iter(image_dataset(tmp_path, 3, 32, shuffle=False, repeat=False))).numpy()
    expected = np.stack(list(synthetic.make_model_images([5, 6, 7], 32)))
    np.testing.assert_allclose(batch, expected / 127.5 - 1, atol=1e-6)
