"""Train DPTN (``train.py`` of PangzeCheung/Dual-task-Pose-Transformer-Network) on pose pairs.

    python run_scripts/dptn/train.py --name=DPTN_fashion --model=DPTN --dataset_mode=fashion \\
        --dataroot=./dataset/fashion --batchSize 32 --gpu_ids=0
    python run_scripts/dptn/train.py --name=DPTN_market --model=DPTN --dataset_mode=market \\
        --dataroot=./dataset/market --dis_layers=3 --lambda_g=5 --lambda_rec 2 \\
        --t_s_ratio=0.8 --save_latest_freq=10400 --batchSize 32 --gpu_ids=0
    python run_scripts/dptn/train.py --synthetic --dataroot /tmp/dptn_synth --name synth \\
        --preset tiny --dis_layers 3 --niter 2 --niter_decay 0 --batchSize 2   # offline

``--strategy mirrored`` (the GPUs of this machine) or ``multiworker`` (the cluster of
``TF_CONFIG``, every worker running the same command) replaces the original's ``--gpu_ids``
DataParallel; ``--batchSize`` is the global batch, split among the replicas, and the update
is that of one device with the whole batch. Only the chief worker writes.

Defaults are the original's (``DPTNModel`` sets lambda_rec 5, lambda_g 2, lambda_style 500,
lambda_content 0.5, t_s_ratio 0.5, ratio_g2d 0.1; TrainOptions lr 2e-4, niter 100 +
niter_decay 100 epochs of ``len(pairs) // batchSize`` iterations). torchvision's VGG19
weights are read from ``<dirname(dataroot)>/vgg19-dcbb9e9d.pth`` (``--vgg19`` to change);
with ``--synthetic`` seeded random weights stand in. The first run converts the dataroot
into TFRecords beside it (``<dataroot>_<phase>_records``).

Writes into ``<checkpoints_dir>/<name>/``: ``checkpoints/`` (networks, optimisers, step,
data position: the same command again resumes), ``logs/`` (TensorBoard), ``latest_net/``
and ``<epoch>_net/`` (``tfposegen.models.dptn.weights.save_networks`` folders, read by
run_scripts/dptn/test.py) and ``opt.txt``.
"""

import os

import options
from absl import flags, logging

from tfposegen.utils import cli

FLAGS = flags.FLAGS
options.define_base_flags("train")
flags.DEFINE_integer("niter", 100, "Epochs at the initial learning rate.", lower_bound=0)
flags.DEFINE_integer("niter_decay", 100, "Epochs of linear decay.", lower_bound=0)
flags.DEFINE_float("lr", 2e-4, "G's Adam learning rate (betas 0.5, 0.999).")
flags.DEFINE_float("ratio_g2d", 0.1, "D's learning rate / G's.")
flags.DEFINE_float("lambda_rec", 5.0, "Weight of the L1 terms.")
flags.DEFINE_float("lambda_g", 2.0, "Weight of the LSGAN term.")
flags.DEFINE_float("lambda_style", 500.0, "Weight of the VGG19 Gram style terms.")
flags.DEFINE_float("lambda_content", 0.5, "Weight of the VGG19 content terms.")
flags.DEFINE_float("t_s_ratio", 0.5, "Weight of the target branch (1 - it: the source's).")
flags.DEFINE_integer("save_latest_freq", 1000, "Images between checkpoints and latest_net.",
                     lower_bound=1)
flags.DEFINE_integer("save_epoch_freq", 1, "Epochs between <epoch>_net folders.",
                     lower_bound=1)
flags.DEFINE_string("vgg19", None, "torchvision vgg19-dcbb9e9d.pth (default: beside the "
                    "dataroot).")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights and the pair order.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multiworker"],
                  "tf.distribute strategy (multiworker: the cluster of TF_CONFIG, every "
                  "worker running this command); --batchSize is the global batch.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "Numeric precision: float32 (default, faithful) or mixed_bfloat16 "
                  "(bfloat16 compute, float32 variables, optimiser and losses; no loss "
                  "scaling needed). Fast only where the hardware has bfloat16 math.")
cli.define_run_eagerly_flag()


def load_vgg(train):
    from tfposegen.losses.perceptual import (
        assign_torchvision_vgg19,
        load_torchvision_vgg19,
        seeded_vgg19_state,
    )

    vgg = train.make_loss_vgg()
    path = FLAGS.vgg19 or os.path.join(os.path.dirname(os.path.abspath(FLAGS.dataroot)),
                                       "vgg19-dcbb9e9d.pth")
    if os.path.isfile(path):
        load_torchvision_vgg19(vgg, path)
    elif FLAGS.synthetic:
        logging.warning("--synthetic: seeded random VGG19 weights (no %s)", path)
        assign_torchvision_vgg19(vgg, seeded_vgg19_state(FLAGS.seed))
    else:
        raise options.InputError(f"{path}: torchvision's VGG19 weights are needed (the "
                                 "original's VGGLoss)")
    return vgg


def main(argv):
    del argv
    from tfposegen.data.pose_pairs import pose_pair_dataset
    from tfposegen.models.dptn import train, weights
    from tfposegen.train.common import is_chief, make_strategy, run_training, select_keys
    from tfposegen.utils.files import atomic_path

    cli.start_run_eagerly(FLAGS.run_eagerly, FLAGS.strategy)
    strategy = make_strategy(FLAGS.strategy)  # before any other TF work (multiworker)
    from tfposegen.train.precision import set_precision

    set_precision(FLAGS.precision)  # before the networks are built
    chief = is_chief(strategy)
    folder, stored, pairs = options.records()
    size = options.network_size(stored)
    exp_dir = os.path.join(FLAGS.checkpoints_dir, FLAGS.name)
    with strategy.scope():
        nets = options.build_networks(FLAGS.seed)
        vgg = load_vgg(train)
    if chief:
        os.makedirs(exp_dir, exist_ok=True)
        with atomic_path(os.path.join(exp_dir, "opt.txt")) as tmp, open(tmp, "w") as f:
            f.write(FLAGS.flags_into_string())
    per_epoch = max(1, pairs // FLAGS.batchSize)
    lambdas = {k: getattr(FLAGS, k) for k in train.DEFAULT_WEIGHTS}
    try:
        trainer = train.DPTNTrainer(nets, vgg, FLAGS.batchSize, per_epoch, FLAGS.lr,
                                    FLAGS.ratio_g2d, FLAGS.niter, FLAGS.niter_decay, lambdas,
                                    strategy=strategy)
    except ValueError as e:  # a batch that does not divide among the replicas
        raise options.InputError(f"--batchSize: {e}") from None
    dataset = pose_pair_dataset(folder, size, batch_size=FLAGS.batchSize, shuffle=True,
                                seed=FLAGS.seed, repeat=True, drop_remainder=True)
    data = iter(select_keys(dataset, train.MODEL_KEYS))
    every = max(1, FLAGS.save_latest_freq // FLAGS.batchSize)

    def snapshot(step, kimg, writer):
        del kimg, writer
        weights.save_networks(nets, os.path.join(exp_dir, "latest_net"), {"step": step})

    def epoch_end(epoch, step):
        if epoch % FLAGS.save_epoch_freq == 0 or step == trainer.total_steps:
            weights.save_networks(nets, os.path.join(exp_dir, f"{epoch}_net"), {"step": step})

    # total_kimg a half-step short of the end: run_training rounds it up to whole steps.
    kimg = (trainer.total_steps - 0.5) * FLAGS.batchSize / 1000
    steps = run_training(trainer, data, exp_dir, FLAGS.batchSize, kimg,
                         every * FLAGS.batchSize / 1000, snapshot,
                         show=("app_gen_t", "ad_gen_t", "dis_img_gen_t"),
                         name=f"dptn {FLAGS.name}", log=logging.info,
                         epoch=(per_epoch, epoch_end))
    print(f"trained to step {steps} of {trainer.total_steps} in {exp_dir}")


if __name__ == "__main__":
    options.run(main)
