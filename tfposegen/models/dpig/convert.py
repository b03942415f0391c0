"""DPIG converters: raw images + keypoints -> pair TFRecords (``convert_DF.py``,
``convert_market.py``, ``convert_RCV.py`` of charliememory/Disentangled-Person-Image-
Generation; ``datasets/deepfashion.py``, ``datasets/market1501.py``). Records follow
``tfposegen.models.dpig.records``. (Over 600 lines: the three layouts share one planner and
one parallel, resumable writer, kept together.)

Layouts (``<root>`` = the first positional argument of the original scripts):

* DF: images ``<root>/filted_up_{train,train_flip,test,test_samples,test_seq}`` (sorted,
  ``.jpg``/``.png``); poses ``<root>/PoseFiltered/{all_peaks,subsets}_dic_DeepFashion.p``
  (``*_DeepFashion_Flip.p`` for the flipped folder); output ``<root>/DF_<split>_data/
  DeepFashion_<split up to '_'>_<k:05d>-of-<n:05d>.tfrecord``.
* Market: ``<root>/bounding_box_{train,train_flip,test,test_samples}``; poses
  ``<root>/Market-1501_PoseFiltered/{all_peaks,subsets}_dic_Market-1501_{train,train_Flip,
  test_clean,test_samples}.p``; attributes ``<root>/Market-1501_Attribute/
  market_attribute.mat`` and ``word2vec/*.mat`` (optional here, see below); output
  ``<root>/Market_<split>_data/Market1501_<split up to '_'>_...tfrecord``.
* RCV: ``<root>/{train,test}/*.png`` (``img_pattern``), poses ``<root>/PoseRCV/
  {train,test}.pickle`` = {name: float [18, 3] (row, col, vis)}; output ``<root>/<split>/
  DeepFashion_<split up to '_'>_...tfrecord`` (into the image folder itself for test).

Metadata beside the records, as the originals: ``p_pairs_<tag>.p``, ``n_pairs_<tag>.p``
(lists of [name0, name1]), ``pn_pairs_num_<tag>.p`` (#positive + #negative pairs, the
reader's ``num_samples``; for train it counts the unflipped folder only) with tag = the
split up to '_' (``train_flip`` for the flipped folder), and ``tf_record_pair_num.txt``
(``cnt:<records written>``). Pickles use protocol 2 (readable by the Python 2 originals).

Pair rules, with the originals' order reproduced exactly: the originals seed
Python's ``random`` with 0 at import and shuffle with Python 2's algorithm
(``j = int(random() * (i+1))``), which :func:`py2_shuffle` re-implements, so the record
order is the original's (for a first run: the originals reuse cached pair pickles, which
skips one shuffle and so changes later orders; here pairs are always recomputed).

* same identity (DF: text before the first '_'; Market: first 4 characters, any camera):
  (i, j) and (j, i) for every i < j; negatives (different identity, j % 2000 == 0) are
  collected, shuffled, truncated to #positives and only counted, never written;
* train = the flipped folder's pairs (its own pose pickles and identity map) followed by the
  plain folder's, each shuffled; test shuffled; test_samples / test_seq not;
* DF test_seq: every ordered pair (i, j) including i = j; Market test: the first 6617
  sorted files are dropped (junk detections, ``market_test_skip``) and at most 12800
  records are written; RCV: train pairs i with min(i+100, N-1), test uses the identity rule,
  test_seq the first image with every image, test_seq_other the first image of ``<root>``
  with every image of ``<other_root>``.

Original quirks kept (each also noted where it is implemented):

* DF picks the **first peak** of every joint (its ``_get_valid_peaks`` computes the best
  person but returns all peaks); Market picks, per joint, the last peak whose id is in the
  best-scoring person's subset row;
* ``pose_subs`` is the first subset row (not the chosen person's);
* image height / width (and so every mask size) come from image 0 of the pair;
* DF part boxes are clipped to 256x256 and Market's to 128x64 whatever the image size;
  Market's "r6" mask has radius 7; Market ``seg`` is all zeros (the original never passes
  its segmentation folder);
* the mask's interior limb points use floor division for integer OpenPose / CSV
  coordinates (Python 2) and true division for float RCV / OpenPose-JSON coordinates;
* ``image_format`` is ``jpg`` for every DF / Market record (also for PNG files);
* a pair is skipped (and counted) when an image has no pose entry.

Deliberate differences (the originals crash or are not repeatable there): an image with an
OpenPose entry but no person (DF: no subset row; Market: empty subsets) or, on DF, no
visible joint is skipped and counted instead of crashing; DF's ``roi10_mask`` pads with a
seeded generator (the original used numpy's unseeded global RNG); Market attributes are
written when the ``.mat`` files exist and left empty (with a warning) otherwise; keypoints
outside the image are kept and counted (reported in the summary) - masks, disks and boxes
clip them as the originals do, the coarse grid leaves them out (the original raised
IndexError or wrapped around).

Extra keypoint sources (``pose_file``): the PATN / GFLA CSV ``name:keypoints_y:
keypoints_x`` (JSON int lists, -1 missing), a folder of OpenPose JSON files
(``<stem>_keypoints.json``, ``people[0].pose_keypoints_2d`` as x, y, confidence triples,
confidence 0 = missing), an RCV pickle, or OpenPose pickles. Conversion runs in
``num_workers`` processes, shows progress, writes each shard atomically and skips shards
that already exist (an interrupted run resumes where it stopped, with identical files).

Length: one module (about 640 lines) for the three original converters, since they share
the pair rules, the record features and the shard writer; the keypoint readers are in
:mod:`tfposegen.pose.formats`.
"""

import collections
import functools
import math
import multiprocessing
import os
import pickle
import random
import sys

import numpy as np
import tensorflow as tf
from PIL import Image

from tfposegen.models.dpig import records as R
from tfposegen.pose import formats as F
from tfposegen.pose import maps as P
from tfposegen.utils.files import atomic_path
from tfposegen.utils.progress import Progress

DF_SPLITS = ("train", "test", "test_samples", "test_seq")
MARKET_SPLITS = ("train", "test", "test_samples")
RCV_SPLITS = ("train", "test", "test_seq", "test_seq_other")
MARKET_TEST_SKIP = 6617
MARKET_TEST_CAP = 12800

class ConvertError(ValueError):
    """Unusable converter input; the message names the file or folder."""


# ------------------------------------------------------------------ files and pairs


def list_images(folder, extensions, skip=0):
    """Sorted file names in ``folder`` (the first ``skip`` of the full sorted listing
    dropped, as Market's test split) that end with one of ``extensions``."""
    if not os.path.isdir(folder):
        raise ConvertError(f"{folder}: image folder not found")
    names = sorted(os.listdir(folder))[skip:]
    return [n for n in names if n.endswith(extensions)]


def py2_shuffle(items, rng):
    """Shuffle a list in place exactly as Python 2's ``random.shuffle`` (given a
    ``random.Random``): the originals' order."""
    for i in reversed(range(1, len(items))):
        j = int(rng.random() * (i + 1))
        items[i], items[j] = items[j], items[i]


def same_identity_pairs(files, identity, rng):
    """Positive pairs (both orders) and the originals' negative sample.

    Returns:
        (positives, negatives): lists of [name0, name1]; negatives shuffled with
        :func:`py2_shuffle` and truncated to len(positives).
    """
    pos, neg = [], []
    ids = [identity(f) for f in files]
    for i in range(len(files)):
        for j in range(i + 1, len(files)):
            if ids[j] == ids[i]:
                pos += [[files[i], files[j]], [files[j], files[i]]]
            elif j % 2000 == 0:
                neg.append([files[i], files[j]])
    py2_shuffle(neg, rng)
    return pos, neg[:len(pos)]


def df_identity(name):
    """DF / RCV identity: the file name up to the first '_'."""
    return name.split("_")[0]


def market_identity(name):
    """Market identity: the first 4 characters (the camera is character 7)."""
    return name[0:4]


# ------------------------------------------------------------------ one record


Item = collections.namedtuple(
    "Item", "variant path0 path1 name0 name1 pose0 pose1 id0 id1 cam0 cam1 extra0 extra1 "
            "image_format seed")
Item.__doc__ = """Everything one record needs (sent to a worker process): image paths and
names, :class:`Pose` of each image, identity indices, cameras (-1 on DF / RCV), Market
attribute dicts (``extra*``), the ``image_format`` text and the roi10 padding seed."""


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        with Image.open(path) as im:
            width, height = im.size
    except Exception as e:
        raise ConvertError(f"{path}: cannot read image ({e})") from None
    return data, height, width


def _outside(rcv, height, width):
    r, c, v = rcv[:, 0], rcv[:, 1], rcv[:, 2]
    return int(np.sum((v != 0) & ((r < 0) | (r >= height) | (c < 0) | (c >= width))))


def _image_features(item, pose, extra, i, height, width, rng):
    variant, rcv = item.variant, pose.rcv
    masks = {R.DF: (4, 8), R.MARKET: (4, 7), R.RCV: (4, 8, 10)}[variant]
    feats = {f"pose_peaks_{i}_rcv": rcv.astype(np.float32), f"attrs_{i}": extra.get("attrs", [])}
    for radius in masks:
        name = 6 if radius == 7 else radius  # Market's "r6" mask has radius 7
        feats[f"pose_mask_r{name}_{i}"] = P.pose_mask_np(rcv, height, width, radius, pose.integer)
    for radius in (4, 8) if variant != R.MARKET else (4,):
        idx, val = P.sparse_pose_np(rcv, height, width, radius)
        feats[f"indices_r{radius}_{i}"], feats[f"values_r{radius}_{i}"] = idx, val
    boxes, vis = P.part_boxes_np(rcv, "market" if variant == R.MARKET else "df")
    feats[f"part_bbox_{i}"], feats[f"part_vis_{i}"] = boxes, vis
    if variant in (R.DF, R.MARKET):
        feats[f"pose_peaks_{i}"] = P.coarse_pose_grid_np(rcv, height, width,
                                                         R.GRID_COLS[variant])
        feats[f"pose_subs_{i}"] = pose.subs
    if variant == R.DF:
        feats[f"roi10_mask_{i}"] = P.roi10_masks_np(boxes, vis, rng)
    if variant == R.MARKET:
        feats[f"seg_{i}"] = np.zeros((height, width), np.int64)
        for dim in (25, 50, 100, 150):
            feats[f"attrs_w2v{dim}_{i}"] = extra.get(f"w2v{dim}", [])
    return feats


def format_record(item, fields="all"):
    """Build one serialized pair record (``fields``: "all", "reader" or "keypoints", as
    ``tfposegen.models.dpig.records.keys``).

    Returns:
        (bytes, number of keypoints outside the image).
    """
    raw0, height, width = _read_bytes(item.path0)
    raw1 = _read_bytes(item.path1)[0]
    rng = np.random.default_rng(item.seed)
    values = {"image_name_0": item.name0, "image_name_1": item.name1, "image_raw_0": raw0,
              "image_raw_1": raw1, "label": 1, "id_0": item.id0, "id_1": item.id1,
              "cam_0": item.cam0, "cam_1": item.cam1, "image_format": item.image_format,
              "image_height": height, "image_width": width, "real_data": 1,
              "shape": [height * width * P.NUM_JOINTS]}
    for i, (pose, extra) in enumerate(((item.pose0, item.extra0), (item.pose1, item.extra1))):
        values.update(_image_features(item, pose, extra, i, height, width, rng))
    outside = _outside(item.pose0.rcv, height, width) + _outside(item.pose1.rcv, height, width)
    return R.encode_example(values, item.variant, height, width, fields), outside


# ------------------------------------------------------------------ plans


Section = collections.namedtuple(
    "Section", "folder pairs poses identity camera extras folder1 poses1",
    defaults=(None, None))
Section.__doc__ = """Pairs of one image folder: ``pairs`` [[name0, name1]], ``poses``
{name: Pose or None}, ``identity`` / ``camera`` name -> value functions, ``extras``
{name: attribute dict}; ``folder1`` / ``poses1`` (test_seq_other) for the second images."""

Plan = collections.namedtuple("Plan", "variant out_dir prefix tag sections cap image_format "
                                      "metadata")
Plan.__doc__ = """Everything a conversion writes: records from ``sections`` (in order) into
``<out_dir>/<prefix>_<tag>_<k>-of-<n>.tfrecord``, at most ``cap`` records (None: all), and
the ``metadata`` pickles {file name: object}."""


def _id_map(pairs, identity):
    ids = {}
    for a, b in pairs:
        for name in (a, b):
            ids.setdefault(identity(name), len(ids))
    return ids


def _has_entry(poses, name):
    return name in poses or os.path.splitext(name)[0] in poses


def _usable(pose):
    return pose is not None and bool(pose.rcv[:, 2].any())


def plan_items(plan, seed=0):
    """The records of a plan, in writing order, and skip counts.

    Returns:
        (list of :class:`Item`, Counter with ``pairs``, ``skipped_no_pose`` (pairs with an
        image without pose entry, skipped as the originals do), ``skipped_no_person``
        (an entry without a person or without any visible joint), ``images_without_pose``).
    """
    items, missing_images = [], set()
    counts = dict.fromkeys(("pairs", "skipped_no_pose", "skipped_no_person"), 0)
    for sec in plan.sections:
        ids = _id_map(sec.pairs, sec.identity)
        folder1, poses1 = sec.folder1 or sec.folder, sec.poses1 or sec.poses
        for a, b in sec.pairs:
            counts["pairs"] += 1
            missing = [os.path.join(d, n) for d, n, poses in ((sec.folder, a, sec.poses),
                                                            (folder1, b, poses1))
                       if not _has_entry(poses, n)]
            if missing:
                missing_images.update(missing)
                counts["skipped_no_pose"] += 1
                continue
            p0, p1 = F.lookup(sec.poses, a), F.lookup(poses1, b)
            if not (_usable(p0) and _usable(p1)):
                counts["skipped_no_person"] += 1
                continue
            items.append(Item(plan.variant, os.path.join(sec.folder, a),
                              os.path.join(folder1, b), a, b, p0, p1, ids[sec.identity(a)],
                              ids[sec.identity(b)], sec.camera(a), sec.camera(b),
                              sec.extras.get(a, {}), sec.extras.get(b, {}), plan.image_format,
                              [seed, len(items)]))
    counts["images_without_pose"] = len(missing_images)
    return items[:plan.cap], counts


def _no_camera(name):
    return -1


def _market_camera(name):
    return int(name[6])


def _pairs_metadata(tag, pos, neg):
    return {f"p_pairs_{tag}.p": pos, f"n_pairs_{tag}.p": neg,
            f"pn_pairs_num_{tag}.p": len(pos) + len(neg)}


def _pose_override(pose_file, default, select):
    """Poses from ``pose_file`` when given, else from ``default()`` (the original files);
    an unreadable keypoint file is a :class:`ConvertError` naming it."""
    try:
        return F.load_poses(pose_file, select) if pose_file else default()
    except F.PoseFileError as e:
        raise ConvertError(str(e)) from None


def plan_df(root, split, pose_file=None, pose_file_flip=None, seed=0):
    """Plan of ``convert_DF.py <root> <split>`` (split in :data:`DF_SPLITS`).

    ``pose_file`` / ``pose_file_flip`` replace the OpenPose pickles (CSV, JSON folder,
    RCV pickle, OpenPose pickle). ``seed`` seeds Python 2-style shuffling (original: 0).
    """
    if split not in DF_SPLITS:
        raise ConvertError(f"split must be one of {DF_SPLITS}, got {split!r}")
    rng = random.Random(seed)
    pose_dir = os.path.join(root, "PoseFiltered")

    def openpose(suffix):
        return lambda: F.load_openpose_pickles(
            os.path.join(pose_dir, f"all_peaks_dic_DeepFashion{suffix}.p"),
            os.path.join(pose_dir, f"subsets_dic_DeepFashion{suffix}.p"), "first")

    def section(sub, poses, shuffle, tag):
        folder = os.path.join(root, f"filted_up_{sub}")
        files = list_images(folder, (".jpg", ".png"))
        if sub == "test_seq":
            pos, neg = [[a, b] for a in files for b in files], []
        else:
            pos, neg = same_identity_pairs(files, df_identity, rng)
        if shuffle:
            py2_shuffle(pos, rng)
        metadata.update(_pairs_metadata(tag, pos, neg))
        return Section(folder, pos, poses, df_identity, _no_camera, {})

    metadata = {}
    tag = split.split("_")[0]
    main_poses = _pose_override(pose_file, openpose(""), "first")
    sections = [section(split, main_poses, split in ("train", "test"), tag)]
    if split == "train":
        flip_poses = _pose_override(pose_file_flip, openpose("_Flip"), "first")
        sections.insert(0, section("train_flip", flip_poses, True, "train_flip"))
    return Plan(R.DF, os.path.join(root, f"DF_{split}_data"), "DeepFashion", tag, sections,
                None, "jpg", metadata)


def _load_mat(path):
    import scipy.io  # only Market attributes need scipy
    try:
        return scipy.io.loadmat(path)
    except Exception as e:
        raise ConvertError(f"{path}: cannot read as a .mat file ({e})") from None


def market_attributes(root, split, files):
    """{name: {"attrs": 27 ints, "w2v25": floats, ...}} from Market-1501_Attribute, or {}
    (with a warning) when ``market_attribute.mat`` is absent (the original required it).

    Identity index = order of first appearance in the sorted file list of the split (for
    the flipped training folder the plain one's), as the original's ``id_map_attr``.
    """
    attr_dir = os.path.join(root, "Market-1501_Attribute")
    onehot_path = os.path.join(attr_dir, "market_attribute.mat")
    if not os.path.isfile(onehot_path):
        print(f"warning: {onehot_path} not found: attrs_* written empty", file=sys.stderr)
        return {}
    which = "test" if split in ("test", "test_samples") else "train"
    onehot = _load_mat(onehot_path)["market_attribute"][which][0][0]
    w2v = {}
    for dim in (25, 50, 100, 150):
        path = os.path.join(attr_dir, "word2vec", f"{which}_att_wordvec_dim{dim}.mat")
        if os.path.isfile(path):
            w2v[dim] = _load_mat(path)[f"{which}_att"]
    index = _id_map([[f, f] for f in sorted(files)], market_identity)
    out = {}
    for name in files:
        k = index[market_identity(name)]
        entry = {"attrs": [int(onehot[n][0][0][0][k]) for n in onehot.dtype.names]}
        for dim, mat in w2v.items():
            entry[f"w2v{dim}"] = [v for i in range(mat[0].shape[0]) for v in mat[0][i][k].tolist()]
        out[name] = entry
    return out


def plan_market(root, split, pose_file=None, pose_file_flip=None, seed=0,
                test_skip=MARKET_TEST_SKIP, test_cap=MARKET_TEST_CAP):
    """Plan of ``convert_market.py <root> <split>`` (split in :data:`MARKET_SPLITS`).

    ``test_skip``: sorted test files dropped first (original 6617); ``test_cap``: records
    written at most on the test split (original 12800).
    """
    if split not in MARKET_SPLITS:
        raise ConvertError(f"split must be one of {MARKET_SPLITS}, got {split!r}")
    rng = random.Random(seed)
    pose_dir = os.path.join(root, "Market-1501_PoseFiltered")
    suffixes = {"train": "train", "train_flip": "train_Flip", "test": "test_clean",
                "test_samples": "test_samples"}

    def openpose(sub):
        name = f"Market-1501_{suffixes[sub]}.p"
        return lambda: F.load_openpose_pickles(os.path.join(pose_dir, "all_peaks_dic_" + name),
                                             os.path.join(pose_dir, "subsets_dic_" + name),
                                             "best")

    def section(sub, poses, shuffle, tag, attrs):
        folder = os.path.join(root, f"bounding_box_{sub}")
        files = list_images(folder, (".jpg", ".png"), test_skip if sub == "test" else 0)
        pos, neg = same_identity_pairs(files, market_identity, rng)
        if shuffle:
            py2_shuffle(pos, rng)
        metadata.update(_pairs_metadata(tag, pos, neg))
        return Section(folder, pos, poses, market_identity, _market_camera, attrs)

    metadata = {}
    tag = split.split("_")[0]
    plain_files = list_images(os.path.join(root, f"bounding_box_{split}"), (".jpg", ".png"),
                              test_skip if split == "test" else 0)
    attrs = market_attributes(root, split, plain_files)
    main_poses = _pose_override(pose_file, openpose(split), "best")
    sections = [section(split, main_poses, split in ("train", "test"), tag, attrs)]
    if split == "train":
        flip_poses = _pose_override(pose_file_flip, openpose("train_flip"), "best")
        sections.insert(0, section("train_flip", flip_poses, True, "train_flip", attrs))
    cap = test_cap if split == "test" else None
    return Plan(R.MARKET, os.path.join(root, f"Market_{split}_data"), "Market1501", tag,
                sections, cap, "jpg", metadata)


def plan_rcv(root, split, other_root=None, pose_file=None, img_pattern="png", seed=0):
    """Plan of ``convert_RCV.py <root> <split> <other_root>`` (split in
    :data:`RCV_SPLITS`; ``other_root`` only for test_seq_other)."""
    if split not in RCV_SPLITS:
        raise ConvertError(f"split must be one of {RCV_SPLITS}, got {split!r}")
    if split == "test_seq_other" and not other_root:
        raise ConvertError("test_seq_other needs <other_root>")
    rng = random.Random(seed)
    sub = "train" if split == "train" else "test"
    folder = os.path.join(root, sub)
    files = list_images(folder, ("." + img_pattern,))
    poses = _pose_override(pose_file, lambda: F.load_rcv_pickle(
        os.path.join(root, "PoseRCV", sub + ".pickle")), "first")
    folder1 = poses1 = None
    if split == "train":
        pos, neg = [[f, files[min(i + 100, len(files) - 1)]] for i, f in enumerate(files)], []
    elif split == "test":
        pos, neg = same_identity_pairs(files, df_identity, rng)
    elif split == "test_seq":
        pos, neg = [[files[0], f] for f in files], []
    else:
        folder1 = os.path.join(other_root, "test")
        others = list_images(folder1, ("." + img_pattern,))
        poses1 = _pose_override(None, lambda: F.load_rcv_pickle(
            os.path.join(other_root, "PoseRCV", "test.pickle")), "first")
        pos, neg = [[files[0], f] for f in others], []
    if split == "train":
        py2_shuffle(neg, rng)
        py2_shuffle(pos, rng)
    tag = split.split("_")[0]
    sections = [Section(folder, pos, poses, df_identity, _no_camera, {}, folder1, poses1)]
    return Plan(R.RCV, os.path.join(root, split), "DeepFashion", tag, sections, None,
                img_pattern, _pairs_metadata(tag, pos, neg))


# ------------------------------------------------------------------ writing


def shard_paths(plan, num_shards):
    """Output file paths of a plan: ``<prefix>_<tag>_<k:05d>-of-<n:05d>.tfrecord``."""
    return [os.path.join(plan.out_dir, f"{plan.prefix}_{plan.tag}_{k:05d}-of-{num_shards:05d}"
                                       ".tfrecord") for k in range(num_shards)]


def _write_pickle(path, obj):
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def _records(items, pool, fields):
    build = functools.partial(format_record, fields=fields)
    if pool is None:
        return map(build, items)
    return pool.imap(build, items, chunksize=max(1, min(8, len(items) // 16)))


def write_plan(plan, num_shards=1, num_workers=1, seed=0, verbose=True, fields="all"):
    """Convert a plan: metadata pickles, shards (existing ones are kept: resume) and
    ``tf_record_pair_num.txt``.

    Args:
        plan: from :func:`plan_df`, :func:`plan_market` or :func:`plan_rcv`.
        num_shards: output files; records are split into contiguous runs (the originals
            wrote 1).
        num_workers: processes building records (1: in this process).
        seed: seeds DF's roi10 padding per record.
        fields: "all" (the original's record schema), "reader" (only what the original
            readers and ``tfposegen.models.dpig.pipeline`` read: 5-6x smaller DF records,
            faster to read) or "keypoints" (no pose masks either: ``tfposegen.models.dpig
            .pipeline`` rebuilds them from the keypoints; DF records 40x smaller; only
            for integer keypoints, the original pose pickles and CSV files, whose masks
            it rebuilds exactly); ``tfposegen.models.dpig.records.keys``.

    Returns:
        dict: ``records`` (written in total), ``written_shards`` / ``kept_shards`` (paths),
        ``outside`` (keypoints outside their image in the newly written shards) and the
        skip counts of :func:`plan_items`.
    """
    if fields not in R.FIELD_SETS:
        raise ValueError(f"fields must be one of {R.FIELD_SETS}, got {fields!r}")
    items, counts = plan_items(plan, seed)
    floats = [it.name0 for it in items if not (it.pose0.integer and it.pose1.integer)]
    if fields == "keypoints" and floats:
        raise ConvertError(f"{plan.out_dir}: fields='keypoints' needs integer keypoints (the "
                           f"original pose pickles or a CSV file); {floats[0]} has float "
                           "ones, whose masks the reader cannot rebuild exactly: convert "
                           "with fields='reader'")
    os.makedirs(plan.out_dir, exist_ok=True)
    for name, obj in plan.metadata.items():
        _write_pickle(os.path.join(plan.out_dir, name), obj)
    paths = shard_paths(plan, num_shards)
    per = math.ceil(len(items) / num_shards) if items else 0
    todo = [k for k, p in enumerate(paths) if not os.path.exists(p)]
    total = sum(len(items[k * per:(k + 1) * per]) for k in todo)
    progress = Progress(f"{plan.prefix} {plan.tag}", total) if verbose and total else None
    done, outside = 0, 0
    pool = multiprocessing.get_context("fork").Pool(num_workers) \
        if num_workers > 1 and total > 1 else None
    try:
        for k in todo:
            with atomic_path(paths[k]) as tmp, tf.io.TFRecordWriter(tmp) as writer:
                for record, n_out in _records(items[k * per:(k + 1) * per], pool,
                                              fields):
                    writer.write(record)
                    done, outside = done + 1, outside + n_out
                    if progress:
                        progress.update(done)
    finally:
        if pool is not None:
            pool.terminate()
    with atomic_path(os.path.join(plan.out_dir, "tf_record_pair_num.txt")) as tmp, \
            open(tmp, "w") as f:
        f.write(f"cnt:{len(items)}")
    return dict(counts, records=len(items), outside=outside,
                written_shards=[paths[k] for k in todo],
                kept_shards=[p for k, p in enumerate(paths) if k not in todo])


def summary_text(result):
    """One-paragraph report of :func:`write_plan`'s result."""
    return (f"{result['records']} records ({result['pairs']} pairs; skipped "
            f"{result['skipped_no_pose']} with an image without pose entry "
            f"({result['images_without_pose']} images), {result['skipped_no_person']} "
            f"without a person); {result['outside']} keypoints outside their image; wrote "
            f"{len(result['written_shards'])} shard(s), kept {len(result['kept_shards'])} "
            f"existing")


def define_flags(variant):
    """Define the absl flags of ``run_scripts/convert_<variant>.py`` (the original positional
    ``<root> <split>`` maps to ``--dataset_dir`` / ``--split_name``)."""
    from absl import flags

    flags.DEFINE_string("dataset_dir", None, "Dataset root (first positional argument).")
    flags.DEFINE_string("split_name", None, "Split (second positional argument).")
    flags.DEFINE_integer("num_workers", 2, "Processes building records.", lower_bound=1)
    flags.DEFINE_integer("num_shards", 1, "Output files (the original wrote 1).", lower_bound=1)
    flags.DEFINE_enum("fields", "all", list(R.FIELD_SETS), "Record fields: all (the "
                      "original's schema), reader (only those the original readers and "
                      "tfposegen's reader parse; DF records 5-6x smaller and faster to read) "
                      "or keypoints (no pose masks either: tfposegen's reader rebuilds them "
                      "from integer keypoints; DF records 40x smaller).")
    flags.DEFINE_string("pose_file", None, "Keypoints instead of the original pose pickles: a "
                        "name:keypoints_y:keypoints_x .csv, an OpenPose JSON folder, an RCV "
                        ".pickle or an all_peaks_dic*.p.")
    flags.DEFINE_integer("seed", 0, "Seed of the pair shuffling (the original's "
                         "random.seed(0)).")
    if variant in (R.DF, R.MARKET):
        flags.DEFINE_string("pose_file_flip", None, "Keypoints of the flipped training folder "
                            "(formats as --pose_file).")
    if variant == R.MARKET:
        flags.DEFINE_integer("market_test_skip", 6617, "Sorted bounding_box_test files dropped "
                             "first (junk detections in Market-1501).", lower_bound=0)
        flags.DEFINE_integer("test_pair_cap", 12800, "Most records written on the test split.",
                             lower_bound=1)
    if variant == R.RCV:
        flags.DEFINE_string("other_dir", None, "Second dataset root (test_seq_other; third "
                            "positional argument).")
        flags.DEFINE_enum("img_pattern", "png", ["png", "jpg"], "Image file extension (the "
                          "original's _IMG_PATTERN).")


def run_cli(script, variant, positional, options):
    """Body of the ``run_scripts/convert_*.py`` entry points.

    Args:
        script: script name for messages.
        variant: "DF", "Market" or "RCV".
        positional: the original form ``<root> <split> [<other_root>]`` (may be empty when
            ``--dataset_dir`` / ``--split_name`` are given).
        options: flag values (dataset_dir, split_name, other_dir, num_workers, num_shards,
            pose_file, pose_file_flip, seed, fields, and market_test_skip / test_pair_cap /
            img_pattern where defined).

    Returns:
        exit status: 0, or 2 after printing ``<script>: error: ...`` to stderr.
    """
    names = ("dataset_dir", "split_name", "other_dir")
    if len(positional) > len(names) - (variant != R.RCV):
        print(f"{script}: error: unexpected arguments {positional}", file=sys.stderr)
        return 2
    args = {n: options.get(n) for n in names}
    args.update(zip(names, positional))
    if not args["dataset_dir"] or not args["split_name"]:
        print(f"{script}: error: give <root> <split> (or --dataset_dir, --split_name)",
              file=sys.stderr)
        return 2
    root, split, seed = args["dataset_dir"], args["split_name"], options["seed"]
    try:
        if variant == R.DF:
            plan = plan_df(root, split, options["pose_file"], options["pose_file_flip"], seed)
        elif variant == R.MARKET:
            plan = plan_market(root, split, options["pose_file"], options["pose_file_flip"],
                               seed, options["market_test_skip"], options["test_pair_cap"])
        else:
            plan = plan_rcv(root, split, args["other_dir"], options["pose_file"],
                            options["img_pattern"], seed)
        result = write_plan(plan, options["num_shards"], options["num_workers"], seed,
                            fields=options.get("fields", "all"))
    except (ConvertError, R.RecordSchemaError) as e:
        print(f"{script}: error: {e}", file=sys.stderr)
        return 2
    print(f"{script}: {summary_text(result)} -> {plan.out_dir}")
    return 0
