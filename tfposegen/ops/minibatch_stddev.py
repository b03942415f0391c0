"""Minibatch standard deviation layer of StyleGAN2's discriminator (NHWC)."""

from keras import ops


def minibatch_stddev(x, group_size=4, num_new_features=1):
    """Append the per-group standard deviation of the activations as new channels.

    As the TF1 layer: groups of ``G = min(group_size, N)`` samples, sample ``i`` in group
    ``i % (N // G)``; channels split into ``num_new_features`` contiguous groups; the std over
    the group members is ``sqrt(var + 1e-8)`` averaged over H, W and the channel group. With a
    batch of 1 the new channel is the constant 1e-4.

    Args:
        x: [N, H, W, C], N divisible by ``min(group_size, N)``.

    Returns:
        [N, H, W, C + num_new_features]; the new channels come last (index C), as in NCHW.
    """
    n, h, w, c = x.shape
    g = min(group_size, n) if n is not None else ops.minimum(group_size, ops.shape(x)[0])
    y = ops.reshape(x, [g, -1, h, w, num_new_features, c // num_new_features])
    y = y - ops.mean(y, axis=0, keepdims=True)
    y = ops.mean(ops.square(y), axis=0)
    y = ops.sqrt(y + 1e-8)
    y = ops.mean(y, axis=[1, 2, 4])  # [M, n]
    y = ops.tile(y[:, None, None, :], [g, h, w, 1])
    return ops.concatenate([x, ops.cast(y, x.dtype)], axis=-1)
