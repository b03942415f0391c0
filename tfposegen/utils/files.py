"""File edges: atomic writes (a file appears complete under its final name, or not at all)
and reading user images with errors that name the file.

Each writer writes to a temporary name in the destination folder and renames it over the
final name with ``os.replace`` (atomic on POSIX and Windows), so an interrupted run never
leaves a half-written file and never destroys the previous version of a file early.
"""

import contextlib
import glob
import json
import os
import shutil

import numpy as np
from PIL import Image


class ImageReadError(ValueError):
    """An image file is missing or unreadable; the message names it."""


def open_image(path, what="image"):
    """Open an image file fully (PIL), or ImageReadError naming ``path`` and ``what``."""
    if not os.path.isfile(path):
        raise ImageReadError(f"{path}: {what} not found")
    try:
        image = Image.open(path)
        image.load()
    except Exception as e:  # PIL raises several types for unreadable files
        raise ImageReadError(f"{path}: cannot read {what} as an image ({e})") from None
    return image


def read_rgb(path, what="image"):
    """uint8 [H, W, 3] RGB pixels of any image file PIL reads (grey, palette or RGBA
    converted), or ImageReadError naming ``path`` and ``what``."""
    return np.asarray(open_image(path, what).convert("RGB"))


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    The temporary name keeps ``path``'s extension (writers that pick a format from the
    extension still work). On an exception the temporary file is removed and ``path`` is
    left as it was.
    """
    path = os.fspath(path)
    base, ext = os.path.splitext(path)
    tmp = f"{base}.tmp{os.getpid()}{ext}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_folder(path):
    """Yield a temporary folder beside ``path`` to fill; on success rename it to ``path``, so
    the folder appears complete or not at all. When another process made ``path`` meanwhile
    (workers of one cluster running the same command), its folder is kept and this one
    dropped. On an exception the temporary folder is removed."""
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        yield tmp
        try:
            os.rename(tmp, path)
        except OSError:
            if not os.path.isdir(path):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def to_uint8(images):
    """float images in [-1, 1] -> uint8 in [0, 255], as the originals: x/2 + 0.5, clipped to
    [0, 1], times 255, truncated (not rounded). Any shape."""
    return (np.clip(np.asarray(images, np.float32) / 2 + 0.5, 0, 1) * 255).astype(np.uint8)


def write_png(path, array):
    """Write uint8 [H, W], [H, W, 1] or [H, W, 3] (or bool [H, W] as a 1-bit PNG) atomically."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    image = Image.fromarray(array)  # bool arrays become mode "1"
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def write_json(path, obj):
    """Write ``obj`` as indented JSON atomically."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=1)


def write_npz(path, **arrays):
    """Write numpy arrays as an uncompressed ``.npz`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def dataset_files(path, extension):
    """Sorted files of a dataset: a folder (every ``*<extension>`` in it), a file or a glob
    pattern; an empty list when nothing matches."""
    path = os.fspath(path)
    return sorted(glob.glob(os.path.join(path, "*" + extension) if os.path.isdir(path)
                            else path))
