"""Flags that ADGAN's train.py and test.py share (``options/base_options.py`` in
menyifang/ADGAN), and the dataroot -> records step both run first."""

import os

from absl import app, flags

FLAGS = flags.FLAGS


def define_base_flags(phase):
    """The data and experiment flags, named as the original's base options; ``phase`` is
    the default sub-folder of the dataroot ("train" or "test")."""
    flags.DEFINE_string("dataroot", None, "Folder with <phase>/ images (the original's "
                        "fashion_resize).")
    flags.DEFINE_string("dirSem", None, "Folder holding semantic_merge3/ (default: "
                        "dirname(dataroot); with --synthetic the dataroot).")
    flags.DEFINE_string("pairLst", None, "Pairs CSV (default: fashion-resize-pairs-<phase>.csv "
                        "in dataroot or its parent).")
    flags.DEFINE_string("annotation", None, "Keypoint CSV (default: fashion-resize-annotation-"
                        "<phase>.csv in dataroot or its parent); pose maps are made from it.")
    flags.DEFINE_string("phase", phase, "Sub-folder of dataroot.")
    flags.DEFINE_string("name", "experiment_name", "Experiment folder under checkpoints_dir.")
    flags.DEFINE_enum("model", "adgan", ["adgan"], "Only adgan.")
    flags.DEFINE_string("checkpoints_dir", "./checkpoints", "Where experiments are.")
    flags.DEFINE_string("which_epoch", "latest", "Label of the networks to load.")
    flags.mark_flags_as_required(["dataroot"])


def records():
    """(records folder, (H, W), pairs) of the flags' dataroot, converted on first use."""
    from tfposegen.data.pose_pairs import PosePairsError
    from tfposegen.models.adgan.data import dataroot_records

    root = os.path.abspath(FLAGS.dataroot)
    try:
        return dataroot_records(root, FLAGS.phase, FLAGS.pairLst, FLAGS.annotation,
                                FLAGS.dirSem or (root if FLAGS.synthetic else None),
                                FLAGS.num_shards)
    except (FileNotFoundError, PosePairsError) as e:
        raise app.UsageError(str(e)) from None
