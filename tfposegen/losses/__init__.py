"""Losses shared by the ported papers: adversarial (:mod:`.gan`) and VGG feature losses
(:mod:`.perceptual`). Nothing here reads files except :func:`load_torchvision_vgg19`."""

from tfposegen.losses.gan import (
    bce_d_loss,
    bce_g_loss,
    clip_weights,
    hinge_d_loss,
    hinge_g_loss,
    logistic_d_loss,
    logistic_g_loss,
    lsgan_d_loss,
    lsgan_g_loss,
    r1_penalty,
    wgan_d_loss,
    wgan_g_loss,
)
from tfposegen.losses.perceptual import (
    ADGAN_CX_LAYERS,
    ADGAN_PERCEPTUAL_LAYER,
    DPTN_CONTENT_LAYERS,
    DPTN_STYLE_LAYERS,
    VGG19_LAYERS,
    VGG19Features,
    assign_torchvision_vgg19,
    content_l1,
    content_mse,
    contextual_loss,
    gram_matrix,
    l1_plus_perceptual,
    load_torchvision_vgg19,
    style_loss,
)

__all__ = [
    "ADGAN_CX_LAYERS", "ADGAN_PERCEPTUAL_LAYER", "DPTN_CONTENT_LAYERS", "DPTN_STYLE_LAYERS",
    "VGG19Features", "VGG19_LAYERS", "assign_torchvision_vgg19", "bce_d_loss", "bce_g_loss",
    "clip_weights", "content_l1", "content_mse", "contextual_loss", "gram_matrix",
    "hinge_d_loss", "hinge_g_loss", "l1_plus_perceptual", "load_torchvision_vgg19",
    "logistic_d_loss", "logistic_g_loss", "lsgan_d_loss", "lsgan_g_loss", "r1_penalty",
    "style_loss", "wgan_d_loss", "wgan_g_loss",
]
