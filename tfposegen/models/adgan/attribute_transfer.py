"""ADGAN's component attribute transfer: person A in a target pose, wearing some of person
B's components.

ADGen's style code is decomposed: the texture encoder codes each of the 8 parsing classes
(``tfposegen.parsing.labels.ADGAN_LABELS``: background, pants, hair, skirt, face, upper
clothes, arm, leg) separately and concatenates the codes class-major, ``style_dim / 8``
channels (64 at the released size) per class (``VggStyleEncoder`` of models/model_adgen.py in
menyifang/ADGAN). The paper's component attribute transfer figures are made by encoding the
source person and a second person, replacing the 64-d slices of the chosen components in the
source's code by the second person's, and decoding the spliced code with the target pose:
everything else (identity, other garments, background) stays the source's. The repository
ships no script for it (``--model adgan_mix`` names files that are not in it; users asked in
ADGAN issues #5 and #38); :func:`attribute_transfer` is that procedure on the released
generator.
"""

import numpy as np
from keras import ops

from tfposegen.parsing.labels import ADGAN_LABELS


def component_mask(classes):
    """Class names -> float32 mask [8] (1 = take the class from person B), in
    ``ADGAN_LABELS`` order.

    Args:
        classes: one name (``"upper clothes"``) or an iterable of names, from
            ``tfposegen.parsing.labels.ADGAN_LABELS`` (case and surrounding spaces ignored);
            empty: no class.

    Raises:
        ValueError: an unknown name (the message lists the valid names).
    """
    if isinstance(classes, str):
        classes = [classes]
    mask = np.zeros(len(ADGAN_LABELS), np.float32)
    for name in classes:
        key = str(name).strip().lower()
        if key not in ADGAN_LABELS:
            raise ValueError(f"unknown ADGAN component {name!r}; valid names: "
                             f"{', '.join(ADGAN_LABELS)}")
        mask[ADGAN_LABELS.index(key)] = 1.0
    return mask


def splice_styles(style_a, style_b, mask):
    """Per-class choice between two class-major style codes.

    Args:
        style_a, style_b: float [B, style_dim] (``ADGen.encode_style``), style_dim a multiple
            of the number of classes K.
        mask: float [K] or [B, K]; where > 0.5 the class's slice comes from ``style_b``.

    Returns:
        float [B, style_dim]: each slice copied unchanged from ``style_a`` or ``style_b``.
    """
    n_classes = mask.shape[-1]
    width = style_a.shape[-1]
    if width is None:  # traced with an unknown width (a SavedModel graph)
        width = ops.shape(style_a)[-1]
    elif width % n_classes:
        raise ValueError(f"attribute_transfer.py: style code width {width} is not a multiple "
                         f"of the {n_classes} classes of the mask")
    channel_class = ops.arange(width) // (width // n_classes)
    take_b = ops.take(ops.convert_to_tensor(mask, "float32"), channel_class, axis=-1) > 0.5
    return ops.where(take_b, style_b, style_a)


def swap_components(style_a, style_b, classes):
    """Person A's style code with the slices of ``classes`` taken from person B.

    Channel ``64 * i + j`` (``style_dim / 8`` per class in general) belongs to class i of
    ``ADGAN_LABELS``, as ``VggStyleEncoder`` (models/model_adgen.py in menyifang/ADGAN)
    concatenates its per-class codes.

    Args:
        style_a, style_b: float [B, style_dim] style codes of persons A and B.
        classes: component names (see :func:`component_mask`).

    Returns:
        float [B, style_dim].

    Raises:
        ValueError: an unknown component name.
    """
    return splice_styles(style_a, style_b, component_mask(classes))


def attribute_transfer(netG, pose_map, image_a, parse_a, image_b, parse_b, classes):
    """Render person A in the target pose wearing the ``classes`` components of person B.

    Both people are encoded by ``netG.encode_style``, the 64-d slices of the named classes
    are spliced from B into A's code (:func:`swap_components`), and the code drives the
    decoder over the target pose code. With every class from B the result is
    ``netG(pose_map, image_b, parse_b)``; with none, ``netG(pose_map, image_a, parse_a)``.

    Args:
        netG: an ``ADGen``.
        pose_map: float32 [B, H, W, 18] target keypoint maps (ADGAN's single-pixel maps,
            ``tfposegen.pose.maps.gaussian_heatmaps(..., peak_only=True)``).
        image_a, image_b: float32 [B, H, W, 3] in [-1, 1].
        parse_a, parse_b: float32 [B, H, W, 8] one-hot parsing (``parsing_one_hot``).
        classes: component names from ``ADGAN_LABELS`` (e.g. ``["upper clothes", "pants"]``).

    Returns:
        float32 [B, H, W, 3] in [-1, 1].

    Raises:
        ValueError: an unknown component name.
    """
    mask = component_mask(classes)
    style = splice_styles(netG.encode_style(image_a, parse_a),
                          netG.encode_style(image_b, parse_b), mask)
    return netG.decode(netG.encode_pose(pose_map), netG.adain_params(style))
