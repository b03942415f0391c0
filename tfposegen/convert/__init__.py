"""Format readers for the originals' weight files, with numpy (and h5py) only:

- ``dnnlib_pickle``: TF1 dnnlib pickles (NVlabs StyleGAN2, DGP) read and written without TF1;
- ``tf1_checkpoint``: TF1 checkpoints by variable name (DPIG);
- ``keras_h5``: Keras-2 HDF5 weight files (DGP's VGG16 / ResNet101);
- ``torch_checkpoint``: PyTorch ``.pth`` / ``.pt`` files without torch (ADGAN, DPTN, PAINT).

Which original name goes to which Keras variable is each system's business: the name maps
live in ``tfposegen.models.<system>`` (e.g. ``tfposegen.models.dgp.dnnlib``).
"""
