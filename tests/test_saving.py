"""One saved form for every system (tfposegen.utils.saving): round trips and refusals."""

import json

import numpy as np
import pytest

from tfposegen.models.dpig import networks as N
from tfposegen.utils import saving


@pytest.fixture(scope="module")
def market_nets():
    return N.build_networks("market", ["pose_ae", "pose_mapping", "pose_critic"])


def test_dpig_networks_round_trip_with_equal_outputs(tmp_path, market_nets):
    N.save_networks(market_nets, tmp_path / "nets", "market")
    back, dataset = N.load_networks(tmp_path / "nets")
    assert dataset == "market" and sorted(back) == sorted(market_nets)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, market_nets["pose_mapping"].dim)).astype(np.float32)
    np.testing.assert_array_equal(back["pose_mapping"](z), market_nets["pose_mapping"](z))
    emb = market_nets["pose_mapping"](z)
    np.testing.assert_array_equal(back["pose_ae"].decode(emb), market_nets["pose_ae"].decode(emb))
    np.testing.assert_array_equal(back["pose_critic"](emb), market_nets["pose_critic"](emb))
    # a second save replaces the folder whole and leaves no temporary folder behind
    N.save_networks({"pose_critic": market_nets["pose_critic"]}, tmp_path / "nets", "market")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nets"]
    assert sorted(N.load_networks(tmp_path / "nets")[0]) == ["pose_critic"]


def test_a_class_outside_the_table_is_refused(tmp_path, market_nets):
    saving.save_networks({"c": market_nets["pose_critic"]}, tmp_path / "x")
    with pytest.raises(saving.NetworksFileError, match="class 'FCCritic'"):
        saving.load_networks(tmp_path / "x", {"Generator": object})


def test_broken_folders_name_the_file(tmp_path, market_nets):
    with pytest.raises(saving.NetworksFileError, match="networks.json"):
        saving.load_networks(tmp_path, N.presets.NETWORK_CLASSES)
    saving.save_networks({"c": market_nets["pose_critic"]}, tmp_path / "x")
    cfg = json.loads((tmp_path / "x" / "networks.json").read_text())
    cfg["networks"]["c"]["config"]["input_dim"] = 7       # weights no longer fit
    (tmp_path / "x" / "networks.json").write_text(json.dumps(cfg))
    with pytest.raises(saving.NetworksFileError, match="c.weights.h5"):
        saving.load_networks(tmp_path / "x", N.presets.NETWORK_CLASSES)
    with pytest.raises(saving.NetworksFileError, match="not a plain word"):
        saving.save_networks({"../c": market_nets["pose_critic"]}, tmp_path / "y")
