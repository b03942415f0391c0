"""NVIDIA's partial convolution (``PartialConv2d``, Liu et al. 2018), NHWC.

The original is ``partialconv2d.py`` of NVIDIA/partialconv, copied as
``TSN/core/partialconv2d.py`` into gxl-groups/PAINT (PAINT's TSN swatch encoders) and into
researchmm/PEN-Net-for-Inpainting. It is an ``nn.Conv2d`` whose output is renormalised by
the share of valid input pixels each window saw, and which also returns the updated mask.
"""

import keras
from keras import ops


def _pad(x, amount):
    if not amount:
        return x
    return ops.pad(x, [[0, 0], [amount, amount], [amount, amount], [0, 0]])


@keras.saving.register_keras_serializable("tfposegen_layers")
class PartialConv2D(keras.layers.Layer):
    """``PartialConv2d`` (NVIDIA; ``TSN/core/partialconv2d.py`` in gxl-groups/PAINT) on NHWC
    tensors, square kernels, zero padding ``padding`` on every side (as ``nn.Conv2d``).

    Call: ``layer(x, mask=None)`` with ``x`` float [B, H, W, Cin] (any range) and ``mask``
    float [B, H, W, Cin] (``multi_channel``) or [B, H, W, 1] (1 = valid, 0 = hole; usually
    0/1). A one-channel mask stands for every input channel (``multi_channel=True``
    counts it ``Cin`` times, as the original counts ``cat([m] * Cin)``). Without a mask the
    original uses an all-ones mask, so border windows are still rescaled (its cache of the
    previous call's mask, taken when no mask is passed and the shape is unchanged, is not
    reproduced: TSN always passes one).

    With ``count`` = conv(mask, ones) over the window (and, ``multi_channel``, the channels),
    ``upd = clip(count, 0, 1)`` and ``ratio = upd * window / (count + 1e-8)`` (``window`` =
    Cin k^2 for ``multi_channel``, else k^2):

        out = (conv(x * mask) * ratio + bias) * upd

    i.e. the bias is not rescaled, and output and mask are 0 where a window saw no valid
    pixel. Returns ``out`` [B, H', W', filters] and, with ``return_mask``, ``upd``
    [B, H', W', filters] (``multi_channel``; every channel equal) or [B, H', W', 1].

    Weights ``kernel`` [k, k, Cin, filters] (torch ``weight`` permuted (2, 3, 1, 0)) and
    ``bias`` [filters]; the all-ones mask kernel is a constant, not a weight (the original
    keeps it out of the state dict too).

    Args:
        filters: output channels.
        kernel_size: k.
        strides: stride.
        padding: zero padding per side (an int, as torch ``padding``).
        dilation_rate: dilation.
        use_bias: torch ``bias``.
        multi_channel: torch ``multi_channel`` (TSN: True).
        return_mask: torch ``return_mask`` (TSN: True).
    """

    def __init__(self, filters, kernel_size, strides=1, padding=0, dilation_rate=1,
                 use_bias=True, multi_channel=False, return_mask=False, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.strides, self.padding = int(strides), int(padding)
        self.dilation_rate, self.use_bias = int(dilation_rate), bool(use_bias)
        self.multi_channel, self.return_mask = bool(multi_channel), bool(return_mask)

    def build(self, x_shape, mask_shape=None):
        channels = x_shape[-1]
        if channels is None:
            raise ValueError(f"partial_conv.py PartialConv2D {self.name!r}: the channel count "
                             f"must be known, got input shape {tuple(x_shape)}")
        self.in_channels = int(channels)
        k = self.kernel_size
        self.kernel = self.add_weight(name="kernel", shape=(k, k, self.in_channels,
                                                            self.filters),
                                      initializer="glorot_uniform")
        self.bias = (self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
                     if self.use_bias else None)
        self.built = True

    def _conv(self, x, kernel):
        return ops.conv(_pad(x, self.padding), kernel, strides=self.strides, padding="valid",
                        dilation_rate=self.dilation_rate)

    def call(self, x, mask=None):
        k = self.kernel_size
        mask = ops.ones_like(x[..., :1]) if mask is None else ops.cast(mask, x.dtype)
        one_channel = mask.shape[-1] == 1
        if self.multi_channel:
            window = self.in_channels * k * k
            per_pixel = ops.sum(mask, axis=-1, keepdims=True) if not one_channel else mask
            count = self._conv(per_pixel, ops.ones((k, k, 1, 1), x.dtype))
            if one_channel:
                count = count * float(self.in_channels)
        else:
            if not one_channel:
                raise ValueError(f"partial_conv.py PartialConv2D {self.name!r}: without "
                                 f"multi_channel the mask has one channel, got "
                                 f"{tuple(mask.shape)}")
            window = k * k
            count = self._conv(mask, ops.ones((k, k, 1, 1), x.dtype))
        upd = ops.clip(count, 0.0, 1.0)
        ratio = float(window) / (count + 1e-8) * upd
        out = self._conv(x * mask, self.kernel) * ratio
        if self.bias is not None:
            out = (out + self.bias) * upd
        if not self.return_mask:
            return out
        if self.multi_channel:
            upd = ops.broadcast_to(upd, ops.shape(out))
        return out, upd

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "dilation_rate": self.dilation_rate,
                "use_bias": self.use_bias, "multi_channel": self.multi_channel,
                "return_mask": self.return_mask}
