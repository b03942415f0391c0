"""Evaluation metrics, one implementation each:

- ``image``: SSIM (scikit-image's rules), PSNR, masked PSNR, mean L1 / L2;
- ``inception``: Inception Score with the 2015 Inception graph (the papers' numbers);
- ``fid``: Frechet distance, Inception pool3 features, Inception Score from probabilities;
- ``lpips``: LPIPS with AlexNet / VGG16 backbones (weights by path);
- ``pose_transfer``: the PATN (padded 256x256) and GFLA (256x176) scoring protocols of
  pose-transfer test folders, from the above.

Import the submodules directly.
"""
