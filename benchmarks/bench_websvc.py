"""Web service speed: latency (p50 / p95) and requests/s of ``POST /api/pose_transfer`` on
loopback at several concurrencies, against the same work called in-process.

    python benchmarks/bench_websvc.py [--requests 24] [--concurrency 1,4] [--json PATH]

Exports the bundled ADGAN demo generator to a temporary SavedModel, starts
``run_scripts/shopper/websvc.py`` on it (its own process; the demo catalogue), and sends
multipart requests (a catalogue product id + a procedural shopper photo as PNG). The
baseline, measured in this process side by side: what the server's worker does per such
request (:meth:`ShopperPipeline.analyse` of the shopper photo + :meth:`render` with the
product analysed beforehand), and the SavedModel signature alone. Ratio = server latency /
baseline: the server's overhead (HTTP, multipart parsing, PNG decoding and encoding,
queueing: the model runs one request at a time, so at concurrency c the latency grows about
c-fold while the throughput stays at the worker's); requests/s x baseline seconds = the
share of the in-process throughput the server delivers. Prints a markdown table.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from tfposegen.models.adgan.export import export_generator_file  # noqa: E402
from tfposegen.serving import demo  # noqa: E402
from tfposegen.serving.shopper import ShopperPipeline  # noqa: E402
from tfposegen.serving.uploads import png_bytes  # noqa: E402

DEMO = os.path.join(ROOT, "pretrained", "demo", "adgan_demo_64.npz")


def timed(fn, n):
    """Seconds of each of ``n`` calls (after one warm-up call)."""
    fn()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return np.array(out)


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="x.png"'
              f'\r\nContent-Type: image/png\r\n\r\n'.encode() + data + b"\r\n"
              for k, data in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def start_server(model_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "run_scripts", "shopper",
                                                          "websvc.py"),
                             f"--port={port}", f"--model={model_dir}", "--max_queue=64"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the server did not start")


def load(url, body, boundary, requests, concurrency):
    """(latencies in s, wall seconds) of ``requests`` POSTs by ``concurrency`` threads."""
    latencies, lock = [], threading.Lock()
    todo = list(range(requests))

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            request = urllib.request.Request(
                f"{url}/api/pose_transfer", data=body,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
                assert response.status == 200
            with lock:
                latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return np.array(latencies), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--concurrency", default="1,4")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(f"1-min load average before: {os.getloadavg()[0]:.2f}")
    tmp = tempfile.mkdtemp()
    model_dir = export_generator_file(DEMO, tmp)
    pipeline = ShopperPipeline(model_dir)
    product_photo = demo.demo_photo(demo.PRODUCT_SEEDS[0])
    shopper_photo = demo.demo_photo(demo.SHOPPER_SEEDS[0])
    product = pipeline.analyse(product_photo, "the product photo", True)
    shopper = pipeline.analyse(shopper_photo, "your photo", False)
    work = timed(lambda: pipeline.render(product, pipeline.analyse(shopper_photo, "x", False)),
                 args.requests)
    model = timed(lambda: pipeline.render(product, shopper), args.requests)
    body, boundary = multipart({"product_id": "0"}, {"shopper": png_bytes(shopper_photo)})
    proc, url = start_server(model_dir)
    rows = []
    try:
        load(url, body, boundary, 2, 1)  # warm-up: the product's analysis is cached
        for c in (int(x) for x in args.concurrency.split(",")):
            lat, wall = load(url, body, boundary, args.requests, c)
            rows.append({"concurrency": c, "requests": len(lat),
                         "p50_ms": 1e3 * np.percentile(lat, 50),
                         "p95_ms": 1e3 * np.percentile(lat, 95),
                         "req_per_s": len(lat) / wall})
    finally:
        proc.terminate()
        proc.wait(30)
    base = np.median(work)
    print(f"\nin-process per request (shopper analysis + render): p50 {1e3 * base:.1f} ms; "
          f"SavedModel signature alone: p50 {1e3 * np.median(model):.1f} ms; "
          f"model frame {pipeline.height}x{pipeline.width}\n")
    print("| concurrency | requests | p50 ms | p95 ms | requests/s | p50 vs in-process "
          "| requests/s vs in-process |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['concurrency']} | {r['requests']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
              f"| {r['req_per_s']:.2f} | {r['p50_ms'] / 1e3 / base:.2f}x "
              f"| {r['req_per_s'] * base:.2f} |")
    print(f"\n1-min load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"in_process_ms": 1e3 * base, "model_ms": 1e3 * np.median(model),
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
