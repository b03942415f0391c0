"""PAINT's Texture Synthesis Network (TSN): the generator of ``TSN/model/pennet.py``
(``InpaintGenerator``, a PEN-Net fork) and the discriminator of ``TSN/core/networks.py``
(``define_D(3, 64, 'basic', norm='batch')``) in gxl-groups/PAINT, Keras 3, NHWC.

- :class:`TSNGenerator`: two partial-convolution swatch encoders (upper and lower garment),
  each followed by attention transfer (:class:`AttentionTransfer`, ``AtnConv``) from its
  deepest level up to its finest, the two branches summed level by level, and a decoder of
  transposed convolutions, residual blocks and SPADE blocks conditioned on the parsing.
- :class:`TSNDiscriminator`: ``NLayerDiscriminator`` with batch norm (torch semantics,
  :class:`~tfposegen.layers.normalization.TorchBatchNorm`) and k4 convolutions padded by 2,
  so the maps grow at the end.

Layers exist that the forward pass never uses, as in the original, so that its checkpoints
load strictly: each SPADE block's ``conv_1``, ``conv_s``, ``norm_1`` and ``norm_s``, the
whole ``spade6`` and each residual block's third convolution (``model1``): 30,953,824 of the
generator's 81,189,635 parameters. All zero paddings are written out (explicit pad, then a
``valid`` convolution; transposed convolutions cropped as torch ``padding`` does).
"""

import keras
from keras import ops

from tfposegen.layers.normalization import InstanceNorm, TorchBatchNorm
from tfposegen.layers.partial_conv import PartialConv2D
from tfposegen.train.precision import to_float32

SLOPE = 0.2         # F.leaky_relu(x, 2e-1) of the SPADE blocks, LeakyReLU(0.2) of D
SCORE_FLOOR = 1e-8  # yi.clamp(min=1e-8) after the attention softmax


def _pad(x, amount=1):
    if not amount:
        return x
    return ops.pad(x, [[0, 0], [amount, amount], [amount, amount], [0, 0]])


def _built(layer, channels):
    """Build ``layer`` for NHWC inputs with ``channels`` channels (weights need no H, W)."""
    layer.build((None, None, None, channels))
    return layer


def _conv(filters, kernel, channels, dilation=1, use_bias=True):
    return _built(keras.layers.Conv2D(filters, kernel, padding="valid", dilation_rate=dilation,
                                      use_bias=use_bias), channels)


def _conv_t(filters, channels):
    """``ConvTranspose2d(channels, filters, 4, stride 2, padding 1)``: call, then crop 1."""
    return _built(keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="valid"),
                  channels)


def _axis_bilinear_align_corners(x, axis, size):
    """Resize axis 1 or 2 of NHWC ``x`` as ``F.interpolate(mode='bilinear',
    align_corners=True)``: source position ``i (in - 1) / (out - 1)`` in float32, linear
    between its two neighbours (an exact copy when the size does not change)."""
    n = ops.shape(x)[axis]
    scale = ops.cast(n - 1, "float32") / ops.cast(ops.maximum(size - 1, 1), "float32")
    src = ops.arange(size, dtype="float32") * scale
    lo = ops.cast(ops.floor(src), "int32")
    hi = ops.minimum(lo + 1, n - 1)
    lam = ops.cast(src - ops.cast(lo, "float32"), x.dtype)
    lam = ops.reshape(lam, (1, -1, 1, 1) if axis == 1 else (1, 1, -1, 1))
    return ops.take(x, lo, axis=axis) * (1.0 - lam) + ops.take(x, hi, axis=axis) * lam


def resize_bilinear_align_corners(x, size):
    """``F.interpolate(x, size, mode='bilinear', align_corners=True)`` on NHWC ``x``
    [B, H, W, C] -> [B, size[0], size[1], C] (as torch: H first, then W)."""
    return _axis_bilinear_align_corners(_axis_bilinear_align_corners(x, 1, size[0]), 2,
                                        size[1])


def resize_nearest_torch(x, size):
    """``F.interpolate(x, size, mode='nearest')`` on NHWC ``x``: output index i reads input
    ``min(floor(i * in / out), in - 1)`` with the scale in float32 (the first pixel of each
    block when downsampling by an integer factor; ``tf.image.resize`` nearest samples
    centres instead)."""
    for axis, out in ((1, size[0]), (2, size[1])):
        n = ops.shape(x)[axis]
        scale = ops.cast(n, "float32") / ops.cast(out, "float32")
        idx = ops.cast(ops.floor(ops.arange(out, dtype="float32") * scale), "int32")
        x = ops.take(x, ops.minimum(idx, n - 1), axis=axis)
    return x


def _patches(x, kernel, stride):
    """``extract_patches`` of TSN/model/pennet.py: zero-pad by (kernel - 1) // 2 on every
    side (kernel > 1), then every kernel x kernel window at ``stride``: [B, h, w, C] ->
    [B, h' * w', kernel * kernel * C], windows row-major (index row * w' + column), each
    window ordered (row, column, channel)."""
    x = _pad(x, (kernel - 1) // 2) if kernel != 1 else x
    rows = (ops.shape(x)[1] - kernel) // stride + 1
    cols = (ops.shape(x)[2] - kernel) // stride + 1
    taps = [x[:, i:i + stride * (rows - 1) + 1:stride, j:j + stride * (cols - 1) + 1:stride]
            for i in range(kernel) for j in range(kernel)]
    out = ops.stack(taps, axis=3)                       # [B, h', w', k * k, C]
    return ops.reshape(out, (ops.shape(x)[0], rows * cols, kernel * kernel * x.shape[-1]))


@keras.saving.register_keras_serializable("tfposegen_paint")
class AttentionTransfer(keras.layers.Layer):
    """PEN-Net's attention transfer as TSN runs it, ``AtnConv`` (TSN/model/pennet.py in
    gxl-groups/PAINT; ``rate`` 2, ``stride`` 1, ``softmax_scale`` 10, ``use_mask`` on).

    Call: ``atn(x1, x2, mask, mask_all)`` with ``x1`` [B, 2h, 2w, C] the finer encoder
    feature, ``x2`` [B, h, w, C2] the coarser, already attended one, ``mask`` [B, 2h, 2w, 1]
    the finer hole mask (1 where the partial convolution saw no swatch pixel) and
    ``mask_all`` [B, S, S, 1] the target garment region (0/1). Returns [B, 2h, 2w, C]
    (non-negative after the fuse convolutions; ``fuse=False``: the pasted features as is);
    ``return_weights=True`` also returns the attention [B, h * w (query), h * w (source)].

    Source patch l (row-major over the h x w grid) is the K x K window (K = size * rate,
    zero padding (K - 1) // 2) of ``x1`` at stride 2 and the ``ksize`` window of ``x2`` at
    stride 1; it is usable when its K x K window of ``mask`` (stride 2) has mean exactly 0.
    Query q scores source l by the dot product of q's zero-padded ``ksize`` window of ``x2``
    with l's window L2-normalised (norm floored at 1e-4; the query is not normalised).
    Scores of unusable sources and of queries outside ``mask_all`` (bilinearly resized with
    align_corners to h x w) are set to 0 (not -inf), then ``softmax(10 s)`` over the
    sources, the same two masks again, ``max(., 1e-8)``. Each query pastes the weighted sum
    of the raw x1 windows at (2 i - p, 2 j - p), overlaps add up and the sum is divided by
    K. ``fuse``: cat over r = 1, 2, 4, 8 of ReLU(conv3x3 dilation r (C -> C / 4)).

    ``convs`` = the fuse convolutions (torch ``conv00`` .. ``conv03``, Sequential index 0).

    Args:
        channels: C (of x1; the fuse convolutions' input).
        ksize: matching window (1 at the deepest level, else 3).
        size: K / rate (1, 2 or 3).
        fuse: the dilated fuse convolutions (off at the deepest level).
    """

    RATE, SOFTMAX_SCALE, RATES = 2, 10.0, (1, 2, 4, 8)

    def __init__(self, channels, ksize=3, size=2, fuse=True, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.ksize, self.size = int(channels), int(ksize), int(size)
        self.fuse = bool(fuse)
        groups = len(self.RATES)
        if self.fuse and (self.channels < groups or self.channels % groups):
            raise ValueError(f"AttentionTransfer: fuse needs channels divisible by {groups}, "
                             f"got {channels}")
        self.convs = ([_conv(self.channels // groups, 3, self.channels, dilation=r)
                       for r in self.RATES] if self.fuse else [])
        self.built = True

    def call(self, x1, x2, mask, mask_all, return_weights=False):
        kernel = self.size * self.RATE
        pad = (kernel - 1) // 2
        batch, h, w = ops.shape(x2)[0], ops.shape(x2)[1], ops.shape(x2)[2]
        raw = _patches(x1, kernel, self.RATE)                 # [B, L, K * K * C]
        query = _patches(x2, self.ksize, 1)                   # [B, L, k * k * C2]
        norm = ops.sqrt(ops.sum(ops.square(query), axis=-1, keepdims=True))
        source = query / ops.maximum(norm, 1e-4)
        scores = ops.matmul(query, ops.transpose(source, (0, 2, 1)))   # [B, query, source]
        mask = resize_bilinear_align_corners(mask, ops.shape(x1)[1:3])
        hole = ops.average_pool(_pad(mask, pad), kernel, 2, padding="valid")
        usable = ops.reshape(ops.cast(ops.equal(hole, 0.0), scores.dtype), (batch, 1, -1))
        region = ops.reshape(resize_bilinear_align_corners(mask_all, (h, w)), (batch, -1, 1))
        scores = scores * usable * region
        weights = ops.softmax(scores * self.SOFTMAX_SCALE, axis=-1)
        weights = ops.maximum(weights * usable * region, SCORE_FLOOR)
        y = self._paste(ops.matmul(weights, raw), x1.shape[-1], kernel, pad, batch, h, w)
        y = y / float(kernel)
        if self.fuse:
            y = ops.concatenate([ops.relu(conv(_pad(y, r))) for conv, r in
                                 zip(self.convs, self.RATES)], axis=-1)
        return (y, weights) if return_weights else y

    def _paste(self, cols, c, kernel, pad, batch, h, w):
        """``conv_transpose2d(weights, raw, stride 2, padding pad)`` given the per-query
        weighted windows ``cols`` [B, h w, K K C]: each window added at (2 i - pad, 2 j - pad)
        (a fixed one-hot transposed convolution with the channels moved to the batch)."""
        cols = ops.reshape(cols, (batch, h, w, kernel * kernel, c))
        cols = ops.reshape(ops.transpose(cols, (0, 4, 1, 2, 3)),
                           (batch * c, h, w, kernel * kernel))
        eye = ops.reshape(ops.eye(kernel * kernel, dtype=cols.dtype),
                          (kernel, kernel, 1, kernel * kernel))
        out = ops.conv_transpose(cols, eye, strides=self.RATE, padding="valid")
        out = out[:, pad:pad + self.RATE * h, pad:pad + self.RATE * w, 0]
        return ops.transpose(ops.reshape(out, (batch, c, self.RATE * h, self.RATE * w)),
                             (0, 2, 3, 1))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "ksize": self.ksize,
                "size": self.size, "fuse": self.fuse}


@keras.saving.register_keras_serializable("tfposegen_paint")
class SPADE(keras.layers.Layer):
    """TSN's ``SPADE`` (TSN/model/pennet.py in gxl-groups/PAINT): ``x' = IN(conv1x1(x))``
    (the 1 x 1 ``x_shared`` convolution BEFORE the parameter-free instance norm), ``a =
    ReLU(conv3x3(seg))`` with ``seg`` the parsing resized to x's H x W by torch nearest
    (:func:`resize_nearest_torch`), ``gamma``, ``beta`` = conv3x3(a); returns
    ``x' (1 + gamma) + beta``. ``x`` [B, H, W, C] any range, ``seg`` [B, S, S, label_nc]
    (one-hot parsing) -> [B, H, W, C].

    Layers ``x_shared``, ``mlp_shared``, ``mlp_gamma``, ``mlp_beta`` (torch ``<name>.0``).
    """

    def __init__(self, channels, label_nc=20, hidden=128, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.label_nc, self.hidden = int(channels), int(label_nc), int(hidden)
        self.x_shared = _conv(self.channels, 1, self.channels)
        self.mlp_shared = _conv(self.hidden, 3, self.label_nc)
        self.mlp_gamma = _conv(self.channels, 3, self.hidden)
        self.mlp_beta = _conv(self.channels, 3, self.hidden)
        self.norm = InstanceNorm()
        self.built = True

    def call(self, x, seg):
        x = self.norm(self.x_shared(x))
        seg = resize_nearest_torch(ops.cast(seg, x.dtype), ops.shape(x)[1:3])
        a = _pad(ops.relu(self.mlp_shared(_pad(seg))))
        return x * (1.0 + self.mlp_gamma(a)) + self.mlp_beta(a)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "label_nc": self.label_nc,
                "hidden": self.hidden}


@keras.saving.register_keras_serializable("tfposegen_paint")
class SPADEBlock(keras.layers.Layer):
    """TSN's ``SPADEResnetBlock(C, 20)`` (TSN/model/pennet.py in gxl-groups/PAINT) as it
    runs: ``LReLU(conv_0(LReLU(norm_0(x, seg))))``, LeakyReLU 0.2, no second convolution
    and no shortcut (both commented out in the original). [B, H, W, C] -> [B, H, W, C].

    ``conv_1``, ``conv_s`` (1 x 1, no bias), ``norm_1`` and ``norm_s`` exist (the inverted
    ``learned_shortcut`` test is always true) but are never called.
    """

    def __init__(self, channels, label_nc=20, hidden=128, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.label_nc, self.hidden = int(channels), int(label_nc), int(hidden)
        c = self.channels
        self.conv_0, self.conv_1 = _conv(c, 3, c), _conv(c, 3, c)
        self.conv_s = _conv(c, 1, c, use_bias=False)
        self.norm_0, self.norm_1, self.norm_s = (SPADE(c, self.label_nc, self.hidden)
                                                 for _ in range(3))
        self.built = True

    def call(self, x, seg):
        x = ops.leaky_relu(self.norm_0(x, seg), SLOPE)
        return ops.leaky_relu(self.conv_0(_pad(x)), SLOPE)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "label_nc": self.label_nc,
                "hidden": self.hidden}


@keras.saving.register_keras_serializable("tfposegen_paint")
class ResBlock(keras.layers.Layer):
    """TSN's ``ResBlocks(1, dim, 'none', 'relu', 'zero')`` (TSN/model/pennet.py in
    gxl-groups/PAINT): ``x + conv(ReLU(conv(x)))``, 3 x 3 convolutions with zero padding 1
    and biases, no norm. [B, H, W, dim] -> same. ``convs`` = [``model.0``, ``model.1``,
    ``model1.0``]; the third (``model1``) is built and never called, as in the original."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.convs = [_conv(self.channels, 3, self.channels) for _ in range(3)]
        self.built = True

    def call(self, x):
        return x + self.convs[1](_pad(ops.relu(self.convs[0](_pad(x)))))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}


@keras.saving.register_keras_serializable("tfposegen_paint")
class TSNGenerator(keras.Model):
    """TSN's generator, ``InpaintGenerator`` of TSN/model/pennet.py in gxl-groups/PAINT.

    Call: ``G(imgt_masked, imgb_masked, mask_t, mask_b, mask_to, mask_bo, parsing)`` (the
    original's seven arguments, NHWC; TSN's scripts pass five more, unused):
    ``imgt_masked`` / ``imgb_masked`` float [B, H, W, 3] in [-1, 1], the image times the
    garment region times the swatch square (0 elsewhere); ``mask_t`` / ``mask_b`` [B, H, W,
    1] the upper / lower garment regions (0/1); ``mask_to`` / ``mask_bo`` [B, H, W, 1] the
    swatch squares (0/1); ``parsing`` [B, H, W, label_nc] one-hot. H = W = 256 in PAINT
    (any multiple of 64 runs). Returns the image [B, H, W, 3] in (-1, 1) (tanh); with
    ``return_features=True`` also a dict of intermediate maps: ``{branch}_enc{k}`` (k = 1 ..
    6, encoder level k after instance norm and ReLU, H / 2^k), ``{branch}_hole{k}`` (its
    hole mask [B, H / 2^k, W / 2^k, 1], 1 = no swatch pixel seen), ``{branch}_att{k}`` (k =
    1 .. 5, after attention transfer) for branch ``top`` / ``bottom``, and ``up{k}`` (k = 1
    .. 5, the decoder after ``spade{k}``).

    Encoder level k (``dw_conv0k`` top, ``bdw_conv0k`` bottom): :class:`PartialConv2D` k3
    s2 p1, multi-channel mask (the swatch square three times at level 1, then the previous
    level's updated mask), instance norm over the whole map, ReLU; hole mask = 1 - updated
    mask. Attention top-down: ``att5 = at_conv05(enc5, enc6)``, ``att_k = at_conv0k(enc_k,
    att_{k+1})``, with that branch's garment region. Sum of the branches per level, then
    ``up5 = spade5(ReLU(ConvT(enc6)))``, ``up_k = spade_k(up_conv0k(cat(up_{k+1},
    att_{k+1})))`` (ResBlock, ConvT k4 s2 p1, ReLU), output ``tanh(ConvT(ResBlock(cat(up1,
    att1))))``.

    Sublayers: ``encoders[b][k - 1]``, ``attentions[b][k - 1]`` (b = 0 top, 1 bottom),
    ``spades[k - 1]`` (k = 1 .. 6; ``spade6`` unused), ``up_blocks[k]`` (k = 0 decoder,
    1 .. 4 ``up_conv0k``), ``up_convs[k]`` (k = 0 .. 5, the transposed convolutions of
    ``decoder``, ``up_conv01`` .. ``up_conv05``).

    Args:
        cnum: base width (32).
        label_nc: parsing classes (20).
        spade_hidden: SPADE's hidden width (128, hard-coded in the original).
    """

    def __init__(self, cnum=32, label_nc=20, spade_hidden=128, **kwargs):
        super().__init__(**kwargs)
        if cnum % 4:
            raise ValueError(f"TSNGenerator: cnum must be a multiple of 4 (the attention "
                             f"fuse splits cnum channels in 4), got {cnum}")
        self.config = dict(cnum=cnum, label_nc=label_nc, spade_hidden=spade_hidden)
        widths = [3] + [cnum * 2 ** k for k in range(5)] + [16 * cnum]   # encoder levels
        self.encoders = [[_built(PartialConv2D(widths[k + 1], 3, 2, 1, multi_channel=True,
                                               return_mask=True), widths[k])
                          for k in range(6)] for _ in range(2)]
        self.attentions = [[AttentionTransfer(widths[k], ksize=3 if k < 5 else 1,
                                              size=(3, 3, 3, 2, 1)[k - 1], fuse=k < 5)
                            for k in range(1, 6)] for _ in range(2)]
        self.spades = [SPADEBlock(widths[k], label_nc, spade_hidden) for k in range(1, 7)]
        self.up_blocks = [ResBlock(cnum * 2 ** (k + 1)) for k in range(5)]
        self.up_convs = ([_conv_t(3, 2 * cnum)]
                         + [_conv_t(cnum * 2 ** (k - 1), cnum * 2 ** (k + 1))
                            for k in range(1, 5)] + [_conv_t(16 * cnum, 16 * cnum)])
        self.norm = InstanceNorm()
        self.built = True

    def _branch(self, b, img, swatch, region, feats, name):
        h, m = img, ops.cast(swatch, img.dtype)
        enc, holes = [], []
        for k, conv in enumerate(self.encoders[b], start=1):
            h, m = conv(h, m)
            m = m[..., :1]                      # every channel of the updated mask is equal
            h = ops.relu(self.norm(h))
            enc.append(h)
            holes.append(1.0 - m)
            feats[f"{name}_enc{k}"], feats[f"{name}_hole{k}"] = h, holes[-1]
        att = [None] * 5
        x = enc[5]
        for k in range(4, -1, -1):
            x = self.attentions[b][k](enc[k], x, holes[k], region)
            att[k] = x
            feats[f"{name}_att{k + 1}"] = x
        return enc[5], att

    def call(self, imgt_masked, imgb_masked, mask_t, mask_b, mask_to, mask_bo, parsing,
             return_features=False):
        feats = {}
        dtype = self.compute_dtype
        top6, top = self._branch(0, imgt_masked, mask_to, ops.cast(mask_t, dtype), feats, "top")
        bot6, bot = self._branch(1, imgb_masked, mask_bo, ops.cast(mask_b, dtype), feats,
                                 "bottom")
        skips = [t + u for t, u in zip(top, bot)]
        up = ops.relu(self.up_convs[5](top6 + bot6)[:, 1:-1, 1:-1, :])
        for k in range(4, -1, -1):
            up = self.spades[k](up, parsing)
            feats[f"up{k + 1}"] = up
            h = self.up_blocks[k](ops.concatenate([up, skips[k]], axis=-1))
            h = self.up_convs[k](h)[:, 1:-1, 1:-1, :]
            up = ops.tanh(h) if k == 0 else ops.relu(h)
        up = to_float32(up)  # float32 under mixed precision
        return (up, feats) if return_features else up

    def get_config(self):
        return {**super().get_config(), **self.config}


@keras.saving.register_keras_serializable("tfposegen_paint")
class TSNDiscriminator(keras.Model):
    """TSN's discriminator, ``NLayerDiscriminator(3, 64, 3, nn.BatchNorm2d)`` of
    TSN/core/networks.py in gxl-groups/PAINT (``define_D(3, 64, 'basic', norm='batch')``,
    no sigmoid).

    Call: ``D(image, training=False)`` with ``image`` float [B, H, W, input_nc] in [-1, 1].
    Returns unbounded LSGAN scores [B, H', W', 1]: conv k4 s2 p2 (-> ndf) + LReLU; n = 1 ..
    n_layers - 1: conv k4 s2 p2 (-> min(ndf 2^n, 512)) + BN + LReLU; conv k4 s1 p2 (->
    min(ndf 2^n_layers, 512)) + BN + LReLU; conv k4 s1 p2 (-> 1). Padding 2 with kernel 4
    makes the maps 256 -> 129 -> 65 -> 33 -> 34 -> 35. Every conv has a bias, LeakyReLU 0.2.
    ``training`` selects batch statistics (and updates the moving ones) as torch's train().

    ``convs`` (torch ``model.{0, 2, 5, 8, 11}``) and ``norms`` (``model.{3, 6, 9}``).

    Args:
        input_nc: 3.
        ndf: 64.
        n_layers: 3.
    """

    def __init__(self, input_nc=3, ndf=64, n_layers=3, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(input_nc=input_nc, ndf=ndf, n_layers=n_layers)
        widths = [ndf]
        for _ in range(n_layers):
            widths.append(min(widths[-1] * 2, 512))
        widths.append(1)
        ins = [input_nc] + widths[:-1]
        self.convs = [_built(keras.layers.Conv2D(widths[i], 4, strides=2 if i < n_layers else 1,
                                                 padding="valid"), ins[i])
                      for i in range(n_layers + 2)]
        self.norms = [_built(TorchBatchNorm(), widths[i]) for i in range(1, n_layers + 1)]
        self.built = True

    def call(self, image, training=False):
        x = image
        for i, conv in enumerate(self.convs):
            x = conv(_pad(x, 2))
            if i == len(self.convs) - 1:
                return to_float32(x)  # float32 under mixed precision
            if i > 0:
                x = self.norms[i - 1](x, training=training)
            x = ops.leaky_relu(x, SLOPE)

    def get_config(self):
        return {**super().get_config(), **self.config}
