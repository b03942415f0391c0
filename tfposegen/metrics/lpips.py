"""LPIPS v0.1 (learned perceptual image patch similarity) with AlexNet or VGG16 features.

Follows ``lpips/lpips.py``, ``lpips/__init__.py`` and ``lpips/pretrained_networks.py`` in
richzhang/PerceptualSimilarity (the ``lpips`` package, version 0.1):

* inputs in [-1, 1] are scaled per channel: ``(x - shift) / scale`` with shift
  ``[-0.030, -0.088, -0.188]`` and scale ``[0.458, 0.448, 0.450]`` (``ScalingLayer``);
* the backbone is torchvision's ``features`` stack, tapped after five ReLUs: AlexNet relu1..relu5
  (``features.{0,3,6,8,10}`` convolutions), VGG16 relu1_2, relu2_2, relu3_3, relu4_3, relu5_3;
* each tap is divided by its channel L2 norm plus ``1e-10`` (``normalize_tensor``), the two
  images' taps are subtracted and squared, a bias-free 1x1 convolution to one channel
  (``lin{k}.model.1``) weighs the channels, the map is averaged over space, and the five
  layer values are summed.

With ``spatial=True`` in the original each layer's map is instead resized bilinearly
(``align_corners=False``) to the input size before the sum: ``LPIPS.spatial_distance``.

Weights: torchvision's ``alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth`` (names
``features.{i}.weight`` / ``.bias``, [out, in, kh, kw]) and the lpips release's
``weights/v0.1/alex.pth`` / ``vgg.pth`` (names ``lin{k}.model.1.weight``, [1, C, 1, 1]).
"""

import keras
import numpy as np
from keras import ops

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
NORM_EPS = 1e-10

# torchvision ``features`` stacks: ("conv", index, out_channels, kernel, stride, padding),
# ("pool", size, stride), ("tap",) after the ReLU that LPIPS reads.
ALEXNET = (
    ("conv", 0, 64, 11, 4, 2), ("tap",), ("pool", 3, 2),
    ("conv", 3, 192, 5, 1, 2), ("tap",), ("pool", 3, 2),
    ("conv", 6, 384, 3, 1, 1), ("tap",),
    ("conv", 8, 256, 3, 1, 1), ("tap",),
    ("conv", 10, 256, 3, 1, 1), ("tap",),
)
VGG16 = (
    ("conv", 0, 64, 3, 1, 1), ("conv", 2, 64, 3, 1, 1), ("tap",), ("pool", 2, 2),
    ("conv", 5, 128, 3, 1, 1), ("conv", 7, 128, 3, 1, 1), ("tap",), ("pool", 2, 2),
    ("conv", 10, 256, 3, 1, 1), ("conv", 12, 256, 3, 1, 1), ("conv", 14, 256, 3, 1, 1),
    ("tap",), ("pool", 2, 2),
    ("conv", 17, 512, 3, 1, 1), ("conv", 19, 512, 3, 1, 1), ("conv", 21, 512, 3, 1, 1),
    ("tap",), ("pool", 2, 2),
    ("conv", 24, 512, 3, 1, 1), ("conv", 26, 512, 3, 1, 1), ("conv", 28, 512, 3, 1, 1),
    ("tap",),
)
BACKBONES = {"alex": ALEXNET, "vgg": VGG16}
# Smallest input side for which every pooling window still fits.
MIN_SIZE = {"alex": 31, "vgg": 16}


class LPIPSError(ValueError):
    """Bad LPIPS argument, input or weights; names what is wrong."""


def backbone_spec(net):
    """The layer list of ``net`` ('alex' or 'vgg'); see ``ALEXNET``."""
    if net not in BACKBONES:
        raise LPIPSError(f"net: expected one of {sorted(BACKBONES)}, got {net!r}")
    return BACKBONES[net]


class ScalingLayer(keras.layers.Layer):
    """``ScalingLayer`` in lpips/lpips.py: [B, H, W, 3] in [-1, 1] -> ``(x - shift) / scale``."""

    def call(self, x):
        shift = ops.convert_to_tensor(np.array(SHIFT, np.float32))
        scale = ops.convert_to_tensor(np.array(SCALE, np.float32))
        return (x - shift) / scale


def normalize_channels(x, eps=NORM_EPS):
    """``normalize_tensor`` in lpips/__init__.py: ``x / (||x||_channels + eps)``, NHWC."""
    return x / (ops.sqrt(ops.sum(x * x, axis=-1, keepdims=True)) + eps)


class LPIPS(keras.Model):
    """LPIPS v0.1 distance between two image batches.

    Args:
        net: 'alex' (AlexNet, the lpips default) or 'vgg' (VGG16).

    ``model((in0, in1))`` / ``distance``: in0, in1 float32 [B, H, W, 3] in [-1, 1], same
    shape, H, W >= 31 (alex) or 16 (vgg) -> [B] distances (>= 0 for non-negative ``lin``
    weights, 0 for equal images). Weights come from ``load_lpips_state`` / ``from_files``;
    a fresh model has Keras' random initialisation.
    """

    def __init__(self, net="alex", **kwargs):
        super().__init__(**kwargs)
        self.net = net
        self.scaling = ScalingLayer(name="scaling")
        self.stages = []  # per tap: list of layers up to and including that tap's ReLU
        self.convs = {}
        stage, channels, in_ch = [], [], 3
        for item in backbone_spec(net):
            if item[0] == "conv":
                _, index, filters, kernel, stride, pad = item
                conv = keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid",
                                           activation="relu", name=f"features_{index}")
                conv.build((None, None, None, in_ch))
                self.convs[index] = conv
                stage += [keras.layers.ZeroPadding2D(pad), conv]
                in_ch = filters
            elif item[0] == "pool":
                stage.append(keras.layers.MaxPooling2D(item[1], strides=item[2]))
            else:
                self.stages.append(stage)
                channels.append(in_ch)
                stage = []
        self.lins = []
        for k, ch in enumerate(channels):
            lin = keras.layers.Conv2D(1, 1, use_bias=False, name=f"lin{k}")
            lin.build((None, None, None, ch))
            self.lins.append(lin)
        self.channels = tuple(channels)

    def get_config(self):
        return {**super().get_config(), "net": self.net}

    def features(self, x):
        """Scaled input [B, H, W, 3] -> the five tapped ReLU outputs (NHWC)."""
        taps = []
        for stage in self.stages:
            for layer in stage:
                x = layer(x)
            taps.append(x)
        return taps

    def layer_maps(self, in0, in1):
        """Per-layer maps before averaging: list of five [B, h_k, w_k, 1]."""
        in0, in1 = self._check(in0, in1)
        feats0 = self.features(self.scaling(in0))
        feats1 = self.features(self.scaling(in1))
        return [lin(ops.square(normalize_channels(f0) - normalize_channels(f1)))
                for lin, f0, f1 in zip(self.lins, feats0, feats1)]

    def distance(self, in0, in1, per_layer=False):
        """[B] LPIPS distances; with ``per_layer`` also the five [B] layer terms (their sum)."""
        terms = [ops.mean(m, axis=(1, 2, 3)) for m in self.layer_maps(in0, in1)]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return (total, terms) if per_layer else total

    def spatial_distance(self, in0, in1):
        """[B, H, W, 1]: layer maps resized bilinearly (half-pixel) to the input size, summed.

        The original's ``spatial=True`` output (``upsample`` in lpips/lpips.py).
        """
        size = tuple(ops.shape(in0)[1:3])
        maps = [ops.image.resize(m, size, interpolation="bilinear", antialias=False)
                for m in self.layer_maps(in0, in1)]
        total = maps[0]
        for m in maps[1:]:
            total = total + m
        return total

    def call(self, inputs):
        in0, in1 = inputs
        return self.distance(in0, in1)

    def _check(self, in0, in1):
        in0 = ops.convert_to_tensor(in0, "float32")
        in1 = ops.convert_to_tensor(in1, "float32")
        s0, s1 = tuple(in0.shape), tuple(in1.shape)
        if s0 != s1 or len(s0) != 4 or s0[-1] != 3:
            raise LPIPSError(f"in0, in1: expected equal [B, H, W, 3] shapes, got {s0}, {s1}")
        low = MIN_SIZE[self.net]
        if any(d is not None and d < low for d in s0[1:3]):
            raise LPIPSError(f"in0, in1: net {self.net!r} needs H, W >= {low}, got {s0[1:3]}")
        return in0, in1


def _torch_conv_to_keras(name, array, kernel_shape):
    """[out, in, kh, kw] -> [kh, kw, in, out], checked against the Keras kernel shape."""
    array = np.asarray(array, np.float32)
    if array.ndim != 4:
        raise LPIPSError(f"{name}: expected a 4-d [out, in, kh, kw] array, got {array.shape}")
    kernel = np.transpose(array, (2, 3, 1, 0))
    if kernel.shape != tuple(kernel_shape):
        raise LPIPSError(f"{name}: shape {array.shape} does not fit kernel {tuple(kernel_shape)} "
                         "(HWIO)")
    return kernel


def _take(state, name, what):
    if name not in state:
        raise LPIPSError(f"{what}: missing {name!r}")
    return state[name]


def load_lpips_state(model, backbone_state, lin_state):
    """Assign torch-layout weights to an ``LPIPS`` model.

    Args:
        model: ``LPIPS``.
        backbone_state: dict name -> array with torchvision names ``features.{i}.weight``
            [out, in, kh, kw] and ``features.{i}.bias`` [out]; other names (``classifier.*``)
            are ignored.
        lin_state: dict with ``lin{k}.model.1.weight`` [1, C_k, 1, 1], k = 0..4 (an lpips
            release file; other names are ignored).

    Raises:
        LPIPSError: a name is missing or an array has the wrong shape.
    """
    for index, conv in model.convs.items():
        prefix = f"features.{index}"
        kernel = _torch_conv_to_keras(f"backbone {prefix}.weight",
                                      _take(backbone_state, f"{prefix}.weight", "backbone"),
                                      conv.kernel.shape)
        bias = np.asarray(_take(backbone_state, f"{prefix}.bias", "backbone"), np.float32)
        if bias.shape != tuple(conv.bias.shape):
            raise LPIPSError(f"backbone {prefix}.bias: expected {tuple(conv.bias.shape)}, "
                             f"got {bias.shape}")
        conv.kernel.assign(kernel)
        conv.bias.assign(bias)
    for k, lin in enumerate(model.lins):
        name = f"lin{k}.model.1.weight"
        lin.kernel.assign(_torch_conv_to_keras(f"lin {name}", _take(lin_state, name, "lin"),
                                               lin.kernel.shape))


def from_files(net, backbone_path, lin_path):
    """``LPIPS(net)`` with torchvision backbone weights and lpips v0.1 linear weights.

    Args:
        net: 'alex' or 'vgg'.
        backbone_path: torchvision ``alexnet-owt-7be5be79.pth`` or ``vgg16-397923af.pth``.
        lin_path: lpips ``weights/v0.1/alex.pth`` or ``vgg.pth``.

    Both files are read without torch by ``tfposegen.convert.torch_checkpoint.state_dict``.
    """
    from tfposegen.convert import torch_checkpoint

    model = LPIPS(net)
    load_lpips_state(model, torch_checkpoint.state_dict(backbone_path),
                     torch_checkpoint.state_dict(lin_path))
    return model
