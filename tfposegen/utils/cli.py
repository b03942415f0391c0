"""Command-line edges shared by the scripts: a bad-input error that becomes one line on
stderr and exit status 2 (no usage text, no traceback), the trainers' ``--run_eagerly``, and
the DPTN family's scoring flags."""

import os
import sys


class InputError(Exception):
    """A bad input file or folder, named in the message."""


def run(main):
    """``absl.app.run(main)`` and exit; an :class:`InputError` raised by ``main`` becomes
    ``<script>: error: <message>`` on stderr and status 2."""
    from absl import app

    def checked(argv):
        try:
            return main(argv)
        except InputError as e:
            print(f"{os.path.basename(sys.argv[0])}: error: {e}", file=sys.stderr)
            return 2

    sys.exit(app.run(checked))


def define_run_eagerly_flag():
    """The trainers' ``--run_eagerly`` (see :func:`start_run_eagerly`)."""
    from absl import flags

    flags.DEFINE_boolean("run_eagerly", False, "Run every tf.function eagerly: no tracing "
                         "(tiny smoke runs and debugging; slower per step; --strategy "
                         "default only).")


def start_run_eagerly(run_eagerly, strategy):
    """Apply ``--run_eagerly`` (before the strategy is made): with ``--strategy`` other than
    ``default`` an :class:`InputError` (TF's collectives need graphs); else every
    ``tf.function`` runs eagerly from here on."""
    if not run_eagerly:
        return
    if strategy != "default":
        raise InputError("--run_eagerly runs on one device only (--strategy default)")
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)


METRIC_WEIGHT_FLAGS = ("lpips_backbone", "lpips_lin", "torchvision_inception",
                       "inception_weights")


def define_metric_flags(protocols_help, real_default, json_default):
    """The test scripts' scoring flags (``--metrics`` and the weight files by path; see
    ``tfposegen.metrics.pose_transfer``): ``protocols_help`` lists the protocols,
    ``real_default`` / ``json_default`` name the default real folder and scores file."""
    from absl import flags

    flags.DEFINE_list("metrics", [], "Score the written folder afterwards under these "
                      f"protocols: {protocols_help}")
    flags.DEFINE_string("lpips_backbone", None, "LPIPS: torchvision's "
                        "alexnet-owt-7be5be79.pth (with --lpips_lin).")
    flags.DEFINE_string("lpips_lin", None, "LPIPS: the lpips v0.1 weights/v0.1/alex.pth.")
    flags.DEFINE_string("torchvision_inception", None, "FID as the DPTN codes: torchvision's "
                        "inception_v3_google-*.pth (score fid_torchvision).")
    flags.DEFINE_string("inception_weights", None, "FID with the standard network: a Keras "
                        "InceptionV3 no-top weights file (score fid).")
    flags.DEFINE_string("fid_real_dir", None, f"Real images for FID (default {real_default}).")
    flags.DEFINE_boolean("fid_cache", False, "Keep the real folder's FID statistics in it "
                         "(keyed by its files and the network; the codes cache unkeyed).")
    flags.DEFINE_string("scores_json", None, f"Where the scores go (default {json_default}).")


def check_metric_flags(protocols):
    """UsageError / InputError for a ``--metrics`` outside ``protocols`` or a missing weights
    file, before any TensorFlow work."""
    from absl import app, flags

    f = flags.FLAGS
    bad = [p for p in f.metrics if p not in protocols]
    if bad:
        raise app.UsageError(f"--metrics: unknown {bad}; choose from {list(protocols)}")
    if bool(f.lpips_backbone) != bool(f.lpips_lin):
        raise app.UsageError("LPIPS needs both --lpips_backbone and --lpips_lin")
    for name in METRIC_WEIGHT_FLAGS:
        if f[name].value and not os.path.isfile(f[name].value):
            raise InputError(f"{f[name].value}: no such file (--{name})")
