"""PAINT LGN's checkpoints -> Keras variables, by name (no torch needed).

``BaseModel.save_networks`` (LGN/models/base_model.py in gxl-groups/PAINT) writes one bare
state dict per network, ``<checkpoints_dir>/<name>/<epoch>_net_{G,E,D,D2}.pth`` (the module
inside ``DataParallel``, so no ``module.`` prefix; torch 1.1's legacy stream), and
``test.py`` loads ``40_net_G.pth`` and ``40_net_E.pth``. Both prefix forms and both file
forms (legacy stream, zip archive) load here (``tfposegen.convert.torch_checkpoint``),
strictly: every name must be present and every shape match before anything is assigned, and
no tensor may be left over, except the instance-norm ``running_mean`` / ``running_var`` /
``num_batches_tracked`` entries that ``BaseModel.load_networks`` also drops (files of torch <
0.4; instance norm has no statistics here).

Torch names:

- G: level i (0 = outermost) is ``model.`` + ``submodule.`` * i; its down conv is
  ``down.0`` (outermost) or ``down.1`` (after the LeakyReLU), its up ConvTranspose ``up.1``
  (32 tensors for num_downs 8);
- E: ``fc.0``, ``fcVar.0``, ``conv.0`` and per block ``conv.{i}.conv.2``,
  ``conv.{i}.conv.5.0``, ``conv.{i}.shortcut.1`` (30 tensors);
- D: ``model_{s}.{0, 2, 5, 8, 11}`` per scale s (``model.`` when num_D is 1; 20 tensors).

TSN (``tsn_*`` and ``load_tsn_*`` below): ``Trainer.save`` (TSN/core/trainer.py in
gxl-groups/PAINT) writes ``release_model/pennet_pen5_pconv256/gen_<NNNNN>.pth`` =
``{'netG': state_dict}`` (no prefix, 304 tensors) and ``dis_<NNNNN>.pth`` = ``{'netD':
state_dict}`` (``module.`` prefixes: D sits in ``DataParallel``; 25 tensors), ``latest.ckpt``
naming the newest NNNNN; TSN/test.py loads ``gen_<latest>.pth`` strictly. Unused generator
layers (``spade6``, each SPADE block's ``conv_1`` / ``conv_s`` / ``norm_1`` / ``norm_s``,
each residual block's ``model1``) are in every file and are loaded; only D's
``num_batches_tracked`` counters are read and dropped.
"""

import os

from tfposegen.convert.torch_checkpoint import (
    TorchCheckpointError,
    assign_state_dict,
    load_torch_file,
    state_dict,
)

__all__ = ["discriminator_weight_map", "encoder_weight_map", "generator_weight_map",
           "load_checkpoints", "load_discriminator_state", "load_encoder_state",
           "load_generator_state", "load_tsn_checkpoints", "load_tsn_discriminator_state",
           "load_tsn_generator_state", "tsn_discriminator_weight_map",
           "tsn_generator_weight_map"]

_STATS = ("running_mean", "running_var", "num_batches_tracked")


def _conv(layer, name, kind="conv2d"):
    return [(layer.kernel, f"{name}.weight", kind), (layer.bias, f"{name}.bias", "vector")]


def _level(i):
    return "model." + "submodule." * i


def generator_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.paint.lgn.LGNGenerator` with its torch
    name in ``G_Unet_add_all``'s state dict (LGN/models/networks.py in gxl-groups/PAINT), in
    that order (the down convs outermost first, then the up
    ConvTransposes innermost first).

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    n = model.num_downs
    pairs = []
    for i in range(n):
        pairs += _conv(model.down_convs[i], f"{_level(i)}down.{0 if i == 0 else 1}")
    for i in reversed(range(n)):
        pairs += _conv(model.up_convs[i], f"{_level(i)}up.1", "conv_transpose2d")
    return pairs


def encoder_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.paint.lgn.LGNEncoder` with its torch
    name in ``E_ResNet``'s state dict (LGN/models/networks.py in gxl-groups/PAINT; ``fc`` /
    ``fcVar`` first: ``E_ResNet`` assigns them before ``conv``).

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = _conv(model.fc, "fc.0", "linear")
    if model.vae_like:
        pairs += _conv(model.fc_var, "fcVar.0", "linear")
    pairs += _conv(model.conv0, "conv.0")
    for i, block in enumerate(model.blocks, start=1):
        pairs += (_conv(block.convs[0], f"conv.{i}.conv.2")
                  + _conv(block.convs[1], f"conv.{i}.conv.5.0")
                  + _conv(block.convs[2], f"conv.{i}.shortcut.1"))
    return pairs


def _scale_prefix(model, s):
    return "model." if model.num_D == 1 else f"model_{s}."


def discriminator_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.paint.lgn.LGNDiscriminator` with its
    torch name in ``D_NLayersMulti``'s state dict (LGN/models/networks.py in
    gxl-groups/PAINT): conv j of a scale sits at Sequential index 0 (j = 0) or 3 j - 1.

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = []
    for s, scale in enumerate(model.scales):
        for j, layer in enumerate(scale.convs):
            pairs += _conv(layer, f"{_scale_prefix(model, s)}{0 if j == 0 else 3 * j - 1}")
    return pairs


def _norm_stat_names(names):
    return tuple(f"{n}.{s}" for n in names for s in _STATS)


def _generator_norms(model):
    n = model.num_downs
    return ([f"{_level(i)}down.2" for i in range(1, n - 1)]
            + [f"{_level(i)}up.2" for i in range(1, n)])


def _encoder_norms(model):
    return [f"conv.{i}.conv.{j}" for i in range(1, len(model.blocks) + 1) for j in (0, 3)]


def _discriminator_norms(model):
    return [f"{_scale_prefix(model, s)}{3 * j}" for s, scale in enumerate(model.scales)
            for j in range(1, len(scale.convs) - 1)]


def _load(pairs, norms, source, path, what):
    where = path or (os.fspath(source) if isinstance(source, (str, os.PathLike))
                     else f"<LGN {what} state dict>")
    assign_state_dict(pairs, state_dict(source), path=where, strict=True,
                      ignore=_norm_stat_names(norms))
    return len(pairs)


def load_generator_state(model, source, path=None):
    """Load ``<epoch>_net_G.pth`` (written by ``BaseModel.save_networks``,
    LGN/models/base_model.py in gxl-groups/PAINT; a path, or a name -> array dict) into an
    :class:`~tfposegen.models.paint.lgn.LGNGenerator`, all or nothing.

    Args:
        model: the generator, of the checkpoint's configuration.
        source: a ``.pth`` path or a state dict (names with or without ``module.``).
        path: the name used in error messages (default: ``source`` when it is a path).

    Returns:
        the number of tensors assigned (32 for num_downs 8).

    Raises:
        TorchCheckpointError: unreadable file, missing or unused names, or shape mismatches
            (the message names the file); nothing is assigned then.
    """
    return _load(generator_weight_map(model), _generator_norms(model), source, path, "G")


def load_encoder_state(model, source, path=None):
    """Load ``<epoch>_net_E.pth`` into an :class:`~tfposegen.models.paint.lgn.LGNEncoder`,
    all or nothing (as :func:`load_generator_state`). Returns the number of tensors (30)."""
    return _load(encoder_weight_map(model), _encoder_norms(model), source, path, "E")


def load_discriminator_state(model, source, path=None):
    """Load ``<epoch>_net_D.pth`` or ``<epoch>_net_D2.pth`` into an
    :class:`~tfposegen.models.paint.lgn.LGNDiscriminator`, all or nothing (as
    :func:`load_generator_state`). Returns the number of tensors (20)."""
    return _load(discriminator_weight_map(model), _discriminator_norms(model), source, path,
                 "D")


def load_checkpoints(folder, epoch="40", G=None, E=None, D=None, D2=None):
    """Load LGN's per-network files ``<folder>/<epoch>_net_<X>.pth`` into the networks given,
    as ``BaseModel.load_networks`` (LGN/models/base_model.py in gxl-groups/PAINT) does with
    ``<--checkpoints_dir>/<--name>`` and ``--epoch`` (LGN/test.py: epoch 40, G and E).

    Returns:
        dict network name -> number of tensors assigned.

    Raises:
        TorchCheckpointError: a file is missing or does not fit (named in the message).
    """
    loaders = {"G": load_generator_state, "E": load_encoder_state,
               "D": load_discriminator_state, "D2": load_discriminator_state}
    counts = {}
    for name, model in (("G", G), ("E", E), ("D", D), ("D2", D2)):
        if model is not None:
            path = os.path.join(os.fspath(folder), f"{epoch}_net_{name}.pth")
            counts[name] = loaders[name](model, path)
    return counts


# ---------------------------------------------------------------------------------------------
# AFN (Appearance Flow Network)
#
# ``Trainer.save`` (AFN/core/trainer.py in gxl-groups/PAINT) writes
# ``release_model/pennet_pen55_pconv256/gen_<NNNNN>.pth`` = ``{'netG': state_dict}`` (no
# prefix; 141 tensors, all ``f_gen.``) and ``dis2_<NNNNN>.pth`` = ``{'netD2': state_dict}``
# (``module.`` names: netD2 sits in DataParallel; 10 tensors), and ``latest.ckpt`` holds the
# zero-padded index; AFN/test.py loads ``gen_<latest>.pth`` strictly. Both file forms and both
# prefix forms load here, strictly, all or nothing; the two unused ``AtnConv`` modules'
# tensors (``conv_column.at_conv0{1,2}.conv0{0..3}.0.*``) are required and loaded like the rest.

__all__ += ["afn_discriminator_weight_map", "afn_generator_weight_map",
            "load_afn_checkpoints", "load_afn_discriminator_state", "load_afn_generator_state"]


def _afn_block(block, name):
    """A ``ConvBlock`` / ``TransConvBlock`` of :mod:`tfposegen.models.paint.afn` as torch
    ``<name>.{weight, bias}`` (no bias where the block has none)."""
    kind = "conv2d" if hasattr(block, "use_bias") else "conv_transpose2d"
    pairs = [(block.conv.kernel, f"{name}.weight", kind)]
    if getattr(block, "use_bias", True):
        pairs.append((block.conv.bias, f"{name}.bias", "vector"))
    return pairs


def _afn_res(blocks, name):
    """``ResBlocks``: ``<name>.model.{r}.model.{0, 1}.conv``."""
    return [p for r, res in enumerate(blocks) for k, cb in enumerate(res.blocks)
            for p in _afn_block(cb, f"{name}.model.{r}.model.{k}.conv")]


def afn_generator_weight_map(model):
    """Every variable of an :class:`~tfposegen.models.paint.afn.AFNGenerator` with its torch
    name in ``InpaintGenerator``'s state dict (AFN/model/pennet.py in gxl-groups/PAINT), in
    that order: the flow column (``down_sample_flow``, ``up_sample_flow``, ``location0..2``),
    then the conv column with ``up_sample`` BEFORE ``dw_conv*`` (its ModuleList is
    registered first), then the unused ``at_conv01`` / ``at_conv02``.

    Returns:
        list of ``(variable, torch_name, kind)`` (141 for n_res 2).
    """
    fc, cc = model.flow_column, model.conv_column
    f, c = "f_gen.flow_column.", "f_gen.conv_column."
    pairs = []
    for i, level in enumerate(fc.down):
        for j, block in enumerate(level):
            pairs += _afn_block(block, f"{f}down_sample_flow.{i}.{j}.conv")
    for i in range(3):
        first = 0
        if fc.up_convs[i] is not None:
            pairs += _afn_block(fc.up_convs[i], f"{f}up_sample_flow.{i}.0.conv")
            first = 1
        pairs += _afn_res(fc.up_res[i], f"{f}up_sample_flow.{i}.{first}")
        pairs += _afn_block(fc.up_trans[i], f"{f}up_sample_flow.{i}.{first + 1}.transConv")
    for i, head in enumerate(fc.heads):
        for j, block in enumerate(head):
            pairs += _afn_block(block, f"{f}location{i}.{j}.conv")
    for i in range(4):
        pairs += _afn_res(cc.up_res[i], f"{c}up_sample.{i}.0")
        pairs += _afn_block(cc.up_convs[i], f"{c}up_sample.{i}.2.conv")   # .1 = Upsample
    pairs += _afn_block(cc.to_image, f"{c}up_sample.3.3.conv.conv")
    for name, block in zip(cc.ENCODER_NAMES, cc.encoder):
        pairs += _afn_block(block, f"{c}{name}")
    for attr in ("at_conv01", "at_conv02"):
        for k, conv in enumerate(getattr(cc, attr)):
            pairs += _conv(conv, f"{c}{attr}.conv{k:02d}.0")
    return pairs


def afn_discriminator_weight_map(model):
    """Every variable of an :class:`~tfposegen.models.paint.afn.AFNDiscriminator` with its
    torch name in ``NLayerDiscriminator``'s state dict (AFN/core/networks.py in
    gxl-groups/PAINT; without the ``module.`` of the saved files): conv j at Sequential
    index 0 (j = 0) or 3 j - 1.

    Returns:
        list of ``(variable, torch_name, kind)`` (10 for n_layers 3).
    """
    return [p for j, conv in enumerate(model.convs)
            for p in _conv(conv, f"model.{0 if j == 0 else 3 * j - 1}")]


def _afn_load(pairs, source, path, entry):
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError, load_torch_file

    is_file = isinstance(source, (str, os.PathLike))
    where = path or (os.fspath(source) if is_file else f"<AFN {entry} state dict>")
    obj = load_torch_file(source) if is_file else source
    key = entry if isinstance(obj, dict) and isinstance(obj.get(entry), dict) else None
    if key is None and isinstance(obj, dict) and obj and all(
            isinstance(v, dict) for v in obj.values()):
        raise TorchCheckpointError(f"{where}: expected {{{entry!r}: state dict}} or a bare "
                                   f"state dict; top level: {list(obj)[:20]}")
    try:
        state = state_dict(obj, key=key)
    except TorchCheckpointError as e:
        raise TorchCheckpointError(str(e).replace("<object>", where, 1)) from None
    assign_state_dict(pairs, state, path=where, strict=True)
    return len(pairs)


def load_afn_generator_state(model, source, path=None):
    """Load AFN's ``gen_<NNNNN>.pth`` (``{'netG': state_dict}``, written by ``Trainer.save``
    of AFN/core/trainer.py in gxl-groups/PAINT; also a bare state dict, names with or without
    ``module.``; a path or a loaded object) into an
    :class:`~tfposegen.models.paint.afn.AFNGenerator`, all or nothing.

    Args:
        model: the generator, of the checkpoint's configuration.
        source: a ``.pth`` path, or a name -> array dict (optionally under ``'netG'``).
        path: the name used in error messages (default: ``source`` when it is a path).

    Returns:
        the number of tensors assigned (141 for the released configuration).

    Raises:
        TorchCheckpointError: unreadable file, missing or unused names, or shape mismatches
            (the message names the file); nothing is assigned then.
    """
    return _afn_load(afn_generator_weight_map(model), source, path, "netG")


def load_afn_discriminator_state(model, source, path=None):
    """Load AFN's ``dis2_<NNNNN>.pth`` (``{'netD2': state_dict}`` with ``module.`` names)
    into an :class:`~tfposegen.models.paint.afn.AFNDiscriminator`, all or nothing (as
    :func:`load_afn_generator_state`). Returns the number of tensors (10)."""
    return _afn_load(afn_discriminator_weight_map(model), source, path, "netD2")


def load_afn_checkpoints(folder, index=None, G=None, D2=None):
    """Load ``<folder>/gen_<index>.pth`` into ``G`` and ``<folder>/dis2_<index>.pth`` into
    ``D2`` (those given), as AFN/test.py and ``Trainer.load`` (AFN/core/trainer.py in
    gxl-groups/PAINT) do with ``release_model/pennet_pen55_pconv256``.

    Args:
        folder: the save directory.
        index: the save index (zero-padded to 5 digits); default: the last line of
            ``<folder>/latest.ckpt``.

    Returns:
        dict network name -> number of tensors assigned.

    Raises:
        TorchCheckpointError: ``latest.ckpt`` or a file is missing or does not fit (named in
            the message).
    """

    folder = os.fspath(folder)
    index = save_index(folder, index)
    counts = {}
    for name, prefix, model, loader in (("G", "gen", G, load_afn_generator_state),
                                        ("D2", "dis2", D2, load_afn_discriminator_state)):
        if model is not None:
            counts[name] = loader(model, os.path.join(folder, f"{prefix}_{index}.pth"))
    return counts


# ----------------------------------------------------------------------------------- TSN

def tsn_generator_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.paint.tsn.TSNGenerator` with its torch
    name in ``InpaintGenerator``'s state dict (TSN/model/pennet.py in gxl-groups/PAINT), in
    that order: ``dw_conv01..06``, ``bdw_conv01..06``, the fuse convolutions
    ``at_conv0{4..1}.conv0{0..3}.0`` and ``bat_conv...`` (``at_conv05`` has none),
    ``spade6`` .. ``spade1`` (``conv_0``, ``conv_1``, ``conv_s``, ``norm_{0,1,s}.{x_shared,
    mlp_shared, mlp_gamma, mlp_beta}.0``), ``up_conv05.0``, then ``up_conv04`` ..
    ``up_conv01`` and ``decoder`` (``.0.model.0.model.{0,1}.conv``, ``.0.model.0.model1.0.
    conv``, ``.1``): 304 tensors.

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = []
    for b, prefix in ((0, "dw_conv"), (1, "bdw_conv")):
        for k, layer in enumerate(model.encoders[b], start=1):
            pairs += _conv(layer, f"{prefix}0{k}")
    for b, prefix in ((0, "at_conv"), (1, "bat_conv")):
        for k in (5, 4, 3, 2, 1):
            for i, layer in enumerate(model.attentions[b][k - 1].convs):
                pairs += _conv(layer, f"{prefix}0{k}.conv0{i}.0")
    for k in (6, 5, 4, 3, 2, 1):
        block, p = model.spades[k - 1], f"spade{k}"
        pairs += (_conv(block.conv_0, f"{p}.conv_0") + _conv(block.conv_1, f"{p}.conv_1")
                  + [(block.conv_s.kernel, f"{p}.conv_s.weight", "conv2d")])
        for n, norm in (("0", block.norm_0), ("1", block.norm_1), ("s", block.norm_s)):
            for part in ("x_shared", "mlp_shared", "mlp_gamma", "mlp_beta"):
                pairs += _conv(getattr(norm, part), f"{p}.norm_{n}.{part}.0")
    pairs += _conv(model.up_convs[5], "up_conv05.0", "conv_transpose2d")
    for k in (4, 3, 2, 1, 0):
        p = f"up_conv0{k}" if k else "decoder"
        for j, sub in enumerate(("model.0", "model.1", "model1.0")):
            pairs += _conv(model.up_blocks[k].convs[j], f"{p}.0.model.0.{sub}.conv")
        pairs += _conv(model.up_convs[k], f"{p}.1", "conv_transpose2d")
    return pairs


def _tsn_bn_index(j):
    return 3 * j


def tsn_discriminator_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.paint.tsn.TSNDiscriminator` with its
    torch name in ``NLayerDiscriminator``'s state dict (TSN/core/networks.py in
    gxl-groups/PAINT; without the ``module.`` of ``DataParallel``), in that order: conv j at
    Sequential index 0 (j = 0) or 3 j - 1, batch norm j (j = 1 .. n_layers) at 3 j with
    ``weight``, ``bias``, ``running_mean``, ``running_var`` (22 of the 25 tensors; the
    three ``num_batches_tracked`` are dropped).

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = []
    for j, layer in enumerate(model.convs):
        pairs += _conv(layer, f"model.{0 if j == 0 else 3 * j - 1}")
        if 1 <= j <= len(model.norms):
            bn, p = model.norms[j - 1], f"model.{_tsn_bn_index(j)}"
            pairs += [(bn.gamma, f"{p}.weight", "vector"), (bn.beta, f"{p}.bias", "vector"),
                      (bn.moving_mean, f"{p}.running_mean", "vector"),
                      (bn.moving_variance, f"{p}.running_var", "vector")]
    return pairs


def _tsn_state(source, key, where):
    """The flat state dict of a TSN file (``{key: state_dict}``, or a bare state dict),
    ``module.`` stripped."""
    obj = load_torch_file(source) if isinstance(source, (str, os.PathLike)) else source
    if isinstance(obj, dict) and isinstance(obj.get(key), dict):
        obj = obj[key]
    elif isinstance(obj, dict) and key not in obj and any(isinstance(v, dict)
                                                          for v in obj.values()):
        raise TorchCheckpointError(f"{where}: no {key!r} entry; top level: {list(obj)[:10]}")
    try:
        return state_dict(obj)
    except TorchCheckpointError as e:
        raise TorchCheckpointError(str(e).replace("<object>", where, 1)) from None


def _tsn_load(pairs, source, path, key, ignore=()):
    where = path or (os.fspath(source) if isinstance(source, (str, os.PathLike))
                     else f"<TSN {key} state dict>")
    assign_state_dict(pairs, _tsn_state(source, key, where), path=where, strict=True,
                      ignore=ignore)
    return len(pairs)


def load_tsn_generator_state(model, source, path=None):
    """Load TSN's ``gen_<NNNNN>.pth`` (``{'netG': state_dict}``, written by ``Trainer.save``,
    TSN/core/trainer.py in gxl-groups/PAINT; a path, the loaded object or a bare name ->
    array dict, names with or without ``module.``) into a
    :class:`~tfposegen.models.paint.tsn.TSNGenerator`, strictly and all or nothing, as
    ``model.load_state_dict(data['netG'])`` of TSN/test.py.

    Returns:
        the number of tensors assigned (304).

    Raises:
        TorchCheckpointError: unreadable file, no ``netG``, missing or unused names, or shape
            mismatches (the message names the file); nothing is assigned then.
    """
    return _tsn_load(tsn_generator_weight_map(model), source, path, "netG")


def load_tsn_discriminator_state(model, source, path=None):
    """Load TSN's ``dis_<NNNNN>.pth`` (``{'netD': state_dict}`` with ``module.`` prefixes)
    into a :class:`~tfposegen.models.paint.tsn.TSNDiscriminator`, all or nothing (as
    :func:`load_tsn_generator_state`; ``num_batches_tracked`` dropped). Returns the number
    of tensors assigned (22)."""
    ignore = tuple(f"model.{_tsn_bn_index(j)}.num_batches_tracked"
                   for j in range(1, len(model.norms) + 1))
    return _tsn_load(tsn_discriminator_weight_map(model), source, path, "netD", ignore)


def load_tsn_checkpoints(folder, index=None, G=None, D=None):
    """Load ``<folder>/gen_<index>.pth`` / ``dis_<index>.pth`` into the networks given, as
    TSN's ``Trainer.load`` / test.py do with ``release_model/pennet_pen5_pconv256``:
    ``index`` None reads the last line of ``<folder>/latest.ckpt`` (e.g. ``00033``); an
    int is zero-padded to 5 digits.

    Returns:
        dict network name -> number of tensors assigned.

    Raises:
        TorchCheckpointError: ``latest.ckpt`` or a file is missing or does not fit (named
            in the message).
    """
    folder = os.fspath(folder)
    index = save_index(folder, index)
    counts = {}
    for name, model, stem, loader in (("G", G, "gen", load_tsn_generator_state),
                                      ("D", D, "dis", load_tsn_discriminator_state)):
        if model is not None:
            counts[name] = loader(model, os.path.join(folder, f"{stem}_{index}.pth"))
    return counts


def save_index(folder, index=None):
    """The 5-digit save index of PAINT's TSN / AFN trainers (``core/trainer.py``): ``index``
    zero-filled, or the last line of ``<folder>/latest.ckpt`` when ``index`` is None."""
    if index is None:
        latest = os.path.join(folder, "latest.ckpt")
        try:
            with open(latest) as f:
                lines = f.read().splitlines()
        except OSError as e:
            raise TorchCheckpointError(f"{latest}: cannot read ({e})") from e
        if not lines or not lines[-1].strip():
            raise TorchCheckpointError(f"{latest}: empty; expected a save index like 00033")
        index = lines[-1].strip()
    return str(index).zfill(5)
