"""Cloth parse of a product photo: DGP's garment labels for a garment on a plain background.

Labels (:mod:`tfposegen.parsing.labels`): 0 background, 23 collar inside (the visible
inside of the back of the neck opening), 32 garment body, 64 sleeve on the image-left side,
128 sleeve on the image-right side. DGP's own ``cloth_parse.png`` is the parse *after* the
garment was warped onto the model: pixel-aligned with ``coarse_align.png`` and, in the
sample that has one (``model_2/cloth_2``), with ``cloth_img.png``, which is the warped
garment on white. :func:`cloth_parse` parses an unwarped product photo;
``tfposegen.models.dgp.coarse_align`` warps both.

Rules (every length is relative to the image or the garment, none is in pixels):

1. Background. The border colour is the per-channel median of a band along the image border
   (2 % of the shorter side, at least 2 px). The border is plain when the median colour
   distance of the band to that colour is at most 12 (a garment filling the frame fails
   here too); the tolerance is 8 + 3 x the band's 75th-percentile distance, clipped to
   [8, 40]. Background = pixels within the tolerance connected to the image border (flood
   fill); the garment is the largest remaining component, closed and opened with a disc of
   1 % of its larger side, holes filled. It may touch at most 30 % of the border band.
2. Torso column. The centre column is the median column of the garment's lower 40 %. In
   each row, the run of garment pixels through the centre column is the "centre run".
3. Armpits. Scanning the centre run's left (right) end upwards from near the hem, the armpit
   is the first row where the end lies outwards of its median over the rows 2.5-5 % of the
   garment's height below by more than 4 % of the garment's width (then walked down to where
   the departure starts): there the run picks up the sleeve, which hung apart from the
   torso below. A waist-to-chest taper is too gradual to count. No such row on a side means
   no sleeve there (a tank top); inward departures are the armholes of sleeveless tops.
4. Shoulders. On the garment's top contour between the neck (the top of the centre column)
   and the sleeve's far end (its outermost pixel), the shoulder is the contour point
   farthest outside the chord joining the two: the corner where the shoulder line turns
   into the sleeve. It is kept outside the armpit's column.
5. Sleeves. The seam is the straight line shoulder -> armpit. At and above the armpit row,
   garment pixels on the outer side of the seam line are sleeve; below it, garment pixels
   outside the centre run are. The largest connected part of that is the sleeve; the
   image-left one is 64, the image-right one 128.
6. Collar inside. In a window at the top of the torso column (centred between the shoulders,
   44 % of the shoulder width wide, 25 % of it tall below the garment's top), the smooth
   pixels (grey-level gradient, blurred by 0.4 % of the shoulder width, below 30 levels per
   1 % of it) connected to the top of the garment at the centre form the collar inside
   (holes filled). It is dropped when it reaches the window's
   bottom (no edge separates it from the front, e.g. a plain knit) or is under 0.3 % of the
   garment: then the parse has no label 23, which DGP treats like background.

Limits: sleeves that touch the torso below the armpit (arms folded or pressed to the sides)
are labelled body where they touch; garments photographed on a person or a patterned
background are refused by rule 1.
"""

import dataclasses
import os

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from tfposegen.parsing.labels import (
    BACKGROUND,
    BODY,
    COLLAR_INSIDE,
    SLEEVE_LEFT,
    SLEEVE_RIGHT,
)

MIN_SIDE = 32
_PLAIN_SPREAD = 12.0
_MAX_BORDER_GARMENT = 0.3
_MIN_GARMENT = 0.01
_ARMPIT_JUMP = 0.04
_SMOOTH_GRADIENT = 30.0
_CORNER_TOLERANCE = 0.01


class ClothParseError(ValueError):
    """A product photo cannot be parsed; the message names the file when a path was given."""


@dataclasses.dataclass
class GarmentAnchors:
    """Anchor points of a parsed garment, (x, y) = (column, row) float pixel coordinates.

    Attributes:
        shoulder: float64 [2, 2], top end of the image-left and image-right sleeve seam
            (without a sleeve on a side: the outermost point of the top 15 % of the body,
            e.g. a strap's).
        armpit: float64 [2, 2], bottom end of the left and right seam (without a sleeve:
            the bottom of the armhole, where the side turns inwards, else the side at 35 %
            of the body's height).
        hem: float64 [2, 2], bottom-left and bottom-right corner of the body.
        neck: float64 [2], top centre of the body (collar inside included).
        cuff: float64 [2, 2], far end of the left and right sleeve (its centre); NaN when a
            side has no sleeve.
    """

    shoulder: np.ndarray
    armpit: np.ndarray
    hem: np.ndarray
    neck: np.ndarray
    cuff: np.ndarray


def _load(product_image):
    """(uint8 [H, W, 3], name for errors) from a path or an array."""
    if isinstance(product_image, (str, os.PathLike)):
        path = os.fspath(product_image)
        try:
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB")), path
        except (OSError, ValueError) as e:
            raise ClothParseError(f"{path}: cannot read the product photo ({e})") from None
    image = np.asarray(product_image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ClothParseError(f"product photo: expected uint8 [H, W, 3], got {image.dtype} "
                              f"{list(image.shape)}")
    return image, "product photo"


def _disc(radius):
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def largest_component(mask):
    """bool [H, W]: the largest 4-connected part of a bool [H, W] mask (itself if empty)."""
    labels, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(labels.ravel())[1:]
    return labels == 1 + int(np.argmax(sizes))


def foreground_mask(product_image):
    """The garment's silhouette in a product photo on a plain background (rule 1).

    Args:
        product_image: path of an image file, or uint8 [H, W, 3] RGB (or [H, W] grey).

    Returns:
        bool [H, W], True on the garment.

    Raises:
        ClothParseError: unreadable file, image under 32 px, border not one plain colour,
            garment covering over 30 % of the border band, or no garment found.
    """
    return _foreground(*_load(product_image))


def _foreground(image, name):
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ClothParseError(f"{name}: image is {w}x{h}; a product photo needs at least "
                              f"{MIN_SIDE} px on each side")
    b = max(2, round(0.02 * min(h, w)))
    band = np.zeros((h, w), bool)
    band[:b], band[-b:], band[:, :b], band[:, -b:] = True, True, True, True
    pixels = image.astype(np.float32)
    colour = np.median(pixels[band], axis=0)
    distance = np.linalg.norm(pixels - colour, axis=-1)
    spread = float(np.median(distance[band]))
    if spread > _PLAIN_SPREAD:
        raise ClothParseError(f"{name}: the image border is not one plain colour (median "
                              f"colour distance {spread:.0f} > {_PLAIN_SPREAD:.0f}); photograph "
                              "the garment on a plain background")
    tolerance = float(np.clip(8 + 3 * np.percentile(distance[band], 75), 8, 40))
    labels, _ = ndimage.label(distance <= tolerance)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    garment = ~np.isin(labels, edge[edge > 0])
    if not garment.any():
        raise ClothParseError(f"{name}: no garment found (the whole image has the border's "
                              "colour)")
    garment = largest_component(garment)
    ys, xs = np.nonzero(garment)
    radius = max(1, round(0.01 * max(np.ptp(ys), np.ptp(xs))))
    garment = garment.astype(np.uint8)
    garment = cv2.morphologyEx(garment, cv2.MORPH_CLOSE, _disc(radius))
    garment = ndimage.binary_fill_holes(garment).astype(np.uint8)
    garment = largest_component(cv2.morphologyEx(garment, cv2.MORPH_OPEN, _disc(radius)) > 0)
    if garment[band].mean() > _MAX_BORDER_GARMENT:
        raise ClothParseError(f"{name}: the garment covers {garment[band].mean():.0%} of the "
                              "image border; leave a plain margin around it")
    if garment.mean() < _MIN_GARMENT:
        raise ClothParseError(f"{name}: no garment found (foreground is "
                              f"{garment.mean():.2%} of the image)")
    return garment


def _centre_runs(mask, xc):
    """Left and right end of each row's run through column xc; -1 where (y, xc) is off."""
    h, w = mask.shape
    left, right = np.full(h, -1), np.full(h, -1)
    for y in np.nonzero(mask[:, xc])[0]:
        off_left = np.nonzero(~mask[y, :xc])[0]
        off_right = np.nonzero(~mask[y, xc:])[0]
        left[y] = off_left[-1] + 1 if off_left.size else 0
        right[y] = xc + off_right[0] - 1 if off_right.size else w - 1
    return left, right


def _break_row(ends, direction, start, stop, jump, window):
    """Scanning up from ``start`` to ``stop``, the row where the centre run's end leaves its
    course below (``direction`` -1: towards smaller x, +1: larger) by more than ``jump``
    within ``window`` rows (abrupt, unlike a waist-to-chest taper); None if it never does
    or the centre column leaves the garment first. Returns the lowest row of the departure."""
    for y in range(start - window, stop - 1, -1):
        if ends[y] < 0:
            return None
        reference = ends[y + 1 + window // 2:y + 1 + window]
        reference = reference[reference >= 0]
        if reference.size and direction * (ends[y] - np.median(reference)) > jump:
            onset = y
            while onset < y + window and direction * (ends[onset + 1] - np.median(reference)
                                                      ) > jump / 4:
                onset += 1
            return onset
    return None


def _side_breaks(mask, inward=False):
    """Where each side of a garment silhouette leaves the torso's course (rule 3).

    Args:
        mask: bool [H, W] garment silhouette (upright, hem at the bottom).
        inward: False: outward breaks (armpits below sleeves); True: inward breaks
            (armpits below the armholes of a sleeveless top).

    Returns:
        (centre column int, (left ends, right ends) int [H] with -1 off the centre run,
        [left armpit, right armpit] each float64 (x, y) or None).
    """
    ys, xs = np.nonzero(mask)
    y0, y1 = ys.min(), ys.max()
    height, width = y1 - y0 + 1, xs.max() - xs.min() + 1
    xc = int(np.median(xs[ys > y0 + 0.6 * height]))
    runs = _centre_runs(mask, xc)
    jump, window = max(3.0, _ARMPIT_JUMP * width), max(2, round(0.05 * height))
    start = int(y1 - 0.03 * height)
    armpits = []
    for side, ends in zip((-1, 1), runs):
        row = _break_row(ends, -side if inward else side, start, y0, jump, window)
        armpits.append(None if row is None else np.array([ends[row + 1], row], np.float64))
    return xc, runs, armpits


def shoulder_corner(mask, neck, tip, side):
    """The shoulder of a silhouette (rule 4): the top-contour point farthest outside the
    chord from ``neck`` to ``tip`` (the middle of the stretch within 1 % of the chord's
    length of the farthest, which is stable on a rounded shoulder).

    Args:
        mask: bool [H, W] silhouette (garment, or a person's trunk and arms).
        neck: float (x, y) top of the neck.
        tip: float (x, y) far end of the sleeve or arm on that side.
        side: -1 for the image-left shoulder, +1 for the image-right one.

    Returns:
        float64 (x, y) on the top contour between the columns of ``neck`` and ``tip``.
    """
    x_lo, x_hi = sorted((int(neck[0]), int(tip[0])))
    columns = np.arange(x_lo, x_hi + 1)
    has = mask[:, columns].any(axis=0)
    columns = columns[has]
    tops = np.argmax(mask[:, columns], axis=0)
    d = tip - neck
    # signed distance, positive on the upper-outer side of the chord
    cross = (d[0] * (tops - neck[1]) - d[1] * (columns - neck[0])) * -side
    near = np.nonzero(cross >= cross.max() - _CORNER_TOLERANCE * np.linalg.norm(d) ** 2)[0]
    i = near[len(near) // 2]
    return np.array([columns[i], tops[i]], np.float64)


def _sleeve(mask, side, shoulder, armpit, ends):
    """Sleeve pixels on one side (rule 5), bool [H, W]."""
    h, w = mask.shape
    ys, xs = np.mgrid[:h, :w]
    slope = (armpit[0] - shoulder[0]) / max(armpit[1] - shoulder[1], 1.0)
    seam_x = shoulder[0] + slope * (ys - shoulder[1])
    above = ys <= armpit[1]
    outer_run = (ends[:, None] >= 0) & (side * (xs - ends[:, None]) > 0)
    candidate = mask & np.where(above, side * (xs - seam_x) > 0, outer_run)
    return largest_component(candidate) if candidate.any() else candidate


def _collar_inside(image, mask, body, centre_x, top, shoulder_width):
    """Collar-inside pixels (rule 6), bool [H, W]."""
    h, w = mask.shape
    half = 0.22 * shoulder_width
    x_lo, x_hi = max(0, int(centre_x - half)), min(w, int(centre_x + half) + 1)
    y_lo, y_hi = top, min(h, int(top + 0.25 * shoulder_width) + 1)
    grey = cv2.GaussianBlur(image.astype(np.float32).mean(axis=-1), (0, 0),
                            max(0.5, 0.004 * shoulder_width))
    gy, gx = np.gradient(grey * (0.01 * shoulder_width))  # grey levels per 1 % of it
    window = np.zeros((h, w), bool)
    window[y_lo:y_hi, x_lo:x_hi] = True
    smooth = window & body & (np.hypot(gx, gy) < _SMOOTH_GRADIENT)
    cx = int(round(centre_x))
    seeds = np.zeros_like(smooth)
    column_top = int(np.argmax(mask[:, cx]))
    seeds[column_top:column_top + 3, max(0, cx - 2):cx + 3] = True
    labels, _ = ndimage.label(smooth)
    found = np.unique(labels[seeds & smooth])
    region = np.isin(labels, found[found > 0])
    if not region.any() or region[y_hi - 1].any() or region.sum() < 0.003 * mask.sum():
        return np.zeros_like(mask)
    region = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, _disc(2)) > 0
    return ndimage.binary_fill_holes(region) & body


def cloth_parse(product_image):
    """DGP cloth labels of a garment product photo on a plain background.

    Args:
        product_image: path of an image file, or uint8 [H, W, 3] RGB (or [H, W] grey) with
            the garment seen from the front, upright, sleeves (if any) hanging apart from
            the torso, on a plain background that shows along most of the border.

    Returns:
        uint8 [H, W] with values in {0 background, 23 collar inside, 32 body, 64 image-left
        sleeve, 128 image-right sleeve} (the module docstring lists the rules).

    Raises:
        ClothParseError: see :func:`foreground_mask`; the message names the file when a path
            was given.
    """
    image, name = _load(product_image)
    mask = _foreground(image, name)
    parse = np.where(mask, BODY, BACKGROUND).astype(np.uint8)
    xc, runs, armpits = _side_breaks(mask)
    y0 = int(np.argmax(mask.any(axis=1)))
    shoulders = []
    for side, ends, armpit, label in zip((-1, 1), runs, armpits, (SLEEVE_LEFT, SLEEVE_RIGHT)):
        if armpit is None:
            continue
        neck = np.array([xc, np.argmax(mask[:, xc])], np.float64)
        oy, ox = np.nonzero(_sleeve(mask, side, armpit, armpit, ends))
        far = np.lexsort((oy, side * ox))[-1]  # outermost, lowest of those
        shoulder = shoulder_corner(mask, neck, np.array([ox[far], oy[far]], np.float64), side)
        if side * (shoulder[0] - armpit[0]) < 0:
            shoulder[0] = armpit[0]
        parse[_sleeve(mask, side, shoulder, armpit, ends)] = label
        shoulders.append(shoulder[0])
    width = np.ptp(np.nonzero(mask.any(axis=0))[0]) + 1
    shoulder_width = (max(shoulders) - min(shoulders)) if len(shoulders) == 2 else 0.8 * width
    centre_x = (min(shoulders) + max(shoulders)) / 2 if len(shoulders) == 2 else xc
    collar = _collar_inside(image, mask, parse == BODY, centre_x, y0, shoulder_width)
    parse[collar] = COLLAR_INSIDE
    return parse


def garment_anchors(parse):
    """Anchor points of a garment from its DGP cloth labels (a product parse).

    Args:
        parse: uint8 [H, W] with labels {0, 23, 32, 64, 128}, as :func:`cloth_parse`.

    Returns:
        :class:`GarmentAnchors`, (x, y) float pixel coordinates.

    Raises:
        ClothParseError: no garment body (label 32) in ``parse``.
    """
    body = np.isin(parse, (BODY, COLLAR_INSIDE))
    if not (parse == BODY).any():
        raise ClothParseError("cloth parse: no garment body (label 32)")
    ys, xs = np.nonzero(body)
    y0, y1 = ys.min(), ys.max()
    height = y1 - y0 + 1
    near_body = ndimage.binary_dilation(parse == BODY, np.ones((3, 3), bool))
    armholes = None
    shoulder, armpit, cuff = np.zeros((2, 2)), np.zeros((2, 2)), np.full((2, 2), np.nan)
    for i, (side, label) in enumerate(((-1, SLEEVE_LEFT), (1, SLEEVE_RIGHT))):
        sleeve = parse == label
        seam_y, seam_x = np.nonzero(sleeve & near_body)
        if seam_y.size < 2:
            ty, tx = np.nonzero(body[y0:y0 + max(1, int(0.15 * height))])
            k = np.argmax(side * tx)
            shoulder[i] = tx[k], y0 + ty[k]
            if armholes is None:
                armholes = _side_breaks(body, inward=True)[2]
            if armholes[i] is None:
                row = int(y0 + 0.35 * height)
                row_x = np.nonzero(body[row])[0]
                armholes[i] = np.array([row_x.max() if side > 0 else row_x.min(), row])
            armpit[i] = armholes[i]
            continue
        shoulder[i] = seam_x[np.argmin(seam_y)], seam_y.min()
        armpit[i] = seam_x[np.argmax(seam_y)], seam_y.max()
        sy, sx = np.nonzero(sleeve)
        points = np.stack([sx, sy], axis=1).astype(np.float64)
        mid = (shoulder[i] + armpit[i]) / 2
        axis = points.mean(axis=0) - mid
        along = (points - mid) @ (axis / max(np.linalg.norm(axis), 1e-6))
        cuff[i] = points[along >= 0.9 * along.max()].mean(axis=0)
    row = int(y1 - 0.03 * height)
    row_x = np.nonzero(body[row])[0]
    hem = np.array([[row_x.min(), row], [row_x.max(), row]], np.float64)
    centre = int(round((shoulder[0, 0] + shoulder[1, 0]) / 2))
    column = body[:, max(0, centre - 2):centre + 3].any(axis=1)
    neck = np.array([centre, np.argmax(column)], np.float64)
    return GarmentAnchors(shoulder=shoulder, armpit=armpit, hem=hem, neck=neck, cuff=cuff)
