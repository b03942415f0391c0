"""Synthetic DPIG records under the real datasets' folder names, for the run scripts'
``DPIG_SYNTHETIC=1`` smoke runs and for trying the pipeline without the downloads.

    python run_scripts/dpig/make_synthetic_dpig.py --dataset=DF --data_dir=data_synthetic
    python run_scripts/dpig/make_synthetic_dpig.py --dataset=Market --data_dir=data_synthetic

Draws articulated synthetic people (``tfposegen.data.synthetic_persons``, 128x64) in the
raw layout of ``convert_RCV.py`` (DF) or ``convert_market.py`` (Market) under
``<data_dir>/raw_<dataset>/``, converts the train and test splits with the library's
converters and places the records at ``<data_dir>/<dataset>_train_data`` and
``<data_dir>/<dataset>_test_data``, the names the run scripts read. Existing record folders
are kept.
"""

import os
import shutil

from absl import app, flags

flags.DEFINE_enum("dataset", "DF", ["DF", "Market"], "Which dataset's folders to make.")
flags.DEFINE_string("data_dir", "data_synthetic", "Folder of the record folders.")
flags.DEFINE_integer("identities", 2, "People per split.")
flags.DEFINE_integer("poses", 3, "Images per person.")
FLAGS = flags.FLAGS


def make(dataset, data_dir, identities=2, poses=3):
    """Write ``<data_dir>/<dataset>_{train,test}_data`` (kept when present); returns their
    paths."""
    raw = os.path.join(data_dir, f"raw_{dataset}")
    outs = {s: os.path.join(data_dir, f"{dataset}_{s}_data") for s in ("train", "test")}
    todo = [s for s, out in outs.items() if not os.path.isdir(out)]
    if not todo:  # nothing to write: no TensorFlow import (the test scripts call this again)
        return outs
    from tfposegen.data import synthetic_persons as S
    from tfposegen.models.dpig import convert as C

    if todo and not os.path.isdir(raw):
        if dataset == "DF":
            S.write_rcv_layout(raw, identities, poses, seed=5, size=(128, 64))
        else:
            S.write_market_layout(raw, identities, poses, seed=6)
    for split in todo:
        plan = (C.plan_rcv(raw, split) if dataset == "DF"
                else C.plan_market(raw, split, test_skip=0))
        tmp = outs[split] + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        C.write_plan(plan._replace(out_dir=tmp), verbose=False)
        os.replace(tmp, outs[split])
    return outs


def main(argv):
    del argv
    for split, path in make(FLAGS.dataset, FLAGS.data_dir, FLAGS.identities,
                            FLAGS.poses).items():
        print(f"make_synthetic_dpig.py: {split} records in {path}")


if __name__ == "__main__":
    app.run(main)
