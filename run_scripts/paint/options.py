"""Flags that PAINT's per-stage train.py and test.py share (gxl-groups/PAINT: LGN's
``options/base_options.py`` and the ``argparse`` of ``TSN/train.py``, ``TSN/test.py``,
``AFN/train.py``, ``AFN/test.py``), the stage's data and its saved networks.

``--stage lgn|tsn|afn`` picks the stage (the original has one folder per stage). LGN keeps
its flag names (``--dataroot``, ``--name``, ``--model``, ``--batch_size``,
``--checkpoints_dir``, ``--epoch``, ...); TSN / AFN keep ``-c/--config``, ``-n/--name``
(``--model_name``, the test scripts' spelling, is an alias), ``-m/--mask``, ``-s/--size``,
``-l/--level``, ``-p/--port``, ``-e/--exam``. Their config's ``zip_root`` / ``flist_root``
(absolute paths of the authors' server) are replaced by ``--dataroot`` /
``--flist_root`` when given; without ``--config`` the shipped ``configs/celebahq.json``
values are used (:data:`tfposegen.models.paint.train.TSN_DEFAULTS`, ``AFN_DEFAULTS``).

Data: the Fashion-Gen layout of :mod:`tfposegen.models.paint.data` under ``--dataroot``;
training reads TFRecords made from the stage's list on first use, beside the dataroot
(``<dataroot>_paint_<stage>_<split>_records``). ``--synthetic`` writes a synthetic layout
at ``--dataroot`` when it is missing (``--synthetic_size`` pixels; seeded random VGG19
weights then), so every stage runs offline.

Saved networks: no ``.pth`` writer exists in the library, so the scripts save the
library's networks folders (``tfposegen.utils.saving``: ``networks.json`` + Keras
``<key>.weights.h5``) under the original's names: LGN ``<checkpoints_dir>/<name>/
<epoch>_net/`` and ``latest_net/`` (G, E, D, D2; the original ``<epoch>_net_<X>.pth``),
TSN / AFN ``<save_dir>/net_<NNNNN>/`` (G, D or D2; the original ``gen_`` / ``dis_`` /
``dis2_<NNNNN>.pth``) with the original's ``latest.ckpt``. The test scripts load those, or
the original ``.pth`` files of the same names (weights.py).
"""

import json
import os

from absl import flags

from tfposegen.utils.cli import InputError, run  # noqa: F401 - the scripts' options.run

FLAGS = flags.FLAGS
D_KEY = {"tsn": "D", "afn": "D2"}   # the discriminator each PEN-Net trainer saves


def define_flags(train):
    flags.DEFINE_enum("stage", None, ["lgn", "tsn", "afn"], "Which network: LGN/, TSN/ or "
                      "AFN/ of the original.")
    flags.DEFINE_string("dataroot", None, "Fashion-Gen root (LGN --dataroot; TSN / AFN the "
                        "config's zip_root).")
    flags.DEFINE_string("flist_root", None, "TSN / AFN: folder of pen5/, pen55/ (default "
                        "<dataroot>/flist).")
    flags.DEFINE_string("name", None, "LGN: experiment folder under --checkpoints_dir "
                        "(default ''); TSN / AFN: the model name (default pennet).",
                        short_name="n")
    flags.DEFINE_alias("model_name", "name")
    flags.DEFINE_enum("model", "bicycle_gan", ["bicycle_gan", "stage1_gan"], "LGN: "
                      "stage1_gan (the README's; its model file is missing) runs bicycle_gan.")
    flags.DEFINE_string("direction", "AtoB", "LGN: accepted (AtoB only).")
    flags.DEFINE_string("checkpoints_dir", "./checkpoints", "LGN: where experiments are.")
    if not train:
        flags.DEFINE_string("epoch", "40", "LGN: networks to load (<epoch>_net/ or "
                            "<epoch>_net_G.pth).")
    flags.DEFINE_integer("batch_size", None, "LGN default 2; TSN / AFN default the config's.",
                         lower_bound=1)
    flags.DEFINE_string("gpu_ids", "0", "Accepted for the original's command lines.")
    flags.DEFINE_string("config", None, "TSN / AFN config json (default: the shipped "
                        "configs/celebahq.json values).", short_name="c")
    flags.DEFINE_string("mask", "pconv", "TSN / AFN: the save folder's mask word (the "
                        "original's -m; the mask files are never read).", short_name="m")
    flags.DEFINE_integer("size", 256, "TSN / AFN: the save folder's size (-s); the images "
                         "are used at their stored size.", short_name="s")
    flags.DEFINE_string("port", "23457", "Accepted (-p; torch.distributed).", short_name="p")
    flags.DEFINE_string("save_dir", None, "TSN / AFN: default the config's (release_model/).")
    flags.DEFINE_enum("preset", "released", ["released", "tiny"], "Network sizes "
                      "(tfposegen.models.paint.presets; tiny: TRAIN_TINY).")
    flags.DEFINE_boolean("synthetic", False, "Write a synthetic Fashion-Gen layout at "
                         "--dataroot if missing (seeded random VGG19 weights then).")
    flags.DEFINE_integer("synthetic_size", None, "Side of the synthetic images (default 64 "
                         "with --preset tiny, else 256).", lower_bound=48)
    flags.DEFINE_integer("synthetic_items", 2, "Synthetic garments per split.", lower_bound=1)
    flags.DEFINE_integer("seed", 0, "Seed of the initial weights, the data order and every "
                         "item's random choices (views, swatch sides, roles); TSN / AFN "
                         "default: the config's seed (2020).")
    flags.mark_flag_as_required("stage")


def stage_config():
    """The TSN / AFN config (json of ``--config``, else the shipped values), flat: data
    (``zip_root``, ``flist_root``, ``name``), ``save_dir``, ``seed`` and the trainer and
    loss options of :class:`~tfposegen.models.paint.train.TSNTrainer`."""
    from tfposegen.models.paint import train

    base = dict(train.TSN_DEFAULTS if FLAGS.stage == "tsn" else train.AFN_DEFAULTS)
    out = dict(save_dir="release_model/", seed=2020, zip_root=None, flist_root=None,
               data_name="pen5" if FLAGS.stage == "tsn" else "pen55", save_freq=10000,
               options=base)
    if FLAGS.config:
        try:
            with open(FLAGS.config) as f:
                cfg = json.load(f)
            loader = cfg.get("data_loader", {})
            out.update(save_dir=cfg.get("save_dir", out["save_dir"]),
                       seed=cfg.get("seed", out["seed"]), zip_root=loader.get("zip_root"),
                       flist_root=loader.get("flist_root"),
                       data_name=loader.get("name", out["data_name"]))
            trainer, losses = cfg.get("trainer", {}), cfg.get("losses", {})
            out["save_freq"] = int(trainer.get("save_freq", out["save_freq"]))
            for key in base:
                value = trainer.get(key, losses.get(key))
                if value is not None:
                    base[key] = type(base[key])(value)
        except (OSError, ValueError, AttributeError, TypeError) as e:
            raise InputError(f"{FLAGS.config}: cannot read the config ({e})") from None
    if FLAGS.save_dir:
        out["save_dir"] = FLAGS.save_dir
    return out


def dataroot(config=None):
    """The data root (``--dataroot``, else the config's ``zip_root``), made with
    ``--synthetic`` when missing; InputError naming it when it is not a folder."""
    from tfposegen.utils.files import atomic_folder

    root = FLAGS.dataroot or (config or {}).get("zip_root")
    if not root:
        raise InputError("--dataroot is required (or a --config with data_loader.zip_root)")
    root = os.path.abspath(root)
    if FLAGS.synthetic and not os.path.isdir(root):
        from tfposegen.models.paint.data import write_synthetic_layout

        size = FLAGS.synthetic_size or (64 if FLAGS.preset == "tiny" else 256)
        with atomic_folder(root) as tmp:
            write_synthetic_layout(tmp, FLAGS.synthetic_items, FLAGS.synthetic_items, size,
                                   FLAGS.seed)
    if not os.path.isdir(root):
        raise InputError(f"{root}: dataroot not found (no such folder)")
    return root


def flist_root(root, config=None):
    """``--flist_root``, else the config's when the data root is the config's (relative to
    the working directory, as the original's ``../flist``), else ``<root>/flist``."""
    if FLAGS.flist_root:
        return FLAGS.flist_root
    value = (config or {}).get("flist_root")
    return value if value and not FLAGS.dataroot else os.path.join(root, "flist")


def seed(config=None):
    """``--seed`` for LGN or when given, else the config's ``seed`` (2020)."""
    return FLAGS.seed if config is None or FLAGS["seed"].present else int(config["seed"])


def latest_index(save_dir):
    """The last line of ``<save_dir>/latest.ckpt`` (TSN / AFN ``test.py``), zero-filled to 5
    digits; InputError naming the file."""
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError
    from tfposegen.models.paint.weights import save_index

    try:
        return save_index(save_dir)
    except TorchCheckpointError as e:
        raise InputError(f"{e}; train first") from None


def tsn_afn_save_dir(config):
    """``<save_dir>/<name>_<pen5|pen55>_<mask><size>`` as TSN/AFN ``train.py`` name it."""
    return os.path.join(config["save_dir"], f"{FLAGS.name or 'pennet'}_{config['data_name']}"
                        f"_{FLAGS.mask}{FLAGS.size}")


def layout(root, split, config=None):
    """The stage's :class:`~tfposegen.models.paint.data.PaintLayout`; InputError naming a
    missing list."""
    from tfposegen.models.paint.data import PaintDataError, PaintLayout

    try:
        return PaintLayout(root, FLAGS.stage, split, flist_root(root, config))
    except PaintDataError as e:
        raise InputError(str(e)) from None


def network_classes():
    from tfposegen.models.paint.afn import AFNDiscriminator, AFNGenerator
    from tfposegen.models.paint.lgn import LGNDiscriminator, LGNEncoder, LGNGenerator
    from tfposegen.models.paint.tsn import TSNDiscriminator, TSNGenerator

    return {c.__name__: c for c in (LGNGenerator, LGNEncoder, LGNDiscriminator, TSNGenerator,
                                    TSNDiscriminator, AFNGenerator, AFNDiscriminator)}


def save_nets(nets, folder, metadata):
    """The networks (without ``size``) as a library networks folder, atomically."""
    from tfposegen.utils.saving import save_networks

    save_networks({k: v for k, v in nets.items() if k != "size"}, folder,
                  {"stage": FLAGS.stage, **metadata})


def load_nets(folder):
    """The networks of a folder written by :func:`save_nets`; InputError naming it."""
    from tfposegen.utils.saving import NetworksFileError, load_networks

    try:
        return load_networks(folder, network_classes())[0]
    except NetworksFileError as e:
        raise InputError(str(e)) from None
