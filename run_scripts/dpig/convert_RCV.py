"""DPIG's convert_RCV.py: raw images + keypoints -> pair TFRecords for DPIG training/testing.

    python run_scripts/dpig/convert_RCV.py <root> <split> [<other_root>]
    # split: train, test, test_seq, test_seq_other (needs <other_root>)
    python run_scripts/dpig/convert_RCV.py --dataset_dir <root> --split_name <split> --num_workers 4

The original positional form runs unchanged; new flags are additions. Layouts, pair rules,
output names, metadata files and the original's quirks: tfposegen.models.dpig.convert.
Shards that exist are kept (rerun after an interruption to finish); each is written under
a temporary name and renamed when complete. Exit status 2 with ``convert_RCV.py: error: ...``
for unusable input (missing folder or pose file, unreadable image).
"""

from absl import app, flags

from tfposegen.models.dpig.convert import define_flags, run_cli

FLAGS = flags.FLAGS
define_flags("RCV")


def main(argv):
    return run_cli("convert_RCV.py", "RCV", argv[1:], FLAGS.flag_values_dict())


if __name__ == "__main__":
    app.run(main)
