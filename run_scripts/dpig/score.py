"""DPIG's ``score.py``: SSIM, PSNR, L1, L2 (grey) and IS of ``<model_dir>/<test_dir>``.

    python run_scripts/dpig/score.py 1 <gpu> <model_dir> <test_dir> [classify_image_graph_def.pb]

Compares ``G/`` with ``x_target/``, pairing files by their sample index (``%05d.png``; the
sampling tests' ``%04d_c1s1_%06d_%05d[_<score>].png`` by their ``%05d`` field);
``--original_quirks`` pairs by unsorted listing as the original (correct only when both
folders happen to list in the same order). The Inception Score needs the 2015 Inception graph file
(``classify_image_graph_def.pb``, from inception-2015-12-05.tgz) given by path; without it the
IS is skipped with a message. Writes ``score.txt`` ("Image number", "IS").
"""

import glob
import os
import re
import sys

import numpy as np
from PIL import Image

_SAMPLE_NAME = re.compile(r"^\d+_c1s1_\d+_(\d+)(_.*)?$")


def sample_index(path):
    """Pairing key of a test image: its sample index ``idx`` (``%05d.png`` or the
    ``%04d_c1s1_%06d_%05d[_<score>]`` names of the sampling tests), else its name."""
    stem = os.path.splitext(os.path.basename(path))[0]
    m = _SAMPLE_NAME.match(stem)
    key = m.group(1) if m else stem
    return (0, int(key), "") if key.isdigit() else (1, 0, stem)


def list_images(folder, original_order=False):
    """*.jpg then *.png of a folder: sorted by :func:`sample_index`, or as glob lists them
    (``original_order``, the original's pairing)."""
    files = [f for ext in ("*.jpg", "*.png") for f in glob.glob(os.path.join(folder, ext))]
    return files if original_order else sorted(files, key=sample_index)


def run(argv, masked=False):
    """Score a test folder (``masked``: score_mask.py). Returns the exit status."""
    from tfposegen.metrics.inception import inception_score
    from tfposegen.models.dpig import scores
    from tfposegen.utils.files import atomic_path

    prog = "score_mask.py" if masked else "score.py"
    original = "--original_quirks" in argv
    args = [a for a in argv if a != "--original_quirks"]
    if len(args) not in (4, 5) or args[0] != "1":
        print(f"{prog}: error: usage: {prog} 1 <gpu> <model_dir> <test_dir> "
              "[classify_image_graph_def.pb] [--original_quirks]", file=sys.stderr)
        return 2
    folder = os.path.join(args[2], args[3])
    mask_dir = "mask" if original else "mask_target"
    xs = list_images(os.path.join(folder, "x_target"), original)
    gs = list_images(os.path.join(folder, "G"), original)
    ms = list_images(os.path.join(folder, mask_dir), original) if masked else [None] * len(gs)
    if not gs or len(xs) != len(gs) or len(ms) != len(gs):
        print(f"{prog}: error: {folder}: need as many images in x_target/, G/"
              f"{f', {mask_dir}/' if masked else ''} (found {len(xs)}, {len(gs)}"
              f"{f', {len(ms)}' if masked else ''})", file=sys.stderr)
        return 2
    if not original and [sample_index(f) for f in xs] != [sample_index(f) for f in gs]:
        print(f"{prog}: error: {folder}: G/ and x_target/ hold different sample indices",
              file=sys.stderr)
        return 2
    load = lambda p: np.asarray(Image.open(p).convert("RGB"))  # noqa: E731
    rows, used = [], []
    for x, g, m in zip(xs, gs, ms):
        mask = np.asarray(Image.open(m).convert("L")) if m else None
        rows.append(scores.pair_scores(load(g), load(x), mask))
        gi = load(g)
        used.append(gi if mask is None else (mask[..., None] / 255.0 * gi).astype(np.uint8))
    for key in ("ssim", "psnr", "l1", "l2"):
        v = np.array([r[key] for r in rows])
        print(f"{key}_G_x_mean: {v.mean():f}\n{key}_G_x_std: {v.std():f}")
    text = f"Image number: {len(gs)}\n"
    if len(args) == 5 and os.path.isfile(args[4]):
        mean, std = inception_score(used, args[4])
        print(f"IS_G_mean: {mean:f}\nIS_G_std: {std:f}")
        text += f"IS: {mean:.5f} +- {std:.5f}   "
    else:
        print(f"{prog}: IS skipped: give the path of classify_image_graph_def.pb (the 2015 "
              "Inception graph) as the fifth argument")
    with atomic_path(os.path.join(folder, "score_mask.txt" if masked else "score.txt")) as tmp, \
            open(tmp, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
