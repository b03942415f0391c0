"""Generate images with a StyleGAN2 generator (official pickle or converted folder).

    python run_scripts/generate_images.py --outdir out/demo
    python run_scripts/generate_images.py --network ffhq.pkl --seeds 0,1,2 --truncation_psi 0.5

Without ``--network`` it runs the project's bundled default: a small StyleGAN2 with seeded
random weights (no trained weights are bundled yet) is written as an official-format dnnlib
pickle, converted with ``tfposegen.convert``, loaded back from the converted folder and
sampled. The images are then random-weight textures: the run shows the whole
pickle -> Keras -> images path working, not a trained model.
"""

import os
import sys
import time

import numpy as np
from absl import app, flags

from tfposegen.utils.files import to_uint8, write_png

FLAGS = flags.FLAGS
flags.DEFINE_string("network", "", "Official dnnlib pickle or folder from tfposegen.convert; "
                    "empty = the bundled random-weight demo network.")
flags.DEFINE_string("outdir", "out/demo", "Output folder.")
flags.DEFINE_string("seeds", "0-7", "Seeds: comma list and ranges, e.g. 0,3,5-9.")
flags.DEFINE_float("truncation_psi", 1.0, "Truncation psi.")
flags.DEFINE_enum("noise_mode", "const", ["const", "random", "none"], "Noise inputs.")


def parse_seeds(text):
    """'0,3,5-7' -> [0, 3, 5, 6, 7]."""
    seeds = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds += list(range(int(lo), int(hi or lo) + 1))
    return seeds


def make_demo_network(outdir):
    """Write the seeded random tiny StyleGAN2 as a dnnlib pickle and convert it."""
    import keras

    from tfposegen.convert.dnnlib import load_dnnlib_pickle, save_dnnlib_pickle, save_networks
    from tfposegen.nets.stylegan2 import build_stylegan2

    keras.utils.set_random_seed(0)
    G, D = build_stylegan2("tiny_32")
    pkl = os.path.join(outdir, "demo_network.pkl")
    save_dnnlib_pickle(pkl, D, G)
    converted = os.path.join(outdir, "demo_network")
    save_networks(load_dnnlib_pickle(pkl), converted)
    print(f"demo network: wrote {pkl} and converted it to {converted}/")
    return converted


def main(argv):
    del argv
    from tfposegen.convert import load_networks

    os.makedirs(FLAGS.outdir, exist_ok=True)
    network = FLAGS.network or make_demo_network(FLAGS.outdir)
    Gs = load_networks(network).Gs
    seeds = parse_seeds(FLAGS.seeds)
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
