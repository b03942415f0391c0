"""Flags that DPTN_step's train.py and test.py share (``options/base_options.py`` of
gkalstn000/DPTN_step, with the ``--netG dptn`` / ``--netD res`` additions of
models/dptn_networks/generator.py), the flags the original defines but this port does not
use, and the dataroot -> records step.

Dataroot layout, as ``data/fashion_dataset.py`` of the original reads it (``--dataset_mode
fashion``, the only working mode: its ``market_dataset.py`` has no ``__getitem__``):

* ``<dataroot>/<phase>_higher/``: the images (any size; DeepFashion's high-resolution ones);
* ``<dataroot>/fashion-pairs-<phase>.csv``: header ``from,to``, one pair of file names a row;
* ``<dataroot>/fashion-annotation-<phase>.csv``: ``:``-separated, ``name:keypoints_y:
  keypoints_x``, 18 rows / columns in the 256 x 176 frame (``old_size``), -1 missing.

Every image is stretched to ``load_size`` x ``load_size`` (the code's fixed 256 x 256) with
``torchvision.transforms.functional.resize`` on the PIL image, i.e. Pillow's bilinear
resize (:func:`tfposegen.data.pose_pairs.pil_bilinear_resize`, its TF twin), and the
keypoints are scaled from 256 x 176 to it. The first run converts the split into TFRecords
beside the dataroot, ``<dataroot>_<phase>_higher_records`` (not DPTN's
``<dataroot>_<phase>_records``: the same dataroot may hold both layouts).
"""

import os
import shutil

from absl import flags

from tfposegen.utils.cli import (  # noqa: F401 - the scripts' options.run
    InputError,
    define_run_eagerly_flag,
    run,
)

FLAGS = flags.FLAGS
FRAME = (256, 176)  # the annotation frame (``old_size`` of FashionDataset)

# The original's flags that change nothing here, with their defaults: accepted so its command
# lines run unchanged. (The torch process layout, data loader, visualiser, HTML pages, and
# layers it fixes: spectral norm on in G and D, instance norm, LeakyReLU, no CoordConv.)
IGNORED_BASE = {
    "norm": "instance", "image_nc": 3, "output_nc": 3, "crop_size": 256, "no_flip": False,
    "max_dataset_size": 2 ** 63 - 1, "load_from_opt_file": False,
    "preprocess_mode": "resize_and_crop", "num_workers": 15, "display_winsize": 256,
    "init_type": "xavier", "init_variance": 0.02, "use_spect_g": False, "use_coord": False,
    "affine": True, "pos_encoding": False, "local_rank": 0, "activation": "LeakyReLU",
    "type_En_c": "default", "type_Dc": "default",
}


def define_ignored(names):
    """Define each ``{name: default}`` flag (type from the default) as accepted, unused."""
    kinds = {bool: flags.DEFINE_boolean, int: flags.DEFINE_integer, float: flags.DEFINE_float,
             str: flags.DEFINE_string}
    for name, default in names.items():
        kinds[type(default)](name, default, "The original's flag; accepted, unused here.")


def define_base_flags(phase):
    """The flags of ``BaseOptions`` that matter here plus this port's additions."""
    flags.DEFINE_string("id", "spain", "Experiment name: <checkpoints_dir>/<id>/.")
    flags.DEFINE_enum("model", "dptn", ["dptn"], "Only dptn (models/dptn_model.py).")
    flags.DEFINE_enum("netG", "dptn", ["dptn"], "Only dptn.")
    flags.DEFINE_string("gpu_ids", "0", "Accepted for the original's command lines; the "
                        "devices are TensorFlow's (CUDA_VISIBLE_DEVICES, --strategy).")
    flags.DEFINE_string("checkpoints_dir", "./checkpoints", "Where experiments are.")
    flags.DEFINE_string("phase", phase, "Split: <phase>_higher/ and the <phase> CSVs.")
    flags.DEFINE_string("which_epoch", "latest", "Label of the networks to load: "
                        "<which_epoch>_net/ (this port) or <which_epoch>_net.pth (the "
                        "original's).")
    flags.DEFINE_integer("batchSize", 69, "Pairs per iteration: the global batch (the "
                         "original's is per process).", lower_bound=1)
    flags.DEFINE_alias("batchsize", "batchSize")  # the spelling of the original's README
    flags.DEFINE_integer("pose_nc", 41, "Pose channels (18 keypoints + 23 limbs); only 41.",
                         lower_bound=41, upper_bound=41)
    flags.DEFINE_string("dataroot", "./datasets/fashion", "Folder with <phase>_higher/ and "
                        "the pairs / annotation CSVs.")
    flags.DEFINE_enum("dataset_mode", "fashion", ["fashion"], "Dataset layout.")
    flags.DEFINE_integer("ngf", 64, "G's first width.", lower_bound=1)
    flags.DEFINE_integer("img_f", 512, "G's largest width.", lower_bound=1)
    flags.DEFINE_integer("layers_g", 3, "G's down / up-sampling layers.", lower_bound=1)
    flags.DEFINE_integer("num_blocks", 3, "G's residual blocks.", lower_bound=1)
    flags.DEFINE_integer("nhead", 2, "PTM attention heads.", lower_bound=1)
    flags.DEFINE_integer("num_CABs", 2, "PTM Context Augment Blocks.", lower_bound=1)
    flags.DEFINE_integer("num_TTBs", 2, "PTM Texture Transfer Blocks.", lower_bound=1)
    flags.DEFINE_integer("step_size", 5, "S: generation steps.", lower_bound=1)
    flags.DEFINE_integer("dis_layers", 4, "D's depth.", lower_bound=1)
    # this port's additions
    flags.DEFINE_integer("load_size", None, "Network size (square; the original's fixed "
                         "load_size 256); default 256, with --synthetic the stored height.",
                         lower_bound=1)
    define_run_eagerly_flag()
    flags.DEFINE_integer("seed", 0, "Seed of the initial weights, pair order and noise.")
    flags.DEFINE_boolean("synthetic", False, "Make a synthetic dataroot at --dataroot if "
                         "missing (train and test splits; seeded random VGG weights then).")
    flags.DEFINE_list("synthetic_size", ["32", "22"], "Stored H,W of the synthetic persons "
                      "(also their keypoint frame).")
    flags.DEFINE_integer("synthetic_people", 2, "Identities (2 views each).", lower_bound=1)
    define_ignored(IGNORED_BASE)


def frame():
    """(H, W) of the annotation frame: 256 x 176, or the synthetic persons' stored size."""
    if FLAGS.synthetic:
        return tuple(int(v) for v in FLAGS.synthetic_size)
    return FRAME


def network_size():
    """(H, W) the networks see: ``--load_size`` square (default 256; with --synthetic the
    stored height)."""
    side = FLAGS.load_size or (frame()[0] if FLAGS.synthetic else 256)
    return (side, side)


def split_files():
    """(image folder, pairs CSV, annotation CSV) of ``--phase``; InputError naming the first
    one missing (checked before any TensorFlow import)."""
    root = os.path.abspath(FLAGS.dataroot)
    files = (os.path.join(root, f"{FLAGS.phase}_higher"),
             os.path.join(root, f"fashion-pairs-{FLAGS.phase}.csv"),
             os.path.join(root, f"fashion-annotation-{FLAGS.phase}.csv"))
    for path, what in zip(files[1:], ("pairs", "annotation")):
        if not os.path.isfile(path):
            raise InputError(f"{path}: no {what} CSV of phase '{FLAGS.phase}' (the layout: "
                             f"<dataroot>/{FLAGS.phase}_higher/, fashion-pairs-{FLAGS.phase}"
                             f".csv, fashion-annotation-{FLAGS.phase}.csv)")
    if not os.path.isdir(files[0]):
        raise InputError(f"{files[0]}: image folder not found")
    return files


def check_dataroot():
    """InputError naming the first missing file of ``--phase`` (nothing to check when
    --synthetic will make the dataroot); os checks only, so a bad command line fails at once,
    before TensorFlow is imported."""
    if not (FLAGS.synthetic and not os.path.isdir(FLAGS.dataroot)):
        split_files()


def make_synthetic(root, people, size):
    """A synthetic dataroot in DPTN_step's layout at ``root`` (made in a sibling folder and
    renamed, so it appears complete or not at all, once among workers): the persons of
    :func:`tfposegen.data.pose_pairs.make_synthetic_pose_pairs` (``people`` x 2 views, JPEG,
    ``size`` = (H, W) = their keypoint frame) as both the train and the test split."""
    from tfposegen.data.pose_pairs import make_synthetic_pose_pairs
    from tfposegen.utils.files import atomic_folder

    with atomic_folder(root) as tmp:
        make_synthetic_pose_pairs(tmp, people, 2, size, image_format="jpg")
        for phase in ("train", "test"):
            shutil.copytree(os.path.join(tmp, "train"), os.path.join(tmp, f"{phase}_higher"))
            for kind in ("pairs", "annotation"):
                shutil.copyfile(os.path.join(tmp, f"fashion-resize-{kind}-train.csv"),
                                os.path.join(tmp, f"fashion-{kind}-{phase}.csv"))
        shutil.rmtree(os.path.join(tmp, "train"))
        for kind in ("pairs", "annotation"):
            os.remove(os.path.join(tmp, f"fashion-resize-{kind}-train.csv"))


def records():
    """(records folder, number of pairs) of ``--phase``: the split converted on first use
    into ``<dataroot>_<phase>_higher_records`` (with --synthetic, the dataroot made first if
    missing). InputError naming a missing / bad CSV, folder or image."""
    root = os.path.abspath(FLAGS.dataroot)
    if FLAGS.synthetic and not os.path.isdir(root):
        make_synthetic(root, FLAGS.synthetic_people, frame())
    image_dir, pairs_csv, annotation_csv = split_files()
    from tfposegen.data.pose_pairs import PosePairsError, dataroot_records

    out = f"{root}_{FLAGS.phase}_higher_records"
    try:
        count = dataroot_records(out, image_dir, pairs_csv, annotation_csv, image_size=frame())
    except PosePairsError as e:
        raise InputError(str(e)) from None
    return out, count


def generator_config():
    """StepGenerator keyword arguments of the flags (at :func:`network_size`)."""
    from tfposegen.models.dptn import presets

    height, width = network_size()
    return dict(presets.DPTN_STEP_G, height=height, width=width, ngf=FLAGS.ngf,
                img_f=FLAGS.img_f, layers=FLAGS.layers_g, num_blocks=FLAGS.num_blocks,
                nhead=FLAGS.nhead, num_CABs=FLAGS.num_CABs, num_TTBs=FLAGS.num_TTBs,
                steps=FLAGS.step_size)


def build_generator():
    """The StepGenerator of the flags (random weights, built)."""
    from tfposegen.models.dptn.step_networks import StepGenerator

    try:
        return StepGenerator(**generator_config())
    except ValueError as e:  # a size that is not a multiple of 2^layers
        raise InputError(f"--load_size / --layers_g: {e}") from None


def build_discriminator():
    """The StepDiscriminator of the flags (the code's ndf 32, img_f 128; ``--dis_layers``,
    ``--step_size``)."""
    from tfposegen.models.dptn import presets
    from tfposegen.models.dptn.step_networks import StepDiscriminator

    try:
        return StepDiscriminator(network_size(), **dict(presets.DPTN_STEP_D,
                                                        layers=FLAGS.dis_layers,
                                                        steps=FLAGS.step_size))
    except ValueError as e:
        raise InputError(f"--load_size / --dis_layers: {e}") from None


def pth_path(exp_dir, label):
    """The original's single checkpoint file ``<exp_dir>/<label>_net.pth`` (``util.
    save_network`` / ``load_network`` of util/util.py)."""
    return os.path.join(exp_dir, f"{label}_net.pth")
