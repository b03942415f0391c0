"""DPTN training: the objective, one iteration, the learning-rate schedule, checkpoints.

Follows ``DPTNModel`` of models/DPTN_model.py in
PangzeCheung/Dual-task-Pose-Transformer-Network (``forward``, ``backward_D``,
``backward_G_basic``, ``backward_G``, ``optimize_parameters``), ``VGGLoss`` of
models/external_function.py and the option defaults the model class sets (``lambda_rec`` 5,
``lambda_g`` 2, ``lambda_style`` 500, ``lambda_content`` 0.5, ``t_s_ratio`` 0.5,
``ratio_g2d`` 0.1; the README's Market run uses 2, 5 and 0.8 for the first, second and
last).

One iteration (:meth:`DPTNTrainer.train_step`), images NHWC float32 in [-1, 1]:

1. ``fake_t, fake_s = G(source, source_pose, target_pose)`` (both branches);
2. D step: ``0.5 * (MSE(D(target), 1) + MSE(D(fake_t), 0))`` on the detached ``fake_t``;
3. G step, with the UPDATED D (the original steps D before computing G's loss):
   ``r * (app_t + style_t + content_t) + (1 - r) * (app_s + style_s + content_s) + ad_t``
   where ``app = lambda_rec * L1``, ``content = lambda_content * sum L1(VGG)``
   (relu1_1 .. relu5_1), ``style = lambda_style * sum L1(Gram)`` (relu2_2, relu3_4, relu4_4,
   relu5_2; Gram / (C H W)), the target branch against the target image and the source
   branch against the source image, ``ad_t = lambda_g * MSE(D(fake_t), 1)``.

The VGG19 is torchvision's, fed the images as they are (no ImageNet normalisation), frozen.
Adam betas (0.5, 0.999): G at ``lr`` (2e-4), D at ``lr * ratio_g2d`` (2e-5: ten times
SMALLER, as the code; the paper speaks of TTUR). D is called three times per iteration in
train mode (real, fake in the D step; fake in the G step): three spectral-norm power
iterations, as the original.

Under a ``tf.distribute`` strategy the global batch is split among the replicas and the
update is that of one device with the whole batch (every loss is a mean over equal
per-replica shares; instance norms are per sample); the spectral-norm power iteration
depends on D's kernel only, so every replica computes the same vectors.
"""

import tensorflow as tf

from tfposegen.losses.gan import lsgan_d_loss, lsgan_g_loss
from tfposegen.losses.perceptual import (
    DPTN_CONTENT_LAYERS,
    DPTN_STYLE_LAYERS,
    VGG19Features,
    content_l1,
    style_loss,
)
from tfposegen.train.common import (
    apply_gradients,
    model_variables,
    replicated_step,
    split_batch,
    variables_by_index,
)
from tfposegen.train.optimizers import Adam

LAMBDA_REC, LAMBDA_G, LAMBDA_STYLE, LAMBDA_CONTENT = 5.0, 2.0, 500.0, 0.5
T_S_RATIO = 0.5
LR, RATIO_G2D, BETA1 = 2e-4, 0.1, 0.5
MARKET_WEIGHTS = {"lambda_rec": 2.0, "lambda_g": 5.0, "t_s_ratio": 0.8}
MODEL_KEYS = ("source_image", "source_pose", "target_image", "target_pose")
LOSS_NAMES = ("app_gen_s", "content_gen_s", "style_gen_s", "app_gen_t", "ad_gen_t",
              "dis_img_gen_t", "content_gen_t", "style_gen_t")
DEFAULT_WEIGHTS = {"lambda_rec": LAMBDA_REC, "lambda_g": LAMBDA_G,
                   "lambda_style": LAMBDA_STYLE, "lambda_content": LAMBDA_CONTENT,
                   "t_s_ratio": T_S_RATIO}


def lr_factor(epoch, niter, niter_decay):
    """Learning-rate factor of the 1-based ``epoch`` (``get_scheduler`` 'lambda' of
    models/base_function.py with ``iter_start`` 1, stepped after every epoch):
    ``1 - max(0, epoch - niter) / (niter_decay + 1)``."""
    return 1.0 - max(0, int(epoch) - int(niter)) / float(int(niter_decay) + 1)


def make_loss_vgg():
    """DPTN's ``VGGLoss`` network: VGG19 taps relu1_1..relu5_1 and relu2_2, relu3_4,
    relu4_4, relu5_2, raw [-1, 1] input, frozen. Load torchvision's weights with
    ``tfposegen.losses.perceptual.load_torchvision_vgg19``."""
    taps = tuple(dict.fromkeys(DPTN_CONTENT_LAYERS + DPTN_STYLE_LAYERS))
    return VGG19Features(taps, input_range=None, name="dptn_vgg")


def branch_losses(vgg, fake, real, weights):
    """(app, content, style) of ``backward_G_basic`` for one branch: float32 scalars,
    already multiplied by ``lambda_rec``, ``lambda_content``, ``lambda_style``."""
    ff, fr = vgg(fake), vgg(real)
    app = weights["lambda_rec"] * tf.reduce_mean(tf.abs(fake - real))
    return (app, weights["lambda_content"] * content_l1(ff, fr, DPTN_CONTENT_LAYERS),
            weights["lambda_style"] * style_loss(ff, fr, DPTN_STYLE_LAYERS))


def generator_losses(netD, vgg, batch, fake_t, fake_s, weights=None):
    """Every term of ``backward_G`` for one batch.

    Args:
        netD: the discriminator (called in training mode, as the original).
        vgg: :func:`make_loss_vgg`.
        batch: dict with ``source_image`` and ``target_image`` [B, H, W, 3] in [-1, 1].
        fake_t, fake_s: G's two outputs.
        weights: overrides of :data:`DEFAULT_WEIGHTS`.

    Returns:
        dict of float32 scalars: ``total`` (what the G step minimises) and the original's
        loss names ``app_gen_t``, ``content_gen_t``, ``style_gen_t``, ``ad_gen_t``,
        ``app_gen_s``, ``content_gen_s``, ``style_gen_s``.
    """
    w = dict(DEFAULT_WEIGHTS, **(weights or {}))
    out = {}
    for suffix, fake, real in (("t", fake_t, batch["target_image"]),
                               ("s", fake_s, batch["source_image"])):
        app, content, style = branch_losses(vgg, fake, real, w)
        out.update({f"app_gen_{suffix}": app, f"content_gen_{suffix}": content,
                    f"style_gen_{suffix}": style})
    out["ad_gen_t"] = w["lambda_g"] * lsgan_g_loss(netD(fake_t, training=True))
    r = w["t_s_ratio"]
    out["total"] = (r * (out["app_gen_t"] + out["style_gen_t"] + out["content_gen_t"])
                    + (1 - r) * (out["app_gen_s"] + out["style_gen_s"] + out["content_gen_s"])
                    + out["ad_gen_t"])
    return out


def discriminator_loss(real_scores, fake_scores):
    """``backward_D``: ``0.5 * (MSE(D(real), 1) + MSE(D(fake), 0))``; float32 scalar."""
    return 0.5 * lsgan_d_loss(real_scores, fake_scores)


class DPTNTrainer:
    """Networks, optimisers and the compiled iteration of one DPTN run.

    Args:
        nets: dict ``G`` (:class:`~tfposegen.models.dptn.networks.DPTNGenerator`) and ``D``
            (:class:`~tfposegen.models.dptn.networks.ResDiscriminator`), built.
        vgg: :func:`make_loss_vgg` (weights loaded by the caller).
        batch_size: the global batch.
        iterations_per_epoch: ``len(pairs) // batch_size`` (the original drops the last
            partial batch).
        lr, ratio_g2d: G's learning rate and D's ratio to it.
        niter, niter_decay: epochs at ``lr`` and of linear decay (:func:`lr_factor`).
        weights: overrides of :data:`DEFAULT_WEIGHTS` (e.g. :data:`MARKET_WEIGHTS`).
        jit_compile: compile the replicas' step with XLA (not with several CPU replicas).
        strategy: the ``tf.distribute`` strategy whose scope built the networks.
    """

    model_keys, loss_names, default_weights = MODEL_KEYS, LOSS_NAMES, DEFAULT_WEIGHTS
    betas = (BETA1, 0.999)

    def __init__(self, nets, vgg, batch_size, iterations_per_epoch, lr=LR,
                 ratio_g2d=RATIO_G2D, niter=100, niter_decay=100, weights=None,
                 jit_compile=False, strategy=None):
        self.ratio_g2d = float(ratio_g2d)
        self._setup(nets, vgg, batch_size, iterations_per_epoch, lr, niter, niter_decay,
                    weights, jit_compile, strategy)

    def _setup(self, nets, vgg, batch_size, iterations_per_epoch, lr, niter, niter_decay,
               weights, jit_compile, strategy):
        """What every DPTN-family trainer holds: the strategy, the schedule, the weights of
        the terms, the step counter, one Adam per network (``betas``, epsilon 1e-8) and the
        replicated iteration."""
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        if int(batch_size) % self.replicas:
            raise ValueError(f"batch_size {batch_size} must divide among {self.replicas} "
                             "replicas")
        self.nets, self.vgg, self.batch_size = nets, vgg, int(batch_size)
        self.iterations_per_epoch = max(1, int(iterations_per_epoch))
        self.lr0, self.niter, self.niter_decay = float(lr), int(niter), int(niter_decay)
        self.weights = dict(self.default_weights, **(weights or {}))
        self.vars = {k: nets[k].trainable_weights for k in ("G", "D")}
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.opts = {k: Adam(learning_rate=v, beta_1=self.betas[0],
                                 beta_2=self.betas[1], epsilon=1e-8)
                         for k, v in zip(("G", "D"), self.learning_rates(0))}
            for k, opt in self.opts.items():
                opt.build(self.vars[k])
        self._step_fn = replicated_step(self.strategy, self._iteration, jit_compile)

    @property
    def total_steps(self):
        """Iterations of the whole run: (niter + niter_decay) epochs."""
        return (self.niter + self.niter_decay) * self.iterations_per_epoch

    def learning_rates(self, step):
        """(G, D) learning rates at the 0-based iteration ``step`` (D's is ``ratio_g2d``
        times G's)."""
        epoch = int(step) // self.iterations_per_epoch + 1
        lr = self.lr0 * lr_factor(epoch, self.niter, self.niter_decay)
        return lr, lr * self.ratio_g2d

    def _iteration(self, batch):
        G, D = self.nets["G"], self.nets["D"]
        source, target = batch["source_image"], batch["target_image"]
        with tf.GradientTape() as g_tape:
            fake_t, fake_s = G(source, batch["source_pose"], batch["target_pose"])
            with tf.GradientTape() as d_tape:
                d_loss = discriminator_loss(D(target, training=True),
                                            D(tf.stop_gradient(fake_t), training=True))
            apply_gradients(self.opts["D"], d_tape, d_loss, self.vars["D"])
            out = generator_losses(D, self.vgg, batch, fake_t, fake_s, self.weights)
        apply_gradients(self.opts["G"], g_tape, out.pop("total"), self.vars["G"])
        out["dis_img_gen_t"] = d_loss
        return out

    def train_step(self, batch):
        """One iteration on the global ``batch`` (dict of ``model_keys`` tensors); sets the
        epoch's learning rates first. Returns {name: float} of ``loss_names`` (means over
        the replicas), ``lr_G`` and ``lr_D``."""
        lr_g, lr_d = self.learning_rates(int(self.step.numpy()))
        self.opts["G"].learning_rate.assign(lr_g)
        self.opts["D"].learning_rate.assign(lr_d)
        out = self._step_fn({k: split_batch(self.strategy, batch[k]) for k in self.model_keys})
        self.step.assign_add(1)
        return {**{k: float(out[k]) for k in self.loss_names}, "lr_G": lr_g, "lr_D": lr_d}

    def checkpoint(self, **extra):
        """``tf.train.Checkpoint`` of G, D, both optimisers and the step (DPTN's original
        saves no optimiser state, DPTN_step's does; resuming here continues Adam exactly)."""
        items = {k: model_variables(m) for k, m in self.nets.items()}
        items.update({f"opt_{k}": variables_by_index(o.variables) for k, o in self.opts.items()})
        return tf.train.Checkpoint(step=self.step, **items, **extra)
