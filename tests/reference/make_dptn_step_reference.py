"""Reference outputs of DPTN_step's ORIGINAL networks for tests/test_dptn_step_networks.py.

Run once in a separate virtual environment with torch (never a dependency of the package),
on a checkout of gkalstn000/DPTN_step (its ``models/`` folder is enough):

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch torchvision numpy
    /tmp/torchvenv/bin/python tests/reference/make_dptn_step_reference.py --dptn-step-dir <checkout>

It builds the generator and the discriminator of the checkout's models/dptn_networks/
(``DPTNGenerator``, ``ResDiscriminator``) from an options namespace holding that code's
defaults (section "option defaults" of its options/*.py: ngf 64, img_f 512, 3 layers, 3
res-blocks, pose_nc 41, instance norm, LeakyReLU, spectral norm in G and D, PTM 2 heads /
2 CABs / 2 TTBs, step_size 5), fills every state-dict tensor with the seeded numpy values
of ``make_dptn_reference.seeded_state`` and writes to tests/data/dptn/:

- ``step_reference.npz``: the state-dict names / shapes / alias sources and per-tensor sums;
  a 3-step chain of ``DPTNModel.generate_fake`` (the function's text executed: quantised
  source ``get_groundtruth(Is, j)``, the previous target output fed back, the first input
  the stored noise ``xt0``) on batch 2 at 64 x 64: ``out_t_{j}``, ``out_s_{j}`` and the PTM
  output ``ptm_{j}`` of each step; the gradients of ``sum(out_t * w_t + out_s * w_s)`` of
  step 2 w.r.t. its four inputs (of the poses, channels ``GRAD_POSE_CHANNELS`` only),
  computed in float64 (a copy of G in double precision); the discriminator (3 layers at
  128 x 128, so its trunk ends at 16 x 16 as ``fc_step`` requires) in eval and train mode
  (``pred``, ``logp``); the parameter counts of the full-size networks (G; D with 4
  layers at 256 x 256); all NHWC, G in eval mode (no power iteration);
- ``tiny_step_net.pth``: the single file ``util.save_network`` writes (``{'netG', 'netD',
  'optG', 'optD'}``, no ``module.`` prefixes, the 5000-row ``positional_encoding.pe``)
  for a tiny G at 8 x 8 and a tiny D after one training forward (a power iteration) and
  one Adam step of G, and in ``step_reference.npz`` that G's step-1 eval outputs
  (``tiny_out_t``, ``tiny_out_s``) on the inputs' top-left 8 x 8 corner.

Only numpy is needed to import this module.
"""

import argparse
import ast
import copy
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_dptn_reference import OUT, _nhwc, seeded_state  # noqa: E402

SIZE, D_SIZE, BATCH, STEPS, CHAIN = 64, 128, 2, 5, 3
GRAD_POSE_CHANNELS = [0, 17, 18, 40]  # pose gradients kept: first / last joint and limb
G_SEED, D_SEED, TINY_SEED, TINY_D_SEED = 21, 22, 23, 24
OPTIONS = dict(image_nc=3, output_nc=3, pose_nc=41, ngf=64, img_f=512, layers_g=3,
               num_blocks=3, norm="instance", activation="LeakyReLU", use_spect_g=True,
               use_spect_d=True, use_coord=False, affine=True, nhead=2, num_CABs=2,
               num_TTBs=2, step_size=STEPS, dis_layers=4, type_En_c="default",
               type_Dc="default", gpu_ids=[], init_type="xavier", init_variance=0.02,
               load_size=(SIZE, SIZE))
TINY = dict(OPTIONS, ngf=4, img_f=16, layers_g=2, num_blocks=1, num_CABs=1, num_TTBs=1,
            load_size=(8, 8))
TINY_D = dict(OPTIONS, dis_layers=3)
TINY_D_WIDTH = dict(ndf=2, img_f=2)


def inputs(seed=31):
    """(source, target images [2, 64, 64, 3] on the uint8 grid in [-1, 1]; source / target
    poses [2, 64, 64, 41] in [0, 1]; the chain's first input xt0 ~ N(0, 1) [2, 64, 64, 3]),
    float32, NHWC."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (2, BATCH, SIZE, SIZE, 3)).astype(np.float32)
    images = (images / np.float32(255) - np.float32(0.5)) / np.float32(0.5)
    poses = rng.uniform(0, 1, (2, BATCH, SIZE, SIZE, 41)).astype(np.float32) ** 6
    noise = rng.standard_normal((BATCH, SIZE, SIZE, 3)).astype(np.float32)
    return images[0], images[1], poses[0], poses[1], noise


def gradient_weights(seed=32):
    """Seeded float32 [2, 2, 64, 64, 3]: w_t, w_s of the step-2 scalar whose input
    gradients are compared."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((2, BATCH, SIZE, SIZE, 3)).astype(np.float32)


def discriminator_input(seed=33):
    """float32 [2, 128, 128, 3] in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (BATCH, D_SIZE, D_SIZE, 3)).astype(
        np.float32)


def _nchw(torch, a):
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))


def _fill(torch, module, seed, skip=("positional_encoding.pe",)):
    """Seeded values into every state-dict tensor but ``skip`` (aliases share one value);
    returns names, shapes, alias sources, the ConvTranspose2d modules (spectral norm on dim
    1) and sums as make_dptn_reference._fill does."""
    state = {k: v for k, v in module.state_dict().items() if k not in skip}
    names, shapes = list(state), [tuple(v.shape) for v in state.values()]
    dim1 = [n for n, m in module.named_modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    values = seeded_state(names, shapes, seed, dim1)
    seen, source = {}, []
    for name, tensor in state.items():
        source.append(seen.setdefault((tensor.data_ptr(), tuple(tensor.shape)), name))
        values[name] = values[source[-1]]
    module.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()}, strict=False)
    return dict(names=np.array(names), shapes=np.array([",".join(map(str, s)) for s in shapes]),
                source=np.array(source), dim1=np.array(dim1, dtype=str),
                sums=np.array([float(np.sum(values[n], dtype=np.float64)) for n in names]))


def _get_groundtruth(step_dir):
    """``DPTNModel.get_groundtruth`` of models/dptn_model.py, its text executed alone."""
    path = os.path.join(step_dir, "models", "dptn_model.py")
    with open(path) as f:
        tree = ast.parse(f.read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DPTNModel")
    fn = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "get_groundtruth")
    scope = {}
    exec(compile(ast.Module(body=[fn], type_ignores=[]), path, "exec"), scope)
    owner = types.SimpleNamespace(opt=types.SimpleNamespace(step_size=STEPS))
    return lambda image, step: scope["get_groundtruth"](owner, image, step)


def _generator(options):
    """``define_G`` of models/dptn_networks/__init__.py (construct, xavier init), eval mode."""
    from models.dptn_networks import define_G

    return define_G(types.SimpleNamespace(**options, netG="dptn")).eval()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dptn-step-dir", required=True)
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.dptn_step_dir))
    import torch
    from models.dptn_networks import define_D

    torch.manual_seed(0)
    out = {}
    G = _generator(OPTIONS)
    D_full = define_D(types.SimpleNamespace(**OPTIONS, netD="res"))
    out["param_counts"] = np.array([sum(p.numel() for p in m.parameters()) for m in (G, D_full)])
    del D_full
    out.update({f"g_{k}": v for k, v in _fill(torch, G, G_SEED).items()})
    out["pe_rows"] = G.positional_encoding.pe[: STEPS + 2, 0].numpy().reshape(-1, SIZE, SIZE)

    gt = _get_groundtruth(args.dptn_step_dir)
    source, target, pose_s, pose_t, noise = inputs()
    src, ps, pt = (_nchw(torch, a) for a in (source, pose_s, pose_t))
    ptm_outputs = []
    G.PTM.register_forward_hook(lambda m, i, o: ptm_outputs.append(o[0]))
    xt = _nchw(torch, noise)
    with torch.no_grad():
        for step in range(1, CHAIN + 1):
            step_inputs = (ps, pt, gt(src, step), xt)
            if step == 2:
                grad_inputs = [t.clone() for t in step_inputs]
            xt, xs = G(*step_inputs, step)
            out[f"out_t_{step}"], out[f"out_s_{step}"] = _nhwc(xt), _nhwc(xs)
            out[f"ptm_{step}"] = _nhwc(ptm_outputs[-1])
            out[f"gt_src_{step}"] = _nhwc(step_inputs[2])
    # in float64: at these random weights the chain's outputs pass many LeakyReLU kinks,
    # and float32 rounding moves single input gradients by ~1% (torch float32 against torch
    # float64, and ours likewise); in float64 the gradient is well defined
    leaves = [t.double().requires_grad_(True) for t in grad_inputs]
    w_t, w_s = (_nchw(torch, w).double() for w in gradient_weights())
    g_t, g_s = copy.deepcopy(G).double()(*leaves, 2)
    (g_t * w_t + g_s * w_s).sum().backward()
    for key, leaf in zip(("source_pose", "target_pose", "source_step", "xt"), leaves):
        grad = _nhwc(leaf.grad)
        out[f"grad_{key}"] = grad[..., GRAD_POSE_CHANNELS] if "pose" in key else grad

    from models.dptn_networks.discriminator import ResDiscriminator

    D = ResDiscriminator(types.SimpleNamespace(**dict(OPTIONS, dis_layers=3))).eval()
    out.update({f"d_{k}": v for k, v in _fill(torch, D, D_SEED).items()})
    x = _nchw(torch, discriminator_input())
    with torch.no_grad():
        pred, logp = D(x)
        out["d_pred"], out["d_logp"] = _nhwc(pred), logp.numpy()
        D.train()
        pred, logp = D(x)
        out["d_pred_train"], out["d_logp_train"] = _nhwc(pred), logp.numpy()

    tiny = _generator(TINY)
    out.update({f"tiny_{k}": v for k, v in _fill(torch, tiny, TINY_SEED).items()})
    tiny_d = ResDiscriminator(types.SimpleNamespace(**TINY_D), **TINY_D_WIDTH)
    out.update({f"tinyd_{k}": v for k, v in _fill(torch, tiny_d, TINY_D_SEED).items()})
    crop = [a[:, :, :8, :8] for a in (ps, pt, src)] + [_nchw(torch, noise[:, :8, :8])]
    opt_g = torch.optim.Adam(tiny.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(tiny_d.parameters(), lr=4e-4, betas=(0.0, 0.9))
    tiny.train()
    tiny(*crop, 1)[0].square().mean().backward()  # one power iteration, then one Adam step
    opt_g.step()
    tiny.eval()
    with torch.no_grad():
        t_out, s_out = tiny(crop[0], crop[1], gt(crop[2], 1), crop[3], 1)
    out["tiny_out_t"], out["tiny_out_s"] = _nhwc(t_out), _nhwc(s_out)
    os.makedirs(OUT, exist_ok=True)
    torch.save({"netG": tiny.state_dict(), "netD": tiny_d.state_dict(),
                "optG": opt_g.state_dict(), "optD": opt_d.state_dict()},
               os.path.join(OUT, "tiny_step_net.pth"))
    np.savez_compressed(os.path.join(OUT, "step_reference.npz"), **out)
    print("parameters", out["param_counts"], "wrote", OUT)


if __name__ == "__main__":
    main()
