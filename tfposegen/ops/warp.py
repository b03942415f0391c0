"""Warping of NHWC feature maps by sampling grids and flow fields, as the PyTorch originals do
it (written with ``keras.ops``; differentiable with respect to the image and the grid / flow
wherever the sampling weights are).

- :func:`grid_sample_bilinear`: ``torch.nn.functional.grid_sample(mode='bilinear',
  padding_mode='zeros')`` with either ``align_corners`` convention.
- :func:`bilinear_warp`: ``bilinear_warp(source, flow)`` of ``AFN/model/pennet.py`` in
  gxl-groups/PAINT (the warp of PAINT's Appearance Flow Network): a flow in pixels turned
  into a grid and sampled with PyTorch 1.1's ``grid_sample`` (``align_corners=True``).
- :func:`resample2d`: the forward ``Resample2d`` CUDA kernel
  (``AFN/resample2d_package/resample2d_kernel.cu`` in gxl-groups/PAINT, from GFLA): a
  normalised Gaussian-weighted average of the (kernel_size // 2 * 2)^2 pixels around each
  displaced position, borders clamped.

Conventions: images are NHWC. A grid's last axis is (x, y) = (column, row), normalised to
[-1, 1] over the input's width / height, as torch's. A flow's last axis is (dx, dy) =
(column, row) displacement in pixels (torch's flow channels 0 and 1). Do not swap in
``tf.image`` / ``dense_image_warp``: those take (row, col) flows, subtract them, and sample
in other conventions.
"""

from keras import ops


def _static_hw(x, what, minimum=1):
    """The static (H, W) of NHWC ``x`` (None where unknown), checked against ``minimum``."""
    if len(x.shape) != 4:
        raise ValueError(f"warp.py: {what} must be 4-D NHWC, got shape {tuple(x.shape)}")
    h, w = x.shape[1], x.shape[2]
    for n, v in (("height", h), ("width", w)):
        if v is not None and v < minimum:
            raise ValueError(f"warp.py: {what} {n} must be >= {minimum}, got shape "
                             f"{tuple(x.shape)}")
    return h, w


def _gather_taps(source, rows, cols):
    """``source[b, rows, cols, :]`` for int32 ``rows`` / ``cols`` [B, Ho, Wo] already inside
    the image: float [B, Ho, Wo, C]."""
    shape = ops.shape(source)
    b, h, w, c = shape[0], shape[1], shape[2], shape[3]
    flat = ops.reshape(source, (-1, c))
    base = ops.reshape(ops.arange(b, dtype="int32") * (h * w), (-1, 1, 1))
    index = base + rows * w + cols
    out_shape = ops.shape(rows)
    taps = ops.take(flat, ops.reshape(index, (-1,)), axis=0)
    return ops.reshape(taps, (out_shape[0], out_shape[1], out_shape[2], c))


def _bilinear_at(source, xs, ys):
    """Bilinear samples of NHWC ``source`` at pixel positions ``xs`` (column) / ``ys`` (row)
    [B, Ho, Wo], each of the four taps contributing 0 when it lies outside the image (torch's
    zero padding: weights are not renormalised). float [B, Ho, Wo, C]."""
    shape = ops.shape(source)
    h, w = shape[1], shape[2]
    x0f, y0f = ops.floor(xs), ops.floor(ys)
    ax, ay = xs - x0f, ys - y0f
    x0, y0 = ops.cast(x0f, "int32"), ops.cast(y0f, "int32")
    out = None
    for dy, wy in ((0, 1.0 - ay), (1, ay)):
        for dx, wx in ((0, 1.0 - ax), (1, ax)):
            xi, yi = x0 + dx, y0 + dy
            inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
            weight = ops.where(inside, wx * wy, ops.zeros_like(wx))
            tap = _gather_taps(source, ops.clip(yi, 0, h - 1), ops.clip(xi, 0, w - 1))
            term = tap * ops.expand_dims(weight, -1)
            out = term if out is None else out + term
    return out


def grid_sample_bilinear(source, grid, align_corners=False):
    """``torch.nn.functional.grid_sample(source, grid, mode='bilinear',
    padding_mode='zeros', align_corners=align_corners)`` on NHWC tensors
    (``torch/nn/functional.py`` and ``aten/src/ATen/native/GridSampler.h`` of
    pytorch/pytorch).

    Output pixel (i, j) samples ``source`` at the column ``xs`` / row ``ys`` given by
    unnormalising ``grid[b, i, j] = (gx, gy)``: with ``align_corners`` ``xs = (gx + 1) / 2
    * (W - 1)`` (-1 and 1 are the centres of the corner pixels), without it ``xs = ((gx + 1)
    * W - 1) / 2`` (-1 and 1 are the outer edges of the corner pixels); the same for ``ys``
    with H. Bilinear weights over the four neighbours ``floor(xs) + {0, 1}`` x ``floor(ys) +
    {0, 1}``; a neighbour outside the image contributes 0 (samples fade to 0 across the last
    pixel, no renormalisation).

    Args:
        source: float [B, H, W, C], any range.
        grid: float [B, Ho, Wo, 2], normalised (x, y); values outside [-1, 1] allowed.
        align_corners: torch's flag. The default False is torch >= 1.3's default; torch
            1.1 / 1.2 always behaved as True (what models trained then, such as PAINT's
            AFN, need).

    Returns:
        float [B, Ho, Wo, C], the dtype of ``source``.
    """
    source = ops.convert_to_tensor(source)
    _static_hw(source, "grid_sample_bilinear source")
    if len(grid.shape) != 4 or grid.shape[-1] != 2:
        raise ValueError(f"grid_sample_bilinear: grid must be [B, Ho, Wo, 2] (x, y), got "
                         f"{tuple(grid.shape)}")
    h, w = ops.shape(source)[1], ops.shape(source)[2]
    grid = ops.cast(grid, source.dtype)
    gx, gy = grid[..., 0], grid[..., 1]
    wf, hf = ops.cast(w, source.dtype), ops.cast(h, source.dtype)
    if align_corners:
        xs = (gx + 1.0) / 2.0 * (wf - 1.0)
        ys = (gy + 1.0) / 2.0 * (hf - 1.0)
    else:
        xs = ((gx + 1.0) * wf - 1.0) / 2.0
        ys = ((gy + 1.0) * hf - 1.0) / 2.0
    return _bilinear_at(source, xs, ys)


def flow_to_grid(flow, height, width):
    """The sampling grid ``bilinear_warp`` (``AFN/model/pennet.py`` in gxl-groups/PAINT)
    builds from a pixel flow: ``gx = (2 * (j / (W - 1)) - 1) + 2 * dx / W``, ``gy = (2 * (i /
    (H - 1)) - 1) + 2 * dy / H`` (the base grid is divided by W - 1, the flow by W). As in
    the original (``.float()``), the base grid is always computed in float32 and only then
    added to the flow term in the flow's dtype.

    Args:
        flow: float [B, H, W, 2], (dx, dy) in pixels.
        height, width: H and W (at least 2).

    Returns:
        float [B, H, W, 2] normalised (x, y) grid of the flow's dtype, for
        :func:`grid_sample_bilinear`.
    """
    dtype = flow.dtype
    cols = ops.cast(ops.arange(width), "float32") / float(width - 1)
    rows = ops.cast(ops.arange(height), "float32") / float(height - 1)
    base_x = ops.cast(2.0 * ops.reshape(cols, (1, 1, -1)) - 1.0, dtype)
    base_y = ops.cast(2.0 * ops.reshape(rows, (1, -1, 1)) - 1.0, dtype)
    gx = base_x + 2.0 * flow[..., 0] / float(width)
    gy = base_y + 2.0 * flow[..., 1] / float(height)
    return ops.stack([gx, gy], axis=-1)


def bilinear_warp(source, flow, align_corners=True):
    """``bilinear_warp(source, flow)`` of ``AFN/model/pennet.py`` in gxl-groups/PAINT, on
    NHWC tensors: pixel (i, j) of the output samples ``source`` bilinearly, with zero
    padding per tap, at column ``j + dx (W - 1) / W`` and row ``i + dy (H - 1) / H``
    (:func:`flow_to_grid` then :func:`grid_sample_bilinear`).

    The original calls ``F.grid_sample(source, grid)`` without ``align_corners``; PAINT was
    trained under torch 1.1, which behaved as ``align_corners=True`` (the default here).
    ``align_corners=False`` reproduces the same code run under torch >= 1.3 (column ``j W /
    (W - 1) + dx - 1/2``): a different image.

    Args:
        source: float [B, H, W, C] (AFN: encoder features), any range; H, W >= 2.
        flow: float [B, H, W, 2] of the source's size: (dx, dy) = (column, row)
            displacement in pixels of this map (AFN's flows, channel 0 = x).
        align_corners: see above.

    Returns:
        float [B, H, W, C].
    """
    source, flow = ops.convert_to_tensor(source), ops.convert_to_tensor(flow)
    h, w = _static_hw(source, "bilinear_warp source", minimum=2)
    fh, fw = _static_hw(flow, "bilinear_warp flow")
    if None in (h, w):
        raise ValueError(f"bilinear_warp: the source needs a static height and width, got "
                         f"{tuple(source.shape)}")
    if (fh, fw) != (h, w) and None not in (fh, fw):
        raise ValueError(f"bilinear_warp: flow {tuple(flow.shape)} and source "
                         f"{tuple(source.shape)} must have the same height and width")
    if flow.shape[-1] != 2:
        raise ValueError(f"bilinear_warp: flow must have 2 channels (dx, dy), got "
                         f"{tuple(flow.shape)}")
    grid = flow_to_grid(ops.cast(flow, source.dtype), h, w)
    return grid_sample_bilinear(source, grid, align_corners=align_corners)


def _safe_div(a, b):
    """``SAFE_DIV`` of resample2d_kernel.cu: ``a / 1e-8`` where ``b == 0``, else ``a / b``."""
    zero = ops.equal(b, 0.0)
    return a / ops.where(zero, ops.full_like(b, 1e-8), b)


def resample2d(source, flow, kernel_size=2, dilation=1, sigma=5.0):
    """``Resample2d(kernel_size, dilation, sigma)(source, flow)`` of
    ``AFN/core/resample2d.py`` in gxl-groups/PAINT (not used by AFN's live code; GFLA's
    sampler), following its forward CUDA kernel ``kernel_resample2d_update_output``
    (``AFN/resample2d_package/resample2d_kernel.cu``), on NHWC tensors.

    For output pixel (y, x): ``xf = x + dx``, ``yf = y + dy`` (pixels; no normalisation),
    ``alpha = xf - floor(xf)``, ``beta = yf - floor(yf)``. With ``K = kernel_size // 2``
    (integer division: an odd size acts as the even size below it, 1 gives all zeros), the
    taps are the rows ``floor(yf) - f dilation`` and ``floor(yf) + (f + 1) dilation`` and the
    columns ``floor(xf) - f dilation`` and ``floor(xf) + (f + 1) dilation`` for f = 0 .. K - 1,
    every row with every column ((2K)^2 taps), each index CLAMPED into the source (replicated
    border, not zeros). A tap at row distance ``f dilation + beta`` (upper rows) or ``(f + 1)
    dilation - beta`` (lower rows) and the analogous column distance weighs ``P(dy) P(dx)``,
    ``P(d) = exp(SAFE_DIV(-d^2, 2 sigma^2))``; the output is ``SAFE_DIV(sum(weight * tap),
    sum(weight))`` with ``SAFE_DIV(a, b) = a / 1e-8`` where ``b == 0``. Large sigma tends to
    the plain average of the taps, small sigma to the nearest tap; sigma exactly 0 gives
    weight 1 at zero distance and (underflowing) 0 elsewhere, so 0 output off the integer
    positions.

    Args:
        source: float [B, H1, W1, C] (the kernel's input1), any range.
        flow: float [B, H, W, 2], (dx, dy) in pixels (input2's first two channels); the output
            takes this size.
        kernel_size: the module's ``kernel_size`` (default 2; ``PerceptualCorrectness`` of
            ``AFN/core/loss.py`` builds 4).
        dilation: spacing of the taps (1).
        sigma: Gaussian sigma in pixels: a number (``Resample2d`` expands its scalar, default
            5) or a float tensor [B, H, W] or [B, H, W, 1] (the kernel reads a per-pixel
            third flow channel).

    Returns:
        float [B, H, W, C], the dtype of ``source``.
    """
    kernel_size, dilation = int(kernel_size), int(dilation)
    source, flow = ops.convert_to_tensor(source), ops.convert_to_tensor(flow)
    _static_hw(source, "resample2d source")
    _static_hw(flow, "resample2d flow")
    if flow.shape[-1] != 2:
        raise ValueError(f"resample2d: flow must have 2 channels (dx, dy), got "
                         f"{tuple(flow.shape)}")
    if kernel_size < 0 or dilation < 0:
        raise ValueError(f"resample2d: kernel_size and dilation must be >= 0, got "
                         f"{kernel_size}, {dilation}")
    dtype = source.dtype
    flow = ops.cast(flow, dtype)
    shape = ops.shape(flow)
    b, h, w = shape[0], shape[1], shape[2]
    c = ops.shape(source)[3]
    half = kernel_size // 2
    if half == 0:
        return ops.zeros((b, h, w, c), dtype=dtype)
    h1, w1 = ops.shape(source)[1], ops.shape(source)[2]
    sigma = ops.cast(sigma, dtype)
    if len(sigma.shape) == 4:
        sigma = sigma[..., 0]
    two_s2 = 2.0 * sigma * sigma
    xf = ops.reshape(ops.cast(ops.arange(w), dtype), (1, 1, -1)) + flow[..., 0]
    yf = ops.reshape(ops.cast(ops.arange(h), dtype), (1, -1, 1)) + flow[..., 1]
    xfl, yfl = ops.floor(xf), ops.floor(yf)
    alpha, beta = xf - xfl, yf - yfl
    xi, yi = ops.cast(xfl, "int32"), ops.cast(yfl, "int32")

    def weight(d):
        return ops.exp(_safe_div(-d * d, two_s2))

    cols, rows = [], []   # (clamped index, weight) per tap, in the kernel's L/R, T/B order
    for f in range(half):
        near, far = f * dilation, (f + 1) * dilation
        cols.append([(ops.clip(xi - near, 0, w1 - 1), weight(near + alpha)),
                     (ops.clip(xi + far, 0, w1 - 1), weight(far - alpha))])
        rows.append([(ops.clip(yi - near, 0, h1 - 1), weight(near + beta)),
                     (ops.clip(yi + far, 0, h1 - 1), weight(far - beta))])
    val, total = None, None
    for fy in range(half):
        for fx in range(half):
            for row, wr in rows[fy]:
                for col, wc in cols[fx]:
                    wgt = wr * wc
                    term = _gather_taps(source, row, col) * ops.expand_dims(wgt, -1)
                    val = term if val is None else val + term
                    total = wgt if total is None else total + wgt
    return _safe_div(val, ops.expand_dims(total, -1))
