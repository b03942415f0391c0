"""Read and write dnnlib (TF1 StyleGAN2) network pickles without TensorFlow.

An official pickle (NVlabs StyleGAN2, or DGP's ``encoder-stylegan2-upper-body-512.pkl``) is a
tuple of ``dnnlib.tflib.network.Network`` objects. Each one pickles as a plain state dict::

    {"version": 4, "name": str, "static_kwargs": dict, "components": {key: Network},
     "build_module_src": str, "build_func_name": str,
     "variables": [(local_name, numpy.ndarray), ...]}

This module never executes ``build_module_src``. It maps ``dnnlib.*`` classes to stubs, so the
file loads with only numpy installed, and it can write files of the same form (used by the tests
to make official-format pickles from known weights).

Only numpy is imported here, so the module also works in an environment without TensorFlow.
"""

import contextlib
import io
import os
import pickle
import sys
import types

import numpy as np

SUPPORTED_VERSIONS = (2, 3, 4)


class DnnlibPickleError(ValueError):
    """A file is not a readable dnnlib network pickle; the message names the file."""


class NetworkStub:
    """The state of one ``dnnlib.tflib.network.Network``, as stored in the pickle.

    Attributes:
        version: int, pickle format version (2, 3 or 4).
        name: str, network name (``"Gs"``, ``"D"``, ``"G_synthesis"``, ...).
        static_kwargs: dict of the build function's keyword arguments.
        components: dict of sub-network key -> ``NetworkStub`` (``synthesis``, ``mapping``).
        build_module_src: str, Python source of the (TF1) build module, never executed.
        build_func_name: str, name of the build function in that source.
        variables: list of ``(local_name, numpy.ndarray)`` in TF creation order, own variables
            only (sub-networks hold theirs). Arrays keep TF1 layouts (NCHW, HWIO kernels).
    """

    def __init__(self, name="", static_kwargs=None, components=None, variables=None,
                 build_module_src="", build_func_name="", version=4):
        self.version = version
        self.name = name
        self.static_kwargs = dict(static_kwargs or {})
        self.components = dict(components or {})
        self.build_module_src = build_module_src
        self.build_func_name = build_func_name
        self.variables = list(variables or [])

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise DnnlibPickleError(f"network state is a {type(state).__name__}, expected a dict")
        self.version = state.get("version")
        self.name = state.get("name", "")
        self.static_kwargs = dict(state.get("static_kwargs") or {})
        self.components = dict(state.get("components") or {})
        self.build_module_src = state.get("build_module_src", "")
        self.build_func_name = state.get("build_func_name", "")
        self.variables = [(str(k), np.asarray(v)) for k, v in state.get("variables", [])]

    def __getstate__(self):
        return {
            "version": self.version,
            "name": self.name,
            "static_kwargs": dict(self.static_kwargs),
            "components": dict(self.components),
            "build_module_src": self.build_module_src,
            "build_func_name": self.build_func_name,
            "variables": [(k, np.asarray(v)) for k, v in self.variables],
        }

    def params(self, prefix=""):
        """All variables of this network and its components.

        Returns:
            dict ``name -> numpy.ndarray``; a component's variables are prefixed with its key and
            ``/`` (``synthesis/4x4/Conv/weight``), the convention of stylegan2-ada-pytorch's
            ``legacy.py``.
        """
        out = {prefix + name: value for name, value in self.variables}
        for key, comp in self.components.items():
            out.update(comp.params(prefix + key + "/"))
        return out

    def __repr__(self):
        return (f"NetworkStub(name={self.name!r}, func={self.build_func_name!r}, "
                f"variables={len(self.variables)}, components={list(self.components)})")


class _EasyDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict`` (a dict with attribute access)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "dnnlib.tflib.network" and name == "Network":
            return NetworkStub
        if module.startswith("dnnlib"):
            return _EasyDict if name == "EasyDict" else NetworkStub
        return super().find_class(module, name)


def read_dnnlib_pickle(path):
    """Unpickle an official TF1 dnnlib pickle into ``NetworkStub`` objects.

    Args:
        path: path of a ``.pkl`` file written by NVlabs StyleGAN2 / DGP training code.

    Returns:
        tuple of ``NetworkStub`` (usually ``(G, D, Gs)`` or DGP's ``(E, D, Gs)``).

    Raises:
        DnnlibPickleError: the file is missing, truncated, not a pickle, or holds no networks.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DnnlibPickleError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            data = _Unpickler(f, encoding="latin1").load()
    except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError,
            ImportError, IndexError, KeyError, MemoryError) as e:
        raise DnnlibPickleError(
            f"{path}: not a readable dnnlib network pickle (truncated or another format): "
            f"{type(e).__name__}: {e}") from None
    if isinstance(data, NetworkStub):
        data = (data,)
    if not (isinstance(data, (tuple, list)) and data
            and all(isinstance(n, NetworkStub) for n in data)):
        raise DnnlibPickleError(
            f"{path}: expected a tuple of dnnlib.tflib.network.Network objects, "
            f"found {type(data).__name__}")
    for net in data:
        _validate(net, path)
    return tuple(data)


def _validate(net, path):
    if net.version not in SUPPORTED_VERSIONS:
        raise DnnlibPickleError(
            f"{path}: network {net.name!r} has pickle version {net.version!r}; "
            f"supported: {SUPPORTED_VERSIONS}")
    for name, value in net.variables:
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            raise DnnlibPickleError(
                f"{path}: variable {net.name}/{name} is not a float array")
    for comp in net.components.values():
        _validate(comp, path)


@contextlib.contextmanager
def _network_class_importable():
    """Makes ``dnnlib.tflib.network.Network`` resolve to ``NetworkStub`` while pickling.

    pickle records a class by module and name and checks that the import gives back the same
    object; this installs placeholder modules only where none exist, and removes them after.
    """
    names = ["dnnlib", "dnnlib.tflib", "dnnlib.tflib.network"]
    added = []
    try:
        for name in names:
            if name not in sys.modules:
                sys.modules[name] = types.ModuleType(name)
                added.append(name)
        module = sys.modules["dnnlib.tflib.network"]
        old = getattr(module, "Network", None)
        module.Network = NetworkStub
        old_module, old_qualname = NetworkStub.__module__, NetworkStub.__qualname__
        NetworkStub.__module__, NetworkStub.__qualname__ = "dnnlib.tflib.network", "Network"
        yield
    finally:
        NetworkStub.__module__, NetworkStub.__qualname__ = old_module, old_qualname
        if "dnnlib.tflib.network" not in added and old is not None:
            module.Network = old
        for name in reversed(added):
            del sys.modules[name]


def write_dnnlib_pickle(path, networks):
    """Write networks as an official-format dnnlib pickle, atomically.

    The file loads with NVlabs' TF1 code (given a build module source) and with
    stylegan2-ada-pytorch's ``legacy.py``, since its classes and state dicts are the original's.

    Args:
        path: output ``.pkl`` path; written to a temporary file first, then renamed.
        networks: tuple of ``NetworkStub`` (e.g. ``(G, D, Gs)`` or ``(E, D, Gs)``).
    """
    path = os.fspath(path)
    buf = io.BytesIO()
    with _network_class_importable():
        pickle.dump(tuple(networks), buf, protocol=4)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)
