"""In-domain encoder training (genforce/idinvert), the origin of DGP's encoder ``E``.

The generator is frozen; per iteration, on one batch of reals ``x`` (NHWC, [-1, 1]):

1. E step: ``x_rec = G.synthesis(E(x))`` with the stored noise maps;
   ``E_loss = mean((x_rec - x)^2) + 5e-5 * mean((VGG(x) - VGG(x_rec))^2)
   + 0.08 * mean(softplus(-D(x_rec)))``. VGG16 conv4_3 sees both images as [0, 255], resized
   to ``perceptual_size`` (256) with TF1's nearest-neighbour rule.
2. D step (with the updated E): ``softplus(D(x_rec)) + softplus(-D(x)) + 5 * |dD(x)/dx|^2``
   (R1, gamma 10, every step).

Both networks use Adam(beta1 0.9, beta2 0.99, eps 1e-8) with learning rate
``1e-4 * 0.8 ** (step / decay_steps)`` (idinvert: decay_steps = total steps / 4). E runs in
training mode in both steps, so its batch-norm statistics move twice per iteration
(momentum 0.9), as in idinvert's graph.

Under a ``tf.distribute`` strategy with several replicas the batch-norm statistics are
synchronised over replicas (those of the global batch), so N replicas make the update of one
device with the same global batch (idinvert's towers normalised each GPU's share alone).
"""

import keras
import tensorflow as tf

from tfposegen.models.stylegan2.train import r1_penalty
from tfposegen.ops.resize import resize_nearest_legacy
from tfposegen.train.common import (
    apply_gradients,
    data_sharded,
    model_variables,
    run_replicas,
    split_batch,
    variables_by_index,
    xla_ok,
)
from tfposegen.train.optimizers import Adam


class EncoderTrainer:
    """Encoder E and discriminator D trained against a frozen synthesis network.

    Args:
        E: ``Encoder`` (images [N, R, R, 3] -> W+ [N, num_ws, w_dim]).
        synthesis: frozen ``SynthesisNetwork`` of the GAN (noise: its stored maps).
        D: ``Discriminator`` (usually initialised from the GAN's D).
        vgg: ``VGG16Features`` at ``perceptual_size`` or None (no perceptual term).
        perceptual_size: side the VGG input is resized to (idinvert: 256).
        feature_scale, d_scale, r1_gamma: loss weights (5e-5, 0.08, 10).
        learning_rate, decay_steps, decay_rate: exponential learning-rate decay.
        jit_compile: compile the steps with XLA (not with several replicas on CPUs).
        strategy: a ``tf.distribute`` strategy (default: the current one, i.e. one device);
            E, synthesis, D and vgg must have been built in its scope. Batches are global.
    """

    def __init__(self, E, synthesis, D, vgg=None, perceptual_size=256, feature_scale=5e-5,
                 d_scale=0.08, r1_gamma=10.0, learning_rate=1e-4, decay_steps=30000,
                 decay_rate=0.8, jit_compile=True, strategy=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        if self.replicas > 1:  # batch statistics of the global batch
            for layer in E._flatten_layers():
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.synchronized = True
        with self.strategy.scope():
            self._build(E, synthesis, D, vgg, perceptual_size, feature_scale, d_scale,
                        r1_gamma, learning_rate, decay_steps, decay_rate, jit_compile)

    def _build(self, E, synthesis, D, vgg, perceptual_size, feature_scale, d_scale, r1_gamma,
               learning_rate, decay_steps, decay_rate, jit_compile):
        self.E, self.synthesis, self.D, self.vgg = E, synthesis, D, vgg
        self.perceptual_size = perceptual_size
        self.feature_scale, self.d_scale, self.r1_gamma = feature_scale, d_scale, r1_gamma
        schedule = lambda: keras.optimizers.schedules.ExponentialDecay(  # noqa: E731
            learning_rate, decay_steps, decay_rate, staircase=False)
        adam = dict(beta_1=0.9, beta_2=0.99, epsilon=1e-8)
        self.E_opt = Adam(learning_rate=schedule(), **adam)
        self.D_opt = Adam(learning_rate=schedule(), **adam)
        self.E_opt.build(E.trainable_weights)
        self.D_opt.build(D.trainable_weights)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        jit_compile = xla_ok(self.strategy, jit_compile)
        e_step = tf.function(self._e_step_fn, jit_compile=jit_compile, autograph=False)
        d_step = tf.function(self._d_step_fn, jit_compile=jit_compile, autograph=False)
        self._e_step = tf.function(lambda reals: self._run(e_step, reals), autograph=False)
        self._d_step = tf.function(lambda reals: self._run(d_step, reals), autograph=False)

    def _run(self, replica_fn, *args):
        return run_replicas(self.strategy, replica_fn, *args)

    def distribute(self, dataset):
        """Split a dataset of global batches across the replicas (DATA sharding, see
        ``StyleGAN2Trainer.distribute``); its iterator cannot be checkpointed."""
        return self.strategy.experimental_distribute_dataset(data_sharded(dataset))

    def reconstruct(self, reals, training=False):
        """G(E(reals)) with the stored noise: [N, R, R, 3], about [-1, 1]."""
        return self.synthesis(self.E(reals, training=training), noise_mode="const")

    def _vgg_input(self, images):
        size = (self.perceptual_size, self.perceptual_size)
        return (resize_nearest_legacy(images, size) + 1.0) / 2.0 * 255.0

    def _e_step_fn(self, reals):
        with tf.GradientTape() as tape:
            fakes = self.reconstruct(reals, training=True)
            terms = {"pixel": tf.reduce_mean(tf.square(fakes - reals)),
                     "adv": self.d_scale * tf.reduce_mean(tf.nn.softplus(-self.D(fakes)))}
            if self.vgg is not None:
                diff = self.vgg(self._vgg_input(reals)) - self.vgg(self._vgg_input(fakes))
                terms["feats"] = self.feature_scale * tf.reduce_mean(tf.square(diff))
            terms["E_loss"] = tf.add_n(list(terms.values()))
        apply_gradients(self.E_opt, tape, terms["E_loss"], self.E.trainable_weights)
        return terms

    def _d_step_fn(self, reals):
        fakes = self.reconstruct(reals, training=True)
        with tf.GradientTape() as tape:
            real_logits, fake_logits = self.D(reals), self.D(fakes)
            r1 = tf.reduce_mean(r1_penalty(self.D, reals))
            terms = {"loss_real": tf.reduce_mean(tf.nn.softplus(-real_logits)),
                     "loss_fake": tf.reduce_mean(tf.nn.softplus(fake_logits)),
                     "r1_penalty": r1}
            terms["D_loss"] = (terms["loss_real"] + terms["loss_fake"]
                               + r1 * (self.r1_gamma * 0.5))
        apply_gradients(self.D_opt, tape, terms["D_loss"], self.D.trainable_weights)
        return terms

    def train_step(self, reals):
        """One iteration (E step, then D step) on a global batch of reals [N, R, R, 3] in
        [-1, 1] (split here among the replicas) or its split from :meth:`distribute`;
        returns a dict of float losses."""
        reals = split_batch(self.strategy, reals)
        out = {k: float(v) for k, v in self._e_step(reals).items()}
        out.update({k: float(v) for k, v in self._d_step(reals).items()})
        self.step.assign_add(1)
        return out

    def checkpoint(self, **extra):
        """A ``tf.train.Checkpoint`` of everything a resumed run needs (plus ``extra``)."""
        return tf.train.Checkpoint(
            E=model_variables(self.E), D=model_variables(self.D),
            E_opt=variables_by_index(self.E_opt.variables),
            D_opt=variables_by_index(self.D_opt.variables), step=self.step, **extra)
