"""Turn a folder of images into sharded TFRecords for StyleGAN2 / encoder training.

    python run_scripts/stylegan2/images_to_tfrecords.py --image_dir photos/ \\
        --out_dir datasets/shop \\
        --resolution 256 --num_shards 4

Images of any size and format (png, jpg, bmp, webp; searched recursively, sorted by path)
are converted to RGB, centre-cropped to a square and resized with Lanczos to
``--resolution``. Records use NVlabs StyleGAN2's schema (``shape`` [C, H, W], raw CHW
``data``); see ``tfposegen.data.image_records``. Read them with
``tfposegen.data.image_records.image_dataset``.

``--synthetic N`` writes N procedural clothing-model images instead (seeds
``--synthetic_seed`` ... + N - 1, ``tfposegen.data.synthetic.make_model_images``): the
training set of the demo weights in ``pretrained/demo``.
"""

import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("image_dir", None, "Folder of images (searched recursively).")
flags.DEFINE_integer("synthetic", None, "Instead of --image_dir: this many procedural "
                     "clothing-model images.", lower_bound=1)
flags.DEFINE_integer("synthetic_seed", 0, "First seed of the --synthetic images.", lower_bound=0)
flags.DEFINE_string("out_dir", None, "Output folder for the .tfrecords files.")
flags.DEFINE_string("name", "images", "Dataset name (file prefix).")
flags.DEFINE_integer("resolution", 256, "Output side, a power of two.", lower_bound=4)
flags.DEFINE_integer("num_shards", 1, "Number of TFRecord files.", lower_bound=1)
flags.mark_flags_as_required(["out_dir"])
flags.mark_flags_as_mutual_exclusive(["image_dir", "synthetic"], required=True)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfposegen.data.image_records import (
        ImageRecordError,
        images_to_records,
        write_image_records,
    )

    try:
        if FLAGS.synthetic:
            from tfposegen.data.synthetic import make_model_images

            seeds = range(FLAGS.synthetic_seed, FLAGS.synthetic_seed + FLAGS.synthetic)
            paths, count = write_image_records(
                make_model_images(seeds, FLAGS.resolution), FLAGS.out_dir, FLAGS.name,
                FLAGS.resolution, FLAGS.num_shards, total=FLAGS.synthetic)
        else:
            paths, count = images_to_records(FLAGS.image_dir, FLAGS.out_dir, FLAGS.name,
                                             FLAGS.resolution, FLAGS.num_shards)
    except ImageRecordError as e:
        print(f"images_to_tfrecords.py: error: {e}", file=sys.stderr)
        return 2
    print(f"{count} images -> {', '.join(paths)}")
    return 0


if __name__ == "__main__":
    app.run(main)
