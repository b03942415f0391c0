"""The README's demo: DGP with the bundled demo weights on a synthetic sample.

    python run_scripts/dgp/dgp_demo.py --output_dir out/dgp_demo

1. Writes a procedural (model, garment) pair in DGP's layout into ``<output_dir>/sample``
   (``tfposegen.data.synthetic``, seed ``--sample_seed``, a person not in the demo
   weights' training set).
2. Runs ``run_scripts/dgp/deepGenPro.py`` on it with ``pretrained/demo/dgp_demo_64.pkl`` (a
   64 px StyleGAN2 and encoder trained on synthetic images, see ``pretrained/README.md``)
   and DGP's step counts. The command is printed: it is the ordinary DGP command line. The
   VGG16 and ResNet101 terms are off because their ImageNet weights are not bundled.
3. Prints the PSNR of each phase's output against the coarse alignment inside the garment
   region (``tfposegen.models.dgp.metrics``), writes it to ``garment_psnr.json``, and writes
   ``demo.png``: coarse alignment, encoder, projection, semantic search, pattern search.

Running it again continues an interrupted run (deepGenPro's resumable state).
"""

import os
import subprocess
import sys

import numpy as np
from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLAGS = flags.FLAGS
flags.DEFINE_string("output_dir", "out/dgp_demo", "Output folder.")
flags.DEFINE_integer("sample_seed", 10002, "Seed of the synthetic sample.", lower_bound=0)
flags.DEFINE_string("network_pkl", os.path.join(ROOT, "pretrained", "demo", "dgp_demo_64.pkl"),
                    "DGP pickle (E, D, Gs).")
flags.DEFINE_integer("projection_steps", 10, "Projection steps (DGP's default).", lower_bound=1)
flags.DEFINE_integer("semantic_steps", 1000, "Semantic search steps (DGP's default).",
                     lower_bound=1)
flags.DEFINE_integer("pattern_steps", 1500, "Pattern search steps (DGP's default).",
                     lower_bound=1)
flags.DEFINE_boolean("save_video", True, "Write DGP's four MP4 videos.")
flags.DEFINE_float("adv_weight", 0.01, "deepGenPro.py --adv_weight (DGP: 1; the small demo "
                   "discriminator's logits would outweigh the pixel terms).", lower_bound=0.0)

PHASES = ("encoder", "projection", "semantic_search", "pattern_search")


def garment_psnr(output_dir, cloth_parse):
    """{phase: masked PSNR in dB} of the phase PNGs in ``output_dir`` against
    ``rough_alignment.png``, inside the garment region of ``cloth_parse``."""
    from PIL import Image

    from tfposegen.metrics.image import masked_psnr
    from tfposegen.models.dgp.metrics import garment_region
    from tfposegen.models.dgp.outputs import PNG_NAMES

    def load(name):
        return np.asarray(Image.open(os.path.join(output_dir, PNG_NAMES[name])).convert("RGB"))

    rough = load("rough_alignment")
    region = garment_region(cloth_parse, rough.shape[0])
    return {phase: masked_psnr(load(phase), rough, region) for phase in PHASES}


def panel(output_dir, scale=3):
    """uint8 [R*scale, 5*R*scale, 3]: coarse alignment then the four phase outputs."""
    from PIL import Image

    from tfposegen.models.dgp.outputs import PNG_NAMES

    images = [np.asarray(Image.open(os.path.join(output_dir, PNG_NAMES[name])).convert("RGB"))
              for name in ("rough_alignment",) + PHASES]
    row = np.concatenate(images, axis=1)
    return row.repeat(scale, axis=0).repeat(scale, axis=1)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfposegen.data.synthetic import write_dgp_sample
    from tfposegen.utils.files import write_json, write_png

    out = FLAGS.output_dir
    if os.path.exists(out) and not os.path.isdir(out):
        print(f"dgp_demo.py: error: {out}: --output_dir exists and is not a folder",
              file=sys.stderr)
        return 2
    cloth_dir, model_dir, sleeve = write_dgp_sample(os.path.join(out, "sample"),
                                                    FLAGS.sample_seed)
    command = [sys.executable, os.path.join(ROOT, "run_scripts", "dgp", "deepGenPro.py"),
               f"--cloth_dir={cloth_dir}", f"--model_dir={model_dir}",
               f"--cloth_sleeve={sleeve}", f"--output_dir={out}",
               f"--network_pkl={FLAGS.network_pkl}", "--percepture_model=", "--attr_model=",
               f"--projection_steps={FLAGS.projection_steps}",
               f"--semantic_steps={FLAGS.semantic_steps}",
               f"--pattern_steps={FLAGS.pattern_steps}", f"--save_video={FLAGS.save_video}",
               f"--adv_weight={FLAGS.adv_weight}"]
    print("running:", " ".join(command[1:]), flush=True)
    rc = subprocess.call(command)
    if rc:
        return rc

    from PIL import Image

    cloth_parse = np.asarray(Image.open(os.path.join(cloth_dir, "cloth_parse.png")))
    psnr = garment_psnr(out, cloth_parse)
    write_json(os.path.join(out, "garment_psnr.json"), psnr)
    write_png(os.path.join(out, "demo.png"), panel(out))
    print("\nPSNR against the coarse alignment inside the garment region (dB):")
    for phase, value in psnr.items():
        print(f"  {phase:<16} {value:6.2f}")
    print(f"\nresult: {os.path.join(out, 'outputs_pattern_search.png')}; "
          f"side by side: {os.path.join(out, 'demo.png')}")
    return 0


if __name__ == "__main__":
    app.run(main)
