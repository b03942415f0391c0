"""Region-of-interest crops of feature maps (``tf.image.crop_and_resize`` as DPIG's TF1
encoders use it, ``models.py`` in charliememory/Disentangled-Person-Image-Generation)."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops


class BodyROICrop(keras.layers.Layer):
    """Crop body-part boxes from a feature map, stacked part-major (``tf.image.crop_and_resize``).

    As the TF1 encoders: boxes are divided by the map's height / width (not H-1), bilinear
    sampling with extrapolation value 0, and the crops of all parts are concatenated along the
    batch axis part by part (rows ``p*B .. p*B+B-1`` are part ``p``).

    Call ``layer(features, boxes)``:
        features: float [B, H, W, C] (static H, W).
        boxes: [B, P, 4] (y1, x1, y2, x2) in pixels, any numeric dtype (the records' int64).

    Returns:
        float [P*B, roi_size, roi_size, C]: float32, or bfloat16 for bfloat16 features (the
        TF kernel has no bfloat16 version: those crops run in float32 and are cast back).
    """

    def __init__(self, roi_size, **kwargs):
        super().__init__(**kwargs)
        self.roi_size = int(roi_size)

    def call(self, features, boxes):
        h, w = features.shape[1], features.shape[2]
        boxes = ops.cast(boxes, "float32") / np.array([h, w, h, w], np.float32)
        parts = boxes.shape[1]
        boxes = ops.reshape(ops.transpose(boxes, [1, 0, 2]), [-1, 4])
        index = ops.tile(ops.arange(ops.shape(features)[0], dtype="int32"), [parts])
        if features.dtype == tf.bfloat16:  # mixed precision: no bfloat16 kernel
            crops = tf.image.crop_and_resize(ops.cast(features, "float32"), boxes, index,
                                             [self.roi_size, self.roi_size])
            return ops.cast(crops, features.dtype)
        return tf.image.crop_and_resize(features, boxes, index, [self.roi_size, self.roi_size])

    def get_config(self):
        return {**super().get_config(), "roi_size": self.roi_size}
