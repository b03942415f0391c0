"""DGP optimisation speed: seconds per step of each phase, with and without XLA.

    python benchmarks/bench_dgp.py [--resolutions 256,512] [--steps N] [--modes xla,function]
                                   [--no_components] [--data DIR]

Runs ``DGPProjector`` (batch 1, float32, random weights: speed does not depend on them) on
one sample pair (``../shared/data/dgp/model_1`` beside the repository when present, else a
procedural pair) at
each resolution (32: ``tiny_32``, 256: ``config_f_256``, 512: ``dgp_512``) and prints, as
markdown tables:

1. per phase (projection with the VGG16 and ResNet101 attribute terms on, semantic search,
   pattern search): the first call (tracing, compilation and one step) and the median of N
   timed steps, compiled with XLA (``jit_compile=True``, DGPProjector's default) and as a
   plain ``tf.function``;
2. the projection step split into its networks, each timed alone forward+backward, compiled
   the same way: G (synthesis, gradient w.r.t. W+), D (adversarial loss, gradient w.r.t.
   the image), VGG16 ``block4_conv3`` at R and the ResNet101 attribute model at 331 px
   (including the legacy bilinear resize), both with gradients w.r.t. the image; the rest
   of a step (Adam, pixel loss, glue) is the measured step minus their sum;
3. G at 512 px against NVlabs' PyTorch StyleGAN2 on the same machine (DESIGN.md), the
   fraction of this machine's float32 matmul peak (measured in the same run) that G's
   forward+backward reaches, and the estimated time of DGP's default run
   (10 + 1000 + 1500 steps).

Every figure comes from this one process; the load average is printed at the start and the
end since other work on the machine slows everything. Defaults: 6 timed steps at 256 px, 4 at
512 px (about 12 minutes on 2 cores). G's FLOPs are counted from its conv shapes as executed:
forward+backward is 2x forward, since the gradient w.r.t. W+ (styles scale the activations)
needs each conv's data gradient but no kernel gradient.
"""

import argparse
import gc
import importlib.util
import os
import pathlib
import platform
import resource
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import tensorflow as tf

from tfposegen.models.dgp import losses
from tfposegen.models.dgp.inputs import prepare_pair, read_pair
from tfposegen.models.dgp.perceptual import AttributeFeatures, VGG16Features
from tfposegen.models.dgp.presets import build_dgp_networks
from tfposegen.models.dgp.project import PHASES, DGPProjector

HERE = pathlib.Path(__file__).resolve().parent
PRESETS = {32: "tiny_32", 256: "config_f_256", 512: "dgp_512"}
DEFAULT_STEPS = {256: 6, 512: 4}
# The DGP sample in the shared folder beside the repository, when there is one.
DATA = str(HERE.parent.parent / "shared" / "data" / "dgp" / "model_1")
DGP_STEPS = {"projection": 10, "semantic_search": 1000, "pattern_search": 1500}
# NVlabs stylegan2-ada-pytorch, reference ops, 2 threads, this machine, 512x512 (DESIGN.md).
TORCH_G_512 = {"forward": 1.65, "forward+backward": 4.0}
MODES = {"xla": True, "function": False}
MODE_NAMES = {"xla": "XLA", "function": "tf.function"}


def _sibling(path, name):
    """Import a module from a file (the StyleGAN2 benchmark, the test helpers)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_stylegan2 = _sibling(HERE / "bench_stylegan2.py", "bench_stylegan2")


def _timeit(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def time_calls(fn, n):
    """(seconds of the first call, median seconds of the next ``n`` calls)."""
    first = _timeit(fn)
    return first, statistics.median(_timeit(fn) for _ in range(n))


def machine():
    """One line naming the CPU, its cores and the TF / Keras versions."""
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    threads = tf.config.threading
    return (f"CPU: {model}, {os.cpu_count()} cores; TensorFlow {tf.__version__}, Keras "
            f"{keras.__version__}; TF threads inter {threads.get_inter_op_parallelism_threads()}"
            f", intra {threads.get_intra_op_parallelism_threads()} (0 = default)")


def load_pair(data, resolution, tmp):
    """(DGPInputs at ``resolution``, words naming the pair): the real pair in ``data``, else
    a procedural one written into ``tmp``."""
    cloth, model = os.path.join(data, "cloth_1"), os.path.join(data, "model_info")
    source = f"{data} (cloth_1, model_info)"
    if not (os.path.isdir(cloth) and os.path.isdir(model)):
        helpers = _sibling(HERE.parent / "tests" / "dgp_helpers.py", "dgp_helpers")
        cloth, model = helpers.make_pair(pathlib.Path(tmp), size=256)
        source = "procedural (tests/dgp_helpers.make_pair, 256 px)"
    return prepare_pair(read_pair(cloth, model), "short", resolution), source


def networks(resolution, noise_strength=0.3):
    """Random (E, D, Gs) of the resolution's preset with non-zero noise strengths.

    StyleGAN2 initialises the strengths to 0; a trained generator has non-zero ones (as
    ``tests/dgp_helpers.dgp_networks``).
    """
    keras.utils.set_random_seed(0)
    E, D, G = build_dgp_networks(PRESETS[resolution])
    for var in G.synthesis.weights:
        if var.path.endswith("noise_strength"):
            var.assign(noise_strength)
    return E, D, G


def bench_phases(projector, n):
    """Time ``encode`` and the three phases of one projector.

    Returns:
        dict name -> (first call s, median s per step), names ``encode`` and ``PHASES``.
    """
    out = {"encode": time_calls(projector.encode, min(n, 3))}
    projected = None
    for phase in PHASES:
        t0 = time.perf_counter()
        projector.start_phase(phase, projected)
        _, image = projector.step()
        first_s = time.perf_counter() - t0
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            _, image = projector.step()
            times.append(time.perf_counter() - t0)
        out[phase] = (first_s, statistics.median(times))
        if phase == "projection":
            projected = image
    return out


def component_fns(G, D, vgg, attr, inputs):
    """Forward+backward functions of the networks in a projection step, with their inputs.

    Returns:
        dict name -> (function, argument); each function returns the gradient of a scalar
        loss on the network's output w.r.t. its argument (W+ for G, the image otherwise).
    """
    syn = G.synthesis
    noise = list(syn.noise_vars)
    x = tf.constant(inputs.x)
    mask = tf.constant(inputs.pixel_mask[None, :, :, None])
    vgg_target = vgg(losses.vgg_input(x, mask))
    attr_target = attr(losses.attr_input(x, mask))
    wp = tf.random.normal([1, syn.num_ws, syn.w_dim])
    image = syn(wp, noise=noise)

    def grad(loss_fn):
        def fn(arg):
            with tf.GradientTape() as tape:
                tape.watch(arg)
                loss = loss_fn(arg)
            return tape.gradient(loss, arg)
        return fn

    return {
        "G forward": (lambda wp: syn(wp, noise=noise), wp),
        "G": (grad(lambda wp: tf.reduce_mean(tf.square(syn(wp, noise=noise)))), wp),
        "D": (grad(lambda img: losses.adversarial(D, img)), image),
        "VGG16": (grad(lambda img: tf.reduce_mean(tf.square(
            vgg_target - vgg(losses.vgg_input(img, mask))))), image),
        "ResNet101": (grad(lambda img: tf.reduce_sum(tf.square(
            attr_target - attr(losses.attr_input(img, mask))))), image),
    }


def bench_components(fns, jit_compile, n):
    """Time each function of :func:`component_fns` compiled one way.

    Returns:
        dict name -> (first call s, median s).
    """
    out = {}
    for name, (fn, arg) in fns.items():
        f = tf.function(fn, jit_compile=jit_compile)
        out[name] = time_calls(lambda f=f, arg=arg: f(arg).numpy(), n)
    return out


def peak_rss_gib():
    """Peak resident memory of this process so far, GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def bench_resolution(resolution, n, modes, components, data):
    """All measurements at one resolution.

    Returns:
        dict with ``phases`` and ``components`` (mode -> dict name -> (first, median)),
        ``flops`` (executed, DESIGN.md-count forward FLOPs of G's 3x3 convs), ``data``
        (where the pair came from) and ``rss`` (peak GiB so far).
    """
    with tempfile.TemporaryDirectory() as tmp:
        inputs, source = load_pair(data, resolution, tmp)
    E, D, G = networks(resolution)
    vgg, attr = VGG16Features(resolution), AttributeFeatures()
    result = {"phases": {}, "components": {}, "data": source,
              "flops": bench_stylegan2.conv_flops(G.synthesis)}
    for mode in modes:
        projector = DGPProjector(G.synthesis, D, E, inputs, vgg=vgg, attr=attr,
                                 jit_compile=MODES[mode])
        result["phases"][mode] = bench_phases(projector, n)
        del projector
        gc.collect()
        if components:
            fns = component_fns(G, D, vgg, attr, inputs)
            result["components"][mode] = bench_components(fns, MODES[mode], n)
    result["rss"] = peak_rss_gib()
    return result


def _fmt_s(seconds):
    return "-" if seconds is None else f"{seconds:.3f}"


def print_phases(results, modes):
    """Table 1: first call and s/step of each phase per mode, and the XLA speed-up."""
    cols = " | ".join(f"{MODE_NAMES[m]} first s | {MODE_NAMES[m]} s/step" for m in modes)
    both = len(modes) == 2
    print(f"| res | phase | N | {cols} |" + (" XLA speed-up |" if both else ""))
    print("|---|---|---|" + "---|---|" * len(modes) + ("---|" if both else ""))
    for res, (n, r) in results.items():
        for name in ("encode", *PHASES):
            cells = " | ".join(f"{r['phases'][m][name][0]:.2f} | {r['phases'][m][name][1]:.3f}"
                               for m in modes)
            speed = ""
            if both:
                speed = (f" {r['phases']['function'][name][1] / r['phases']['xla'][name][1]:.2f}x"
                         " |")
            steps = min(n, 3) if name == "encode" else n
            print(f"| {res} | {name} | {steps} | {cells} |{speed}")


def print_components(results, modes):
    """Table 2: forward+backward of each network vs the measured projection step."""
    cols = " | ".join(f"{MODE_NAMES[m]} first s | {MODE_NAMES[m]} s | {MODE_NAMES[m]} %"
                      for m in modes)
    print(f"| res | part | {cols} |")
    print("|---|---|" + "---|---|---|" * len(modes))
    parts = ("G", "D", "VGG16", "ResNet101")
    labels = {"G": "G synthesis (d/dW+)", "D": "D (d/dimage)",
              "VGG16": "VGG16 conv4_3 @R (d/dimage)",
              "ResNet101": "ResNet101 @331 + resize (d/dimage)"}
    for res, (_, r) in results.items():
        comp = r["components"]
        total = {m: sum(comp[m][p][1] for p in parts) for m in modes}
        for p in parts:
            cells = " | ".join(f"{comp[m][p][0]:.2f} | {comp[m][p][1]:.3f} | "
                               f"{comp[m][p][1] / total[m]:.0%}" for m in modes)
            print(f"| {res} | {labels[p]} | {cells} |")
        step = {m: r["phases"][m]["projection"][1] for m in modes}
        rows = (("sum of the four", total),
                ("measured projection step", step),
                ("rest (Adam, pixel loss, glue)", {m: step[m] - total[m] for m in modes}))
        for label, secs in rows:
            cells = " | ".join(f"- | {secs[m]:.3f} | {secs[m] / total[m]:.0%}" for m in modes)
            print(f"| {res} | {label} | {cells} |")
        fwd = " | ".join(f"{comp[m]['G forward'][0]:.2f} | {comp[m]['G forward'][1]:.3f} | -"
                         for m in modes)
        print(f"| {res} | (G forward only, not in the sum) | {fwd} |")


def print_ratios(results, modes, peak):
    """Table 3: G vs PyTorch, fraction of matmul peak, estimated default DGP run."""
    print("| res | mode | G pass | s | ours / PyTorch | GFLOP executed | GFLOP/s | of peak |")
    print("|---|---|---|---|---|---|---|---|")
    for res, (_, r) in results.items():
        executed, _ = r["flops"]
        for m in modes:
            for label, key, mult in (("forward", "G forward", 1), ("forward+backward", "G", 2)):
                t = r["components"][m][key][1]
                torch = f"{t / TORCH_G_512[label]:.2f}" if res == 512 else "-"
                flops = mult * executed
                print(f"| {res} | {MODE_NAMES[m]} | {label} | {t:.3f} | {torch} | "
                      f"{flops / 1e9:.0f} | {flops / t / 1e9:.0f} | {flops / t / 1e9 / peak:.0%} |")
    print()
    for res, (_, r) in results.items():
        executed, design = r["flops"]
        t = {m: r["components"][m]["G"][1] for m in modes}
        design_rate = ", ".join(f"{MODE_NAMES[m]} {3 * design / t[m] / 1e9:.0f} GFLOP/s "
                                f"({3 * design / t[m] / 1e9 / peak:.0%})" for m in modes)
        print(f"{res} px G: {executed / 1e9:.1f} GFLOP forward executed in the 3x3 convs "
              f"(transposed Conv0_up at its input size; ToRGB, FIR, modulation not counted), "
              f"2x that forward+backward w.r.t. W+ (data gradients only). DESIGN.md's count "
              f"(output size for Conv0_up, 3x for forward+backward): {design / 1e9:.1f} / "
              f"{3 * design / 1e9:.0f} GFLOP, which would mean forward+backward at "
              f"{design_rate} of peak.")
    if 512 in results:
        print(f"PyTorch reference (DESIGN.md, stylegan2-ada-pytorch reference ops, 2 threads, "
              f"this machine, 512 px): {TORCH_G_512['forward']} s forward, "
              f"{TORCH_G_512['forward+backward']} s forward+backward.")


def print_estimates(results, modes):
    """Table 4: DGP's default run (10 + 1000 + 1500 steps) from the measured s/step."""
    steps = " + ".join(str(v) for v in DGP_STEPS.values())
    print(f"| res | mode | est. default run ({steps} steps) | of which compile (first calls) |")
    print("|---|---|---|---|")
    for res, (_, r) in results.items():
        for m in modes:
            ph = r["phases"][m]
            run = sum(DGP_STEPS[p] * ph[p][1] for p in PHASES)
            compile_s = sum(ph[p][0] - ph[p][1] for p in (*PHASES, "encode"))
            print(f"| {res} | {MODE_NAMES[m]} | {run / 3600:.2f} h ({run / 60:.0f} min) | "
                  f"{compile_s:.0f} s |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resolutions", default="256,512",
                   help="comma-separated, from 32 (tiny_32), 256, 512")
    p.add_argument("--steps", type=int, default=None,
                   help="timed steps per phase and component (default 8 at 256, 5 at 512)")
    p.add_argument("--modes", default="xla,function",
                   help="comma-separated: xla (jit_compile=True), function (plain tf.function)")
    p.add_argument("--no_xla", action="store_true", help="same as --modes function")
    p.add_argument("--no_components", action="store_true",
                   help="skip the per-network split and the G ratios")
    p.add_argument("--data", default=DATA,
                   help="DGP sample folder with cloth_1/ and model_info/ (else procedural)")
    args = p.parse_args()
    modes = ["function"] if args.no_xla else args.modes.split(",")
    if not modes or any(m not in MODES for m in modes):
        p.error(f"--modes: choose from {list(MODES)}")
    resolutions = [int(r) for r in args.resolutions.split(",")]
    if any(r not in PRESETS for r in resolutions):
        p.error(f"--resolutions: choose from {sorted(PRESETS)}")

    tf.get_logger().setLevel("ERROR")  # no retracing warnings: each projector is new
    start = time.perf_counter()
    load = os.getloadavg()[0]
    peak, how = bench_stylegan2.matmul_peak()
    print("# DGP optimisation speed (batch 1, float32, random weights)\n")
    print(machine())
    print(f"float32 matmul peak ({how}; this run): {peak:.0f} GFLOP/s; "
          f"1-min load average before it: {load:.2f}\n", flush=True)
    results = {}
    for res in resolutions:
        n = args.steps or DEFAULT_STEPS.get(res, 5)
        t0 = time.perf_counter()
        results[res] = (n, bench_resolution(res, n, modes, not args.no_components, args.data))
        r = results[res][1]
        print(f"{res} px ({PRESETS[res]}): measured in {time.perf_counter() - t0:.0f} s; "
              f"pair: {r['data']}; peak RSS so far {r['rss']:.1f} GiB",
              flush=True)
    print("\n## Seconds per step (first = trace + compile + one step; s/step = median of N)\n")
    print_phases(results, modes)
    if not args.no_components:
        print("\n## Projection step by network (forward+backward, median of N; % of the sum)\n")
        print_components(results, modes)
        print("\nrest = measured step - sum of the parts timed alone (Adam, the pixel loss, "
              "glue); it is negative where the fused step costs less than its parts alone.")
        print("\n## G against PyTorch and the matmul peak\n")
        print_ratios(results, modes, peak)
    print("\n## Estimated DGP default run\n")
    print_estimates(results, modes)
    end_peak, _ = bench_stylegan2.matmul_peak()
    print(f"\ntotal benchmark time {time.perf_counter() - start:.0f} s; peak RSS "
          f"{peak_rss_gib():.1f} GiB; matmul peak again at the end: {end_peak:.0f} GFLOP/s "
          f"(start {peak:.0f}); 1-min load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
