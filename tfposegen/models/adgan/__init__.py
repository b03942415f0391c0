"""ADGAN (Controllable Person Image Synthesis with Attribute-Decomposed GAN, CVPR 2020;
menyifang/ADGAN), read top to bottom:

- ``networks``: the generator ``ADGen`` (pose encoder, decomposed VGG texture encoder, style
  fc + fusion MLP producing AdaIN parameters, AdaIN decoder) and ``parsing_one_hot``.
- ``discriminators``: ``ResnetDiscriminator`` for D_PB (image + pose) and D_PP (image +
  source image).
- ``presets``: the released and a tiny configuration, and the released parameter counts.
- ``weights``: the name map from the original's ``<label>_net_netG.pth`` /
  ``_netD_PB.pth`` / ``_netD_PP.pth`` (with or without DataParallel ``module.`` prefixes)
  and the VGG19 files to the Keras variables; ``save_networks`` / ``load_networks``.
- ``data``: a dataroot in the original's layout -> the shared pose-pair records; a
  synthetic dataroot.
- ``train``: the objective, one iteration, the schedule, ``ADGANTrainer``.
- ``visualize``: the original's 5-panel strips.
- ``attribute_transfer``: swap components (e.g. upper clothes) from a second person.
- ``export``: SavedModel signatures ``adgan_pose_transfer`` and ``adgan_attribute_transfer``.
"""
