"""DPTN_step's 41-channel pose maps: 18 joint Gaussians and 23 limb maps, exact to OpenCV.

``util/util.py`` in gkalstn000/DPTN_step draws each limb as a Gaussian line template rotated
and scaled into place with ``cv2.warpAffine``; :func:`warp_affine_np` reproduces OpenCV's
fixed-point bilinear warp (source positions rounded to 1/32 pixel, float32 weight tables),
so the maps are bit for bit the original's without OpenCV. numpy only (data preparation, one
person at a time): no TensorFlow twin.
"""

import math

import numpy as np

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


def _limb_template_np(height, sigma):
    """``limbs_to_map``'s (2H-1) x (2H-1) template: columns H-1 .. 2H-2 hold the profile
    exp(-((H-1) - i)^2 / (2 sigma^2)) of row i, columns 0 .. H-2 are 0 (float64)."""
    profile = np.exp(-((height - 1) - np.arange(2 * height - 1, dtype=np.float64)) ** 2
                     / (2 * np.float64(sigma) ** 2))
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
