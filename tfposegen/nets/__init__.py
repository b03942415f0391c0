"""Keras models: StyleGAN2 (``nets.stylegan2``) and the DGP encoder (``nets.encoder``)."""
