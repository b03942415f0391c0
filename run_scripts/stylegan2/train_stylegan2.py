"""Train a StyleGAN2 (NVlabs config-f recipe) on TFRecord images.

    python run_scripts/stylegan2/images_to_tfrecords.py --image_dir photos/ --out_dir data/shop \\
        --resolution 64
    python run_scripts/stylegan2/train_stylegan2.py --data data/shop --outdir runs/shop \\
        --resolution 64 --fmap_max 128 --latent 128 --mapping_layers 4 --total_kimg 200

Writes into ``--outdir``: ``checkpoints/`` (everything a resumed run needs; starting the
same command again continues exactly where it stopped), ``logs/`` (TensorBoard: losses,
regularisers, kimg/s, image grids of Gs), ``fakes<kimg>.png`` grids and
``network-snapshot-<kimg>.pkl`` in the official dnnlib format (``(G, D, Gs)``, readable by
``tfposegen.models.dgp.dnnlib`` and NVlabs' tools). The recipe is
``tfposegen.models.stylegan2.train``.

``--strategy mirrored`` trains on all local GPUs, ``--strategy multiworker`` on the workers
of ``TF_CONFIG`` (the same command on each; only the chief writes into ``--outdir``, and
every worker resumes from ``<outdir>/checkpoints``). ``--batch_size`` is the global batch.
"""

import os
import sys

import numpy as np
from absl import app, flags, logging

from tfposegen.utils import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("data", None, "TFRecords (folder, file or glob) from images_to_tfrecords.")
flags.DEFINE_string("outdir", None, "Run folder (checkpoints, logs, snapshots).")
flags.DEFINE_integer("resolution", 256, "Image side (must match the records).")
flags.DEFINE_integer("fmap_base", 16384, "Feature maps: min(fmap_base / res, fmap_max).")
flags.DEFINE_integer("fmap_max", 512, "Largest number of feature maps.")
flags.DEFINE_integer("latent", 512, "Size of z and w.")
flags.DEFINE_integer("mapping_layers", 8, "Depth of the mapping network.")
flags.DEFINE_integer("mbstd_group_size", 4, "Minibatch-stddev group of D (within each "
                     "replica's share of the batch; 1: the update does not depend on how the "
                     "batch is split among replicas).", lower_bound=1)
flags.DEFINE_integer("batch_size", 32, "Images per step.", lower_bound=1)
flags.DEFINE_float("total_kimg", 25000, "Training length in thousands of real images.")
flags.DEFINE_float("r1_gamma", 10.0, "R1 weight.")
flags.DEFINE_float("pl_weight", 2.0, "Path-length weight (0: off).")
flags.DEFINE_float("style_mixing", 0.9, "Style-mixing probability.")
flags.DEFINE_float("lr", 0.002, "Adam learning rate.")
flags.DEFINE_float("ema_kimg", 10.0, "Half-life of the Gs average, in kimg.")
flags.DEFINE_boolean("mirror", False, "Random left-right flips of the reals.")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights, the data order and every "
                     "random number in training.")
flags.DEFINE_float("snapshot_kimg", 50, "kimg between checkpoints, grids and pickles.")
flags.DEFINE_boolean("jit_compile", True, "Compile the training steps with XLA (ignored "
                     "with several replicas on CPUs).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multiworker"],
                  "tf.distribute strategy: default (one device), mirrored (all local GPUs), "
                  "multiworker (the workers listed in TF_CONFIG, each running this command). "
                  "--batch_size is global.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "Numeric precision: float32 (default, faithful) or mixed_bfloat16 "
                  "(bfloat16 compute, float32 variables, optimiser and losses; no loss "
                  "scaling needed). Fast only where the hardware has bfloat16 math.")
cli.define_run_eagerly_flag()
flags.mark_flags_as_required(["data", "outdir"])


def build_networks():
    """(G, D) from the flags, seeded (call in the strategy's scope)."""
    import keras

    from tfposegen.models.stylegan2 import Discriminator, Generator

    keras.utils.set_random_seed(FLAGS.seed)
    fmap = dict(fmap_base=FLAGS.fmap_base, fmap_max=FLAGS.fmap_max)
    G = Generator(resolution=FLAGS.resolution, z_dim=FLAGS.latent, w_dim=FLAGS.latent,
                  mapping_kwargs=dict(num_layers=FLAGS.mapping_layers,
                                      layer_features=FLAGS.latent),
                  synthesis_kwargs=fmap)
    D = Discriminator(resolution=FLAGS.resolution, mbstd_group_size=FLAGS.mbstd_group_size,
                      **fmap)
    return G, D


def grid(Gs, latents):
    """uint8 grid image of Gs(latents) (const noise), 1 row per 8 images."""
    from tfposegen.utils.files import to_uint8

    images = to_uint8(Gs(latents, noise_mode="const").numpy())
    n, r = images.shape[0], images.shape[1]
    cols = min(8, n)
    rows = -(-n // cols)
    out = np.full((rows * r, cols * r, 3), 255, np.uint8)
    for i, im in enumerate(images):
        out[(i // cols) * r:(i // cols + 1) * r, (i % cols) * r:(i % cols + 1) * r] = im
    return out


def train():
    import tensorflow as tf

    from tfposegen.data.image_records import image_dataset
    from tfposegen.models.dgp.dnnlib import save_dnnlib_pickle
    from tfposegen.models.stylegan2.train import StyleGAN2Trainer
    from tfposegen.train.common import is_chief, make_strategy, run_training
    from tfposegen.train.precision import set_precision
    from tfposegen.utils.files import write_png

    strategy = make_strategy(FLAGS.strategy)  # first: multi-worker setup precedes other TF work
    set_precision(FLAGS.precision)  # before the networks are built
    if is_chief(strategy):  # the other workers of a cluster write nothing there
        os.makedirs(FLAGS.outdir, exist_ok=True)
    with strategy.scope():
        G, D = build_networks()
    trainer = StyleGAN2Trainer(
        G, D, FLAGS.batch_size, r1_gamma=FLAGS.r1_gamma, pl_weight=FLAGS.pl_weight,
        style_mixing=FLAGS.style_mixing, learning_rate=FLAGS.lr, ema_kimg=FLAGS.ema_kimg,
        seed=FLAGS.seed, jit_compile=FLAGS.jit_compile, strategy=strategy)
    # global batches, the same on every worker (seeded); train_step splits them per replica
    data = iter(image_dataset(FLAGS.data, FLAGS.batch_size, FLAGS.resolution, seed=FLAGS.seed,
                              xflip=FLAGS.mirror))
    grid_z = np.random.RandomState(FLAGS.seed).randn(16, G.z_dim).astype(np.float32)

    def snapshot(step, kimg, writer):  # the chief only
        image = grid(trainer.Gs, grid_z)
        write_png(os.path.join(FLAGS.outdir, f"fakes{kimg:06d}.png"), image)
        save_dnnlib_pickle(os.path.join(FLAGS.outdir, f"network-snapshot-{kimg:06d}.pkl"),
                           trainer.D, trainer.Gs, G=trainer.G)
        with writer.as_default(step=step):
            tf.summary.image("Gs", image[None], max_outputs=1)

    run_training(trainer, data, FLAGS.outdir, FLAGS.batch_size, FLAGS.total_kimg,
                 FLAGS.snapshot_kimg, snapshot, show=("G_loss", "D_loss"))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    logging.set_verbosity(logging.WARNING)  # TF's checkpoint saver logs every save at INFO
    from tfposegen.data.image_records import ImageRecordError, record_files

    try:
        record_files(FLAGS.data)
        cli.start_run_eagerly(FLAGS.run_eagerly, FLAGS.strategy)
    except (ImageRecordError, cli.InputError) as e:
        print(f"train_stylegan2.py: error: {e}", file=sys.stderr)
        return 2
    train()
    return 0


if __name__ == "__main__":
    app.run(main)
