"""ADGAN's discriminators D_PB and D_PP: PATN's ``ResnetDiscriminator``, NHWC.

``ResnetDiscriminator`` / ``ResnetBlock`` of models/networks.py in menyifang/ADGAN (inherited
from tengteng95/Pose-Transfer), as ``define_D`` builds them for ``--which_model_netD resnet
--norm instance`` (dropout on unless ``--no_dropout_D``, ``n_layers_D`` = 3 residual blocks,
``D_n_downsampling`` = 2):

* D_PB judges (image, target pose): ``ResnetDiscriminator(3 + 18)`` on concat[image, BP2];
* D_PP judges (image, source image): ``ResnetDiscriminator(3 + 3)`` on concat[image, P1].

There is no final 1-channel convolution: the output is the [B, H/4, W/4, 4 * ndf] feature map
of the last residual block, which ADGAN's LSGAN loss compares element-wise with 1 / 0.
"""

import keras
from keras import ops

from tfposegen.layers.normalization import InstanceNorm
from tfposegen.models.adgan.networks import pad2d


class ResnetBlock(keras.layers.Layer):
    """``x + [reflect 1, conv3x3, IN, ReLU, Dropout(0.5), reflect 1, conv3x3, IN](x)``.

    ``ResnetBlock`` of models/networks.py in menyifang/ADGAN with ``padding_type='reflect'``,
    instance norm without affine (so ``use_bias=True``). The dropout is active only when called
    with ``training=True`` (torch ``train()``). x [B, H, W, dim] -> same shape.
    """

    def __init__(self, dim, use_dropout=True, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.use_dropout = int(dim), bool(use_dropout)
        self.conv_a = keras.layers.Conv2D(dim, 3, padding="valid", name="conv_block_1")
        self.conv_b = keras.layers.Conv2D(dim, 3, padding="valid",
                                          name=f"conv_block_{6 if use_dropout else 5}")
        self.norm_a, self.norm_b = InstanceNorm(name="norm_a"), InstanceNorm(name="norm_b")
        self.dropout = keras.layers.Dropout(0.5) if use_dropout else None

    def build(self, input_shape=None):
        for layer in (self.conv_a, self.conv_b, self.norm_a, self.norm_b):
            layer.build((None, None, None, self.dim))
        self.built = True

    def call(self, x, training=False):
        y = ops.relu(self.norm_a(self.conv_a(pad2d(x, 1))))
        if self.dropout is not None:
            y = self.dropout(y, training=training)
        return x + self.norm_b(self.conv_b(pad2d(y, 1)))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "use_dropout": self.use_dropout}


class ResnetDiscriminator(keras.Model):
    """ADGAN's discriminator: [B, H, W, input_nc] -> feature map [B, H/4, W/4, 4 * ndf].

    ``ResnetDiscriminator`` of models/networks.py in menyifang/ADGAN: reflect pad 3 + 7x7
    conv (input_nc -> ndf), IN, ReLU; ``n_downsampling`` x (3x3 stride-2 conv with **zero**
    padding 1 doubling the channels, IN, ReLU; with ``n_downsampling=3`` the third keeps
    4 * ndf channels); ``n_blocks`` :class:`ResnetBlock`; a sigmoid only with
    ``use_sigmoid`` (``--no_lsgan``). All convolutions have biases; IN has no affine and no
    running statistics. Sides map to ``ceil(n / 2)`` per stride-2 conv (torch's
    ``floor((n + 2 - 3) / 2) + 1``).

    Inputs: the concatenated pair in [-1, 1] (image first), e.g. D_PB:
    ``concat([image, pose], -1)`` with 21 channels, D_PP: ``concat([image, source], -1)``
    with 6. ``training=True`` enables dropout.

    Args:
        input_nc: input channels (21 for D_PB, 6 for D_PP).
        ndf: width (``--ndf``, 64).
        n_blocks: residual blocks (``--n_layers_D``, 3).
        n_downsampling: stride-2 convs (``--D_n_downsampling``, 2; 3 is also built as the
            original does).
        use_dropout: ``not --no_dropout_D``.
        use_sigmoid: ``--no_lsgan``.
    """

    def __init__(self, input_nc, ndf=64, n_blocks=3, n_downsampling=2, use_dropout=True,
                 use_sigmoid=False, **kwargs):
        super().__init__(**kwargs)
        if int(n_downsampling) not in (0, 1, 2, 3) or int(n_blocks) < 0:
            raise ValueError(f"discriminators.py ResnetDiscriminator: n_downsampling must be "
                             f"0..3 and n_blocks >= 0, got {n_downsampling}, {n_blocks}")
        self.input_nc, self.ndf, self.n_blocks = int(input_nc), int(ndf), int(n_blocks)
        self.n_downsampling, self.use_dropout = int(n_downsampling), bool(use_dropout)
        self.use_sigmoid = bool(use_sigmoid)
        self.stem = keras.layers.Conv2D(ndf, 7, padding="valid", name="model_1")
        widths = [ndf * 2, ndf * 4, ndf * 4][: self.n_downsampling]
        self.downs = [keras.layers.Conv2D(w, 3, strides=2, padding="valid",
                                          name=f"model_{4 + 3 * i}")
                      for i, w in enumerate(widths)]
        self.norms = [InstanceNorm(name=f"norm_{i}") for i in range(1 + self.n_downsampling)]
        self.output_dim = widths[-1] if widths else ndf
        first = 4 + 3 * self.n_downsampling
        self.blocks = [ResnetBlock(self.output_dim, use_dropout, name=f"model_{first + b}")
                       for b in range(self.n_blocks)]
        self.build()

    @property
    def torch_index(self):
        """Index in the original's ``model`` Sequential of: the stem conv, each stride-2
        conv, each residual block (the state-dict keys are ``model.<index>...``)."""
        first = 4 + 3 * self.n_downsampling
        return {"stem": 1, "downs": [4 + 3 * i for i in range(self.n_downsampling)],
                "blocks": [first + b for b in range(self.n_blocks)]}

    def build(self, input_shape=None):
        self.stem.build((None, None, None, self.input_nc))
        channels = self.ndf
        for conv in self.downs:
            conv.build((None, None, None, channels))
            channels = conv.filters
        for norm in self.norms:
            norm.build((None, None, None, 1))
        for block in self.blocks:
            block.build()
        self.built = True

    def call(self, x, training=False):
        if len(x.shape) != 4 or x.shape[-1] != self.input_nc:
            raise ValueError(f"discriminators.py ResnetDiscriminator: input must be "
                             f"[B, H, W, {self.input_nc}], got {list(x.shape)}")
        x = ops.relu(self.norms[0](self.stem(pad2d(x, 3))))
        for conv, norm in zip(self.downs, self.norms[1:]):
            x = ops.relu(norm(conv(pad2d(x, 1, "constant"))))
        for block in self.blocks:
            x = block(x, training=training)
        x = ops.cast(x, "float32")  # float32 out under mixed precision (a no-op otherwise)
        return ops.sigmoid(x) if self.use_sigmoid else x

    def get_config(self):
        return {**super().get_config(), "input_nc": self.input_nc, "ndf": self.ndf,
                "n_blocks": self.n_blocks, "n_downsampling": self.n_downsampling,
                "use_dropout": self.use_dropout, "use_sigmoid": self.use_sigmoid}
