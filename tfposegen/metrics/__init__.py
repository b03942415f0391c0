"""Evaluation metrics, one implementation each:

- ``image``: SSIM (scikit-image's rules), PSNR, masked PSNR, mean L1 / L2;
- ``inception``: Inception Score with the 2015 Inception graph (the papers' numbers);
- ``fid``: Frechet distance, Inception pool3 features (Keras InceptionV3 weights: the
  standard FID network here), Inception Score from probabilities;
- ``torchvision_inception``: torchvision's ImageNet InceptionV3 as the DPTN codes wrap it for
  their FID (``inception_v3_google-*.pth`` read without torch);
- ``lpips``: LPIPS with AlexNet / VGG16 backbones (weights by path);
- ``pose_transfer``: the PATN (padded 256x256), GFLA (256x176), DPTN and DPTN_step scoring
  protocols of pose-transfer test folders, from the above (FID with either network, each
  score named: ``fid``, ``fid_torchvision``).

Import the submodules directly.
"""
