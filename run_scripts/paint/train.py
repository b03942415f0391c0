"""Train one of PAINT's three stages (gxl-groups/PAINT: ``LGN/train.py``, ``TSN/train.py``,
``AFN/train.py``; each stage is trained on its own, as there).

    python run_scripts/paint/train.py --stage lgn --dataroot R --name LGN --model stage1_gan \\
        --direction AtoB                       # the README's LGN command (bicycle_gan runs)
    python run_scripts/paint/train.py --stage tsn --dataroot R -c configs/celebahq.json
    python run_scripts/paint/train.py --stage afn --dataroot R -c configs/celebahq.json -m pconv
    python run_scripts/paint/train.py --stage tsn --synthetic --dataroot /tmp/paint_synth \\
        --preset tiny --iterations 1 --save_dir /tmp/paint_models     # offline

LGN (``BiCycleGANModel``, :class:`tfposegen.models.paint.train_lgn.LGNTrainer`): options as
LGN/options/{base,train}_options.py (``--batch_size`` 2, ``--niter`` 60 + ``--niter_decay``
40 epochs of ``len(all_train.txt) // batch_size`` iterations, ``--lr`` 2e-4, the lambdas).
Writes into ``<checkpoints_dir>/<name>/``: ``checkpoints/`` (networks, optimisers, step,
noise generator, data position: the same command again resumes, the original's
``--continue_train``), ``logs/`` (TensorBoard), ``latest_net/`` every ``--save_latest_freq``
images and ``<epoch>_net/`` every ``--save_epoch_freq`` epochs (networks folders of G, E, D,
D2: the original's ``<epoch>_net_{G,E,D,D2}.pth``; no ``.pth`` writer exists, see
options.py), ``opt.txt``.

TSN / AFN (PEN-Net's ``core/trainer.py``, :class:`~tfposegen.models.paint.train.TSNTrainer`,
``AFNTrainer``): the config's trainer and loss values (``-c``; default the shipped
``configs/celebahq.json``); ``--iterations`` / ``--save_freq`` / ``--batch_size`` override
them. Writes into ``<save_dir>/<name>_<pen5|pen55>_<mask><size>/`` (default
``release_model/pennet_pen5_pconv256``): ``checkpoints/``, ``logs/`` (the original's
``SummaryWriter`` folders, at an absolute path there, moved here), every ``save_freq``
iterations and at the end ``net_<NNNNN>/`` (NNNNN = iteration // save_freq; G and D / D2:
the original's ``gen_`` / ``dis_`` / ``dis2_<NNNNN>.pth``) and ``latest.ckpt`` naming it, as
the original. VGG19 (the perceptual and style losses): torchvision's ``vgg19-dcbb9e9d.pth``
from ``--vgg19`` (default beside the dataroot); with ``--synthetic`` seeded random weights
stand in.

``--strategy mirrored|multiworker`` replaces the original's DataParallel /
``torch.distributed`` (the batch is the global batch; only the chief writes).
"""

import os

import options
from absl import flags, logging

from tfposegen.utils import cli

FLAGS = flags.FLAGS
options.define_flags(train=True)
flags.DEFINE_integer("niter", 60, "LGN: epochs at the initial learning rate.", lower_bound=0)
flags.DEFINE_integer("niter_decay", 40, "LGN: epochs of linear decay.", lower_bound=0)
flags.DEFINE_float("lr", None, "Learning rate (LGN 2e-4; TSN / AFN the config's 1e-4).")
flags.DEFINE_float("lambda_L1", 30.0, "LGN: weight of the layout cross-entropy.")
flags.DEFINE_float("lambda_GAN", 1.0, "LGN: weight of D's term.")
flags.DEFINE_float("lambda_GAN2", 1.0, "LGN: weight of D2's term.")
flags.DEFINE_float("lambda_z", 0.01, "LGN: weight of the latent regression.")
flags.DEFINE_float("lambda_kl", 0.01, "LGN: weight of the KL term.")
flags.DEFINE_integer("save_latest_freq", 10000, "LGN: images between latest_net saves.",
                     lower_bound=1)
flags.DEFINE_integer("save_epoch_freq", 1, "LGN: epochs between <epoch>_net folders.",
                     lower_bound=1)
flags.DEFINE_integer("iterations", None, "TSN / AFN: the config's trainer.iterations "
                     "(33e4); the run takes iterations + 1 steps, as the original.",
                     lower_bound=0)
flags.DEFINE_integer("save_freq", None, "TSN / AFN: the config's trainer.save_freq (1e4).",
                     lower_bound=1)
flags.DEFINE_boolean("continue_train", False, "LGN: accepted; a run always resumes from "
                     "its checkpoints/ folder.")
flags.DEFINE_boolean("exam", False, "Accepted (-e; the original's debug switch).",
                     short_name="e")
flags.DEFINE_string("vgg19", None, "TSN / AFN: torchvision's vgg19-dcbb9e9d.pth (default "
                    "beside the dataroot).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multiworker"],
                  "tf.distribute strategy (multiworker: the cluster of TF_CONFIG, every "
                  "worker running this command); the batch size is the global batch.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "Numeric precision: float32 (default, faithful) or mixed_bfloat16 "
                  "(bfloat16 compute, float32 variables, optimiser and losses; no loss "
                  "scaling needed). Fast only where the hardware has bfloat16 math.")
cli.define_run_eagerly_flag()


def load_vgg(root):
    from tfposegen.losses.perceptual import (
        assign_torchvision_vgg19,
        load_torchvision_vgg19,
        seeded_vgg19_state,
    )
    from tfposegen.models.paint.train import make_loss_vgg

    vgg = make_loss_vgg()
    path = FLAGS.vgg19 or os.path.join(os.path.dirname(root), "vgg19-dcbb9e9d.pth")
    if os.path.isfile(path):
        load_torchvision_vgg19(vgg, path)
    elif FLAGS.synthetic:
        logging.warning("--synthetic: seeded random VGG19 weights (no %s)", path)
        assign_torchvision_vgg19(vgg, seeded_vgg19_state(FLAGS.seed))
    else:
        raise options.InputError(f"{path}: torchvision's VGG19 weights are needed (the "
                                 "original's PerceptualLoss / StyleLoss; --vgg19)")
    return vgg


def records(root, config):
    """The stage's training list as TFRecords beside the dataroot (made on first use, or
    again when the list changed)."""
    import json

    from tfposegen.models.paint.data import RECORDS_SUMMARY, PaintDataError, write_records
    from tfposegen.utils.files import atomic_folder

    lay = options.layout(root, "train", config)
    out = f"{root}_paint_{FLAGS.stage}_train_records"
    summary = os.path.join(out, RECORDS_SUMMARY)
    if os.path.isfile(summary):
        with open(summary) as f:
            s = json.load(f)
        if s.get("list") == os.path.abspath(lay.list_path) and s.get("records") == len(lay):
            return out, s
        import shutil

        shutil.rmtree(out)
    try:
        with atomic_folder(out) as tmp:
            write_records(tmp, root, FLAGS.stage, "train", options.flist_root(root, config))
    except PaintDataError as e:
        raise options.InputError(str(e)) from None
    with open(summary) as f:
        return out, json.load(f)


def make_trainer(nets, root, config, strategy, count):
    """(trainer, run folder, snapshot every n steps)."""
    from tfposegen.models.paint import train

    if FLAGS.stage == "lgn":
        batch = FLAGS.batch_size or 2
        per_epoch = max(1, count // batch)
        trainer = train.LGNTrainer(
            nets, batch, per_epoch, lr=FLAGS.lr or 2e-4, niter=FLAGS.niter,
            niter_decay=FLAGS.niter_decay, lambda_L1=FLAGS.lambda_L1,
            lambda_GAN=FLAGS.lambda_GAN, lambda_GAN2=FLAGS.lambda_GAN2,
            lambda_z=FLAGS.lambda_z, lambda_kl=FLAGS.lambda_kl, seed=options.seed(),
            strategy=strategy)
        return (trainer, os.path.join(FLAGS.checkpoints_dir, FLAGS.name or ""),
                max(1, FLAGS.save_latest_freq // batch))
    o = dict(config["options"])
    o.update({k: v for k, v in (("batch_size", FLAGS.batch_size), ("lr", FLAGS.lr),
                                ("iterations", FLAGS.iterations)) if v is not None})
    with strategy.scope():
        vgg = load_vgg(root)
    cls = train.TSNTrainer if FLAGS.stage == "tsn" else train.AFNTrainer
    return (cls(nets, vgg, strategy=strategy, **o), options.tsn_afn_save_dir(config),
            FLAGS.save_freq or config["save_freq"])


def main(argv):
    del argv
    from tfposegen.models.paint import train
    from tfposegen.models.paint.data import KEYS, record_dataset
    from tfposegen.train.common import is_chief, make_strategy, select_keys
    from tfposegen.utils.files import atomic_path

    cli.start_run_eagerly(FLAGS.run_eagerly, FLAGS.strategy)
    config = options.stage_config() if FLAGS.stage != "lgn" else None
    root = options.dataroot(config)
    strategy = make_strategy(FLAGS.strategy)  # before any other TF work (multiworker)
    from tfposegen.train.precision import set_precision

    set_precision(FLAGS.precision)  # before the networks are built
    chief = is_chief(strategy)
    folder, summary = records(root, config)
    seed = options.seed(config)
    with strategy.scope():
        nets = train.build_stage(FLAGS.stage, FLAGS.preset, seed)
    try:
        trainer, run_dir, every = make_trainer(nets, root, config, strategy,
                                               int(summary["records"]))
    except ValueError as e:  # a batch that does not divide among the replicas
        raise options.InputError(f"--batch_size: {e}") from None
    if chief:
        os.makedirs(run_dir, exist_ok=True)
        with atomic_path(os.path.join(run_dir, "opt.txt")) as tmp, open(tmp, "w") as f:
            f.write(FLAGS.flags_into_string())
    keys = trainer.model_keys if FLAGS.stage != "lgn" else KEYS["lgn"]
    dataset = record_dataset(folder, trainer.batch_size, shuffle=True, seed=seed, repeat=True,
                             drop_remainder=True)
    data = iter(select_keys(dataset, keys))
    meta = {"preset": FLAGS.preset}

    if FLAGS.stage == "lgn":
        def snapshot(step):
            options.save_nets(nets, os.path.join(run_dir, "latest_net"), {**meta, "step": step})

        def epoch_end(epoch, step):
            if epoch % FLAGS.save_epoch_freq == 0 or step == trainer.total_steps:
                options.save_nets(nets, os.path.join(run_dir, f"{epoch}_net"),
                                  {**meta, "step": step})
                snapshot(step)
    else:
        epoch_end = None

        def snapshot(step):
            index = str(step // every).zfill(5)
            options.save_nets({"G": nets["G"], options.D_KEY[FLAGS.stage]:
                               nets[options.D_KEY[FLAGS.stage]]},
                              os.path.join(run_dir, f"net_{index}"), {**meta, "step": step})
            with atomic_path(os.path.join(run_dir, "latest.ckpt")) as tmp, open(tmp, "w") as f:
                f.write(f"{index}\n")

    steps = train.fit(trainer, data, run_dir, every, snapshot, epoch_end, log=logging.info)
    print(f"trained to step {steps} of {trainer.total_steps} in {run_dir}")


if __name__ == "__main__":
    options.run(main)
