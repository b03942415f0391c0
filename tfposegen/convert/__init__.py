"""Official weights -> Keras: dnnlib (TF1 StyleGAN2 / DGP) pickles and Keras-2 HDF5 files.
DPIG's TF1 checkpoints: ``tfposegen.convert.tf1_checkpoint.load_tf1_checkpoint``.

``tfposegen.convert.dnnlib_pickle`` reads and writes the pickle format with numpy only;
the names below (which import Keras) are loaded on first use from the module they map to.
"""

_LAZY = ("ConversionError", "DnnlibNetworks", "load_dnnlib_pickle", "load_networks",
         "save_dnnlib_pickle", "save_networks")
_LAZY_KERAS_H5 = ("KerasH5Error", "attribute_features_from_h5", "layer_weights", "load_keras_h5",
                  "read_keras_h5", "vgg16_features_from_h5", "write_keras2_h5")


def __getattr__(name):
    if name in _LAZY:
        from tfposegen.convert import dnnlib
        return getattr(dnnlib, name)
    if name in _LAZY_KERAS_H5:
        from tfposegen.convert import keras_h5
        return getattr(keras_h5, name)
    raise AttributeError(f"module 'tfposegen.convert' has no attribute {name!r}")


__all__ = list(_LAZY) + list(_LAZY_KERAS_H5)
