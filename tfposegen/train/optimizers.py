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
    about forty: a training step traces and starts sooner (DPTN's first step in about 0.65x
    the time, ``benchmarks/bench_train.py``). ``amsgrad`` falls back to Keras' update.
    """

    _scalars = None  # inside ``apply``: (dtype, scalars), built once for all variables

    def apply(self, grads, trainable_variables=None):
        """Keras' ``apply``, with ``b1^t``, ``b2^t`` and the other scalars built once for
        all variables."""
        self._scalars = ()
        try:
            return super().apply(grads, trainable_variables)
        finally:
            self._scalars = None

    def _step_scalars(self, dtype, learning_rate):
        """``(b1^t, b2^t, b1, b2, eps, lr)`` of this step as ``dtype`` tensors."""
        if self._scalars and self._scalars[0] == dtype:
            return self._scalars[1]
        step = tf.cast(self.iterations + 1, dtype)
        b1, b2 = tf.constant(self.beta_1, dtype), tf.constant(self.beta_2, dtype)
        scalars = (tf.pow(b1, step), tf.pow(b2, step), b1, b2,
                   tf.constant(self.epsilon, dtype), tf.cast(learning_rate, dtype))
        if self._scalars is not None:
            self._scalars = (dtype, scalars)
        return scalars

    def update_step(self, gradient, variable, learning_rate):
        """One ``ResourceApplyAdam`` on ``variable`` and its ``m`` / ``v`` slots."""
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        b1_power, b2_power, b1, b2, eps, lr = self._step_scalars(variable.dtype,
                                                                 learning_rate)
        i = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[i].value.handle,
            v=self._velocities[i].value.handle, beta1_power=b1_power, beta2_power=b2_power,
            lr=lr, beta1=b1, beta2=b2, epsilon=eps, grad=tf.cast(gradient, variable.dtype))
