"""The shared edge of every system's SavedModel export: uint8 <-> [-1, 1] conversion as the
originals save images, endpoints whose inputs are shape-checked, and versioned, atomic writes.

Each system's serving signatures are defined in its own package
(``tfposegen.models.<system>.export``) on top of these helpers.

Exports are versioned as TF Serving expects: ``<export_dir>/<version>/saved_model.pb``,
written under a temporary name and renamed when complete.
"""

import os
import shutil

import tensorflow as tf


def to_uint8(images):
    """float [-1, 1] -> uint8 as the originals save images: x / 2 + 0.5, clipped, times 255,
    truncated."""
    return tf.cast(tf.clip_by_value(images / 2 + 0.5, 0.0, 1.0) * 255.0, tf.uint8)


def from_uint8(images):
    """uint8 [0, 255] -> float32 [-1, 1] (x / 127.5 - 1)."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def add_endpoints(archive, endpoints):
    """Add (name, fn, input specs) endpoints whose inputs are checked against the specs'
    shapes when called (a SavedModel signature alone lets a wrong size through)."""
    def checked(fn, specs):
        return lambda *args: fn(*[tf.ensure_shape(a, s.shape) for a, s in zip(args, specs)])

    for name, fn, specs in endpoints:
        archive.add_endpoint(name, checked(fn, specs), input_signature=list(specs))


def write_versioned(archive, export_dir, version):
    """Write an ``ExportArchive`` as ``<export_dir>/<version>/`` atomically (a temporary
    folder renamed when complete); an existing version is refused (FileExistsError)."""
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}")
    path = os.path.join(os.fspath(export_dir), str(version))
    if os.path.exists(path):
        raise FileExistsError(f"{path}: this version exists; export another --version")
    os.makedirs(os.fspath(export_dir), exist_ok=True)
    tmp = os.path.join(os.fspath(export_dir), f".{version}.tmp{os.getpid()}")
    try:
        archive.write_out(tmp, verbose=False)
        os.rename(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
