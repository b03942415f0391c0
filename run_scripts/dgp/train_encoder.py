"""Train DGP's in-domain encoder for a StyleGAN2 (genforce/idinvert recipe).

    python run_scripts/dgp/train_encoder.py --data data/shop \\
        --network runs/shop/network-snapshot-000200.pkl --outdir runs/shop_encoder \\
        --vgg pretrained/vgg.h5 --total_kimg 100

``--network`` is a dnnlib pickle or converted folder with ``Gs`` and ``D`` (e.g. a
``train_stylegan2.py`` snapshot); Gs stays frozen and D is fine-tuned against the encoder.
Writes ``checkpoints/`` (a restarted run continues), ``logs/`` (TensorBoard),
``recon<kimg>.png`` (reals over reconstructions) and ``encoder-stylegan2-<kimg>.pkl`` in DGP's
pickle layout ``(E, D, Gs)``, which ``run_scripts/dgp/deepGenPro.py --network_pkl`` takes. The
recipe is ``tfposegen.models.dgp.train_encoder``.

``--strategy mirrored`` trains on all local GPUs, ``--strategy multiworker`` on the workers
of ``TF_CONFIG`` (the same command on each; only the chief writes into ``--outdir``, and
every worker resumes from ``<outdir>/checkpoints``). ``--batch_size`` is the global batch;
the encoder's batch-norm statistics are those of the global batch.
"""

import os
import sys

import numpy as np
from absl import app, flags, logging

from tfposegen.utils import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("data", None, "TFRecords (folder, file or glob) from images_to_tfrecords.")
flags.DEFINE_string("network", None, "dnnlib pickle or converted folder with Gs and D.")
flags.DEFINE_string("outdir", None, "Run folder (checkpoints, logs, snapshots).")
flags.DEFINE_string("vgg", "", "Keras VGG16 no-top weights (.h5) for the perceptual term; "
                    "empty = no perceptual term.")
flags.DEFINE_integer("perceptual_size", 256, "Side of the VGG input (idinvert: 256).")
flags.DEFINE_integer("encoder_filters", 64, "Filters of the encoder's first block.")
flags.DEFINE_integer("encoder_filters_max", 512, "Most filters of an encoder block.")
flags.DEFINE_integer("batch_size", 16, "Images per step.", lower_bound=1)
flags.DEFINE_float("total_kimg", 14000, "Training length in thousands of images.")
flags.DEFINE_float("lr", 1e-4, "Initial learning rate (decays by 0.8 every quarter of the run).")
flags.DEFINE_float("d_scale", 0.08, "Weight of the adversarial term.")
flags.DEFINE_float("r1_gamma", 10.0, "R1 weight of the discriminator.")
flags.DEFINE_boolean("mirror", False, "Random left-right flips of the reals.")
flags.DEFINE_integer("seed", 0, "Seed of the encoder's initial weights and the data order.")
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
flags.mark_flags_as_required(["data", "network", "outdir"])


def train():
    import keras
    import tensorflow as tf

    from tfposegen.data.image_records import image_dataset
    from tfposegen.models.dgp.dnnlib import ConversionError, load_networks, save_dnnlib_pickle
    from tfposegen.models.dgp.encoder import Encoder, idinvert_layout
    from tfposegen.models.dgp.perceptual import vgg16_features_from_h5
    from tfposegen.models.dgp.train_encoder import EncoderTrainer
    from tfposegen.train.common import is_chief, make_strategy, run_training
    from tfposegen.utils.files import to_uint8, write_png

    strategy = make_strategy(FLAGS.strategy)  # first: multi-worker setup precedes other TF work
    from tfposegen.train.precision import set_precision

    set_precision(FLAGS.precision)  # before the networks are built
    with strategy.scope():
        nets = load_networks(FLAGS.network)
        if nets.Gs is None or nets.D is None:
            raise ConversionError(f"{FLAGS.network}: the encoder needs a network file with Gs "
                                  "and D")
        Gs, D = nets.Gs, nets.D
        r = Gs.resolution
        keras.utils.set_random_seed(FLAGS.seed)
        E = Encoder(**idinvert_layout(r, filters=FLAGS.encoder_filters,
                                      filters_max=FLAGS.encoder_filters_max, num_ws=Gs.num_ws,
                                      w_dim=Gs.w_dim))
        vgg = (vgg16_features_from_h5(FLAGS.vgg, FLAGS.perceptual_size) if FLAGS.vgg
               else None)
    if vgg is None:
        logging.warning("--vgg is empty: training without the perceptual term")
    total = int(np.ceil(FLAGS.total_kimg * 1000 / FLAGS.batch_size))
    trainer = EncoderTrainer(E, Gs.synthesis, D, vgg=vgg, perceptual_size=FLAGS.perceptual_size,
                             d_scale=FLAGS.d_scale, r1_gamma=FLAGS.r1_gamma,
                             learning_rate=FLAGS.lr, decay_steps=max(1, total // 4),
                             jit_compile=FLAGS.jit_compile, strategy=strategy)
    # global batches, the same on every worker (seeded); train_step splits them per replica
    data = iter(image_dataset(FLAGS.data, FLAGS.batch_size, r, seed=FLAGS.seed,
                              xflip=FLAGS.mirror))
    if is_chief(strategy):  # the other workers of a cluster write nothing there
        os.makedirs(FLAGS.outdir, exist_ok=True)
    fixed = next(iter(image_dataset(FLAGS.data, 8, r, shuffle=False, repeat=False,
                                    drop_remainder=False)))

    def snapshot(step, kimg, writer):  # the chief only
        recon = to_uint8(trainer.reconstruct(fixed).numpy())
        grid = np.concatenate([np.concatenate(list(to_uint8(fixed.numpy())), axis=1),
                               np.concatenate(list(recon), axis=1)], axis=0)
        write_png(os.path.join(FLAGS.outdir, f"recon{kimg:06d}.png"), grid)
        save_dnnlib_pickle(os.path.join(FLAGS.outdir, f"encoder-stylegan2-{kimg:06d}.pkl"),
                           trainer.D, Gs, E=trainer.E)
        with writer.as_default(step=step):
            tf.summary.image("reals_over_reconstructions", grid[None], max_outputs=1)

    run_training(trainer, data, FLAGS.outdir, FLAGS.batch_size, FLAGS.total_kimg,
                 FLAGS.snapshot_kimg, snapshot, show=("pixel", "E_loss", "D_loss"),
                 name="train_encoder")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    logging.set_verbosity(logging.WARNING)  # TF's checkpoint saver logs every save at INFO
    from tfposegen.convert.keras_h5 import KerasH5Error
    from tfposegen.data.image_records import ImageRecordError, record_files
    from tfposegen.models.dgp.dnnlib import ConversionError, DnnlibPickleError

    try:
        record_files(FLAGS.data)
        cli.start_run_eagerly(FLAGS.run_eagerly, FLAGS.strategy)
        train()
    except (ImageRecordError, ConversionError, DnnlibPickleError, KerasH5Error,
            cli.InputError) as e:
        print(f"train_encoder.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    app.run(main)
