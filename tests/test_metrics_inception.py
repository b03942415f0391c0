"""Inception Score with a 2015-style frozen graph (tfposegen.metrics.inception): a tiny graph
with the original's tensor names, against the score written out in numpy."""

import numpy as np
import tensorflow as tf

from tfposegen.metrics.inception import inception_score


def _tiny_graph(path, weights):
    """A frozen graph fed at ``ExpandDims:0`` (float [1, H, W, 3], 0..255) whose ``pool_3:0``
    is the per-channel mean [1, 1, 1, 3] and whose ``softmax/logits/MatMul`` multiplies the
    flattened pool by ``weights`` [3, K], as the 2015 graph's names are laid out."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3], name="ExpandDims")
        pool = tf.reduce_mean(x, axis=[1, 2], keepdims=True, name="pool_3")
        w = tf.constant(weights, name="softmax/logits/W")
        tf.matmul(tf.reshape(pool, [1, 3]), w, name="softmax/logits/MatMul")
    with open(path, "wb") as f:
        f.write(graph.as_graph_def().SerializeToString())


def test_score_equals_the_formula(tmp_path, rng):
    weights = rng.normal(scale=0.02, size=(3, 5)).astype(np.float32)
    _tiny_graph(tmp_path / "g.pb", weights)
    images = [rng.integers(0, 256, size=(8 + i % 3, 6, 3), dtype=np.uint8) for i in range(13)]
    mean, std = inception_score(images, str(tmp_path / "g.pb"), splits=4)

    pools = np.stack([im.reshape(-1, 3).astype(np.float64).mean(0) for im in images])
    logits = pools @ weights.astype(np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    scores = []
    for i in range(4):                      # improved-gan's split boundaries: 3, 3, 3, 4 rows
        part = p[i * 13 // 4:(i + 1) * 13 // 4]
        kl = (part * (np.log(part) - np.log(part.mean(0, keepdims=True)))).sum(1)
        scores.append(np.exp(kl.mean()))
    np.testing.assert_allclose([mean, std], [np.mean(scores), np.std(scores)], rtol=1e-4)
    assert mean > 1.0
