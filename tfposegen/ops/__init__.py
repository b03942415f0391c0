"""Tensor math with no I/O: upfirdn2d, bias_act, modulated convolution, minibatch stddev,
legacy (TF1) bilinear resize, DPIG's pose representations, and the warps of
:mod:`tfposegen.ops.warp` (torch's ``grid_sample``, PAINT's ``bilinear_warp``, the
Resample2d sampler).

The StyleGAN2 ops are NHWC, written with ``keras.ops`` (differentiable, usable inside
``tf.function(jit_compile=True)``), and reproduce the TF1 semantics of NVlabs StyleGAN2.
Under XLA some ops take equal forms that XLA's CPU backend runs faster (``xla``): the
stride-2 convolutions of ``upfirdn2d`` and VGG's 2x2 max pooling (``pooling``).
``pose`` (import it as ``tfposegen.pose.maps``): DPIG pose heat-maps, normalised RCV, pose
masks and part boxes as TF ops for tf.data and models, each with a numpy twin for the
converters.
"""

from tfposegen.ops.bias_act import ACTIVATIONS, bias_act
from tfposegen.ops.minibatch_stddev import minibatch_stddev
from tfposegen.ops.modulated_conv2d import modulated_conv2d
from tfposegen.ops.pooling import max_pool_2x2
from tfposegen.ops.resize import (
    legacy_bilinear_weights,
    resize_bilinear_legacy,
    resize_nearest_legacy,
)
from tfposegen.ops.upfirdn2d import (
    conv_downsample2d,
    downsample2d,
    filter2d,
    setup_filter,
    upfirdn2d,
    upsample2d,
    upsample_conv2d,
)

__all__ = ["ACTIVATIONS", "bias_act", "conv_downsample2d", "downsample2d", "filter2d",
           "legacy_bilinear_weights", "max_pool_2x2", "minibatch_stddev", "modulated_conv2d",
           "resize_bilinear_legacy", "resize_nearest_legacy", "setup_filter", "upfirdn2d",
           "upsample2d", "upsample_conv2d"]
