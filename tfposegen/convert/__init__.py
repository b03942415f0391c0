"""Official weights -> Keras: dnnlib (TF1 StyleGAN2 / DGP) pickles.

``tfposegen.convert.dnnlib_pickle`` reads and writes the pickle format with numpy only;
the names below (which import Keras) are loaded on first use.
"""

_LAZY = ("ConversionError", "DnnlibNetworks", "load_dnnlib_pickle", "load_networks",
         "save_dnnlib_pickle", "save_networks")


def __getattr__(name):
    if name in _LAZY:
        from tfposegen.convert import dnnlib
        return getattr(dnnlib, name)
    raise AttributeError(f"module 'tfposegen.convert' has no attribute {name!r}")


__all__ = list(_LAZY)
