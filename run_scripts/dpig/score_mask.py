"""DPIG's ``score_mask.py``: SSIM / PSNR / L1 / L2 / IS of the pose-masked colour images.

    python run_scripts/dpig/score_mask.py 1 <gpu> <model_dir> <test_dir> \\
        [classify_image_graph_def.pb]

Masked images are ``uint8(mask / 255 * image)`` with the **target** pose mask
(``mask_target/``) of the test folder, since G is compared with x_target; the original read
``mask/``, the source image's mask (``--original_quirks`` reproduces it, and the unsorted
pairing). mask-SSIM is the mean per-channel SSIM (data range 255). Pairing and IS as
``score.py``. Writes ``score_mask.txt``.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from score import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], masked=True))
