"""Spectral normalisation as ``torch.nn.utils.spectral_norm`` does it, for Keras 3 layers.

Follows ``SpectralNorm`` in ``torch/nn/utils/spectral_norm.py`` of pytorch/pytorch (used by
the discriminators of the pose-transfer ports). Differences from
``keras.layers.SpectralNormalization``, which is why this is a separate class:

- the wrapped layer's kernel stays the raw, trainable weight (torch ``weight_orig``); the
  normalised kernel is computed in every call and never written back (Keras overwrites the
  kernel with ``W / sigma`` at each training step);
- ``sigma`` is recomputed in inference too, from the stored ``u`` and ``v`` without updating
  them (torch ``eval()``), and both vectors are non-trainable weights, so a torch checkpoint's
  ``weight_u`` / ``weight_v`` load into ``u`` / ``v`` verbatim;
- transposed convolutions normalise over their output channels (torch ``dim=1``), where Keras
  takes the kernel's last axis (the input channels of ``Conv2DTranspose``).

ADGAN's own ``SpectralNorm`` (``models/model_adgen.py`` in menyifang/ADGAN, unused by its
configurations) differs from torch's (``weight_bar`` names, power iteration in eval mode too,
``v / (|v| + eps)``); it is not what this layer reproduces.
"""

import math

import keras
import numpy as np
from keras import ops

_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_CONV_T = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
           keras.layers.Conv3DTranspose)


def _normalize(x, eps):
    """``torch.nn.functional.normalize`` of a vector: ``x / max(|x|_2, eps)``."""
    return x / ops.maximum(ops.norm(x), eps)


def _unit_normal(shape, dtype=None):
    """Torch's ``u`` / ``v`` initialisation: a standard normal vector scaled to unit length.
    Drawn with numpy's global generator (seeded by ``keras.utils.set_random_seed``), so the
    layer can be built inside a parent's first call, where Keras' own generator state may not
    exist yet."""
    x = np.random.normal(size=shape)
    return ops.convert_to_tensor(x / max(np.linalg.norm(x), 1e-12), dtype=dtype or "float32")


def torch_layout_permutation(layer):
    """Axis permutation taking ``layer.kernel`` to torch's layout with the normalised axis first.

    torch reshapes the weight to a matrix ``(weight.shape[dim], -1)`` in its own axis order:
    ``Conv{1,2,3}d`` weights are (out, in, *k) with ``dim=0``; ``ConvTranspose{1,2,3}d``
    weights are (in, out, *k) with ``dim=1``, permuted to (out, in, *k); ``Linear`` weights
    are (out, in). Keras kernels are (*k, in, out) for convolutions, (*k, out, in) for
    transposed ones and (in, out) for ``Dense``, so every case maps to (out, in, *k) and the
    matrix's columns run over (in, *k) exactly as torch's do: ``v`` needs no reordering.

    Args:
        layer: a ``Dense``, ``Conv{1,2,3}D`` or ``Conv{1,2,3}DTranspose`` layer.

    Returns:
        tuple of ints for ``ops.transpose(layer.kernel, perm)``.

    Raises:
        ValueError: any other layer type.
    """
    if isinstance(layer, keras.layers.Dense):
        return (1, 0)
    if isinstance(layer, _CONV_T):
        spatial = tuple(range(layer.rank))
        return (layer.rank, layer.rank + 1) + spatial
    if isinstance(layer, _CONV):
        spatial = tuple(range(layer.rank))
        return (layer.rank + 1, layer.rank) + spatial
    raise ValueError(f"spectral_norm.py: cannot wrap {type(layer).__name__}; supported are "
                     "Dense, Conv1D/2D/3D and Conv1D/2D/3DTranspose")


class SpectralNormalization(keras.layers.Wrapper):
    """Wrap a ``Dense`` / convolution so it uses ``kernel / sigma``, torch-style.

    With ``W`` the kernel as a (out, in*k) matrix in torch's order (see
    ``torch_layout_permutation``), each training call (``training=True``) first runs
    ``n_power_iterations`` of ``v = normalize(W^T u)``, ``u = normalize(W v)``
    (``normalize(x) = x / max(|x|, eps)``) and stores the new ``u``, ``v``; every call then uses
    ``sigma = u . (W v)`` with ``u`` and ``v`` held constant for gradients, and applies the
    wrapped layer's op, bias and activation with ``W / sigma``. Inference calls
    (``training`` False or None) do not touch ``u`` and ``v``.

    Weights: the inner layer's ``kernel`` (torch ``weight_orig``, converted to Keras layout as
    usual) and ``bias``; ``u`` (out,) and ``v`` (in*k,), non-trainable, loaded from torch's
    ``weight_u`` and ``weight_v`` unchanged. Convolutions must be ``channels_last``.

    Inputs and outputs are those of the wrapped layer (float, any range).

    Args:
        layer: an unbuilt or built ``Dense``, ``Conv{1,2,3}D`` or ``Conv{1,2,3}DTranspose``.
        n_power_iterations: power iterations per training call (torch default 1).
        eps: the norm floor of ``normalize`` (torch default 1e-12).
    """

    def __init__(self, layer, n_power_iterations=1, eps=1e-12, **kwargs):
        super().__init__(layer, **kwargs)
        self.perm = torch_layout_permutation(layer)
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise ValueError(f"spectral_norm.py: {layer.name!r} has data_format "
                             f"{layer.data_format!r}; only channels_last is supported")
        if int(n_power_iterations) < 0:
            raise ValueError("spectral_norm.py: n_power_iterations must be >= 0, got "
                             f"{n_power_iterations}")
        self.n_power_iterations, self.eps = int(n_power_iterations), float(eps)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        if getattr(self.layer, "lora_enabled", False) or self.layer.quantization_mode:
            raise ValueError(f"spectral_norm.py: {self.layer.name!r} is quantised or has LoRA; "
                             "only plain float kernels can be normalised")
        shape = [self.layer.kernel.shape[p] for p in self.perm]
        self.matrix_shape = (shape[0], math.prod(shape[1:]))
        # the power iteration depends on the kernel only: every replica of a tf.distribute
        # strategy computes the same u, v; the first replica's are kept (as torch's
        # DataParallel keeps device 0's buffers)
        self.u = self.add_weight(name="u", shape=(self.matrix_shape[0],),
                                 initializer=_unit_normal, trainable=False,
                                 aggregation="only_first_replica")
        self.v = self.add_weight(name="v", shape=(self.matrix_shape[1],),
                                 initializer=_unit_normal, trainable=False,
                                 aggregation="only_first_replica")
        self.built = True

    def weight_matrix(self):
        """The kernel as torch's (out, in*k) matrix, differentiable; float."""
        return ops.reshape(ops.transpose(self.layer.kernel, self.perm), self.matrix_shape)

    def normalized_kernel(self, training=False):
        """``kernel / sigma`` in Keras layout; with ``training`` the power iteration runs first
        and ``u`` / ``v`` are updated."""
        w = self.weight_matrix()
        u, v = self.u.value, self.v.value
        if training and self.n_power_iterations:
            w_const = ops.stop_gradient(w)
            for _ in range(self.n_power_iterations):
                v = _normalize(ops.matmul(u, w_const), self.eps)  # W^T u
                u = _normalize(ops.matmul(w_const, v), self.eps)
            self.u.assign(u)
            self.v.assign(v)
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        sigma = ops.sum(u * ops.matmul(w, v))
        return self.layer.kernel / sigma

    def call(self, inputs, training=None):
        kernel = self.normalized_kernel(training=bool(training))
        layer = self.layer
        if isinstance(layer, keras.layers.Dense):
            outputs = ops.matmul(inputs, kernel)
        elif isinstance(layer, _CONV_T):
            outputs = ops.conv_transpose(
                inputs, kernel, strides=list(layer.strides), padding=layer.padding,
                output_padding=layer.output_padding, dilation_rate=layer.dilation_rate,
                data_format=layer.data_format)
        else:
            outputs = layer.convolution_op(inputs, kernel)
        if layer.use_bias:
            outputs = outputs + layer.bias
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "n_power_iterations": self.n_power_iterations,
                "eps": self.eps}
