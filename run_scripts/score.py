"""DPIG's ``score.py``: SSIM, PSNR, L1, L2 (grey) and IS of ``<model_dir>/<test_dir>``.

    python run_scripts/score.py 1 <gpu> <model_dir> <test_dir> [classify_image_graph_def.pb]

Compares ``G/`` with ``x_target/``, pairing files by **sorted** name (1002's
``%04d_c1s1_%06d_%05d`` names pair by their last index); ``--original_order`` pairs by
unsorted listing as the original. The Inception Score needs the 2015 Inception graph file
(``classify_image_graph_def.pb``, from inception-2015-12-05.tgz) given by path; without it the
IS is skipped with a message. Writes ``score.txt`` ("Image number", "IS").
"""

import glob
import os
import sys

import numpy as np
from PIL import Image


def list_images(folder, original_order=False):
    """*.jpg then *.png of a folder: sorted by their trailing number / name, or as glob
    lists them (``original_order``)."""
    files = [f for ext in ("*.jpg", "*.png") for f in glob.glob(os.path.join(folder, ext))]
    if original_order:
        return files
    return sorted(files, key=lambda f: (os.path.splitext(os.path.basename(f))[0]
                                        .split("_")[-1], f))


def run(argv, masked=False):
    """Score a test folder (``masked``: score_mask.py). Returns the exit status."""
    from tfposegen.dpig import scores

    prog = "score_mask.py" if masked else "score.py"
    original = "--original_order" in argv
    args = [a for a in argv if a != "--original_order"]
    if len(args) not in (4, 5) or args[0] != "1":
        print(f"{prog}: error: usage: {prog} 1 <gpu> <model_dir> <test_dir> "
              "[classify_image_graph_def.pb] [--original_order]", file=sys.stderr)
        return 2
    folder = os.path.join(args[2], args[3])
    xs = list_images(os.path.join(folder, "x_target"), original)
    gs = list_images(os.path.join(folder, "G"), original)
    ms = list_images(os.path.join(folder, "mask"), original) if masked else [None] * len(gs)
    if not gs or len(xs) != len(gs) or len(ms) != len(gs):
        print(f"{prog}: error: {folder}: need as many images in x_target/, G/"
              f"{', mask/' if masked else ''} (found {len(xs)}, {len(gs)})", file=sys.stderr)
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
        mean, std = scores.inception_score(used, args[4])
        print(f"IS_G_mean: {mean:f}\nIS_G_std: {std:f}")
        text += f"IS: {mean:.5f} +- {std:.5f}   "
    else:
        print(f"{prog}: IS skipped: give the path of classify_image_graph_def.pb (the 2015 "
              "Inception graph) as the fifth argument")
    with open(os.path.join(folder, "score_mask.txt" if masked else "score.txt"), "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
