"""How close DGP's outputs stay to the coarse alignment where it shows the new garment.

DGP keeps the garment's look from the coarse alignment and repairs the rest, so the PSNR
against the coarse alignment inside the garment region measures how much of the garment
survives each phase (encoder, projection, semantic search, pattern search).
"""

import cv2
import numpy as np

from tfposegen.parsing.labels import GARMENT_LABELS


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
