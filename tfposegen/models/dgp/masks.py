"""DGP's masks: residual mask, arm mask and inner (garment) mask.

Label values (:mod:`tfposegen.parsing.labels`): model parse 0 background, 16 / 32 arms,
64 trunk, 255 hair; cloth parse 0 background, 23 collar inside, 32 garment body, 64 / 128
sleeves.

The original computes the residual mask with PIL at the parse maps' native size and the arm
and inner masks with OpenCV after an OpenCV cubic resize to 512x512. Both are reproduced
here with the same libraries, since the exact label tests after a cubic resize see the
interpolation's spurious boundary values and must see the same ones.
"""

import cv2
import numpy as np
from scipy import ndimage

from tfposegen.parsing.labels import CLOTH_LABELS, MODEL_LABELS  # noqa: F401 (re-exported)

# Sizes at the original's 512x512 working resolution.
_ARM_ERODE, _ARM_DILATE = 3, 11
_GARMENT_DILATE, _GARMENT_ERODE = 5, 15
_ARM_FINAL_DILATE = 5


def residual_mask(model_parse, cloth_parse, cloth_sleeve="short"):
    """Where the model's old garment or body is not covered by the new garment.

    As the original's ``get_and_save_residual_mask`` (PIL): the model body (label 64 for
    short sleeves, every non-zero label otherwise) and the cloth-less area (cloth labels
    0 and 23) are each dilated with a 7x7 max filter, then AND-ed. When the two maps differ
    in size the result has the smaller height and width, top-left aligned (PIL's
    ``ImageChops.logical_and``).

    Args:
        model_parse: uint8 [H1, W1] model label map.
        cloth_parse: uint8 [H2, W2] cloth label map.
        cloth_sleeve: "short" or "long".

    Returns:
        bool [min(H1, H2), min(W1, W2)]; True on the residual region.
    """
    if cloth_sleeve not in ("short", "long"):
        raise ValueError(f"cloth_sleeve must be 'short' or 'long', got {cloth_sleeve!r}")
    body = model_parse == 64 if cloth_sleeve == "short" else model_parse != 0
    cloth_less = (cloth_parse == 0) | (cloth_parse == 23)
    body = ndimage.maximum_filter(body, size=7, mode="nearest")
    cloth_less = ndimage.maximum_filter(cloth_less, size=7, mode="nearest")
    h = min(body.shape[0], cloth_less.shape[0])
    w = min(body.shape[1], cloth_less.shape[1])
    return body[:h, :w] & cloth_less[:h, :w]


def resize_cubic(image, size):
    """OpenCV ``INTER_CUBIC`` resize (a = -0.75, uint8 rounding and saturation).

    Args:
        image: uint8 [H, W] or [H, W, C].
        size: output side length (square output).

    Returns:
        uint8 [size, size] or [size, size, C].
    """
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC)


def loss_mask_from_residual(residual, size):
    """The projection's pixel mask: 1 where the loss counts, 0 on the residual region.

    As the original: the residual mask as a 0/255 image, cubic-resized to ``size`` (uint8
    saturated), integer-divided by 255 (only pixels that are exactly 255 stay residual),
    then ``1 - that``.

    Args:
        residual: bool [H, W] from :func:`residual_mask`.
        size: working resolution (512 in the original).

    Returns:
        float32 [size, size] with values in {0, 1}.
    """
    resized = resize_cubic(residual.astype(np.uint8) * 255, size)
    return (1 - resized // 255).astype(np.float32)


def _kernel(k, size):
    """A k x k all-ones kernel at 512 px, scaled to ``size`` (odd, >= 1) for other sizes."""
    if size != 512:
        k = max(1, int(round(k * size / 512)))
        k += 1 - k % 2
    return np.ones((k, k), np.uint8)


def _erode(mask, k, size):
    return cv2.erode(mask, _kernel(k, size), iterations=1,
                     borderType=cv2.BORDER_CONSTANT, borderValue=0)


def _dilate(mask, k, size):
    return cv2.dilate(mask, _kernel(k, size), iterations=1,
                      borderType=cv2.BORDER_CONSTANT, borderValue=0)


def arm_and_inner_masks(model_parse, cloth_parse, size=512):
    """The arm mask and the inner (garment) mask of semantic and pattern search.

    As the original's ``get_arm_and_clothing_mask``: both label maps are cubic-resized to
    ``size``; arms = model labels 16 or 32, eroded 3x3 then dilated 11x11; garment = cloth
    labels 32, 64 or 128, dilated 5x5 then eroded 15x15; arm mask = arms over the garment
    body (cloth 32) in the lower half of the image, dilated 5x5; inner mask = garment and
    not arm. Morphology uses a zero constant border (so erosion clears the image edge).
    At sizes other than 512 the kernel sides scale with the size (rounded to odd); at 512
    everything is as the original.

    Args:
        model_parse: uint8 [H1, W1] model label map.
        cloth_parse: uint8 [H2, W2] cloth label map.
        size: working resolution.

    Returns:
        (mask_arm, mask_inner), float32 [size, size] each with values in {0, 1}.
    """
    body_map = resize_cubic(model_parse, size)
    cloth_map = resize_cubic(cloth_parse, size)
    body = ((body_map == 32) | (body_map == 16)).astype(np.uint8)
    body = _dilate(_erode(body, _ARM_ERODE, size), _ARM_DILATE, size)
    garment = ((cloth_map == 32) | (cloth_map == 64) | (cloth_map == 128)).astype(np.uint8)
    garment = _erode(_dilate(garment, _GARMENT_DILATE, size), _GARMENT_ERODE, size)
    arm = body & (cloth_map == 32)
    arm[: size // 2] = 0
    arm = _dilate(arm, _ARM_FINAL_DILATE, size)
    inner = garment & (1 - arm)
    return arm.astype(np.float32), inner.astype(np.float32)
