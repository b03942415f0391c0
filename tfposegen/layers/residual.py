"""Residual blocks with an identity skip: ``y = x + act(b(act(a(x))))``.

DPIG's blocks (``models.py`` in charliememory/Disentangled-Person-Image-Generation, built
from ``tf.contrib.slim``): two 3x3 SAME convolutions with bias (encoders, generator) or two
dense layers (pose auto-encoder, mapping networks), no activation after the add. The inner
layers carry the original's TF1 names so checkpoints load by name.
"""

import keras


class _ResidualPair(keras.layers.Layer):
    """``y = x + b(a(x))`` for two inner layers of equal width made by ``_inner(name)``."""

    def __init__(self, width, names, activation, **kwargs):
        super().__init__(**kwargs)
        self.width, self.activation = int(width), activation
        self.names = list(names)
        self.inner_a, self.inner_b = (self._inner(n) for n in self.names)

    def _inner(self, name):
        raise NotImplementedError

    def build(self, input_shape):
        if input_shape[-1] != self.width:
            raise ValueError(f"{self.name}: input has {input_shape[-1]} channels, the identity "
                             f"skip needs {self.width}")
        self.inner_a.build(input_shape)
        self.inner_b.build(input_shape)
        self.built = True

    def call(self, x):
        return x + self.inner_b(self.inner_a(x))

    def slim_layers(self):
        """The two inner layers, in TF1 creation order."""
        return [self.inner_a, self.inner_b]


class ResidualConv(_ResidualPair):
    """Two 3x3 SAME convolutions with bias keeping ``filters`` channels, identity skip.

    Input and output [B, H, W, filters], any range.

    Args:
        filters: channel count (must equal the input's).
        conv_names: TF1 names of the two convolutions (e.g. ``("Conv_1", "Conv_2")``).
        activation: Keras activation name ("relu" in DPIG's encoders and generator).
    """

    def __init__(self, filters, conv_names, activation="relu", **kwargs):
        super().__init__(filters, conv_names, activation, **kwargs)

    @property
    def filters(self):
        return self.width

    @property
    def conv_names(self):
        return self.names

    def _inner(self, name):
        return keras.layers.Conv2D(self.width, 3, padding="same", activation=self.activation,
                                   name=name)

    def get_config(self):
        return {**super().get_config(), "filters": self.width, "conv_names": self.names,
                "activation": self.activation}


class ResidualDense(_ResidualPair):
    """Two dense layers of ``units`` features, identity skip.

    Input and output [B, units]. DPIG uses activation "leaky_relu" (slope 0.2, the
    ``LeakyReLU`` of its ``wgan_gp.py``).

    Args:
        units: width (must equal the input's).
        dense_names: TF1 names of the two layers (e.g. ``("fully_connected_1",
            "fully_connected_2")``).
        activation: Keras activation name.
    """

    def __init__(self, units, dense_names, activation="leaky_relu", **kwargs):
        super().__init__(units, dense_names, activation, **kwargs)

    @property
    def units(self):
        return self.width

    @property
    def dense_names(self):
        return self.names

    def _inner(self, name):
        return keras.layers.Dense(self.width, activation=self.activation, name=name)

    def get_config(self):
        return {**super().get_config(), "units": self.width, "dense_names": self.names,
                "activation": self.activation}
