"""PAINT's Layout Generative Network (LGN): the three BicycleGAN networks of
``LGN/models/networks.py`` in gxl-groups/PAINT as ``LGN/models/bicycle_gan_model.py`` builds
them for the README command (the ``LGN/options`` defaults), Keras 3, NHWC.

- :class:`LGNGenerator` (``G_Unet_add_all``): a U-Net whose every level concatenates the
  latent code, broadcast over H x W, to its input before the down convolution; the skip a
  level concatenates after its up path is its input without the code. Down paths LeakyReLU
  0.2 -> Conv k4 s2 p1 -> instance norm (outermost: conv only; innermost: no norm); up
  paths ReLU (``--nl relu``) -> ConvTranspose k4 s2 p1 (``--upsample basic``) -> instance
  norm (outermost: no norm). The output is a softmax over the channels (no tanh): per-pixel
  class probabilities of the 20-label parsing.
- :class:`LGNEncoder` (``E_ResNet``, ``vaeLike``): a k4 s2 conv, residual down blocks
  (:class:`EncoderBlock`, ``BasicBlock``), LeakyReLU, an 8 x 8 average pool and two linear
  heads (mean and log-variance).
- :class:`LGNDiscriminator` (``D_NLayersMulti``): PatchGANs at ``num_D`` scales, each on the
  previous scale's input average-pooled by 3 x 3 / 2 (padding excluded from the count).

Instance norm everywhere is ``InstanceNorm2d(affine=False)`` (eps 1e-5, no parameters, no
running statistics), so no network changes between train and eval mode except G with
``use_dropout`` (Dropout 0.5 after the up path's norm of the 8 ngf-wide middle levels, in
training only; off in the README configuration). Every convolution has a bias. All zero
paddings are written out (``valid`` convolutions after an explicit one-pixel pad, transposed
convolutions cropped by one pixel per side), so odd sizes behave as in torch.
"""

import keras
from keras import layers, ops

from tfposegen.layers.normalization import InstanceNorm
from tfposegen.train.precision import to_float32

SLOPE = 0.2  # nn.LeakyReLU(0.2) of the down paths, of E and of D


def _pad(x, amount=1):
    """Zero padding of H and W of NHWC ``x`` on every side."""
    return ops.pad(x, [[0, 0], [amount, amount], [amount, amount], [0, 0]])


def _conv(filters, kernel, strides=1):
    return layers.Conv2D(filters, kernel, strides=strides, padding="valid")


def _built(layer, channels):
    """Build ``layer`` for NHWC inputs with ``channels`` channels (the weights do not depend
    on H and W), so full-size networks exist without running them."""
    layer.build((None, None, None, channels))
    return layer


def _with_z(x, z):
    """cat(x, z broadcast over H x W) on the channel axis (``UnetBlock_with_z.forward``)."""
    if z is None:
        return x
    shape = ops.shape(x)
    z_map = ops.broadcast_to(z[:, None, None, :], (shape[0], shape[1], shape[2], z.shape[-1]))
    return ops.concatenate([x, ops.cast(z_map, x.dtype)], axis=-1)


@keras.saving.register_keras_serializable("tfposegen_paint")
class LGNGenerator(keras.Model):
    """LGN's generator G, ``G_Unet_add_all`` (LGN/models/networks.py in gxl-groups/PAINT) with
    ``UnetBlock_with_z`` levels, ``--where_add all``, ``--norm instance``, ``--nl relu``,
    ``--upsample basic``.

    Call: ``G(pose, z, training=False)`` with ``pose`` float [B, H, W, input_nc] (LGN's pose
    disks: -1 background, +1 inside a keypoint's disk) and ``z`` float [B, nz] (three 8-wide
    pieces: E's means of the upper-garment, lower-garment and head components at test time;
    LGN draws random pieces from N(-1, 2^2)). Returns float [B, H, W, output_nc]: softmax
    probabilities in (0, 1) summing to 1 over the channels. H and W must be multiples of
    2^num_downs (256 for the released unet_256: the innermost level sees 1 x 1).

    Levels l0 (outermost) .. l(n-1) (innermost), n = ``num_downs``: l0 down conv
    ``input_nc + nz -> ngf``, l1 ``ngf + nz -> 2 ngf``, l2 ``-> 4 ngf``, l3 and deeper ``-> 8
    ngf``; up convs mirror them on cat(up, skip) (innermost: on its own down output), l0's
    to ``output_nc``. ``use_dropout`` adds Dropout(0.5) to the up paths of l4 .. l(n-2)
    (training only), as the original.

    Built at construction without running (``down_convs[i]``, ``up_convs[i]`` for level i).

    Args:
        input_nc, output_nc: 18 pose maps and 20 parsing classes.
        nz: latent width (24; 0 disables the code).
        num_downs: levels, at least 6 (8 for ``--netG unet_256``).
        ngf: base width (64).
        use_dropout: ``--use_dropout`` (off in the README command).
    """

    def __init__(self, input_nc=18, output_nc=20, nz=24, num_downs=8, ngf=64,
                 use_dropout=False, **kwargs):
        super().__init__(**kwargs)
        if num_downs < 6:
            raise ValueError(f"LGNGenerator: num_downs must be >= 6 (G_Unet_add_all always "
                             f"builds 6 levels plus num_downs - 6), got {num_downs}")
        self.config = dict(input_nc=input_nc, output_nc=output_nc, nz=nz,
                           num_downs=num_downs, ngf=ngf, use_dropout=use_dropout)
        self.num_downs, self.nz, self.use_dropout = num_downs, nz, bool(use_dropout)
        inner = [ngf, 2 * ngf, 4 * ngf] + [8 * ngf] * (num_downs - 3)   # down outputs
        outer = [input_nc] + inner[:-1]                                   # level inputs
        ups = [output_nc] + inner[:-1]                                    # up outputs
        self.down_convs, self.up_convs = [], []
        for i in range(num_downs):
            self.down_convs.append(_built(_conv(inner[i], 4, 2), outer[i] + nz))
            up_in = inner[i] if i == num_downs - 1 else 2 * inner[i]
            self.up_convs.append(_built(
                layers.Conv2DTranspose(ups[i], 4, strides=2, padding="valid"), up_in))
        self.norm = InstanceNorm()
        self.dropout = layers.Dropout(0.5)
        self.built = True

    def call(self, pose, z=None, training=False):
        n = self.num_downs
        z = z if self.nz > 0 else None
        skips, h = [], pose
        for i in range(n):
            skips.append(h)
            h = _with_z(h, z)
            if i > 0:
                h = ops.leaky_relu(h, SLOPE)
            h = self.down_convs[i](_pad(h))
            if 0 < i < n - 1:
                h = self.norm(h)
        for i in reversed(range(n)):
            h = self.up_convs[i](ops.relu(h))[:, 1:-1, 1:-1, :]   # ConvTranspose2d p1
            if i == 0:
                return to_float32(ops.softmax(h, axis=-1))  # float32 under mixed precision
            h = self.norm(h)
            if self.use_dropout and 4 <= i <= n - 2:
                h = self.dropout(h, training=training)
            h = ops.concatenate([h, skips[i]], axis=-1)

    def get_config(self):
        return {**super().get_config(), **self.config}


class EncoderBlock(keras.layers.Layer):
    """E's residual down block, ``BasicBlock`` of LGN/models/networks.py in gxl-groups/PAINT:
    main path IN -> LeakyReLU -> conv3 (in -> in) -> IN -> LeakyReLU -> conv3 (in -> out) ->
    AvgPool 2; shortcut AvgPool 2 -> conv1 (in -> out); their sum. [B, H, W, in] -> [B, H/2,
    W/2, out], any range.

    ``convs`` = [main conv 1, main conv 2, shortcut conv] (torch ``conv.2``, ``conv.5.0``,
    ``shortcut.1``).
    """

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__(**kwargs)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.convs = [_built(_conv(self.in_channels, 3), self.in_channels),
                      _built(_conv(self.out_channels, 3), self.in_channels),
                      _built(_conv(self.out_channels, 1), self.in_channels)]
        self.norm = InstanceNorm()
        self.built = True

    def call(self, x):
        y = self.convs[0](_pad(ops.leaky_relu(self.norm(x), SLOPE)))
        y = self.convs[1](_pad(ops.leaky_relu(self.norm(y), SLOPE)))
        y = ops.average_pool(y, 2, 2)
        return y + self.convs[2](ops.average_pool(x, 2, 2))

    def get_config(self):
        return {**super().get_config(), "in_channels": self.in_channels,
                "out_channels": self.out_channels}


@keras.saving.register_keras_serializable("tfposegen_paint")
class LGNEncoder(keras.Model):
    """LGN's encoder E, ``E_ResNet`` (LGN/models/networks.py in gxl-groups/PAINT) as
    ``define_E(4, 8, nef, 'resnet_256', vaeLike=True)`` builds it (LeakyReLU 0.2 forced).

    Call: ``E(component)`` with ``component`` float [B, S, S, input_nc], S = 8 * 2^n_blocks
    (256 for resnet_256): LGN feeds one garment component at a time, three 0/1 label masks
    and their 0/1 Canny boundary. Returns ``(mu, logvar)``, each float [B, output_nc],
    unbounded (``mu`` only without ``vae_like``). The same E (shared weights) encodes the
    three components; the test procedure concatenates their means into G's 24-wide code.

    Layers: ``conv0`` k4 s2 p1 (input_nc -> nef), ``blocks[i]`` =
    :class:`EncoderBlock` (nef * min(4, i + 1) -> nef * min(4, i + 2)), i = 0 .. n_blocks -
    2, LeakyReLU, AvgPool 8 (must leave 1 x 1), ``fc`` and ``fc_var`` (Linear).

    Args:
        input_nc, output_nc: 4 and 8.
        nef: base width (64).
        n_blocks: 5 (resnet_256) or 4 (resnet_128).
        vae_like: also return the log-variance head (True in LGN).
    """

    def __init__(self, input_nc=4, output_nc=8, nef=64, n_blocks=5, vae_like=True, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(input_nc=input_nc, output_nc=output_nc, nef=nef,
                           n_blocks=n_blocks, vae_like=vae_like)
        self.vae_like = bool(vae_like)
        self.conv0 = _built(_conv(nef, 4, 2), input_nc)
        widths = [nef * min(4, n) for n in range(1, n_blocks + 1)]
        self.blocks = [EncoderBlock(widths[n - 1], widths[n]) for n in range(1, n_blocks)]
        self.width = widths[-1] if n_blocks > 1 else nef
        self.fc = layers.Dense(output_nc)
        self.fc.build((None, self.width))
        self.fc_var = None
        if self.vae_like:
            self.fc_var = layers.Dense(output_nc)
            self.fc_var.build((None, self.width))
        self.built = True

    def call(self, component):
        side = 8 * 2 ** self.config["n_blocks"]
        if tuple(component.shape[1:3]) not in ((side, side), (None, None)):
            raise ValueError(f"LGNEncoder: input is {component.shape[1]} x "
                             f"{component.shape[2]}; E_ResNet with n_blocks="
                             f"{self.config['n_blocks']} needs {side} x {side} (its 8 x 8 "
                             f"pool must leave 1 x 1 for the linear heads)")
        h = self.conv0(_pad(component))
        for block in self.blocks:
            h = block(h)
        h = ops.average_pool(ops.leaky_relu(h, SLOPE), 8, 8)
        flat = ops.reshape(h, (-1, self.width))
        if self.vae_like:
            return to_float32((self.fc(flat), self.fc_var(flat)))  # float32 under mixed precision
        return to_float32(self.fc(flat))

    def get_config(self):
        return {**super().get_config(), **self.config}


class PatchGAN(keras.layers.Layer):
    """One scale of ``D_NLayersMulti.get_layers`` (LGN/models/networks.py in
    gxl-groups/PAINT): conv k4 s2 p1 (in -> ndf) + LeakyReLU; for n = 1 .. n_layers - 1 conv
    k4 s2 p1 (-> ndf * min(2^n, 8)) + IN + LeakyReLU; conv k4 s1 p1 (-> ndf * min(2^n_layers,
    8)) + IN + LeakyReLU; conv k4 s1 p1 (-> 1). [B, H, W, in] any range -> [B, H / 2^n_layers
    - 2, W / 2^n_layers - 2, 1] unbounded scores (30 x 30 for 256, n_layers 3).

    ``convs`` in Sequential order (torch indices 0, 2, 5, ..., 3 n_layers + 2).
    """

    def __init__(self, input_nc, ndf, n_layers=3, **kwargs):
        super().__init__(**kwargs)
        self.input_nc, self.ndf, self.n_layers = int(input_nc), int(ndf), int(n_layers)
        widths = [ndf * min(2 ** n, 8) for n in range(n_layers + 1)] + [1]
        ins = [input_nc] + widths[:-1]
        self.convs = [_built(_conv(widths[i], 4, 2 if i < n_layers else 1), ins[i])
                      for i in range(n_layers + 2)]
        self.norm = InstanceNorm()
        self.built = True

    def call(self, x):
        last = len(self.convs) - 1
        for i, layer in enumerate(self.convs):
            x = layer(_pad(x))
            if i == last:
                return x
            if i > 0:
                x = self.norm(x)
            x = ops.leaky_relu(x, SLOPE)

    def get_config(self):
        return {**super().get_config(), "input_nc": self.input_nc, "ndf": self.ndf,
                "n_layers": self.n_layers}


def avg_pool_exclusive(x):
    """``D_NLayersMulti.down`` (LGN/models/networks.py in gxl-groups/PAINT), i.e.
    ``nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)``, on NHWC ``x``: the
    mean of each 3 x 3 window's in-image elements, [B, H, W, C] -> [B, ceil(H/2), ceil(W/2),
    C] (same range as ``x``)."""
    sums = ops.average_pool(_pad(x), 3, 2)
    counts = ops.average_pool(_pad(ops.ones_like(x[:1, :, :, :1])), 3, 2)
    return sums / counts


@keras.saving.register_keras_serializable("tfposegen_paint")
class LGNDiscriminator(keras.Model):
    """LGN's discriminators D and D2, ``D_NLayersMulti`` (LGN/models/networks.py in
    gxl-groups/PAINT) as ``define_D(20, ndf, 'basic_256_multi', norm='instance',
    num_Ds=2)`` builds them (``--conditional_D`` off: the parsing alone).

    Call: ``D(layout)`` with ``layout`` float [B, H, W, input_nc], class probabilities or a
    one-hot parsing in [0, 1]. Returns a list of ``num_D`` unbounded LSGAN score maps
    [B, h_i, w_i, 1] (30 x 30 and 14 x 14 for 256 x 256 input); with ``num_D == 1`` the single
    map itself, as the original. Scale i is :class:`PatchGAN` of width round(ndf / 2^i) on
    the input pooled i times by :func:`avg_pool_exclusive`.

    Args:
        input_nc: 20.
        ndf: 64.
        n_layers: 3 (basic_256_multi).
        num_D: 2 (``--num_Ds``).
    """

    def __init__(self, input_nc=20, ndf=64, n_layers=3, num_D=2, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(input_nc=input_nc, ndf=ndf, n_layers=n_layers, num_D=num_D)
        self.num_D = int(num_D)
        self.scales = [PatchGAN(input_nc, int(round(ndf / 2 ** i)), n_layers)
                       for i in range(self.num_D)]
        self.built = True

    def call(self, layout):
        if self.num_D == 1:
            return to_float32(self.scales[0](layout))  # float32 under mixed precision
        out, x = [], layout
        for i, scale in enumerate(self.scales):
            out.append(scale(x))
            if i != self.num_D - 1:
                x = avg_pool_exclusive(x)
        return to_float32(out)

    def get_config(self):
        return {**super().get_config(), **self.config}
