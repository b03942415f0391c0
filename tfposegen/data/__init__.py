"""Data shared by the systems:

- ``image_records``: TFRecord image datasets for GAN / encoder training;
- ``pose_pairs``: pose-transfer pairs (DeepFashion PATN/GFLA split, Market-1501) as sharded
  TFRecords and a tf.data reader;
- ``synthetic``: procedural upper-body clothing-model samples in DGP's layout;
- ``synthetic_persons``: procedural people with keypoints and masks, so every chain runs
  offline.

A system's own record schema lives with the system (``tfposegen.models.dpig.records``).
"""
