"""Test DPTN (``test.py`` of PangzeCheung/Dual-task-Pose-Transformer-Network): every pair
of the test split in the target pose.

    python run_scripts/dptn/test.py --name=DPTN_fashion --model=DPTN --dataset_mode=fashion \\
        --dataroot=./dataset/fashion --which_epoch latest --results_dir ./results/DPTN_fashion \\
        --batchSize 1 --gpu_ids=0

The generator is ``<checkpoints_dir>/<name>/<which_epoch>_net/`` (run_scripts/dptn/train.py)
or the original's ``<which_epoch>_net_G.pth`` there (with or without ``module.``; the
released size). Pairs run in the pairs-CSV order, the last partial batch dropped as the
original's ``len(pairs) // batchSize * batchSize``. Writes ``<results_dir>/<from>_2_<to>
_vis.jpg`` atomically: the original's ``save_results``: the generated image truncated to
uint8, resized back to the stored size (e.g. 256x176) with ``cv2.resize`` INTER_LINEAR, and
saved as JPEG at quality 75 (Pillow's default, which the original's imageio uses).

With ``--metrics dptn`` (DPTN's metrics/metrics.py, scripts/eval_fashion.sh; ``dptn_market``
its ``--market`` variant, ``dptn_step`` DPTN_step's) it then scores the folder against
``<dataroot>/<phase>/<to>.jpg`` (``tfposegen.metrics.pose_transfer``): SSIM, SSIM_256, PSNR,
L1, MAE; LPIPS with ``--lpips_backbone`` and ``--lpips_lin``; FID against ``--fid_real_dir``
(default ``<dataroot>/train``, the code's ``fid_real_path``) with torchvision's ImageNet
InceptionV3 as DPTN's code (``--torchvision_inception``, score ``fid_torchvision``) and / or
the standard network (``--inception_weights``, score ``fid``). It prints the table and writes
``--scores_json`` (default ``<results_dir>/scores.json``) atomically.
"""

import os

import options
from absl import flags, logging

from tfposegen.utils.cli import check_metric_flags, define_metric_flags

FLAGS = flags.FLAGS
options.define_base_flags("test")
flags.DEFINE_string("results_dir", "./results/", "Output folder.")
define_metric_flags("dptn (DPTN's metrics/metrics.py: 256-padded SSIM / PSNR / L1 / MAE), "
                    "dptn_market (its --market variant, unpadded), dptn_step (DPTN_step's "
                    "utils/metrics_step.py: resized to 256x176).", "<dataroot>/train",
                    "<results_dir>/scores.json")

METRIC_PROTOCOLS = ("dptn", "dptn_market", "dptn_step")


def score(results_dir):
    """Score ``results_dir`` under ``--metrics``; print the table, write the JSON."""
    from tfposegen.metrics.pose_transfer import (
        format_table,
        networks_from_files,
        score_folder,
    )
    from tfposegen.utils.files import write_json

    try:
        nets = networks_from_files(FLAGS.lpips_backbone, FLAGS.lpips_lin,
                                   FLAGS.inception_weights, FLAGS.torchvision_inception)
        result = score_folder(results_dir, FLAGS.metrics,
                              os.path.join(FLAGS.dataroot, FLAGS.phase), nets[0], nets[1],
                              FLAGS.fid_real_dir or os.path.join(FLAGS.dataroot, "train"),
                              nets[2], FLAGS.fid_cache)
    except ValueError as e:  # MetricInputError, weight-file errors: the file is named
        raise options.InputError(str(e)) from None
    print(format_table(result))
    path = FLAGS.scores_json or os.path.join(results_dir, "scores.json")
    write_json(path, result)
    print(f"wrote {path}")


def load_generator(exp_dir):
    """The G of ``--which_epoch``: a networks folder, else the original's .pth."""
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError
    from tfposegen.models.dptn import weights
    from tfposegen.utils.saving import NetworksFileError

    folder = os.path.join(exp_dir, f"{FLAGS.which_epoch}_net")
    pth = os.path.join(exp_dir, f"{FLAGS.which_epoch}_net_G.pth")
    try:
        if os.path.isdir(folder):
            return weights.load_networks(folder)[0]["G"]
        if os.path.isfile(pth):
            G = options.build_networks()["G"]
            weights.load_generator_state(G, pth)
            return G
    except (NetworksFileError, TorchCheckpointError) as e:
        raise options.InputError(str(e)) from None
    raise options.InputError(f"no generator '{FLAGS.which_epoch}': neither {folder}/ nor {pth}")


def main(argv):
    del argv
    import cv2
    import numpy as np
    from PIL import Image

    from tfposegen.data.pose_pairs import pose_pair_dataset
    from tfposegen.utils.files import atomic_path, to_uint8
    from tfposegen.utils.progress import Progress

    check_metric_flags(METRIC_PROTOCOLS)
    folder, stored, pairs = options.records()
    G = load_generator(os.path.join(FLAGS.checkpoints_dir, FLAGS.name))
    data = pose_pair_dataset(folder, options.network_size(stored), batch_size=FLAGS.batchSize,
                             shuffle=False, drop_remainder=True)
    os.makedirs(FLAGS.results_dir, exist_ok=True)
    total = pairs // FLAGS.batchSize * FLAGS.batchSize
    progress = Progress(f"dptn test {FLAGS.name}", total)
    done = 0
    for batch in data:
        fake, _ = G(batch["source_image"], batch["source_pose"], batch["target_pose"],
                    is_train=False)
        for image, a, b in zip(to_uint8(np.asarray(fake)), batch["source_name"].numpy(),
                               batch["target_name"].numpy()):
            stems = [os.path.splitext(n.decode())[0] for n in (a, b)]
            out = Image.fromarray(cv2.resize(image, stored[::-1], interpolation=cv2.INTER_LINEAR))
            with atomic_path(os.path.join(FLAGS.results_dir,
                                          f"{stems[0]}_2_{stems[1]}_vis.jpg")) as tmp:
                out.save(tmp, format="JPEG")
            done += 1
        progress.update(done)
    logging.info("wrote %d results to %s", done, FLAGS.results_dir)
    print(f"wrote {done} results to {FLAGS.results_dir}")
    if FLAGS.metrics:
        score(FLAGS.results_dir)


if __name__ == "__main__":
    options.run(main)
