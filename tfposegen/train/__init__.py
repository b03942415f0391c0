"""Training loops: StyleGAN2 (``stylegan2``, NVlabs config-f), DGP's encoder (``encoder``,
idinvert), and the loop both training scripts share (``common.run_training``)."""
