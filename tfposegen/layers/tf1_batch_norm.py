"""TF1 ``tflib`` batch normalisation (``tflib/ops/batchnorm.py`` as used by ``wgan_gp.py`` in
charliememory/Disentangled-Person-Image-Generation): batch statistics in training and test."""

import keras
from keras import ops

from tfposegen.layers.normalization import batch_moments


class TflibBatchNorm(keras.layers.Layer):
    """tflib's fused batch norm as DPIG's image critic uses it: always batch statistics.

    Per channel over (N, H, W), biased variance, epsilon 1e-5:
    ``y = (x - mean) / sqrt(var + eps) * scale + offset``. ``is_training`` is never passed in
    the TF1 code, so the batch statistics are used in training and at test time alike, and the
    non-trainable ``moving_mean`` / ``moving_variance`` (kept so checkpoints load) are never
    read or updated. The output of one image therefore depends on the rest of its batch.
    Under a ``tf.distribute`` strategy with several replicas the statistics are those of the
    global batch (:func:`~tfposegen.layers.normalization.batch_moments`), so the replicas
    compute what one device would.

    Input / output [N, H, W, C]. Variables (TF1 names ``<tf_name>.<variable>``): ``offset``
    (beta, zeros), ``scale`` (gamma, ones), ``moving_mean`` (zeros), ``moving_variance`` (ones).

    Args:
        tf_name: the tflib name, e.g. ``"Discriminator.BN2"``.
        epsilon: 1e-5 in tflib.
    """

    VARIABLES = ("offset", "scale", "moving_mean", "moving_variance")

    def __init__(self, tf_name, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.tf_name, self.epsilon = tf_name, float(epsilon)

    def build(self, input_shape):
        c = (int(input_shape[-1]),)
        self.offset = self.add_weight(name="offset", shape=c, initializer="zeros")
        self.scale = self.add_weight(name="scale", shape=c, initializer="ones")
        self.moving_mean = self.add_weight(name="moving_mean", shape=c, initializer="zeros",
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=c,
                                               initializer="ones", trainable=False)
        self.built = True

    def call(self, x):
        mean, var = batch_moments(x)
        return (x - mean) * ops.rsqrt(var + self.epsilon) * self.scale + self.offset

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable)."""
        return [(f"{self.tf_name}.{v}", getattr(self, v)) for v in self.VARIABLES]

    def get_config(self):
        return {**super().get_config(), "tf_name": self.tf_name, "epsilon": self.epsilon}
