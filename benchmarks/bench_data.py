"""DPIG data speed: converters (records/s) and the tf.data reader (pairs/s) against the
JPEG-decoding ceiling, on synthetic people.

    python benchmarks/bench_data.py [--identities 4] [--poses 4] [--workers 1,2] [--passes 3]

Writes a DeepFashion-like (256x256) and a Market-like (128x64) raw layout with
``tfposegen.data.synthetic_persons`` into a temporary folder, converts the train split
(flipped + plain folders) with ``tfposegen.data.dpig_convert`` once per worker count, then
times ``tfposegen.data.dpig_pipeline.dpig_dataset`` (one pass, batch 8, no shuffling, best
of ``--passes`` after a warm-up pass; with the pose heat-maps built in the pipeline and
without them) and, as the ceiling in the same process, a ``tf.data``
pass that only decodes the two JPEGs of every pair (``tf.io.decode_jpeg`` on the files'
bytes held in memory). Prints markdown tables; the ratio is reader / ceiling. Record sizes
are printed too: DF records carry ``roi10_mask`` (2 x 655,360 int64), which dominates
conversion and reading time. The load average is printed at the start and the end since
other work on the machine slows everything.
"""

import argparse
import os
import pathlib
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf

from tfposegen.data import dpig_convert as C
from tfposegen.data import synthetic_persons as S
from tfposegen.data.dpig_pipeline import dpig_dataset

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
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    print("# DPIG data speed (synthetic people, train split: flipped + plain folders)\n")
    print(f"{os.cpu_count()} cores; TensorFlow {tf.__version__}; load average at start "
          f"{os.getloadavg()[0]:.2f}\n")
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


if __name__ == "__main__":
    main()
