"""Data: TFRecord image datasets for GAN / encoder training (``image_records``)."""
