"""StyleGAN2 synthesis speed: eager vs tf.function vs XLA, forward and forward+backward.

    python benchmarks/bench_stylegan2.py [--resolutions 256,512] [--reps 2]

Prints seconds per image (batch 1, as DGP runs) for config-f synthesis, and the fraction of
this machine's float32 matmul peak, measured in the same run, that the 3x3 convolutions reach
(the best of TensorFlow's, XLA's and numpy's BLAS matmul: ``matmul_rates``).
FLOPs are those executed: 2*9*Cin*Cout*H*W per 3x3 conv, with H*W the *input* size for the
stride-2 transposed ``Conv0_up`` (a quarter of the DESIGN.md count, which takes the output
size); forward+backward counts 2x forward: backward is taken with respect to W+ and the noise
maps (DGP's projection / pattern-search gradients), which needs each conv's data gradient but
no kernel gradient.

The "XLA, dilated-input convs" rows time the same XLA graph with the library's polyphase
forms of the up-sampling (transposed) convolutions switched off
(``tfposegen/ops/upfirdn2d.py``), i.e. with XLA's own dilated-input convolution, side by side.

``--fused_modconv`` adds rows for NVlabs' fused form at batch 1 (the style and the
demodulation folded into the kernel, one plain convolution; timed with the library's layers
patched, XLA only): it saves the two scalings of the activations per conv, but its backward
pass needs each kernel's gradient (a second convolution-sized product) to reach the styles.
"""

import argparse
import importlib
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf
from keras import ops

from tfposegen.models.stylegan2 import SynthesisNetwork
from tfposegen.models.stylegan2 import layers as sg2_layers
from tfposegen.ops import upsample_conv2d

upfirdn2d_module = importlib.import_module("tfposegen.ops.upfirdn2d")


def matmul_rates(n=4096, reps=5):
    """Best float32 GFLOP/s of an n x n matmul by each of this machine's matmul paths:
    TensorFlow's graph kernel (``tf.function``), XLA, and numpy's BLAS. They differ by CPU
    (seen: an AVX2 EPYC at 64 / 96 / 157 GFLOP/s, numpy's OpenBLAS at the FMA units' bound),
    so the peak is the best of them, not TensorFlow's own kernel alone."""
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    rates = {}
    for name, jit in (("tf.function", False), ("XLA", True)):
        f = tf.function(tf.matmul, jit_compile=jit, autograph=False)
        f(a, b).numpy()
        rates[name] = 2 * n ** 3 / min(_timeit(lambda f=f: f(a, b).numpy())
                                       for _ in range(reps)) / 1e9
    a, b = a.numpy(), b.numpy()
    rates["numpy BLAS"] = 2 * n ** 3 / min(_timeit(lambda: a @ b) for _ in range(reps)) / 1e9
    return rates


def matmul_peak(n=4096, reps=5):
    """This machine's float32 matmul peak in GFLOP/s (the best of ``matmul_rates``) and a
    line naming each path's rate."""
    rates = matmul_rates(n, reps)
    detail = ", ".join(f"{k} {v:.0f}" for k, v in rates.items())
    return max(rates.values()), f"{n}^3, best of {detail}"


def conv_flops(syn):
    """Forward FLOPs of the 3x3 modulated convs: (executed, DESIGN.md output-size convention)."""
    executed = design = 0
    for r, block in enumerate(syn.blocks, start=2):
        for key in ("conv0", "conv1"):
            if key in block:
                layer = block[key]
                f = 2 * 9 * layer.weight.shape[2] * layer.filters * (2 ** r) ** 2
                design += f
                executed += f // 4 if key == "conv0" else f
    return executed, design


def fused_modulated_conv2d(x, w, styles, demodulate=True, up=False,
                           resample_kernel=(1, 3, 3, 1), eps=1e-8):
    """Batch-1 form of ``tfposegen.ops.modulated_conv2d`` (same math): ``w * s``, divided by
    its per-output-channel norm, then one convolution of ``x`` [1, H, W, Cin]."""
    w = w * styles[0][None, None, :, None]
    if demodulate:
        w = w * ops.rsqrt(ops.sum(ops.square(w), axis=[0, 1, 2], keepdims=True) + eps)
    if up:
        return upsample_conv2d(x, w, k=resample_kernel)
    return ops.conv(x, w, strides=1, padding="same")


def _timeit(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench(resolution, reps, fused_modconv=False):
    syn = SynthesisNetwork(resolution=resolution, fmap_base=16384)
    ws = tf.random.normal([1, syn.num_ws, 512])
    noise = [tf.Variable(v) for v in syn.noise_vars]

    def fwd(ws):
        return syn(ws, noise=noise)

    def fwd_bwd(ws):
        with tf.GradientTape() as tape:
            tape.watch(ws)
            loss = tf.reduce_mean(tf.square(syn(ws, noise=noise)))
        return tape.gradient(loss, [ws] + noise)

    rows = []
    modes = [("eager", "unfused"), ("tf.function", "unfused"), ("XLA", "unfused"),
             ("XLA", "dilated")]
    if fused_modconv:
        modes.append(("XLA", "fused"))
    library_op = sg2_layers.modulated_conv2d
    library_xla_check = upfirdn2d_module.compiling_with_xla
    for mode, form in modes:
        sg2_layers.modulated_conv2d = (fused_modulated_conv2d if form == "fused"
                                       else library_op)
        upfirdn2d_module.compiling_with_xla = ((lambda: False) if form == "dilated"
                                                else library_xla_check)
        for name, fn in (("forward", fwd), ("forward+backward", fwd_bwd)):
            f = fn if mode == "eager" else tf.function(fn, jit_compile=(mode == "XLA"))
            def call(f=f):
                tf.nest.map_structure(lambda t: t.numpy(), f(ws))
            first = _timeit(call)
            times = [_timeit(call) for _ in range(reps)]
            label = {"unfused": mode, "fused": f"{mode}, fused modconv",
                     "dilated": f"{mode}, dilated-input convs"}[form]
            rows.append((resolution, label, name, first, min(times)))
    sg2_layers.modulated_conv2d = library_op
    upfirdn2d_module.compiling_with_xla = library_xla_check
    return rows, conv_flops(syn)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resolutions", default="256,512")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--fused_modconv", action="store_true",
                   help="add XLA rows of the batch-1 fused modulated conv (module docstring)")
    args = p.parse_args()
    peak, how = matmul_peak()
    print(f"float32 matmul peak ({how}): {peak:.0f} GFLOP/s; "
          f"threads: inter {tf.config.threading.get_inter_op_parallelism_threads()}, "
          f"intra {tf.config.threading.get_intra_op_parallelism_threads()}, cpus {os.cpu_count()}")
    print("| res | mode | pass | first call s | s/image | GFLOP/s | of peak | vs eager |")
    print("|---|---|---|---|---|---|---|---|")
    for res in [int(r) for r in args.resolutions.split(",")]:
        rows, (flops, design) = bench(res, args.reps, args.fused_modconv)
        eager = {name: t for (_, mode, name, _, t) in rows if mode == "eager"}
        for r, mode, name, first, t in rows:
            f = flops * (2 if name != "forward" else 1)
            print(f"| {r} | {mode} | {name} | {first:.2f} | {t:.3f} | {f / t / 1e9:.0f} | "
                  f"{f / t / 1e9 / peak:.0%} | {eager[name] / t:.2f}x |", flush=True)
        print(f"({res} px: {flops / 1e9:.0f} GFLOP executed forward in the 3x3 convs; "
              f"{design / 1e9:.0f} GFLOP by the DESIGN.md count)", flush=True)


if __name__ == "__main__":
    main()
