"""DPTN's networks (``models/networks.py`` in PangzeCheung/Dual-task-Pose-Transformer-Network),
Keras 3, NHWC, images in [-1, 1].

- :class:`ContentEncoder` (En_c: ``block0``, ``encoder{i}``, ``mblock{i}``),
  :class:`SourceEncoder` (En_s: ``block0`` + ``encoder{i}`` on the source image alone) and
  :class:`Decoder` (De: ``decoder{i}``, ``outconv``), shared with DPTN_step
  (:mod:`tfposegen.models.dptn.step_networks`).
- :class:`DPTNGenerator`: En_c on cat(image, source pose, source pose) and on cat(image,
  source pose, target pose), En_s on the image, the
  :class:`~tfposegen.models.dptn.ptm.PTM`, and one decoder for both branches.
- :class:`ResDiscriminator`: residual encoder blocks with spectral norm, a final
  LeakyReLU and a 1x1 spectral-normed conv to one channel (LSGAN, no sigmoid).

Channel rule (both encoders): stage i (i = 0 .. layers-2) has ``ngf * min(2^(i+1),
img_f / ngf)`` channels; decoder stage i has ``ngf * min(2^(layers-i-2), img_f / ngf)``
(``ngf`` for the last). The original's model class hard-codes ``ngf 64, img_f 512, layers
3, num_blocks 3`` for G and ``ndf 32, img_f 128`` for D (``models/DPTN_model.py``).
"""

import keras
from keras import ops

from tfposegen.layers.composite import BuiltByFirstCall
from tfposegen.models.dptn import blocks as B
from tfposegen.models.dptn.ptm import PTM
from tfposegen.train.precision import to_float32


def _encoder_channels(ngf, img_f, layers):
    return [ngf * min(2 ** (i + 1), img_f // ngf) for i in range(layers - 1)]


class ContentEncoder(BuiltByFirstCall, keras.layers.Layer):
    """En_c: ``block0``, ``encoder{i}``, ``mblock{i}`` on an image concatenated with pose
    maps: [B, H, W, in] -> [B, H / 2^layers, W / 2^layers, C] (C = ngf * min(2^(layers-1),
    img_f / ngf), 256 for DPTN)."""

    def __init__(self, ngf=64, img_f=512, layers=3, num_blocks=3, use_spect=False, **kwargs):
        super().__init__(**kwargs)
        self.ngf, self.img_f, self.layers = ngf, img_f, layers
        self.num_blocks, self.use_spect = num_blocks, use_spect
        channels = _encoder_channels(ngf, img_f, layers)
        self.width = channels[-1] if channels else ngf
        self.block0 = B.EncoderBlockOptimized(ngf, use_spect=use_spect)
        self.encoders = [B.EncoderBlock(c, use_spect=use_spect) for c in channels]
        self.mblocks = [B.ResBlock(self.width, use_spect=use_spect) for _ in range(num_blocks)]

    def call(self, x):
        x = self.block0(x)
        for block in self.encoders + self.mblocks:
            x = block(x)
        return x

    def get_config(self):
        return {**super().get_config(), "ngf": self.ngf, "img_f": self.img_f,
                "layers": self.layers, "num_blocks": self.num_blocks,
                "use_spect": self.use_spect}


class SourceEncoder(ContentEncoder):
    """En_s: ``block0`` + ``encoder{i}`` (no res-blocks) on the source image alone:
    [B, H, W, 3] -> [B, H / 2^layers, W / 2^layers, C]."""

    def __init__(self, ngf=64, img_f=512, layers=3, use_spect=False, **kwargs):
        kwargs.pop("num_blocks", None)
        super().__init__(ngf, img_f, layers, 0, use_spect, **kwargs)


class Decoder(BuiltByFirstCall, keras.layers.Layer):
    """The shared decoder De: ``decoder{i}`` (residual up-sampling blocks) and ``outconv``:
    [B, h, w, C] -> [B, h * 2^layers, w * 2^layers, 3] in (-1, 1). Stage i has ``ngf *
    min(2^(layers-i-2), img_f / ngf)`` channels, the last ``ngf``."""

    def __init__(self, ngf=64, img_f=512, layers=3, use_spect=False, **kwargs):
        super().__init__(**kwargs)
        self.ngf, self.img_f, self.layers, self.use_spect = ngf, img_f, layers, use_spect
        self.decoders = []
        for i in range(layers):
            out = ngf * min(2 ** (layers - i - 2), img_f // ngf) if i != layers - 1 else ngf
            self.decoders.append(B.ResBlockDecoder(out, out, use_spect=use_spect))
        self.outconv = B.Output(3, use_spect=use_spect)

    def call(self, x):
        for block in self.decoders:
            x = block(x)
        return self.outconv(x)

    def get_config(self):
        return {**super().get_config(), "ngf": self.ngf, "img_f": self.img_f,
                "layers": self.layers, "use_spect": self.use_spect}


@keras.saving.register_keras_serializable("tfposegen_dptn")
class DPTNGenerator(BuiltByFirstCall, keras.Model):
    """The Dual-task Pose Transformer Network.

    Call: ``G(source, source_pose, target_pose, is_train=True)`` with ``source`` float
    [B, H, W, 3] in [-1, 1] and the poses float [B, H, W, pose_nc] (DPTN's Gaussian maps in
    [0, 1]); returns ``(out_t, out_s)``, each [B, H, W, 3] in (-1, 1): the source in the
    target pose and the reconstructed source (None unless ``is_train``, as the original).
    H and W must be multiples of 2^layers. Built at construction (a call on zeros at
    2^layers x 2^layers), so a saved networks folder loads without a sample input.

    Args:
        image_nc, pose_nc: 3 and 18.
        ngf, img_f, layers, num_blocks: widths and depths (DPTN: 64, 512, 3, 3).
        nhead, num_CABs, num_TTBs: the PTM (2, 2, 2).
        use_spect: spectral norm on every convolution (DPTN False).
    """

    def __init__(self, image_nc=3, pose_nc=18, ngf=64, img_f=512, layers=3, num_blocks=3,
                 nhead=2, num_CABs=2, num_TTBs=2, use_spect=False, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(image_nc=image_nc, pose_nc=pose_nc, ngf=ngf, img_f=img_f,
                           layers=layers, num_blocks=num_blocks, nhead=nhead,
                           num_CABs=num_CABs, num_TTBs=num_TTBs, use_spect=use_spect)
        self.content_encoder = ContentEncoder(ngf, img_f, layers, num_blocks, use_spect)
        width = self.content_encoder.width
        self.ptm = PTM(width, nhead, num_CABs, num_TTBs, width)
        self.source_encoder = SourceEncoder(ngf, img_f, layers, use_spect)
        self.decoder = Decoder(ngf, img_f, layers, use_spect)
        side = 2 ** layers  # built at construction (the weights do not depend on H, W)
        self(*[ops.zeros((1, side, side, c)) for c in (image_nc, pose_nc, pose_nc)])

    def encode(self, image, pose_a, pose_b):
        """En_c on cat(image, pose_a, pose_b): [B, H/8, W/8, C] features."""
        return self.content_encoder(ops.concatenate([image, pose_a, pose_b], axis=-1))

    def call(self, source, source_pose, target_pose, is_train=True):
        f_ss = self.encode(source, source_pose, source_pose)
        f_st = self.encode(source, source_pose, target_pose)
        f_st = self.ptm(f_ss, f_st, self.source_encoder(source))
        out_s = self.decoder(f_ss) if is_train else None
        return to_float32((self.decoder(f_st), out_s))  # float32 under mixed precision

    def get_config(self):
        return {**super().get_config(), **self.config}


@keras.saving.register_keras_serializable("tfposegen_dptn")
class ResDiscriminator(BuiltByFirstCall, keras.Model):
    """DPTN's discriminator: image [B, H, W, input_nc] in [-1, 1] -> patch scores
    [B, H / 2^layers, W / 2^layers, 1] (no sigmoid).

    Args:
        input_nc: 3.
        ndf, img_f, layers: DPTN 32, 128 and 4 (DeepFashion) / 3 (Market, ``--dis_layers``).
        use_spect: spectral norm on the blocks' convolutions (the final 1x1 conv always has it).
    """

    def __init__(self, input_nc=3, ndf=32, img_f=128, layers=4, use_spect=True, build=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.config = dict(input_nc=input_nc, ndf=ndf, img_f=img_f, layers=layers,
                           use_spect=use_spect)
        self.block0 = B.ResBlockEncoderOptimized(ndf, ndf, use_spect=use_spect)
        self.encoders, previous = [], ndf
        for c in _encoder_channels(ndf, img_f, layers):
            self.encoders.append(B.ResBlockEncoder(c, previous, use_spect=use_spect))
            previous = c
        self.conv = B.conv(1, 1, True)
        self.act = keras.layers.LeakyReLU(B.SLOPE)
        if build:  # built at construction (a subclass with more layers builds itself)
            self(ops.zeros((1, 2 ** layers, 2 ** layers, input_nc)))

    def features(self, x):
        """The residual trunk: [B, H, W, input_nc] -> [B, H / 2^layers, W / 2^layers, C],
        before the final LeakyReLU."""
        x = self.block0(x)
        for block in self.encoders:
            x = block(x)
        return x

    def call(self, x):
        return to_float32(self.conv(self.act(self.features(x))))  # float32 under mixed precision

    def get_config(self):
        return {**super().get_config(), **self.config}
