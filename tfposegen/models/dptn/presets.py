"""DPTN configurations: what ``models/DPTN_model.py`` in
PangzeCheung/Dual-task-Pose-Transformer-Network hard-codes (its ``--layers_g``,
``--num_blocks``, ``--ndf`` options have no effect), and a tiny one for tests."""

# G: ngf 64, img_f 512, 3 layers, 3 res-blocks; PTM nhead 2, 2 CABs, 2 TTBs (--nhead,
# --num_CABs, --num_TTBs defaults); no spectral norm (use_spect_g False).
DPTN_G = dict(image_nc=3, pose_nc=18, ngf=64, img_f=512, layers=3, num_blocks=3, nhead=2,
              num_CABs=2, num_TTBs=2, use_spect=False)
# D: ndf 32, img_f 128, spectral norm; dis_layers 4 (DeepFashion) or 3 (Market's README).
DPTN_D_FASHION = dict(input_nc=3, ndf=32, img_f=128, layers=4, use_spect=True)
DPTN_D_MARKET = dict(DPTN_D_FASHION, layers=3)
TINY_G = dict(DPTN_G, ngf=4, img_f=16, num_blocks=1, num_CABs=1, num_TTBs=1)
TINY_D = dict(DPTN_D_FASHION, ndf=8, img_f=16, layers=3)

# Counted on the original torch modules (tests/reference/make_dptn_reference.py).
PARAMS_RELEASED = {"G": 9_794_371, "D_fashion": 664_577, "D_market": 238_209}

# DPTN_step (gkalstn000/DPTN_step options): the same widths, 41 pose channels (18 keypoint
# Gaussians + 23 limbs), spectral norm on every G convolution, S = 5 steps;
# StepGenerator(height, width, **DPTN_STEP_G) at DeepFashion's 256 x 256.
DPTN_STEP_G = dict(DPTN_G, pose_nc=41, use_spect=True, steps=5)
DPTN_STEP_D = dict(DPTN_D_FASHION, steps=5)
PARAMS_RELEASED.update(step_G=9_799_491, step_D=9_054_726)
