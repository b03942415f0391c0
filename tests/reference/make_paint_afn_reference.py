"""Reference outputs of PAINT's ORIGINAL AFN networks and warps for tests/test_paint_afn.py.

Run once in a separate virtual environment with torch (never a dependency of the package),
on the AFN folder of gxl-groups/PAINT (commit 0ee0e05, the last one), with a C++ compiler
on the PATH (``g++``) for the Resample2d kernel:

    mkdir -p /tmp/paint_afn
    for f in model/pennet.py core/networks.py core/spectral_norm.py core/partialconv2d.py \\
             resample2d_package/resample2d_kernel.cu; do
      mkdir -p /tmp/paint_afn/AFN/$(dirname $f)
      git --git-dir=<PAINT mirror> show HEAD:AFN/$f > /tmp/paint_afn/AFN/$f
    done
    <torch venv>/bin/python tests/reference/make_paint_afn_reference.py \
        --paint-dir /tmp/paint_afn

(``git archive HEAD AFN`` may stop at a blob missing from the snapshot; ``show`` of the few
files needed does not.) It imports ``AFN/model/pennet.py`` with a stand-in ``core.tools``
(that file only provides image helpers and needs PyYAML; pennet uses none of it) and
``AFN/core/networks.py`` on their own, and builds:

- ``InpaintGenerator()``: the full-size generator (its parameters are counted), whose
  ``f_gen`` is then replaced by ``FlowGen(**flow_param)`` with ``dim`` :data:`TINY_DIM`
  instead of 64: the released topology (four levels, 2 residual blocks each, three flow
  heads, the two unused ``AtnConv``) at a small width, run through
  ``InpaintGenerator.forward``;
- ``define_D(24, ndf, 'basic', norm='instance')`` = ``NLayerDiscriminator`` with instance
  norm, AFN's pose discriminator netD2 (full size: ndf 64; tiny: :data:`TINY_NDF`), inside
  ``DataParallel`` as the trainer holds it, so its state dict has ``module.`` names.

The live warp is ``pennet.bilinear_warp``, which calls ``F.grid_sample(source, grid)`` with
torch's default. The authors' torch 1.1 had no ``align_corners`` argument and behaved as
``align_corners=True``; torch >= 1.3 defaults to False. The script runs the ORIGINAL function
text with ``F.grid_sample`` bound to ``align_corners=True`` (the faithful outputs) and once
more with today's default (``align_corners=False``, stored subsampled to show the
difference).

Every state-dict tensor gets the seeded numpy values of :func:`seeded_state`; the last conv
of each flow head is then scaled so that the flows of the seeded inputs have a standard
deviation of :data:`FLOW_STD` x their map's width (0.5, 1 and 1.9 px at 16, 32 and 64 px,
up to 11 px: real displacements, part of them leaving the map, where the warp's zero padding
acts; larger flows make the float32 rounding of the flow column, amplified by the warps,
approach the 1e-4 parity bound). Both networks are run on the seeded inputs of
:func:`inputs` (batch 2, 128 x 128) in eval and train mode in float32 (checked equal: no
dropout, no batch norm), then, for the stored outputs, in float64 (``.double()`` of the same
modules, whose weights are the float32 values saved): torch's float32 image differs from the
float64 one by 8.5e-5, so a float32 reference would put most of a 1e-4 bound into the
reference itself (the float32 image is stored too). Note that ``bilinear_warp`` builds its
base grid with ``.float()``, so the float64 run keeps float32 rounding there (as the port
does in every dtype). Also stored: ``F.grid_sample`` itself (both ``align_corners``) on small
random grids, the original ``bilinear_warp`` on small random flows (both conventions), and
the FORWARD Resample2d CUDA kernel (``kernel_resample2d_update_output`` of
``resample2d_package/resample2d_kernel.cu``, its source text compiled for the CPU with g++
and a loop over the thread index) on small random flows for the (kernel_size, dilation,
sigma) settings of :data:`RESAMPLE_CASES`.

Writes to tests/data/paint/:

- ``afn_tiny_gen.pth``: ``{'netG': state_dict}`` (as ``Trainer.save`` writes
  ``gen_<NNNNN>.pth``; no prefix) and ``afn_tiny_dis2.pth``: ``{'netD2': state_dict}`` with
  ``module.`` names (``dis2_<NNNNN>.pth``), both with ``_use_new_zipfile_serialization=False``,
  the legacy stream of the authors' torch 1.1;
- ``afn_reference.npz`` (NHWC; flows [B, h, w, 2] with channel 0 = x): the generator's
  image and three flows and the pose discriminator's scores (float64 runs stored as
  float32), the float32 image, the image under ``align_corners=False`` (every 2nd row and
  column), the warp arrays, per-input sums (to
  check that numpy still draws the same inputs), and the parameter counts of the FULL-size
  originals.

Only numpy is needed to import this module (the tests call :func:`inputs`).
"""

import argparse
import ctypes
import functools
import importlib.util
import os
import subprocess
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "data", "paint")
SIZE, BATCH, N_PARSING = 128, 2, 9
TINY_DIM, TINY_NDF = 4, 8
SEEDS = {"G": 11, "D2": 12}
INPUT_SEED = 17
FLOW_STD = 0.03       # flow std / map width after scaling the heads' last convs
HEADS = ("f_gen.flow_column.location0.2.conv.weight", "f_gen.flow_column.location1.2.conv.weight",
         "f_gen.flow_column.location2.2.conv.weight")
GAIN = np.sqrt(2.0)   # He gain (ReLU nets; the flow column has no normalisation)
# Resample2d settings stored: (kernel_size, dilation, sigma); Resample2d's default is
# (2, 1, 5), PerceptualCorrectness builds (4, 1, 2)
RESAMPLE_CASES = ((2, 1, 5.0), (4, 1, 2.0), (4, 2, 1.5), (3, 1, 0.7))


def seeded_state(names, shapes, seed):
    """Deterministic values for a state dict: name -> float32 array. Weights N(0, 2 / fan)
    with fan the number of inputs each output sums (Conv2d: all but the first axis; the
    flow column's ConvTranspose2d ``*.transConv.weight`` [in, out, 6, 6] at stride 2:
    in * 3 * 3); biases N(0, 0.1^2)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in zip(names, shapes):
        shape = tuple(int(s) for s in shape)
        x = rng.standard_normal(shape)
        if name.endswith("bias"):
            x = 0.1 * x
        else:
            fan = shape[0] * 9 if name.endswith("transConv.weight") else np.prod(shape[1:])
            x = x * GAIN / np.sqrt(fan)
        out[name] = x.astype(np.float32)
    return out


def _blocky(rng, classes, cells):
    coarse = rng.integers(0, classes, (cells, cells))
    return np.kron(coarse, np.ones((SIZE // cells, SIZE // cells), np.int64))


def inputs(seed=INPUT_SEED):
    """The seeded inputs, NHWC float32:

    - ``image`` [2, 128, 128, 3] in [-1, 1]: the source view (blocky colours plus a smooth
      wave, clipped);
    - ``target_parsing``, ``source_parsing`` [2, 128, 128, 9]: one-hot 9-class parsings of
      blocky label maps (AFN's merged classes);
    - ``pose`` [2, 128, 128, 24]: netD2's input, as the trainer's ``real_pose`` =
      cat(parsing p1, image p1, parsing p2, image p2) (made from the arrays above);
    - ``gs_source`` [2, 5, 7, 3] and ``gs_grid`` [2, 4, 6, 2] (normalised (x, y) in
      [-1.3, 1.3], a few exactly -1, 0 or 1): ``F.grid_sample``'s inputs;
    - ``bw_source`` [2, 6, 8, 3] and ``bw_flow`` [2, 6, 8, 2] (pixels, N(0, 2^2)):
      ``bilinear_warp``'s inputs;
    - ``rs_source`` [2, 7, 9, 3] and ``rs_flow`` [2, 5, 6, 2] (pixels, N(0, 3^2), every 7th
      value rounded to an integer): Resample2d's inputs (the output takes the flow's size).
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    image = np.zeros((BATCH, SIZE, SIZE, 3))
    for b in range(BATCH):
        colours = rng.uniform(-0.9, 0.9, (8, 8, 3))
        image[b] = np.kron(colours, np.ones((SIZE // 8, SIZE // 8, 1)))
        for c in range(3):
            fx, fy, ph = rng.uniform(1, 4), rng.uniform(1, 4), rng.uniform(0, 6)
            image[b, :, :, c] += 0.3 * np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
    image = np.clip(image, -1, 1).astype(np.float32)
    eye = np.eye(N_PARSING, dtype=np.float32)
    target = np.stack([eye[_blocky(rng, N_PARSING, 8)] for _ in range(BATCH)])
    source = np.stack([eye[_blocky(rng, N_PARSING, 8)] for _ in range(BATCH)])
    pose = np.concatenate([target, image, source, image[:, :, ::-1]], axis=-1)
    gs_grid = rng.uniform(-1.3, 1.3, (BATCH, 4, 6, 2))
    gs_grid[0, 0, :3] = [[-1, -1], [1, 1], [0, 0]]
    gs_grid[1, 3, 3:] = [[-1, 0.5], [1, -0.25], [0.2, 1]]
    rs_flow = 3.0 * rng.standard_normal((BATCH, 5, 6, 2))
    rs_flow.reshape(-1)[::7] = np.round(rs_flow.reshape(-1)[::7])
    return dict(
        image=image, target_parsing=target, source_parsing=source,
        pose=pose.astype(np.float32),
        gs_source=rng.standard_normal((BATCH, 5, 7, 3)).astype(np.float32),
        gs_grid=gs_grid.astype(np.float32),
        bw_source=rng.standard_normal((BATCH, 6, 8, 3)).astype(np.float32),
        bw_flow=(2.0 * rng.standard_normal((BATCH, 6, 8, 2))).astype(np.float32),
        rs_source=rng.standard_normal((BATCH, 7, 9, 3)).astype(np.float32),
        rs_flow=rs_flow.astype(np.float32))


def _import(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import_originals(paint_dir):
    """AFN/model/pennet.py (with ``core`` = AFN/core and a stand-in ``core.tools``) and
    AFN/core/networks.py."""
    afn = os.path.join(paint_dir, "AFN")
    core = types.ModuleType("core")
    core.__path__ = [os.path.join(afn, "core")]
    sys.modules["core"] = core
    sys.modules["core.tools"] = types.ModuleType("core.tools")
    pennet = _import("paint_afn_pennet", os.path.join(afn, "model", "pennet.py"))
    networks = _import("paint_afn_networks", os.path.join(afn, "core", "networks.py"))
    return pennet, networks


class _Functional:
    """``torch.nn.functional`` with ``grid_sample`` bound to one ``align_corners``."""

    def __init__(self, align_corners):
        import torch.nn.functional as F
        self._F = F
        self.grid_sample = functools.partial(F.grid_sample, align_corners=align_corners)

    def __getattr__(self, name):
        return getattr(self._F, name)


def _compile_resample2d(paint_dir, workdir):
    """The forward kernel of resample2d_kernel.cu (macros and ``kernel_resample2d_update_
    output`` as written) compiled for the CPU: each ``index`` runs in turn."""
    cu = os.path.join(paint_dir, "AFN", "resample2d_package", "resample2d_kernel.cu")
    with open(cu) as f:
        text = f.read()
    start = text.index("#define DIM0")
    end = text.index("template <typename scalar_t>\n__global__ void "
                     "kernel_resample2d_backward_input1")
    harness = (
        "#include <cmath>\n#include <algorithm>\n"
        "using std::floor; using std::exp; using std::max; using std::min;\n"
        "struct long4 { long x, y, z, w; };\n"
        "struct thread_index { unsigned int x; };\n"
        "static thread_index blockIdx, blockDim, threadIdx;\n"
        "#define __global__\n"
        + text[start:end] +
        "\nextern \"C\" void forward(const float* in1, const long* s1, const long* t1,\n"
        "    const float* in2, const long* s2, const long* t2, float* out, const long* so,\n"
        "    const long* to, int kernel_size, int dilation) {\n"
        "  long4 a = {s1[0], s1[1], s1[2], s1[3]}, at = {t1[0], t1[1], t1[2], t1[3]};\n"
        "  long4 b = {s2[0], s2[1], s2[2], s2[3]}, bt = {t2[0], t2[1], t2[2], t2[3]};\n"
        "  long4 o = {so[0], so[1], so[2], so[3]}, ot = {to[0], to[1], to[2], to[3]};\n"
        "  int n = (int)(so[0] * so[1] * so[2] * so[3]);\n"
        "  blockIdx.x = 0; blockDim.x = 1;\n"
        "  for (int i = 0; i < n; ++i) {\n"
        "    threadIdx.x = i;\n"
        "    kernel_resample2d_update_output<float>(n, in1, a, at, in2, b, bt, out, o, ot,\n"
        "                                           kernel_size, dilation);\n"
        "  }\n}\n")
    src = os.path.join(workdir, "resample2d_cpu.cpp")
    lib = os.path.join(workdir, "resample2d_cpu.so")
    with open(src, "w") as f:
        f.write(harness)
    subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", lib, src], check=True)
    return ctypes.CDLL(lib)


def _resample2d_kernel(lib, source, flow, kernel_size, dilation, sigma):
    """Resample2d.forward as the module calls the kernel: NCHW input1 = source, input2 =
    cat(flow, sigma) [B, 3, H, W]; returns the NCHW output [B, C, H, W]."""
    in1 = np.ascontiguousarray(source, np.float32)
    b, _, h, w = flow.shape
    in2 = np.ascontiguousarray(np.concatenate(
        [flow, np.full((b, 1, h, w), sigma, np.float32)], axis=1), np.float32)
    out = np.zeros((b, in1.shape[1], h, w), np.float32)

    meta = [(a, np.array(a.shape, np.int64), np.array([s // 4 for s in a.strides], np.int64))
            for a in (in1, in2, out)]
    ptrs = [p.ctypes.data_as(ctypes.c_void_p) for triple in meta for p in triple]
    lib.forward(*ptrs, ctypes.c_int(kernel_size), ctypes.c_int(dilation))
    return out


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1).astype(np.float32)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--paint-dir", required=True,
                        help="folder holding the original AFN/ (files of gxl-groups/PAINT)")
    args = parser.parse_args()
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    pennet, networks = _import_originals(args.paint_dir)
    os.makedirs(OUT, exist_ok=True)
    out = {}

    # full-size parameter counts
    full = pennet.InpaintGenerator(init_weights=False)
    cc, fc = full.f_gen.conv_column, full.f_gen.flow_column
    atn = _count(cc.at_conv01) + _count(cc.at_conv02)
    out["params_G"] = np.int64(_count(full))
    out["params_G_parts"] = np.array([_count(fc), _count(cc) - atn, atn])
    out["full_G_tensors"] = np.int64(len(full.state_dict()))
    flow_param = dict(full.flow_param)
    del full
    d2_full = networks.define_D(24, 64, "basic", norm="instance")
    out["params_D2"] = np.int64(_count(d2_full))
    out["full_D2_tensors"] = np.int64(len(d2_full.state_dict()))
    out["params_D6"] = np.int64(_count(networks.define_D(6, 64, "basic", norm="instance")))

    x = inputs()
    for key, value in x.items():
        out[f"sum_{key}"] = np.float64(np.sum(value, dtype=np.float64))

    def nchw(a):
        return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))

    # tiny generator: the original InpaintGenerator with a narrow FlowGen
    gen = pennet.InpaintGenerator(init_weights=False)
    gen.f_gen = pennet.FlowGen(**dict(flow_param, dim=TINY_DIM))
    state = gen.state_dict()
    values = seeded_state(list(state), [tuple(v.shape) for v in state.values()], SEEDS["G"])
    gen.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()})
    img, tgt, src = nchw(x["image"]), nchw(x["target_parsing"]), nchw(x["source_parsing"])
    pennet.F = _Functional(align_corners=True)
    with torch.no_grad():
        _, flows = gen(img, tgt, src)
    for name, flow in zip(HEADS, flows):
        scale = FLOW_STD * flow.shape[-1] / float(flow.std())
        values[name] = (values[name] * scale).astype(np.float32)
    gen.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()})
    torch.save({"netG": gen.state_dict()}, os.path.join(OUT, "afn_tiny_gen.pth"),
               _use_new_zipfile_serialization=False)

    dis = networks.define_D(24, TINY_NDF, "basic", norm="instance")
    dis = torch.nn.DataParallel(dis)   # as define_D(gpu_ids=[0]) wraps it: module.* names
    state = dis.state_dict()
    values = seeded_state(list(state), [tuple(v.shape) for v in state.values()], SEEDS["D2"])
    dis.load_state_dict({k: torch.from_numpy(v) for k, v in values.items()})
    torch.save({"netD2": dis.state_dict()}, os.path.join(OUT, "afn_tiny_dis2.pth"),
               _use_new_zipfile_serialization=False)

    results = {}
    for mode in ("eval", "train"):
        gen.train(mode == "train")
        dis.train(mode == "train")
        with torch.no_grad():
            image, flows = gen(img, tgt, src)
            scores = dis.module(nchw(x["pose"]))
        results[mode] = [image, *flows, scores]
    for a, b in zip(results["eval"], results["train"]):
        assert torch.equal(a, b), "train and eval mode differ"
    out["g_image_torch32"] = _nhwc(results["eval"][0])
    # the stored outputs: the same modules and (float32) weights run in float64, so that
    # the reference carries no float32 rounding of its own (torch's float32 run differs from
    # it by more than the port does: the flows' rounding is amplified by the warps)
    gen, dis = gen.double(), dis.double()
    with torch.no_grad():
        image, (f32, f64, f128) = gen(img.double(), tgt.double(), src.double())
        scores = dis.module(nchw(x["pose"]).double())
    out["g_image"] = _nhwc(image)
    for i, f in enumerate((f32, f64, f128)):
        out[f"g_flow_{i}"] = _nhwc(f)
    out["d2_scores"] = _nhwc(scores)
    pennet.F = _Functional(align_corners=False)
    with torch.no_grad():
        image_default, _ = gen(img.double(), tgt.double(), src.double())
    out["g_image_align_false_sub"] = _nhwc(image_default)[:, ::2, ::2]

    # F.grid_sample, bilinear_warp, Resample2d's kernel on small arrays
    for ac in (True, False):
        out[f"gs_out_ac{int(ac)}"] = _nhwc(F.grid_sample(
            nchw(x["gs_source"]), torch.from_numpy(x["gs_grid"]), mode="bilinear",
            padding_mode="zeros", align_corners=ac))
        pennet.F = _Functional(align_corners=ac)
        out[f"bw_out_ac{int(ac)}"] = _nhwc(pennet.bilinear_warp(nchw(x["bw_source"]),
                                                                nchw(x["bw_flow"])))
    with tempfile.TemporaryDirectory() as workdir:
        lib = _compile_resample2d(args.paint_dir, workdir)
        for i, (k, d, s) in enumerate(RESAMPLE_CASES):
            res = _resample2d_kernel(lib, x["rs_source"].transpose(0, 3, 1, 2),
                                     x["rs_flow"].transpose(0, 3, 1, 2), k, d, s)
            out[f"rs_out_{i}"] = res.transpose(0, 2, 3, 1)
    np.savez_compressed(os.path.join(OUT, "afn_reference.npz"), **out)

    print("G full params", int(out["params_G"]), "parts", out["params_G_parts"].tolist(),
          "tensors", int(out["full_G_tensors"]))
    print("D2 full params", int(out["params_D2"]), "tensors", int(out["full_D2_tensors"]),
          "D(6)", int(out["params_D6"]))
    print("image range", float(image.min()), float(image.max()), "std", float(image.std()))
    for i, f in enumerate((f32, f64, f128)):
        print("flow", i, tuple(f.shape), "std", float(f.std()), "max", float(f.abs().max()))
    print("torch float32 vs float64 image", float(np.abs(out["g_image_torch32"]
                                                         - out["g_image"]).max()))
    print("align_corners False changes the image by",
          float(np.abs(_nhwc(image_default) - out["g_image"]).max()))
    print("D2 scores", tuple(scores.shape), float(scores.std()))
    for name in ("afn_tiny_gen.pth", "afn_tiny_dis2.pth", "afn_reference.npz"):
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
