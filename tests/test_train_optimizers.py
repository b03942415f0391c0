"""tfposegen.train.optimizers.Adam: the fused update against the Adam formula and Keras'
Adam, in eager, traced and XLA steps; checkpoints shared with Keras' Adam; a small graph."""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfposegen.train.optimizers import Adam

SHAPES = [(3, 3, 4, 8), (8,), (5,)]
HYPER = dict(learning_rate=1e-2, beta_1=0.5, beta_2=0.99, epsilon=1e-8)


def _data(steps=4):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES]
             for _ in range(steps)]
    return init, grads


def _numpy_adam(init, grads, learning_rate, beta_1, beta_2, epsilon):
    """The rule of tf.train.AdamOptimizer / Keras' Adam in float64."""
    x = [v.astype(np.float64) for v in init]
    m = [np.zeros_like(v) for v in x]
    s = [np.zeros_like(v) for v in x]
    for t, g in enumerate(grads, 1):
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        for i, gi in enumerate(g):
            m[i] += (1 - beta_1) * (gi - m[i])
            s[i] += (1 - beta_2) * (gi.astype(np.float64) ** 2 - s[i])
            x[i] -= alpha * m[i] / (np.sqrt(s[i]) + epsilon)
    return x


def _train(optimizer, init, grads, mode):
    variables = [keras.Variable(v) for v in init]
    optimizer.build(variables)

    def step(g):
        optimizer.apply(g, variables)
    if mode != "eager":
        step = tf.function(step, jit_compile=mode == "xla")
    for g in grads:
        step([tf.constant(x) for x in g])
    return optimizer, [v.numpy() for v in variables]


@pytest.mark.parametrize("mode", ["eager", "function", "xla"])
def test_update_is_the_adam_rule_and_keras(mode):
    init, grads = _data()
    _, ours = _train(Adam(**HYPER), init, grads, mode)
    _, theirs = _train(keras.optimizers.Adam(**HYPER), init, grads, "eager")
    for a, b, c, x in zip(ours, theirs, _numpy_adam(init, grads, **HYPER), init):
        np.testing.assert_allclose(a, c, rtol=0, atol=2e-6)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        assert np.all(a != x)  # every element moved


def test_beta_1_zero_and_amsgrad_fallback():
    """StyleGAN2's beta_1 = 0 (no momentum); ``amsgrad`` runs Keras' own update."""
    init, grads = _data(3)
    hyper = dict(HYPER, beta_1=0.0)
    _, ours = _train(Adam(**hyper), init, grads, "function")
    for a, c in zip(ours, _numpy_adam(init, grads, **hyper)):
        np.testing.assert_allclose(a, c, atol=2e-6)
    _, ours = _train(Adam(amsgrad=True, **HYPER), init, grads, "function")
    _, theirs = _train(keras.optimizers.Adam(amsgrad=True, **HYPER), init, grads, "function")
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_checkpoints_are_keras_adams(tmp_path):
    """A checkpoint of either optimiser restores into the other (same slots), and training
    continues from the restored moments as if never interrupted."""
    init, grads = _data(4)
    for first, second in ((keras.optimizers.Adam, Adam), (Adam, keras.optimizers.Adam)):
        opt, half = _train(first(**HYPER), init, grads[:2], "eager")
        variables = [keras.Variable(v) for v in half]
        path = tf.train.Checkpoint(opt=opt, v=variables).save(str(tmp_path / first.__name__))
        restored = [keras.Variable(np.zeros(s, np.float32)) for s in SHAPES]
        fresh = second(**HYPER)
        fresh.build(restored)
        tf.train.Checkpoint(opt=fresh, v=restored).restore(path).assert_consumed()
        assert int(fresh.iterations) == 2
        for g in grads[2:]:
            fresh.apply([tf.constant(x) for x in g], restored)
        for a, c in zip(restored, _numpy_adam(init, grads, **HYPER)):
            np.testing.assert_allclose(a.numpy(), c, atol=2e-6)
    config = keras.saving.serialize_keras_object(Adam(**HYPER, name="opt"))
    again = keras.saving.deserialize_keras_object(config)
    assert type(again) is Adam and again.get_config() == Adam(**HYPER, name="opt").get_config()


def test_traced_update_is_one_kernel_a_variable():
    """The traced step of 40 variables: one ResourceApplyAdam each and no separate
    per-variable arithmetic (Keras' Adam builds ~40 ops a variable)."""
    variables = [keras.Variable(np.ones((3, 3), np.float32)) for _ in range(40)]
    counts = {}
    for cls in (Adam, keras.optimizers.Adam):
        opt = cls(**HYPER)
        opt.build(variables)
        graph = tf.function(lambda: opt.apply(  # noqa: B023
            [tf.ones_like(v) for v in variables], variables)).get_concrete_function().graph
        counts[cls] = collections.Counter(op.type for op in graph.get_operations())
    ours, theirs = counts[Adam], counts[keras.optimizers.Adam]
    assert ours["ResourceApplyAdam"] == 40 and ours["Pow"] == 2 and ours["Mul"] == 0
    assert sum(ours.values()) < 10 * 40 < sum(theirs.values()) / 3
