"""The shopper web service (``websvc.py`` of sgoldyaev/DeepFashion.ADGAN, rebuilt on this
library): a shopper uploads a photo and sees the shop's product worn in their pose.

    python run_scripts/shopper/websvc.py                       # demo model, demo catalogue
    python run_scripts/shopper/websvc.py --model exported/adgan/1 --catalog shop_photos/ \\
        --host 0.0.0.0 --port 5000

Then open http://127.0.0.1:5000/. ``--model`` is a SavedModel version folder with one of
these pose-transfer signatures (the first found is served; ``tfposegen.serving.models``):

- ``adgan_pose_transfer`` (``run_scripts/export_savedmodel.py --adgan_netG ...``);
- ``dptn_step_pose_transfer`` (``--dptn_step_checkpoint checkpoints/<id>/latest_net``): the
  page also shows every step's image, coarse to fine;
- ``dptn_pose_transfer`` (``--dptn_netG ...``).

For DPTN and DPTN_step ``--dptn_dataset`` is the export's (its keypoint frame; default:
guessed from the network size) and results are shown at the frame's aspect. A SavedModel
with none of them stops the start with a message naming the folder and its signatures.
Without ``--model`` the bundled demo generator (``pretrained/demo/adgan_demo_64.npz``, 64 x 44
synthetic persons) is exported once into ``$TFPOSEGEN_CACHE/websvc`` (default
``~/.cache/tfposegen/websvc``) and served. ``--catalog`` is a folder of product photos (a
model wearing each product; JPEG / PNG); without it a few procedural persons stand in.
The BlazePose files come from the package index once (``tfposegen.pose.model_files``).

Served by waitress (a production WSGI server, pure Python); routes and limits in
``tfposegen.serving.web``. The model is loaded and warmed once at start-up; requests queue
(``--max_queue``) and one worker runs the model; results expire after ``--result_ttl``.
"""

import os
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "pretrained", "demo", "adgan_demo_64.npz")
FLAGS = flags.FLAGS
flags.DEFINE_string("host", "127.0.0.1", "Address to listen on.")
flags.DEFINE_integer("port", 5000, "Port (the original's 5000).", lower_bound=0)
flags.DEFINE_string("model", None, "SavedModel version folder with adgan_pose_transfer, "
                    "dptn_step_pose_transfer or dptn_pose_transfer (default: the bundled "
                    "ADGAN demo generator, exported once).")
flags.DEFINE_enum("dptn_dataset", None, ["fashion", "market"], "A DPTN / DPTN_step export's "
                  "--dptn_dataset (its keypoint frame; default: guessed from the network "
                  "size, H = 2 W: market).")
flags.DEFINE_string("catalog", None, "Folder of product photos (default: procedural demo).")
flags.DEFINE_string("blazepose_dir", None, "Folder with the BlazePose .tflite files "
                    "(default: the cache, fetched once).")
flags.DEFINE_integer("max_queue", 16, "Requests that may wait; more get 503.", lower_bound=1)
flags.DEFINE_float("result_ttl", 600.0, "Seconds a result is kept.", lower_bound=1.0)
flags.DEFINE_integer("threads", 8, "Server threads answering requests.", lower_bound=2)


def demo_model_dir():
    """The demo generator's SavedModel, exported on first use (atomic; the folder name
    carries the demo file's size and mtime so a new demo file is exported again)."""
    from tfposegen.models.adgan.export import export_generator_file
    from tfposegen.pose.model_files import cache_dir

    stamp = os.stat(DEMO)
    folder = os.path.join(os.path.dirname(cache_dir()), "websvc",
                          f"adgan_demo_64_{stamp.st_size}_{int(stamp.st_mtime)}")
    version = os.path.join(folder, "1")
    if not os.path.isdir(version):
        print(f"exporting the demo generator to {folder} (once)", file=sys.stderr)
        export_generator_file(DEMO, folder, 1)
    return version


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    import waitress

    from tfposegen.pose.model_files import ModelFilesError
    from tfposegen.serving.demo import demo_catalog
    from tfposegen.serving.shopper import ShopperPipeline
    from tfposegen.serving.web import Catalog, create_app

    try:
        if FLAGS.catalog and not os.path.isdir(FLAGS.catalog):
            raise ValueError(f"{FLAGS.catalog}: --catalog is not a folder")
        if FLAGS.model and not os.path.isdir(FLAGS.model):
            raise ValueError(f"{FLAGS.model}: --model is not a SavedModel folder")
        pipeline = ShopperPipeline(FLAGS.model or demo_model_dir(),
                                   blazepose_dir=FLAGS.blazepose_dir, dataset=FLAGS.dptn_dataset)
        catalog = Catalog.from_folder(FLAGS.catalog) if FLAGS.catalog else demo_catalog()
    except (ValueError, OSError, ModelFilesError) as e:
        print(f"websvc.py: error: {e}", file=sys.stderr)
        return 2
    application = create_app(pipeline, catalog, FLAGS.max_queue, FLAGS.result_ttl,
                             log=lambda m: print(m, file=sys.stderr))
    steps = f", {pipeline.steps} steps" if pipeline.steps else ""
    steps += ", style mixing" if pipeline.mixes else ""
    print(f"serving {len(catalog.items)} products with {pipeline.signature}, results "
          f"{pipeline.height}x{pipeline.width}{steps}, on http://{FLAGS.host}:{FLAGS.port}/",
          file=sys.stderr, flush=True)
    waitress.serve(application, host=FLAGS.host, port=FLAGS.port, threads=FLAGS.threads,
                   max_request_body_size=application.config["MAX_CONTENT_LENGTH"],
                   ident="tfposegen-websvc")
    return 0


if __name__ == "__main__":
    app.run(main)
