"""ADGAN's generator ``ADGen`` (``models/model_adgen.py`` in menyifang/ADGAN), NHWC.

The generator renders the source person in a target pose:

1. ``enc_content`` (:class:`ContentEncoder`): the 18-channel target pose map -> pose code
   [B, H/4, W/4, 256] (7x7 conv, two 4x4 stride-2 convs, 8 residual blocks; instance norm,
   ReLU, reflect padding);
2. ``enc_style`` (:class:`VggStyleEncoder`): the source image masked by each of the 8 parsing
   classes -> a 64-d texture code per class (learned convs concatenated with frozen VGG19
   relu1_1..relu4_1, global average pooling, 1x1 conv) -> [B, 512], class-major;
3. ``fc`` (Linear + ReLU) and the fusion ``mlp`` (512 -> 256 -> 256 -> 8192) -> the scale and
   shift of the decoder's 16 AdaIN layers;
4. ``dec`` (:class:`Decoder`): 8 AdaIN residual blocks, two (nearest x2 upsampling, 5x5 conv,
   MUNIT LayerNorm, ReLU) stages and a 7x7 conv with tanh -> image [B, H, W, 3] in [-1, 1].

Torch layer names are kept as attribute structure (``enc_style``, ``enc_content``, ``dec``,
``fc``, ``mlp``) so that ``tfposegen.models.adgan.weights`` can map every state-dict key.
"""

import keras
from keras import ops

from tfposegen.layers.normalization import (
    AdaptiveInstanceNorm,
    InstanceNorm,
    LayerNormMUNIT,
    split_adain_params,
)
from tfposegen.losses.perceptual import VGG19Features
from tfposegen.parsing.labels import ADGAN_LABELS

# VGG19 activations concatenated into the texture encoder. The original records the outputs
# of features[0, 5, 10, 19] (named conv1_1 ... conv4_1), but the ReLU(inplace=True) after each
# overwrites them, so what it concatenates are these post-ReLU maps.
VGG_TAPS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
N_CLASSES = len(ADGAN_LABELS)  # parsing classes (semantic_merge3)
_NORMS = ("none", "in", "ln", "adain")
_ACTIVATIONS = ("none", "relu", "tanh")


def pad2d(x, padding, mode="reflect"):
    """Pad H and W of an NHWC tensor by ``padding`` on each side (``nn.ReflectionPad2d`` /
    ``nn.ZeroPad2d``); ``mode`` is ``"reflect"`` or ``"constant"`` (zeros)."""
    if padding == 0:
        return x
    p = int(padding)
    return ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode=mode)


class Conv2dBlock(keras.layers.Layer):
    """pad -> conv (bias) -> norm -> activation: ``Conv2dBlock`` of models/model_adgen.py in
    menyifang/ADGAN.

    Input [B, H, W, C_in] float; output [B, H', W', filters] with
    ``H' = floor((H + 2 * padding - kernel_size) / strides) + 1``.

    Args:
        filters, kernel_size, strides, padding: as the torch arguments (``padding`` is applied
            by an explicit padding step, the convolution itself is 'valid').
        norm: ``"none"``, ``"in"`` (:class:`InstanceNorm`, no affine), ``"ln"``
            (:class:`LayerNormMUNIT`) or ``"adain"`` (:class:`AdaptiveInstanceNorm`; call with
            ``gamma`` / ``beta`` [B, filters]).
        activation: ``"relu"``, ``"tanh"`` or ``"none"``.
        pad_type: ``"reflect"`` (all of ADGen) or ``"zero"``.
    """

    def __init__(self, filters, kernel_size, strides=1, padding=0, norm="none",
                 activation="relu", pad_type="reflect", **kwargs):
        super().__init__(**kwargs)
        if norm not in _NORMS or activation not in _ACTIVATIONS or pad_type not in (
                "reflect", "zero"):
            raise ValueError(f"networks.py Conv2dBlock: norm {norm!r} / activation "
                             f"{activation!r} / pad_type {pad_type!r} not in {_NORMS} / "
                             f"{_ACTIVATIONS} / ('reflect', 'zero')")
        self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
        self.padding, self.norm_type, self.activation = int(padding), norm, activation
        self.pad_type = pad_type
        self.conv = keras.layers.Conv2D(self.filters, self.kernel_size, strides=self.strides,
                                        padding="valid", name="conv")
        self.norm = {"in": lambda: InstanceNorm(name="norm"),
                     "ln": lambda: LayerNormMUNIT(name="norm"),
                     "adain": lambda: AdaptiveInstanceNorm(name="norm"),
                     "none": lambda: None}[norm]()

    def build(self, input_shape):
        self.conv.build((None, None, None, input_shape[-1]))
        if self.norm is not None:
            self.norm.build((None, None, None, self.filters))
        self.built = True

    def call(self, x, gamma=None, beta=None):
        x = self.conv(pad2d(x, self.padding, "reflect" if self.pad_type == "reflect"
                            else "constant"))
        if self.norm_type == "adain":
            x = self.norm(x, gamma, beta)
        elif self.norm is not None:
            x = self.norm(x)
        if self.activation == "relu":
            x = ops.relu(x)
        elif self.activation == "tanh":
            x = ops.tanh(x)
        return x

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "norm": self.norm_type,
                "activation": self.activation, "pad_type": self.pad_type}


class ResBlock(keras.layers.Layer):
    """``x + [conv3x3 -> norm -> ReLU -> conv3x3 -> norm](x)``, reflect padding 1, no
    activation after the sum: ``ResBlock`` of models/model_adgen.py in menyifang/ADGAN.

    Call ``(x)`` for ``norm="in"``, ``(x, adain)`` for ``norm="adain"`` with ``adain`` two
    ``(gamma, beta)`` pairs [B, dim] (first conv, second conv). x [B, H, W, dim] -> same shape.
    """

    def __init__(self, dim, norm="in", **kwargs):
        super().__init__(**kwargs)
        self.dim, self.norm_type = int(dim), norm
        self.conv_blocks = [Conv2dBlock(dim, 3, 1, 1, norm, "relu", name="model_0"),
                            Conv2dBlock(dim, 3, 1, 1, norm, "none", name="model_1")]

    def build(self, input_shape):
        for block in self.conv_blocks:
            block.build((None, None, None, self.dim))
        self.built = True

    def call(self, x, adain=None):
        y = x
        for k, block in enumerate(self.conv_blocks):
            y = block(y, *adain[k]) if self.norm_type == "adain" else block(y)
        return x + y

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "norm": self.norm_type}


class ContentEncoder(keras.layers.Layer):
    """Pose encoder: pose map [B, H, W, input_dim] -> pose code [B, H/4, W/4, 4 * dim].

    ``ContentEncoder`` of models/model_adgen.py in menyifang/ADGAN with ADGen's arguments:
    reflect pad 3 + 7x7 conv (input_dim -> dim), ``n_downsample`` x (reflect pad 1 + 4x4
    stride-2 conv doubling the channels), each followed by instance norm and ReLU, then
    ``n_res`` instance-norm :class:`ResBlock`. Sides map to ``floor(n / 2)`` per stride-2 conv.
    Input: ADGAN's keypoint maps (single pixels of 1, see tfposegen.pose), float32.
    """

    def __init__(self, n_downsample=2, n_res=8, input_dim=18, dim=64, **kwargs):
        super().__init__(**kwargs)
        self.n_downsample, self.n_res = int(n_downsample), int(n_res)
        self.input_dim, self.dim = int(input_dim), int(dim)
        self.blocks = [Conv2dBlock(dim, 7, 1, 3, "in", "relu", name="model_0")]
        for i in range(self.n_downsample):
            self.blocks.append(Conv2dBlock(dim * 2 ** (i + 1), 4, 2, 1, "in", "relu",
                                           name=f"model_{i + 1}"))
        self.output_dim = dim * 2 ** self.n_downsample
        self.res_blocks = [ResBlock(self.output_dim, "in", name=f"res_{r}")
                           for r in range(self.n_res)]

    def build(self, input_shape=None):
        channels = self.input_dim
        for block in self.blocks:
            block.build((None, None, None, channels))
            channels = block.filters
        for block in self.res_blocks:
            block.build((None, None, None, channels))
        self.built = True

    def call(self, pose):
        x = pose
        for block in self.blocks + self.res_blocks:
            x = block(x)
        return x

    def get_config(self):
        return {**super().get_config(), "n_downsample": self.n_downsample,
                "n_res": self.n_res, "input_dim": self.input_dim, "dim": self.dim}


class VggStyleEncoder(keras.layers.Layer):
    """Decomposed texture encoder: (image, parsing) -> style code [B, n_classes * style_dim].

    ``VggStyleEncoder`` of models/model_adgen.py in menyifang/ADGAN. For each class i (in
    order) the source image is multiplied by parsing channel i (in the [-1, 1] domain, so
    masked-out pixels are 0, mid-grey) and encoded by the same texture path:

    * frozen torchvision VGG19 ``features`` on the masked image, *without* ImageNet
      normalisation; taps :data:`VGG_TAPS` (post-ReLU, because of the original's in-place
      ReLU);
    * conv1 (reflect 3, 7x7, 3 -> 64, ReLU) ++ relu1_1; conv2 (reflect 1, 4x4 s2, 128 -> 128,
      ReLU) ++ relu2_1; conv3 (256 -> 256) ++ relu3_1; conv4 (512 -> 512) ++ relu4_1
      (``++`` = channel concatenation, learned branch first);
    * mean over H, W, then a 1x1 conv 1024 -> ``style_dim`` without activation.

    The class codes are concatenated class-major (channel ``style_dim * i + j``). The 8
    classes run as one batch of 8 B images (per-sample operations only, so identical).

    Args:
        dim: must be 64: the original's conv2 expects ``2 * dim`` channels and receives
            ``dim + 64`` (VGG relu1_1), so any other value fails there.
        style_dim: code size per class (64 in ADGen: 512 / 8).
        n_classes: parsing classes (8, ``tfposegen.parsing.labels.ADGAN_LABELS``).

    Call ``(image, parsing)``: image [B, H, W, 3] in [-1, 1]; parsing [B, H, W, n_classes]
    float one-hot (ADGAN's ``SP1``). H, W >= 32 for the original (its VGG runs to pool5);
    here >= 8 suffices (the VGG stops at relu4_1, same values).
    """

    def __init__(self, dim=64, style_dim=64, n_classes=N_CLASSES, **kwargs):
        super().__init__(**kwargs)
        if int(dim) != 64:
            raise ValueError(f"networks.py VggStyleEncoder: dim must be 64 (ADGen concatenates "
                             f"VGG relu1_1's 64 channels to a conv expecting 2 * dim), got {dim}")
        self.dim, self.style_dim, self.n_classes = 64, int(style_dim), int(n_classes)
        self.vgg = VGG19Features(layers=VGG_TAPS, input_range=None, name="vgg")
        for layer in [self.vgg, *self.vgg.stack]:  # frozen in the original
            layer.trainable = False
        self.convs = [Conv2dBlock(64, 7, 1, 3, "none", "relu", name="conv1")]
        self.convs += [Conv2dBlock(c, 4, 2, 1, "none", "relu", name=f"conv{k}")
                       for k, c in ((2, 128), (3, 256), (4, 512))]
        self.proj = keras.layers.Conv2D(self.style_dim, 1, name="model_1")

    def build(self, input_shape=None):
        for block, cin in zip(self.convs, (3, 128, 256, 512)):
            block.build((None, None, None, cin))
        self.proj.build((None, 1, 1, 1024))
        self.built = True

    def texture(self, x):
        """Masked images [N, H, W, 3] -> texture codes [N, style_dim]."""
        taps = self.vgg(x)
        for block, tap in zip(self.convs, VGG_TAPS):
            x = ops.concatenate([block(x), taps[tap]], axis=-1)
        x = ops.mean(x, axis=(1, 2), keepdims=True)
        return ops.reshape(self.proj(x), (-1, self.style_dim))

    def call(self, image, parsing):
        if image.shape[-1] != 3 or parsing.shape[-1] != self.n_classes:
            raise ValueError(f"networks.py VggStyleEncoder: need image [B, H, W, 3] and parsing "
                             f"[B, H, W, {self.n_classes}], got {list(image.shape)} and "
                             f"{list(parsing.shape)}")
        batch = ops.shape(image)[0]
        masks = ops.transpose(parsing, (3, 0, 1, 2))[..., None]  # [K, B, H, W, 1]
        masked = ops.reshape(image[None] * masks, (-1,) + tuple(ops.shape(image)[1:]))
        codes = ops.reshape(self.texture(masked), (self.n_classes, batch, self.style_dim))
        return ops.reshape(ops.transpose(codes, (1, 0, 2)), (batch, -1))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "style_dim": self.style_dim,
                "n_classes": self.n_classes}


class Decoder(keras.layers.Layer):
    """Pose code [B, h, w, dim] + AdaIN parameters -> image [B, h * 2^n_upsample, ..., 3].

    ``Decoder`` of models/model_adgen.py in menyifang/ADGAN (``res_norm='adain'``, reflect):
    ``n_res`` AdaIN :class:`ResBlock`, then ``n_upsample`` x (nearest x2 upsampling, reflect 2 +
    5x5 conv halving the channels, :class:`LayerNormMUNIT`, ReLU), then reflect 3 + 7x7 conv
    to ``output_dim`` and tanh (output in [-1, 1]).

    Call ``(content, adain_params)`` with adain_params [B, 2 * sum(adain_channels)] sliced by
    ``split_adain_params`` in the original's module order (block 0 conv 0, block 0 conv 1, ...).
    """

    def __init__(self, n_upsample=2, n_res=8, dim=256, output_dim=3, **kwargs):
        super().__init__(**kwargs)
        self.n_upsample, self.n_res = int(n_upsample), int(n_res)
        self.dim, self.output_dim = int(dim), int(output_dim)
        self.res_blocks = [ResBlock(dim, "adain", name=f"res_{r}") for r in range(self.n_res)]
        self.ups = [Conv2dBlock(dim // 2 ** (i + 1), 5, 1, 2, "ln", "relu",
                                name=f"model_{2 * i + 2}") for i in range(self.n_upsample)]
        self.out = Conv2dBlock(output_dim, 7, 1, 3, "none", "tanh",
                               name=f"model_{2 * self.n_upsample + 1}")

    @property
    def adain_channels(self):
        """Channels of the AdaIN layers in the original's module order."""
        return [self.dim] * (2 * self.n_res)

    def build(self, input_shape=None):
        for block in self.res_blocks:
            block.build((None, None, None, self.dim))
        channels = self.dim
        for block in self.ups:
            block.build((None, None, None, channels))
            channels = block.filters
        self.out.build((None, None, None, channels))
        self.built = True

    def call(self, content, adain_params):
        params = split_adain_params(adain_params, self.adain_channels)
        x = content
        for r, block in enumerate(self.res_blocks):
            x = block(x, params[2 * r:2 * r + 2])
        for block in self.ups:
            x = block(ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2))  # nearest x2
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "n_upsample": self.n_upsample, "n_res": self.n_res,
                "dim": self.dim, "output_dim": self.output_dim}


class ADGen(keras.Model):
    """ADGAN generator: (target pose, source image, source parsing) -> image, NHWC.

    ``ADGen`` of models/model_adgen.py in menyifang/ADGAN, called there as
    ``netG(BP2, P1, SP1)``. ``define_G`` (models/networks.py) fixes style_dim 512, n_res 8,
    mlp_dim 256 and passes ngf (64) as ``dim`` and G_n_downsampling (2) as ``n_downsample``:
    the defaults here (``presets.ADGEN_RELEASED``). Train / inference behave alike (no dropout,
    no batch statistics). All weights but the VGG19 inside ``enc_style`` are trainable.

    Call ``(pose, image, parsing)``:
        pose: [B, H, W, pose_channels] float32 keypoint maps (ADGAN's single-pixel maps);
        image: [B, H, W, 3] source image in [-1, 1];
        parsing: [B, H, W, n_classes] float32 one-hot source parsing (:func:`parsing_one_hot`).
    H and W multiples of 2^n_downsample (else the output is smaller); returns [B, H, W, 3] in
    [-1, 1]. The steps are also methods: :meth:`encode_pose`, :meth:`encode_style`,
    :meth:`adain_params`, :meth:`decode`.

    Args:
        dim: 64 (see :class:`VggStyleEncoder`); style_dim: style code size, a multiple of
        n_classes; n_downsample: stride-2 convs of the pose encoder (= decoder upsamplings);
        n_res: residual blocks of the pose encoder and of the decoder; mlp_dim: fusion MLP
        width; n_classes: parsing classes; pose_channels: keypoint channels.
    """

    def __init__(self, dim=64, style_dim=512, n_downsample=2, n_res=8, mlp_dim=256,
                 n_classes=N_CLASSES, pose_channels=18, **kwargs):
        super().__init__(**kwargs)
        if int(style_dim) % int(n_classes):
            raise ValueError(f"networks.py ADGen: style_dim {style_dim} is not a multiple of "
                             f"n_classes {n_classes}")
        self.dim, self.style_dim, self.n_downsample = int(dim), int(style_dim), int(n_downsample)
        self.n_res, self.mlp_dim = int(n_res), int(mlp_dim)
        self.n_classes, self.pose_channels = int(n_classes), int(pose_channels)
        self.enc_style = VggStyleEncoder(dim, style_dim // n_classes, n_classes,
                                         name="enc_style")
        self.enc_content = ContentEncoder(n_downsample, n_res, pose_channels, dim,
                                          name="enc_content")
        self.dec = Decoder(n_downsample, n_res, self.enc_content.output_dim, 3, name="dec")
        self.fc = keras.layers.Dense(style_dim, activation="relu", name="fc")
        n_adain = 2 * sum(self.dec.adain_channels)
        self.mlp = [keras.layers.Dense(mlp_dim, activation="relu", name="mlp_0"),
                    keras.layers.Dense(mlp_dim, activation="relu", name="mlp_1"),
                    keras.layers.Dense(n_adain, name="mlp_2")]
        self.build()

    def build(self, input_shape=None):
        for part in (self.enc_style, self.enc_content, self.dec):
            part.build()
        self.fc.build((None, self.style_dim))
        width = self.style_dim
        for layer in self.mlp:
            layer.build((None, width))
            width = layer.units
        self.built = True

    def encode_pose(self, pose):
        """Pose maps [B, H, W, pose_channels] -> pose code [B, H/4, W/4, 256] (``enc_content``)."""
        return self.enc_content(pose)

    def encode_style(self, image, parsing):
        """(image, parsing) -> style code [B, style_dim] (``enc_style``, class-major)."""
        return self.enc_style(image, parsing)

    def adain_params(self, style):
        """Style code [B, style_dim] -> AdaIN parameters [B, 8192]: ``mlp(fc(style))``."""
        x = self.fc(style)
        for layer in self.mlp:
            x = layer(x)
        return x

    def decode(self, content, adain_params):
        """(pose code, AdaIN parameters) -> image [B, H, W, 3] in [-1, 1]."""
        return ops.cast(self.dec(content, adain_params), "float32")  # also under bfloat16

    def call(self, pose, image, parsing):
        for name, x, channels in (("pose", pose, self.pose_channels), ("image", image, 3),
                                  ("parsing", parsing, self.n_classes)):
            if len(x.shape) != 4 or x.shape[-1] != channels:
                raise ValueError(f"networks.py ADGen: {name} must be [B, H, W, {channels}], "
                                 f"got {list(x.shape)}")
        content = self.encode_pose(pose)
        return self.decode(content, self.adain_params(self.encode_style(image, parsing)))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "style_dim": self.style_dim,
                "n_downsample": self.n_downsample, "n_res": self.n_res,
                "mlp_dim": self.mlp_dim, "n_classes": self.n_classes,
                "pose_channels": self.pose_channels}


def parsing_one_hot(labels, n_classes=N_CLASSES):
    """Label map [B, H, W] (ints 0..7, ``semantic_merge3``) -> float32 one-hot [B, H, W, 8].

    As ``KeyDataset`` (data/keypoint.py in menyifang/ADGAN) builds ``SP1``: channel i is
    ``label == i``; labels outside 0..n_classes-1 give all-zero pixels.
    """
    labels = ops.cast(labels, "int32")
    return ops.cast(ops.equal(labels[..., None], ops.arange(n_classes, dtype="int32")),
                    "float32")
