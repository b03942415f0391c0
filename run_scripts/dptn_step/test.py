"""Test DPTN_step (``test.py`` of gkalstn000/DPTN_step): every pair of the test split through
the S-step chain, every step's output saved.

    python run_scripts/dptn_step/test.py --id step_dptn --save_id step_dptn --netG dptn \\
        --batchSize 20 --dataroot ./datasets/fashion --simple_test
    python run_scripts/dptn_step/test.py --id step_dptn --save_id mixed --netG dptn \\
        --dataroot ./datasets/fashion --mix_source target --mix_from 3     # style mixing

The generator is ``<checkpoints_dir>/<id>/<which_epoch>_net/`` (run_scripts/dptn_step/
train.py) or the original's ``<which_epoch>_net.pth`` there (``util.save_network``: one
file of netG, netD, optG, optD; built from the flags ``--load_size``, ``--step_size``,
``--ngf``, ... at the original's defaults). Pairs run in the pairs-CSV order, the last
partial batch included. For step k = 1 .. S the output goes to
``<results_dir>/<save_id>_<k>/<from>_2_<to>_vis.png`` (the original's names: the file
names without ``.jpg``, its ``_vis.jpg`` turned ``.png``), written atomically, at the
network size (256 x 256): ``ToPILImage`` of ``(x + 1) / 2``, i.e. ``(x + 1) / 2 * 255``
truncated to uint8, saved as PNG.

Differences: the chain's first input, Gaussian noise (the original's ``torch.randn``), is
seeded per pair: ``stateless_normal([H, W, 3], seed=[--seed, i])`` for the i-th pair of the
CSV (0-based), so results do not depend on ``--batchSize`` and runs repeat.
``--save_id`` defaults to ``--id`` (the original fails without it). ``--how_many`` limits the
pairs (the original defines it and runs all). Without ``--simple_test`` the original also
writes an HTML page; not here (the flag is accepted).

Style mixing (an addition: the original's README shows it, its code has none): with
``--mix_source`` the steps from ``--mix_from`` k on take their source image and pose from
person B instead of the pair's source A (steps 1 .. k-1 from A); ``--mix_from 1`` runs the
whole chain from B and ``S + 1`` is the plain chain. B is ``target`` (each pair's own target
image and pose) or an image of the split: a file name in ``<phase>_higher/`` (or a path to
one) with a row in the annotation CSV.

With ``--metrics dptn_step`` (DPTN_step's utils/metrics_step.py at the last step; ``dptn`` /
``dptn_market``: DPTN's metrics/metrics.py) it then scores the last step's folder
``<save_id>_<S>`` against ``<dataroot>/<phase>_higher/<to>.png`` (else ``.jpg``)
(``tfposegen.metrics.pose_transfer``): SSIM, SSIM_256 (the code's printed "SSIM"), PSNR, L1,
MAE; LPIPS with ``--lpips_backbone`` and ``--lpips_lin``; FID against ``--fid_real_dir``
(default ``<dataroot>/train_higher``; the code's ``real_path`` is the training images) with
torchvision's ImageNet InceptionV3 as the code (``--torchvision_inception``, score
``fid_torchvision``) and / or the standard network (``--inception_weights``, score ``fid``).
It prints the table and writes ``--scores_json`` (default
``<results_dir>/<save_id>_scores.json``) atomically.
"""

import os

import options
from absl import flags, logging

from tfposegen.utils.cli import check_metric_flags, define_metric_flags

FLAGS = flags.FLAGS
options.define_base_flags("test")
flags.DEFINE_string("results_dir", "./results", "Output folder.")
flags.DEFINE_string("save_id", None, "Results go to <results_dir>/<save_id>_<k>/ (default "
                    "--id).")
flags.DEFINE_integer("how_many", None, "Pairs to run (default all).", lower_bound=1)
flags.DEFINE_boolean("simple_test", False, "Accepted (the original: no HTML page).")
flags.DEFINE_string("mix_source", None, "Style mixing: person B, 'target' or an image of the "
                    "split (see the module docstring).")
flags.DEFINE_integer("mix_from", None, "With --mix_source: the first step (1 .. S + 1) that "
                     "takes B as its source.", lower_bound=1)
define_metric_flags("dptn_step (the last step's folder; the code's utils/metrics_step.py: "
                    "256x176), dptn / dptn_market (DPTN's metrics/metrics.py: as stored, "
                    "padded / not).", "<dataroot>/train_higher",
                    "<results_dir>/<save_id>_scores.json")
flags.register_multi_flags_validator(
    ["mix_source", "mix_from"], lambda f: (f["mix_source"] is None) == (f["mix_from"] is None),
    message="--mix_source and --mix_from go together")


METRIC_PROTOCOLS = ("dptn_step", "dptn", "dptn_market")


def score(results_dir, save_id):
    """Score the last step's folder ``results_dir`` under ``--metrics``; print the table,
    write the JSON."""
    from tfposegen.metrics.pose_transfer import (
        format_table,
        networks_from_files,
        score_folder,
    )
    from tfposegen.utils.files import write_json

    root = FLAGS.dataroot
    try:
        nets = networks_from_files(FLAGS.lpips_backbone, FLAGS.lpips_lin,
                                   FLAGS.inception_weights, FLAGS.torchvision_inception)
        result = score_folder(results_dir, FLAGS.metrics,
                              os.path.join(root, f"{FLAGS.phase}_higher"), nets[0], nets[1],
                              FLAGS.fid_real_dir or os.path.join(root, "train_higher"),
                              nets[2], FLAGS.fid_cache)
    except ValueError as e:  # MetricInputError, weight-file errors: the file is named
        raise options.InputError(str(e)) from None
    print(format_table(result))
    path = FLAGS.scores_json or os.path.join(FLAGS.results_dir, f"{save_id}_scores.json")
    write_json(path, result)
    print(f"wrote {path}")


def generator_source(exp_dir):
    """The folder or .pth of ``--which_epoch`` (checked before any TensorFlow work)."""
    folder = os.path.join(exp_dir, f"{FLAGS.which_epoch}_net")
    pth = options.pth_path(exp_dir, FLAGS.which_epoch)
    for path in (folder, pth):
        if os.path.exists(path):
            return path
    raise options.InputError(f"no generator '{FLAGS.which_epoch}': neither {folder}/ nor "
                             f"{pth}")


def load_generator(path):
    """The StepGenerator of a networks folder, or of the flags with an original .pth."""
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError
    from tfposegen.models.dptn import weights
    from tfposegen.utils.saving import NetworksFileError

    try:
        if os.path.isdir(path):
            nets, _ = weights.load_networks(path)
            if "G" not in nets:
                raise options.InputError(f"{path}: no generator G in the folder")
            return nets["G"]
        G = options.build_generator()
        weights.load_step_checkpoint(path, G=G)
        return G
    except (NetworksFileError, TorchCheckpointError) as e:
        raise options.InputError(str(e)) from None


def result_name(source, target):
    """The original's file name of a pair: ``<from>_2_<to>_vis.png`` with the names'
    extensions dropped (the code drops ``.jpg``, DeepFashion's)."""
    return f"{os.path.splitext(source)[0]}_2_{os.path.splitext(target)[0]}_vis.png"


def pair_noise(first, count, height, width, seed):
    """float32 [count, H, W, 3] ~ N(0, 1): pair i's noise ``stateless_normal([H, W, 3],
    seed=[seed, i])`` for i = first .. first + count - 1."""
    import tensorflow as tf

    return tf.stack([tf.random.stateless_normal([height, width, 3], [seed, i])
                     for i in range(first, first + count)])


def mix_person(image_dir, annotation_csv, size):
    """Person B of ``--mix_source`` NAME: (float32 [1, H, W, 3] in [-1, 1] resized as the
    dataset's images, float32 [1, 18, 2] keypoints in the network frame, -1 missing)."""
    import numpy as np
    import tensorflow as tf

    from tfposegen.data.pose_pairs import pil_bilinear_resize
    from tfposegen.pose.formats import PoseFileError, read_annotation_csv
    from tfposegen.utils.files import ImageReadError, read_rgb

    value = FLAGS.mix_source
    path = value if os.path.isfile(value) else os.path.join(image_dir, value)
    name = os.path.basename(path)
    try:
        poses = read_annotation_csv(annotation_csv)
        pixels = read_rgb(path, "--mix_source image")
    except (PoseFileError, ImageReadError) as e:
        raise options.InputError(str(e)) from None
    if name not in poses:
        raise options.InputError(f"{annotation_csv}: no keypoints of {name} (--mix_source)")
    image = pil_bilinear_resize(tf.constant(pixels), *size)
    image = (tf.cast(image, tf.float32) / 255.0 - 0.5) / 0.5
    kp = poses[name].astype(np.float64)
    frame = np.asarray(options.frame(), np.float64)
    if tuple(frame) != tuple(size):  # as pose_pair_dataset: rescaled, -1 kept
        kp = np.where(kp == -1, kp, kp / frame * np.asarray(size, np.float64))
    return image[None], tf.constant(kp[None], tf.float32)


def main(argv):
    del argv
    exp_dir = os.path.join(FLAGS.checkpoints_dir, FLAGS.id)
    source = generator_source(exp_dir)
    options.check_dataroot()
    check_metric_flags(METRIC_PROTOCOLS)
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    if FLAGS.run_eagerly:
        tf.config.run_functions_eagerly(True)
    folder, pairs = options.records()
    from tfposegen.data.pose_pairs import pose_pair_dataset
    from tfposegen.models.dptn.step_networks import generate_steps
    from tfposegen.models.dptn.step_train import step_pose_maps
    from tfposegen.utils.files import atomic_path, to_uint8
    from tfposegen.utils.progress import Progress

    G = load_generator(source)
    height, width, steps = (int(G.config[k]) for k in ("height", "width", "steps"))
    if FLAGS["step_size"].present and FLAGS.step_size != steps:
        logging.warning("--step_size %d: the generator has %d steps; running %d",
                        FLAGS.step_size, steps, steps)
    mix_from = FLAGS.mix_from
    if mix_from is not None and not 1 <= mix_from <= steps + 1:
        raise options.InputError(f"--mix_from {mix_from}: must be 1 .. {steps + 1}")
    person_b = None  # (image [1, H, W, 3], pose maps [1, H, W, 41]) of a named B
    if FLAGS.mix_source not in (None, "target"):
        image_dir, _, annotation_csv = options.split_files()
        image, kp = mix_person(image_dir, annotation_csv, (height, width))
        person_b = (image, step_pose_maps(kp, height, width))

    @tf.function(reduce_retracing=True, autograph=False)
    def chain(source, source_pose, target_pose, noise, mix_image, mix_pose):
        sources, source_poses = source, source_pose
        if mix_from is not None:  # B from step mix_from on
            sources = [source if j < mix_from else mix_image for j in range(1, steps + 1)]
            source_poses = [source_pose if j < mix_from else mix_pose
                            for j in range(1, steps + 1)]
        return generate_steps(G, sources, source_poses, target_pose, noise)[0]

    data = pose_pair_dataset(folder, (height, width), batch_size=FLAGS.batchSize,
                             shuffle=False)
    total = min(pairs, FLAGS.how_many or pairs)
    save_id = FLAGS.save_id or FLAGS.id
    out_dirs = [os.path.join(FLAGS.results_dir, f"{save_id}_{k}") for k in range(1, steps + 1)]
    for d in out_dirs:
        os.makedirs(d, exist_ok=True)
    progress = Progress(f"dptn_step test {FLAGS.id}", total)
    done = 0
    for batch in data:
        n = min(int(batch["source_image"].shape[0]), total - done)
        if n <= 0:
            break
        batch = {k: v[:n] for k, v in batch.items()}
        poses = [step_pose_maps(batch[f"{r}_keypoints"], height, width)
                 for r in ("source", "target")]
        if person_b is not None:
            mix = [tf.repeat(x, n, axis=0) for x in person_b]
        elif FLAGS.mix_source == "target":
            mix = [batch["target_image"], poses[1]]
        else:  # no mixing: unused inputs
            mix = [batch["source_image"], poses[0]]
        outs = chain(batch["source_image"], poses[0], poses[1],
                     pair_noise(done, n, height, width, FLAGS.seed), *mix)
        names = [result_name(a.decode(), b.decode()) for a, b in
                 zip(batch["source_name"].numpy(), batch["target_name"].numpy())]
        for out_dir, out in zip(out_dirs, outs):
            for image, name in zip(to_uint8(np.asarray(out)), names):
                with atomic_path(os.path.join(out_dir, name)) as tmp:
                    Image.fromarray(image).save(tmp, format="PNG")
        done += n
        progress.update(done)
    logging.info("wrote %d pairs x %d steps to %s", done, steps, out_dirs)
    print(f"wrote {done} results x {steps} steps to "
          f"{os.path.join(FLAGS.results_dir, save_id)}_1 .. _{steps}")
    if FLAGS.metrics:
        score(out_dirs[-1], save_id)


if __name__ == "__main__":
    options.run(main)
