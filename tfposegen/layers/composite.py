"""A mixin for Keras layers and models made of sublayers: built by their first call."""


class BuiltByFirstCall:
    """Mixin (before the Keras base: ``class Net(BuiltByFirstCall, keras.Model)``) for a
    layer or model whose weights all belong to sublayers that build themselves from their
    input shapes. ``build`` only marks it built; the sublayers build during the first call.

    Without a ``build`` method Keras builds such a layer by first tracing its ``call`` on
    symbolic inputs, then running the call itself: every construction paid a second, full
    trace of the network, and every nested composite layer one more (DPTN's generator: 2.2
    of its 2.7 s construction). The weights exist after the first call, as before; the
    networks using this mixin make that call at construction (on zeros), or their owner
    does before reading weights.
    """

    def build(self, input_shape=None):
        self.built = True
