"""Turn a folder of images into sharded TFRecords for StyleGAN2 / encoder training.

    python run_scripts/images_to_tfrecords.py --image_dir photos/ --out_dir datasets/shop \\
        --resolution 256 --num_shards 4

Images of any size and format (png, jpg, bmp, webp; searched recursively, sorted by path)
are converted to RGB, centre-cropped to a square and resized with Lanczos to
``--resolution``. Records use NVlabs StyleGAN2's schema (``shape`` [C, H, W], raw CHW
``data``); see ``tfposegen.data.image_records``. Read them with
``tfposegen.data.image_records.image_dataset``.
"""

import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("image_dir", None, "Folder of images (searched recursively).")
flags.DEFINE_string("out_dir", None, "Output folder for the .tfrecords files.")
flags.DEFINE_string("name", "images", "Dataset name (file prefix).")
flags.DEFINE_integer("resolution", 256, "Output side, a power of two.", lower_bound=4)
flags.DEFINE_integer("num_shards", 1, "Number of TFRecord files.", lower_bound=1)
flags.mark_flags_as_required(["image_dir", "out_dir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfposegen.data.image_records import ImageRecordError, images_to_records

    try:
        paths, count = images_to_records(FLAGS.image_dir, FLAGS.out_dir, FLAGS.name,
                                         FLAGS.resolution, FLAGS.num_shards)
    except ImageRecordError as e:
        print(f"images_to_tfrecords.py: error: {e}", file=sys.stderr)
        return 2
    print(f"{count} images -> {', '.join(paths)}")
    return 0


if __name__ == "__main__":
    app.run(main)
