"""Keras-2 HDF5 weight files (``vgg.h5``, ``attributes_model_resnet101.h5``) <-> Keras 3 models.

DGP (TF 1.14, standalone Keras 2.2.5) loads its perceptual networks with
``model.load_weights(path)``: the file's layers that have weights are matched, in order, with
the model's layers that have weights (topological order, ``by_name=False``), and each layer's
arrays are assigned in order. Weight *names* inside the file are never used: files written by
Keras 1 (such as the official VGG16 no-top file) name them ``block1_conv1_W_1:0`` and so on.

Layout read and written (Keras 2 ``save_weights``):

* root attributes ``layer_names`` (every layer, also those without weights), ``backend``,
  ``keras_version``; a file from ``model.save()`` keeps all this under a ``model_weights``
  group;
* one group per layer, attribute ``weight_names`` (e.g. ``conv1_conv/kernel:0``) and one
  dataset per weight at that (possibly nested) path;
* attribute lists longer than the HDF5 header limit are split into ``<name>0``, ``<name>1``...

Weights are used as stored: Conv2D kernels HWIO, BatchNormalization
``[gamma, beta, moving_mean, moving_variance]``, both in Keras 2 and Keras 3.
"""

import os

import h5py
import numpy as np

from tfposegen.utils.files import atomic_path

# Keras 2's HDF5 object header limit for one attribute (bytes).
HDF5_OBJECT_HEADER_LIMIT = 64512


class KerasH5Error(ValueError):
    """A Keras HDF5 weights file cannot be read or does not fit a model; names the file."""


def _decode(value):
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _read_attr_list(group, name):
    """Keras 2 ``load_attributes_from_hdf5_group``: a list of str, or None if absent."""
    if name in group.attrs:
        return [_decode(v) for v in np.atleast_1d(group.attrs[name])]
    chunks, i = [], 0
    while f"{name}{i}" in group.attrs:
        chunks.extend(_decode(v) for v in np.atleast_1d(group.attrs[f"{name}{i}"]))
        i += 1
    return chunks if i else None


def _write_attr_list(group, name, values):
    """Keras 2 ``save_attributes_to_hdf5_group``: bytes list, chunked when too large."""
    data = [v.encode("utf8") for v in values]
    if not data:
        group.attrs[name] = np.zeros([0], np.float64)  # what Keras 2 writes for []
        return
    too_long = [v for v in data if len(v) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise KerasH5Error(f"attribute {name!r}: entries longer than "
                           f"{HDF5_OBJECT_HEADER_LIMIT} bytes: {too_long[:1]}")
    arr = np.asarray(data)
    n = 1
    while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in np.array_split(arr, n)):
        n += 1
    if n == 1:
        group.attrs[name] = arr
    else:
        for i, chunk in enumerate(np.array_split(arr, n)):
            group.attrs[f"{name}{i}"] = chunk


def _open(path):
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise KerasH5Error(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise KerasH5Error(f"{path}: not an HDF5 file (expected a Keras weights .h5 file)")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise KerasH5Error(f"{path}: cannot open as HDF5: {e}") from e


def _weights_root(f, path):
    if "layer_names" in f.attrs or "layer_names0" in f.attrs:
        return f
    if "model_weights" in f and "layer_names" in f["model_weights"].attrs:
        return f["model_weights"]
    hint = (" (this looks like a Keras 3 '.weights.h5' file; load it with "
            "model.load_weights)" if "layers" in f or "_layer_checkpoint_dependencies" in f
            else "")
    raise KerasH5Error(f"{path}: not a Keras 2 weights file: no 'layer_names' attribute at the "
                       f"root or under 'model_weights'{hint}")


def read_keras_h5(path):
    """Read the weights of a Keras-2 HDF5 file (``save_weights`` or ``model.save``).

    Args:
        path: file path (str or path-like).

    Returns:
        list of ``(layer_name, [numpy arrays])`` for the layers that have weights, in the
        file's layer order, arrays in the file's order for that layer (kernel before bias;
        gamma, beta, moving mean, moving variance for BatchNormalization).

    Raises:
        KerasH5Error: the file is missing, not HDF5, has no ``layer_names``, a layer backend
            other than TensorFlow's, or lists groups / datasets it does not contain.
    """
    path = os.fspath(path)
    with _open(path) as f:
        root = _weights_root(f, path)
        backend = _decode(root.attrs["backend"]) if "backend" in root.attrs else None
        if backend == "theano":
            raise KerasH5Error(f"{path}: written by the Theano backend (flipped conv kernels); "
                               "only TensorFlow Keras files are supported")
        out = []
        for name in _read_attr_list(root, "layer_names"):
            if name not in root:
                raise KerasH5Error(f"{path}: layer {name!r} is listed in layer_names but has "
                                   "no group")
            group = root[name]
            weight_names = _read_attr_list(group, "weight_names") or []
            if not weight_names:
                continue
            arrays = []
            for wn in weight_names:
                if wn not in group or not isinstance(group[wn], h5py.Dataset):
                    raise KerasH5Error(f"{path}: layer {name!r} lists weight {wn!r} but has "
                                       "no such dataset")
                arrays.append(np.asarray(group[wn][()]))
            out.append((name, arrays))
    return out


def layer_weights(model):
    """The model's layers that have weights and their variables, in Keras 2 loading order.

    Args:
        model: a built Keras model.

    Returns:
        list of ``(layer, [variables])``: ``model.layers`` order (topological for functional
        models), variables as ``trainable_weights + non_trainable_weights``, as both Keras 2
        and Keras 3 order them for HDF5 files.
    """
    out = []
    for layer in model.layers:
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        if variables:
            out.append((layer, variables))
    return out


def load_keras_h5(model, path):
    """Assign a Keras-2 HDF5 weights file to a model by layer order (``by_name=False``).

    Every layer count, weight count and shape is checked before anything is assigned.

    Args:
        model: built Keras model with the topology the file was saved from (for DGP:
            ``VGG16Features.backbone`` or ``AttributeFeatures.backbone``).
        path: the ``.h5`` file (any file name).

    Returns:
        list of ``(file layer name, model layer name)`` pairs that were assigned.

    Raises:
        KerasH5Error: naming the file, and for a mismatch the layers (file and model names)
            and the expected vs found shapes; the model is then left unchanged.
    """
    path = os.fspath(path)
    file_layers = read_keras_h5(path)
    model_layers = layer_weights(model)
    if len(file_layers) != len(model_layers):
        raise KerasH5Error(
            f"{path}: the file has weights for {len(file_layers)} layers, model "
            f"{model.name!r} has {len(model_layers)} layers with weights (file: "
            f"{_names(n for n, _ in file_layers)}; model: "
            f"{_names(layer.name for layer, _ in model_layers)})")
    problems = []
    for k, ((fname, arrays), (layer, variables)) in enumerate(zip(file_layers, model_layers)):
        where = f"layer #{k} ({fname!r} in the file, {layer.name!r} in model {model.name!r})"
        if len(arrays) != len(variables):
            problems.append(f"{where}: expected {len(variables)} weights "
                            f"{[tuple(v.shape) for v in variables]}, found {len(arrays)} "
                            f"{[a.shape for a in arrays]}")
            continue
        for v, a in zip(variables, arrays):
            if tuple(v.shape) != tuple(a.shape):
                problems.append(f"{where}: weight {v.name!r} expected shape {tuple(v.shape)}, "
                                f"found {tuple(a.shape)}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise KerasH5Error(f"{path}: does not fit model {model.name!r}: "
                           + "; ".join(problems[:5]) + more)
    for (_, arrays), (_, variables) in zip(file_layers, model_layers):
        for v, a in zip(variables, arrays):
            v.assign(a.astype(v.dtype))
    return [(fname, layer.name) for (fname, _), (layer, _) in zip(file_layers, model_layers)]


def _names(names, limit=4):
    names = list(names)
    shown = ", ".join(names[:limit])
    return f"{shown}, ... {names[-1]}" if len(names) > limit else shown


def write_keras2_h5(model, path, keras_version="2.2.5", backend="tensorflow"):
    """Write a model's weights in the Keras 2.2.5 ``save_weights`` HDF5 layout, atomically.

    Every layer of ``model.layers`` gets a group (empty ``weight_names`` when it has no
    weights; Keras 3 calls the input layer ``input_layer*`` where Keras 2 said ``input_1``,
    which no loader looks at); weights are named ``<layer>/<variable>:0`` as Keras 2 on TF1
    names them. The
    file is written to a temporary file in the same folder and moved into place, so a reader
    never sees a half-written file. Keras 2 ``load_weights``, Keras 3 ``load_weights`` (for
    names ending in ``.h5``) and ``load_keras_h5`` read it.

    Args:
        model: built Keras model (for DGP files: the ``.backbone`` of a perceptual model).
        path: destination file; its folder must exist.
        keras_version, backend: values of the root attributes.

    Returns:
        ``path``.
    """
    path = os.fspath(path)
    layers = list(model.layers)
    names = [layer.name for layer in layers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise KerasH5Error(f"{path}: model {model.name!r} has duplicate layer names "
                           f"{duplicates}; Keras HDF5 files need unique names")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        _write_attr_list(f, "layer_names", names)
        f.attrs["backend"] = backend.encode("utf8")
        f.attrs["keras_version"] = str(keras_version).encode("utf8")
        for layer in layers:
            group = f.create_group(layer.name)
            variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
            weight_names = []
            for i, v in enumerate(variables):
                name = f"{layer.name}/{v.name}:0"
                if name in weight_names:
                    name = f"{layer.name}/param_{i}:0"
                weight_names.append(name)
            _write_attr_list(group, "weight_names", weight_names)
            for name, v in zip(weight_names, variables):
                value = np.asarray(v.numpy() if hasattr(v, "numpy") else v)
                group.create_dataset(name, data=value)
    return path
