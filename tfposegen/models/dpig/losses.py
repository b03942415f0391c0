"""DPIG losses and their weights (``trainer.py`` / ``trainer_256.py`` in
charliememory/Disentangled-Person-Image-Generation).

Stage I (101 / 1): DCGAN on an unconditional image critic plus L1 reconstruction of the
source image from its own appearance and pose; the pose auto-encoder (102 / 2) an MSE on
normalised RCV coordinates. Stage II (103, 104 / 3, 4): weight-clipping WGAN between real
embeddings of a frozen encoder and fake ones of a mapping net fed N(0, 0.2^2) noise.
"""

import tensorflow as tf

from tfposegen.losses import gan

L1_WEIGHT = 20.0  # hard-coded in the original; --L1Loss_weight is ignored there
POSE_WEIGHT = 20.0  # 102 / 2 minimise 20 * reconstruct_loss
CLIP = 0.01  # WGAN critic weights and biases clipped to [-CLIP, CLIP]
CRITIC_ITERS = 5  # critic steps per generator step in WGAN mode
NOISE_STDDEV = 0.2  # mapping-net noise


def dcgan_losses(real_logits, fake_logits):
    """DCGAN losses on critic logits (any shape, e.g. [N] or [8N] on DF at 256x256).

    Returns:
        (g_loss, d_loss) scalars: ``mean BCE(fake, 1)`` and
        ``(mean BCE(fake, 0) + mean BCE(real, 1)) / 2``.
    """
    return gan.bce_g_loss(fake_logits), gan.bce_d_loss(real_logits, fake_logits) / 2.0


def wgan_losses(real_scores, fake_scores):
    """WGAN losses on critic scores [N]: ``(-mean C(fake), mean C(fake) - mean C(real))``."""
    return gan.wgan_g_loss(fake_scores), gan.wgan_d_loss(real_scores, fake_scores)


def reconstruction_losses(generated, images, mask):
    """L1 terms of stage I.

    Args:
        generated: generator output [B, H, W, 3], [-1, 1] units, unclipped.
        images: targets [B, H, W, 3] in [-1, 1].
        mask: pose mask [B, H, W, 1] in {0, 1}.

    Returns:
        (L1Loss, PoseMaskLoss) scalars: ``mean |G - x|`` (optimised, times
        :data:`L1_WEIGHT`) and ``mean |G - x| * mask`` (logged only).
    """
    diff = tf.abs(generated - images)
    return tf.reduce_mean(diff), tf.reduce_mean(diff * mask)


def pose_reconstruction_loss(rcv_norm, decoded):
    """``mean (rcv_norm - decoded)^2`` over [B, 18, 3] (logged; optimised times
    :data:`POSE_WEIGHT`). Inputs are normalised RCV (rows / cols in [-1, 1], vis {0, 1})."""
    return tf.reduce_mean(tf.square(tf.cast(rcv_norm, tf.float32) - decoded))


__all__ = ["CLIP", "CRITIC_ITERS", "L1_WEIGHT", "NOISE_STDDEV", "POSE_WEIGHT", "dcgan_losses",
           "pose_reconstruction_loss", "reconstruction_losses", "wgan_losses"]
