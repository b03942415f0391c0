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
size is read from the file). Pairs are taken in the pairs-CSV order, batch 1, as the
original; the dataroot is converted once into TFRecords beside it
(``<dataroot>_<phase>_records``).

Writes ``<results_dir>/<name>/test_<which_epoch>/images/<P1 name>___<P2 name>_vis.jpg``:
the original's 5-panel strip [source | source pose | target | target pose | generated],
JPEG at PIL's default quality 75; with ``--save_fake`` also ``..._fake.png`` (the generated
panel alone, lossless, what the metrics read).
"""

import os
import sys

import options
from absl import app, flags, logging

FLAGS = flags.FLAGS
options.define_base_flags("test")
flags.DEFINE_string("results_dir", "./results/", "Where the images are written.")
flags.DEFINE_integer("how_many", 999999, "Pairs to render at most (the original forces "
                     "999999).", lower_bound=1)
flags.DEFINE_boolean("save_fake", False, "Also write the generated image alone "
                     "(<P1>___<P2>_fake.png).")
flags.DEFINE_boolean("synthetic", False, "Make a tiny synthetic dataroot at --dataroot if "
                     "missing (run_scripts/adgan/train.py --synthetic first, for networks).")
flags.DEFINE_integer("num_shards", 1, "TFRecord shards of the conversion.", lower_bound=1)


def load_generator(exp_dir):
    """netG of ``--which_epoch``: the networks folder, else the original's .pth."""
    from tfposegen.convert.torch_checkpoint import state_dict
    from tfposegen.models.adgan import weights
    from tfposegen.models.adgan.networks import ADGen

    folder = os.path.join(exp_dir, f"{FLAGS.which_epoch}_net")
    if os.path.isfile(os.path.join(folder, "networks.json")):
        nets, _ = weights.load_networks(folder)
        if "netG" not in nets:
            raise app.UsageError(f"{folder}: has no netG")
        return nets["netG"], folder
    path = os.path.join(exp_dir, f"{FLAGS.which_epoch}_net_netG.pth")
    if not os.path.isfile(path):
        raise app.UsageError(f"no generator '{FLAGS.which_epoch}': neither {folder}/"
                             f"networks.json nor {path}")
    state = state_dict(path)
    try:
        model = ADGen(**weights.adgen_config(state))
    except ValueError as e:
        raise app.UsageError(f"{path}: {e}") from None
    weights.load_adgen_state(model, state, path=path)
    return model, path


def main(argv):
    del argv
    from PIL import Image

    from tfposegen.convert.torch_checkpoint import TorchCheckpointError
    from tfposegen.data.pose_pairs import pose_pair_dataset
    from tfposegen.models.adgan import data as adgan_data
    from tfposegen.models.adgan import visualize
    from tfposegen.utils.files import atomic_path, write_png
    from tfposegen.utils.progress import Progress
    from tfposegen.utils.saving import NetworksFileError

    if FLAGS.synthetic and not os.path.isdir(FLAGS.dataroot):
        adgan_data.make_synthetic_dataroot(FLAGS.dataroot)
    exp_dir = os.path.join(FLAGS.checkpoints_dir, FLAGS.name)
    try:
        netG, source = load_generator(exp_dir)
    except (TorchCheckpointError, NetworksFileError) as e:
        raise app.UsageError(str(e)) from None
    logging.info("generator from %s", source)
    folder, size, pairs = options.records()
    out_dir = os.path.join(FLAGS.results_dir, FLAGS.name, f"test_{FLAGS.which_epoch}",
                           "images")
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
        if FLAGS.save_fake:
            write_png(f"{stem}_fake.png", visualize.tensor_to_uint8(fake[0]))
        done += 1
        progress.update(done)
    print(f"wrote {done} results to {out_dir}")


if __name__ == "__main__":
    sys.exit(app.run(main))
