"""How close DGP's outputs stay to the coarse alignment where it shows the new garment.

DGP keeps the garment's look from the coarse alignment and repairs the rest, so the PSNR
against the coarse alignment inside the garment region measures how much of the garment
survives each phase (encoder, projection, semantic search, pattern search).
"""

import cv2
import numpy as np

# Cloth-parse labels where the coarse alignment shows the garment: body and both sleeves
# (23, the inside of the collar, shows the model).
GARMENT_LABELS = (32, 64, 128)


def garment_region(cloth_parse, size):
    """The garment region of a cloth parse map at the working resolution.

    Args:
        cloth_parse: uint8 [H, H] with DGP's cloth labels.
        size: working resolution R.

    Returns:
        bool [R, R], True on garment body and sleeves (nearest-neighbour resize).
    """
    resized = cv2.resize(np.ascontiguousarray(cloth_parse), (size, size),
                         interpolation=cv2.INTER_NEAREST)
    return np.isin(resized, GARMENT_LABELS)


def masked_psnr(image, reference, mask):
    """PSNR in dB (peak 255) over the pixels where ``mask`` is True, all channels.

    Args:
        image, reference: uint8 [R, R, 3].
        mask: bool [R, R] with at least one True pixel.

    Returns:
        float; ``inf`` when the masked pixels are equal.
    """
    if image.shape != reference.shape or image.shape[:2] != mask.shape:
        raise ValueError(f"shapes differ: image {image.shape}, reference {reference.shape}, "
                         f"mask {mask.shape}")
    if not mask.any():
        raise ValueError("mask is empty")
    diff = image[mask].astype(np.float64) - reference[mask].astype(np.float64)
    mse = float(np.mean(diff ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)
