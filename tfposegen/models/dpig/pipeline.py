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

Corrupted data never hangs or passes silently. Each file's records are counted and their
bytes summed while read: a record the reader cannot frame (bad CRC, truncated file; TF stops
reading the file there), a record that does not parse with the schema, or an image that
does not decode to [H, W, 3] is reported with its file and record index - printed to
stderr and skipped (``on_error="skip"``) or raised as ``tf.errors.InvalidArgumentError``
(``on_error="raise"``).
"""

import os
import sys

import numpy as np
import tensorflow as tf

from tfposegen.models.dpig import records as R
from tfposegen.pose.maps import pose_heatmap
from tfposegen.utils.files import dataset_files

_RECORD, _END = tf.constant(0), tf.constant(1)
_UNIT = np.arange(256, dtype=np.float32) / np.float32(127.5) - np.float32(1)  # uint8 -> [-1, 1]
CHUNK = 64  # records framed and checked together
_PER_IMAGE = ("image_name_{i}", "image_raw_{i}", "id_{i}", "pose_peaks_{i}_rcv",
              "pose_mask_r4_{i}", "part_bbox_{i}", "part_vis_{i}")


class PipelineError(ValueError):
    """No record files where the pipeline was pointed; the message names the path."""


def record_files(path):
    """The ``.tfrecord`` files of a dataset: a folder (all ``*.tfrecord`` in it), a file or
    a glob pattern; sorted."""
    files = dataset_files(path, ".tfrecord")
    if not files:
        raise PipelineError(f"{path}: no .tfrecord files")
    return files


def _keys(variant):
    per_image = _PER_IMAGE + (("pose_mask_r6_{i}",) if variant == R.MARKET else ())
    return [k.format(i=i) for k in per_image for i in (0, 1)]


def _decode(variant, height, width):
    """(index, kind, raw) -> (index, kind, features): one record parsed and its two images
    decoded (masks as uint8: they are {0, 1}, and a shuffle buffer or cache of them is 8x
    smaller); an END marker gets zero features of the same structure."""
    key_list = _keys(variant)
    dtypes = {"bytes": tf.string, "int64": tf.int64, "float": tf.float32}

    def parse(raw):
        f = R.parse_example(raw, variant, key_list, height, width)
        for i in (0, 1):
            image = tf.io.decode_image(f.pop(f"image_raw_{i}"), channels=3,
                                       expand_animations=False)
            f[f"image_{i}"] = tf.ensure_shape(image, [height, width, 3])
        return f

    def dummy():
        out = {}
        for key in key_list:
            if key.startswith("image_raw_"):
                out["image_" + key[-1]] = tf.zeros([height, width, 3], tf.uint8)
                continue
            fld = R.field(key)
            out[key] = tf.zeros(R.concrete_shape(fld, height, width), dtypes[fld.kind])
        return out

    @tf.autograph.experimental.do_not_convert
    def decode(index, kind, raw):
        f = tf.cond(kind == _RECORD, lambda: parse(raw), dummy)
        for key in [k for k in f if k.startswith("pose_mask_")]:
            f[key] = tf.cast(f[key], tf.uint8)
        return index, kind, f

    return decode


def _report(path, start, stop, what, on_error):
    """Skip-mode message / raise-mode assertion for records [start, stop) of ``path``."""
    bad = stop > start
    message = ["DPIG records:", what, "in file", path, "record index", start, "to", stop - 1]
    if on_error == "raise":
        return tf.debugging.Assert(tf.logical_not(bad), message)
    return tf.cond(bad, lambda: tf.print(*message, "(skipped)", output_stream=sys.stderr),
                   tf.no_op)


def _frame(path, size, on_error):
    """scan step over chunks of raw records: numbers the records and sums their bytes. The
    empty chunk at the end becomes one END marker carrying the count; there a file the
    reader stopped early in (bytes left unread: a corrupted or truncated record, which TF
    cannot read past) is reported."""
    @tf.autograph.experimental.do_not_convert
    def step(state, raw):
        count, consumed = state
        n = tf.size(raw, out_type=tf.int64)
        is_end = n == 0
        unread = is_end & (consumed != size)
        check = _report(path, count, tf.where(unread, count + 1, count),
                        "corrupted or truncated (file unreadable from here)", on_error)
        with tf.control_dependencies([check]):
            index = tf.where(is_end, count[None], count + tf.range(n))
        kind = tf.fill(tf.shape(index), tf.where(is_end, _END, _RECORD))
        framed = tf.reduce_sum(tf.cast(tf.strings.length(raw), tf.int64) + 16)
        raw = tf.cond(is_end, lambda: tf.constant([b""]), lambda: raw)
        return (count + n, consumed + framed), (index, kind, raw)
    return step


def _check(path, on_error):
    """scan step over chunks of decoded records reporting the gaps in their indices
    (records dropped by ``ignore_errors``: unparseable or undecodable)."""
    what = "unparseable or undecodable record(s)"

    @tf.autograph.experimental.do_not_convert
    def step(expected, item):
        index, kind, f = item
        previous = tf.concat([expected[None] - 1, index[:-1]], 0)
        gap = tf.where(index - previous > 1)[:, 0]
        starts, stops = tf.gather(previous + 1, gap), tf.gather(index, gap)

        def report(k):
            return _report(path, starts[k], stops[k], what, on_error)

        with tf.control_dependencies([tf.while_loop(
                lambda k: k < tf.size(gap), lambda k: [_after(report(k), k + 1)], [0])]):
            index = tf.identity(index)
        return index[-1] + 1, (index, kind, f)
    return step


def _after(op, value):
    """``value`` once ``op`` has run."""
    with tf.control_dependencies([op]):
        return tf.identity(value)


def _file_dataset(path, size, decode, on_error):
    """Decoded records of one file, in order, with corruption reported (module
    docstring). Framing and checks work on chunks of :data:`CHUNK` records (a ``scan``
    step per record would cost more than decoding it)."""
    end = tf.data.Dataset.from_tensors(tf.zeros([0], tf.string))
    zero = tf.constant(0, tf.int64)
    ds = (tf.data.TFRecordDataset(path, buffer_size=1 << 22).ignore_errors().batch(CHUNK)
          .concatenate(end).scan((zero, zero), _frame(path, size, on_error)).unbatch()
          .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
          .ignore_errors().batch(CHUNK).scan(zero, _check(path, on_error)).unbatch())
    records = tf.autograph.experimental.do_not_convert(lambda index, kind, f: kind == _RECORD)
    fields = tf.autograph.experimental.do_not_convert(lambda index, kind, f: f)
    return ds.filter(records).map(fields)


def _to_model_inputs(variant, height, width, heatmaps, uint8):
    """Batch of parsed records -> the tensors DPIG's models consume."""
    @tf.autograph.experimental.do_not_convert
    def convert(f):
        out = {}
        for i, suffix in ((0, ""), (1, "_target")):
            rcv = f[f"pose_peaks_{i}_rcv"]
            out["x" + suffix] = f[f"image_{i}"]
            if heatmaps:
                out["pose" + suffix] = pose_heatmap(rcv, height, width)
            out["pose_rcv" + suffix] = rcv
            out["mask" + suffix] = f[f"pose_mask_r4_{i}"][..., None]
            if variant == R.MARKET:
                out["mask_r6" + suffix] = f[f"pose_mask_r6_{i}"][..., None]
            out["part_bbox" + suffix] = f[f"part_bbox_{i}"]
            out["part_vis" + suffix] = f[f"part_vis_{i}"]
            out["image_name" + suffix] = f[f"image_name_{i}"]
            out["id" + suffix] = f[f"id_{i}"]
        return out if uint8 else to_float(out, heatmaps=False)
    return convert


def to_float(batch, heatmaps=True):
    """Complete a batch read with ``uint8=True`` / ``heatmaps=False`` inside a training step:
    ``x{t}`` uint8 [0, 255] -> float32 [-1, 1], ``mask*`` uint8 -> float32 {0, 1}, and
    (``heatmaps``) ``pose{t}`` float32 [B, H, W, 18] built from ``pose_rcv{t}`` where
    missing (for the keys present); float32 batches with heat-maps come back unchanged.
    The numbers equal those of a batch read with the defaults."""
    out = dict(batch)
    for key, value in batch.items():
        if value.dtype != tf.uint8:
            continue
        if key.startswith("x"):  # a table: inside tf.function x / 127.5 becomes x * (1 /
            # 127.5), which differs by 1 ulp for 111 of the 256 values
            out[key] = tf.gather(_UNIT, tf.cast(value, tf.int32))
        elif key.startswith("mask"):
            out[key] = tf.cast(value, tf.float32)
    for suffix in ("", "_target") if heatmaps else ():
        if "pose" + suffix not in out and "pose_rcv" + suffix in out:
            h, w = out["x"].shape[1], out["x"].shape[2]
            out["pose" + suffix] = pose_heatmap(out["pose_rcv" + suffix], h, w)
    return out


def dpig_dataset(path, dataset="DF", batch_size=16, shuffle=True, seed=0, repeat=True,
                 on_error="skip", shuffle_buffer=256, drop_remainder=True, height=None,
                 width=None, heatmaps=True, cache=None, uint8=False):
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
    variant = R.MARKET if dataset.lower().startswith("market") else R.DF
    dh, dw = R.SIZES[variant]
    height, width = height or dh, width or dw
    files = record_files(path)
    sizes = [os.path.getsize(f) for f in files]
    decode = _decode(variant, height, width)
    ds = tf.data.Dataset.from_tensor_slices((files, tf.constant(sizes, tf.int64)))
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.autograph.experimental.do_not_convert(
                           lambda p, n: _file_dataset(p, n, decode, on_error)),
                       cycle_length=min(len(files), 4) if shuffle else 1,
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache is not None:
        ds = ds.cache("" if cache == "memory" else cache)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(_to_model_inputs(variant, height, width, heatmaps, uint8),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
