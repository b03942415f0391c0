"""DGP's loss terms (``DGP.py`` in RuiLiFeng/Deep-Generative-Projection), NHWC, batch 1.

Images ``x`` (coarse alignment) and ``x_rec`` (generator output, unclipped) are float32
[1, R, R, 3] in [-1, 1]; masks are float32 [1, R, R, 1] in {0, 1}. Every term returns a
scalar. Means run over the whole tensor even where masked, as the original.
"""

from keras import ops

from tfposegen.ops.resize import resize_bilinear_legacy

FEAT_WEIGHT = 5e-5
ATTR_WEIGHT = 5e-5
OUTER_WEIGHT = 0.9
ADV_WEIGHT = 1.0  # DGP's; an option for discriminators of other scales
ATTR_SIZE = 331


def to_255(images):
    """[-1, 1] -> [0, 255] float view, not clipped: (x + 1) / 2 * 255."""
    return (images + 1.0) / 2.0 * 255.0


def adversarial(discriminator, x_rec):
    """mean(softplus(-D(x_rec))): the non-saturating generator loss."""
    return ops.mean(ops.softplus(-discriminator(x_rec)))


def vgg_input(images, mask):
    """VGG branch input: the [0, 255] view times the mask, [1, R, R, 3]."""
    return to_255(images) * mask


def attr_input(images, mask):
    """Attribute branch input: the [0, 255] view and the mask, each resized to 331x331 with
    TF1's legacy bilinear resize, then multiplied; [1, 331, 331, 3]."""
    size = (ATTR_SIZE, ATTR_SIZE)
    return resize_bilinear_legacy(to_255(images), size) * resize_bilinear_legacy(mask, size)


def projection_terms(x, x_rec, pixel_mask, discriminator, vgg=None, vgg_target=None,
                     attr=None, attr_target=None, adv_weight=ADV_WEIGHT):
    """Projection loss terms and their weighted total.

    Args:
        x, x_rec: [1, R, R, 3] in [-1, 1].
        pixel_mask: [1, R, R, 1], 0 on the residual region.
        discriminator: ``images -> logits [N, 1]``.
        vgg, attr: feature models (``nets.perceptual``) or None to leave the term out.
        vgg_target, attr_target: their features of ``vgg_input(x, mask)`` and
            ``attr_input(x, mask)``, computed once since ``x`` is constant.

    Returns:
        dict of scalars: ``pix`` (mean squared masked difference), ``feat`` (mean squared
        VGG16 conv4_3 difference), ``attr`` (summed squared attribute difference), ``adv``,
        and ``total = pix + 5e-5 feat + adv_weight adv + 5e-5 attr``.
    """
    terms = {"pix": ops.mean(ops.square((x - x_rec) * pixel_mask))}
    total = terms["pix"]
    if vgg is not None:
        terms["feat"] = ops.mean(ops.square(vgg_target - vgg(vgg_input(x_rec, pixel_mask))))
        total = total + FEAT_WEIGHT * terms["feat"]
    if attr is not None:
        terms["attr"] = ops.sum(ops.square(attr_target - attr(attr_input(x_rec, pixel_mask))))
        total = total + ATTR_WEIGHT * terms["attr"]
    terms["adv"] = adversarial(discriminator, x_rec)
    terms["total"] = total + adv_weight * terms["adv"]
    return terms


def search_terms(x, x_rec, projected, mask_arm, mask_inner, discriminator,
                 adv_weight=ADV_WEIGHT):
    """Semantic / pattern search loss terms and their weighted total.

    Args:
        x, x_rec: [1, R, R, 3] in [-1, 1].
        projected: [1, R, R, 3], the projection phase's last image.
        mask_arm, mask_inner: [1, R, R, 1] in {0, 1}.
        discriminator: ``images -> logits [N, 1]``.
        adv_weight: weight of ``adv`` (DGP: 1).

    Returns:
        dict of scalars ``inner``, ``arm``, ``outer``, ``adv`` and
        ``total = inner + adv_weight adv + 0.9 outer + arm``.
    """
    to_projected = ops.square(projected - x_rec)
    terms = {
        "inner": ops.mean(ops.square(x - x_rec) * mask_inner),
        "arm": ops.mean(to_projected * mask_arm),
        "outer": ops.mean(to_projected * (1.0 - mask_arm) * (1.0 - mask_inner)),
        "adv": adversarial(discriminator, x_rec),
    }
    terms["total"] = (terms["inner"] + adv_weight * terms["adv"] + OUTER_WEIGHT * terms["outer"]
                      + terms["arm"])
    return terms
