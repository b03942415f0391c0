"""DGP's in-domain encoder (genforce/idinvert style): image -> W+ codes, NHWC.

The official DGP pickle stores the encoder only as variables plus build source, so the
network is described by a small layout (``from_img``, ``blocks``, ``latent_units``) that
``Encoder.layout_from_variables`` derives from the variables' names and shapes; the default
layout is idinvert's ``Encoder(size=512, filter=64, filter_max=512, num_layers=16)``.

As genforce/idinvert's ``training/networks_encoder.py`` (NCHW in the original):
``FromImg`` conv k x k (+bias) -> lrelu 0.2 -> BN; then per block ``E_block_i``: 2x2 average
pool, main path of convs ``Conva``, ``Convb``, ... each conv (+bias) -> lrelu 0.2 -> BN,
shortcut = input, or 1x1 conv (no bias) -> BN when ``Shortcut/weight`` exists, output = main +
shortcut; ``Latent_out``: flatten in NCHW order -> dense (+bias) -> BN -> reshape to
[num_ws, w_dim]. Weights are used raw (no equalized-lr scaling); BN epsilon 1e-5.
"""

import re

import keras
import numpy as np
from keras import ops


class EncoderLayoutError(ValueError):
    """The variables of an encoder do not fit the supported layout; lists what is wrong."""


def idinvert_layout(resolution=512, filters=64, filters_max=512, num_ws=16, w_dim=512, s0=4):
    """The layout of idinvert's TF ``Encoder`` (``residual_block2``), as DGP's pickle is expected.

    Returns:
        dict with ``resolution``, ``from_img`` ([kernel, filters]), ``blocks`` (list of
        ``{"convs": [[kernel, filters], ...], "shortcut": bool}``), ``num_ws``, ``w_dim``.
    """
    num_blocks = int(np.log2(resolution / s0))
    blocks = []
    for i in range(num_blocks):
        fin = min(filters * 2 ** i, filters_max)
        fout = min(filters * 2 ** (i + 1), filters_max)
        hidden = min(fin, fout)
        blocks.append({"convs": [[3, hidden], [3, fout]], "shortcut": fin != fout})
    return {"resolution": resolution, "from_img": [5, filters], "blocks": blocks,
            "num_ws": num_ws, "w_dim": w_dim}


def _bn(name):
    return keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=name)


class Encoder(keras.Model):
    """images [N, R, R, 3] in [-1, 1] -> W+ codes [N, num_ws, w_dim].

    Args:
        resolution: input side R (512 for DGP).
        from_img: [kernel, filters] of the first conv.
        blocks: list of ``{"convs": [[kernel, filters], ...], "shortcut": bool}``; each block
            halves the resolution with a 2x2 average pool first.
        num_ws, w_dim: output rows and width; the last dense has num_ws * w_dim units.
        lrelu_alpha: slope of the leaky ReLUs (0.2, no gain).
    """

    def __init__(self, resolution=512, from_img=(5, 64), blocks=None, num_ws=16, w_dim=512,
                 lrelu_alpha=0.2, **kwargs):
        super().__init__(**kwargs)
        if blocks is None:
            blocks = idinvert_layout(resolution, num_ws=num_ws, w_dim=w_dim)["blocks"]
        self.resolution, self.num_ws, self.w_dim = resolution, num_ws, w_dim
        self.from_img = list(from_img)
        self.block_specs = [{"convs": [list(c) for c in b["convs"]],
                             "shortcut": bool(b["shortcut"])} for b in blocks]
        self.lrelu_alpha = lrelu_alpha
        self.final_resolution = resolution // 2 ** len(blocks)
        if self.final_resolution * 2 ** len(blocks) != resolution or self.final_resolution < 1:
            raise ValueError(f"{len(blocks)} blocks cannot downsample {resolution} px evenly")

        k, f = self.from_img
        self.from_img_conv = keras.layers.Conv2D(f, k, padding="same", name="from_img")
        self.from_img_bn = _bn("from_img_bn")
        self.stages = []
        for i, spec in enumerate(self.block_specs):
            convs = [(keras.layers.Conv2D(cf, ck, padding="same", name=f"b{i}_conv{j}"),
                      _bn(f"b{i}_conv{j}_bn")) for j, (ck, cf) in enumerate(spec["convs"])]
            shortcut = None
            if spec["shortcut"]:
                shortcut = (keras.layers.Conv2D(spec["convs"][-1][1], 1, use_bias=False,
                                                name=f"b{i}_shortcut"), _bn(f"b{i}_shortcut_bn"))
            self.stages.append({"convs": convs, "shortcut": shortcut})
        self.latent = keras.layers.Dense(num_ws * w_dim, name="latent_out")
        self.latent_bn = _bn("latent_out_bn")
        self.build((None, resolution, resolution, 3))

    def build(self, input_shape):
        r = self.resolution
        self.from_img_conv.build((None, r, r, 3))
        c = self.from_img[1]
        self.from_img_bn.build((None, r, r, c))
        for stage in self.stages:
            r //= 2
            cin = c
            for conv, bn in stage["convs"]:
                conv.build((None, r, r, c))
                c = conv.filters
                bn.build((None, r, r, c))
            if stage["shortcut"] is not None:
                stage["shortcut"][0].build((None, r, r, cin))
                stage["shortcut"][1].build((None, r, r, c))
            elif cin != c:
                raise ValueError(f"encoder block changes channels {cin}->{c} without a shortcut")
        self.latent.build((None, c * r * r))
        self.latent_bn.build((None, self.num_ws * self.w_dim))
        self.built = True

    def _act_bn(self, x, bn, training):
        return bn(ops.leaky_relu(x, negative_slope=self.lrelu_alpha), training=training)

    def call(self, images, training=False):
        """images [N, R, R, 3] float in [-1, 1] -> [N, num_ws, w_dim]."""
        shape = tuple(images.shape)
        if len(shape) != 4 or shape[1:] != (self.resolution, self.resolution, 3):
            raise ValueError(f"images: expected shape [N, {self.resolution}, "
                             f"{self.resolution}, 3], got {list(shape)}")
        x = ops.cast(images, self.compute_dtype)
        x = self._act_bn(self.from_img_conv(x), self.from_img_bn, training)
        for stage in self.stages:
            x = ops.average_pool(x, 2, strides=2, padding="valid")
            t = x
            if stage["shortcut"] is not None:
                conv, bn = stage["shortcut"]
                t = bn(conv(x), training=training)
            for conv, bn in stage["convs"]:
                x = self._act_bn(conv(x), bn, training)
            x = x + t
        x = ops.reshape(ops.transpose(x, [0, 3, 1, 2]), [-1, int(np.prod(x.shape[1:]))])
        x = self.latent_bn(self.latent(x), training=training)
        # float32 out under mixed precision (a no-op otherwise)
        return ops.cast(ops.reshape(x, [-1, self.num_ws, self.w_dim]), "float32")

    def dnnlib_variables(self):
        """List of (TF1 local name, Keras variable) in idinvert's creation order."""
        def conv_bn(scope, conv, bn):
            out = [(f"{scope}/weight", conv.kernel)]
            if conv.use_bias:
                out.append((f"{scope}/bias", conv.bias))
            return out + [(f"{scope}/batch_norm/{n}", getattr(bn, n))
                          for n in ("moving_mean", "moving_variance", "gamma", "beta")]

        out = conv_bn("FromImg", self.from_img_conv, self.from_img_bn)
        for i, stage in enumerate(self.stages):
            if stage["shortcut"] is not None:
                out += conv_bn(f"E_block_{i}/Shortcut", *stage["shortcut"])
            for j, (conv, bn) in enumerate(stage["convs"]):
                out += conv_bn(f"E_block_{i}/Conv{chr(ord('a') + j)}", conv, bn)
        return out + conv_bn("Latent_out", self.latent, self.latent_bn)

    @staticmethod
    def layout_from_variables(shapes, w_dim=512):
        """Derive the encoder layout from TF1 variable names and shapes.

        Args:
            shapes: dict local name -> shape tuple (e.g. from a pickle's ``E.variables``).
            w_dim: W width (the generator's ``dlatent_size``).

        Returns:
            dict of ``Encoder`` keyword arguments.

        Raises:
            EncoderLayoutError: a required variable is missing or has an impossible shape.
            (Variables left over, or of the wrong shape, are reported when the weights are
            assigned, see ``tfposegen.models.dgp.dnnlib``.)
        """
        def need(name, rank):
            if name not in shapes or len(shapes[name]) != rank:
                raise EncoderLayoutError(
                    f"encoder variable {name!r} of rank {rank} not found "
                    f"(variables: {sorted(shapes)[:8]}...)")
            return shapes[name]

        k, _, cin, f = need("FromImg/weight", 4)
        if cin != 3:
            raise EncoderLayoutError(f"FromImg/weight takes {cin} input channels, expected 3")
        blocks = []
        while any(n.startswith(f"E_block_{len(blocks)}/") for n in shapes):
            i = len(blocks)
            names = sorted({m.group(1) for n in shapes
                            if (m := re.match(rf"E_block_{i}/(Conv[a-z])/weight$", n))})
            convs = [[need(f"E_block_{i}/{c}/weight", 4)[0],
                      need(f"E_block_{i}/{c}/weight", 4)[3]] for c in names]
            expected = [f"Conv{chr(ord('a') + j)}" for j in range(len(names))]
            if not convs or names != expected:
                raise EncoderLayoutError(f"E_block_{i}: expected convs {expected or ['Conva']}, "
                                         f"found {names}")
            blocks.append({"convs": convs, "shortcut": f"E_block_{i}/Shortcut/weight" in shapes})
        dense_in, units = need("Latent_out/weight", 2)
        c_last = blocks[-1]["convs"][-1][1] if blocks else f
        side = int(round(np.sqrt(dense_in / c_last)))
        if side * side * c_last != dense_in:
            raise EncoderLayoutError(f"Latent_out/weight has {dense_in} inputs, not a square "
                                     f"map of {c_last} channels")
        if units % w_dim:
            raise EncoderLayoutError(f"Latent_out/weight has {units} outputs, not a multiple "
                                     f"of w_dim={w_dim}")
        return {"resolution": side * 2 ** len(blocks), "from_img": [k, f], "blocks": blocks,
                "num_ws": units // w_dim, "w_dim": w_dim}

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution,
                "from_img": self.from_img, "blocks": self.block_specs,
                "num_ws": self.num_ws, "w_dim": self.w_dim, "lrelu_alpha": self.lrelu_alpha}
