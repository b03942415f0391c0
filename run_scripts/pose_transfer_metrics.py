"""Score a pose-transfer test folder under the PATN, GFLA or DPTN protocols
(tfposegen.metrics.pose_transfer: ADGAN's tool/getMetrics_fashion.py, GFLA's
script/metrics.py, DPTN's metrics/metrics.py, DPTN_step's utils/metrics_step.py).

    python run_scripts/pose_transfer_metrics.py --results_dir results/NAME/test_800/images \\
        --gt_dir deepfashion/fashion_resize/test --protocols patn,gfla \\
        --lpips_backbone pretrained/alexnet-owt-7be5be79.pth --lpips_lin pretrained/alex.pth \\
        --inception_weights pretrained/inception_v3_notop.weights.h5 \\
        --fid_real_dir deepfashion/fashion_resize/train --output scores.json

    python run_scripts/pose_transfer_metrics.py --results_dir results/DPTN_fashion \\
        --gt_dir dataset/fashion/test --protocols dptn --fid_real_dir dataset/fashion/train \\
        --torchvision_inception pretrained/inception_v3_google-0cc3c7bd.pth

patn / gfla read the ``<P1>___<P2>_vis.jpg`` strips (and ``_fake.png`` images) that
run_scripts/adgan/test.py writes; dptn, dptn_market and dptn_step read the
``<from>_2_<to>_vis.jpg|png`` images of run_scripts/dptn/test.py and dptn_step/test.py
against ``--gt_dir/<to>.jpg|png``. LPIPS needs both of its files; FID a network: the
standard one (``--inception_weights``, score ``fid``) and / or torchvision's ImageNet
InceptionV3 as the DPTN codes use it (``--torchvision_inception``, score
``fid_torchvision``); without them those scores are left out. Prints one table row per
protocol and writes the scores as JSON (atomically) with ``--output``.
"""

import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("results_dir", None, "Folder of <P1>___<P2>_vis.jpg strips or of "
                    "<from>_2_<to>_vis.jpg|png results (DPTN protocols).")
flags.DEFINE_string("gt_dir", None, "Folder of the target images (gfla: default the "
                    "strips' target panels; the DPTN protocols need it).")
flags.DEFINE_list("protocols", ["patn", "gfla"], "patn (padded 256x256), gfla (256x176) "
                  "strips; dptn, dptn_market, dptn_step (DPTN result folders; see "
                  "tfposegen.metrics.pose_transfer).")
flags.DEFINE_enum("lpips_net", "alex", ["alex", "vgg"], "LPIPS backbone (GFLA: alex).")
flags.DEFINE_string("lpips_backbone", None, "torchvision alexnet / vgg16 .pth file.")
flags.DEFINE_string("lpips_lin", None, "lpips v0.1 linear-layer .pth file.")
flags.DEFINE_string("inception_weights", None, "Keras InceptionV3 no-top weights: the "
                    "standard FID network (score fid).")
flags.DEFINE_string("torchvision_inception", None, "torchvision's inception_v3_google-*.pth: "
                    "FID with the DPTN codes' network (score fid_torchvision).")
flags.DEFINE_string("fid_real_dir", None, "Real images for FID (patn / gfla default: the "
                    "targets; the DPTN protocols need it: the codes use the training images).")
flags.DEFINE_boolean("fid_cache", False, "DPTN protocols: keep the real folder's FID "
                     "statistics in it (keyed by its files and the network; recomputed when "
                     "either changes).")
flags.DEFINE_string("output", None, "JSON file for the scores.")
flags.mark_flags_as_required(["results_dir"])


def main(argv):
    del argv
    from tfposegen.metrics.fid import MetricInputError
    from tfposegen.metrics.pose_transfer import (
        PROTOCOLS,
        format_table,
        networks_from_files,
        score_folder,
    )
    from tfposegen.utils.files import ImageReadError, write_json

    bad = [p for p in FLAGS.protocols if p not in PROTOCOLS]
    if bad:
        raise app.UsageError(f"--protocols: unknown {bad}; choose from {list(PROTOCOLS)}")
    try:
        lp, inception, torchvision = networks_from_files(
            FLAGS.lpips_backbone, FLAGS.lpips_lin, FLAGS.inception_weights,
            FLAGS.torchvision_inception, FLAGS.lpips_net)
        result = score_folder(FLAGS.results_dir, FLAGS.protocols, FLAGS.gt_dir, lp,
                              inception, FLAGS.fid_real_dir, torchvision, FLAGS.fid_cache)
    except (MetricInputError, ImageReadError, ValueError, OSError) as e:
        raise app.UsageError(str(e)) from None
    print(format_table(result))
    if FLAGS.output:
        write_json(FLAGS.output, result)


if __name__ == "__main__":
    sys.exit(app.run(main))
