"""Test one of PAINT's stages (gxl-groups/PAINT: ``LGN/test.py``, ``TSN/test.py``,
``AFN/test.py``) and score it as the original evaluates (LGN/miou.py; TSN / AFN ``eval.py``).

    python run_scripts/paint/test.py --stage lgn --dataroot R --name LGN --model stage1_gan \\
        --direction AtoB --results_dir results/       # --epoch 40, --n_samples 10
    python run_scripts/paint/test.py --stage tsn --dataroot R -c configs/celebahq.json -l 3
    python run_scripts/paint/test.py --stage afn --dataroot R -c configs/celebahq.json \\
        -n pennet -m pconv

LGN: G and E of ``<checkpoints_dir>/<name>/<epoch>_net/`` (run_scripts/paint/train.py) or
the original's ``<epoch>_net_G.pth`` / ``_net_E.pth`` there. Items of the list (LGN reads
``all_train.txt`` at test too; ``--list_file`` for another), the view drawn per item from
``--seed``; the first ``--num_test``. Per item i, into ``<results_dir>/<phase>/`` (the
original's hard-coded folder made an option): ``RB/<i>.png`` and ``FB/<i>.png`` (the argmax
labels of the ground truth and of ``G(A, E-means)``, uint8), ``ground truth/<i>.png`` and
``encoded/<i>.png`` (PAINT's colours), and for nn = 1 .. ``--n_samples`` ``<nn>/<i>.png`` (a
random code: three 8-wide N(-1, 2^2) pieces; the original passes one 8-wide piece and
crashes; ``--sync``: the same codes for every item). Scores (LGN/miou.py): per-image mIoU,
pixel accuracy and mean class accuracy, averaged over the items tested; the released
script's number (the mIoU sum / 1999, whatever the number of items) is printed too.

TSN / AFN: the generator of ``<save_dir>/<name>_<pen5|pen55>_<mask><size>/``: ``net_<N>/``
(run_scripts/paint/train.py) or the original's ``gen_<N>.pth``, N the last line of
``latest.ckpt`` (``-m`` defaults to ``pconv`` for AFN too, the folder its training
writes; the original AFN/test.py's default picks ``square``). The test list
(``<flist_root>/pen5|pen55/test.flist``), sorted; writes into
``results_<N>_level_<level>/`` there (or ``--results_dir``), names from the list line up
to its first dot (``<a>_<N>/<id>_1``, so in sub-folders): TSN ``<name>.png`` (prediction),
``<name>_orig.png``, ``<name>_mask.png`` (the two swatches); AFN ``<name>_pred1.png``,
``_pred2.png``, ``_orig.png`` (source view), ``_pose1.png``, ``_pose2.png`` (the real target
views); images as the original's ``postprocess`` (``(x + 1) / 2 * 255`` truncated). AFN's
``_parsing.png`` and ``_fp2`` / ``_fp3`` flow pictures are not written. Then eval.py's MAE /
PSNR / SSIM (``tfposegen.metrics.image.paint_image_scores``, read back from the files) of
(``_orig``, prediction) for TSN and (``_pose1``, ``_pred1``), (``_pose2``, ``_pred2``) for
AFN (eval.py's ``*_comp.png`` names match nothing the tests write); no FID.

Scores go to stdout and ``scores.json`` in the results folder (``--scores_json``).
"""

import os

import numpy as np
import options
from absl import flags, logging

FLAGS = flags.FLAGS
options.define_flags(train=False)
flags.DEFINE_string("results_dir", "results/", "LGN: results go to <results_dir>/<phase>/; "
                    "TSN / AFN: the results folder (default in the save folder).")
flags.DEFINE_string("phase", "new_25-40_latest_val", "LGN: sub-folder of --results_dir.")
flags.DEFINE_integer("num_test", 1999, "LGN: items to test (the first of the list).",
                     lower_bound=1)
flags.DEFINE_integer("n_samples", 10, "LGN: random layouts per item.", lower_bound=0)
flags.DEFINE_boolean("sync", False, "LGN: the same random codes for every item.")
flags.DEFINE_string("list_file", None, "LGN: list to test (default all_train.txt, as the "
                    "original).")
flags.DEFINE_integer("level", None, "TSN / AFN: only names the results folder.",
                     short_name="l")
flags.DEFINE_string("scores_json", None, "Where the scores go (default <results>/scores.json).")


def _load(build, load_pth, folder, pth, keys):
    """Networks ``keys`` from a networks folder, else ``load_pth(nets)`` of the .pth files."""
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError

    if os.path.isdir(folder):
        nets = options.load_nets(folder)
        missing = [k for k in keys if k not in nets]
        if missing:
            raise options.InputError(f"{folder}: no network {missing[0]}")
        return nets
    if not os.path.isfile(pth):
        raise options.InputError(f"no networks: neither {folder}/ nor {pth}")
    nets = build()
    try:
        load_pth(nets)
    except TorchCheckpointError as e:
        raise options.InputError(str(e)) from None
    return nets


def _item(lay, index, seed):
    from tfposegen.models.paint.data import PaintDataError

    try:
        return lay.item(index, seed)
    except PaintDataError as e:
        raise options.InputError(str(e)) from None


def test_lgn(root):
    from tfposegen.metrics.segmentation import PerImageScores, labels_of
    from tfposegen.models.paint import pipeline, weights
    from tfposegen.models.paint.data import PaintDataError, PaintLayout
    from tfposegen.models.paint.train import build_stage
    from tfposegen.utils.files import write_png

    exp = os.path.join(FLAGS.checkpoints_dir, FLAGS.name or "")
    nets = _load(lambda: build_stage("lgn", FLAGS.preset, FLAGS.seed),
                 lambda n: weights.load_checkpoints(exp, FLAGS.epoch, G=n["G"], E=n["E"]),
                 os.path.join(exp, f"{FLAGS.epoch}_net"),
                 os.path.join(exp, f"{FLAGS.epoch}_net_G.pth"), ("G", "E"))
    G, E = nets["G"], nets["E"]
    try:
        lay = PaintLayout(root, "lgn", list_file=FLAGS.list_file)
    except PaintDataError as e:
        raise options.InputError(str(e)) from None
    out = os.path.join(FLAGS.results_dir, FLAGS.phase)
    for sub in ("RB", "FB", "ground truth", "encoded",
                *(str(n) for n in range(1, FLAGS.n_samples + 1))):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    acc = PerImageScores()
    count = min(FLAGS.num_test, len(lay))
    for i in range(count):
        item = _item(lay, i, FLAGS.seed)
        pose = item["A"][None]
        z0 = np.concatenate([np.asarray(E(item[k][None])[0]) for k in ("ct", "cb", "c3")], -1)
        real, fake = labels_of(item["B"]), labels_of(np.asarray(G(pose, z0))[0])
        acc.add(fake, real)
        write_png(os.path.join(out, "RB", f"{i}.png"), real.astype(np.uint8))
        write_png(os.path.join(out, "FB", f"{i}.png"), fake.astype(np.uint8))
        write_png(os.path.join(out, "ground truth", f"{i}.png"), pipeline.colour_layout(real))
        write_png(os.path.join(out, "encoded", f"{i}.png"), pipeline.colour_layout(fake))
        if FLAGS.n_samples:
            seed = FLAGS.seed if FLAGS.sync else FLAGS.seed * 1_000_003 + i + 1
            codes = pipeline.random_codes(seed, FLAGS.n_samples + 1, z0.shape[-1])
            for nn in range(1, FLAGS.n_samples + 1):
                layout = labels_of(np.asarray(G(pose, codes[nn:nn + 1]))[0])
                write_png(os.path.join(out, str(nn), f"{i}.png"),
                          pipeline.colour_layout(layout))
    print(f"wrote {count} items ({4 + FLAGS.n_samples} images each) to {out}")
    scores = dict(miou=acc.mean_iou(), pixel_accuracy=acc.pixel_accuracy(),
                  mean_pixel_accuracy=acc.mean_pixel_accuracy(), images=count,
                  miou_sum_over_1999=acc.mean_iou(1999))
    print(f"mIoU {scores['miou']:.4f}  pixel accuracy {scores['pixel_accuracy']:.4f}  mean "
          f"class accuracy {scores['mean_pixel_accuracy']:.4f}  over {count} images "
          f"(the released script's sum / 1999: {scores['miou_sum_over_1999']:.4f})")
    return out, scores


def test_tsn_afn():
    from tfposegen.models.paint import weights
    from tfposegen.models.paint.train import build_stage
    from tfposegen.utils.files import read_rgb, to_uint8, write_png

    config = options.stage_config()
    root = options.dataroot(config)
    save_dir = options.tsn_afn_save_dir(config)
    index = options.latest_index(save_dir)
    tsn = FLAGS.stage == "tsn"
    load = weights.load_tsn_generator_state if tsn else weights.load_afn_generator_state
    pth = os.path.join(save_dir, f"gen_{index}.pth")
    G = _load(lambda: build_stage(FLAGS.stage, FLAGS.preset, options.seed(config)),
              lambda n: load(n["G"], pth), os.path.join(save_dir, f"net_{index}"), pth,
              ("G",))["G"]
    lay = options.layout(root, "test", config)
    level = "None" if FLAGS.level is None else str(FLAGS.level).zfill(2)
    out = (FLAGS.results_dir if FLAGS["results_dir"].present
           else os.path.join(save_dir, f"results_{index}_level_{level}"))
    pairs = []
    for i in range(len(lay)):
        item = {k: v[None] for k, v in _item(lay, i, options.seed(config)).items()}
        stem = os.path.join(out, *lay.names[i].split(".")[0].split("/"))
        os.makedirs(os.path.dirname(stem), exist_ok=True)
        if tsn:
            pred = G(*(item[k] for k in ("swatch_t", "swatch_b", "mask_t", "mask_b",
                                         "mask_to", "mask_bo", "parsing")))
            files = {".png": pred, "_orig.png": item["image"],
                     "_mask.png": item["swatch_t"] + item["swatch_b"]}
            pairs.append((f"{stem}_orig.png", f"{stem}.png"))
        else:
            preds = [G(item["image"], item[f"parsing_p{k}"], item["parsing"])[0]
                     for k in (1, 2)]
            files = {"_pred1.png": preds[0], "_pred2.png": preds[1],
                     "_orig.png": item["image"], "_pose1.png": item["image_p1"],
                     "_pose2.png": item["image_p2"]}
            pairs += [(f"{stem}_pose{k}.png", f"{stem}_pred{k}.png") for k in (1, 2)]
        for suffix, image in files.items():
            write_png(stem + suffix, to_uint8(np.asarray(image)[0]))
    print(f"wrote {len(lay)} items to {out}")
    from tfposegen.metrics.image import paint_image_scores

    try:
        scores = paint_image_scores([read_rgb(a) for a, _ in pairs],
                                    [read_rgb(b) for _, b in pairs])
    except ValueError as e:   # e.g. images under SSIM's 51 x 51 window
        raise options.InputError(f"{out}: cannot score ({e})") from None
    scores["images"] = len(pairs)
    print(f"mae {scores['mae']:.4f}  psnr {scores['psnr']:.4f}  ssim {scores['ssim']:.4f}  "
          f"over {len(pairs)} image pairs")
    return out, scores


def main(argv):
    del argv
    from tfposegen.utils.files import write_json

    if FLAGS.stage == "lgn":
        out, scores = test_lgn(options.dataroot())
    else:
        out, scores = test_tsn_afn()
    path = FLAGS.scores_json or os.path.join(out, "scores.json")
    write_json(path, {"stage": FLAGS.stage, **scores})
    logging.info("scores: %s", scores)
    print(f"wrote {path}")


if __name__ == "__main__":
    options.run(main)
