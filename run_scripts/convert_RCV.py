"""DPIG's convert_RCV.py: raw images + keypoints -> pair TFRecords for DPIG training/testing.

    python run_scripts/convert_RCV.py <root> <split> [<other_root>]
    # split: train, test, test_seq, test_seq_other (needs <other_root>)
    python run_scripts/convert_RCV.py --dataset_dir <root> --split_name <split> --num_workers 4

The original positional form runs unchanged; new flags are additions. Layouts, pair rules,
output names, metadata files and the original's quirks: tfposegen.data.dpig_convert.
Shards that exist are kept (rerun after an interruption to finish); each is written under
a temporary name and renamed when complete. Exit status 2 with ``convert_RCV.py: error: ...``
for unusable input (missing folder or pose file, unreadable image).
"""

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("dataset_dir", None, "Dataset root (first positional argument).")
flags.DEFINE_string("split_name", None, "Split (second positional argument).")
flags.DEFINE_integer("num_workers", 2, "Processes building records.", lower_bound=1)
flags.DEFINE_integer("num_shards", 1, "Output files (the original wrote 1).", lower_bound=1)
flags.DEFINE_string("pose_file", None, "Keypoints instead of the original pose pickles: a "
                    "name:keypoints_y:keypoints_x .csv, an OpenPose JSON folder, an RCV "
                    ".pickle or an all_peaks_dic*.p.")
flags.DEFINE_integer("seed", 0, "Seed of the pair shuffling (the original's random.seed(0)).")
flags.DEFINE_string("other_dir", None, "Second dataset root (test_seq_other; third "
                    "positional argument).")
flags.DEFINE_enum("img_pattern", "png", ["png", "jpg"], "Image file extension (the original's "
                  "_IMG_PATTERN).")


def main(argv):
    from tfposegen.data.dpig_convert import run_cli

    return run_cli("convert_RCV.py", "RCV", argv[1:], FLAGS.flag_values_dict())


if __name__ == "__main__":
    app.run(main)
