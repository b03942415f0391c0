"""DPIG's critics, built from ``tflib`` layers: the DCGAN image critic and the fully
connected embedding critics (``wgan_gp.py`` in
charliememory/Disentangled-Person-Image-Generation)."""

import math

import keras
from keras import ops

from tfposegen.layers.tf1_batch_norm import TflibBatchNorm
from tfposegen.models.dpig.networks.common import _ExplicitSignatureModel
from tfposegen.utils.shapes import check_shape

TFLIB_UNIFORM_STD = 0.02  # tflib's ``set_weights_stdev(0.02)`` used by the image critic


def _tflib_uniform(std):
    bound = std * math.sqrt(3.0)
    return keras.initializers.RandomUniform(-bound, bound)


def _tflib_weight_names(layer):
    """TF1 names of a tflib conv / linear: ``<name>/<name>.Filters|.Biases|.W|.b``."""
    n = layer.name
    w, b = ("Filters", "Biases") if isinstance(layer, keras.layers.Conv2D) else ("W", "b")
    return [(f"{n}/{n}.{w}", layer.kernel), (f"{n}/{n}.{b}", layer.bias)]


class _TflibModel(_ExplicitSignatureModel):
    """A model of tflib layers named ``<prefix>Discriminator.*`` (no variable scope)."""

    def __init__(self, prefix="", **kwargs):
        super().__init__(**kwargs)
        self.prefix = prefix

    def _tflib_layers(self):
        raise NotImplementedError

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable), every weight once, in TF1 order."""
        out = []
        for layer in self._tflib_layers():
            if isinstance(layer, TflibBatchNorm):
                out += layer.tf1_variables()
            else:
                out += _tflib_weight_names(layer)
        return out

    def tf1_owns(self, key):
        """Whether a checkpoint key is a parameter of this network (tflib parameter names are
        unique: the part after the last '/' starts with ``<prefix>Discriminator.``)."""
        return key.rpartition("/")[2].startswith(f"{self.prefix}Discriminator.")

    def get_config(self):
        return {**super().get_config(), "prefix": self.prefix}


class DCGANCritic(_TflibModel):
    """The image critic ``wgan_gp.DCGANDiscriminator`` (tflib, ``D_arch='DCGAN'``, ``wgan_gp.py``
    in charliememory/Disentangled-Person-Image-Generation).

    conv5x5 s2 3->dim, LeakyReLU(0.2); conv5x5 s2 -> 2dim, BN, LReLU; -> 4dim, BN, LReLU;
    -> 8dim, BN, LReLU; then the map is flattened in (C, H, W) order into rows of
    ``8*4*8*dim`` values (16384: the map of one 128x64 image) and a linear layer gives one
    logit per row. A 128x64 image gives 1 logit; a 256x256 image gives 8 (row j holds
    channels dim*j .. dim*j+dim-1 at all 16x16 positions), as the released DeepFashion model
    does.
    Batch norm uses the statistics of the batch passed in (``TflibBatchNorm``): the TF1 model
    101 calls D once on concat([real, fake]); Market model 1 calls it on each separately.
    Weights uniform with std 0.02, zero biases.

    Call ``critic(images)``: float [N, H, W, in_channels] in [-1, 1] with
    H*W*8*dim/256 a multiple of 8*4*8*dim (i.e. H*W a multiple of 8192) -> logits
    [N * H*W/8192], the logits of image b at rows b*k .. b*k+k-1.
    """

    def __init__(self, dim=64, in_channels=3, prefix="", **kwargs):
        super().__init__(prefix=prefix, **kwargs)
        self.dim, self.in_channels = int(dim), int(in_channels)
        init = _tflib_uniform(TFLIB_UNIFORM_STD)
        p = f"{prefix}Discriminator."
        self.convs = [keras.layers.Conv2D(self.dim * m, 5, strides=2, padding="same",
                                          kernel_initializer=init, name=f"{p}{i}")
                      for i, m in ((1, 1), (2, 2), (3, 4), (4, 8))]
        self.norms = [None] + [TflibBatchNorm(f"{p}BN{i}", name=f"{p}BN{i}") for i in (2, 3, 4)]
        self.flat_features = 8 * 4 * 8 * self.dim
        self.output_linear = keras.layers.Dense(1, kernel_initializer=init, name=f"{p}Output")
        self.build(None)

    def build(self, input_shape):
        c = self.in_channels
        for conv, norm in zip(self.convs, self.norms):
            conv.build((None, None, None, c))
            c = conv.filters
            if norm is not None:
                norm.build((None, None, None, c))
        self.output_linear.build((None, self.flat_features))
        self.built = True

    def _tflib_layers(self):
        out = []
        for conv, norm in zip(self.convs, self.norms):
            out += [conv] + ([norm] if norm is not None else [])
        return out + [self.output_linear]

    def call(self, images):
        check_shape("images", images, (None, None, None, self.in_channels))
        x = ops.cast(images, self.compute_dtype)
        for conv, norm in zip(self.convs, self.norms):
            x = conv(x)
            if norm is not None:
                x = norm(x)
            x = ops.leaky_relu(x, negative_slope=0.2)
        per_image = math.prod(x.shape[1:]) if None not in x.shape[1:] else None
        if per_image is not None and per_image % self.flat_features:
            raise ValueError(f"DCGANCritic: the last map {list(x.shape[1:])} has {per_image} "
                             f"values per image, not a multiple of {self.flat_features}")
        x = ops.reshape(ops.transpose(x, [0, 3, 1, 2]), [-1, self.flat_features])
        # float32 out under mixed precision (a no-op otherwise)
        return ops.cast(ops.reshape(self.output_linear(x), [-1]), "float32")

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "in_channels": self.in_channels}


class FCCritic(_TflibModel):
    """Embedding critic ``wgan_gp.FCDiscriminator`` (tflib).

    Linear input_dim -> fc_dim + LeakyReLU(0.2) (``<prefix>Discriminator.Input.Linear``),
    ``n_layers`` Linear fc_dim -> fc_dim + LeakyReLU (``<prefix>Discriminator.<i>.Linear``),
    Linear -> 1 (``<prefix>Discriminator.Out``). He-uniform hidden weights, Glorot-uniform
    output weights (tflib's 'he' / 'glorot' uniform inits), zero biases. Prefixes: 'FCDis_'
    (DF app, 224), 'Pose_emb_' (pose, 32), 'Fg_FCDis_' (224), 'Bg_FCDis_' (128).

    Call ``critic(embeddings)``: float [N, input_dim] -> scores [N] (WGAN, unbounded).
    """

    def __init__(self, input_dim=224, fc_dim=512, n_layers=3, prefix="FCDis_", **kwargs):
        super().__init__(prefix=prefix, **kwargs)
        self.input_dim, self.fc_dim, self.n_layers = int(input_dim), int(fc_dim), int(n_layers)
        p = f"{prefix}Discriminator."
        self.hidden_layers = [
            keras.layers.Dense(self.fc_dim, kernel_initializer="he_uniform",
                               name=f"{p}{tag}.Linear")
            for tag in ["Input"] + [str(i) for i in range(self.n_layers)]]
        self.output_linear = keras.layers.Dense(1, kernel_initializer="glorot_uniform",
                                                name=f"{p}Out")
        self.build(None)

    def build(self, input_shape):
        features = self.input_dim
        for layer in self.hidden_layers:
            layer.build((None, features))
            features = self.fc_dim
        self.output_linear.build((None, features))
        self.built = True

    def _tflib_layers(self):
        return [*self.hidden_layers, self.output_linear]

    def call(self, embeddings):
        check_shape("embeddings", embeddings, (None, self.input_dim))
        x = ops.cast(embeddings, self.compute_dtype)
        for layer in self.hidden_layers:
            x = ops.leaky_relu(layer(x), negative_slope=0.2)
        # float32 out under mixed precision (a no-op otherwise)
        return ops.cast(ops.reshape(self.output_linear(x), [-1]), "float32")

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "fc_dim": self.fc_dim,
                "n_layers": self.n_layers}
