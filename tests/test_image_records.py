"""TFRecord image datasets: NVlabs schema, sharding, folder conversion, tf.data reader."""

import pathlib
import subprocess

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfposegen.data.image_records import (
    ImageRecordError,
    image_dataset,
    images_to_records,
    write_image_records,
)


def _images(n, r, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (r, r, 3), dtype=np.uint8) for _ in range(n)]


def test_records_follow_nvlabs_schema_and_read_back_in_order(tmp_path):
    images = _images(5, 8)
    paths, n = write_image_records(images, tmp_path, "faces", 8, num_shards=1)
    assert n == 5 and [p.rsplit("/", 1)[1] for p in paths] == ["faces-r03.tfrecords"]
    # parse one record the way NVlabs' dataset.py does: shape [C,H,W], raw CHW uint8 data
    record = next(iter(tf.data.TFRecordDataset(paths[0]))).numpy()
    ex = tf.train.Example.FromString(record)
    shape = list(ex.features.feature["shape"].int64_list.value)
    data = np.frombuffer(ex.features.feature["data"].bytes_list.value[0], np.uint8)
    assert shape == [3, 8, 8]
    np.testing.assert_array_equal(data.reshape(shape).transpose(1, 2, 0), images[0])
    ds = image_dataset(tmp_path, 5, 8, shuffle=False, repeat=False)
    batch = next(iter(ds)).numpy()
    np.testing.assert_allclose(batch, np.stack(images) / 127.5 - 1, atol=1e-6)


def test_shards_shuffle_and_flip(tmp_path):
    images = _images(12, 4)
    paths, _ = write_image_records(images, tmp_path, "x", 4, num_shards=3)
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        f"x-r02-0000{i}-of-00003.tfrecords" for i in range(3)]
    as_uint8 = lambda b: np.round((b.numpy() + 1) * 127.5).astype(np.uint8)  # noqa: E731
    def take(**kw):
        return as_uint8(next(iter(image_dataset(tmp_path, 12, 4, repeat=False, **kw))))
    a, b, c = take(seed=1), take(seed=1), take(seed=2)
    np.testing.assert_array_equal(a, b)  # seeded: repeatable
    assert not np.array_equal(a, c)
    key = lambda im: im.tobytes()  # noqa: E731
    assert sorted(map(key, a)) == sorted(map(key, images))  # a permutation of all images
    flipped = take(shuffle=False, xflip=True, seed=3)
    plain = take(shuffle=False)
    is_flip = [np.array_equal(f, p[:, ::-1]) for f, p in zip(flipped, plain)]
    same = [np.array_equal(f, p) for f, p in zip(flipped, plain)]
    assert all(x or y for x, y in zip(is_flip, same)) and 0 < sum(is_flip) < 12


def test_folder_conversion_crops_and_resizes(tmp_path):
    src = tmp_path / "photos" / "sub"
    src.mkdir(parents=True)
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, 10:30] = 200  # the centre square is uniform grey
    Image.fromarray(wide).save(src / "a.png")
    Image.fromarray(np.full((16, 16), 50, np.uint8)).save(src / "b.jpg", quality=100)
    paths, n = images_to_records(tmp_path / "photos", tmp_path / "out", "p", 16)
    assert n == 2
    batch = next(iter(image_dataset(tmp_path / "out", 2, 16, shuffle=False, repeat=False)))
    px = np.round((batch.numpy() + 1) * 127.5)
    np.testing.assert_allclose(px[0], 200, atol=1)  # centre crop, grey -> RGB
    np.testing.assert_allclose(px[1], 50, atol=2)


def test_errors_name_the_file(tmp_path, warm_python):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ImageRecordError, match="bad.png"):
        images_to_records(tmp_path / "img", tmp_path / "out", "x", 8)
    assert not list((tmp_path / "out").glob("*"))  # nothing half-written
    with pytest.raises(ImageRecordError, match="expected uint8"):
        write_image_records(_images(1, 8), tmp_path / "o2", "x", 16)
    write_image_records(_images(2, 8), tmp_path / "o3", "x", 8)
    with pytest.raises(tf.errors.InvalidArgumentError, match="record shape"):
        next(iter(image_dataset(tmp_path / "o3", 1, 16, repeat=False)))
    script = (pathlib.Path(__file__).resolve().parents[1] / "run_scripts" / "stylegan2"
              / "images_to_tfrecords.py")
    proc = subprocess.run([warm_python.python, str(script),
                           f"--image_dir={tmp_path / 'img'}", f"--out_dir={tmp_path / 'o4'}"],
                          capture_output=True, text=True, env=warm_python.env())
    assert proc.returncode == 2 and "bad.png: cannot read" in proc.stderr
