"""Inception Score with the 2015 Inception graph (``classify_image_graph_def.pb``), as
``inception_score.py`` in openai/improved-gan computes it and the DPIG / PATN / ADGAN scorers
call it. A Keras InceptionV3 gives other numbers.
"""

import numpy as np

from tfposegen.metrics.fid import inception_score as score_from_probabilities


def inception_score(images, graph_path, splits=10):
    """Inception Score with the 2015 graph, as OpenAI's improved-GAN code.

    Images (uint8 [H, W, 3], any size) are fed one by one as float 0..255 into
    ``ExpandDims:0``; p(y|x) = softmax(pool_3 @ W) with the graph's ``softmax/logits`` weight
    matrix and no bias; IS = exp(mean KL(p(y|x) || p(y))) per split, the splits bounded at
    ``i * N // splits`` as the original (:func:`tfposegen.metrics.fid.inception_score`).

    Args:
        images: list of at least ``splits`` uint8 arrays.
        graph_path: ``classify_image_graph_def.pb``.

    Returns:
        (mean, std) over ``splits``.
    """
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    with open(graph_path, "rb") as f:
        graph_def.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        pool = graph.get_tensor_by_name("pool_3:0")
        weights = graph.get_operation_by_name("softmax/logits/MatMul").inputs[1]
    with tf.compat.v1.Session(graph=graph) as sess:
        w = sess.run(weights)
        feats = [sess.run(pool, {"ExpandDims:0": np.asarray(im, np.float32)[None]})
                 for im in images]
    logits = np.reshape(np.concatenate(feats), [len(images), -1]) @ w
    p = np.exp(logits - logits.max(1, keepdims=True))
    return score_from_probabilities(p / p.sum(1, keepdims=True), splits)
