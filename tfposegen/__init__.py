"""tfposegen: person-image generation (DGP, DPIG, ...) on TensorFlow 2 / Keras 3.

Shared floors at the bottom, one package per system above them, thin scripts on top
(``run_scripts/<system>/``). Dependencies point one way: floors never import ``models``.

- ``ops``: tensor math only (upfirdn2d, bias_act, modulated conv, TF1 resizes).
- ``layers``: shared Keras blocks (residual, ROI crop, TF1 batch norm, instance norm, AdaIN,
  spectral norm).
- ``losses``: GAN and perceptual losses.   ``metrics``: SSIM, PSNR, IS, FID, LPIPS.
- ``pose``: BlazePose keypoints, keypoint files, pose maps.
- ``parsing``: label tables, parse maps made from photos.
- ``data``: image records, pose-pair records, synthetic people and samples.
- ``convert``: readers of the originals' weight formats (dnnlib pickle, TF1 checkpoint,
  Keras-2 h5, PyTorch .pth).
- ``train``: the shared training loop and strategies.   ``export``: SavedModel edges.
- ``models``: ``stylegan2``, ``dgp``, ``dpig``, one package per system.
- ``utils``: atomic files, progress, shape checks.

Importing this package does not import TensorFlow; the sub-packages do.
"""

__version__ = "0.1.0"
