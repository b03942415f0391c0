"""Data: TFRecord image datasets for GAN / encoder training (``image_records``).

- ``synthetic``: procedural upper-body clothing-model samples in DGP's layout (numpy / PIL).
- DPIG: ``dpig_records``, ``dpig_convert``, ``dpig_pipeline``, ``synthetic_persons``.
"""
