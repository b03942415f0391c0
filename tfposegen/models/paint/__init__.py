"""PAINT ("Photo-realistic Fashion Design Synthesis"; gxl-groups/PAINT, PyTorch): a fashion
design made in three separately trained stages, chained by hand through files on disk.

1. LGN, the Layout Generative Network (``LGN/``, a BicycleGAN fork): 18 pose-disk maps plus
   a 24-wide latent code (three 8-wide pieces, for the upper garment, the lower garment and
   the head, encoded from a layout or sampled) -> a 20-class human-parsing layout
   (per-pixel softmax probabilities).
2. TSN, the Texture Synthesis Network (``TSN/``, a PEN-Net fork): the layout, the two garment
   region masks and two texture swatches -> an RGB person image (partial-convolution swatch
   encoders, attention transfer, SPADE-conditioned decoder).
3. AFN, the Appearance Flow Network (``AFN/``): renders the person in another view by
   predicting flows from the target and source parsings and warping the source features.

What exists so far are the three stages' networks with their weight loaders:

- ``lgn``: ``LGNGenerator`` (``G_Unet_add_all``), ``LGNEncoder`` (``E_ResNet``) and
  ``LGNDiscriminator`` (``D_NLayersMulti``), NHWC, as the README command configures them.
- ``tsn``: ``TSNGenerator`` (``InpaintGenerator`` of TSN/model/pennet.py: partial-conv
  encoders, attention transfer, SPADE decoder) and ``TSNDiscriminator``.
- ``afn``: the AFN generator (flow estimator, multi-scale warps with
  :mod:`tfposegen.ops.warp`, decoder) and its pose discriminator.
- ``presets``: the released configurations, tiny ones for tests, the parameter counts.
- ``weights``: the name maps from each stage's ``.pth`` files to the Keras variables, strict
  and all or nothing.
- ``pipeline``: the stages chained (pose + two swatches -> layouts -> designs -> other views),
  each stage's inputs built from the previous stage's outputs as the original loaders build
  them from files (``run_scripts/paint/generate.py``).
- ``export``: the chain as a SavedModel for TF Serving (``paint_design``,
  ``paint_design_in_view``: keypoints + two swatches + a seed -> layouts, designs, views),
  every step in the graph giving the numpy path's numbers.
- ``data``: the Fashion-Gen layout (``imageyy/``, ``parsing/``, ``pose/``, the list files),
  each stage's loader item (LGN ``A``/``B``/``ct``/``cb``/``c3``, TSN swatches, AFN views),
  a synthetic layout, TFRecords and their ``tf.data`` reader.
- ``train`` / ``train_lgn``: one trainer per stage (``LGNTrainer``: BicycleGAN's cVAE-GAN +
  cLR-GAN iteration as LGN/models/bicycle_gan_model.py runs it; ``TSNTrainer``,
  ``AFNTrainer``: PEN-Net's trainer of TSN/ and AFN/core/trainer.py), the originals' loss
  weights, update order, optimisers, schedules and initialisation, under ``tf.distribute``;
  ``build_stage`` and ``fit`` for the run scripts.
"""
