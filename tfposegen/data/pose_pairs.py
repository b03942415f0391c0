"""Pose-transfer pairs (source image, target image, keypoints, parsing) shared by the PATN-family
ports: the DeepFashion / Market layouts read by ``data/keypoint.py`` in menyifang/ADGAN and
tengteng95/Pose-Transfer, ``data/fashion_dataset.py`` / ``data/base_dataset.py`` in
RenYurui/Global-Flow-Local-Attention and PangzeCheung/Dual-task-Pose-Transformer-Network.

Layout (``<root>`` = the originals' dataroot):

* images ``<root>/train``, ``<root>/test`` (DeepFashion 176 wide x 256 high, Market 64x128);
* pairs CSV ``fashion-resize-pairs-<phase>.csv`` (PATN / DPTN spell it ``fasion``): header
  with columns ``from``, ``to`` (file names), row order kept;
* annotation CSV ``fashion-resize-annotation-<phase>.csv``: ``:``-separated, header
  ``name:keypoints_y:keypoints_x``, JSON lists of 18 integer rows then columns in the
  annotation frame (256x176 DeepFashion, 128x64 Market), -1 = missing;
* optional parsing maps (ADGAN's ``semantic_merge3`` ``.npy`` label maps, or PNG label maps)
  found by a ``parse_path(name)`` rule.

:func:`write_pose_pair_records` converts this once into sharded TFRecords (atomic, resumable);
:func:`pose_pair_dataset` reads them as the originals' loaders do; :func:`make_synthetic_
pose_pairs` makes a tiny layout offline.
"""

import collections
import csv
import io
import json
import math
import multiprocessing
import os
import shutil

import numpy as np
import tensorflow as tf
from PIL import Image

from tfposegen.data.synthetic_persons import make_person
from tfposegen.pose.formats import PoseFileError, read_annotation_csv, write_keypoint_csv
from tfposegen.pose.keypoints import NUM_JOINTS
from tfposegen.pose.maps import gaussian_heatmaps
from tfposegen.utils.files import atomic_path, dataset_files, write_json
from tfposegen.utils.progress import Progress

KEYPOINT_FRAMES = {"fashion": (256, 176), "market": (128, 64)}
"""The annotation frame (H, W) of each released layout: the size its images are stored at and
its keypoint CSVs are measured in (DeepFashion as resized by PATN / GFLA, Market-1501)."""

SCHEMA_VERSION = 1
SUMMARY_FILE = "pose_pairs.json"
_PIL_BITS = 22  # Pillow's PRECISION_BITS (32 - 8 - 2) for 8-bit resampling


class PosePairsError(ValueError):
    """Unusable pairs input (CSV, folder, records); the message names the file (and line)."""


# ------------------------------------------------------------------ CSV files


def read_pairs_csv(path):
    """Pairs of a ``from,to`` CSV (``init_categories`` of the originals, pandas ``read_csv``).

    Returns:
        list of (source name, target name) in file order.

    Raises:
        PosePairsError: missing file, no ``from`` / ``to`` header column, or a row without
            both names (the message gives ``path:line``).
    """
    if not os.path.isfile(path):
        raise PosePairsError(f"{path}: pairs file not found")
    pairs = []
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = [h.strip() for h in next(rows, [])]
        if "from" not in header or "to" not in header:
            raise PosePairsError(f"{path}:1: header must have columns 'from' and 'to', "
                                 f"got {header}")
        i, j = header.index("from"), header.index("to")
        for row in rows:
            if not row or not "".join(row).strip():
                continue
            if len(row) <= max(i, j) or not row[i].strip() or not row[j].strip():
                raise PosePairsError(f"{path}:{rows.line_num}: expected '<from>,<to>', "
                                     f"got {','.join(row)!r}")
            pairs.append((row[i].strip(), row[j].strip()))
    return pairs


def adgan_parse_path(name):
    """ADGAN's parsing file of an image (``KeyDataset.split_name`` in menyifang/ADGAN):
    ``fashionWOMENPantsid0000218301_1front.jpg`` ->
    ``semantic_merge3/WOMEN/Pants/id_00002183/01_1_front.npy`` (relative to ``parse_dir``)."""
    rest = name[len("fashion"):]
    gender = "WOMEN" if rest.startswith("WO") else "MEN"
    idx = name.rfind("id0")
    category = name[len("fashion") + len(gender):idx]
    ident, view = name[idx:idx + 10], name[idx + 10:]
    return os.path.join("semantic_merge3", gender, category, ident[:2] + "_" + ident[2:],
                        view[:4] + "_" + view[4:-4] + ".npy")


def default_parse_path(name):
    """``<image stem>.png`` (a PNG label map named like the image)."""
    return os.path.splitext(name)[0] + ".png"


# ------------------------------------------------------------------ records


Item = collections.namedtuple("Item", "paths names keypoints parses frame num_classes same_size",
                              defaults=(None, False))
Item.__doc__ = """One pair: image paths, names, int [18, 2] keypoints, parsing paths (None
entries without parsing) of (source, target), the annotation frame (H, W), and the checks of
:func:`write_pose_pair_records` (``num_classes``, ``same_size``)."""


def _image_bytes(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
    except Exception as e:
        raise PosePairsError(f"{path}: cannot read image ({e})") from None
    return data, height, width


def _parse_png(path, size, num_classes=None):
    """PNG bytes (uint8 grey) of a label map from a ``.npy`` or an image file; it must be
    [H, W] = ``size`` (its image's) with labels below ``num_classes`` (when given)."""
    try:
        labels = np.load(path) if path.endswith(".npy") else np.asarray(Image.open(path))
    except Exception as e:
        raise PosePairsError(f"{path}: cannot read parsing map ({e})") from None
    labels = np.squeeze(labels)
    top = 255 if num_classes is None else int(num_classes) - 1
    if labels.shape != tuple(size):
        raise PosePairsError(f"{path}: parsing map of shape {labels.shape}, its image is "
                             f"{size[0]}x{size[1]}")
    if labels.min() < 0 or labels.max() > top:
        raise PosePairsError(f"{path}: parsing labels must be 0..{top}, found "
                             f"{labels.min()}..{labels.max()}")
    buffer = io.BytesIO()
    Image.fromarray(labels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _int64(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))


def _bytes(value):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def format_record(item):
    """Serialized ``tf.train.Example`` of one :class:`Item` (schema: :data:`FEATURES`)."""
    feats = {"keypoint_frame": _int64(item.frame)}
    for role, path, name, kp, parse in zip(("source", "target"), item.paths, item.names,
                                           item.keypoints, item.parses):
        data, height, width = _image_bytes(path)
        if item.same_size and (height, width) != tuple(item.frame):
            raise PosePairsError(f"{path}: image is {height}x{width}, the dataset's images are "
                                 f"{item.frame[0]}x{item.frame[1]}")
        feats[f"{role}_name"] = _bytes(name.encode())
        feats[f"{role}_image"] = _bytes(data)
        feats[f"{role}_size"] = _int64((height, width))
        feats[f"{role}_keypoints"] = _int64(np.asarray(kp).reshape(-1).tolist())
        feats[f"{role}_parse"] = _bytes(
            _parse_png(parse, (height, width), item.num_classes) if parse else b"")
    return tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString()


FEATURES = {"keypoint_frame": tf.io.FixedLenFeature([2], tf.int64)}
for _role in ("source", "target"):
    FEATURES.update({f"{_role}_name": tf.io.FixedLenFeature([], tf.string),
                     f"{_role}_image": tf.io.FixedLenFeature([], tf.string),
                     f"{_role}_size": tf.io.FixedLenFeature([2], tf.int64),
                     f"{_role}_keypoints": tf.io.FixedLenFeature([NUM_JOINTS * 2], tf.int64),
                     f"{_role}_parse": tf.io.FixedLenFeature([], tf.string)})
FEATURES_DOC = """Record schema (version 1): ``keypoint_frame`` int64 [2] (H, W of the
annotation frame); per role ``source`` / ``target``: ``_name`` (file name), ``_image`` (the
file's bytes, not re-encoded), ``_size`` int64 [2] (H, W of the file), ``_keypoints`` int64
[36] = [18, 2] (row, col) as in the annotation CSV, ``_parse`` (PNG uint8 label map, empty
without parsing)."""


def plan_pairs(image_dir, pairs_csv, annotation_csv, parse_dir=None, parse_path=None,
               image_size=(256, 176), num_parse_classes=None, same_size=False):
    """The records of a conversion, in pairs-CSV order, and skip counts (arguments: see
    :func:`write_pose_pair_records`).

    Returns:
        (list of :class:`Item`, dict with ``pairs``, ``skipped_missing_image``,
        ``skipped_missing_keypoints``, ``skipped_missing_parse``).
    """
    if not os.path.isdir(image_dir):
        raise PosePairsError(f"{image_dir}: image folder not found")
    pairs = read_pairs_csv(pairs_csv)
    poses = read_annotation_csv(annotation_csv)
    rule = parse_path or default_parse_path
    counts = dict.fromkeys(("skipped_missing_image", "skipped_missing_keypoints",
                            "skipped_missing_parse"), 0)
    items = []
    for names in pairs:
        paths = tuple(os.path.join(image_dir, n) for n in names)
        parses = (None, None)
        if parse_dir is not None:
            parses = tuple(os.path.join(parse_dir, rule(n)) for n in names)
        if not all(os.path.isfile(p) for p in paths):
            counts["skipped_missing_image"] += 1
        elif not all(n in poses for n in names):
            counts["skipped_missing_keypoints"] += 1
        elif parse_dir is not None and not all(os.path.isfile(p) for p in parses):
            counts["skipped_missing_parse"] += 1
        else:
            items.append(Item(paths, names, tuple(poses[n] for n in names), parses,
                              tuple(int(v) for v in image_size), num_parse_classes,
                              same_size))
    return items, dict(counts, pairs=len(pairs))


def shard_paths(out_dir, num_shards):
    """``<out_dir>/pose_pairs-<k:05d>-of-<n:05d>.tfrecord`` for k < n."""
    return [os.path.join(out_dir, f"pose_pairs-{k:05d}-of-{num_shards:05d}.tfrecord")
            for k in range(num_shards)]


def write_pose_pair_records(out_dir, image_dir, pairs_csv, annotation_csv, parse_dir=None,
                            parse_path=None, image_size=(256, 176), num_shards=1,
                            num_workers=1, verbose=False, num_parse_classes=None,
                            same_size=False):
    """Convert a pairs layout into sharded TFRecords (schema :data:`FEATURES_DOC`).

    Records follow the pairs CSV order, split into contiguous shards. A pair whose image
    file, annotation row or (with ``parse_dir``) parsing file is missing is skipped and
    counted; a file that is there but wrong (unreadable, a parsing map of another size than
    its image or with labels out of range, with ``same_size`` an image of another size than
    ``image_size``) raises ``PosePairsError`` naming it, and so does a layout without one
    usable pair. Each shard is written atomically; shards that already exist are kept (an
    interrupted run resumes, with identical files); a failed first run leaves no
    ``out_dir``. ``<out_dir>/pose_pairs.json`` (written atomically, last) holds the counts,
    the schema version and the shard names.

    Args:
        out_dir: output folder (created).
        image_dir: folder of the images (``<root>/train``).
        pairs_csv, annotation_csv: see the module docstring.
        parse_dir: folder of the parsing maps, or None.
        parse_path: name -> path relative to ``parse_dir`` (default
            :func:`default_parse_path`; ADGAN: :func:`adgan_parse_path`); ``.npy`` label
            arrays or image files, stored as PNG.
        image_size: (H, W) of the annotation frame (256x176 DeepFashion, 128x64 Market).
        num_shards: output files; num_workers: processes building records (1: this one).
        verbose: show progress.
        num_parse_classes: parsing labels must be below it (e.g. 8 for ADGAN), or None.
        same_size: every image must be ``image_size`` (e.g. ADGAN's 256x176, unresized).

    Returns:
        the summary dict (as in ``pose_pairs.json``) plus ``written_shards`` /
        ``kept_shards`` (paths).
    """
    items, counts = plan_pairs(image_dir, pairs_csv, annotation_csv, parse_dir, parse_path,
                               image_size, num_parse_classes, same_size)
    if not items:
        raise PosePairsError(f"{image_dir}: no usable pair among {counts['pairs']} of "
                             f"{pairs_csv} ({counts})")
    created = not os.path.isdir(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    paths = shard_paths(out_dir, num_shards)
    per = math.ceil(len(items) / num_shards) if items else 0
    todo = [k for k, p in enumerate(paths) if not os.path.exists(p)]
    total = sum(len(items[k * per:(k + 1) * per]) for k in todo)
    progress = Progress("pose pairs", total) if verbose and total else None
    pool = multiprocessing.get_context("fork").Pool(num_workers) \
        if num_workers > 1 and total > 1 else None
    done = 0
    try:
        for k in todo:
            chunk = items[k * per:(k + 1) * per]
            records = pool.imap(format_record, chunk, chunksize=4) if pool else \
                map(format_record, chunk)
            with atomic_path(paths[k]) as tmp, tf.io.TFRecordWriter(tmp) as writer:
                for record in records:
                    writer.write(record)
                    done += 1
                    if progress:
                        progress.update(done)
    except BaseException:
        if created:  # a first run that failed leaves nothing
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        if pool is not None:
            pool.terminate()
    summary = dict(counts, schema_version=SCHEMA_VERSION, records=len(items),
                   num_shards=num_shards, keypoint_frame=list(image_size),
                   with_parse=parse_dir is not None,
                   shards=[os.path.basename(p) for p in paths])
    write_json(os.path.join(out_dir, SUMMARY_FILE), summary)
    return dict(summary, written_shards=[paths[k] for k in todo],
                kept_shards=[p for k, p in enumerate(paths) if k not in todo])


def dataroot_records(out_dir, image_dir, pairs_csv, annotation_csv, image_size=(256, 176),
                     same_size=False):
    """A dataroot's records, converted on first use: :func:`write_pose_pair_records` runs
    when ``<out_dir>/pose_pairs.json`` (written last by a finished conversion) is missing,
    and the finished folder is reused after (the training / test scripts' dataroot step).

    Args:
        out_dir: the records folder (e.g. ``<dataroot>_<phase>_records``).
        image_dir, pairs_csv, annotation_csv, image_size, same_size: as
            :func:`write_pose_pair_records` (``image_size`` = (H, W) of the annotation frame).

    Returns:
        the number of records (pairs with images and keypoints), an int.

    Raises:
        PosePairsError: a missing or bad image folder, CSV or image; the message names it.
    """
    summary = os.path.join(out_dir, SUMMARY_FILE)
    if not os.path.isfile(summary):
        try:
            write_pose_pair_records(out_dir, image_dir, pairs_csv, annotation_csv,
                                    image_size=image_size, same_size=same_size)
        except (FileNotFoundError, PoseFileError) as e:
            raise PosePairsError(str(e)) from None
    with open(summary) as f:
        return int(json.load(f)["records"])


# ------------------------------------------------------------------ reading


def _trunc(x):
    return tf.where(x < 0, tf.math.ceil(x), tf.math.floor(x))


def _pil_bilinear_weights(in_size, out_size):
    """Pillow's 8-bit bilinear weights (``precompute_coeffs`` / ``normalize_coeffs_8bpc``
    of ``Resample.c``): float64 [out, in] holding integers, rows summing to about 2^22."""
    n = tf.cast(in_size, tf.float64)
    scale = n / out_size
    filterscale = tf.maximum(scale, 1.0)
    support = filterscale  # the triangle filter's support 1.0, widened when shrinking
    center = (tf.range(out_size, dtype=tf.float64) + 0.5) * scale
    xmin = tf.maximum(_trunc(center - support + 0.5), 0.0)[:, None]
    xmax = tf.minimum(_trunc(center + support + 0.5), n)[:, None]
    j = tf.range(in_size, dtype=tf.float64)[None, :]
    x = tf.abs((j - center[:, None] + 0.5) * (1.0 / filterscale))
    w = tf.where((j >= xmin) & (j < xmax) & (x < 1.0), 1.0 - x, 0.0)
    total = tf.reduce_sum(w, axis=1, keepdims=True)
    w = tf.where(total != 0, w / tf.where(total != 0, total, 1.0), w)
    return tf.floor(0.5 + w * 2.0 ** _PIL_BITS)


def _pil_pass(image, weights, equation):
    acc = tf.einsum(equation, weights, image) + 2.0 ** (_PIL_BITS - 1)
    return tf.clip_by_value(tf.floor(acc / 2.0 ** _PIL_BITS), 0.0, 255.0)


def pil_bilinear_resize(image, height, width):
    """``PIL.Image.resize((width, height), BILINEAR)`` in TF ops, bit-exact: the resize of
    torchvision's ``F.resize(img, (h, w))`` in GFLA / DPTN's ``__getitem__``. Pillow
    resamples horizontally then vertically, rounding to uint8 after each pass, with a
    triangle filter widened by the scale factor when shrinking; an axis whose size does not
    change is left alone (Pillow returns a copy); as ``Resample.c`` of python-pillow/Pillow.
    Pillow 13 runs the vertical pass first for some sizes when both axes change (seen for
    outputs wider than tall), which moves some pixels by one level; one-axis resizes
    (DeepFashion's 176 -> 256 columns) are bit-exact with every version.

    Args:
        image: uint8 [H, W, C].
        height, width: output size (Python ints).

    Returns:
        uint8 [height, width, C].
    """
    img = tf.cast(image, tf.float64)
    shape = tf.shape(image)
    img = tf.cond(shape[1] == width, lambda: img, lambda: _pil_pass(
        img, _pil_bilinear_weights(shape[1], width), "ow,hwc->hoc"))
    img = tf.cond(shape[0] == height, lambda: img, lambda: _pil_pass(
        img, _pil_bilinear_weights(shape[0], height), "oh,hwc->owc"))
    return tf.cast(tf.ensure_shape(img, [height, width, None]), tf.uint8)


def decode_image(data):
    """uint8 [H, W, 3] of encoded image bytes as PIL's ``open(...).convert('RGB')`` (JPEG
    with libjpeg's accurate integer DCT, as Pillow decodes it)."""
    image = tf.cond(tf.io.is_jpeg(data),
                    lambda: tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE"),
                    lambda: tf.io.decode_image(data, channels=3, expand_animations=False))
    return tf.ensure_shape(image, [None, None, 3])


def _example_fn(image_size, sigma, with_parse, num_parse_classes, peak_only):
    height, width = image_size
    size = tf.constant([height, width], tf.float64)

    @tf.autograph.experimental.do_not_convert
    def parse(serialized):
        ex = tf.io.parse_single_example(serialized, FEATURES)
        frame = tf.cast(ex["keypoint_frame"], tf.float64)
        same = tf.reduce_all(frame == size)
        out = {}
        for role in ("source", "target"):
            image = pil_bilinear_resize(decode_image(ex[f"{role}_image"]), height, width)
            out[f"{role}_image"] = (tf.cast(image, tf.float32) / 255.0 - 0.5) / 0.5
            kp = tf.reshape(tf.cast(ex[f"{role}_keypoints"], tf.float64), [NUM_JOINTS, 2])
            maps = tf.cond(same, lambda kp=kp: gaussian_heatmaps(
                kp[None], height, width, sigma, peak_only=peak_only)[0],
                lambda kp=kp: gaussian_heatmaps(kp[None], height, width, sigma, frame,
                                                peak_only)[0])
            out[f"{role}_pose"] = tf.ensure_shape(maps, [height, width, NUM_JOINTS])
            scaled = tf.where(same, kp, kp / frame * size)
            out[f"{role}_keypoints"] = tf.cast(tf.where(kp == -1, kp, scaled), tf.float32)
            out[f"{role}_name"] = ex[f"{role}_name"]
        for role in ("source", "target") if with_parse else ():
            labels = tf.io.decode_png(ex[f"{role}_parse"], channels=1)
            labels = tf.image.resize(labels, image_size, method="nearest")[..., 0]
            out[f"{role}_parse"] = tf.one_hot(tf.cast(labels, tf.int32), num_parse_classes)
        return out

    return parse


def pose_pair_dataset(pattern, image_size=(256, 256), sigma=6.0, batch_size=1, shuffle=True,
                      seed=0, with_parse=False, num_parse_classes=8, deterministic=True,
                      shuffle_buffer=1000, peak_only=False, repeat=False,
                      drop_remainder=False):
    """``tf.data`` reader of :func:`write_pose_pair_records` shards, batched.

    Images are decoded and resized as the originals' loaders: a file already at
    ``image_size`` is kept (PATN / ADGAN at 256x176, Market at 128x64); otherwise Pillow's
    bilinear resize (GFLA / DPTN: 176x256 files stretched to 256x256, see
    :func:`pil_bilinear_resize`), then ``ToTensor`` + ``Normalize(0.5, 0.5)`` = (x / 255 -
    0.5) / 0.5 in float32. Pose maps (:func:`tfposegen.pose.maps.gaussian_heatmaps`) use
    the keypoints as they are when ``image_size`` equals the annotation frame (PATN's
    ``cords_to_map``) and GFLA / DPTN's rescaling int(r / old_H * H) otherwise.

    Args:
        pattern: folder of shards, a shard file or a glob pattern.
        image_size: (H, W) of the output.
        sigma: Gaussian width of the pose maps in output pixels (6 in the originals).
        batch_size: batch size; drop_remainder: drop a last partial batch.
        shuffle: shuffle shard order and records (buffer ``shuffle_buffer``), seeded by
            ``seed``: the same seed gives the same order (reshuffled per epoch). False:
            the pairs-CSV order.
        with_parse: add ``source_parse`` / ``target_parse`` (records must have parsing
            maps).
        num_parse_classes: C of the one-hot parsing (labels >= C give all-zero pixels, as
            ADGAN's ``SP1``); the label map is resized with nearest neighbour if needed.
        deterministic: keep element order fixed under parallel reads and maps.
        peak_only: single-pixel maps of PATN / ADGAN's ``.npy`` pose files (see
            :func:`tfposegen.pose.maps.gaussian_heatmaps_np`).
        repeat: repeat forever.

    Returns:
        ``tf.data.Dataset`` of dicts: ``source_image`` / ``target_image`` float32
        [B, H, W, 3] in [-1, 1]; ``source_pose`` / ``target_pose`` float32 [B, H, W, 18] in
        [0, 1]; ``source_keypoints`` / ``target_keypoints`` float32 [B, 18, 2] (row, col)
        scaled to the output frame (not truncated; -1 missing kept); ``source_name`` /
        ``target_name`` string [B]; with ``with_parse`` ``source_parse`` /
        ``target_parse`` float32 [B, H, W, C] one-hot (ADGAN reads the source's only).
    """
    files = dataset_files(pattern, ".tfrecord")
    if not files:
        raise PosePairsError(f"{pattern}: no .tfrecord files")
    autotune = tf.data.AUTOTUNE
    if shuffle:
        ds = tf.data.Dataset.from_tensor_slices(files).shuffle(len(files), seed=seed)
        ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 4),
                           num_parallel_calls=autotune, deterministic=deterministic)
        ds = ds.shuffle(shuffle_buffer, seed=seed + 1)
    else:  # the pairs-CSV order (shards are contiguous runs of it), as the test loaders
        ds = tf.data.TFRecordDataset(files)
    if repeat:
        ds = ds.repeat()
    ds = ds.map(_example_fn(tuple(image_size), sigma, with_parse, num_parse_classes,
                            peak_only), num_parallel_calls=autotune,
                deterministic=deterministic)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(autotune)


# ------------------------------------------------------------------ synthetic layout

_VIEWS = ("front", "side", "back", "full", "additional")


def make_synthetic_pose_pairs(folder, num_people=4, views=2, size=(256, 176), seed=0,
                              image_format="png", parse_path=None, layout="fashion"):
    """A tiny DeepFashion- or Market-layout dataset made procedurally
    (:func:`tfposegen.data.synthetic_persons.make_person`), for running every chain
    offline: ``<folder>/train/<name>``, ``fashion-resize-pairs-train.csv`` (every ordered
    pair of different views of a person) and ``fashion-resize-annotation-train.csv``
    (``market-pairs-train.csv`` and ``market-annotation-train.csv`` for ``layout``
    "market"). Names follow PATN's conventions: DeepFashion's
    ``fashionWOMENDressesid0<7 digits>01_<v><view>.<ext>`` (so :func:`adgan_parse_path`
    applies), Market-1501's ``<4-digit person>_c<v>s1_<6-digit frame>_01.<ext>``. With
    ``parse_path`` each image's ADGAN 8-class parsing (the drawn parts,
    ``make_person(with_parse=True)``) is saved as a uint8 ``.npy`` [H, W] at
    ``<folder>/<parse_path(name)>``. Same arguments -> byte-identical files.

    Args:
        folder: output root (created).
        num_people, views: identities and images per identity (views <= 5).
        size: (H, W) of the images = the annotation frame.
        seed: seed of identities and poses.
        image_format: "png" (lossless) or "jpg" (quality 95, as DeepFashion's JPEGs).
        parse_path: name -> relative ``.npy`` path of its parsing (e.g.
            :func:`adgan_parse_path`), or None for no parsing maps.
        layout: "fashion" or "market" (file names and CSV names; any ``size`` works).

    Returns:
        {name: int64 [18, 2] keypoints (row, col), -1 missing}.
    """
    if layout not in ("fashion", "market"):
        raise ValueError(f"layout must be 'fashion' or 'market', got {layout!r}")
    if not 1 <= views <= len(_VIEWS):
        raise ValueError(f"views must be 1..{len(_VIEWS)}, got {views}")
    if image_format not in ("png", "jpg"):
        raise ValueError(f"image_format must be 'png' or 'jpg', got {image_format!r}")
    image_dir = os.path.join(folder, "train")
    os.makedirs(image_dir, exist_ok=True)
    entries, pairs = {}, []
    for person in range(num_people):
        ident = f"id0{(seed * 1000 + person) % 10 ** 7:07d}"
        names = []
        for v in range(views):
            name = (f"fashionWOMENDresses{ident}01_{v + 1}{_VIEWS[v]}.{image_format}"
                    if layout == "fashion" else f"{person + 1:04d}_c{v + 1}s1_"
                    f"{(seed * 1000 + person) % 10 ** 6:06d}_01.{image_format}")
            image, kp, labels = make_person(seed * 1000 + person,
                                            seed * 7919 + person * 31 + v, *size,
                                            with_parse=True)
            if parse_path is not None:
                path = os.path.join(folder, parse_path(name))
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with atomic_path(path) as tmp, open(tmp, "wb") as f:
                    np.save(f, labels)
            options = {"quality": 95} if image_format == "jpg" else {}
            with atomic_path(os.path.join(image_dir, name)) as tmp:
                Image.fromarray(image).save(tmp, **options)
            entries[name] = kp
            names.append(name)
        pairs += [(a, b) for a in names for b in names if a != b]
    prefix = "fashion-resize" if layout == "fashion" else "market"
    write_keypoint_csv(os.path.join(folder, f"{prefix}-annotation-train.csv"), entries)
    with atomic_path(os.path.join(folder, f"{prefix}-pairs-train.csv")) as tmp, \
            open(tmp, "w") as f:
        f.write("from,to\n" + "".join(f"{a},{b}\n" for a, b in pairs))
    return entries
