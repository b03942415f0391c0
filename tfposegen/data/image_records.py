"""Image datasets for StyleGAN2 / encoder training as sharded TFRecords.

Record schema (NVlabs StyleGAN2 ``dataset_tool.py``, so its readers parse our files and ours
parse theirs): one ``tf.train.Example`` per image with

* ``shape``: int64 list ``[C, H, W]``;
* ``data``: bytes, the raw uint8 pixels in CHW order.

File names: ``<name>-r<log2(R):02d>.tfrecords`` for one shard (NVlabs' name for the full
resolution), ``<name>-r<log2(R):02d>-<i:05d>-of-<n:05d>.tfrecords`` for several. Only the
full resolution is written (StyleGAN2 does not use the lower levels of detail).
"""

import glob
import os

import numpy as np
import tensorflow as tf
from PIL import Image

from tfposegen.utils.files import dataset_files
from tfposegen.utils.progress import Progress

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class ImageRecordError(ValueError):
    """An image or record file cannot be used; the message names the file."""


def shard_names(name, resolution, num_shards):
    """File names of the shards of a dataset (see the module docstring)."""
    lod = int(np.log2(resolution))
    if num_shards == 1:
        return [f"{name}-r{lod:02d}.tfrecords"]
    return [f"{name}-r{lod:02d}-{i:05d}-of-{num_shards:05d}.tfrecords"
            for i in range(num_shards)]


def encode_example(image):
    """uint8 [H, W, C] -> serialized ``tf.train.Example`` (``shape`` [C, H, W], ``data``)."""
    chw = np.ascontiguousarray(np.transpose(image, (2, 0, 1)))
    return tf.train.Example(features=tf.train.Features(feature={
        "shape": tf.train.Feature(int64_list=tf.train.Int64List(value=list(chw.shape))),
        "data": tf.train.Feature(bytes_list=tf.train.BytesList(value=[chw.tobytes()])),
    })).SerializeToString()


def load_image(path, resolution):
    """Read an image file as RGB, centre-crop it to a square and resize it (Lanczos).

    Returns:
        uint8 [resolution, resolution, 3].
    """
    try:
        image = Image.open(path)
        image.load()
    except Exception as e:  # PIL raises several types for unreadable files
        raise ImageRecordError(f"{path}: cannot read as an image ({e})") from None
    image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.LANCZOS)
    return np.asarray(image)


def list_images(image_dir):
    """Sorted image files (png, jpg, bmp, webp) under ``image_dir``, recursively."""
    if not os.path.isdir(image_dir):
        raise ImageRecordError(f"{image_dir}: not a folder")
    files = sorted(p for p in glob.glob(os.path.join(image_dir, "**", "*"), recursive=True)
                   if p.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise ImageRecordError(f"{image_dir}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


def write_image_records(images, out_dir, name, resolution, num_shards=1, total=None):
    """Write images into sharded TFRecords, image ``k`` into shard ``k % num_shards``.

    Each shard is written under a temporary name and renamed when all are complete, so an
    interrupted run leaves no partial dataset.

    Args:
        images: iterable of uint8 [R, R, 3] arrays.
        out_dir: output folder (created).
        name: dataset name (file prefix).
        resolution: R, a power of two.
        num_shards: number of files.
        total: number of images, for the progress display (optional).

    Returns:
        (list of shard paths, number of images written).
    """
    if resolution < 4 or resolution & (resolution - 1):
        raise ImageRecordError(f"resolution must be a power of two >= 4, got {resolution}")
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, n) for n in shard_names(name, resolution, num_shards)]
    tmps = [f"{p}.tmp{os.getpid()}" for p in paths]
    writers = [tf.io.TFRecordWriter(t) for t in tmps]
    progress = Progress(f"writing {name}", total or 0) if total else None
    count = 0
    try:
        for count, image in enumerate(images, 1):
            image = np.asarray(image)
            if image.shape != (resolution, resolution, 3) or image.dtype != np.uint8:
                raise ImageRecordError(f"image {count - 1}: expected uint8 [{resolution}, "
                                       f"{resolution}, 3], got {image.dtype} {image.shape}")
            writers[(count - 1) % num_shards].write(encode_example(image))
            if progress:
                progress.update(count)
        for w in writers:
            w.close()
        for tmp, path in zip(tmps, paths):
            os.replace(tmp, path)
    finally:
        for w, tmp in zip(writers, tmps):
            w.close()
            if os.path.exists(tmp):
                os.remove(tmp)
    return paths, count


def images_to_records(image_dir, out_dir, name, resolution, num_shards=1):
    """Convert a folder of images (any size; centre-cropped and resized) to TFRecords.

    Returns:
        (list of shard paths, number of images).
    """
    files = list_images(image_dir)
    return write_image_records((load_image(f, resolution) for f in files), out_dir, name,
                               resolution, num_shards, total=len(files))


def record_files(path):
    """The ``.tfrecords`` files of a dataset: a folder, a file, or a glob pattern."""
    files = dataset_files(path, ".tfrecords")
    if not files:
        raise ImageRecordError(f"{path}: no .tfrecords files")
    return files


def image_dataset(path, batch_size, resolution, shuffle=True, seed=0, repeat=True,
                  xflip=False, shuffle_buffer=1000, drop_remainder=True):
    """A ``tf.data`` pipeline of training images from TFRecords written as above.

    Args:
        path: folder, file or glob pattern of ``.tfrecords`` files.
        batch_size: images per batch.
        resolution: expected R; records of another shape stop the pipeline with an error
            naming the shape.
        shuffle: shuffle files and images (seeded by ``seed``, so runs are repeatable);
            False gives the order the images were written in, shard by shard.
        repeat: loop forever (training) or one pass (evaluation).
        xflip: mirror each image left-right with probability 0.5 (seeded).
        shuffle_buffer: size of the image shuffle buffer.

    Returns:
        ``tf.data.Dataset`` of float32 [batch, R, R, 3] in [-1, 1].
    """
    files = record_files(path)
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 4),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    expected = tf.constant([3, resolution, resolution], tf.int64)

    @tf.autograph.experimental.do_not_convert
    def parse(record):
        f = tf.io.parse_single_example(record, {"shape": tf.io.FixedLenFeature([3], tf.int64),
                                                "data": tf.io.FixedLenFeature([], tf.string)})
        tf.debugging.assert_equal(f["shape"], expected,
                                  message=f"record shape is not [3, {resolution}, "
                                          f"{resolution}] in {path}")
        chw = tf.reshape(tf.io.decode_raw(f["data"], tf.uint8), f["shape"])
        return tf.cast(tf.transpose(chw, [1, 2, 0]), tf.float32) / 127.5 - 1.0

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if xflip:  # each image gets its own stateless seed [2], derived from ``seed``
        seeds = tf.data.Dataset.random(seed=seed).batch(2)
        flip = tf.autograph.experimental.do_not_convert(
            lambda s, im: tf.image.stateless_random_flip_left_right(im, s))
        ds = tf.data.Dataset.zip((seeds, ds)).map(flip, num_parallel_calls=tf.data.AUTOTUNE,
                                                  deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)

