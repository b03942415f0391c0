"""DPIG's convert_DF.py: raw images + keypoints -> pair TFRecords for DPIG training/testing.

    python run_scripts/dpig/convert_DF.py <root> <split>
        # split: train, test, test_samples, test_seq
    python run_scripts/dpig/convert_DF.py --dataset_dir <root> --split_name <split> \\
        --num_workers 4

The original positional form runs unchanged; new flags are additions. Layouts, pair rules,
output names, metadata files and the original's quirks: tfposegen.models.dpig.convert.
Shards that exist are kept (rerun after an interruption to finish); each is written under
a temporary name and renamed when complete. Exit status 2 with ``convert_DF.py: error: ...``
for unusable input (missing folder or pose file, unreadable image).
"""

from absl import app, flags

from tfposegen.models.dpig.convert import define_flags, run_cli

FLAGS = flags.FLAGS
define_flags("DF")


def main(argv):
    return run_cli("convert_DF.py", "DF", argv[1:], FLAGS.flag_values_dict())


if __name__ == "__main__":
    app.run(main)
