"""DPIG pose representations: heat-maps, normalised RCV, pose masks and the 37 part boxes.

Every representation has a TensorFlow op (graph-safe: usable inside ``tf.data`` maps and
inside models) and a numpy twin with the same name plus ``_np`` (used by the converters);
the tests check that both agree. Nothing here reads files.

Keypoint convention (``datasets/convert_DF.py`` in
charliememory/Disentangled-Person-Image-Generation): 18 OpenPose/COCO joints in the order
nose, neck, R/L shoulder-elbow-wrist, R/L hip-knee-ankle, L eye, R eye, L ear, R ear, held
as an **RCV** array ``[..., 18, 3]`` = (row, col, visibility) in pixels of the image; a
missing joint is (0, 0, 0) in RCV (DPIG's records), while keypoint files mark it (-1, -1)
(:func:`keypoints_to_rcv_np` translates). Rows/cols may be fractional; they are truncated
toward zero where a pixel is needed, as the originals do.
"""

import math

import numpy as np
import tensorflow as tf

NUM_JOINTS = 18
NOSE = 0

# Limbs of the pose mask (DPIG ``_getPoseMask``), 0-based joint indices.
MASK_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
              (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
              (1, 16), (1, 17), (8, 11), (11, 5), (8, 2), (16, 17))

# The 37 body parts of ``get_part_bbox`` (part k+1 = PARTS[k]); the models use parts 1-7.
PARTS = ((0, 1, 2, 5, 14, 15, 16, 17), (2, 3, 4, 5, 6, 7, 8, 11), (8, 9, 10, 11, 12, 13),
         (5, 6, 7), (2, 3, 4), (11, 12, 13), (8, 9, 10), (2, 5, 8, 11), (5, 6), (6, 7),
         (2, 3), (3, 4), (11, 12), (12, 13), (8, 9), (9, 10), tuple(range(18)),
         *((k,) for k in range(18)), (2, 3, 4, 8, 9, 10), (5, 6, 7, 11, 12, 13))
NUM_PARTS = len(PARTS)
PART_MEMBERS = np.array([[k in p for k in range(NUM_JOINTS)] for p in PARTS])  # bool [37, 18]

# Box rules (``get_part_bbox``). DF: whole body when parts 14 and 16 (both
# knee-ankle pairs) are visible; margins (r, r_single) and the nose's upward shift depend on
# it; boxes are clipped to 256x256 whatever the image size (convert_DF / convert_RCV).
# Market: ``get_part_bbox37(radius=6)``, no whole-body switch, clipped to 128x64.
BOX_RULES = {
    "df": dict(whole_body=True, clip=(256, 256)),
    "market": dict(whole_body=False, margin=6, margin_single=10, clip=(128, 64)),
}
_DF_MARGINS = {True: (10, 20, 10), False: (20, 40, 25)}  # whole body -> (r, r_single, nose)


# ------------------------------------------------------------------ keypoints <-> RCV


def keypoints_to_rcv_np(keypoints):
    """(row, col) keypoints with (-1, -1) for a missing joint -> RCV.

    Args:
        keypoints: number array [..., 18, 2] (row, col) in pixels; any negative coordinate
            marks a missing joint (files use -1).

    Returns:
        float32 [..., 18, 3] (row, col, visibility in {0, 1}); a missing joint is (0, 0, 0).
    """
    kp = np.asarray(keypoints, np.float32)
    present = np.all(kp >= 0, axis=-1, keepdims=True)
    return np.concatenate([np.where(present, kp, 0), present.astype(np.float32)], axis=-1)


def keypoints_to_rcv(keypoints):
    """TF twin of :func:`keypoints_to_rcv_np`: float [..., 18, 2] -> float32 [..., 18, 3]."""
    kp = tf.cast(keypoints, tf.float32)
    present = tf.reduce_all(kp >= 0, axis=-1, keepdims=True)
    return tf.concat([tf.where(present, kp, 0.0), tf.cast(present, tf.float32)], axis=-1)


def _split_rcv_np(rcv):
    """[..., 18, 3] or [..., 54] -> rows, cols, vis [N, 18] and the leading shape."""
    lead = rcv.shape[:-2] if rcv.shape[-1] == 3 else rcv.shape[:-1]
    rcv = rcv.reshape(-1, NUM_JOINTS, 3)
    return rcv[..., 0], rcv[..., 1], rcv[..., 2], tuple(lead)


# ------------------------------------------------------------------ normalised RCV (2.4)


def normalize_rcv(rcv, height, width):
    """RCV in pixels -> the pose auto-encoder's input: (r/H*2-1, c/W*2-1, v).

    Args:
        rcv: float [..., 18, 3] (row, col, vis) in pixels (missing joints (0, 0, 0)).
        height, width: H, W of the image (DPIG's img_H / img_W flags, not H-1 / W-1).

    Returns:
        float32 [..., 18, 3]; rows/cols in [-1, 1) for joints inside the image, a missing
        joint becomes (-1, -1, 0). Flatten to [..., 54] for the auto-encoder.
    """
    rcv = tf.cast(rcv, tf.float32)
    scale = tf.constant([2.0 / height, 2.0 / width, 1.0])
    return rcv * scale - tf.constant([1.0, 1.0, 0.0])


def normalize_rcv_np(rcv, height, width):
    """numpy twin of :func:`normalize_rcv` (float32, same shapes and values)."""
    rcv = np.asarray(rcv, np.float32)
    return rcv * np.float32([2.0 / height, 2.0 / width, 1.0]) - np.float32([1, 1, 0])


def denormalize_rcv(rcv, height, width):
    """Normalised RCV -> pixel rows/cols as the generator's pose input does (``models.py``).

    rows = clip((r+1)/2*H, 0, H-1), cols = clip((c+1)/2*W, 0, W-1) (not truncated here);
    visibility unchanged. float32 [..., 18, 3] -> float32 [..., 18, 3].
    """
    rcv = tf.cast(rcv, tf.float32)
    r = tf.clip_by_value((rcv[..., 0] + 1) / 2.0 * height, 0.0, height - 1.0)
    c = tf.clip_by_value((rcv[..., 1] + 1) / 2.0 * width, 0.0, width - 1.0)
    return tf.stack([r, c, rcv[..., 2]], axis=-1)


def denormalize_rcv_np(rcv, height, width):
    """numpy twin of :func:`denormalize_rcv`."""
    rcv = np.asarray(rcv, np.float32)
    r = np.clip((rcv[..., 0] + 1) / np.float32(2.0) * height, 0, height - 1)
    c = np.clip((rcv[..., 1] + 1) / np.float32(2.0) * width, 0, width - 1)
    return np.stack([r, c, rcv[..., 2]], axis=-1).astype(np.float32)


# ------------------------------------------------------------------ heat-maps (2.3)


def pose_heatmap(rcv, height, width, radius=4, normalized=False):
    """18-channel pose map fed to DPIG's generator (``coord2channel_simple_rcv`` +
    ``tf_poseInflate``): a {-1, +1} disk of radius 4 (offsets with dr^2+dc^2 <= 16) per
    visible joint, -1 elsewhere.

    Args:
        rcv: float [B, 18, 3] or [B, 54] (row, col, vis) in pixels, or normalised to
            [-1, 1] when ``normalized`` (then de-normalised and clipped as
            :func:`denormalize_rcv`). Rows/cols are truncated toward zero.
        height, width: output H, W.
        radius: disk radius (the original's inflation is hard-wired to 4).
        normalized: see ``rcv``.

    Returns:
        float32 [B, H, W, 18]. For a visibility v the disk holds min(2v, 1)*2-1 at its
        centre and min(v, 1)*2-1 elsewhere (the original's sum of 49 shifted copies, centre
        counted twice, clamped): {-1, +1} for v in {0, 1}. A joint whose truncated centre
        lies outside the image gives an all -1 channel (TF1's ``scatter_nd`` drops it on
        GPU; on CPU TF1 raised an error).
    """
    rcv = tf.reshape(tf.cast(rcv, tf.float32), [-1, NUM_JOINTS, 3])
    r, c, v = rcv[..., 0], rcv[..., 1], rcv[..., 2]
    if normalized:
        r = tf.clip_by_value((r + 1) / 2.0 * height, 0.0, height - 1.0)
        c = tf.clip_by_value((c + 1) / 2.0 * width, 0.0, width - 1.0)
    ri, ci = tf.cast(r, tf.int32), tf.cast(c, tf.int32)  # truncation, as tf.to_int32
    inside = (ri >= 0) & (ri < height) & (ci >= 0) & (ci < width)
    # disk row by row: |dc| <= half[|dr|], built directly in NHWC (no [B, 18, H, W] pass)
    half = tf.constant([math.isqrt(radius * radius - d * d) for d in range(radius + 1)])
    ady = tf.abs(tf.range(height)[None, :, None] - ri[:, None, :])  # [B, H, 18]
    reach = tf.where(ady <= radius, tf.gather(half, tf.minimum(ady, radius)), -1)
    adx = tf.abs(tf.range(width)[None, :, None] - ci[:, None, :])  # [B, W, 18]
    in_disk = adx[:, None] <= reach[:, :, None]  # [B, H, W, 18]
    centre = (ady == 0)[:, :, None] & (adx == 0)[:, None]
    count = tf.cast(in_disk, tf.float32) + tf.cast(centre, tf.float32)
    vis = (v * tf.cast(inside, tf.float32))[:, None, None, :]
    return tf.minimum(count * vis, 1.0) * 2.0 - 1.0


def pose_heatmap_np(rcv, height, width, radius=4, normalized=False):
    """numpy twin of :func:`pose_heatmap`: [..., 18, 3] or [..., 54] -> float32
    [..., H, W, 18] in {-1, +1}."""
    r, c, v, lead = _split_rcv_np(np.asarray(rcv, np.float32))
    if normalized:
        r = np.clip((r + 1) / np.float32(2.0) * height, 0, height - 1)
        c = np.clip((c + 1) / np.float32(2.0) * width, 0, width - 1)
    ri, ci = r.astype(np.int64), c.astype(np.int64)
    inside = (ri >= 0) & (ri < height) & (ci >= 0) & (ci < width)
    dy = np.arange(height)[None, None, :, None] - ri[..., None, None]
    dx = np.arange(width)[None, None, None, :] - ci[..., None, None]
    d2 = dy * dy + dx * dx
    count = np.where(d2 == 0, 2.0, np.where(d2 <= radius * radius, 1.0, 0.0))
    value = np.minimum(count * (v * inside)[..., None, None], 1.0).astype(np.float32)
    out = np.transpose(value * 2 - 1, (0, 2, 3, 1))
    return out.reshape(lead + (height, width, NUM_JOINTS))


# ------------------------------------------------------------------ pose masks (2.5)


def disk_offsets(radius):
    """int64 [N, 2] (dr, dc) with dr^2 + dc^2 <= radius^2, row-major from (-r, -r)."""
    d = np.arange(-radius, radius + 1)
    dr, dc = np.meshgrid(d, d, indexing="ij")
    keep = dr * dr + dc * dc <= radius * radius
    return np.stack([dr[keep], dc[keep]], axis=1)


def _interior_steps(height, width, radius):
    """Largest number of interior limb points an image of this size can need."""
    return max(int(math.hypot(height, width) / radius) + 1, 2)


def _limb_points_np(rcv, radius, integer_coords):
    """Centres (int rows, cols) stamped by ``_getPoseMask`` for one RCV [18, 3]."""
    points = []
    for a, b in MASK_LIMBS:
        (r0, c0, v0), (r1, c1, v1) = rcv[a], rcv[b]
        if v0 == 0 or v1 == 0:
            continue
        if integer_coords:
            r0, c0, r1, c1 = int(r0), int(c0), int(r1), int(c1)
        points += [(r0, c0), (r1, c1)]
        n = int(np.sqrt(float((r0 - r1) ** 2 + (c0 - c1) ** 2)) / radius)
        for i in range(1, n):
            if integer_coords:  # Python 2 integer division in the original: floor
                points.append((r0 + (r1 - r0) * i // n, c0 + (c1 - c0) * i // n))
            else:
                points.append((r0 + (r1 - r0) * i / n, c0 + (c1 - c0) * i / n))
    return np.array([(int(r), int(c)) for r, c in points], np.int64).reshape(-1, 2)


def _close5_np(mask):
    """Grey dilation then erosion with a 5x5 square (scipy/skimage 'reflect' borders equal
    clipped windows for a centred square)."""
    def morph(x, op):
        p = np.pad(x, 2, mode="edge")
        h, w = x.shape
        return op(np.stack([p[i:i + h, j:j + w] for i in range(5) for j in range(5)]), axis=0)
    return morph(morph(mask, np.max), np.min)


def pose_mask_np(rcv, height, width, radius, integer_coords=True):
    """Foreground pose mask of the DPIG converters (``_getPoseMask``) for one person.

    For each limb of :data:`MASK_LIMBS` whose two joints are visible, a solid disk of
    ``radius`` (offsets with dr^2+dc^2 <= r^2, clipped to the image) is stamped at both
    joints and at the ``n-1`` interior points p0 + (p1-p0)*i/n, n = int(|p1-p0|/r),
    truncated to int; then a 5x5 morphological closing.

    Args:
        rcv: [18, 3] (row, col, vis) in pixels; vis 0 = missing.
        height, width: mask size.
        radius: 4 and 8 (DF), 4 and 7 (Market, stored as "r6"), 4, 8 and 10 (RCV).
        integer_coords: True for OpenPose peaks (integers; the original's Python 2 integer
            division floors the interior points), False for float RCV input (true division,
            then truncation toward zero: convert_RCV).

    Returns:
        uint8 [H, W] in {0, 1}.
    """
    rcv = np.asarray(rcv, np.float64)
    centres = _limb_points_np(rcv, radius, integer_coords)
    pad = radius
    canvas = np.zeros((height + 2 * pad, width + 2 * pad), bool)
    rows, cols = centres[:, 0] + pad, centres[:, 1] + pad
    ok = (rows >= 0) & (rows < canvas.shape[0]) & (cols >= 0) & (cols < canvas.shape[1])
    canvas[rows[ok], cols[ok]] = True
    mask = np.zeros((height, width), bool)
    for dr, dc in disk_offsets(radius):
        mask |= canvas[pad + dr:pad + dr + height, pad + dc:pad + dc + width]
    return _close5_np(mask.astype(np.uint8))


def _trunc(x):
    return tf.where(x < 0, tf.math.ceil(x), tf.math.floor(x))


def _limb_points_tf(rcv, height, width, radius, integer_coords):
    """[B, P, 2] int64 centres and [B, P] bool validity (TF twin of _limb_points_np)."""
    ends = np.array(MASK_LIMBS)
    p0, p1 = tf.gather(rcv, ends[:, 0], axis=1), tf.gather(rcv, ends[:, 1], axis=1)  # [B,L,3]
    both = (p0[..., 2] != 0) & (p1[..., 2] != 0)
    if integer_coords:
        p0 = tf.concat([_trunc(p0[..., :2]), p0[..., 2:]], -1)
        p1 = tf.concat([_trunc(p1[..., :2]), p1[..., 2:]], -1)
    d = p1[..., :2] - p0[..., :2]
    n = tf.cast(tf.sqrt(tf.reduce_sum(d * d, -1)) / radius, tf.int64)  # [B, L]
    n_safe = tf.maximum(n, 1)  # n <= 1: no interior point (masked below), no 0-division
    steps = _interior_steps(height, width, radius)
    i = tf.range(1, steps, dtype=tf.int64)  # [S]
    if integer_coords:
        di = tf.cast(d, tf.int64)[..., None, :] * i[:, None]
        inner = tf.cast(p0[..., None, :2], tf.int64) + tf.math.floordiv(di, n_safe[..., None, None])
    else:
        di = d[..., None, :] * tf.cast(i, tf.float64)[:, None]
        inner = p0[..., None, :2] + di / tf.cast(n_safe, tf.float64)[..., None, None]
        inner = tf.cast(inner, tf.int64)
    inner_ok = both[..., None] & (i[None, None, :] < n[..., None])  # [B, L, S]
    stamped = tf.cast(tf.concat([p0[..., :2], p1[..., :2]], 1), tf.int64)  # [B, 2L, 2]
    batch = tf.shape(rcv)[0]
    points = tf.concat([stamped, tf.reshape(inner, [batch, -1, 2])], 1)
    valid = tf.concat([both, both, tf.reshape(inner_ok, [batch, -1])], 1)
    return points, valid


def _close5(mask):
    dilated = tf.nn.max_pool2d(mask, 5, 1, "SAME")
    return -tf.nn.max_pool2d(-dilated, 5, 1, "SAME")


def pose_mask(rcv, height, width, radius, integer_coords=True):
    """TF twin of :func:`pose_mask_np` for a batch.

    Args:
        rcv: float [B, 18, 3] or [B, 54] (row, col, vis) in pixels.
        height, width, radius, integer_coords: as :func:`pose_mask_np`.

    Returns:
        float32 [B, H, W, 1] in {0, 1}.
    """
    rcv = tf.reshape(tf.cast(rcv, tf.float64), [-1, NUM_JOINTS, 3])
    points, valid = _limb_points_tf(rcv, height, width, radius, integer_coords)
    pad = radius
    hp, wp = height + 2 * pad, width + 2 * pad
    rows, cols = points[..., 0] + pad, points[..., 1] + pad
    valid &= (rows >= 0) & (rows < hp) & (cols >= 0) & (cols < wp)
    batch = tf.shape(rcv)[0]
    bidx = tf.broadcast_to(tf.range(batch, dtype=tf.int64)[:, None], tf.shape(rows))
    index = tf.stack([bidx, tf.where(valid, rows, 0), tf.where(valid, cols, 0)], -1)
    canvas = tf.scatter_nd(tf.reshape(index, [-1, 3]),
                           tf.reshape(tf.cast(valid, tf.float32), [-1]),
                           tf.stack([tf.cast(batch, tf.int64), hp, wp]))
    disk = np.zeros((2 * pad + 1, 2 * pad + 1, 1, 1), np.float32)
    off = disk_offsets(radius)
    disk[off[:, 0] + pad, off[:, 1] + pad] = 1
    hits = tf.nn.conv2d(canvas[..., None], tf.constant(disk), 1, "VALID")
    return _close5(tf.cast(hits > 0, tf.float32))


# ------------------------------------------------------------------ part boxes (2.6)


def _box_params(present, rule, xp):
    """Per-sample margins and nose shift: (r, r_single, nose_shift), each [B]."""
    params = BOX_RULES[rule]
    batch = present.shape[0] if xp is np else tf.shape(present)[0]
    if not params["whole_body"]:
        ones = xp.ones([batch], np.float64) if xp is np else tf.ones([batch], tf.float64)
        return ones * params["margin"], ones * params["margin_single"], ones * 0
    member = PART_MEMBERS[[13, 15]]  # parts 14 (L knee, ankle) and 16 (R knee, ankle)
    if xp is np:
        whole = np.all(np.any(present[:, None, :] & member[None], -1), -1)
    else:
        whole = tf.reduce_all(tf.reduce_any(present[:, None, :] & member[None], -1), -1)
    pick = [xp.where(whole, _DF_MARGINS[True][k], _DF_MARGINS[False][k]) for k in range(3)]
    return tuple(pick) if xp is np else tuple(tf.cast(p, tf.float64) for p in pick)


def part_boxes_np(rcv, rule="df"):
    """The 37 part boxes and visibilities written by the DPIG converters.

    Rule (``get_part_bbox`` / ``get_part_bbox37``): over a part's present joints take the
    min/max row and col (DF: the nose's row first moved up by 10 in whole-body images, by
    25 otherwise, not below 0), widen by ``r`` if >= 2 joints are present, else by
    ``r_single``, and clip to [0, clip-1] (DF 256x256 always, Market 128x64). An absent part
    is (0, 0, 1, 1) with visibility 0.

    Args:
        rcv: [B, 18, 3] or [18, 3] (row, col, vis) in pixels; vis 0 = missing.
        rule: "df" (also convert_RCV) or "market" (radius 6).

    Returns:
        (boxes int64 [..., 37, 4] as (y1, x1, y2, x2) pixels, truncated from the float
        values like the original's ``astype(np.int64)``; vis int64 [..., 37] in {0, 1}).
    """
    rcv = np.asarray(rcv, np.float64)
    single = rcv.ndim == 2
    rcv = rcv.reshape(-1, NUM_JOINTS, 3)
    present = rcv[..., 2] != 0
    r, rs, shift = _box_params(present, rule, np)
    ys, xs = rcv[..., 0].copy(), rcv[..., 1]
    ys[:, NOSE] = np.where(shift > 0, np.maximum(0, ys[:, NOSE] - shift), ys[:, NOSE])
    sel = present[:, None, :] & PART_MEMBERS[None]  # [B, 37, 18]
    count = sel.sum(-1)
    margin = np.where(count > 1, r[:, None], rs[:, None])
    clip_h, clip_w = BOX_RULES[rule]["clip"]
    with np.errstate(invalid="ignore"):
        y1 = np.maximum(0, np.where(sel, ys[:, None], np.inf).min(-1) - margin)
        x1 = np.maximum(0, np.where(sel, xs[:, None], np.inf).min(-1) - margin)
        y2 = np.minimum(clip_h - 1, np.where(sel, ys[:, None], -np.inf).max(-1) + margin)
        x2 = np.minimum(clip_w - 1, np.where(sel, xs[:, None], -np.inf).max(-1) + margin)
    boxes = np.stack([y1, x1, y2, x2], -1)
    boxes = np.where((count > 0)[..., None], boxes, [0, 0, 1, 1]).astype(np.int64)
    vis = (count > 0).astype(np.int64)
    return (boxes[0], vis[0]) if single else (boxes, vis)


def part_boxes(rcv, rule="df"):
    """TF twin of :func:`part_boxes_np` for a batch: float [B, 18, 3] or [B, 54] ->
    (int64 [B, 37, 4], int64 [B, 37])."""
    rcv = tf.reshape(tf.cast(rcv, tf.float64), [-1, NUM_JOINTS, 3])
    present = rcv[..., 2] != 0
    r, rs, shift = _box_params(present, rule, tf)
    ys, xs = rcv[..., 0], rcv[..., 1]
    nose = tf.where(shift > 0, tf.maximum(ys[:, NOSE] - shift, 0.0), ys[:, NOSE])
    ys = tf.concat([nose[:, None], ys[:, 1:]], 1)
    sel = present[:, None, :] & tf.constant(PART_MEMBERS)[None]
    count = tf.reduce_sum(tf.cast(sel, tf.int32), -1)
    margin = tf.where(count > 1, r[:, None], rs[:, None])
    clip_h, clip_w = BOX_RULES[rule]["clip"]
    inf = tf.constant(np.inf, tf.float64)

    def extreme(v, reduce, fill):
        return reduce(tf.where(sel, v[:, None, :], fill), -1)

    y1 = tf.maximum(extreme(ys, tf.reduce_min, inf) - margin, 0.0)
    x1 = tf.maximum(extreme(xs, tf.reduce_min, inf) - margin, 0.0)
    y2 = tf.minimum(extreme(ys, tf.reduce_max, -inf) + margin, clip_h - 1.0)
    x2 = tf.minimum(extreme(xs, tf.reduce_max, -inf) + margin, clip_w - 1.0)
    boxes = tf.stack([y1, x1, y2, x2], -1)
    absent = tf.constant([0.0, 0.0, 1.0, 1.0], tf.float64)
    boxes = tf.where((count > 0)[..., None], boxes, absent)
    return tf.cast(boxes, tf.int64), tf.cast(count > 0, tf.int64)


# ------------------------------------------------------------------ converter-only extras


def coarse_pose_grid_np(rcv, height, width, grid_cols):
    """The converters' coarse one-hot keypoint grid ``pose_peaks`` (written, never read).

    Cell sizes use Python 2 integer division: H//16 rows, W//grid_cols cols (DF: 16x16
    grid of 16 px cells at 256x256; Market: 16x8 grid of 8 px cells at 128x64).

    Args:
        rcv: [18, 3] (row, col, vis) in pixels.
        grid_cols: 16 (DF) or 8 (Market).

    Returns:
        float32 [16, grid_cols, 18] in {0, 1}. A joint outside the grid is left out (the
        original raised IndexError below/right of it and wrapped around above/left of it).
    """
    grid = np.zeros((16, grid_cols, NUM_JOINTS), np.float32)
    h_unit, w_unit = height // 16, width // grid_cols
    for k, (r, c, v) in enumerate(np.asarray(rcv, np.float64)):
        gr, gc = int(r / h_unit), int(c / w_unit)
        if v != 0 and 0 <= gr < 16 and 0 <= gc < grid_cols and r >= 0 and c >= 0:
            grid[gr, gc, k] = 1
    return grid


def sparse_pose_np(rcv, height, width, radius):
    """Sparse radius-``radius`` keypoint disks (``_getSparsePose``; the PG2-era features
    ``indices_r*`` / ``values_r*``).

    Returns:
        (int64 [N] flat indices r*W*18 + c*18 + k, in the original's order: joint k, then
        dr = -r..r, then dc = -r..r, clipped to the image; float32 [N] ones).
    """
    out = []
    for k, (r, c, v) in enumerate(np.asarray(rcv, np.float64)):
        if v == 0:
            continue
        for dr, dc in disk_offsets(radius):
            rr, cc = int(r) + dr, int(c) + dc
            if 0 <= rr < height and 0 <= cc < width:
                out.append(rr * width * NUM_JOINTS + cc * NUM_JOINTS + k)
    return np.array(out, np.int64), np.ones(len(out), np.float32)


_ROI_GROUPS = {True: ([[0], [3], [4], [5], [6]], [[1], [2], [35], [36], [0, 1]]),
               False: ([[0], [3], [4], [3], [4]], [[1], [35], [36], [35], [36]])}


def _roi_mask(groups, boxes, vis, whole, height, width):
    masks = []
    for group in groups:
        y1, x1, y2, x2, valid = height - 1, width - 1, 0, 0, False
        for p in group:
            if not vis[p]:
                continue
            valid = True
            b1, a1, b2, a2 = (int(t) for t in boxes[p])
            if p == 0:  # head: enlarge upward
                b1 = max(0, b1 - (10 if whole else 20))
            elif p in (2, 3, 4, 5, 6, 35, 36):  # wrists / ankles: enlarge downward
                b2 = min(height - 1, b2 + 20)
            if not whole:
                b1, a1 = max(0, b1 - 5), max(0, a1 - 5)
                b2, a2 = min(height - 1, b2 + 5), min(width - 1, a2 + 5)
            y1, x1, y2, x2 = min(y1, b1), min(x1, a1), max(y2, b2), max(x2, a2)
        if valid:
            mask = np.ones((height, width), np.uint8)
            mask[y1:y2, x1:x2] = 0  # exclusive ends, as the original's slicing
            masks.append(mask)
    return masks


def roi10_masks_np(boxes, vis, rng, height=256, width=256):
    """DF's ``roi10_mask``: 10 binary "outside the region" masks (5 small, 5 big regions
    built from unions of part boxes; written by convert_DF, never read by DPIG).

    Each list of 5 is padded by repeating a random earlier entry at index
    ``choice(len) - 1`` (so index -1, the last, can be drawn), as the original; the
    original used numpy's global unseeded RNG, here ``rng`` (a ``np.random.Generator``)
    makes it repeatable.

    Args:
        boxes: int [37, 4] from :func:`part_boxes_np` (rule "df"); vis: int [37].
        height, width: 256 x 256 in the original (hard-coded).

    Returns:
        uint8 [H, W, 10] in {0, 1}, or None when no part is visible (the original crashed).
    """
    whole = bool(vis[13] and vis[15])
    out = []
    for groups in _ROI_GROUPS[whole]:
        masks = _roi_mask(groups, boxes, vis, whole, height, width)
        if not masks:
            return None
        while len(masks) < 5:
            masks.append(masks[int(rng.integers(len(masks))) - 1])
        out += masks
    return np.stack(out, axis=-1)


# ------------------------------------------------------------------ Gaussian maps (PATN, GFLA)


def _gaussian_keypoints_np(keypoints, height, width, old_size):
    kp = np.array(keypoints, np.float64).reshape(NUM_JOINTS, 2)
    missing = np.any(kp == -1, axis=1)
    if old_size is not None:
        kp = np.trunc(kp / np.float64(old_size) * np.float64([height, width]))
    return kp, missing


def gaussian_heatmaps_np(keypoints, height, width, sigma=6.0, old_size=None, peak_only=False):
    """18 Gaussian joint maps: ``cords_to_map`` of ``tool/pose_utils.py`` in
    tengteng95/Pose-Transfer (PATN, also menyifang/ADGAN) and of ``util/pose_utils.py`` in
    RenYurui/Global-Flow-Local-Attention (GFLA) and
    PangzeCheung/Dual-task-Pose-Transformer-Network (DPTN).

    Channel k(y, x) = exp(-((y - r_k)^2 + (x - c_k)^2) / (2 sigma^2)), computed in float64
    and stored as float32. A joint with either coordinate exactly -1 gives an all-zero
    channel; any other value is drawn, also outside the image (only the tail shows), as the
    originals do.

    Args:
        keypoints: number array [18, 2] (row, col) in the annotation frame, -1 missing.
        height, width: map size H, W.
        sigma: Gaussian width in pixels of the map (6 in every original).
        old_size: None: coordinates used as given (PATN / ADGAN, map size = annotation
            frame). (old_H, old_W): GFLA / DPTN rescaling from the annotation frame, r' =
            int(r / old_H * H), c' = int(c / old_W * W) (float64, truncated toward zero;
            note int(c / 176 * 176) is c - 1 for c in 15, 30, 49, ...).
        peak_only: True reproduces ``tool/generate_pose_map_fashion.py`` of PATN / ADGAN,
            which writes the maps into a uint8 array: 1 at the peak pixel of an in-image
            joint, 0 elsewhere (floor of the float map).

    Returns:
        float32 [H, W, 18] in [0, 1].
    """
    kp, missing = _gaussian_keypoints_np(keypoints, height, width, old_size)
    yy = np.arange(height, dtype=np.float64)[:, None, None]
    xx = np.arange(width, dtype=np.float64)[None, :, None]
    d2 = (yy - kp[:, 0]) ** 2 + (xx - kp[:, 1]) ** 2
    maps = np.exp(-d2 / (2 * np.float64(sigma) ** 2))
    if peak_only:
        maps = np.floor(maps)
    return np.where(missing, 0.0, maps).astype(np.float32)


def gaussian_heatmaps(keypoints, height, width, sigma=6.0, old_size=None, peak_only=False):
    """TF twin of :func:`gaussian_heatmaps_np` for a batch (graph-safe: ``tf.data`` maps
    and models). The Gaussian is evaluated as a product of a row and a column profile
    (float64 profiles, float32 product: within 2e-7 of the float64 formula).

    Args:
        keypoints: float or int [B, 18, 2] (row, col), -1 missing.
        height, width, sigma, peak_only: as :func:`gaussian_heatmaps_np`.
        old_size: None, (old_H, old_W), or a tensor broadcastable to [B, 2] (per-sample
            annotation frames).

    Returns:
        float32 [B, H, W, 18] in [0, 1].
    """
    kp = tf.reshape(tf.cast(keypoints, tf.float64), [-1, NUM_JOINTS, 2])
    missing = tf.reduce_any(kp == -1, axis=-1)  # [B, 18]
    if old_size is not None:
        old = tf.reshape(tf.cast(old_size, tf.float64), [-1, 1, 2])
        kp = _trunc(kp / old * tf.constant([height, width], tf.float64))
    two_s2 = 2 * tf.cast(sigma, tf.float64) ** 2
    gy = tf.exp(-(tf.range(height, dtype=tf.float64)[None, :, None] - kp[:, None, :, 0]) ** 2
                / two_s2)  # [B, H, 18]
    gx = tf.exp(-(tf.range(width, dtype=tf.float64)[None, :, None] - kp[:, None, :, 1]) ** 2
                / two_s2)  # [B, W, 18]
    if peak_only:
        gy, gx = tf.cast(gy == 1, tf.float64), tf.cast(gx == 1, tf.float64)
    keep = tf.cast(~missing, tf.float32)[:, None, None, :]
    return tf.cast(gy, tf.float32)[:, :, None, :] * tf.cast(gx, tf.float32)[:, None, :, :] * keep
