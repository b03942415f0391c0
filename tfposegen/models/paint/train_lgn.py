"""PAINT LGN training: BicycleGAN's cVAE-GAN + cLR-GAN iteration as PAINT's fork runs it.

Follows ``BiCycleGANModel`` of LGN/models/bicycle_gan_model.py in gxl-groups/PAINT
(``forward``, ``update_G_and_E``, ``backward_EG``, ``backward_G_alone``, ``update_D``,
``backward_D``, ``cross_entropy``, ``get_z_random``), ``GANLoss('lsgan')``,
``init_weights`` and ``get_scheduler('linear')`` of LGN/models/networks.py and the option
defaults of LGN/options/{base,train}_options.py, run as ``--model bicycle_gan`` (the README's
``--model stage1_gan`` names a file the release lacks).

One iteration (:meth:`LGNTrainer.train_step`) on an even batch, NHWC float32: ``A`` pose
disks [B, H, W, 18] in {-1, 1}, ``B`` one-hot layout [B, H, W, 20], ``ct``, ``cb``, ``c3``
[B, H, W, 4] (three 0/1 garment masks + their 0/1 Canny boundary). The first half ("encoded")
and the second half ("random") play different roles:

1. ``mu_c, logvar_c = E(c[:h])`` for c = ct, cb, c3; ``z_enc = cat(eps_c * exp(logvar_c / 2)
   + mu_c)`` with eps drawn like ``get_z_random``: N(-1, 2^2), 8 wide per piece (B1);
   ``z_rand``: three such draws. ``fake_enc = G(A[:h], z_enc)``, ``fake_rand = G(A[:h],
   z_rand)`` (the random branch uses the ENCODED half's poses, as the original).
2. z-predict (``lambda_z > 0``): components of ``argmax(fake_rand)`` built as the loader
   builds them (labels 5, 6, 7 / 8, 9, 12 / 1, 2, 13 and ``cv2.Canny(union, 0, 1) / 255``,
   :func:`binary_canny`), ``mu2_c = E(.)``; the third REPLACES ``mu_3`` in the KL (B3).
3. G and E step on ``G_GAN2 + G_L1`` where ``G_GAN2 = lambda_GAN2 * sum_scales
   MSE(D2(fake_rand), 1)`` (D2 before its step) and ``G_L1 = lambda_L1 * (-sum B[:h] *
   log(fake_enc + 1e-5)) / 65536`` (a cross-entropy SUMMED over the half batch, classes and
   pixels, divided by the hard-coded 256 * 256). ``kl = -0.5 lambda_kl sum_c sum(1 + logvar_c
   - mu_c^2 - exp(logvar_c))`` is computed and logged, NOT back-propagated (B2).
4. ``z_L1 = lambda_z sum_c mean|mu2_c - z_rand_c|`` is logged; its gradient reaches only E,
   whose optimiser is not stepped, so it changes nothing; but the original then calls
   ``optimizer_G.step()`` on the zeroed gradients, which under PyTorch 1.1 is a second Adam
   step of G (moments decayed, the step counter advanced, the parameters moved again) (B4).
5. D: ``sum_scales MSE(D(fake_enc), 0) + sum_scales MSE(D(B[:h]), 1)`` (trained, never
   used by G: its G term is commented out); D2 likewise on ``fake_rand`` and ``B[h:]``; both
   on the fakes of step 1, detached.

Adam (lr 2e-4, betas (0.5, 0.999), epsilon 1e-8; Keras' Adam is PyTorch 1.1's update) for G,
E, D, D2; the learning rate is ``lr * (1 - max(0, epoch - niter) / (niter_decay + 1))`` for
the 1-based epoch (60 + 40 epochs). Weights: xavier-normal with gain 0.02, zero biases
(:func:`tfposegen.models.paint.train.init_weights`). No LGN network changes between train and
eval mode (instance norm without statistics; no dropout in the README configuration).

Flags for the defects (default: as the code runs): ``z_standard`` (B1: N(0, 1)),
``kl_in_loss`` (B2), ``keep_mu3`` (B3), ``double_g_step`` (B4).

``tf.distribute``: each half is split among the replicas (replica i gets its share of the
encoded half and of the random half; ``batch_size`` must be a multiple of 2 x replicas) and
the noise is drawn for the global batch before the split (a seeded ``tf.random.Generator``
kept in the checkpoint), so the update is that of one device: the sums (``G_L1``, ``kl``)
are scaled by the number of replicas, the means are means over equal shares. The z-predict
uses every sample of the random half (the original only sample 0, whose ``mu2`` it broadcasts
against all ``z_rand`` rows): the same with the original batch of 2.

API: ``LGNTrainer(nets, batch_size, iterations_per_epoch, ...)`` (options named and defaulted
as the original flags), ``train_step(batch) -> {loss: float}``, ``checkpoint()``,
``total_steps``; :func:`tfposegen.models.paint.train.fit` runs it with snapshots and resumes.
"""

import numpy as np
import tensorflow as tf
from keras import ops

from tfposegen.models.paint.data import LGN_COMPONENTS
from tfposegen.train.common import (
    apply_gradients,
    model_variables,
    replicated_step,
    split_batch,
    variables_by_index,
)
from tfposegen.train.optimizers import Adam

MODEL_KEYS = ("A", "B", "ct", "cb", "c3")
NOISE_KEYS = ("eps", "z_random")
LOSS_NAMES = ("G_GAN2", "G_L1", "kl", "z_L1", "G", "D", "D2")
PIECE = 8                       # get_z_random's width, whatever nz
Z_MEAN, Z_STD = -1.0, 2.0       # torch.randn(n, 8) * 2.0 - 1.0
CE_DIVISOR = 256.0 * 256.0      # cross_entropy's hard-coded (256*256)
CE_FLOOR = 1e-5                 # fake_out + 0.00001 before the log
# z-predict components (bicycle_gan_model.py forward): parsing_im_b_201 / 202 / 203
Z_PREDICT_LABELS = tuple(LGN_COMPONENTS.values())  # ct, cb, c3: as the loader's
DEFAULTS = dict(lr=2e-4, beta1=0.5, niter=60, niter_decay=40, lambda_L1=30.0, lambda_GAN=1.0,
                lambda_GAN2=1.0, lambda_z=0.01, lambda_kl=0.01)

_TG22 = 13573   # OpenCV canny.cpp: tan(22.5 deg) * 2^15, rounded
_SHIFT = 15


def binary_canny(mask):
    """``cv2.Canny(mask, 0, 1) / 255`` of 0/1 masks (aperture 3, L1 gradient), in TF.

    OpenCV's algorithm (imgproc/src/canny.cpp): 3 x 3 Sobel derivatives with replicated
    borders, magnitude ``|dx| + |dy|``, non-maximum suppression in OpenCV's sectors (integer
    tan 22.5 test; the comparisons ``>`` on one side and ``>=`` on the other), magnitudes
    outside the image 0, hysteresis with thresholds 0 and 1. For a 0/1 image ``dx`` and
    ``dy`` have the parity of the same corner sum, so every non-zero magnitude is >= 2 > 1:
    every pixel that survives the suppression is a strong edge and hysteresis adds nothing.

    Args:
        mask: [B, H, W] 0/1 (any numeric dtype).

    Returns:
        float32 [B, H, W] in {0, 1}: the one-pixel boundary of the mask.
    """
    u = tf.cast(mask, tf.int32)[..., None]
    p = tf.pad(u, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")   # = replicate by 1
    sx = tf.constant([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], tf.float32)
    kernel = tf.stack([sx, tf.transpose(sx)], axis=-1)[:, :, None, :]    # [3, 3, 1, 2]
    d = tf.cast(tf.round(tf.nn.conv2d(tf.cast(p, tf.float32), kernel, 1, "VALID")), tf.int32)
    dx, dy = d[..., 0], d[..., 1]
    m = tf.abs(dx) + tf.abs(dy)
    mp = tf.pad(m, [[0, 0], [1, 1], [1, 1]])

    def at(di, dj):   # the magnitude of neighbour (i + di, j + dj)
        h, w = tf.shape(m)[1], tf.shape(m)[2]
        return mp[:, 1 + di:1 + di + h, 1 + dj:1 + dj + w]

    x, y = tf.abs(dx), tf.abs(dy) * (1 << _SHIFT)
    tg22x = x * _TG22
    tg67x = tg22x + x * (1 << (_SHIFT + 1))
    horizontal = (m > at(0, -1)) & (m >= at(0, 1))
    vertical = (m > at(-1, 0)) & (m >= at(1, 0))
    same_sign = (dx < 0) == (dy < 0)       # (xs ^ ys) >= 0: s = 1
    diagonal = tf.where(same_sign, (m > at(-1, -1)) & (m > at(1, 1)),
                        (m > at(-1, 1)) & (m > at(1, -1)))
    keep = tf.where(y < tg22x, horizontal, tf.where(y > tg67x, vertical, diagonal))
    return tf.cast(keep & (m > 0), tf.float32)


def layout_components(probabilities, label_sets=Z_PREDICT_LABELS):
    """E's inputs from a generated layout, as ``forward``'s z-predict builds them from
    ``fake_B_random.argmax(1)``: per label set three 0/1 masks and ``Canny(union) / 255``.

    Args:
        probabilities: [B, H, W, 20] (LGN's softmax; only its argmax matters).
        label_sets: three label triples (upper garment, lower garment, head).

    Returns:
        list of float32 [B, H, W, 4], one per label set (not differentiable).
    """
    labels = tf.argmax(tf.stop_gradient(probabilities), axis=-1, output_type=tf.int32)
    out = []
    for triple in label_sets:
        masks = [tf.cast(tf.equal(labels, k), tf.float32) for k in triple]
        union = tf.add_n(masks)
        out.append(tf.stack(masks + [binary_canny(union)], axis=-1))
    return out


def lr_factor(epoch, niter, niter_decay):
    """``lambda_rule`` of ``get_scheduler`` (LGN/models/networks.py, ``epoch_count`` 1) for
    the 1-based ``epoch``: ``1 - max(0, epoch - niter) / (niter_decay + 1)``."""
    return 1.0 - max(0, int(epoch) - int(niter)) / float(int(niter_decay) + 1)


def kl_term(mu, logvar):
    """``sum(1 + logvar - mu^2 - exp(logvar))`` over the batch and the 8 dims (float32 scalar;
    ``backward_EG`` multiplies it by ``-0.5 lambda_kl``)."""
    return ops.sum(1.0 + logvar - ops.square(mu) - ops.exp(logvar))


def cross_entropy(fake, real, divisor=CE_DIVISOR):
    """``cross_entropy`` of bicycle_gan_model.py: ``-sum(real * log(fake + 1e-5)) / 65536``,
    summed over batch, pixels and classes. ``fake`` softmax [B, H, W, C], ``real`` one-hot."""
    return -ops.sum(real * ops.log(fake + CE_FLOOR)) / divisor


def multiscale_lsgan(scores, target):
    """``GANLoss('lsgan')`` of LGN/models/networks.py on D's list of maps: the sum over the
    scales of ``MSE(map, target)``."""
    scores = scores if isinstance(scores, (list, tuple)) else [scores]
    return tf.add_n([ops.mean(ops.square(ops.cast(s, "float32") - target)) for s in scores])


class LGNTrainer:
    """Networks, optimisers, noise and the compiled iteration of one LGN run.

    Args:
        nets: dict ``G`` (:class:`~tfposegen.models.paint.lgn.LGNGenerator`), ``E``
            (:class:`~tfposegen.models.paint.lgn.LGNEncoder`), ``D``, ``D2``
            (:class:`~tfposegen.models.paint.lgn.LGNDiscriminator`), built (and initialised:
            :func:`tfposegen.models.paint.train.build_stage`).
        batch_size: ``--batch_size`` (2), even; a multiple of 2 x replicas.
        iterations_per_epoch: ``len(dataset) // batch_size`` (incomplete batches skipped).
        lr, beta1, niter, niter_decay, lambda_L1, lambda_GAN, lambda_GAN2, lambda_z,
            lambda_kl: the original flags (:data:`DEFAULTS`); ``lambda_GAN = 0`` skips D,
            ``lambda_GAN2 = 0`` skips D2, ``lambda_z = 0`` skips the z-predict and the second
            G step, as the original.
        z_standard: draw codes and eps from N(0, 1) instead of N(-1, 2^2) (B1 fixed).
        kl_in_loss: add ``kl`` to G and E's loss (B2 fixed).
        keep_mu3: the KL's third term with the real head component's mean (B3 fixed).
        double_g_step: the PyTorch 1.1 zero-gradient second Adam step of G (B4; True).
        ce_divisor: the cross-entropy's divisor (256 * 256 whatever the image size).
        seed: the noise generator's seed.
        jit_compile: XLA for the replicas' step (not with several CPU replicas).
        strategy: the ``tf.distribute`` strategy whose scope built the networks (construct
            the trainer outside that scope: its noise generator draws in cross-replica
            context).
    """

    model_keys, loss_names = MODEL_KEYS, LOSS_NAMES
    show = ("G_L1", "G_GAN2", "D2")   # what fit() prints with the progress

    def __init__(self, nets, batch_size=2, iterations_per_epoch=1, lr=2e-4, beta1=0.5,
                 niter=60, niter_decay=40, lambda_L1=30.0, lambda_GAN=1.0, lambda_GAN2=1.0,
                 lambda_z=0.01, lambda_kl=0.01, z_standard=False, kl_in_loss=False,
                 keep_mu3=False, double_g_step=True, ce_divisor=CE_DIVISOR, seed=0,
                 jit_compile=False, strategy=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        if int(batch_size) % (2 * self.replicas):
            raise ValueError(f"batch_size {batch_size} must be even and its halves divide "
                             f"among {self.replicas} replicas")
        self.nets, self.batch_size = nets, int(batch_size)
        self.iterations_per_epoch = max(1, int(iterations_per_epoch))
        self.lr0, self.niter, self.niter_decay = float(lr), int(niter), int(niter_decay)
        self.weights = dict(lambda_L1=float(lambda_L1), lambda_GAN=float(lambda_GAN),
                            lambda_GAN2=float(lambda_GAN2), lambda_z=float(lambda_z),
                            lambda_kl=float(lambda_kl))
        self.z_mean, self.z_std = (0.0, 1.0) if z_standard else (Z_MEAN, Z_STD)
        self.kl_in_loss, self.keep_mu3 = bool(kl_in_loss), bool(keep_mu3)
        self.double_g_step, self.ce_divisor = bool(double_g_step), float(ce_divisor)
        self.nz = int(nets["G"].config["nz"])
        self.pieces = self.nz // PIECE
        self.vars = {k: nets[k].trainable_weights for k in ("G", "E", "D", "D2")}
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.opts = {k: Adam(learning_rate=self.lr0, beta_1=float(beta1),
                                 beta_2=0.999, epsilon=1e-8)
                         for k in ("G", "E", "D", "D2")}
            for k, opt in self.opts.items():
                opt.build(self.vars[k])
        with tf.init_scope():
            self.noise = tf.random.Generator.from_seed(int(seed))
        self._step_fn = replicated_step(self.strategy, self._iteration, jit_compile)

    @property
    def total_steps(self):
        """Iterations of the whole run: (niter + niter_decay) epochs."""
        return (self.niter + self.niter_decay) * self.iterations_per_epoch

    def learning_rate(self, step):
        """The learning rate of all four optimisers at the 0-based iteration ``step``."""
        epoch = int(step) // self.iterations_per_epoch + 1
        return self.lr0 * lr_factor(epoch, self.niter, self.niter_decay)

    def draw_noise(self, half):
        """``eps`` and ``z_random`` [half, nz] for the global batch: ``get_z_random`` pieces
        (N(-1, 2^2), or N(0, 1) with ``z_standard``) from the checkpointed generator."""
        eps = self.noise.normal((half, self.nz)) * self.z_std + self.z_mean
        z = self.noise.normal((half, self.nz)) * self.z_std + self.z_mean
        return {"eps": eps, "z_random": z}

    def losses(self, batch):
        """Every term of ``backward_EG`` / ``backward_G_alone`` / ``update_D`` for one (local)
        batch: dict of float32 scalars ``G_GAN2``, ``G_L1``, ``kl``, ``z_L1``, ``G`` (what G
        and E minimise), ``D``, ``D2`` and the tensors ``fake_enc``, ``fake_rand``. ``batch``
        holds :data:`MODEL_KEYS` [B, ...] and :data:`NOISE_KEYS` [B / 2, nz]. Sums over the
        batch (``G_L1``, ``kl``) are multiplied by the number of replicas (see the module
        docstring); D / D2 are computed on the detached fakes with the current weights."""
        G, E, D, D2 = (self.nets[k] for k in ("G", "E", "D", "D2"))
        w, reps = self.weights, float(self.replicas)
        h = batch["A"].shape[0] // 2
        pose, real_enc = batch["A"][:h], batch["B"][:h]
        mus, logvars, z_enc = [], [], []
        for i, key in enumerate(("ct", "cb", "c3")):
            mu, logvar = E(batch[key][:h])
            eps = batch["eps"][:, i * PIECE:(i + 1) * PIECE]
            mus.append(mu)
            logvars.append(logvar)
            z_enc.append(eps * ops.exp(0.5 * logvar) + mu)
        z_enc = ops.concatenate(z_enc, axis=-1)
        z_rand = batch["z_random"]
        fake_enc, fake_rand = G(pose, z_enc), G(pose, z_rand)
        out = {"fake_enc": fake_enc, "fake_rand": fake_rand}
        zero = tf.constant(0.0)
        out["z_L1"] = zero
        if w["lambda_z"] > 0:
            mu2 = [E(c)[0] for c in layout_components(fake_rand)]
            out["z_L1"] = tf.add_n([
                w["lambda_z"] * ops.mean(ops.abs(m - z_rand[:, i * PIECE:(i + 1) * PIECE]))
                for i, m in enumerate(mu2)])
            if not self.keep_mu3:
                mus[2] = mu2[2]                      # self.mu3 overwritten (B3)
        out["G_GAN2"] = (w["lambda_GAN2"] * multiscale_lsgan(D2(fake_rand), 1.0)
                         if w["lambda_GAN2"] > 0 else zero)
        out["kl"] = (reps * -0.5 * w["lambda_kl"]
                     * tf.add_n([kl_term(m, v) for m, v in zip(mus, logvars)])
                     if w["lambda_kl"] > 0 else zero)
        out["G_L1"] = (reps * w["lambda_L1"] * cross_entropy(fake_enc, real_enc, self.ce_divisor)
                       if w["lambda_L1"] > 0 else zero)
        out["G"] = out["G_GAN2"] + out["G_L1"] + (out["kl"] if self.kl_in_loss else 0.0)
        return out

    def _d_loss(self, key, fake, real):
        """``backward_D``: ``sum_scales MSE(net(fake.detach()), 0) + sum_scales MSE(net(real),
        1)`` for ``key`` D or D2 (no 0.5)."""
        net = self.nets[key]
        return (multiscale_lsgan(net(tf.stop_gradient(fake)), 0.0)
                + multiscale_lsgan(net(real), 1.0))

    def _iteration(self, batch):
        ge_vars = self.vars["G"] + self.vars["E"]
        with tf.GradientTape() as tape:
            out = self.losses(batch)
        grads = tape.gradient(out["G"], ge_vars)
        n_g = len(self.vars["G"])
        for key, gs, vs in (("G", grads[:n_g], self.vars["G"]), ("E", grads[n_g:], self.vars["E"])):
            pairs = [(g / self.replicas, v) for g, v in zip(gs, vs) if g is not None]
            self.opts[key].apply([g for g, _ in pairs], [v for _, v in pairs])
        if self.weights["lambda_z"] > 0 and self.double_g_step:
            # optimizer_G.step() on gradients zeroed by zero_grad() (PyTorch 1.1): B4
            self.opts["G"].apply([tf.zeros_like(v) for v in self.vars["G"]], self.vars["G"])
        h = batch["A"].shape[0] // 2
        fakes = {"D": (out.pop("fake_enc"), batch["B"][:h]),
                 "D2": (out.pop("fake_rand"), batch["B"][h:])}
        for key, weight in (("D", "lambda_GAN"), ("D2", "lambda_GAN2")):
            out[key] = tf.constant(0.0)
            if self.weights[weight] > 0:
                with tf.GradientTape() as d_tape:
                    out[key] = self._d_loss(key, *fakes[key])
                apply_gradients(self.opts[key], d_tape, out[key], self.vars[key])
        return out

    def arrange(self, batch, noise):
        """The global batch reordered so that each replica's rows are its share of the
        encoded half followed by its share of the random half; the noise rows follow the
        encoded half. Returns the dict of per-replica values."""
        r, n = self.replicas, self.batch_size
        h, per = n // 2, n // (2 * r)
        order = np.concatenate([np.r_[i * per:(i + 1) * per, h + i * per:h + (i + 1) * per]
                                for i in range(r)])
        out = {k: split_batch(self.strategy, tf.gather(tf.convert_to_tensor(batch[k]), order))
               for k in self.model_keys}
        out.update({k: split_batch(self.strategy, v) for k, v in noise.items()})
        return out

    def train_step(self, batch):
        """One iteration on the global ``batch`` (dict of :data:`MODEL_KEYS` tensors, first
        dimension ``batch_size``); sets the epoch's learning rate first. Returns {name:
        float} of :data:`LOSS_NAMES` and ``lr``."""
        if int(batch["A"].shape[0]) != self.batch_size:
            raise ValueError(f"LGNTrainer: batch of {batch['A'].shape[0]}, expected "
                             f"{self.batch_size} (the original skips incomplete batches)")
        lr = self.learning_rate(int(self.step.numpy()))
        for opt in self.opts.values():
            opt.learning_rate.assign(lr)
        noise = self.draw_noise(self.batch_size // 2)
        out = self._step_fn(self.arrange(batch, noise))
        self.step.assign_add(1)
        return {**{k: float(out[k]) for k in self.loss_names}, "lr": lr}

    def checkpoint(self, **extra):
        """``tf.train.Checkpoint`` of G, E, D, D2, the four optimisers, the step and the noise
        generator (resuming continues exactly)."""
        items = {k: model_variables(self.nets[k]) for k in ("G", "E", "D", "D2")}
        items.update({f"opt_{k}": variables_by_index(o.variables) for k, o in self.opts.items()})
        return tf.train.Checkpoint(step=self.step, noise=self.noise, **items, **extra)


__all__ = ["DEFAULTS", "LOSS_NAMES", "LGNTrainer", "MODEL_KEYS", "binary_canny",
           "cross_entropy", "kl_term", "layout_components", "lr_factor", "multiscale_lsgan"]
