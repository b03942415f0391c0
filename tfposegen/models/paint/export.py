"""PAINT's SavedModel: the whole chain of :mod:`tfposegen.models.paint.pipeline` (pose +
two texture swatches + a seed -> layouts -> designs -> the designs in another view) as TF
Serving signatures, every step a TF op giving the numbers of the numpy path.

``export_paint`` for :class:`~tfposegen.models.paint.pipeline.PaintNets` at their canvas
side S (H = W = S: 256 for the released networks, 64 for the tiny preset); a batch of B
persons, each with its own pose and swatches:

=========================  ========================================================
signature                  inputs
=========================  ========================================================
``paint_design``           ``keypoints`` float32 [B, 18, 2]: (row, col) pixels on the
                           S x S canvas, (-1, -1) a missing joint (OpenPose order);
                           ``top_swatch`` / ``bottom_swatch`` uint8 [B, S, S, 3]: each
                           swatch image at the top-left corner of an S x S array (the
                           rest is ignored; any padding), ``top_swatch_size`` /
                           ``bottom_swatch_size`` int32 [B, 2]: its (h, w), 1..S;
                           ``seed`` int64 scalar (the latent codes). Target view: the
                           mirrored pose (``pipeline.mirror_keypoints``).
``paint_design_in_view``   the same plus ``view_keypoints`` float32 [B, 18, 2] (the
                           target view's pose, as ``keypoints``).
=========================  ========================================================

Swatches of any size up to the canvas travel in a fixed S x S array plus their sizes, so
that every input has a fixed shape but the batch (TF Serving's batching concatenates
requests along the batch axis only) and a batch may mix swatch sizes.

Outputs of both: ``codes`` float32 [B, 24] (person b gets row b of
``pipeline.latent_codes(seed, B)``); ``layouts`` / ``view_layouts`` int32 [B, S, S], labels
0..19 (``LGN/test.py``'s ``fake_B.max(1)[1]``), ``layout_images`` / ``view_layout_images``
uint8 [B, S, S, 3] in PAINT's colours (``labelcolormap(20)`` of LGN/utils.py); ``designs``
uint8 [B, S, S, 3] and ``designs_float`` float32 in (-1, 1) (TSN/test.py); ``views`` uint8
and ``views_float`` (AFN/test.py), all of gxl-groups/PAINT. uint8 images are ``(x + 1) / 2
* 255`` truncated, as the originals' ``postprocess``.

Person b of a batch is ``design_pipeline(nets, keypoints[b], (top[b], bottom[b]), seed,
num_layouts=B)``'s layout b: the codes are rows of one seeded draw, so a batch of B copies
of one person gives that call's B layouts. Inside the graph:

- the pose disks are PIL's: ``ImageDraw.ellipse((x - 4, y - 4, x + 4, y + 4))`` truncates
  the four coordinates to int and fills the box with Pillow's ellipse, whose shape then
  depends only on the box's extents (8 or 7 px: x - 4 truncated toward zero when negative);
  the four stencils are drawn with PIL once, at export, and placed by gathering
  (:func:`pose_disks`), so the maps equal ``pipeline.lgn_inputs`` pixel for pixel;
- the swatches are placed as ``pipeline.swatch_box`` / ``place_swatch`` (float64 index
  arithmetic, :func:`place_swatches`);
- the codes are ``pipeline.latent_codes`` (TF stateless normals; the numpy path computes
  the same function eagerly).

Inputs are checked in the graph (``InvalidArgumentError`` naming the input): shapes, one
batch size for all, joints finite and on the canvas unless (-1, -1), swatch sizes 1..S.
"""

import numpy as np
import tensorflow as tf

from tfposegen.data.synthetic_persons import FLIP_PERMUTATION
from tfposegen.export.archive import add_endpoints, from_uint8, to_uint8, write_versioned
from tfposegen.models.paint import pipeline as P
from tfposegen.parsing.labels import (
    CIHP_PALETTE,
    CIHP_TO_PAINT_AFN,
    PAINT_AFN_CLASSES,
    PAINT_TSN_BOTTOM,
    PAINT_TSN_TOP,
)
from tfposegen.pose.keypoints import NUM_JOINTS

SIGNATURES = ("paint_design", "paint_design_in_view")


def disk_stencils(radius=P.DISK_RADIUS):
    """bool [2, 2, 2r + 1, 2r + 1]: PIL's filled ``ellipse`` in boxes of extents (2r - 1 +
    a, 2r - 1 + b) (rows a, columns b), drawn as ``pipeline.lgn_inputs`` draws (fill and
    outline 255); the only two extents a box ``(x - r, ..., x + r)`` truncated to int can
    have for x >= 0."""
    from PIL import Image, ImageDraw

    n = 2 * radius + 1
    out = np.zeros((2, 2, n, n), bool)
    for a in range(2):
        for b in range(2):
            disk = Image.new("L", (n, n), 0)
            ImageDraw.Draw(disk).ellipse((0, 0, 2 * radius - 1 + b, 2 * radius - 1 + a),
                                         fill=255, outline=255)
            out[a, b] = np.asarray(disk) > 0
    return out


def pose_disks(keypoints, height, width, radius=P.DISK_RADIUS):
    """``pipeline.lgn_inputs`` in TF: float [B, 18, 2] (row, col) keypoints (cast to float64,
    where the numpy path computes) -> float32 [B, H, W, 18], +1 inside PIL's disk of a drawn
    joint (present, and col > 1 or row > 1), -1 elsewhere. Keypoints are not checked here."""
    n = 2 * radius + 1
    stencil = tf.constant(disk_stencils(radius).reshape(-1))
    kp = tf.cast(keypoints, tf.float64)
    y, x = kp[..., 0], kp[..., 1]                                        # [B, 18]
    drawn = ~((y == -1) & (x == -1)) & ((x > 1) | (y > 1))
    # PIL's int(): toward zero; a drawn joint lies on the canvas, so x + r > 0
    y0, x0 = tf.cast(y - radius, tf.int32), tf.cast(x - radius, tf.int32)
    shape = (tf.clip_by_value(tf.cast(y + radius, tf.int32) - y0 - (n - 2), 0, 1) * 2
             + tf.clip_by_value(tf.cast(x + radius, tf.int32) - x0 - (n - 2), 0, 1))
    di = tf.range(height)[None, :, None] - y0[:, None, :]                 # [B, H, 18]
    dj = tf.range(width)[None, :, None] - x0[:, None, :]                  # [B, W, 18]
    inside = (((di >= 0) & (di < n))[:, :, None, :] & ((dj >= 0) & (dj < n))[:, None, :, :]
              & drawn[:, None, None, :])
    index = ((shape[:, None, None, :] * n + tf.clip_by_value(di, 0, n - 1)[:, :, None, :]) * n
             + tf.clip_by_value(dj, 0, n - 1)[:, None, :, :])
    disk = inside & tf.gather(stencil, index)
    return tf.where(disk, 1.0, -1.0)


def mirror_keypoints(keypoints, width):
    """``pipeline.mirror_keypoints`` in TF, batched: float64 [B, 18, 2], left and right
    joints swapped, col -> W - 1 - col for present joints."""
    kp = tf.gather(tf.cast(keypoints, tf.float64), list(FLIP_PERMUTATION), axis=1)
    present = ~tf.reduce_all(kp == -1, axis=-1, keepdims=True)
    return tf.where(present & tf.constant([False, True]), width - 1 - kp, kp)


def place_swatches(swatches, sizes, region, column):
    """``pipeline.place_swatch`` in TF, batched: ``(masked, square)``, float32 [B, H, W, 3]
    and [B, H, W, 1].

    Args:
        swatches: float32 [B, H, W, 3], swatch b in its top-left ``sizes[b]`` corner.
        sizes: int32 [B, 2] (h, w).
        region: float32 [B, H, W] 0/1 garment regions.
        column: the square's column centre (float, as ``pipeline.swatch_box``).
    """
    shape = tf.shape(region)
    height, width = shape[1], shape[2]
    flat = tf.reshape(tf.cast(region > 0, tf.int32), [shape[0], -1])
    count = tf.reduce_sum(flat, axis=1)
    # the (count // 2)-th region pixel in row-major order: where the running count passes it
    middle = tf.argmax(tf.cumsum(flat, axis=1) > (count // 2)[:, None], axis=1,
                       output_type=tf.int32)
    h64, w64 = tf.cast(height, tf.float64), tf.cast(width, tf.float64)
    r = tf.where(count > 0, tf.cast(middle, tf.float64) / w64, h64 / 2)
    c = tf.where(count > 0, tf.cast(column, tf.float64), w64 / 2)
    h, w = tf.unstack(tf.cast(sizes, tf.float64), axis=1)
    # swatch_box: rows max(int(r - h/2), 0) .. min(int(r + h/2), H) showing swatch rows from
    # i - floor(r - h/2); that is every canvas row whose swatch row lies in 0..h-1
    top = tf.cast(tf.floor(r - h / 2), tf.int32)
    left = tf.cast(tf.floor(c - w / 2), tf.int32)
    rows = tf.range(height)[None] - top[:, None]                          # [B, H]
    cols = tf.range(width)[None] - left[:, None]                          # [B, W]
    rows_in = (rows >= 0) & (rows < sizes[:, :1])
    cols_in = (cols >= 0) & (cols < sizes[:, 1:])
    pasted = tf.gather(swatches, tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1)
    pasted = tf.gather(pasted, tf.clip_by_value(cols, 0, width - 1), axis=2, batch_dims=1)
    square = tf.cast(rows_in[:, :, None] & cols_in[:, None, :], tf.float32)[..., None]
    return pasted * square * region[..., None], square


def _isin(labels, ids):
    return tf.cast(tf.reduce_any(labels[..., None] == tf.constant(ids, tf.int32), -1),
                   tf.float32)


def check_keypoints(keypoints, height, width, what):
    """Graph assertion: joints finite and on the canvas unless (-1, -1)."""
    y, x = keypoints[..., 0], keypoints[..., 1]
    missing = (y == -1) & (x == -1)
    outside = ~missing & ~((y >= 0) & (y < height) & (x >= 0) & (x < width))
    return [tf.debugging.assert_all_finite(keypoints, f"{what}: not finite"),
            tf.debugging.assert_equal(
                tf.reduce_any(outside), False,
                message=f"{what}: a joint lies outside the {height} x {width} canvas (row, "
                        f"col in 0..{height - 1} x 0..{width - 1}; (-1, -1) marks a missing "
                        f"joint)")]


def check_sizes(sizes, height, width, what):
    """Graph assertion: swatch sizes (h, w) in 1..H x 1..W."""
    ok = (sizes >= 1) & (sizes <= tf.constant([height, width], tf.int32))
    return [tf.debugging.assert_equal(
        tf.reduce_all(ok), True,
        message=f"{what}: a swatch size (h, w) is outside 1..{height} x 1..{width} (a swatch "
                f"larger than the canvas, or empty)")]


def paint_archive(nets):
    """A ``keras.export.ExportArchive`` with ``paint_design`` and ``paint_design_in_view``
    (see the module docstring) for :class:`~tfposegen.models.paint.pipeline.PaintNets`."""
    import keras

    size = int(nets.size)
    P._check_canvas(nets, size, size)
    nz = int(nets.lgn.nz)
    palette = tf.constant(np.asarray(CIHP_PALETTE, np.uint8))
    afn_table = tf.constant([CIHP_TO_PAINT_AFN[i] for i in range(P.NUM_LABELS)], tf.int32)
    top_col, bottom_col = size * P.TOP_COLUMN / 256, size * P.BOTTOM_COLUMN / 256

    def layout(keypoints, z):
        probs = nets.lgn(pose_disks(keypoints, size, size), z, training=False)
        return tf.argmax(probs, axis=-1, output_type=tf.int32)

    def afn_parsing(labels):
        return tf.one_hot(tf.gather(afn_table, labels), len(PAINT_AFN_CLASSES))

    kp64 = tf.TensorSpec([None, NUM_JOINTS, 2], tf.float64)
    u8 = tf.TensorSpec([None, size, size, 3], tf.uint8)
    sizes = tf.TensorSpec([None, 2], tf.int32)

    # the chain, traced once for both signatures (view keypoints in float64: the mirror's
    # W - 1 - col of a float32 col need not be a float32)
    @tf.function(input_signature=[kp64, kp64, u8, sizes, u8, sizes,
                                  tf.TensorSpec([], tf.int64)], autograph=False)
    def chain(keypoints, view_keypoints, top, top_size, bottom, bottom_size, seed):
        z = P.latent_codes(seed, tf.shape(keypoints)[0], nz)
        labels, view_labels = layout(keypoints, z), layout(view_keypoints, z)
        mask_t, mask_b = _isin(labels, PAINT_TSN_TOP), _isin(labels, PAINT_TSN_BOTTOM)
        imgt, mask_to = place_swatches(from_uint8(top), top_size, mask_t, top_col)
        imgb, mask_bo = place_swatches(from_uint8(bottom), bottom_size, mask_b, bottom_col)
        design = nets.tsn(imgt, imgb, mask_t[..., None], mask_b[..., None], mask_to, mask_bo,
                          tf.one_hot(labels, P.NUM_LABELS))
        view, _ = nets.afn(image=design, target_parsing=afn_parsing(view_labels),
                           source_parsing=afn_parsing(labels))
        return {"codes": z, "layouts": labels, "layout_images": tf.gather(palette, labels),
                "view_layouts": view_labels,
                "view_layout_images": tf.gather(palette, view_labels),
                "designs": to_uint8(design), "designs_float": design,
                "views": to_uint8(view), "views_float": view}

    chain = chain.get_concrete_function()

    def checked(keypoints, view_keypoints, top, top_size, bottom, bottom_size, seed):
        batch = tf.shape(keypoints)[0]
        checks = [tf.debugging.assert_equal(
            tf.stack([tf.shape(t)[0] for t in (view_keypoints, top, top_size, bottom,
                                               bottom_size)]), batch,
            message="paint_design: every input but seed needs the same batch size B")]
        checks += check_keypoints(keypoints, size, size, "keypoints")
        checks += check_keypoints(view_keypoints, size, size, "view_keypoints")
        checks += check_sizes(top_size, size, size, "top_swatch_size")
        checks += check_sizes(bottom_size, size, size, "bottom_swatch_size")
        with tf.control_dependencies(checks):
            return chain(tf.cast(keypoints, tf.float64), tf.cast(view_keypoints, tf.float64),
                         top, top_size, bottom, bottom_size, seed)

    def design(keypoints, top_swatch, top_swatch_size, bottom_swatch, bottom_swatch_size,
               seed):
        with tf.control_dependencies(check_keypoints(keypoints, size, size, "keypoints")):
            view = mirror_keypoints(keypoints, size)
        return checked(keypoints, view, top_swatch, top_swatch_size, bottom_swatch,
                       bottom_swatch_size, seed)

    def design_in_view(keypoints, top_swatch, top_swatch_size, bottom_swatch,
                       bottom_swatch_size, seed, view_keypoints):
        return checked(keypoints, view_keypoints, top_swatch, top_swatch_size, bottom_swatch,
                       bottom_swatch_size, seed)

    specs = [tf.TensorSpec([None, NUM_JOINTS, 2], tf.float32, name="keypoints"),
             tf.TensorSpec(u8.shape, tf.uint8, name="top_swatch"),
             tf.TensorSpec([None, 2], tf.int32, name="top_swatch_size"),
             tf.TensorSpec(u8.shape, tf.uint8, name="bottom_swatch"),
             tf.TensorSpec([None, 2], tf.int32, name="bottom_swatch_size"),
             tf.TensorSpec([], tf.int64, name="seed")]
    view = tf.TensorSpec([None, NUM_JOINTS, 2], tf.float32, name="view_keypoints")
    archive = keras.export.ExportArchive()
    for net in (nets.lgn, nets.tsn, nets.afn):
        archive.track(net)
    add_endpoints(archive, (("paint_design", design, specs),
                            ("paint_design_in_view", design_in_view, specs + [view])))
    return archive


def export_paint(nets, export_dir, version=1):
    """Export PAINT's signatures (:func:`paint_archive`) as ``<export_dir>/<version>/`` (TF
    Serving's layout, written atomically). Returns the version folder."""
    return write_versioned(paint_archive(nets), export_dir, version)


def export_networks(export_dir, version=1, preset="released", paths=None, seed=0):
    """Export the released networks (``paths``: LGN's ``<epoch>_net_G.pth``, TSN's and AFN's
    ``gen_<NNNNN>.pth``, :func:`pipeline.load_networks`; 256 x 256) or the tiny preset's
    random ones seeded by ``seed`` (``pipeline.build_networks("tiny", seed)``, 64 x 64).
    Returns the version folder.

    Raises:
        ValueError: a missing path (named), a file that is not the stage's checkpoint
            (``TorchCheckpointError``), paths with ``tiny``, an unknown preset.
    """
    import os

    if preset == "tiny":
        if paths and any(paths):
            raise ValueError("the tiny preset has random weights: give no checkpoint paths")
        nets = P.build_networks("tiny", seed=seed)
    elif preset == "released":
        names = ("LGN generator", "TSN generator", "AFN generator")
        if paths is None or len(paths) != 3:
            raise ValueError("the released preset needs the LGN, TSN and AFN generator files")
        for name, path in zip(names, paths):
            if not path or not os.path.isfile(path):
                raise ValueError(f"{path}: no such {name} file")
        nets = P.load_networks(*paths)      # TorchCheckpointError: a ValueError
    else:
        raise ValueError(f"preset: 'released' or 'tiny', got {preset!r}")
    return export_paint(nets, export_dir, version)
