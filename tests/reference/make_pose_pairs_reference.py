"""Reference pose maps from the originals' ``cords_to_map`` for tests/test_pose_pairs.py.

    git clone https://github.com/tengteng95/Pose-Transfer /tmp/patn
    git clone https://github.com/RenYurui/Global-Flow-Local-Attention /tmp/gfla
    python tests/reference/make_pose_pairs_reference.py /tmp/patn /tmp/gfla

(a bare git directory works too). Only the two functions ``cords_to_map`` and
``load_pose_cords_from_strings`` are taken from the originals' files (PATN
``tool/pose_utils.py`` and ``tool/generate_pose_map_fashion.py``, GFLA
``util/pose_utils.py``) and run as they are, with numpy only: the modules themselves import
skimage / matplotlib APIs that recent versions no longer have.

Writes ``tests/data/pose_pairs/heatmaps.npz``: the keypoint sets (as the annotation CSV
strings of :func:`keypoint_sets`) and float32 maps of the channels ``CHANNELS`` (32x24 maps
whole, larger ones on the pixel grid rows ``ROWS``, cols ``COLS``):

* ``patn_<k>_<H>x<W>``: PATN float maps, no rescaling;
* ``patn_uint8_<k>``: PATN's generate_pose_map_fashion maps (uint8, 256x176);
* ``gfla_<k>_<H>x<W>``: GFLA / DPTN maps rescaled from the 256x176 annotation frame.
"""

import ast
import os
import subprocess
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "data", "pose_pairs", "heatmaps.npz")
CHANNELS = (0, 1, 4, 13, 15, 16)  # stored channels (others are the same formula)
ROWS, COLS = slice(1, None, 6), slice(2, None, 5)  # sampled pixels of the large maps


def keypoint_sets():
    """Three ``(keypoints_y, keypoints_x)`` CSV strings in a 256x176 frame: an ordinary
    pose, one with missing joints and out-of-frame / negative coordinates (as in the shipped
    ADGAN test CSV), and one on the columns where int(c / 176 * 176) != c."""
    rng = np.random.default_rng(7)
    ys = rng.integers(0, 256, 18)
    xs = rng.integers(0, 176, 18)
    sets = [(ys.copy(), xs.copy())]
    ys[[1, 4]], xs[[1, 9]] = -1, -1  # joint 1 fully missing, 4 and 9 half missing
    ys[13], xs[13], xs[15], ys[16] = 250, 205, -31, 300
    sets.append((ys.copy(), xs.copy()))
    quirk = np.array([15, 30, 49, 60, 98, 109, 120, 0, 175, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    sets.append((np.arange(18) * 14 + 3, quirk))
    return [(str(y.tolist()), str(x.tolist())) for y, x in sets]


def read_source(root, path):
    if os.path.isfile(os.path.join(root, path)):
        with open(os.path.join(root, path)) as f:
            return f.read()
    return subprocess.run(["git", "--git-dir", root, "show", f"HEAD:{path}"], check=True,
                          capture_output=True, text=True).stdout


def functions(source, names):
    """Namespace with the named top-level functions of ``source`` (numpy, json and
    MISSING_VALUE = -1 as the originals' module globals)."""
    tree = ast.parse(source)
    keep = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    namespace = {"np": np, "json": __import__("json"), "MISSING_VALUE": -1}
    exec(compile(ast.Module(body=keep, type_ignores=[]), "<original>", "exec"), namespace)
    return namespace


def main(patn_root, gfla_root):
    patn = functions(read_source(patn_root, "tool/pose_utils.py"), {"cords_to_map"})
    patn_u8 = functions(read_source(patn_root, "tool/generate_pose_map_fashion.py"),
                        {"cords_to_map", "load_pose_cords_from_strings"})
    gfla = functions(read_source(gfla_root, "util/pose_utils.py"),
                     {"cords_to_map", "load_pose_cords_from_strings"})
    out = {"channels": np.array(CHANNELS)}
    for k, (y_str, x_str) in enumerate(keypoint_sets()):
        out[f"y_{k}"], out[f"x_{k}"] = np.array(y_str), np.array(x_str)
        cords = gfla["load_pose_cords_from_strings"](y_str, x_str)
        small = cords // 8  # the same pose in a 32x24 frame (-1 stays -1)
        out[f"patn_{k}_32x24"] = patn["cords_to_map"](small, (32, 24))[..., CHANNELS]
        out[f"patn_{k}_256x176"] = patn["cords_to_map"](cords, (256, 176))[ROWS, COLS, CHANNELS]
        u8 = patn_u8["cords_to_map"](patn_u8["load_pose_cords_from_strings"](y_str, x_str),
                                     (256, 176), 6)
        out[f"patn_uint8_{k}"] = np.argwhere(u8)  # (row, col, joint) of every nonzero pixel
        for size in ((256, 256), (256, 176), (32, 24)):
            maps = gfla["cords_to_map"](cords, size, (256, 176))
            grid = maps[..., CHANNELS] if size == (32, 24) else maps[ROWS, COLS, CHANNELS]
            out[f"gfla_{k}_{size[0]}x{size[1]}"] = grid
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
