"""Official StyleGAN2 / DGP dnnlib pickles <-> Keras models, and converted-folder I/O.

``load_dnnlib_pickle(path)`` reads ``(G, D, Gs)`` (NVlabs StyleGAN2) or ``(E, D, Gs)`` (DGP)
without TF1, infers each network's settings from ``static_kwargs`` and the variable shapes,
builds the Keras models of ``tfposegen.nets`` and copies the weights in (noise maps included).
Layouts: TF1 NCHW ``const`` [1,C,4,4] and noise maps [1,1,R,R] become NHWC [1,4,4,C] and
[1,R,R,1]; every other variable keeps its TF1 layout (HWIO kernels, [in, out] dense weights),
since the Keras layers apply them exactly as the TF1 code does.
"""

import os
import re
import warnings

import numpy as np

from tfposegen.convert.dnnlib_pickle import (
    DnnlibPickleError,
    NetworkStub,
    read_dnnlib_pickle,
    write_dnnlib_pickle,
)
from tfposegen.models.dgp.encoder import Encoder, EncoderLayoutError
from tfposegen.models.stylegan2 import Discriminator, Generator
from tfposegen.models.stylegan2.networks import ARCHITECTURES, stage_channels
from tfposegen.ops import ACTIVATIONS
from tfposegen.utils import saving

# static_kwargs of G_main / G_mapping / G_synthesis_stylegan2 that are understood, with the
# TF1 defaults. Keys that only steer training or TF1 graph building are accepted and ignored.
G_KWARGS = {
    "num_channels": 3, "resolution": 1024, "label_size": 0, "latent_size": 512,
    "dlatent_size": 512, "mapping_layers": 8, "mapping_fmaps": 512, "mapping_lrmul": 0.01,
    "mapping_nonlinearity": "lrelu", "normalize_latents": True, "fmap_base": 16384,
    "fmap_decay": 1.0, "fmap_min": 1, "fmap_max": 512, "architecture": "skip",
    "nonlinearity": "lrelu", "resample_kernel": [1, 3, 3, 1], "dtype": "float32",
    "use_noise": True, "conv_clamp": None,
}
D_KWARGS = {
    "num_channels": 3, "resolution": 1024, "label_size": 0, "fmap_base": 16384,
    "fmap_decay": 1.0, "fmap_min": 1, "fmap_max": 512, "architecture": "resnet",
    "nonlinearity": "lrelu", "mbstd_group_size": 4, "mbstd_num_features": 1,
    "resample_kernel": [1, 3, 3, 1], "dtype": "float32", "conv_clamp": None,
}
IGNORED_KWARGS = {
    "truncation_psi", "truncation_cutoff", "truncation_psi_val", "truncation_cutoff_val",
    "dlatent_avg_beta", "style_mixing_prob", "is_training", "is_validation",
    "is_template_graph", "return_dlatents", "randomize_noise", "fused_modconv", "structure",
    "dlatent_broadcast", "mapping_func", "synthesis_func", "num_gpus", "num_fp16_res",
    "components",
}
NETWORK_CLASSES = {"Generator": Generator, "Discriminator": Discriminator, "Encoder": Encoder}


class ConversionError(ValueError):
    """A pickle's networks cannot be converted; the message names the file and the problem."""


class DnnlibNetworks:
    """Networks read from a dnnlib pickle or a converted folder.

    Attributes:
        E: ``Encoder`` or None (None for the official ``(G, D, Gs)`` layout).
        D: ``Discriminator``.
        Gs: ``Generator`` (the moving-average generator, the one to sample from).
        G: ``Generator`` of the official layout's training generator, or None.
        source: path the networks were read from.
        encoder_source: the encoder's ``build_module_src`` text ('' if none).
    """

    KEYS = ("E", "D", "Gs", "G")

    def __init__(self, E=None, D=None, Gs=None, G=None, source="", encoder_source=""):
        self.E, self.D, self.Gs, self.G = E, D, Gs, G
        self.source, self.encoder_source = source, encoder_source

    def items(self):
        """(key, model) pairs of the networks present."""
        return [(k, getattr(self, k)) for k in self.KEYS if getattr(self, k) is not None]


# ------------------------------------------------------------------------------------------
# Reading settings from a stub.

def _kwargs(stub, known, path, what):
    kw = dict(stub.static_kwargs)
    for comp in stub.components.values():
        kw = {**comp.static_kwargs, **kw}
    unknown = sorted(set(kw) - set(known) - IGNORED_KWARGS)
    if unknown:
        raise ConversionError(f"{path}: {what} has unknown setting(s) {unknown} in static_kwargs")
    out = {**known, **kw}
    if out["label_size"]:
        raise ConversionError(f"{path}: {what} is conditional (label_size="
                              f"{out['label_size']}); conditional networks are not supported")
    if out["dtype"] != "float32":
        raise ConversionError(f"{path}: {what} has dtype {out['dtype']!r}; only float32")
    if out["conv_clamp"] is not None:
        raise ConversionError(f"{path}: {what} uses conv_clamp={out['conv_clamp']} "
                              "(StyleGAN2-ADA); only NVlabs StyleGAN2 networks are supported")
    if out.get("architecture") not in ARCHITECTURES:
        raise ConversionError(f"{path}: {what} has architecture {out.get('architecture')!r}; "
                              f"supported: {ARCHITECTURES}")
    for key in ("nonlinearity", "mapping_nonlinearity"):
        if key in out and out[key] not in ACTIVATIONS:
            raise ConversionError(f"{path}: {what} has {key}={out[key]!r}; "
                                  f"supported: {sorted(ACTIVATIONS)}")
    return out


def _check_func(stub, expected, path, what):
    if stub.build_func_name != expected:
        raise ConversionError(
            f"{path}: {what} is built by {stub.build_func_name!r}, expected {expected!r} "
            "(only NVlabs StyleGAN2 config-e/f networks are supported)")


def _resolution(shapes, given, path, what):
    """Largest ``<R>x<R>/`` scope among the variables, checked against static_kwargs."""
    found = [int(m.group(1)) for n in shapes if (m := re.match(r"(\d+)x\1/", n))]
    if not found:
        raise ConversionError(f"{path}: {what} has no '<R>x<R>/' variables")
    res = max(found)
    if given is not None and given != res:
        raise ConversionError(f"{path}: {what} static_kwargs resolution={given} "
                              f"but its variables go up to {res}x{res}")
    return res


def generator_config(stub, path="<pickle>"):
    """Keyword arguments of ``Generator`` for a ``G_main`` stub (``G`` or ``Gs``).

    Settings come from ``static_kwargs`` (TF1 defaults where absent); channel counts,
    resolution, latent sizes, mapping depth, architecture and noise use come from the
    variables, and a contradiction between the two is an error.
    """
    what = f"generator {stub.name!r}"
    _check_func(stub, "G_main", path, what)
    for key, func in (("synthesis", "G_synthesis_stylegan2"), ("mapping", "G_mapping")):
        if key not in stub.components:
            raise ConversionError(f"{path}: {what} has no {key!r} component")
        _check_func(stub.components[key], func, path, f"{what}/{key}")
    kw = _kwargs(stub, G_KWARGS, path, what)
    given = {**stub.components["synthesis"].static_kwargs, **stub.static_kwargs}
    syn = {n: v.shape for n, v in stub.components["synthesis"].variables}
    mp = {n: v.shape for n, v in stub.components["mapping"].variables}
    res = _resolution(syn, given.get("resolution"), path, what)
    log2 = int(np.log2(res))
    if "4x4/Const/const" not in syn:
        raise ConversionError(f"{path}: {what} has no synthesis variable '4x4/Const/const'")
    channels = [0] * (log2 + 1)
    channels[1] = channels[0] = int(syn["4x4/Const/const"][1])
    for r in range(3, log2 + 1):
        name = f"{2 ** r}x{2 ** r}/Conv1/weight"
        if name not in syn:
            raise ConversionError(f"{path}: {what} has no synthesis variable {name!r}")
        channels[r - 1] = int(syn[name][-1])
    channels[log2] = channels[log2 - 1]
    rgb = [r for r in range(2, log2 + 1) if f"{2 ** r}x{2 ** r}/ToRGB/weight" in syn]
    arch = ("resnet" if f"{res}x{res}/Skip/weight" in syn
            else "skip" if len(rgb) > 1 else "orig")
    if given.get("architecture", "skip") != arch:
        raise ConversionError(f"{path}: {what} static_kwargs architecture="
                              f"{given.get('architecture', 'skip')!r} but its variables are "
                              f"those of {arch!r}")
    num_layers = len([n for n in mp if re.fullmatch(r"Dense\d+/weight", n)])
    if num_layers == 0 or "Dense0/weight" not in mp:
        raise ConversionError(f"{path}: {what} mapping has no Dense<i>/weight variables")
    z_dim = int(mp["Dense0/weight"][0])
    w_dim = int(mp[f"Dense{num_layers - 1}/weight"][1])
    fmaps = int(mp["Dense0/weight"][1]) if num_layers > 1 else w_dim
    num_channels = int(syn[f"{res}x{res}/ToRGB/weight"][-1])
    return dict(
        resolution=res, num_channels=num_channels, z_dim=z_dim, w_dim=w_dim,
        mapping_kwargs=dict(num_layers=num_layers, layer_features=fmaps,
                            lr_multiplier=float(kw["mapping_lrmul"]),
                            activation=kw["mapping_nonlinearity"],
                            normalize_latents=bool(kw["normalize_latents"])),
        synthesis_kwargs=dict(channels=channels, architecture=arch,
                              activation=kw["nonlinearity"],
                              resample_kernel=kw["resample_kernel"],
                              use_noise="noise0" in syn))


def discriminator_config(stub, path="<pickle>"):
    """Keyword arguments of ``Discriminator`` for a ``D_stylegan2`` stub (see
    ``generator_config`` for how settings are inferred)."""
    what = f"discriminator {stub.name!r}"
    _check_func(stub, "D_stylegan2", path, what)
    kw = _kwargs(stub, D_KWARGS, path, what)
    shapes = {n: v.shape for n, v in stub.variables}
    res = _resolution(shapes, stub.static_kwargs.get("resolution"), path, what)
    log2 = int(np.log2(res))
    try:
        channels = [int(shapes["4x4/Dense0/weight"][1]), int(shapes["4x4/Conv/weight"][-1])]
        channels += [int(shapes[f"{2 ** r}x{2 ** r}/Conv0/weight"][-1])
                     for r in range(3, log2 + 1)]
        channels.append(channels[-1])
        cin = int(shapes["4x4/Conv/weight"][2])
        num_channels = int(shapes[f"{res}x{res}/FromRGB/weight"][2])
    except KeyError as e:
        raise ConversionError(f"{path}: {what} has no variable {e.args[0]!r}") from None
    fromrgb = [n for n in shapes if n.endswith("/FromRGB/weight")]
    arch = ("resnet" if f"{res}x{res}/Skip/weight" in shapes
            else "skip" if len(fromrgb) > 1 else "orig")
    if stub.static_kwargs.get("architecture", "resnet") != arch:
        raise ConversionError(f"{path}: {what} static_kwargs architecture="
                              f"{stub.static_kwargs.get('architecture', 'resnet')!r} but its "
                              f"variables are those of {arch!r}")
    group, features = kw["mbstd_group_size"], kw["mbstd_num_features"]
    extra = cin - channels[1]
    if (group > 1 and extra != features) or (group <= 1 and extra != 0):
        raise ConversionError(
            f"{path}: {what} 4x4/Conv takes {cin} channels, which does not fit "
            f"mbstd_group_size={group}, mbstd_num_features={features}")
    return dict(resolution=res, num_channels=num_channels, channels=channels,
                architecture=arch, activation=kw["nonlinearity"], mbstd_group_size=group,
                mbstd_num_features=features, resample_kernel=kw["resample_kernel"])


def encoder_config(stub, w_dim=512, path="<pickle>"):
    """Keyword arguments of ``Encoder`` derived from the stub's variable names and shapes."""
    try:
        return Encoder.layout_from_variables({n: v.shape for n, v in stub.variables},
                                             w_dim=w_dim)
    except EncoderLayoutError as e:
        raise ConversionError(f"{path}: encoder {stub.name!r}: {e}") from None


# ------------------------------------------------------------------------------------------
# Moving weights.

def _is_nchw_activation(name):
    """TF1 variables laid out like NCHW activations (const and noise maps)."""
    return bool(re.search(r"(^|/)(noise\d+|4x4/Const/const)$", name))


def _to_keras(name, value):
    value = np.asarray(value, np.float32)
    return np.transpose(value, (0, 2, 3, 1)) if _is_nchw_activation(name) else value


def _to_tf(name, value):
    value = np.asarray(value, np.float32)
    return np.transpose(value, (0, 3, 1, 2)) if _is_nchw_activation(name) else value


def assign_dnnlib_params(model, params, what="network", path="<pickle>"):
    """Copy TF1-named arrays into a model's variables.

    Args:
        model: a model with ``dnnlib_variables()`` (Generator, Discriminator, Encoder, ...).
        params: dict TF1 local name -> numpy array (TF1 layout), e.g. ``stub.params()``.

    Raises:
        ConversionError: listing variables of the pickle that could not be placed, variables
            the model needs that are missing, and shape mismatches.
    """
    targets = dict(model.dnnlib_variables())
    skip = {"lod"}
    unplaced = sorted(set(params) - set(targets) - skip)
    missing = sorted(set(targets) - set(params))
    wrong = []
    values = {}
    for name, var in targets.items():
        if name in params:
            value = _to_keras(name, params[name])
            if tuple(value.shape) != tuple(var.shape):
                wrong.append(f"{name} {list(np.shape(params[name]))}")
            values[name] = value
    if unplaced or missing or wrong:
        raise ConversionError(
            f"{path}: {what}: the variables do not fit the inferred architecture; "
            f"could not place {unplaced}; missing {missing}; wrong shape {wrong}")
    for name, var in targets.items():
        var.assign(values[name])


def model_from_stub(stub, kind, w_dim=512, path="<pickle>"):
    """Build the Keras model of one stub and load its weights.

    Args:
        stub: ``NetworkStub``.
        kind: ``"Generator"``, ``"Discriminator"`` or ``"Encoder"``.
        w_dim: W width, used to reshape the encoder's output.
    """
    if kind == "Generator":
        model = Generator(**generator_config(stub, path), name=stub.name or "Gs")
    elif kind == "Discriminator":
        model = Discriminator(**discriminator_config(stub, path), name=stub.name or "D")
    else:
        model = Encoder(**encoder_config(stub, w_dim, path), name="E")
    assign_dnnlib_params(model, stub.params(), f"{kind.lower()} {stub.name!r}", path)
    return model


def load_dnnlib_pickle(path):
    """Load an official dnnlib pickle into Keras models, without TF1.

    Args:
        path: ``(E, D, Gs)`` pickle of DGP (``encoder-stylegan2-upper-body-512.pkl``) or
            ``(G, D, Gs)`` pickle of NVlabs StyleGAN2.

    Returns:
        ``DnnlibNetworks`` with ``E`` (None for the official layout), ``D``, ``Gs`` and ``G``.

    Raises:
        DnnlibPickleError: not a readable dnnlib pickle (names the file).
        ConversionError: a network with unsupported or inconsistent settings (names the file,
            the network and the setting or variables).
    """
    path = os.fspath(path)
    nets = read_dnnlib_pickle(path)
    if len(nets) != 3:
        raise ConversionError(f"{path}: expected 3 networks (E, D, Gs) or (G, D, Gs), "
                              f"found {len(nets)}")
    first, d_stub, gs_stub = nets
    Gs = model_from_stub(gs_stub, "Generator", path=path)
    D = model_from_stub(d_stub, "Discriminator", path=path)
    if first.build_func_name == "G_main":
        G = model_from_stub(first, "Generator", path=path)
        return DnnlibNetworks(D=D, Gs=Gs, G=G, source=path)
    E = model_from_stub(first, "Encoder", w_dim=Gs.w_dim, path=path)
    return DnnlibNetworks(E=E, D=D, Gs=Gs, source=path, encoder_source=first.build_module_src)


# ------------------------------------------------------------------------------------------
# Keras -> pickle.

def _plain_list(value):
    """A Keras-tracked list attribute as a plain list (picklable), None kept."""
    return None if value is None else [float(v) for v in value]


def _fmap_kwargs(channels, first_stage):
    """``fmap_base`` / ``fmap_max`` reproducing ``channels[first_stage:-1]`` with TF1's nf().

    A network whose channels follow no such rule still converts (tfposegen reads channels
    from shapes); its pickle then carries the closest settings and a warning is given.
    """
    used = list(channels[first_stage:-1])
    last = len(channels) - 2
    kw = dict(fmap_base=int(channels[last] * 2 ** last), fmap_max=int(max(used)))
    if stage_channels(2 ** (len(channels) - 1), **kw)[first_stage:-1] != used:
        warnings.warn(f"channels {used} follow no fmap_base/fmap_max rule; TF1 code would "
                      "build other shapes from this pickle's static_kwargs", stacklevel=3)
    return kw


def generator_to_stub(G, name="Gs"):
    """``Generator`` -> ``G_main`` NetworkStub with TF1 variables and static_kwargs."""
    syn, mp = G.synthesis, G.mapping
    kw = dict(num_channels=G.num_channels, resolution=G.resolution, label_size=0,
              latent_size=G.z_dim, dlatent_size=G.w_dim, mapping_layers=mp.num_layers,
              mapping_fmaps=mp.layer_features, mapping_lrmul=mp.lr_multiplier,
              mapping_nonlinearity=mp.activation, normalize_latents=mp.normalize_latents,
              architecture=syn.architecture, nonlinearity=syn.activation,
              resample_kernel=_plain_list(syn.resample_kernel),
              **_fmap_kwargs(syn.channels, first_stage=1))
    params = {n: _to_tf(n, v.numpy()) for n, v in G.dnnlib_variables()}

    def part(prefix):
        return [(n[len(prefix):], v) for n, v in params.items() if n.startswith(prefix)]

    synthesis = NetworkStub("G_synthesis", kw, variables=part("synthesis/"),
                            build_func_name="G_synthesis_stylegan2")
    mapping = NetworkStub("G_mapping", {**kw, "dlatent_broadcast": G.num_ws},
                          variables=part("mapping/"), build_func_name="G_mapping")
    own = [("lod", np.float32(0)), ("dlatent_avg", params["dlatent_avg"])]
    return NetworkStub(name, kw, components={"synthesis": synthesis, "mapping": mapping},
                       variables=own, build_func_name="G_main")


def discriminator_to_stub(D, name="D"):
    """``Discriminator`` -> ``D_stylegan2`` NetworkStub."""
    kw = dict(num_channels=D.num_channels, resolution=D.resolution, label_size=0,
              architecture=D.architecture, nonlinearity=D.activation,
              mbstd_group_size=D.mbstd_group_size, mbstd_num_features=D.mbstd_num_features,
              resample_kernel=_plain_list(D.resample_kernel),
              **_fmap_kwargs(D.channels, first_stage=0))
    variables = [(n, _to_tf(n, v.numpy())) for n, v in D.dnnlib_variables()]
    return NetworkStub(name, kw, variables=variables, build_func_name="D_stylegan2")


def encoder_to_stub(E, name="E_gpu0"):
    """``Encoder`` -> NetworkStub with idinvert's variable names (``build_func_name`` Encoder)."""
    kw = dict(size=E.resolution, num_layers=E.num_ws, dlatent_size=E.w_dim)
    variables = [(n, _to_tf(n, v.numpy())) for n, v in E.dnnlib_variables()]
    return NetworkStub(name, kw, variables=variables, build_func_name="Encoder")


def save_dnnlib_pickle(path, D, Gs, E=None, G=None):
    """Write Keras networks as an official-format pickle, atomically.

    ``(E, D, Gs)`` when ``E`` is given (DGP layout), else ``(G, D, Gs)`` with ``G`` defaulting
    to ``Gs``. The file loads with ``load_dnnlib_pickle`` and with stylegan2-ada-pytorch's
    ``legacy.py``.
    """
    gs = generator_to_stub(Gs, "Gs")
    first = encoder_to_stub(E) if E is not None else generator_to_stub(G or Gs, "G")
    write_dnnlib_pickle(path, (first, discriminator_to_stub(D), gs))


# ------------------------------------------------------------------------------------------
# Converted folders: the library's saved form (tfposegen.utils.saving), loadable without the
# pickle.

ENCODER_SOURCE_FILE = "encoder_build_module_src.py.txt"


def save_networks(networks, out_dir):
    """Write networks as ``<key>.weights.h5`` files plus ``networks.json``, atomically
    (:func:`tfposegen.utils.saving.save_networks`).

    Args:
        networks: ``DnnlibNetworks``.
        out_dir: folder to create (replaced as a whole if it exists, only once the new one is
            complete).
    """
    extra = {ENCODER_SOURCE_FILE: networks.encoder_source} if networks.encoder_source else {}
    try:
        saving.save_networks(networks.items(), out_dir,
                             metadata={"source": os.path.basename(networks.source)},
                             extra_files=extra)
    except saving.NetworksFileError as e:
        raise ConversionError(str(e)) from None


def load_networks(path):
    """Load networks from an official dnnlib pickle or a folder written by ``save_networks``.

    Returns:
        ``DnnlibNetworks``.
    """
    path = os.fspath(path)
    if not os.path.isdir(path):
        return load_dnnlib_pickle(path)
    try:
        nets, _, extras = saving.load_networks(path, NETWORK_CLASSES, [ENCODER_SOURCE_FILE])
    except saving.NetworksFileError as e:
        raise ConversionError(str(e)) from None
    unknown = sorted(set(nets) - set(DnnlibNetworks.KEYS))
    if unknown:
        raise ConversionError(f"{os.path.join(path, saving.CONFIG_FILE)}: unknown network "
                              f"entries {unknown}")
    return DnnlibNetworks(**nets, source=path,
                          encoder_source=extras.get(ENCODER_SOURCE_FILE, ""))


__all__ = ["ConversionError", "DnnlibNetworks", "DnnlibPickleError", "assign_dnnlib_params",
           "discriminator_config", "encoder_config", "generator_config", "load_dnnlib_pickle",
           "load_networks", "model_from_stub", "save_dnnlib_pickle", "save_networks"]
