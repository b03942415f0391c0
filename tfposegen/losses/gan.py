"""Adversarial losses of the ported papers, on raw discriminator outputs.

Every ``*_d_loss`` / ``*_g_loss`` takes the discriminator's raw scores (logits for the
logistic / BCE forms, unbounded scores for LSGAN, WGAN and hinge) as float tensors of any
shape (``[N]``, ``[N, 1]``, PatchGAN maps ``[N, h, w, 1]``; real and fake may differ in
shape) and returns a float32 scalar. Means run over *all* elements of a tensor, as
``torch.nn.MSELoss`` / ``BCEWithLogitsLoss`` / ``Tensor.mean()`` do in the originals.

The D losses return ``real term + fake term``. Where an original halves that sum or weights
it, the docstring says so; apply such factors in the training step, not here.
"""

import keras
import tensorflow as tf
from keras import ops


def _scores(x, name):
    x = ops.convert_to_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(f"tfposegen.losses.gan: {name} must be a float tensor, got {dtype}")
    return ops.cast(x, "float32")


def _bce_with_logits(logits, label):
    # label * -log(sigmoid(x)) + (1 - label) * -log(1 - sigmoid(x)), stable for any x.
    return ops.mean(label * ops.softplus(-logits) + (1.0 - label) * ops.softplus(logits))


def logistic_d_loss(real_logits, fake_logits):
    """StyleGAN2's logistic D loss: ``mean(softplus(fake)) + mean(softplus(-real))``.

    Follows ``D_logistic`` / ``D_logistic_r1`` in training/loss.py in NVlabs/stylegan2. The
    original returns the per-sample values ``softplus(fake) + softplus(-real)`` ([N, 1]) and
    its optimizer (dnnlib/tflib/optimizer.py) differentiates their *sum* over the minibatch;
    this returns the mean, i.e. the original divided by N (Adam steps are unaffected up to
    its epsilon).

    Args:
        real_logits: D logits on real images, any shape, any real values.
        fake_logits: D logits on generated images, any shape.

    Returns:
        float32 scalar >= 0.
    """
    real = _scores(real_logits, "real_logits")
    fake = _scores(fake_logits, "fake_logits")
    return ops.mean(ops.softplus(fake)) + ops.mean(ops.softplus(-real))


def logistic_g_loss(fake_logits):
    """StyleGAN2's non-saturating G loss ``mean(softplus(-fake))`` (= ``-log sigmoid(fake)``).

    ``G_logistic_ns`` in training/loss.py in NVlabs/stylegan2 (per-sample values summed by
    the original's optimizer; the mean here, as :func:`logistic_d_loss`).

    Args:
        fake_logits: D logits on generated images, any shape.

    Returns:
        float32 scalar >= 0.
    """
    return ops.mean(ops.softplus(-_scores(fake_logits, "fake_logits")))


def bce_d_loss(real_logits, fake_logits, real_label=1.0, fake_label=0.0):
    """DCGAN D loss ``BCE(real, real_label) + BCE(fake, fake_label)``, each a mean.

    ``networks.GANLoss(use_lsgan=False)`` in models/networks.py in menyifang/ADGAN (and
    tengteng95/Pose-Transfer, PATN): ``nn.BCELoss`` on a D ending in ``nn.Sigmoid``; here on
    the logits before that sigmoid, which is the same value except where torch clamps
    ``log`` at -100 (|logit| > ~100). Both originals' ``backward_D_basic``
    (models/adgan.py, models/PATN.py) compute ``(lambda_GAN * BCE(real, 1) + lambda_GAN *
    BCE(fake, 0)) * 0.5``: multiply this sum by ``0.5 * lambda_GAN`` to match. With labels
    1 / 0 this equals :func:`logistic_d_loss`.

    Args:
        real_logits: D logits on real inputs, any shape.
        fake_logits: D logits on generated inputs, any shape.
        real_label, fake_label: BCE targets in [0, 1] (1.0 / 0.0 as the originals).

    Returns:
        float32 scalar.
    """
    real = _scores(real_logits, "real_logits")
    fake = _scores(fake_logits, "fake_logits")
    return _bce_with_logits(real, float(real_label)) + _bce_with_logits(fake, float(fake_label))


def bce_g_loss(fake_logits, real_label=1.0):
    """DCGAN G loss ``mean BCE(fake, real_label)``: ``criterionGAN(pred_fake, True)`` in
    models/adgan.py in menyifang/ADGAN with ``use_lsgan=False`` (on logits, see
    :func:`bce_d_loss`). ADGAN weights it by ``lambda_GAN`` and averages its two
    discriminators' terms (``(PB + PP) * lambda_GAN / 2``).

    Args:
        fake_logits: D logits on generated inputs, any shape.
        real_label: BCE target (1.0).

    Returns:
        float32 scalar >= 0.
    """
    return _bce_with_logits(_scores(fake_logits, "fake_logits"), float(real_label))


def lsgan_d_loss(real_scores, fake_scores, real_label=1.0, fake_label=0.0):
    """LSGAN D loss ``mean((real - real_label)^2) + mean((fake - fake_label)^2)``.

    ``networks.GANLoss(use_lsgan=True)`` in models/networks.py in menyifang/ADGAN
    (``nn.MSELoss``, mean over all elements, target tensors filled with the labels). The
    factors are outside that class: ``backward_D_basic`` in models/adgan.py computes
    ``loss_D = (MSE(real, 1) * lambda_GAN + MSE(fake, 0) * lambda_GAN) * 0.5`` (lambda_GAN
    5 in its scripts/train.sh), i.e. this sum times ``0.5 * lambda_GAN``. DPTN's
    ``gan_mode='lsgan'`` (its default; models/external_function.py and
    ``backward_D_basic`` in models/DPTN_model.py in
    PangzeCheung/Dual-task-Pose-Transformer-Network) is the same with factor ``0.5`` only.

    Args:
        real_scores: D outputs on real inputs (no sigmoid), any shape.
        fake_scores: D outputs on generated inputs, any shape.
        real_label, fake_label: regression targets (1.0 / 0.0).

    Returns:
        float32 scalar >= 0.
    """
    real = _scores(real_scores, "real_scores")
    fake = _scores(fake_scores, "fake_scores")
    return (ops.mean(ops.square(real - float(real_label)))
            + ops.mean(ops.square(fake - float(fake_label))))


def lsgan_g_loss(fake_scores, real_label=1.0):
    """LSGAN G loss ``mean((fake - real_label)^2)``: ``criterionGAN(pred_fake, True)`` in
    models/adgan.py in menyifang/ADGAN (weighted there by ``lambda_GAN``; two
    discriminators' terms averaged) and DPTN's ``GANLoss('lsgan')(D_fake, True, False)``
    (weighted by ``lambda_g`` = 2 in models/DPTN_model.py).

    Args:
        fake_scores: D outputs on generated inputs, any shape.
        real_label: regression target (1.0).

    Returns:
        float32 scalar >= 0.
    """
    return ops.mean(ops.square(_scores(fake_scores, "fake_scores") - float(real_label)))


def wgan_d_loss(real_scores, fake_scores):
    """WGAN critic loss ``mean(fake) - mean(real)``.

    As ``disc_cost`` in trainer.py in charliememory/Disentangled-Person-Image-Generation
    (DPIG, with weight clipping: :func:`clip_weights`). DPTN's ``gan_mode='wgangp'``
    (models/external_function.py in PangzeCheung/Dual-task-Pose-Transformer-Network) has
    the same two means, halved by its ``backward_D_basic`` (``(D_real + D_fake) * 0.5``) before
    its gradient penalty is added.

    Args:
        real_scores: critic outputs on real inputs, any shape.
        fake_scores: critic outputs on generated inputs, any shape.

    Returns:
        float32 scalar (any sign).
    """
    real = _scores(real_scores, "real_scores")
    fake = _scores(fake_scores, "fake_scores")
    return ops.mean(fake) - ops.mean(real)


def wgan_g_loss(fake_scores):
    """WGAN / hinge G loss ``-mean(fake)``: ``gen_cost`` in trainer.py in
    charliememory/Disentangled-Person-Image-Generation; also DPTN's ``GANLoss`` G side for
    'hinge' and 'wgangp' (models/external_function.py in
    PangzeCheung/Dual-task-Pose-Transformer-Network).

    Args:
        fake_scores: critic outputs on generated inputs, any shape.

    Returns:
        float32 scalar (any sign).
    """
    return -ops.mean(_scores(fake_scores, "fake_scores"))


def hinge_d_loss(real_scores, fake_scores):
    """Hinge D loss ``mean(relu(1 - real)) + mean(relu(1 + fake))``.

    DPTN's ``GANLoss('hinge')`` with ``is_disc=True`` (models/external_function.py in
    PangzeCheung/Dual-task-Pose-Transformer-Network) gives ``relu(1 - real).mean()`` and
    ``relu(1 + fake).mean()``; its ``backward_D_basic`` (models/DPTN_model.py) halves their
    sum: ``(real_term + fake_term) * 0.5``. SPADE (models/networks/loss.py in NVlabs/SPADE)
    adds the two terms unhalved. This returns the unhalved sum.

    Args:
        real_scores: D outputs on real inputs, any shape.
        fake_scores: D outputs on generated inputs, any shape.

    Returns:
        float32 scalar >= 0 (0 once real >= 1 and fake <= -1 everywhere).
    """
    real = _scores(real_scores, "real_scores")
    fake = _scores(fake_scores, "fake_scores")
    return ops.mean(ops.relu(1.0 - real)) + ops.mean(ops.relu(1.0 + fake))


hinge_g_loss = wgan_g_loss


def clip_weights(variables, clip=0.01):
    """Clip every variable in place to ``[-clip, clip]`` (WGAN weight clipping).

    As the ``clip_disc_weights`` ops in trainer.py in
    charliememory/Disentangled-Person-Image-Generation (every 'Discriminator' variable,
    weights and biases, to [-0.01, 0.01] after each critic step).

    Args:
        variables: iterable of ``keras.Variable`` / ``tf.Variable`` (float).
        clip: positive bound.

    Returns:
        None; the variables are assigned.
    """
    clip = float(clip)
    if not clip > 0:
        raise ValueError(f"tfposegen.losses.gan.clip_weights: clip must be > 0, got {clip}")
    for v in variables:
        v.assign(ops.clip(v, -clip, clip))


def r1_penalty(discriminator_fn, reals):
    """R1 penalty ``mean_n sum_{h,w,c} (d sum(D(reals)) / d reals)^2``.

    As ``D_logistic_r1`` in training/loss.py in NVlabs/stylegan2: gradients of
    ``reduce_sum(real_scores)`` w.r.t. the reals, squared and summed over every non-batch
    axis, per sample. The original then multiplies by ``gamma * 0.5`` (and, with lazy
    regularisation, by the regularisation interval in training/training_loop.py) and its
    optimizer sums over the minibatch; here the per-sample values are averaged and the
    caller applies ``gamma / 2`` (and the interval).

    TensorFlow-specific (``tf.GradientTape``): call it inside the outer tape that
    differentiates D's weights, which then records this inner gradient.

    Args:
        discriminator_fn: callable images -> scores of any shape with leading batch axis.
        reals: float tensor [N, ...] (e.g. NHWC images in [-1, 1]).

    Returns:
        float32 scalar >= 0.
    """
    reals = tf.convert_to_tensor(_scores(reals, "reals"))
    if reals.shape.rank is not None and reals.shape.rank < 2:
        raise ValueError("tfposegen.losses.gan.r1_penalty: reals must be [N, ...] with "
                         f"rank >= 2, got shape {reals.shape}")
    with tf.GradientTape() as tape:
        tape.watch(reals)
        total = tf.reduce_sum(tf.cast(discriminator_fn(reals), tf.float32))
    grads = tape.gradient(total, reals)
    if grads is None:
        raise ValueError("tfposegen.losses.gan.r1_penalty: discriminator_fn's output does "
                         "not depend on reals")
    per_sample = tf.reduce_sum(tf.square(grads), axis=tf.range(1, tf.rank(grads)))
    return tf.reduce_mean(per_sample)
