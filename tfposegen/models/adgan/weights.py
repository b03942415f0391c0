"""ADGAN's PyTorch weights -> the Keras networks, and the library's saved form.

The original saves ``<label>_net_<netG|netD_PB|netD_PP>.pth`` with
``torch.save(net.cpu().state_dict())`` (``BaseModel.save_network``, models/base_model.py in
menyifang/ADGAN); networks trained on several GPUs are wrapped in ``nn.DataParallel`` and
every key then starts with ``module.`` (the released netG files do). Its loader deletes the
``running_mean`` / ``running_var`` keys and calls ``load_state_dict(strict=False)``, so a
prefix mismatch silently loads nothing and the generator outputs noise (ADGAN issues #6 and
#30). Here both forms load identically (the prefix is stripped), every name and converted
shape is checked before any variable changes, and missing or left-over tensors raise
``TorchCheckpointError``. The only keys ignored are the AdaIN layers' dummy
``running_mean`` / ``running_var`` buffers, which the original never reads.

A name map is a list of ``(keras variable, torch name, kind)`` with ``kind`` one of
``tfposegen.convert.torch_checkpoint.to_keras``'s layouts (conv2d, linear, vector).
"""

import os

from tfposegen.convert.torch_checkpoint import TorchCheckpointError, assign_state_dict, state_dict
from tfposegen.losses.perceptual import (
    VGG19_LAYERS,
    load_torchvision_vgg19,
    seeded_vgg19_state,
)
from tfposegen.models.adgan.discriminators import ResnetDiscriminator
from tfposegen.models.adgan.networks import ADGen
from tfposegen.utils import saving

# The AdaIN dummy buffers of netG checkpoints, present in every file and never used.
ADGEN_IGNORED = ("dec.model.0.model.*.model.*.norm.running_mean",
                 "dec.model.0.model.*.model.*.norm.running_var")
# Classes ``load_networks`` may instantiate from a networks folder.
NETWORK_CLASSES = {"ADGen": ADGen, "ResnetDiscriminator": ResnetDiscriminator}

__all__ = ["ADGEN_IGNORED", "NETWORK_CLASSES", "TorchCheckpointError", "adgen_weight_map",
           "discriminator_weight_map", "load_adgen_state", "load_discriminator_state",
           "load_demo_generator", "load_generator", "load_networks", "load_vgg19",
           "save_demo_generator", "save_networks"]


def _conv(layer, name):
    return [(layer.kernel, f"{name}.weight", "conv2d"), (layer.bias, f"{name}.bias", "vector")]


def _dense(layer, name):
    return [(layer.kernel, f"{name}.weight", "linear"), (layer.bias, f"{name}.bias", "vector")]


def adgen_weight_map(model):
    """Every parameter of an :class:`ADGen` with its torch name, in the original's key order.

    Torch names (``ADGen.state_dict()`` of models/model_adgen.py in menyifang/ADGAN):
    ``enc_style.vgg.{i}`` (torchvision ``features`` index i, 16 convs),
    ``enc_style.conv{1..4}.conv``, ``enc_style.model.1``, ``enc_content.model.{0..n_down}.conv``,
    ``enc_content.model.{n_down+1}.model.{r}.model.{j}.conv``, ``dec.model.0.model.{r}.model.{j}
    .conv``, ``dec.model.{2i+2}.norm.{gamma,beta}`` / ``.conv``, ``dec.model.{2 n_down + 1}.conv``,
    ``fc.fc``, ``mlp.model.{0,1,2}.fc`` (each ``.weight`` / ``.bias``): 130 tensors at the
    released size.

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    pairs = []
    style = model.enc_style
    for index, layer in enumerate(style.vgg.stack):
        if VGG19_LAYERS[index].startswith("conv"):
            pairs += _conv(layer, f"enc_style.vgg.{index}")
    for k, block in enumerate(style.convs, 1):
        pairs += _conv(block.conv, f"enc_style.conv{k}.conv")
    pairs += _conv(style.proj, "enc_style.model.1")
    content = model.enc_content
    for i, block in enumerate(content.blocks):
        pairs += _conv(block.conv, f"enc_content.model.{i}.conv")
    res = f"enc_content.model.{len(content.blocks)}.model"
    for r, block in enumerate(content.res_blocks):
        for j, conv_block in enumerate(block.conv_blocks):
            pairs += _conv(conv_block.conv, f"{res}.{r}.model.{j}.conv")
    for r, block in enumerate(model.dec.res_blocks):
        for j, conv_block in enumerate(block.conv_blocks):
            pairs += _conv(conv_block.conv, f"dec.model.0.model.{r}.model.{j}.conv")
    for i, block in enumerate(model.dec.ups):
        name = f"dec.model.{2 * i + 2}"
        pairs += [(block.norm.gamma, f"{name}.norm.gamma", "vector"),
                  (block.norm.beta, f"{name}.norm.beta", "vector")]
        pairs += _conv(block.conv, f"{name}.conv")
    pairs += _conv(model.dec.out.conv, f"dec.model.{2 * len(model.dec.ups) + 1}.conv")
    pairs += _dense(model.fc, "fc.fc")
    for k, layer in enumerate(model.mlp):
        pairs += _dense(layer, f"mlp.model.{k}.fc")
    return pairs


def discriminator_weight_map(model):
    """Every parameter of a :class:`ResnetDiscriminator` with its torch name.

    ``model.1`` (stem), ``model.{4, 7[, 10]}`` (stride-2 convs), ``model.{b}.conv_block.1`` /
    ``.conv_block.6`` (``.5`` without dropout) per residual block (models/networks.py in
    menyifang/ADGAN): 18 tensors at the released size.

    Returns:
        list of ``(variable, torch_name, kind)``.
    """
    index = model.torch_index
    pairs = _conv(model.stem, f"model.{index['stem']}")
    for conv, i in zip(model.downs, index["downs"]):
        pairs += _conv(conv, f"model.{i}")
    second = 6 if model.use_dropout else 5
    for block, i in zip(model.blocks, index["blocks"]):
        pairs += _conv(block.conv_a, f"model.{i}.conv_block.1")
        pairs += _conv(block.conv_b, f"model.{i}.conv_block.{second}")
    return pairs


def load_adgen_state(model, source, path=None):
    """Load an ADGAN netG checkpoint into ``model``, all or nothing.

    Args:
        model: an :class:`ADGen` of the checkpoint's configuration.
        source: ``<label>_net_netG.pth`` (read without torch), or a dict torch name ->
            np.ndarray; keys with or without DataParallel ``module.`` prefixes.
        path: name used in error messages (default: ``source`` when it is a path).

    Returns:
        the number of tensors assigned (130 at the released size).

    Raises:
        TorchCheckpointError: unreadable file, missing or unexpected keys (anything but the
            AdaIN ``running_*`` buffers), or shape mismatches; nothing is assigned then.
    """
    where = path or (str(source) if not isinstance(source, dict) else "<netG state dict>")
    pairs = adgen_weight_map(model)
    assign_state_dict(pairs, state_dict(source), path=where, strict=True, ignore=ADGEN_IGNORED)
    return len(pairs)


def load_discriminator_state(model, source, path=None):
    """Load an ADGAN ``netD_PB`` / ``netD_PP`` checkpoint into ``model``, all or nothing.

    Args:
        model: a :class:`ResnetDiscriminator` of the checkpoint's configuration.
        source: the ``.pth`` file or a dict torch name -> np.ndarray (``module.`` optional).
        path: name used in error messages.

    Returns:
        the number of tensors assigned (18 at the released size).

    Raises:
        TorchCheckpointError: as :func:`load_adgen_state` (no key is ignored).
    """
    where = path or (str(source) if not isinstance(source, dict) else "<netD state dict>")
    pairs = discriminator_weight_map(model)
    assign_state_dict(pairs, state_dict(source), path=where, strict=True)
    return len(pairs)


def load_vgg19(model, path):
    """Load torchvision's ``vgg19-dcbb9e9d.pth`` into the texture encoder's frozen VGG19.

    What ``VggStyleEncoder.__init__`` and ``load_VGG`` (models/model_adgen.py,
    models/adgan.py in menyifang/ADGAN) do before training; a netG checkpoint carries these
    weights itself (``enc_style.vgg.*``). ``classifier.*`` keys are ignored.

    Args:
        model: an :class:`ADGen`; path: the torchvision VGG19 state-dict file.

    Returns:
        sorted list of the keys assigned.
    """
    return load_torchvision_vgg19(model.enc_style.vgg, path)


def save_networks(networks, out_dir, metadata=None):
    """Save ADGAN networks (e.g. ``{"netG": g, "netD_PB": d_pb}``) as one folder.

    ``tfposegen.utils.saving.save_networks`` with the ADGAN classes; returns the folder path.
    """
    return saving.save_networks(networks, out_dir, metadata=metadata)


def load_networks(path):
    """Load a folder written by :func:`save_networks`: ``(networks dict, metadata)``.

    Only :data:`NETWORK_CLASSES` may be instantiated.

    Raises:
        tfposegen.utils.saving.NetworksFileError: unreadable folder or unknown class.
    """
    networks, metadata, _ = saving.load_networks(path, NETWORK_CLASSES)
    return networks, metadata


# ------------------------------------------------------------------ networks of a checkpoint


def adgen_config(state):
    """``ADGen`` keyword arguments of a netG state dict (torch names, ``module.`` stripped):
    style_dim, mlp_dim, n_res and n_downsample read from the tensor shapes and names."""
    try:
        n_down = sum(1 for k in state if k.startswith("enc_content.model.")
                     and k.endswith(".conv.weight") and k.count(".") == 4) - 1
        n_res = len({k.split(".")[3] for k in state if k.startswith("dec.model.0.model.")})
        return dict(dim=64, style_dim=int(state["fc.fc.weight"].shape[0]),
                    n_downsample=n_down, n_res=n_res,
                    mlp_dim=int(state["mlp.model.0.fc.weight"].shape[0]))
    except KeyError as e:
        raise ValueError(f"not an ADGAN netG state dict: no {e}") from None


def discriminator_config(state):
    """``ResnetDiscriminator`` keyword arguments of a netD_PB / netD_PP state dict."""
    if "model.1.weight" not in state:
        raise ValueError("not an ADGAN discriminator state dict: no model.1.weight")
    stem = state["model.1.weight"]
    downs = [k for k in state if k.endswith(".weight") and k.count(".") == 2
             and k != "model.1.weight"]
    blocks = {k.split(".")[1] for k in state if ".conv_block." in k}
    return dict(input_nc=int(stem.shape[1]), ndf=int(stem.shape[0]),
                n_blocks=len(blocks), n_downsampling=len(downs),
                use_dropout=any(".conv_block.6." in k for k in state), use_sigmoid=False)


def load_label_networks(exp_dir, label, nets):
    """Assign the networks saved under ``label`` in ``exp_dir`` to ``nets`` (a dict of built
    networks, e.g. only ``netG``): the folder ``<exp_dir>/<label>_net`` of
    :func:`save_networks`, else the original's ``<exp_dir>/<label>_net_<key>.pth``
    (``BaseModel.load_network`` of models/base_model.py in menyifang/ADGAN, but strict).

    Returns:
        the folder or list of files read.

    Raises:
        FileNotFoundError: neither exists (the message names both);
        TorchCheckpointError / NetworksFileError: a file that does not fit.
    """
    folder = os.path.join(exp_dir, f"{label}_net")
    if os.path.isfile(os.path.join(folder, "networks.json")):
        saved, _ = load_networks(folder)
        for key, model in nets.items():
            if key not in saved:
                raise FileNotFoundError(f"{folder}: has no network {key!r}")
            for mine, theirs in zip(model.weights, saved[key].weights, strict=True):
                mine.assign(theirs)
        return folder
    files = {k: os.path.join(exp_dir, f"{label}_net_{k}.pth") for k in nets}
    if not all(os.path.isfile(f) for f in files.values()):
        raise FileNotFoundError(f"no networks '{label}': neither {folder}/networks.json nor "
                                f"{', '.join(files.values())}")
    for key, path in files.items():
        load = load_adgen_state if key == "netG" else load_discriminator_state
        load(nets[key], path)
    return list(files.values())


def load_vgg_conv(model, path):
    """Load ``vgg_conv.pth`` (the VGG of Gatys et al.'s style-transfer code that the CX loss
    reads from ``<dirname(dataroot)>/vgg_conv.pth`` in models/adgan.py of menyifang/ADGAN;
    ``VGG`` of models/vgg.py there: keys ``conv{b}_{k}.weight`` / ``.bias``) into a
    :class:`VGG19Features`, all or nothing.

    Returns:
        the number of tensors assigned (32).

    Raises:
        tfposegen.convert.torch_checkpoint.TorchCheckpointError: unreadable file, missing,
            unused or mis-shaped tensors.
    """
    pairs = []
    for name, layer in zip(VGG19_LAYERS, model.stack):
        if name.startswith("conv"):
            pairs += [(layer.kernel, f"{name}.weight", "conv2d"),
                      (layer.bias, f"{name}.bias", "vector")]
    assign_state_dict(pairs, state_dict(path), path=str(path), strict=True)
    return len(pairs)


def save_demo_generator(model, path, vgg_seed, metadata=None):
    """Write a generator whose texture VGG is ``seeded_vgg19_state(vgg_seed)``
    (:mod:`tfposegen.losses.perceptual`) as a small ``.npz``: its config, the seed, and every
    other tensor under the original's torch name (``adgen_weight_map``, torch layouts) in
    float16, written atomically.

    The file holds ~2 bytes per trainable parameter (19.3 MB at ``presets.ADGEN_TINY``);
    :func:`load_demo_generator` rebuilds the VGG from the seed, so the network it returns
    computes with the float16-rounded weights.

    Args:
        model: an :class:`ADGen` whose ``enc_style.vgg`` holds ``seeded_vgg19_state(vgg_seed)``.
        path: output ``.npz`` file.
        vgg_seed: the seed of its VGG (checked against the weights).
        metadata: JSON-serialisable dict stored in the file.
    """
    import json

    import numpy as np

    from tfposegen.convert.torch_checkpoint import to_torch
    from tfposegen.utils.files import atomic_path

    vgg = seeded_vgg19_state(vgg_seed)["features.0.weight"]
    if not np.array_equal(to_torch(model.enc_style.vgg.stack[0].kernel, "conv2d"), vgg):
        raise ValueError(f"{path}: the generator's texture VGG is not seeded_vgg19_state"
                         f"({vgg_seed})")
    # a state dict without the VGG: the file reads like the original's netG minus enc_style.vgg
    arrays = {name: to_torch(variable, kind).astype(np.float16)
              for variable, name, kind in adgen_weight_map(model)
              if not name.startswith("enc_style.vgg.")}
    header = {"config": model.get_config(), "vgg_seed": int(vgg_seed), **(metadata or {})}
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, __header__=np.array(json.dumps(header)), **arrays)
    return os.path.abspath(path)


def load_demo_generator(path):
    """Load a file of :func:`save_demo_generator`: ``(ADGen, metadata dict)``.

    Raises:
        tfposegen.convert.torch_checkpoint.TorchCheckpointError: not such a file, or its
            tensors do not fit its config (the message names the file).
    """
    import json

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["__header__"]))
            state = {k: data[k].astype(np.float32) for k in data.files if k != "__header__"}
        model = ADGen.from_config(header["config"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise TorchCheckpointError(f"{path}: not an ADGAN demo generator file ({e})") from None
    vgg = seeded_vgg19_state(header["vgg_seed"])
    state.update({f"enc_style.vgg.{k[len('features.'):]}": v for k, v in vgg.items()})
    load_adgen_state(model, state, path=str(path))
    return model, {k: v for k, v in header.items() if k != "config"}


def load_generator(path):
    """An :class:`ADGen` from any of its files: a networks folder with ``netG``
    (:func:`save_networks`), the original's ``<label>_net_netG.pth`` (plain or DataParallel
    keys; its size read from the file) or a demo file (:func:`save_demo_generator`, ``.npz``).

    Raises:
        TorchCheckpointError / tfposegen.utils.saving.NetworksFileError (ValueErrors): a
            missing, unreadable or foreign file; the message names it.
    """
    path = os.fspath(path)
    if os.path.isfile(os.path.join(path, saving.CONFIG_FILE)):
        nets, _ = load_networks(path)
        if "netG" not in nets:
            raise saving.NetworksFileError(f"{path}: has no netG")
        return nets["netG"]
    if not os.path.isfile(path):
        raise TorchCheckpointError(f"{path}: neither a networks folder nor a netG file")
    if path.endswith(".npz"):
        return load_demo_generator(path)[0]
    state = state_dict(path)
    try:
        model = ADGen(**adgen_config(state))
    except ValueError as e:
        raise TorchCheckpointError(f"{path}: {e}") from None
    load_adgen_state(model, state, path=path)
    return model
