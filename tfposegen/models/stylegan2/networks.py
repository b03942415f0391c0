"""StyleGAN2 mapping, synthesis, generator and discriminator (NVlabs config-e/f), NHWC.

Public API:

- ``G.mapping(z, truncation_psi=1.0) -> ws [N, num_ws, w_dim]``
- ``G.synthesis(ws, noise_mode="const") -> images [N, H, W, C]`` (unclipped, about [-1, 1])
- ``D(images) -> scores [N, 1]`` (raw logits)

Every model knows the TF1 local names of its variables (``dnnlib_variables()``), which is how
``tfposegen.models.dgp.dnnlib`` loads official pickles into it.
"""

import keras
import numpy as np
from keras import ops

from tfposegen.models.stylegan2.layers import EqualizedConv2D, EqualizedDense, ModulatedConv2D
from tfposegen.ops import downsample2d, minibatch_stddev, upsample2d
from tfposegen.utils.shapes import check_shape

ARCHITECTURES = ("orig", "skip", "resnet")
NOISE_MODES = ("random", "const", "none")


def stage_channels(resolution, fmap_base=16384, fmap_decay=1.0, fmap_min=1, fmap_max=512):
    """Channel count ``nf(stage)`` of the TF1 code for stages 0 .. log2(resolution).

    The block at resolution 2^r outputs ``nf(r - 1)`` channels; ``nf(0)`` is the width of the
    discriminator's last dense layer.

    Returns:
        list of ints, length log2(resolution) + 1.
    """
    log2 = _resolution_log2(resolution)
    return [int(np.clip(int(fmap_base / (2.0 ** (s * fmap_decay))), fmap_min, fmap_max))
            for s in range(log2 + 1)]


def _resolution_log2(resolution):
    log2 = int(np.log2(resolution))
    if resolution != 2 ** log2 or resolution < 4:
        raise ValueError(f"resolution must be a power of two >= 4, got {resolution}")
    return log2


class _DnnlibModel(keras.Model):
    """A model made of ``_TFScoped`` layers plus own variables with TF1 names."""

    def _own_dnnlib_variables(self):
        return []

    def dnnlib_variables(self):
        """List of (TF1 local name, Keras variable) in TF1 creation order."""
        out = list(self._own_dnnlib_variables())
        for layer in self._ordered_layers():
            out.extend(layer.dnnlib_variables())
        return out

    def _ordered_layers(self):
        return []


class MappingNetwork(_DnnlibModel):
    """z [N, z_dim] -> ws [N, num_ws, w_dim] (TF1 ``G_mapping`` plus ``G_main``'s truncation).

    Pixel norm of z, ``num_layers`` equalized dense layers (lr multiplier 0.01, lrelu), broadcast
    to ``num_ws`` rows; truncation ``w' = avg + psi (w - avg)`` on rows < cutoff using
    ``dlatent_avg`` (the TF1 ``Gs/dlatent_avg``).
    """

    def __init__(self, z_dim=512, w_dim=512, num_ws=18, num_layers=8, layer_features=512,
                 lr_multiplier=0.01, activation="lrelu", normalize_latents=True, **kwargs):
        super().__init__(**kwargs)
        self.z_dim, self.w_dim, self.num_ws = z_dim, w_dim, num_ws
        self.num_layers, self.layer_features = num_layers, layer_features
        self.lr_multiplier, self.activation = lr_multiplier, activation
        self.normalize_latents = normalize_latents
        self.dense_layers = [
            EqualizedDense(w_dim if i == num_layers - 1 else layer_features,
                           lr_multiplier=lr_multiplier, activation=activation,
                           tf_scope=f"Dense{i}", name=f"dense{i}")
            for i in range(num_layers)]
        self.build((None, z_dim))

    def build(self, input_shape):
        features = self.z_dim
        for layer in self.dense_layers:
            layer.build((None, features))
            features = layer.units
        self.dlatent_avg = self.add_weight(name="dlatent_avg", shape=(self.w_dim,),
                                           initializer="zeros", trainable=False)
        self.built = True

    def _ordered_layers(self):
        return self.dense_layers

    def call(self, z, truncation_psi=1.0, truncation_cutoff=None):
        check_shape("z", z, (None, self.z_dim))
        x = ops.cast(z, self.compute_dtype)
        if self.normalize_latents:
            x = x * ops.rsqrt(ops.mean(ops.square(x), axis=1, keepdims=True) + 1e-8)
        for layer in self.dense_layers:
            x = layer(x)
        ws = ops.tile(x[:, None, :], [1, self.num_ws, 1])
        ws = ops.cast(ws, "float32")  # float32 out under mixed precision (a no-op otherwise)
        if isinstance(truncation_psi, (int, float)) and truncation_psi == 1:
            return ws
        psi = np.ones([1, self.num_ws, 1], np.float32)
        cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
        psi = ops.where(np.arange(self.num_ws)[None, :, None] < cutoff,
                        psi * truncation_psi, psi)
        avg = ops.cast(self.dlatent_avg, "float32")
        return avg + (ws - avg) * psi

    def get_config(self):
        return {**super().get_config(), "z_dim": self.z_dim, "w_dim": self.w_dim,
                "num_ws": self.num_ws, "num_layers": self.num_layers,
                "layer_features": self.layer_features, "lr_multiplier": self.lr_multiplier,
                "activation": self.activation, "normalize_latents": self.normalize_latents}


class SynthesisNetwork(_DnnlibModel):
    """ws [N, num_ws, w_dim] -> images [N, resolution, resolution, num_channels].

    TF1 ``G_synthesis_stylegan2`` with architecture ``skip`` (ToRGB at every resolution, RGB
    up-sampled and summed), ``resnet`` or ``orig``. ``num_ws = 2 log2(resolution) - 2``. The
    ``num_ws - 1`` noise maps are non-trainable variables ``noise{i}`` [1, R, R, 1] with
    R = 2^((i + 5) // 2). Output is not clipped (no tanh), nominally in [-1, 1].
    """

    def __init__(self, resolution=1024, num_channels=3, w_dim=512, fmap_base=16384,
                 fmap_decay=1.0, fmap_min=1, fmap_max=512, channels=None,
                 architecture="skip", activation="lrelu", resample_kernel=(1, 3, 3, 1),
                 use_noise=True, **kwargs):
        super().__init__(**kwargs)
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        self.resolution, self.num_channels, self.w_dim = resolution, num_channels, w_dim
        self.log2 = _resolution_log2(resolution)
        self.channels = list(channels) if channels is not None else stage_channels(
            resolution, fmap_base, fmap_decay, fmap_min, fmap_max)
        if len(self.channels) != self.log2 + 1:
            raise ValueError(f"channels needs {self.log2 + 1} entries (stages 0..{self.log2}), "
                             f"got {len(self.channels)}")
        self.architecture, self.activation = architecture, activation
        self.resample_kernel = None if resample_kernel is None else list(resample_kernel)
        self.use_noise = use_noise
        self.num_ws = 2 * self.log2 - 2
        self.seed_generator = keras.random.SeedGenerator(0)

        nf = self.channels
        common = dict(w_dim=w_dim, resample_kernel=self.resample_kernel)
        conv = dict(kernel_size=3, use_noise=use_noise, activation=activation, **common)
        rgb = dict(filters=num_channels, kernel_size=1, demodulate=False, use_noise=False,
                   activation="linear", **common)
        # blocks[r - 2]: dict of the layers at 2^r px, each complete before Keras tracks it
        # (a list, not a dict keyed by r: SavedModel export needs string keys).
        self.blocks = []
        b = {"conv1": ModulatedConv2D(nf[1], tf_scope="4x4/Conv", name="b4_conv", **conv)}
        if architecture == "skip":
            b["torgb"] = ModulatedConv2D(tf_scope="4x4/ToRGB", name="b4_torgb", **rgb)
        self.blocks.append(b)
        for r in range(3, self.log2 + 1):
            s = f"{2 ** r}x{2 ** r}"
            b = {"conv0": ModulatedConv2D(nf[r - 1], up=True, tf_scope=f"{s}/Conv0_up",
                                          name=f"b{2 ** r}_conv0_up", **conv),
                 "conv1": ModulatedConv2D(nf[r - 1], tf_scope=f"{s}/Conv1",
                                          name=f"b{2 ** r}_conv1", **conv)}
            if architecture == "resnet":
                b["skip"] = EqualizedConv2D(nf[r - 1], 1, up=True, use_bias=False,
                                            resample_kernel=self.resample_kernel,
                                            tf_scope=f"{s}/Skip", name=f"b{2 ** r}_skip")
            if architecture == "skip" or r == self.log2:
                b["torgb"] = ModulatedConv2D(tf_scope=f"{s}/ToRGB", name=f"b{2 ** r}_torgb",
                                             **rgb)
            self.blocks.append(b)
        self.build((None, self.num_ws, w_dim))

    def build(self, input_shape):
        nf = self.channels
        self.noise_vars = [
            self.add_weight(name=f"noise{i}", shape=(1, self.noise_resolution(i),
                                                     self.noise_resolution(i), 1),
                            initializer=keras.initializers.RandomNormal(stddev=1.0),
                            trainable=False)
            for i in range(self.num_ws - 1)] if self.use_noise else []
        self.const = self.add_weight(name="const", shape=(1, 4, 4, nf[1]),
                                     initializer=keras.initializers.RandomNormal(stddev=1.0))
        for r, block in enumerate(self.blocks, start=2):
            res = 2 ** r
            cin = nf[1] if r == 2 else nf[r - 2]
            if "conv0" in block:
                block["conv0"].build((None, res // 2, res // 2, cin))
                block["conv1"].build((None, res, res, nf[r - 1]))
            else:
                block["conv1"].build((None, res, res, nf[1]))
            if "skip" in block:
                block["skip"].build((None, res // 2, res // 2, cin))
            if "torgb" in block:
                block["torgb"].build((None, res, res, nf[r - 1]))
        self.built = True

    @staticmethod
    def noise_resolution(i):
        """Side of noise map ``i``: 2^((i + 5) // 2)."""
        return 2 ** ((i + 5) // 2)

    def _own_dnnlib_variables(self):
        return ([(f"noise{i}", v) for i, v in enumerate(self.noise_vars)]
                + [("4x4/Const/const", self.const)])

    def _ordered_layers(self):
        order = ("conv0", "conv1", "skip", "torgb")
        return [b[k] for b in self.blocks for k in order if k in b]

    def _noise_inputs(self, noise_mode, noise, batch):
        if noise is not None:
            if len(noise) != len(self.noise_vars):
                raise ValueError(f"noise: expected {len(self.noise_vars)} maps, got {len(noise)}")
            for i, n in enumerate(noise):
                r = self.noise_resolution(i)
                check_shape(f"noise[{i}]", n, (None, r, r, 1))
            return list(noise)
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {NOISE_MODES}, got {noise_mode!r}")
        if noise_mode == "none" or not self.use_noise:
            return [None] * (self.num_ws - 1)
        if noise_mode == "const":
            return list(self.noise_vars)
        return [keras.random.normal([batch, self.noise_resolution(i), self.noise_resolution(i),
                                     1], seed=self.seed_generator)
                for i in range(self.num_ws - 1)]

    def call(self, ws, noise_mode="const", noise=None):
        """Synthesise images.

        Args:
            ws: [N, num_ws, w_dim] float, the W+ codes.
            noise_mode: ``"const"`` (stored noise maps, as DGP's ``randomize_noise=False``),
                ``"random"`` (fresh N(0, 1) maps each call) or ``"none"``.
            noise: optional list of ``num_ws - 1`` tensors [1 or N, R, R, 1] used instead of
                the stored maps (e.g. to optimise them).

        Returns:
            [N, resolution, resolution, num_channels] float32, unclipped.
        """
        check_shape("ws", ws, (None, self.num_ws, self.w_dim))
        ws = ops.cast(ws, self.compute_dtype)
        batch = ops.shape(ws)[0]
        noises = self._noise_inputs(noise_mode, noise, batch)
        x = ops.tile(self.const, [batch, 1, 1, 1])
        b = self.blocks[0]
        x = b["conv1"](x, ws[:, 0], noises[0])
        y = b["torgb"](x, ws[:, 1]) if "torgb" in b else None
        for r in range(3, self.log2 + 1):
            b = self.blocks[r - 2]
            t = x
            x = b["conv0"](x, ws[:, 2 * r - 5], noises[2 * r - 5])
            x = b["conv1"](x, ws[:, 2 * r - 4], noises[2 * r - 4])
            if "skip" in b:
                x = (x + b["skip"](t)) * ops.cast(np.float32(1 / np.sqrt(2)), x.dtype)
            if self.architecture == "skip":
                y = upsample2d(y, k=self.resample_kernel)
            if "torgb" in b:
                t = b["torgb"](x, ws[:, 2 * r - 3])
                y = t if y is None else y + t
        return ops.cast(y, "float32")  # float32 out under mixed precision (a no-op otherwise)

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution,
                "num_channels": self.num_channels, "w_dim": self.w_dim,
                "channels": self.channels, "architecture": self.architecture,
                "activation": self.activation, "resample_kernel": self.resample_kernel,
                "use_noise": self.use_noise}


class Generator(_DnnlibModel):
    """StyleGAN2 generator (TF1 ``G_main``): ``mapping`` and ``synthesis`` sub-models.

    ``G(z, truncation_psi=1.0, noise_mode="const")`` -> images [N, R, R, C]. The TF1 variables
    of ``Gs`` are ``dlatent_avg`` (held by the mapping network), ``mapping/...`` and
    ``synthesis/...``.
    """

    def __init__(self, resolution=1024, num_channels=3, z_dim=512, w_dim=512,
                 mapping_kwargs=None, synthesis_kwargs=None, **kwargs):
        super().__init__(**kwargs)
        self.resolution, self.num_channels = resolution, num_channels
        self.z_dim, self.w_dim = z_dim, w_dim
        self.mapping_kwargs = dict(mapping_kwargs or {})
        self.synthesis_kwargs = dict(synthesis_kwargs or {})
        self.synthesis = SynthesisNetwork(resolution=resolution, num_channels=num_channels,
                                          w_dim=w_dim, name="synthesis",
                                          **self.synthesis_kwargs)
        self.mapping = MappingNetwork(z_dim=z_dim, w_dim=w_dim, num_ws=self.synthesis.num_ws,
                                      name="mapping", **self.mapping_kwargs)
        self.built = True

    @property
    def num_ws(self):
        return self.synthesis.num_ws

    def dnnlib_variables(self):
        return ([("dlatent_avg", self.mapping.dlatent_avg)]
                + [(f"synthesis/{n}", v) for n, v in self.synthesis.dnnlib_variables()]
                + [(f"mapping/{n}", v) for n, v in self.mapping.dnnlib_variables()
                   if n != "dlatent_avg"])

    def call(self, z, truncation_psi=1.0, truncation_cutoff=None, noise_mode="const"):
        ws = self.mapping(z, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode)

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution,
                "num_channels": self.num_channels, "z_dim": self.z_dim, "w_dim": self.w_dim,
                "mapping_kwargs": self.mapping_kwargs,
                "synthesis_kwargs": self.synthesis_kwargs}


class Discriminator(_DnnlibModel):
    """images [N, R, R, C] in [-1, 1] -> scores [N, 1] (TF1 ``D_stylegan2``, raw logits).

    Architecture ``resnet`` (default), ``skip`` or ``orig``; minibatch-stddev epilogue with
    group ``min(mbstd_group_size, N)`` (batch 1 gives the constant channel 1e-4); the 4x4
    features are flattened in NCHW order so that TF1 ``Dense0`` weights apply unchanged.
    """

    def __init__(self, resolution=1024, num_channels=3, fmap_base=16384, fmap_decay=1.0,
                 fmap_min=1, fmap_max=512, channels=None, architecture="resnet",
                 activation="lrelu", mbstd_group_size=4, mbstd_num_features=1,
                 resample_kernel=(1, 3, 3, 1), **kwargs):
        super().__init__(**kwargs)
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        self.resolution, self.num_channels = resolution, num_channels
        self.log2 = _resolution_log2(resolution)
        self.channels = list(channels) if channels is not None else stage_channels(
            resolution, fmap_base, fmap_decay, fmap_min, fmap_max)
        if len(self.channels) != self.log2 + 1:
            raise ValueError(f"channels needs {self.log2 + 1} entries, got {len(self.channels)}")
        self.architecture, self.activation = architecture, activation
        self.mbstd_group_size, self.mbstd_num_features = mbstd_group_size, mbstd_num_features
        self.resample_kernel = None if resample_kernel is None else list(resample_kernel)

        nf, act, rk = self.channels, activation, self.resample_kernel
        self.blocks = []  # blocks[log2 - r]: the layers at 2^r px, highest first
        for r in range(self.log2, 2, -1):
            s = f"{2 ** r}x{2 ** r}"
            b = {}
            if architecture == "skip" or r == self.log2:
                b["fromrgb"] = EqualizedConv2D(nf[r - 1], 1, activation=act,
                                               tf_scope=f"{s}/FromRGB", name=f"b{2 ** r}_fromrgb")
            b["conv0"] = EqualizedConv2D(nf[r - 1], 3, activation=act, tf_scope=f"{s}/Conv0",
                                         name=f"b{2 ** r}_conv0")
            b["conv1"] = EqualizedConv2D(nf[r - 2], 3, down=True, resample_kernel=rk,
                                         activation=act, tf_scope=f"{s}/Conv1_down",
                                         name=f"b{2 ** r}_conv1_down")
            if architecture == "resnet":
                b["skip"] = EqualizedConv2D(nf[r - 2], 1, down=True, resample_kernel=rk,
                                            use_bias=False, tf_scope=f"{s}/Skip",
                                            name=f"b{2 ** r}_skip")
            self.blocks.append(b)
        e = {}
        if architecture == "skip":
            e["fromrgb"] = EqualizedConv2D(nf[1], 1, activation=act, tf_scope="4x4/FromRGB",
                                           name="b4_fromrgb")
        e["conv"] = EqualizedConv2D(nf[1], 3, activation=act, tf_scope="4x4/Conv",
                                    name="b4_conv")
        e["dense0"] = EqualizedDense(nf[0], activation=act, tf_scope="4x4/Dense0",
                                     name="b4_dense0")
        e["output"] = EqualizedDense(1, tf_scope="Output", name="output")
        self.epilogue = e
        self.build((None, resolution, resolution, num_channels))

    def build(self, input_shape):
        nf, c = self.channels, self.num_channels
        for r, b in zip(range(self.log2, 2, -1), self.blocks):
            res = 2 ** r
            if "fromrgb" in b:
                b["fromrgb"].build((None, res, res, c))
            b["conv0"].build((None, res, res, nf[r - 1]))
            b["conv1"].build((None, res, res, nf[r - 1]))
            if "skip" in b:
                b["skip"].build((None, res, res, nf[r - 1]))
        e = self.epilogue
        if "fromrgb" in e:
            e["fromrgb"].build((None, 4, 4, c))
        mbstd = self.mbstd_num_features if self.mbstd_group_size > 1 else 0
        e["conv"].build((None, 4, 4, nf[1] + mbstd))
        e["dense0"].build((None, nf[1] * 16))
        e["output"].build((None, nf[0]))
        self.built = True

    def _ordered_layers(self):
        order = ("fromrgb", "conv0", "conv1", "skip")
        layers = [b[k] for b in self.blocks for k in order if k in b]
        return layers + [self.epilogue[k] for k in ("fromrgb", "conv", "dense0", "output")
                         if k in self.epilogue]

    def call(self, images):
        """images [N, R, R, C] float in [-1, 1] -> [N, 1] logits."""
        check_shape("images", images, (None, self.resolution, self.resolution,
                                         self.num_channels))
        y = ops.cast(images, self.compute_dtype)
        x = None
        for r in range(self.log2, 2, -1):
            b = self.blocks[self.log2 - r]
            if "fromrgb" in b:
                t = b["fromrgb"](y)
                x = t if x is None else x + t
            t = x
            x = b["conv1"](b["conv0"](x))
            if "skip" in b:
                x = (x + b["skip"](t)) * ops.cast(np.float32(1 / np.sqrt(2)), x.dtype)
            if self.architecture == "skip":
                y = downsample2d(y, k=self.resample_kernel)
        e = self.epilogue
        if "fromrgb" in e:
            x = x + e["fromrgb"](y)
        if self.mbstd_group_size > 1:
            x = minibatch_stddev(x, self.mbstd_group_size, self.mbstd_num_features)
        x = e["conv"](x)
        x = ops.reshape(ops.transpose(x, [0, 3, 1, 2]), [-1, 16 * self.channels[1]])
        return ops.cast(e["output"](e["dense0"](x)), "float32")  # float32 under mixed precision

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution,
                "num_channels": self.num_channels, "channels": self.channels,
                "architecture": self.architecture, "activation": self.activation,
                "mbstd_group_size": self.mbstd_group_size,
                "mbstd_num_features": self.mbstd_num_features,
                "resample_kernel": self.resample_kernel}
