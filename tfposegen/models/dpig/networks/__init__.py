"""DPIG networks (Ma et al., "Disentangled Person Image Generation", CVPR 2018) in Keras 3, NHWC.

The TF1 code builds every network but the critics from ``tf.contrib.slim`` layers, and the
critics from ``tflib``. Each Keras layer here is named after the TF1 layer it replaces, and
each model lists its weights under their TF1 checkpoint names (``tf1_variables()``), so that
``tfposegen.convert.tf1_checkpoint`` loads released checkpoints by name
(``models.py`` and ``wgan_gp.py`` in charliememory/Disentangled-Person-Image-Generation):

* slim layers (``Conv2D`` / ``Dense`` named ``Conv``, ``Conv_1``, ... ``fully_connected``,
  ``fully_connected_1``, ... in creation order, separate counters): ``<tf_scope>/<layer>/weights``
  and ``.../biases``. Glorot-uniform kernels and zero biases, as slim's defaults.
* tflib layers (named ``<prefix>Discriminator.<n>``): ``<layer>/<layer>.Filters`` /
  ``.Biases`` (convs), ``<layer>/<layer>.W`` / ``.b`` (linears) and ``<prefix>Discriminator.BN<n>.
  {offset,scale,moving_mean,moving_variance}`` (batch norm, no scope).

Kernels keep the TF1 layouts ([k, k, Cin, Cout] and [in, out]), so checkpoint arrays load
unchanged; the image critic transposes its last feature map to NCHW before flattening, as the
original (which runs in NCHW) does, so its 16384-row linear weight also loads unchanged.

Value ranges: images float32 in [-1, 1]; pose maps {-1, +1} (``tfposegen.pose.maps``); part
boxes (y1, x1, y2, x2) in pixels of the input image; visibilities and masks {0, 1}; embeddings
and generator outputs unbounded (no tanh: the generator's output is in "[-1, 1] units" but is
clipped only when converted to pixels).

``network_specs`` / ``build_networks`` give the full-size DeepFashion (256x256) and
Market-1501 (128x64) configurations of the released scripts.

Modules: ``common`` (slim naming, shared stage builders), ``appearance`` (body-ROI and
foreground/background encoders, the U-Net generator), ``pose`` (pose auto-encoder, Gaussian
mapping nets), ``critics`` (tflib image and embedding critics), ``presets`` (the released
configurations).
"""

from tfposegen.layers.residual import ResidualConv, ResidualDense
from tfposegen.layers.roi import BodyROICrop
from tfposegen.layers.tf1_batch_norm import TflibBatchNorm
from tfposegen.models.dpig.networks.appearance import BodyROIEncoder, FgBgEncoder, UAEGenerator
from tfposegen.models.dpig.networks.common import broadcast_embedding, straight_through_round
from tfposegen.models.dpig.networks.critics import TFLIB_UNIFORM_STD, DCGANCritic, FCCritic
from tfposegen.models.dpig.networks.pose import (
    GaussianFCMapping,
    PoseAutoEncoder,
    PoseDecoder,
    PoseEncoder,
)
from tfposegen.models.dpig.networks.presets import (
    build_networks,
    load_networks,
    network_specs,
    save_networks,
)

__all__ = ["BodyROICrop", "BodyROIEncoder", "DCGANCritic", "FCCritic", "FgBgEncoder",
           "GaussianFCMapping", "PoseAutoEncoder", "PoseDecoder", "PoseEncoder", "ResidualConv",
           "ResidualDense", "TFLIB_UNIFORM_STD", "TflibBatchNorm", "UAEGenerator",
           "broadcast_embedding", "build_networks", "load_networks", "network_specs",
           "save_networks", "straight_through_round"]
