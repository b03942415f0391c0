"""DPTN's SavedModel: a serving signature for TF Serving.

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
"""

import tensorflow as tf

from tfposegen.export.archive import add_endpoints, from_uint8, to_uint8, write_versioned
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


SIZES = {"fashion": ((256, 256), (256, 176)), "market": ((128, 64), (128, 64))}


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
