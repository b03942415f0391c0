"""Render the test pairs with a trained ADGAN generator (``test.py`` + scripts/test.sh of
menyifang/ADGAN).

    python run_scripts/adgan/test.py --dataroot deepfashion/fashion_resize \\
        --dirSem deepfashion --pairLst deepfashion/fashion-resize-pairs-test.csv \\
        --annotation deepfashion/fashion-resize-annotation-test.csv \\
        --checkpoints_dir ./checkpoints --results_dir ./results \\
        --name fashion_AdaGen_sty512_nres8_lre3_SS_fc_vgg_cxloss_ss_merge3 --which_epoch 800

The generator is ``<checkpoints_dir>/<name>/<which_epoch>_net/`` (a folder of
run_scripts/adgan/train.py or convert_weights.py) or, else, the original's
``<checkpoints_dir>/<name>/<which_epoch>_net_netG.pth`` (plain or DataParallel keys; its
size is read from the file), or ``--which_epoch`` itself when it is a path (e.g. the demo
``pretrained/demo/adgan_demo_64.npz``, results then under ``test_adgan_demo_64``). Pairs are
taken in the pairs-CSV order, batch 1, as the original; the dataroot is converted once into
TFRecords beside it (``<dataroot>_<phase>_records``).

Writes ``<results_dir>/<name>/test_<which_epoch>/images/<P1 name>___<P2 name>_vis.jpg``:
the original's 5-panel strip [source | source pose | target | target pose | generated],
JPEG at PIL's default quality 75; with ``--save_fake`` (implied by ``--metrics gfla``) also
``..._fake.png`` (the generated panel alone, lossless, what the GFLA protocol reads). With
``--metrics patn,gfla`` it then scores the folder (``tfposegen.metrics.pose_transfer``, as
run_scripts/pose_transfer_metrics.py) and writes ``test_<which_epoch>/scores.json``.
"""

import os

import options
from absl import app, flags, logging

FLAGS = flags.FLAGS
options.define_base_flags("test")
flags.DEFINE_string("results_dir", "./results/", "Where the images are written.")
flags.DEFINE_integer("how_many", 999999, "Pairs to render at most (the original forces "
                     "999999).", lower_bound=1)
flags.DEFINE_boolean("save_fake", False, "Also write the generated image alone "
                     "(<P1>___<P2>_fake.png).")
flags.DEFINE_integer("num_shards", 1, "TFRecord shards of the conversion.", lower_bound=1)
flags.DEFINE_list("metrics", [], "Score the written folder afterwards under these protocols "
                  "(patn: padded 256x256 from the strips, as tool/getMetrics_fashion.py; "
                  "gfla: 256x176 against <dataroot>/<phase>, as GFLA's script/metrics.py); "
                  "writes <results>/scores.json. LPIPS and FID: see the next flags.")
flags.DEFINE_string("lpips_backbone", None, "torchvision alexnet .pth (LPIPS, with "
                    "--lpips_lin).")
flags.DEFINE_string("lpips_lin", None, "lpips v0.1 alex.pth.")
flags.DEFINE_string("inception_weights", None, "Keras InceptionV3 no-top weights (FID).")
flags.DEFINE_string("fid_real_dir", None, "Real images for FID (default: the targets).")


def generator_path(exp_dir):
    """The file or folder of ``--which_epoch``: ``<label>_net/`` (networks folder), else
    ``<label>_net_netG.pth`` (the original's), else ``--which_epoch`` itself when it names a
    file or folder (e.g. a demo ``.npz``)."""
    folder = os.path.join(exp_dir, f"{FLAGS.which_epoch}_net")
    for path in (folder, os.path.join(exp_dir, f"{FLAGS.which_epoch}_net_netG.pth"),
                 FLAGS.which_epoch):
        if os.path.exists(path):
            return path
    raise options.InputError(f"no generator '{FLAGS.which_epoch}': neither {folder}/ nor "
                             f"{folder}_netG.pth")


def main(argv):
    del argv
    from PIL import Image

    from tfposegen.data.pose_pairs import pose_pair_dataset
    from tfposegen.models.adgan import visualize, weights
    from tfposegen.utils.files import atomic_path, write_png
    from tfposegen.utils.progress import Progress

    bad = [p for p in FLAGS.metrics if p not in ("patn", "gfla")]
    if bad:
        raise app.UsageError(f"--metrics: unknown {bad}; choose from patn, gfla")
    options.make_synthetic()
    exp_dir = os.path.join(FLAGS.checkpoints_dir, FLAGS.name)
    source = generator_path(exp_dir)
    try:
        netG = weights.load_generator(source)
    except ValueError as e:  # TorchCheckpointError, NetworksFileError: the file is named
        raise options.InputError(str(e)) from None
    logging.info("generator from %s", source)
    folder, size, pairs = options.records()
    label = FLAGS.which_epoch
    if source == label:  # a path: its file or folder name without extension
        label = os.path.splitext(os.path.basename(os.path.normpath(label)))[0]
    out_dir = os.path.join(FLAGS.results_dir, FLAGS.name, f"test_{label}", "images")
    os.makedirs(out_dir, exist_ok=True)
    data = pose_pair_dataset(folder, size, batch_size=1, shuffle=False, with_parse=True,
                             num_parse_classes=8, peak_only=True)
    total = min(FLAGS.how_many, pairs)
    progress = Progress(f"adgan test {FLAGS.name}", total)
    done = 0
    for batch in data.take(total):
        fake = netG(batch["target_pose"], batch["source_image"], batch["source_parse"])
        names = [batch[k][0].numpy().decode() for k in ("source_name", "target_name")]
        stem = os.path.join(out_dir, "___".join(names))
        vis = visualize.vis_strip(batch["source_image"][0], batch["source_pose"][0],
                              batch["target_image"][0], batch["target_pose"][0], fake[0])
        with atomic_path(f"{stem}_vis.jpg") as tmp:
            Image.fromarray(vis).save(tmp, format="JPEG")
        if FLAGS.save_fake or "gfla" in FLAGS.metrics:
            write_png(f"{stem}_fake.png", visualize.tensor_to_uint8(fake[0]))
        done += 1
        progress.update(done)
    print(f"wrote {done} results to {out_dir}")
    if FLAGS.metrics:
        score(out_dir)


def score(out_dir):
    """Score the written folder under ``--metrics``; print the table, write scores.json."""
    from tfposegen.metrics import lpips
    from tfposegen.metrics.fid import InceptionFeatures
    from tfposegen.metrics.pose_transfer import format_table, score_folder
    from tfposegen.utils.files import write_json

    lp = (lpips.from_files("alex", FLAGS.lpips_backbone, FLAGS.lpips_lin)
          if FLAGS.lpips_backbone and FLAGS.lpips_lin else None)
    inception = InceptionFeatures(FLAGS.inception_weights) if FLAGS.inception_weights else None
    try:
        result = score_folder(out_dir, FLAGS.metrics,
                              os.path.join(FLAGS.dataroot, FLAGS.phase), lp, inception,
                              FLAGS.fid_real_dir)
    except ValueError as e:  # MetricInputError, ImageReadError, weight-file errors
        raise options.InputError(str(e)) from None
    print(format_table(result))
    write_json(os.path.join(os.path.dirname(out_dir), "scores.json"), result)


if __name__ == "__main__":
    options.run(main)
