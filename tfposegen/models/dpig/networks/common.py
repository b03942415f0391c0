"""Pieces every DPIG network shares: slim's layer naming, models that list their TF1
variables, the residual stages of the encoders and the generator, embedding helpers."""

import keras
from keras import ops

from tfposegen.layers.residual import ResidualConv


def straight_through_round(x):
    """Round to the nearest integer (half to even, as ``tf.round``) with an identity gradient.

    The TF1 code overrides the gradient of ``tf.round`` with ``Identity``; here
    ``x + stop_gradient(round(x) - x)``, which equals ``round(x)`` exactly for x in [0, 1].

    Args:
        x: float tensor, any shape (the pose decoder's sigmoid outputs in [0, 1]).

    Returns:
        tensor of the shape of ``x`` with integer values; d(out)/dx = 1.
    """
    return x + ops.stop_gradient(ops.round(x) - x)


def broadcast_embedding(embedding, height, width):
    """Repeat an embedding over all pixels: [B, D] -> [B, height, width, D].

    The TF1 code tiles to [B, D, H*W], reshapes to NCHW and transposes to NHWC; every pixel
    then holds the whole embedding, which is what this returns.

    Args:
        embedding: float tensor [B, D] (D = 224 on DeepFashion, 352 on Market), unbounded.
        height, width: ints, the image size.

    Returns:
        float tensor [B, height, width, D].
    """
    return ops.tile(embedding[:, None, None, :], [1, int(height), int(width), 1])


def _halve(size):
    """Output size of a stride-2 SAME convolution: ceil(size / 2)."""
    return (size + 1) // 2


class _SlimNames:
    """slim's layer names in one variable scope: ``Conv``, ``Conv_1``, ... per layer type."""

    def __init__(self):
        self.counts = {}

    def __call__(self, base):
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"


def _conv(names, filters, kernel_size=3, strides=1, activation=None):
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                               activation=activation, name=names("Conv"))


def _dense(names, units, activation=None):
    return keras.layers.Dense(units, activation=activation, name=names("fully_connected"))


class _ExplicitSignatureModel(keras.Model):
    """A multi-input model without Keras' implicit SavedModel signature (traced from build
    shapes, which these models do not record); ``tfposegen.export`` gives explicit ones."""

    @property
    def _default_save_signature(self):
        return None


class _SlimModel(_ExplicitSignatureModel):
    """A model of slim layers inside one TF1 variable scope (``tf_scope``)."""

    def __init__(self, tf_scope="", **kwargs):
        super().__init__(**kwargs)
        self.tf_scope = tf_scope

    def _slim_layers(self):
        """Conv2D / Dense / residual layers in TF1 creation order."""
        raise NotImplementedError

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable), every weight once, in TF1 order."""
        out = []
        for layer in self._slim_layers():
            leaves = layer.slim_layers() if hasattr(layer, "slim_layers") else [layer]
            for leaf in leaves:
                out.append((f"{self.tf_scope}/{leaf.name}/weights", leaf.kernel))
                out.append((f"{self.tf_scope}/{leaf.name}/biases", leaf.bias))
        return out

    def tf1_owns(self, key):
        """Whether a checkpoint key is a model variable of this model's scope (slot variables
        such as ``.../weights/Adam`` are not)."""
        scope, _, leaf = key.rpartition("/")
        return leaf in ("weights", "biases") and scope.startswith(f"{self.tf_scope}/")

    def get_config(self):
        return {**super().get_config(), "tf_scope": self.tf_scope}


def _conv_stages(names, num_blocks, hidden, activation, prefix):
    """Residual stages (encoders, generator encoder half): block k at hidden*(k+1) channels,
    then (k < n-1) a 3x3 stride-2 conv to hidden*(k+2). Returns [(ResidualConv, conv | None)]."""
    stages = []
    for k in range(num_blocks):
        filters = hidden * (k + 1)
        block = ResidualConv(filters, (names("Conv"), names("Conv")), activation,
                             name=f"{prefix}block{k}")
        down = None
        if k < num_blocks - 1:
            down = _conv(names, hidden * (k + 2), 3, 2, activation)
        stages.append((block, down))
    return stages


def _build_stages(stages, shape):
    """Build ``_conv_stages`` for an input shape (B, H, W, C); returns the output shape."""
    b, h, w, _ = shape
    for block, down in stages:
        block.build((b, h, w, block.filters))
        if down is not None:
            down.build((b, h, w, block.filters))
            h, w = _halve(h), _halve(w)
    return b, h, w, stages[-1][0].filters


def _run_stages(stages, x, skips=None):
    for block, down in stages:
        x = block(x)
        if skips is not None:
            skips.append(x)
        if down is not None:
            x = down(x)
    return x


def _stage_layers(stages):
    out = []
    for block, down in stages:
        out += [block] + ([down] if down is not None else [])
    return out


def _part_features(flat, num_parts, part_dim, visibility):
    """[P*B, d] part-major rows -> [B, P*d] (parts 1..P along features), times visibility."""
    parts = ops.transpose(ops.reshape(flat, [num_parts, -1, part_dim]), [1, 0, 2])
    if visibility is not None:
        parts = parts * ops.cast(visibility, parts.dtype)[:, :, None]
    return ops.reshape(parts, [-1, num_parts * part_dim])
