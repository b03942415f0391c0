"""Flags that ADGAN's train.py and test.py share (``options/base_options.py`` in
menyifang/ADGAN), and the dataroot -> records step both run first."""

import os

from absl import flags

from tfposegen.utils.cli import InputError, run  # noqa: F401 - the scripts' options.run

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
    flags.DEFINE_boolean("synthetic", False, "Make a synthetic dataroot at --dataroot if "
                         "missing (tfposegen.models.adgan.data.make_synthetic_dataroot); "
                         "train.py then uses seeded random VGG weights: the chain offline.")
    flags.DEFINE_list("synthetic_size", ["16", "16"], "H,W of the synthetic persons.")
    flags.DEFINE_integer("synthetic_people", 2, "Identities of the synthetic dataroot (2 "
                         "views each).", lower_bound=1)
    flags.DEFINE_integer("synthetic_seed", 0, "Seed of the synthetic identities and poses "
                         "(another seed: other people, e.g. a held-out test set).")
    flags.mark_flags_as_required(["dataroot"])


def make_synthetic():
    """With ``--synthetic``, the synthetic dataroot at ``--dataroot`` unless it exists."""
    from tfposegen.models.adgan.data import make_synthetic_dataroot

    if FLAGS.synthetic and not os.path.isdir(FLAGS.dataroot):
        make_synthetic_dataroot(FLAGS.dataroot, tuple(int(v) for v in FLAGS.synthetic_size),
                                FLAGS.synthetic_people, seed=FLAGS.synthetic_seed)


def records():
    """(records folder, (H, W), pairs) of the flags' dataroot, converted on first use."""
    from tfposegen.data.pose_pairs import PosePairsError
    from tfposegen.models.adgan.data import dataroot_records
    from tfposegen.pose.formats import PoseFileError

    root = os.path.abspath(FLAGS.dataroot)
    try:
        return dataroot_records(root, FLAGS.phase, FLAGS.pairLst, FLAGS.annotation,
                                FLAGS.dirSem or (root if FLAGS.synthetic else None),
                                FLAGS.num_shards)
    except (FileNotFoundError, PosePairsError, PoseFileError) as e:
        raise InputError(str(e)) from None
