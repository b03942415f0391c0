"""torchvision's ImageNet InceptionV3 as the DPTN codes wrap it for FID, in Keras 3.

The DPTN codes (``metrics/inception.py`` of PangzeCheung/Dual-task-Pose-Transformer-Network,
``utils/inception.py`` and ``metrics/networks/inception.py`` of gkalstn000/DPTN_step, one
file three times) score FID with a pytorch-fid-style ``InceptionV3`` class built on
``torchvision.models.inception_v3(pretrained=True)``, the ImageNet classifier (file
``inception_v3_google-0cc3c7bd.pth``, earlier ``-1a9a5a14.pth``), not on the 2015 TensorFlow
FID graph that published FIDs and ``tfposegen.metrics.fid`` refer to. Its forward for the
2048-d output (block 3, the only one the FID code asks for):

* input NCHW in [0, 1];
* ``F.upsample(x, size=(299, 299), mode='bilinear')``: bilinear, ``align_corners=False``
  (half-pixel centres, source positions clamped at 0), no antialiasing, also when shrinking;
* ``normalize_input``: per channel ``x * (std / 0.5) + (mean - 0.5) / 0.5`` with torchvision's
  ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) (the formula of
  torchvision's ``transform_input``, applied to [0, 1] values: not ``2x - 1``);
* ``Conv2d_1a_3x3``, ``Conv2d_2a_3x3``, ``Conv2d_2b_3x3``, max pool 3 / 2, ``Conv2d_3b_1x1``,
  ``Conv2d_4a_3x3``, max pool 3 / 2, ``Mixed_5b`` .. ``Mixed_5d`` (InceptionA), ``Mixed_6a``
  (B), ``Mixed_6b`` .. ``Mixed_6e`` (C), ``Mixed_7a`` (D), ``Mixed_7b``, ``Mixed_7c`` (E),
  ``AdaptiveAvgPool2d(1)`` -> [B, 2048] (``AuxLogits`` and ``fc`` unused).

Layer semantics of ``torchvision/models/inception.py`` kept exactly: ``BasicConv2d`` is a
convolution without bias (symmetric zero padding as given), ``BatchNorm2d(eps=0.001)`` in
eval mode (affine weight and bias, running mean and variance) and ReLU; the pool branch of
blocks A, C and E is ``F.avg_pool2d(3, stride=1, padding=1)`` with torch's default
``count_include_pad=True`` (a border average divides by 9, zeros included; Keras'
``AveragePooling2D('same')`` would divide by the valid count, so the input is zero-padded and
pooled 'valid'); max pools have no padding.

PAINT's ``eval.py`` (gxl-groups/PAINT, TSN / AFN) feeds the same network through its own copy of
that wrapper, resizing with ``align_corners=True`` (``align_corners`` here; the rest is the
same): :func:`tfposegen.metrics.fid.paint_fid` runs its protocol.

Weights: ``load_torchvision_inception`` maps torchvision's state-dict names
(``<block>.<branch>.conv.weight`` [out, in, kh, kw], ``.bn.weight`` / ``.bias`` /
``.running_mean`` / ``.running_var`` [out]) onto the Keras variables, read without torch by
``tfposegen.convert.torch_checkpoint``: every needed name present, every shape checked, any
name other than ``AuxLogits.*``, ``fc.*`` and ``*.num_batches_tracked`` left over is an error;
errors name the file.
"""

import os

import keras
import numpy as np
from keras import ops

from tfposegen.metrics.fid import INCEPTION_SIZE, POOL3_DIMS, MetricInputError
from tfposegen.ops.resize import resize_bilinear_legacy

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPSILON = 0.001
# State-dict names the feature network does not use (the classifier heads, BN counters).
IGNORED = ("AuxLogits.", "fc.", "*.num_batches_tracked")


def _pair(v):
    return (int(v), int(v)) if np.isscalar(v) else tuple(int(x) for x in v)


class BasicConv2d(keras.layers.Layer):
    """torchvision's ``BasicConv2d``: zero padding, convolution without bias,
    ``BatchNorm2d(eps=0.001)`` in inference mode, ReLU. NHWC in, NHWC out.

    Args:
        in_channels, out_channels: ints (the layer is built at construction, as in torch).
        kernel_size, strides, padding: int or (h, w) pairs, torch's meaning (``padding``
            zeros on both sides of each axis).
    """

    def __init__(self, in_channels, out_channels, kernel_size, strides=1, padding=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.strides = _pair(kernel_size), _pair(strides)
        self.padding = _pair(padding)
        self.conv = keras.layers.Conv2D(self.out_channels, self.kernel_size,
                                        strides=self.strides, padding="valid", use_bias=False,
                                        name="conv")
        self.bn = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name="bn")
        self.conv.build((None, None, None, self.in_channels))
        self.bn.build((None, None, None, self.out_channels))

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels,
                "out_channels": self.out_channels, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding}

    def call(self, x):
        ph, pw = self.padding
        if ph or pw:
            x = ops.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]])
        return ops.relu(self.bn(self.conv(x), training=False))

    def torch_pairs(self, prefix):
        """(variable, torch name, kind) for ``tfposegen.convert.torch_checkpoint``."""
        bn = self.bn
        return [(self.conv.kernel, f"{prefix}.conv.weight", "conv2d"),
                (bn.gamma, f"{prefix}.bn.weight", "vector"),
                (bn.beta, f"{prefix}.bn.bias", "vector"),
                (bn.moving_mean, f"{prefix}.bn.running_mean", "vector"),
                (bn.moving_variance, f"{prefix}.bn.running_var", "vector")]


def avg_pool_3x3_include_pad(x):
    """``F.avg_pool2d(x, 3, stride=1, padding=1)`` (``count_include_pad=True``): NHWC, every
    window divided by 9, the zero border included."""
    x = ops.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    return ops.average_pool(x, 3, strides=1, padding="valid")


def max_pool_3x3_s2(x):
    """``F.max_pool2d(x, 3, stride=2)``: no padding, NHWC."""
    return ops.max_pool(x, 3, strides=2, padding="valid")


class _Block(keras.layers.Layer):
    """An Inception block: each ``BasicConv2d`` is the attribute of its torch branch name
    (listed in ``self.branch_names``)."""

    def _make(self, spec):
        self.branch_names = tuple(name for name, _ in spec)
        for name, args in spec:
            setattr(self, name, BasicConv2d(*args, name=name))

    def torch_pairs(self, prefix):
        return [p for name in self.branch_names
                for p in getattr(self, name).torch_pairs(f"{prefix}.{name}")]

    def _run(self, x, *names):
        for name in names:
            x = getattr(self, name)(x)
        return x


class InceptionA(_Block):
    """``InceptionA``: 64 + 64 + 96 + ``pool_features`` channels."""

    def __init__(self, in_channels, pool_features, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.pool_features = int(in_channels), int(pool_features)
        c = self.in_channels
        self._make([("branch1x1", (c, 64, 1)), ("branch5x5_1", (c, 48, 1)),
                    ("branch5x5_2", (48, 64, 5, 1, 2)), ("branch3x3dbl_1", (c, 64, 1)),
                    ("branch3x3dbl_2", (64, 96, 3, 1, 1)), ("branch3x3dbl_3", (96, 96, 3, 1, 1)),
                    ("branch_pool", (c, self.pool_features, 1))])

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels,
                "pool_features": self.pool_features}

    def call(self, x):
        return ops.concatenate([
            self._run(x, "branch1x1"), self._run(x, "branch5x5_1", "branch5x5_2"),
            self._run(x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
            self.branch_pool(avg_pool_3x3_include_pad(x))], axis=-1)


class InceptionB(_Block):
    """``InceptionB`` (grid reduction): 384 + 96 + ``in_channels`` channels."""

    def __init__(self, in_channels, **kwargs):
        super().__init__(**kwargs)
        self.in_channels = c = int(in_channels)
        self._make([("branch3x3", (c, 384, 3, 2)), ("branch3x3dbl_1", (c, 64, 1)),
                    ("branch3x3dbl_2", (64, 96, 3, 1, 1)), ("branch3x3dbl_3", (96, 96, 3, 2))])

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels}

    def call(self, x):
        return ops.concatenate([
            self._run(x, "branch3x3"),
            self._run(x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
            max_pool_3x3_s2(x)], axis=-1)


class InceptionC(_Block):
    """``InceptionC``: factorised 7x7 branches, 4 x 192 channels."""

    def __init__(self, in_channels, channels_7x7, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.channels_7x7 = int(in_channels), int(channels_7x7)
        c, c7 = self.in_channels, self.channels_7x7
        row, col = ((1, 7), 1, (0, 3)), ((7, 1), 1, (3, 0))
        self._make([("branch1x1", (c, 192, 1)), ("branch7x7_1", (c, c7, 1)),
                    ("branch7x7_2", (c7, c7, *row)), ("branch7x7_3", (c7, 192, *col)),
                    ("branch7x7dbl_1", (c, c7, 1)), ("branch7x7dbl_2", (c7, c7, *col)),
                    ("branch7x7dbl_3", (c7, c7, *row)), ("branch7x7dbl_4", (c7, c7, *col)),
                    ("branch7x7dbl_5", (c7, 192, *row)), ("branch_pool", (c, 192, 1))])

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels,
                "channels_7x7": self.channels_7x7}

    def call(self, x):
        return ops.concatenate([
            self._run(x, "branch1x1"),
            self._run(x, "branch7x7_1", "branch7x7_2", "branch7x7_3"),
            self._run(x, *(f"branch7x7dbl_{i}" for i in range(1, 6))),
            self.branch_pool(avg_pool_3x3_include_pad(x))], axis=-1)


class InceptionD(_Block):
    """``InceptionD`` (grid reduction): 320 + 192 + ``in_channels`` channels."""

    def __init__(self, in_channels, **kwargs):
        super().__init__(**kwargs)
        self.in_channels = c = int(in_channels)
        self._make([("branch3x3_1", (c, 192, 1)), ("branch3x3_2", (192, 320, 3, 2)),
                    ("branch7x7x3_1", (c, 192, 1)),
                    ("branch7x7x3_2", (192, 192, (1, 7), 1, (0, 3))),
                    ("branch7x7x3_3", (192, 192, (7, 1), 1, (3, 0))),
                    ("branch7x7x3_4", (192, 192, 3, 2))])

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels}

    def call(self, x):
        return ops.concatenate([
            self._run(x, "branch3x3_1", "branch3x3_2"),
            self._run(x, *(f"branch7x7x3_{i}" for i in range(1, 5))),
            max_pool_3x3_s2(x)], axis=-1)


class InceptionE(_Block):
    """``InceptionE``: 320 + 768 + 768 + 192 = 2048 channels."""

    def __init__(self, in_channels, **kwargs):
        super().__init__(**kwargs)
        self.in_channels = c = int(in_channels)
        row, col = ((1, 3), 1, (0, 1)), ((3, 1), 1, (1, 0))
        self._make([("branch1x1", (c, 320, 1)), ("branch3x3_1", (c, 384, 1)),
                    ("branch3x3_2a", (384, 384, *row)), ("branch3x3_2b", (384, 384, *col)),
                    ("branch3x3dbl_1", (c, 448, 1)), ("branch3x3dbl_2", (448, 384, 3, 1, 1)),
                    ("branch3x3dbl_3a", (384, 384, *row)), ("branch3x3dbl_3b", (384, 384, *col)),
                    ("branch_pool", (c, 192, 1))])

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels}

    def call(self, x):
        b3 = self.branch3x3_1(x)
        bd = self._run(x, "branch3x3dbl_1", "branch3x3dbl_2")
        return ops.concatenate([
            self.branch1x1(x), self.branch3x3_2a(b3), self.branch3x3_2b(b3),
            self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd),
            self.branch_pool(avg_pool_3x3_include_pad(x))], axis=-1)


# (torch name, block class, constructor args) in forward order; "pool" = max pool 3 / 2.
LAYOUT = (
    ("Conv2d_1a_3x3", BasicConv2d, (3, 32, 3, 2)),
    ("Conv2d_2a_3x3", BasicConv2d, (32, 32, 3)),
    ("Conv2d_2b_3x3", BasicConv2d, (32, 64, 3, 1, 1)),
    ("pool", None, ()),
    ("Conv2d_3b_1x1", BasicConv2d, (64, 80, 1)),
    ("Conv2d_4a_3x3", BasicConv2d, (80, 192, 3)),
    ("pool", None, ()),
    ("Mixed_5b", InceptionA, (192, 32)),
    ("Mixed_5c", InceptionA, (256, 64)),
    ("Mixed_5d", InceptionA, (288, 64)),
    ("Mixed_6a", InceptionB, (288,)),
    ("Mixed_6b", InceptionC, (768, 128)),
    ("Mixed_6c", InceptionC, (768, 160)),
    ("Mixed_6d", InceptionC, (768, 160)),
    ("Mixed_6e", InceptionC, (768, 192)),
    ("Mixed_7a", InceptionD, (768,)),
    ("Mixed_7b", InceptionE, (1280,)),
    ("Mixed_7c", InceptionE, (2048,)),
)


class TorchvisionInceptionV3(keras.Model):
    """The DPTN codes' ``InceptionV3([3])`` (module docstring): [B, H, W, 3] float32 in
    [0, 1] -> [B, 2048] pool3 features (non-negative: averages of ReLU outputs).

    Args:
        resize_input: bilinear resize to 299 x 299 first (the wrapper's default, True).
        normalize_input: the ImageNet affine map first (default True).
        align_corners: resize with ``align_corners=True`` (PAINT's eval.py) instead of the
            DPTN codes' half-pixel centres.

    A fresh model holds Keras' random initialisation; ``load_torchvision_inception`` assigns
    torchvision's weights. Any H, W >= 75 runs without the resize.
    """

    def __init__(self, resize_input=True, normalize_input=True, align_corners=False, **kwargs):
        super().__init__(**kwargs)
        self.resize_input, self.normalize_input = bool(resize_input), bool(normalize_input)
        self.align_corners = bool(align_corners)
        self.block_names = tuple(name for name, _, _ in LAYOUT)
        for name, cls, args in LAYOUT:
            if cls is not None:
                setattr(self, name, cls(*args, name=name))

    def get_config(self):
        return {**super().get_config(), "resize_input": self.resize_input,
                "normalize_input": self.normalize_input, "align_corners": self.align_corners}

    def preprocess(self, x):
        """The wrapper's input steps: resize to 299 x 299 (half-pixel bilinear, or corner-
        aligned with ``align_corners``; no antialiasing), then ``x * std / 0.5 + (mean -
        0.5) / 0.5`` per channel."""
        x = ops.convert_to_tensor(x, "float32")
        if self.resize_input and self.align_corners:
            x = resize_bilinear_legacy(x, (INCEPTION_SIZE, INCEPTION_SIZE), align_corners=True)
        elif self.resize_input:
            x = ops.image.resize(x, (INCEPTION_SIZE, INCEPTION_SIZE), interpolation="bilinear",
                                 antialias=False)
        if self.normalize_input:
            scale = np.array([s / 0.5 for s in IMAGENET_STD], np.float32)
            shift = np.array([(m - 0.5) / 0.5 for m in IMAGENET_MEAN], np.float32)
            x = x * scale + shift
        return x

    def call(self, x):
        return self.features(self.preprocess(x))

    def features(self, x):
        """The network after ``preprocess``: [B, H, W, 3] -> [B, 2048]."""
        for name in self.block_names:
            x = max_pool_3x3_s2(x) if name == "pool" else getattr(self, name)(x)
        return ops.mean(x, axis=(1, 2))

    def torch_pairs(self):
        """(variable, torch name, kind) for every weight the features use (94 BasicConv2d
        layers, 5 arrays each)."""
        return [p for name in self.block_names if name != "pool"
                for p in getattr(self, name).torch_pairs(name)]


def load_torchvision_inception(model, state, path="<state dict>"):
    """Assign a torchvision ``inception_v3`` state dict to ``model``, all or nothing.

    Args:
        model: ``TorchvisionInceptionV3``.
        state: dict torch name -> numpy array (``torch_checkpoint.state_dict``).
        path: the file named in errors.

    Raises:
        tfposegen.convert.torch_checkpoint.TorchCheckpointError (a ValueError): names
            missing, shapes that do not fit, or names neither used nor in ``IGNORED``; the
            message starts with ``path``.
    """
    from tfposegen.convert.torch_checkpoint import assign_state_dict

    assign_state_dict(model.torch_pairs(), state, path=path, strict=True, ignore=IGNORED)


class TorchvisionInceptionFeatures:
    """2048-d features of torchvision's ImageNet InceptionV3 as the DPTN codes compute them
    (module docstring), from the ``.pth`` file; a drop-in for
    ``tfposegen.metrics.fid.InceptionFeatures`` (same call) wherever images are uint8.

    Args:
        weights_path: torchvision's ``inception_v3_google-*.pth`` (or any state dict with
            its names, e.g. ``Inception3(aux_logits=False).state_dict()``).
        align_corners: PAINT's resize (``TorchvisionInceptionV3``); default the DPTN codes'.

    Call with images [B, H, W, 3]: uint8 in [0, 255] (divided by 255, as the codes' ``/ 255``)
    or float in [0, 1] (the codes' input; note InceptionFeatures takes floats in [-1, 1]).
    Returns float32 numpy [B, 2048].

    Raises:
        TorchCheckpointError: the file is missing, unreadable, or its names / shapes do not fit
            (the message names the file).
    """

    def __init__(self, weights_path, align_corners=False):
        from tfposegen.convert import torch_checkpoint

        self.weights_path = os.fspath(weights_path)
        state = torch_checkpoint.state_dict(self.weights_path)
        self.model = TorchvisionInceptionV3(align_corners=align_corners)
        load_torchvision_inception(self.model, state, self.weights_path)
        self._features = self.model.features
        if keras.backend.backend() == "tensorflow":  # one trace for every batch size
            import tensorflow as tf

            self._features = tf.function(self.model.features, autograph=False, input_signature=[
                tf.TensorSpec([None, INCEPTION_SIZE, INCEPTION_SIZE, 3], tf.float32)])

    def __call__(self, images):
        x = np.asarray(images)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise MetricInputError(f"images: expected [B, H, W, 3], got shape {x.shape}")
        if x.dtype == np.uint8:
            x = x.astype(np.float32) / np.float32(255.0)
        else:
            x = x.astype(np.float32)
            if x.size and (x.min() < -1e-3 or x.max() > 1.0 + 1e-3):
                raise MetricInputError("images: float images must be in [0, 1] for the "
                                       f"torchvision InceptionV3, got [{x.min()}, {x.max()}]")
        features = self._features(self.model.preprocess(x))
        return np.asarray(features, np.float32).reshape(x.shape[0], POOL3_DIMS)
