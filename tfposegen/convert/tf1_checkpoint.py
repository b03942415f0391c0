"""TF1 checkpoints of DPIG (``model.ckpt-<step>``, e.g. the released MODEL101..104) -> Keras.

``load_tf1_checkpoint(path, models)`` reads the checkpoint with ``tf.train.load_checkpoint``
(no TF1 graph or session) and copies every variable that the models of
``tfposegen.models.dpig.networks`` list in ``tf1_variables()`` into them, by name (``models.py`` /
``wgan_gp.py`` in charliememory/Disentangled-Person-Image-Generation
section 9). Arrays keep their TF1 layout, which the Keras layers use as is.

Matching: a name is first looked up as is. tflib parameters (the critics' ``*.Filters``,
``*.W``, ``*.offset``, ...) carry their full, unique name after the last '/', and the name
scope before it depends on where the TF1 graph created them, so they are also found by that
last part when exactly one checkpoint key ends with it.

Everything is checked before anything is assigned: variables the models need that the
checkpoint lacks (missing), variables of the models' scopes that the models do not use
(unexpected, e.g. a checkpoint of another configuration) and shape mismatches are reported
together in one ``TF1CheckpointError`` naming the file. Optimizer slots (``.../Adam``,
``.../RMSProp``), ``step``, ``g_lr``, ``d_lr``, ``phase``, ``beta1_power`` ... are ignored.
"""

import os

import numpy as np
import tensorflow as tf


class TF1CheckpointError(ValueError):
    """A checkpoint does not fit the models; the message names the file and the variables."""


def resolve_checkpoint(path):
    """The checkpoint prefix for a path.

    Args:
        path: a checkpoint prefix (``.../model.ckpt-0``, without ``.index``), its ``.index`` or
            ``.data-*`` file, a V1 checkpoint file, or a folder with a ``checkpoint`` state
            file.

    Returns:
        str, the prefix ``tf.train.load_checkpoint`` reads.

    Raises:
        TF1CheckpointError: nothing readable at ``path``.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            raise TF1CheckpointError(f"{path}: folder without a 'checkpoint' state file")
        return prefix
    for suffix in (".index", ".meta"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    if ".data-" in os.path.basename(path):
        path = path[: path.rindex(".data-")]
    if os.path.isfile(path):  # a V1 checkpoint is a single file
        return path
    if not os.path.exists(path + ".index"):
        raise TF1CheckpointError(f"{path}: no TF1 checkpoint (expected {path}.index and "
                                 f"{path}.data-*)")
    return path


def checkpoint_shapes(path):
    """Variable names and shapes of a TF1 checkpoint.

    Args:
        path: see ``resolve_checkpoint``.

    Returns:
        dict name -> tuple of ints.
    """
    prefix = resolve_checkpoint(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError) as e:
        raise TF1CheckpointError(f"{prefix}: cannot read the checkpoint ({e})") from None
    return {k: tuple(int(d) for d in s) for k, s in reader.get_variable_to_shape_map().items()}


def _find_key(name, shapes, by_leaf):
    """Checkpoint key of a TF1 name, or (None, reason)."""
    if name in shapes:
        return name, ""
    leaf = name.rpartition("/")[2]
    if "." not in leaf:  # slim names ("weights", "biases") are only found in full
        return None, ""
    keys = by_leaf.get(leaf, [])
    if len(keys) == 1:
        return keys[0], ""
    return None, f" (ambiguous: {keys})" if keys else ""


def _as_list(models):
    if isinstance(models, dict):
        return list(models.values())
    if isinstance(models, (list, tuple)):
        return list(models)
    return [models]


def load_tf1_checkpoint(path, models, strict=True):
    """Load a DPIG TF1 checkpoint into Keras models by variable name.

    Args:
        path: checkpoint prefix (``.../model.ckpt-0``), one of its files, or its folder.
        models: a model of ``tfposegen.models.dpig.networks`` (anything with ``tf1_variables()`` and
            ``tf1_owns(key)``), or a list / dict of them. Only their variables are read: e.g.
            the PoseAE of a MODEL104 checkpoint loads alone.
        strict: also fail on unexpected variables in the models' scopes.

    Returns:
        dict TF1 name -> checkpoint key it was read from.

    Raises:
        TF1CheckpointError: missing, unexpected or mis-shaped variables (nothing is assigned
            then), or an unreadable checkpoint. The message names the file.
    """
    models = _as_list(models)
    prefix = resolve_checkpoint(path)
    shapes = checkpoint_shapes(prefix)
    by_leaf = {}
    for key in shapes:
        by_leaf.setdefault(key.rpartition("/")[2], []).append(key)
    plan, missing, wrong, used = [], [], [], set()
    for model in models:
        for name, var in model.tf1_variables():
            key, why = _find_key(name, shapes, by_leaf)
            used.add(key)
            if key is None:
                missing.append(f"{name} {list(var.shape)}{why}")
            elif shapes[key] != tuple(var.shape):
                wrong.append(f"{key} {list(shapes[key])} (model: {list(var.shape)})")
            else:
                plan.append((name, key, var))
    unexpected = []
    if strict:
        unexpected = sorted(f"{k} {list(s)}" for k, s in shapes.items() if k not in used
                            and any(m.tf1_owns(k) for m in models))
    if missing or wrong or unexpected:
        parts = [f"{label} {items}" for label, items in
                 (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
                 if items]
        raise TF1CheckpointError(f"{prefix}: the checkpoint does not fit "
                                 f"{[m.name for m in models]}: " + "; ".join(parts))
    reader = tf.train.load_checkpoint(prefix)
    for _, key, var in plan:
        var.assign(np.asarray(reader.get_tensor(key), dtype=np.float32))
    return {name: key for name, key, _ in plan}
