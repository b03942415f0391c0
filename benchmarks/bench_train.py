"""Training-step start-up and speed: the library's fused Adam against Keras' Adam, and
where a new trainer's first step goes.

    python benchmarks/bench_train.py [--steps 3] [--systems dptn,dptn_tiny,stylegan2]

Every trainer updates with ``tfposegen.train.optimizers.Adam`` (one ``ResourceApplyAdam``
kernel a variable); Keras' ``Adam`` builds about forty ops a variable. For each system the
same trainer is built with each optimiser (patched into the trainer's module), and a third
time with the fused Adam and TensorFlow's graph optimisation (grappler) switched off,
alternately, twice each, in this process and timed side by side: the first step (tracing,
graph optimisation, the first run; the best of the two) with the part of it spent tracing,
the ops of the traced step, and the steady step time (median of ``--steps``). Tracing and
graph optimisation are what the test suite's many short training runs mostly pay for.
Systems: ``dptn`` (the released DPTN widths, 256 x 176, batch 1), ``dptn_tiny`` (the tests'
networks, 32 x 24), ``stylegan2`` (a 64 px generator and discriminator, batch 4, XLA).
"""

import argparse
import contextlib
import os
import time
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from tfposegen.train.optimizers import Adam


def _dptn(tiny):
    from tfposegen.models.dptn import presets
    from tfposegen.models.dptn import train as T
    from tfposegen.models.dptn.networks import DPTNGenerator, ResDiscriminator

    h, w = (32, 24) if tiny else (256, 176)
    rng = np.random.default_rng(0)
    batch = {k: rng.uniform(-1, 1, (1, h, w, 3)).astype(np.float32)
             for k in ("source_image", "target_image")}
    batch.update({k: (rng.uniform(0, 1, (1, h, w, 18)) ** 8).astype(np.float32)
                  for k in ("source_pose", "target_pose")})

    def build():
        keras.utils.set_random_seed(0)
        g, d = ((presets.TINY_G, presets.TINY_D) if tiny else
                (presets.DPTN_G, presets.DPTN_D_FASHION))
        trainer = T.DPTNTrainer({"G": DPTNGenerator(**g), "D": ResDiscriminator(**d)},
                                T.make_loss_vgg(), batch_size=1, iterations_per_epoch=1000)
        return (lambda: trainer.train_step(batch)), (lambda: trainer._step_fn)
    return T, build


def _stylegan2():
    from tfposegen.models.stylegan2 import Discriminator, Generator
    from tfposegen.models.stylegan2 import train as T

    reals = np.random.default_rng(0).uniform(-1, 1, (4, 64, 64, 3)).astype(np.float32)

    def build():
        keras.utils.set_random_seed(0)
        G = Generator(resolution=64, z_dim=128, w_dim=128,
                      mapping_kwargs=dict(num_layers=4, layer_features=128),
                      synthesis_kwargs=dict(fmap_base=2048, fmap_max=128))
        D = Discriminator(resolution=64, fmap_base=2048, fmap_max=128)
        trainer = T.StyleGAN2Trainer(G, D, batch_size=4, g_reg_interval=1000,
                                     d_reg_interval=1000)
        return (lambda: trainer.train_step(reals)), (lambda: trainer._d_main)
    return T, build


SETTINGS = {"dptn": "DPTN 256x176, batch 1", "dptn_tiny": "DPTN tiny 32x24, batch 1",
            "stylegan2": "StyleGAN2 64 px, batch 4, XLA"}
SYSTEMS = {"dptn": lambda: _dptn(False), "dptn_tiny": lambda: _dptn(True),
           "stylegan2": _stylegan2}


def _graph_ops(fn):
    """Ops of the traced function's graph and of the functions it calls."""
    concrete = fn._list_all_concrete_functions_for_serialization() or []
    graph_defs = [c.graph.as_graph_def() for c in concrete]
    return sum(len(g.node) + sum(len(f.node_def) for f in g.library.function)
               for g in graph_defs)


@contextlib.contextmanager
def tracing_clock():
    """Yield a one-element list that accumulates the seconds spent building graphs (the
    outermost ``func_graph_from_py_func`` calls: tf.function and tf.data tracing)."""
    from tensorflow.python.framework import func_graph

    original, total, depth = func_graph.func_graph_from_py_func, [0.0], [0]

    def timed(*args, **kwargs):
        depth[0] += 1
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1
            if not depth[0]:
                total[0] += time.perf_counter() - start

    with mock.patch.object(func_graph, "func_graph_from_py_func", timed):
        yield total


VARIANTS = (("keras", keras.optimizers.Adam, True), ("fused", Adam, True),
            ("fused, no graph optimisation", Adam, False))


def bench(system, steps, rounds=2):
    """{variant: (first step s, its tracing s, ops of one traced function, median step s)}
    for the VARIANTS (name, optimiser class, grappler on): the best first step of
    ``rounds`` new trainers each, built alternately (the later ones find the process warm:
    TF's runtime, oneDNN's kernels for these shapes), the median of ``steps`` steps of the
    last one."""
    module, build = SYSTEMS[system]()
    firsts = {name: [] for name, _, _ in VARIANTS}
    out = {}
    try:
        for _ in range(rounds):
            for name, cls, optimise in VARIANTS:
                tf.config.optimizer.set_experimental_options(
                    {"disable_meta_optimizer": not optimise})
                with mock.patch.object(module, "Adam", cls):
                    step, traced = build()
                with tracing_clock() as tracing:
                    start = time.perf_counter()
                    step()
                    firsts[name].append((time.perf_counter() - start, tracing[0]))
                times = []
                for _ in range(steps):
                    start = time.perf_counter()
                    step()
                    times.append(time.perf_counter() - start)
                out[name] = (*min(firsts[name]), _graph_ops(traced()), float(np.median(times)))
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--systems", default="dptn_tiny,dptn")
    p.add_argument("--steps", type=int, default=3)
    args = p.parse_args()
    print("| system | first step Keras Adam (s) | first step fused (s) | first fused / Keras "
          "| traced ops Keras | traced ops fused | step Keras (s) | step fused (s) "
          "| step fused / Keras |")
    print("|---|---|---|---|---|---|---|---|---|")
    results = {}
    for system in args.systems.split(","):
        r = results[system] = bench(system, args.steps)
        (fk, _, ok, sk), (ff, _, of, sf) = r["keras"], r["fused"]
        print(f"| {SETTINGS[system]} | {fk:.2f} | {ff:.2f} | {ff / fk:.2f} | {ok} | {of} "
              f"| {sk:.4f} | {sf:.4f} | {sf / sk:.2f} |", flush=True)
    print("\nfirst step: tracing, graph optimisation and the first run of a new trainer "
          "(best of two); traced ops: the step function (DPTN: the whole iteration; "
          "StyleGAN2: D's main step) with the functions it calls.")
    print("\n### Where the first step goes (fused Adam)\n")
    print("| system | first step (s) | tracing (s) | graph optimisation (s) | the rest (s) "
          "| tracing share | graph optimisation share | step without / with grappler |")
    print("|---|---|---|---|---|---|---|---|")
    for system, r in results.items():
        (ff, tr, _, sf), (fn, trn, _, sn) = r["fused"], r["fused, no graph optimisation"]
        rest = fn - trn
        grappler = max(ff - tr - rest, 0.0)
        print(f"| {SETTINGS[system]} | {ff:.2f} | {tr:.2f} | {grappler:.2f} | {rest:.2f} "
              f"| {tr / ff:.0%} | {grappler / ff:.0%} | {sn / sf:.2f} |", flush=True)
    print("\ntracing: building the graphs (tf.function and tf.data) in the first step; the "
          "rest: the first step less its tracing with grappler off (placement, kernel "
          "creation, the first run); graph optimisation: what grappler adds to the rest. "
          "Step: the steady step with grappler off against on.")


if __name__ == "__main__":
    main()
