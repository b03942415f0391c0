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

__all__ = ["PREFIXES", "discriminator_weight_map", "generator_aliases",
           "generator_weight_map", "load_discriminator_state", "load_generator_state",
           "load_networks", "load_step_checkpoint", "save_networks"]


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


def _content_encoder(encoder, prefix):
    pairs = _encoder_block(encoder.block0, f"{prefix}block0", True)
    for i, block in enumerate(encoder.encoders):
        pairs += _encoder_block(block, f"{prefix}encoder{i}", False)
    for i, block in enumerate(encoder.mblocks):
        pairs += _res_block(block, f"{prefix}mblock{i}")
    return pairs


def _decoder(decoder, prefix):
    pairs = []
    for i, block in enumerate(decoder.decoders):
        pairs += _res_block(block, f"{prefix}decoder{i}", transpose=True)
    return pairs + _conv(decoder.outconv.convs[0], f"{prefix}outconv.model.2")


# (En_c, En_s, De) name prefixes of DPTN's DPTNGenerator and DPTN_step's
PREFIXES = {"dptn": ("", "source_encoder.", ""), "step": ("En_c.", "En_s.", "De.")}


def generator_weight_map(model, prefixes=PREFIXES["dptn"]):
    """Every variable of a :class:`~tfposegen.models.dptn.networks.DPTNGenerator` (or a
    :class:`~tfposegen.models.dptn.step_networks.StepGenerator` with ``PREFIXES["step"]``)
    with its torch name (the state dict without the aliases): En_c's ``block0``,
    ``encoder{i}``, ``mblock{i}``, ``PTM.encoder.layers.{i}``, ``PTM.decoder.layers.{i}``,
    ``PTM.decoder.norm``, En_s's ``block0`` / ``encoder{i}``, De's ``decoder{i}``,
    ``outconv.model.2``; 168 tensors at DPTN's released size.

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    content, source, decoder = prefixes
    return (_content_encoder(model.content_encoder, content) + _ptm(model.ptm, "PTM")
            + _content_encoder(model.source_encoder, source)
            + _decoder(model.decoder, decoder))


def generator_aliases(num_blocks=3, spectral=False, prefixes=PREFIXES["dptn"]):
    """``{alias: Sequential name}`` of the generator's duplicated state-dict entries
    (``ResBlock.conv1 / conv2 / bypass``, ``Output.conv1``)."""
    suffixes = ("weight_orig", "weight_u", "weight_v", "bias") if spectral else ("weight", "bias")
    content, _, decoder = prefixes
    out = {}
    pairs = [(f"{content}mblock{i}.{a}", f"{content}mblock{i}.{b}") for i in range(num_blocks)
             for a, b in (("conv1", "model.2"), ("conv2", "model.5"), ("bypass", "shortcut.0"))]
    pairs.append((f"{decoder}outconv.conv1", f"{decoder}outconv.model.2"))
    for alias, name in pairs:
        out.update({f"{alias}.{s}": f"{name}.{s}" for s in suffixes})
    return out


def discriminator_weight_map(model):
    """Every variable of a :class:`~tfposegen.models.dptn.networks.ResDiscriminator` with its
    torch name: ``block0.model.{0,2}``, ``block0.shortcut.1``, ``encoder{i}.model.{1,3}``,
    ``encoder{i}.shortcut.1``, ``conv`` (52 tensors with spectral norm at 4 layers), and for
    a :class:`~tfposegen.models.dptn.step_networks.StepDiscriminator` ``fc_step.{0,2}``.

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = []
    for name, block, main in [("block0", model.block0, (0, 2))] + [
            (f"encoder{i}", b, (1, 3)) for i, b in enumerate(model.encoders)]:
        pairs += (_conv(block.convs[0], f"{name}.model.{main[0]}")
                  + _conv(block.convs[1], f"{name}.model.{main[1]}")
                  + _conv(block.convs[2], f"{name}.shortcut.1"))
    pairs += _conv(model.conv, "conv")
    if hasattr(model, "fc_step"):  # DPTN_step's StepDiscriminator
        pairs += _dense(model.fc_step[0], "fc_step.0") + _dense(model.fc_step[1], "fc_step.2")
    return pairs


def _where(source, path, what):
    return path or (str(source) if not isinstance(source, dict) else f"<{what} state dict>")


def load_generator_state(model, source, path=None, prefixes=PREFIXES["dptn"]):
    """Load ``latest_net_G.pth`` (or a name -> array dict) into ``model``, all or nothing.

    Keys with or without ``module.``; each alias must equal its Sequential twin. With
    ``PREFIXES["step"]``, a DPTN_step generator's ``netG`` (without its positional table:
    see :func:`load_step_checkpoint`).

    Returns:
        the number of tensors assigned.

    Raises:
        TorchCheckpointError: unreadable file, missing / unused names, an alias that differs
            from its twin, or shape mismatches; nothing is assigned then.
    """
    where = _where(source, path, "DPTN G")
    state = dict(state_dict(source))
    aliases = generator_aliases(model.config["num_blocks"], model.config["use_spect"],
                                prefixes)
    differ = [a for a, n in aliases.items() if a in state and n in state
              and not np.array_equal(state[a], state[n])]
    if differ:
        raise TorchCheckpointError(f"{where}: aliased tensors differ from their twins: "
                                   f"{differ[:5]}")
    for alias, name in aliases.items():
        if alias in state and name not in state:
            state[name] = state[alias]
        state.pop(alias, None)
    pairs = generator_weight_map(model, prefixes)
    assign_state_dict(pairs, state, path=where, strict=True)
    return len(pairs)


def load_discriminator_state(model, source, path=None):
    """Load ``latest_net_D.pth`` (or a dict) into ``model``, all or nothing (as
    :func:`load_generator_state`). Returns the number of tensors assigned."""
    pairs = discriminator_weight_map(model)
    assign_state_dict(pairs, state_dict(source), path=_where(source, path, "DPTN D"),
                      strict=True)
    return len(pairs)


PE_KEY = "positional_encoding.pe"


def load_step_checkpoint(path, G=None, D=None):
    """Load DPTN_step's ``<epoch>_net.pth`` (gkalstn000/DPTN_step, ``util.save_network``: one
    dict ``{'netG', 'netD', 'optG', 'optD'}``) into a
    :class:`~tfposegen.models.dptn.step_networks.StepGenerator` and / or
    :class:`~tfposegen.models.dptn.step_networks.StepDiscriminator`, each all or nothing.

    The file is memory-mapped (``load_torch_file(lazy=True)``): of the generator's
    ``positional_encoding.pe`` ([max_len, 1, H * W], 1.31 GB at 256 x 256) only rows 0 ..
    S + 1 are read, into ``G.step_maps``. The optimiser states are not used.

    Returns:
        dict: the number of tensors assigned per network (``{"G": n, "D": m}``).

    Raises:
        TorchCheckpointError: unreadable file, not this format, a positional table of
            another image size or too few rows, a step head for another S, or any name /
            shape mismatch (nothing of that network is assigned).
    """
    from tfposegen.convert.torch_checkpoint import load_torch_file

    where = str(path)
    obj = load_torch_file(path, lazy=True)
    if not isinstance(obj, dict) or not {"netG", "netD"} <= set(obj):
        top = list(obj) if isinstance(obj, dict) else type(obj).__name__
        raise TorchCheckpointError(f"{where}: not a DPTN_step checkpoint (expected the keys "
                                   f"netG, netD, optG, optD; found {top})")
    counts = {}
    if G is not None:
        state = dict(state_dict(obj, key="netG"))
        pe = state.pop(PE_KEY, None)
        if pe is None:
            raise TorchCheckpointError(f"{where}: netG has no {PE_KEY}")
        c = G.config
        rows = c["steps"] + 2
        if pe.ndim != 3 or pe.shape[1] != 1 or pe.shape[2] != c["height"] * c["width"] \
                or pe.shape[0] < rows:
            raise TorchCheckpointError(
                f"{where}: {PE_KEY} has shape {tuple(pe.shape)}; a {c['height']}x{c['width']} "
                f"generator with {c['steps']} steps needs [>= {rows}, 1, "
                f"{c['height'] * c['width']}] (the checkpoint was trained at another size)")
        table = np.array(pe[:rows, 0], np.float32).reshape(G.step_maps.shape)
        counts["G"] = load_generator_state(G, state, f"{where} [netG]", PREFIXES["step"]) + 1
        G.step_maps.assign(table)
    if D is not None:
        state = state_dict(obj, key="netD")
        head = state.get("fc_step.2.bias")
        if head is not None and head.shape[0] != D.config["steps"]:
            raise TorchCheckpointError(f"{where}: the step head classifies {head.shape[0]} "
                                       f"steps, the discriminator {D.config['steps']}")
        counts["D"] = load_discriminator_state(D, state, f"{where} [netD]")
    return counts


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
    from tfposegen.models.dptn.step_networks import StepDiscriminator, StepGenerator
    from tfposegen.utils import saving

    networks, metadata, _ = saving.load_networks(
        path, {"DPTNGenerator": DPTNGenerator, "ResDiscriminator": ResDiscriminator,
               "StepGenerator": StepGenerator, "StepDiscriminator": StepDiscriminator})
    return networks, metadata
