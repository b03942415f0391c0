"""Flags that DPTN's train.py and test.py share (``options/base_options.py`` of
PangzeCheung/Dual-task-Pose-Transformer-Network), and the dataroot -> records step.

Dataroot layout, as the original's datasets read it: ``<dataroot>/<phase>/`` images,
``<dataroot>/fasion-resize-pairs-<phase>.csv`` and ``fasion-resize-annotation-<phase>.csv``
(``--dataset_mode fashion``; the "fasion" spelling is the code's; PATN's ``fashion-resize-*``
names are accepted too) or ``market-pairs-<phase>.csv`` / ``market-annotation-<phase>.csv``
(``market``). Images are read at their stored size (DeepFashion 256x176, Market 128x64) and
the network sees ``--loadSize`` x ``--loadSize`` for fashion (176 columns stretched to 256
with Pillow's bilinear resize, as the code) and 128x64 for Market.
"""

import os

from absl import flags

from tfposegen.utils.cli import InputError, run  # noqa: F401 - the scripts' options.run

FLAGS = flags.FLAGS


def define_base_flags(phase):
    flags.DEFINE_string("dataroot", None, "Folder with <phase>/ and the pairs / annotation "
                        "CSVs.")
    flags.DEFINE_enum("dataset_mode", "fashion", ["fashion", "market"], "Dataset layout.")
    flags.DEFINE_string("phase", phase, "Sub-folder of dataroot.")
    flags.DEFINE_string("name", "experiment_name", "Experiment folder under checkpoints_dir.")
    flags.DEFINE_enum("model", "DPTN", ["DPTN"], "Only DPTN.")
    flags.DEFINE_string("checkpoints_dir", "./checkpoints", "Where experiments are.")
    flags.DEFINE_string("which_epoch", "latest", "Label of the networks to load.")
    flags.DEFINE_integer("loadSize", 256, "Network size of fashion images (square).",
                         lower_bound=16)
    flags.DEFINE_integer("batchSize", 1, "Pairs per iteration.", lower_bound=1)
    flags.DEFINE_string("gpu_ids", "0", "Accepted for the original's command lines; devices "
                        "are TensorFlow's.")
    flags.DEFINE_enum("preset", "released", ["released", "tiny"], "Network sizes "
                      "(tfposegen.models.dptn.presets).")
    flags.DEFINE_integer("dis_layers", 4, "Discriminator depth (Market's README: 3).",
                         lower_bound=1)
    flags.DEFINE_boolean("synthetic", False, "Make a synthetic dataroot of --dataset_mode's "
                         "layout at --dataroot if missing (seeded random VGG weights then): "
                         "the chain offline.")
    flags.DEFINE_list("synthetic_size", None, "Stored H,W of the synthetic persons; default "
                      "32,22 (fashion), 32,16 (market).")
    flags.DEFINE_integer("synthetic_people", 2, "Identities (2 views each).", lower_bound=1)
    flags.mark_flags_as_required(["dataroot"])


def _csv(kind):
    root = FLAGS.dataroot
    if FLAGS.dataset_mode == "market":
        names = [f"market-{kind}-{FLAGS.phase}.csv"]
    else:
        names = [f"fasion-resize-{kind}-{FLAGS.phase}.csv", f"fashion-resize-{kind}-"
                 f"{FLAGS.phase}.csv"]
    for name in names:
        if os.path.isfile(os.path.join(root, name)):
            return os.path.join(root, name)
    raise InputError(f"{root}: no {' or '.join(names)}")


def network_size(stored):
    """(H, W) the networks see for images stored at ``stored`` (H, W)."""
    if FLAGS.dataset_mode == "market":
        return tuple(stored)
    return (FLAGS.loadSize, FLAGS.loadSize) if not FLAGS.synthetic else (stored[0], stored[0])


def records():
    """(records folder, stored (H, W), pairs): the dataroot converted on first use into
    ``<dataroot>_<phase>_records``."""
    from tfposegen.data.pose_pairs import (
        KEYPOINT_FRAMES,
        PosePairsError,
        dataroot_records,
        make_synthetic_pose_pairs,
    )
    from tfposegen.utils.files import atomic_folder

    root = os.path.abspath(FLAGS.dataroot)
    stored = KEYPOINT_FRAMES["market" if FLAGS.dataset_mode == "market" else "fashion"]
    if FLAGS.synthetic:
        default = ("32", "16") if FLAGS.dataset_mode == "market" else ("32", "22")
        stored = tuple(int(v) for v in FLAGS.synthetic_size or default)
        if not os.path.isdir(root):  # complete or absent, made once among workers
            with atomic_folder(root) as tmp:
                make_synthetic_pose_pairs(tmp, FLAGS.synthetic_people, 2, stored,
                                          layout=FLAGS.dataset_mode)
    out = f"{root}_{FLAGS.phase}_records"
    try:
        count = dataroot_records(out, os.path.join(root, FLAGS.phase), _csv("pairs"),
                                 _csv("annotation"), image_size=stored, same_size=True)
    except PosePairsError as e:
        raise InputError(str(e)) from None
    return out, stored, count


def build_networks(seed=0):
    """{"G", "D"} of the flags (presets), seeded, unbuilt."""
    import keras

    from tfposegen.models.dptn import presets
    from tfposegen.models.dptn.networks import DPTNGenerator, ResDiscriminator

    keras.utils.set_random_seed(seed)
    tiny = FLAGS.preset == "tiny"
    g = presets.TINY_G if tiny else presets.DPTN_G
    d = dict(presets.TINY_D if tiny else presets.DPTN_D_FASHION, layers=FLAGS.dis_layers)
    return {"G": DPTNGenerator(**g), "D": ResDiscriminator(**d)}

