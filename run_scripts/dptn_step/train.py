"""Train DPTN_step (``train.py`` of gkalstn000/DPTN_step) on pose pairs: the S-step generator
and its step-classifying discriminator (:class:`tfposegen.models.dptn.step_train.StepTrainer`).

    python run_scripts/dptn_step/train.py --id step_dptn --netG dptn --batchSize 20 \\
        --dataroot ./datasets/fashion
    python run_scripts/dptn_step/train.py --id step_dptn --netG dptn --batchSize 80 \\
        --dataroot ./datasets/fashion --strategy mirrored        # every local GPU
    python run_scripts/dptn_step/train.py --synthetic --dataroot /tmp/step_synth --id synth \\
        --ngf 4 --img_f 16 --num_blocks 1 --num_CABs 1 --num_TTBs 1 --step_size 2 \\
        --dis_layers 3 --face_crop off --niter 2 --niter_decay 0 --batchSize 2   # offline

The original's README starts it with ``python -m torch.distributed.launch --nproc_per_node=4
train.py ...``: its ``init_distributed`` needs the RANK / WORLD_SIZE variables of that
launcher, so a plain ``python train.py`` fails there. Here one process runs every device:
``--strategy mirrored`` (the GPUs of this machine) or ``multiworker`` (the cluster of
``TF_CONFIG``, the same command on every machine); ``--batchSize`` is the global batch (the
original's is per process: 4 processes x 20 = 80); ``--gpu_ids``, ``--local_rank`` and
``--num_workers`` are accepted and unused.

Defaults are the original's (options/train_options.py: lr 2e-4 with TTUR, G at lr / 2 and D
at 2 lr, Adam betas (0, 0.9), (0.5, 0.999) with ``--no_TTUR``; niter 150 + niter_decay 50
epochs of ``len(pairs) // batchSize`` iterations, the rate falling after each epoch past
niter as trainers/trainer.py; lambda_rec 2.5, lambda_style 250, lambda_content 0.25,
lambda_g 2, lambda_step 2, t_s_ratio 0.5). ``--face_crop`` picks the face term: ``swapped``
(the code's crop, rows and columns exchanged), ``fixed`` (around the eyes) or ``off``; it
needs images of at least 64 pixels. The noise that starts the chain is seeded by the
iteration index (``step_batch``; the original draws ``torch.randn``), so a run is repeatable.

torchvision's VGG19 weights (both the VGG loss and the face loss use them) are read from
``--vgg19``, else ``<dirname(dataroot)>/vgg19-dcbb9e9d.pth``, else torch's hub cache
(``$TORCH_HOME/hub/checkpoints``, ``~/.cache/torch/hub/checkpoints``) where the original's
``vgg19(pretrained=True)`` downloads them; with ``--synthetic`` seeded random weights stand
in when none is found.

Writes into ``<checkpoints_dir>/<id>/``: ``checkpoints/`` (networks, optimisers, step and data
position: the same command again resumes; ``--continue_train`` is accepted, and without
``checkpoints/`` it starts from the weights of ``<which_epoch>_net/`` or the original's
``<which_epoch>_net.pth``, optimiser states not restored), ``logs/`` (TensorBoard: every loss,
the learning rates, and a strip of one pair's step targets over its step outputs at each
save), ``latest_net/`` (every ``--save_latest_freq`` images, at each saved epoch and at the
end) and ``<epoch>_net/`` (every ``--save_epoch_freq`` epochs and the last;
``tfposegen.models.dptn.weights.save_networks`` folders, read by
run_scripts/dptn_step/test.py), and ``opt.txt``. The original also renders a validation
batch of the test split each epoch: not done here (the test split is not needed).
"""

import json
import os

import options
from absl import flags, logging

from tfposegen.utils import cli

FLAGS = flags.FLAGS
options.define_base_flags("train")
flags.DEFINE_integer("save_latest_freq", 500, "Images between checkpoints / latest_net.",
                     lower_bound=1)
flags.DEFINE_integer("save_epoch_freq", 5, "Epochs between <epoch>_net folders.",
                     lower_bound=1)
flags.DEFINE_boolean("debug", False, "Save latest_net and a checkpoint every iteration and "
                     "an <epoch>_net folder every epoch (the original: also print / display "
                     "every iteration).")
flags.DEFINE_boolean("continue_train", False, "Resume; without checkpoints/, start from the "
                     "weights of --which_epoch.")
flags.DEFINE_integer("niter", 150, "Epochs at the initial learning rate.", lower_bound=0)
flags.DEFINE_integer("niter_decay", 50, "Epochs of linear decay.", lower_bound=0)
flags.DEFINE_enum("optimizer", "adam", ["adam"], "Only adam.")
flags.DEFINE_float("beta1", None, "Adam beta1 (default 0, 0.5 with --no_TTUR).")
flags.DEFINE_float("beta2", None, "Adam beta2 (default 0.9, 0.999 with --no_TTUR).")
flags.DEFINE_float("lr", 2e-4, "Base learning rate.", lower_bound=0)
flags.DEFINE_boolean("no_TTUR", False, "G and D at lr (TTUR: G at lr / 2, D at 2 lr).")
flags.DEFINE_integer("D_steps_per_G", 1, "Only 1 (a G step, then a D step).", lower_bound=1,
                     upper_bound=1)
flags.DEFINE_enum("gan_mode", "lsgan", ["lsgan"], "Only lsgan (the default).")
flags.DEFINE_enum("netD", "res", ["res"], "Only res.")
flags.DEFINE_float("lambda_rec", 2.5, "Weight of the L1 terms.")
flags.DEFINE_float("lambda_style", 250.0, "Weight of the VGG19 Gram style terms.")
flags.DEFINE_float("lambda_content", 0.25, "Weight of the VGG19 content terms.")
flags.DEFINE_float("lambda_step", 2.0, "Weight of the step-classification terms.")
flags.DEFINE_float("lambda_g", 2.0, "Weight of the LSGAN term.")
flags.DEFINE_float("t_s_ratio", 0.5, "Weight of the target branch (1 - it: the source's).")
flags.DEFINE_enum("face_crop", "swapped", ["swapped", "fixed", "off"], "Face loss crop: the "
                  "code's (swapped rows / columns), around the eyes, or no face term.")
flags.DEFINE_string("vgg19", None, "torchvision vgg19-dcbb9e9d.pth (default: beside the "
                    "dataroot, then torch's hub cache).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multiworker"],
                  "tf.distribute strategy (multiworker: the cluster of TF_CONFIG, every "
                  "worker running this command).")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "Numeric precision: float32 (default, faithful) or mixed_bfloat16 "
                  "(bfloat16 compute, float32 variables, optimiser and losses; no loss "
                  "scaling needed). Fast only where the hardware has bfloat16 math.")
options.define_ignored({"display_freq": 3000, "print_freq": 500, "no_html": False,
                        "tf_log": False, "ndf": 64, "use_spect_d": False,
                        "lambda_feat": 10.0, "lambda_vgg": 10.0})

VGG_FILE = "vgg19-dcbb9e9d.pth"


def vgg_candidates():
    """Where torchvision's VGG19 weights are looked for, in order."""
    if FLAGS.vgg19:
        return [FLAGS.vgg19]
    torch_home = os.environ.get("TORCH_HOME", os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"))
    return [os.path.join(os.path.dirname(os.path.abspath(FLAGS.dataroot)), VGG_FILE),
            os.path.join(torch_home, "hub", "checkpoints", VGG_FILE)]


def load_vggs(step_train, make_loss_vgg):
    """(VGG-loss network, face-loss network or None): one torchvision VGG19 state in both."""
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError, state_dict
    from tfposegen.losses.perceptual import assign_torchvision_vgg19, seeded_vgg19_state

    nets = [make_loss_vgg()]
    if FLAGS.face_crop != "off":
        nets.append(step_train.make_face_vgg())
    found = [p for p in vgg_candidates() if os.path.isfile(p)]
    if found:
        try:
            state, where = state_dict(found[0]), found[0]
        except TorchCheckpointError as e:
            raise options.InputError(str(e)) from None
    elif FLAGS.synthetic:
        logging.warning("--synthetic: seeded random VGG19 weights (none of %s)",
                        vgg_candidates())
        state, where = seeded_vgg19_state(FLAGS.seed), "<seeded>"
    else:
        raise options.InputError(f"{' nor '.join(vgg_candidates())}: torchvision's VGG19 "
                                 "weights are needed (the original's VGGLoss and face loss)")
    for net in nets:
        assign_torchvision_vgg19(net, state, path=where)
    return nets[0], (nets[1] if len(nets) > 1 else None)


def starting_weights(exp_dir):
    """With --continue_train and no checkpoints/: the folder or .pth to start from (checked
    before any TensorFlow work); None otherwise."""
    if not FLAGS.continue_train or os.path.isfile(os.path.join(exp_dir, "checkpoints",
                                                               "checkpoint")):
        return None
    folder = os.path.join(exp_dir, f"{FLAGS.which_epoch}_net")
    pth = options.pth_path(exp_dir, FLAGS.which_epoch)
    for path in (folder, pth):
        if os.path.exists(path):
            return path
    raise options.InputError(f"--continue_train: nothing to continue from: no "
                             f"{os.path.join(exp_dir, 'checkpoints')}/, {folder}/ or {pth}")


def load_start(nets, path):
    """Assign the G and D weights of a networks folder or an original .pth to ``nets``."""
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError
    from tfposegen.models.dptn import weights
    from tfposegen.utils.saving import NetworksFileError

    try:
        if os.path.isdir(path):
            loaded, _ = weights.load_networks(path)
            same = lambda a, b: json.dumps(a.config, sort_keys=True) == json.dumps(  # noqa: E731
                b.config, sort_keys=True)
            for key in ("G", "D"):
                if key not in loaded or not same(loaded[key], nets[key]):
                    raise options.InputError(f"{path}: its {key} is not the network of the "
                                             "flags (sizes, step_size, layers)")
                nets[key].set_weights(loaded[key].get_weights())
        else:
            weights.load_step_checkpoint(path, G=nets["G"], D=nets["D"])
    except (NetworksFileError, TorchCheckpointError) as e:
        raise options.InputError(str(e)) from None
    logging.info("started from the weights of %s (optimiser states not restored)", path)


class ScriptTrainer:
    """A :class:`~tfposegen.models.dptn.step_train.StepTrainer` fed pose-pair batches (dicts
    with ``source_image`` / ``target_image`` float [B, H, W, 3] in [-1, 1] and
    ``source_keypoints`` / ``target_keypoints`` float [B, 18, 2] in the network frame):
    ``step_batch`` with the 0-based iteration index as noise seed, then one G and D step.
    Has what ``tfposegen.train.common.run_training`` needs (``train_step``, ``step``,
    ``checkpoint``, ``strategy``)."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.step, self.strategy = trainer.step, trainer.strategy

    def checkpoint(self, **extra):
        return self.trainer.checkpoint(**extra)

    def train_step(self, raw):
        from tfposegen.models.dptn.step_train import step_batch

        return self.trainer.train_step(step_batch(raw, int(self.step.numpy())))


def step_strip(G, batch):
    """uint8 [2 H, S W, 3]: the first pair's step targets (top) over its step outputs."""
    import numpy as np

    from tfposegen.models.dptn.step_networks import generate_steps
    from tfposegen.models.dptn.step_train import step_batch, step_ground_truths
    from tfposegen.utils.files import to_uint8

    b = step_batch({k: v[:1] for k, v in batch.items()}, 0)
    fakes, _ = generate_steps(G, b["source_image"], b["source_pose"], b["target_pose"],
                              b["noise_g"])
    gts = step_ground_truths(b["target_image"], len(fakes))
    rows = [np.concatenate([np.asarray(x[0]) for x in xs], axis=1) for xs in (gts, fakes)]
    return to_uint8(np.concatenate(rows, axis=0))


def main(argv):
    del argv
    exp_dir = os.path.join(FLAGS.checkpoints_dir, FLAGS.id)
    start = starting_weights(exp_dir)
    options.check_dataroot()
    if FLAGS.face_crop != "off" and min(options.network_size()) < 64:
        raise options.InputError(f"--face_crop {FLAGS.face_crop}: the face term needs images "
                                 f"of at least 64 pixels (here {options.network_size()}); "
                                 "use --face_crop off")
    import tensorflow as tf

    from tfposegen.models.dptn import step_train, weights
    from tfposegen.models.dptn.train import make_loss_vgg
    from tfposegen.train.common import is_chief, make_strategy, run_training, select_keys
    from tfposegen.utils.files import atomic_path

    cli.start_run_eagerly(FLAGS.run_eagerly, FLAGS.strategy)
    strategy = make_strategy(FLAGS.strategy)  # before any other TF work (multiworker)
    from tfposegen.train.precision import set_precision

    set_precision(FLAGS.precision)  # before the networks are built
    chief = is_chief(strategy)
    folder, pairs = options.records()
    import keras

    from tfposegen.data.pose_pairs import pose_pair_dataset

    with strategy.scope():
        keras.utils.set_random_seed(FLAGS.seed)
        nets = {"G": options.build_generator(), "D": options.build_discriminator()}
        vgg, face_vgg = load_vggs(step_train, make_loss_vgg)
    if start:
        load_start(nets, start)
    if chief:
        os.makedirs(exp_dir, exist_ok=True)
        with atomic_path(os.path.join(exp_dir, "opt.txt")) as tmp, open(tmp, "w") as f:
            f.write(FLAGS.flags_into_string())  # the original's opt.txt: the run's options
    per_epoch = max(1, pairs // FLAGS.batchSize)
    lambdas = {k: getattr(FLAGS, k) for k in step_train.DEFAULT_WEIGHTS}
    try:
        trainer = step_train.StepTrainer(
            nets, vgg, face_vgg, batch_size=FLAGS.batchSize, iterations_per_epoch=per_epoch,
            lr=FLAGS.lr, niter=FLAGS.niter, niter_decay=FLAGS.niter_decay,
            ttur=not FLAGS.no_TTUR, weights=lambdas, face=FLAGS.face_crop, strategy=strategy)
    except ValueError as e:  # a batch that does not divide among the replicas
        raise options.InputError(f"--batchSize: {e}") from None
    for opt in trainer.opts.values():  # explicit betas (the defaults follow --no_TTUR)
        if FLAGS.beta1 is not None:
            opt.beta_1 = FLAGS.beta1
        if FLAGS.beta2 is not None:
            opt.beta_2 = FLAGS.beta2
    keys = ("source_image", "target_image", "source_keypoints", "target_keypoints")

    def pairs():
        return select_keys(pose_pair_dataset(
            folder, options.network_size(), batch_size=FLAGS.batchSize, shuffle=True,
            seed=FLAGS.seed, repeat=True, drop_remainder=True), keys)

    # the seeded first batch, the pair of every visual, from a pipeline of its own: a second
    # iterator of the training pipeline would share its reshuffling seed generator, and the
    # training order would depend on how far the other iterator had prefetched (workers of
    # one cluster then saw their global batch in different orders)
    dataset, fixed = pairs(), next(iter(pairs()))
    epoch_freq = 1 if FLAGS.debug else FLAGS.save_epoch_freq
    every = 1 if FLAGS.debug else max(1, FLAGS.save_latest_freq // FLAGS.batchSize)

    def on_epoch(epoch, step):
        if epoch % epoch_freq == 0 or step == trainer.total_steps:
            for label in ("latest", epoch):
                weights.save_networks(nets, os.path.join(exp_dir, f"{label}_net"),
                                      {"step": step, "epoch": epoch})

    def snapshot(step, kimg, writer):
        del kimg
        weights.save_networks(nets, os.path.join(exp_dir, "latest_net"), {"step": step})
        with writer.as_default(step=step):
            tf.summary.image("steps", step_strip(nets["G"], fixed)[None])

    # total_kimg a half-step short of the end: run_training rounds it up to whole steps.
    kimg = (trainer.total_steps - 0.5) * FLAGS.batchSize / 1000
    steps = run_training(ScriptTrainer(trainer), iter(dataset), exp_dir,
                         FLAGS.batchSize, kimg, every * FLAGS.batchSize / 1000, snapshot,
                         show=("L1_target", "GAN_target", "Step_loss", "Real_loss"),
                         name=f"dptn_step {FLAGS.id}", log=logging.info,
                         epoch=(per_epoch, on_epoch))
    print(f"trained to step {steps} of {trainer.total_steps} in {exp_dir}")


if __name__ == "__main__":
    options.run(main)
