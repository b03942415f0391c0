"""dnnlib pickles: DGP layout round trip, converted folders, the CLI, and bad input."""

import pickle
import subprocess

import numpy as np
import pytest
from conftest import DATA

from tfposegen.convert.dnnlib_pickle import (
    DnnlibPickleError,
    NetworkStub,
    read_dnnlib_pickle,
    write_dnnlib_pickle,
)
from tfposegen.models.dgp.dnnlib import (
    ConversionError,
    load_dnnlib_pickle,
    load_networks,
    save_dnnlib_pickle,
    save_networks,
)
from tfposegen.models.dgp.encoder import Encoder, idinvert_layout
from tfposegen.models.stylegan2 import build_stylegan2

REF = DATA / "stylegan2_ref_skip_resnet_32.pkl"
CLI = DATA.parents[1] / "run_scripts" / "dgp" / "convert_weights.py"


def randomize(model, rng):
    for v in model.weights:
        if "variance" in v.path:
            v.assign(rng.uniform(0.5, 2.0, size=v.shape).astype(np.float32))
        else:
            v.assign(rng.normal(scale=0.3, size=v.shape).astype(np.float32))


@pytest.fixture(scope="module")
def dgp_tiny(tmp_path_factory):
    """A DGP-layout (E, D, Gs) pickle of tiny random networks, and the models it came from."""
    rng = np.random.default_rng(7)
    G, D = build_stylegan2("tiny_32")
    E = Encoder(**idinvert_layout(32, filters=8, filters_max=16, num_ws=G.num_ws, w_dim=64))
    for m in (G, D, E):
        randomize(m, rng)
    path = tmp_path_factory.mktemp("dgp") / "encoder-stylegan2-tiny.pkl"
    save_dnnlib_pickle(path, D, G, E=E)
    return path, (E, D, G)


def outputs(nets, rng):
    z = rng.normal(size=(2, nets.Gs.z_dim)).astype(np.float32)
    x = rng.uniform(-1, 1, size=(2, 32, 32, 3)).astype(np.float32)
    out = [nets.Gs(z, truncation_psi=0.7), nets.D(x)]
    if nets.E is not None:
        out.append(nets.E(x))
    return [np.asarray(o) for o in out]


def test_dgp_layout_round_trip(dgp_tiny):
    path, (E, D, G) = dgp_tiny
    raw = read_dnnlib_pickle(path)
    assert [n.name for n in raw] == ["E_gpu0", "D", "Gs"]
    assert raw[2].components["synthesis"].params()["noise0"].shape == (1, 1, 4, 4)
    assert raw[2].components["synthesis"].params()["4x4/Const/const"].shape == (1, 32, 4, 4)
    nets = load_dnnlib_pickle(path)
    assert nets.G is None and nets.E is not None
    assert nets.E(np.zeros((1, 32, 32, 3), np.float32)).shape == (1, G.num_ws, 64)

    class Orig:
        pass
    orig = Orig()
    orig.E, orig.D, orig.Gs = E, D, G
    for a, b in zip(outputs(nets, np.random.default_rng(0)),
                    outputs(orig, np.random.default_rng(0))):
        np.testing.assert_array_equal(a, b)
    syn = nets.Gs.synthesis
    np.testing.assert_array_equal(syn.noise_vars[3].numpy(), G.synthesis.noise_vars[3].numpy())


def test_converted_folder_reloads_without_pickle(dgp_tiny, tmp_path):
    path, _ = dgp_tiny
    nets = load_dnnlib_pickle(path)
    out = tmp_path / "converted"
    save_networks(nets, out)
    save_networks(nets, out)  # replacing an existing folder
    assert sorted(p.name for p in out.iterdir()) == [
        "D.weights.h5", "E.weights.h5", "Gs.weights.h5", "networks.json"]
    back = load_networks(out)
    rng = np.random.default_rng
    for a, b in zip(outputs(back, rng(1)), outputs(nets, rng(1))):
        np.testing.assert_array_equal(a, b)


def test_cli_converts_official_layout(tmp_path, warm_python):
    out = tmp_path / "conv"
    r = subprocess.run([warm_python.python, str(CLI), "dnnlib", "--input", str(REF), "--output",
                        str(out)], capture_output=True, text=True, env=warm_python.env())
    assert r.returncode == 0, r.stderr
    assert "Gs " in r.stdout and (out / "G.weights.h5").exists()
    ref = np.load(str(REF).replace(".pkl", ".npz"))
    img = load_networks(out).Gs.synthesis(ref["ws_in"])
    np.testing.assert_allclose(img, ref["img_const"], atol=1e-4)


def test_cli_reports_bad_file(tmp_path, warm_python):
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"not a pickle")
    r = subprocess.run([warm_python.python, str(CLI), "dnnlib", "--input", str(bad),
                        "--output", str(tmp_path / "o")], capture_output=True, text=True,
                       env=warm_python.env())
    assert r.returncode == 2
    assert "bad.pkl" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()


def test_truncated_and_foreign_pickles(tmp_path):
    data = REF.read_bytes()
    trunc = tmp_path / "trunc.pkl"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(DnnlibPickleError, match="trunc.pkl.*truncated"):
        load_dnnlib_pickle(trunc)
    other = tmp_path / "dict.pkl"
    other.write_bytes(pickle.dumps({"G": 1}))
    with pytest.raises(DnnlibPickleError, match="dict.pkl: expected a tuple"):
        load_dnnlib_pickle(other)
    with pytest.raises(DnnlibPickleError, match="missing.pkl: no such file"):
        load_dnnlib_pickle(tmp_path / "missing.pkl")


def edited(tmp_path, edit):
    nets = list(read_dnnlib_pickle(REF))
    edit(nets)
    path = tmp_path / "edited.pkl"
    write_dnnlib_pickle(path, nets)
    return path


@pytest.mark.parametrize("edit,message", [
    (lambda n: n[2].static_kwargs.update(architecture="fancy"), "architecture 'fancy'"),
    (lambda n: n[2].static_kwargs.update(architecture="resnet"),
     "architecture='resnet' but its variables are those of 'skip'"),
    (lambda n: n[1].static_kwargs.update(warp_factor=9), r"unknown setting\(s\) \['warp_factor'\]"),
    (lambda n: n[2].static_kwargs.update(label_size=10), "conditional"),
    (lambda n: n[2].static_kwargs.update(conv_clamp=256), "conv_clamp"),
    (lambda n: n[1].static_kwargs.update(nonlinearity="gelu"), "nonlinearity='gelu'"),
    (lambda n: n[2].static_kwargs.update(resolution=64), "resolution=64 but its variables"),
    (lambda n: setattr(n[2], "build_func_name", "G_style"), "built by 'G_style'"),
    (lambda n: n[1].static_kwargs.update(mbstd_group_size=0), "mbstd_group_size=0"),
    (lambda n: n[1].variables.append(("Extra/weight", np.zeros(3, np.float32))),
     r"could not place \['Extra/weight'\]"),
    (lambda n: n[1].variables.pop(0), r"no variable '32x32/FromRGB/weight'"),
])
def test_bad_settings_name_file_and_setting(tmp_path, edit, message):
    path = edited(tmp_path, edit)
    with pytest.raises(ConversionError, match="edited.pkl") as info:
        load_dnnlib_pickle(path)
    assert info.match(message)


def test_encoder_with_unknown_layout_lists_variables(tmp_path, dgp_tiny):
    path, _ = dgp_tiny
    nets = list(read_dnnlib_pickle(path))
    nets[0].variables.append(("E_block_0/Attention/weight", np.zeros((1, 1, 8, 8), np.float32)))
    bad = tmp_path / "enc.pkl"
    write_dnnlib_pickle(bad, nets)
    with pytest.raises(ConversionError, match=r"enc.pkl: encoder.*could not place "
                                              r"\['E_block_0/Attention/weight'\]"):
        load_dnnlib_pickle(bad)
    nets[0].variables = [(n, v) for n, v in nets[0].variables if n != "Latent_out/weight"]
    write_dnnlib_pickle(bad, nets)
    with pytest.raises(ConversionError, match="'Latent_out/weight'"):
        load_dnnlib_pickle(bad)


def test_stub_params_prefix_components():
    stub = NetworkStub("Gs", variables=[("a", np.zeros(1, np.float32))],
                       components={"synthesis": NetworkStub("S", variables=[
                           ("b", np.ones(2, np.float32))])})
    assert sorted(stub.params()) == ["a", "synthesis/b"]
