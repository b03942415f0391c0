"""DPTN's released checkpoints -> Keras variables, by name (no torch needed).

``latest_net_G.pth`` / ``latest_net_D.pth`` of PangzeCheung/Dual-task-Pose-Transformer-Network
are ``torch.save(net.state_dict())`` of networks wrapped in ``nn.DataParallel`` (every key
``module.``-prefixed); both prefix forms load here (``tfposegen.convert.torch_checkpoint``),
strictly: every tensor must be used and every shape match before anything is assigned (the
original falls back to a partial, shape-matched load that silently leaves layers random).

The generator's ``ResBlock`` and ``Output`` keep each convolution twice in their state dict
(``mblock{i}.conv1/conv2/bypass`` = ``model.2/model.5/shortcut.0``, ``outconv.conv1`` =
``outconv.model.2``): the loader reads the Sequential name and checks the alias is equal.
Spectral-normed convolutions (the discriminator) carry ``weight_orig``, ``weight_u`` and
``weight_v``, loaded into the wrapper's kernel, ``u`` and ``v`` as stored.
"""

import numpy as np

from tfposegen.convert.torch_checkpoint import (
    TorchCheckpointError,
    assign_state_dict,
    state_dict,
)
from tfposegen.layers.spectral_norm import SpectralNormalization

__all__ = ["discriminator_weight_map", "generator_aliases", "generator_weight_map",
           "load_discriminator_state", "load_generator_state", "load_networks",
           "save_networks"]


def _conv(layer, name, transpose=False):
    kind = "conv_transpose2d" if transpose else "conv2d"
    if isinstance(layer, SpectralNormalization):
        inner = layer.layer
        return [(inner.bias, f"{name}.bias", "vector"),
                (inner.kernel, f"{name}.weight_orig", kind),
                (layer.u, f"{name}.weight_u", "vector"), (layer.v, f"{name}.weight_v", "vector")]
    return [(layer.kernel, f"{name}.weight", kind), (layer.bias, f"{name}.bias", "vector")]


def _norm(norm, name):
    return [(norm.gamma, f"{name}.weight", "vector"), (norm.beta, f"{name}.bias", "vector")]


def _dense(layer, name):
    return [(layer.kernel, f"{name}.weight", "linear"), (layer.bias, f"{name}.bias", "vector")]


def _attention(layer, name):
    return [(layer.in_proj_kernel, f"{name}.in_proj_weight", "linear"),
            (layer.in_proj_bias, f"{name}.in_proj_bias", "vector"),
            (layer.out_kernel, f"{name}.out_proj.weight", "linear"),
            (layer.out_bias, f"{name}.out_proj.bias", "vector")]


def _encoder_block(block, name, optimized):
    if optimized:   # conv 0, IN 1, conv 3
        return (_conv(block.convs[0], f"{name}.model.0") + _norm(block.norms[0], f"{name}.model.1")
                + _conv(block.convs[1], f"{name}.model.3"))
    return (_norm(block.norms[0], f"{name}.model.0") + _conv(block.convs[0], f"{name}.model.2")
            + _norm(block.norms[1], f"{name}.model.3") + _conv(block.convs[1], f"{name}.model.5"))


def _res_block(block, name, transpose=False):
    return (_norm(block.norms[0], f"{name}.model.0") + _conv(block.convs[0], f"{name}.model.2")
            + _norm(block.norms[1], f"{name}.model.3")
            + _conv(block.convs[1], f"{name}.model.5", transpose)
            + _conv(block.convs[2], f"{name}.shortcut.0", transpose))


def _ptm(ptm, name):
    pairs = []
    for i, cab in enumerate(ptm.cabs):
        p = f"{name}.encoder.layers.{i}"
        pairs += (_attention(cab.self_attn, f"{p}.self_attn") + _dense(cab.linear1, f"{p}.linear1")
                  + _dense(cab.linear2, f"{p}.linear2") + _norm(cab.norm1, f"{p}.norm1")
                  + _norm(cab.norm2, f"{p}.norm2"))
    for i, ttb in enumerate(ptm.ttbs):
        p = f"{name}.decoder.layers.{i}"
        pairs += (_attention(ttb.self_attn, f"{p}.self_attn")
                  + _attention(ttb.multihead_attn, f"{p}.multihead_attn")
                  + _dense(ttb.linear1, f"{p}.linear1") + _dense(ttb.linear2, f"{p}.linear2")
                  + _norm(ttb.norm1, f"{p}.norm1") + _norm(ttb.norm2, f"{p}.norm2")
                  + _norm(ttb.norm3, f"{p}.norm3"))
    return pairs + _norm(ptm.norm, f"{name}.decoder.norm")


def generator_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.dptn.networks.DPTNGenerator` with its
    torch name (``DPTNGenerator.state_dict()`` without the aliases): ``block0``,
    ``encoder{i}``, ``mblock{i}``, ``PTM.encoder.layers.{i}``, ``PTM.decoder.layers.{i}``,
    ``PTM.decoder.norm``, ``source_encoder.*``, ``decoder{i}``, ``outconv.model.2``; 168
    tensors at the released size.

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = _encoder_block(model.block0, "block0", True)
    for i, block in enumerate(model.encoders):
        pairs += _encoder_block(block, f"encoder{i}", False)
    for i, block in enumerate(model.mblocks):
        pairs += _res_block(block, f"mblock{i}")
    pairs += _ptm(model.ptm, "PTM")
    source = model.source_encoder
    pairs += _encoder_block(source.block0, "source_encoder.block0", True)
    for i, block in enumerate(source.encoders):
        pairs += _encoder_block(block, f"source_encoder.encoder{i}", False)
    for i, block in enumerate(model.decoders):
        pairs += _res_block(block, f"decoder{i}", transpose=True)
    return pairs + _conv(model.outconv.convs[0], "outconv.model.2")


def generator_aliases(num_blocks=3, spectral=False):
    """``{alias: Sequential name}`` of the generator's duplicated state-dict entries
    (``ResBlock.conv1 / conv2 / bypass``, ``Output.conv1``)."""
    suffixes = ("weight_orig", "weight_u", "weight_v", "bias") if spectral else ("weight", "bias")
    out = {}
    pairs = [(f"mblock{i}.{a}", f"mblock{i}.{b}") for i in range(num_blocks)
             for a, b in (("conv1", "model.2"), ("conv2", "model.5"), ("bypass", "shortcut.0"))]
    pairs.append(("outconv.conv1", "outconv.model.2"))
    for alias, name in pairs:
        out.update({f"{alias}.{s}": f"{name}.{s}" for s in suffixes})
    return out


def discriminator_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.dptn.networks.ResDiscriminator` with its
    torch name: ``block0.model.{0,2}``, ``block0.shortcut.1``, ``encoder{i}.model.{1,3}``,
    ``encoder{i}.shortcut.1``, ``conv`` (52 tensors with spectral norm at 4 layers).

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = []
    for name, block, main in [("block0", model.block0, (0, 2))] + [
            (f"encoder{i}", b, (1, 3)) for i, b in enumerate(model.encoders)]:
        pairs += (_conv(block.convs[0], f"{name}.model.{main[0]}")
                  + _conv(block.convs[1], f"{name}.model.{main[1]}")
                  + _conv(block.convs[2], f"{name}.shortcut.1"))
    return pairs + _conv(model.conv, "conv")


def _where(source, path, what):
    return path or (str(source) if not isinstance(source, dict) else f"<{what} state dict>")


def load_generator_state(model, source, path=None):
    """Load ``latest_net_G.pth`` (or a name -> array dict) into ``model``, all or nothing.

    Keys with or without ``module.``; each alias must equal its Sequential twin.

    Returns:
        the number of tensors assigned.

    Raises:
        TorchCheckpointError: unreadable file, missing / unused names, an alias that differs
            from its twin, or shape mismatches; nothing is assigned then.
    """
    where = _where(source, path, "DPTN G")
    state = dict(state_dict(source))
    aliases = generator_aliases(len(model.mblocks), model.config["use_spect"])
    differ = [a for a, n in aliases.items() if a in state and n in state
              and not np.array_equal(state[a], state[n])]
    if differ:
        raise TorchCheckpointError(f"{where}: aliased tensors differ from their twins: "
                                   f"{differ[:5]}")
    for alias, name in aliases.items():
        if alias in state and name not in state:
            state[name] = state[alias]
        state.pop(alias, None)
    pairs = generator_weight_map(model)
    assign_state_dict(pairs, state, path=where, strict=True)
    return len(pairs)


def load_discriminator_state(model, source, path=None):
    """Load ``latest_net_D.pth`` (or a dict) into ``model``, all or nothing (as
    :func:`load_generator_state`). Returns the number of tensors assigned."""
    pairs = discriminator_weight_map(model)
    assign_state_dict(pairs, state_dict(source), path=_where(source, path, "DPTN D"),
                      strict=True)
    return len(pairs)


def save_networks(networks, out_dir, metadata=None):
    """Save DPTN networks (e.g. ``{"G": g, "D": d}``) as one folder
    (``tfposegen.utils.saving.save_networks``); returns the folder path."""
    from tfposegen.utils import saving

    return saving.save_networks(networks, out_dir, metadata=metadata)


def load_networks(path):
    """Load a folder of :func:`save_networks`: ``(networks dict, metadata)``. Raises
    ``tfposegen.utils.saving.NetworksFileError`` for an unreadable folder or another
    system's networks."""
    from tfposegen.models.dptn.networks import DPTNGenerator, ResDiscriminator
    from tfposegen.utils import saving

    networks, metadata, _ = saving.load_networks(
        path, {"DPTNGenerator": DPTNGenerator, "ResDiscriminator": ResDiscriminator})
    return networks, metadata
