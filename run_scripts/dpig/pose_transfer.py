"""Re-pose a person in your own photo with DPIG (the PG2 task): photo + target pose -> image.

    python run_scripts/dpig/pose_transfer.py --photo me.jpg --target pose.jpg --dataset DF \\
        --pretrained_path logs_DF/MODEL101_DF_Encoder_GAN_BodyROI7 --output out/me.png

The target is a second photo (its keypoints are detected) or a keypoint file the DPIG
converters read (``.csv`` ``name:keypoints_y:keypoints_x``, an OpenPose JSON folder, an RCV
``.pickle``, an ``all_peaks_dic*.p``) with ``--target_name`` choosing the entry and
``--target_size`` giving the frame its coordinates are in (default: the photo's size).
Keypoints of the photo come from BlazePose (``tfposegen.pose``) unless
``--photo_keypoints`` gives a file. Both are fitted into the model's frame (DF 256x256,
Market 128x64: scaled, centred, padded with the border colour), the encoder reads the
photo with part boxes from its keypoints and the generator draws it in the target pose
(``tfposegen.models.dpig.inference.pose_transfer``). ``--pretrained_path`` is a MODEL101 / MODEL1
checkpoint (this library's training folder or the released TF1 ``model.ckpt-0``).

Writes ``--output`` (the generated image, uint8 at the model's size) and
``<output stem>_strip.png`` (fitted photo | target pose | result). Exit status 2 with
``pose_transfer.py: error: <path> ...`` for unreadable inputs, no person in a photo,
unusable checkpoints.
"""

import os
import sys

from absl import app, flags

flags.DEFINE_string("photo", None, "Photo of the person (RGB image file).")
flags.DEFINE_string("photo_keypoints", None, "Keypoint file of the photo (skips detection); "
                    "the entry is the photo's file name.")
flags.DEFINE_string("target", None, "Target pose: a photo or a keypoint file.")
flags.DEFINE_string("target_name", None, "Entry of the target keypoint file (default: the "
                    "only one).")
flags.DEFINE_list("target_size", None, "H,W of the frame of the target keypoint file "
                  "(default: the photo's size).")
flags.DEFINE_enum("dataset", "DF", ["DF", "Market"], "Which DPIG model.")
flags.DEFINE_string("pretrained_path", None, "MODEL101 (DF) / MODEL1 (Market) checkpoint.")
flags.DEFINE_integer("img_H", None, "Model height (default: DF 256, Market 128).")
flags.DEFINE_integer("img_W", None, "Model width (default: DF 256, Market 64).")
flags.DEFINE_integer("conv_hidden_num", 128, "As main.py.")
flags.DEFINE_integer("z_num", 64, "As main.py.")
flags.DEFINE_string("model_dir", None, "Folder with the BlazePose .tflite files.")
flags.DEFINE_bool("fetch", True, "Download the BlazePose files into the cache when missing.")
flags.DEFINE_string("output", None, "Output PNG.")
for _f in ("photo", "target", "pretrained_path", "output"):
    flags.mark_flag_as_required(_f)
FLAGS = flags.FLAGS


class InputError(ValueError):
    """A bad input; the message names the file."""


def _from_file(path, name):
    """Keypoints [18, 2] (row, col), -1 missing, of entry ``name`` (None: the only one)."""
    import numpy as np

    from tfposegen.pose.formats import load_poses

    poses = load_poses(path)
    if name is None:
        if len(poses) != 1:
            raise InputError(f"{path}: {len(poses)} entries; choose one with --target_name")
        name = next(iter(poses))
    stem = os.path.splitext(name)[0]
    pose = poses.get(name) or poses.get(stem)
    if pose is None:
        raise InputError(f"{path}: no entry {name!r}")
    rcv = np.asarray(pose.rcv, np.float32)
    return np.where(rcv[:, 2:] > 0, rcv[:, :2], -1).astype(np.float32)


def _is_image(path):
    return os.path.isfile(path) and path.lower().endswith((".jpg", ".jpeg", ".png", ".bmp"))


def run():
    """Returns the written output path; raises ValueError subclasses on bad input."""
    import numpy as np
    import tensorflow as tf

    from tfposegen.models.dpig.inference import SIZES, pose_transfer, restore_test_networks
    from tfposegen.models.dpig.train import pose_image, save_grid, to_uint8
    from tfposegen.pose.keypoints import fit_photo
    from tfposegen.pose.maps import keypoints_to_rcv, pose_heatmap
    from tfposegen.utils.files import read_rgb, write_png

    key = FLAGS.dataset.lower()
    h, w = FLAGS.img_H or SIZES[key][0], FLAGS.img_W or SIZES[key][1]
    photo = read_rgb(FLAGS.photo, "--photo")
    model = None

    def detect(image, path):
        nonlocal model
        from tfposegen.pose import BlazePose, detect_keypoints

        model = model or BlazePose(FLAGS.model_dir, FLAGS.fetch)
        try:
            return detect_keypoints(image, model)[0]
        except ValueError as e:
            raise InputError(f"{path}: {e}") from None

    kp = (_from_file(FLAGS.photo_keypoints, os.path.basename(FLAGS.photo))
          if FLAGS.photo_keypoints else detect(photo, FLAGS.photo))
    if _is_image(FLAGS.target):
        target = read_rgb(FLAGS.target, "--target")
        target_kp, frame = detect(target, FLAGS.target), target.shape[:2]
    else:
        if not os.path.exists(FLAGS.target):
            raise InputError(f"{FLAGS.target}: --target not found")
        target_kp = _from_file(FLAGS.target, FLAGS.target_name)
        frame = tuple(int(v) for v in FLAGS.target_size) if FLAGS.target_size else photo.shape[:2]
    image, kp = fit_photo(photo, kp, h, w)
    _, target_kp = fit_photo(np.zeros(frame + (3,), np.uint8), target_kp, h, w)
    nets, dataset = restore_test_networks(key, h, w, {"pretrained_path": FLAGS.pretrained_path},
                                          FLAGS.conv_hidden_num, FLAGS.z_num)
    x = tf.constant(image[None].astype(np.float32) / 127.5 - 1)
    out = to_uint8(pose_transfer(nets, dataset, x, kp[None], target_kp[None]))[0]
    pose = pose_image(pose_heatmap(keypoints_to_rcv(target_kp[None]), h, w))[0]
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.output)), exist_ok=True)
    write_png(FLAGS.output, out)
    strip = np.stack([image, np.repeat(pose[..., None], 3, -1), out])
    save_grid(strip, os.path.splitext(FLAGS.output)[0] + "_strip.png")
    return FLAGS.output


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfposegen.pose import ModelFilesError

    try:
        path = run()
    except (ValueError, ModelFilesError) as e:  # InputError, ConvertError, RestoreError, ...
        print(f"pose_transfer.py: error: {e}", file=sys.stderr)
        return 2
    print(f"pose_transfer.py: wrote {path}")
    return 0


if __name__ == "__main__":
    app.run(main)
