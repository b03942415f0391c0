"""Shared Keras blocks (NHWC, ``get_config`` on every layer), used by several systems:

- ``residual``: residual conv / dense pairs with an identity skip (DPIG);
- ``roi``: body-part crops of feature maps (DPIG);
- ``tf1_batch_norm``: TF1 ``tflib`` batch norm, batch statistics always (DPIG's critic);
- ``normalization``: instance norm, AdaIN, MUNIT's layer norm, torch's batch norm with global
  batch statistics under ``tf.distribute`` (ADGAN, DPTN, PAINT, DPIG's critic);
- ``spectral_norm``: spectral normalisation with its power-iteration state as weights.
- ``pooling``: VGG's 2x2 max pooling, in a form XLA runs well (VGG16 / VGG19 features).
- ``composite``: ``BuiltByFirstCall``, the mixin of layers and models made of sublayers
  (built by their first call, not by a symbolic trace first; DPTN).

Nothing here reads files or imports a system package. Import the submodules directly.
"""
