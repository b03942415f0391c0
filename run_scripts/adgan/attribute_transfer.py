"""Component attribute transfer with an ADGAN generator: person A in a target pose, wearing
some components of person B (``tfposegen.models.adgan.attribute_transfer``; menyifang/ADGAN
ships no script for it).

    python run_scripts/adgan/attribute_transfer.py --netG checkpoints/<name>/800_net \\
        --image_a a.jpg --parse_a a.npy --image_b b.jpg --parse_b b.npy \\
        --target_keypoints fashion-resize-annotation-test.csv --target_name <image name> \\
        --components "upper clothes,pants" --output out.png

``--netG``: a networks folder (run_scripts/adgan/convert_weights.py or train.py), the
original's ``<label>_net_netG.pth`` or a demo file (``pretrained/demo/adgan_demo_64.npz``).
Parsing maps: ``semantic_merge3`` label maps (``.npy`` or a grey PNG) of the image's size,
labels 0..7. Target pose: the row ``--target_name`` (default: ``--image_a``'s file name, i.e.
A's own pose) of a PATN / ADGAN ``name:keypoints_y:keypoints_x`` annotation CSV in the
images' frame. Components: names of ``tfposegen.parsing.labels.ADGAN_LABELS``. Writes
``--output`` atomically as PNG; a missing or bad input exits with status 2 and one line
naming it.
"""

import os
import sys

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("netG", None, "Networks folder with netG, <label>_net_netG.pth or a demo "
                    ".npz.")
flags.DEFINE_string("image_a", None, "Person A (identity, pose source of the CSV row).")
flags.DEFINE_string("parse_a", None, "A's semantic_merge3 label map (.npy or PNG).")
flags.DEFINE_string("image_b", None, "Person B (donor of the components).")
flags.DEFINE_string("parse_b", None, "B's semantic_merge3 label map (.npy or PNG).")
flags.DEFINE_string("target_keypoints", None, "Annotation CSV (name:keypoints_y:keypoints_x).")
flags.DEFINE_string("target_name", None, "CSV row of the target pose (default: the file "
                    "name of --image_a).")
flags.DEFINE_string("components", "upper clothes", "Comma-separated classes taken from B.")
flags.DEFINE_string("output", "out.png", "PNG to write.")
flags.mark_flags_as_required(["netG", "image_a", "parse_a", "image_b", "parse_b",
                              "target_keypoints"])


def read_labels(path, size):
    """int32 [H, W] labels 0..7 of a .npy or PNG label map of ``size`` (H, W)."""
    from PIL import Image

    if not os.path.isfile(path):
        raise ValueError(f"{path}: parsing map not found")
    try:
        labels = np.load(path) if path.endswith(".npy") else np.asarray(Image.open(path))
    except Exception as e:
        raise ValueError(f"{path}: cannot read the parsing map ({e})") from None
    labels = np.squeeze(labels)
    if labels.shape != tuple(size) or labels.min() < 0 or labels.max() > 7:
        raise ValueError(f"{path}: need labels 0..7 of shape {tuple(size)}, got shape "
                         f"{labels.shape}, range {labels.min()}..{labels.max()}")
    return labels.astype(np.int32)


def run():
    """Read the inputs, render, write; returns the output path."""
    from tfposegen.utils.files import read_rgb, to_uint8, write_png

    image_a, image_b = read_rgb(FLAGS.image_a, "image A"), read_rgb(FLAGS.image_b, "image B")
    if image_a.shape != image_b.shape:
        raise ValueError(f"{FLAGS.image_b}: size {image_b.shape[:2]} differs from "
                         f"{FLAGS.image_a}'s {image_a.shape[:2]}")
    size = image_a.shape[:2]
    parse_a, parse_b = read_labels(FLAGS.parse_a, size), read_labels(FLAGS.parse_b, size)
    # TensorFlow is imported from here on (the files above fail fast)
    from tfposegen.models.adgan.attribute_transfer import attribute_transfer, component_mask
    from tfposegen.pose.formats import read_annotation_csv

    classes = [c for c in FLAGS.components.split(",") if c.strip()]
    component_mask(classes)  # unknown names fail before the generator is loaded
    name = FLAGS.target_name or os.path.basename(FLAGS.image_a)
    poses = read_annotation_csv(FLAGS.target_keypoints)
    if name not in poses:
        raise ValueError(f"{FLAGS.target_keypoints}: no row named {name!r}")
    from tfposegen.models.adgan.weights import load_generator

    netG = load_generator(FLAGS.netG)
    step = 2 ** netG.n_downsample
    if size[0] % step or size[1] % step:
        raise ValueError(f"{FLAGS.image_a}: size {size} is not a multiple of {step}")

    from tfposegen.models.adgan.networks import parsing_one_hot
    from tfposegen.pose.maps import gaussian_heatmaps

    pose = gaussian_heatmaps(poses[name][None].astype(np.float32), *size, peak_only=True)
    images = [(im[None].astype(np.float32) / 127.5 - 1) for im in (image_a, image_b)]
    out = attribute_transfer(netG, pose, images[0], parsing_one_hot(parse_a[None]),
                             images[1], parsing_one_hot(parse_b[None]), classes)
    write_png(FLAGS.output, to_uint8(np.asarray(out[0])))
    return FLAGS.output


def main(argv):
    del argv
    try:
        path = run()
    except ValueError as e:  # file, checkpoint and pose errors are ValueError subclasses
        print(f"attribute_transfer.py: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(app.run(main))
