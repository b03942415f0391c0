"""DPTN_step's 41-channel pose maps: 18 joint Gaussians and 23 limb maps, exact to OpenCV.

``util/util.py`` in gkalstn000/DPTN_step draws each limb as a Gaussian line template rotated
and scaled into place with ``cv2.warpAffine``; :func:`warp_affine_np` reproduces OpenCV's
fixed-point bilinear warp (source positions rounded to 1/32 pixel, float32 weight tables),
so the maps are bit for bit the original's without OpenCV (one person at a time).
:func:`dptn_step_pose` is the graph-safe TensorFlow twin for a batch (``tf.data`` maps,
``tf.function``, SavedModel signatures): the same fixed-point warp in int64 / float64 ops,
with the Gaussians and the rotation's cos / sin looked up in tables numpy computes when the
graph is built (TensorFlow's float64 ``atan2`` and ``exp`` are not numpy's to the bit), so
its maps are :func:`dptn_step_pose_np`'s to the bit (float32 subnormals are built bit by
bit: TensorFlow's CPU kernels flush them to 0, and data moves by copies, not sums).
"""

import functools
import math

import numpy as np
import tensorflow as tf

from tfposegen.pose.maps import NUM_JOINTS, gaussian_heatmaps_np

# Limbs of ``limbs_to_map`` (``util/util.py`` in gkalstn000/DPTN_step), 0-based joints, in
# channel order: face (6), arms and legs (8), torso (9).
DPTN_STEP_LIMBS = ((0, 16), (0, 14), (0, 15), (0, 17), (16, 17), (0, 1),
                   (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (11, 12), (12, 13),
                   (1, 2), (2, 8), (8, 11), (11, 5), (5, 1), (2, 11), (1, 8), (1, 11), (5, 8))

# OpenCV's fixed-point warp constants (modules/imgproc: INTER_BITS, AB_BITS = max(10,
# INTER_BITS)): source positions are rounded to 1/32 pixel.
_INTER_BITS = 5
_AB_BITS = 10
_INT32_MIN = -(1 << 31)


def rotation_matrix_np(center, angle, scale):
    """``cv2.getRotationMatrix2D``: rotation by ``angle`` degrees (counter-clockwise on the
    screen, rows pointing down) about ``center`` plus isotropic scaling.

    Args:
        center: (x, y) = (col, row) in pixels (OpenCV stores it as float32).
        angle: degrees; scale: isotropic factor.

    Returns:
        float64 [2, 3] forward matrix [[a, b, (1-a)*cx - b*cy], [-b, a, b*cx + (1-a)*cy]]
        with a = cos(angle)*scale, b = sin(angle)*scale, evaluated in OpenCV's order
        (``math.cos`` / ``math.sin`` are the C library's, as OpenCV's ``std::cos``).
    """
    rad = float(angle) * (math.pi / 180)
    alpha = math.cos(rad) * float(scale)
    beta = math.sin(rad) * float(scale)
    cx, cy = float(np.float32(center[0])), float(np.float32(center[1]))
    return np.array([[alpha, beta, (1 - alpha) * cx - beta * cy],
                     [-beta, alpha, beta * cx + (1 - alpha) * cy]], np.float64)


def _invert_affine(matrix):
    """cv2.warpAffine's inversion of a forward matrix (no WARP_INVERSE_MAP flag): six
    Python floats, a singular matrix becomes all zeros but the translation."""
    m0, m1, m2, m3, m4, m5 = (float(v) for v in np.asarray(matrix, np.float64).reshape(6))
    det = m0 * m4 - m1 * m3
    det = 1.0 / det if det != 0 else 0.0
    a11, a22 = m4 * det, m0 * det
    m1, m3 = m1 * -det, m3 * -det
    m0, m4 = a11, a22
    return m0, m1, -m0 * m2 - m1 * m5, m3, m4, -m3 * m2 - m4 * m5


def _cv_round(x):
    """OpenCV's ``saturate_cast<int>(double)`` (cvRound: nearest, ties to even; a value
    outside int32 or NaN gives INT_MIN, as the SSE2 conversion does) -> int64."""
    x = np.asarray(x, np.float64)
    ok = np.isfinite(x) & (x > _INT32_MIN - 0.5) & (x < (1 << 31) - 0.5)
    return np.where(ok, np.rint(np.where(ok, x, 0.0)), _INT32_MIN).astype(np.int64)


def _wrap_int32(x):
    return ((x - _INT32_MIN) & 0xFFFFFFFF) + _INT32_MIN


def _pad_source(image):
    """float64 source with 2 zero pixels on every side (constant-0 border)."""
    return np.pad(np.asarray(image, np.float64), 2)


def _warp_linear_np(padded, inverse, rows, cols):
    """Output pixels rows x cols (absolute output indices, int arrays) of cv2.warpAffine
    with INTER_LINEAR / BORDER_CONSTANT 0 on a single-channel float64 source.

    Emulates ``WarpAffineInvoker`` (fixed-point source positions: per-column
    cvRound(M0*x*1024) plus per-row cvRound((M1*y + M2)*1024) + 16, shifted right by 5,
    so 1/32-pixel steps, int32 wrap-around as in C) and ``remapBilinear`` for 64F (the
    float32 weight table of the 32x32 sub-positions, (1-fy)(1-fx), (1-fy)fx, fy(1-fx),
    fy*fx - exact products -, summed left to right in float64, 0 outside the source).

    Returns:
        float64 [len(rows), len(cols)].
    """
    height, width = padded.shape[0] - 4, padded.shape[1] - 4
    scale = float(1 << _AB_BITS)
    shift = _AB_BITS - _INTER_BITS
    tab_size = 1 << _INTER_BITS
    round_delta = (1 << _AB_BITS) // tab_size // 2
    m0, m1, m2, m3, m4, m5 = inverse
    cols_f, rows_f = np.asarray(cols, np.float64), np.asarray(rows, np.float64)
    adelta = _cv_round(m0 * cols_f * scale)
    bdelta = _cv_round(m3 * cols_f * scale)
    x0 = _wrap_int32(_cv_round((m1 * rows_f + m2) * scale) + round_delta)
    y0 = _wrap_int32(_cv_round((m4 * rows_f + m5) * scale) + round_delta)
    fix_x = _wrap_int32(x0[:, None] + adelta[None, :]) >> shift
    fix_y = _wrap_int32(y0[:, None] + bdelta[None, :]) >> shift
    # remap's integer map is int16 (saturated); beyond [-2, size] all 4 taps are border 0
    sx = np.clip(np.clip(fix_x >> _INTER_BITS, -32768, 32767), -2, width) + 2
    sy = np.clip(np.clip(fix_y >> _INTER_BITS, -32768, 32767), -2, height) + 2
    lin = np.float32(1) - np.arange(tab_size, dtype=np.float32) * np.float32(1 / tab_size)
    one_minus, frac = lin.astype(np.float64), 1.0 - lin.astype(np.float64)
    fx, fy = fix_x & (tab_size - 1), fix_y & (tab_size - 1)
    flat, stride = padded.ravel(), padded.shape[1]
    top = sy * stride + sx
    value = flat[top] * (one_minus[fy] * one_minus[fx])
    value += flat[top + 1] * (one_minus[fy] * frac[fx])
    value += flat[top + stride] * (frac[fy] * one_minus[fx])
    value += flat[top + stride + 1] * (frac[fy] * frac[fx])
    return value


def warp_affine_np(image, matrix, out_size=None):
    """numpy emulation of ``cv2.warpAffine(image, matrix, dsize)`` for a single-channel
    float64 image with the defaults INTER_LINEAR and BORDER_CONSTANT 0, bit-exact (see
    :func:`_warp_linear_np`): the forward matrix is inverted as OpenCV does, output pixel
    (x, y) samples the source at the inverse image rounded to 1/32 pixel.

    Args:
        image: number array [h, w] (computed as float64).
        matrix: [2, 3] forward affine matrix (output = M @ (x, y, 1)), as cv2 takes it.
        out_size: (height, width) of the output - numpy order, unlike cv2's (width, height)
            ``dsize`` -; None or (0, 0) for the source size, as cv2's (0, 0).

    Returns:
        float64 [height, width].
    """
    if np.ndim(image) != 2:
        raise ValueError(f"warp_affine_np takes a single-channel [h, w] image, got shape "
                         f"{np.shape(image)}")
    padded = _pad_source(image)
    if out_size is None or (out_size[0] == 0 and out_size[1] == 0):
        out_size = padded.shape[0] - 4, padded.shape[1] - 4
    return _warp_linear_np(padded, _invert_affine(matrix), np.arange(out_size[0]),
                           np.arange(out_size[1]))


def _dptn_step_frame(keypoints, height, width, old_size):
    """Validity and the scaled coordinates of DPTN_step's ``cords_to_map`` / ``limbs_to_map``.

    Returns (valid bool [18], scaled float64 [18, 2] = kp / old_size * (H, W))."""
    kp = np.array(keypoints, np.float64).reshape(NUM_JOINTS, 2)
    old = np.float64(old_size)
    valid = np.all((kp >= 0) & (kp < old), axis=1)
    return valid, kp / old * np.float64([height, width])


def _limb_profile_np(height, sigma):
    """float64 [2H-1]: exp(-((H-1) - i)^2 / (2 sigma^2)), the rows of the limb template."""
    return np.exp(-((height - 1) - np.arange(2 * height - 1, dtype=np.float64)) ** 2
                  / (2 * np.float64(sigma) ** 2))


def _limb_template_np(height, sigma):
    """``limbs_to_map``'s (2H-1) x (2H-1) template: columns H-1 .. 2H-2 hold the profile
    exp(-((H-1) - i)^2 / (2 sigma^2)) of row i, columns 0 .. H-2 are 0 (float64)."""
    profile = _limb_profile_np(height, sigma)
    template = np.zeros((2 * height - 1, 2 * height - 1), np.float64)
    template[:, height - 1:] = profile[:, None]
    return template, np.flatnonzero(profile)


def limb_maps_np(keypoints, height=256, width=256, old_size=(256, 176), sigma=3.0):
    """The 23 limb channels of DPTN_step (``limbs_to_map`` in ``util/util.py`` of
    gkalstn000/DPTN_step), one per :data:`DPTN_STEP_LIMBS` pair (a, b).

    For a limb whose two joints are valid (0 <= r < old_H and 0 <= c < old_W; -1 fails):
    integer ends (h, w) = int(kp / old_size * (H, W)), length L and angle = -degrees(atan2(
    h_b - h_a, w_b - w_a)); the template of :func:`_limb_template_np` (a Gaussian band
    starting at its centre and running right) is warped by ``cv2.warpAffine`` with
    ``cv2.getRotationMatrix2D((W-1, H-1), angle, L / W)`` (emulated exactly by
    :func:`warp_affine_np`) and the window [h_ : h_+H, w_ : w_+W] is kept, h_ = H -
    int(r_a' + 1), w_ = W - int(c_a' + 1): a band from joint a to joint b. The scaling is
    isotropic, so the band's width is sigma * L / W too (about one anti-aliased pixel for
    real limbs, peak ~1). A zero-length limb is empty. The original is only consistent for
    H == W (template built from H, length divided by W); this reproduces it as it is.

    Only the part of the window the band can reach is computed (elsewhere every
    interpolation tap is 0): the result is the original's to the bit.

    Args:
        keypoints: number array [18, 2] (row, col) in the annotation frame, -1 missing.
        height, width: map size H, W (``load_size``).
        old_size: (old_H, old_W) annotation frame (DeepFashion 256 x 176).
        sigma: profile width of the template in pixels (3 at HEAD, 2 before commit c520d34).

    Returns:
        float32 [H, W, 23] in [0, 1].
    """
    valid, scaled = _dptn_step_frame(keypoints, height, width, old_size)
    ends = scaled.astype(np.int64)                     # (point / old * size).astype(int)
    starts = height - (scaled + 1).astype(np.int64)    # h_, w_ of the window
    template, nonzero_rows = _limb_template_np(height, sigma)
    padded = _pad_source(template)
    size = template.shape[0]
    out = np.zeros((len(DPTN_STEP_LIMBS), height, width), np.float64)
    if nonzero_rows.size:
        # support of the template, widened by 2 source pixels (bilinear taps + rounding)
        u = np.float64([height - 1 - 2, size - 1 + 2])
        v = np.float64([nonzero_rows[0] - 2, nonzero_rows[-1] + 2])
        corners = np.stack(np.meshgrid(u, v), -1).reshape(-1, 2)
    for k, (a, b) in enumerate(DPTN_STEP_LIMBS):
        if not (valid[a] and valid[b]) or not nonzero_rows.size:
            continue
        dh, dw = ends[b, 0] - ends[a, 0], ends[b, 1] - ends[a, 1]   # numpy int64 scalars
        length = np.sqrt(dh ** 2 + dw ** 2)
        angle = -np.degrees(np.arctan2(dh, dw))
        matrix = rotation_matrix_np((width - 1, height - 1), angle, length / width)
        inverse = _invert_affine(matrix)
        h0, w0 = int(starts[a, 0]), int(starts[a, 1])
        r_lo, r_hi = max(h0, 0), min(h0 + height, size)
        c_lo, c_hi = max(w0, 0), min(w0 + width, size)
        if inverse[0] * inverse[4] - inverse[1] * inverse[3] != 0:
            mapped = corners @ matrix[:, :2].T + matrix[:, 2]
            lo = np.floor(mapped.min(0)).astype(np.int64) - 1
            hi = np.ceil(mapped.max(0)).astype(np.int64) + 2
            c_lo, c_hi = max(c_lo, int(lo[0])), min(c_hi, int(hi[0]))
            r_lo, r_hi = max(r_lo, int(lo[1])), min(r_hi, int(hi[1]))
        if r_lo >= r_hi or c_lo >= c_hi:
            continue
        out[k, r_lo - h0:r_hi - h0, c_lo - w0:c_hi - w0] = _warp_linear_np(
            padded, inverse, np.arange(r_lo, r_hi), np.arange(c_lo, c_hi))
    return np.transpose(out, (1, 2, 0)).astype(np.float32)


def dptn_step_pose_np(keypoints, height=256, width=256, old_size=(256, 176), sigma=6.0,
                      limb_sigma=3.0):
    """DPTN_step's 41-channel pose map (``obtain_bone_with_coord`` in
    ``data/base_dataset.py`` = ``cords_to_map`` + ``limbs_to_map`` of ``util/util.py``,
    gkalstn000/DPTN_step), channels last.

    Channels 0-17: for a valid joint (0 <= r < old_H and 0 <= c < old_W, so -1 and
    out-of-frame joints give empty channels - stricter than DPTN) the window of a 2H x 2W
    Gaussian, i.e. exp(-((y - p)^2 + (x - q)^2) / (2 sigma^2)) with the peak (p, q) =
    int(kp / old_size * (H, W) + 1) - 1 (= the truncation of DPTN's :func:`gaussian_heatmaps_np`
    except where adding 1 rounds a value just below an integer up). Channels 18-40:
    :func:`limb_maps_np`. float64 arithmetic, stored as float32 (the original's
    ``torch.Tensor``).

    Args:
        keypoints: number array [18, 2] (row, col) in the annotation frame, -1 missing.
        height, width: map size (``load_size``, 256 x 256 for DeepFashion).
        old_size: annotation frame (old_H, old_W), 256 x 176.
        sigma, limb_sigma: Gaussian widths (6 and 3 at HEAD; both 2 before commit c520d34,
            the step-loss checkpoints of August 2023).

    Returns:
        float32 [H, W, 41] in [0, 1].
    """
    valid, scaled = _dptn_step_frame(keypoints, height, width, old_size)
    peaks = (scaled + 1).astype(np.int64) - 1
    peaks = np.where(valid[:, None], peaks, -1)
    joints = gaussian_heatmaps_np(peaks, height, width, sigma)
    limbs = limb_maps_np(keypoints, height, width, old_size, limb_sigma)
    return np.concatenate([joints, limbs], axis=-1)


# ------------------------------------------------------------------ TensorFlow twin


@functools.lru_cache(maxsize=8)
def _rotation_table_np(height, width):
    """(cos, sin) of :func:`limb_maps_np`'s rotation for every integer limb vector: float64
    [2H+1, 2W+1, 2], entry [dh + H, dw + W] = (math.cos(rad), math.sin(rad)), rad =
    -degrees(np.arctan2(dh, dw)) * pi / 180 - the numpy / C library bits (TensorFlow's
    ``atan2`` differs in the last bit for a third of them)."""
    dh, dw = np.meshgrid(np.arange(-height, height + 1), np.arange(-width, width + 1),
                         indexing="ij")
    rad = (-np.degrees(np.arctan2(dh, dw))).ravel() * (math.pi / 180)
    cos = np.fromiter(map(math.cos, rad), np.float64, rad.size)
    sin = np.fromiter(map(math.sin, rad), np.float64, rad.size)
    return np.stack([cos, sin], -1).reshape(dh.shape + (2,))


@functools.lru_cache(maxsize=8)
def _joint_table_np(height, width, sigma):
    """float32 [(H-1)^2 + (W-1)^2 + 2]: entry d = exp(-d / (2 sigma^2)) as
    :func:`gaussian_heatmaps_np` computes it for a squared distance d (float64 numpy, then
    float32), and a last entry 0 (invalid joints)."""
    d2 = np.arange((height - 1) ** 2 + (width - 1) ** 2 + 1, dtype=np.float64)
    return np.append(np.exp(-d2 / (2 * np.float64(sigma) ** 2)).astype(np.float32),
                     np.float32(0))


def _trunc_int(x):
    """float64 -> int64, truncated toward zero (numpy's astype)."""
    return tf.cast(tf.where(x < 0, tf.math.ceil(x), tf.math.floor(x)), tf.int64)


def _cv_round_tf(x):
    """TF twin of :func:`_cv_round`: float64 -> int64 (ties to even, INT_MIN outside int32)."""
    ok = tf.math.is_finite(x) & (x > _INT32_MIN - 0.5) & (x < (1 << 31) - 0.5)
    return tf.where(ok, tf.cast(tf.math.rint(tf.where(ok, x, tf.zeros_like(x))), tf.int64),
                    tf.constant(_INT32_MIN, tf.int64))


def _to_float32(x):
    """float64 [...] >= 0 -> float32 as numpy's astype, float32 subnormals included: below
    2^-126 the bits are built (round half to even of x / 2^-149) and bitcast, as TensorFlow's
    CPU casts flush them to 0."""
    small = x < 2.0 ** -126
    bits = tf.cast(tf.math.rint(tf.where(small, x, tf.zeros_like(x)) * 2.0 ** 149), tf.int32)
    return tf.where(small, tf.bitcast(bits, tf.float32), tf.cast(x, tf.float32))


def _wrap_int32_tf(x):
    return tf.bitwise.bitwise_and(x - _INT32_MIN, 0xFFFFFFFF) + _INT32_MIN


def _rotation_tf(dh, dw, height, width):
    """:func:`rotation_matrix_np` about (W-1, H-1) by the angle of int64 limb vectors
    [...] (scale L / W) and its :func:`_invert_affine`, in OpenCV's order of operations:
    two tuples of six float64 [...] (forward, inverse)."""
    length = tf.sqrt(tf.cast(dh * dh + dw * dw, tf.float64))
    scale = length / tf.constant(width, tf.float64)
    index = tf.stack([tf.clip_by_value(dh, -height, height) + height,
                      tf.clip_by_value(dw, -width, width) + width], -1)
    trig = tf.gather_nd(tf.constant(_rotation_table_np(height, width)), index)
    alpha, beta = trig[..., 0] * scale, trig[..., 1] * scale
    cx, cy = float(np.float32(width - 1)), float(np.float32(height - 1))
    m0, m1, m2 = alpha, beta, (1 - alpha) * cx - beta * cy
    m3, m4, m5 = -beta, alpha, beta * cx + (1 - alpha) * cy
    det = tf.math.divide_no_nan(tf.ones_like(m0), m0 * m4 - m1 * m3)
    a11, a22, b12, b21 = m4 * det, m0 * det, m1 * -det, m3 * -det
    return ((m0, m1, m2, m3, m4, m5),
            (a11, b12, -a11 * m2 - b12 * m5, b21, a22, -b21 * m2 - a22 * m5))


def _warp_box_tf(inverse, rows, cols, height, profile):
    """TF twin of :func:`_warp_linear_np` on the limb template (a band: rows of
    ``profile``, columns H-1 .. 2H-2): output pixels at absolute rows / cols int64 [...]
    with inverse coefficients (six float64 [...], broadcastable) -> float64 [...]. The
    four products and their left-to-right sum are :func:`_warp_linear_np`'s (no factor
    shared between two products, so grappler has nothing to hoist)."""
    size = 2 * height - 1
    m0, m1, m2, m3, m4, m5 = inverse
    rows_f, cols_f = tf.cast(rows, tf.float64), tf.cast(cols, tf.float64)
    scale = float(1 << _AB_BITS)
    delta = (1 << _AB_BITS) // (1 << _INTER_BITS) // 2
    shift = _AB_BITS - _INTER_BITS
    x0 = _wrap_int32_tf(_cv_round_tf((m1 * rows_f + m2) * scale) + delta)
    y0 = _wrap_int32_tf(_cv_round_tf((m4 * rows_f + m5) * scale) + delta)
    fix_x = tf.bitwise.right_shift(_wrap_int32_tf(x0 + _cv_round_tf(m0 * cols_f * scale)),
                                   shift)
    fix_y = tf.bitwise.right_shift(_wrap_int32_tf(y0 + _cv_round_tf(m3 * cols_f * scale)),
                                   shift)
    # int16 saturation, then [-2, size]: taps beyond are the zero border (padded by 2)
    top = min(size, 32767)
    sx = tf.clip_by_value(tf.bitwise.right_shift(fix_x, _INTER_BITS), -2, top) + 2
    sy = tf.clip_by_value(tf.bitwise.right_shift(fix_y, _INTER_BITS), -2, top) + 2
    tab = 1 << _INTER_BITS
    frac_x = tf.cast(tf.bitwise.bitwise_and(fix_x, tab - 1), tf.float64) * (1 / tab)
    frac_y = tf.cast(tf.bitwise.bitwise_and(fix_y, tab - 1), tf.float64) * (1 / tab)
    near_x, near_y = 1 - frac_x, 1 - frac_y      # OpenCV's float32 table, exact in float64
    # padded template: row s holds profile[s - 2], columns H + 1 .. size + 1 are the band
    padded = tf.constant(np.pad(profile, (2, 3)))
    up, down = tf.gather(padded, sy), tf.gather(padded, sy + 1)
    left = (sx >= height + 1) & (sx <= size + 1)
    right = (sx >= height) & (sx <= size)
    zero = tf.zeros_like(up)
    return (tf.where(left, up, zero) * (near_y * near_x)
            + tf.where(right, up, zero) * (near_y * frac_x)
            + tf.where(left, down, zero) * (frac_y * near_x)
            + tf.where(right, down, zero) * (frac_y * frac_x))


def _limb_maps_tf(valid, scaled, height, width, sigma):
    """TF twin of :func:`limb_maps_np` for a batch: valid bool [B, 18], scaled float64
    [B, 18, 2] (kp / old_size * (H, W), 0 where invalid) -> float32 [B, H, W, 23].

    As :func:`limb_maps_np`, only a box around each band is warped - the pixels of all
    boxes in one flat tensor, scattered into the windows -; the box covers the template
    rows whose profile is >= 2^-151 (numpy's: > 0): a pixel beyond them is a convex
    combination of values < 2^-151, which rounds to float32 0 either way."""
    size = 2 * height - 1
    first, second = (list(v) for v in zip(*DPTN_STEP_LIMBS))
    ends, starts = _trunc_int(scaled), height - _trunc_int(scaled + 1)
    end_a, end_b = tf.gather(ends, first, axis=1), tf.gather(ends, second, axis=1)
    start = tf.gather(starts, first, axis=1)                       # [B, 23, 2]
    dh, dw = end_b[..., 0] - end_a[..., 0], end_b[..., 1] - end_a[..., 1]
    ok = tf.gather(valid, first, axis=1) & tf.gather(valid, second, axis=1) & (
        (dh != 0) | (dw != 0))                                     # zero length: empty
    forward, inverse = _rotation_tf(dh, dw, height, width)
    profile = _limb_profile_np(height, sigma)
    strong = np.flatnonzero(profile >= 2.0 ** -151)
    if not strong.size:
        return tf.zeros(tf.concat([tf.shape(scaled)[:1], [height, width, 23]], 0))
    # support box of each band (the template's strong rows, widened by 2 source pixels,
    # mapped forward; cf. limb_maps_np) within the window [h0, h0 + H) x [w0, w0 + W)
    u = np.float64([height - 3, size + 1])
    v = np.float64([strong[0] - 2, strong[-1] + 2])
    m0, m1, m2, m3, m4, m5 = (x[..., None] for x in forward)
    cu, cv = tf.constant(np.repeat(u, 2)), tf.constant(np.tile(v, 2))
    xs, ys = m0 * cu + m1 * cv + m2, m3 * cu + m4 * cv + m5       # [B, 23, 4]
    lo = tf.cast(tf.floor(tf.stack([tf.reduce_min(ys, -1), tf.reduce_min(xs, -1)], -1)),
                 tf.int64) - 1
    hi = tf.cast(tf.math.ceil(tf.stack([tf.reduce_max(ys, -1), tf.reduce_max(xs, -1)], -1)),
                 tf.int64) + 2
    extent = tf.constant([height, width], tf.int64)
    box_lo = tf.maximum(tf.maximum(start, lo), 0)
    box_hi = tf.minimum(tf.minimum(start + extent, hi), size)
    box_hi = tf.where(ok[..., None], tf.maximum(box_hi, box_lo), box_lo)
    # the boxes' pixels one after the other (limb l = b * 23 + k, then row-major)
    dims = tf.reshape(box_hi - box_lo, [-1, 2])
    limb = tf.repeat(tf.range(tf.shape(dims, tf.int64)[0]), dims[:, 0] * dims[:, 1])
    local = tf.range(tf.size(limb, tf.int64)) - tf.gather(
        tf.cumsum(dims[:, 0] * dims[:, 1], exclusive=True), limb)
    row, col = local // tf.gather(dims[:, 1], limb), local % tf.gather(dims[:, 1], limb)
    row += tf.gather(tf.reshape(box_lo[..., 0], [-1]), limb)       # absolute r, c
    col += tf.gather(tf.reshape(box_lo[..., 1], [-1]), limb)
    values = _warp_box_tf([tf.gather(tf.reshape(x, [-1]), limb) for x in inverse], row, col,
                          height, profile)
    # scattered into the windows: pixel (r - h0, c - w0) of limb k (each at most once)
    first_pixel = tf.reshape(start, [-1, 2])
    row -= tf.gather(first_pixel[:, 0], limb)
    col -= tf.gather(first_pixel[:, 1], limb)
    count = len(DPTN_STEP_LIMBS)
    flat = (((limb // count) * height + row) * width + col) * count + limb % count
    shape = tf.concat([tf.shape(ok, tf.int64)[:1], [height, width, count]], 0)
    out = tf.tensor_scatter_nd_update(tf.zeros(tf.reduce_prod(shape, keepdims=True)),
                                      flat[:, None], _to_float32(values))   # copies, no sum
    return tf.reshape(out, shape)


def dptn_step_pose(keypoints, height=256, width=256, old_size=(256, 176), sigma=6.0,
                   limb_sigma=3.0):
    """TF twin of :func:`dptn_step_pose_np` for a batch (graph-safe: ``tf.function``,
    ``tf.data`` maps, SavedModel signatures; no ``py_function``): DPTN_step's 41-channel
    pose maps (``cords_to_map`` + ``limbs_to_map`` of ``util/util.py`` in
    gkalstn000/DPTN_step).

    Joint channels: gathered from a table of numpy's float32 Gaussian per squared distance.
    Limb channels: the emulation of cv2.warpAffine in int64 / float64 ops (the cos / sin of
    the angle from a numpy table), over a support box per limb (:func:`_limb_maps_tf`).
    Equal to :func:`dptn_step_pose_np` to the bit (float64 keypoints: float32 ones round
    fractional coordinates first). Graph constants: 16 (2H+1)(2W+1) + 4 ((H-1)^2 + (W-1)^2)
    bytes (4.7 MB for 256 x 256).

    Args:
        keypoints: float or int [B, 18, 2] (row, col) in the annotation frame, -1 missing
            (a joint outside 0 <= r < old_H, 0 <= c < old_W gives empty channels).
        height, width: map size H, W (Python ints).
        old_size: annotation frame (old_H, old_W), or a tensor broadcastable to [B, 2].
        sigma, limb_sigma: Gaussian widths (Python floats; 6 and 3 at HEAD, 2 and 2 for the
            checkpoints before commit c520d34).

    Returns:
        float32 [B, H, W, 41] in [0, 1]: 18 joint channels, then the 23 limbs of
        :data:`DPTN_STEP_LIMBS`.
    """
    height, width = int(height), int(width)
    kp = tf.reshape(tf.cast(keypoints, tf.float64), [-1, NUM_JOINTS, 2])
    old = tf.reshape(tf.cast(old_size, tf.float64), [-1, 1, 2])
    valid = tf.reduce_all((kp >= 0) & (kp < old), axis=-1)               # [B, 18]
    scaled = tf.where(valid[..., None], kp / old * tf.constant([height, width], tf.float64),
                      tf.zeros_like(kp))
    # joint k(y, x) = table[(y - p)^2 + (x - q)^2], peak (p, q) = int(kp' + 1) - 1; the
    # last entry (0) for invalid joints
    peaks = tf.cast(_trunc_int(scaled + 1) - 1, tf.int32)
    table = _joint_table_np(height, width, float(sigma))
    far = tf.where(valid, 0, len(table) - 1)[:, None, None, :]
    dy = tf.range(height)[None, :, None, None] - peaks[:, None, None, :, 0]
    dx = tf.range(width)[None, None, :, None] - peaks[:, None, None, :, 1]
    joints = tf.gather(tf.constant(table), tf.minimum(dy * dy + dx * dx + far, len(table) - 1))
    limbs = _limb_maps_tf(valid, scaled, height, width, limb_sigma)
    return tf.concat([joints, limbs], axis=-1)
