"""DPTN_step's 41-channel pose map (``cords_to_map`` + ``limbs_to_map`` of util/util.py in
gkalstn000/DPTN_step), the numpy emulation of cv2.warpAffine it needs and its TensorFlow
twin."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import reference_module

from tfposegen.pose.limb_maps import (
    DPTN_STEP_LIMBS,
    dptn_step_pose,
    dptn_step_pose_np,
    limb_maps_np,
    rotation_matrix_np,
    warp_affine_np,
)
from tfposegen.pose.maps import gaussian_heatmaps_np

REF_SCRIPT = "make_dptn_step_pose_reference.py"
SIZE, OLD = (256, 256), (256, 176)


@pytest.fixture(scope="module")
def ref():
    script = reference_module(REF_SCRIPT)
    data = np.load(script.OUT)
    return script, {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def computed(ref):
    _, data = ref
    return {str(name): dptn_step_pose_np(data[f"kp_{name}"], *SIZE, OLD,
                                         *data[f"sigma_{name}"])
            for name in data["names"]}


def scaled(kp):
    return np.asarray(kp, np.float64) / OLD * SIZE


def test_matches_original_bitwise(ref, computed):
    """Every channel of every case (5 hand-made persons, 24 random ones) has the digest of
    the original's float32 map (OpenCV's warpAffine included); the stored values agree to
    the bit: max abs error 0."""
    script, data = ref
    assert tuple(data["load_size"]) == SIZE and tuple(data["old_size"]) == OLD
    worst = 0.0
    for name, got in computed.items():
        assert got.shape == SIZE + (41,) and got.dtype == np.float32
        digest, sums = script.channel_digests(got)
        differ = np.flatnonzero(np.any(digest != data[f"sha_{name}"], axis=1))
        assert differ.size == 0, f"{name}: channels {differ.tolist()} differ"
        np.testing.assert_allclose(sums, data[f"sum_{name}"], rtol=1e-12, atol=0)
        if f"limbs_{name}" in data:
            worst = max(worst, np.abs(got[..., 18:] - data[f"limbs_{name}"]).max(),
                        np.abs(got[script.JOINT_ROWS, script.JOINT_COLS, :18]
                               - data[f"joints_{name}"]).max())
    assert worst == 0.0


def test_keypoint_channels(ref, computed):
    """Peaks at int(r' + 1) - 1 (value 1); for integer annotations that is DPTN's int(r'),
    and the channels equal DPTN's maps; invalid joints (-1, outside 256 x 176) are empty."""
    _, data = ref
    for name in ("upright", "missing", "fractional", "random_0"):
        kp, got = data[f"kp_{name}"], computed[name]
        valid = np.all((kp >= 0) & (kp < OLD), axis=1)
        for k in range(18):
            if not valid[k]:
                assert not got[..., k].any(), (name, k)
                continue
            peak = np.unravel_index(np.argmax(got[..., k]), SIZE)
            assert peak == tuple(int(v + 1) - 1 for v in scaled(kp[k])), (name, k)
            assert got[peak + (k,)] == 1.0
        if name != "fractional":
            dptn = gaussian_heatmaps_np(kp, *SIZE, 6.0, old_size=OLD)
            np.testing.assert_array_equal(got[..., :18][..., valid], dptn[..., valid])
    # just below an integer, r' + 1 rounds up: one pixel off DPTN's truncation
    frac = data["kp_fractional"]
    assert np.argmax(computed["fractional"][:, 128, 0]) == 32 == int(scaled(frac[0])[0]) + 1
    assert np.argmax(computed["fractional"][68, :, 1]) == 128 == int(scaled(frac[1])[1]) + 1
    missing = data["kp_missing"]
    assert (missing[4, 1], missing[10, 1], missing[12, 0]) == (176, 190, 256)


def test_limb_channels_follow_their_segments(ref, computed):
    """A limb's nonzero pixels lie in a band around the segment from joint a to joint b
    (half-width: where the template's float32 Gaussian underflows, scaled by L / W, plus the
    interpolation), joint a's pixel is exactly 1; limbs with an invalid end or zero length
    are empty."""
    _, data = ref
    checked = 0
    for name in ("upright", "missing", "geometry", "random_3"):
        kp, got = data[f"kp_{name}"], computed[name][..., 18:]
        valid = np.all((kp >= 0) & (kp < OLD), axis=1)
        ends = scaled(kp).astype(np.int64)
        for k, (a, b) in enumerate(DPTN_STEP_LIMBS):
            channel = got[..., k]
            d = (ends[b] - ends[a]).astype(np.float64)
            length = np.hypot(*d)
            if not (valid[a] and valid[b]) or length == 0:
                assert not channel.any(), (name, a, b)
                continue
            start = (scaled(kp[a]) + 1).astype(np.int64) - 1
            assert channel[tuple(start)] == 1.0, (name, a, b)
            pts = np.argwhere(channel > 0) - ends[a]
            along = pts @ d / length
            across = np.abs(pts[:, 0] * d[1] - pts[:, 1] * d[0]) / length
            reach = np.sqrt(2 * 103.3) * 3.0 * length / SIZE[1] + 2.0
            assert across.max() <= reach, (name, a, b, across.max(), reach)
            assert along.min() >= -reach and along.max() <= length + 2.0, (name, a, b)
            strong = np.argwhere(channel >= 0.5) - ends[a]   # half maximum: 1.18 sigma
            half = 1.18 * 3.0 * length / SIZE[1] + 1.5
            assert np.abs(strong[:, 0] * d[1] - strong[:, 1] * d[0]).max() / length <= half
            checked += 1
    assert checked > 40
    geometry = computed["geometry"][..., 18:]
    neck = geometry[..., DPTN_STEP_LIMBS.index((0, 1))]   # nose (44, 128) -> neck (66, 128)
    np.testing.assert_array_equal(np.argwhere(neck == 1.0),
                                  np.stack([np.arange(44, 66), np.full(22, 128)], 1))
    assert not geometry[..., DPTN_STEP_LIMBS.index((8, 9))].any()   # zero length


def test_sigma_parameters(ref, computed):
    """sigma 2 (checkpoints before commit c520d34) narrows both parts."""
    _, data = ref
    kp = data["kp_upright"]
    wide, narrow = computed["upright"], computed["upright_sigma2"]
    assert (narrow[..., :18] <= wide[..., :18]).all()
    assert narrow[..., :18].sum() < 0.2 * wide[..., :18].sum()
    np.testing.assert_array_equal(narrow[..., 18:], limb_maps_np(kp, sigma=2.0))
    assert np.count_nonzero(narrow[..., 18:]) < np.count_nonzero(wide[..., 18:])


def test_warp_affine_simple_cases(rng):
    image = rng.random((9, 13))
    identity = np.float64([[1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(warp_affine_np(image, identity), image)
    shifted = warp_affine_np(image, np.float64([[1, 0, 3], [0, 1, -2]]), (12, 15))
    expected = np.zeros((12, 15))
    expected[:7, 3:] = image[2:, :12]
    np.testing.assert_array_equal(shifted, expected)
    # half a pixel right: the mean of two neighbours (weights 1/2 are on the 1/32 grid)
    half = warp_affine_np(image, np.float64([[1, 0, 0.5], [0, 1, 0]]))
    np.testing.assert_array_equal(half[:, 1:], 0.5 * image[:, :-1] + 0.5 * image[:, 1:])
    np.testing.assert_array_equal(half[:, 0], 0.5 * image[:, 0])
    square = image[:9, :9]
    quarter = warp_affine_np(square, rotation_matrix_np((4, 4), 90, 1.0))
    np.testing.assert_array_equal(quarter, np.rot90(square))   # counter-clockwise on screen
    # a 1/32 px shift is seen, a 1/100 px shift is rounded away
    np.testing.assert_array_equal(
        warp_affine_np(image, np.float64([[1, 0, 0.01], [0, 1, 0]])), image)
    assert not np.array_equal(
        warp_affine_np(image, np.float64([[1, 0, 1 / 32], [0, 1, 0]])), image)


def test_rotation_matrix_formula():
    m = rotation_matrix_np((255, 255), 30.0, 0.5)
    a, b = 0.5 * np.cos(np.pi / 6), 0.5 * np.sin(np.pi / 6)
    np.testing.assert_allclose(m, [[a, b, (1 - a) * 255 - b * 255],
                                   [-b, a, b * 255 + (1 - a) * 255]], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(rotation_matrix_np((3, 7), 0, 1), [[1, 0, 0], [0, 1, 0]])


def test_tensorflow_twin_matches_numpy(ref, computed):
    """dptn_step_pose (TF ops only) gives dptn_step_pose_np's maps to the bit (float32
    subnormals included) for every case - missing and out-of-frame joints, the zero-length
    limb, fractional coordinates (float64 input), the 24 random persons - in one batch
    inside a tf.function with a dynamic batch, and eagerly for sigma 2 with old_size as a
    tensor: max abs error 0."""
    _, data = ref
    names = [str(n) for n in data["names"]]
    batched = [n for n in names if tuple(data[f"sigma_{n}"]) == (6.0, 3.0)]
    assert {"missing", "geometry", "fractional", "upright"} <= set(batched)

    @tf.function(input_signature=[tf.TensorSpec([None, 18, 2], tf.float64)])
    def maps(kp):
        return dptn_step_pose(kp, *SIZE, OLD, sigma=6.0, limb_sigma=3.0)

    got = maps(np.stack([data[f"kp_{n}"] for n in batched])).numpy()
    assert got.shape == (len(batched),) + SIZE + (41,) and got.dtype == np.float32
    for g, n in zip(got, batched):
        np.testing.assert_array_equal(g, computed[n], err_msg=n)
    narrow = dptn_step_pose(data["kp_upright_sigma2"][None], *SIZE, tf.constant([OLD]),
                            *data["sigma_upright_sigma2"]).numpy()[0]
    np.testing.assert_array_equal(narrow, computed["upright_sigma2"])
    subnormal = (computed["missing"] > 0) & (computed["missing"] < np.finfo(np.float32).tiny)
    assert subnormal.any()                                   # kept, not flushed to 0
    assert not got[batched.index("geometry"), ..., 18 + DPTN_STEP_LIMBS.index((8, 9))].any()
