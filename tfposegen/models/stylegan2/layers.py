"""StyleGAN2 building blocks with equalized learning rate, NHWC.

Weights are stored as in the TF1 code ("unit scale": N(0, 1/lrmul^2) at init) and multiplied at
run time by ``gain / sqrt(fan_in) * lr_multiplier``; biases by ``lr_multiplier``. Each layer
knows its TF1 variable scope (``tf_scope``), so official weights map onto it by name.
"""

import math

import keras
from keras import ops

from tfposegen.ops import bias_act, conv_downsample2d, modulated_conv2d, upsample_conv2d


class _TFScoped(keras.layers.Layer):
    """A layer whose variables carry TF1 local names ``<tf_scope>/<name>``."""

    def __init__(self, tf_scope="", **kwargs):
        super().__init__(**kwargs)
        self.tf_scope = tf_scope

    def dnnlib_variables(self):
        """Returns list of (TF1 local name, variable) in TF1 creation order."""
        prefix = f"{self.tf_scope}/" if self.tf_scope else ""
        return [(prefix + v.name, v) for v in self.weights]

    def get_config(self):
        return {**super().get_config(), "tf_scope": self.tf_scope}


class EqualizedDense(_TFScoped):
    """Fully connected layer with equalized learning rate, then bias + activation.

    Input [N, Cin] -> output [N, units]. ``weight`` [Cin, units], ``bias`` [units].
    """

    def __init__(self, units, lr_multiplier=1.0, gain=1.0, use_bias=True, activation="linear",
                 weight_name="weight", bias_name="bias", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.lr_multiplier = lr_multiplier
        self.gain = gain
        self.use_bias = use_bias
        self.activation = activation
        self.weight_name = weight_name
        self.bias_name = bias_name

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.weight = self.add_weight(
            name=self.weight_name, shape=(fan_in, self.units),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_multiplier))
        self.weight_gain = self.gain / math.sqrt(fan_in) * self.lr_multiplier
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name=self.bias_name, shape=(self.units,),
                                        initializer="zeros")
        self.built = True

    def call(self, x):
        y = ops.matmul(x, self.weight * self.weight_gain)
        b = None if self.bias is None else self.bias * self.lr_multiplier
        return bias_act(y, b, act=self.activation)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "lr_multiplier": self.lr_multiplier, "gain": self.gain,
                "use_bias": self.use_bias, "activation": self.activation,
                "weight_name": self.weight_name, "bias_name": self.bias_name}


class EqualizedConv2D(_TFScoped):
    """Convolution with equalized learning rate, optional 2x up/down-sampling, bias, activation.

    [N, H, W, Cin] -> [N, H', W', filters]; H' = 2H (up), H/2 (down) or H (SAME padding).
    ``weight`` [k, k, Cin, filters] (TF HWIO), ``bias`` [filters].
    """

    def __init__(self, filters, kernel_size, up=False, down=False,
                 resample_kernel=(1, 3, 3, 1), use_bias=True, activation="linear",
                 gain=1.0, **kwargs):
        super().__init__(**kwargs)
        if up and down:
            raise ValueError("EqualizedConv2D: up and down are exclusive")
        self.filters = filters
        self.kernel_size = kernel_size
        self.up = up
        self.down = down
        self.resample_kernel = None if resample_kernel is None else list(resample_kernel)
        self.use_bias = use_bias
        self.activation = activation
        self.gain = gain

    def build(self, input_shape):
        cin = int(input_shape[-1])
        k = self.kernel_size
        self.weight = self.add_weight(name="weight", shape=(k, k, cin, self.filters),
                                      initializer=keras.initializers.RandomNormal(stddev=1.0))
        self.weight_gain = self.gain / math.sqrt(k * k * cin)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.built = True

    def call(self, x):
        w = self.weight * self.weight_gain
        if self.up:
            x = upsample_conv2d(x, w, k=self.resample_kernel)
        elif self.down:
            x = conv_downsample2d(x, w, k=self.resample_kernel)
        else:
            x = ops.conv(x, w, strides=1, padding="same")
        if self.bias is None and self.activation == "linear":
            return x
        return bias_act(x, self.bias, act=self.activation)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "up": self.up, "down": self.down,
                "resample_kernel": self.resample_kernel, "use_bias": self.use_bias,
                "activation": self.activation, "gain": self.gain}


class ModulatedConv2D(_TFScoped):
    """One synthesis layer: style affine, modulated conv, noise, bias, activation.

    Call ``layer(x, w, noise=None)`` with x [N, H, W, Cin], w [N, w_dim] (one W+ row) and noise
    [1 or N, H', W', 1] or None; returns [N, H', W', filters] (H' = 2H when ``up``).
    Variables, in TF1 order: ``weight`` [k,k,Cin,filters], ``mod_weight`` [w_dim, Cin],
    ``mod_bias`` [Cin] (stored without the +1), ``noise_strength`` [] (if ``use_noise``),
    ``bias`` [filters]. ToRGB is this layer with ``kernel_size=1, demodulate=False,
    use_noise=False, activation="linear"``.
    """

    def __init__(self, filters, kernel_size, w_dim=512, up=False, demodulate=True,
                 use_noise=True, activation="lrelu", resample_kernel=(1, 3, 3, 1), **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.w_dim = w_dim
        self.up = up
        self.demodulate = demodulate
        self.use_noise = use_noise
        self.activation = activation
        self.resample_kernel = None if resample_kernel is None else list(resample_kernel)

    def build(self, input_shape):
        cin = int(input_shape[-1])
        k = self.kernel_size
        normal = keras.initializers.RandomNormal(stddev=1.0)
        self.weight = self.add_weight(name="weight", shape=(k, k, cin, self.filters),
                                      initializer=normal)
        self.mod_weight = self.add_weight(name="mod_weight", shape=(self.w_dim, cin),
                                          initializer=normal)
        self.mod_bias = self.add_weight(name="mod_bias", shape=(cin,), initializer="zeros")
        self.noise_strength = None
        if self.use_noise:
            self.noise_strength = self.add_weight(name="noise_strength", shape=(),
                                                  initializer="zeros")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        self.weight_gain = 1.0 / math.sqrt(k * k * cin)
        self.mod_gain = 1.0 / math.sqrt(self.w_dim)
        self.built = True

    def call(self, x, w, noise=None):
        styles = ops.matmul(w, self.mod_weight * self.mod_gain) + self.mod_bias + 1.0
        x = modulated_conv2d(x, self.weight * self.weight_gain, styles,
                             demodulate=self.demodulate, up=self.up,
                             resample_kernel=self.resample_kernel)
        if noise is not None and self.noise_strength is not None:
            x = x + noise * self.noise_strength
        return bias_act(x, self.bias, act=self.activation)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "w_dim": self.w_dim, "up": self.up,
                "demodulate": self.demodulate, "use_noise": self.use_noise,
                "activation": self.activation, "resample_kernel": self.resample_kernel}
