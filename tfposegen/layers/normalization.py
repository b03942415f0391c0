"""Normalisation layers of the PyTorch pose-transfer ports (ADGAN, DPTN, PAINT), NHWC.

- ``InstanceNorm``: ``torch.nn.InstanceNorm2d`` (no running statistics);
- ``AdaptiveInstanceNorm`` and ``split_adain_params``: MUNIT's ``AdaptiveInstanceNorm2d`` and
  the parameter slicing of ``ADGen.assign_adain_params`` (``models/model_adgen.py`` in
  menyifang/ADGAN);
- ``LayerNormMUNIT``: the custom ``LayerNorm`` of that same file (unbiased std, eps on the std);
- ``TorchBatchNorm``: ``torch.nn.BatchNorm2d`` (PAINT's TSN discriminator), and
  ``batch_moments``: batch statistics of the global batch under ``tf.distribute`` (also used by
  ``tf1_batch_norm``).

The instance and layer norms take their statistics over the axes between the batch axis and
the channel (last) axis, so they also take [B, L, C] inputs; per-channel parameters act on
the last axis.
"""

import keras
import tensorflow as tf
from keras import ops


def _check_rank(layer, shape, min_rank):
    if shape is not None and len(shape) < min_rank:
        raise ValueError(f"normalization.py {layer.__class__.__name__} {layer.name!r}: input has "
                         f"shape {tuple(shape)}, need rank >= {min_rank} (batch, ..., channels)")


def _channel_major_mean(x):
    """Mean over the spatial axes of [B, ..., C] -> [B, 1, ..., 1, C], summed channel-major.

    A float32 reduction over the outer (spatial) axes of a channels-last tensor loses about
    1e-5 relative per layer against torch's NCHW sums; reducing contiguous rows of the
    channel-major view keeps ADGAN's 10-layer pose encoder within 2e-5 of the original
    (measured: 1.2e-4 the other way).
    """
    rank = len(x.shape)
    rows = ops.reshape(ops.moveaxis(x, -1, 1), (ops.shape(x)[0], ops.shape(x)[-1], -1))
    mean = ops.mean(rows, axis=-1)
    return ops.reshape(mean, (ops.shape(x)[0],) + (1,) * (rank - 2) + (ops.shape(x)[-1],))


def _instance_normalize(x, epsilon):
    """``(x - mean) / sqrt(var + epsilon)`` per sample and channel over the spatial axes."""
    centred = x - _channel_major_mean(x)
    var = _channel_major_mean(ops.square(centred))  # biased, as torch
    return centred * ops.rsqrt(var + epsilon)


class _AffineNorm(keras.layers.Layer):
    """A normalisation with optional per-channel ``gamma`` / ``beta`` (torch ``affine``)."""

    MIN_RANK = 3

    def __init__(self, epsilon, affine, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.affine = float(epsilon), bool(affine)

    def _gamma_initializer(self):
        return "ones"

    def build(self, input_shape):
        _check_rank(self, input_shape, self.MIN_RANK)
        if self.affine:
            channels = input_shape[-1]
            if channels is None:
                raise ValueError(f"normalization.py {self.__class__.__name__} {self.name!r}: "
                                 f"affine needs a known channel count, got input shape "
                                 f"{tuple(input_shape)}")
            self.gamma = self.add_weight(name="gamma", shape=(channels,),
                                         initializer=self._gamma_initializer())
            self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")
        self.built = True

    def _scale_shift(self, y):
        return y * self.gamma + self.beta if self.affine else y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}


class InstanceNorm(_AffineNorm):
    """``torch.nn.InstanceNorm2d`` on NHWC tensors, without running statistics.

    ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` with mean and biased variance per
    sample and channel over H, W (``InstanceNorm2d`` in ``torch/nn/modules/instancenorm.py`` of
    pytorch/pytorch, ``track_running_stats=False`` as in ADGAN's ``Conv2dBlock(norm='in')``,
    ``models/model_adgen.py`` in menyifang/ADGAN, so training and inference agree).

    The maths equals ``keras.layers.GroupNormalization(groups=-1, epsilon=1e-5,
    center=affine, scale=affine)`` (epsilon inside the square root in both); this class
    exists for torch's defaults (``epsilon=1e-5`` not 1e-3, ``affine=False`` not on), for a
    single ``affine`` switch named as in torch, and for a fixed weight mapping when loading:
    torch ``weight`` -> ``gamma``, ``bias`` -> ``beta`` (both shaped ``(C,)``).

    Input [B, H, W, C] (or [B, L, C]) float, any range; output the same shape.

    Args:
        epsilon: added to the variance (torch ``eps``).
        affine: learn per-channel ``gamma`` (init 1) and ``beta`` (init 0).
    """

    def __init__(self, epsilon=1e-5, affine=False, **kwargs):
        super().__init__(epsilon, affine, **kwargs)

    def call(self, x):
        return self._scale_shift(_instance_normalize(x, self.epsilon))


def split_adain_params(adain_params, channels):
    """Slice an AdaIN parameter vector into per-layer ``(gamma, beta)`` as ADGAN assigns them.

    ``ADGen.assign_adain_params`` (``models/model_adgen.py`` in menyifang/ADGAN, from MUNIT)
    walks the AdaIN layers in module order and, for a layer of ``C`` channels, takes
    ``mean = params[:, :C]`` as the layer's ``bias`` and ``std = params[:, C:2C]`` as its
    ``weight``, then drops those ``2C`` columns: mean (beta) comes first, std (gamma) second.

    Args:
        adain_params: [B, P] float tensor with ``P >= 2 * sum(channels)``.
        channels: channel counts of the AdaIN layers, in the original's module order.

    Returns:
        list of ``(gamma, beta)`` pairs, each [B, C_i], ready for ``AdaptiveInstanceNorm``.

    Raises:
        ValueError: ``adain_params`` has too few columns.
    """
    need = 2 * sum(int(c) for c in channels)
    width = adain_params.shape[-1]
    if width is not None and width < need:
        raise ValueError(f"normalization.py split_adain_params: adain_params has {width} "
                         f"columns, the layers {list(channels)} need {need}")
    out, start = [], 0
    for c in channels:
        beta = adain_params[:, start:start + c]
        gamma = adain_params[:, start + c:start + 2 * c]
        out.append((gamma, beta))
        start += 2 * c
    return out


class AdaptiveInstanceNorm(keras.layers.Layer):
    """Adaptive instance norm: ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``.

    MUNIT's ``AdaptiveInstanceNorm2d`` (``models/model_adgen.py`` in menyifang/ADGAN) has no
    parameters of its own: ``weight`` and ``bias`` are set from outside (an MLP on the style
    code) before each forward, which runs ``F.batch_norm(training=True)`` on the [1, B*C, H, W]
    view. In training mode batch norm ignores the (dummy) running statistics, so each of the
    ``B*C`` maps is normalised by its own mean and biased variance and scaled by
    ``weight[b*C + c]`` / shifted by ``bias[b*C + c]``: instance norm with per-sample affine
    parameters. Here those arrive as ``gamma`` / ``beta`` of shape [B, C] (``weight`` / ``bias``
    reshaped; see ``split_adain_params`` for ADGAN's slicing order).

    Call with ``(x, gamma, beta)``: x [B, H, W, C] (or [B, L, C]) float, any range; gamma and
    beta [B, C]. Output shaped like x.

    Args:
        epsilon: added to the variance (torch ``eps``, 1e-5 in ADGAN).
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, x_shape, gamma_shape=None, beta_shape=None):
        _check_rank(self, x_shape, 3)
        for name, shape in (("gamma", gamma_shape), ("beta", beta_shape)):
            if shape is None:
                continue
            known = shape[-1] is not None and x_shape[-1] is not None
            if len(shape) != 2 or (known and shape[-1] != x_shape[-1]):
                raise ValueError(f"normalization.py AdaptiveInstanceNorm {self.name!r}: {name} "
                                 f"has shape {tuple(shape)}, need (batch, {x_shape[-1]})")
        self.built = True

    def call(self, x, gamma, beta):
        expand = (slice(None),) + (None,) * (len(x.shape) - 2) + (slice(None),)
        return _instance_normalize(x, self.epsilon) * gamma[expand] + beta[expand]

    def compute_output_shape(self, x_shape, gamma_shape=None, beta_shape=None):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class LayerNormMUNIT(_AffineNorm):
    """MUNIT's layer norm: ``(x - mean) / (std + epsilon) * gamma + beta``, std unbiased.

    ``LayerNorm`` of ``models/model_adgen.py`` in menyifang/ADGAN (ADGAN's decoder uses it after
    the upsampling convolutions). Per sample, ``mean`` and ``std`` are taken over all of
    (H, W, C) together, ``std`` with torch's default ``.std()``, i.e. unbiased
    (``sqrt(sum((x - mean)^2) / (n - 1))``), and ``epsilon`` is added to the std, not to the
    variance. ``gamma`` / ``beta`` are per channel (torch init: uniform [0, 1) and zeros).

    The original has a special branch for batch size 1 (``x.view(-1).mean()`` /
    ``x.view(-1).std()``, noted there as faster on pytorch 0.4); with one sample the whole
    tensor is that sample, so it computes the same per-sample statistics as the general branch
    (``x.view(B, -1).mean(1)`` / ``.std(1)``). One formula here covers both.

    Input [B, ..., C] float (e.g. [B, H, W, C], or [B, C] as in MUNIT's ``LinearBlock``), any
    range, at least 2 elements per sample; output the same shape.

    Args:
        epsilon: added to the standard deviation.
        affine: learn ``gamma`` / ``beta`` (named as in the torch module).
    """

    MIN_RANK = 2

    def __init__(self, epsilon=1e-5, affine=True, **kwargs):
        super().__init__(epsilon, affine, **kwargs)

    def _gamma_initializer(self):
        return keras.initializers.RandomUniform(0.0, 1.0)

    def call(self, x):
        axes = tuple(range(1, len(x.shape)))
        count = ops.cast(ops.prod(ops.shape(x)[1:]), x.dtype)
        mean = ops.mean(x, axis=axes, keepdims=True)
        centred = x - mean
        std = ops.sqrt(ops.sum(ops.square(centred), axis=axes, keepdims=True) / (count - 1.0))
        return self._scale_shift(centred / (std + self.epsilon))


def batch_moments(x):
    """Per-channel mean and biased variance of NHWC ``x`` over (N, H, W): [C] each. Under a
    ``tf.distribute`` strategy with several replicas, those of the GLOBAL batch (sums
    all-reduced; their gradient is the all-reduced upstream gradient), so every replica
    normalises as one device with the whole batch would."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return ops.moments(x, axes=[0, 1, 2])
    total = tf.distribute.ReduceOp.SUM
    n = ctx.all_reduce(total, ops.cast(ops.prod(ops.shape(x)[:3]), x.dtype))
    mean = ctx.all_reduce(total, ops.sum(x, axis=[0, 1, 2])) / n
    var = ctx.all_reduce(total, ops.sum(ops.square(x - mean), axis=[0, 1, 2])) / n
    return mean, var


@keras.saving.register_keras_serializable("tfposegen")
class TorchBatchNorm(keras.layers.Layer):
    """``nn.BatchNorm2d`` (affine, eps 1e-5, momentum 0.1) on NHWC tensors, torch semantics:
    training normalises with the batch mean and biased variance over (B, H, W)
    (:func:`batch_moments`: the global batch under ``tf.distribute``) and updates
    ``moving_mean`` / ``moving_variance`` by ``0.9 old + 0.1 batch`` with the UNBIASED batch
    variance (Keras' ``BatchNormalization`` uses the biased one); inference uses the moving
    statistics. Weights ``gamma``, ``beta`` (torch ``weight``, ``bias``), ``moving_mean``,
    ``moving_variance`` (``running_mean``, ``running_var``; not trainable). Torch's
    ``num_batches_tracked`` only matters with ``momentum=None`` and is not kept.
    Input / output float [B, H, W, C]."""

    def __init__(self, epsilon=1e-5, momentum=0.1, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.momentum = float(epsilon), float(momentum)

    def build(self, input_shape):
        c = (int(input_shape[-1]),)
        self.gamma = self.add_weight(name="gamma", shape=c, initializer="ones")
        self.beta = self.add_weight(name="beta", shape=c, initializer="zeros")
        self.moving_mean = self.add_weight(name="moving_mean", shape=c, initializer="zeros",
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=c,
                                               initializer="ones", trainable=False)
        self.built = True

    def call(self, x, training=False):
        if training:
            mean, var = batch_moments(x)
            n = ops.cast(ops.shape(x)[0] * ops.shape(x)[1] * ops.shape(x)[2], x.dtype)
            ctx = tf.distribute.get_replica_context()
            if ctx is not None and ctx.num_replicas_in_sync > 1:
                n = n * ctx.num_replicas_in_sync
            m = self.momentum
            self.moving_mean.assign((1.0 - m) * self.moving_mean + m * ops.stop_gradient(mean))
            self.moving_variance.assign((1.0 - m) * self.moving_variance + m * ops.stop_gradient(
                var) * n / ops.maximum(n - 1.0, 1.0))
        else:
            mean, var = self.moving_mean, self.moving_variance
        return (x - mean) * ops.rsqrt(var + self.epsilon) * self.gamma + self.beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "momentum": self.momentum}
