"""Export a network as a versioned SavedModel for TF Serving.

    python run_scripts/export_savedmodel.py --network pretrained/demo/dgp_demo_64.pkl \\
        --export_dir exported/dgp --version 1
    tensorflow_model_server --rest_api_port=8501 --model_name=dgp \\
        --model_base_path=$PWD/exported/dgp

``--network`` is a DGP network file (an ``(E, D, Gs)`` pickle or a folder converted by
``tfposegen.convert``). The signatures (``dgp_encode``, ``dgp_synthesize``,
``dgp_generate`` and their ``_float`` variants) are listed in
``tfposegen.export.savedmodel``.
"""

import os
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_string("network", os.path.join(ROOT, "pretrained", "demo", "dgp_demo_64.pkl"),
                    "DGP network file (pickle or converted folder).")
flags.DEFINE_string("export_dir", None, "Model folder; the export goes to <export_dir>/<version>.")
flags.DEFINE_integer("version", 1, "Version sub-folder.", lower_bound=1)
flags.mark_flag_as_required("export_dir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    if not os.path.exists(FLAGS.network):
        print(f"export_savedmodel.py: error: {FLAGS.network}: --network not found",
              file=sys.stderr)
        return 2
    from tfposegen.convert import load_networks
    from tfposegen.export.savedmodel import export_dgp

    try:
        path = export_dgp(load_networks(FLAGS.network), FLAGS.export_dir, FLAGS.version)
    except (ValueError, FileExistsError) as e:  # incl. ConversionError, DnnlibPickleError
        print(f"export_savedmodel.py: error: {e}", file=sys.stderr)
        return 2
    print(f"exported {path}")
    return 0


if __name__ == "__main__":
    app.run(main)
