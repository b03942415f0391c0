"""ADGAN's SavedModel: serving signatures for TF Serving.

``export_adgan``, for a generator at H x W (DeepFashion 256x176); keypoints are 18
OpenPose-order joints (row, col) in pixels of the H x W frame, -1 for a missing joint;
parsing maps hold ``semantic_merge3`` labels 0..7 (``tfposegen.parsing.labels.ADGAN_LABELS``):

============================  =============================================  ================
signature                     inputs                                         outputs
============================  =============================================  ================
``adgan_pose_transfer``       ``images`` uint8 [N, H, W, 3],                 ``images`` uint8,
                              ``parse`` int32 [N, H, W],                     ``images_float``
                              ``target_keypoints`` float32 [N, 18, 2]        float32 [-1, 1]
``adgan_attribute_transfer``  as above, and ``images_b`` uint8 [N, H, W, 3],  as above
                              ``parse_b`` int32 [N, H, W],
                              ``component_mask`` float32 [N, 8]
============================  =============================================  ================

``adgan_pose_transfer`` is ``netG(BP2, P1, SP1)`` of models/adgan.py in menyifang/ADGAN: the
source's appearance in the target pose. ``adgan_attribute_transfer`` renders person A
(``images``, ``parse``) in the target pose with the classes where ``component_mask`` is 1
(column i = class i of ``ADGAN_LABELS``) taken from person B
(:mod:`tfposegen.models.adgan.attribute_transfer`). The pose maps are built in the graph as
the single-pixel maps the released weights were trained on
(``tfposegen.pose.maps.gaussian_heatmaps(..., peak_only=True)``: 1 at a joint's pixel when
its coordinates are integers inside the frame), and the parsing one-hot as ``parsing_one_hot``
(labels outside 0..7 give all-zero pixels). Every input's shape is checked when called.

Exports are versioned as TF Serving expects (:func:`tfposegen.export.archive.write_versioned`).
"""

import tensorflow as tf

from tfposegen.export.archive import add_endpoints, from_uint8, to_uint8, write_versioned
from tfposegen.models.adgan.attribute_transfer import splice_styles
from tfposegen.models.adgan.networks import parsing_one_hot
from tfposegen.pose.maps import gaussian_heatmaps


def adgan_archive(netG, height, width):
    """A ``keras.export.ExportArchive`` with the ADGAN signatures of the module table.

    Args:
        netG: a built (restored) ``ADGen``.
        height, width: image size H, W (multiples of 2^n_downsample, 4 for ADGen).
    """
    import keras

    step = 2 ** netG.n_downsample
    if height % step or width % step:
        raise ValueError(f"ADGAN export: height {height} and width {width} must be multiples "
                         f"of {step}")
    classes = netG.n_classes

    def outputs(images):
        return {"images": to_uint8(images), "images_float": images}

    def pose_code(target_keypoints):
        return netG.encode_pose(gaussian_heatmaps(target_keypoints, height, width,
                                                  peak_only=True))

    def style(images, parse):
        return netG.encode_style(from_uint8(images), parsing_one_hot(parse, classes))

    def transfer(images, parse, target_keypoints):
        return outputs(netG.decode(pose_code(target_keypoints),
                                   netG.adain_params(style(images, parse))))

    def attribute(images, parse, images_b, parse_b, target_keypoints, component_mask):
        code = splice_styles(style(images, parse), style(images_b, parse_b), component_mask)
        return outputs(netG.decode(pose_code(target_keypoints), netG.adain_params(code)))

    image, image_b = (tf.TensorSpec([None, height, width, 3], tf.uint8, name=n)
                      for n in ("images", "images_b"))
    parse, parse_b = (tf.TensorSpec([None, height, width], tf.int32, name=n)
                      for n in ("parse", "parse_b"))
    target = tf.TensorSpec([None, 18, 2], tf.float32, name="target_keypoints")
    mask = tf.TensorSpec([None, classes], tf.float32, name="component_mask")
    archive = keras.export.ExportArchive()
    archive.track(netG)
    add_endpoints(archive, (
        ("adgan_pose_transfer", transfer, [image, parse, target]),
        ("adgan_attribute_transfer", attribute, [image, parse, image_b, parse_b, target,
                                                 mask])))
    return archive


def export_adgan(netG, export_dir, version=1, height=256, width=176):
    """Export ADGAN's serving signatures (:func:`adgan_archive`) as ``<export_dir>/<version>/``
    for H x W images (default: DeepFashion's 256 x 176, the released weights' size).

    Returns:
        the path of the version folder.
    """
    return write_versioned(adgan_archive(netG, height, width), export_dir, version)


def export_generator_file(net_path, export_dir, version=1, height=None, width=None):
    """Export an ADGAN generator file or folder (:func:`tfposegen.models.adgan.weights.
    load_generator`: networks folder, ``<label>_net_netG.pth`` or demo ``.npz``) as
    ``<export_dir>/<version>/``; the frame defaults to a demo file's size, else 256 x 176.

    Returns:
        the path of the version folder.

    Raises:
        ValueError: the file is missing or not an ADGAN generator (the message names it).
    """
    import os

    from tfposegen.models.adgan import weights

    if not os.path.exists(net_path):
        raise ValueError(f"{net_path}: no such generator file or folder")
    if str(net_path).endswith(".npz"):
        netG, meta = weights.load_demo_generator(net_path)
        size = tuple(meta["synthetic_size"])
    else:
        netG, size = weights.load_generator(net_path), (256, 176)
    return export_adgan(netG, export_dir, version, height or size[0], width or size[1])
