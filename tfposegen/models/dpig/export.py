"""DPIG's SavedModel: serving signatures for TF Serving.

``export_dpig``, for a dataset's networks at H x W (DF 256x256, Market 128x64);
keypoints are 18 OpenPose-order joints (row, col) in pixels, (-1, -1) for a missing joint:

=============================  ===========================================  ===============
signature                      inputs                                       outputs
=============================  ===========================================  ===============
``dpig_pose_transfer``         ``images`` uint8 [N, H, W, 3],               ``images``,
                               ``keypoints``, ``target_keypoints``          ``images_float``
                               float32 [N, 18, 2]
``dpig_pose_transfer_float``   as above, ``images`` float32 in [-1, 1]      as above
``dpig_sample``                ``seeds`` int64 [N]                          ``images``,
                                                                            ``images_float``,
                                                                            ``keypoints``
``dpig_sample_in_pose``        ``seeds`` int64 [N], ``keypoints``           ``images``,
                               float32 [N, 18, 2]                           ``images_float``
=============================  ===========================================  ===============

``dpig_pose_transfer`` is the PG2 task: the source's appearance in the target pose. As in
the original converters, the part boxes and their visibility (and Market's radius-7 "r6"
foreground mask) are functions of the source keypoints (floored to integers as OpenPose
peaks), and the pose map is drawn from the target keypoints; all of it is built inside the
graph (``tfposegen.pose.maps``). ``dpig_sample`` draws a new person per seed: appearance from
the mapping net(s) (Market: foreground and background) and a pose from the pose mapping net
and the pose decoder (its keypoints are returned), with noise N(0, 0.2^2) from
``tf.random.stateless_normal`` seeded by (seed, 0) (appearance) and (seed, 1) (pose), so a
seed always gives the same person. ``dpig_sample_in_pose`` renders the sampled appearance in
given keypoints. The sampling signatures are exported when the mapping nets are given.

Exports are versioned as TF Serving expects (:func:`tfposegen.export.archive.write_versioned`).
"""

import tensorflow as tf

from tfposegen.export.archive import add_endpoints, from_uint8, to_uint8, write_versioned
from tfposegen.models.dpig import losses as L
from tfposegen.pose.maps import denormalize_rcv, keypoints_to_rcv, pose_heatmap


def _noise(seeds, dim, stream):
    """[N, dim] N(0, 0.2^2) noise, row i from ``stateless_normal`` seeded (seeds[i], stream)."""
    return tf.map_fn(lambda s: tf.random.stateless_normal(
        [dim], tf.stack([s, tf.constant(stream, tf.int64)]), stddev=L.NOISE_STDDEV), seeds,
        fn_output_signature=tf.float32)


def dpig_archive(networks, dataset, height, width):
    """A ``keras.export.ExportArchive`` with the DPIG signatures of the module table.

    Args:
        networks: dict of built (restored) networks: "encoder", "generator"; for the
            sampling signatures also "pose_ae", "pose_mapping" and "app_mapping" (DF) or
            "fg_mapping" and "bg_mapping" (Market).
        dataset: "df" or "market".
        height, width: image size H, W.
    """
    import keras

    from tfposegen.models.dpig.inference import pose_transfer

    market = dataset == "market"
    app_keys = ("fg_mapping", "bg_mapping") if market else ("app_mapping",)
    sampling = all(k in networks for k in app_keys + ("pose_ae", "pose_mapping"))

    def transfer(images, keypoints, target_keypoints):
        images = pose_transfer(networks, dataset, images, keypoints, target_keypoints)
        return {"images": to_uint8(images), "images_float": images}

    def render(app, rcv, normalized=False):
        images = networks["generator"](app, pose_heatmap(rcv, height, width,
                                                          normalized=normalized))
        return {"images": to_uint8(images), "images_float": images}

    def sampled_appearance(seeds):
        return tf.concat([networks[k](_noise(seeds, networks[k].dim, 0)) for k in app_keys], -1)

    def sample(seeds):
        z = _noise(seeds, networks["pose_mapping"].dim, 1)
        rcv = networks["pose_ae"].decode(networks["pose_mapping"](z))
        pixels = denormalize_rcv(rcv, height, width)
        keypoints = tf.where(pixels[..., 2:] > 0, tf.floor(pixels[..., :2]), -1.0)
        return {**render(sampled_appearance(seeds), rcv, normalized=True),
                "keypoints": keypoints}

    def sample_in_pose(seeds, keypoints):
        return render(sampled_appearance(seeds), keypoints_to_rcv(keypoints))

    image_u8 = tf.TensorSpec([None, height, width, 3], tf.uint8, name="images")
    image_f = tf.TensorSpec([None, height, width, 3], tf.float32, name="images")
    kp = tf.TensorSpec([None, 18, 2], tf.float32, name="keypoints")
    kp_t = tf.TensorSpec([None, 18, 2], tf.float32, name="target_keypoints")
    seeds = tf.TensorSpec([None], tf.int64, name="seeds")
    archive = keras.export.ExportArchive()
    for net in networks.values():
        archive.track(net)
    add_endpoints(archive, (
        ("dpig_pose_transfer", lambda x, k, t: transfer(from_uint8(x), k, t),
         [image_u8, kp, kp_t]),
        ("dpig_pose_transfer_float", transfer, [image_f, kp, kp_t])))
    if sampling:
        add_endpoints(archive, (("dpig_sample", sample, [seeds]),
                                 ("dpig_sample_in_pose", sample_in_pose, [seeds, kp])))
    return archive


def export_dpig(networks, dataset, height, width, export_dir, version=1):
    """Export DPIG's serving signatures (:func:`dpig_archive`) as ``<export_dir>/<version>/``.

    Returns:
        the path of the version folder.
    """
    if "encoder" not in networks or "generator" not in networks:
        raise ValueError("DPIG export needs the encoder and the generator")
    return write_versioned(dpig_archive(networks, dataset, height, width), export_dir, version)
