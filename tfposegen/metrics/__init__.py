"""Evaluation metrics, one implementation each:

- ``image``: SSIM (scikit-image's rules), PSNR, masked PSNR, mean L1 / L2;
- ``inception``: Inception Score with the 2015 Inception graph (the papers' numbers);
- ``fid``: Frechet distance, Inception pool3 features (Keras InceptionV3 weights: the
  standard FID network here), Inception Score from probabilities;
- ``torchvision_inception``: torchvision's ImageNet InceptionV3 as the DPTN codes wrap it for
  their FID (``inception_v3_google-*.pth`` read without torch), and PAINT's eval.py with its
  corner-aligned resize (``fid.paint_fid``: batches of 4, the remainder dropped);
- ``lpips``: LPIPS with AlexNet / VGG16 backbones (weights by path);
- ``pose_transfer``: the PATN (padded 256x256), GFLA (256x176), DPTN and DPTN_step scoring
  protocols of pose-transfer test folders, from the above (FID with either network, each
  score named: ``fid``, ``fid_torchvision``).
- ``segmentation``: confusion matrix, per-image mIoU and pixel accuracy as PAINT's LGN test
  (``LGN/miou.py``) computes them; ``image.paint_image_scores``: PAINT's TSN / AFN
  ``eval.py`` (relative L1 "MAE", PSNR, 51 x 51 uniform-window SSIM).

Import the submodules directly; the numpy-only PAINT scores are also exported here.
"""

from tfposegen.metrics.image import PAINT_SSIM_WINDOW, paint_image_scores, relative_l1
from tfposegen.metrics.segmentation import (
    PerImageScores,
    class_iou,
    class_pixel_accuracy,
    confusion_matrix,
    image_scores,
    labels_of,
    lgn_miou,
    mean_iou,
    mean_pixel_accuracy,
    pixel_accuracy,
)

__all__ = ["PAINT_SSIM_WINDOW", "PerImageScores", "class_iou", "class_pixel_accuracy",
           "confusion_matrix", "image_scores", "labels_of", "lgn_miou", "mean_iou",
           "mean_pixel_accuracy", "paint_image_scores", "pixel_accuracy", "relative_l1"]
