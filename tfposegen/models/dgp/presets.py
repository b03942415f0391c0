"""DGP's networks by preset name: the StyleGAN2 pair of ``tfposegen.models.stylegan2``
plus the idinvert encoder sized for it (``training/networks_encoder.py`` in
genforce/idinvert, as DGP's ``encoder-stylegan2-upper-body-512.pkl`` holds it)."""

from tfposegen.models.dgp.encoder import Encoder, idinvert_layout
from tfposegen.models.stylegan2.presets import PRESETS, build_stylegan2

# Keyword arguments of idinvert_layout per StyleGAN2 preset (num_ws and w_dim come from
# the generator).
ENCODER_PRESETS = {
    "dgp_512": dict(resolution=512, filters=64, filters_max=512),
    "config_f_256": dict(resolution=256, filters=64, filters_max=512),
    "tiny_32": dict(resolution=32, filters=16, filters_max=32),
}


def build_dgp_networks(preset):
    """Build randomly initialised DGP networks ``(E, D, Gs)`` from a preset name.

    The encoder is idinvert's layout sized for the generator: images [N, R, R, 3] in
    [-1, 1] -> W+ [N, num_ws, w_dim].

    Args:
        preset: a key of ``tfposegen.models.stylegan2.PRESETS`` (``"dgp_512"``,
            ``"config_f_256"``, ``"tiny_32"``).

    Returns:
        tuple ``(E, D, Gs)`` of built Keras models (the pickle order of DGP).
    """
    G, D = build_stylegan2(preset)
    layout = idinvert_layout(**ENCODER_PRESETS[preset], num_ws=G.num_ws, w_dim=G.w_dim)
    return Encoder(**layout), D, G


__all__ = ["ENCODER_PRESETS", "PRESETS", "build_dgp_networks"]
