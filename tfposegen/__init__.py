"""tfposegen: person-image generation (DGP, DPIG, ...) on TensorFlow 2 / Keras 3.

Layout (dependencies point one way: ops <- nets <- dgp/dpig <- run_scripts):

- ``tfposegen.ops``: tensor math with no I/O (upfirdn2d, bias_act, modulated conv, ...).
- ``tfposegen.nets``: Keras models (StyleGAN2 mapping / synthesis / discriminator, encoder).
- ``tfposegen.convert``: official weights -> Keras (dnnlib pickles, ...).

Importing this package does not import TensorFlow; the sub-packages do.
"""

__version__ = "0.1.0"
