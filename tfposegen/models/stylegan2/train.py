"""StyleGAN2 training as NVlabs' config-f (``training/loss.py``, ``training_loop.py``).

* G loss: non-saturating logistic, ``softplus(-D(G(z)))``, with style mixing (p 0.9) and
  random noise inputs; every ``g_reg_interval`` (4) steps a path-length regularisation step
  (weight 2, decay 0.01, batch halved), scaled by the interval.
* D loss: logistic, ``softplus(D(G(z))) + softplus(-D(x))``; every ``d_reg_interval`` (16)
  steps an R1 step, ``gamma / 2 * |dD(x)/dx|^2``, scaled by the interval.
* Adam (lr 0.002, betas (0, 0.99), eps 1e-8) with the lazy-regularisation correction:
  ``lr * c`` and ``beta ** c`` with ``c = interval / (interval + 1)``; the main and the
  regularisation steps share one optimiser state per network, as NVlabs' ``share=``.
* ``Gs``: exponential moving average of G's trainable weights with
  ``beta = 0.5 ** (batch / (ema_kimg * 1000))``; non-trainable state (noise maps,
  ``dlatent_avg``) is copied. ``dlatent_avg`` tracks the batch mean of W with decay 0.995.

All random numbers (latents, noise maps, mixing cut-offs, path-length noise) are stateless
functions of ``(seed, step)``, so a run resumed from a checkpoint continues exactly.
Images are NHWC float32 in [-1, 1].
"""

import functools

import tensorflow as tf

from tfposegen.models.stylegan2 import Generator
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


def d_logistic_loss(real_logits, fake_logits):
    """Per-example D loss ``softplus(D(fake)) + softplus(-D(real))``: [N, 1] -> [N]."""
    return tf.reshape(tf.nn.softplus(fake_logits) + tf.nn.softplus(-real_logits), [-1])


def g_nonsaturating_loss(fake_logits):
    """Per-example G loss ``softplus(-D(G(z)))``: [N, 1] -> [N]."""
    return tf.reshape(tf.nn.softplus(-fake_logits), [-1])


def r1_penalty(D, reals):
    """Per-example ``|dD(x)/dx|^2`` summed over pixels: reals [N, R, R, C] -> [N]."""
    with tf.GradientTape() as tape:
        tape.watch(reals)
        total = tf.reduce_sum(D(reals))
    grads = tape.gradient(total, reals)
    return tf.reduce_sum(tf.square(grads), axis=[1, 2, 3])


def path_lengths(synthesis, ws, noise, pl_noise):
    """Per-example path lengths ``sqrt(mean_w |J_w^T y|^2)`` with ``y`` = ``pl_noise``
    (normal / sqrt(H W)), as NVlabs' ``pl_reg``: ws [N, num_ws, w_dim] -> [N]."""
    with tf.GradientTape() as tape:
        tape.watch(ws)
        images = synthesis(ws, noise=noise)
        out = tf.reduce_sum(images * pl_noise)
    grads = tape.gradient(out, ws)
    return tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=2), axis=1))


def ema_beta(batch_size, ema_kimg=10.0):
    """NVlabs' G_smoothing beta ``0.5 ** (batch / (ema_kimg * 1000))``."""
    return 0.5 ** (batch_size / max(ema_kimg * 1000.0, 1e-8))


def lazy_adam(learning_rate, interval):
    """Adam(betas (0, 0.99), eps 1e-8) with the lazy regularisation correction."""
    c = interval / (interval + 1) if interval else 1.0
    return Adam(learning_rate=learning_rate * c, beta_1=0.0 ** c,
                beta_2=0.99 ** c, epsilon=1e-8)


class StyleGAN2Trainer:
    """Networks, optimisers and compiled steps of one StyleGAN2 training run.

    Args:
        G, D: ``Generator`` and ``Discriminator`` (built).
        batch_size: images per step (global batch).
        r1_gamma: R1 weight (NVlabs config-f: 10 at 1024 px FFHQ; smaller data, smaller).
        pl_weight: path-length weight (2; 0 switches it off).
        style_mixing: probability of mixing two latents.
        learning_rate: Adam learning rate (0.002).
        ema_kimg: half-life of the Gs average in thousands of images.
        g_reg_interval, d_reg_interval: lazy regularisation intervals (4, 16).
        seed: seed of every random number in training.
        jit_compile: compile the per-replica steps with XLA (not with several replicas on
            CPUs: XLA has no CPU collectives).
        strategy: a ``tf.distribute`` strategy (default: the current one, i.e. one device);
            G and D must have been built in its scope. Random numbers are drawn for the
            global batch and split, so N replicas make the same update as one device.
    """

    def __init__(self, G, D, batch_size, r1_gamma=10.0, pl_weight=2.0, style_mixing=0.9,
                 learning_rate=0.002, ema_kimg=10.0, g_reg_interval=4, d_reg_interval=16,
                 pl_decay=0.01, pl_batch_shrink=2, seed=0, jit_compile=True, strategy=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self.pl_batch = max(1, batch_size // pl_batch_shrink)
        if batch_size % self.replicas or self.pl_batch % self.replicas:
            raise ValueError(f"batch_size {batch_size} (and its path-length share "
                             f"{self.pl_batch}) must divide among {self.replicas} replicas")
        with self.strategy.scope():
            self._build(G, D, batch_size, r1_gamma, pl_weight, style_mixing, learning_rate,
                        ema_kimg, g_reg_interval, d_reg_interval, pl_decay, seed, jit_compile)

    def _build(self, G, D, batch_size, r1_gamma, pl_weight, style_mixing, learning_rate,
               ema_kimg, g_reg_interval, d_reg_interval, pl_decay, seed, jit_compile):
        self.G, self.D = G, D
        self.Gs = Generator.from_config(G.get_config())
        for dst, src in zip(self.Gs.weights, G.weights):
            dst.assign(src)
        self.batch_size = batch_size
        self.r1_gamma, self.pl_weight, self.style_mixing = r1_gamma, pl_weight, style_mixing
        self.g_reg_interval, self.d_reg_interval = g_reg_interval, d_reg_interval
        self.pl_decay = pl_decay
        self.beta = ema_beta(batch_size, ema_kimg)
        self.seed = seed
        self.G_opt = lazy_adam(learning_rate, g_reg_interval if pl_weight else 0)
        self.D_opt = lazy_adam(learning_rate, d_reg_interval if r1_gamma else 0)
        self.G_opt.build(G.trainable_weights)
        self.D_opt.build(D.trainable_weights)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.pl_mean = tf.Variable(0.0, trainable=False, name="pl_mean")
        jit_compile = xla_ok(self.strategy, jit_compile)
        graph = functools.partial(tf.function, autograph=False)
        compile_ = functools.partial(graph, jit_compile=jit_compile)
        run = self._run
        self._g_main = graph(lambda: self._after_g_main(*run(compile_(self._g_main_step))))
        self._d_main = graph(lambda reals: run(compile_(self._d_main_step), reals))
        self._g_reg = graph(lambda: self._after_g_reg(*run(compile_(self._g_reg_step))))
        self._d_reg = graph(lambda reals: run(compile_(self._d_reg_step), reals))
        self._update_gs = graph(self._update_gs_step)

    def _run(self, replica_fn, *args):
        return run_replicas(self.strategy, replica_fn, *args)

    def distribute(self, dataset):
        """Split a dataset of global batches across the strategy's replicas (sharded by
        DATA: with several workers each reads the whole pipeline and keeps its replicas'
        rows, the batches of one device). Its iterator cannot be checkpointed; the
        training scripts pass global batches to :meth:`train_step` instead."""
        return self.strategy.experimental_distribute_dataset(data_sharded(dataset))

    # -- random numbers: stateless in (seed, step, purpose), drawn for the global batch and
    #    sliced per replica, so any number of replicas sees the numbers one device sees
    def _seed(self, purpose):
        return tf.stack([tf.cast(self.seed * 1000 + purpose, tf.int64), self.step])

    def _local(self, x):
        rid = tf.distribute.get_replica_context().replica_id_in_sync_group
        per = x.shape[0] // self.replicas
        return x[rid * per:(rid + 1) * per]

    def _noise(self, n, purpose):
        syn = self.G.synthesis
        return [self._local(tf.random.stateless_normal(
            [n, syn.noise_resolution(i), syn.noise_resolution(i), 1],
            self._seed(purpose * 100 + i))) for i in range(len(syn.noise_vars))]

    def _latents(self, n, purpose):
        """This replica's share of n mixed W+ [n / replicas, num_ws, w_dim], and the mean of
        its unmixed w (for ``dlatent_avg``)."""
        G = self.G
        z = tf.transpose(self._local(tf.random.stateless_normal([n, 2, G.z_dim],
                                                                self._seed(purpose))), [1, 0, 2])
        ws = G.mapping(z[0])
        w_mean = tf.reduce_mean(ws[:, 0], axis=0)
        if self.style_mixing > 0:
            ws2 = G.mapping(z[1])
            u = tf.random.stateless_uniform([], self._seed(purpose + 50))
            cut = tf.random.stateless_uniform([], self._seed(purpose + 60), 1, G.num_ws,
                                              dtype=tf.int32)
            cut = tf.where(u < self.style_mixing, cut, G.num_ws)
            ws = tf.where(tf.range(G.num_ws)[None, :, None] < cut, ws, ws2)
        return ws, w_mean

    def _fake(self, n, purpose):
        ws, w_mean = self._latents(n, purpose)
        return self.G.synthesis(ws, noise=self._noise(n, purpose)), w_mean

    # -- the four steps, per replica
    def _g_main_step(self):
        with tf.GradientTape() as tape:
            fakes, w_mean = self._fake(self.batch_size, 1)
            loss = tf.reduce_mean(g_nonsaturating_loss(self.D(fakes)))
        apply_gradients(self.G_opt, tape, loss, self.G.trainable_weights)
        return loss, w_mean

    def _after_g_main(self, loss, w_mean):
        avg = self.G.mapping.dlatent_avg
        avg.assign(w_mean * (1 - 0.995) + avg * 0.995)
        return loss

    def _d_main_step(self, reals):
        fakes, _ = self._fake(self.batch_size, 2)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(d_logistic_loss(self.D(reals), self.D(fakes)))
        apply_gradients(self.D_opt, tape, loss, self.D.trainable_weights)
        return loss

    def _g_reg_step(self):
        n = self.pl_batch
        syn = self.G.synthesis
        r = syn.resolution
        with tf.GradientTape() as tape:
            ws, _ = self._latents(n, 3)
            y = self._local(tf.random.stateless_normal([n, r, r, syn.num_channels],
                                                       self._seed(4))) / r
            lengths = path_lengths(syn, ws, self._noise(n, 3), y)
            batch_mean = tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.MEAN, tf.reduce_mean(lengths))
            mean = self.pl_mean + self.pl_decay * (batch_mean - self.pl_mean)
            penalty = tf.reduce_mean(tf.square(lengths - tf.stop_gradient(mean)))
            loss = penalty * self.pl_weight * self.g_reg_interval
        apply_gradients(self.G_opt, tape, loss, self.G.trainable_weights)
        return penalty, mean

    def _after_g_reg(self, penalty, mean):
        self.pl_mean.assign(mean)
        return penalty

    def _d_reg_step(self, reals):
        with tf.GradientTape() as tape:
            penalty = tf.reduce_mean(r1_penalty(self.D, reals))
            loss = penalty * (self.r1_gamma * 0.5) * self.d_reg_interval
        apply_gradients(self.D_opt, tape, loss, self.D.trainable_weights)
        return penalty

    def _update_gs_step(self):
        trainable = {id(v) for v in self.G.trainable_weights}
        for dst, src in zip(self.Gs.weights, self.G.weights):
            if id(src) in trainable:
                dst.assign(src + (dst - src) * self.beta)
            else:
                dst.assign(src)

    def train_step(self, reals):
        """One training step (G, D and, when due, their regularisation steps) on a global
        batch of reals [batch, R, R, C] in [-1, 1] (split here among the replicas), or its
        per-replica split from :meth:`distribute`; returns a dict of float losses."""
        reals = split_batch(self.strategy, reals)
        step = int(self.step.numpy())
        out = {"G_loss": float(self._g_main()), "D_loss": float(self._d_main(reals))}
        if self.pl_weight and step % self.g_reg_interval == 0:
            out["pl_penalty"] = float(self._g_reg())
        if self.r1_gamma and step % self.d_reg_interval == 0:
            out["r1_penalty"] = float(self._d_reg(reals))
        self._update_gs()
        self.step.assign_add(1)
        return out

    def checkpoint(self, **extra):
        """A ``tf.train.Checkpoint`` of everything a resumed run needs (plus ``extra``)."""
        return tf.train.Checkpoint(
            G=model_variables(self.G), D=model_variables(self.D), Gs=model_variables(self.Gs),
            G_opt=variables_by_index(self.G_opt.variables),
            D_opt=variables_by_index(self.D_opt.variables), step=self.step,
            pl_mean=self.pl_mean, **extra)


__all__ = ["StyleGAN2Trainer", "d_logistic_loss", "ema_beta", "g_nonsaturating_loss",
           "lazy_adam", "path_lengths", "r1_penalty"]
