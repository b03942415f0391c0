"""Named StyleGAN2 configurations: DGP's 512x512 network and tiny test networks."""

from tfposegen.models.stylegan2.networks import Discriminator, Generator

# Each preset: keyword arguments of Generator and Discriminator.
PRESETS = {
    # DGP's encoder-stylegan2-upper-body-512.pkl: NVlabs config-f at 512 px, 16 W+ rows,
    # G skip / D resnet (DGP.py in RuiLiFeng/Deep-Generative-Projection).
    "dgp_512": {
        "generator": dict(resolution=512, num_channels=3, z_dim=512, w_dim=512,
                          synthesis_kwargs=dict(fmap_base=16384, architecture="skip")),
        "discriminator": dict(resolution=512, num_channels=3, fmap_base=16384,
                              architecture="resnet"),
    },
    # NVlabs config-f at 256 px (e.g. for benchmarks).
    "config_f_256": {
        "generator": dict(resolution=256, synthesis_kwargs=dict(fmap_base=16384)),
        "discriminator": dict(resolution=256, fmap_base=16384),
    },
    # Tiny networks for tests and the demo: 32 px, at most 32 channels, 64-d latents.
    "tiny_32": {
        "generator": dict(resolution=32, z_dim=64, w_dim=64,
                          mapping_kwargs=dict(num_layers=2, layer_features=64),
                          synthesis_kwargs=dict(fmap_base=128, fmap_max=32)),
        "discriminator": dict(resolution=32, fmap_base=128, fmap_max=32),
    },
}


def build_stylegan2(preset):
    """Build a randomly initialised ``(Generator, Discriminator)`` pair from a preset name.

    Args:
        preset: a key of ``PRESETS`` (``"dgp_512"``, ``"config_f_256"``, ``"tiny_32"``).

    Returns:
        tuple ``(G, D)`` of built Keras models.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown StyleGAN2 preset {preset!r}; known: {sorted(PRESETS)}")
    p = PRESETS[preset]
    return Generator(**p["generator"]), Discriminator(**p["discriminator"])
