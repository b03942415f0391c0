"""The optimiser every trainer uses: Adam whose update of one variable is one fused kernel."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tfposegen")
class Adam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` updating each variable with TF's fused ``ResourceApplyAdam``
    kernel (``tf.train.AdamOptimizer``'s, the TF1 originals' optimiser).

    The rule is Keras' (and TF1's): ``m += (1 - b1) (g - m)``, ``v += (1 - b2) (g^2 - v)``,
    ``var -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`` at step ``t``; results
    equal Keras' to float rounding (~1 ulp a step). The variables, slots and checkpoints are
    Keras' (a run saved with either restores into the other). One op a variable instead of
    about forty: a traced training step of small networks builds (traces) in about half the
    time. ``amsgrad`` falls back to Keras' update.
    """

    def apply(self, grads, trainable_variables=None):
        """Keras' ``apply``, with ``b1^t`` / ``b2^t`` built once for all variables."""
        self._powers = {}
        try:
            return super().apply(grads, trainable_variables)
        finally:
            self._powers = {}

    def update_step(self, gradient, variable, learning_rate):
        """One ``ResourceApplyAdam`` on ``variable`` and its ``m`` / ``v`` slots."""
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        if dtype not in self._powers:
            step = tf.cast(self.iterations + 1, dtype)
            const = lambda x: tf.constant(x, dtype)  # noqa: E731
            self._powers[dtype] = (tf.pow(const(self.beta_1), step),
                                   tf.pow(const(self.beta_2), step), const(self.beta_1),
                                   const(self.beta_2), const(self.epsilon),
                                   tf.cast(learning_rate, dtype))
        b1_power, b2_power, b1, b2, eps, lr = self._powers[dtype]
        i = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[i].value.handle,
            v=self._velocities[i].value.handle, beta1_power=b1_power, beta2_power=b2_power,
            lr=lr, beta1=b1, beta2=b2, epsilon=eps, grad=tf.cast(gradient, dtype))
