"""VGG19 feature taps and the feature-space losses of ADGAN and DPTN (NHWC, float32).

* :class:`VGG19Features`: torchvision's ``vgg19().features`` stack (torchvision/models/vgg.py
  in pytorch/vision) in Keras, returning the activations at named taps.
* :func:`load_torchvision_vgg19`: torchvision's ``vgg19-dcbb9e9d.pth`` into it.
* content (L1 / MSE of features), ADGAN's L1-plus-perceptual loss, Gram matrices and DPTN's
  style loss, and the contextual (CX) loss of ADGAN.

Which input normalisation each original uses before its VGG19:

* ADGAN ``L1_plus_perceptualLoss`` (losses/L1_plus_perceptualLoss.py in menyifang/ADGAN):
  torchvision weights, images in [-1, 1] mapped by ``((x + 1) / 2 - mean) / std`` with the
  ImageNet mean / std: ``VGG19Features(input_range='[-1,1]')``.
* ADGAN CX loss (``self.vgg`` in models/adgan.py, models/vgg.py in menyifang/ADGAN): the
  Gatys-style ``vgg_conv.pth`` weights fed the [-1, 1] images *unnormalised*
  (``input_range=None``).
* DPTN ``VGGLoss`` (models/external_function.py in
  PangzeCheung/Dual-task-Pose-Transformer-Network): torchvision ImageNet weights fed the
  [-1, 1] images *unnormalised* (``input_range=None``).
"""

import keras
import numpy as np
from keras import ops

from tfposegen.layers.pooling import MaxPool2x2

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# torchvision's vgg19 "E" configuration: output channels per conv, "M" = 2x2 max pool.
_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
        512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


def _layer_names():
    names, block, conv = [], 1, 1
    for item in _CFG:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return tuple(names)


# Name of torchvision ``vgg19().features[i]`` at index i (0 'conv1_1', 1 'relu1_1', 3
# 'relu1_2', 6 'relu2_1', 21 'conv4_2', 36 'pool5').
VGG19_LAYERS = _layer_names()
# DPTN's VGGLoss taps (models/external_function.py in
# PangzeCheung/Dual-task-Pose-Transformer-Network): content, weights 1 each, and style.
DPTN_CONTENT_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DPTN_STYLE_LAYERS = ("relu2_2", "relu3_4", "relu4_4", "relu5_2")
# ADGAN: ``--perceptual_layers 3`` (features[0..3] -> relu1_2) for L1_plus_perceptualLoss;
# CX loss on VGG 'r32', 'r42' (models/adgan.py in menyifang/ADGAN).
ADGAN_PERCEPTUAL_LAYER = "relu1_2"
ADGAN_CX_LAYERS = ("relu3_2", "relu4_2")

_INPUT_RANGES = (None, "[-1,1]", "[0,1]")


def _layer_name(layer):
    if isinstance(layer, (int, np.integer)):
        if not 0 <= layer < len(VGG19_LAYERS):
            raise ValueError(f"VGG19Features: layer index {layer} outside [0, {len(VGG19_LAYERS)})")
        return VGG19_LAYERS[int(layer)]
    if layer not in VGG19_LAYERS:
        raise ValueError(f"VGG19Features: unknown layer {layer!r}; expected one of "
                         f"{', '.join(VGG19_LAYERS)} or a torchvision index")
    return layer


class VGG19Features(keras.Model):
    """images [B, H, W, 3] -> {tap: activation [B, H / 2^k, W / 2^k, C]} of VGG19.

    The 16 convolutions (3x3, padding 1, bias), ReLUs and 2x2 max pools (floor) of
    torchvision's ``vgg19().features`` (torchvision/models/vgg.py in pytorch/vision), in
    NHWC. Taps are named as :data:`VGG19_LAYERS` (``conv{b}_{k}`` before the ReLU,
    ``relu{b}_{k}`` after it, ``pool{b}``), or given as the torchvision index. A ``conv``
    tap is the true pre-activation; torch code that slices ``features`` with its
    ``ReLU(inplace=True)`` sees such tensors rectified. Only the layers up to the deepest tap
    run; all 16 convolutions always exist (20,024,384 parameters).

    Args:
        layers: taps to return, in order (default DPTN's content taps ``relu1_1..relu5_1``).
        input_range: ``"[-1,1]"``: images in [-1, 1], mapped to ``((x + 1) / 2 - mean) /
            std`` (ImageNet mean / std, as ADGAN's L1_plus_perceptualLoss); ``"[0,1]"``:
            ``(x - mean) / std``; ``None``: fed as they are (DPTN's VGGLoss, ADGAN's CX VGG).
        trainable: False by default (the originals freeze VGG).

    Call returns a dict {tap name: float32 tensor}, in the order of ``layers``.
    """

    def __init__(self, layers=DPTN_CONTENT_LAYERS, input_range=None, trainable=False,
                 **kwargs):
        super().__init__(trainable=trainable, **kwargs)
        if isinstance(layers, (str, int)):
            layers = (layers,)
        self.taps = tuple(_layer_name(layer) for layer in layers)
        if not self.taps:
            raise ValueError("VGG19Features: layers is empty")
        if input_range not in _INPUT_RANGES:
            raise ValueError(f"VGG19Features: input_range must be one of {_INPUT_RANGES}, "
                             f"got {input_range!r}")
        self.input_range = input_range
        self._depth = max(VGG19_LAYERS.index(t) for t in self.taps) + 1
        self.stack = []
        channels = iter(c for c in _CFG if c != "M")
        for name in VGG19_LAYERS:
            if name.startswith("conv"):
                layer = keras.layers.Conv2D(next(channels), 3, padding="same", name=name)
            elif name.startswith("relu"):
                layer = keras.layers.ReLU(name=name)
            else:
                layer = MaxPool2x2(name=name)
            self.stack.append(layer)
        self.build((None, None, None, 3))

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.stack:
            if not layer.built:
                layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def preprocess(self, images):
        """Apply ``input_range``'s mapping to float images [B, H, W, 3]."""
        x = ops.cast(images, "float32")
        if self.input_range is None:
            return x
        if self.input_range == "[-1,1]":
            x = (x + 1.0) / 2.0
        mean = np.asarray(IMAGENET_MEAN, np.float32)
        std = np.asarray(IMAGENET_STD, np.float32)
        return (x - mean) / std

    def call(self, images):
        if len(images.shape) != 4 or images.shape[-1] != 3:
            raise ValueError(f"VGG19Features: expected images [B, H, W, 3], got shape "
                             f"{list(images.shape)}")
        x = self.preprocess(images)
        out = {}
        for name, layer in zip(VGG19_LAYERS[: self._depth], self.stack):
            x = layer(x)
            if name in self.taps:
                out[name] = x
        # float32 out under mixed precision (a no-op otherwise)
        return {t: ops.cast(out[t], "float32") for t in self.taps}

    def get_config(self):
        config = super().get_config()
        config.update({"layers": list(self.taps), "input_range": self.input_range})
        return config


def assign_torchvision_vgg19(model, state, strict=True, path="<state dict>"):
    """Assign a torchvision VGG19 state dict (numpy arrays) to a :class:`VGG19Features`.

    Keys are torchvision's ``features.{i}.weight`` ([O, I, 3, 3], to Keras' [3, 3, I, O])
    and ``features.{i}.bias`` ([O]) with ``i`` the index in :data:`VGG19_LAYERS`;
    ``classifier.*`` is ignored. Checked and assigned all-or-nothing by
    ``tfposegen.convert.torch_checkpoint.assign_state_dict``.

    Args:
        model: a :class:`VGG19Features`.
        state: mapping torch name -> np.ndarray (``torch_checkpoint.state_dict``'s output).
        strict: if True, all 16 convolutions must be in ``state`` and no other ``features.*``
            key may be; if False, only the convolutions whose keys appear are assigned.
        path: file name for error messages.

    Returns:
        sorted list of the keys assigned.

    Raises:
        ValueError (``TorchCheckpointError``): missing keys, shape mismatches or, when
            strict, unused keys; nothing is assigned then.
    """
    from tfposegen.convert.torch_checkpoint import assign_state_dict

    pairs = []
    for i, layer in enumerate(model.stack):
        key = f"features.{i}"
        if VGG19_LAYERS[i].startswith("conv") and (
                strict or f"{key}.weight" in state or f"{key}.bias" in state):
            pairs += [(layer.kernel, f"{key}.weight", "conv2d"),
                      (layer.bias, f"{key}.bias", "vector")]
    assign_state_dict(pairs, state, path=path, strict=strict, ignore=("classifier.",))
    return sorted(name for _, name, _ in pairs)


def load_torchvision_vgg19(model, path, strict=True):
    """Load torchvision's ``vgg19-dcbb9e9d.pth`` (or any vgg19 state dict file) into ``model``.

    Reads the file with ``tfposegen.convert.torch_checkpoint.state_dict`` (no torch needed)
    and assigns it with :func:`assign_torchvision_vgg19` (same ``strict``).

    Args:
        model: a :class:`VGG19Features`.
        path: the .pth file.

    Returns:
        sorted list of the keys assigned.
    """
    from tfposegen.convert.torch_checkpoint import state_dict

    return assign_torchvision_vgg19(model, state_dict(path), strict=strict, path=str(path))


def seeded_vgg19_state(seed=0):
    """A torchvision-layout VGG19 ``features`` state dict drawn with numpy: He-normal kernels
    (std ``sqrt(2 / (9 * in))``), zero biases, in :data:`VGG19_LAYERS` order from
    ``numpy.random.default_rng(seed)``. The stand-in for ImageNet weights of the synthetic
    chains (nothing is downloaded); the same seed gives the same arrays, so a demo file need
    not store a frozen VGG. Load with :func:`assign_torchvision_vgg19`.

    Returns:
        dict ``features.{i}.weight`` float32 [O, I, 3, 3] / ``features.{i}.bias`` [O].
    """
    rng, state, cin = np.random.default_rng(seed), {}, 3
    for index, name in enumerate(VGG19_LAYERS):
        if name.startswith("conv"):
            cout = 64 * 2 ** min(int(name[4]) - 1, 3)
            std = np.sqrt(2.0 / (9 * cin))
            state[f"features.{index}.weight"] = (rng.standard_normal((cout, cin, 3, 3))
                                                 * std).astype(np.float32)
            state[f"features.{index}.bias"] = np.zeros(cout, np.float32)
            cin = cout
    return state


def _check_pair(a, b, what):
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"tfposegen.losses.perceptual.{what}: shapes differ, "
                         f"{list(a.shape)} vs {list(b.shape)}")


def _per_layer(feats_a, feats_b, layers, weights, what, distance):
    layers = tuple(layers)
    weights = (1.0,) * len(layers) if weights is None else tuple(weights)
    if len(weights) != len(layers):
        raise ValueError(f"tfposegen.losses.perceptual.{what}: {len(weights)} weights for "
                         f"{len(layers)} layers")
    total = 0.0
    for name, w in zip(layers, weights):
        if name not in feats_a or name not in feats_b:
            raise ValueError(f"tfposegen.losses.perceptual.{what}: no features for layer {name!r}")
        a, b = ops.cast(feats_a[name], "float32"), ops.cast(feats_b[name], "float32")
        _check_pair(a, b, what)
        total = total + float(w) * distance(a, b)
    return total


def content_l1(feats_a, feats_b, layers=DPTN_CONTENT_LAYERS, weights=None):
    """``sum_l w_l * mean|a_l - b_l|``: the content term of DPTN's ``VGGLoss``
    (models/external_function.py in PangzeCheung/Dual-task-Pose-Transformer-Network;
    ``nn.L1Loss`` means, weights 1.0 on relu1_1..relu5_1; DPTN multiplies by
    ``lambda_content`` = 0.5).

    Args:
        feats_a, feats_b: dicts {tap: [B, H, W, C]} (e.g. :class:`VGG19Features` outputs).
        layers: taps to use; weights: one per layer (default 1.0 each).

    Returns:
        float32 scalar >= 0.
    """
    return _per_layer(feats_a, feats_b, layers, weights, "content_l1",
                      lambda a, b: ops.mean(ops.abs(a - b)))


def content_mse(feats_a, feats_b, layers=DPTN_CONTENT_LAYERS, weights=None):
    """``sum_l w_l * mean((a_l - b_l)^2)``, as :func:`content_l1` with ``nn.MSELoss`` means.

    Returns:
        float32 scalar >= 0.
    """
    return _per_layer(feats_a, feats_b, layers, weights, "content_mse",
                      lambda a, b: ops.mean(ops.square(a - b)))


def l1_plus_perceptual(inputs, targets, input_feats, target_feats, lambda_l1=1.0,
                       lambda_perceptual=1.0, perceptual_is_l1=True):
    """ADGAN's ``L1_plus_perceptualLoss`` given the VGG features of both images.

    losses/L1_plus_perceptualLoss.py in menyifang/ADGAN: ``loss_l1 = mean|inputs - targets|
    * lambda_L1`` on the images, ``loss_perceptual = mean|f(inputs) - f(targets)| *
    lambda_perceptual`` (``percep_is_l1=1``, its default; mean squared error otherwise), with
    f = torchvision VGG19 ``features[0..perceptual_layers]``, ``perceptual_layers`` = 3, i.e.
    the :data:`ADGAN_PERCEPTUAL_LAYER` 'relu1_2' activation, on ImageNet-normalised images
    (``VGG19Features(layers='relu1_2', input_range='[-1,1]')``). The target features are
    detached. ADGAN's scripts/train.sh uses ``lambda_A = lambda_B = 1`` (option defaults 10).

    Args:
        inputs, targets: generated and real images [B, H, W, 3] in [-1, 1].
        input_feats, target_feats: their relu1_2 features [B, H, W, 64].
        lambda_l1, lambda_perceptual: the weights (``--lambda_A``, ``--lambda_B``).
        perceptual_is_l1: L1 (True) or MSE (False) between the features.

    Returns:
        (loss, loss_l1, loss_perceptual) float32 scalars, ``loss = loss_l1 + loss_perceptual``.
    """
    inputs, targets = ops.cast(inputs, "float32"), ops.cast(targets, "float32")
    fa = ops.cast(input_feats, "float32")
    fb = ops.stop_gradient(ops.cast(target_feats, "float32"))
    _check_pair(inputs, targets, "l1_plus_perceptual")
    _check_pair(fa, fb, "l1_plus_perceptual")
    loss_l1 = ops.mean(ops.abs(inputs - targets)) * lambda_l1
    diff = ops.abs(fa - fb) if perceptual_is_l1 else ops.square(fa - fb)
    loss_perceptual = ops.mean(diff) * lambda_perceptual
    return loss_l1 + loss_perceptual, loss_l1, loss_perceptual


def gram_matrix(features):
    """[B, H, W, C] -> Gram matrices [B, C, C] divided by C * H * W.

    ``compute_gram`` of DPTN's ``VGGLoss`` (models/external_function.py in
    PangzeCheung/Dual-task-Pose-Transformer-Network): ``f f^T / (h * w * ch)``. (ADGAN's
    ``GramMatrix`` in models/vgg.py divides by h * w only; ADGAN's training does not use it.)

    Returns:
        float32 [B, C, C], symmetric.
    """
    f = ops.cast(features, "float32")
    if len(f.shape) != 4:
        raise ValueError(f"gram_matrix: expected features [B, H, W, C], got {list(f.shape)}")
    b, h, w, c = ops.shape(f)
    f = ops.reshape(f, (b, h * w, c))
    gram = ops.matmul(ops.transpose(f, (0, 2, 1)), f)
    return gram / ops.cast(h * w * c, "float32")


def style_loss(feats_a, feats_b, layers=DPTN_STYLE_LAYERS, weights=None):
    """``sum_l w_l * mean|G(a_l) - G(b_l)|`` with :func:`gram_matrix` G.

    The style term of DPTN's ``VGGLoss`` (models/external_function.py in
    PangzeCheung/Dual-task-Pose-Transformer-Network): ``nn.L1Loss`` (mean over B * C * C)
    of the Gram matrices at relu2_2, relu3_4, relu4_4, relu5_2, unweighted; DPTN multiplies
    the sum by ``lambda_style`` = 500.

    Args:
        feats_a, feats_b: dicts {tap: [B, H, W, C]}.
        layers: taps; weights: one per layer (default 1.0 each).

    Returns:
        float32 scalar >= 0.
    """
    return _per_layer(feats_a, feats_b, layers, weights, "style_loss",
                      lambda a, b: ops.mean(ops.abs(gram_matrix(a) - gram_matrix(b))))


def contextual_loss(x_feats, y_feats, sigma=0.5, b=1.0, center=None):
    """Contextual loss (Mechrez et al. 2018) of features ``x`` against target ``y``.

    ``CXLoss`` in losses/CX_style_loss.py in menyifang/ADGAN, ``forward(featureT=y,
    featureI=x)`` (ADGAN calls ``CX_loss(vgg_style, vgg_fake)``: the real image's features
    are the target; it uses ``sigma=0.5``, b = 1, sums the loss over relu3_2 and relu4_2 and
    weights it by ``lambda_cx`` = 0.1). Steps, in the original's order:

    1. centre both by the target's mean channel vector, averaged over batch, H and W;
    2. L2-normalise every position along channels (no epsilon, as the original: an all-zero
       centred vector gives NaN);
    3. cosine similarity of every x position i with every y position j of the same sample,
       ``d_ij = (1 - cos_ij) / 2``;
    4. relative distance ``d_ij / (min_j d_ij + 1e-5)`` (minimum over the target positions);
    5. ``w_ij = exp((b - d_ij) / sigma)``, normalised to sum 1 over j;
    6. max over the x positions i, mean over j, ``-log``, mean over the batch.

    Args:
        x_feats: generated features [B, Hx, Wx, C].
        y_feats: target features [B, Hy, Wy, C] (same B and C; sizes may differ).
        sigma: bandwidth (> 0); b: the original's shift.
        center: the channel vector of step 1, broadcastable to [1, 1, 1, C] (default: the
            target's mean; a data-parallel trainer passes the mean of the global batch).

    Returns:
        float32 scalar >= 0.
    """
    x = ops.cast(x_feats, "float32")
    y = ops.cast(y_feats, "float32")
    if len(x.shape) != 4 or len(y.shape) != 4:
        raise ValueError("contextual_loss: expected features [B, H, W, C], got "
                         f"{list(x.shape)} and {list(y.shape)}")
    if x.shape[0] != y.shape[0] or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"contextual_loss: batch / channels differ: {list(x.shape)} vs "
                         f"{list(y.shape)}")
    if not sigma > 0:
        raise ValueError(f"contextual_loss: sigma must be > 0, got {sigma}")
    mean_y = ops.mean(y, axis=(0, 1, 2), keepdims=True) if center is None else center
    x, y = x - mean_y, y - mean_y
    x = x / ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True))
    y = y / ops.sqrt(ops.sum(ops.square(y), axis=-1, keepdims=True))
    batch, channels = ops.shape(x)[0], ops.shape(x)[-1]
    x = ops.reshape(x, (batch, -1, channels))
    y = ops.reshape(y, (batch, -1, channels))
    cosine = ops.matmul(x, ops.transpose(y, (0, 2, 1)))  # [B, Px, Py]
    dist = (1.0 - cosine) / 2.0
    rel = dist / (ops.min(dist, axis=-1, keepdims=True) + 1e-5)
    w = ops.exp((b - rel) / sigma)
    cx = w / ops.sum(w, axis=-1, keepdims=True)
    cx = ops.mean(ops.max(cx, axis=1), axis=-1)  # [B]
    return ops.mean(-ops.log(cx))
