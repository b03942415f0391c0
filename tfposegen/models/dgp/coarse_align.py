"""Coarse alignment: a product photo of a garment warped onto a model photo, DGP's start.

DGP (``deepGenPro.py`` in RuiLiFeng/Deep-Generative-Projection) starts from ``coarse_align.png``
(the garment
roughly pasted on the model) and ``cloth_parse.png`` (its labels, pixel-aligned with it); the
authors did not release how they made them. :func:`coarse_align` makes both from the model
photo, the model's parse and a product photo with its parse
(``tfposegen.parsing.cloth.cloth_parse``), as the shipped samples look: the garment is
pasted over everything (arms and hair included), the model photo shows everywhere else and
inside the neck opening (label 23).

Method. Points are ``(x, y)`` = (column, row) pixel coordinates throughout.

- Garment anchors (``tfposegen.parsing.cloth.garment_anchors``): each seam's top (shoulder)
  and bottom (armpit), the hem corners, the neck, each sleeve's axis.
- Model anchors (:func:`body_anchors`): on the silhouette of trunk and arms (labels 64, 16,
  32), each shoulder is the corner of the top contour between the neck and the far end of
  that arm (``tfposegen.parsing.cloth.shoulder_corner``, the garment's own rule), raised
  by 3 % of the shoulder width (a garment's shoulder rides above the body's outline: 1-5 %
  in DGP's two samples); when that corner lies on the arm farther than 0.25 shoulder widths
  from the arm's top (a raised arm has no corner there), the arm's top is the shoulder.
  The armpits lie 0.42 shoulder widths below the shoulders and 0.12
  inside them (body proportions; in the samples the garments' armpits lie 0.39-0.46 below
  and 0.69-0.79 shoulder widths apart). An arm's centre line is the
  mean position of its pixels at each geodesic distance (inside the arm) from its topmost
  point; an arm whose top is over 0.25 shoulder widths from the shoulder (e.g. only the
  hand is labelled arm) is not used.
- Torso: a similarity (scale, rotation, shift) sends the garment's shoulders onto the
  model's (for a sleeveless garment: its armpits onto the model's); the other anchors
  follow it, except that the armpits of a sleeved garment move out to the trunk's edge
  where the trunk is wider there and an arm is labelled beside it (so the old garment is
  covered). A thin-plate spline through the seven pairs warps body and collar inside.
- Sleeves: each its own thin-plate spline through the seam (ends and middle, where the
  torso spline sends them) and pairs of edge points at stations along the sleeve's axis,
  sent to the same distance along the arm's centre line (at the torso's scale, widths
  kept; the seam's middle is joined onto the centre line by the cuff). The sleeve keeps
  its angle to the arm up to 30 degrees for ``cloth_sleeve="short"`` (product photos splay
  sleeves; DGP's samples keep that) and 10 degrees for ``"long"``, which also has more
  stations so that the sleeve bends at the elbow; where the spline would fold over, 20
  degrees more at a time. Without an arm reaching the shoulder the sleeve keeps the
  torso's similarity. Each warped sleeve is cut to the strip around its target points (20 % wider,
  10 % longer; a spline extrapolates wildly).
- Sleeves go over the body; one-pixel gaps along the seams take the nearest part's label
  and colour.
"""

import cv2
import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.spatial.distance import cdist

from tfposegen.parsing.cloth import (
    garment_anchors,
    largest_component,
    shoulder_corner,
)
from tfposegen.parsing.labels import (
    ARM_LEFT,
    ARM_RIGHT,
    BODY,
    COLLAR_INSIDE,
    GARMENT_LABELS,
    SLEEVE_LEFT,
    SLEEVE_RIGHT,
    TRUNK,
)

_ARMPIT_DROP, _ARMPIT_INSET = 0.42, 0.12
_ARM_REACH = 0.25
_SHOULDER_RISE = 0.03
# Stations along the sleeve (fractions of its length) and how far (radians) its axis may
# stay turned away from the upper arm.
_SLEEVES = {"short": ((0.45, 0.85), np.radians(30)),
            "long": ((0.2, 0.4, 0.6, 0.8, 0.92), np.radians(10))}


class CoarseAlignError(ValueError):
    """Inputs that cannot be aligned (shapes that differ, no trunk in the model parse)."""


def fit_tps(src, dst):
    """Thin-plate spline through point pairs: f(src[i]) = dst[i] exactly.

    Args:
        src, dst: float [N, 2] (x, y) points, N >= 3 and not all on one line.

    Returns:
        A function mapping float [M, 2] points to float64 [M, 2]; the identity when
        ``src == dst``.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    n = len(src)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = _tps_kernel(cdist(src, src))
    system[:n, n] = 1
    system[:n, n + 1:] = src
    system[n:, :n] = system[:n, n:].T
    rhs = np.zeros((n + 3, 2))
    rhs[:n] = dst
    params = np.linalg.lstsq(system, rhs, rcond=None)[0]

    def transform(points):
        points = np.asarray(points, np.float64).reshape(-1, 2)
        return (_tps_kernel(cdist(points, src)) @ params[:n] + params[n]
                + points @ params[n + 1:])

    return transform


def _tps_kernel(r):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(r > 0, r * r * np.log(r), 0.0)


def tps_maps(src, dst, shape):
    """Backward maps for ``cv2.remap``: where each output pixel comes from.

    Args:
        src: float [N, 2] (x, y) points in the source image.
        dst: float [N, 2] (x, y) points in the output, where ``src`` should land.
        shape: (height, width) of the output.

    Returns:
        (map_x, map_y), float32 [height, width] each: source column and row per pixel.
    """
    backward = fit_tps(dst, src)
    ys, xs = np.mgrid[:shape[0], :shape[1]]
    where = backward(np.stack([xs.ravel(), ys.ravel()], axis=1)).astype(np.float32)
    return where[:, 0].reshape(shape), where[:, 1].reshape(shape)


def warp_tps(image, src, dst, shape, interpolation=cv2.INTER_LINEAR):
    """Warp ``image`` so that its points ``src`` land on ``dst`` (thin-plate spline).

    Args:
        image: uint8 [H, W] or [H, W, C].
        src: float [N, 2] (x, y) points in ``image``.
        dst: float [N, 2] (x, y) points in the output.
        shape: (height, width) of the output.
        interpolation: OpenCV interpolation (``cv2.INTER_NEAREST`` for label maps).

    Returns:
        Same dtype as ``image``, [height, width(, C)]; zero where the source lies outside.
    """
    return _remap(image, tps_maps(src, dst, shape), interpolation)


def _remap(image, maps, interpolation):
    return cv2.remap(image, maps[0], maps[1], interpolation, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=0)


def _geodesic(mask, start):
    """float [H, W]: 8-connected path length inside ``mask`` from pixel ``start`` (x, y)."""
    h, w = mask.shape
    index = np.full(mask.shape, -1)
    ys, xs = np.nonzero(mask)
    index[ys, xs] = np.arange(ys.size)
    rows, cols, lengths = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = index[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
        b = index[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
        ok = (a >= 0) & (b >= 0)
        rows.append(a[ok])
        cols.append(b[ok])
        lengths.append(np.full(ok.sum(), np.hypot(dx, dy)))
    graph = sparse.coo_matrix((np.concatenate(lengths),
                               (np.concatenate(rows), np.concatenate(cols))),
                              shape=(ys.size, ys.size)).tocsr()
    origin = index[int(start[1]), int(start[0])]
    result = np.full(mask.shape, np.inf)
    result[ys, xs] = csgraph.dijkstra(graph, directed=False, indices=origin)
    return result


def body_anchors(model_parse):
    """Shoulders, armpits, neck and arms of a model from its parse (module docstring).

    Args:
        model_parse: uint8 [H, W] model labels {0, 16, 32, 64, 255}; the trunk (64) is
            needed, the arms (16 image-left, 32 image-right) help.

    Returns:
        dict with ``shoulder`` float64 [2, 2], ``armpit`` float64 [2, 2] (image-left first),
        ``neck`` float64 [2], (x, y) pixel coordinates; ``arms``: per side, float [H, W]
        geodesic distance inside the arm from its topmost point (inf off the arm), or None
        when no arm label reaches the shoulder.

    Raises:
        CoarseAlignError: no trunk.
    """
    if not (model_parse == TRUNK).any():
        raise CoarseAlignError("model parse: no trunk (label 64)")
    silhouette = np.isin(model_parse, (ARM_LEFT, ARM_RIGHT, TRUNK))
    ys, xs = np.nonzero(silhouette)
    centre = int(np.median(np.nonzero(model_parse == TRUNK)[1]))
    neck = np.array([centre, np.argmax(silhouette[:, centre])], np.float64)
    shoulder, tops, arms = np.zeros((2, 2)), np.full((2, 2), np.inf), [None, None]
    for i, (side, label) in enumerate(((-1, ARM_LEFT), (1, ARM_RIGHT))):
        out = side * (xs - centre)
        outer = out >= 0.8 * out.max()
        far = np.argmax(np.hypot(xs[outer] - neck[0], ys[outer] - neck[1]))
        tip = np.array([xs[outer][far], ys[outer][far]], np.float64)
        shoulder[i] = shoulder_corner(silhouette, neck, tip, side)
        arm = largest_component(model_parse == label)
        if arm.any():
            arm_y, arm_x = np.nonzero(arm)
            top_x = arm_x[arm_y == arm_y.min()]
            tops[i] = top_x[len(top_x) // 2], arm_y.min()
            arms[i] = _geodesic(arm, tops[i])
    reach = _ARM_REACH * (shoulder[1, 0] - shoulder[0, 0])
    for i in range(2):
        on_arm = None if arms[i] is None else arms[i][int(shoulder[i, 1]), int(shoulder[i, 0])]
        if on_arm is not None and reach < on_arm < np.inf:
            shoulder[i] = tops[i]  # the corner slid down a raised arm: the arm's top
    width = shoulder[1, 0] - shoulder[0, 0]
    for i in range(2):
        if np.hypot(*(tops[i] - shoulder[i])) > _ARM_REACH * width:
            arms[i] = None
    shoulder[:, 1] -= _SHOULDER_RISE * width
    armpit = np.stack([shoulder[:, 0] + np.array([1, -1]) * _ARMPIT_INSET * width,
                       np.full(2, shoulder[:, 1].mean() + _ARMPIT_DROP * width)], axis=1)
    return {"shoulder": shoulder, "armpit": armpit, "neck": neck, "arms": arms}


def _arm_beside(model_parse, row, edge, side):
    """Whether the arm of that side is labelled in ``row`` outside the trunk's edge."""
    beyond = model_parse[row, edge + 1:] if side > 0 else model_parse[row, :edge]
    return bool((beyond == (ARM_LEFT if side < 0 else ARM_RIGHT)).any())


def _centreline(distance, g):
    """(point, unit tangent) of an arm's centre line at geodesic distance g, continued
    straight beyond the arm's end."""
    finite = np.isfinite(distance)
    reach = distance[finite].max()
    step = max(2.0, 0.04 * reach)

    def at(d):
        d = min(max(d, step), reach - step)
        ys, xs = np.nonzero(finite & (np.abs(distance - d) <= step))
        return np.array([xs.mean(), ys.mean()])

    inside = min(g, reach - step)
    tangent = at(inside + 2 * step) - at(inside - 2 * step)
    tangent /= max(np.linalg.norm(tangent), 1e-6)
    return at(inside) + tangent * max(0.0, g - inside), tangent


def _similarity(src, dst):
    """2x3 similarity (scale, rotation, shift) sending src[0]->dst[0], src[1]->dst[1]."""
    a, b = complex(*src[0]), complex(*src[1])
    c, d = complex(*dst[0]), complex(*dst[1])
    m = (d - c) / (b - a)
    t = c - m * a
    return np.array([[m.real, -m.imag, t.real], [m.imag, m.real, t.imag]])


def _apply(matrix, points):
    points = np.asarray(points, np.float64).reshape(-1, 2)
    return points @ matrix[:, :2].T + matrix[:, 2]


def _rotation(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _angle(a, b):
    """Signed angle (radians) turning direction a onto direction b."""
    return float(np.arctan2(a[0] * b[1] - a[1] * b[0], a @ b))


def _sleeve_pairs(parse, label, i, anchors, torso, similarity, arm, stations, flare):
    """(source points, target points, target strip polygon) of one sleeve's spline."""
    shoulder, armpit = anchors.shoulder[i], anchors.armpit[i]
    mid = (shoulder + armpit) / 2
    src = [shoulder, mid, armpit]
    dst = list(torso(np.stack(src)))
    ys, xs = np.nonzero(parse == label)
    points = np.stack([xs, ys], axis=1).astype(np.float64)
    axis = anchors.cuff[i] - mid
    length = np.linalg.norm(axis)
    axis /= max(length, 1e-6)
    normal = np.array([-axis[1], axis[0]])
    along, across = (points - mid) @ axis, (points - mid) @ normal
    scale = float(np.hypot(*similarity[:, 0]))
    turned = similarity[:, :2] @ axis / scale
    if arm is None:
        def path(t):
            return dst[1] + t * turned, turned
    else:
        ay, ax = np.nonzero(np.isfinite(arm))
        g0 = arm[ay, ax][np.argmin(np.hypot(ax - dst[1][0], ay - dst[1][1]))]
        start, reach = _centreline(arm, g0)[0], length * scale

        def on_arm(t):  # the centre line, from the seam's middle onto the arm by the cuff
            centre, tangent = _centreline(arm, g0 + t)
            return centre + (dst[1] - start) * max(0.0, 1 - t / reach), tangent

        turn = _angle(on_arm(reach)[0] - dst[1], turned)
        rotate = _rotation(np.clip(turn, -flare, flare))

        def path(t):
            centre, tangent = on_arm(t)
            return dst[1] + rotate @ (centre - dst[1]), rotate @ tangent

    sides = ([], [])
    for f in stations + (1.1,):
        near = np.abs(along - min(f, 1.0) * length) <= 0.08 * length
        if near.sum() < 2:
            continue
        centre, tangent = path(f * length * scale)
        tangent_normal = np.array([-tangent[1], tangent[0]])
        for k, offset in enumerate((across[near].min(), across[near].max())):
            if f <= 1:
                src.append(mid + f * length * axis + offset * normal)
                dst.append(centre + offset * scale * tangent_normal)
            sides[k].append(centre + 1.2 * offset * scale * tangent_normal)
    outer, inner = sides if (shoulder - mid) @ normal < 0 else sides[::-1]
    strip = ([dst[0] + (dst[0] - dst[1]) * 0.2] + outer + inner[::-1]
             + [dst[2] + (dst[2] - dst[1]) * 0.2])
    return np.array(src), np.array(dst), np.array(strip)


def _folds(maps, region):
    """Whether a backward map folds over (Jacobian determinant <= 0) on over 1 % of
    ``region``."""
    dx_dx, dx_dy = np.gradient(maps[0], axis=1), np.gradient(maps[0], axis=0)
    dy_dx, dy_dy = np.gradient(maps[1], axis=1), np.gradient(maps[1], axis=0)
    return ((dx_dx * dy_dy - dx_dy * dy_dx)[region] <= 0).mean() > 0.01


def _fill_background(image, mask):
    """Garment colours spread into the background (no halo when warped bilinearly)."""
    _, (iy, ix) = ndimage.distance_transform_edt(~mask, return_indices=True)
    return image[iy, ix]


def warp_garment(model_parse, cloth_img, cloth_parse_product, cloth_sleeve="short"):
    """The product photo's garment warped onto the model's body (see the module docstring).

    Args:
        model_parse: uint8 [H, W] model labels {0, 16, 32, 64, 255} (the trunk, 64, is
            needed; the arms, 16 and 32, place the sleeves).
        cloth_img: uint8 [h, w, 3] RGB product photo of the garment.
        cloth_parse_product: uint8 [h, w] its cloth labels {0, 23, 32, 64, 128}
            (``tfposegen.parsing.cloth.cloth_parse``).
        cloth_sleeve: "short" or "long" (how closely sleeves follow the arm).

    Returns:
        (garment uint8 [H, W, 3]: the product photo's colours where the parse is non-zero,
        0 elsewhere; cloth_parse uint8 [H, W] with labels {0, 23, 32, 64, 128}).

    Raises:
        CoarseAlignError: shapes that do not match, or a model parse without a trunk.
        tfposegen.parsing.cloth.ClothParseError: a product parse without a garment body.
    """
    if cloth_sleeve not in _SLEEVES:
        raise CoarseAlignError(f"cloth_sleeve must be 'short' or 'long', got {cloth_sleeve!r}")
    model_parse, cloth_img = np.asarray(model_parse), np.asarray(cloth_img)
    parse = np.asarray(cloth_parse_product)
    if model_parse.ndim != 2:
        raise CoarseAlignError(f"model parse must be [H, W], got {list(model_parse.shape)}")
    if cloth_img.ndim != 3 or cloth_img.shape[:2] != parse.shape:
        raise CoarseAlignError(f"product photo {list(cloth_img.shape)} and its parse "
                               f"{list(parse.shape)} must be [h, w, 3] and [h, w]")
    body = body_anchors(model_parse)
    garment = garment_anchors(parse)
    shape = model_parse.shape
    sleeved = np.isfinite(garment.cuff).all()
    similarity = (_similarity(garment.shoulder, body["shoulder"]) if sleeved
                  else _similarity(garment.armpit, body["armpit"]))
    armpits = _apply(similarity, garment.armpit)
    for i, side in enumerate((-1, 1)):
        row = int(np.clip(round(armpits[i, 1]), 0, shape[0] - 1))
        trunk_x = np.nonzero(model_parse[row] == TRUNK)[0]
        if sleeved and trunk_x.size:
            edge = trunk_x.max() if side > 0 else trunk_x.min()
            if _arm_beside(model_parse, row, edge, side):
                armpits[i, 0] = side * max(side * armpits[i, 0], side * edge)
    src = np.concatenate([garment.shoulder, garment.armpit, garment.hem, garment.neck[None]])
    dst = np.concatenate([_apply(similarity, garment.shoulder), armpits,
                          _apply(similarity, garment.hem), _apply(similarity, garment.neck)])
    torso = fit_tps(src, dst)
    parts = [((BODY, COLLAR_INSIDE), tps_maps(src, dst, shape), np.ones(shape, bool))]
    for i, label in enumerate((SLEEVE_LEFT, SLEEVE_RIGHT)):
        if not np.isfinite(garment.cuff[i]).all():
            continue
        stations, flare = _SLEEVES[cloth_sleeve]
        arm = body["arms"][i]
        while True:  # a spline that folds over: keep more of the sleeve's own angle
            part_src, part_dst, strip = _sleeve_pairs(parse, label, i, garment, torso,
                                                      similarity, arm, stations, flare)
            maps = tps_maps(part_src, part_dst, shape)
            keep = np.zeros(shape, np.uint8)
            cv2.fillPoly(keep, [np.round(strip).astype(np.int32)], 1)
            if arm is None or not _folds(maps, keep > 0):
                break
            flare += np.radians(20)
            arm = arm if flare < np.pi / 2 else None
        parts.append(((label,), maps, keep > 0))

    filled = _fill_background(cloth_img, parse != 0)
    aligned = np.zeros(shape, np.uint8)
    colours = np.zeros(shape + (3,), np.uint8)
    for labels, maps, keep in parts:  # the body first, sleeves over it
        warped = _remap(np.where(np.isin(parse, labels), parse, 0).astype(np.uint8), maps,
                        cv2.INTER_NEAREST)
        on = largest_component((warped != 0) & keep)
        aligned[on], colours[on] = warped[on], _remap(filled, maps, cv2.INTER_LINEAR)[on]

    radius = max(1, round(0.006 * max(shape)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    gaps = cv2.morphologyEx((aligned != 0).astype(np.uint8), cv2.MORPH_CLOSE, disc) > 0
    gaps &= aligned == 0
    if gaps.any():
        _, (iy, ix) = ndimage.distance_transform_edt(aligned == 0, return_indices=True)
        aligned[gaps], colours[gaps] = aligned[iy, ix][gaps], colours[iy, ix][gaps]
    return colours, aligned


def coarse_align(model_img, model_parse, cloth_img, cloth_parse_product, cloth_sleeve="short"):
    """Warp a product photo's garment onto a model photo (DGP's coarse alignment).

    The garment (body and sleeves, labels 32/64/128) covers the model photo, arms and hair
    included; the model photo shows everywhere else and in the neck opening (label 23).

    Args:
        model_img: uint8 [H, W, 3] RGB model photo.
        model_parse: uint8 [H, W] model labels {0, 16, 32, 64, 255} (the trunk, 64, is
            needed; the arms, 16 and 32, place the sleeves).
        cloth_img: uint8 [h, w, 3] RGB product photo of the garment.
        cloth_parse_product: uint8 [h, w] its cloth labels {0, 23, 32, 64, 128}
            (``tfposegen.parsing.cloth.cloth_parse``).
        cloth_sleeve: "short" or "long" (how closely sleeves follow the arm).

    Returns:
        (coarse_align uint8 [H, W, 3], cloth_parse uint8 [H, W] with labels
        {0, 23, 32, 64, 128} pixel-aligned with it), as DGP's ``coarse_align.png`` and
        ``cloth_parse.png``.

    Raises:
        CoarseAlignError: shapes that do not match, or a model parse without a trunk.
        tfposegen.parsing.cloth.ClothParseError: a product parse without a garment body.
    """
    model_img = np.asarray(model_img)
    if model_img.ndim != 3 or model_img.shape[:2] != np.shape(model_parse):
        raise CoarseAlignError(f"model photo {list(model_img.shape)} and model parse "
                               f"{list(np.shape(model_parse))} must be [H, W, 3] and [H, W]")
    garment, aligned = warp_garment(model_parse, cloth_img, cloth_parse_product, cloth_sleeve)
    return paste_garment(model_img, garment, aligned), aligned


def paste_garment(model_img, garment, cloth_parse):
    """The model photo with the warped garment over it where ``cloth_parse`` is 32, 64 or
    128 (the neck opening, 23, shows the model).

    Args:
        model_img: uint8 [H, W, 3].
        garment: uint8 [H, W, 3] from :func:`warp_garment`.
        cloth_parse: uint8 [H, W] aligned cloth labels from :func:`warp_garment`.

    Returns:
        uint8 [H, W, 3].
    """
    show = np.isin(cloth_parse, GARMENT_LABELS)[..., None]
    return np.where(show, garment, model_img).astype(np.uint8)
