"""Procedural articulated people in the raw layouts DPIG's converters read (numpy + PIL).

A person is an 18-joint skeleton (OpenPose/COCO order, ``tfposegen.pose.maps``) built from
an identity (body proportions, skin, hair, a textured top and trousers) and a pose (facing
front / back / side, arm and leg angles), drawn as textured limbs, torso and head on a
plain-gradient background. Everything is a function of the seed: the same arguments give
byte-identical files. Keypoints are (row, col) integer pixels; a joint the view hides
(the face from behind, the far eye and ear from the side) is (-1, -1).

Writers (each returns ``{folder: {file name: keypoints int [18, 2]}}``):

* :func:`write_df_layout`: ``filted_up_{train,train_flip,test,test_samples,test_seq}/``
  JPEGs named ``<identity>_<k>pose.jpg`` and ``PoseFiltered/all_peaks_dic_DeepFashion.p``
  / ``subsets_dic_DeepFashion.p`` (+ ``*_Flip.p`` for the mirrored training folder);
* :func:`write_market_layout`: ``bounding_box_{train,train_flip,test,test_samples}/``
  JPEGs named ``<id:04d>_c<cam>s1_<frame:06d>_01.jpg`` and
  ``Market-1501_PoseFiltered/{all_peaks,subsets}_dic_Market-1501_{train,train_Flip,
  test_clean,test_samples}.p``;
* :func:`write_rcv_layout`: ``train/``, ``test/`` PNGs and ``PoseRCV/{train,test}.pickle``;
* every writer also writes ``annotations/<folder>.csv`` in the ``name:keypoints_y:
  keypoints_x`` format of PATN / GFLA; :func:`write_openpose_json` writes OpenPose JSON.

OpenPose pickles follow the original detector's output: ``all_peaks[name]`` = 18 lists of
``(x, y, score, peak_id)`` sorted by (y, x), ``subsets[name]`` = float array [people, 20]
(peak ids, -1 missing, then score and part count). Some images get a second, partial,
lower-scoring person whose peaks can come first in a joint's list (so DF's "first peak"
rule and Market's "best person" rule differ, as on real data).
"""

import json
import os
import pickle

import numpy as np
from PIL import Image, ImageDraw

FLIP_PERMUTATION = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)
_SKELETON = ((1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12),
             (12, 13))


def _identity(seed):
    rng = np.random.default_rng([seed, 1])
    return dict(
        skin=rng.integers(90, 240, 3) * np.array([1.0, 0.82, 0.68]),
        hair=rng.integers(10, 120, 3),
        top=(rng.integers(0, 256, 3), rng.integers(0, 256, 3)),
        pants=(rng.integers(0, 200, 3), rng.integers(0, 200, 3)),
        pattern=("stripes", "checks", "solid")[rng.integers(3)],
        period=int(rng.integers(4, 12)),
        width=float(rng.uniform(0.85, 1.15)),
        legs=float(rng.uniform(0.95, 1.05)),
    )


def _skeleton(ident, pose_seed, height, width):
    """Joint positions (float row, col) [18, 2] and the facing of one pose."""
    rng = np.random.default_rng([pose_seed, 2])
    facing = ("front", "back", "side")[rng.integers(3)]
    u = 0.85 * height  # person height in pixels
    cx = width / 2 + rng.uniform(-0.05, 0.05) * width
    top = 0.07 * height
    sw = min(0.11 * u * ident["width"], 0.3 * width)
    hw = 0.6 * sw
    neck = np.array([top + 0.17 * u, cx])
    j = np.zeros((18, 2))
    j[1] = neck
    j[0] = neck + [-0.08 * u, 0.0]
    j[14], j[15] = j[0] + [-0.02 * u, 0.22 * sw], j[0] + [-0.02 * u, -0.22 * sw]
    j[16], j[17] = j[0] + [-0.01 * u, 0.45 * sw], j[0] + [-0.01 * u, -0.45 * sw]
    j[2], j[5] = neck + [0.01 * u, -sw], neck + [0.01 * u, sw]
    j[8], j[11] = neck + [0.3 * u, -hw], neck + [0.3 * u, hw]
    for shoulder, side in ((2, -1), (5, 1)):
        a1 = rng.uniform(-0.3, 1.4)
        a2 = a1 + rng.uniform(-0.2, 1.6)
        j[shoulder + 1] = j[shoulder] + 0.16 * u * np.array([np.cos(a1), side * np.sin(a1)])
        j[shoulder + 2] = j[shoulder + 1] + 0.14 * u * np.array([np.cos(a2), side * np.sin(a2)])
    for hip, side in ((8, -1), (11, 1)):
        a1 = rng.uniform(-0.15, 0.35)
        a2 = a1 + rng.uniform(-0.4, 0.1)
        leg = 0.24 * u * ident["legs"]
        j[hip + 1] = j[hip] + leg * np.array([np.cos(a1), side * np.sin(a1)])
        j[hip + 2] = j[hip + 1] + leg * np.array([np.cos(a2), side * np.sin(a2)])
    j[:, 0] = np.clip(j[:, 0], 0, height - 1)
    j[:, 1] = np.clip(j[:, 1], 0, width - 1)
    return j, facing


def _hidden(facing, rng):
    if facing == "back":
        return [0, 14, 15]
    if facing == "side":
        return [int(rng.choice([14, 15])), int(rng.choice([16, 17]))]
    return []


def _pattern(height, width, colours, kind, period):
    yy, xx = np.mgrid[:height, :width]
    if kind == "stripes":
        sel = (yy // period) % 2 == 0
    elif kind == "checks":
        sel = ((yy // period) + (xx // period)) % 2 == 0
    else:
        sel = np.ones((height, width), bool)
    return np.where(sel[..., None], colours[0], colours[1]).astype(np.float32)


# The drawn parts as (ADGAN's 8 classes, tfposegen.parsing.labels.ADGAN_LABELS; CIHP's 20,
# CIHP_LABELS, PAINT's layouts): pants, hair, face, upper clothes (torso and upper arms),
# the forearms' skin (ADGAN "arm"; CIHP right-arm 15 for joints 3-4, left-arm 14 for 6-7).
_PANTS, _HAIR, _FACE, _UPPER = (1, 9), (2, 2), (4, 13), (5, 5)
_RIGHT_ARM, _LEFT_ARM = (6, 15), (6, 14)
PARSE_LABELS = ("adgan", "cihp")


def _draw_person(ident, joints, facing, height, width, rng):
    """(uint8 [H, W, 3] image of the person on a gradient background, uint8 [H, W, 2] labels
    of the drawn parts: [..., 0] ADGAN's 8 classes (pants 1, hair 2, face 4, upper clothes 5
    (torso and upper arms), arm 6 (the skin of the forearms), background 0), [..., 1] CIHP's
    20 (pants 9, hair 2, face 13, upper clothes 5, left-arm 14, right-arm 15, background
    0))."""
    bg_a, bg_b = rng.integers(120, 256, 3), rng.integers(120, 256, 3)
    t = np.linspace(0, 1, height)[:, None, None]
    image = (bg_a * (1 - t) + bg_b * t) * np.ones((1, width, 1))
    thick = max(2, int(0.045 * height))
    layers = []

    def layer(draw_fn, colour, label):
        mask = Image.new("L", (width, height), 0)
        draw_fn(ImageDraw.Draw(mask))
        layers.append((np.asarray(mask) > 0, colour, label))

    xy = [(float(c), float(r)) for r, c in joints]
    pants = _pattern(height, width, ident["pants"], "solid", 1)
    top = _pattern(height, width, ident["top"], ident["pattern"], ident["period"])
    for a, b in ((8, 9), (9, 10), (11, 12), (12, 13)):
        layer(lambda d, a=a, b=b: d.line([xy[a], xy[b]], fill=255, width=thick + 2), pants,
              _PANTS)
    torso = [xy[2], xy[5], xy[11], xy[8]]
    layer(lambda d: d.polygon(torso, fill=255), top, _UPPER)
    for a, b in ((2, 3), (5, 6)):
        layer(lambda d, a=a, b=b: d.line([xy[a], xy[b]], fill=255, width=thick), top, _UPPER)
    skin = np.broadcast_to(ident["skin"], (height, width, 3))
    for a, b, arm in ((3, 4, _RIGHT_ARM), (6, 7, _LEFT_ARM)):
        layer(lambda d, a=a, b=b: d.line([xy[a], xy[b]], fill=255, width=thick - 1), skin,
              arm)
    hr = 0.07 * 0.85 * height
    head = (xy[0][0] - hr * 0.8, xy[0][1] - hr, xy[0][0] + hr * 0.8, xy[0][1] + hr * 0.6)
    back = facing == "back"
    layer(lambda d: d.ellipse(head, fill=255), ident["hair"] if back else skin,
          _HAIR if back else _FACE)
    hair = (head[0], head[1] - 2, head[2], (head[1] + head[3]) / 2)
    layer(lambda d: d.chord(hair, 180, 360, fill=255), np.broadcast_to(
        ident["hair"], (height, width, 3)), _HAIR)
    labels = np.zeros((height, width, 2), np.uint8)
    for mask, colour, label in layers:
        image = np.where(mask[..., None], colour, image)
        labels[mask] = label
    image = image + rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), labels


def make_person(identity_seed, pose_seed, height=256, width=256, with_parse=False,
                parse_labels="adgan"):
    """One person image and its keypoints (and its parsing).

    Args:
        identity_seed: appearance (proportions, colours, textures).
        pose_seed: pose, facing and background.
        height, width: 256x256 (DeepFashion-like) or 128x64 (Market-like), any size works.
        with_parse: also return the drawn parts as a label map.
        parse_labels: its classes, ``"adgan"`` (ADGAN's 8) or ``"cihp"`` (CIHP's 20, PAINT's
            layouts); the image and keypoints do not depend on it.

    Returns:
        (uint8 [H, W, 3], int64 [18, 2] keypoints (row, col), (-1, -1) for hidden joints),
        plus with ``with_parse`` uint8 [H, W] labels: ``"adgan"`` 0..7
        (``tfposegen.parsing.labels.ADGAN_LABELS``: 0, 1 pants, 2 hair, 4 face, 5 upper
        clothes, 6 arm), ``"cihp"`` 0..19 (``CIHP_LABELS``: 0, 2 hair, 5 upper-clothes, 9
        pants, 13 face, 14 left-arm, 15 right-arm: the forearms' skin).
    """
    if parse_labels not in PARSE_LABELS:
        raise ValueError(f"parse_labels: one of {PARSE_LABELS}, got {parse_labels!r}")
    ident = _identity(identity_seed)
    joints, facing = _skeleton(ident, pose_seed, height, width)
    rng = np.random.default_rng([identity_seed, pose_seed, 3])
    image, labels = _draw_person(ident, joints, facing, height, width, rng)
    keypoints = joints.astype(np.int64)
    keypoints[_hidden(facing, rng)] = -1
    labels = labels[..., PARSE_LABELS.index(parse_labels)]
    return (image, keypoints, labels) if with_parse else (image, keypoints)


def mirror_keypoints(keypoints, width):
    """[18, 2] (row, col) keypoints of the left-right mirrored image of width ``width``: col
    -> W-1-col and left / right joints swapped (what a detector reports on the mirrored
    image); missing joints (row < 0) stay missing. Same dtype as ``keypoints``."""
    kp = np.asarray(keypoints)[list(FLIP_PERMUTATION)].copy()
    present = kp[:, 0] >= 0
    kp[present, 1] = width - 1 - kp[present, 1]
    return kp


def flip_person(image, keypoints):
    """Mirror an image left-right, with its keypoints (:func:`mirror_keypoints`)."""
    return image[:, ::-1].copy(), mirror_keypoints(keypoints, image.shape[1])


def openpose_entry(keypoints, seed):
    """(all_peaks, subset) as the OpenPose Python demo pickles them for one image.

    Peaks are ``(x, y, score, id)`` sorted by (y, x) per joint, ids numbered across joint
    types; with probability 1/3 a partial second person (lower score) is added.
    """
    rng = np.random.default_rng([seed, 4])
    people = [np.asarray(keypoints)]
    if rng.random() < 1 / 3:
        other = np.full((18, 2), -1)
        for k in rng.choice(18, 4, replace=False):
            other[k] = people[0][k] // 2 if people[0][k][0] >= 0 else (-1, -1)
        people.append(other)
    all_peaks, ids = [], np.full((len(people), 18), -1.0)
    counter = 0
    for k in range(18):
        found = [(int(p[k][1]), int(p[k][0]), i) for i, p in enumerate(people) if p[k][0] >= 0]
        peaks = []
        for x, y, i in sorted(found, key=lambda t: (t[1], t[0])):
            peaks.append((x, y, float(0.9 - 0.3 * i), counter))
            ids[i, k] = counter
            counter += 1
        all_peaks.append(peaks)
    counts = (ids >= 0).sum(1)
    subset = np.concatenate([ids, (counts * (1.0 - 0.5 * np.arange(len(people))))[:, None],
                             counts[:, None]], axis=1)
    return all_peaks, subset


def _csv_line(name, keypoints):
    return f"{name}: {json.dumps(keypoints[:, 0].tolist())}: {json.dumps(keypoints[:, 1].tolist())}"


def write_keypoint_csv(path, entries):
    """``name:keypoints_y:keypoints_x`` file (PATN / GFLA): one line per image, JSON int
    lists, -1 for missing joints. ``entries``: {name: int [18, 2] (row, col)}."""
    lines = ["name:keypoints_y:keypoints_x"] + [_csv_line(n, k) for n, k in entries.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_openpose_json(folder, entries):
    """OpenPose JSON files ``<stem>_keypoints.json`` with ``people[0].pose_keypoints_2d`` =
    18 x (x, y, confidence), zeros for a missing joint."""
    os.makedirs(folder, exist_ok=True)
    for name, kp in entries.items():
        flat = []
        for r, c in kp:
            flat += [0.0, 0.0, 0.0] if r < 0 else [float(c), float(r), 0.8]
        with open(os.path.join(folder, os.path.splitext(name)[0] + "_keypoints.json"), "w") as f:
            json.dump({"version": 1.3, "people": [{"pose_keypoints_2d": flat}]}, f)


def _write_folder(root, folder, items, fmt):
    """Write images; returns {name: keypoints}."""
    os.makedirs(os.path.join(root, folder), exist_ok=True)
    entries = {}
    for name, image, kp in items:
        path = os.path.join(root, folder, name)
        Image.fromarray(image).save(path, quality=95) if fmt == "jpg" else \
            Image.fromarray(image).save(path)
        entries[name] = kp
    os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
    write_keypoint_csv(os.path.join(root, "annotations", folder + ".csv"), entries)
    return entries


def _write_openpose_pickles(directory, suffix, entries, seed):
    os.makedirs(directory, exist_ok=True)
    peaks, subsets = {}, {}
    for k, (name, kp) in enumerate(sorted(entries.items())):
        peaks[name], subsets[name] = openpose_entry(kp, seed * 100003 + k)
    for stem, obj in (("all_peaks_dic", peaks), ("subsets_dic", subsets)):
        with open(os.path.join(directory, f"{stem}_{suffix}.p"), "wb") as f:
            pickle.dump(obj, f, protocol=2)


def _people(ids, poses, height, width, namer, seed):
    for ident in ids:
        for k in range(poses):
            image, kp = make_person(seed * 1000 + ident, seed * 7919 + ident * 31 + k,
                                    height, width)
            yield namer(ident, k), image, kp


def write_df_layout(root, identities=4, poses=3, seed=0, size=(256, 256)):
    """DeepFashion layout of ``convert_DF.py`` (see module docstring).

    Train: ``identities`` people x ``poses`` images (and their mirrored copies); test the
    next ``identities``; test_samples and test_seq two images each. Names
    ``fashionWOMENid<seed><ident>_<k>pose.jpg`` (identity = text before the first '_').

    Returns:
        {folder: {name: int [18, 2] keypoints (row, col), -1 missing}}.
    """
    h, w = size

    def namer(ident, k):
        return f"fashionWOMENid{seed:02d}{ident:05d}_{k}pose.jpg"

    splits = {"filted_up_train": range(identities),
              "filted_up_test": range(identities, 2 * identities),
              "filted_up_test_samples": range(2 * identities, 2 * identities + 1),
              "filted_up_test_seq": range(2 * identities + 1, 2 * identities + 2)}
    out = {}
    for folder, ids in splits.items():
        n = poses if ids.start < 2 * identities else 2
        out[folder] = _write_folder(root, folder, _people(ids, n, h, w, namer, seed), "jpg")
    flips = [(name, *flip_person(np.asarray(Image.open(os.path.join(
        root, "filted_up_train", name))), kp)) for name, kp in out["filted_up_train"].items()]
    out["filted_up_train_flip"] = _write_folder(root, "filted_up_train_flip", flips, "jpg")
    pose_dir = os.path.join(root, "PoseFiltered")
    everything = {k: v for f, e in out.items() if f != "filted_up_train_flip" for k, v in e.items()}
    _write_openpose_pickles(pose_dir, "DeepFashion", everything, seed)
    _write_openpose_pickles(pose_dir, "DeepFashion_Flip", out["filted_up_train_flip"], seed + 1)
    return out


def write_market_layout(root, identities=4, poses=3, seed=0, size=(128, 64)):
    """Market-1501 layout of ``convert_market.py`` (see module docstring); cameras cycle
    1..6 over an identity's images. Returns {folder: {name: keypoints}}."""
    h, w = size

    def namer(ident, k):
        return f"{ident + 1:04d}_c{k % 6 + 1}s1_{seed * 1000 + k:06d}_01.jpg"

    splits = {"bounding_box_train": (range(identities), "train"),
              "bounding_box_test": (range(identities, 2 * identities), "test_clean"),
              "bounding_box_test_samples": (range(identities, identities + 1), "test_samples")}
    out = {}
    pose_dir = os.path.join(root, "Market-1501_PoseFiltered")
    for folder, (ids, suffix) in splits.items():
        out[folder] = _write_folder(root, folder, _people(ids, poses, h, w, namer, seed), "jpg")
        _write_openpose_pickles(pose_dir, f"Market-1501_{suffix}", out[folder], seed)
    flips = [(name, *flip_person(np.asarray(Image.open(os.path.join(
        root, "bounding_box_train", name))), kp)) for name, kp in out["bounding_box_train"].items()]
    out["bounding_box_train_flip"] = _write_folder(root, "bounding_box_train_flip", flips, "jpg")
    _write_openpose_pickles(pose_dir, "Market-1501_train_Flip", out["bounding_box_train_flip"],
                            seed + 1)
    return out


def write_rcv_layout(root, identities=3, poses=3, seed=0, size=(256, 256)):
    """Layout of ``convert_RCV.py``: ``train/``, ``test/`` PNGs and
    ``PoseRCV/{train,test}.pickle`` = {name: float [18, 3] (row, col, vis), (0, 0, 0)
    missing}. Returns {folder: {name: keypoints}}."""
    h, w = size

    def namer(ident, k):
        return f"person{seed:02d}{ident:04d}_{k}.png"

    out = {}
    os.makedirs(os.path.join(root, "PoseRCV"), exist_ok=True)
    for folder, ids in (("train", range(identities)), ("test", range(identities, 2 * identities))):
        out[folder] = _write_folder(root, folder, _people(ids, poses, h, w, namer, seed), "png")
        rcv = {}
        for name, kp in out[folder].items():
            present = (kp[:, :1] >= 0).astype(np.float64)
            rcv[name] = np.concatenate([kp * present, present], axis=1)
        with open(os.path.join(root, "PoseRCV", folder + ".pickle"), "wb") as f:
            pickle.dump(rcv, f, protocol=2)
    return out
