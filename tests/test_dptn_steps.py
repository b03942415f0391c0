"""DPTN_step's quantised step targets (tfposegen.models.dptn.steps): the TF function equals
its numpy twin bit for bit, and both reproduce the original's float32 sequence, which
differs from integer arithmetic at the levels torch was measured to give."""

import numpy as np
import pytest

from tfposegen.models.dptn.steps import step_divisors, step_target, step_target_np


def _normalized(pixels):
    """ToTensor + Normalize(0.5, 0.5) in float32, as the loader."""
    return (np.asarray(pixels, np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.5)


def test_divisors_of_the_code():
    assert step_divisors(5) == [204, 153, 102, 51] and step_divisors(3) == [170, 85]


@pytest.mark.parametrize("steps", [3, 4, 5, 7])
def test_every_level_against_integer_arithmetic(steps):
    pixels = np.arange(256)
    x = _normalized(pixels)
    # measured with torch 2.14 on the original's sequence: these are the only levels where
    # the float32 result differs from (p // d) * d
    torch_quirks = {(5, 4): [51], (7, 6): [39]}
    for step, d in enumerate(step_divisors(steps), 1):
        tf_out = np.asarray(step_target(x, step, steps))
        np_out = step_target_np(x, step, steps)
        np.testing.assert_array_equal(tf_out, np_out)
        levels = np.round((np_out + 1) / 2 * 255).astype(int)
        assert len(np.unique(levels)) == 255 // d + 1
        differs = pixels[levels != (pixels // d) * d].tolist()
        assert differs == torch_quirks.get((steps, step), []), (steps, step, differs)
    np.testing.assert_array_equal(np.asarray(step_target(x, steps, steps)), x)  # last step


def test_images_of_any_shape_and_bad_steps():
    rng = np.random.default_rng(0)
    image = _normalized(rng.integers(0, 256, (2, 8, 6, 3)))
    for step in (1, 2, 3, 4):
        np.testing.assert_array_equal(np.asarray(step_target(image, step, 5)),
                                      step_target_np(image, step, 5))
    assert set(np.unique(step_target_np(image, 1, 5))) == {np.float32(-1.0),
                                                          np.float32(204 / 255 * 2 - 1)}
    with pytest.raises(ValueError, match="1..5"):
        step_target(image, 0, 5)


def test_step_map_equals_the_original_table():
    """Rows 0..6 of DPTN_step's PositionalEncoding (tests/data/dptn/step_map.npz, made by
    tests/reference/make_dptn_reference.py --dptn-step-dir from the original class):
    float32 sin / cos differ by an ulp or two between numpy and torch."""
    import os

    from tfposegen.models.dptn.steps import step_map

    ref = np.load(os.path.join(os.path.dirname(__file__), "data", "dptn", "step_map.npz"))
    for (h, w), stride in (((16, 12), 1), ((256, 256), 97)):
        rows = ref[f"pe_{h}x{w}"]
        for step, row in enumerate(rows):
            mine = step_map(step, h, w)
            assert mine.shape == (h, w) and mine.dtype == np.float32
            np.testing.assert_allclose(mine.reshape(-1)[::stride], row, atol=2e-6)
    first = step_map(1, 256, 256)
    assert first[0, 0] == pytest.approx(np.sin(1.0), abs=1e-6)   # column 0: sin(step)
    assert first[-1, -1] == pytest.approx(1.0)                      # tiny angle: cos ~ 1
