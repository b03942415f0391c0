"""DPIG networks (tfposegen.models.dpig.networks) and the TF1 checkpoint loader
(convert.tf1_checkpoint).

Full-size networks are only built, with deferred variables (no weights allocated), to check
parameter counts and TF1 names against the original TF1 graph (counted and listed from its
models.py); everything that
runs uses tiny configurations of the same code.
"""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfposegen.convert.tf1_checkpoint import TF1CheckpointError, load_tf1_checkpoint
from tfposegen.models.dpig import networks as dpig

# The original's trainable (and non-trainable) parameters of the full-size networks.
DF_COUNTS = {
    "encoder": 58_140_832, "encoder_roi48": 58_140_832, "generator": 82_088_387,
    "critic": 4_324_737, "pose_ae": 4_291_670, "app_mapping": 2_331_360,
    "pose_mapping": 2_134_560, "app_critic": 903_681, "pose_critic": 805_377,
}
MARKET_COUNTS = {
    "encoder": 47_352_736, "generator": 71_197_123, "critic": 4_324_737,
    "pose_ae": 4_291_670, "fg_mapping": 2_331_360, "bg_mapping": 592_256,
    "pose_mapping": 2_134_560, "fg_critic": 903_681, "bg_critic": 854_529,
    "pose_critic": 805_377,
}


@contextlib.contextmanager
def deferred_full_size(dataset, keys=None):
    """Full-size networks whose variables have shapes but no values (nothing allocated)."""
    with keras.StatelessScope(initialize_variables=False):
        nets = dpig.build_networks(dataset, keys)
    try:
        yield nets
    finally:
        keras.backend.clear_session()


def _count(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


@pytest.mark.parametrize("dataset,expected", [("df", DF_COUNTS), ("market", MARKET_COUNTS)])
def test_parameter_counts_full_size(dataset, expected):
    with deferred_full_size(dataset) as nets:
        assert sorted(nets) == sorted(expected)
        got = {k: _count(m.trainable_weights) for k, m in nets.items()}
        assert got == expected
        assert {k: _count(m.non_trainable_weights) for k, m in nets.items()} == {
            k: 1792 if k == "critic" else 0 for k in expected}
        if dataset == "df":
            assert got["encoder"] + got["generator"] == 140_229_219
            assert got["pose_ae"] == 2_145_824 + 2_145_846
            assert (_count(nets["pose_ae"].encoder.weights),
                    _count(nets["pose_ae"].decoder.weights)) == (2_145_824, 2_145_846)
            distinct = sum(v for k, v in got.items() if k != "encoder_roi48")
            assert distinct == 155_020_604
        for m in nets.values():  # every weight has exactly one TF1 name
            names = m.tf1_variables()
            assert len(names) == len(m.weights) == len({id(v) for _, v in names})
            assert len({n for n, _ in names}) == len(names)


def _slim(scope, layers):
    return [f"{scope}/{layer}/{leaf}" for layer in layers for leaf in ("weights", "biases")]


def _convs(first, last):
    return ["Conv" if i == 0 else f"Conv_{i}" for i in range(first, last + 1)]


def _fcs(first, last):
    return ["fully_connected" if i == 0 else f"fully_connected_{i}"
            for i in range(first, last + 1)]


def test_tf1_names_and_shapes_full_size():
    """Names in TF1 creation order and shapes of the original's TF1 checkpoints."""
    with deferred_full_size("df") as nets:
        shapes = {k: {n: tuple(v.shape) for n, v in m.tf1_variables()} for k, m in nets.items()}
        names = {k: [n for n, _ in m.tf1_variables()] for k, m in nets.items()}
    enc = "Encoder/G_encoder"
    assert names["encoder"] == _slim(enc, _convs(0, 22) + ["fully_connected"])
    assert names["encoder_roi48"] == names["encoder"]
    assert shapes["encoder"][f"{enc}/Conv_5/weights"] == (3, 3, 128, 256)
    assert shapes["encoder"][f"{enc}/Conv_20/weights"] == (3, 3, 768, 896)
    assert shapes["encoder"][f"{enc}/fully_connected/weights"] == (896, 32)
    g = "ID_AE/G"
    assert names["generator"] == _slim(g, _convs(0, 14) + _fcs(0, 1) + _convs(15, 29))
    assert {n: shapes["generator"][f"{g}/{n}/weights"] for n in (
        "Conv", "Conv_3", "Conv_13", "fully_connected", "fully_connected_1", "Conv_15",
        "Conv_17", "Conv_18", "Conv_20", "Conv_26", "Conv_28", "Conv_29")} == {
        "Conv": (3, 3, 242, 128), "Conv_3": (3, 3, 128, 256), "Conv_13": (3, 3, 640, 640),
        "fully_connected": (163840, 64), "fully_connected_1": (64, 32768),
        "Conv_15": (3, 3, 768, 768), "Conv_17": (1, 1, 768, 512),
        "Conv_18": (3, 3, 1024, 1024), "Conv_20": (1, 1, 1024, 384),
        "Conv_26": (1, 1, 512, 128), "Conv_28": (3, 3, 256, 256), "Conv_29": (3, 3, 256, 3)}
    assert names["pose_ae"] == (_slim("PoseAE/G_Pose_Encoder", _fcs(0, 9))
                                + _slim("PoseAE/G_Pose_Decoder", _fcs(0, 10)))
    assert shapes["pose_ae"]["PoseAE/G_Pose_Decoder/fully_connected_9/weights"] == (512, 36)
    assert shapes["pose_ae"]["PoseAE/G_Pose_Decoder/fully_connected_10/weights"] == (512, 18)
    assert names["app_mapping"] == _slim("Gaussian_FC/G_FC", _fcs(0, 9))
    assert names["pose_mapping"] == _slim("PoseGaussian/G_FC", _fcs(0, 9))
    assert shapes["critic"] == {
        **{f"Discriminator.{i}/Discriminator.{i}.Filters": (5, 5, cin, cout)
           for i, cin, cout in ((1, 3, 64), (2, 64, 128), (3, 128, 256), (4, 256, 512))},
        **{f"Discriminator.{i}/Discriminator.{i}.Biases": (c,)
           for i, c in ((1, 64), (2, 128), (3, 256), (4, 512))},
        **{f"Discriminator.BN{i}.{v}": (c,) for i, c in ((2, 128), (3, 256), (4, 512))
           for v in ("offset", "scale", "moving_mean", "moving_variance")},
        "Discriminator.Output/Discriminator.Output.W": (16384, 1),
        "Discriminator.Output/Discriminator.Output.b": (1,)}
    p = "FCDis_Discriminator"
    assert shapes["app_critic"] == {
        f"{p}.Input.Linear/{p}.Input.Linear.W": (224, 512),
        f"{p}.Input.Linear/{p}.Input.Linear.b": (512,),
        **{f"{p}.{i}.Linear/{p}.{i}.Linear.{w}": s for i in range(3)
           for w, s in (("W", (512, 512)), ("b", (512,)))},
        f"{p}.Out/{p}.Out.W": (512, 1), f"{p}.Out/{p}.Out.b": (1,)}
    assert all(n.startswith("Pose_emb_Discriminator.") for n in shapes["pose_critic"])

    with deferred_full_size("market", ["encoder", "generator", "bg_mapping"]) as nets:
        shapes = {k: {n: tuple(v.shape) for n, v in m.tf1_variables()} for k, m in nets.items()}
        names = {k: [n for n, _ in m.tf1_variables()] for k, m in nets.items()}
    assert names["encoder"] == _slim(enc, _convs(0, 16) + ["fully_connected"] + _convs(17, 30)
                                     + ["fully_connected_1"])
    assert shapes["encoder"][f"{enc}/fully_connected/weights"] == (5760, 32)
    assert shapes["encoder"][f"{enc}/fully_connected_1/weights"] == (20480, 128)
    assert shapes["encoder"][f"{enc}/Conv_17/weights"] == (3, 3, 128, 128)
    assert shapes["generator"][f"{g}/Conv/weights"] == (3, 3, 370, 128)
    assert shapes["generator"][f"{g}/fully_connected/weights"] == (20480, 64)
    assert shapes["generator"][f"{g}/fully_connected_1/weights"] == (64, 4096)
    assert names["bg_mapping"][0] == "Gaussian_FC_Bg/G_FC/fully_connected/weights"
    assert shapes["bg_mapping"]["Gaussian_FC_Bg/G_FC/fully_connected_9/weights"] == (256, 128)


# ---------------------------------------------------------------- tiny configurations

def _tiny(dataset):
    """Tiny networks of the full code paths: DF 256x256 or Market 128x64."""
    if dataset == "df":
        return {
            "encoder": dpig.BodyROIEncoder(hidden=4, part_dim=4, name="encoder"),
            "generator": dpig.UAEGenerator(embed_dim=28, hidden=4, z_num=8, name="generator"),
            "critic": dpig.DCGANCritic(dim=4, name="critic"),
            "pose_ae": dpig.PoseAutoEncoder(z_dim=8, hidden=16, name="pose_ae"),
            "app_mapping": dpig.GaussianFCMapping(dim=28, hidden=16, name="app_mapping"),
            "app_critic": dpig.FCCritic(input_dim=28, fc_dim=16, name="app_critic"),
        }
    return {
        "encoder": dpig.FgBgEncoder(hidden=4, part_dim=4, bg_dim=8, name="encoder"),
        "generator": dpig.UAEGenerator((128, 64), embed_dim=36, hidden=4, z_num=8,
                                       name="generator"),
        "critic": dpig.DCGANCritic(dim=4, name="critic"),
        "bg_mapping": dpig.GaussianFCMapping(dim=8, hidden=16, tf_scope="Gaussian_FC_Bg/G_FC",
                                             name="bg_mapping"),
        "bg_critic": dpig.FCCritic(input_dim=8, fc_dim=16, prefix="Bg_FCDis_",
                                   name="bg_critic"),
    }


def _boxes(rng, batch, height, width, parts=7):
    y = np.sort(rng.integers(0, height, (batch, parts, 2)), axis=-1)
    x = np.sort(rng.integers(0, width, (batch, parts, 2)), axis=-1)
    return np.stack([y[..., 0], x[..., 0], y[..., 1] + 1, x[..., 1] + 1], -1).astype(np.int64)


def _inputs(dataset, batch=2, seed=0):
    rng = np.random.default_rng(seed)
    h, w = (256, 256) if dataset == "df" else (128, 64)
    vis = rng.integers(0, 2, (batch, 7)).astype(np.float32)
    vis[:, 0] = 1.0
    return {
        "images": rng.uniform(-1, 1, (batch, h, w, 3)).astype(np.float32),
        "boxes": _boxes(rng, batch, h, w),
        "vis": vis,
        "mask": (rng.uniform(size=(batch, h, w, 1)) > 0.5).astype(np.float32),
        "pose_map": np.where(rng.uniform(size=(batch, h, w, 18)) > 0.9, 1.0, -1.0)
        .astype(np.float32),
        "rcv": rng.uniform(-1, 1, (batch, 18, 3)).astype(np.float32),
    }


def _run(key, model, x):
    """Output of a network of ``_tiny`` on the inputs of ``_inputs``."""
    if key == "encoder":
        if isinstance(model, dpig.FgBgEncoder):
            return model(x["images"], x["mask"], x["boxes"], x["vis"])
        return model(x["images"], x["boxes"], x["vis"])
    if key == "generator":
        emb = np.linspace(-1, 1, 2 * model.embed_dim, dtype=np.float32).reshape(2, -1)
        return model(emb, x["pose_map"])
    if key == "critic":
        return model(x["images"])
    if key == "pose_ae":
        return model(x["rcv"])
    dim = model.dim if isinstance(model, dpig.GaussianFCMapping) else model.input_dim
    return model(np.random.default_rng(1).normal(0, 0.2, (2, dim)).astype(np.float32))


def test_df_forward_shapes_and_visibility():
    nets, x = _tiny("df"), _inputs("df")
    emb = nets["encoder"](x["images"], x["boxes"], x["vis"])
    assert emb.shape == (2, 28)
    parts = emb.numpy().reshape(2, 7, 4)
    assert np.all(parts[x["vis"] == 0] == 0) and np.any(parts[x["vis"] == 1] != 0)
    with pytest.raises(ValueError, match="visibility"):
        nets["encoder"](x["images"], x["boxes"])
    variant = dpig.BodyROIEncoder(hidden=4, part_dim=4, roi_size=48, use_visibility=False)
    variant.set_weights(nets["encoder"].get_weights())  # MODEL101 weights fit the variant
    assert variant(x["images"], x["boxes"]).shape == (2, 28)
    out = nets["generator"](emb, x["pose_map"])
    assert out.shape == (2, 256, 256, 3) and out.dtype == "float32"
    same = nets["generator"](dpig.broadcast_embedding(emb, 256, 256), x["pose_map"])
    np.testing.assert_array_equal(out.numpy(), same.numpy())
    assert nets["critic"](x["images"]).shape == (16,)  # 8 logits per 256x256 image
    assert nets["pose_ae"](x["rcv"]).shape == (2, 18, 3)
    assert nets["app_mapping"].sample(3, seed=2).shape == (3, 28)
    assert nets["app_critic"](emb).shape == (2,)


def test_market_forward_shapes():
    nets, x = _tiny("market"), _inputs("market")
    emb = nets["encoder"](x["images"], x["mask"], x["boxes"], x["vis"])
    assert emb.shape == (2, 7 * 4 + 8)
    parts = emb.numpy()[:, :28].reshape(2, 7, 4)
    assert np.all(parts[x["vis"] == 0] == 0)
    assert nets["generator"](emb, x["pose_map"]).shape == (2, 128, 64, 3)
    assert nets["critic"](x["images"]).shape == (2,)  # one logit per 128x64 image
    assert nets["bg_critic"](nets["bg_mapping"].sample(4)).shape == (4,)


def test_roi_crop_is_part_major_with_boxes_over_size():
    rng = np.random.default_rng(3)
    feats = rng.normal(size=(2, 32, 16, 3)).astype(np.float32)
    boxes = _boxes(rng, 2, 32, 16, parts=3)
    got = dpig.BodyROICrop(8)(feats, boxes).numpy()
    for p in range(3):
        norm = boxes[:, p].astype(np.float32) / np.array([32, 16, 32, 16], np.float32)
        ref = tf.image.crop_and_resize(feats, norm, [0, 1], [8, 8]).numpy()
        np.testing.assert_array_equal(got[2 * p:2 * p + 2], ref)


def test_critic_flattens_nchw_and_uses_batch_statistics():
    critic = dpig.DCGANCritic(dim=4)
    rng = np.random.default_rng(4)
    for v in critic.weights:  # non-trivial BN offsets and scales
        v.assign(rng.normal(0.0, 0.1, v.shape).astype(np.float32) + (v.path.endswith("scale")))
    images = rng.uniform(-1, 1, (2, 256, 256, 3)).astype(np.float32)
    logits = critic(images).numpy()
    x = images
    for conv, norm in zip(critic.convs, critic.norms):
        x = conv(x).numpy()
        if norm is not None:
            mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
            x = (x - mean) / np.sqrt(var + 1e-5) * norm.scale.numpy() + norm.offset.numpy()
        x = np.maximum(x, 0.2 * x)
    assert x.shape == (2, 16, 16, 32)
    rows = x.transpose(0, 3, 1, 2).reshape(16, 1024)  # C,H,W order: row j = channels 4j..4j+3
    ref = rows @ critic.output_linear.kernel.numpy()[:, 0] + critic.output_linear.bias.numpy()
    np.testing.assert_allclose(logits, ref, rtol=1e-4, atol=1e-4)
    # Batch statistics: image 0's logits depend on image 1, also with training=False.
    other = critic(np.stack([images[0], -images[1]]), training=False).numpy()
    assert not np.allclose(other[:8], logits[:8])


def test_straight_through_round():
    x = tf.constant([0.2, 0.5, 0.7, 1.5, 2.5])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = dpig.straight_through_round(x)
    np.testing.assert_array_equal(y.numpy(), [0, 0, 1, 2, 2])  # half to even, as tf.round
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.ones(5))


def test_pose_decoder_visibility_straight_through():
    ae = dpig.PoseAutoEncoder(z_dim=8, hidden=16)
    rcv = _inputs("df")["rcv"]
    weights = np.random.default_rng(5).normal(size=(2, 18)).astype(np.float32)
    grads, outs = [], []
    for hard in (True, False):
        with tf.GradientTape() as tape:
            out = ae(rcv, hard_visibility=hard)
            loss = tf.reduce_sum(out[..., 2] * weights)
        outs.append(out.numpy())
        grads.append(tape.gradient(loss, ae.decoder.fc_visible.kernel).numpy())
    hard, soft = outs
    assert set(np.unique(hard[..., 2])) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard[..., 2], np.round(soft[..., 2]))
    np.testing.assert_array_equal(hard[..., :2], soft[..., :2])
    assert np.abs(grads[0]).sum() > 0
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)  # identity through the round


@pytest.mark.parametrize("dataset", ["df", "market"])
def test_get_config_round_trip(dataset):
    x = _inputs(dataset)
    for key, model in _tiny(dataset).items():
        clone = type(model).from_config(model.get_config())
        clone.set_weights(model.get_weights())
        assert [n for n, _ in clone.tf1_variables()] == [n for n, _ in model.tf1_variables()]
        np.testing.assert_array_equal(_run(key, clone, x).numpy(), _run(key, model, x).numpy())
    block = dpig.ResidualConv(4, ("Conv_1", "Conv_2"))
    assert dpig.ResidualConv.from_config(block.get_config()).conv_names == ["Conv_1", "Conv_2"]


# ---------------------------------------------------------------- TF1 checkpoints

def write_tf1_checkpoint(directory, entries):
    """Write ``model.ckpt-0`` with a TF1 graph and Saver, creating each variable as the TF1
    code did: slim names with nested variable scopes + get_variable, tflib names (leaf with a
    '.') with ``tf.Variable`` inside name scopes. Returns the checkpoint prefix."""
    groups = {}  # one scope entry per layer, as tflib's ``with tf.name_scope(name)``
    for name, value in entries.items():
        scope, _, leaf = name.rpartition("/")
        groups.setdefault((scope, "." in leaf), []).append((name, leaf, value))
    graph = tf.Graph()
    with graph.as_default():
        variables = []
        for (scope, tflib), items in groups.items():
            with contextlib.ExitStack() as stack:
                if tflib and scope:  # "<scope>/": that exact name scope, entered once
                    stack.enter_context(tf.compat.v1.name_scope(f"{scope}/"))
                for part in [] if tflib else filter(None, scope.split("/")):
                    stack.enter_context(tf.compat.v1.variable_scope(part))
                for name, leaf, value in items:
                    if tflib:
                        var = tf.compat.v1.Variable(value, name=leaf)
                    else:
                        var = tf.compat.v1.get_variable(leaf, initializer=tf.constant(value))
                    assert var.op.name == name
                    variables.append(var)
        saver = tf.compat.v1.train.Saver(variables)
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.variables_initializer(variables))
            return saver.save(sess, f"{directory}/model.ckpt", global_step=0,
                              write_meta_graph=False)


def _random_tf1_values(nets, seed):
    rng = np.random.default_rng(seed)
    return {name: rng.normal(0, 0.2, var.shape).astype(np.float32)
            for m in nets.values() for name, var in m.tf1_variables()}


def _extras():
    """Variables of a training checkpoint that are not model weights."""
    return {"step": np.int32(7), "g_lr": np.float32(1e-4), "beta1_power": np.float32(0.5),
            "Encoder/G_encoder/Conv/weights/Adam": np.zeros((3, 3, 3, 4), np.float32),
            "Discriminator.1/Discriminator.1.Filters/Adam": np.zeros((5, 5, 3, 4), np.float32)}


@pytest.mark.parametrize("dataset", ["df", "market"])
def test_tf1_checkpoint_round_trip(tmp_path, dataset):
    x = _inputs(dataset)
    direct, loaded = _tiny(dataset), _tiny(dataset)
    values = _random_tf1_values(direct, seed=6)
    for m in direct.values():
        for name, var in m.tf1_variables():
            var.assign(values[name])
    prefix = write_tf1_checkpoint(tmp_path, {**values, **_extras()})
    assert prefix.endswith("model.ckpt-0")
    mapping = load_tf1_checkpoint(prefix, loaded)
    assert mapping == {n: n for n in values}
    for key in direct:
        np.testing.assert_array_equal(_run(key, loaded[key], x).numpy(),
                                      _run(key, direct[key], x).numpy())
    # Loading one network of a bigger checkpoint; the folder as path.
    alone = _tiny(dataset)["generator"]
    load_tf1_checkpoint(tmp_path, alone)
    np.testing.assert_array_equal(_run("generator", alone, x).numpy(),
                                  _run("generator", direct["generator"], x).numpy())


def test_tf1_checkpoint_tflib_names_under_another_scope(tmp_path):
    critic = dpig.DCGANCritic(dim=4)
    values = {n: np.full(v.shape, 0.01, np.float32) for n, v in critic.tf1_variables()}
    moved = {(f"tower_0/{n}" if "/" in n else n): v for n, v in values.items()}
    prefix = write_tf1_checkpoint(tmp_path, moved)
    mapping = load_tf1_checkpoint(f"{prefix}.index", critic)
    assert mapping["Discriminator.1/Discriminator.1.Filters"] == (
        "tower_0/Discriminator.1/Discriminator.1.Filters")
    np.testing.assert_array_equal(critic.convs[0].kernel.numpy(), np.float32(0.01))


def test_tf1_checkpoint_errors(tmp_path):
    nets = _tiny("df")
    encoder, critic = nets["encoder"], nets["critic"]
    values = _random_tf1_values({"e": encoder, "c": critic}, seed=7)
    broken = dict(values)
    del broken["Encoder/G_encoder/Conv_7/biases"]
    broken["Encoder/G_encoder/Conv_99/weights"] = np.zeros((3, 3, 4, 4), np.float32)
    broken["Discriminator.Output/Discriminator.Output.W"] = np.zeros((5, 1), np.float32)
    prefix = write_tf1_checkpoint(tmp_path, {**broken, **_extras()})
    before = [v.numpy() for v in encoder.weights + critic.weights]
    with pytest.raises(TF1CheckpointError) as info:
        load_tf1_checkpoint(prefix, [encoder, critic])
    message = str(info.value)
    assert message.startswith(prefix)
    assert "missing ['Encoder/G_encoder/Conv_7/biases [8]']" in message
    assert "unexpected ['Encoder/G_encoder/Conv_99/weights [3, 3, 4, 4]']" in message
    assert "Discriminator.Output/Discriminator.Output.W [5, 1] (model: [1024, 1])" in message
    for old, v in zip(before, encoder.weights + critic.weights):  # nothing assigned
        np.testing.assert_array_equal(old, v.numpy())
    # Not strict: extra variables are tolerated, missing ones are not.
    with pytest.raises(TF1CheckpointError, match="missing") as info:
        load_tf1_checkpoint(prefix, encoder, strict=False)
    assert "unexpected" not in str(info.value)
    (tmp_path / "garbage.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(TF1CheckpointError, match="garbage.ckpt: cannot read"):
        load_tf1_checkpoint(tmp_path / "garbage.ckpt", encoder)
    with pytest.raises(TF1CheckpointError, match="no TF1 checkpoint"):
        load_tf1_checkpoint(tmp_path / "model.ckpt-5", encoder)
    with pytest.raises(TF1CheckpointError, match="'checkpoint' state file"):
        (tmp_path / "empty").mkdir()
        load_tf1_checkpoint(tmp_path / "empty", encoder)
