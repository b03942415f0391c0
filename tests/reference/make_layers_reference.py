"""Reference arrays for tests/test_layers_norm.py, made with torch (run with the torch venv python).

    git --git-dir=<mirror of menyifang/ADGAN> archive HEAD models | tar -x -C /tmp/adgan
    python tests/reference/make_layers_reference.py --adgan /tmp/adgan

* ``norm.npz``: ``torch.nn.InstanceNorm2d`` (affine off and on), and ADGAN's own
  ``AdaptiveInstanceNorm2d`` / ``LayerNorm`` / ``ADGen.assign_adain_params``
  (models/model_adgen.py in menyifang/ADGAN, commit c04f5e59f6e9bb0890c4bf18ebb1f864ecf5abbb)
  imported from the checkout at ``--adgan`` (its ``.vgg`` and torchvision imports are stubbed:
  the classes used need neither). Float32 on small fixed random inputs; saved NHWC.
* ``spectral.npz``: ``torch.nn.utils.spectral_norm`` on ``Conv2d(4, 8, 3)``, ``Linear(6, 5)``
  and ``ConvTranspose2d(4, 3, 3, stride=2)``: the initial ``weight_orig``, ``weight_u``,
  ``weight_v`` and bias, then for three training-mode forwards on fixed inputs the output and
  ``u``, ``v`` after it, the gradient of ``sum(out * probe)`` w.r.t. ``weight_orig`` at the first
  forward, and the eval-mode output after the three. Torch layout (NCHW, OIHW); the test converts.
"""

import argparse
import importlib.util
import pathlib
import sys
import types

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "layers"


def import_model_adgen(adgan_dir):
    """models/model_adgen.py of ADGAN as a module, with its unused imports stubbed."""
    models_dir = pathlib.Path(adgan_dir) / "models"
    package = types.ModuleType("adgan_models")
    package.__path__ = [str(models_dir)]
    vgg = types.ModuleType("adgan_models.vgg")
    vgg.VGG = None  # imported by name, only used by the style encoder
    tv = types.ModuleType("torchvision")
    tv_models = types.ModuleType("torchvision.models")
    tv_vgg = types.ModuleType("torchvision.models.vgg")
    tv.models, tv_models.vgg = tv_models, tv_vgg
    sys.modules.update({"adgan_models": package, "adgan_models.vgg": vgg, "torchvision": tv,
                        "torchvision.models": tv_models, "torchvision.models.vgg": tv_vgg})
    spec = importlib.util.spec_from_file_location("adgan_models.model_adgen",
                                                  models_dir / "model_adgen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def make_norm(adgan):
    rng = np.random.default_rng(11)
    out = {}
    x = torch.from_numpy((rng.standard_normal((2, 3, 5, 4)) * 2 + 1).astype(np.float32))
    out["in_x"] = nhwc(x)
    out["in_plain"] = nhwc(torch.nn.InstanceNorm2d(3)(x))
    inorm = torch.nn.InstanceNorm2d(3, affine=True)
    with torch.no_grad():
        inorm.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, 3).astype(np.float32)))
        inorm.bias.copy_(torch.from_numpy(rng.standard_normal(3).astype(np.float32)))
    out["in_gamma"], out["in_beta"] = inorm.weight.detach().numpy(), inorm.bias.detach().numpy()
    out["in_affine"] = nhwc(inorm(x))

    # AdaIN: two layers (4 and 3 channels) fed from one parameter vector, as the decoder's.
    layers = torch.nn.Sequential(adgan.AdaptiveInstanceNorm2d(4), adgan.AdaptiveInstanceNorm2d(3))
    params = torch.from_numpy(rng.standard_normal((2, 2 * (4 + 3))).astype(np.float32))
    adgan.ADGen.assign_adain_params(None, params, layers)  # does not use self
    out["adain_params"] = params.numpy()
    for i, (m, c) in enumerate(zip(layers, (4, 3))):
        xa = torch.from_numpy((rng.standard_normal((2, c, 4, 5)) * 3 - 1).astype(np.float32))
        out[f"adain{i}_x"], out[f"adain{i}_y"] = nhwc(xa), nhwc(m(xa))
        out[f"adain{i}_weight"] = m.weight.numpy()  # (B*C,), as assigned by ADGAN
        out[f"adain{i}_bias"] = m.bias.numpy()

    torch.manual_seed(5)
    ln = adgan.LayerNorm(3)  # gamma ~ U[0, 1) as the original initialises it
    with torch.no_grad():
        ln.beta.copy_(torch.from_numpy(rng.standard_normal(3).astype(np.float32)))
    out["ln_gamma"], out["ln_beta"] = ln.gamma.detach().numpy(), ln.beta.detach().numpy()
    for batch in (1, 3):
        xl = torch.from_numpy((rng.standard_normal((batch, 3, 4, 6)) * 2 + 0.5).astype(np.float32))
        out[f"ln_x{batch}"], out[f"ln_y{batch}"] = nhwc(xl), nhwc(ln(xl))
    return out


def make_spectral():
    torch.manual_seed(3)
    rng = np.random.default_rng(17)
    modules = {
        "conv": (torch.nn.Conv2d(4, 8, 3), (2, 4, 6, 6)),
        "linear": (torch.nn.Linear(6, 5), (3, 6)),
        "convt": (torch.nn.ConvTranspose2d(4, 3, 3, stride=2), (2, 4, 3, 3)),
    }
    out = {}
    for name, (module, shape) in modules.items():
        module = torch.nn.utils.spectral_norm(module)
        module.train()
        out[f"{name}_weight_orig"] = module.weight_orig.detach().numpy().copy()
        out[f"{name}_bias"] = module.bias.detach().numpy().copy()
        out[f"{name}_u0"] = module.weight_u.numpy().copy()
        out[f"{name}_v0"] = module.weight_v.numpy().copy()
        for step in range(3):
            x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
            y = module(x)
            out[f"{name}_x{step}"], out[f"{name}_y{step}"] = x.numpy(), y.detach().numpy()
            out[f"{name}_u{step + 1}"] = module.weight_u.numpy().copy()
            out[f"{name}_v{step + 1}"] = module.weight_v.numpy().copy()
            if step == 0:
                probe = torch.from_numpy(rng.standard_normal(y.shape).astype(np.float32))
                (y * probe).sum().backward()
                out[f"{name}_probe"] = probe.numpy()
                out[f"{name}_grad"] = module.weight_orig.grad.numpy().copy()
        module.eval()
        x = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
        with torch.no_grad():
            out[f"{name}_xeval"], out[f"{name}_yeval"] = x.numpy(), module(x).numpy()
        assert np.array_equal(module.weight_u.numpy(), out[f"{name}_u3"]), "eval updated u"
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adgan", default="/tmp/adgan",
                        help="export of menyifang/ADGAN holding models/model_adgen.py")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    norm = make_norm(import_model_adgen(args.adgan))
    np.savez(OUT / "norm.npz", **norm)
    spectral = make_spectral()
    np.savez(OUT / "spectral.npz", **spectral)
    print("norm", sorted(norm), "\nspectral", sorted(spectral))


if __name__ == "__main__":
    main()
