"""DPIG networks (Ma et al., "Disentangled Person Image Generation", CVPR 2018) in Keras 3, NHWC.

The TF1 code builds every network but the critics from ``tf.contrib.slim`` layers, and the
critics from ``tflib``. Each Keras layer here is named after the TF1 layer it replaces, and
each model lists its weights under their TF1 checkpoint names (``tf1_variables()``), so that
``tfposegen.convert.tf1_checkpoint`` loads released checkpoints by name
(reference/dpig.md sections 3 and 9):

* slim layers (``Conv2D`` / ``Dense`` named ``Conv``, ``Conv_1``, ... ``fully_connected``,
  ``fully_connected_1``, ... in creation order, separate counters): ``<tf_scope>/<layer>/weights``
  and ``.../biases``. Glorot-uniform kernels and zero biases, as slim's defaults.
* tflib layers (named ``<prefix>Discriminator.<n>``): ``<layer>/<layer>.Filters`` /
  ``.Biases`` (convs), ``<layer>/<layer>.W`` / ``.b`` (linears) and ``<prefix>Discriminator.BN<n>.
  {offset,scale,moving_mean,moving_variance}`` (batch norm, no scope).

Kernels keep the TF1 layouts ([k, k, Cin, Cout] and [in, out]), so checkpoint arrays load
unchanged; the image critic transposes its last feature map to NCHW before flattening, as the
original (which runs in NCHW) does, so its 16384-row linear weight also loads unchanged.

Value ranges: images float32 in [-1, 1]; pose maps {-1, +1} (``tfposegen.ops.pose``); part
boxes (y1, x1, y2, x2) in pixels of the input image; visibilities and masks {0, 1}; embeddings
and generator outputs unbounded (no tanh: the generator's output is in "[-1, 1] units" but is
clipped only when converted to pixels).

``network_specs`` / ``build_networks`` give the full-size DeepFashion (256x256) and
Market-1501 (128x64) configurations of the released scripts.
"""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfposegen.nets.shapes import check_shape
from tfposegen.ops.resize import resize_nearest_legacy

TFLIB_UNIFORM_STD = 0.02  # tflib's ``set_weights_stdev(0.02)`` used by the image critic


def straight_through_round(x):
    """Round to the nearest integer (half to even, as ``tf.round``) with an identity gradient.

    The TF1 code overrides the gradient of ``tf.round`` with ``Identity``; here
    ``x + stop_gradient(round(x) - x)``, which equals ``round(x)`` exactly for x in [0, 1].

    Args:
        x: float tensor, any shape (the pose decoder's sigmoid outputs in [0, 1]).

    Returns:
        tensor of the shape of ``x`` with integer values; d(out)/dx = 1.
    """
    return x + ops.stop_gradient(ops.round(x) - x)


def broadcast_embedding(embedding, height, width):
    """Repeat an embedding over all pixels: [B, D] -> [B, height, width, D].

    The TF1 code tiles to [B, D, H*W], reshapes to NCHW and transposes to NHWC; every pixel
    then holds the whole embedding, which is what this returns.

    Args:
        embedding: float tensor [B, D] (D = 224 on DeepFashion, 352 on Market), unbounded.
        height, width: ints, the image size.

    Returns:
        float tensor [B, height, width, D].
    """
    return ops.tile(embedding[:, None, None, :], [1, int(height), int(width), 1])


def _halve(size):
    """Output size of a stride-2 SAME convolution: ceil(size / 2)."""
    return (size + 1) // 2


class _SlimNames:
    """slim's layer names in one variable scope: ``Conv``, ``Conv_1``, ... per layer type."""

    def __init__(self):
        self.counts = {}

    def __call__(self, base):
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"


def _conv(names, filters, kernel_size=3, strides=1, activation=None):
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                               activation=activation, name=names("Conv"))


def _dense(names, units, activation=None):
    return keras.layers.Dense(units, activation=activation, name=names("fully_connected"))


class ResidualConv(keras.layers.Layer):
    """DPIG's residual block: ``y = x + act(conv_b(act(conv_a(x))))``, identity skip.

    Two 3x3 SAME convolutions with bias keeping ``filters`` channels; no activation after the
    add. Input and output [B, H, W, filters].

    Args:
        filters: channel count (must equal the input's).
        conv_names: TF1 names of the two convolutions (e.g. ``("Conv_1", "Conv_2")``).
        activation: Keras activation name ("relu" in the encoders and the generator).
    """

    def __init__(self, filters, conv_names, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.activation = int(filters), activation
        self.conv_names = list(conv_names)
        self.conv_a, self.conv_b = (
            keras.layers.Conv2D(self.filters, 3, padding="same", activation=activation, name=n)
            for n in self.conv_names)

    def build(self, input_shape):
        if input_shape[-1] != self.filters:
            raise ValueError(f"{self.name}: input has {input_shape[-1]} channels, the identity "
                             f"skip needs {self.filters}")
        self.conv_a.build(input_shape)
        self.conv_b.build(input_shape)
        self.built = True

    def call(self, x):
        return x + self.conv_b(self.conv_a(x))

    def slim_layers(self):
        """The two convolutions, in TF1 creation order."""
        return [self.conv_a, self.conv_b]

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "conv_names": self.conv_names, "activation": self.activation}


class ResidualDense(keras.layers.Layer):
    """Fully connected residual block: ``y = x + act(fc_b(act(fc_a(x))))``.

    Input and output [B, units]. Used by the pose auto-encoder and the mapping networks with
    activation "leaky_relu" (slope 0.2, the ``LeakyReLU`` of the TF1 code's ``wgan_gp.py``).

    Args:
        units: width (must equal the input's).
        dense_names: TF1 names of the two layers (e.g. ``("fully_connected_1",
            "fully_connected_2")``).
        activation: Keras activation name.
    """

    def __init__(self, units, dense_names, activation="leaky_relu", **kwargs):
        super().__init__(**kwargs)
        self.units, self.activation = int(units), activation
        self.dense_names = list(dense_names)
        self.fc_a, self.fc_b = (keras.layers.Dense(self.units, activation=activation, name=n)
                                for n in self.dense_names)

    def build(self, input_shape):
        if input_shape[-1] != self.units:
            raise ValueError(f"{self.name}: input has {input_shape[-1]} features, the identity "
                             f"skip needs {self.units}")
        self.fc_a.build(input_shape)
        self.fc_b.build(input_shape)
        self.built = True

    def call(self, x):
        return x + self.fc_b(self.fc_a(x))

    def slim_layers(self):
        """The two dense layers, in TF1 creation order."""
        return [self.fc_a, self.fc_b]

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "dense_names": self.dense_names, "activation": self.activation}


class BodyROICrop(keras.layers.Layer):
    """Crop body-part boxes from a feature map, stacked part-major (``tf.image.crop_and_resize``).

    As the TF1 encoders: boxes are divided by the map's height / width (not H-1), bilinear
    sampling with extrapolation value 0, and the crops of all parts are concatenated along the
    batch axis part by part (rows ``p*B .. p*B+B-1`` are part ``p``).

    Call ``layer(features, boxes)``:
        features: float [B, H, W, C] (static H, W).
        boxes: [B, P, 4] (y1, x1, y2, x2) in pixels, any numeric dtype (the records' int64).

    Returns:
        float [P*B, roi_size, roi_size, C].
    """

    def __init__(self, roi_size, **kwargs):
        super().__init__(**kwargs)
        self.roi_size = int(roi_size)

    def call(self, features, boxes):
        h, w = features.shape[1], features.shape[2]
        boxes = ops.cast(boxes, "float32") / np.array([h, w, h, w], np.float32)
        parts = boxes.shape[1]
        boxes = ops.reshape(ops.transpose(boxes, [1, 0, 2]), [-1, 4])
        index = ops.tile(ops.arange(ops.shape(features)[0], dtype="int32"), [parts])
        return tf.image.crop_and_resize(features, boxes, index, [self.roi_size, self.roi_size])

    def get_config(self):
        return {**super().get_config(), "roi_size": self.roi_size}


class _ExplicitSignatureModel(keras.Model):
    """A multi-input model without Keras' implicit SavedModel signature (traced from build
    shapes, which these models do not record); ``tfposegen.export`` gives explicit ones."""

    @property
    def _default_save_signature(self):
        return None


class _SlimModel(_ExplicitSignatureModel):
    """A model of slim layers inside one TF1 variable scope (``tf_scope``)."""

    def __init__(self, tf_scope="", **kwargs):
        super().__init__(**kwargs)
        self.tf_scope = tf_scope

    def _slim_layers(self):
        """Conv2D / Dense / residual layers in TF1 creation order."""
        raise NotImplementedError

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable), every weight once, in TF1 order."""
        out = []
        for layer in self._slim_layers():
            leaves = layer.slim_layers() if hasattr(layer, "slim_layers") else [layer]
            for leaf in leaves:
                out.append((f"{self.tf_scope}/{leaf.name}/weights", leaf.kernel))
                out.append((f"{self.tf_scope}/{leaf.name}/biases", leaf.bias))
        return out

    def tf1_owns(self, key):
        """Whether a checkpoint key is a model variable of this model's scope (slot variables
        such as ``.../weights/Adam`` are not)."""
        scope, _, leaf = key.rpartition("/")
        return leaf in ("weights", "biases") and scope.startswith(f"{self.tf_scope}/")

    def get_config(self):
        return {**super().get_config(), "tf_scope": self.tf_scope}


def _conv_stages(names, num_blocks, hidden, activation, prefix):
    """Residual stages (encoders, generator encoder half): block k at hidden*(k+1) channels,
    then (k < n-1) a 3x3 stride-2 conv to hidden*(k+2). Returns [(ResidualConv, conv | None)]."""
    stages = []
    for k in range(num_blocks):
        filters = hidden * (k + 1)
        block = ResidualConv(filters, (names("Conv"), names("Conv")), activation,
                             name=f"{prefix}block{k}")
        down = None
        if k < num_blocks - 1:
            down = _conv(names, hidden * (k + 2), 3, 2, activation)
        stages.append((block, down))
    return stages


def _build_stages(stages, shape):
    """Build ``_conv_stages`` for an input shape (B, H, W, C); returns the output shape."""
    b, h, w, _ = shape
    for block, down in stages:
        block.build((b, h, w, block.filters))
        if down is not None:
            down.build((b, h, w, block.filters))
            h, w = _halve(h), _halve(w)
    return b, h, w, stages[-1][0].filters


def _run_stages(stages, x, skips=None):
    for block, down in stages:
        x = block(x)
        if skips is not None:
            skips.append(x)
        if down is not None:
            x = down(x)
    return x


def _stage_layers(stages):
    out = []
    for block, down in stages:
        out += [block] + ([down] if down is not None else [])
    return out


def _part_features(flat, num_parts, part_dim, visibility):
    """[P*B, d] part-major rows -> [B, P*d] (parts 1..P along features), times visibility."""
    parts = ops.transpose(ops.reshape(flat, [num_parts, -1, part_dim]), [1, 0, 2])
    if visibility is not None:
        parts = parts * ops.cast(visibility, parts.dtype)[:, :, None]
    return ops.reshape(parts, [-1, num_parts * part_dim])


class BodyROIEncoder(_SlimModel):
    """DeepFashion appearance encoder (``GeneratorCNN_ID_Encoder_BodyROIVis``, scope
    ``Encoder/G_encoder``), reference/dpig.md 3.2.

    Stem conv 3x3 3->hidden + ReLU and a residual block on the whole image; the part boxes
    are cropped from that map to roi_size^2 (``BodyROICrop``, part-major, weights shared by
    all parts); ``num_blocks`` residual stages (channels hidden..hidden*num_blocks, stride-2
    convs between them); flatten (H, W, C order); FC -> part_dim (linear); part i's features
    multiplied by its visibility (``use_visibility``); parts concatenated.

    Released configurations: models 101 / 1001 / 1002 use ``use_visibility=True,
    roi_size=64``; models 103 / 104 use the variant ``GeneratorCNN_ID_Encoder_BodyROI``
    (``use_visibility=False, roi_size=48``) with the same variables, so both load MODEL101.

    Call ``encoder(images, boxes, visibility=None)``:
        images: float [B, H, W, 3] in [-1, 1].
        boxes: [B, num_parts, 4] (y1, x1, y2, x2) pixels (parts 1-7 of the records).
        visibility: [B, num_parts] in {0, 1}; required with ``use_visibility``, ignored
            without.

    Returns:
        float [B, num_parts * part_dim] (224 for DeepFashion), unbounded.
    """

    def __init__(self, image_shape=(256, 256), num_parts=7, part_dim=32, num_blocks=7,
                 hidden=128, roi_size=64, use_visibility=True, activation="relu",
                 tf_scope="Encoder/G_encoder", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.num_parts, self.part_dim = int(num_parts), int(part_dim)
        self.num_blocks, self.hidden, self.roi_size = int(num_blocks), int(hidden), int(roi_size)
        self.use_visibility, self.activation = bool(use_visibility), activation
        names = _SlimNames()
        self.stem = _conv(names, self.hidden, 3, 1, activation)
        self.stem_res = ResidualConv(self.hidden, (names("Conv"), names("Conv")), activation,
                                     name="stem_res")
        self.crop = BodyROICrop(self.roi_size, name="roi_crop")
        self.stages = _conv_stages(names, self.num_blocks, self.hidden, activation, "")
        self.fc = _dense(names, self.part_dim)
        self.build(None)

    def build(self, input_shape):
        h, w = self.image_shape
        self.stem.build((None, h, w, 3))
        self.stem_res.build((None, h, w, self.hidden))
        _, rh, rw, c = _build_stages(self.stages, (None, self.roi_size, self.roi_size,
                                                   self.hidden))
        self.fc.build((None, rh * rw * c))
        self.built = True

    def _slim_layers(self):
        return [self.stem, self.stem_res] + _stage_layers(self.stages) + [self.fc]

    def call(self, images, boxes, visibility=None):
        check_shape("images", images, (None, *self.image_shape, 3))
        check_shape("boxes", boxes, (None, self.num_parts, 4))
        if self.use_visibility and visibility is None:
            raise ValueError("BodyROIEncoder(use_visibility=True) needs visibility "
                             f"[B, {self.num_parts}]")
        x = self.stem_res(self.stem(ops.cast(images, "float32")))
        x = _run_stages(self.stages, self.crop(x, boxes))
        x = self.fc(ops.reshape(x, [ops.shape(x)[0], -1]))
        return _part_features(x, self.num_parts, self.part_dim,
                              visibility if self.use_visibility else None)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "num_parts": self.num_parts, "part_dim": self.part_dim,
                "num_blocks": self.num_blocks, "hidden": self.hidden,
                "roi_size": self.roi_size, "use_visibility": self.use_visibility,
                "activation": self.activation}


class FgBgEncoder(_SlimModel):
    """Market-1501 foreground / background appearance encoder
    (``GeneratorCNN_ID_Encoder_BodyROIVis_FgBgFeaTwoBranch``, scope ``Encoder/G_encoder``),
    reference/dpig.md 3.3.

    Stem conv + residual block -> F; foreground branch on the part boxes cropped from
    ``F * mask`` (as ``BodyROIEncoder``, with visibility); background branch (own weights) on the
    whole ``F * (1 - mask)``: ``num_blocks`` stages, flatten, FC -> bg_dim. Layer order (and so
    the TF1 names): stem Conv..Conv_2, foreground convs, ``fully_connected``, background convs,
    ``fully_connected_1``.

    Call ``encoder(images, fg_mask, boxes, visibility)``:
        images: float [B, H, W, 3] in [-1, 1].
        fg_mask: [B, H, W, 1] in {0, 1} (the records' ``pose_mask_r6``, radius 7).
        boxes: [B, num_parts, 4] (y1, x1, y2, x2) pixels.
        visibility: [B, num_parts] in {0, 1}.

    Returns:
        float [B, num_parts * part_dim + bg_dim] = [fg part 1..P | bg] (352 on Market).
    """

    def __init__(self, image_shape=(128, 64), num_parts=7, part_dim=32, num_blocks=5,
                 hidden=128, roi_size=48, bg_dim=128, activation="relu",
                 tf_scope="Encoder/G_encoder", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.num_parts, self.part_dim = int(num_parts), int(part_dim)
        self.num_blocks, self.hidden, self.roi_size = int(num_blocks), int(hidden), int(roi_size)
        self.bg_dim, self.activation = int(bg_dim), activation
        names = _SlimNames()
        self.stem = _conv(names, self.hidden, 3, 1, activation)
        self.stem_res = ResidualConv(self.hidden, (names("Conv"), names("Conv")), activation,
                                     name="stem_res")
        self.crop = BodyROICrop(self.roi_size, name="roi_crop")
        self.fg_stages = _conv_stages(names, self.num_blocks, self.hidden, activation, "fg_")
        self.fg_fc = _dense(names, self.part_dim)
        self.bg_stages = _conv_stages(names, self.num_blocks, self.hidden, activation, "bg_")
        self.bg_fc = _dense(names, self.bg_dim)
        self.build(None)

    def build(self, input_shape):
        h, w = self.image_shape
        self.stem.build((None, h, w, 3))
        self.stem_res.build((None, h, w, self.hidden))
        _, rh, rw, c = _build_stages(self.fg_stages, (None, self.roi_size, self.roi_size,
                                                      self.hidden))
        self.fg_fc.build((None, rh * rw * c))
        _, bh, bw, c = _build_stages(self.bg_stages, (None, h, w, self.hidden))
        self.bg_fc.build((None, bh * bw * c))
        self.built = True

    def _slim_layers(self):
        return ([self.stem, self.stem_res] + _stage_layers(self.fg_stages) + [self.fg_fc]
                + _stage_layers(self.bg_stages) + [self.bg_fc])

    def call(self, images, fg_mask, boxes, visibility):
        check_shape("images", images, (None, *self.image_shape, 3))
        check_shape("fg_mask", fg_mask, (None, *self.image_shape, 1))
        check_shape("boxes", boxes, (None, self.num_parts, 4))
        x = self.stem_res(self.stem(ops.cast(images, "float32")))
        mask = ops.cast(fg_mask, "float32")
        fg = _run_stages(self.fg_stages, self.crop(x * mask, boxes))
        fg = self.fg_fc(ops.reshape(fg, [ops.shape(fg)[0], -1]))
        fg = _part_features(fg, self.num_parts, self.part_dim, visibility)
        bg = _run_stages(self.bg_stages, x * (1.0 - mask))
        bg = self.bg_fc(ops.reshape(bg, [ops.shape(bg)[0], -1]))
        return ops.concatenate([fg, bg], axis=-1)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "num_parts": self.num_parts, "part_dim": self.part_dim,
                "num_blocks": self.num_blocks, "hidden": self.hidden,
                "roi_size": self.roi_size, "bg_dim": self.bg_dim, "activation": self.activation}


class UAEGenerator(_SlimModel):
    """The U-shaped auto-encoder generator ``GeneratorCNN_ID_UAEAfterResidual`` (scope
    ``ID_AE/G``), reference/dpig.md 3.5.

    Input concat([embedding map, pose map]) (embedding channels first). Encoder: stem conv
    3x3 -> hidden; blocks k = 0..n-1 (residual at hidden*(k+1) channels, output kept as skip
    S_k, then for k < n-1 a stride-2 conv to hidden*(k+2)); flatten; FC -> z_num (linear);
    FC -> h*w*hidden (linear), reshape to the encoder's last map size. Decoder blocks
    k = 0..n-1: concat([x, S_(n-1-k)]) (decoder features first), residual at that channel
    count, then for k < n-1 a 2x nearest upsample (TF1 ``resize_nearest_neighbor``: pixel
    duplication) and conv 1x1 -> hidden*(n-1-k). Output conv 3x3 -> out_channels, linear.
    ReLU after every other conv; no noise input.

    Call ``generator(embedding, pose_map)``:
        embedding: float [B, embed_dim] (broadcast to every pixel) or the broadcast map
            [B, H, W, embed_dim].
        pose_map: float [B, H, W, pose_channels] in {-1, +1} (18 inflated keypoint maps).

    Returns:
        float [B, H, W, out_channels], in [-1, 1] units but unbounded (no tanh).
    """

    def __init__(self, image_shape=(256, 256), embed_dim=224, pose_channels=18,
                 out_channels=3, num_blocks=5, hidden=128, z_num=64, activation="relu",
                 tf_scope="ID_AE/G", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.embed_dim, self.pose_channels = int(embed_dim), int(pose_channels)
        self.out_channels, self.num_blocks = int(out_channels), int(num_blocks)
        self.hidden, self.z_num, self.activation = int(hidden), int(z_num), activation
        factor = 2 ** (self.num_blocks - 1)
        if any(s % factor for s in self.image_shape):
            raise ValueError(f"UAEGenerator: image size {list(self.image_shape)} must be "
                             f"divisible by 2**(num_blocks-1) = {factor}")
        self.bottom_shape = tuple(s // factor for s in self.image_shape)
        n, hid = self.num_blocks, self.hidden
        names = _SlimNames()
        self.stem = _conv(names, hid, 3, 1, activation)
        self.enc_stages = _conv_stages(names, n, hid, activation, "enc_")
        self.fc_z = _dense(names, self.z_num)
        self.fc_dec = _dense(names, self.bottom_shape[0] * self.bottom_shape[1] * hid)
        self.dec_stages = []
        for k in range(n):
            filters = hid * (1 + n) if k == 0 else 2 * hid * (n - k)
            block = ResidualConv(filters, (names("Conv"), names("Conv")), activation,
                                 name=f"dec_block{k}")
            up = _conv(names, hid * (n - 1 - k), 1, 1, activation) if k < n - 1 else None
            self.dec_stages.append((block, up))
        self.out_conv = _conv(names, self.out_channels, 3, 1, None)
        self.build(None)

    def build(self, input_shape):
        h, w = self.image_shape
        self.stem.build((None, h, w, self.embed_dim + self.pose_channels))
        _, bh, bw, c = _build_stages(self.enc_stages, (None, h, w, self.hidden))
        self.fc_z.build((None, bh * bw * c))
        self.fc_dec.build((None, self.z_num))
        for block, up in self.dec_stages:
            block.build((None, bh, bw, block.filters))
            if up is not None:
                bh, bw = 2 * bh, 2 * bw
                up.build((None, bh, bw, block.filters))
        self.out_conv.build((None, h, w, self.dec_stages[-1][0].filters))
        self.built = True

    def _slim_layers(self):
        return ([self.stem] + _stage_layers(self.enc_stages) + [self.fc_z, self.fc_dec]
                + _stage_layers(self.dec_stages) + [self.out_conv])

    def call(self, embedding, pose_map):
        h, w = self.image_shape
        if len(embedding.shape) == 2:
            embedding = broadcast_embedding(ops.cast(embedding, "float32"), h, w)
        check_shape("embedding", embedding, (None, h, w, self.embed_dim))
        check_shape("pose_map", pose_map, (None, h, w, self.pose_channels))
        x = ops.concatenate([ops.cast(embedding, "float32"), ops.cast(pose_map, "float32")],
                            axis=-1)
        skips = []
        x = _run_stages(self.enc_stages, self.stem(x), skips)
        z = self.fc_z(ops.reshape(x, [ops.shape(x)[0], -1]))
        x = ops.reshape(self.fc_dec(z), [-1, *self.bottom_shape, self.hidden])
        for k, (block, up) in enumerate(self.dec_stages):
            x = block(ops.concatenate([x, skips[-1 - k]], axis=-1))
            if up is not None:
                x = up(resize_nearest_legacy(x, (2 * x.shape[1], 2 * x.shape[2])))
        return self.out_conv(x)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "embed_dim": self.embed_dim, "pose_channels": self.pose_channels,
                "out_channels": self.out_channels, "num_blocks": self.num_blocks,
                "hidden": self.hidden, "z_num": self.z_num, "activation": self.activation}


class PoseEncoder(_SlimModel):
    """Pose encoder ``PoseEncoderFCRes`` (scope ``PoseAE/G_Pose_Encoder``), dpig.md 3.7.

    FC keypoints*3 -> hidden + LeakyReLU(0.2); ``num_blocks`` ``ResidualDense`` blocks; FC ->
    z_dim (linear).

    Call ``encoder(rcv_norm)``: normalised RCV [B, keypoints, 3] or [B, keypoints*3]
    (rows / cols in [-1, 1] as ``tfposegen.ops.pose.normalize_rcv``, visibility {0, 1};
    missing keypoints (-1, -1, 0)). Returns the pose embedding [B, z_dim], unbounded.
    """

    def __init__(self, keypoints=18, z_dim=32, hidden=512, num_blocks=4,
                 activation="leaky_relu", tf_scope="PoseAE/G_Pose_Encoder", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.keypoints, self.z_dim = int(keypoints), int(z_dim)
        self.hidden, self.num_blocks, self.activation = int(hidden), int(num_blocks), activation
        names = _SlimNames()
        self.fc_in = _dense(names, self.hidden, activation)
        self.blocks = [ResidualDense(self.hidden, (names("fully_connected"),
                                                   names("fully_connected")), activation,
                                     name=f"block{i}") for i in range(self.num_blocks)]
        self.fc_out = _dense(names, self.z_dim)
        self.build(None)

    def build(self, input_shape):
        self.fc_in.build((None, 3 * self.keypoints))
        for block in self.blocks:
            block.build((None, self.hidden))
        self.fc_out.build((None, self.hidden))
        self.built = True

    def _slim_layers(self):
        return [self.fc_in, *self.blocks, self.fc_out]

    def call(self, rcv_norm):
        x = ops.reshape(ops.cast(rcv_norm, "float32"), [-1, 3 * self.keypoints])
        x = self.fc_in(x)
        for block in self.blocks:
            x = block(x)
        return self.fc_out(x)

    def get_config(self):
        return {**super().get_config(), "keypoints": self.keypoints, "z_dim": self.z_dim,
                "hidden": self.hidden, "num_blocks": self.num_blocks,
                "activation": self.activation}


class PoseDecoder(_SlimModel):
    """Pose decoder ``PoseDecoderFCRes`` (scope ``PoseAE/G_Pose_Decoder``), dpig.md 3.7.

    FC z_dim -> hidden (linear); ``num_blocks`` ``ResidualDense`` blocks (LeakyReLU 0.2); two
    heads from the same features: FC -> keypoints*2 (linear; (r', c') per keypoint) and FC ->
    keypoints + sigmoid, rounded to {0, 1} with a straight-through (identity) gradient.

    Call ``decoder(z, hard_visibility=True)``:
        z: float [B, z_dim].
        hard_visibility: False returns the sigmoid probabilities instead of the rounded
            visibility (same gradient).

    Returns:
        float [B, keypoints, 3] = (r', c', v): normalised coordinates (nominally [-1, 1],
        unbounded) and visibility in {0, 1} (or [0, 1]).
    """

    def __init__(self, keypoints=18, z_dim=32, hidden=512, num_blocks=4,
                 activation="leaky_relu", tf_scope="PoseAE/G_Pose_Decoder", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.keypoints, self.z_dim = int(keypoints), int(z_dim)
        self.hidden, self.num_blocks, self.activation = int(hidden), int(num_blocks), activation
        names = _SlimNames()
        self.fc_in = _dense(names, self.hidden)
        self.blocks = [ResidualDense(self.hidden, (names("fully_connected"),
                                                   names("fully_connected")), activation,
                                     name=f"block{i}") for i in range(self.num_blocks)]
        self.fc_coord = _dense(names, 2 * self.keypoints)
        self.fc_visible = _dense(names, self.keypoints, "sigmoid")
        self.build(None)

    def build(self, input_shape):
        self.fc_in.build((None, self.z_dim))
        for block in self.blocks:
            block.build((None, self.hidden))
        self.fc_coord.build((None, self.hidden))
        self.fc_visible.build((None, self.hidden))
        self.built = True

    def _slim_layers(self):
        return [self.fc_in, *self.blocks, self.fc_coord, self.fc_visible]

    def call(self, z, hard_visibility=True):
        check_shape("z", z, (None, self.z_dim))
        x = self.fc_in(ops.cast(z, "float32"))
        for block in self.blocks:
            x = block(x)
        coord = ops.reshape(self.fc_coord(x), [-1, self.keypoints, 2])
        visible = self.fc_visible(x)
        if hard_visibility:
            visible = straight_through_round(visible)
        return ops.concatenate([coord, visible[:, :, None]], axis=-1)

    def get_config(self):
        return {**super().get_config(), "keypoints": self.keypoints, "z_dim": self.z_dim,
                "hidden": self.hidden, "num_blocks": self.num_blocks,
                "activation": self.activation}


class PoseAutoEncoder(keras.Model):
    """The pose auto-encoder (scope ``PoseAE``): ``PoseEncoder`` then ``PoseDecoder``.

    Call ``ae(rcv_norm, hard_visibility=True)``: normalised RCV [B, keypoints, 3] (or
    [B, keypoints*3]) -> reconstruction [B, keypoints, 3] (see ``PoseDecoder``). ``encode``
    and ``decode`` run the halves.
    """

    def __init__(self, keypoints=18, z_dim=32, hidden=512, num_blocks=4,
                 activation="leaky_relu", tf_scope="PoseAE", **kwargs):
        super().__init__(**kwargs)
        self.keypoints, self.z_dim = int(keypoints), int(z_dim)
        self.hidden, self.num_blocks, self.activation = int(hidden), int(num_blocks), activation
        self.tf_scope = tf_scope
        common = {"keypoints": keypoints, "z_dim": z_dim, "hidden": hidden,
                  "num_blocks": num_blocks, "activation": activation}
        self.encoder = PoseEncoder(**common, tf_scope=f"{tf_scope}/G_Pose_Encoder",
                                   name="pose_encoder")
        self.decoder = PoseDecoder(**common, tf_scope=f"{tf_scope}/G_Pose_Decoder",
                                   name="pose_decoder")
        self.built = True

    def encode(self, rcv_norm):
        """Normalised RCV [B, keypoints, 3] -> pose embedding [B, z_dim]."""
        return self.encoder(rcv_norm)

    def decode(self, z, hard_visibility=True):
        """Pose embedding [B, z_dim] -> normalised RCV [B, keypoints, 3]."""
        return self.decoder(z, hard_visibility=hard_visibility)

    def call(self, rcv_norm, hard_visibility=True):
        return self.decoder(self.encoder(rcv_norm), hard_visibility=hard_visibility)

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable): encoder's, then decoder's."""
        return self.encoder.tf1_variables() + self.decoder.tf1_variables()

    def tf1_owns(self, key):
        """Whether a checkpoint key is a model variable of the encoder or decoder scope."""
        return self.encoder.tf1_owns(key) or self.decoder.tf1_owns(key)

    def get_config(self):
        return {**super().get_config(), "keypoints": self.keypoints, "z_dim": self.z_dim,
                "hidden": self.hidden, "num_blocks": self.num_blocks,
                "activation": self.activation, "tf_scope": self.tf_scope}


class GaussianFCMapping(_SlimModel):
    """Stage-II mapping network ``GaussianFCRes`` (scope ``<name>/G_FC``), dpig.md 3.8.

    FC dim -> hidden + LeakyReLU(0.2); ``num_blocks`` ``ResidualDense`` blocks; FC -> dim
    (linear). Instances: ``Gaussian_FC`` (224 / 512), ``PoseGaussian`` (32 / 512),
    ``Gaussian_FC_Fg`` (224 / 512), ``Gaussian_FC_Bg`` (128 / 256).

    Call ``mapping(z)``: noise [B, dim] (N(0, noise_stddev^2) in the original) -> fake
    embedding [B, dim], unbounded. ``sample(batch_size, seed)`` draws the noise itself.
    """

    def __init__(self, dim=224, hidden=512, num_blocks=4, noise_stddev=0.2,
                 activation="leaky_relu", tf_scope="Gaussian_FC/G_FC", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.dim, self.hidden, self.num_blocks = int(dim), int(hidden), int(num_blocks)
        self.noise_stddev, self.activation = float(noise_stddev), activation
        names = _SlimNames()
        self.fc_in = _dense(names, self.hidden, activation)
        self.blocks = [ResidualDense(self.hidden, (names("fully_connected"),
                                                   names("fully_connected")), activation,
                                     name=f"block{i}") for i in range(self.num_blocks)]
        self.fc_out = _dense(names, self.dim)
        self.build(None)

    def build(self, input_shape):
        self.fc_in.build((None, self.dim))
        for block in self.blocks:
            block.build((None, self.hidden))
        self.fc_out.build((None, self.hidden))
        self.built = True

    def _slim_layers(self):
        return [self.fc_in, *self.blocks, self.fc_out]

    def call(self, z):
        check_shape("z", z, (None, self.dim))
        x = self.fc_in(ops.cast(z, "float32"))
        for block in self.blocks:
            x = block(x)
        return self.fc_out(x)

    def sample(self, batch_size, seed=None):
        """Map fresh noise z ~ N(0, noise_stddev^2) [batch_size, dim] -> [batch_size, dim]."""
        z = keras.random.normal((int(batch_size), self.dim), stddev=self.noise_stddev,
                                seed=seed)
        return self(z)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hidden": self.hidden,
                "num_blocks": self.num_blocks, "noise_stddev": self.noise_stddev,
                "activation": self.activation}


class TflibBatchNorm(keras.layers.Layer):
    """tflib's fused batch norm as DPIG's image critic uses it: always batch statistics.

    Per channel over (N, H, W), biased variance, epsilon 1e-5:
    ``y = (x - mean) / sqrt(var + eps) * scale + offset``. ``is_training`` is never passed in
    the TF1 code, so the batch statistics are used in training and at test time alike, and the
    non-trainable ``moving_mean`` / ``moving_variance`` (kept so checkpoints load) are never
    read or updated. The output of one image therefore depends on the rest of its batch.
    Under a ``tf.distribute`` strategy with several replicas the statistics are those of the
    global batch (sums all-reduced), so the replicas compute what one device would.

    Input / output [N, H, W, C]. Variables (TF1 names ``<tf_name>.<variable>``): ``offset``
    (beta, zeros), ``scale`` (gamma, ones), ``moving_mean`` (zeros), ``moving_variance`` (ones).

    Args:
        tf_name: the tflib name, e.g. ``"Discriminator.BN2"``.
        epsilon: 1e-5 in tflib.
    """

    VARIABLES = ("offset", "scale", "moving_mean", "moving_variance")

    def __init__(self, tf_name, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.tf_name, self.epsilon = tf_name, float(epsilon)

    def build(self, input_shape):
        c = (int(input_shape[-1]),)
        self.offset = self.add_weight(name="offset", shape=c, initializer="zeros")
        self.scale = self.add_weight(name="scale", shape=c, initializer="ones")
        self.moving_mean = self.add_weight(name="moving_mean", shape=c, initializer="zeros",
                                           trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=c,
                                               initializer="ones", trainable=False)
        self.built = True

    def call(self, x):
        ctx = tf.distribute.get_replica_context()
        if ctx is not None and ctx.num_replicas_in_sync > 1:
            # statistics of the global batch, as on one device (sums all-reduced)
            n = ops.cast(ops.prod(ops.shape(x)[:3]), x.dtype)
            total, squares, n = ctx.all_reduce("sum", [ops.sum(x, [0, 1, 2], keepdims=True),
                                                       ops.sum(x * x, [0, 1, 2], keepdims=True),
                                                       n])
            mean = total / n
            var = ops.maximum(squares / n - mean * mean, 0.0)
        else:
            mean, var = ops.moments(x, axes=[0, 1, 2], keepdims=True)
        return (x - mean) * ops.rsqrt(var + self.epsilon) * self.scale + self.offset

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable)."""
        return [(f"{self.tf_name}.{v}", getattr(self, v)) for v in self.VARIABLES]

    def get_config(self):
        return {**super().get_config(), "tf_name": self.tf_name, "epsilon": self.epsilon}


def _tflib_uniform(std):
    bound = std * math.sqrt(3.0)
    return keras.initializers.RandomUniform(-bound, bound)


def _tflib_weight_names(layer):
    """TF1 names of a tflib conv / linear: ``<name>/<name>.Filters|.Biases|.W|.b``."""
    n = layer.name
    w, b = ("Filters", "Biases") if isinstance(layer, keras.layers.Conv2D) else ("W", "b")
    return [(f"{n}/{n}.{w}", layer.kernel), (f"{n}/{n}.{b}", layer.bias)]


class _TflibModel(_ExplicitSignatureModel):
    """A model of tflib layers named ``<prefix>Discriminator.*`` (no variable scope)."""

    def __init__(self, prefix="", **kwargs):
        super().__init__(**kwargs)
        self.prefix = prefix

    def _tflib_layers(self):
        raise NotImplementedError

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable), every weight once, in TF1 order."""
        out = []
        for layer in self._tflib_layers():
            if isinstance(layer, TflibBatchNorm):
                out += layer.tf1_variables()
            else:
                out += _tflib_weight_names(layer)
        return out

    def tf1_owns(self, key):
        """Whether a checkpoint key is a parameter of this network (tflib parameter names are
        unique: the part after the last '/' starts with ``<prefix>Discriminator.``)."""
        return key.rpartition("/")[2].startswith(f"{self.prefix}Discriminator.")

    def get_config(self):
        return {**super().get_config(), "prefix": self.prefix}


class DCGANCritic(_TflibModel):
    """The image critic ``wgan_gp.DCGANDiscriminator`` (tflib, ``D_arch='DCGAN'``), dpig.md 3.6.

    conv5x5 s2 3->dim, LeakyReLU(0.2); conv5x5 s2 -> 2dim, BN, LReLU; -> 4dim, BN, LReLU;
    -> 8dim, BN, LReLU; then the map is flattened in (C, H, W) order into rows of
    ``8*4*8*dim`` values (16384: the map of one 128x64 image) and a linear layer gives one
    logit per row. A 128x64 image gives 1 logit; a 256x256 image gives 8 (row j holds
    channels dim*j .. dim*j+dim-1 at all 16x16 positions), as the released DeepFashion model
    does.
    Batch norm uses the statistics of the batch passed in (``TflibBatchNorm``): the TF1 model
    101 calls D once on concat([real, fake]); Market model 1 calls it on each separately.
    Weights uniform with std 0.02, zero biases.

    Call ``critic(images)``: float [N, H, W, in_channels] in [-1, 1] with
    H*W*8*dim/256 a multiple of 8*4*8*dim (i.e. H*W a multiple of 8192) -> logits
    [N * H*W/8192], the logits of image b at rows b*k .. b*k+k-1.
    """

    def __init__(self, dim=64, in_channels=3, prefix="", **kwargs):
        super().__init__(prefix=prefix, **kwargs)
        self.dim, self.in_channels = int(dim), int(in_channels)
        init = _tflib_uniform(TFLIB_UNIFORM_STD)
        p = f"{prefix}Discriminator."
        self.convs = [keras.layers.Conv2D(self.dim * m, 5, strides=2, padding="same",
                                          kernel_initializer=init, name=f"{p}{i}")
                      for i, m in ((1, 1), (2, 2), (3, 4), (4, 8))]
        self.norms = [None] + [TflibBatchNorm(f"{p}BN{i}", name=f"{p}BN{i}") for i in (2, 3, 4)]
        self.flat_features = 8 * 4 * 8 * self.dim
        self.output_linear = keras.layers.Dense(1, kernel_initializer=init, name=f"{p}Output")
        self.build(None)

    def build(self, input_shape):
        c = self.in_channels
        for conv, norm in zip(self.convs, self.norms):
            conv.build((None, None, None, c))
            c = conv.filters
            if norm is not None:
                norm.build((None, None, None, c))
        self.output_linear.build((None, self.flat_features))
        self.built = True

    def _tflib_layers(self):
        out = []
        for conv, norm in zip(self.convs, self.norms):
            out += [conv] + ([norm] if norm is not None else [])
        return out + [self.output_linear]

    def call(self, images):
        check_shape("images", images, (None, None, None, self.in_channels))
        x = ops.cast(images, "float32")
        for conv, norm in zip(self.convs, self.norms):
            x = conv(x)
            if norm is not None:
                x = norm(x)
            x = ops.leaky_relu(x, negative_slope=0.2)
        per_image = math.prod(x.shape[1:]) if None not in x.shape[1:] else None
        if per_image is not None and per_image % self.flat_features:
            raise ValueError(f"DCGANCritic: the last map {list(x.shape[1:])} has {per_image} "
                             f"values per image, not a multiple of {self.flat_features}")
        x = ops.reshape(ops.transpose(x, [0, 3, 1, 2]), [-1, self.flat_features])
        return ops.reshape(self.output_linear(x), [-1])

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "in_channels": self.in_channels}


class FCCritic(_TflibModel):
    """Embedding critic ``wgan_gp.FCDiscriminator`` (tflib), dpig.md 3.9.

    Linear input_dim -> fc_dim + LeakyReLU(0.2) (``<prefix>Discriminator.Input.Linear``),
    ``n_layers`` Linear fc_dim -> fc_dim + LeakyReLU (``<prefix>Discriminator.<i>.Linear``),
    Linear -> 1 (``<prefix>Discriminator.Out``). He-uniform hidden weights, Glorot-uniform
    output weights (tflib's 'he' / 'glorot' uniform inits), zero biases. Prefixes: 'FCDis_'
    (DF app, 224), 'Pose_emb_' (pose, 32), 'Fg_FCDis_' (224), 'Bg_FCDis_' (128).

    Call ``critic(embeddings)``: float [N, input_dim] -> scores [N] (WGAN, unbounded).
    """

    def __init__(self, input_dim=224, fc_dim=512, n_layers=3, prefix="FCDis_", **kwargs):
        super().__init__(prefix=prefix, **kwargs)
        self.input_dim, self.fc_dim, self.n_layers = int(input_dim), int(fc_dim), int(n_layers)
        p = f"{prefix}Discriminator."
        self.hidden_layers = [
            keras.layers.Dense(self.fc_dim, kernel_initializer="he_uniform",
                               name=f"{p}{tag}.Linear")
            for tag in ["Input"] + [str(i) for i in range(self.n_layers)]]
        self.output_linear = keras.layers.Dense(1, kernel_initializer="glorot_uniform",
                                                name=f"{p}Out")
        self.build(None)

    def build(self, input_shape):
        features = self.input_dim
        for layer in self.hidden_layers:
            layer.build((None, features))
            features = self.fc_dim
        self.output_linear.build((None, features))
        self.built = True

    def _tflib_layers(self):
        return [*self.hidden_layers, self.output_linear]

    def call(self, embeddings):
        check_shape("embeddings", embeddings, (None, self.input_dim))
        x = ops.cast(embeddings, "float32")
        for layer in self.hidden_layers:
            x = ops.leaky_relu(layer(x), negative_slope=0.2)
        return ops.reshape(self.output_linear(x), [-1])

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "fc_dim": self.fc_dim,
                "n_layers": self.n_layers}


def network_specs(dataset="df"):
    """The networks of the released DeepFashion or Market-1501 configuration.

    Flags of the scripts: hidden (conv_hidden_num) 128, z_num 64, 7 parts of 32 dims;
    DeepFashion 256x256 (encoder 7 stages, generator 5), Market 128x64 (5 and 5).

    Args:
        dataset: "df" or "market".

    Returns:
        dict key -> (class, kwargs). DF keys: encoder (models 101 / 1001 / 1002),
        encoder_roi48 (the variant of 103 / 104), generator, critic, pose_ae, app_mapping
        (Gaussian_FC), pose_mapping (PoseGaussian), app_critic (FCDis_), pose_critic
        (Pose_emb_). Market keys: encoder, generator, critic, pose_ae, fg_mapping, bg_mapping,
        pose_mapping, fg_critic, bg_critic, pose_critic.
    """
    common = {
        "critic": (DCGANCritic, {"name": "critic"}),
        "pose_ae": (PoseAutoEncoder, {"name": "pose_ae"}),
        "pose_mapping": (GaussianFCMapping, {"dim": 32, "tf_scope": "PoseGaussian/G_FC",
                                             "name": "pose_mapping"}),
        "pose_critic": (FCCritic, {"input_dim": 32, "prefix": "Pose_emb_",
                                   "name": "pose_critic"}),
    }
    if dataset == "df":
        return {
            "encoder": (BodyROIEncoder, {"name": "encoder"}),
            "encoder_roi48": (BodyROIEncoder, {"use_visibility": False, "roi_size": 48,
                                               "name": "encoder_roi48"}),
            "generator": (UAEGenerator, {"name": "generator"}),
            **common,
            "app_mapping": (GaussianFCMapping, {"dim": 224, "name": "app_mapping"}),
            "app_critic": (FCCritic, {"input_dim": 224, "prefix": "FCDis_",
                                      "name": "app_critic"}),
        }
    if dataset == "market":
        return {
            "encoder": (FgBgEncoder, {"name": "encoder"}),
            "generator": (UAEGenerator, {"image_shape": (128, 64), "embed_dim": 352,
                                         "name": "generator"}),
            **common,
            "fg_mapping": (GaussianFCMapping, {"dim": 224, "tf_scope": "Gaussian_FC_Fg/G_FC",
                                               "name": "fg_mapping"}),
            "bg_mapping": (GaussianFCMapping, {"dim": 128, "hidden": 256,
                                               "tf_scope": "Gaussian_FC_Bg/G_FC",
                                               "name": "bg_mapping"}),
            "fg_critic": (FCCritic, {"input_dim": 224, "prefix": "Fg_FCDis_",
                                     "name": "fg_critic"}),
            "bg_critic": (FCCritic, {"input_dim": 128, "prefix": "Bg_FCDis_",
                                     "name": "bg_critic"}),
        }
    raise ValueError(f"dataset must be 'df' or 'market', got {dataset!r}")


def build_networks(dataset="df", keys=None):
    """Build networks of ``network_specs(dataset)`` with fresh (TF1-style) initial weights.

    Args:
        dataset: "df" or "market".
        keys: iterable of keys to build (default all).

    Returns:
        dict key -> Keras model.
    """
    specs = network_specs(dataset)
    keys = list(specs) if keys is None else list(keys)
    unknown = sorted(set(keys) - set(specs))
    if unknown:
        raise ValueError(f"unknown {dataset} network(s) {unknown}; known: {sorted(specs)}")
    return {k: specs[k][0](**specs[k][1]) for k in keys}
