"""Reference numbers for tests/test_metrics_fid.py and tests/test_metrics_lpips.py.

Run with a Python that has torch, torchvision, scipy and the PyPI packages ``pytorch-fid``
(0.3.0) and ``lpips`` (0.1.4):

    python tests/reference/make_metrics_reference.py

Writes tests/data/metrics/:

* ``fid_cases.npz``: per case ``<case>_mu1``, ``_sigma1``, ``_mu2``, ``_sigma2`` and
  ``<case>_fid``, the value of ``pytorch_fid.fid_score.calculate_frechet_distance``;
* ``lpips_<net>.npz`` (net alex, vgg): uint8 input pairs ``in0``, ``in1`` [2, 64, 64, 3],
  ``lpips.LPIPS(net=net, pnet_rand=True)`` outputs with the weights of
  ``lpips_random_state(net)``: ``total`` [2], ``per_layer`` [5, 2] (``retPerLayer=True``),
  ``spatial`` [2, 64, 64] (``spatial=True``), and ``weight_sums`` (float64 sum of each
  weight array, in ``sorted`` name order) so that a test can tell that it regenerated the
  same weights;
* ``lpips_alex_lin.pth``: the alex ``lin`` weights saved by ``torch.save`` like the lpips
  release's ``weights/v0.1/alex.pth`` (an ordered dict ``lin{k}.model.1.weight``).

The network weights are not stored (AlexNet features alone are 10 MB): ``lpips_random_state``
(numpy only, importable without torch) makes them from a seed, here and in the tests.
"""

import collections
import os

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "metrics")

# torchvision ``features`` convolutions: index -> (out, in, kernel).
BACKBONE_CONVS = {
    "alex": {0: (64, 3, 11), 3: (192, 64, 5), 6: (384, 192, 3), 8: (256, 384, 3),
             10: (256, 256, 3)},
    "vgg": {0: (64, 3, 3), 2: (64, 64, 3), 5: (128, 64, 3), 7: (128, 128, 3),
            10: (256, 128, 3), 12: (256, 256, 3), 14: (256, 256, 3), 17: (512, 256, 3),
            19: (512, 512, 3), 21: (512, 512, 3), 24: (512, 512, 3), 26: (512, 512, 3),
            28: (512, 512, 3)},
}
LIN_CHANNELS = {"alex": (64, 192, 384, 256, 256), "vgg": (64, 128, 256, 512, 512)}


def lpips_random_state(net, seed=0):
    """Deterministic torch-layout weights: (backbone dict ``features.{i}.weight/bias``,
    lin dict ``lin{k}.model.1.weight``), float32; He-normal kernels, small biases,
    non-negative lin weights (as trained LPIPS weights are)."""
    rng = np.random.default_rng(seed)
    backbone = {}
    for index, (out, cin, k) in BACKBONE_CONVS[net].items():
        std = np.sqrt(2.0 / (cin * k * k))
        backbone[f"features.{index}.weight"] = (rng.standard_normal((out, cin, k, k)) * std
                                                ).astype(np.float32)
        backbone[f"features.{index}.bias"] = (rng.standard_normal(out) * 0.01).astype(np.float32)
    lin = {f"lin{k}.model.1.weight": (np.abs(rng.standard_normal((1, ch, 1, 1))) * 0.1
                                      ).astype(np.float32)
           for k, ch in enumerate(LIN_CHANNELS[net])}
    return backbone, lin


def weight_sums(backbone, lin):
    """float64 sum of each array, names sorted: a fingerprint of ``lpips_random_state``."""
    state = {**backbone, **lin}
    return np.array([np.sum(state[name], dtype=np.float64) for name in sorted(state)])


def lpips_inputs(seed=1):
    """uint8 pairs [2, 64, 64, 3]: pair 0 an image and a noisy copy, pair 1 two images."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:64, 0:64] / 64.0
    base = np.stack([np.sin(6 * xx + 2 * c) * np.cos(4 * yy - c) for c in range(3)], -1)
    img_a = 127.5 + 100 * base + rng.normal(0, 10, (64, 64, 3))
    img_b = img_a + rng.normal(0, 25, (64, 64, 3))
    img_c = rng.uniform(0, 255, (64, 64, 3))
    img_d = 127.5 + 100 * base[::-1] + rng.normal(0, 10, (64, 64, 3))
    to_u8 = lambda x: np.clip(np.round(x), 0, 255).astype(np.uint8)  # noqa: E731
    return to_u8(np.stack([img_a, img_c])), to_u8(np.stack([img_b, img_d]))


def fid_inputs():
    """name -> (mu1, sigma1, mu2, sigma2) float64."""
    rng = np.random.default_rng(2)
    cases = {}
    # Fewer samples than dimensions: rank-deficient covariances (pytorch-fid's usual case
    # with few images), sqrtm stays finite.
    a, b = rng.normal(size=(5, 8)), rng.normal(1.0, 2.0, size=(6, 8))
    cases["few_samples"] = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    # sigma1 @ sigma2 a nilpotent Jordan block: sqrtm is infinite, the eps offset path runs.
    cases["eps_offset"] = (np.zeros(3), np.eye(3), np.ones(3),
                           np.array([[0.0, 1, 0], [0, 0, 1], [0, 0, 0]]))
    # A generic full-rank pair.
    a, b = rng.normal(size=(40, 6)), rng.normal(size=(50, 6)) @ rng.normal(size=(6, 6))
    cases["full_rank"] = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    return cases


def make_fid():
    from pytorch_fid.fid_score import calculate_frechet_distance

    out = {}
    for name, (mu1, s1, mu2, s2) in fid_inputs().items():
        out.update({f"{name}_mu1": mu1, f"{name}_sigma1": s1, f"{name}_mu2": mu2,
                    f"{name}_sigma2": s2})
        out[f"{name}_fid"] = np.float64(calculate_frechet_distance(mu1, s1, mu2, s2))
        print(name, out[f"{name}_fid"])
    np.savez_compressed(os.path.join(OUT_DIR, "fid_cases.npz"), **out)


def make_lpips(net):
    import lpips
    import torch

    torch.manual_seed(0)
    backbone, lin = lpips_random_state(net)
    in0, in1 = lpips_inputs()
    t0, t1 = (torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)
              for x in (in0, in1))
    results = {}
    for spatial in (False, True):
        model = lpips.LPIPS(net=net, pretrained=False, pnet_rand=True, spatial=spatial,
                            verbose=False)
        state = model.state_dict()
        for name in state:
            if name.startswith("net.slice"):
                index, kind = name.split(".")[2:4]
                state[name] = torch.from_numpy(backbone[f"features.{index}.{kind}"])
            elif name.startswith("lins."):  # the ModuleList holding lin0..lin4 again
                _, k, rest = name.split(".", 2)
                state[name] = torch.from_numpy(lin[f"lin{k}.{rest}"])
            elif name.startswith("lin"):
                state[name] = torch.from_numpy(lin[name])
        model.load_state_dict(state)
        with torch.no_grad():
            results[spatial] = model(t0, t1, retPerLayer=True)
    total, layers = results[False]
    spatial_total = results[True][0]
    np.savez_compressed(
        os.path.join(OUT_DIR, f"lpips_{net}.npz"), in0=in0, in1=in1,
        total=total.numpy().reshape(-1),
        per_layer=np.stack([v.numpy().reshape(-1) for v in layers]),
        spatial=spatial_total.numpy()[:, 0], weight_sums=weight_sums(backbone, lin))
    if net == "alex":
        lin_state = collections.OrderedDict((k, torch.from_numpy(v)) for k, v in lin.items())
        torch.save(lin_state, os.path.join(OUT_DIR, "lpips_alex_lin.pth"))
    print(net, total.numpy().reshape(-1))


if __name__ == "__main__":
    os.makedirs(OUT_DIR, exist_ok=True)
    make_fid()
    for backbone_name in ("alex", "vgg"):
        make_lpips(backbone_name)
