"""Bias + activation + gain, as NVlabs StyleGAN2's ``fused_bias_act`` (no clamping)."""

import math

from keras import ops

# name -> (function of (x, alpha), default alpha, default gain). Same table as the TF1 op.
ACTIVATIONS = {
    "linear": (lambda x, a: x, None, 1.0),
    "relu": (lambda x, a: ops.relu(x), None, math.sqrt(2)),
    "lrelu": (lambda x, a: ops.leaky_relu(x, negative_slope=a), 0.2, math.sqrt(2)),
    "tanh": (lambda x, a: ops.tanh(x), None, 1.0),
    "sigmoid": (lambda x, a: ops.sigmoid(x), None, 1.0),
    "elu": (lambda x, a: ops.elu(x), None, 1.0),
    "selu": (lambda x, a: ops.selu(x), None, 1.0),
    "softplus": (lambda x, a: ops.softplus(x), None, 1.0),
    "swish": (lambda x, a: ops.sigmoid(x) * x, None, math.sqrt(2)),
}


def bias_act(x, b=None, act="linear", alpha=None, gain=None):
    """``act(x + b) * gain`` with the bias broadcast over the last (channel) axis.

    Args:
        x: float tensor [..., C].
        b: bias [C] or None.
        act: a key of ``ACTIVATIONS``; ``lrelu`` uses slope 0.2 and gain sqrt(2) by default
            (applied to both branches), ``linear`` gain 1.
        alpha, gain: override the activation's defaults.

    Returns:
        tensor of the shape and dtype of ``x``.
    """
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; known: {sorted(ACTIVATIONS)}")
    fn, def_alpha, def_gain = ACTIVATIONS[act]
    if b is not None:
        x = x + b
    x = fn(x, def_alpha if alpha is None else alpha)
    gain = def_gain if gain is None else gain
    return x if gain == 1 else x * gain
