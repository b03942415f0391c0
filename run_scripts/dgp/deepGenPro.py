"""DGP: dress a model photo in a new garment (Deep Generative Projection, CVPR 2022).

The original command line runs unchanged::

    python run_scripts/dgp/deepGenPro.py --cloth_dir ./data/model_1/cloth_1/ \\
        --model_dir ./data/model_1/model_info/ --cloth_sleeve short --output_dir ./output/

``--network_pkl`` takes DGP's official ``encoder-stylegan2-upper-body-512.pkl`` (E, D, Gs)
or a folder written by ``run_scripts/dgp/convert_weights.py``. An empty ``--percepture_model`` or
``--attr_model`` switches that loss term off (with a warning).

Writes into ``--output_dir``: rough_alignment.png, outputs_encoder.png,
outputs_projection.png, outputs_semantic_search.png, outputs_pattern_search.png,
projection.mp4, semantic_search.mp4, pattern_search.mp4, DGP.mp4, one
``<phase>_losses.json`` per phase, and the masks (residual_parse.png, mask_arm.png,
mask_inner.png). An interrupted run continues where it stopped when started again with the
same flags.
"""

import hashlib
import os
import sys
import warnings

from absl import app, flags

FLAGS = flags.FLAGS
# The original's flags, names and defaults.
flags.DEFINE_string("cloth_dir", "./data/model_1/cloth_1/",
                    "Folder with cloth_parse.png and coarse_align.png.")
flags.DEFINE_string("model_dir", "./data/model_1/model_info/", "Folder with model_parse.png.")
flags.DEFINE_enum("cloth_sleeve", "short", ["short", "long"], "Sleeve length of the garment.")
flags.DEFINE_string("output_dir", "./output/", "Output folder (created if missing).")
flags.DEFINE_string("network_pkl", "./pretrained_models/encoder-stylegan2-upper-body-512.pkl",
                    "DGP pickle (E, D, Gs) or a folder converted by tfposegen.convert.")
flags.DEFINE_string("percepture_model", "./pretrained_models/vgg.h5",
                    "Keras VGG16 no-top weights (.h5); empty = no VGG loss term.")
flags.DEFINE_string("attr_model", "./pretrained_models/attributes_model_resnet101.h5",
                    "Keras ResNet101 attribute weights (.h5); empty = no attribute term.")
flags.DEFINE_integer("projection_steps", 10, "Projection steps.", lower_bound=1)
flags.DEFINE_integer("semantic_steps", 1000, "Semantic search steps.", lower_bound=1)
flags.DEFINE_integer("pattern_steps", 1500, "Pattern search steps.", lower_bound=1)
# Added flags.
flags.DEFINE_boolean("save_video", True, "Write the four MP4 videos.")
flags.DEFINE_boolean("jit_compile", True, "Compile each phase's step with XLA.")
flags.DEFINE_float("adv_weight", 1.0, "Weight of the adversarial term (DGP: 1). Lower it for "
                   "a discriminator whose logits are on another scale than DGP's, e.g. the "
                   "small demo network.", lower_bound=0.0)
flags.DEFINE_integer("checkpoint_every", 100, "Steps between checkpoints of the resumable "
                     "state in <output_dir>/.dgp_state.", lower_bound=1)
flags.DEFINE_boolean("restart", False, "Discard an unfinished run in --output_dir instead "
                     "of continuing it.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_bfloat16"],
                  "Numeric precision: float32 (default, faithful) or mixed_bfloat16 "
                  "(bfloat16 compute, float32 W+, noise, Adam and losses; no loss scaling "
                  "needed). Fast only where the hardware has bfloat16 math (recent GPUs).")
flags.DEFINE_integer("stop_after", None, "Stop (with a checkpoint) after this many steps; "
                     "run again to continue. For time-sliced runs.", lower_bound=0)


class UserError(Exception):
    """A problem with the command line or the files it names."""


def _file_id(path):
    """Content hash of a small file, or size+mtime of a large one (weights)."""
    st = os.stat(path)
    if st.st_size > 64 << 20 or os.path.isdir(path):
        return f"{os.path.abspath(path)}:{st.st_size}:{int(st.st_mtime)}"
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _check_paths():
    out = FLAGS.output_dir
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"{out}: --output_dir exists and is not a folder")
    if not os.path.exists(FLAGS.network_pkl):
        raise UserError(f"{FLAGS.network_pkl}: --network_pkl not found (DGP's pickle "
                        "encoder-stylegan2-upper-body-512.pkl or a converted folder; see "
                        "pretrained/README.md)")
    for flag in ("percepture_model", "attr_model"):
        path = getattr(FLAGS, flag)
        if path and not os.path.isfile(path):
            raise UserError(f"{path}: --{flag} not found (pass --{flag}= to run without "
                            "this loss term)")


def _feature_models(resolution):
    """(VGG16Features or None, AttributeFeatures or None) from the two weight flags."""
    from tfposegen.models.dgp.perceptual import (
        attribute_features_from_h5,
        vgg16_features_from_h5,
    )

    models = []
    for flag, load in (("percepture_model", lambda p: vgg16_features_from_h5(p, resolution)),
                       ("attr_model", attribute_features_from_h5)):
        path = getattr(FLAGS, flag)
        if not path:
            warnings.warn(f"--{flag} is empty: running without its loss term", stacklevel=2)
        models.append(load(path) if path else None)
    return models


def _fingerprint(pair_files):
    keys = ("cloth_sleeve", "projection_steps", "semantic_steps", "pattern_steps",
            "save_video", "jit_compile", "adv_weight")
    fp = {k: getattr(FLAGS, k) for k in keys}
    if FLAGS.precision != "float32":  # float32 fingerprints stay as before (resumable)
        fp["precision"] = FLAGS.precision
    for name, path in pair_files.items():
        fp[name] = _file_id(path)
    for flag in ("network_pkl", "percepture_model", "attr_model"):
        path = getattr(FLAGS, flag)
        fp[flag] = _file_id(path) if path else ""
    return fp


def run(pair):
    """Everything after the input checks: load the networks and run DGP."""
    from tfposegen.models.dgp.dnnlib import load_networks
    from tfposegen.models.dgp.inputs import prepare_pair
    from tfposegen.models.dgp.project import DGPProjector
    from tfposegen.models.dgp.run import run_dgp
    from tfposegen.train.precision import set_precision

    set_precision(FLAGS.precision)  # before any network is built
    nets = load_networks(FLAGS.network_pkl)
    if nets.E is None or nets.D is None or nets.Gs is None:
        raise UserError(f"{FLAGS.network_pkl}: DGP needs an encoder, a discriminator and a "
                        "generator (E, D, Gs); this file lacks "
                        + ", ".join(k for k in ("E", "D", "Gs") if getattr(nets, k) is None))
    resolution = nets.Gs.resolution
    inputs = prepare_pair(pair, FLAGS.cloth_sleeve, resolution)
    vgg, attr = _feature_models(resolution)
    projector = DGPProjector(nets.Gs.synthesis, nets.D, nets.E, inputs, vgg=vgg, attr=attr,
                             jit_compile=FLAGS.jit_compile, adv_weight=FLAGS.adv_weight,
                             precision=FLAGS.precision)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    files = {"model_parse": os.path.join(FLAGS.model_dir, "model_parse.png"),
             "cloth_parse": os.path.join(FLAGS.cloth_dir, "cloth_parse.png"),
             "coarse_align": os.path.join(FLAGS.cloth_dir, "coarse_align.png")}
    steps = {"projection": FLAGS.projection_steps, "semantic_search": FLAGS.semantic_steps,
             "pattern_search": FLAGS.pattern_steps}
    result = run_dgp(projector, inputs, FLAGS.output_dir, steps, _fingerprint(files),
                     save_video=FLAGS.save_video, checkpoint_every=FLAGS.checkpoint_every,
                     stop_after=FLAGS.stop_after, restart=FLAGS.restart)
    if result is not None:
        print(f"DGP done: {os.path.join(FLAGS.output_dir, 'outputs_pattern_search.png')}")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfposegen.models.dgp.inputs import DGPInputError, read_pair

    try:  # checks that need no TensorFlow, before any model is loaded
        pair = read_pair(FLAGS.cloth_dir, FLAGS.model_dir)
        _check_paths()
    except (UserError, DGPInputError) as e:
        return _fail(e)

    from tfposegen.convert.keras_h5 import KerasH5Error
    from tfposegen.models.dgp.dnnlib import ConversionError, DnnlibPickleError
    from tfposegen.models.dgp.encoder import EncoderLayoutError
    from tfposegen.models.dgp.run import DGPStateError

    try:
        run(pair)
    except (UserError, DGPInputError, ConversionError, DnnlibPickleError, EncoderLayoutError,
            KerasH5Error, DGPStateError) as e:
        return _fail(e)
    return 0


def _fail(error):
    print(f"deepGenPro.py: error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    app.run(main)
