"""One benchmark report: run every benchmark of this folder and gather their figures.

    python benchmarks/report.py [--quick]

Runs ``bench_stylegan2.py``, ``bench_dgp.py``, ``bench_data.py``, ``bench_precision.py``,
``bench_train.py``, ``bench_websvc.py`` and, given ``--torch_python``, ``torch_baseline.py``
(PyTorch: NVlabs' StyleGAN2 from the user's checkout, torchvision VGG16 / ResNet101) one
after the other (each in its own process, so they do not slow each other), reads the
markdown tables they print, and writes ``benchmarks/README.md`` atomically: the machine
(CPU, cores, memory, TensorFlow and Keras versions, date, load average before and after),
one table with the key figure of every benchmark and its ratio to the baseline measured
side by side in the same run (eager execution, a plain ``tf.function``, the machine's
matmul peak, the JPEG-decoding ceiling, Keras' Adam, the web service's work called
in-process), then every benchmark's own output. ``--quick`` runs smaller settings (256 px
only, fewer steps and records).
"""

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

RUNS = {  # name -> (script, full arguments, quick arguments)
    "StyleGAN2 synthesis": ("bench_stylegan2.py", ["--resolutions", "256,512"],
                            ["--resolutions", "256", "--reps", "1"]),
    "DGP phases": ("bench_dgp.py", ["--no_components"],
                   ["--resolutions", "256", "--steps", "2", "--no_components"]),
    "DPIG data": ("bench_data.py", ["--workers", "1"],
                  ["--identities", "3", "--poses", "3", "--workers", "1", "--passes", "1",
                   "--pairs", "256", "--wait_steps", "1"]),
    "Precision": ("bench_precision.py", ["--resolutions", "256,512", "--compile", "both"],
                  ["--steps", "1", "--quality_steps", "2", "--train_steps", "3", "--compile",
                   "both"]),
    "Training start-up": ("bench_train.py", ["--systems", "dptn_tiny,dptn,stylegan2"],
                          ["--systems", "dptn_tiny,dptn", "--steps", "2"]),
    "PyTorch baseline": ("torch_baseline.py", ["--resolutions", "256,512"], ["--steps", "2"]),
    "Web service": ("bench_websvc.py", ["--requests", "48"], ["--requests", "16"]),
}


def tables(text):
    """Markdown tables of a benchmark's output: a list of lists of row dicts."""
    out, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif block:
            head, rows = block[0], [r for r in block[1:] if not set(r[0]) <= set("-: ")]
            out.append([dict(zip(head, r)) for r in rows])
            block = []
    return out


def summary(name, found, dgp_rows=()):
    """Key rows (benchmark, what, setting, figure, ratio to its baseline) of one benchmark
    (``dgp_rows``: the DGP phase rows of the same run, for the PyTorch comparison)."""
    rows = []
    flat = [r for t in found for r in t]
    if name == "StyleGAN2 synthesis":
        dilated = {(r["res"], r["pass"]): float(r["s/image"]) for r in flat
                   if r.get("mode") == "XLA, dilated-input convs"}
        for r in flat:
            if r.get("mode") == "XLA":
                before = dilated.get((r["res"], r["pass"]))
                forms = ("" if before is None else
                         f"; {float(r['s/image']) / before:.2f}x the time with XLA's "
                         "dilated-input up-convs")
                rows.append((name, f"config-f synthesis, {r['pass']}, XLA", f"{r['res']} px, "
                             "batch 1", f"{r['s/image']} s/image",
                             f"{r['vs eager']} vs eager; {r['of peak']} of matmul peak{forms}"))
    elif name == "DGP phases":
        for r in flat:
            if "XLA s/step" in r:
                rows.append((name, f"{r['phase']} step, XLA", f"{r['res']} px, batch 1",
                             f"{r['XLA s/step']} s/step",
                             f"{r['XLA speed-up']} vs plain tf.function"))
    elif name == "DPIG data":
        for r in flat:
            if "reader / ceiling" in r:
                cache = (f" / {r['cached in memory']} cached in memory"
                         if r["cached in memory"] != "-" else "")
                rows.append((name, f"tf.data reader as main.py trains, {r['record fields']}-"
                             "field records", f"{r['data']}, batch 8",
                             f"{r['reader as main.py trains']}{cache} pairs/s",
                             f"{r['reader / ceiling']} of the JPEG-decoding ceiling; "
                             f"{r['reader / bytes only']} of reading the bytes alone"))
            if "input-wait fraction" in r:
                rows.append((name, f"DPIG model {r['model']} training step", f"{r['data']}, "
                             f"batch {r['batch']}", f"{r['s/step reading the records']} s/step",
                             f"{r['input-wait fraction']} of it waiting for input"))
    elif name == "Precision":
        for r in flat:
            if "bf16 / float32 time" in r:
                rows.append((name, f"{r['part']}, mixed_bfloat16, {r['compiled']}",
                             f"{r['res']} px", f"{r['bf16 s']} s",
                             f"{r['bf16 / float32 time']}x the float32 time"))
            cross = r.get("bf16 tf.function / float32 XLA time")
            if cross:
                rows.append((name, f"{r['part']}, mixed_bfloat16 tf.function against float32 "
                             "XLA", f"{r['res']} px", f"{r['bf16 tf.function s']} / "
                             f"{r['float32 XLA s']} s", f"{cross}x the float32 XLA time"))
            key = next((k for k in r if k.startswith("PSNR")), None)
            image = next((v for k, v in r.items() if k.startswith("image")), None)
            if key and image == "pattern_search":
                rows.append((name, f"final DGP image, mixed_bfloat16, {r['compiled']}",
                             f"{r['res']} px", f"{r[key]} dB PSNR", "against the float32 run"))
    elif name == "PyTorch baseline":
        ours = {(r["res"], r["phase"]): r["XLA s/step"] for r in dgp_rows if "XLA s/step" in r}
        for r in flat:
            if (r.get("res"), r.get("phase")) in ours and "s/step" in r:
                mine = ours[r["res"], r["phase"]]
                rows.append((name, f"DGP {r['phase']} step, ours (XLA) / NVlabs + torchvision",
                             f"{r['res']} px, batch 1, float32", f"{mine} / {r['s/step']} s",
                             f"ours {float(r['s/step']) / float(mine):.2f}x as fast"))
    elif name == "Training start-up":
        for r in flat:
            if "first fused / Keras" in r:
                rows.append((name, "first training step (trace, graph optimisation, run), "
                             "fused Adam", r["system"], f"{r['first step fused (s)']} s",
                             f"{r['first fused / Keras']}x the time with Keras' Adam; "
                             f"later steps {r['step fused / Keras']}x"))
            elif "tracing share" in r:
                rows.append((name, "where the first step goes, fused Adam", r["system"],
                             f"{r['tracing (s)']} s tracing of {r['first step (s)']} s",
                             f"{r['tracing share']} tracing, {r['graph optimisation share']} "
                             "graph optimisation (grappler)"))
    elif name == "Web service":
        for r in flat:
            if "p50 ms" in r:
                rows.append((name, "POST /api/pose_transfer on loopback, p50 / p95",
                             f"ADGAN demo 64x44, concurrency {r['concurrency']}",
                             f"{r['p50 ms']} / {r['p95 ms']} ms, {r['requests/s']} requests/s",
                             f"{r['p50 vs in-process']} the in-process latency; "
                             f"{r['requests/s vs in-process']} of its throughput"))
    return rows


def machine():
    """Lines describing this machine and its software."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
        with open("/proc/meminfo") as f:
            mem = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        memory = f"{mem / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown memory"
    return (f"{cpu}, {os.cpu_count()} cores, {memory}; Python {platform.python_version()}, "
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller settings (256 px, fewer steps)")
    p.add_argument("--out", default=os.path.join(HERE, "README.md"))
    p.add_argument("--torch_python", default=os.environ.get("TORCH_PYTHON"),
                   help="a Python with torch + torchvision (and STYLEGAN2_ADA_PYTORCH set to a "
                   "checkout of NVlabs/stylegan2-ada-pytorch) for the PyTorch baseline; "
                   "without it that run is left out")
    args = p.parse_args()
    from tfposegen.utils.files import atomic_path

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    load_start = os.getloadavg()[0]
    started = datetime.datetime.now()
    outputs, rows = {}, []
    for name, (script, full, quick) in RUNS.items():
        python = args.torch_python if script == "torch_baseline.py" else sys.executable
        if not python:
            continue
        cmd = [python, os.path.join(HERE, script), *(quick if args.quick else full)]
        print(f"report.py: {' '.join(cmd[1:])}", flush=True)
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        text = re.sub(r"(?m)^(WARNING: All log|I0000|E0000|W0000).*\n", "", r.stdout)
        text = re.sub(r"(?m)^(#+) ", r"\1## ", text)  # its headings below this report's
        if r.returncode:
            text += f"\n(failed, exit status {r.returncode}: {r.stderr.strip()[-500:]})\n"
        outputs[name] = (cmd, text)
        dgp = [r for t in tables(outputs.get("DGP phases", (None, ""))[1]) for r in t]
        rows += summary(name, tables(text), dgp)
    minutes = (datetime.datetime.now() - started).total_seconds() / 60
    lines = [
        "# Benchmarks",
        "",
        f"Regenerate: `python benchmarks/report.py{' --quick' if args.quick else ''}` "
        f"({'quick' if args.quick else 'full'} settings; took {minutes:.0f} min).",
        "",
        f"Machine: {machine()}. Run {started:%Y-%m-%d %H:%M}; 1-min load average "
        f"{load_start:.2f} before, {os.getloadavg()[0]:.2f} after (other work on the machine "
        "slows every figure; ratios are taken within one run, side by side).",
        "",
        "| benchmark | what | setting | figure | ratio to the baseline of the same run |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
    ]
    for name, (cmd, text) in outputs.items():
        lines += [f"## {name}", "", f"`python benchmarks/{' '.join(cmd[1:]).split('/')[-1]}`",
                  "", text.strip(), ""]
    with atomic_path(args.out) as tmp, open(tmp, "w") as f:
        f.write("\n".join(lines))
    print(f"report.py: wrote {args.out} ({len(rows)} summary rows)")


if __name__ == "__main__":
    main()
