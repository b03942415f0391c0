"""DPTN's building blocks (``models/base_function.py`` in
PangzeCheung/Dual-task-Pose-Transformer-Network), NHWC, in the original's layer order.

Every convolution has a bias; ``LeakyReLU`` has slope 0.1 (``get_nonlinearity_layer``); the
norm is ``InstanceNorm2d(affine=True)`` (eps 1e-5) in the generator and absent in the
discriminator (``norm='none'``). Padding is written out where TF's ``same`` would differ:
k4 s2 p1 convs pad one pixel on every side, and a ``ConvTranspose2d(k3, s2, p1,
output_padding 1)`` is a ``valid`` transposed conv (2H + 1) without its first row and
column. ``use_spect`` wraps every convolution in torch-style spectral normalisation
(:class:`tfposegen.layers.spectral_norm.SpectralNormalization`).

Each block keeps its convolutions in ``convs`` and its norms in ``norms`` in the original's
Sequential order; :mod:`tfposegen.models.dptn.weights` names them.
"""

import keras
from keras import layers, ops

from tfposegen.layers.composite import BuiltByFirstCall
from tfposegen.layers.normalization import InstanceNorm
from tfposegen.layers.spectral_norm import SpectralNormalization

SLOPE = 0.1


def conv(filters, kernel, use_spect, strides=1, transpose=False):
    """A bias-carrying Conv2D (``valid``; pad before it) or Conv2DTranspose, spectrally
    normalised when ``use_spect``."""
    cls = layers.Conv2DTranspose if transpose else layers.Conv2D
    layer = cls(filters, kernel, strides=strides, padding="valid")
    return SpectralNormalization(layer) if use_spect else layer


def pad(x, amount=1, mode="constant"):
    """Zero (``constant``) or ``reflect`` padding of H and W of NHWC ``x`` (torch's
    ``ReflectionPad2d`` does not repeat the edge pixel, nor does ``reflect``)."""
    return ops.pad(x, [[0, 0], [amount, amount], [amount, amount], [0, 0]], mode=mode)


def up(layer, x):
    """torch ``ConvTranspose2d(k3, s2, p1, output_padding=1)`` of NHWC ``x``: 2H x 2W."""
    return layer(x)[:, 1:, 1:, :]


class _Block(BuiltByFirstCall, keras.layers.Layer):
    """Common config of the blocks: output channels, hidden channels, norm, SN."""

    def __init__(self, filters, hidden=None, norm=True, use_spect=False, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.hidden = int(filters), int(hidden or filters)
        self.norm, self.use_spect = bool(norm), bool(use_spect)
        self.act = layers.LeakyReLU(SLOPE)

    def _norms(self, n):
        return [InstanceNorm(affine=True) for _ in range(n)] if self.norm else []

    def _n(self, i, x):
        return self.norms[i](x) if self.norm else x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "hidden": self.hidden,
                "norm": self.norm, "use_spect": self.use_spect}


class EncoderBlockOptimized(_Block):
    """conv k4s2p1 -> IN -> LReLU -> conv k3s1p1: [B, H, W, in] -> [B, H/2, W/2, filters]
    (Sequential indices 0, 1, 3)."""

    def __init__(self, filters, **kwargs):
        super().__init__(filters, **kwargs)
        self.convs = [conv(self.filters, 4, self.use_spect, strides=2),
                      conv(self.filters, 3, self.use_spect)]
        self.norms = self._norms(1)

    def call(self, x):
        x = self.act(self._n(0, self.convs[0](pad(x))))
        return self.convs[1](pad(x))


class EncoderBlock(_Block):
    """IN -> LReLU -> conv k4s2p1 -> IN -> LReLU -> conv k3s1p1 (indices 0, 2, 3, 5)."""

    def __init__(self, filters, **kwargs):
        super().__init__(filters, **kwargs)
        self.convs = [conv(self.filters, 4, self.use_spect, strides=2),
                      conv(self.filters, 3, self.use_spect)]
        self.norms = self._norms(2)

    def call(self, x):
        x = self.convs[0](pad(self.act(self._n(0, x))))
        return self.convs[1](pad(self.act(self._n(1, x))))


class ResBlock(_Block):
    """main IN -> LReLU -> conv3 -> IN -> LReLU -> conv3 (indices 0, 2, 3, 5), plus a 1x1
    conv shortcut: same size, ``filters`` channels."""

    def __init__(self, filters, hidden=None, **kwargs):
        super().__init__(filters, hidden, **kwargs)
        self.convs = [conv(self.hidden, 3, self.use_spect), conv(self.filters, 3, self.use_spect),
                      conv(self.filters, 1, self.use_spect)]
        self.norms = self._norms(2)

    def call(self, x):
        y = self.convs[0](pad(self.act(self._n(0, x))))
        y = self.convs[1](pad(self.act(self._n(1, y))))
        return y + self.convs[2](x)


class ResBlockDecoder(_Block):
    """main IN -> LReLU -> conv3 -> IN -> LReLU -> convT3 s2 (indices 0, 2, 3, 5), plus a
    convT3 s2 shortcut: [B, H, W, in] -> [B, 2H, 2W, filters]."""

    def __init__(self, filters, hidden=None, **kwargs):
        super().__init__(filters, hidden, **kwargs)
        self.convs = [conv(self.hidden, 3, self.use_spect),
                      conv(self.filters, 3, self.use_spect, strides=2, transpose=True),
                      conv(self.filters, 3, self.use_spect, strides=2, transpose=True)]
        self.norms = self._norms(2)

    def call(self, x):
        y = self.convs[0](pad(self.act(self._n(0, x))))
        y = up(self.convs[1], self.act(self._n(1, y)))
        return y + up(self.convs[2], x)


class Output(_Block):
    """LReLU -> reflection pad 1 -> conv3 (index 2) -> tanh: [B, H, W, in] -> [B, H, W,
    filters] in (-1, 1)."""

    def __init__(self, filters=3, **kwargs):
        kwargs.pop("norm", None)  # never normalised (a config carries norm=False)
        super().__init__(filters, norm=False, **kwargs)
        self.convs = [conv(self.filters, 3, self.use_spect)]
        self.norms = []

    def call(self, x):
        return ops.tanh(self.convs[0](pad(self.act(x), mode="reflect")))


class ResBlockEncoderOptimized(_Block):
    """Discriminator stem: main conv3 -> LReLU -> conv k4s2p1 (indices 0, 2), shortcut
    avg-pool 2 -> conv1 (index 1): [B, H, W, in] -> [B, H/2, W/2, filters]."""

    def __init__(self, filters, hidden=None, **kwargs):
        kwargs.pop("norm", None)  # never normalised (a config carries norm=False)
        super().__init__(filters, hidden, norm=False, **kwargs)
        self.convs = [conv(self.hidden, 3, self.use_spect),
                      conv(self.filters, 4, self.use_spect, strides=2),
                      conv(self.filters, 1, self.use_spect)]
        self.norms = []
        self.pool = layers.AveragePooling2D(2)

    def call(self, x):
        y = self.convs[1](pad(self.act(self.convs[0](pad(x)))))
        return y + self.convs[2](self.pool(x))


class ResBlockEncoder(ResBlockEncoderOptimized):
    """Discriminator block: main LReLU -> conv3 -> LReLU -> conv k4s2p1 (indices 1, 3),
    shortcut avg-pool 2 -> conv1 (index 1)."""

    def call(self, x):
        y = self.convs[0](pad(self.act(x)))
        y = self.convs[1](pad(self.act(y)))
        return y + self.convs[2](self.pool(x))
