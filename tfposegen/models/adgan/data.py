"""ADGAN's data: a dataroot in the original's layout converted once to the shared pose-pair
records (``data/keypoint.py`` in menyifang/ADGAN reads the same files), and a tiny synthetic
dataroot so that every chain runs offline."""

import json
import os
import shutil

from tfposegen.data.pose_pairs import (
    SUMMARY_FILE,
    adgan_parse_path,
    make_synthetic_pose_pairs,
    write_pose_pair_records,
)
from tfposegen.models.adgan.networks import N_CLASSES
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

    Every image must have the first one's size and every parsing map its image's size and
    labels 0..7; nothing is written otherwise.

    Raises:
        FileNotFoundError: no images or CSV (the message names the paths);
        tfposegen.data.pose_pairs.PosePairsError: a wrong file (named), or no usable pair;
        tfposegen.pose.formats.PoseFileError: a malformed keypoint CSV line (named).
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
                                num_shards=num_shards, verbose=verbose,
                                num_parse_classes=N_CLASSES, same_size=True)
    with open(summary) as f:
        info = json.load(f)
    return out, tuple(info["keypoint_frame"]), int(info["records"])


def make_synthetic_dataroot(folder, size=(16, 16), num_people=2, views=2, seed=0):
    """A tiny ADGAN dataroot made offline: ``tfposegen.data.pose_pairs.
    make_synthetic_pose_pairs`` images, CSVs and ``semantic_merge3`` 8-class parsing maps
    (``.npy`` at ``adgan_parse_path`` of each name, with ``folder`` as dirSem) for the
    ``train`` phase, and the same files copied as the ``test`` phase. Returns the image
    names."""
    names = sorted(make_synthetic_pose_pairs(folder, num_people, views, size, seed,
                                             parse_path=adgan_parse_path))
    shutil.copytree(os.path.join(folder, "train"), os.path.join(folder, "test"),
                    dirs_exist_ok=True)
    for kind in ("pairs", "annotation"):
        shutil.copyfile(os.path.join(folder, f"fashion-resize-{kind}-train.csv"),
                        os.path.join(folder, f"fashion-resize-{kind}-test.csv"))
    return names
