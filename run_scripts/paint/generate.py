"""PAINT end to end: a pose and two texture swatches -> layouts (LGN) -> fashion designs
(TSN) -> the designs in another view (AFN), ``tfposegen.models.paint.pipeline``
(gxl-groups/PAINT has one test script per stage and never chains them).

    python run_scripts/paint/generate.py --out results/paint \\
        --lgn_G checkpoints/LGN/40_net_G.pth \\
        --tsn_G release_model/pennet_pen5_pconv256/gen_00033.pth \\
        --afn_G release_model/pennet_pen55_pconv256/gen_00033.pth \\
        --keypoints pose/42_70880/70881_1.json --top_swatch top.png --bottom_swatch bottom.png \\
        --num_layouts 4 --seed 0
    python run_scripts/paint/generate.py --out /tmp/paint --synthetic --preset tiny

Keypoints (``--keypoints``, the target view's ``--view_keypoints``): PAINT's own
``{"0": [x, y], ...}`` JSON file, a folder of OpenPose ``*_keypoints.json`` files or a PATN /
GFLA ``name:keypoints_y:keypoints_x`` annotation CSV (``tfposegen.pose.formats``); in a folder
or a CSV ``--pose_name`` / ``--view_pose_name`` picks the entry (default: the first). Joints
must lie on the 256 x 256 canvas (64 x 64 with ``--preset tiny``). Without
``--view_keypoints`` the target view is the mirrored pose. Swatches: any image PIL reads, used
at its own size (at most the canvas), pasted where TSN's loader cuts its swatch squares.
``--synthetic`` makes a procedural person's pose, a second pose and swatches cut from its
clothes instead (``--seed`` picks the person).

Networks: ``--preset released`` (default) loads the three released generators by path (LGN's
``<epoch>_net_G.pth``, TSN's and AFN's ``gen_<NNNNN>.pth``; no torch needed);
``--preset tiny`` builds the tiny networks with random weights seeded by ``--seed``.

Writes, atomically, for k = 0 .. ``--num_layouts`` - 1: ``<out>/<name>_layout<k>.png`` (the
20-class layout in PAINT's colours), ``_design<k>.png`` and ``_view<k>.png`` (``(x + 1) / 2 *
255`` truncated, as the originals' ``postprocess``). ``<name>`` is ``--name``, else the pose's
entry name (or ``synthetic``). The latent codes come from ``--seed`` (the same seed, the same
layouts). A missing file or a bad input exits with status 2 and one line naming the file.
"""

import os

import numpy as np
from absl import app, flags

from tfposegen.utils.cli import InputError, run

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Output folder.")
flags.DEFINE_string("name", None, "File name stem (default: the pose entry's name).")
flags.DEFINE_boolean("synthetic", False, "Make the pose, the view pose and the swatches "
                     "procedurally.")
flags.DEFINE_string("keypoints", None, "Pose: PAINT JSON file, OpenPose JSON folder or "
                    "annotation CSV.")
flags.DEFINE_string("pose_name", None, "Entry of a --keypoints folder / CSV (default first).")
flags.DEFINE_string("view_keypoints", None, "Target view's pose (default: mirrored --keypoints).")
flags.DEFINE_string("view_pose_name", None, "Entry of a --view_keypoints folder / CSV.")
flags.DEFINE_string("top_swatch", None, "Upper-garment texture image.")
flags.DEFINE_string("bottom_swatch", None, "Lower-garment texture image.")
flags.DEFINE_enum("preset", "released", ["released", "tiny"], "Networks: the released "
                  "weights (--lgn_G, --tsn_G, --afn_G) or tiny random ones.")
flags.DEFINE_string("lgn_G", None, "LGN generator .pth (e.g. checkpoints/<name>/40_net_G.pth).")
flags.DEFINE_string("tsn_G", None, "TSN generator .pth (pennet_pen5_pconv256/gen_<N>.pth).")
flags.DEFINE_string("afn_G", None, "AFN generator .pth (pennet_pen55_pconv256/gen_<N>.pth).")
flags.DEFINE_integer("seed", 0, "Latent codes (and tiny weights, the synthetic person).")
flags.DEFINE_integer("num_layouts", 1, "Layouts (designs, views) to make.", lower_bound=1)
flags.mark_flag_as_required("out")

WEIGHT_FLAGS = ("lgn_G", "tsn_G", "afn_G")


def read_keypoints(path, name, flag, size):
    """(entry name, float [18, 2] (row, col), -1 missing) of a keypoint source, checked
    against the canvas; InputError naming the file otherwise."""
    from tfposegen.models.paint.pipeline import check_keypoints
    from tfposegen.pose import formats

    if not os.path.exists(path):
        raise InputError(f"{path}: no such file (--{flag})")
    try:
        if os.path.isdir(path):
            poses = {n: np.where(p.rcv[:, 2:] > 0, p.rcv[:, :2], -1.0)
                     for n, p in formats.load_openpose_json(path).items()}
        elif path.endswith(".json"):
            poses = {os.path.splitext(os.path.basename(path))[0]: formats.read_paint_json(path)}
        else:
            poses = formats.read_annotation_csv(path)
    except formats.PoseFileError as e:
        raise InputError(str(e)) from None
    if not poses:
        raise InputError(f"{path}: no keypoints (--{flag})")
    if name is None:
        name = next(iter(poses))
    keypoints = formats.lookup(poses, name)
    if keypoints is None:
        raise InputError(f"{path}: no keypoints named {name!r}")
    try:
        keypoints = check_keypoints(keypoints, size, size, f"{path} ({name})")
    except ValueError as e:
        raise InputError(str(e)) from None
    return os.path.splitext(os.path.basename(name))[0], keypoints


def read_swatch(path, flag, size):
    """float32 [h, w, 3] in [-1, 1] (``(u8 / 255 - 0.5) / 0.5``) of a swatch image."""
    from tfposegen.models.paint.pipeline import check_swatch
    from tfposegen.utils.files import ImageReadError, read_rgb

    if path is None:
        raise app.UsageError(f"--{flag} is required without --synthetic")
    try:
        pixels = read_rgb(path, f"swatch (--{flag})")
        return check_swatch((pixels.astype(np.float32) / 255 - 0.5) / 0.5, size, size, path)
    except (ImageReadError, ValueError) as e:
        raise InputError(str(e)) from None


def networks():
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError
    from tfposegen.models.paint import pipeline

    if FLAGS.preset == "tiny":
        return pipeline.build_networks("tiny", seed=FLAGS.seed)
    paths = [FLAGS[f].value for f in WEIGHT_FLAGS]
    for flag, path in zip(WEIGHT_FLAGS, paths):
        if path is None:
            raise app.UsageError(f"--{flag} is required with --preset released")
        if not os.path.isfile(path):
            raise InputError(f"{path}: no such file (--{flag})")
    try:
        return pipeline.load_networks(*paths)
    except TorchCheckpointError as e:
        raise InputError(str(e)) from None


def inputs(size):
    """(name, keypoints, view keypoints or None, (top, bottom) swatches)."""
    from tfposegen.models.paint.pipeline import synthetic_inputs

    if FLAGS.synthetic:
        keypoints, view, swatches = synthetic_inputs(FLAGS.seed, size)
        return "synthetic", keypoints, view, swatches
    if FLAGS.keypoints is None:
        raise app.UsageError("--keypoints is required without --synthetic")
    name, keypoints = read_keypoints(FLAGS.keypoints, FLAGS.pose_name, "keypoints", size)
    view = None
    if FLAGS.view_keypoints is not None:
        _, view = read_keypoints(FLAGS.view_keypoints, FLAGS.view_pose_name, "view_keypoints",
                                 size)
    swatches = (read_swatch(FLAGS.top_swatch, "top_swatch", size),
                read_swatch(FLAGS.bottom_swatch, "bottom_swatch", size))
    return name, keypoints, view, swatches


def main(argv):
    del argv
    from tfposegen.models.paint import presets

    size = presets.TINY_PIPELINE["size"] if FLAGS.preset == "tiny" else presets.PIPELINE_SIZE
    name, keypoints, view, swatches = inputs(size)   # inputs first: fail before building
    name = FLAGS.name or name
    nets = networks()

    from tfposegen.models.paint import pipeline
    from tfposegen.utils.files import to_uint8, write_png

    out = pipeline.design_pipeline(nets, keypoints, swatches, seed=FLAGS.seed,
                                   num_layouts=FLAGS.num_layouts, view_keypoints=view)
    os.makedirs(FLAGS.out, exist_ok=True)
    for k in range(FLAGS.num_layouts):
        stem = os.path.join(FLAGS.out, f"{name}_")
        write_png(f"{stem}layout{k}.png", pipeline.colour_layout(out["layouts"][k]))
        write_png(f"{stem}design{k}.png", to_uint8(out["designs"][k]))
        write_png(f"{stem}view{k}.png", to_uint8(out["views"][k]))
    print(f"wrote {3 * FLAGS.num_layouts} images to {FLAGS.out}")


if __name__ == "__main__":
    run(main)
