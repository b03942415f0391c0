"""ADGAN training: the objective, one iteration, the learning-rate schedule, checkpoints.

Follows ``TransferModel`` of models/adgan.py in menyifang/ADGAN (``backward_G``,
``backward_D_basic``, ``optimize_parameters``), losses/L1_plus_perceptualLoss.py,
losses/CX_style_loss.py, ``get_scheduler`` of models/networks.py and the options of
scripts/train.sh (``--lambda_GAN 5 --lambda_A 1 --lambda_B 1 --L1_type l1_plus_perL1``,
``lambda_cx`` 0.1, LSGAN, ``pool_size 0``, Adam lr 1e-3 (its ``--lr`` default, which the
script keeps), betas (0.5, 0.999)).

One iteration (:meth:`ADGANTrainer.train_step`), images NHWC float32 in [-1, 1]:

1. ``fake = netG(BP2, P1, SP1)`` (target pose, source image, source parsing);
2. G step on :func:`generator_losses` (both D in training mode: dropout on);
3. D_PP step, then D_PB step, each on :func:`discriminator_loss` with the fake of step 1
   (computed before the G update, detached): ``0.5 * lambda_GAN * (MSE(D(real), 1) +
   MSE(D(fake), 0))``.

The three VGG19 of the original: the texture encoder's inside ``ADGen`` (torchvision
weights, :func:`tfposegen.models.adgan.weights.load_vgg19`), the perceptual loss's
(torchvision weights, ImageNet-normalised input, relu1_2) and the CX loss's (Gatys et al.'s
``vgg_conv.pth``, raw [-1, 1] input, relu3_2 / relu4_2; same architecture as torchvision's
VGG19, so a :class:`~tfposegen.losses.perceptual.VGG19Features` loaded by
:func:`load_vgg_conv`; without that file the torchvision weights stand in, which changes the
CX values).

Adam is Keras' (epsilon 1e-8): it adds epsilon to ``sqrt(v_hat) * sqrt(1 - beta2^t)``
where torch adds it to ``sqrt(v_hat)``; the steps differ only where ``sqrt(v_hat)`` is
near 1e-8.

Under a ``tf.distribute`` strategy the global batch is split among the replicas and the
update is the one of a single device with the whole batch, as the original's
``nn.DataParallel`` (which computes the losses on the gathered batch): every loss is a mean
over equal per-replica shares, and the CX loss centres the features by the mean of the
global batch (an all-reduce; :func:`cx_loss`). Only D's dropout masks differ.
"""

import math

import tensorflow as tf

from tfposegen.losses.gan import lsgan_d_loss, lsgan_g_loss
from tfposegen.losses.perceptual import (
    ADGAN_CX_LAYERS,
    ADGAN_PERCEPTUAL_LAYER,
    VGG19Features,
    contextual_loss,
    l1_plus_perceptual,
)
from tfposegen.train.common import (
    apply_gradients,
    model_variables,
    replicated_step,
    select_keys,
    split_batch,
    variables_by_index,
)
from tfposegen.train.optimizers import Adam

# scripts/train.sh in menyifang/ADGAN, with the option defaults it keeps (options/*.py).
LAMBDA_GAN = 5.0
LAMBDA_A = 1.0  # image L1
LAMBDA_B = 1.0  # perceptual L1 (relu1_2)
LAMBDA_CX = 0.1
CX_SIGMA = 0.5
LR = 1e-3
BETA1 = 0.5
EPOCH_SIZE = 4000  # KeyDataset.__len__: one "epoch" = 4000 random pairs
MODEL_KEYS = ("source_image", "source_pose", "source_parse", "target_image", "target_pose")
LOSS_NAMES = ("pair_L1loss", "D_PP", "D_PB", "pair_GANloss", "origin_L1", "perceptual",
              "CXLoss")


def lr_factor(epoch, niter, niter_decay):
    """Learning-rate factor of the 1-based ``epoch`` (``get_scheduler`` 'lambda' in
    models/networks.py in menyifang/ADGAN with ``epoch_count`` 1):
    ``1 - max(0, epoch + 1 - niter) / (niter_decay + 1)``. With niter = niter_decay = 500
    the factor is 1 for epochs 1..499 and exactly 0 in epoch 1000."""
    return 1.0 - max(0, int(epoch) + 1 - int(niter)) / float(int(niter_decay) + 1)


def iterations_per_epoch(batch_size, epoch_size=EPOCH_SIZE):
    """``ceil(epoch_size / batch_size)``: 667 at the scripts' batch 6 (the loader's last
    batch of an epoch is smaller there; here every batch is full)."""
    return math.ceil(int(epoch_size) / int(batch_size))


def epoch_of_step(step, batch_size, epoch_size=EPOCH_SIZE):
    """1-based epoch of the 0-based iteration ``step``."""
    return int(step) // iterations_per_epoch(batch_size, epoch_size) + 1


# ------------------------------------------------------------------ losses


def discriminator_loss(real_scores, fake_scores, lambda_gan=LAMBDA_GAN):
    """``backward_D_basic`` of models/adgan.py in menyifang/ADGAN:
    ``0.5 * (lambda_gan * MSE(real, 1) + lambda_gan * MSE(fake, 0))``.

    Args:
        real_scores, fake_scores: D outputs [B, h, w, C] (no sigmoid), any shape.

    Returns:
        float32 scalar >= 0.
    """
    return 0.5 * lambda_gan * lsgan_d_loss(real_scores, fake_scores)


def generator_gan_loss(pb_scores, pp_scores, lambda_gan=LAMBDA_GAN):
    """``pair_GANloss`` of ``backward_G``: ``(lambda_gan * MSE(D_PB(fake), 1) + lambda_gan *
    MSE(D_PP(fake), 1)) / 2`` (both discriminators on, as the scripts). float32 scalar."""
    return (lambda_gan * lsgan_g_loss(pb_scores) + lambda_gan * lsgan_g_loss(pp_scores)) / 2


def global_channel_mean(feats):
    """Mean channel vector [1, 1, 1, C] of ``feats`` [B, h, w, C] over batch, h and w; in a
    replica context with several replicas, of the global batch (the all-reduced mean of the
    replicas' equal shares). Constant: no gradient flows into it."""
    mean = tf.reduce_mean(feats, axis=(0, 1, 2), keepdims=True)
    ctx = tf.distribute.get_replica_context()
    if ctx is not None and ctx.num_replicas_in_sync > 1:
        mean = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, mean)
    return tf.stop_gradient(mean)


def cx_loss(real_feats, fake_feats, layers=ADGAN_CX_LAYERS, sigma=CX_SIGMA,
            lambda_cx=LAMBDA_CX):
    """``pair_cxloss``: ``lambda_cx * sum_l CX(target=real_l, inference=fake_l)`` over
    relu3_2 and relu4_2 (``backward_G`` with ``CXLoss(sigma=0.5)``), centred by the real
    features' :func:`global_channel_mean`. Features: dicts {tap: [B, h, w, C]} of images
    that carry no gradient on the real side. float32 scalar >= 0."""
    return lambda_cx * sum(
        contextual_loss(fake_feats[k], real_feats[k], sigma=sigma,
                        center=global_channel_mean(real_feats[k]))
        for k in layers)


def generator_losses(nets, vggs, batch, fake, weights=None, training=True):
    """Every term of ``backward_G`` (models/adgan.py in menyifang/ADGAN) for one batch.

    Args:
        nets: dict with ``netD_PB`` (21 input channels) and ``netD_PP`` (6).
        vggs: dict with ``perceptual`` (VGG19Features relu1_2, ImageNet-normalised input)
            and ``cx`` (VGG19Features relu3_2 + relu4_2, raw input).
        batch: dict with ``source_image`` (P1) / ``target_image`` (P2) [B, H, W, 3] in
            [-1, 1] and ``target_pose`` (BP2) [B, H, W, 18].
        fake: netG's output [B, H, W, 3] in [-1, 1].
        weights: overrides of ``lambda_A``, ``lambda_B``, ``lambda_GAN``, ``lambda_cx``.
        training: D dropout on (the original's D are in train mode here).

    Returns:
        dict of float32 scalars: ``total`` (what the G step minimises) = ``pair_L1loss`` +
        ``pair_GANloss`` + ``CXLoss``; ``pair_L1loss`` = ``origin_L1`` + ``perceptual``.
    """
    w = {"lambda_A": LAMBDA_A, "lambda_B": LAMBDA_B, "lambda_GAN": LAMBDA_GAN,
         "lambda_cx": LAMBDA_CX}
    w.update(weights or {})
    p1, p2, bp2 = batch["source_image"], batch["target_image"], batch["target_pose"]
    pb = nets["netD_PB"](tf.concat([fake, bp2], -1), training=training)
    pp = nets["netD_PP"](tf.concat([fake, p1], -1), training=training)
    gan = generator_gan_loss(pb, pp, w["lambda_GAN"])
    percep = vggs["perceptual"]
    l1, origin, perceptual = l1_plus_perceptual(
        fake, p2, percep(fake)[ADGAN_PERCEPTUAL_LAYER], percep(p2)[ADGAN_PERCEPTUAL_LAYER],
        w["lambda_A"], w["lambda_B"])
    cx = cx_loss(vggs["cx"](p2), vggs["cx"](fake), lambda_cx=w["lambda_cx"])
    return {"total": l1 + gan + cx, "pair_L1loss": l1, "origin_L1": origin,
            "perceptual": perceptual, "pair_GANloss": gan, "CXLoss": cx}


# ------------------------------------------------------------------ VGG of the CX loss


def make_loss_vggs():
    """The two loss VGG19 (frozen): ``perceptual`` (relu1_2, ``input_range='[-1,1]'``) and
    ``cx`` (relu3_2, relu4_2, raw input). Load their weights with
    ``tfposegen.losses.perceptual.load_torchvision_vgg19`` / :func:`load_vgg_conv`."""
    return {"perceptual": VGG19Features(ADGAN_PERCEPTUAL_LAYER, input_range="[-1,1]",
                                        name="perceptual_vgg"),
            "cx": VGG19Features(ADGAN_CX_LAYERS, input_range=None, name="cx_vgg")}


# ------------------------------------------------------------------ the trainer


def _adam(lr):
    return Adam(learning_rate=lr, beta_1=BETA1, beta_2=0.999, epsilon=1e-8)


class ADGANTrainer:
    """Networks, optimisers and the compiled iteration of one ADGAN run.

    Args:
        nets: dict ``netG`` (:class:`~tfposegen.models.adgan.networks.ADGen`), ``netD_PB``,
            ``netD_PP`` (:class:`~tfposegen.models.adgan.discriminators.ResnetDiscriminator`).
        vggs: :func:`make_loss_vggs` (weights loaded by the caller).
        batch_size: the batch (for the epoch length of the schedule).
        lr: initial learning rate of the three Adam optimisers (``--lr``).
        niter, niter_decay: epochs at ``lr`` and of linear decay (:func:`lr_factor`).
        epoch_size: pairs per epoch (4000).
        weights: overrides of the loss weights (see :func:`generator_losses`).
        jit_compile: compile the replicas' step with XLA (not with several CPU replicas).
        strategy: ``tf.distribute`` strategy whose scope built ``nets`` and ``vggs``
            (default: the current one); ``batch_size`` is global and must divide among its
            replicas.
    """

    def __init__(self, nets, vggs, batch_size, lr=LR, niter=500, niter_decay=500,
                 epoch_size=EPOCH_SIZE, weights=None, jit_compile=False, strategy=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        if int(batch_size) % self.replicas:
            raise ValueError(f"batch_size {batch_size} must divide among {self.replicas} "
                             "replicas")
        self.nets, self.vggs, self.batch_size = nets, vggs, int(batch_size)
        self.lr0, self.niter, self.niter_decay = float(lr), int(niter), int(niter_decay)
        self.epoch_size, self.weights = int(epoch_size), dict(weights or {})
        self.vars = {k: nets[k].trainable_weights for k in ("netG", "netD_PB", "netD_PP")}
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.opts = {k: _adam(self.lr0) for k in self.vars}
            for k, opt in self.opts.items():
                opt.build(self.vars[k])
        self._step_fn = replicated_step(self.strategy, self._iteration, jit_compile)

    @property
    def total_steps(self):
        """Iterations of the whole run: (niter + niter_decay) epochs."""
        return (self.niter + self.niter_decay) * iterations_per_epoch(self.batch_size,
                                                                      self.epoch_size)

    def learning_rate(self, step):
        """The learning rate of 0-based iteration ``step`` (constant within an epoch)."""
        epoch = epoch_of_step(step, self.batch_size, self.epoch_size)
        return self.lr0 * lr_factor(epoch, self.niter, self.niter_decay)

    def model_inputs(self, dataset):
        """The dataset reduced to the tensors a step reads (so its iterator checkpoints)."""
        return select_keys(dataset, MODEL_KEYS)

    def _d_step(self, key, real, fake):
        d = self.nets[key]
        with tf.GradientTape() as tape:
            loss = discriminator_loss(d(real, training=True), d(fake, training=True),
                                      self.weights.get("lambda_GAN", LAMBDA_GAN))
        apply_gradients(self.opts[key], tape, loss, self.vars[key])
        return loss

    def _iteration(self, batch):
        p1, p2 = batch["source_image"], batch["target_image"]
        bp2 = batch["target_pose"]
        with tf.GradientTape() as tape:
            fake = self.nets["netG"](bp2, p1, batch["source_parse"])
            out = generator_losses(self.nets, self.vggs, batch, fake, self.weights)
        apply_gradients(self.opts["netG"], tape, out.pop("total"), self.vars["netG"])
        fake = tf.stop_gradient(fake)  # the pre-step fake, as the original's D steps
        out["D_PP"] = self._d_step("netD_PP", tf.concat([p2, p1], -1),
                                   tf.concat([fake, p1], -1))
        out["D_PB"] = self._d_step("netD_PB", tf.concat([p2, bp2], -1),
                                   tf.concat([fake, bp2], -1))
        return out

    def train_step(self, batch):
        """One iteration on the global ``batch`` (dict of :data:`MODEL_KEYS` tensors, split
        here among the replicas); sets the epoch's learning rate first. Returns
        {name: float} of :data:`LOSS_NAMES` (means over the replicas) and ``lr``."""
        lr = self.learning_rate(int(self.step.numpy()))
        for opt in self.opts.values():
            opt.learning_rate.assign(lr)
        out = self._step_fn({k: split_batch(self.strategy, v) for k, v in batch.items()})
        self.step.assign_add(1)
        return {**{k: float(out[k]) for k in LOSS_NAMES}, "lr": lr}

    def checkpoint(self, **extra):
        """``tf.train.Checkpoint`` of the three networks, their optimisers and the step
        (the loss VGGs are fixed inputs, not saved)."""
        items = {k: model_variables(m) for k, m in self.nets.items()}
        items.update({f"opt_{k}": variables_by_index(o.variables)
                      for k, o in self.opts.items()})
        return tf.train.Checkpoint(step=self.step, **items, **extra)


# ------------------------------------------------------------------ visuals
