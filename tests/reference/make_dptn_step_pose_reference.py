"""Reference 41-channel pose maps of DPTN_step's ORIGINAL code for tests/test_dptn_step_pose.py.

Run once in a separate virtual environment with torch and OpenCV (never dependencies of the
package), on the ``util`` and ``data`` folders of gkalstn000/DPTN_step:

    git --git-dir=<DPTN_step git dir> archive HEAD util data | tar -x -C /tmp/dptn_step_pose_orig
    <torch venv>/bin/pip install opencv-python-headless
    <torch venv>/bin/python tests/reference/make_dptn_step_pose_reference.py \
        --orig-dir /tmp/dptn_step_pose_orig

It imports the original ``util/util.py`` (``cords_to_map``, ``limbs_to_map``) and
``data/base_dataset.py`` (``BaseDataset.obtain_bone_with_coord``) as they are; only the
plotting / progress modules imported by util.py but not used here (seaborn, tqdm,
matplotlib) are stubbed when missing, and ``np.int`` (removed in numpy 1.24, used by the
original) is set to ``int``. The original pinned opencv-python 4.6.0.66: its float64
``warpAffine`` gives the same bits as the 5.1 used here (every case below recomputed with
4.6.0.66 and numpy 1.26 has the same digests).

Writes ``tests/reference/dptn_step_pose.npz`` (np.savez_compressed) with
``load_size`` (256, 256), ``old_size`` (256, 176), ``opencv`` (its version), ``names``
(the cases of :func:`keypoint_cases`) and per case k:

- ``kp_<k>``: float64 [18, 2] (row, col) keypoints, -1 missing; ``sigma_<k>``: (keypoint
  sigma, limb sigma);
- every case: ``sha_<k>``: uint8 [41, 16], a digest of each channel's float32 bytes
  (:func:`channel_digests`), and ``sum_<k>``: float64 [41] channel sums - the map is
  ``torch.cat`` of the two parts as obtain_bone_with_coord, transposed to channels last;
- cases in ``FULL`` also the values: ``limbs_<k>``: float32 [256, 256, 23] (the limb
  channels whole) and ``joints_<k>``: float32 [32, 32, 18] (keypoint channels on the pixels
  ``JOINT_ROWS`` x ``JOINT_COLS``; whole they would take megabytes).
"""

import argparse
import hashlib
import importlib
import importlib.machinery
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "dptn_step_pose.npz")
LOAD_SIZE, OLD_SIZE = (256, 256), (256, 176)
FULL = ("upright", "missing", "geometry", "upright_sigma2")
JOINT_ROWS, JOINT_COLS = slice(3, None, 8), slice(5, None, 8)  # stored keypoint-map pixels
RANDOM_PERSONS = 24


def keypoint_cases():
    """(name, float64 [18, 2] (row, col) in the 256 x 176 frame, (sigma, limb_sigma)) list.

    * upright: a hand-made frontal standing person (OpenPose order);
    * missing: the same with missing joints (-1; one only in its row), joints out of the
      176-wide frame (col 176, 190, -3) and at row 256 (= old_H, invalid);
    * geometry: a vertical nose-neck limb (22 px), horizontal neck-shoulder limbs, 45-degree
      limbs in the 256 x 256 map, a zero-length limb (right hip and knee on one pixel), the
      ears on the frame's corners (0, 0) and (255, 175): a 360 px diagonal (scale > 1);
    * upright_sigma2: ``upright`` with sigma 2 for both parts (checkpoints before c520d34);
    * fractional: ``upright`` + 0.25 with two coordinates just below an integer where the
      original's int(r' + 1) - 1 is not int(r');
    * random_<i>: seeded random in-frame persons (10% missing), sigmas (6, 3) - the limb
      angles and lengths vary.
    """
    upright = np.float64([[40, 88], [70, 88], [70, 62], [110, 55], [145, 52], [70, 114],
                        [110, 121], [145, 124], [140, 72], [190, 70], [240, 69], [140, 104],
                        [190, 106], [240, 107], [35, 82], [35, 94], [38, 76], [38, 100]])
    missing = upright.copy()
    missing[[16, 17, 7]] = -1
    missing[13, 0] = -1                          # only the row missing
    missing[4, 1], missing[10, 1] = 176, 190     # right of the frame (old_W = 176)
    missing[3, 1] = -3
    missing[12, 0] = 256                         # below the frame (old_H = 256)
    # geometry: map cols are int(c / 176 * 256); c = 11 m maps to 16 m exactly
    geometry = np.float64([[44, 88], [66, 88], [66, 55], [114, 22], [162, 55], [66, 121],
                         [114, 154], [130, 176 - 1], [150, 66], [150, 66], [255, 0],
                         [150, 110], [198, 143], [255, 175], [30, 77], [30, 99], [0, 0],
                         [255, 175]])
    # (2,3): 48 rows down, 33 cols -> 48 px left in the map: 45 degrees; (3,4) the mirror
    fractional = upright + 0.25
    fractional[0, 0] = np.nextafter(32.0, 0)    # r' + 1 rounds up to 33: peak row 32, not 31
    fractional[1, 1] = np.nextafter(88.0, 0)    # c' = 127.99..., c' + 1 rounds to 129
    cases = [("upright", upright, (6.0, 3.0)), ("missing", missing, (6.0, 3.0)),
             ("geometry", geometry, (6.0, 3.0)), ("upright_sigma2", upright, (2.0, 2.0)),
             ("fractional", fractional, (6.0, 3.0))]
    rng = np.random.default_rng(20230818)
    for i in range(RANDOM_PERSONS):
        kp = np.stack([rng.integers(0, 256, 18), rng.integers(0, 176, 18)], 1).astype(float)
        kp[rng.random(18) < 0.1] = -1
        cases.append((f"random_{i}", kp, (6.0, 3.0)))
    return cases


def channel_digests(maps):
    """float32 [H, W, C] -> (uint8 [C, 16]: the first 16 bytes of the SHA-256 of each
    channel's float32 bytes in C order, float64 [C] channel sums). The test imports it."""
    channels = [np.ascontiguousarray(maps[..., c], np.float32) for c in range(maps.shape[-1])]
    digests = [np.frombuffer(hashlib.sha256(ch.tobytes()).digest()[:16], np.uint8)
               for ch in channels]
    return np.stack(digests), np.array([ch.sum(dtype=np.float64) for ch in channels])


def load_original(orig_dir):
    """The original util.util and data.base_dataset modules (stubs: see the docstring)."""
    np.int = int
    importlib.import_module("torchvision.utils")  # before the stubs (torch inspects them)
    for name in ("seaborn", "tqdm", "matplotlib", "matplotlib.pyplot"):
        try:
            importlib.import_module(name)
        except ImportError:
            stub = types.ModuleType(name)
            stub.__spec__ = importlib.machinery.ModuleSpec(name, None)
            stub.tqdm = stub.trange = lambda *a, **k: None
            sys.modules[name] = stub
    sys.path.insert(0, os.path.abspath(orig_dir))
    util = importlib.import_module("util.util")
    base = importlib.import_module("data.base_dataset")
    return util, base


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orig-dir", required=True,
                        help="folder holding DPTN_step's util/ and data/ (git archive)")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()

    import cv2
    import torch

    util, base = load_original(args.orig_dir)
    opt = types.SimpleNamespace(load_size=LOAD_SIZE, old_size=OLD_SIZE)
    dataset = base.BaseDataset()
    dataset.opt = opt
    arrays = dict(load_size=np.array(LOAD_SIZE), old_size=np.array(OLD_SIZE),
                  opencv=np.array(cv2.__version__), names=np.array([c[0] for c in
                                                                     keypoint_cases()]))
    for name, kp, (sigma, limb_sigma) in keypoint_cases():
        coord = np.asarray(kp, np.float64)
        bone = torch.cat([torch.Tensor(util.cords_to_map(coord, opt, sigma)),
                          torch.Tensor(util.limbs_to_map(coord, opt, limb_sigma))])
        if (sigma, limb_sigma) == (6.0, 3.0):  # the dataset's own path (default sigmas)
            assert torch.equal(bone, dataset.obtain_bone_with_coord(coord)), name
        maps = bone.numpy().transpose(1, 2, 0)
        assert maps.shape == LOAD_SIZE + (41,) and maps.dtype == np.float32
        arrays[f"kp_{name}"] = coord
        arrays[f"sigma_{name}"] = np.array([sigma, limb_sigma])
        arrays[f"sha_{name}"], arrays[f"sum_{name}"] = channel_digests(maps)
        if name in FULL:
            arrays[f"limbs_{name}"] = maps[..., 18:]
            arrays[f"joints_{name}"] = maps[JOINT_ROWS, JOINT_COLS, :18]
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, OpenCV {cv2.__version__})")


if __name__ == "__main__":
    main()
