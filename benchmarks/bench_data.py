"""DPIG data speed: converters (records/s) and the tf.data reader (pairs/s) against the
JPEG-decoding ceiling, on synthetic people.

    python benchmarks/bench_data.py [--identities 4] [--poses 4] [--workers 1,2] [--passes 3]
                                    [--json PATH]

Writes a DeepFashion-like (256x256) and a Market-like (128x64) raw layout with
``tfposegen.data.synthetic_persons`` into a temporary folder, converts the train split
(flipped + plain folders) with ``tfposegen.models.dpig.convert`` once per worker count, then
times ``tfposegen.models.dpig.pipeline.dpig_dataset`` (one pass, batch 8, no shuffling, best
of ``--passes`` after a warm-up pass; with the pose heat-maps built in the pipeline and
without them) and, as the ceiling in the same process, a ``tf.data``
pass that only decodes the two JPEGs of every pair (``tf.io.decode_jpeg`` on the files'
bytes held in memory). Prints markdown tables; the ratio is reader / ceiling. Record sizes
are printed too: DF records carry ``roi10_mask`` (2 x 655,360 int64), which dominates
conversion and reading time. The load average is printed at the start and the end since
other work on the machine slows everything. ``--json PATH`` also writes the figures as JSON
(``benchmarks/report.py`` collects them).
"""

import argparse
import json
import os
import pathlib
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf

from tfposegen.data import synthetic_persons as S
from tfposegen.models.dpig import convert as C
from tfposegen.models.dpig.pipeline import dpig_dataset

LAYOUTS = {"DF": (S.write_df_layout, C.plan_df, (256, 256)),
           "Market": (S.write_market_layout, C.plan_market, (128, 64))}



def _timeit(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_convert(name, root, workers):
    """{workers: (records, seconds)} converting the train split afresh each time."""
    _, plan_fn, _ = LAYOUTS[name]
    out = {}
    for n in workers:
        plan = plan_fn(str(root), "train")._replace(out_dir=str(root / f"out_w{n}"))
        t = time.perf_counter()
        result = C.write_plan(plan, num_workers=n, verbose=False)
        out[n] = (result["records"], time.perf_counter() - t)
    return out


def _count(ds):
    return ds.reduce(tf.constant(0, tf.int64), lambda n, b: n + tf.shape(
        tf.nest.flatten(b)[0], out_type=tf.int64)[0]).numpy()


def bench_reader(name, records_dir, passes, heatmaps):
    """(pairs, best seconds) of one pass of the DPIG reader."""
    ds = dpig_dataset(str(records_dir), name, batch_size=8, shuffle=False, repeat=False,
                      drop_remainder=False, heatmaps=heatmaps)
    pairs = _count(ds)
    return pairs, min(_timeit(lambda: _count(ds)) for _ in range(passes))


def bench_decode(root, folders, pairs, passes):
    """(pairs, best seconds) decoding 2 JPEGs per pair from bytes in memory."""
    files = sorted(p for f in folders for p in (root / f).iterdir())
    data = [p.read_bytes() for p in files]
    data = (data * (2 * pairs // len(data) + 1))[:2 * pairs]
    ds = tf.data.Dataset.from_tensor_slices(data).map(
        lambda b: tf.io.decode_jpeg(b, channels=3), num_parallel_calls=tf.data.AUTOTUNE
    ).batch(16)
    _count(ds)
    return pairs, min(_timeit(lambda: _count(ds)) for _ in range(passes))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--identities", type=int, default=4)
    parser.add_argument("--poses", type=int, default=4)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the figures here as JSON")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    print("# DPIG data speed (synthetic people, train split: flipped + plain folders)\n")
    load_start = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores; TensorFlow {tf.__version__}; load average at start "
          f"{load_start:.2f}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (write, _, size) in LAYOUTS.items():
            root = pathlib.Path(tmp) / name
            layout = write(str(root), identities=args.identities, poses=args.poses)
            conv = bench_convert(name, root, workers)
            records_dir = root / f"out_w{workers[0]}"
            mb = sum(p.stat().st_size for p in records_dir.glob("*.tfrecord")) / 1e6
            pairs, t_read = bench_reader(name, records_dir, args.passes, True)
            _, t_rcv = bench_reader(name, records_dir, args.passes, False)
            train = [f for f in layout if "train" in f]
            _, t_dec = bench_decode(root, train, pairs, args.passes)
            rows.append((name, size, conv, pairs, mb, t_read, t_rcv, t_dec))
    print("| data | size | records | MB / record | " +
          " | ".join(f"convert, {n} worker(s), rec/s" for n in workers) +
          " | reader pairs/s (with heat-maps / without) | decode-only ceiling pairs/s | "
          "reader / ceiling (with / without) |")
    print("|---|---|---|---|" + "---|" * len(workers) + "---|---|---|")
    for name, (h, w), conv, pairs, mb, t_read, t_rcv, t_dec in rows:
        rates = " | ".join(f"{r / s:.1f}" for r, s in conv.values())
        print(f"| {name} | {h}x{w} | {pairs} | {mb / pairs:.2f} | {rates} | "
              f"{pairs / t_read:.0f} / {pairs / t_rcv:.0f} | {pairs / t_dec:.0f} | "
              f"{t_dec / t_read:.2f} / {t_dec / t_rcv:.2f} |")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        write_json(args.json, args, rows, workers, (load_start, os.getloadavg()[0]))


def write_json(path, args, rows, workers, load):
    """The key figures (see ``benchmarks/report.py``) and the raw timings as JSON."""
    figures, raw = [], []
    ceiling = "JPEG decode-only tf.data pass (same run)"
    for name, (h, w), conv, pairs, mb, t_read, t_rcv, t_dec in rows:
        setting = f"{name} {h}x{w}, {pairs} pairs, batch 8"
        figures += [
            dict(what="DPIG reader, pose heat-maps in the pipeline", setting=setting,
                 value=pairs / t_read, unit="pairs/s", ratio=t_dec / t_read, baseline=ceiling),
            dict(what="DPIG reader, no heat-maps", setting=setting, value=pairs / t_rcv,
                 unit="pairs/s", ratio=t_dec / t_rcv, baseline=ceiling)]
        one = conv[workers[0]][0] / conv[workers[0]][1]
        for n, (records, secs) in conv.items():
            figures.append(dict(
                what="record converter", setting=f"{name}, {n} worker(s), {mb / pairs:.2f} "
                "MB/record", value=records / secs, unit="records/s",
                ratio=None if n == workers[0] else records / secs / one,
                baseline=None if n == workers[0] else f"{workers[0]} worker(s)"))
        raw.append(dict(data=name, size=[h, w], pairs=int(pairs), mb=mb, read_s=t_read,
                        read_no_heatmaps_s=t_rcv, decode_s=t_dec,
                        convert={str(n): {"records": r, "s": t} for n, (r, t) in conv.items()}))
    with open(path, "w") as f:
        json.dump(dict(benchmark="bench_data", settings=vars(args), load=load,
                       figures=figures, raw=raw), f, indent=1)


if __name__ == "__main__":
    main()
