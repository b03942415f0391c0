"""DGP sample folders: reading, checking and preparing one (model, garment) pair.

Layout (as the original's ``data/``)::

    <model_dir>/model_parse.png    8-bit label map of the model (model_img.png is not used)
    <cloth_dir>/cloth_parse.png    8-bit label map of the garment
    <cloth_dir>/coarse_align.png   RGB: the garment roughly pasted onto the model

Every file is checked before any model is loaded; a problem raises :class:`DGPInputError`
naming the file. Nothing is written into the input folders (the original overwrote
``residual_parse.png`` in ``cloth_dir``; the port writes it to the output folder).
"""

import dataclasses
import os

import numpy as np

from tfposegen.models.dgp import masks
from tfposegen.utils.files import ImageReadError, open_image


class DGPInputError(ValueError):
    """A DGP input file is missing or not what DGP expects; the message names the file."""


@dataclasses.dataclass
class DGPInputs:
    """One prepared (model, garment) pair at the working resolution R.

    Attributes:
        rough_alignment: uint8 [R, R, 3], the coarse alignment after OpenCV cubic resize.
        residual: bool [h, w] residual mask at the parse maps' native size (saved as PNG).
        pixel_mask: float32 [R, R], 1 where the projection's losses count, 0 on the residual.
        mask_arm: float32 [R, R] in {0, 1}, model arms over the garment body.
        mask_inner: float32 [R, R] in {0, 1}, garment region without the arms.
    """

    rough_alignment: np.ndarray
    residual: np.ndarray
    pixel_mask: np.ndarray
    mask_arm: np.ndarray
    mask_inner: np.ndarray

    @property
    def x(self):
        """float32 [1, R, R, 3] in [-1, 1]: the generator-space view of the coarse alignment."""
        return (self.rough_alignment[None].astype(np.float32) / 127.5 - 1).astype(np.float32)


def _open(path, what, square=True):
    try:
        image = open_image(path, what)
    except ImageReadError as e:
        raise DGPInputError(str(e)) from None
    if square and image.width != image.height:
        raise DGPInputError(f"{path}: {what} must be square, got {image.width}x{image.height}")
    return image


def read_parse(path, labels, what, square=True):
    """Read an 8-bit single-channel label map and check its label values.

    Args:
        path: PNG file.
        labels: dict of allowed values -> meaning.
        what: words naming the file in errors.
        square: require a square map (DGP's inputs).

    Returns:
        uint8 [H, W] (H == W when ``square``).
    """
    image = _open(path, what, square)
    if image.mode != "L":
        raise DGPInputError(f"{path}: {what} must be an 8-bit greyscale label map (PIL mode "
                            f"'L'), got mode {image.mode!r}")
    parse = np.asarray(image)
    unexpected = sorted(set(np.unique(parse).tolist()) - set(labels))
    if unexpected:
        allowed = ", ".join(f"{v} {n}" for v, n in labels.items())
        raise DGPInputError(f"{path}: {what} has unexpected label values {unexpected[:10]}; "
                            f"DGP's labels are {allowed}")
    return parse


def read_rgb(path, what):
    """Read a square RGB image as uint8 [H, H, 3]."""
    image = _open(path, what)
    if image.mode != "RGB":
        raise DGPInputError(f"{path}: {what} must be an RGB image, got mode {image.mode!r}")
    return np.asarray(image)


def read_pair(cloth_dir, model_dir):
    """Read and check the three files of one DGP pair (no model needed).

    Args:
        cloth_dir: folder with cloth_parse.png and coarse_align.png.
        model_dir: folder with model_parse.png.

    Returns:
        dict with ``model_parse`` uint8 [H1, H1], ``cloth_parse`` uint8 [H2, H2] and
        ``coarse_align`` uint8 [H3, H3, 3].
    """
    for folder, flag in ((cloth_dir, "--cloth_dir"), (model_dir, "--model_dir")):
        if not os.path.isdir(folder):
            raise DGPInputError(f"{folder}: {flag} is not a folder")
    return {
        "model_parse": read_parse(os.path.join(model_dir, "model_parse.png"),
                                  masks.MODEL_LABELS, "model parse map"),
        "cloth_parse": read_parse(os.path.join(cloth_dir, "cloth_parse.png"),
                                  masks.CLOTH_LABELS, "cloth parse map"),
        "coarse_align": read_rgb(os.path.join(cloth_dir, "coarse_align.png"),
                                 "coarse alignment"),
    }


def prepare_pair(pair, cloth_sleeve, resolution):
    """Masks and the resized coarse alignment of a pair from :func:`read_pair`.

    Args:
        pair: dict from :func:`read_pair`.
        cloth_sleeve: "short" or "long".
        resolution: working resolution R (the generator's; 512 for DGP).

    Returns:
        :class:`DGPInputs`.
    """
    if cloth_sleeve not in ("short", "long"):
        raise DGPInputError(f"--cloth_sleeve must be 'short' or 'long', got {cloth_sleeve!r}")
    residual = masks.residual_mask(pair["model_parse"], pair["cloth_parse"], cloth_sleeve)
    mask_arm, mask_inner = masks.arm_and_inner_masks(pair["model_parse"], pair["cloth_parse"],
                                                     resolution)
    return DGPInputs(
        rough_alignment=masks.resize_cubic(pair["coarse_align"], resolution),
        residual=residual,
        pixel_mask=masks.loss_mask_from_residual(residual, resolution),
        mask_arm=mask_arm,
        mask_inner=mask_inner)
