"""PAINT training, one trainer per stage (gxl-groups/PAINT trains its three stages apart).

- LGN: :class:`~tfposegen.models.paint.train_lgn.LGNTrainer` (``LGN/train.py``,
  ``BiCycleGANModel`` of LGN/models/bicycle_gan_model.py; re-exported here).
- TSN: :class:`TSNTrainer` (``Trainer._train_epoch`` of TSN/core/trainer.py).
- AFN: :class:`AFNTrainer` (``Trainer._train_epoch`` of AFN/core/trainer.py).

Shared here: :func:`init_weights` (the originals' ``init_weights``), :func:`build_stage`
(networks of a preset, initialised as the original), :func:`make_loss_vgg` and
:func:`fit` (:func:`tfposegen.train.common.run_training` with a trainer's schedule).

A run script does::

    strategy = make_strategy(flag)
    with strategy.scope():
        nets = build_stage("tsn", "released", seed)           # or "lgn", "afn"
        vgg = make_loss_vgg()                                  # TSN, AFN: then load
    load_torchvision_vgg19(vgg, path)                          # torchvision's vgg19 .pth
    trainer = TSNTrainer(nets, vgg, batch_size=6, strategy=strategy)   # original flags
    fit(trainer, iter(dataset), run_dir, snapshot_every=10000, snapshot=save_pth)

Batches are dicts of NHWC float32 tensors with the first dimension ``batch_size`` (the
keys in each trainer's ``model_keys``); ``train_step(batch)`` returns the loss terms as
floats; ``checkpoint()`` is a ``tf.train.Checkpoint`` of the networks, optimisers and step.

TSN and AFN (PEN-Net's trainer template). One iteration:

1. TSN: ``pred = G(swatch_t, swatch_b, mask_t, mask_b, mask_to, mask_bo, parsing)`` (the
   seven arguments its ``forward`` takes; the trainer passes five more and crashes, D8);
   AFN: ``pred_k, _ = G(image, parsing_pk, parsing)`` for the two target views and
   ``pose = cat(parsing_p1, image_p1, parsing_p2, image_p2)`` (fake: the predictions).
2. D step first: ``dis = (MSE(D(real)[-1], 1) + MSE(D(fake.detach())[-1], 0)) / 2`` where
   ``[-1]`` is the LAST SAMPLE of the batch (``GANLoss.__call__`` indexes a tensor's first
   axis; B5). TSN: the image D; AFN: the pose discriminator D2 on ``pose``.
3. G step with the UPDATED D:
   TSN ``adv + hole + vgg + style`` with ``adv = (0.1 + 1) MSE(D(pred)[-1], 1)`` (the code
   adds the weighted term to the unweighted one, B6), ``hole = 6 mean|pred - image|`` (the
   whole image), ``vgg = 0.5 sum_{relu1_1..relu5_1} mean|phi(pred) - phi(image)|``,
   ``style = 50 sum_{relu2_2, relu3_4, relu4_4, relu5_2} mean|Gram(phi(pred)) -
   Gram(phi(image))|`` (Gram / (C H W)); D then runs once more on the real image (result
   discarded: batch-norm statistics only).
   AFN ``0.1 MSE(D2(fake pose)[-1], 1) + sum_k [5 mean|pred_k - image_pk| + 0.5 vgg(pred_k,
   image_pk) + 250 style(pred_k, image_pk)]`` (no loss on the flows or the source view).

phi is torchvision's VGG19 fed the [-1, 1] images as they are (``core/loss.py``). Adam betas
(0.5, 0.999): G at 1e-4, D at 1e-4 x ``d2glr`` (TSN 4, AFN 1). ``adjust_learning_rate``
multiplies by ``0.1 ** (min(it, niter_steady) // niter)`` = 1 with the shipped config (B7);
were it to fire, TSN would set D's rate to G's (the x4 lost) and AFN would leave D2's alone
(it sets the unused netD). Initialisation: normal(0, 0.02) weights, zero biases, batch-norm
scales normal(1, 0.02). Training runs ``iterations + 1`` steps (the loop stops after the step
whose count exceeds 330 000).

Train vs eval: TSN's D is the only network with batch norm. It runs in training mode at all
four calls of an iteration (real and fake in the D step, fake and real in the G step): batch
statistics of each call's batch, moving statistics updated four times (momentum 0.1, unbiased
variance). The generators and AFN's D2 use instance norm only.

``tf.distribute``: the global batch is split among the replicas. Losses that are means are
means over equal shares; the last-sample GAN terms are taken on the last replica only
(scaled by the number of replicas, zero elsewhere); TSN's D takes its batch-norm statistics
over the GLOBAL batch (``tfposegen.layers.normalization.TorchBatchNorm``: cross-replica
sums in the forward pass and their gradient), so the
update, the moving statistics included, is that of one device. (Per-replica statistics, what
a data-parallel PyTorch run would use, would make it depend on the replica count.)

Flags for the defects (default: as the code runs): ``last_sample_gan`` (B5),
``adv_plus_one`` (B6).
"""

import numpy as np
import tensorflow as tf
from keras import ops

from tfposegen.losses.perceptual import (
    DPTN_CONTENT_LAYERS,
    DPTN_STYLE_LAYERS,
    VGG19Features,
    content_l1,
    style_loss,
)
from tfposegen.models.paint import presets
from tfposegen.models.paint.afn import AFNDiscriminator, AFNGenerator
from tfposegen.models.paint.lgn import LGNDiscriminator, LGNEncoder, LGNGenerator
from tfposegen.models.paint.train_lgn import LGNTrainer
from tfposegen.models.paint.tsn import TSNDiscriminator, TSNGenerator
from tfposegen.train.common import (
    apply_gradients,
    model_variables,
    replicated_step,
    split_batch,
    variables_by_index,
)
from tfposegen.train.optimizers import Adam

# core/loss.py PerceptualLoss and StyleLoss: the same taps as DPTN's VGGLoss
CONTENT_LAYERS, STYLE_LAYERS = DPTN_CONTENT_LAYERS, DPTN_STYLE_LAYERS
TSN_KEYS = ("parsing", "image", "mask_t", "mask_b", "swatch_t", "swatch_b", "mask_to",
            "mask_bo")
AFN_KEYS = ("parsing", "image", "image_p1", "parsing_p1", "image_p2", "parsing_p2")
TSN_LOSS_NAMES = ("dis", "adv", "hole", "vgg", "style", "G")
AFN_LOSS_NAMES = ("dis2", "adv", "hole", "hole2", "vgg", "vgg2", "style", "style2", "G")
# TSN/configs/celebahq.json, AFN/configs/celebahq.json ("losses", "trainer")
TSN_DEFAULTS = dict(batch_size=6, lr=1e-4, d2glr=4.0, beta1=0.5, beta2=0.999,
                    iterations=330000, niter=100000, niter_steady=10000, hole_weight=6.0,
                    pyramid_weight=0.5, adversarial_weight=0.1, style=50.0)
AFN_DEFAULTS = dict(TSN_DEFAULTS, batch_size=3, d2glr=1.0, hole_weight=5.0, style=250.0)


def init_weights(model, init_type="normal", gain=0.02, seed=0):
    """The originals' ``init_weights`` (LGN/models/networks.py, TSN/core/networks.py,
    ``BaseNetwork.init_weights`` of TSN/model/pennet.py and AFN/model/pennet.py in
    gxl-groups/PAINT) on a built Keras model: every conv / transposed conv / dense kernel
    ``normal(0, gain)`` (``init_type='normal'``) or xavier-normal (``'xavier'``: std ``gain
    sqrt(2 / (fan_in + fan_out))``, a plain normal as torch's, not Keras' truncated one),
    every bias 0, batch-norm ``gamma`` normal(1, gain) and ``beta`` 0; moving statistics
    untouched. Draws with ``numpy.random.default_rng(seed)`` in weight order."""
    if init_type not in ("normal", "xavier"):
        raise ValueError(f"init_weights: init_type must be 'normal' or 'xavier', got "
                         f"{init_type!r}")
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape, name = tuple(v.shape), v.name.split("/")[-1].split(":")[0]
        if name == "kernel":
            if init_type == "normal":
                std = gain
            else:
                field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
                std = gain * np.sqrt(2.0 / (field * (shape[-2] + shape[-1])))
            v.assign(rng.normal(0.0, std, shape).astype(np.float32))
        elif name in ("bias", "beta"):
            v.assign(np.zeros(shape, np.float32))
        elif name == "gamma":
            v.assign(rng.normal(1.0, gain, shape).astype(np.float32))


def build_stage(stage, preset="released", seed=0):
    """One stage's networks with fresh weights initialised as its trainer does (call under
    the strategy's scope).

    Args:
        stage: ``"lgn"`` (G, E, D, D2: xavier-normal gain 0.02, ``--init_type xavier``),
            ``"tsn"`` (G, D: normal 0.02) or ``"afn"`` (G, D2: normal 0.02).
        preset: ``"released"`` (the original sizes, 256 x 256) or ``"tiny"`` (the same
            topology narrow; :data:`tfposegen.models.paint.presets.TRAIN_TINY`).
        seed: numpy seed of the initialisation (network k uses ``seed + k``).

    Returns:
        dict of built Keras models, plus ``size`` (int, the image side they train at).
    """
    if preset not in ("released", "tiny"):
        raise ValueError(f"build_stage: preset must be 'released' or 'tiny', got {preset!r}")
    tiny = presets.TRAIN_TINY[stage] if preset == "tiny" else None
    if stage == "lgn":
        cfg = tiny or dict(size=presets.LGN_SIZE, G=presets.LGN_G, E=presets.LGN_E,
                           D=presets.LGN_D)
        nets = {"G": LGNGenerator(**cfg["G"]), "E": LGNEncoder(**cfg["E"]),
                "D": LGNDiscriminator(**cfg["D"]), "D2": LGNDiscriminator(**cfg["D"])}
        kind = "xavier"
    elif stage == "tsn":
        cfg = tiny or dict(size=presets.TSN_SIZE, G=presets.TSN_G, D=presets.TSN_D)
        nets = {"G": TSNGenerator(**cfg["G"]), "D": TSNDiscriminator(**cfg["D"])}
        kind = "normal"
    elif stage == "afn":
        cfg = tiny or dict(size=presets.AFN_SIZE, G=presets.AFN_G, D2=presets.AFN_D2)
        nets = {"G": AFNGenerator(**cfg["G"]), "D2": AFNDiscriminator(**cfg["D2"])}
        kind = "normal"
    else:
        raise ValueError(f"build_stage: stage must be 'lgn', 'tsn' or 'afn', got {stage!r}")
    for k, net in enumerate(nets.values()):
        init_weights(net, kind, 0.02, seed + k)
    return {**nets, "size": int(cfg["size"])}


def make_loss_vgg():
    """The VGG19 of ``core/loss.py`` (TSN and AFN): taps relu1_1..relu5_1 (PerceptualLoss)
    and relu2_2, relu3_4, relu4_4, relu5_2 (StyleLoss), the [-1, 1] images fed as they are,
    frozen. Load torchvision's ImageNet weights with
    :func:`tfposegen.losses.perceptual.load_torchvision_vgg19`."""
    taps = tuple(dict.fromkeys(CONTENT_LAYERS + STYLE_LAYERS))
    return VGG19Features(taps, input_range=None, name="paint_vgg")


def _replica_info():
    ctx = tf.distribute.get_replica_context()
    replicas = ctx.num_replicas_in_sync if ctx is not None else 1
    rid = ctx.replica_id_in_sync_group if ctx is not None else 0
    return replicas, rid


def last_sample_lsgan(scores, target, last_only=True):
    """``GANLoss(use_lsgan=True)(scores, target)`` of TSN/AFN core/networks.py:
    ``MSE(scores[-1], target)``, the last sample of the batch only (``last_only``, B5), or
    the mean over the whole batch (fixed). Under ``tf.distribute`` (replica context) the last
    sample of the global batch is on the last replica: there the term is multiplied by the
    number of replicas, elsewhere it is 0, so the summed update is that of one device (the
    mean of the values over the replicas is the one-device value)."""
    scores = ops.cast(scores, "float32")
    if not last_only:
        return ops.mean(ops.square(scores - target))
    replicas, rid = _replica_info()
    term = ops.mean(ops.square(scores[-1] - target))
    if replicas == 1:
        return term
    return term * tf.cast(tf.equal(rid, replicas - 1), tf.float32) * float(replicas)


class _PenNetTrainer:
    """What TSN's and AFN's trainers share (PEN-Net's ``core/trainer.py`` template)."""

    model_keys, loss_names, defaults, d_key = (), (), {}, "D"
    decay_moves_d = True

    def __init__(self, nets, vgg, options, last_sample_gan, adv_plus_one, jit_compile,
                 strategy):
        o = dict(self.defaults)
        unknown = set(options) - set(o)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown options {sorted(unknown)}")
        o.update({k: v for k, v in options.items() if v is not None})
        self.options = o
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self.batch_size = int(o["batch_size"])
        if self.batch_size % self.replicas:
            raise ValueError(f"batch_size {self.batch_size} must divide among "
                             f"{self.replicas} replicas")
        self.nets, self.vgg = nets, vgg
        self.last_sample_gan, self.adv_plus_one = bool(last_sample_gan), bool(adv_plus_one)
        self.vars = {k: nets[k].trainable_weights for k in ("G", self.d_key)}
        lr_g, lr_d = self.learning_rates(0)
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.opts = {k: Adam(learning_rate=lr, beta_1=o["beta1"],
                                 beta_2=o["beta2"], epsilon=1e-8)
                         for k, lr in (("G", lr_g), (self.d_key, lr_d))}
            for k, opt in self.opts.items():
                opt.build(self.vars[k])
        self._step_fn = replicated_step(self.strategy, self._iteration, jit_compile)

    @property
    def total_steps(self):
        """``iterations + 1``: the loop breaks after the step whose count exceeds
        ``iterations``."""
        return int(self.options["iterations"]) + 1

    def learning_rates(self, step):
        """(G, D) learning rates at the 0-based iteration ``step`` (``adjust_learning_rate``
        runs with the 1-based count): ``lr`` and ``lr * d2glr`` while ``0.1 ** (min(it,
        niter_steady) // niter)`` is 1; then ``lr * decay`` for G and, TSN only, for D."""
        o = self.options
        decay = 0.1 ** (min(int(step) + 1, int(o["niter_steady"])) // int(o["niter"]))
        lr, lr_d = o["lr"], o["lr"] * o["d2glr"]
        if decay != 1.0:
            lr = o["lr"] * decay
            lr_d = lr if self.decay_moves_d else lr_d
        return lr, lr_d

    def gan(self, scores, target):
        """The stage's GAN term: :func:`last_sample_lsgan` with ``last_sample_gan``."""
        return last_sample_lsgan(scores, target, self.last_sample_gan)

    def image_terms(self, fake, real, suffix=""):
        """``hole``, ``vgg``, ``style`` of one prediction (weighted): float32 scalars (the
        VGG terms 0 when the trainer has no ``vgg``)."""
        o = self.options
        out = {f"hole{suffix}": o["hole_weight"] * ops.mean(ops.abs(fake - real)),
               f"vgg{suffix}": tf.constant(0.0), f"style{suffix}": tf.constant(0.0)}
        if self.vgg is not None:
            ff, fr = self.vgg(fake), self.vgg(real)
            out[f"vgg{suffix}"] = o["pyramid_weight"] * content_l1(ff, fr, CONTENT_LAYERS)
            out[f"style{suffix}"] = o["style"] * style_loss(ff, fr, STYLE_LAYERS)
        return out

    def train_step(self, batch):
        """One iteration on the global ``batch`` (dict of ``model_keys`` tensors, first
        dimension ``batch_size``). Returns {name: float} of ``loss_names`` (the values of
        one device), ``lr_G`` and ``lr_D``."""
        lr_g, lr_d = self.learning_rates(int(self.step.numpy()))
        self.opts["G"].learning_rate.assign(lr_g)
        self.opts[self.d_key].learning_rate.assign(lr_d)
        out = self._step_fn({k: split_batch(self.strategy, tf.convert_to_tensor(batch[k]))
                             for k in self.model_keys})
        self.step.assign_add(1)
        return {**{k: float(out[k]) for k in self.loss_names}, "lr_G": lr_g, "lr_D": lr_d}

    def checkpoint(self, **extra):
        """``tf.train.Checkpoint`` of the networks (TSN's D with its moving statistics), both
        optimisers and the step (the original's ``opt_<NNNNN>.pth`` holds the same)."""
        items = {k: model_variables(self.nets[k]) for k in ("G", self.d_key)}
        items.update({f"opt_{k}": variables_by_index(o.variables) for k, o in self.opts.items()})
        return tf.train.Checkpoint(step=self.step, **items, **extra)


class TSNTrainer(_PenNetTrainer):
    """TSN's training iteration (``Trainer._train_epoch`` of TSN/core/trainer.py in
    gxl-groups/PAINT; module docstring).

    Batch (NHWC float32): ``parsing`` [B, H, W, 20] one-hot; ``image`` [B, H, W, 3] in
    [-1, 1]; ``mask_t``, ``mask_b`` [B, H, W, 1] garment regions (0/1); ``swatch_t``,
    ``swatch_b`` [B, H, W, 3] (image x region x swatch square); ``mask_to``, ``mask_bo`` [B,
    H, W, 1] the swatch squares. H = W multiple of 64.

    Args:
        nets: dict ``G`` (:class:`~tfposegen.models.paint.tsn.TSNGenerator`), ``D``
            (:class:`~tfposegen.models.paint.tsn.TSNDiscriminator`), built.
        vgg: :func:`make_loss_vgg` with torchvision's weights, or None: no ``vgg`` and
            ``style`` terms (a run without the ImageNet file; not the original objective).
        batch_size, lr, d2glr, beta1, beta2, iterations, niter, niter_steady, hole_weight,
            pyramid_weight, adversarial_weight, style: the config's values
            (:data:`TSN_DEFAULTS`; None keeps the default).
        last_sample_gan: GAN terms on the batch's last sample (B5; True) or on all.
        adv_plus_one: ``adv = (adversarial_weight + 1) MSE`` as the code (B6; True) or
            ``adversarial_weight MSE``.
        jit_compile, strategy: as the other trainers.
    """

    model_keys, loss_names, defaults, d_key = TSN_KEYS, TSN_LOSS_NAMES, TSN_DEFAULTS, "D"
    show = ("hole", "adv", "dis")

    def __init__(self, nets, vgg, batch_size=None, lr=None, d2glr=None, beta1=None,
                 beta2=None, iterations=None, niter=None, niter_steady=None, hole_weight=None,
                 pyramid_weight=None, adversarial_weight=None, style=None,
                 last_sample_gan=True, adv_plus_one=True, jit_compile=False, strategy=None):
        options = dict(batch_size=batch_size, lr=lr, d2glr=d2glr, beta1=beta1, beta2=beta2,
                       iterations=iterations, niter=niter, niter_steady=niter_steady,
                       hole_weight=hole_weight, pyramid_weight=pyramid_weight,
                       adversarial_weight=adversarial_weight, style=style)
        super().__init__(nets, vgg, options, last_sample_gan, adv_plus_one, jit_compile,
                         strategy)

    def generate(self, batch):
        """``G(imgt_masked, imgb_masked, mask_t, mask_b, mask_to, mask_bo, parsing)``."""
        return self.nets["G"](*(batch[k] for k in ("swatch_t", "swatch_b", "mask_t", "mask_b",
                                                   "mask_to", "mask_bo", "parsing")))

    def _iteration(self, batch):
        D, real = self.nets["D"], batch["image"]
        o = self.options
        with tf.GradientTape() as g_tape:
            pred = self.generate(batch)
            with tf.GradientTape() as d_tape:
                dis = 0.5 * (self.gan(D(real, training=True), 1.0)
                             + self.gan(D(tf.stop_gradient(pred), training=True), 0.0))
            apply_gradients(self.opts["D"], d_tape, dis, self.vars["D"])
            gen_fake = self.gan(D(pred, training=True), 1.0)
            D(real, training=True)  # gen_real_feat: unused, moves the BN statistics
            weight = o["adversarial_weight"] + (1.0 if self.adv_plus_one else 0.0)
            out = {"dis": dis, "adv": weight * gen_fake, **self.image_terms(pred, real)}
            out["G"] = out["adv"] + out["hole"] + out["vgg"] + out["style"]
        apply_gradients(self.opts["G"], g_tape, out["G"], self.vars["G"])
        return out


class AFNTrainer(_PenNetTrainer):
    """AFN's training iteration (``Trainer._train_epoch`` of AFN/core/trainer.py in
    gxl-groups/PAINT; module docstring).

    Batch (NHWC float32): ``parsing`` [B, H, W, 9] one-hot of the source view, ``image`` [B,
    H, W, 3] in [-1, 1] the source view, ``image_p1`` / ``parsing_p1`` and ``image_p2`` /
    ``parsing_p2`` the two target views. H = W multiple of 16, at least 48.

    Args:
        nets: dict ``G`` (:class:`~tfposegen.models.paint.afn.AFNGenerator`), ``D2``
            (:class:`~tfposegen.models.paint.afn.AFNDiscriminator`, 24 inputs), built (the
            original's image discriminator netD is built and never used: not here).
        vgg: :func:`make_loss_vgg` with torchvision's weights, or None (as TSN).
        batch_size, ..., style: the config's values (:data:`AFN_DEFAULTS`).
        last_sample_gan: as :class:`TSNTrainer` (B5).
        jit_compile, strategy: as the other trainers.
    """

    model_keys, loss_names, defaults, d_key = AFN_KEYS, AFN_LOSS_NAMES, AFN_DEFAULTS, "D2"
    show = ("hole", "adv", "dis2")
    decay_moves_d = False

    def __init__(self, nets, vgg, batch_size=None, lr=None, d2glr=None, beta1=None,
                 beta2=None, iterations=None, niter=None, niter_steady=None, hole_weight=None,
                 pyramid_weight=None, adversarial_weight=None, style=None,
                 last_sample_gan=True, jit_compile=False, strategy=None):
        options = dict(batch_size=batch_size, lr=lr, d2glr=d2glr, beta1=beta1, beta2=beta2,
                       iterations=iterations, niter=niter, niter_steady=niter_steady,
                       hole_weight=hole_weight, pyramid_weight=pyramid_weight,
                       adversarial_weight=adversarial_weight, style=style)
        super().__init__(nets, vgg, options, last_sample_gan, False, jit_compile, strategy)

    def generate(self, batch):
        """``(pred1, pred2)``: ``G(img2, parsingp1, parsing)``, ``G(img2, parsingp2,
        parsing)`` (images only)."""
        G = self.nets["G"]
        return tuple(G(batch["image"], batch[f"parsing_p{k}"], batch["parsing"])[0]
                     for k in (1, 2))

    def _iteration(self, batch):
        D2, o = self.nets["D2"], self.options
        with tf.GradientTape() as g_tape:
            pred1, pred2 = self.generate(batch)
            p1, p2 = batch["parsing_p1"], batch["parsing_p2"]
            real_pose = ops.concatenate([p1, batch["image_p1"], p2, batch["image_p2"]], -1)
            fake_pose = ops.concatenate([p1, pred1, p2, pred2], -1)
            with tf.GradientTape() as d_tape:
                dis2 = 0.5 * (self.gan(D2(real_pose), 1.0)
                              + self.gan(D2(tf.stop_gradient(fake_pose)), 0.0))
            apply_gradients(self.opts["D2"], d_tape, dis2, self.vars["D2"])
            out = {"dis2": dis2,
                   "adv": o["adversarial_weight"] * self.gan(D2(fake_pose), 1.0),
                   **self.image_terms(pred1, batch["image_p1"]),
                   **self.image_terms(pred2, batch["image_p2"], "2")}
            out["G"] = tf.add_n([out[k] for k in AFN_LOSS_NAMES[1:-1]])
        apply_gradients(self.opts["G"], g_tape, out["G"], self.vars["G"])
        return out


def fit(trainer, data, run_dir, snapshot_every=10000, snapshot=None, epoch_end=None,
        iterations_per_epoch=None, logs=True, log=print):
    """Run ``trainer`` to its ``total_steps`` with
    :func:`tfposegen.train.common.run_training`: resumes from ``<run_dir>/checkpoints``,
    saves there every ``snapshot_every`` steps and at the end, TensorBoard scalars in
    ``<run_dir>/logs``, progress with ETA.

    Args:
        trainer: :class:`LGNTrainer`, :class:`TSNTrainer` or :class:`AFNTrainer`.
        data: iterator of global batches (a plain ``iter(dataset)``, checkpointed).
        snapshot_every: steps between checkpoints (TSN/AFN ``save_freq`` 10 000; LGN
            ``save_latest_freq`` 10 000 samples = 5 000 steps of 2).
        snapshot: ``snapshot(step)`` after each checkpoint, e.g. writing the original's
            ``.pth`` files (:mod:`tfposegen.models.paint.weights`).
        epoch_end: ``epoch_end(epoch, step)`` after each epoch of ``iterations_per_epoch``
            steps (default: the trainer's, LGN only), e.g. LGN's ``<epoch>_net_*.pth``.

    Returns:
        the number of steps done.
    """
    from tfposegen.train.common import run_training

    b = trainer.batch_size
    per_epoch = iterations_per_epoch or getattr(trainer, "iterations_per_epoch", None)
    show = getattr(trainer, "show", tuple(trainer.loss_names[:3]))
    return run_training(trainer, data, run_dir, b, (trainer.total_steps - 0.5) * b / 1000,
                        snapshot_every * b / 1000,
                        (lambda step, kimg, writer: snapshot(step)) if snapshot else
                        (lambda *a: None), show=show, logs=logs,
                        name=f"paint {type(trainer).__name__}", log=log,
                        epoch=(per_epoch, epoch_end) if (epoch_end and per_epoch) else None)


__all__ = ["AFNTrainer", "AFN_DEFAULTS", "AFN_KEYS", "AFN_LOSS_NAMES", "LGNTrainer",
           "TSNTrainer", "TSN_DEFAULTS", "TSN_KEYS", "TSN_LOSS_NAMES", "build_stage", "fit",
           "init_weights", "last_sample_lsgan", "make_loss_vgg"]
