"""torchvision's InceptionV3 as the DPTN codes wrap it for FID
(tfposegen.metrics.torchvision_inception) against torch.

tests/data/metrics/torchvision_inception.npz holds the wrapper's features computed by torch
with the seeded weights of ``random_state`` in
tests/reference/make_torchvision_inception_reference.py, which regenerates them here from the
stored names and shapes (the stored per-array sums check that it did). The weights reach the
Keras model through a ``.pth`` written here in torch's zip format (no torch needed) and read
by ``TorchvisionInceptionFeatures``: the parity check is also the loader's round trip.
"""

import collections
import struct
import zipfile

import numpy as np
import pytest
from conftest import DATA, reference_arrays, reference_module, rel_err

from tfposegen.convert.torch_checkpoint import TorchCheckpointError
from tfposegen.metrics import torchvision_inception as T
from tfposegen.metrics.fid import MetricInputError

REF = reference_module("make_torchvision_inception_reference.py")
PATH = DATA / "metrics" / "torchvision_inception.npz"


def _global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _text(s):
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _ints(values):
    return b"(" + b"".join(b"J" + struct.pack("<i", int(v)) for v in values) + b"t"


def write_torch_zip(path, state):
    """``torch.save(OrderedDict of tensors)`` in torch's zip format, written without torch:
    ``archive/data.pkl`` (protocol 2: ``_rebuild_tensor_v2`` calls on persistent storage
    ids) and one raw little-endian blob per tensor under ``archive/data/<key>``."""
    storage = {np.dtype(np.float32): "FloatStorage", np.dtype(np.int64): "LongStorage"}
    empty_dict = _global("collections", "OrderedDict") + b")R"
    pkl = [b"\x80\x02", empty_dict, b"("]
    blobs = []
    for i, (name, value) in enumerate(state.items()):
        value = np.ascontiguousarray(value)
        strides = [s // value.itemsize for s in value.strides]
        pkl += [_text(name), _global("torch._utils", "_rebuild_tensor_v2"), b"(",
                b"(" + _text("storage") + _global("torch", storage[value.dtype]) + _text(str(i))
                + _text("cpu") + b"J" + struct.pack("<i", value.size) + b"tQ",
                b"J\x00\x00\x00\x00", _ints(value.shape), _ints(strides), b"\x89", empty_dict,
                b"tR"]
        blobs.append((str(i), value.astype(value.dtype.newbyteorder("<")).tobytes()))
    pkl += [b"u."]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", b"".join(pkl))
        zf.writestr("archive/byteorder", "little")
        for key, raw in blobs:
            zf.writestr(f"archive/data/{key}", raw)


@pytest.fixture(scope="module")
def reference():
    data = reference_arrays(REF, PATH)
    state = REF.random_state(data["names"], data["shapes"])
    np.testing.assert_allclose(REF.weight_sums(state), data["weight_sums"], rtol=1e-12,
                               err_msg="numpy no longer generates the reference weights")
    return data, state


@pytest.fixture(scope="module")
def extractor(reference, tmp_path_factory):
    _, state = reference
    path = tmp_path_factory.mktemp("torchvision") / "inception_v3_google-test.pth"
    write_torch_zip(path, collections.OrderedDict(state))
    return T.TorchvisionInceptionFeatures(path)


def test_features_match_the_dptn_wrapper_in_torch(reference, extractor):
    data, _ = reference
    small, large = data["inputs"]["small"], data["inputs"]["large"]
    got = extractor(small)                                     # 64x48: upsampled
    assert got.shape == (2, 2048) and got.dtype == np.float32
    assert rel_err(got, data["features_small"]) <= 1e-4
    assert rel_err(extractor(large), data["features_large"]) <= 1e-4   # 331x310: shrunk
    # not degenerate: the two images differ by far more than the tolerance
    assert np.abs(data["features_small"][0] - data["features_small"][1]).max() > 0.1
    # floats in [0, 1] are the code's input; uint8 is divided by 255 first
    np.testing.assert_allclose(extractor(small.astype(np.float32) / 255), got, rtol=1e-6,
                               atol=1e-6)


def test_state_dict_errors_name_the_file(reference, extractor, tmp_path):
    _, state = reference
    model = extractor.model
    before = np.asarray(model.Mixed_7c.branch_pool.conv.kernel).copy()
    missing = {k: v for k, v in state.items() if k != "Mixed_6c.branch7x7_2.conv.weight"}
    with pytest.raises(TorchCheckpointError, match=r"^x\.pth: .*missing.*Mixed_6c\.branch7x7_2"):
        T.load_torchvision_inception(model, missing, "x.pth")
    wrong = dict(state, **{"Mixed_5b.branch1x1.bn.running_var": np.ones(65, np.float32)})
    with pytest.raises(TorchCheckpointError, match="shape mismatch.*Mixed_5b.branch1x1.bn"):
        T.load_torchvision_inception(model, wrong, "x.pth")
    extra = dict(state, **{"Mixed_8a.conv.weight": np.ones(3, np.float32)})
    with pytest.raises(TorchCheckpointError, match="unused.*Mixed_8a"):
        T.load_torchvision_inception(model, extra, "x.pth")
    np.testing.assert_array_equal(np.asarray(model.Mixed_7c.branch_pool.conv.kernel), before)
    # without the classifier heads and BN counters (aux_logits=False files) it loads
    T.load_torchvision_inception(model, {k: v for k, v in state.items() if not (
        k.startswith(("AuxLogits.", "fc.")) or k.endswith("num_batches_tracked"))})
    tiny = tmp_path / "tiny.pth"
    write_torch_zip(tiny, {"Conv2d_1a_3x3.conv.weight": state["Conv2d_1a_3x3.conv.weight"]})
    with pytest.raises(TorchCheckpointError, match=f"^{tiny}: .*missing"):
        T.TorchvisionInceptionFeatures(tiny)
    with pytest.raises(TorchCheckpointError, match="cannot read"):
        T.TorchvisionInceptionFeatures(tmp_path / "absent.pth")


def test_bad_images(extractor):
    with pytest.raises(MetricInputError, match=r"\[0, 1\]"):
        extractor(np.full((1, 80, 80, 3), -0.5, np.float32))  # [-1, 1] images are refused
    with pytest.raises(MetricInputError, match="B, H, W, 3"):
        extractor(np.zeros((80, 80, 3), np.uint8))


def test_torch_pooling_semantics_and_configs():
    x = np.ones((1, 4, 5, 1), np.float32)
    avg = np.asarray(T.avg_pool_3x3_include_pad(x))[0, ..., 0]
    assert avg.shape == (4, 5)                       # zeros counted: corners 4/9, edges 6/9
    np.testing.assert_allclose(avg[[0, 0, 1], [0, 2, 2]], [4 / 9, 6 / 9, 1.0], rtol=1e-6)
    assert np.asarray(T.max_pool_3x3_s2(np.zeros((1, 7, 8, 2)))).shape == (1, 3, 3, 2)
    conv = T.BasicConv2d(4, 6, (1, 7), padding=(0, 3), name="b")
    clone = T.BasicConv2d.from_config(conv.get_config())
    assert (clone.kernel_size, clone.padding, clone.conv.kernel.shape) == ((1, 7), (0, 3),
                                                                           (1, 7, 4, 6))
    assert np.asarray(conv(np.ones((2, 5, 9, 4), np.float32))).shape == (2, 5, 9, 6)
    block = T.InceptionC.from_config(T.InceptionC(24, 8, name="c").get_config())
    assert block.channels_7x7 == 8 and np.asarray(block(np.ones((1, 9, 9, 24)))).shape == (
        1, 9, 9, 4 * 192)
    names = [n for _, n, _ in block.torch_pairs("Mixed_6b")]
    assert len(names) == 50 and names[:2] == ["Mixed_6b.branch1x1.conv.weight",
                                              "Mixed_6b.branch1x1.bn.weight"]


def test_paint_protocol_resizes_with_aligned_corners_and_drops_the_remainder():
    """PAINT's eval.py: torch ``upsample(..., align_corners=True)`` (output i samples input
    i (n - 1) / 298, against a numpy twin) before the same ImageNet map; FID over batches
    of 4 with the last N mod 4 images of each set dropped."""
    from tfposegen.metrics.fid import fid_from_features, paint_fid

    rng = np.random.default_rng(0)
    image = rng.random((1, 5, 4, 3)).astype(np.float32)
    model = T.TorchvisionInceptionV3.from_config(
        T.TorchvisionInceptionV3(align_corners=True, normalize_input=False).get_config())
    got = np.asarray(model.preprocess(image))[0]
    r, c = np.arange(299) * 4 / 298, np.arange(299) * 3 / 298
    r0, c0 = np.minimum(r.astype(int), 3), np.minimum(c.astype(int), 2)
    fr, fc = (r - r0)[:, None, None], (c - c0)[None, :, None]
    x = image[0].astype(np.float64)
    top = x[r0][:, c0] * (1 - fc) + x[r0][:, c0 + 1] * fc
    bottom = x[r0 + 1][:, c0] * (1 - fc) + x[r0 + 1][:, c0 + 1] * fc
    np.testing.assert_allclose(got, top * (1 - fr) + bottom * fr, atol=1e-6)
    assert not np.allclose(np.asarray(T.TorchvisionInceptionV3(
        normalize_input=False).preprocess(image))[0], got, atol=1e-3)   # half-pixel differs

    def extractor(batch):   # per-image colour means and a spread: [B, 4]
        assert len(batch) == 4
        b = np.asarray(batch, np.float64)
        return np.concatenate([b.mean(axis=(1, 2)), b.std(axis=(1, 2, 3))[:, None]], axis=1)

    a = rng.integers(0, 256, (10, 6, 6, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (9, 6, 6, 3), dtype=np.uint8)
    want = fid_from_features(extractor(a[:4]).tolist() + extractor(a[4:8]).tolist(),
                             extractor(b[:4]).tolist() + extractor(b[4:8]).tolist())
    assert paint_fid(a, b, extractor) == pytest.approx(want, rel=1e-12)
    with pytest.raises(MetricInputError, match="tests: need"):
        paint_fid(a, b[:3], extractor)
