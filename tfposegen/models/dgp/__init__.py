"""DGP (Deep Generative Projection, CVPR 2022; RuiLiFeng/Deep-Generative-Projection), read
top to bottom:

- ``encoder``: the idinvert encoder images -> W+; ``presets``: ``build_dgp_networks``
  (encoder + the ``tfposegen.models.stylegan2`` pair); ``perceptual``: VGG16 block4_conv3 and
  the ResNet101 attribute features.
- ``dnnlib``: the name map of DGP's ``(E, D, Gs)`` dnnlib pickle, and the library's own
  saved form of those networks.
- ``coarse_align``: garment-on-body TPS alignment; ``inputs``: read and check a sample
  pair, prepare it at the generator's resolution.
- ``masks``: residual, arm and inner masks with the original's label values and resizes.
- ``losses``: the projection and search loss terms.
- ``project``: ``DGPProjector``, the optimised variables and one compiled step per phase.
- ``run``: ``run_dgp``, a resumable run writing PNGs, MP4s and loss logs; ``outputs``.
- ``train_encoder``: the idinvert encoder recipe.
- ``metrics``: the garment region for PSNR against the coarse alignment.
- ``export``: SavedModel serving signatures.
"""
