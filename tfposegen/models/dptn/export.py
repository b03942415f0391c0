"""DPTN's and DPTN_step's SavedModels: serving signatures for TF Serving.

``export_dptn`` for a generator at H x W (DeepFashion 256x256, Market 128x64):

=========================  =====================================================  =========
signature                  inputs                                                 outputs
=========================  =====================================================  =========
``dptn_pose_transfer``     ``images`` uint8 [N, H, W, 3] (the source, already at   ``images``
                           the network size), ``source_keypoints`` /               uint8,
                           ``target_keypoints`` float32 [N, 18, 2]                 ``images_float``
                                                                                   [-1, 1]
=========================  =====================================================  =========

It is ``test()`` of models/DPTN_model.py in PangzeCheung/Dual-task-Pose-Transformer-Network:
``net_G(source, source_pose, target_pose, is_train=False)``. Keypoints are (row, col) in
the annotation frame ``old_size`` (DeepFashion 256x176, -1 missing); the pose maps are built
in the graph as the original's ``cords_to_map`` (sigma 6, int(r / old_H * H) rescaling;
:func:`tfposegen.pose.maps.gaussian_heatmaps`). Every input's shape is checked when called.

``export_dptn_step`` for a :class:`~tfposegen.models.dptn.step_networks.StepGenerator` with
S steps at its size H x W: the inference of gkalstn000/DPTN_step (``DPTNModel.generate_fake``
in models/dptn_model.py, run by test.py: noise, then S coarse-to-fine steps), pose maps
built in the graph as the code's ``obtain_bone`` (:func:`tfposegen.pose.limb_maps.
dptn_step_pose`, 41 channels, bit-exact), the noise from a seed (stateless,
:func:`step_noise`). Two signatures:

- ``dptn_step_pose_transfer``: ``images`` uint8 [N, H, W, 3] (the source),
  ``source_keypoints`` / ``target_keypoints`` float32 [N, 18, 2], ``seed`` int64 scalar.
- ``dptn_step_style_mix``: the same plus ``images_b`` uint8 [N, H, W, 3],
  ``source_keypoints_b`` float32 [N, 18, 2] and ``mix_from`` int32 scalar: steps j <
  mix_from see source A (``images``), steps j >= mix_from source B (1: all B, S + 1: all A).

Both return ``images`` uint8 and ``images_float`` [-1, 1], [N, H, W, 3] (the last step), and
``step_images`` uint8 and ``step_images_float`` [S, N, H, W, 3] (every step, coarse to fine).

Style mixing is the README's (different style images at different steps; no code there):
the step generator encodes its source image together with the source pose (``En_c(
source_bone, source_img_step)`` in models/dptn_networks/generator.py, whose features also
drive the PTM), so each step's source pose is that of the image it sees: A's keypoints
with A, B's with B.
"""

import tensorflow as tf

from tfposegen.data.pose_pairs import KEYPOINT_FRAMES
from tfposegen.export.archive import add_endpoints, from_uint8, to_uint8, write_versioned
from tfposegen.pose.limb_maps import dptn_step_pose
from tfposegen.pose.maps import gaussian_heatmaps


def dptn_archive(G, height, width, old_size=(256, 176), sigma=6.0):
    """A ``keras.export.ExportArchive`` with ``dptn_pose_transfer``.

    Args:
        G: a built (restored) ``DPTNGenerator``.
        height, width: the network size (multiples of 2^layers).
        old_size: the keypoints' frame (H, W) (DeepFashion (256, 176), Market (128, 64)).
        sigma: pose-map width in network pixels (6, as the code).
    """
    import keras

    step = 2 ** G.config["layers"]
    if height % step or width % step:
        raise ValueError(f"DPTN export: height {height} and width {width} must be multiples "
                         f"of {step}")

    def maps(keypoints):
        return gaussian_heatmaps(keypoints, height, width, sigma, old_size=old_size)

    def transfer(images, source_keypoints, target_keypoints):
        out, _ = G(from_uint8(images), maps(source_keypoints), maps(target_keypoints),
                   is_train=False)
        return {"images": to_uint8(out), "images_float": out}

    specs = [tf.TensorSpec([None, height, width, 3], tf.uint8, name="images"),
             tf.TensorSpec([None, 18, 2], tf.float32, name="source_keypoints"),
             tf.TensorSpec([None, 18, 2], tf.float32, name="target_keypoints")]
    archive = keras.export.ExportArchive()
    archive.track(G)
    add_endpoints(archive, (("dptn_pose_transfer", transfer, specs),))
    return archive


def export_dptn(G, export_dir, version=1, height=256, width=256, old_size=(256, 176)):
    """Export ``dptn_pose_transfer`` (:func:`dptn_archive`) as ``<export_dir>/<version>/``
    (TF Serving's layout, written atomically). Returns the version folder."""
    return write_versioned(dptn_archive(G, height, width, old_size), export_dir, version)


SIZES = {"fashion": ((256, 256), KEYPOINT_FRAMES["fashion"]),
         "market": ((128, 64), KEYPOINT_FRAMES["market"])}


def export_generator_file(net_path, export_dir, version=1, dataset="fashion"):
    """Export a DPTN generator (a networks folder of run_scripts/dptn/train.py, or the
    original's ``latest_net_G.pth`` at the released size) for ``dataset``'s sizes
    (:data:`SIZES`: network size, keypoint frame). Returns the version folder.

    Raises:
        ValueError: a missing or foreign file (the message names it), an unknown dataset.
    """
    import os

    from tfposegen.models.dptn import presets, weights
    from tfposegen.models.dptn.networks import DPTNGenerator

    if dataset not in SIZES:
        raise ValueError(f"dataset must be one of {sorted(SIZES)}, got {dataset!r}")
    if os.path.isdir(net_path):
        G = weights.load_networks(net_path)[0]["G"]
    elif os.path.isfile(net_path):
        G = DPTNGenerator(**presets.DPTN_G)
        weights.load_generator_state(G, net_path)
    else:
        raise ValueError(f"{net_path}: no such generator file or folder")
    (height, width), old_size = SIZES[dataset]
    return export_dptn(G, export_dir, version, height, width, old_size)


# ------------------------------------------------------------------ DPTN_step


def step_noise(seed, shape):
    """The chain's first target input (the code's ``torch.randn(b, 3, h, w)``): float32 of
    ``shape`` (e.g. [N, H, W, 3]), N(0, 1), ``tf.random.stateless_normal(shape, [seed, 0])``
    - the same values for the same int ``seed`` wherever it is computed."""
    seed = tf.cast(seed, tf.int64)
    return tf.random.stateless_normal(shape, tf.stack([seed, tf.zeros_like(seed)]))


def dptn_step_archive(G, old_size=(256, 176), sigma=6.0, limb_sigma=3.0):
    """A ``keras.export.ExportArchive`` with ``dptn_step_pose_transfer`` and
    ``dptn_step_style_mix`` (see the module docstring) at G's size.

    Args:
        G: a built (restored) :class:`~tfposegen.models.dptn.step_networks.StepGenerator`.
        old_size: the keypoints' frame (H, W) (DeepFashion (256, 176), Market (128, 64)).
        sigma, limb_sigma: pose-map widths (the code's 6 and 3; 2 and 2 for checkpoints
            before its commit c520d34).
    """
    import keras

    from tfposegen.models.dptn.step_networks import generate_steps

    height, width, steps = (int(G.config[k]) for k in ("height", "width", "steps"))
    if int(G.config["pose_nc"]) != 41:
        raise ValueError(f"DPTN_step export: the generator takes {G.config['pose_nc']} pose "
                         "channels, the pose maps have 41")

    def poses(*keypoints):   # one pose-map graph (one set of tables) for all the persons
        maps = dptn_step_pose(tf.concat(keypoints, 0), height, width, old_size, sigma,
                              limb_sigma)
        return tf.split(maps, [tf.shape(k)[0] for k in keypoints])

    pose = tf.TensorSpec([None, height, width, 41], tf.float32)
    source = tf.TensorSpec([None, height, width, 3], tf.float32)
    scalar = tf.TensorSpec([], tf.int32)

    # the chain, traced once here for both signatures (transfer: A = B); as a concrete
    # function the endpoints' traces (two each in write_out) call it without retracing
    @tf.function(input_signature=[source, pose, source, pose, pose, scalar,
                                  tf.TensorSpec([], tf.int64)], autograph=False)
    def chain(a, pose_a, b, pose_b, target_pose, mix_from, seed):
        use_a = [tf.constant(j, tf.int32) < mix_from for j in range(1, steps + 1)]
        noise = step_noise(seed, tf.shape(a))
        targets, _ = generate_steps(G, [tf.where(c, a, b) for c in use_a],
                                    [tf.where(c, pose_a, pose_b) for c in use_a], target_pose,
                                    noise)
        stacked = tf.stack(targets)
        return {"images": to_uint8(targets[-1]), "images_float": targets[-1],
                "step_images": to_uint8(stacked), "step_images_float": stacked}

    chain = chain.get_concrete_function()

    def transfer(images, source_keypoints, target_keypoints, seed):
        source_pose, target_pose = poses(source_keypoints, target_keypoints)
        a = from_uint8(images)
        return chain(a, source_pose, a, source_pose, target_pose,
                     tf.constant(steps + 1, tf.int32), seed)

    def style_mix(images, source_keypoints, images_b, source_keypoints_b, target_keypoints,
                  seed, mix_from):
        pose_a, pose_b, target_pose = poses(source_keypoints, source_keypoints_b,
                                            target_keypoints)
        return chain(from_uint8(images), pose_a, from_uint8(images_b), pose_b, target_pose,
                     mix_from, seed)

    image = tf.TensorSpec([None, height, width, 3], tf.uint8, name="images")
    keypoints = tf.TensorSpec([None, 18, 2], tf.float32, name="source_keypoints")
    target = tf.TensorSpec([None, 18, 2], tf.float32, name="target_keypoints")
    seed = tf.TensorSpec([], tf.int64, name="seed")
    mix = [image, keypoints, tf.TensorSpec(image.shape, tf.uint8, name="images_b"),
           tf.TensorSpec(keypoints.shape, tf.float32, name="source_keypoints_b"), target, seed,
           tf.TensorSpec([], tf.int32, name="mix_from")]
    archive = keras.export.ExportArchive()
    archive.track(G)
    add_endpoints(archive, (("dptn_step_pose_transfer", transfer, [image, keypoints, target,
                                                                   seed]),
                            ("dptn_step_style_mix", style_mix, mix)))
    return archive


def export_dptn_step(G, export_dir, version=1, old_size=(256, 176), sigma=6.0,
                     limb_sigma=3.0):
    """Export DPTN_step's signatures (:func:`dptn_step_archive`) as
    ``<export_dir>/<version>/`` (TF Serving's layout, written atomically). Returns the
    version folder."""
    return write_versioned(dptn_step_archive(G, old_size, sigma, limb_sigma), export_dir,
                           version)


def export_step_generator_file(net_path, export_dir, version=1, dataset="fashion", sigma=6.0,
                               limb_sigma=3.0, generator=None):
    """Export a DPTN_step generator: a networks folder (``weights.save_networks``, e.g. of
    run_scripts/dptn_step/train.py; the generator's own size and steps) or the original's
    single-file checkpoint ``<epoch>_net.pth`` (``weights.load_step_checkpoint``) into a
    ``StepGenerator(**generator)`` - default: the released configuration
    (``presets.DPTN_STEP_G``, S = 5) at ``dataset``'s network size. Keypoints are in
    ``dataset``'s frame (:data:`SIZES`). Returns the version folder.

    Raises:
        ValueError: a missing or foreign file (the message names it), a folder without a
            StepGenerator ``G``, an unknown dataset.
    """
    import os

    from tfposegen.models.dptn import presets, weights
    from tfposegen.models.dptn.step_networks import StepGenerator

    if dataset not in SIZES:
        raise ValueError(f"dataset must be one of {sorted(SIZES)}, got {dataset!r}")
    (height, width), old_size = SIZES[dataset]
    if os.path.isdir(net_path):
        G = weights.load_networks(net_path)[0].get("G")
        if not isinstance(G, StepGenerator):
            raise ValueError(f"{net_path}: no DPTN_step generator G (found "
                             f"{type(G).__name__})")
    elif os.path.isfile(net_path):
        G = StepGenerator(**(generator or dict(presets.DPTN_STEP_G, height=height,
                                                width=width)))
        weights.load_step_checkpoint(net_path, G=G)
    else:
        raise ValueError(f"{net_path}: no such DPTN_step checkpoint file or folder")
    return export_dptn_step(G, export_dir, version, old_size, sigma, limb_sigma)
