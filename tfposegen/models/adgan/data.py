"""ADGAN's data: a dataroot in the original's layout converted once to the shared pose-pair
records (``data/keypoint.py`` in menyifang/ADGAN reads the same files), and a tiny synthetic
dataroot so that every chain runs offline."""

import json
import os
import shutil

import numpy as np

from tfposegen.data.pose_pairs import (
    SUMMARY_FILE,
    PosePairsError,
    adgan_parse_path,
    make_synthetic_pose_pairs,
    write_pose_pair_records,
)
from tfposegen.utils.files import read_rgb


def dataroot_records(dataroot, phase, pairs_csv=None, annotation_csv=None, dir_sem=None,
                     num_shards=1, verbose=True):
    """TFRecords of an ADGAN dataroot, converted once beside it into
    ``<dataroot>_<phase>_records`` (``tfposegen.data.pose_pairs.write_pose_pair_records``
    with ``adgan_parse_path`` parsing maps; the frame is the first image's size).

    Args:
        dataroot: folder with ``<phase>/`` images (the original's ``fashion_resize``).
        phase: ``train`` or ``test``.
        pairs_csv, annotation_csv: default ``fashion-resize-{pairs,annotation}-<phase>.csv``
            in ``dataroot`` or its parent.
        dir_sem: folder holding ``semantic_merge3/`` (default: the parent of ``dataroot``,
            as the original's scripts).

    Returns:
        (records folder, (H, W), number of pairs).

    Raises:
        FileNotFoundError: no images or CSV (the message names the paths);
        tfposegen.data.pose_pairs.PosePairsError: unusable files, or no usable pair.
    """
    root = os.path.abspath(dataroot)
    out = f"{root}_{phase}_records"
    summary = os.path.join(out, SUMMARY_FILE)
    if not os.path.isfile(summary):
        image_dir = os.path.join(root, phase)
        first = sorted(os.listdir(image_dir))[:1] if os.path.isdir(image_dir) else []
        if not first:
            raise FileNotFoundError(f"{image_dir}: no images")
        csvs = []
        for kind, given in (("pairs", pairs_csv), ("annotation", annotation_csv)):
            name = f"fashion-resize-{kind}-{phase}.csv"
            found = given or next((os.path.join(d, name) for d in (root, os.path.dirname(root))
                                   if os.path.isfile(os.path.join(d, name))), None)
            if found is None:
                raise FileNotFoundError(f"{name} not found in {root} or its parent")
            csvs.append(found)
        write_pose_pair_records(out, image_dir, *csvs,
                                parse_dir=dir_sem or os.path.dirname(root),
                                parse_path=adgan_parse_path,
                                image_size=read_rgb(os.path.join(image_dir, first[0])).shape[:2],
                                num_shards=num_shards, verbose=verbose)
    with open(summary) as f:
        info = json.load(f)
    if not info["records"]:
        raise PosePairsError(f"{out}: no usable pairs ({info})")
    return out, tuple(info["keypoint_frame"]), int(info["records"])


def make_synthetic_dataroot(folder, size=(16, 16), num_people=2, views=2, seed=0):
    """A tiny ADGAN dataroot made offline: ``tfposegen.data.pose_pairs.
    make_synthetic_pose_pairs`` images and CSVs for the ``train`` phase, the same files
    copied as the ``test`` phase, and ``semantic_merge3`` label maps (``.npy``, at
    ``adgan_parse_path`` of each name, with ``folder`` as dirSem): 8 horizontal bands,
    label ``row * 8 // H``. Returns the image names."""


    names = sorted(make_synthetic_pose_pairs(folder, num_people, views, size, seed))
    labels = (np.arange(size[0]) * 8 // size[0])[:, None].repeat(size[1], 1).astype(np.uint8)
    for name in names:
        path = os.path.join(folder, adgan_parse_path(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.save(path, labels)
    shutil.copytree(os.path.join(folder, "train"), os.path.join(folder, "test"),
                    dirs_exist_ok=True)
    for kind in ("pairs", "annotation"):
        shutil.copyfile(os.path.join(folder, f"fashion-resize-{kind}-train.csv"),
                        os.path.join(folder, f"fashion-resize-{kind}-test.csv"))
    return names
