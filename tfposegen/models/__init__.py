"""One package per system, each readable top to bottom: networks, presets, the name map
from the original's weights, training, testing and export signatures.

- ``stylegan2``: NVlabs StyleGAN2 (config-e/f) generator and discriminator, and its
  training recipe; the backbone DGP projects into.
- ``dgp``: Deep Generative Projection (RuiLiFeng/Deep-Generative-Projection): encoder,
  perceptual networks, masks, losses, the search phases, export.
- ``dpig``: Disentangled Person Image Generation (charliememory/
  Disentangled-Person-Image-Generation): networks, records, training, testing, export.
- ``adgan``: Attribute-Decomposed GAN (menyifang/ADGAN): generator, discriminators, the
  name map of its ``.pth`` weights.
- ``dptn``: Dual-task Pose Transformer Network (PangzeCheung/
  Dual-task-Pose-Transformer-Network) and its step generation (gkalstn000/DPTN_step):
  networks, checkpoint loaders, objectives, trainers, export.
- ``paint``: PAINT fashion design synthesis (gxl-groups/PAINT), three stages: LGN
  (layouts), TSN (textures), AFN (other views).

A system package imports the shared floors (``tfposegen.ops``, ``layers``, ``losses``,
``metrics``, ``pose``, ``parsing``, ``data``, ``convert``, ``train``, ``export``,
``utils``) and never another system, except that DGP builds on the StyleGAN2 backbone.
"""
