"""Reference outputs of PAINT's ORIGINAL LGN networks for tests/test_paint_lgn.py.

Run once in a separate virtual environment with torch (never a dependency of the package),
on the LGN folder of gxl-groups/PAINT (commit 0ee0e05, the last one):

    mkdir -p /tmp/paint
    git --git-dir=<PAINT mirror> archive HEAD LGN/models | tar -x -C /tmp/paint
    <torch venv>/bin/python tests/reference/make_paint_lgn_reference.py --paint-dir /tmp/paint

(the snapshot lacks the blob of LGN/imgs/day2night.gif: ``archive HEAD LGN`` stops there
before LGN/models; ``archive HEAD LGN/models`` reports it but writes the folder, and only
LGN/models/networks.py is needed.) It imports that file alone (not the package
``__init__``, which pulls in the data and option code) and builds the three networks of
LGN/models/bicycle_gan_model.py with the options' defaults (instance norm, ReLU decoder,
``where_add all``, ``upsample basic``, no dropout; E and D forced to LeakyReLU 0.2):

- ``G_Unet_add_all(18, 20, nz 24, num_downs 8, ngf 4)``: eight levels need 2^8 = 256 pixels
  (at 128 the innermost down conv would see a 1 x 1 map), so the topology is the released
  one and only the width is small;
- ``E_ResNet(4, 8, ndf 8, n_blocks 5, vaeLike)``: the 256-pixel encoder (its final
  AvgPool2d(8) must leave 1 x 1 for the Linear layers);
- ``D_NLayersMulti(20, ndf 8, n_layers 3, num_D 2)``.

Every state-dict tensor gets the seeded numpy values of :func:`seeded_state` (instance norm
has neither parameters nor buffers here, so there are no statistics to set), and the
original is run on the seeded inputs of :func:`inputs` (batch 2) in eval mode and in train
mode (the script checks that both modes give identical outputs: no dropout, no batch norm).
It writes to tests/data/paint/:

- ``lgn_tiny_net_{G,E,D}.pth``: ``torch.save(net.state_dict(),
  _use_new_zipfile_serialization=False)``, the legacy stream that LGN's torch 1.1 wrote for
  ``checkpoints/<name>/<epoch>_net_{G,E,D}.pth``;
- ``lgn_reference.npz`` (NHWC): G's softmax output at the rows / columns :data:`KEEP` of the
  256 x 256 map (the whole map is 5 MB a sample) plus its float64 sums over W and over H
  (every pixel contributes), E's ``mu`` / ``logvar``, D's two score maps, per-input sums (to
  check that numpy still draws the same inputs), and the parameter counts of the
  FULL-size networks (ngf = nef = ndf = 64) counted on the original modules.

Only numpy is needed to import this module (the tests call :func:`inputs`).
"""

import argparse
import importlib.util
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "data", "paint")
SIZE, BATCH = 256, 2
# constructor arguments of the original classes (norm / nl layers are added by the script)
FULL_G = dict(input_nc=18, output_nc=20, nz=24, num_downs=8, ngf=64, use_dropout=False,
              upsample="basic")
FULL_E = dict(input_nc=4, output_nc=8, ndf=64, n_blocks=5, vaeLike=True)
FULL_D = dict(input_nc=20, ndf=64, n_layers=3, num_D=2)
TINY_G, TINY_E, TINY_D = dict(FULL_G, ngf=4), dict(FULL_E, ndf=8), dict(FULL_D, ndf=8)
SEEDS = {"G": 1, "E": 2, "D": 3}
# G's last ConvT (before the softmax, after a ReLU of unit-variance features): gain 3 gives
# logits of std ~2, so the probabilities are far from uniform
GAINS = {"model.up.1.weight": 3.0}
INPUT_SEED = 7
# the rows (and columns) of G's output that are stored: both borders and every 5th inside
KEEP = np.unique(np.r_[0:6, 6:250:5, 250:SIZE])
# COCO-18 keypoints drawn as disks of radius 4 (missing ones stay -1)
N_KEYPOINTS, DISK_RADIUS = 18, 4
COMPONENTS = ((5, 6, 7), (8, 9, 12))   # upper / lower garment labels (one per sample)


def seeded_state(names, shapes, seed, gains=None):
    """Deterministic values for a state dict: name -> float32 array. Weights N(0, gain^2 /
    fan) with fan the number of inputs each output sums (Conv2d / Linear: all but the first
    axis; G's ConvTranspose2d ``*.up.1.weight`` [in, out, 4, 4] at stride 2: in * 2 * 2);
    ``gains`` maps names to a gain (default 1); biases N(0, 0.1)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in zip(names, shapes):
        shape = tuple(int(s) for s in shape)
        x = rng.standard_normal(shape)
        if name.endswith("bias"):
            x = 0.1 * x
        else:
            fan = shape[0] * 4 if name.endswith("up.1.weight") else np.prod(shape[1:])
            x = x * (gains or {}).get(name, 1.0) / np.sqrt(fan)
        out[name] = x.astype(np.float32)
    return out


def _blocky_labels(rng, cells=16):
    """A [SIZE, SIZE] int label map in 0..19 made of cells x cells constant squares."""
    coarse = rng.integers(0, 20, (cells, cells))
    return np.kron(coarse, np.ones((SIZE // cells, SIZE // cells), np.int64))


def inputs(seed=INPUT_SEED):
    """The seeded inputs, NHWC float32, batch 2:

    - ``pose`` [2, 256, 256, 18]: LGN's pose maps, -1 background and +1 inside a disk of
      radius 4 around each keypoint; every 5th keypoint of the second sample missing (all -1);
    - ``z`` [2, 24]: the latent code as LGN samples it, N(-1, 2^2) (``get_z_random``);
    - ``component`` [2, 256, 256, 4]: E's input, three 0/1 label masks (upper garment labels
      5, 6, 7 for sample 0, lower 8, 9, 12 for sample 1) of a blocky label map and, fourth,
      the 0/1 boundary of their union (a stand-in for the loader's Canny edges);
    - ``layout`` [2, 256, 256, 20]: D's input, per-pixel class probabilities (a blocky
      one-hot map blended with a random softmax).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    pose = -np.ones((BATCH, SIZE, SIZE, N_KEYPOINTS), np.float32)
    for b in range(BATCH):
        centres = rng.uniform(0, SIZE, (N_KEYPOINTS, 2))
        for k, (x, y) in enumerate(centres):
            if b == 1 and k % 5 == 0:
                continue
            pose[b, :, :, k][(xx - x) ** 2 + (yy - y) ** 2 <= DISK_RADIUS ** 2] = 1.0
    z = (rng.standard_normal((BATCH, 24)) * 2.0 - 1.0).astype(np.float32)
    component = np.zeros((BATCH, SIZE, SIZE, 4), np.float32)
    for b, labels in enumerate(COMPONENTS):
        parsing = _blocky_labels(rng)
        masks = [parsing == lab for lab in labels]
        union = np.any(masks, axis=0)
        inner = union.copy()
        inner[1:] &= union[:-1]
        inner[:-1] &= union[1:]
        inner[:, 1:] &= union[:, :-1]
        inner[:, :-1] &= union[:, 1:]
        component[b] = np.stack(masks + [union & ~inner], axis=-1)
    layout = np.zeros((BATCH, SIZE, SIZE, 20), np.float32)
    for b in range(BATCH):
        onehot = np.eye(20, dtype=np.float64)[_blocky_labels(rng)]
        logits = 3.0 * rng.standard_normal((SIZE, SIZE, 20))
        soft = np.exp(logits - logits.max(-1, keepdims=True))
        soft /= soft.sum(-1, keepdims=True)
        layout[b] = 0.7 * onehot + 0.3 * soft
    return dict(pose=pose, z=z, component=component, layout=layout)


def _import_networks(paint_dir):
    """LGN/models/networks.py of the checkout, imported on its own."""
    path = os.path.join(paint_dir, "LGN", "models", "networks.py")
    spec = importlib.util.spec_from_file_location("paint_lgn_networks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(networks, kind, args):
    """The network as bicycle_gan_model.py / define_G / define_E / define_D build it."""
    norm = networks.get_norm_layer("instance")
    if kind == "G":
        return networks.G_Unet_add_all(
            args["input_nc"], args["output_nc"], args["nz"], args["num_downs"], args["ngf"],
            norm_layer=norm, nl_layer=networks.get_non_linearity("relu"),
            use_dropout=args["use_dropout"], upsample=args["upsample"])
    if kind == "E":
        return networks.E_ResNet(args["input_nc"], args["output_nc"], args["ndf"],
                                 n_blocks=args["n_blocks"], norm_layer=norm,
                                 nl_layer=networks.get_non_linearity("lrelu"),
                                 vaeLike=args["vaeLike"])
    return networks.D_NLayersMulti(input_nc=args["input_nc"], ndf=args["ndf"],
                                   n_layers=args["n_layers"], norm_layer=norm,
                                   num_D=args["num_D"])


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1).astype(np.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--paint-dir", required=True,
                        help="folder holding the original LGN/ (git archive of gxl-groups/PAINT)")
    args = parser.parse_args()
    import torch

    torch.manual_seed(0)
    networks = _import_networks(args.paint_dir)
    os.makedirs(OUT, exist_ok=True)
    out = {}

    full = {"G": FULL_G, "E": FULL_E, "D": FULL_D}
    for kind, cfg in full.items():
        net = _build(networks, kind, cfg)
        out[f"params_{kind}"] = np.int64(_count(net))
        if kind == "D":
            out["params_D_scales"] = np.array([_count(net.model_0), _count(net.model_1)])
        out[f"full_{kind}_tensors"] = np.int64(len(net.state_dict()))
        del net

    x = inputs()
    for key, value in x.items():
        out[f"sum_{key}"] = np.float64(np.sum(value, dtype=np.float64))
    nchw = {k: torch.from_numpy(np.ascontiguousarray(v.transpose(0, 3, 1, 2)))
            for k, v in x.items() if v.ndim == 4}
    z = torch.from_numpy(x["z"])

    tiny = {}
    for kind, cfg in (("G", TINY_G), ("E", TINY_E), ("D", TINY_D)):
        net = _build(networks, kind, cfg)
        state = net.state_dict()
        values = seeded_state(list(state), [tuple(v.shape) for v in state.values()],
                              SEEDS[kind], GAINS)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()})
        torch.save(net.state_dict(), os.path.join(OUT, f"lgn_tiny_net_{kind}.pth"),
                   _use_new_zipfile_serialization=False)
        tiny[kind] = net

    results = {}
    for mode in ("eval", "train"):
        for net in tiny.values():
            net.train(mode == "train")
        with torch.no_grad():
            g = tiny["G"](nchw["pose"], z)
            mu, logvar = tiny["E"](nchw["component"])
            d = tiny["D"](nchw["layout"])
        results[mode] = [g, mu, logvar] + list(d)
    for a, b in zip(results["eval"], results["train"]):
        assert torch.equal(a, b), "train and eval mode differ"   # no dropout, no batch norm
    g, mu, logvar, d0, d1 = results["eval"]
    g = g.double().numpy().transpose(0, 2, 3, 1)                # [B, H, W, 20]
    out["g_keep"] = g[:, KEEP][:, :, KEEP].astype(np.float32)
    out["g_sum_w"] = g.sum(axis=2)                              # [B, H, 20]
    out["g_sum_h"] = g.sum(axis=1)                              # [B, W, 20]
    out["keep"] = KEEP
    out["e_mu"], out["e_logvar"] = mu.numpy(), logvar.numpy()
    out["d_0"], out["d_1"] = _nhwc(d0), _nhwc(d1)
    np.savez_compressed(os.path.join(OUT, "lgn_reference.npz"), **out)
    for kind in ("G", "E", "D"):
        print(kind, "full params", int(out[f"params_{kind}"]), "tiny file",
              os.path.getsize(os.path.join(OUT, f"lgn_tiny_net_{kind}.pth")), "bytes")
    print("G output range", g.min(), g.max(), "max prob mean", g.max(-1).mean())
    print("D outputs", d0.shape, d1.shape, float(d0.std()), float(d1.std()))
    print("E", out["e_mu"], out["e_logvar"])
    print("npz", os.path.getsize(os.path.join(OUT, "lgn_reference.npz")), "bytes")


if __name__ == "__main__":
    main()
