"""DPTN_step's networks (``models/dptn_networks/`` in gkalstn000/DPTN_step), Keras 3, NHWC,
images in [-1, 1]: DPTN generated in S coarse-to-fine steps.

- :class:`StepGenerator` (the code's ``DPTNGenerator``): DPTN's En_c, PTM, En_s and decoder
  (:mod:`tfposegen.models.dptn.networks`) with spectral norm on every convolution, one pose
  per En_c input (3 + 41 channels), and the "step map" (a row of a sinusoidal table,
  :func:`tfposegen.models.dptn.steps.step_map`) added to both image inputs. At step j the
  target branch sees the previous step's target output (step 1: Gaussian noise) plus map j
  with the target pose; the source branch sees the quantised source
  (:func:`~tfposegen.models.dptn.steps.step_target`) plus map j + 1 with the source pose.
- :class:`StepDiscriminator`: DPTN's residual discriminator plus ``fc_step``, an ACGAN head
  classifying which of the S steps an image belongs to.
- :func:`generate_steps`: the S-step chain (``DPTNModel.generate_fake``), with optional
  per-step sources for style mixing (source A for the first k steps, source B after: shown
  in the repository's README, not implemented there).
"""

import keras
import numpy as np
from keras import ops

from tfposegen.layers.composite import BuiltByFirstCall
from tfposegen.models.dptn.networks import (
    ContentEncoder,
    Decoder,
    ResDiscriminator,
    SourceEncoder,
)
from tfposegen.models.dptn.ptm import PTM
from tfposegen.models.dptn.steps import step_map, step_target
from tfposegen.train.precision import to_float32


@keras.saving.register_keras_serializable("tfposegen_dptn")
class StepGenerator(BuiltByFirstCall, keras.Model):
    """DPTN_step's generator at a fixed size H x W (its step maps are H x W tables).

    Call: ``G(source_pose, target_pose, source_step, xt, step=j)`` with the poses float
    [B, H, W, pose_nc] in [0, 1] (18 keypoint Gaussians + 23 limb maps), ``source_step`` the
    quantised source of this step and ``xt`` the previous step's target output (or noise),
    both float [B, H, W, 3] (images in [-1, 1]), ``step`` (keyword) an int or int tensor in
    1..steps.
    Returns ``(out_t, out_s)``, each float [B, H, W, 3] in (-1, 1). ``training=True`` runs
    one spectral-norm power iteration per convolution (torch's train mode).

    Weights: the sub-networks ``content_encoder`` (En_c), ``ptm``, ``source_encoder`` (En_s),
    ``decoder`` (De), and ``step_maps`` (non-trainable, [steps + 2, H, W]): rows 0 .. steps + 1
    of the code's ``positional_encoding.pe``, computed on construction and replaced by the
    stored rows when a checkpoint is loaded.

    Args:
        height, width: the image size (DeepFashion 256 x 256); multiples of 2^layers.
        steps: S (5).
        image_nc, pose_nc: 3 and 41.
        ngf, img_f, layers, num_blocks, nhead, num_CABs, num_TTBs: as DPTN (64, 512, 3, 3,
            2, 2, 2).
        use_spect: spectral norm on every G convolution (the code: True).
    """

    def __init__(self, height=256, width=256, steps=5, image_nc=3, pose_nc=41, ngf=64,
                 img_f=512, layers=3, num_blocks=3, nhead=2, num_CABs=2, num_TTBs=2,
                 use_spect=True, **kwargs):
        super().__init__(**kwargs)
        side = 2 ** layers
        if height % side or width % side or int(steps) < 1:
            raise ValueError(f"StepGenerator: height {height} and width {width} must be "
                             f"multiples of {side} and steps >= 1 (got {steps})")
        self.config = dict(height=height, width=width, steps=steps, image_nc=image_nc,
                           pose_nc=pose_nc, ngf=ngf, img_f=img_f, layers=layers,
                           num_blocks=num_blocks, nhead=nhead, num_CABs=num_CABs,
                           num_TTBs=num_TTBs, use_spect=use_spect)
        self.content_encoder = ContentEncoder(ngf, img_f, layers, num_blocks, use_spect)
        width_c = self.content_encoder.width
        self.ptm = PTM(width_c, nhead, num_CABs, num_TTBs, width_c)
        self.source_encoder = SourceEncoder(ngf, img_f, layers, use_spect)
        self.decoder = Decoder(ngf, img_f, layers, use_spect)
        table = np.stack([step_map(j, height, width) for j in range(steps + 2)])
        self.step_maps = self.add_weight(
            shape=table.shape,
            initializer=lambda shape, dtype=None: ops.convert_to_tensor(table, dtype=dtype),
            trainable=False, name="step_maps")
        # built at construction on a 2^layers square (the weights do not depend on H, W)
        f = self.content_encoder(ops.zeros((1, side, side, image_nc + pose_nc)))
        self.ptm(f, f, self.source_encoder(ops.zeros((1, side, side, image_nc))))
        self.decoder(f)
        self.built = True

    def step_map(self, step):
        """Step map ``step`` as float [1, H, W, 1] (broadcast over batch and colour)."""
        return ops.take(self.step_maps, step, axis=0)[None, :, :, None]

    def call(self, source_pose, target_pose, source_step, xt, step=1):
        xt = xt + self.step_map(step)
        source = source_step + self.step_map(step + 1)
        f_ss = self.content_encoder(ops.concatenate([source, source_pose], axis=-1))
        f_st = self.content_encoder(ops.concatenate([xt, target_pose], axis=-1))
        f_st = self.ptm(f_ss, f_st, self.source_encoder(source))
        return to_float32((self.decoder(f_st), self.decoder(f_ss)))  # float32 under mixed precision

    def get_config(self):
        return {**super().get_config(), **self.config}


@keras.saving.register_keras_serializable("tfposegen_dptn")
class StepDiscriminator(ResDiscriminator):
    """DPTN_step's discriminator: DPTN's residual trunk and patch output plus the step head.

    Call: ``D(x)`` with ``x`` float [B, H, W, 3] in [-1, 1]; returns ``(pred, logp)``: the
    patch scores [B, H / 2^layers, W / 2^layers, 1] (no sigmoid) and log-probabilities of the
    S steps [B, S] (``fc_step`` = Linear(C * h * w, 256), ReLU, Linear(256, S), then
    ``log_softmax``; its input is the trunk's output before the last LeakyReLU, flattened in
    torch's C, H, W order). The code hard-codes h = w = 16: DeepFashion 256 x 256 with 4
    layers (or 128 x 128 with 3); here h, w follow ``image_size``.

    Args:
        image_size: (H, W) of the images, multiples of 2^layers.
        steps: S (5).
        input_nc, ndf, img_f, layers, use_spect: as :class:`ResDiscriminator` (3, 32, 128, 4,
            True).
    """

    def __init__(self, image_size=(256, 256), steps=5, input_nc=3, ndf=32, img_f=128,
                 layers=4, use_spect=True, **kwargs):
        height, width = (int(s) for s in image_size)
        if height % 2 ** layers or width % 2 ** layers:
            raise ValueError(f"StepDiscriminator: image size {image_size} must be a multiple "
                             f"of {2 ** layers}")
        super().__init__(input_nc, ndf, img_f, layers, use_spect, build=False, **kwargs)
        self.config = dict(self.config, image_size=(height, width), steps=int(steps))
        self.fc_step = [keras.layers.Dense(256), keras.layers.Dense(int(steps))]
        self(ops.zeros((1, height, width, input_nc)))  # built at construction

    def call(self, x):
        features = self.features(x)
        flat = ops.reshape(ops.transpose(features, (0, 3, 1, 2)), (ops.shape(x)[0], -1))
        logits = self.fc_step[1](ops.relu(self.fc_step[0](flat)))
        return to_float32((self.conv(self.act(features)),  # float32 under mixed precision
                           ops.log_softmax(logits, axis=-1)))


def generate_steps(G, source, source_pose, target_pose, noise, steps=None, training=False):
    """The coarse-to-fine chain of ``DPTNModel.generate_fake`` (gkalstn000/DPTN_step,
    models/dptn_model.py): for j = 1 .. steps, ``(xt, xs) = G(source_pose, target_pose,
    step_target(source, j), stop_gradient(xt), step=j)`` starting from ``xt = noise``.

    Style mixing: ``source`` and ``source_pose`` may be lists of one entry per step (e.g.
    person A's image and pose for the first k steps and person B's after); the quantised
    source of step j is then taken from entry j - 1.

    Args:
        G: a :class:`StepGenerator`.
        source: float [B, H, W, 3] in [-1, 1], or a list of ``steps`` such tensors.
        source_pose, target_pose: float [B, H, W, pose_nc] in [0, 1] (``source_pose`` may be a
            list like ``source``).
        noise: float [B, H, W, 3], the first target input (the code: N(0, 1)).
        steps: the number of steps to run (default G's S; fewer gives the early, coarse
            outputs).
        training: G's mode (spectral-norm power iterations when True).

    Returns:
        (targets, sources): lists of ``steps`` float [B, H, W, 3] tensors in (-1, 1), the
        target-pose output and the source reconstruction of each step.
    """
    total = int(G.config["steps"])
    steps = total if steps is None else int(steps)
    if not 1 <= steps <= total:
        raise ValueError(f"generate_steps: steps must be in 1..{total}, got {steps}")

    def per_step(x, name):
        if isinstance(x, (list, tuple)):
            if len(x) != steps:
                raise ValueError(f"generate_steps: {name} has {len(x)} entries for {steps} "
                                 "steps")
            return list(x)
        return [x] * steps

    sources, source_poses = per_step(source, "source"), per_step(source_pose, "source_pose")
    xt, targets, recons = noise, [], []
    for j in range(1, steps + 1):
        xt, xs = G(source_poses[j - 1], target_pose, step_target(sources[j - 1], j, total),
                   ops.stop_gradient(xt), step=j, training=training)
        targets.append(xt)
        recons.append(xs)
    return targets, recons
