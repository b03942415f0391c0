"""PAINT's Appearance Flow Network (AFN): the generator ``InpaintGenerator`` of
``AFN/model/pennet.py`` and the pose discriminator netD2 of ``AFN/core/trainer.py``
(``define_D(24, 64, 'basic', norm='instance')``, ``NLayerDiscriminator`` of
``AFN/core/networks.py``) in gxl-groups/PAINT, Keras 3, NHWC.

AFN renders a person in a target view from a source view. :class:`AFNGenerator` (``FlowGen``
with ``flow_param`` = dim 64, 2 residual blocks, ReLU, reflect padding, no normalisation in
the flow column, instance norm in the conv column, no spectral norm):

- :class:`FlowColumn`: cat(target parsing, source parsing) (9 + 9 one-hot channels) -> a
  4-level encoder (k4 s2 downsampling) and a 3-stage decoder (residual blocks, k6 s2
  transposed convolutions, skip concatenations) -> three linear heads giving flows at 1/8,
  1/4 and 1/2 of the input size, in pixels of their own map (no upsampling between levels).
- :class:`ConvColumn`: the source image -> a zero-padded conv encoder with instance norm;
  its features at 1/8, 1/4 and 1/2 size are warped by the three flows
  (:func:`tfposegen.ops.warp.bilinear_warp`, torch 1.1 ``grid_sample`` semantics) and
  concatenated into a decoder (residual blocks, nearest x2 upsampling, k5 convs) that ends in
  a tanh image.

Layer conventions of ``Conv2dBlock`` / ``TransConv2dBlock`` / ``ResBlock`` of pennet.py:
:class:`ConvBlock` = reflection (or zero) padding, a ``valid`` conv, optional instance norm
(``InstanceNorm2d``, eps 1e-5, no parameters), activation; :class:`TransConvBlock` = a
transposed conv cropped by its torch ``padding`` per side. Neither network changes between
train and eval mode (no dropout, no batch norm). Flows are NHWC [B, h, w, 2] with channel 0
the horizontal (x, column) and channel 1 the vertical (y, row) displacement: torch's channel
order, moved last.
"""

import keras
from keras import layers, ops

from tfposegen.layers.normalization import InstanceNorm
from tfposegen.ops.warp import bilinear_warp
from tfposegen.train.precision import to_float32

SLOPE = 0.2   # nn.LeakyReLU(0.2) of NLayerDiscriminator
_ACTIVATIONS = {"relu": ops.relu, "tanh": ops.tanh, "none": None}


def _pad(x, amount, mode="constant"):
    """Pad H and W of NHWC ``x`` by ``amount`` on every side (``mode`` 'constant' = zeros or
    'reflect' = ``nn.ReflectionPad2d``, the edge not repeated)."""
    if amount == 0:
        return x
    return ops.pad(x, [[0, 0], [amount, amount], [amount, amount], [0, 0]], mode=mode)


def _built(layer, channels):
    """Build ``layer`` for NHWC inputs with ``channels`` channels (the weights do not depend
    on H and W), so full-size networks exist without running them."""
    layer.build((None, None, None, channels))
    return layer


class ConvBlock(keras.layers.Layer):
    """``Conv2dBlock`` of AFN/model/pennet.py in gxl-groups/PAINT: pad (``pad_type``
    'reflect' or 'zero') by ``padding`` -> Conv(kernel_size, strides, valid, bias unless
    ``use_bias`` is False) -> instance norm (``norm`` 'in') or none -> activation ('relu',
    'tanh' or 'none'). [B, H, W, in_channels] any range -> [B, H', W', filters] with H' =
    (H + 2 padding - kernel_size) // strides + 1.

    ``conv`` is the Keras ``Conv2D`` (torch ``<block>.conv``).
    """

    def __init__(self, in_channels, filters, kernel_size, strides=1, padding=0, norm="none",
                 activation="relu", pad_type="reflect", use_bias=True, **kwargs):
        super().__init__(**kwargs)
        if norm not in ("none", "in"):
            raise ValueError(f"ConvBlock: norm must be 'none' or 'in', got {norm!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"ConvBlock: activation must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        if pad_type not in ("reflect", "zero"):
            raise ValueError(f"ConvBlock: pad_type must be 'reflect' or 'zero', got "
                             f"{pad_type!r}")
        self.cfg = dict(in_channels=int(in_channels), filters=int(filters),
                        kernel_size=int(kernel_size), strides=int(strides),
                        padding=int(padding), norm=norm, activation=activation,
                        pad_type=pad_type, use_bias=bool(use_bias))
        self.use_bias = bool(use_bias)
        self.conv = _built(layers.Conv2D(filters, kernel_size, strides=strides,
                                         padding="valid", use_bias=use_bias), in_channels)
        self.norm = InstanceNorm() if norm == "in" else None
        self.built = True

    def call(self, x):
        mode = "reflect" if self.cfg["pad_type"] == "reflect" else "constant"
        x = self.conv(_pad(x, self.cfg["padding"], mode))
        if self.norm is not None:
            x = self.norm(x)
        act = _ACTIVATIONS[self.cfg["activation"]]
        return x if act is None else act(x)

    def get_config(self):
        return {**super().get_config(), **self.cfg}


class TransConvBlock(keras.layers.Layer):
    """``TransConv2dBlock(in, out, kernel_size, stride, padding, norm='none', activation=
    'relu')`` of AFN/model/pennet.py in gxl-groups/PAINT: ``ConvTranspose2d`` (bias) ->
    ReLU. [B, H, W, in] -> [B, (H - 1) s - 2 p + k, ..., out] (2H for AFN's k6 s2 p2): a
    ``valid`` Keras ``Conv2DTranspose`` cropped by ``padding`` on every side.

    ``conv`` is the Keras ``Conv2DTranspose`` (torch ``<block>.transConv``).
    """

    def __init__(self, in_channels, filters, kernel_size=6, strides=2, padding=2,
                 activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.cfg = dict(in_channels=int(in_channels), filters=int(filters),
                        kernel_size=int(kernel_size), strides=int(strides),
                        padding=int(padding), activation=activation)
        if activation not in _ACTIVATIONS:
            raise ValueError(f"TransConvBlock: activation must be one of "
                             f"{sorted(_ACTIVATIONS)}, got {activation!r}")
        self.conv = _built(layers.Conv2DTranspose(filters, kernel_size, strides=strides,
                                                  padding="valid"), in_channels)
        self.built = True

    def call(self, x):
        p = self.cfg["padding"]
        x = self.conv(x)
        if p:
            x = x[:, p:-p, p:-p, :]
        act = _ACTIVATIONS[self.cfg["activation"]]
        return x if act is None else act(x)

    def get_config(self):
        return {**super().get_config(), **self.cfg}


class ResBlock(keras.layers.Layer):
    """``ResBlock`` of AFN/model/pennet.py in gxl-groups/PAINT: ``x + B(A(x))`` with A =
    :class:`ConvBlock` (3 x 3, reflect pad 1, ``norm``, ReLU) and B the same without the
    activation. [B, H, W, C] -> [B, H, W, C], any range.

    ``blocks`` = [A, B] (torch ``model.0``, ``model.1``).
    """

    def __init__(self, channels, norm="none", **kwargs):
        super().__init__(**kwargs)
        self.channels, self.norm_type = int(channels), norm
        self.blocks = [ConvBlock(channels, channels, 3, 1, 1, norm, "relu"),
                       ConvBlock(channels, channels, 3, 1, 1, norm, "none")]
        self.built = True

    def call(self, x):
        return x + self.blocks[1](self.blocks[0](x))

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "norm": self.norm_type}


def _res_blocks(n, channels, norm):
    """``ResBlocks(n, channels, norm, 'relu', 'reflect')``: ``n`` :class:`ResBlock` in turn."""
    return [ResBlock(channels, norm) for _ in range(n)]


def _run(blocks, x):
    for block in blocks:
        x = block(x)
    return x


def _check_size(where, x, channels=None):
    h, w = x.shape[1], x.shape[2]
    for side in (h, w):
        if side is not None and (side % 16 or side < 48):
            raise ValueError(f"{where}: height and width must be multiples of 16 and >= 48 "
                             f"(four stride-2 levels; reflection padding by 2 at 1/16 size), "
                             f"got input shape {tuple(x.shape)}")
    if channels is not None and x.shape[-1] is not None and x.shape[-1] != channels:
        raise ValueError(f"{where}: expected {channels} channels, got shape {tuple(x.shape)}")


class FlowColumn(keras.layers.Layer):
    """``FlowColumn(9, dim, n_res, 'relu', norm='none', pad_type='reflect')`` of
    AFN/model/pennet.py in gxl-groups/PAINT: the flow estimator.

    Input: cat(target parsing, source parsing) float [B, H, W, 2 parsing_nc] (one-hot, 0 /
    1), H and W multiples of 16. Output: three flows float [B, H/8, W/8, 2], [B, H/4, W/4,
    2], [B, H/2, W/2, 2], unbounded, (dx, dy) in pixels of their own map (channel 0 =
    column displacement).

    With d = ``dim``; every :class:`ConvBlock` has reflect padding, no norm, ReLU (except the
    heads):

    - ``down[0]``: CB(2 parsing_nc -> d/2, k7 p3), CB(-> d, k4 s2 p1), CB(-> d, k5 p2);
      ``down[1..3]``: CB(k4 s2 p1) doubling the width, CB(k5 p2) (widths 2d, 4d, 8d);
    - ``up_convs[i]`` (stages 1, 2: CB k5 halving the concatenated width; None at stage 0),
      ``up_res[i]`` (``n_res`` :class:`ResBlock`), ``up_trans[i]`` (:class:`TransConvBlock`
      k6 s2 p2 halving the width); stage i's output is concatenated with ``down[2 - i]``'s;
    - ``heads[i]`` (``location{i}``): three CBs without norm AND without activation (a linear
      map), k5, k5, k3, the last without bias, widths 8d -> 2d -> d -> 2 (i = 0, on stage 0's
      concatenation), 4d -> 2d -> d -> 2, 2d -> d -> d/2 -> 2.
    """

    def __init__(self, dim=64, n_res=2, parsing_nc=9, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.n_res, self.parsing_nc = int(dim), int(n_res), int(parsing_nc)
        d = self.dim
        self.down = [[ConvBlock(2 * parsing_nc, d // 2, 7, 1, 3), ConvBlock(d // 2, d, 4, 2, 1),
                      ConvBlock(d, d, 5, 1, 2)]]
        for width in (2 * d, 4 * d, 8 * d):
            self.down.append([ConvBlock(width // 2, width, 4, 2, 1),
                              ConvBlock(width, width, 5, 1, 2)])
        self.up_convs = [None, ConvBlock(8 * d, 4 * d, 5, 1, 2), ConvBlock(4 * d, 2 * d, 5, 1, 2)]
        self.up_res = [_res_blocks(n_res, w, "none") for w in (8 * d, 4 * d, 2 * d)]
        self.up_trans = [TransConvBlock(w, w // 2) for w in (8 * d, 4 * d, 2 * d)]
        self.heads = []
        for w_in, w_mid, w_out in ((8 * d, 2 * d, d), (4 * d, 2 * d, d), (2 * d, d, d // 2)):
            self.heads.append([ConvBlock(w_in, w_mid, 5, 1, 2, activation="none"),
                               ConvBlock(w_mid, w_out, 5, 1, 2, activation="none"),
                               ConvBlock(w_out, 2, 3, 1, 1, activation="none",
                                         use_bias=False)])
        self.built = True

    def call(self, parsings):
        feats, x = [], parsings
        for level in self.down:
            x = _run(level, x)
            feats.append(x)              # f_x1 .. f_x4
        flows = []
        for i in range(3):
            if self.up_convs[i] is not None:
                x = self.up_convs[i](x)
            x = self.up_trans[i](_run(self.up_res[i], x))
            x = ops.concatenate([x, feats[2 - i]], axis=-1)     # f_u1, f_u2, f_u3
            flows.append(_run(self.heads[i], x))
        return flows

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "n_res": self.n_res,
                "parsing_nc": self.parsing_nc}


class ConvColumn(keras.layers.Layer):
    """``ConvColumn(3, dim, n_res, 'relu', norm='in', pad_type='reflect')`` of
    AFN/model/pennet.py in gxl-groups/PAINT: encoder, flow warping, decoder.

    Call ``column(image, flows)``: ``image`` float [B, H, W, image_nc] in [-1, 1] (the source
    view), ``flows`` the three outputs of :class:`FlowColumn`. Returns float [B, H, W, 3] in
    (-1, 1) (tanh).

    With d = ``dim``:

    - ``encoder``: 8 plain convs with ZERO padding, each followed by instance norm and ReLU
      (torch ``dw_conv01``, ``dw_conv011``, ``dw_conv02``, ``dw_conv022``, ``dw_conv03``,
      ``dw_conv033``, ``dw_conv04``, ``dw_conv044``): k5 p2 (-> d/2), k4 s2 p1 (-> d), k5, k4
      s2 (-> 2d), k5, k4 s2 (-> 4d), k5, k4 s2 (-> 8d); x1, x2, x3, x4 = the outputs of the
      stride-2 convs (H/2 .. H/16);
    - warps: w32 = warp(x3, flow 0), w64 = warp(x2, flow 1), w128 = warp(x1, flow 2);
    - ``up_res[i]`` (``n_res`` :class:`ResBlock` with instance norm), nearest x2
      upsampling, ``up_convs[i]`` (CB k5 p2, reflect, IN, ReLU): widths 8d -> 4d, 8d -> 2d,
      4d -> d, 2d -> d; stage i < 3's output is concatenated with w32, w64, w128 in turn;
      ``to_image``: CB(d -> 3, k3 p1, reflect, no norm, tanh) (``Get_image``).
    - ``at_conv01`` / ``at_conv02``: the fuse convs of the two ``AtnConv`` modules (4 x
      Conv(4d -> d) and 4 x Conv(2d -> d/2), 3 x 3, dilations 1, 2, 4, 8). The original
      builds them and never calls them: they hold parameters (loaded from checkpoints) and
      take no part in the output.
    """

    ENCODER_NAMES = ("dw_conv01", "dw_conv011", "dw_conv02", "dw_conv022", "dw_conv03",
                     "dw_conv033", "dw_conv04", "dw_conv044")

    def __init__(self, dim=64, n_res=2, image_nc=3, align_corners=True, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.n_res, self.image_nc = int(dim), int(n_res), int(image_nc)
        self.align_corners = bool(align_corners)
        d = self.dim
        spec = [(image_nc, d // 2, 5, 1, 2), (d // 2, d, 4, 2, 1), (d, d, 5, 1, 2),
                (d, 2 * d, 4, 2, 1), (2 * d, 2 * d, 5, 1, 2), (2 * d, 4 * d, 4, 2, 1),
                (4 * d, 4 * d, 5, 1, 2), (4 * d, 8 * d, 4, 2, 1)]
        self.encoder = [ConvBlock(i, o, k, s, p, "in", "relu", "zero") for i, o, k, s, p in spec]
        res_widths, outs = (8 * d, 8 * d, 4 * d, 2 * d), (4 * d, 2 * d, d, d)
        self.up_res = [_res_blocks(n_res, w, "in") for w in res_widths]
        self.up_convs = [ConvBlock(w, o, 5, 1, 2, "in", "relu") for w, o in zip(res_widths, outs)]
        self.to_image = ConvBlock(d, 3, 3, 1, 1, "none", "tanh")
        self.at_conv01 = [_built(layers.Conv2D(4 * d // 4, 3, dilation_rate=r, padding="same"),
                                 4 * d) for r in (1, 2, 4, 8)]
        self.at_conv02 = [_built(layers.Conv2D(2 * d // 4, 3, dilation_rate=r, padding="same"),
                                 2 * d) for r in (1, 2, 4, 8)]
        self.built = True

    def call(self, image, flows):
        x, skips = image, []
        for i, block in enumerate(self.encoder):
            x = block(x)
            if i % 2:
                skips.append(x)          # x1 (H/2), x2, x3, x4 (H/16)
        warped = [bilinear_warp(skips[2 - i], flows[i], self.align_corners) for i in range(3)]
        for i in range(4):
            x = _run(self.up_res[i], x)
            x = ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)     # nn.Upsample(x2, nearest)
            x = self.up_convs[i](x)
            if i < 3:
                x = ops.concatenate([x, warped[i]], axis=-1)
        return self.to_image(x)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "n_res": self.n_res,
                "image_nc": self.image_nc, "align_corners": self.align_corners}


@keras.saving.register_keras_serializable("tfposegen_paint")
class AFNGenerator(keras.Model):
    """AFN's generator, ``InpaintGenerator`` of AFN/model/pennet.py in gxl-groups/PAINT
    (``f_gen = FlowGen(input_dim=3, dim=64, n_res=2, activ='relu', norm_flow='none',
    norm_conv='in', pad_type='reflect', use_sn=False)``).

    Call: ``G(image, target_parsing, source_parsing)`` as the original's ``forward(inputs,
    parsing, parsingp2)``, which AFN/test.py and AFN/core/trainer.py call as ``G(img2,
    parsingp1, parsing)``: ``image`` float [B, H, W, 3] in [-1, 1], the SOURCE view;
    ``target_parsing`` float [B, H, W, 9], the one-hot parsing of the view to render;
    ``source_parsing`` float [B, H, W, 9], the source view's (the flow column sees
    cat(target, source), in this order). H and W: multiples of 16, at least 48 (256 x 256 in
    PAINT).

    Returns ``(image, flows)``: the rendered target view float [B, H, W, 3] in (-1, 1), and
    the list of three flows float [B, H/8, W/8, 2], [B, H/4, W/4, 2], [B, H/2, W/2, 2] (32,
    64, 128 px for 256 input): (dx, dy) in pixels of their own map, channel 0 horizontal.

    ``flow_column`` (:class:`FlowColumn`) and ``conv_column`` (:class:`ConvColumn`) are built
    at construction without running.

    Args:
        dim: base width (64).
        n_res: residual blocks per decoder stage (2).
        parsing_nc: parsing classes per view (AFN's 9 merged classes).
        image_nc: image channels (3).
        align_corners: the warp's ``grid_sample`` convention. True (default) is the torch
            1.1 behaviour PAINT was trained with; False reproduces the original code run
            under torch >= 1.3 (a different image).
    """

    def __init__(self, dim=64, n_res=2, parsing_nc=9, image_nc=3, align_corners=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.config = dict(dim=dim, n_res=n_res, parsing_nc=parsing_nc, image_nc=image_nc,
                           align_corners=align_corners)
        self.flow_column = FlowColumn(dim, n_res, parsing_nc)
        self.conv_column = ConvColumn(dim, n_res, image_nc, align_corners)
        self.built = True

    def call(self, image, target_parsing, source_parsing, training=False):
        nc = self.config["parsing_nc"]
        _check_size("AFNGenerator image", image, self.config["image_nc"])
        _check_size("AFNGenerator target_parsing", target_parsing, nc)
        _check_size("AFNGenerator source_parsing", source_parsing, nc)
        flows = self.flow_column(ops.concatenate(
            [target_parsing, ops.cast(source_parsing, target_parsing.dtype)], axis=-1))
        return to_float32((self.conv_column(image, flows), flows))  # float32 under mixed precision

    def get_config(self):
        return {**super().get_config(), **self.config}


@keras.saving.register_keras_serializable("tfposegen_paint")
class AFNDiscriminator(keras.Model):
    """AFN's pose discriminator netD2: ``NLayerDiscriminator(input_nc, ndf, n_layers,
    InstanceNorm2d)`` of AFN/core/networks.py in gxl-groups/PAINT as ``define_D(24, 64,
    'basic', norm='instance')`` builds it in AFN/core/trainer.py (the image discriminator
    netD, input 6, is built there too but never used).

    Call: ``D(x)`` with ``x`` float [B, H, W, input_nc]: for netD2 cat(parsing p1, image p1,
    parsing p2, image p2) (9 + 3 + 9 + 3 channels; one-hot parsings, images in [-1, 1]).
    Returns unbounded LSGAN scores float [B, h, w, 1] (35 x 35 for 256 x 256 input, 19 x 19
    for 128).

    Layers (``convs``, torch ``model.0``, ``model.2``, ``model.5``, ...): conv k4 s2 p2 (->
    ndf) + LeakyReLU 0.2; n_layers - 1 times conv k4 s2 p2 (width doubled, at most 512) + IN
    + LeakyReLU; conv k4 s1 p2 (doubled, at most 512) + IN + LeakyReLU; conv k4 s1 p2 (-> 1).
    Padding 2 with kernel 4 makes the maps grow by one pixel at stride 1 (128 -> 65 -> 33 ->
    17 -> 18 -> 19). AFN's GAN loss (``GANLoss`` of networks.py) then scores only the LAST
    sample of the batch, ``D(x)[-1]``.

    Args:
        input_nc: 24 (netD2) or 6 (the unused netD).
        ndf: 64.
        n_layers: 3 ('basic').
    """

    def __init__(self, input_nc=24, ndf=64, n_layers=3, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(input_nc=input_nc, ndf=ndf, n_layers=n_layers)
        widths, nf = [ndf], ndf
        for _ in range(n_layers):
            nf = min(nf * 2, 512)
            widths.append(nf)
        widths.append(1)
        ins = [input_nc] + widths[:-1]
        self.convs = [_built(layers.Conv2D(widths[j], 4, strides=2 if j < n_layers else 1,
                                           padding="valid"), ins[j])
                      for j in range(n_layers + 2)]
        self.norm = InstanceNorm()
        self.built = True

    def call(self, x, training=False):
        last = len(self.convs) - 1
        for j, conv in enumerate(self.convs):
            x = conv(_pad(x, 2))
            if j == last:
                return to_float32(x)  # float32 under mixed precision
            if j > 0:
                x = self.norm(x)
            x = ops.leaky_relu(x, SLOPE)

    def get_config(self):
        return {**super().get_config(), **self.config}
