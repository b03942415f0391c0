"""DGP's perceptual feature models: VGG16 ``block4_conv3`` and the ResNet101 attribute model.

Per ``perceptual_model.py`` and ``DGP.py`` in RuiLiFeng/Deep-Generative-Projection, DGP's
projection loss uses

* ``VGG16Features``: Keras ``VGG16(include_top=False, input_shape=(R, R, 3))``, the output of
  layer ``block4_conv3`` (after its ReLU) flattened in NHWC order, on images in [0, 255]
  preprocessed in "caffe" mode (RGB -> BGR, minus the ImageNet mean, no scaling);
* ``AttributeFeatures``: Keras ``ResNet101(include_top=False, pooling='avg',
  input_shape=(331, 331, 3))`` on images in [0, 255] preprocessed in "tf" mode
  (x / 127.5 - 1; not the caffe mode ResNet normally uses), giving 2048 features.

Both wrap the Keras application model as ``.backbone``, built with ``weights=None``, so that a
Keras-2 weights file (``vgg.h5``, ``attributes_model_resnet101.h5``) loads into exactly the
topology the original loaded it into (``tfposegen.convert.keras_h5.load_keras_h5(model.backbone,
path)``; the Keras 3 applications have the same layers, weights and topological order as the
Keras 2 ones). BatchNorm always runs in inference mode, and the models are frozen
(``trainable=False``) by default since DGP never trains them. The classes read no files;
:func:`vgg16_features_from_h5` and :func:`attribute_features_from_h5` build them from files.
"""

import keras
import numpy as np
from keras import ops

from tfposegen.layers.pooling import MaxPool2x2

# ImageNet channel means in BGR order, as keras.applications' "caffe" preprocessing uses them.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocess_caffe(images):
    """Keras ``vgg16.preprocess_input`` ("caffe" mode) for tensors.

    Args:
        images: float tensor [..., 3], RGB in [0, 255] (not clipped; any real values work).

    Returns:
        float tensor of the same shape, BGR minus ``CAFFE_MEAN_BGR`` (roughly [-124, 152]).
    """
    x = ops.flip(images, axis=-1)
    return x - ops.cast(np.asarray(CAFFE_MEAN_BGR, np.float32), x.dtype)


def preprocess_tf(images):
    """Keras ``nasnet.preprocess_input`` ("tf" mode) for tensors: ``x / 127.5 - 1``.

    Args:
        images: float tensor, RGB in [0, 255] (not clipped).

    Returns:
        float tensor of the same shape, in [-1, 1] for inputs in [0, 255].
    """
    return images / 127.5 - 1.0


def _check_images(images, resolution, what):
    shape = tuple(images.shape)
    if len(shape) != 4 or shape[1:] != (resolution, resolution, 3):
        raise ValueError(f"{what}: expected images [N, {resolution}, {resolution}, 3], "
                         f"got shape {list(shape)}")


def _is_vgg_pool(layer):
    return (isinstance(layer, keras.layers.MaxPooling2D) and tuple(layer.pool_size) == (2, 2)
            and tuple(layer.strides) == (2, 2) and layer.padding == "valid")


class VGG16Features(keras.Model):
    """images [N, R, R, 3] in [0, 255] -> VGG16 features [N, (R//8) * (R//8) * 512].

    Caffe preprocessing happens inside. The features are the ReLU output of ``layer_name``
    (``block4_conv3``, i.e. conv4_3, as in DGP), flattened in NHWC order (h, w, c).

    Args:
        resolution: input side R (512 in DGP; any R >= 32).
        layer_name: name of the VGG16 layer whose output is returned.

    Attributes:
        backbone: the full ``keras.applications.VGG16(include_top=False)`` model (13 conv
            layers), into which a Keras-2 VGG16 no-top weights file loads.
        trunk: a functional model sharing the backbone's layers up to ``layer_name`` (its
            max pools as ``tfposegen.layers.pooling.MaxPool2x2``).
    """

    def __init__(self, resolution=512, layer_name="block4_conv3", trainable=False, **kwargs):
        super().__init__(**kwargs)
        self.resolution = int(resolution)
        self.layer_name = layer_name
        if self.resolution < 32:
            raise ValueError(f"VGG16Features: resolution must be >= 32, got {resolution}")
        self.backbone = keras.applications.VGG16(
            include_top=False, weights=None, input_shape=(self.resolution, self.resolution, 3))
        names = [layer.name for layer in self.backbone.layers]
        if layer_name not in names:
            raise ValueError(f"VGG16Features: VGG16 has no layer {layer_name!r}; layers: {names}")
        # The backbone's layers up to layer_name, with its 2x2 max pools as MaxPool2x2 (same
        # values and gradients; XLA runs them ~3x faster).
        x = inputs = keras.Input(self.backbone.input.shape[1:])
        for layer in self.backbone.layers[1:names.index(layer_name) + 1]:
            x = MaxPool2x2(name=layer.name)(x) if _is_vgg_pool(layer) else layer(x)
        self.trunk = keras.Model(inputs, x, name=f"vgg16_{layer_name}")
        self.feature_shape = tuple(int(s) for s in self.trunk.output.shape[1:])
        self.trainable = trainable
        self.build((None, self.resolution, self.resolution, 3))

    def build(self, input_shape):
        self.built = True

    @property
    def num_features(self):
        """Length of the flattened feature vector, ``prod(feature_shape)``."""
        return int(np.prod(self.feature_shape))

    def call(self, images):
        """images [N, R, R, 3] float in [0, 255] -> [N, num_features] float32."""
        _check_images(images, self.resolution, "VGG16Features")
        x = preprocess_caffe(ops.cast(images, "float32"))
        x = self.trunk(x, training=False)
        # float32 out under mixed precision (a no-op otherwise)
        return ops.cast(ops.reshape(x, [-1, self.num_features]), "float32")

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution,
                "layer_name": self.layer_name}


class AttributeFeatures(keras.Model):
    """images [N, 331, 331, 3] in [0, 255] -> DGP attribute features [N, 2048].

    "tf" preprocessing (x / 127.5 - 1) happens inside, then ResNet101 (v1, BN epsilon
    1.001e-5) without top and with global average pooling.

    Args:
        resolution: input side (331 in DGP, which needs its 512 px images resized with
            ``tfposegen.ops.resize_bilinear_legacy`` first); any R >= 32 builds.

    Attributes:
        backbone: ``keras.applications.ResNet101(include_top=False, pooling='avg')``, into
            which ``attributes_model_resnet101.h5`` loads.
    """

    def __init__(self, resolution=331, trainable=False, **kwargs):
        super().__init__(**kwargs)
        self.resolution = int(resolution)
        if self.resolution < 32:
            raise ValueError(f"AttributeFeatures: resolution must be >= 32, got {resolution}")
        self.backbone = keras.applications.ResNet101(
            include_top=False, weights=None, pooling="avg",
            input_shape=(self.resolution, self.resolution, 3))
        self.num_features = int(self.backbone.output.shape[-1])
        self.trainable = trainable
        self.build((None, self.resolution, self.resolution, 3))

    def build(self, input_shape):
        self.built = True

    def call(self, images):
        """images [N, R, R, 3] float in [0, 255] -> [N, 2048] float32."""
        _check_images(images, self.resolution, "AttributeFeatures")
        x = preprocess_tf(ops.cast(images, "float32"))
        # float32 out under mixed precision (a no-op otherwise)
        return ops.cast(self.backbone(x, training=False), "float32")

    def get_config(self):
        return {**super().get_config(), "resolution": self.resolution}


def vgg16_features_from_h5(path, resolution=512, layer_name="block4_conv3"):
    """Build ``VGG16Features`` and load a Keras-2 VGG16 no-top weights file (e.g. vgg.h5).

    Returns:
        ``VGG16Features``: [N, R, R, 3] in [0, 255] ->
        [N, (R//8)**2 * 512].
    """
    from tfposegen.convert.keras_h5 import load_keras_h5

    model = VGG16Features(resolution, layer_name=layer_name)
    load_keras_h5(model.backbone, path)
    return model


def attribute_features_from_h5(path, resolution=331):
    """Build ``AttributeFeatures`` and load DGP's ``attributes_model_resnet101.h5``.

    Returns:
        ``AttributeFeatures``: [N, 331, 331, 3] in [0, 255] ->
        [N, 2048].
    """
    from tfposegen.convert.keras_h5 import load_keras_h5

    model = AttributeFeatures(resolution)
    load_keras_h5(model.backbone, path)
    return model
