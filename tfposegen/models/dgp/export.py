"""DGP's SavedModel: serving signatures for TF Serving.

``export_dgp``, for a network file with an encoder ``E`` and a generator ``Gs`` of
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

Exports are versioned as TF Serving expects (:func:`tfposegen.export.archive.write_versioned`).
"""

import tensorflow as tf

from tfposegen.export.archive import add_endpoints, from_uint8, to_uint8, write_versioned


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
        return {"images": to_uint8(images), "images_float": images}

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
    add_endpoints(archive, (("dgp_generate", lambda x: generate(from_uint8(x)), [image_u8]),
                             ("dgp_generate_float", generate, [image_f]),
                             ("dgp_encode", lambda x: encode(from_uint8(x)), [image_u8]),
                             ("dgp_encode_float", encode, [image_f]),
                             ("dgp_synthesize", synthesize, [w_plus])))
    return archive


def export_dgp(networks, export_dir, version=1):
    """Export DGP's serving signatures as ``<export_dir>/<version>/``.

    Args:
        networks: ``tfposegen.models.dgp.dnnlib.DnnlibNetworks`` with ``E`` and ``Gs`` (e.g. from
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
