"""DPIG data speed: converters (records/s), the tf.data reader (pairs/s) against the
JPEG-decoding ceiling, and the share of a training step spent waiting for input.

    python benchmarks/bench_data.py [--identities 4] [--poses 4] [--workers 1,2] [--passes 3]
                                    [--pairs 1024] [--wait_steps 3] [--json PATH]

Writes a DeepFashion-like (256x256) and a Market-like (128x64) raw layout with
``tfposegen.data.synthetic_persons`` into a temporary folder and converts the train split
(flipped + plain folders) with ``tfposegen.models.dpig.convert`` once per worker count, in
each record format (``fields``): "all" (the original's schema: DF records carry
``roi10_mask``, 2 x 655,360 int64), "reader" (the fields the original readers parse) and
"keypoints" (no pose masks: the reader rebuilds them from the keypoints). Then, in one
process, best of ``--passes`` after a warm-up pass, ``--pairs`` pairs each:

1. per record format, ``tfposegen.models.dpig.pipeline.dpig_dataset`` as
   ``run_scripts/dpig/main.py`` trains on it (shuffled, repeating, batch 8; images and
   masks left uint8, the pose heat-maps - and the masks of keypoint-field records - left
   to the training step: ``heatmaps=False, uint8=True``) and with its defaults (float32,
   heat-maps and masks built in the reader), on "all" records also with the decoded
   records cached in memory; one iterator each, drained inside one graph after warm-up
   batches that fill its shuffle buffer; and the bytes alone (``TFRecordDataset``, no
   parsing): the bound of any reader of those files. The reader reads one file holding
   the converted records repeated (:func:`replicate`; up to 2 x ``--pairs`` records or
   256 MB) as a real dataset file holds thousands;
2. the heat-maps and the masks alone (``pose_heatmap`` / ``pose_mask`` in a
   ``tf.function``, batches of 8): the work the step takes over;
3. the ceiling: a ``tf.data`` pass that only decodes the two JPEGs of every pair
   (``tf.io.decode_jpeg`` on the files' bytes held in memory). The ratio is ceiling time /
   reader time.
4. the input wait of DPIG models 101 (DF, batch 6) and 1 (Market, batch 16) at the
   original's widths on keypoint-field records: seconds per training step reading from the
   reader, against the same steps on batches held in memory; the wait fraction is
   1 - held / fed.

The load average is printed at the start and the end since other work on the machine
slows everything. ``--json PATH`` also writes the figures as JSON (``benchmarks/report.py``
collects them).
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
from tfposegen.models.dpig.pipeline import dpig_dataset, frame_count
from tfposegen.pose.maps import pose_heatmap, pose_mask

LAYOUTS = {"DF": (S.write_df_layout, C.plan_df, (256, 256)),
           "Market": (S.write_market_layout, C.plan_market, (128, 64))}
WAIT_MODELS = {"DF": (101, 6), "Market": (1, 16)}  # run_DF_train.sh / run_market_train.sh



def _timeit(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_convert(name, root, workers, fields):
    """{workers: (records, seconds)} converting the train split afresh each time into
    ``<root>/<fields>_w<workers>``."""
    _, plan_fn, _ = LAYOUTS[name]
    out = {}
    for n in workers:
        plan = plan_fn(str(root), "train")._replace(out_dir=str(root / f"{fields}_w{n}"))
        t = time.perf_counter()
        result = C.write_plan(plan, num_workers=n, verbose=False, fields=fields)
        out[n] = (result["records"], time.perf_counter() - t)
    return out


def _count(ds):
    return ds.reduce(tf.constant(0, tf.int64), lambda n, b: n + tf.shape(
        tf.nest.flatten(b)[0], out_type=tf.int64)[0]).numpy()


def _drain(iterator, batches):
    """Take ``batches`` batches from ``iterator`` inside one graph (no Python per batch,
    as the decode-only ceiling is counted)."""
    def body(i):
        with tf.control_dependencies(tf.nest.flatten(iterator.get_next())):
            return i + 1
    return tf.while_loop(lambda i: i < batches, body, [tf.constant(0)])


def bench_reader(name, records_dir, batches, passes, **options):
    """(pairs, best seconds) of ``batches`` batches of 8 from one iterator of the DPIG
    reader, shuffled and repeating as training reads it, after warm-up batches that fill
    its shuffle buffer (as a training run does once)."""
    it = iter(dpig_dataset(str(records_dir), name, batch_size=8, seed=0, **options))
    drain = tf.function(_drain, autograph=False)
    drain(it, tf.constant(256 // 8 + 8))
    return batches * 8, min(_timeit(lambda: drain(it, tf.constant(batches)))
                            for _ in range(passes))


def replicate(records_dir, out_dir, records, budget=256e6):
    """One file holding the records of ``records_dir`` repeated up to ``records`` records
    or ``budget`` bytes (at least once): a real dataset file holds thousands of records,
    and the reader pays its per-file costs (opening, numbering, shuffling files) once per
    file and epoch, which a file of the few synthetic records would overstate."""
    files = sorted(records_dir.glob("*.tfrecord"))
    data = b"".join(p.read_bytes() for p in files)
    n = sum(frame_count(str(p))[0] for p in files)
    copies = max(1, min(-(-records // n), int(budget // len(data))))
    out_dir.mkdir()
    (out_dir / "data.tfrecord").write_bytes(data * copies)
    return n * copies


def bench_maps(name, pairs, passes, what):
    """Best seconds building the heat-maps (``pose_heatmap``) or the pose masks (the
    dataset's radii, ``pose_mask``) of ``pairs`` pairs (both images) in batches of 8 in a
    ``tf.function``: the work a training step does on its device when the reader leaves
    them out."""
    h, w = LAYOUTS[name][2]
    rcv = tf.round(tf.random.uniform([8, 18, 3], 0, min(h, w))) * \
        tf.constant([1.0, 1.0, 0.0]) + tf.constant([0.0, 0.0, 1.0])
    radii = (4, 7) if name == "Market" else (4,)

    def work(r):
        if what == "heat-maps":
            return tf.reduce_sum(pose_heatmap(r, h, w))
        return tf.add_n([tf.reduce_sum(pose_mask(r, h, w, radius)) for radius in radii])
    build = tf.function(work)
    build(rcv)
    calls = 2 * -(-pairs // 8)
    return min(_timeit(lambda: [build(rcv).numpy() for _ in range(calls)])
               for _ in range(passes))


def bench_bytes(records_dir, pairs, passes):
    """(pairs, best seconds) of only reading the records' bytes (``TFRecordDataset``,
    checksums included): what any reader of these files pays before parsing."""
    files = sorted(str(p) for p in records_dir.glob("*.tfrecord"))
    ds = tf.data.TFRecordDataset(files, buffer_size=1 << 22).repeat().take(pairs).batch(8)
    _count(ds)
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


def bench_wait(name, records_dir, model, batch_size, steps):
    """(s/step reading from the reader, s/step on batches held in memory) of DPIG model
    ``model`` (the original's widths and batch size) after a warm-up step; their
    difference is the time a step waits for input."""
    import keras

    from tfposegen.models.dpig import models as M
    from tfposegen.models.dpig import train as TR

    spec = M.get_spec(model)
    h, w = LAYOUTS[name][2]
    keras.utils.set_random_seed(0)
    trainer = TR.DPIGTrainer(spec, M.build_networks(spec, h, w), batch_size, 1e-5, 1e-5, 1000)
    ds = trainer.model_inputs(dpig_dataset(str(records_dir), name, batch_size, seed=0,
                                           heatmaps=False, uint8=True))  # as main.py
    data = iter(ds)
    held = [next(data) for _ in range(4)]
    trainer.train_step(data)
    trainer.train_step(data)  # the step > 0 functions traced too

    def run(it):
        t = time.perf_counter()
        for _ in range(steps):
            trainer.train_step(it)
        return (time.perf_counter() - t) / steps

    def cycle():
        while True:
            yield from held

    fed = run(data)
    return fed, run(cycle())


FORMATS = ("all", "reader", "keypoints")  # convert --fields


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--identities", type=int, default=4)
    parser.add_argument("--poses", type=int, default=4)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=1024, help="pairs read per timed pass")
    parser.add_argument("--wait_steps", type=int, default=3,
                        help="timed training steps per input-wait figure (0: skip them)")
    parser.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    batches = args.pairs // 8
    print("# DPIG data speed (synthetic people, train split: flipped + plain folders)\n")
    load_start = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores; TensorFlow {tf.__version__}; load average at start "
          f"{load_start:.2f}\n")
    rows, steps, waits = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (write, _, size) in LAYOUTS.items():
            root = pathlib.Path(tmp) / name
            layout = write(str(root), identities=args.identities, poses=args.poses)
            train = [f for f in layout if "train" in f]
            pairs, t_dec = bench_decode(root, train, args.pairs, args.passes)
            for fields in FORMATS:
                conv = bench_convert(name, root, workers, fields)
                records_dir = root / f"{fields}_w{workers[0]}"
                records = conv[workers[0]][0]
                mb = sum(p.stat().st_size for p in records_dir.glob("*.tfrecord")) / 1e6
                read_dir = root / f"{fields}_read"
                in_file = replicate(records_dir, read_dir, 2 * pairs)
                trains = dict(heatmaps=False, uint8=True)  # as run_scripts/dpig/main.py
                row = dict(data=name, size=size, fields=fields, conv=conv, records=records,
                           pairs=int(pairs), mb=mb / records, decode=t_dec, in_file=in_file,
                           bytes=bench_bytes(read_dir, pairs, args.passes)[1],
                           read=bench_reader(name, read_dir, batches, args.passes,
                                             **trains)[1],
                           heat=bench_reader(name, read_dir, batches, args.passes)[1])
                if fields == "all":
                    row["cache"] = bench_reader(name, read_dir, batches, args.passes,
                                                cache="memory", **trains)[1]
                rows.append(row)
            steps.append(dict(data=name, size=size, pairs=int(pairs),
                              maps=bench_maps(name, pairs, args.passes, "heat-maps"),
                              masks=bench_maps(name, pairs, args.passes, "masks")))
            if args.wait_steps:
                model, batch = WAIT_MODELS[name]
                fed, held = bench_wait(name, root / "keypoints_read", model, batch,
                                       args.wait_steps)
                waits.append(dict(data=name, size=size, model=model, batch=batch, fed=fed,
                                  held=held))
    print_tables(rows, steps, waits, workers)
    print(f"\nload average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        write_json(args.json, args, rows, waits, workers, (load_start, os.getloadavg()[0]))


def print_tables(rows, steps, waits, workers):
    """The markdown tables of the run."""
    print("## Converters\n")
    print("| data | size | records | record fields | MB / record | " +
          " | ".join(f"convert, {n} worker(s), rec/s" for n in workers) + " |")
    print("|---|---|---|---|---|" + "---|" * len(workers))
    for r in rows:
        rates = " | ".join(f"{n / t:.1f}" for n, t in r["conv"].values())
        h, w = r["size"]
        print(f"| {r['data']} | {h}x{w} | {r['records']} | {r['fields']} | {r['mb']:.3f} | "
              f"{rates} |")
    print("\n## Reader (pairs/s, batch 8)\n")
    print("| data | record fields | records in the file | TFRecord bytes only | reader as "
          "main.py trains | float32 with heat-maps and masks (the defaults) | cached in memory "
          "| decode-only ceiling | reader / ceiling | reader / bytes only |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        n = r["pairs"]
        cache = f"{n / r['cache']:.0f}" if "cache" in r else "-"
        print(f"| {r['data']} | {r['fields']} | {r['in_file']} | {n / r['bytes']:.0f} | "
              f"{n / r['read']:.0f} | "
              f"{n / r['heat']:.0f} | {cache} | {n / r['decode']:.0f} | "
              f"{r['decode'] / r['read']:.2f} | {r['bytes'] / r['read']:.2f} |")
    print("\n## Work the training step takes over (pairs/s, both images, batches of 8, "
          "tf.function)\n")
    print("| data | heat-maps from keypoints | pose masks from keypoints |")
    print("|---|---|---|")
    for r in steps:
        print(f"| {r['data']} | {r['pairs'] / r['maps']:.0f} | {r['pairs'] / r['masks']:.0f} |")
    if waits:
        print("\n## Input wait of a training step (the original's widths and batch size; "
              "reader as run_scripts/dpig/main.py builds it, keypoint-field records)\n")
        print("| model | data | batch | s/step reading the records | s/step on batches in "
              "memory | input-wait fraction |")
        print("|---|---|---|---|---|---|")
        for r in waits:
            print(f"| {r['model']} | {r['data']} {r['size'][0]}x{r['size'][1]} | {r['batch']} "
                  f"| {r['fed']:.3f} | {r['held']:.3f} | {wait_fraction(r):.1%} |")


def wait_fraction(r):
    """Share of a fed step spent waiting for input (0 when within noise below it)."""
    return max(0.0, 1.0 - r["held"] / r["fed"])


def write_json(path, args, rows, waits, workers, load):
    """The key figures (see ``benchmarks/report.py``) and the raw timings as JSON."""
    figures = []
    ceiling = "JPEG decode-only tf.data pass (same run)"
    for r in rows:
        setting = (f"{r['data']} {r['size'][0]}x{r['size'][1]}, {r['fields']}-field records, "
                   f"{r['pairs']} pairs, batch 8")
        figures += [
            dict(what="DPIG reader as main.py trains (uint8, heat-maps left to the step)",
                 setting=setting,
                 value=r["pairs"] / r["read"], unit="pairs/s",
                 ratio=r["decode"] / r["read"], baseline=ceiling),
            dict(what="DPIG reader, float32 with heat-maps and masks", setting=setting,
                 value=r["pairs"] / r["heat"], unit="pairs/s",
                 ratio=r["decode"] / r["heat"], baseline=ceiling),
            dict(what="TFRecord bytes only", setting=setting, value=r["pairs"] / r["bytes"],
                 unit="pairs/s", ratio=r["decode"] / r["bytes"], baseline=ceiling)]
        one = r["conv"][workers[0]][0] / r["conv"][workers[0]][1]
        for n, (records, secs) in r["conv"].items():
            figures.append(dict(
                what="record converter", setting=f"{r['data']}, {r['fields']} fields, {n} "
                f"worker(s), {r['mb']:.3f} MB/record", value=records / secs, unit="records/s",
                ratio=None if n == workers[0] else records / secs / one,
                baseline=None if n == workers[0] else f"{workers[0]} worker(s)"))
    for r in waits:
        figures.append(dict(what=f"DPIG model {r['model']} training step, input wait",
                            setting=f"{r['data']}, batch {r['batch']}", value=r["fed"],
                            unit="s/step", ratio=wait_fraction(r),
                            baseline="the step on batches held in memory (same run)"))
    raw = [dict(r, conv={str(n): v for n, v in r["conv"].items()}) for r in rows]
    with open(path, "w") as f:
        json.dump(dict(benchmark="bench_data", settings=vars(args), load=load,
                       figures=figures, raw=raw, waits=waits), f, indent=1)


if __name__ == "__main__":
    main()
