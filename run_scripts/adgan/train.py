"""Train ADGAN (``train.py`` + scripts/train.sh of menyifang/ADGAN) on pose pairs.

    python run_scripts/adgan/train.py --dataroot deepfashion/fashion_resize \\
        --dirSem deepfashion --pairLst deepfashion/fashion-resize-pairs-train.csv \\
        --annotation deepfashion/fashion-resize-annotation-train.csv \\
        --name fashion_adgan_test --checkpoints_dir ./checkpoints
    python run_scripts/adgan/train.py --synthetic --dataroot /tmp/adgan_synth \\
        --name synth --preset tiny --ndf 8 --niter 2 --niter_decay 0 --epoch_size 4 \\
        --batchSize 2                                   # the chain, offline, in a minute

Defaults are the original's effective options (scripts/train.sh: batch 6, lambda_GAN 5,
lambda_A = lambda_B = 1, lambda_cx 0.1, L1 + perceptual, LSGAN, lr 1e-3, 500 + 500 epochs
of 4000 random pairs). The first run converts the dataroot once into TFRecords beside it
(``<dataroot>_<phase>_records``). The VGG19 weights are read as the original does from
``<dirname(dataroot)>/vgg19-dcbb9e9d.pth`` (texture encoder and perceptual loss) and
``vgg_conv.pth`` (CX loss; without it the torchvision weights stand in, with a warning).

``--strategy mirrored`` / ``multiworker`` splits each global batch among the replicas; the
update equals one device's with the whole batch (``tfposegen.models.adgan.train``). With
``--synthetic --demo_out FILE`` the final generator is also written as a demo file
(``tfposegen.models.adgan.weights.save_demo_generator``; recipe in pretrained/README.md).

Writes into ``<checkpoints_dir>/<name>/``: ``checkpoints/`` (networks, optimisers, step,
data position: starting the same command again resumes), ``logs/`` (TensorBoard losses and
visuals), ``latest_net/`` and ``<epoch>_net/`` (``tfposegen.models.adgan.weights.
save_networks`` folders, read by run_scripts/adgan/test.py), ``opt.txt`` (the flags)
and ``web/images/epochNNN_vis.png``.
"""

import os

import options
from absl import app, flags, logging

from tfposegen.utils import cli

FLAGS = flags.FLAGS
options.define_base_flags("train")
flags.DEFINE_boolean("continue_train", False, "Without a training checkpoint yet, start "
                     "from the networks of --which_epoch (folder or original .pth files).")
flags.DEFINE_integer("batchSize", 6, "Pairs per iteration.", lower_bound=1)
flags.DEFINE_integer("niter", 500, "Epochs at the initial learning rate.", lower_bound=0)
flags.DEFINE_integer("niter_decay", 500, "Epochs of linear decay.", lower_bound=0)
flags.DEFINE_integer("epoch_size", 4000, "Random pairs per epoch (KeyDataset.__len__).",
                     lower_bound=1)
flags.DEFINE_float("lr", 1e-3, "Adam learning rate (betas 0.5, 0.999).")
flags.DEFINE_float("lambda_A", 1.0, "Weight of the image L1.")
flags.DEFINE_float("lambda_B", 1.0, "Weight of the relu1_2 perceptual L1.")
flags.DEFINE_float("lambda_GAN", 5.0, "Weight of the LSGAN terms.")
flags.DEFINE_float("lambda_cx", 0.1, "Weight of the CX loss.")
flags.DEFINE_integer("ndf", 64, "Discriminator width.", lower_bound=1)
flags.DEFINE_integer("n_layers_D", 3, "Residual blocks of each discriminator.", lower_bound=0)
flags.DEFINE_enum("preset", "released", ["released", "tiny"], "Generator size "
                  "(tfposegen.models.adgan.presets).")
flags.DEFINE_integer("save_latest_freq", 5000, "Samples between checkpoints, latest_net and "
                     "the visuals (TensorBoard and web/images).", lower_bound=1)
flags.DEFINE_integer("save_epoch_freq", 20, "Epochs between <epoch>_net folders.",
                     lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the initial weights and the pair sampling.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multiworker"],
                  "tf.distribute strategy (multiworker: the cluster of TF_CONFIG, every worker "
                  "running this command); --batchSize is global.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "Numeric precision: float32 (default, faithful) or mixed_bfloat16 "
                  "(bfloat16 compute, float32 variables, optimiser and losses; no loss "
                  "scaling needed). Fast only where the hardware has bfloat16 math.")
flags.DEFINE_integer("num_shards", 8, "TFRecord shards of the conversion.", lower_bound=1)
cli.define_run_eagerly_flag()
flags.DEFINE_string("demo_out", None, "At the end, also write netG as a demo generator file "
                    "(tfposegen.models.adgan.weights.save_demo_generator; needs --synthetic).")


def build_networks():
    """netG, netD_PB, netD_PP from the flags, seeded."""
    import keras

    from tfposegen.models.adgan import presets
    from tfposegen.models.adgan.discriminators import ResnetDiscriminator
    from tfposegen.models.adgan.networks import ADGen

    keras.utils.set_random_seed(FLAGS.seed)
    preset = presets.ADGEN_RELEASED if FLAGS.preset == "released" else presets.ADGEN_TINY
    d = dict(presets.D_PB_RELEASED, ndf=FLAGS.ndf, n_blocks=FLAGS.n_layers_D)
    return {"netG": ADGen(**preset), "netD_PB": ResnetDiscriminator(**d),
            "netD_PP": ResnetDiscriminator(**dict(d, input_nc=6))}


def load_vggs(nets):
    """Load the three VGG19 (see the module docstring); returns the loss VGGs."""
    from tfposegen.losses.perceptual import (
        assign_torchvision_vgg19,
        load_torchvision_vgg19,
        seeded_vgg19_state,
    )
    from tfposegen.models.adgan import train, weights

    vggs = train.make_loss_vggs()
    folder = os.path.dirname(os.path.abspath(FLAGS.dataroot))
    vgg19, vgg_conv = (os.path.join(folder, n) for n in ("vgg19-dcbb9e9d.pth", "vgg_conv.pth"))
    if FLAGS.synthetic and not os.path.isfile(vgg19):
        logging.warning("--synthetic: seeded random VGG19 weights (seed %d; no %s)",
                        FLAGS.seed, vgg19)
        state = seeded_vgg19_state(FLAGS.seed)
        for features in (nets["netG"].enc_style.vgg, vggs["perceptual"], vggs["cx"]):
            assign_torchvision_vgg19(features, state)
        return vggs
    if not os.path.isfile(vgg19):
        raise options.InputError(f"{vgg19}: torchvision's VGG19 weights are needed (as the "
                             "original's load_VGG)")
    weights.load_vgg19(nets["netG"], vgg19)
    load_torchvision_vgg19(vggs["perceptual"], vgg19)
    if os.path.isfile(vgg_conv):
        weights.load_vgg_conv(vggs["cx"], vgg_conv)
    else:
        logging.warning("%s missing: the CX loss uses torchvision's VGG19 weights instead",
                        vgg_conv)
        load_torchvision_vgg19(vggs["cx"], vgg19)
    return vggs


def main(argv):
    del argv
    import tensorflow as tf

    from tfposegen.data.pose_pairs import pose_pair_dataset
    from tfposegen.models.adgan import train, visualize, weights
    from tfposegen.train.common import is_chief, make_strategy, run_training
    from tfposegen.utils.files import atomic_path, write_png

    cli.start_run_eagerly(FLAGS.run_eagerly, FLAGS.strategy)
    strategy = make_strategy(FLAGS.strategy)  # before any other TF work (multiworker)
    from tfposegen.train.precision import set_precision

    set_precision(FLAGS.precision)  # before the networks are built
    chief = is_chief(strategy)

    if FLAGS.demo_out and not FLAGS.synthetic:
        raise app.UsageError("--demo_out needs --synthetic (a seeded texture VGG)")
    options.make_synthetic()
    folder, size, _ = options.records()
    exp_dir = os.path.join(FLAGS.checkpoints_dir, FLAGS.name)
    with strategy.scope():
        nets = build_networks()
        vggs = load_vggs(nets)
    has_ckpt = tf.train.latest_checkpoint(os.path.join(exp_dir, "checkpoints"))
    if FLAGS.continue_train and not has_ckpt:
        try:
            loaded = weights.load_label_networks(exp_dir, FLAGS.which_epoch, nets)
        except (FileNotFoundError, ValueError) as e:
            raise options.InputError(f"--continue_train: {e}") from None
        logging.info("started from %s", loaded)
    if chief:
        os.makedirs(exp_dir, exist_ok=True)
        with atomic_path(os.path.join(exp_dir, "opt.txt")) as tmp, open(tmp, "w") as f:
            f.write(FLAGS.flags_into_string())  # the original's opt.txt: the run's options
    lambdas = {k: getattr(FLAGS, k) for k in ("lambda_A", "lambda_B", "lambda_GAN",
                                              "lambda_cx")}
    try:
        trainer = train.ADGANTrainer(nets, vggs, FLAGS.batchSize, FLAGS.lr, FLAGS.niter,
                                     FLAGS.niter_decay, FLAGS.epoch_size, lambdas,
                                     strategy=strategy)
    except ValueError as e:  # a batch that does not divide among the replicas
        raise app.UsageError(f"--batchSize: {e}") from None

    def pairs():
        return trainer.model_inputs(pose_pair_dataset(
            folder, size, batch_size=FLAGS.batchSize, shuffle=True, seed=FLAGS.seed,
            with_parse=True, num_parse_classes=8, peak_only=True, repeat=True,
            drop_remainder=True))

    # the seeded first batch (the same pair in every visual) from a pipeline of its own: two
    # iterators of one pipeline share its reshuffling seed generator, which made the
    # training order depend on timing
    data, fixed = iter(pairs()), next(iter(pairs()))
    per_epoch = train.iterations_per_epoch(FLAGS.batchSize, FLAGS.epoch_size)
    every = max(1, FLAGS.save_latest_freq // FLAGS.batchSize)

    def snapshot(step, kimg, writer):
        del kimg
        epoch = train.epoch_of_step(step - 1, FLAGS.batchSize, FLAGS.epoch_size)
        weights.save_networks(nets, os.path.join(exp_dir, "latest_net"), {"step": step})
        fake = nets["netG"](fixed["target_pose"], fixed["source_image"],
                            fixed["source_parse"])
        vis = visualize.vis_strip(fixed["source_image"][0], fixed["source_pose"][0],
                              fixed["target_image"][0], fixed["target_pose"][0], fake[0])
        os.makedirs(os.path.join(exp_dir, "web", "images"), exist_ok=True)
        write_png(os.path.join(exp_dir, "web", "images", f"epoch{epoch:03d}_vis.png"), vis)
        with writer.as_default(step=step):
            tf.summary.image("vis", vis[None])

    def epoch_end(epoch, step):
        if epoch % FLAGS.save_epoch_freq == 0 or step == trainer.total_steps:
            weights.save_networks(nets, os.path.join(exp_dir, f"{epoch}_net"), {"step": step})

    # total_kimg a half-step short of the end: run_training rounds it up to whole steps.
    kimg = (trainer.total_steps - 0.5) * FLAGS.batchSize / 1000
    steps = run_training(trainer, data, exp_dir, FLAGS.batchSize, kimg,
                         every * FLAGS.batchSize / 1000, snapshot,
                         show=("pair_L1loss", "pair_GANloss", "CXLoss", "D_PB", "D_PP"),
                         name=f"adgan {FLAGS.name}", log=logging.info,
                         epoch=(per_epoch, epoch_end))
    if FLAGS.demo_out and chief:
        weights.save_demo_generator(nets["netG"], FLAGS.demo_out, FLAGS.seed,
                                    {"step": steps, "preset": FLAGS.preset,
                                     "synthetic_size": [int(v) for v in FLAGS.synthetic_size],
                                     "synthetic_people": FLAGS.synthetic_people})
    print(f"trained to step {steps} of {trainer.total_steps} in {exp_dir}")


if __name__ == "__main__":
    options.run(main)
