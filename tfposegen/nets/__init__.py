"""Keras models: StyleGAN2 (``nets.stylegan2``), the DGP encoder (``nets.encoder``) and the
perceptual feature models (``nets.perceptual``: VGG16 block4_conv3, ResNet101 attributes).
DPIG's encoders, generator, critics, pose auto-encoder and mapping nets: ``nets.dpig``."""
