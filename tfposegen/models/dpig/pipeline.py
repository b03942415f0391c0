"""tf.data readers of DPIG pair records for the DPIG models (``trainer.py`` / ``trainer_256.py`` in
charliememory/Disentangled-Person-Image-Generation).

What the original pipeline (``trainer._load_batch_pair_pose``) hands its models, per batch:
both images decoded and mapped to [-1, 1], both RCV poses turned into 18-channel {-1, +1}
heat-maps (``tfposegen.pose.maps.pose_heatmap``), the radius-4 pose masks (Market also the
"r6" = radius-7 mask) as float [B, H, W, 1], the 37 part boxes int64 [B, 37, 4] (y1, x1, y2,
x2 pixels) and their visibility int64 [B, 37]. Only the keys it needs are parsed
(``tfposegen.models.dpig.records``). Differences from the original: shuffling is seeded (the
original's slim provider shuffled unseeded, also at test time) and can be switched off for
file order; one pass or endless repetition is a choice.

Corrupted data never hangs or passes silently. Each file's records are counted from their
headers when the pipeline is built (:func:`frame_count`) and numbered while read: a record
the reader cannot frame (bad CRC, truncated file; TF stops reading the file there), a
record that does not parse with the schema, or an image that does not decode to [H, W, 3]
is reported with its file and record index - printed to stderr and skipped
(``on_error="skip"``) or raised as ``tf.errors.InvalidArgumentError`` (``on_error=
"raise"``).
"""

import mmap
import os
import struct
import sys

import numpy as np
import tensorflow as tf

from tfposegen.models.dpig import records as R
from tfposegen.pose.maps import pose_heatmap, pose_mask
from tfposegen.utils.files import dataset_files

_RECORD, _END = 0, 1  # the kinds of element (int32 in the datasets); no tensors at import
_UNIT = np.arange(256, dtype=np.float32) / np.float32(127.5) - np.float32(1)  # uint8 -> [-1, 1]
_PER_IMAGE = ("image_name_{i}", "image_raw_{i}", "id_{i}", "pose_peaks_{i}_rcv", "part_bbox_{i}",
              "part_vis_{i}")


class PipelineError(ValueError):
    """No record files where the pipeline was pointed; the message names the path."""


def record_files(path):
    """The ``.tfrecord`` files of a dataset: a folder (all ``*.tfrecord`` in it), a file or
    a glob pattern; sorted."""
    files = dataset_files(path, ".tfrecord")
    if not files:
        raise PipelineError(f"{path}: no .tfrecord files")
    return files


def _keys(variant, stored_masks=True):
    masks = [stored for stored, _ in _masks(variant).values()] if stored_masks else []
    return [k.format(i=i) for k in _PER_IMAGE + tuple(masks) for i in (0, 1)]


def _decode(variant, key_list, height, width):
    """(index, raw) -> (index, kind, features): one record parsed and its two images
    decoded (masks as uint8: they are {0, 1}, and a shuffle buffer or cache of them is 8x
    smaller); and the zero features of an END marker (same structure)."""
    dtypes = {"bytes": tf.string, "int64": tf.int64, "float": tf.float32}

    @tf.autograph.experimental.do_not_convert
    def decode(index, raw):
        f = R.parse_example(raw, variant, key_list, height, width)
        for i in (0, 1):
            image = tf.io.decode_image(f.pop(f"image_raw_{i}"), channels=3,
                                       expand_animations=False)
            f[f"image_{i}"] = tf.ensure_shape(image, [height, width, 3])
        for key in [k for k in f if k.startswith("pose_mask_")]:
            f[key] = tf.cast(f[key], tf.uint8)
        return index, _RECORD, f

    def dummy():
        out = {}
        for key in key_list:
            if key.startswith("image_raw_"):
                out["image_" + key[-1]] = tf.zeros([height, width, 3], tf.uint8)
                continue
            fld = R.field(key)
            dtype = tf.uint8 if key.startswith("pose_mask_") else dtypes[fld.kind]
            out[key] = tf.zeros(R.concrete_shape(fld, height, width), dtype)
        return out

    return decode, dummy


def _report(path, start, stop, what, on_error):
    """Skip-mode message / raise-mode assertion for records [start, stop) of ``path``
    (``what()`` describes them; only called when there are some)."""
    def message():
        return ["DPIG records:", what(), "in file", path, "record index", start, "to", stop - 1]

    if on_error == "raise":
        return tf.cond(stop > start, lambda: tf.debugging.Assert(False, message()), tf.no_op)
    return tf.cond(stop > start,
                   lambda: tf.print(*message(), "(skipped)", output_stream=sys.stderr),
                   tf.no_op)


def _check(path, on_error):
    """scan step over the decoded records of a file (and its END marker) reporting the
    gaps in their indices: records dropped by ``ignore_errors`` (unparseable or
    undecodable), and at the END marker the records never read (TF stops reading a file
    at a corrupted or truncated record)."""
    @tf.autograph.experimental.do_not_convert
    def step(expected, item):
        index, kind, f = item

        def what():
            return tf.where(kind == _END, "corrupted or truncated record(s) (file unreadable "
                            "from here), or unparseable or undecodable",
                            "unparseable or undecodable record(s)")
        with tf.control_dependencies([_report(path, expected, index, what, on_error)]):
            index = tf.identity(index)
        return index + 1, (kind, f)
    return step


def frame_count(path):
    """(records, complete) of a ``.tfrecord`` file from its 12-byte record headers alone
    (no data read): the records that fit in the file, and whether they fill it exactly
    (False: a truncated last record or a corrupted length)."""
    size = os.path.getsize(path)
    if size == 0:
        return 0, True
    count = pos = 0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        while pos + 12 <= size:
            end = pos + 16 + struct.unpack_from("<Q", m, pos)[0]
            if end > size:
                break
            count, pos = count + 1, end
    return count, pos == size


def _file_dataset(path, end_index, decode, dummy, on_error):
    """Decoded records of one file, in order, with corruption reported (module
    docstring): records are numbered as read, decoded in parallel, and one ``scan`` step
    per record (and one END marker, ``end_index`` = the records :func:`frame_count`
    framed, + 1 if it found bytes after them) reports the missing indices. Elements
    (kind, features), END marker removed."""
    end = tf.data.Dataset.from_tensors((tf.cast(end_index, tf.int64), _END, dummy()))
    ds = (tf.data.TFRecordDataset(path, buffer_size=1 << 22).ignore_errors().enumerate()
          .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
          .ignore_errors().concatenate(end)
          .scan(tf.constant(0, tf.int64), _check(path, on_error)))
    return ds.filter(tf.autograph.experimental.do_not_convert(lambda kind, f: kind == _RECORD))


def _to_model_inputs(variant, height, width, heatmaps, uint8, stored_masks):
    """Batch of (kind, parsed record) -> the tensors DPIG's models consume."""
    @tf.autograph.experimental.do_not_convert
    def convert(kind, f):
        out = {}
        for i, suffix in ((0, ""), (1, "_target")):
            rcv = f[f"pose_peaks_{i}_rcv"]
            out["x" + suffix] = f[f"image_{i}"]
            if heatmaps:
                out["pose" + suffix] = pose_heatmap(rcv, height, width)
            out["pose_rcv" + suffix] = rcv
            for key, (stored, _) in _masks(variant).items() if stored_masks else ():
                out[key + suffix] = f[stored.format(i=i)][..., None]
            out["part_bbox" + suffix] = f[f"part_bbox_{i}"]
            out["part_vis" + suffix] = f[f"part_vis_{i}"]
            out["image_name" + suffix] = f[f"image_name_{i}"]
            out["id" + suffix] = f[f"id_{i}"]
        return out if uint8 else to_float(out, heatmaps=False, dataset=variant)
    return convert


def _masks(variant):
    """{batch key: (record key, radius)} of a dataset's pose masks."""
    masks = {"mask": ("pose_mask_r4_{i}", 4)}
    if variant == R.MARKET:
        masks["mask_r6"] = ("pose_mask_r6_{i}", 7)  # Market's "r6" mask has radius 7
    return masks


def to_float(batch, heatmaps=True, dataset=None):
    """Complete a batch read with ``uint8=True`` / ``heatmaps=False`` inside a training step:
    ``x{t}`` uint8 [0, 255] -> float32 [-1, 1], ``mask*`` uint8 -> float32 {0, 1},
    (``heatmaps``) ``pose{t}`` float32 [B, H, W, 18] built from ``pose_rcv{t}`` where
    missing, and (``dataset`` "DF" or "Market") that dataset's pose masks ``mask{t}``
    (Market also ``mask_r6{t}``) float32 [B, H, W, 1] built from ``pose_rcv{t}`` where
    missing (records converted with ``fields="keypoints"``; ``tfposegen.pose.maps
    .pose_mask``, the converters' rule for integer keypoints); for the keys present.
    Float32 batches with heat-maps and masks come back unchanged. The numbers equal those
    of a batch read with the defaults from records that store the masks."""
    out = dict(batch)
    for key, value in batch.items():
        if value.dtype != tf.uint8:
            continue
        if key.startswith("x"):  # a table: inside tf.function x / 127.5 becomes x * (1 /
            # 127.5), which differs by 1 ulp for 111 of the 256 values
            out[key] = tf.gather(_UNIT, tf.cast(value, tf.int32))
        elif key.startswith("mask"):
            out[key] = tf.cast(value, tf.float32)
    h, w = out["x"].shape[1], out["x"].shape[2]
    masks = _masks(R.MARKET if dataset and dataset.lower().startswith("market") else R.DF)
    for suffix in ("", "_target"):
        rcv = out.get("pose_rcv" + suffix)
        if rcv is None:
            continue
        if heatmaps and "pose" + suffix not in out:
            out["pose" + suffix] = pose_heatmap(rcv, h, w)
        for key, (_, radius) in masks.items() if dataset else ():
            if key + suffix not in out:
                out[key + suffix] = pose_mask(rcv, h, w, radius)
    return out


def _stores_masks(path):
    """Whether the first record of ``path`` stores the pose masks (False: converted with
    ``fields="keypoints"``); True for an empty or unreadable file (nothing to build; its
    records are reported while read)."""
    with open(path, "rb") as f:
        header = f.read(12)
        data = f.read(struct.unpack_from("<Q", header)[0]) if len(header) == 12 else b""
    try:
        example = tf.train.Example.FromString(data)
    except Exception:  # DecodeError: reported with file and index while reading
        return True
    return not data or "pose_mask_r4_0" in example.features.feature


def dpig_dataset(path, dataset="DF", batch_size=16, shuffle=True, seed=0, repeat=True,
                 on_error="skip", shuffle_buffer=256, drop_remainder=True, height=None,
                 width=None, heatmaps=True, cache=None, uint8=False, masks=None):
    """``tf.data`` pipeline of DPIG pair batches.

    Args:
        path: folder, file or glob of ``.tfrecord`` files (e.g. ``<root>/DF_train_data``).
        dataset: "DF" (256x256; also RCV records) or "Market" (128x64, adds ``mask_r6``).
        batch_size: pairs per batch.
        shuffle: seeded shuffling of files and records (repeatable for a ``seed``);
            False gives the deterministic file order (files sorted, records in order).
        repeat: loop forever (training) or one pass.
        on_error: "skip" (report to stderr and go on) or "raise" (InvalidArgumentError
            naming file and record index) for corrupted records.
        shuffle_buffer: record shuffle buffer size.
        height, width: override the image size of ``dataset``.
        heatmaps: build ``pose{t}`` in the pipeline (CPU). The heat-maps are the largest
            tensors of a batch (2 x [B, H, W, 18] float32) and cost more than decoding;
            with False they are left out and a model builds them on its device from
            ``pose_rcv{t}`` with ``tfposegen.pose.maps.pose_heatmap`` (as the original
            built them inside its graph).
        uint8: hand over images and masks as decoded, uint8 ``x{t}`` [B, H, W, 3] in
            [0, 255] and ``mask*`` [B, H, W, 1] in {0, 1} (4x fewer bytes to copy and to
            send to a device); :func:`to_float` in the model step converts them, and
            builds missing heat-maps (as ``run_scripts/dpig/main.py`` trains).
        cache: None, "memory" or a file prefix: keep the decoded records (before
            shuffling) after the first pass, for sets that fit (a DF record takes about
            0.6 MB decoded, a Market record 0.1 MB). Corrupted records are reported on
            the first pass only.
        masks: where the pose masks come from: "records" (parsed, as the original), or
            "keypoints" (built from ``pose_rcv{t}`` with the converters' rule: in the
            reader, or with ``uint8=True`` left to :func:`to_float` in the model step;
            the same numbers for keypoints of integer sources, the only ones a
            ``fields="keypoints"`` conversion accepts); None: "records" when the first
            record stores them, else "keypoints". A DF record with the masks the readers
            parse takes 0.3 MB, without them 0.04 MB.

    Returns:
        ``tf.data.Dataset`` of dicts, ``t`` = "" (source image) or "_target":
        ``x{t}`` float32 [B, H, W, 3] in [-1, 1]; ``pose{t}`` float32 [B, H, W, 18] in
        {-1, +1}; ``pose_rcv{t}`` float32 [B, 18, 3] (row, col, vis) pixels, (0, 0, 0)
        missing; ``mask{t}`` float32 [B, H, W, 1] {0, 1} (radius 4; Market also
        ``mask_r6{t}``, radius 7); ``part_bbox{t}`` int64 [B, 37, 4] (y1, x1, y2, x2);
        ``part_vis{t}`` int64 [B, 37]; ``image_name{t}`` string [B]; ``id{t}`` int64 [B].
    """
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
    if masks not in (None, "records", "keypoints"):
        raise ValueError(f"masks must be None, 'records' or 'keypoints', got {masks!r}")
    variant = R.MARKET if dataset.lower().startswith("market") else R.DF
    dh, dw = R.SIZES[variant]
    height, width = height or dh, width or dw
    files = record_files(path)
    stored = _stores_masks(files[0])
    if masks == "records" and not stored:
        raise PipelineError(f"{files[0]}: the records store no pose masks (converted with "
                            "fields='keypoints'); read them with masks='keypoints'")
    stored = stored and masks != "keypoints"
    ends = [n + (0 if complete else 1) for n, complete in map(frame_count, files)]
    decode, dummy = _decode(variant, _keys(variant, stored), height, width)
    ds = tf.data.Dataset.from_tensor_slices((files, tf.constant(ends, tf.int64)))
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.autograph.experimental.do_not_convert(  # each file decodes in
                           lambda p, n: _file_dataset(p, n, decode, dummy, on_error)),  # parallel
                       cycle_length=min(len(files), 4) if shuffle else 1)
    if cache is not None:
        ds = ds.cache("" if cache == "memory" else cache)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(_to_model_inputs(variant, height, width, heatmaps, uint8, stored),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
