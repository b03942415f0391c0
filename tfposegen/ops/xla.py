"""Where XLA on CPU wants another form of the same computation.

XLA's CPU backend runs some TensorFlow ops much slower than oneDNN does (convolutions of
dilated inputs, the select-and-scatter gradient of max pooling). The ops of this package that
meet them switch to equal forms while a ``tf.function(jit_compile=True)`` is traced, and keep
TensorFlow's ops otherwise.
"""

import keras


def compiling_with_xla():
    """True while a ``tf.function(jit_compile=True)`` (or a function it calls) is traced;
    False in eager mode, plain ``tf.function`` and on other Keras backends."""
    if keras.backend.backend() != "tensorflow":
        return False
    from tensorflow.python.framework import ops as tf_ops
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext(tf_ops.get_default_graph())
