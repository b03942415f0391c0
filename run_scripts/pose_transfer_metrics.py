"""Score a pose-transfer test folder under the PATN and / or GFLA protocol
(tfposegen.metrics.pose_transfer: ADGAN's tool/getMetrics_fashion.py, GFLA's
script/metrics.py).

    python run_scripts/pose_transfer_metrics.py --results_dir results/NAME/test_800/images \\
        --gt_dir deepfashion/fashion_resize/test --protocols patn,gfla \\
        --lpips_backbone pretrained/alexnet-owt-7be5be79.pth --lpips_lin pretrained/alex.pth \\
        --inception_weights pretrained/inception_v3_notop.weights.h5 \\
        --fid_real_dir deepfashion/fashion_resize/train --output scores.json

Reads the ``<P1>___<P2>_vis.jpg`` strips (and ``_fake.png`` images) that
run_scripts/adgan/test.py writes. LPIPS needs both of its files, FID the Inception weights;
without them those two scores are left out. Prints one table row per protocol and writes
the scores as JSON (atomically) with ``--output``.
"""

import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("results_dir", None, "Folder of <P1>___<P2>_vis.jpg strips.")
flags.DEFINE_string("gt_dir", None, "Folder of the target images (GFLA protocol; default: "
                    "the strips' target panels).")
flags.DEFINE_list("protocols", ["patn", "gfla"], "patn (padded 256x256) and / or gfla "
                  "(256x176).")
flags.DEFINE_enum("lpips_net", "alex", ["alex", "vgg"], "LPIPS backbone (GFLA: alex).")
flags.DEFINE_string("lpips_backbone", None, "torchvision alexnet / vgg16 .pth file.")
flags.DEFINE_string("lpips_lin", None, "lpips v0.1 linear-layer .pth file.")
flags.DEFINE_string("inception_weights", None, "Keras InceptionV3 no-top weights (FID).")
flags.DEFINE_string("fid_real_dir", None, "Real images for FID (default: the targets).")
flags.DEFINE_string("output", None, "JSON file for the scores.")
flags.mark_flags_as_required(["results_dir"])


def networks():
    """(LPIPS or None, InceptionFeatures or None) from the flags."""
    from tfposegen.metrics import lpips
    from tfposegen.metrics.fid import InceptionFeatures

    if bool(FLAGS.lpips_backbone) != bool(FLAGS.lpips_lin):
        raise app.UsageError("LPIPS needs both --lpips_backbone and --lpips_lin")
    lp = (lpips.from_files(FLAGS.lpips_net, FLAGS.lpips_backbone, FLAGS.lpips_lin)
          if FLAGS.lpips_backbone else None)
    inception = InceptionFeatures(FLAGS.inception_weights) if FLAGS.inception_weights else None
    return lp, inception


def main(argv):
    del argv
    from tfposegen.metrics.fid import MetricInputError
    from tfposegen.metrics.pose_transfer import PROTOCOLS, format_table, score_folder
    from tfposegen.utils.files import ImageReadError, write_json

    bad = [p for p in FLAGS.protocols if p not in PROTOCOLS]
    if bad:
        raise app.UsageError(f"--protocols: unknown {bad}; choose from {list(PROTOCOLS)}")
    try:
        lp, inception = networks()
        result = score_folder(FLAGS.results_dir, FLAGS.protocols, FLAGS.gt_dir, lp,
                              inception, FLAGS.fid_real_dir)
    except (MetricInputError, ImageReadError, ValueError, OSError) as e:
        raise app.UsageError(str(e)) from None
    print(format_table(result))
    if FLAGS.output:
        write_json(FLAGS.output, result)


if __name__ == "__main__":
    sys.exit(app.run(main))
