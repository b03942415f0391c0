"""Generate images with a StyleGAN2 generator (official pickle or converted folder).

    python run_scripts/stylegan2/generate_images.py --outdir out/samples
    python run_scripts/stylegan2/generate_images.py --network ffhq.pkl --seeds 0,1,2 \\
        --truncation_psi 0.5

Without ``--network`` it samples the bundled demo generator
(``pretrained/demo/dgp_demo_64.pkl``: 64 px, trained on the project's synthetic people).
Writes ``seed<NNNN>.png`` per seed and ``grid.png`` (all seeds side by side).
"""

import os
import sys
import time

import numpy as np
from absl import app, flags

from tfposegen.utils.files import to_uint8, write_png

FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
flags.DEFINE_string("network", os.path.join(ROOT, "pretrained", "demo", "dgp_demo_64.pkl"),
                    "Official dnnlib pickle or folder from run_scripts/dgp/convert_weights.py "
                    "(default: the bundled demo generator).")
flags.DEFINE_string("outdir", "out/samples", "Output folder.")
flags.DEFINE_string("seeds", "0-7", "Seeds: comma list and ranges, e.g. 0,3,5-9.")
flags.DEFINE_float("truncation_psi", 1.0, "Truncation psi.")
flags.DEFINE_enum("noise_mode", "const", ["const", "random", "none"], "Noise inputs.")


def parse_seeds(text):
    """'0,3,5-7' -> [0, 3, 5, 6, 7]; ValueError on anything else."""
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        if not lo.strip().isdigit() or not (hi or lo).strip().isdigit():
            raise ValueError(f"--seeds: {part!r} is not a seed or a range like 5-9")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfposegen.models.dgp.dnnlib import ConversionError, load_networks

    try:
        seeds = parse_seeds(FLAGS.seeds)
        if not os.path.exists(FLAGS.network):
            raise ConversionError(f"{FLAGS.network}: --network not found")
        Gs = load_networks(FLAGS.network).Gs
        if Gs is None:
            raise ConversionError(f"{FLAGS.network}: no generator (Gs) in this file")
    except ValueError as e:  # bad --seeds; ConversionError, DnnlibPickleError
        print(f"generate_images.py: error: {e}", file=sys.stderr)
        return 2
    os.makedirs(FLAGS.outdir, exist_ok=True)
    t0 = time.time()
    images = []
    for seed in seeds:
        z = np.random.RandomState(seed).randn(1, Gs.z_dim).astype(np.float32)
        img = to_uint8(Gs(z, truncation_psi=FLAGS.truncation_psi,
                          noise_mode=FLAGS.noise_mode))[0]
        write_png(os.path.join(FLAGS.outdir, f"seed{seed:04d}.png"), img)
        images.append(img)
    grid = np.concatenate(images, axis=1)
    write_png(os.path.join(FLAGS.outdir, "grid.png"), grid)
    dt = time.time() - t0
    print(f"{len(seeds)} images of {Gs.resolution}x{Gs.resolution} in {dt:.2f} s "
          f"({dt / len(seeds):.3f} s/image) -> {FLAGS.outdir}/grid.png")


if __name__ == "__main__":
    sys.exit(app.run(main))
