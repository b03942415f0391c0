"""DPIG's pose networks: the pose auto-encoder on normalised keypoints (RCV) and the
Gaussian mapping networks that sample embeddings (``models.py`` in
charliememory/Disentangled-Person-Image-Generation)."""

import keras
from keras import ops

from tfposegen.layers.residual import ResidualDense
from tfposegen.models.dpig.networks.common import (
    _dense,
    _SlimModel,
    _SlimNames,
    straight_through_round,
)
from tfposegen.utils.shapes import check_shape


class PoseEncoder(_SlimModel):
    """Pose encoder ``PoseEncoderFCRes`` (scope ``PoseAE/G_Pose_Encoder``, ``models.py``).

    FC keypoints*3 -> hidden + LeakyReLU(0.2); ``num_blocks`` ``ResidualDense`` blocks; FC ->
    z_dim (linear).

    Call ``encoder(rcv_norm)``: normalised RCV [B, keypoints, 3] or [B, keypoints*3]
    (rows / cols in [-1, 1] as ``tfposegen.pose.maps.normalize_rcv``, visibility {0, 1};
    missing keypoints (-1, -1, 0)). Returns the pose embedding [B, z_dim], unbounded.
    """

    def __init__(self, keypoints=18, z_dim=32, hidden=512, num_blocks=4,
                 activation="leaky_relu", tf_scope="PoseAE/G_Pose_Encoder", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.keypoints, self.z_dim = int(keypoints), int(z_dim)
        self.hidden, self.num_blocks, self.activation = int(hidden), int(num_blocks), activation
        names = _SlimNames()
        self.fc_in = _dense(names, self.hidden, activation)
        self.blocks = [ResidualDense(self.hidden, (names("fully_connected"),
                                                   names("fully_connected")), activation,
                                     name=f"block{i}") for i in range(self.num_blocks)]
        self.fc_out = _dense(names, self.z_dim)
        self.build(None)

    def build(self, input_shape):
        self.fc_in.build((None, 3 * self.keypoints))
        for block in self.blocks:
            block.build((None, self.hidden))
        self.fc_out.build((None, self.hidden))
        self.built = True

    def _slim_layers(self):
        return [self.fc_in, *self.blocks, self.fc_out]

    def call(self, rcv_norm):
        x = ops.reshape(ops.cast(rcv_norm, self.compute_dtype), [-1, 3 * self.keypoints])
        x = self.fc_in(x)
        for block in self.blocks:
            x = block(x)
        return ops.cast(self.fc_out(x), "float32")  # float32 out under mixed precision

    def get_config(self):
        return {**super().get_config(), "keypoints": self.keypoints, "z_dim": self.z_dim,
                "hidden": self.hidden, "num_blocks": self.num_blocks,
                "activation": self.activation}


class PoseDecoder(_SlimModel):
    """Pose decoder ``PoseDecoderFCRes`` (scope ``PoseAE/G_Pose_Decoder``, ``models.py``).

    FC z_dim -> hidden (linear); ``num_blocks`` ``ResidualDense`` blocks (LeakyReLU 0.2); two
    heads from the same features: FC -> keypoints*2 (linear; (r', c') per keypoint) and FC ->
    keypoints + sigmoid, rounded to {0, 1} with a straight-through (identity) gradient.

    Call ``decoder(z, hard_visibility=True)``:
        z: float [B, z_dim].
        hard_visibility: False returns the sigmoid probabilities instead of the rounded
            visibility (same gradient).

    Returns:
        float [B, keypoints, 3] = (r', c', v): normalised coordinates (nominally [-1, 1],
        unbounded) and visibility in {0, 1} (or [0, 1]).
    """

    def __init__(self, keypoints=18, z_dim=32, hidden=512, num_blocks=4,
                 activation="leaky_relu", tf_scope="PoseAE/G_Pose_Decoder", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.keypoints, self.z_dim = int(keypoints), int(z_dim)
        self.hidden, self.num_blocks, self.activation = int(hidden), int(num_blocks), activation
        names = _SlimNames()
        self.fc_in = _dense(names, self.hidden)
        self.blocks = [ResidualDense(self.hidden, (names("fully_connected"),
                                                   names("fully_connected")), activation,
                                     name=f"block{i}") for i in range(self.num_blocks)]
        self.fc_coord = _dense(names, 2 * self.keypoints)
        self.fc_visible = _dense(names, self.keypoints, "sigmoid")
        self.build(None)

    def build(self, input_shape):
        self.fc_in.build((None, self.z_dim))
        for block in self.blocks:
            block.build((None, self.hidden))
        self.fc_coord.build((None, self.hidden))
        self.fc_visible.build((None, self.hidden))
        self.built = True

    def _slim_layers(self):
        return [self.fc_in, *self.blocks, self.fc_coord, self.fc_visible]

    def call(self, z, hard_visibility=True):
        check_shape("z", z, (None, self.z_dim))
        x = self.fc_in(ops.cast(z, self.compute_dtype))
        for block in self.blocks:
            x = block(x)
        coord = ops.reshape(self.fc_coord(x), [-1, self.keypoints, 2])
        visible = self.fc_visible(x)
        if hard_visibility:
            visible = straight_through_round(visible)
        # float32 out under mixed precision (a no-op otherwise)
        return ops.cast(ops.concatenate([coord, visible[:, :, None]], axis=-1), "float32")

    def get_config(self):
        return {**super().get_config(), "keypoints": self.keypoints, "z_dim": self.z_dim,
                "hidden": self.hidden, "num_blocks": self.num_blocks,
                "activation": self.activation}


class PoseAutoEncoder(keras.Model):
    """The pose auto-encoder (scope ``PoseAE``): ``PoseEncoder`` then ``PoseDecoder``.

    Call ``ae(rcv_norm, hard_visibility=True)``: normalised RCV [B, keypoints, 3] (or
    [B, keypoints*3]) -> reconstruction [B, keypoints, 3] (see ``PoseDecoder``). ``encode``
    and ``decode`` run the halves.
    """

    def __init__(self, keypoints=18, z_dim=32, hidden=512, num_blocks=4,
                 activation="leaky_relu", tf_scope="PoseAE", **kwargs):
        super().__init__(**kwargs)
        self.keypoints, self.z_dim = int(keypoints), int(z_dim)
        self.hidden, self.num_blocks, self.activation = int(hidden), int(num_blocks), activation
        self.tf_scope = tf_scope
        common = {"keypoints": keypoints, "z_dim": z_dim, "hidden": hidden,
                  "num_blocks": num_blocks, "activation": activation}
        self.encoder = PoseEncoder(**common, tf_scope=f"{tf_scope}/G_Pose_Encoder",
                                   name="pose_encoder")
        self.decoder = PoseDecoder(**common, tf_scope=f"{tf_scope}/G_Pose_Decoder",
                                   name="pose_decoder")
        self.built = True

    def encode(self, rcv_norm):
        """Normalised RCV [B, keypoints, 3] -> pose embedding [B, z_dim]."""
        return self.encoder(rcv_norm)

    def decode(self, z, hard_visibility=True):
        """Pose embedding [B, z_dim] -> normalised RCV [B, keypoints, 3]."""
        return self.decoder(z, hard_visibility=hard_visibility)

    def call(self, rcv_norm, hard_visibility=True):
        return self.decoder(self.encoder(rcv_norm), hard_visibility=hard_visibility)

    def tf1_variables(self):
        """List of (TF1 checkpoint name, Keras variable): encoder's, then decoder's."""
        return self.encoder.tf1_variables() + self.decoder.tf1_variables()

    def tf1_owns(self, key):
        """Whether a checkpoint key is a model variable of the encoder or decoder scope."""
        return self.encoder.tf1_owns(key) or self.decoder.tf1_owns(key)

    def get_config(self):
        return {**super().get_config(), "keypoints": self.keypoints, "z_dim": self.z_dim,
                "hidden": self.hidden, "num_blocks": self.num_blocks,
                "activation": self.activation, "tf_scope": self.tf_scope}


class GaussianFCMapping(_SlimModel):
    """Stage-II mapping network ``GaussianFCRes`` (scope ``<name>/G_FC``, ``models.py``).

    FC dim -> hidden + LeakyReLU(0.2); ``num_blocks`` ``ResidualDense`` blocks; FC -> dim
    (linear). Instances: ``Gaussian_FC`` (224 / 512), ``PoseGaussian`` (32 / 512),
    ``Gaussian_FC_Fg`` (224 / 512), ``Gaussian_FC_Bg`` (128 / 256).

    Call ``mapping(z)``: noise [B, dim] (N(0, noise_stddev^2) in the original) -> fake
    embedding [B, dim], unbounded. ``sample(batch_size, seed)`` draws the noise itself.
    """

    def __init__(self, dim=224, hidden=512, num_blocks=4, noise_stddev=0.2,
                 activation="leaky_relu", tf_scope="Gaussian_FC/G_FC", **kwargs):
        super().__init__(tf_scope=tf_scope, **kwargs)
        self.dim, self.hidden, self.num_blocks = int(dim), int(hidden), int(num_blocks)
        self.noise_stddev, self.activation = float(noise_stddev), activation
        names = _SlimNames()
        self.fc_in = _dense(names, self.hidden, activation)
        self.blocks = [ResidualDense(self.hidden, (names("fully_connected"),
                                                   names("fully_connected")), activation,
                                     name=f"block{i}") for i in range(self.num_blocks)]
        self.fc_out = _dense(names, self.dim)
        self.build(None)

    def build(self, input_shape):
        self.fc_in.build((None, self.dim))
        for block in self.blocks:
            block.build((None, self.hidden))
        self.fc_out.build((None, self.hidden))
        self.built = True

    def _slim_layers(self):
        return [self.fc_in, *self.blocks, self.fc_out]

    def call(self, z):
        check_shape("z", z, (None, self.dim))
        x = self.fc_in(ops.cast(z, self.compute_dtype))
        for block in self.blocks:
            x = block(x)
        return ops.cast(self.fc_out(x), "float32")  # float32 out under mixed precision

    def sample(self, batch_size, seed=None):
        """Map fresh noise z ~ N(0, noise_stddev^2) [batch_size, dim] -> [batch_size, dim]."""
        z = keras.random.normal((int(batch_size), self.dim), stddev=self.noise_stddev,
                                seed=seed)
        return self(z)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hidden": self.hidden,
                "num_blocks": self.num_blocks, "noise_stddev": self.noise_stddev,
                "activation": self.activation}
