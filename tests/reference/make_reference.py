"""Make independent reference outputs for the StyleGAN2 port, with NVlabs' stylegan2-ada-pytorch.

What it does, per configuration:

1. Draws seeded random weights under the **TF1 variable names, shapes and creation order** of
   NVlabs/stylegan2 ``training/networks_stylegan2.py`` (``G_main``, ``G_mapping``,
   ``G_synthesis_stylegan2``, ``D_stylegan2``; architectures orig / skip / resnet), and writes them
   as an official-format dnnlib pickle ``(G, D, Gs)`` with ``tfposegen.convert.dnnlib_pickle``.
   The weights come from the naming rules alone, not from the port's Keras models.
2. Loads that pickle back with stylegan2-ada-pytorch's ``legacy._LegacyUnpickler`` and converts
   ``Gs`` and ``D`` with ``legacy.convert_tf_generator`` / ``legacy.convert_tf_discriminator``.
3. Evaluates the converted PyTorch networks on CPU in float32 (ada's pure-PyTorch "ref" ops):
   mapping with truncation, synthesis with the stored noise maps (``noise_mode='const'``), the
   gradients of a fixed linear loss of the image with respect to the W+ input and every noise map,
   and the discriminator with its input gradient. Everything goes into an ``.npz`` file.

Random values (numpy ``default_rng`` seeded per configuration; "std" = standard deviation):
weights, modulation weights, conv / dense kernels, const input and noise maps ~ N(0, std 1);
mapping dense weights ~ N(0, std 100) (TF's init for ``mapping_lrmul`` 0.01); all biases,
``mod_bias`` and ``noise_strength`` ~ N(0, std 0.2) (non-zero on purpose);
``dlatent_avg`` ~ N(0, 1); ``lod`` = 0.

Arrays in the ``.npz`` (float32; images and image gradients NHWC, i.e. ada's NCHW transposed by
(0, 2, 3, 1)); B = 2 for the small configurations, 1 with ``--full``:

* ``z`` [B, z_dim]; ``ws_psi1`` / ``ws_psi07`` / ``ws_psi05_cut2`` = ``G.mapping(z)`` with
  truncation psi 1, psi 0.7, and psi 0.5 on the first 2 W+ rows.
* ``ws_in`` [B, num_ws, w_dim]; ``img_const`` = synthesis(ws_in);
  ``img_from_z`` = synthesis(ws_psi1).
* ``grad_r`` [B, H, W, C]; with loss = sum(img_const * grad_r): ``grad_ws`` = dloss/dws_in and
  ``grad_noise_<i>`` [R, R] = dloss/d(TF variable ``noise<i>``).
* ``d_in4`` / ``d_out4`` (small configurations only), ``d_in1`` / ``d_out1`` = D(image) [N, 1],
  ``grad_d_in1`` = d(sum D(d_in1))/d(d_in1). Its entries are small (max about 3e-3 at 32 px,
  2e-5 at 512 px), so compare it relative to its largest entry, not with an absolute 1e-4.

Requirements (test-data tooling only; neither is part of tfposegen nor of this repository):

* a Python environment with PyTorch (CPU is enough), numpy, click and requests (imported by ada's
  ``legacy.py`` / ``dnnlib``), e.g. ``python -m venv ../torchenv &&
  ../torchenv/bin/pip install torch numpy click requests``;
* a checkout of https://github.com/NVlabs/stylegan2-ada-pytorch outside this repository, given
  with ``--ada_dir`` (e.g. ``git clone https://github.com/NVlabs/stylegan2-ada-pytorch /tmp/ada``).
  Its code is imported from there and never copied here; it runs unmodified on PyTorch 2.x CPU.

The script puts the repository root on ``sys.path`` itself (for ``tfposegen.convert``, which
needs only numpy), so no ``pip install`` of tfposegen into the PyTorch environment is needed.

Run from the repository root::

    ../torchenv/bin/python tests/reference/make_reference.py --ada_dir /tmp/ada
    ../torchenv/bin/python tests/reference/make_reference.py --ada_dir /tmp/ada --full

The first writes ``tests/data/stylegan2_ref_<config>.{pkl,npz}`` for the three small
configurations; the second writes ``stylegan2_ref_full.{pkl,npz}`` (the DGP 512 px configuration,
about 240 MB of weights) to ``--full_dir``.
"""

import argparse
import importlib
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))
from tfposegen.convert.dnnlib_pickle import NetworkStub, write_dnnlib_pickle  # noqa: E402

DATA_DIR = REPO_ROOT / "tests" / "data"

BIAS_STD = 0.2
MAPPING_WEIGHT_STD = 1.0 / 0.01  # TF init std of a dense weight with lrmul 0.01.

# Defaults of the TF1 build functions for the kwargs the configurations may leave out.
G_DEFAULTS = dict(latent_size=512, dlatent_size=512, mapping_layers=8, mapping_fmaps=512,
                  fmap_base=16384, fmap_max=512, architecture="skip")
D_DEFAULTS = dict(fmap_base=16384, fmap_max=512, architecture="resnet", mbstd_group_size=4)

SMALL_CONFIGS = {
    "skip_resnet_32": dict(
        seed=1,
        G=dict(num_channels=3, resolution=32, label_size=0, latent_size=64, dlatent_size=64,
               mapping_layers=2, mapping_fmaps=64, fmap_base=128, fmap_max=32,
               architecture="skip"),
        D=dict(num_channels=3, resolution=32, label_size=0, fmap_base=128, fmap_max=32,
               architecture="resnet", mbstd_group_size=4)),
    "resnet_skip_16": dict(
        seed=2,
        G=dict(num_channels=3, resolution=16, label_size=0, latent_size=32, dlatent_size=32,
               mapping_layers=3, mapping_fmaps=48, fmap_base=64, fmap_max=16,
               architecture="resnet"),
        D=dict(num_channels=3, resolution=16, label_size=0, fmap_base=64, fmap_max=16,
               architecture="skip", mbstd_group_size=2)),
    "orig_orig_16_gray": dict(
        seed=3,
        G=dict(num_channels=1, resolution=16, label_size=0, latent_size=32, dlatent_size=32,
               mapping_layers=2, mapping_fmaps=32, fmap_base=64, fmap_max=16,
               architecture="orig"),
        D=dict(num_channels=1, resolution=16, label_size=0, fmap_base=64, fmap_max=16,
               architecture="orig", mbstd_group_size=4)),
}

FULL_CONFIG = dict(
    seed=512,
    G=dict(num_channels=3, resolution=512, label_size=0, fmap_base=16384, architecture="skip"),
    D=dict(num_channels=3, resolution=512, label_size=0, fmap_base=16384, architecture="resnet"))


# --------------------------------------------------------------------------------------------
# Random weights under TF1 names.

class VariableMaker:
    """Collects ``(local_name, float32 array)`` pairs in TF creation order from one generator."""

    def __init__(self, rng):
        self.rng = rng
        self.variables = []

    def normal(self, name, shape, std=1.0):
        value = self.rng.standard_normal(tuple(shape), dtype=np.float32) * np.float32(std)
        self.variables.append((name, np.asarray(value, dtype=np.float32)))


def make_nf(kwargs):
    """TF1 ``nf(stage)`` (fmap_decay 1, fmap_min 1)."""
    def nf(stage):
        return int(np.clip(int(kwargs["fmap_base"] / 2.0 ** stage), 1, kwargs["fmap_max"]))
    return nf


def resolution_log2(kwargs):
    log2 = int(np.log2(kwargs["resolution"]))
    assert kwargs["resolution"] == 2 ** log2 >= 4
    return log2


def num_ws(g_kwargs):
    return 2 * resolution_log2(g_kwargs) - 2


def mapping_variables(rng, kw):
    """``G_mapping``: ``Dense<i>/weight`` [in, out] and ``Dense<i>/bias`` [out]."""
    vm = VariableMaker(rng)
    fmaps_in = kw["latent_size"]
    for i in range(kw["mapping_layers"]):
        fmaps_out = kw["dlatent_size"] if i == kw["mapping_layers"] - 1 else kw["mapping_fmaps"]
        vm.normal(f"Dense{i}/weight", [fmaps_in, fmaps_out], MAPPING_WEIGHT_STD)
        vm.normal(f"Dense{i}/bias", [fmaps_out], BIAS_STD)
        fmaps_in = fmaps_out
    return vm.variables


def synthesis_variables(rng, kw):
    """``G_synthesis_stylegan2``: noise maps, const, then per resolution its layers."""
    vm = VariableMaker(rng)
    nf = make_nf(kw)
    log2 = resolution_log2(kw)
    arch = kw["architecture"]
    w_dim = kw["dlatent_size"]

    def modulated(scope, cin, cout, kernel, with_noise=True):
        vm.normal(f"{scope}/weight", [kernel, kernel, cin, cout])
        vm.normal(f"{scope}/mod_weight", [w_dim, cin])
        vm.normal(f"{scope}/mod_bias", [cin], BIAS_STD)
        if with_noise:
            vm.normal(f"{scope}/noise_strength", [], BIAS_STD)
        vm.normal(f"{scope}/bias", [cout], BIAS_STD)

    for i in range(num_ws(kw) - 1):
        r = 2 ** ((i + 5) // 2)
        vm.normal(f"noise{i}", [1, 1, r, r])
    vm.normal("4x4/Const/const", [1, nf(1), 4, 4])
    modulated("4x4/Conv", nf(1), nf(1), 3)
    if arch == "skip":
        modulated("4x4/ToRGB", nf(1), kw["num_channels"], 1, with_noise=False)
    for res in range(3, log2 + 1):
        scope = f"{2 ** res}x{2 ** res}"
        cin, cout = nf(res - 2), nf(res - 1)
        modulated(f"{scope}/Conv0_up", cin, cout, 3)
        modulated(f"{scope}/Conv1", cout, cout, 3)
        if arch == "resnet":
            vm.normal(f"{scope}/Skip/weight", [1, 1, cin, cout])
        if arch == "skip" or res == log2:
            modulated(f"{scope}/ToRGB", cout, kw["num_channels"], 1, with_noise=False)
    return vm.variables


def discriminator_variables(rng, kw):
    """``D_stylegan2``: FromRGB / Conv0 / Conv1_down / Skip per resolution, then the epilogue."""
    vm = VariableMaker(rng)
    nf = make_nf(kw)
    log2 = resolution_log2(kw)
    arch = kw["architecture"]
    channels = kw["num_channels"]

    def conv(scope, cin, cout, kernel, bias=True):
        vm.normal(f"{scope}/weight", [kernel, kernel, cin, cout])
        if bias:
            vm.normal(f"{scope}/bias", [cout], BIAS_STD)

    for res in range(log2, 2, -1):
        scope = f"{2 ** res}x{2 ** res}"
        if arch == "skip" or res == log2:
            conv(f"{scope}/FromRGB", channels, nf(res - 1), 1)
        conv(f"{scope}/Conv0", nf(res - 1), nf(res - 1), 3)
        conv(f"{scope}/Conv1_down", nf(res - 1), nf(res - 2), 3)
        if arch == "resnet":
            conv(f"{scope}/Skip", nf(res - 1), nf(res - 2), 1, bias=False)
    if arch == "skip":
        conv("4x4/FromRGB", channels, nf(1), 1)
    mbstd_channels = 1 if kw["mbstd_group_size"] > 1 else 0
    conv("4x4/Conv", nf(1) + mbstd_channels, nf(1), 3)
    vm.normal("4x4/Dense0/weight", [nf(1) * 16, nf(0)])
    vm.normal("4x4/Dense0/bias", [nf(0)], BIAS_STD)
    vm.normal("Output/weight", [nf(0), 1])
    vm.normal("Output/bias", [1], BIAS_STD)
    return vm.variables


def build_networks(config):
    """The ``(G, D, Gs)`` stubs of one configuration; G and Gs share their arrays."""
    rng = np.random.default_rng(config["seed"])
    g_static, d_static = config["G"], config["D"]
    g_kw = {**G_DEFAULTS, **g_static}
    d_kw = {**D_DEFAULTS, **d_static}
    synthesis_vars = synthesis_variables(rng, g_kw)
    mapping_vars = mapping_variables(rng, g_kw)
    own_vars = [("lod", np.array(0.0, dtype=np.float32)),
                ("dlatent_avg", rng.standard_normal(g_kw["dlatent_size"], dtype=np.float32))]
    d_vars = discriminator_variables(rng, d_kw)

    def generator(name):
        synthesis = NetworkStub(name="G_synthesis", static_kwargs=g_static,
                                variables=synthesis_vars,
                                build_func_name="G_synthesis_stylegan2")
        mapping = NetworkStub(name="G_mapping",
                              static_kwargs={**g_static, "dlatent_broadcast": num_ws(g_kw)},
                              variables=mapping_vars, build_func_name="G_mapping")
        return NetworkStub(name=name, static_kwargs=g_static,
                           components={"synthesis": synthesis, "mapping": mapping},
                           variables=own_vars, build_func_name="G_main")

    D = NetworkStub(name="D", static_kwargs=d_static, variables=d_vars,
                    build_func_name="D_stylegan2")
    return (generator("G"), D, generator("Gs")), rng


# --------------------------------------------------------------------------------------------
# Reference evaluation with stylegan2-ada-pytorch.

def import_legacy(ada_dir):
    """Import ada's ``legacy`` module from a checkout outside this repository."""
    ada_dir = os.path.abspath(ada_dir)
    if not os.path.isfile(os.path.join(ada_dir, "legacy.py")):
        sys.exit(f"--ada_dir {ada_dir}: no stylegan2-ada-pytorch checkout (legacy.py) there")
    if ada_dir not in sys.path:
        sys.path.insert(0, ada_dir)
    return importlib.import_module("legacy")


def load_with_ada(legacy, pkl_path):
    """Unpickle with ada's loader and convert Gs and D (their converters, called directly)."""
    with open(pkl_path, "rb") as f:
        _tf_G, tf_D, tf_Gs = legacy._LegacyUnpickler(f).load()
    G = legacy.convert_tf_generator(tf_Gs).eval()
    D = legacy.convert_tf_discriminator(tf_D).eval()
    return G, D


def noise_buffers(synthesis):
    """ada ``noise_const`` buffers keyed by TF noise index (b4.conv1 <- noise0,
    b{R}.conv0 <- noise(2*log2(R)-5), b{R}.conv1 <- noise(2*log2(R)-4))."""
    found = {}
    for name, buf in synthesis.named_buffers():
        match = re.fullmatch(r"b(\d+)\.conv([01])\.noise_const", name)
        if match:
            index = 2 * int(np.log2(int(match.group(1)))) - 5 + int(match.group(2))
            found[index] = buf
    assert sorted(found) == list(range(synthesis.num_ws - 1)), sorted(found)
    return [found[i] for i in range(len(found))]


def to_nchw(x_nhwc):
    return torch.from_numpy(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)))


def to_nhwc(x_nchw):
    return np.ascontiguousarray(x_nchw.detach().numpy().transpose(0, 2, 3, 1), dtype=np.float32)


def synthesize(G, ws):
    return G.synthesis(ws, noise_mode="const", force_fp32=True)


def generator_reference(G, rng, batch, out):
    """Mapping, synthesis and synthesis gradients; fills ``out``."""
    res, channels = G.img_resolution, G.img_channels
    z = rng.standard_normal((batch, G.z_dim), dtype=np.float32)
    ws_in = rng.standard_normal((batch, G.num_ws, G.w_dim), dtype=np.float32)
    grad_r = rng.standard_normal((batch, res, res, channels), dtype=np.float32)
    out.update(z=z, ws_in=ws_in, grad_r=grad_r)

    with torch.no_grad():
        zt = torch.from_numpy(z)
        out["ws_psi1"] = G.mapping(zt, None, truncation_psi=1).numpy()
        out["ws_psi07"] = G.mapping(zt, None, truncation_psi=0.7).numpy()
        out["ws_psi05_cut2"] = G.mapping(zt, None, truncation_psi=0.5,
                                         truncation_cutoff=2).numpy()
        out["img_from_z"] = to_nhwc(synthesize(G, torch.from_numpy(out["ws_psi1"])))

    ws = torch.from_numpy(ws_in).requires_grad_(True)
    noises = noise_buffers(G.synthesis)
    for buf in noises:
        buf.requires_grad_(True)
    img = synthesize(G, ws)
    loss = (img * to_nchw(grad_r)).sum()
    grads = torch.autograd.grad(loss, [ws] + noises)
    for buf in noises:
        buf.requires_grad_(False)
    out["img_const"] = to_nhwc(img)
    out["grad_ws"] = grads[0].numpy()
    for i, grad in enumerate(grads[1:]):
        out[f"grad_noise_{i}"] = grad.numpy()


def discriminator_reference(D, rng, batches, out):
    """D outputs for each batch size, and the input gradient for batch 1; fills ``out``."""
    res, channels = D.img_resolution, D.img_channels
    for n in batches:
        d_in = rng.standard_normal((n, res, res, channels), dtype=np.float32)
        x = to_nchw(d_in).requires_grad_(n == 1)
        d_out = D(x, None)
        out[f"d_in{n}"] = d_in
        out[f"d_out{n}"] = d_out.detach().numpy()
        if n == 1:
            out["grad_d_in1"] = to_nhwc(torch.autograd.grad(d_out.sum(), [x])[0])


def make_reference(legacy, name, config, out_dir, g_batch, d_batches):
    """Write ``stylegan2_ref_<name>.{pkl,npz}`` to ``out_dir`` and print sanity figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pkl_path = out_dir / f"stylegan2_ref_{name}.pkl"
    npz_path = out_dir / f"stylegan2_ref_{name}.npz"
    t0 = time.perf_counter()
    networks, rng = build_networks(config)
    write_dnnlib_pickle(pkl_path, networks)
    t1 = time.perf_counter()
    G, D = load_with_ada(legacy, pkl_path)
    t2 = time.perf_counter()
    out = {}
    generator_reference(G, rng, g_batch, out)
    t3 = time.perf_counter()
    discriminator_reference(D, rng, d_batches, out)
    t4 = time.perf_counter()

    for key, value in out.items():
        assert value.dtype == np.float32 and np.all(np.isfinite(value)), key
    np.savez(npz_path, **out)

    img = out["img_const"]
    print(f"[{name}] img_const {img.shape}: max|.| {np.abs(img).max():.4g} std {img.std():.4g}; "
          f"img_from_z max|.| {np.abs(out['img_from_z']).max():.4g}; "
          f"max|grad_ws| {np.abs(out['grad_ws']).max():.4g}")
    for n in d_batches:
        print(f"[{name}] d_out{n} = {out[f'd_out{n}'].ravel().tolist()}")
    print(f"[{name}] max|grad_d_in1| {np.abs(out['grad_d_in1']).max():.4g}")
    sizes = {p.name: p.stat().st_size for p in (pkl_path, npz_path)}
    print(f"[{name}] files {sizes} (total {sum(sizes.values()) / 2**20:.2f} MiB)")
    print(f"[{name}] time: weights+pickle {t1 - t0:.1f}s, ada load {t2 - t1:.1f}s, "
          f"G fwd/bwd {t3 - t2:.1f}s, D fwd/bwd {t4 - t3:.1f}s, total {t4 - t0:.1f}s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ada_dir", default="/tmp/ada",
                        help="stylegan2-ada-pytorch checkout (outside this repository)")
    parser.add_argument("--full", action="store_true",
                        help="only the full DGP 512 px configuration, written to --full_dir")
    parser.add_argument("--full_dir", default="/tmp/tfposegen_full_ref/",
                        help="output folder of --full")
    args = parser.parse_args()

    torch.set_num_threads(2)
    legacy = import_legacy(args.ada_dir)
    if args.full:
        make_reference(legacy, "full", FULL_CONFIG, Path(args.full_dir), 1, (1,))
    else:
        for name, config in SMALL_CONFIGS.items():
            make_reference(legacy, name, config, DATA_DIR, 2, (4, 1))


if __name__ == "__main__":
    main()
