"""LPIPS (tfposegen.metrics.lpips) against the lpips package (richzhang/PerceptualSimilarity).

tests/data/metrics/lpips_<net>.npz holds what ``lpips.LPIPS(net, pnet_rand=True)`` computed
with the seeded weights of ``lpips_random_state`` in tests/reference/make_metrics_reference.py
(which regenerates them here; the stored per-array sums check that it did).
"""

import os

import numpy as np
import pytest
from conftest import reference_module

from tfposegen.metrics import lpips as lp

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "metrics")


REF = reference_module("make_metrics_reference.py")


@pytest.fixture(scope="module", params=["alex", "vgg"])
def loaded(request):
    net = request.param
    data = dict(np.load(os.path.join(DATA, f"lpips_{net}.npz")))
    backbone, lin = REF.lpips_random_state(net)
    np.testing.assert_allclose(REF.weight_sums(backbone, lin), data["weight_sums"], rtol=1e-12,
                               err_msg="numpy no longer generates the reference weights")
    model = lp.LPIPS(net)
    lp.load_lpips_state(model, backbone, lin)
    in0, in1 = (data[k].astype(np.float32) / 127.5 - 1.0 for k in ("in0", "in1"))
    return net, model, data, in0, in1


def _rel(actual, expected):
    return float(np.max(np.abs(np.asarray(actual) - expected) / np.abs(expected)))


def test_matches_lpips_package(loaded):
    net, model, data, in0, in1 = loaded
    total, layers = model.distance(in0, in1, per_layer=True)
    # Pair 0 (noisy copy) is closer than pair 1 (other image): the numbers are not degenerate.
    assert data["total"][0] < data["total"][1]
    assert _rel(total, data["total"]) < 1e-5, net
    assert _rel(np.stack([np.asarray(v) for v in layers]), data["per_layer"]) < 1e-5, net
    np.testing.assert_allclose(np.asarray(model((in0, in1))), data["total"], rtol=1e-5)


def test_spatial_matches_lpips_package(loaded):
    net, model, data, in0, in1 = loaded
    spatial = np.asarray(model.spatial_distance(in0, in1))[..., 0]
    assert spatial.shape == (2, 64, 64)
    np.testing.assert_allclose(spatial, data["spatial"], rtol=1e-5,
                               atol=1e-6 * np.abs(data["spatial"]).max(), err_msg=net)


def test_identical_images_give_zero(loaded):
    _, model, _, in0, _ = loaded
    np.testing.assert_array_equal(np.asarray(model.distance(in0, in0)), 0.0)


def test_load_errors_name_the_weight():
    backbone, lin = REF.lpips_random_state("alex")
    model = lp.LPIPS("alex")
    missing = {k: v for k, v in backbone.items() if k != "features.8.bias"}
    with pytest.raises(lp.LPIPSError, match="features.8.bias"):
        lp.load_lpips_state(model, missing, lin)
    wrong = dict(lin, **{"lin2.model.1.weight": np.zeros((1, 256, 1, 1), np.float32)})
    with pytest.raises(lp.LPIPSError, match="lin2.model.1.weight"):
        lp.load_lpips_state(model, backbone, wrong)
    with pytest.raises(lp.LPIPSError, match="net"):
        lp.LPIPS("squeeze")
    x = np.zeros((1, 24, 24, 3), np.float32)
    with pytest.raises(lp.LPIPSError, match="H, W >= 31"):
        model.distance(x, x)
    with pytest.raises(lp.LPIPSError, match="equal"):
        model.distance(np.zeros((1, 32, 32, 3)), np.zeros((1, 32, 40, 3)))


def test_config_round_trip():
    model = lp.LPIPS("vgg")
    clone = lp.LPIPS.from_config(model.get_config())
    assert clone.net == "vgg" and clone.channels == (64, 128, 256, 512, 512)


def test_from_files_reads_torch_saved_lin(monkeypatch):
    """``from_files`` with a torch.save'd lin file (read by torch_checkpoint); the backbone file
    (10 MB, not stored) is stood in for by the regenerated dict."""
    from tfposegen.convert import torch_checkpoint

    data = np.load(os.path.join(DATA, "lpips_alex.npz"))
    in0, in1 = (data[k].astype(np.float32) / 127.5 - 1.0 for k in ("in0", "in1"))
    backbone, _ = REF.lpips_random_state("alex")
    real = torch_checkpoint.state_dict
    monkeypatch.setattr(torch_checkpoint, "state_dict",
                        lambda path: backbone if path == "<backbone>" else real(path))
    model = lp.from_files("alex", "<backbone>", os.path.join(DATA, "lpips_alex_lin.pth"))
    np.testing.assert_allclose(np.asarray(model.distance(in0, in1)), data["total"], rtol=1e-5)
