"""DPIG ``--model`` numbers -> what is built, trained and restored (``main.py`` / ``trainer*.py``
in charliememory/Disentangled-Person-Image-Generation).

:data:`MODELS` is the one table: for each number the dataset, the stage, the trainer or
tester ``kind``, the networks built (keys of ``tfposegen.models.dpig.networks.network_specs``), the
networks each optimiser trains, and which ``--pretrained_*`` flag restores which networks.

Checkpoint groups: every network is saved under the name of its TF1 variable scope
(:data:`GROUPS`), so a model restores the networks of an earlier model's checkpoint by group
(e.g. 103's ``encoder_roi48`` from MODEL101's ``Encoder``), and released TF1 checkpoints
load by variable name (``tfposegen.convert.tf1_checkpoint``).
"""

import collections
import math

import tensorflow as tf

from tfposegen.models.dpig import networks as nets

NUM_PARTS = 7  # body parts 1-7 of the records' 37 boxes feed the encoders

ModelSpec = collections.namedtuple(
    "ModelSpec", "number dataset stage kind builds trains restores original_class")
ModelSpec.__doc__ = """One ``--model`` number.

``dataset`` "df" / "market"; ``stage`` "I", "II" or "test"; ``kind`` the train / test
routine (``tfposegen.models.dpig.train`` / ``test``); ``builds`` network keys; ``trains`` tuple of
(generator-side keys, critic keys, mode) with mode "dcgan" (Adam, 1 critic step), "wgan"
(TF1 RMSProp, 5 clipped critic steps) or "adam" (no critic); ``restores`` {flag: keys}."""

_PRE, _APP, _PAE, _PSAMP = ("pretrained_path", "pretrained_appSample_path",
                            "pretrained_poseAE_path", "pretrained_poseSample_path")

MODELS = {
    101: ModelSpec(101, "df", "I", "recon", ("encoder", "generator", "critic"),
                   ((("encoder", "generator"), ("critic",), "dcgan"),), {},
                   "DPIG_Encoder_GAN_BodyROI_256"),
    102: ModelSpec(102, "df", "I", "pose_ae", ("pose_ae",), ((("pose_ae",), (), "adam"),), {},
                   "DPIG_PoseRCV_AE_BodyROI_256"),
    103: ModelSpec(103, "df", "II", "app_sampler",
                   ("encoder_roi48", "generator", "app_mapping", "app_critic"),
                   ((("app_mapping",), ("app_critic",), "wgan"),),
                   {_PRE: ("encoder_roi48", "generator")},
                   "DPIG_Encoder_subSampleAppNet_GAN_BodyROI_256"),
    104: ModelSpec(104, "df", "II", "pose_sampler",
                   ("pose_ae", "pose_mapping", "pose_critic", "encoder_roi48", "generator"),
                   ((("pose_mapping",), ("pose_critic",), "wgan"),),
                   {_PRE: ("encoder_roi48", "generator"), _PAE: ("pose_ae",)},
                   "DPIG_subnetSamplePoseRCV_GAN_BodyROI_256"),
    1001: ModelSpec(1001, "df", "test", "pg2", ("encoder", "generator"), (),
                    {_PRE: ("encoder", "generator")}, "DPIG_ThreeNetsApp_testOnlyCondition_256"),
    1002: ModelSpec(1002, "df", "test", "sample_factors",
                    ("pose_ae", "pose_mapping", "encoder", "app_mapping", "generator"), (),
                    {_PRE: ("encoder", "generator"), _APP: ("app_mapping",),
                     _PAE: ("pose_ae",), _PSAMP: ("pose_mapping",)},
                    "DPIG_ThreeNetsApp_testOnlySampleFactor_256"),
    1: ModelSpec(1, "market", "I", "recon", ("encoder", "generator", "critic"),
                 ((("encoder", "generator"), ("critic",), "dcgan"),), {},
                 "DPIG_Encoder_GAN_BodyROI_FgBg"),
    2: ModelSpec(2, "market", "I", "pose_ae", ("pose_ae",), ((("pose_ae",), (), "adam"),), {},
                 "DPIG_PoseRCV_AE_BodyROI"),
    3: ModelSpec(3, "market", "II", "fgbg_sampler",
                 ("encoder", "generator", "fg_mapping", "bg_mapping", "fg_critic", "bg_critic"),
                 ((("fg_mapping",), ("fg_critic",), "wgan"),
                  (("bg_mapping",), ("bg_critic",), "wgan")),
                 {_PRE: ("encoder", "generator")}, "DPIG_Encoder_subSampleAppNetFgBg_GAN_BodyROI"),
    4: ModelSpec(4, "market", "II", "pose_sampler",
                 ("pose_ae", "pose_mapping", "pose_critic", "encoder", "generator"),
                 ((("pose_mapping",), ("pose_critic",), "wgan"),),
                 {_PRE: ("encoder", "generator"), _PAE: ("pose_ae",)},
                 "DPIG_subnetSamplePoseRCV_GAN_BodyROI"),
    11: ModelSpec(11, "market", "test", "sample_market",
                  ("encoder", "generator", "critic", "fg_mapping", "bg_mapping", "pose_ae",
                   "pose_mapping"), (),
                  {_PRE: ("encoder", "generator", "critic"), _APP: ("fg_mapping", "bg_mapping"),
                   _PAE: ("pose_ae",), _PSAMP: ("pose_mapping",)}, "DPIG_FourNetsFgBg_testOnly"),
    12: ModelSpec(12, "market", "test", "pg2", ("encoder", "generator", "critic"), (),
                  {_PRE: ("encoder", "generator", "critic")},
                  "DPIG_FourNetsFgBg_testOnlyCondition"),
    13: ModelSpec(13, "market", "test", "sample_market",
                  ("encoder", "generator", "critic", "fg_mapping", "bg_mapping", "pose_ae",
                   "pose_mapping"), (),
                  {_PRE: ("encoder", "generator", "critic"), _APP: ("fg_mapping", "bg_mapping"),
                   _PAE: ("pose_ae",), _PSAMP: ("pose_mapping",)},
                  "DPIG_FourNetsFgBg_testOnlySampleFactor"),
}

# network key -> checkpoint group (the TF1 variable scope / tflib prefix it lives in)
GROUPS = {"encoder": "Encoder", "encoder_roi48": "Encoder", "generator": "ID_AE",
          "critic": "Discriminator", "pose_ae": "PoseAE", "app_mapping": "Gaussian_FC",
          "pose_mapping": "PoseGaussian", "fg_mapping": "Gaussian_FC_Fg",
          "bg_mapping": "Gaussian_FC_Bg", "app_critic": "FCDis", "pose_critic": "Pose_emb",
          "fg_critic": "Fg_FCDis", "bg_critic": "Bg_FCDis"}

TEST_BATCHES = {1001: 400, 1002: 100, 11: 751, 12: 600, 13: 400}


class ModelError(ValueError):
    """Unknown model number or a configuration the networks cannot take."""


def get_spec(number):
    """The :class:`ModelSpec` of a ``--model`` number; ModelError naming the known ones."""
    if number not in MODELS:
        raise ModelError(f"--model {number} is not a DPIG model; known: {sorted(MODELS)}")
    return MODELS[number]


def build_networks(spec, img_H, img_W, hidden=128, z_num=64, fc_hidden=None, critic_dim=64):
    """Build the networks of a model at an image size, as the original sizes them.

    ``repeat_num = log2(img_H) - 2`` (trainer._common_init); DF: encoder ``repeat_num + 1``
    stages, generator ``repeat_num - 1`` blocks (7 and 5 at 256x256); Market: 5 and 5 at
    128x64 (``repeat_num`` for both). Images must have H*W a multiple of 8192 for the
    DCGAN critic (128x64 is the smallest).

    Args:
        spec: :class:`ModelSpec`.
        img_H, img_W: image size (ints; powers of two as the originals).
        hidden: conv_hidden_num (n).
        z_num: generator bottleneck.
        fc_hidden: width of pose AE / mapping nets / FC critics (None: the original 512 /
            256; small values for tests).
        critic_dim: DCGAN critic base width (64).

    Returns:
        dict key -> built Keras model (fresh weights).
    """
    repeat = int(math.log2(img_H)) - 2
    shape = (img_H, img_W)
    specs = nets.network_specs(spec.dataset)
    out = {}
    for key in spec.builds:
        cls, kwargs = specs[key]
        kwargs = dict(kwargs)
        if cls in (nets.BodyROIEncoder, nets.FgBgEncoder):
            blocks = repeat + 1 if spec.dataset == "df" else repeat
            kwargs.update(image_shape=shape, hidden=hidden, num_blocks=blocks)
        elif cls is nets.UAEGenerator:
            blocks = repeat - 1 if spec.dataset == "df" else repeat
            kwargs.update(image_shape=shape, hidden=hidden, z_num=z_num, num_blocks=blocks)
        elif cls is nets.DCGANCritic:
            kwargs.update(dim=critic_dim)
        elif fc_hidden is not None:
            field = "fc_dim" if cls is nets.FCCritic else "hidden"
            kwargs[field] = fc_hidden
        try:
            out[key] = cls(**kwargs)
        except ValueError as e:
            raise ModelError(f"model {spec.number} at {img_H}x{img_W}: {e}") from e
    return out


def appearance(networks, dataset, batch, key="encoder"):
    """Appearance embedding of a batch's source images with its part boxes 1-7 and their
    visibility (Market adds the r6 foreground mask): DF [B, 224], Market [B, 352]
    (fg 224 | bg 128).

    Args:
        networks: dict with ``key`` (an encoder with visibility).
        dataset: "df" or "market".
        batch: ``dpig_dataset`` dict (``x``, ``part_bbox``, ``part_vis``, Market
            ``mask_r6``).
    """
    enc = networks[key]
    boxes = batch["part_bbox"][:, :NUM_PARTS]
    vis = tf.cast(batch["part_vis"][:, :NUM_PARTS], tf.float32)
    if dataset == "market":
        return enc(batch["x"], batch["mask_r6"], boxes, vis)
    return enc(batch["x"], boxes, vis)


__all__ = ["GROUPS", "MODELS", "NUM_PARTS", "ModelError", "ModelSpec", "TEST_BATCHES",
           "appearance", "build_networks", "get_spec"]
