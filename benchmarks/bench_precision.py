"""float32 against mixed bfloat16 (``--precision mixed_bfloat16``): speed, DGP image quality
and training losses, side by side in one process.

    python benchmarks/bench_precision.py [--resolutions 256[,512]] [--steps N]
                                         [--quality_steps N] [--train_steps N] [--data DIR]
                                         [--compile xla|function] [--json PATH]

For each resolution (256: ``config_f_256``, 512: ``dgp_512``; 32: ``tiny_32`` for smoke runs)
and each precision (the Keras global policy set with ``tfposegen.train.precision`` before the
networks are built; random weights, seeded identically, so both precisions hold the same
float32 values), all compiled with XLA as ``benchmarks/bench_dgp.py`` (whose helpers this
imports), or with ``--compile function`` as plain ``tf.function`` graphs (TensorFlow's own
kernels: oneDNN's where TF enables it, on CPUs with AVX512_VNNI / AVX512_BF16 / AMX):

1. speed: seconds per call (median of ``--steps``) of each network forward+backward - G
   synthesis (d/dW+), D, VGG16 ``block4_conv3`` and ResNet101 @331 (d/dimage, as in
   ``bench_dgp.py``), the DGP encoder (d/dweights, as its trainer) - and of each DGP step
   (projection with the VGG16 and attribute terms, semantic search, pattern search); the
   ratio is bf16 time / float32 time (below 1: bfloat16 pays);
2. quality: a short DGP run (encode, then ``--quality_steps`` steps per phase) in both
   precisions on the same sample pair (``bench_dgp.load_pair``: the shipped sample under
   ``../shared/data/dgp/model_1`` when present, else a procedural pair); PSNR of every
   phase's image in bfloat16 against float32 ([-1, 1] images, peak-to-peak 2);
3. training: ``--train_steps`` steps of the tiny ADGAN and StyleGAN2 (``tiny_32``) trainers
   on fixed synthetic data from the same seed in both precisions: the losses after the last
   step, their relative difference, and seconds per step.

Prints the CPU's bfloat16-relevant flags: without ``avx512_bf16`` / ``amx_bf16`` the CPU has
no bfloat16 arithmetic, TensorFlow and XLA emulate it (convert to float32 and back), and
bfloat16 is expected to be *slower* there; it pays on GPUs with bfloat16 tensor cores
(Ampere and later) and TPUs. ``--json PATH`` writes the figures as ``bench_data.py`` does.
"""

import argparse
import json
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import bench_dgp  # this script's folder is first on sys.path
import keras
import numpy as np
import tensorflow as tf

from tfposegen.models.dgp.perceptual import AttributeFeatures, VGG16Features
from tfposegen.models.dgp.project import PHASES, DGPProjector
from tfposegen.train.precision import PRECISIONS, precision_scope

FP32, BF16 = PRECISIONS
MODES = {"xla": "XLA", "function": "tf.function"}
NETWORKS = ("G", "D", "encoder", "VGG16", "ResNet101")
LABELS = {"G": "G synthesis (d/dW+)", "D": "D (d/dimage)",
          "encoder": "DGP encoder (d/dweights)", "VGG16": "VGG16 conv4_3 @R (d/dimage)",
          "ResNet101": "ResNet101 @331 + resize (d/dimage)"}
BF16_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_flags():
    """(the CPU's bfloat16-relevant flags present, the full flags line of /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            line = next(ln for ln in f if ln.startswith("flags"))
    except (OSError, StopIteration):
        return [], ""
    flags = line.split(":", 1)[1].split()
    return [f for f in BF16_FLAGS if f in flags], line.strip()


def psnr(a, b, peak=2.0):
    """PSNR in dB of two arrays of the same shape ([-1, 1] images: peak-to-peak 2)."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def encoder_fn(E, inputs):
    """Forward+backward of the encoder w.r.t. its trainable weights (as its trainer)."""
    x = tf.constant(inputs.x)

    def fn(image):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(E(image, training=False)))
        return tape.gradient(loss, E.trainable_weights)[0]
    return fn, x


def bench_precision_resolution(precision, resolution, inputs, n, quality_steps,
                               jit_compile=True):
    """Speed and the short-run images of one precision at one resolution.

    Returns:
        dict with ``components`` (name -> (first s, median s)), ``phases`` (``encode`` and
        ``PHASES`` -> (first s, median s)), ``images`` (``encoder`` and ``PHASES`` -> numpy
        [1, R, R, 3]), ``dtypes`` (compute / variable dtype of G) and ``first_weight`` (a
        checksum of G's initial weights, equal across precisions).
    """
    with precision_scope(precision):
        E, D, G = bench_dgp.networks(resolution)
        vgg, attr = VGG16Features(resolution), AttributeFeatures()
        out = {"dtypes": [G.synthesis.compute_dtype, G.synthesis.variable_dtype],
               "first_weight": float(np.sum(G.synthesis.weights[-1].numpy()))}
        # quality first (fresh networks, as the DGP run script): encode + a few steps each
        projector = DGPProjector(G.synthesis, D, E, inputs, vgg=vgg, attr=attr,
                                 jit_compile=jit_compile, precision=precision)
        images = {"encoder": projector.encode()}
        projected = None
        for phase in PHASES:
            projector.start_phase(phase, projected)
            for _ in range(quality_steps):
                projector.step()
            images[phase] = projector.render()
            if phase == "projection":  # both searches compare against the projection's image
                projected = images[phase]
        out["images"] = images
        out["phases"] = bench_dgp.bench_phases(projector, n)
        del projector
        fns = bench_dgp.component_fns(G, D, vgg, attr, inputs)
        fns = {k: fns[k] for k in ("G", "D", "VGG16", "ResNet101")}
        fns["encoder"] = encoder_fn(E, inputs)
        out["components"] = bench_dgp.bench_components(fns, jit_compile, n)
    return out


def _adgan_setup():
    from tfposegen.models.adgan import presets
    from tfposegen.models.adgan import train as T
    from tfposegen.models.adgan.discriminators import ResnetDiscriminator
    from tfposegen.models.adgan.networks import ADGen, parsing_one_hot

    rng = np.random.default_rng(0)
    h = w = 16
    pose = np.zeros((2, h, w, 18), np.float32)
    pose[0, 3, 4, 0] = pose[1, 9, 12, 1] = pose[1, 5, 5, 4] = 1
    batch = {"source_image": rng.uniform(-1, 1, (2, h, w, 3)).astype(np.float32),
             "target_image": rng.uniform(-1, 1, (2, h, w, 3)).astype(np.float32),
             "source_pose": pose[::-1].copy(), "target_pose": pose,
             "source_parse": np.asarray(parsing_one_hot(rng.integers(0, 8, (2, h, w))))}
    keras.utils.set_random_seed(0)
    nets = {"netG": ADGen(**presets.ADGEN_TINY),
            "netD_PB": ResnetDiscriminator(21, ndf=8, n_blocks=1, use_dropout=False),
            "netD_PP": ResnetDiscriminator(6, ndf=8, n_blocks=1, use_dropout=False)}
    trainer = T.ADGANTrainer(nets, T.make_loss_vggs(), batch_size=2)
    return lambda: trainer.train_step(batch)


def _stylegan2_setup():
    from tfposegen.models.stylegan2 import build_stylegan2
    from tfposegen.models.stylegan2.train import StyleGAN2Trainer

    keras.utils.set_random_seed(0)
    G, D = build_stylegan2("tiny_32")
    trainer = StyleGAN2Trainer(G, D, batch_size=4, g_reg_interval=2, d_reg_interval=2,
                               jit_compile=True)
    reals = tf.constant(np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)), tf.float32)
    return lambda: trainer.train_step(reals)


TRAINERS = {"ADGAN tiny (16x16, batch 2)": _adgan_setup,
            "StyleGAN2 tiny_32 (batch 4, XLA)": _stylegan2_setup}


def bench_training(steps):
    """Losses after ``steps`` steps per trainer and precision, and s/step after the first.

    Returns:
        dict trainer -> precision -> {"losses": dict, "first_s", "s_per_step",
        "finite": bool}.
    """
    out = {}
    for name, setup in TRAINERS.items():
        out[name] = {}
        for precision in PRECISIONS:
            with precision_scope(precision):
                step = setup()
                t0 = time.perf_counter()
                losses = step()
                first = time.perf_counter() - t0
                times = []
                for _ in range(steps - 1):
                    t0 = time.perf_counter()
                    losses = step()
                    times.append(time.perf_counter() - t0)
            losses = {k: float(v) for k, v in losses.items()}
            out[name][precision] = {
                "losses": losses, "first_s": first,
                "s_per_step": statistics.median(times) if times else None,
                "finite": all(np.isfinite(v) for v in losses.values())}
    return out


def print_speed(results, mode):
    print("| res | compiled | part | float32 s | bf16 s | bf16 / float32 time | float32 first s "
          "| bf16 first s |")
    print("|---|---|---|---|---|---|---|---|")
    for res, r in results.items():
        rows = [(LABELS[k], r[FP32]["components"][k], r[BF16]["components"][k])
                for k in NETWORKS]
        rows += [(f"DGP step: {p}", r[FP32]["phases"][p], r[BF16]["phases"][p])
                 for p in PHASES]
        rows.append(("DGP encode (forward only)", r[FP32]["phases"]["encode"],
                     r[BF16]["phases"]["encode"]))
        for label, f, b in rows:
            print(f"| {res} | {MODES[mode]} | {label} | {f[1]:.3f} | {b[1]:.3f} | "
                  f"{b[1] / f[1]:.2f} | {f[0]:.1f} | {b[0]:.1f} |")


def _parts(r):
    """(label, float32 part, bf16 part) of one resolution's results of one mode."""
    rows = [(LABELS[k], r[FP32]["components"][k], r[BF16]["components"][k]) for k in NETWORKS]
    return rows + [(f"DGP step: {p}", r[FP32]["phases"][p], r[BF16]["phases"][p])
                   for p in PHASES]


def print_cross(by_mode):
    """bfloat16 as plain tf.function graphs against float32 with XLA (each one's best
    compilation on an AMX CPU), same run."""
    print("| res | part | float32 XLA s | bf16 tf.function s | bf16 tf.function / float32 "
          "XLA time |")
    print("|---|---|---|---|---|")
    for res in by_mode["xla"]:
        for (label, f, _), (_, _, b) in zip(_parts(by_mode["xla"][res]),
                                            _parts(by_mode["function"][res])):
            print(f"| {res} | {label} | {f[1]:.3f} | {b[1]:.3f} | {b[1] / f[1]:.2f} |")


def speed_verdict(results, native):
    """Words on where bfloat16 pays, from the measured ratios."""
    faster, slower = [], []
    for res, r in results.items():
        for label, f, b in _parts(r):
            (faster if b[1] < f[1] else slower).append(f"{label} @{res} ({b[1] / f[1]:.2f})")
    words = ("bf16 / float32 time above 1 means bfloat16 is slower. "
             f"bf16 slower: {', '.join(slower) or 'none'}. "
             f"bf16 faster: {', '.join(faster) or 'none'}.")
    if not native:
        words += (" This CPU has no bfloat16 arithmetic (no avx512_bf16 / amx): bf16 ops are "
                  "emulated (converted to float32 and back), so a part that comes out faster "
                  "does so by moving less memory, within the noise of a few timed calls on a "
                  "shared machine; the DGP steps as a whole do not pay here. Expect a "
                  "speed-up on hardware with bfloat16 math (GPUs from Ampere on, TPUs, CPUs "
                  "with AVX512_BF16 / AMX).")
    return words


def print_quality(results, quality_steps, mode):
    print(f"| res | compiled | image (after {quality_steps} steps per phase) | PSNR bf16 vs "
          "float32 (dB) | max abs diff |")
    print("|---|---|---|---|---|")
    for res, r in results.items():
        for name in ("encoder", *PHASES):
            a, b = r[FP32]["images"][name], r[BF16]["images"][name]
            print(f"| {res} | {MODES[mode]} | {name} | {psnr(a, b):.1f} | "
                  f"{np.max(np.abs(a - b)):.3f} |")


def print_training(train, steps):
    print(f"| trainer | loss (after {steps} steps) | float32 | bf16 | relative diff |")
    print("|---|---|---|---|---|")
    for name, r in train.items():
        for k, v in r[FP32]["losses"].items():
            b = r[BF16]["losses"][k]
            rel = abs(b - v) / max(abs(v), 1e-12)
            print(f"| {name} | {k} | {v:.5g} | {b:.5g} | {rel:.1%} |")
        f, b = r[FP32]["s_per_step"], r[BF16]["s_per_step"]
        if f and b:
            print(f"| {name} | s/step (median after the first) | {f:.3f} | {b:.3f} | "
                  f"bf16 / float32 time {b / f:.2f} |")


def write_json(path, args, by_mode, train, flags_present, load):
    """The key figures and the raw timings as JSON (the layout of ``bench_data.py``)."""
    figures, raw = [], {"resolutions": {}, "training": train, "cpu_flags": flags_present}
    base = "float32, same run"
    for mode, res, r in ((m, res, r) for m, rs in by_mode.items() for res, r in rs.items()):
        mode = MODES[mode]
        for what, f, b in _parts(r):
            figures.append(dict(what=f"{what}, forward+backward, bf16", setting=f"{res} px, {mode}",
                                value=b[1], unit="s", ratio=f[1] / b[1], baseline=base))
        for name in ("encoder", *PHASES):
            figures.append(dict(
                what=f"DGP {name} image, bf16 vs float32",
                setting=f"{res} px, {mode}, {args.quality_steps} steps per phase",
                value=psnr(r[FP32]["images"][name], r[BF16]["images"][name]), unit="dB PSNR",
                ratio=None, baseline=None))
        raw["resolutions"][f"{res} {mode}"] = {
            p: {"components": r[p]["components"], "phases": r[p]["phases"],
                "dtypes": r[p]["dtypes"]} for p in PRECISIONS}
    for name, r in train.items():
        for k, v in r[FP32]["losses"].items():
            b = r[BF16]["losses"][k]
            figures.append(dict(what=f"{name} {k} after {args.train_steps} steps, bf16",
                                setting="same seed and data", value=b, unit="loss",
                                ratio=b / v if v else None, baseline=f"float32: {v:.6g}"))
    with open(path, "w") as f:
        json.dump(dict(benchmark="bench_precision", settings=vars(args), load=load,
                       figures=figures, raw=raw), f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--resolutions", default="256", help="comma-separated, from 32, 256, 512")
    p.add_argument("--steps", type=int, default=3, help="timed calls per network and phase")
    p.add_argument("--quality_steps", type=int, default=3,
                   help="steps per phase of the short DGP run compared for PSNR")
    p.add_argument("--train_steps", type=int, default=5, help="steps per tiny trainer")
    p.add_argument("--data", default=bench_dgp.DATA,
                   help="DGP sample folder with cloth_1/ and model_info/ (else procedural)")
    p.add_argument("--compile", default="xla", choices=["xla", "function", "both"],
                   help="networks and DGP steps as XLA (jit_compile=True, DGP's default), "
                        "plain tf.function graphs, or both (adds bf16 tf.function against "
                        "float32 XLA)")
    p.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = p.parse_args()
    resolutions = [int(r) for r in args.resolutions.split(",")]
    if any(r not in bench_dgp.PRESETS for r in resolutions):
        p.error(f"--resolutions: choose from {sorted(bench_dgp.PRESETS)}")
    if min(args.steps, args.quality_steps, args.train_steps) < 1:
        p.error("--steps, --quality_steps and --train_steps must be >= 1")

    tf.get_logger().setLevel("ERROR")
    start = time.perf_counter()
    load = [os.getloadavg()[0]]
    present, line = cpu_flags()
    modes = ("xla", "function") if args.compile == "both" else (args.compile,)
    print(f"# float32 vs mixed bfloat16 (batch 1, random weights, "
          f"{' and '.join(MODES[m] for m in modes)})\n")
    print(bench_dgp.machine())
    print(f"CPU flags line: {line}")
    native = any(f in present for f in ("avx512_bf16", "amx_bf16"))
    print(f"bfloat16-relevant flags present: {', '.join(present) or 'none'} -> "
          + ("native bfloat16 dot products available" if native else
             "NO native bfloat16 arithmetic: TensorFlow/XLA emulate it through float32, so "
             "bfloat16 is expected to be slower here, not faster"))
    print(f"1-min load average at the start: {load[0]:.2f}\n", flush=True)

    by_mode = {}
    for mode in modes:
        results = by_mode[mode] = {}
        for res in resolutions:
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                inputs, source = bench_dgp.load_pair(args.data, res, tmp)
            results[res] = {}
            for precision in PRECISIONS:
                results[res][precision] = bench_precision_resolution(
                    precision, res, inputs, args.steps, args.quality_steps, mode == "xla")
                keras.backend.clear_session()
            same = results[res][FP32]["first_weight"] == results[res][BF16]["first_weight"]
            print(f"{res} px ({bench_dgp.PRESETS[res]}), {MODES[mode]}: measured in "
                  f"{time.perf_counter() - t0:.0f} s; pair: {source}; G compute/variable "
                  f"dtypes {results[res][FP32]['dtypes']} vs {results[res][BF16]['dtypes']}; "
                  f"same initial weights in both precisions: {same}", flush=True)
    t0 = time.perf_counter()
    train = bench_training(args.train_steps)
    print(f"training comparison measured in {time.perf_counter() - t0:.0f} s", flush=True)

    for mode, results in by_mode.items():
        print(f"\n## Speed, {MODES[mode]}: seconds per call, median of N (forward+backward; "
              "DGP steps include Adam; a DGP step's first call was compiled earlier, by the "
              "quality run)\n")
        print_speed(results, mode)
        print("\n" + speed_verdict(results, native))
        print(f"\n## Quality, {MODES[mode]}: DGP images in bf16 against float32 (same pair, "
              "same weights)\n")
        print_quality(results, args.quality_steps, mode)
    if len(by_mode) == 2:
        print("\n## bfloat16 as plain tf.function graphs against float32 with XLA (same run)\n")
        print_cross(by_mode)
    print("\n## Training: losses after N steps, same seed and data\n")
    print_training(train, args.train_steps)
    finite = all(r[p]["finite"] for r in train.values() for p in PRECISIONS)
    print(f"\nall training losses finite: {finite}")
    load.append(os.getloadavg()[0])
    print(f"\ntotal benchmark time {time.perf_counter() - start:.0f} s; 1-min load average at "
          f"the end: {load[1]:.2f}")
    if args.json:
        write_json(args.json, args, by_mode, train, present, load)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
