"""Perceptual feature models (VGG16 block4_conv3, ResNet101 attributes), legacy bilinear resize
and Keras-2 HDF5 weight files."""

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfposegen.convert import keras_h5
from tfposegen.convert.keras_h5 import KerasH5Error, layer_weights, load_keras_h5
from tfposegen.models.dgp import perceptual
from tfposegen.models.dgp.perceptual import AttributeFeatures, VGG16Features
from tfposegen.ops.resize import legacy_bilinear_weights, resize_bilinear_legacy

VGG_R = 40  # small VGG input; block4_conv3 is then 5 x 5 x 512


def _randomize(model, seed):
    """Give every variable seeded random values (BN statistics too), so loaders are tested."""
    rng = np.random.default_rng(seed)
    for _, variables in layer_weights(model):
        for v in variables:
            shape = tuple(v.shape)
            if v.name == "kernel":
                value = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[:-1]))
            elif v.name in ("gamma", "moving_variance"):
                value = rng.uniform(0.6, 1.4, shape)
            else:  # bias, beta, moving_mean
                value = rng.normal(0.0, 0.1, shape)
            v.assign(value.astype(np.float32))


def _snapshot(model):
    return [v.numpy().copy() for v in model.weights]


def _assert_unchanged(model, snapshot):
    assert all(np.array_equal(v.numpy(), s) for v, s in zip(model.weights, snapshot))


def _grad_jit(model, x):
    @tf.function(jit_compile=True)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_mean(tf.square(model(x)))
        return y, tape.gradient(y, x)
    return step(tf.constant(x))


# ------------------------------------------------------------------------------------------
# Legacy bilinear resize.

@pytest.mark.parametrize("src,dst", [((512, 512), (331, 331)), ((7, 13), (19, 5)),
                                     ((33, 17), (10, 40)), ((64, 48), (64, 97)),
                                     ((1, 5), (3, 1))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_resize_matches_tf1(src, dst, align_corners, rng):
    x = rng.uniform(0, 255, (2, *src, 3)).astype(np.float32)
    ref = tf.compat.v1.image.resize(x, dst, method="bilinear", align_corners=align_corners)
    out = resize_bilinear_legacy(tf.constant(x), dst, align_corners=align_corners)
    assert out.shape == (2, *dst, 3)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=0, atol=1e-4)
    if src != (1, 5) and not align_corners:  # TF2's half-pixel sampling is different
        assert np.abs(tf.image.resize(x, dst).numpy() - ref.numpy()).max() > 1.0


def test_resize_weights_512_to_331():
    lower, upper, lerp = legacy_bilinear_weights(512, 331)
    src = np.arange(331) * 512 / 331
    np.testing.assert_array_equal(lower, np.floor(src).astype(int))
    np.testing.assert_allclose(lerp, src - np.floor(src), atol=1e-4)
    assert upper[-1] == 511 and lower[0] == 0 and lerp[0] == 0
    with pytest.raises(ValueError, match="static"):
        resize_bilinear_legacy(tf.zeros([1, 4, 4]), (2, 2))


def test_resize_gradient_under_jit(rng):
    x = tf.constant(rng.uniform(0, 255, (2, 37, 29, 3)).astype(np.float32))

    @tf.function(jit_compile=True)
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(resize_bilinear_legacy(x, (23, 41)))
        return tape.gradient(y, x)

    g = grad(x).numpy()
    # Each output sample's weights sum to one, so the gradient of the sum adds up to the
    # number of outputs.
    assert np.isfinite(g).all()
    np.testing.assert_allclose(g.sum(), 2 * 23 * 41 * 3, rtol=1e-5)


# ------------------------------------------------------------------------------------------
# VGG16 block4_conv3.

@pytest.fixture(scope="module")
def vgg():
    model = VGG16Features(VGG_R)
    _randomize(model.backbone, seed=1)
    return model


@pytest.fixture(scope="module")
def vgg_file(vgg, tmp_path_factory):
    path = tmp_path_factory.mktemp("vgg") / "vgg.h5"
    keras_h5.write_keras2_h5(vgg.backbone, path)
    return path


def test_vgg_shapes_and_config(vgg, rng):
    assert vgg.num_features == (VGG_R // 8) ** 2 * 512
    y = vgg(rng.uniform(0, 255, (2, VGG_R, VGG_R, 3)).astype(np.float32))
    assert y.shape == (2, (VGG_R // 8) ** 2 * 512)
    assert VGG16Features(36).num_features == 4 * 4 * 512
    assert len(layer_weights(vgg.backbone)) == 13 and not vgg.trainable_weights
    assert VGG16Features.from_config(vgg.get_config()).resolution == VGG_R
    with pytest.raises(ValueError, match="expected images"):
        vgg(np.zeros([1, VGG_R, VGG_R + 8, 3], np.float32))
    with pytest.raises(ValueError, match=">= 32"):
        VGG16Features(16)


def test_vgg_matches_application(vgg, rng):
    x = rng.uniform(-20, 275, (2, VGG_R, VGG_R, 3)).astype(np.float32)  # unclipped, as x_rec
    app = keras.applications.VGG16(include_top=False, weights=None,
                                   input_shape=(VGG_R, VGG_R, 3))
    app.set_weights(vgg.backbone.get_weights())
    assert app.layers[13].name == "block4_conv3"  # DGP's index into the Keras 2 model
    feat = keras.Model(app.input, app.layers[13].output)
    caffe = x[..., ::-1] - np.asarray(perceptual.CAFFE_MEAN_BGR, np.float32)
    np.testing.assert_allclose(keras.applications.vgg16.preprocess_input(x.copy()), caffe,
                               atol=1e-5)
    ours = perceptual.preprocess_caffe(tf.constant(x)).numpy()
    np.testing.assert_allclose(ours, caffe, atol=1e-5)
    ref = feat(caffe, training=False).numpy().reshape(2, -1)  # NHWC flattening
    out = vgg(x).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


def test_vgg_h5_round_trip(vgg, vgg_file, rng):
    read = keras_h5.read_keras_h5(vgg_file)
    assert [n for n, _ in read][:2] == ["block1_conv1", "block1_conv2"] and len(read) == 13
    fresh = VGG16Features(VGG_R)
    pairs = load_keras_h5(fresh.backbone, vgg_file)
    assert pairs[12] == ("block5_conv3", "block5_conv3")
    x = rng.uniform(0, 255, (1, VGG_R, VGG_R, 3)).astype(np.float32)
    np.testing.assert_array_equal(fresh(x).numpy(), vgg(x).numpy())
    # The convenience builder loads the same file, at a different resolution too.
    bigger = perceptual.vgg16_features_from_h5(vgg_file, resolution=48)
    assert all(np.array_equal(a, b) for a, b in zip(bigger.backbone.get_weights(),
                                                     vgg.backbone.get_weights()))


def test_keras3_reads_our_vgg_file(vgg, vgg_file):
    app = keras.applications.VGG16(include_top=False, weights=None, input_shape=(64, 64, 3))
    app.load_weights(str(vgg_file))  # Keras 3's own legacy-h5 loader, topological order
    for a, b in zip(app.weights, vgg.backbone.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with h5py.File(vgg_file, "r") as f:
        assert {k: keras_h5._decode(f.attrs[k]) for k in ("keras_version", "backend")} == {
            "keras_version": "2.2.5", "backend": "tensorflow"}
        assert list(f["block1_conv1"].attrs["weight_names"]) == [b"block1_conv1/kernel:0",
                                                                 b"block1_conv1/bias:0"]


def test_full_model_file_and_old_weight_names(vgg, vgg_file, tmp_path):
    """``model.save()`` layout (weights under model_weights), Keras-1 style weight names."""
    path = tmp_path / "full_model.h5"
    with h5py.File(vgg_file, "r") as src, h5py.File(path, "w") as dst:
        dst.attrs["model_config"] = b"{}"
        root = dst.create_group("model_weights")
        for k, v in src.attrs.items():
            root.attrs[k] = v
        for name in src:
            group = root.create_group(name)
            new = keras_h5._read_attr_list(src[name], "weight_names")
            old = [f"{name}_{'W' if i == 0 else 'b'}_1:0" for i in range(len(new))]
            keras_h5._write_attr_list(group, "weight_names", old)
            for o, n in zip(old, new):
                group[o] = src[name][n][()]
    fresh = VGG16Features(VGG_R)
    load_keras_h5(fresh.backbone, path)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.backbone.get_weights(),
                                                     vgg.backbone.get_weights()))


def test_chunked_attributes(tmp_path):
    names = [f"layer_with_a_long_name_{i:05d}" for i in range(3000)]  # > 64 KiB
    with h5py.File(tmp_path / "a.h5", "w") as f:
        keras_h5._write_attr_list(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
        assert keras_h5._read_attr_list(f, "layer_names") == names
        assert keras_h5._read_attr_list(f, "weight_names") is None


def test_wrong_shape_raises_and_assigns_nothing(vgg_file, tmp_path):
    path = tmp_path / "wrong_shape.h5"
    path.write_bytes(vgg_file.read_bytes())
    with h5py.File(path, "r+") as f:
        del f["block3_conv2/block3_conv2/kernel:0"]
        f["block3_conv2/block3_conv2/kernel:0"] = np.zeros([3, 3, 128, 256], np.float32)
    fresh = VGG16Features(VGG_R)
    before = _snapshot(fresh)
    with pytest.raises(KerasH5Error) as e:
        load_keras_h5(fresh.backbone, path)
    msg = str(e.value)
    assert "wrong_shape.h5" in msg and "block3_conv2" in msg
    assert "(3, 3, 256, 256)" in msg and "(3, 3, 128, 256)" in msg
    _assert_unchanged(fresh, before)


def test_wrong_layer_count_raises_and_assigns_nothing(vgg_file, tmp_path):
    path = tmp_path / "wrong_count.h5"
    path.write_bytes(vgg_file.read_bytes())
    with h5py.File(path, "r+") as f:
        names = [n for n in f.attrs["layer_names"] if n != b"block5_conv3"]
        f.attrs["layer_names"] = np.asarray(names)
    fresh = VGG16Features(VGG_R)
    before = _snapshot(fresh)
    with pytest.raises(KerasH5Error, match=r"wrong_count\.h5.*12 layers.*13 layers"):
        load_keras_h5(fresh.backbone, path)
    _assert_unchanged(fresh, before)


def test_bad_files_raise(tmp_path):
    model = VGG16Features(32)
    before = _snapshot(model)
    text = tmp_path / "notes.h5"
    text.write_text("not a weights file")
    with pytest.raises(KerasH5Error, match=r"notes\.h5: not an HDF5 file"):
        load_keras_h5(model.backbone, text)
    with pytest.raises(KerasH5Error, match=r"missing\.h5: no such file"):
        load_keras_h5(model.backbone, tmp_path / "missing.h5")
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as f:
        f.create_group("something")
    with pytest.raises(KerasH5Error, match=r"empty\.h5: not a Keras 2 weights file"):
        keras_h5.read_keras_h5(empty)
    _assert_unchanged(model, before)


def test_vgg_gradient_under_jit(vgg, rng):
    x = rng.uniform(0, 255, (1, VGG_R, VGG_R, 3)).astype(np.float32)
    y, g = _grad_jit(vgg, x)
    np.testing.assert_allclose(y.numpy(), np.mean(vgg(x).numpy() ** 2), rtol=1e-4)
    assert g.shape == x.shape and np.isfinite(g.numpy()).all() and np.abs(g.numpy()).max() > 0


# ------------------------------------------------------------------------------------------
# ResNet101 attribute model (331 px, as in DGP).

@pytest.fixture(scope="module")
def attr():
    model = AttributeFeatures()
    _randomize(model.backbone, seed=2)
    return model


def test_attribute_model(attr, tmp_path):
    x = np.random.default_rng(3).uniform(0, 255, (1, 331, 331, 3)).astype(np.float32)
    out = attr(x).numpy()
    assert out.shape == (1, 2048) and attr.num_features == 2048
    assert len(layer_weights(attr.backbone)) == 208 and not attr.trainable_weights

    # Our writer, read by Keras 3's own loader into a plain ResNet101 application; that model
    # applied to x / 127.5 - 1 ("tf" mode, as DGP's Lambda(nasnet.preprocess_input)).
    path = keras_h5.write_keras2_h5(attr.backbone, tmp_path / "attributes_model_resnet101.h5")
    app = keras.applications.ResNet101(include_top=False, weights=None, pooling="avg",
                                       input_shape=(331, 331, 3))
    app.load_weights(str(path))
    for a, b in zip(app.weights, attr.backbone.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    ref = app(x / 127.5 - 1.0, training=False).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())

    # Our reader into a freshly built model gives identical outputs.
    fresh = AttributeFeatures()
    load_keras_h5(fresh.backbone, path)
    np.testing.assert_array_equal(fresh(x).numpy(), out)


def test_attribute_gradient_under_jit(attr):
    x = np.random.default_rng(4).uniform(0, 255, (1, 331, 331, 3)).astype(np.float32)
    y, g = _grad_jit(attr, x)
    assert np.isfinite(y.numpy()) and g.shape == x.shape
    assert np.isfinite(g.numpy()).all() and np.abs(g.numpy()).max() > 0
