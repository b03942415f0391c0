"""SavedModels with named, batched serving signatures for TF Serving.

DGP (``export_dgp``), for a network file with an encoder ``E`` and a generator ``Gs`` of
resolution R, W+ of shape [num_ws, w_dim]:

==========================  =============================================  ==================
signature                   inputs                                         outputs
==========================  =============================================  ==================
``dgp_encode``              ``images`` uint8 [N, R, R, 3]                   ``w_plus``
``dgp_encode_float``        ``images`` float32 [N, R, R, 3] in [-1, 1]      ``w_plus``
``dgp_synthesize``          ``w_plus`` float32 [N, num_ws, w_dim]           ``images``,
                                                                           ``images_float``
``dgp_generate``            ``images`` uint8 [N, R, R, 3]                   ``images``,
                                                                           ``images_float``,
                                                                           ``w_plus``
``dgp_generate_float``      ``images`` float32 [N, R, R, 3] in [-1, 1]      as ``dgp_generate``
==========================  =============================================  ==================

``images`` outputs are uint8 [N, R, R, 3] converted as the originals do (x / 2 + 0.5, clipped,
times 255, truncated); ``images_float`` are float32 [N, R, R, 3], about [-1, 1]. The synthesis
uses the stored noise maps (DGP's ``randomize_noise=False``), so outputs are deterministic.
``dgp_generate`` is DGP's fast path: coarse alignment -> encoder -> image, without the search
phases. The default signature (``serving_default``) is ``dgp_generate``.

DPIG (``export_dpig``), for a dataset's networks at H x W (DF 256x256, Market 128x64);
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
graph (``tfposegen.ops.pose``). ``dpig_sample`` draws a new person per seed: appearance from
the mapping net(s) (Market: foreground and background) and a pose from the pose mapping net
and the pose decoder (its keypoints are returned), with noise N(0, 0.2^2) from
``tf.random.stateless_normal`` seeded by (seed, 0) (appearance) and (seed, 1) (pose), so a
seed always gives the same person. ``dpig_sample_in_pose`` renders the sampled appearance in
given keypoints. The sampling signatures are exported when the mapping nets are given.

Exports are versioned as TF Serving expects: ``<export_dir>/<version>/saved_model.pb``,
written under a temporary name and renamed when complete.
"""

import os
import shutil

import tensorflow as tf

from tfposegen.dpig import losses as L
from tfposegen.ops.pose import (
    denormalize_rcv,
    keypoints_to_rcv,
    pose_heatmap,
)


def _to_uint8(images):
    return tf.cast(tf.clip_by_value(images / 2 + 0.5, 0.0, 1.0) * 255.0, tf.uint8)


def _from_uint8(images):
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _add_endpoints(archive, endpoints):
    """Add (name, fn, input specs) endpoints whose inputs are checked against the specs'
    shapes when called (a SavedModel signature alone lets a wrong size through)."""
    def checked(fn, specs):
        return lambda *args: fn(*[tf.ensure_shape(a, s.shape) for a, s in zip(args, specs)])

    for name, fn, specs in endpoints:
        archive.add_endpoint(name, checked(fn, specs), input_signature=list(specs))


def dgp_archive(encoder, synthesis, resolution, num_ws, w_dim):
    """A ``keras.export.ExportArchive`` with the DGP signatures of the module table.

    Args:
        encoder: images [N, R, R, 3] in [-1, 1] -> W+ [N, num_ws, w_dim].
        synthesis: ``SynthesisNetwork``, W+ -> images [N, R, R, 3].
        resolution, num_ws, w_dim: R and the W+ shape.
    """
    import keras

    def encode(images):
        return {"w_plus": encoder(images, training=False)}

    def synthesize(w_plus):
        images = synthesis(w_plus, noise_mode="const")
        return {"images": _to_uint8(images), "images_float": images}

    def generate(images):
        w_plus = encoder(images, training=False)
        return {**synthesize(w_plus), "w_plus": w_plus}

    image_u8 = tf.TensorSpec([None, resolution, resolution, 3], tf.uint8, name="images")
    image_f = tf.TensorSpec([None, resolution, resolution, 3], tf.float32, name="images")
    w_plus = tf.TensorSpec([None, num_ws, w_dim], tf.float32, name="w_plus")
    archive = keras.export.ExportArchive()
    archive.track(encoder)
    archive.track(synthesis)
    # the first endpoint is also TF Serving's "serving_default"
    _add_endpoints(archive, (("dgp_generate", lambda x: generate(_from_uint8(x)), [image_u8]),
                             ("dgp_generate_float", generate, [image_f]),
                             ("dgp_encode", lambda x: encode(_from_uint8(x)), [image_u8]),
                             ("dgp_encode_float", encode, [image_f]),
                             ("dgp_synthesize", synthesize, [w_plus])))
    return archive


def export_dgp(networks, export_dir, version=1):
    """Export DGP's serving signatures as ``<export_dir>/<version>/``.

    Args:
        networks: ``tfposegen.convert.DnnlibNetworks`` with ``E`` and ``Gs`` (e.g. from
            ``load_networks``).
        export_dir: the model's folder (TF Serving's ``--model_base_path``).
        version: positive int, the version sub-folder.

    Returns:
        the path of the version folder.
    """
    if networks.E is None or networks.Gs is None:
        raise ValueError(f"{networks.source}: DGP export needs an encoder (E) and a generator "
                         "(Gs)")
    Gs = networks.Gs
    archive = dgp_archive(networks.E, Gs.synthesis, Gs.resolution, Gs.num_ws, Gs.w_dim)
    return write_versioned(archive, export_dir, version)


def write_versioned(archive, export_dir, version):
    """Write an ``ExportArchive`` as ``<export_dir>/<version>/`` atomically (a temporary
    folder renamed when complete); an existing version is refused (FileExistsError)."""
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive integer, got {version!r}")
    path = os.path.join(os.fspath(export_dir), str(version))
    if os.path.exists(path):
        raise FileExistsError(f"{path}: this version exists; export another --version")
    os.makedirs(os.fspath(export_dir), exist_ok=True)
    tmp = os.path.join(os.fspath(export_dir), f".{version}.tmp{os.getpid()}")
    try:
        archive.write_out(tmp, verbose=False)
        os.rename(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


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

    from tfposegen.dpig.inference import pose_transfer

    market = dataset == "market"
    app_keys = ("fg_mapping", "bg_mapping") if market else ("app_mapping",)
    sampling = all(k in networks for k in app_keys + ("pose_ae", "pose_mapping"))

    def transfer(images, keypoints, target_keypoints):
        images = pose_transfer(networks, dataset, images, keypoints, target_keypoints)
        return {"images": _to_uint8(images), "images_float": images}

    def render(app, rcv, normalized=False):
        images = networks["generator"](app, pose_heatmap(rcv, height, width,
                                                          normalized=normalized))
        return {"images": _to_uint8(images), "images_float": images}

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
    _add_endpoints(archive, (
        ("dpig_pose_transfer", lambda x, k, t: transfer(_from_uint8(x), k, t),
         [image_u8, kp, kp_t]),
        ("dpig_pose_transfer_float", transfer, [image_f, kp, kp_t])))
    if sampling:
        _add_endpoints(archive, (("dpig_sample", sample, [seeds]),
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
