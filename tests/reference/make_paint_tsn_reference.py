"""Reference outputs of PAINT's ORIGINAL TSN networks for tests/test_paint_tsn.py.

Run once in a separate virtual environment with torch (never a dependency of the package),
on the TSN model and core folders of gxl-groups/PAINT (commit 0ee0e05, the last one):

    mkdir -p /tmp/paint
    git --git-dir=<PAINT mirror> archive HEAD TSN/model TSN/core > /tmp/paint/tsn.tar
    tar -xf /tmp/paint/tsn.tar -C /tmp/paint
    <torch venv>/bin/python tests/reference/make_paint_tsn_reference.py --paint-dir /tmp/paint

(``git archive`` reports the missing blob of LGN/imgs/day2night.gif but writes the named
folders; piping it straight into tar can lose the archive.) The script puts TSN/ on
``sys.path`` (``model/pennet.py`` imports ``core.partialconv2d`` and ``core.spectral_norm``)
and builds:

- ``InpaintGenerator()`` of TSN/model/pennet.py with its two hard-coded widths made small,
  ``cnum = 32`` -> 4 and SPADE's ``nhidden = 128`` -> 16 (the source is read, those two
  lines are replaced, each must occur once, and the text is executed as a module):
  every layer, every unused layer and the 256 x 256 input of the released network, so the
  deepest encoder level is 4 x 4 and the finest attention matches 4096 x 4096 patches;
- ``define_D(3, 8, 'basic', norm='batch')`` of TSN/core/networks.py (``ndf`` 8), wrapped in
  ``nn.DataParallel`` as the trainer's ``gpu_ids=[0]`` does, so its names carry ``module.``.

Weights: seeded numpy values (:func:`seeded_generator_state`, :func:`seeded_discriminator_
state`; batch-norm running statistics and ``num_batches_tracked`` non-trivial). The
generator's weights of one fan share one seeded storage (each tensor a view of it at its own
offset): ``torch.save`` writes a storage once, so the 1.3 M values of the tiny generator fit
in 1.6 MB (separately they would take 5.3 MB; its 128 x 128 x 3 x 3 decoder convolutions
alone hold 0.44 M); the views are ordinary tensors to torch and to the loader.

Written to tests/data/paint/:

- ``tsn_tiny_gen.pth`` = ``{'netG': state_dict}`` and ``tsn_tiny_dis.pth`` = ``{'netD':
  DataParallel state_dict}``, saved as TSN's ``Trainer.save`` does under torch 1.1 (the
  legacy stream: ``_use_new_zipfile_serialization=False``);
- ``tsn_reference.npz`` (NHWC): G's output at the rows / columns :data:`KEEP` plus its
  float64 sums over W and over H, intermediate maps (encoder level 5 and 6, attention
  outputs, the decoder after each SPADE block; ``up1`` at :data:`KEEP_128`), the attention
  weights ([B, query, source], recorded at ``F.conv_transpose2d``) of the top ``at_conv04``
  and the bottom ``at_conv05`` (one usable source each: small swatches leave few hole-free
  windows at the deep levels) and of the top ``at_conv02`` at the sources weighted above
  the 1e-8 floor anywhere (``w_top2_cols``; every other weight is the floor), D's scores in
  eval and in train mode and its running statistics after the train-mode call, per-input
  sums (to check that numpy still draws the same inputs), and the parameter / tensor counts
  of the FULL-size originals.

G has no train/eval difference (instance norm without statistics, no dropout): checked.
Only numpy is needed to import this module (the tests call :func:`inputs`).
"""

import argparse
import collections
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "data", "paint")
SIZE, BATCH = 256, 2
TINY_CNUM, TINY_HIDDEN, TINY_NDF = 4, 16, 8
SEEDS = {"G": 11, "D": 12}
INPUT_SEED = 13
OFFSET_STEP = 101     # offset between the views of one shared generator storage
# the last ConvTranspose (before the tanh): gain 0.5 keeps most outputs off saturation
GAINS = {"decoder.1.weight": 0.5}
SCORE_FLOOR = np.float32(1e-8)   # AtnConv's clamp(min=1e-8)
KEEP = np.unique(np.r_[0:6, 6:250:5, 250:SIZE])
KEEP_128 = np.unique(np.r_[0:4, 4:124:4, 124:128])
# garment labels of TSN/core/dataset.py: upper 5, 6, 7; lower 9, 12
UPPER, LOWER = (5, 6, 7), (9, 12)
SWATCH = {"top": ((50, 43), 128), "bottom": ((40, 35), 100)}   # sizes per sample, column


def _fan(name, shape):
    """Inputs summed per output: ConvTranspose2d k4 s2 [in, out, 4, 4] -> in * 4;
    Conv2d [out, in, k, k] -> in k k."""
    if len(shape) == 4 and shape[2] == 4 and ("up_conv" in name or name.startswith("decoder.1")):
        return shape[0] * 4
    return int(np.prod(shape[1:]))


def seeded_generator_state(names, shapes, seed=SEEDS["G"]):
    """Seeded storages and views for G's state dict: every weight N(0, gain^2 / fan) (gain
    from :data:`GAINS`, default 1), the weights of one (fan, gain) views of one storage at
    offsets OFFSET_STEP * j; biases N(0, 0.1^2), views of one bias storage. Returns
    ``(storages, views)``: ``storages`` dict key -> float32 1-D array, ``views`` dict name
    -> (key, offset)."""
    rng = np.random.default_rng(seed)
    groups = collections.OrderedDict()
    for name, shape in zip(names, shapes):
        key = "bias" if name.endswith("bias") else (_fan(name, shape), GAINS.get(name, 1.0))
        groups.setdefault(key, []).append((name, int(np.prod(shape))))
    storages, views = {}, {}
    for key, members in groups.items():
        length = max(n for _, n in members) + OFFSET_STEP * (len(members) - 1)
        scale = 0.1 if key == "bias" else key[1] / np.sqrt(key[0])
        storages[key] = (rng.standard_normal(length) * scale).astype(np.float32)
        for j, (name, _) in enumerate(members):
            views[name] = (key, OFFSET_STEP * j)
    return storages, views


def seeded_discriminator_state(names, shapes, seed=SEEDS["D"]):
    """Deterministic values for D's state dict: conv weights N(0, 1 / fan), biases
    N(0, 0.1^2), batch norm weight 1 + N(0, 0.1^2), bias N(0, 0.1^2), running_mean
    N(0, 0.3^2), running_var U(0.5, 2), num_batches_tracked 1234."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in zip(names, shapes):
        shape = tuple(int(s) for s in shape)
        if name.endswith("num_batches_tracked"):
            out[name] = np.array(1234, np.int64)
        elif name.endswith("running_var"):
            out[name] = rng.uniform(0.5, 2.0, shape).astype(np.float32)
        elif name.endswith("running_mean"):
            out[name] = (0.3 * rng.standard_normal(shape)).astype(np.float32)
        elif len(shape) == 4:
            out[name] = (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(
                np.float32)
        elif name.endswith("weight"):   # batch norm scale
            out[name] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            out[name] = (0.1 * rng.standard_normal(shape)).astype(np.float32)
    return out


def _person(rng, upper, lower):
    """A [SIZE, SIZE] label map: a standing figure on background 0 (hair 2, face 13, arms
    14 / 15, legs 16 / 17, shoes 18 / 19), the upper garment ``upper`` and the lower
    ``lower``, with boundaries jittered per row."""
    labels = np.zeros((SIZE, SIZE), np.int64)

    def band(r0, r1, c0, c1, label, jitter=4):
        for r in range(r0, r1):
            a, b = rng.integers(-jitter, jitter + 1, 2)
            labels[r, max(c0 + a, 0):min(c1 + b, SIZE)] = label

    band(8, 30, 104, 152, 2)
    band(30, 62, 108, 148, 13, 2)
    band(66, 150, 56, 76, 14, 3)
    band(66, 150, 180, 200, 15, 3)
    band(62, 142, 76, 180, upper, 5)
    band(142, 232, 86, 170, lower, 5)
    band(232, 246, 92, 124, 16, 2)
    band(232, 246, 132, 164, 17, 2)
    band(246, 254, 90, 126, 18, 1)
    band(246, 254, 130, 166, 19, 1)
    return labels


def _texture(rng):
    """[SIZE, SIZE, 3] in (-1, 1): random oriented stripes plus noise, squashed by tanh."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    img = np.zeros((SIZE, SIZE, 3))
    for c in range(3):
        for _ in range(3):
            fy, fx = rng.uniform(-12, 12, 2)
            img[..., c] += np.sin(2 * np.pi * (fy * yy + fx * xx) + rng.uniform(0, 6.3))
        img[..., c] += 0.3 * rng.standard_normal((SIZE, SIZE))
    return np.tanh(0.8 * img)


def swatch_square(region, size, column):
    """``gen_inputb_rand`` / ``gen_inputb_randb`` of TSN/core/dataset.py for one 0/1 region
    [SIZE, SIZE]: the median of the region's indices in raster order gives the row
    ``r = (index % 65536) / 256`` (true division); rows int(r - size / 2) .. int(r + size / 2)
    and columns int(column -/+ size / 2) (end exclusive, clipped) become 1."""
    flat = np.flatnonzero(region.reshape(-1) == 1)
    r = (flat[int(len(flat) / 2)] % 65536) / 256 if len(flat) else 128.0
    c = column if len(flat) else 128.0
    out = np.zeros((SIZE, SIZE), np.float32)
    out[max(int(r - size / 2), 0):min(int(r + size / 2), SIZE),
        max(int(c - size / 2), 0):min(int(c + size / 2), SIZE)] = 1.0
    return out


def inputs(seed=INPUT_SEED):
    """The seeded inputs of TSN's generator and discriminator, NHWC float32, batch 2, made
    as TSN/core/dataset.py makes them from a photo and its parsing: ``parsing`` [2, 256,
    256, 20] one-hot; ``img2`` [2, 256, 256, 3] in (-1, 1); ``mask_t`` / ``mask_b`` [2, 256,
    256, 1] (labels 5, 6, 7 / 9, 12; sample 0 wears 5 and 9, sample 1 7 and 12); ``mask_to``
    / ``mask_bo`` the swatch squares of :func:`swatch_square` (sizes 50 / 43 and 40 / 35,
    columns 128 and 100); ``imgt_masked = img2 mask_t mask_to``, ``imgb_masked = img2 mask_b
    mask_bo``."""
    rng = np.random.default_rng(seed)
    out = {k: [] for k in ("parsing", "img2", "mask_t", "mask_b", "mask_to", "mask_bo")}
    for b in range(BATCH):
        labels = _person(rng, UPPER[2 * b], LOWER[b])
        out["parsing"].append(np.eye(20, dtype=np.float32)[labels])
        out["img2"].append(_texture(rng).astype(np.float32))
        for key, group in (("mask_t", UPPER), ("mask_b", LOWER)):
            out[key].append(np.isin(labels, group).astype(np.float32)[..., None])
        for key, region, (sizes, column) in (("mask_to", "mask_t", SWATCH["top"]),
                                             ("mask_bo", "mask_b", SWATCH["bottom"])):
            out[key].append(swatch_square(out[region][-1][..., 0], sizes[b], column)[..., None])
    out = {k: np.stack(v) for k, v in out.items()}
    out["imgt_masked"] = out["img2"] * out["mask_t"] * out["mask_to"]
    out["imgb_masked"] = out["img2"] * out["mask_b"] * out["mask_bo"]
    return out


G_ARGS = ("imgt_masked", "imgb_masked", "mask_t", "mask_b", "mask_to", "mask_bo", "parsing")


def _import_pennet(paint_dir, cnum, hidden):
    """TSN/model/pennet.py with ``cnum = 32`` and ``nhidden = 128`` replaced."""
    tsn = os.path.join(paint_dir, "TSN")
    if tsn not in sys.path:
        sys.path.insert(0, tsn)
    with open(os.path.join(tsn, "model", "pennet.py")) as f:
        source = f.read()
    for old, new in (("cnum = 32", f"cnum = {cnum}"), ("nhidden = 128", f"nhidden = {hidden}")):
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    module = types.ModuleType(f"paint_tsn_pennet_{cnum}_{hidden}")
    exec(compile(source, os.path.join(tsn, "model", "pennet.py"), "exec"), module.__dict__)
    return module


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1).astype(np.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--paint-dir", required=True,
                        help="folder holding the original TSN/ (git archive of gxl-groups/PAINT)")
    args = parser.parse_args()
    import torch

    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    out = {}
    full = _import_pennet(args.paint_dir, 32, 128).InpaintGenerator()
    from core import networks  # TSN/core/networks.py (sys.path set by _import_pennet)

    out["params_G"] = np.int64(sum(p.numel() for p in full.parameters()))
    out["full_G_tensors"] = np.int64(len(full.state_dict()))
    del full
    full_d = torch.nn.DataParallel(networks.define_D(3, 64, "basic", norm="batch", gpu_ids=[]))
    out["params_D"] = np.int64(sum(p.numel() for p in full_d.parameters()))
    out["full_D_tensors"] = np.int64(len(full_d.state_dict()))
    out["buffers_D_floats"] = np.int64(sum(b.numel() for b in full_d.buffers()
                                           if b.is_floating_point()))

    pennet = _import_pennet(args.paint_dir, TINY_CNUM, TINY_HIDDEN)
    net_g = pennet.InpaintGenerator()
    template = net_g.state_dict()
    storages, views = seeded_generator_state(list(template),
                                             [tuple(v.shape) for v in template.values()])
    bases = {k: torch.from_numpy(v) for k, v in storages.items()}
    state = collections.OrderedDict()
    for name, value in template.items():
        key, offset = views[name]
        state[name] = bases[key][offset:offset + value.numel()].view(value.shape)
    state._metadata = template._metadata
    net_g.load_state_dict(state)
    torch.save({"netG": state}, os.path.join(OUT, "tsn_tiny_gen.pth"),
               _use_new_zipfile_serialization=False)

    net_d = torch.nn.DataParallel(networks.define_D(3, TINY_NDF, "basic", norm="batch",
                                                    gpu_ids=[]))
    d_template = net_d.state_dict()
    d_values = seeded_discriminator_state(list(d_template),
                                          [tuple(v.shape) for v in d_template.values()])
    net_d.load_state_dict({k: torch.from_numpy(v) for k, v in d_values.items()})
    torch.save({"netD": net_d.state_dict()}, os.path.join(OUT, "tsn_tiny_dis.pth"),
               _use_new_zipfile_serialization=False)

    x = inputs()
    for key, value in x.items():
        out[f"sum_{key}"] = np.float64(np.sum(value, dtype=np.float64))
    nchw = {k: torch.from_numpy(np.ascontiguousarray(v.transpose(0, 3, 1, 2)))
            for k, v in x.items()}

    # record intermediate maps (hooks) and the attention weights (F.conv_transpose2d inputs)
    feats, weights = {}, []
    real_f = pennet.F

    class _Recorder(types.SimpleNamespace):
        def __getattr__(self, name):
            return getattr(real_f, name)

        @staticmethod
        def conv_transpose2d(y, *a, **k):
            weights.append(y.detach().clone())
            return real_f.conv_transpose2d(y, *a, **k)

    def keep(name):
        return lambda module, inp, outp: feats.__setitem__(name, outp.detach().clone())

    hooks = []
    for branch, prefix in (("top", ""), ("bottom", "b")):
        for k in range(1, 6):
            hooks.append(getattr(net_g, f"{prefix}at_conv0{k}").register_forward_hook(
                keep(f"{branch}_att{k}")))
        hooks.append(getattr(net_g, f"{prefix}at_conv05").register_forward_pre_hook(
            lambda m, inp, br=branch: feats.update({f"{br}_enc5": inp[0].clone(),
                                                   f"{br}_enc6": inp[1].clone()})))
    for k in range(1, 6):
        hooks.append(getattr(net_g, f"spade{k}").register_forward_hook(keep(f"up{k}")))
    pennet.F = _Recorder()
    with torch.no_grad():
        net_g.eval()
        g = net_g(*[nchw[k] for k in G_ARGS])
    pennet.F = real_f
    for h in hooks:
        h.remove()
    with torch.no_grad():
        net_g.train()
        assert torch.equal(g, net_g(*[nchw[k] for k in G_ARGS])), "G: train != eval"
    # calls: per AtnConv one per sample, top at_conv05 .. 01, then bottom 05 .. 01
    per = {(br, lvl): [] for br in ("top", "bottom") for lvl in (5, 4, 3, 2, 1)}
    order = [(br, lvl) for br in ("top", "bottom") for lvl in (5, 4, 3, 2, 1)]
    for i, y in enumerate(weights):
        per[order[i // BATCH]].append(y)
    for name, (br, lvl) in (("w_top4", ("top", 4)), ("w_bottom5", ("bottom", 5)),
                            ("w_top2", ("top", 2))):
        y = torch.cat(per[(br, lvl)]).numpy()                   # [B, L, h, w]
        y = y.reshape(BATCH, y.shape[1], -1).transpose(0, 2, 1)   # [B, query, source]
        if name == "w_top2":   # 1024 x 1024: keep the sources that are weighted anywhere
            cols = np.flatnonzero((y > SCORE_FLOOR).any(axis=(0, 1)))
            out["w_top2_cols"], out["w_top2_floor"] = cols, y.min()
            y = y[:, :, cols]
        out[name] = y

    g = g.double().numpy().transpose(0, 2, 3, 1)
    out["g_keep"] = g[:, KEEP][:, :, KEEP].astype(np.float32)
    out["g_sum_w"], out["g_sum_h"] = g.sum(axis=2), g.sum(axis=1)
    out["keep"], out["keep_128"] = KEEP, KEEP_128
    for name, value in feats.items():
        value = _nhwc(value)
        if name == "up1":
            value = value[:, KEEP_128][:, :, KEEP_128]
        if value.shape[1] <= 64:
            out[f"f_{name}"] = value

    with torch.no_grad():
        net_d.eval()
        out["d_eval"] = _nhwc(net_d(nchw["img2"]))
        net_d.train()
        out["d_train"] = _nhwc(net_d(nchw["img2"]))
    for i in (3, 6, 9):
        bn = net_d.module.model[i]
        out[f"d_bn{i}_mean"] = bn.running_mean.numpy().copy()
        out[f"d_bn{i}_var"] = bn.running_var.numpy().copy()
    np.savez_compressed(os.path.join(OUT, "tsn_reference.npz"), **out)

    print("full params G", int(out["params_G"]), "D", int(out["params_D"]),
          "tensors", int(out["full_G_tensors"]), int(out["full_D_tensors"]),
          "D float buffers", int(out["buffers_D_floats"]))
    print("tiny G params", sum(p.numel() for p in net_g.parameters()))
    for f in ("tsn_tiny_gen.pth", "tsn_tiny_dis.pth", "tsn_reference.npz"):
        print(f, os.path.getsize(os.path.join(OUT, f)), "bytes")
    print("G output std", g.std(), "range", g.min(), g.max())
    print("stored", sorted(k for k in out if k.startswith(("f_", "w_"))))
    print("weighted sources top2", out["w_top2_cols"].size, "floor", out["w_top2_floor"],
          "D", out["d_eval"].std(), out["d_train"].std())


if __name__ == "__main__":
    main()
