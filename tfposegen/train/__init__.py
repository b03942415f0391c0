"""Training loops: StyleGAN2 (``stylegan2``) and, later, the DGP encoder."""
