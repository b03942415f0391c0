"""Photos -> 18 OpenPose keypoints (BlazePose) in a file the DPIG converters read.

    python run_scripts/detect_keypoints.py photos/ --output poses.csv
    python run_scripts/detect_keypoints.py a.jpg b.png --output openpose_json/ --format json
    python run_scripts/detect_keypoints.py DF/filted_up_test \\
        --output DF/PoseFiltered/all_peaks_dic_DeepFashion.p
    python run_scripts/detect_keypoints.py RCV/train --output RCV/PoseRCV/train.pickle

Arguments are image files, folders (their .jpg/.jpeg/.png/.bmp/.webp files, not recursive)
or glob patterns; entries are keyed by file name. Formats (``--format auto`` picks by
``--output``): ``csv`` = PATN / GFLA ``name:keypoints_y:keypoints_x`` (.csv), ``json`` =
one OpenPose ``<stem>_keypoints.json`` per image (a folder), ``rcv`` = convert_RCV's
{name: [18, 3] (row, col, vis)} pickle (.pickle), ``openpose`` = ``all_peaks_dic*.p`` plus
its ``subsets_dic*.p`` twin (.p). Use the result with the converters' ``--pose_file``.

The BlazePose model files are fetched once from the mediapipe wheel into the cache
(``$TFPOSEGEN_CACHE`` or ``~/.cache/tfposegen``); ``--model_dir`` points at files you
already have, ``--nofetch`` forbids downloading. Exit status 2 with
``detect_keypoints.py: error: <path> ...`` for a missing or unreadable image, an image with
nobody in it (unless ``--skip_failures``) or unavailable model files.
"""

import glob
import os
import sys
import warnings

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("output", None, "Output file (.csv, .pickle, all_peaks_dic*.p) or "
                    "folder (OpenPose JSON).")
flags.DEFINE_enum("format", "auto", ["auto", "csv", "json", "rcv", "openpose"],
                  "Keypoint file format (auto: from --output).")
flags.DEFINE_string("model_dir", None, "Folder with pose_detection.tflite and "
                    "pose_landmark_full.tflite (or the mediapipe 0.10.21 wheel).")
flags.DEFINE_bool("fetch", True, "Download the model files into the cache when missing.")
flags.DEFINE_float("min_visibility", 0.5, "Joints less visible than this are written as "
                   "missing.", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_enum("facing", "auto", ["auto", "model", "front", "back"], "Which way the "
                  "person faces (auto: BlazePose's answer when the face is in the photo, "
                  "else front).")
flags.DEFINE_bool("mirror", True, "Also run on the mirrored photo and keep the more "
                  "confident result.")
flags.DEFINE_bool("skip_failures", False, "Leave out images without a person (with a "
                  "warning) instead of stopping.")
flags.mark_flag_as_required("output")

SCRIPT = "detect_keypoints.py"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class UsageError(ValueError):
    """Bad arguments; the message names the path."""


def list_images(args):
    """Image paths from files, folders and glob patterns, in argument order (folders and
    patterns sorted); UsageError for a path that matches nothing or repeated file names."""
    paths = []
    for arg in args:
        if os.path.isdir(arg):
            found = sorted(os.path.join(arg, f) for f in os.listdir(arg)
                           if f.lower().endswith(IMAGE_EXTENSIONS))
        elif os.path.isfile(arg):
            found = [arg]
        else:
            found = sorted(glob.glob(arg))
        if not found:
            raise UsageError(f"{arg}: no such image, folder or pattern (or no images in it)")
        paths += found
    names = {}
    for path in paths:
        name = os.path.basename(path)
        if name in names and names[name] != path:
            raise UsageError(f"{path}: file name also used by {names[name]} (entries are "
                             f"keyed by file name)")
        names[name] = path
    return list(names.values())


def output_format(output, fmt):
    """The writer to use for ``--output`` / ``--format``; UsageError for OpenPose pickles
    not named ``all_peaks*`` (the converters find the subsets twin by that name)."""
    if fmt == "auto":
        fmt = {".csv": "csv", ".pickle": "rcv", ".p": "openpose"}.get(
            os.path.splitext(output)[1], "json")
    if fmt == "openpose" and "all_peaks" not in os.path.basename(output):
        raise UsageError(f"{output}: OpenPose pickles must be named all_peaks_dic*.p (the "
                         f"subsets_dic*.p twin is written beside it)")
    return fmt


def write(entries, scores, output, fmt):
    """Write keypoints in ``fmt``; returns the written paths."""
    from tfposegen.pose import formats as F

    folder = output if fmt == "json" else os.path.dirname(output)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if fmt == "csv":
        F.write_keypoint_csv(output, entries)
    elif fmt == "rcv":
        F.write_rcv_pickle(output, entries)
    elif fmt == "json":
        return F.write_openpose_json(output, entries, scores)
    else:
        head, base = os.path.split(output)
        subsets = os.path.join(head, base.replace("all_peaks", "subsets"))
        F.write_openpose_pickles(output, subsets, entries, scores)
        return [output, subsets]
    return [output]


def main(argv):
    from tfposegen.pose import blazepose, keypoints, model_files
    from tfposegen.utils.progress import Progress

    try:
        if len(argv) < 2:
            raise UsageError("give image files, folders or glob patterns")
        fmt = output_format(FLAGS.output, FLAGS.format)
        paths = list_images(argv[1:])
        model = blazepose.BlazePose(FLAGS.model_dir, FLAGS.fetch)
        entries, scores, skipped = {}, {}, []
        progress = Progress(SCRIPT, len(paths))
        for k, path in enumerate(paths):
            name = os.path.basename(path)
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", blazepose.MultiplePeopleWarning)
                    entries[name], scores[name] = keypoints.detect_keypoints(
                        path, model, FLAGS.min_visibility, FLAGS.facing, FLAGS.mirror)
                for w in caught:
                    print(f"{SCRIPT}: warning: {w.message}", file=sys.stderr)
            except blazepose.NoPersonError as e:
                if not FLAGS.skip_failures:
                    raise
                skipped.append(path)
                print(f"{SCRIPT}: warning: {e} (skipped)", file=sys.stderr)
            progress.update(k + 1)
        written = write(entries, scores, FLAGS.output, fmt)
    except (UsageError, blazepose.PoseInputError, model_files.ModelFilesError) as e:
        print(f"{SCRIPT}: error: {e}", file=sys.stderr)
        return 2
    where = FLAGS.output if fmt == "json" else ", ".join(written)
    print(f"{SCRIPT}: {len(entries)} images ({len(skipped)} without a person skipped) -> "
          f"{where} ({fmt})")
    return 0


if __name__ == "__main__":
    app.run(main)
