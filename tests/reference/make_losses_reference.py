"""Reference arrays for tests/test_losses.py, made with torch (run with the torch venv python).

    python tests/reference/make_losses_reference.py --adgan /tmp/ADGAN

* ``cx.npz``: ADGAN's own ``CXLoss`` (losses/CX_style_loss.py in menyifang/ADGAN, commit
  c04f5e59f6e9bb0890c4bf18ebb1f864ecf5abbb) imported from a checkout at ``--adgan`` and run in
  float64 on small fixed random NCHW features, for two sigmas. Saved NHWC.
* ``vgg.npz``: torchvision ``vgg19().features[:9]`` (torchvision/models/vgg.py in
  pytorch/vision) on a 1x3x32x32 image in [-1, 1], ImageNet-normalised as ADGAN's
  L1_plus_perceptualLoss does; convs 0, 2, 5, 7 get weights drawn with numpy from
  ``VGG_SEED`` (the test draws the same ones; their sums are saved to check that), so no
  weights are stored. Saves the relu2_1 (features[:7]) and relu2_2 (features[:9]) taps, NHWC.
* ``features0.pth``: ``torch.save`` of those weights' ``features.0.*`` (7 KB), for the
  path-based loader.
"""

import argparse
import importlib.util
import os
import pathlib
import sys
import types

import numpy as np
import torch

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "losses"
VGG_SEED = 20240519
VGG_CONVS = {0: (3, 64), 2: (64, 64), 5: (64, 128), 7: (128, 128)}


def vgg_weights(seed=VGG_SEED):
    """{torchvision key: float32 array}: He-scaled normal kernels [O, I, 3, 3], small biases."""
    rng = np.random.default_rng(seed)
    state = {}
    for i, (cin, cout) in VGG_CONVS.items():
        kernel = rng.standard_normal((cout, cin, 3, 3)).astype(np.float32)
        state[f"features.{i}.weight"] = kernel * np.float32(np.sqrt(2.0 / (9 * cin)))
        state[f"features.{i}.bias"] = rng.standard_normal(cout).astype(np.float32) * np.float32(0.1)
    return state


def _import_torchvision_vgg():
    # The venv's torchvision wheel is a CUDA build whose C ops do not load next to a CPU torch;
    # VGG needs none of them, so import its Python module without torchvision/__init__.py.
    spec = importlib.util.find_spec("torchvision")
    pkg = types.ModuleType("torchvision")
    pkg.__path__ = [os.path.dirname(spec.origin)]
    sys.modules["torchvision"] = pkg
    from torchvision.models.vgg import vgg19

    return vgg19


def make_cx(adgan_dir):
    spec = importlib.util.spec_from_file_location(
        "adgan_cx", pathlib.Path(adgan_dir) / "losses" / "CX_style_loss.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(7)
    # Generated (I) and target (T) features with different spatial sizes, ReLU-like.
    feat_i = np.abs(rng.standard_normal((2, 8, 5, 3)))
    feat_t = np.abs(rng.standard_normal((2, 8, 4, 4)))
    out = {"x_nhwc": feat_i.transpose(0, 2, 3, 1), "y_nhwc": feat_t.transpose(0, 2, 3, 1)}
    for sigma in (0.5, 0.1):
        loss = module.CXLoss(sigma=sigma, b=1.0)(torch.from_numpy(feat_t), torch.from_numpy(feat_i))
        out[f"loss_sigma{sigma}"] = np.float64(loss.item())
    np.savez(OUT / "cx.npz", **out)
    print("cx", {k: v for k, v in out.items() if k.startswith("loss")})


def make_vgg():
    vgg19 = _import_torchvision_vgg()
    torch.manual_seed(0)
    features = vgg19().features.eval()
    state = vgg_weights()
    features.load_state_dict({k[len("features."):]: torch.from_numpy(v) for k, v in state.items()},
                             strict=False)
    rng = np.random.default_rng(3)
    image = rng.uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        x = ((torch.from_numpy(image) + 1) / 2 - mean) / std
        relu2_1 = features[:7](x).numpy()
        relu2_2 = features[:9](x).numpy()
    np.savez(OUT / "vgg.npz", image_nhwc=image.transpose(0, 2, 3, 1),
             relu2_1=relu2_1.transpose(0, 2, 3, 1), relu2_2=relu2_2.transpose(0, 2, 3, 1),
             weight_sums=np.array([np.float64(v).sum() for v in state.values()]))
    torch.save({k: torch.from_numpy(v) for k, v in state.items() if k.startswith("features.0.")},
               OUT / "features0.pth")
    print("vgg", relu2_1.shape, relu2_2.shape, float(np.abs(relu2_2).max()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adgan", default="/tmp/ADGAN",
                        help="checkout of menyifang/ADGAN (only losses/CX_style_loss.py is used)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    make_cx(args.adgan)
    make_vgg()


if __name__ == "__main__":
    main()
