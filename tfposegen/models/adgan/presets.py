"""Configurations of ADGAN's networks.

``ADGEN_RELEASED`` is what ``define_G('ADGen')`` in models/networks.py of menyifang/ADGAN
builds (ngf 64, G_n_downsampling 2, and its hard-coded style_dim 512, n_res 8, mlp_dim 256):
the configuration of the released ``800_net_netG.pth`` / ``1000_net_netG.pth``.
``D_PB_RELEASED`` / ``D_PP_RELEASED`` are ``define_D`` with the training script's options
(ndf 64, n_layers_D 3, D_n_downsampling 2, dropout on, LSGAN). ``ADGEN_TINY`` keeps every
layer type with one residual block per stack, for quick tests (dim must stay 64).
"""

ADGEN_RELEASED = dict(dim=64, style_dim=512, n_downsample=2, n_res=8, mlp_dim=256)
ADGEN_TINY = dict(dim=64, style_dim=64, n_downsample=2, n_res=1, mlp_dim=32)
D_PB_RELEASED = dict(input_nc=3 + 18, ndf=64, n_blocks=3, n_downsampling=2, use_dropout=True,
                     use_sigmoid=False)
D_PP_RELEASED = dict(D_PB_RELEASED, input_nc=3 + 3)

# Parameter counts of the original modules at the released size (netG includes the frozen
# VGG19 features, 20,024,384, which its print_network counts too).
PARAMS_RELEASED = {"netG": 48_799_299, "netG_trainable": 28_774_915, "netD_PB": 3_975_424,
                   "netD_PP": 3_928_384}
