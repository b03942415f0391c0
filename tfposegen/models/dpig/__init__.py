"""DPIG (Disentangled Person Image Generation, CVPR 2018; charliememory/
Disentangled-Person-Image-Generation), read top to bottom:

- ``networks``: encoders, generator, pose auto-encoder, mapping nets and critics with TF1
  names, and the released configurations (``networks.presets``).
- ``records``: the TFRecord schema; ``convert``: raw images + keypoints -> records (the
  original's ``convert_DF.py`` / ``convert_market.py`` / ``convert_RCV.py``);
  ``pipeline``: tf.data readers.
- ``models``: the ``--model`` table; ``losses``; ``train``: training and restoring;
  ``test``: the testers; ``scores``: the scorers' per-pair numbers; ``interpolate``.
- ``inference``: pose transfer from keypoints; ``export``: SavedModel serving signatures.
"""
