"""DPIG's appearance networks: the body-ROI encoder (DeepFashion), the foreground /
background encoder (Market-1501) and the U-Net generator (``models.py`` in
charliememory/Disentangled-Person-Image-Generation)."""

from keras import ops

from tfposegen.layers.residual import ResidualConv
from tfposegen.layers.roi import BodyROICrop
from tfposegen.models.dpig.networks.common import (
    _build_stages,
    _conv,
    _conv_stages,
    _dense,
    _part_features,
    _run_stages,
    _SlimModel,
    _SlimNames,
    _stage_layers,
    broadcast_embedding,
)
from tfposegen.ops.resize import resize_nearest_legacy
from tfposegen.utils.shapes import check_shape


class BodyROIEncoder(_SlimModel):
    """DeepFashion appearance encoder (``GeneratorCNN_ID_Encoder_BodyROIVis``, scope
    ``Encoder/G_encoder``), ``models.py``.

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
        x = self.stem_res(self.stem(ops.cast(images, self.compute_dtype)))
        x = _run_stages(self.stages, self.crop(x, boxes))
        x = self.fc(ops.reshape(x, [ops.shape(x)[0], -1]))
        # float32 out under mixed precision (a no-op otherwise)
        return ops.cast(_part_features(x, self.num_parts, self.part_dim,
                                       visibility if self.use_visibility else None), "float32")

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "num_parts": self.num_parts, "part_dim": self.part_dim,
                "num_blocks": self.num_blocks, "hidden": self.hidden,
                "roi_size": self.roi_size, "use_visibility": self.use_visibility,
                "activation": self.activation}


class FgBgEncoder(_SlimModel):
    """Market-1501 foreground / background appearance encoder
    (``GeneratorCNN_ID_Encoder_BodyROIVis_FgBgFeaTwoBranch``, scope ``Encoder/G_encoder``),
    ``models.py``.

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
        x = self.stem_res(self.stem(ops.cast(images, self.compute_dtype)))
        mask = ops.cast(fg_mask, self.compute_dtype)
        fg = _run_stages(self.fg_stages, self.crop(x * mask, boxes))
        fg = self.fg_fc(ops.reshape(fg, [ops.shape(fg)[0], -1]))
        fg = _part_features(fg, self.num_parts, self.part_dim, visibility)
        bg = _run_stages(self.bg_stages, x * (1.0 - mask))
        bg = self.bg_fc(ops.reshape(bg, [ops.shape(bg)[0], -1]))
        return ops.cast(ops.concatenate([fg, bg], axis=-1), "float32")  # float32 out

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "num_parts": self.num_parts, "part_dim": self.part_dim,
                "num_blocks": self.num_blocks, "hidden": self.hidden,
                "roi_size": self.roi_size, "bg_dim": self.bg_dim, "activation": self.activation}


class UAEGenerator(_SlimModel):
    """The U-shaped auto-encoder generator ``GeneratorCNN_ID_UAEAfterResidual`` (scope
    ``ID_AE/G``), ``models.py``.

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
            embedding = broadcast_embedding(ops.cast(embedding, self.compute_dtype), h, w)
        check_shape("embedding", embedding, (None, h, w, self.embed_dim))
        check_shape("pose_map", pose_map, (None, h, w, self.pose_channels))
        dtype = self.compute_dtype  # float32, or bfloat16 under mixed precision
        x = ops.concatenate([ops.cast(embedding, dtype), ops.cast(pose_map, dtype)], axis=-1)
        skips = []
        x = _run_stages(self.enc_stages, self.stem(x), skips)
        z = self.fc_z(ops.reshape(x, [ops.shape(x)[0], -1]))
        x = ops.reshape(self.fc_dec(z), [-1, *self.bottom_shape, self.hidden])
        for k, (block, up) in enumerate(self.dec_stages):
            x = block(ops.concatenate([x, skips[-1 - k]], axis=-1))
            if up is not None:
                x = up(resize_nearest_legacy(x, (2 * x.shape[1], 2 * x.shape[2])))
        return ops.cast(self.out_conv(x), "float32")  # float32 out under mixed precision

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "embed_dim": self.embed_dim, "pose_channels": self.pose_channels,
                "out_channels": self.out_channels, "num_blocks": self.num_blocks,
                "hidden": self.hidden, "z_num": self.z_num, "activation": self.activation}
