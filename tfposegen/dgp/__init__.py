"""DGP (Deep Generative Projection, CVPR 2022): masks, losses, the three search phases and
the outputs of one (model, garment) pair.

- ``inputs``: read and check a sample pair, prepare it at the generator's resolution.
- ``masks``: residual, arm and inner masks with the original's label values and resizes.
- ``losses``: the projection and search loss terms.
- ``project``: ``DGPProjector``, the optimised variables and one compiled step per phase.
- ``run``: ``run_dgp``, a resumable run writing PNGs, MP4s and loss logs.
- ``metrics``: PSNR against the coarse alignment inside the garment region.
"""
