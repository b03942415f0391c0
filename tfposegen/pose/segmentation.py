"""Person masks: mediapipe's selfie segmentation model, and its mix with BlazePose's mask."""

import cv2
import numpy as np

from tfposegen.pose import model_files
from tfposegen.pose.blazepose import _interpreter, _run, load_image

SELFIE_SIZE = 256


class SelfieSegmentation:
    """``selfie_segmentation.tflite`` (general model, 256x256): image -> person probability.

    As mediapipe's ``SelfieSegmentationCpu``: the whole image is resized to 256x256
    (aspect ratio not kept), scaled to [0, 1]; the output probability map is resized back
    bilinearly.

    Args:
        model_dir, fetch: as :class:`tfposegen.pose.blazepose.BlazePose`.
    """

    def __init__(self, model_dir=None, fetch=True):
        path = model_files.model_paths(("selfie_segmentation.tflite",), model_dir, fetch)
        self._model = _interpreter(path["selfie_segmentation.tflite"])

    def __call__(self, image):
        """Person probability of a photo.

        Args:
            image: file path or uint8 [H, W, 3] RGB (sides >= 64).

        Returns:
            float32 [H, W] in [0, 1], person probability.
        """
        image, _ = load_image(image)
        x = cv2.resize(image, (SELFIE_SIZE, SELFIE_SIZE), interpolation=cv2.INTER_LINEAR)
        out = next(iter(_run(self._model, x.astype(np.float32) / 255).values()))[..., 0]
        return cv2.resize(out, (image.shape[1], image.shape[0]),
                          interpolation=cv2.INTER_LINEAR).clip(0, 1)
