"""PyTorch checkpoints read without torch, against files and arrays written by real torch
(tests/reference/make_torch_checkpoints.py), plus refusals of broken and malicious files."""

import io
import os
import pickle
import pickletools
import struct
import tarfile
import zipfile

import numpy as np
import pytest
from conftest import DATA

from tfposegen.convert.torch_checkpoint import (
    LEGACY_MAGIC_NUMBER,
    TorchCheckpointError,
    assign_state_dict,
    load_torch_file,
    spectral_norm_triples,
    spectral_norm_weight,
    state_dict,
    to_keras,
)

TORCH = DATA / "torch"


@pytest.fixture(scope="module")
def expected():
    with np.load(TORCH / "expected.npz") as f:
        return {k: f[k] for k in f.files}


def section(expected, prefix):
    return {k[len(prefix):]: v for k, v in expected.items() if k.startswith(prefix)}


def assert_same_arrays(got, want):
    """Same names in the same order, bit-exact values, same dtypes and shapes."""
    assert list(got) == list(want)
    for name, ref in want.items():
        assert isinstance(got[name], np.ndarray), name
        assert got[name].dtype == ref.dtype and got[name].shape == ref.shape, name
        assert got[name].tobytes() == ref.tobytes(), name


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_module_state_dict_bit_exact(fmt, expected):
    obj = load_torch_file(TORCH / f"small_{fmt}.pth")
    want = section(expected, "small/")
    assert_same_arrays(obj, want)
    assert obj["bn.num_batches_tracked"].dtype == np.int64
    assert obj["bn.num_batches_tracked"] == 2


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_views_dtypes_and_cuda_tags(fmt, expected):
    path = TORCH / f"misc_{fmt}.pth"
    assert b"cuda:0" in path.read_bytes()  # storages tagged for a GPU load on the CPU
    got = load_torch_file(path)
    assert_same_arrays(got, section(expected, "misc/"))
    assert got["bf16"].dtype == np.float32  # bfloat16 -> float32, documented
    assert got["transposed"].flags.c_contiguous and got["sliced"].flags.c_contiguous
    np.testing.assert_array_equal(got["sliced"], np.arange(24.0).reshape(4, 6)[1:, ::2])


def test_dataparallel_prefix(expected):
    stripped = state_dict(TORCH / "dataparallel.pth")
    assert_same_arrays(stripped, section(expected, "small/"))
    raw = state_dict(TORCH / "dataparallel.pth", strip_prefixes=())
    assert all(k.startswith("module.") for k in raw)


def test_training_checkpoint(expected):
    path = TORCH / "train_zip.pth"
    obj = load_torch_file(path)
    assert (obj["epoch"], obj["name"], obj["lr"]) == (3, "tiny", 2e-4)
    assert type(obj["epoch"]) is int
    assert obj["betas"] == (0.5, 0.999) and obj["tags"] == {"a", "b"}
    assert obj["blob"] == b"\x00\xff"
    opt = obj["optimizer"]
    assert opt["param_groups"][0]["params"] == list(range(14))
    got = {f"{i}/{n}": t for i, st in opt["state"].items() for n, t in st.items()}
    assert_same_arrays(got, section(expected, "opt/"))
    assert_same_arrays(state_dict(obj, key="netG"), section(expected, "small/"))
    with pytest.raises(TorchCheckpointError, match=r"train_zip.pth.*'netG'.*'optimizer'"):
        state_dict(path)
    with pytest.raises(TorchCheckpointError, match=r"no entry 'netD'.*'epoch'"):
        state_dict(path, key="netD")


def test_keras_layers_match_torch_outputs(expected):
    """Conv2D / Dense / Conv2DTranspose fed through to_keras reproduce torch's outputs."""
    import keras

    sd = state_dict(TORCH / "small_zip.pth")
    x = expected["io/x"].transpose(0, 2, 3, 1)
    h = expected["io/h"].transpose(0, 2, 3, 1)
    conv = keras.layers.Conv2D(4, 3, padding="same")
    fc = keras.layers.Dense(5)
    up4 = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")  # torch k4 s2 p1
    # torch k3 s2 p1 output_padding 1 has no Keras padding mode: Keras 'same' puts the extra
    # row/column on the other side. 'valid' gives the full (2H+1) output; torch's padding=1
    # crops its first row/column and output_padding=1 keeps the rest: rows 1 .. 2H.
    up3 = keras.layers.Conv2DTranspose(2, 3, strides=2, padding="valid")
    up3_same = keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same")
    for layer, shape in ((conv, x.shape), (fc, (3, 8)), (up4, h.shape), (up3, h.shape),
                         (up3_same, h.shape)):
        layer.build(shape)
    pairs = [(conv.kernel, "conv.weight", "conv2d"), (conv.bias, "conv.bias", "vector"),
             (fc.kernel, "fc.weight", "linear"), (fc.bias, "fc.bias", "vector"),
             (up4.kernel, "up4.weight", "conv_transpose2d"), (up4.bias, "up4.bias", "vector"),
             (up3.kernel, "up3.weight", "conv_transpose2d"), (up3.bias, "up3.bias", "vector")]
    assign_state_dict(pairs, sd, strict=True, ignore=("bn.", "sn.", "psn."))
    up3_same.set_weights([up3.kernel.numpy(), up3.bias.numpy()])
    nchw = lambda y: np.asarray(y).transpose(0, 3, 1, 2)  # noqa: E731
    errors = {
        "conv": np.abs(nchw(conv(x)) - expected["io/conv"]).max(),
        "fc": np.abs(np.asarray(fc(expected["io/v"])) - expected["io/fc"]).max(),
        "up4": np.abs(nchw(up4(h)) - expected["io/up4"]).max(),
        "up3": np.abs(nchw(up3(h)[:, 1:1 + 2 * h.shape[1], 1:1 + 2 * h.shape[2]])
                      - expected["io/up3"]).max(),
    }
    assert max(errors.values()) < 1e-5, errors
    assert np.abs(nchw(up3_same(h)) - expected["io/up3"]).max() > 0.1  # the documented trap


def test_spectral_norm_triples(expected):
    sd = state_dict(TORCH / "small_legacy.pth")
    groups = spectral_norm_triples(sd)
    assert list(groups) == ["sn", "psn"]
    assert groups["sn"]["weight_orig"] is sd["sn.weight_orig"]
    assert groups["sn"]["u"].shape == (4,) and groups["sn"]["v"].shape == (36,)
    assert groups["psn"]["v"] is sd["psn.parametrizations.weight.0._v"]
    for name in ("sn", "psn"):
        w = spectral_norm_weight(groups[name])
        np.testing.assert_allclose(w, expected[f"io/{name}_weight"], rtol=1e-6, atol=1e-7)
    del sd["sn.weight_u"]
    with pytest.raises(TorchCheckpointError, match=r"'sn': \['v', 'weight_orig'\]"):
        spectral_norm_triples(sd)


def test_to_keras_rules():
    w = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert to_keras(w, "conv2d")[3, 4, 2, 1] == w[1, 2, 3, 4]  # [kh, kw, in, out]
    assert to_keras(w, "conv_transpose2d").shape == (4, 5, 3, 2)  # (kh, kw, out, in)
    assert to_keras(w[0, 0], "linear").shape == (5, 4)
    assert to_keras(w, "vector") is w
    with pytest.raises(ValueError, match="conv2d weight must be 4-D"):
        to_keras(w[0], "conv2d")
    with pytest.raises(ValueError, match="unknown kind 'dense'"):
        to_keras(w, "dense")


def test_assign_state_dict_all_or_nothing():
    import keras

    a = keras.Variable(np.zeros((3, 3, 2, 4), np.float32))
    b = keras.Variable(np.zeros((4,), np.float32))
    c = keras.Variable(np.zeros((3, 3, 4, 2), np.float32))
    state = {"conv.weight": np.ones((4, 2, 3, 3), np.float32), "conv.bias": np.ones(4),
             "bn.num_batches_tracked": np.array(5), "extra.w": np.ones(2, np.float32)}

    def unchanged():
        return not any(np.asarray(v).any() for v in (a, b, c))

    good = [(a, "conv.weight", "conv2d"), (b, "conv.bias", "vector")]
    with pytest.raises(TorchCheckpointError, match=r"g.pth.*1 missing: \['conv.gamma'\]"):
        assign_state_dict(good + [(b, "conv.gamma", "vector")], state, path="g.pth",
                          strict=False)
    assert unchanged()
    with pytest.raises(TorchCheckpointError, match=r"1 shape mismatch: \['conv.weight "
                       r"\(4, 2, 3, 3\) -> \(3, 3, 2, 4\) vs variable \(3, 3, 4, 2\)'\]"):
        assign_state_dict([(c, "conv.weight", "conv2d"), good[1]], state, strict=False)
    assert unchanged()
    with pytest.raises(TorchCheckpointError,
                       match=r"2 unused: \['bn.num_batches_tracked', 'extra.w'\]"):
        assign_state_dict(good, state)
    assert unchanged()
    with pytest.raises(TorchCheckpointError, match=r"1 unused: \['extra.w'\]"):
        assign_state_dict(good, state, ignore=("*.num_batches_tracked",))
    assert unchanged()
    assign_state_dict(good, state, ignore=("*.num_batches_tracked", "extra."))
    assert np.asarray(a).dtype == np.float32 and np.all(np.asarray(a) == 1)
    assert np.all(np.asarray(b) == 1)


# ---------------------------------------------------------------- refusals


def global_op(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def text_op(s):
    data = s.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def os_system_payload(marker):
    """A hand-made pickle: os.system('touch <marker>')."""
    return b"\x80\x02" + global_op("os", "system") + text_op(f"touch {marker}") + b"\x85R."


class _Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


def legacy_header():
    return b"".join(pickle.dumps(o, protocol=2) for o in (
        LEGACY_MAGIC_NUMBER, 1001,
        {"protocol_version": 1001, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 4}}))


def write_zip(path, data_pkl, blobs=()):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("anyname/data.pkl", data_pkl)
        zf.writestr("anyname/byteorder", "little")
        for key, raw in blobs:
            zf.writestr(f"anyname/data/{key}", raw)


@pytest.mark.parametrize("payload", ["opcodes", "reduce"])
@pytest.mark.parametrize("container", ["zip", "legacy", "legacy_first"])
def test_malicious_global_is_refused(tmp_path, payload, container):
    marker = tmp_path / "pwned"
    evil = (os_system_payload(marker) if payload == "opcodes"
            else pickle.dumps(_Evil(f"touch {marker}"), protocol=2))
    ops = [(op.name, arg) for op, arg, _ in pickletools.genops(evil)]
    assert ("REDUCE", None) in ops and any(op == "GLOBAL" and arg.endswith(" system")
                                           for op, arg in ops)  # the payload is live
    path = tmp_path / "evil.pth"
    if container == "zip":
        write_zip(path, evil)
    elif container == "legacy":
        path.write_bytes(legacy_header() + evil)
    else:
        path.write_bytes(evil + legacy_header())
    with pytest.raises(TorchCheckpointError) as err:
        load_torch_file(path)
    msg = str(err.value)
    assert str(path) in msg and ("'os.system'" in msg or "'posix.system'" in msg)
    assert not marker.exists()


def test_out_of_bounds_strides_are_refused(tmp_path):
    """Allowed globals only, but size 100 over a 4-element storage: refused, not read."""
    data_pkl = (b"\x80\x02" + global_op("torch._utils", "_rebuild_tensor_v2")
                + b"((" + text_op("storage") + global_op("torch", "FloatStorage")
                + text_op("0") + text_op("cpu") + b"K\x04tQ"  # storage, 4 elements
                + b"K\x00" + b"Kd\x85" + b"K\x01\x85" + b"tR.")  # offset 0, (100,), (1,)
    path = tmp_path / "oob.pth"
    write_zip(path, data_pkl, [("0", np.arange(4, dtype="<f4").tobytes())])
    with pytest.raises(TorchCheckpointError, match="reads past its storage '0' of 4"):
        load_torch_file(path)


def test_broken_files_are_refused(tmp_path):
    good_zip = (TORCH / "small_zip.pth").read_bytes()
    good_legacy = (TORCH / "small_legacy.pth").read_bytes()
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w") as tf:
        info = tarfile.TarInfo("sys_info")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    cases = {
        "truncated_zip.pth": (good_zip[: len(good_zip) // 2], "zip|not a"),
        "truncated_legacy.pth": (good_legacy[:-40], "truncated"),
        "random.pth": (np.random.default_rng(0).bytes(300), "not a PyTorch checkpoint"),
        "image.pth": (b"\x89PNG\r\n\x1a\n" + bytes(100), "not a PyTorch checkpoint"),
        "old_tar.pth": (tar_buf.getvalue(), "tar checkpoints"),
        "plain_pickle.pth": (pickle.dumps({"a": 1}, protocol=2), "bad magic number"),
    }
    for name, (raw, pattern) in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(TorchCheckpointError, match=pattern) as err:
            load_torch_file(path)
        assert str(path) in str(err.value), name
    nozip = tmp_path / "other.zip"
    with zipfile.ZipFile(nozip, "w") as zf:
        zf.writestr("x/readme.txt", "hi")
    with pytest.raises(TorchCheckpointError, match="without '<dir>/data.pkl'"):
        load_torch_file(nozip)
    with pytest.raises(TorchCheckpointError, match="cannot read"):
        load_torch_file(tmp_path / "missing.pth")
