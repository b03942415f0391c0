"""Procedural DGP sample pairs and tiny DGP networks for tests that must run anywhere."""

import numpy as np
from PIL import Image


def make_pair(folder, size=96, seed=0, coarse_mode="RGB"):
    """Write a DGP pair (model_info/ and cloth/) with DGP's label values into ``folder``.

    Model: trunk (64) column, arms (16 / 32) on both sides reaching into the lower half,
    hair (255) on top. Cloth: garment body (32) over the trunk, sleeves (64 / 128), collar
    inside (23). Coarse alignment: a smooth random RGB image.

    Returns:
        (cloth_dir, model_dir) as strings.
    """
    rng = np.random.default_rng(seed)
    s = size
    yy, xx = np.mgrid[:s, :s] / s
    model = np.zeros((s, s), np.uint8)
    model[(abs(xx - 0.5) < 0.2) & (yy > 0.15)] = 64
    model[(abs(xx - 0.22) < 0.06) & (yy > 0.3) & (yy < 0.9)] = 16
    model[(abs(xx - 0.78) < 0.06) & (yy > 0.3) & (yy < 0.9)] = 32
    model[((xx - 0.5) ** 2 + (yy - 0.1) ** 2) < 0.01] = 255
    cloth = np.zeros((s, s), np.uint8)
    cloth[(abs(xx - 0.5) < 0.3) & (yy > 0.25) & (yy < 0.8)] = 32
    cloth[(abs(xx - 0.2) < 0.08) & (yy > 0.25) & (yy < 0.45)] = 64
    cloth[(abs(xx - 0.8) < 0.08) & (yy > 0.25) & (yy < 0.45)] = 128
    cloth[(abs(xx - 0.5) < 0.05) & (yy > 0.25) & (yy < 0.3)] = 23
    base = rng.uniform(0, 255, (8, 8, 3)).astype(np.uint8)
    coarse = Image.fromarray(base).resize((s, s), Image.BILINEAR).convert(coarse_mode)
    model_dir, cloth_dir = folder / "model_info", folder / "cloth"
    model_dir.mkdir(parents=True, exist_ok=True)
    cloth_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(model).save(model_dir / "model_parse.png")
    Image.fromarray(cloth).save(cloth_dir / "cloth_parse.png")
    coarse.save(cloth_dir / "coarse_align.png")
    return str(cloth_dir), str(model_dir)


def dgp_networks(preset="tiny_32", seed=0, noise_strength=0.3):
    """Randomly initialised (E, D, Gs) of a preset with non-zero noise strengths.

    StyleGAN2 initialises every noise strength to 0, which would make the noise maps (and
    so pattern search) have no effect; a trained generator has non-zero strengths.
    """
    import keras

    from tfposegen.models.dgp.presets import build_dgp_networks

    keras.utils.set_random_seed(seed)
    E, D, G = build_dgp_networks(preset)
    for var in G.synthesis.weights:
        if var.path.endswith("noise_strength"):
            var.assign(noise_strength)
    return E, D, G
