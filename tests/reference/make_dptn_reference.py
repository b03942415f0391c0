"""Reference outputs of DPTN's ORIGINAL networks for tests/test_dptn_networks.py.

Run once in a separate virtual environment with torch (never a dependency of the package),
on a checkout of PangzeCheung/Dual-task-Pose-Transformer-Network:

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch torchvision numpy
    /tmp/torchvenv/bin/python tests/reference/make_dptn_reference.py --dptn-dir <checkout>

It builds ``DPTNGenerator`` and ``ResDiscriminator`` of the checkout's models/networks.py
exactly as models/DPTN_model.py does (G: ngf 64, img_f 512, 3 layers, 3 res-blocks,
instance norm, LeakyReLU, no spectral norm, PTM 2 heads / 2 CABs / 2 TTBs; D: ndf 32,
img_f 128, spectral norm, 4 and 3 layers), fills every state-dict tensor with the seeded
numpy values of :func:`seeded_state` (aliased keys share one value, as torch stores them),
and writes to tests/data/dptn/:

- ``reference.npz``: the state-dict names, shapes and alias sources, per-tensor sums (to
  check that numpy still draws the same values; :func:`regenerate` redraws them and
  :func:`inputs` the inputs, batch 2, 64 x 48), and the original's outputs: ``out_t`` /
  ``out_s`` and the intermediate features ``f_ss``, ``f_st``, ``f_s`` (En_c on both
  inputs, En_s), ``ptm`` (the PTM output) and the gradients of ``sum(out_t * w_t + out_s *
  w_s)`` (:func:`gradient_weights`) w.r.t. the source image and both poses, all NHWC; the
  discriminators' eval outputs, one train-mode output (one power iteration) and the
  updated ``weight_u``; the parameter counts of the released configurations;
- ``tiny_G_dataparallel.pth``: ``torch.save(nn.DataParallel(G).state_dict())`` of a tiny
  generator (``module.`` prefixes and the aliased keys, as the released files have).

With ``--dptn-step-dir <checkout of gkalstn000/DPTN_step>`` it also writes
``step_map.npz``: rows 0..6 of that code's ``PositionalEncoding`` (the class text of
models/dptn_networks/generator.py, executed) for a 16 x 12 and, every 97th value, a 256 x 256
map.

Only numpy is needed to import this module (the tests call :func:`seeded_state`).
"""

import argparse
import importlib
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "data", "dptn")
HEIGHT, WIDTH, BATCH = 64, 48, 2
G_ARGS = dict(image_nc=3, pose_nc=18, ngf=64, img_f=512, layers=3, norm="instance",
              activation="LeakyReLU", use_spect=False, use_coord=False, output_nc=3,
              num_blocks=3, affine=True, nhead=2, num_CABs=2, num_TTBs=2)
TINY_G_ARGS = dict(G_ARGS, ngf=4, img_f=16, num_blocks=1, num_CABs=1, num_TTBs=1)
G_SEED, D_SEEDS, TINY_SEED = 1, {"d4": 5, "d3": 6}, 11
D_ARGS = dict(input_nc=3, ndf=32, img_f=128, layers=4, norm="none", activation="LeakyReLU",
              use_spect=True)


def seeded_state(names, shapes, seed, dim1=()):
    """Deterministic values for a state dict: name -> float32 array.

    Weights N(0, 1 / fan) with fan = the product of all but the first axis; biases and
    norm biases N(0, 0.1); norm weights 1 + N(0, 0.1); spectral-norm ``weight_u`` /
    ``weight_v`` unit-length normal vectors, then 30 power iterations on their
    ``weight_orig`` (dim 0, or dim 1 for the modules named in ``dim1``: torch's spectral
    norm of a ConvTranspose2d), as in a trained checkpoint (random vectors would make sigma
    tiny and the outputs explode). Aliases (names sharing storage in torch) are resolved by
    the caller.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in zip(names, shapes):
        shape = tuple(int(s) for s in shape)
        x = rng.standard_normal(shape)
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("weight_u", "weight_v"):
            x = x / np.linalg.norm(x)
        elif leaf.endswith("bias"):
            x = 0.1 * x
        elif len(shape) == 1:          # instance-norm weight
            x = 1.0 + 0.1 * x
        else:
            x = x / np.sqrt(np.prod(shape[1:]))
        out[name] = x.astype(np.float32)
    for name in [n for n in out if n.endswith("weight_u")]:
        prefix = name[:-len("weight_u")]
        w = out[prefix + "weight_orig"].astype(np.float64)
        if prefix[:-1] in dim1:
            w = np.swapaxes(w, 0, 1)
        w = w.reshape(w.shape[0], -1)
        u, v = out[name].astype(np.float64), out[prefix + "weight_v"].astype(np.float64)
        for _ in range(30):
            v = w.T @ u
            v /= np.linalg.norm(v)
            u = w @ v
            u /= np.linalg.norm(u)
        out[name], out[prefix + "weight_v"] = u.astype(np.float32), v.astype(np.float32)
    return out


def inputs(seed=7):
    """(source [2, 64, 48, 3] in [-1, 1], source pose, target pose [2, 64, 48, 18] in
    [0, 1]), float32."""
    rng = np.random.default_rng(seed)
    source = rng.uniform(-1, 1, (BATCH, HEIGHT, WIDTH, 3)).astype(np.float32)
    poses = rng.uniform(0, 1, (2, BATCH, HEIGHT, WIDTH, 18)).astype(np.float32) ** 6
    return source, poses[0], poses[1]


def gradient_weights(seed=3):
    """Seeded float32 [2, 64, 48, 3] weights w_t, w_s of the scalar sum(out_t * w_t +
    out_s * w_s) whose input gradients are compared (NHWC)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, BATCH, HEIGHT, WIDTH, 3)).astype(np.float32)


def _import_original(dptn_dir):
    """models/networks.py of the checkout, without running models/__init__.py."""
    package = types.ModuleType("dptn_models")
    package.__path__ = [os.path.join(dptn_dir, "models")]
    sys.modules["dptn_models"] = package
    return importlib.import_module("dptn_models.networks")


def _fill(torch, module, seed):
    """Set every state-dict tensor of ``module`` from :func:`seeded_state`; returns the
    arrays to store: names, shapes (as "a,b,c" strings), the name whose value each entry
    took (aliases share storage in torch: the first-listed name's value) and the per-entry
    sums."""
    state = module.state_dict()
    names, shapes = list(state), [tuple(v.shape) for v in state.values()]
    values = seeded_state(names, shapes, seed)
    seen, source = {}, []
    for name, tensor in state.items():
        source.append(seen.setdefault((tensor.data_ptr(), tuple(tensor.shape)), name))
        values[name] = values[source[-1]]
    module.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()})
    return dict(names=np.array(names), shapes=np.array([",".join(map(str, s)) for s in shapes]),
                source=np.array(source),
                sums=np.array([float(np.sum(values[n], dtype=np.float64)) for n in names]))


def regenerate(ref, prefix, seed):
    """The state dict a reference file was made with: name -> float32 array (numpy only)."""
    names = [str(n) for n in ref[f"{prefix}_names"]]
    shapes = [tuple(int(x) for x in str(s).split(",") if x) for s in ref[f"{prefix}_shapes"]]
    dim1 = {str(n) for n in ref[f"{prefix}_dim1"]} if f"{prefix}_dim1" in ref else ()
    values = seeded_state(names, shapes, seed, dim1)
    for name, source in zip(names, ref[f"{prefix}_source"]):
        values[name] = values[str(source)]
    return values


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1).astype(np.float32)


STEP_MAP_SIZES, STEP_MAP_ROWS, STEP_MAP_STRIDE = ((16, 12), (256, 256)), 7, 97


def _step_maps(torch, step_dir):
    """The original PositionalEncoding's rows, as step_map.npz stores them."""
    import math

    path = os.path.join(step_dir, "models", "dptn_networks", "generator.py")
    with open(path) as f:
        text = f.read()
    scope = {"torch": torch, "nn": torch.nn, "math": math}
    exec(text[text.index("class PositionalEncoding"):], scope)
    out = {}
    for h, w in STEP_MAP_SIZES:
        pe = scope["PositionalEncoding"](h * w, max_len=STEP_MAP_ROWS)
        rows = np.stack([pe(s).reshape(-1).numpy() for s in range(STEP_MAP_ROWS)])
        out[f"pe_{h}x{w}"] = rows if h * w < 1000 else rows[:, ::STEP_MAP_STRIDE]
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dptn-dir", required=True)
    parser.add_argument("--dptn-step-dir", default=None)
    args = parser.parse_args()
    import torch

    if args.dptn_step_dir:
        os.makedirs(OUT, exist_ok=True)
        np.savez_compressed(os.path.join(OUT, "step_map.npz"),
                            **_step_maps(torch, args.dptn_step_dir))

    torch.manual_seed(0)
    networks = _import_original(args.dptn_dir)
    counts = {}
    G = networks.DPTNGenerator(**G_ARGS).eval()
    counts["G"] = sum(p.numel() for p in G.parameters())
    g_arrays = _fill(torch, G, seed=G_SEED)
    source, pose_s, pose_t = inputs()
    nchw = [torch.from_numpy(a.transpose(0, 3, 1, 2).copy()) for a in (source, pose_s, pose_t)]
    captured = {}
    G.PTM.register_forward_hook(lambda m, i, o: captured.update(ptm=o, ptm_in=i))
    G.source_encoder.register_forward_hook(lambda m, i, o: captured.update(f_s=o))
    with torch.no_grad():
        out_t, out_s = G(*nchw, is_train=True)
    f_ss, f_st, _ = captured["ptm_in"]
    grads = {}
    leaves = [t.clone().requires_grad_(True) for t in nchw]
    w_t, w_s = (torch.from_numpy(w.transpose(0, 3, 1, 2).copy()) for w in gradient_weights())
    g_t, g_s = G(*leaves, is_train=True)
    (g_t * w_t + g_s * w_s).sum().backward()
    for key, leaf in zip(("grad_source", "grad_pose_s", "grad_pose_t"), leaves):
        grads[key] = _nhwc(leaf.grad)
    out = dict({f"g_{k}": v for k, v in g_arrays.items()}, out_t=_nhwc(out_t),
               out_s=_nhwc(out_s), f_ss=_nhwc(f_ss), f_st=_nhwc(f_st),
               f_s=_nhwc(captured["f_s"]), ptm=_nhwc(captured["ptm"]), **grads)
    for key, layers in (("d4", 4), ("d3", 3)):
        D = networks.ResDiscriminator(**dict(D_ARGS, layers=layers)).eval()
        counts[key] = sum(p.numel() for p in D.parameters())
        out.update({f"{key}_{k}": v for k, v in _fill(torch, D, seed=D_SEEDS[key]).items()})
        with torch.no_grad():
            out[key] = _nhwc(D(nchw[0]))
            D.train()
            out[f"{key}_train"] = _nhwc(D(nchw[0]))
        out[f"{key}_u_after"] = D.block0.model[0].weight_u.numpy().copy()
    out["param_counts"] = np.array([counts["G"], counts["d4"], counts["d3"]])
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "reference.npz"), **out)
    tiny = networks.DPTNGenerator(**TINY_G_ARGS)
    _fill(torch, tiny, seed=TINY_SEED)
    torch.save(torch.nn.DataParallel(tiny).state_dict(),
               os.path.join(OUT, "tiny_G_dataparallel.pth"))
    print("parameters", counts, "wrote", OUT)


if __name__ == "__main__":
    main()
