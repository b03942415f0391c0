"""``torch.nn.MultiheadAttention`` as a Keras 3 layer, with torch's packed projections.

Follows ``MultiheadAttention`` / ``multi_head_attention_forward`` of pytorch/pytorch
(``torch/nn/modules/activation.py``, ``torch/nn/functional.py``) with ``bias=True``, no
dropout, no masks and ``kdim = vdim = embed_dim`` (used by DPTN's Pose Transformer Module,
``models/PTM.py`` in PangzeCheung/Dual-task-Pose-Transformer-Network). The projections keep
torch's packing so a state dict maps one to one: ``in_proj_kernel`` [C, 3C] is
``in_proj_weight``^T (columns q, k, v), ``in_proj_bias`` [3C], ``out_kernel`` [C, C] is
``out_proj.weight``^T and ``out_bias`` [C]. Head h uses channels h*d .. h*d + d - 1 of each
projection (d = C / num_heads); scores are ``q k^T / sqrt(d)``, softmax over the keys.

Inputs are batch-first [B, L, C] (torch's default is sequence-first [L, B, C]; the order of
the tokens does not matter as long as query, key and value agree).
"""

import math

import keras
from keras import ops


class TorchMultiheadAttention(keras.layers.Layer):
    """Multi-head attention with torch's parameters.

    Call: ``layer(query, key, value)``, each float [B, L, C] (L may differ between the
    query and the key / value); returns float [B, L_query, C].

    Args:
        embed_dim: C.
        num_heads: heads; must divide C.
    """

    def __init__(self, embed_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        if embed_dim % num_heads:
            raise ValueError(f"attention.py: embed_dim {embed_dim} is not divisible by "
                             f"num_heads {num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads

    def build(self, query_shape=None, key_shape=None, value_shape=None):
        c = self.embed_dim
        # torch: xavier_uniform_ on in_proj_weight, zeros for the biases; out_proj as Linear
        self.in_proj_kernel = self.add_weight(name="in_proj_kernel", shape=(c, 3 * c),
                                              initializer="glorot_uniform")
        self.in_proj_bias = self.add_weight(name="in_proj_bias", shape=(3 * c,),
                                            initializer="zeros")
        self.out_kernel = self.add_weight(name="out_kernel", shape=(c, c),
                                          initializer="glorot_uniform")
        self.out_bias = self.add_weight(name="out_bias", shape=(c,), initializer="zeros")
        self.built = True

    def _heads(self, x):
        b, n = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (b, n, self.num_heads, self.head_dim)),
                             (0, 2, 1, 3))

    def call(self, query, key, value):
        c = self.embed_dim
        w, bias = self.in_proj_kernel, self.in_proj_bias
        q = ops.matmul(query, w[:, :c]) + bias[:c]
        k = ops.matmul(key, w[:, c:2 * c]) + bias[c:2 * c]
        v = ops.matmul(value, w[:, 2 * c:]) + bias[2 * c:]
        q = self._heads(q) * (1.0 / math.sqrt(self.head_dim))
        scores = ops.matmul(q, ops.transpose(self._heads(k), (0, 1, 3, 2)))
        out = ops.matmul(ops.softmax(scores, axis=-1), self._heads(v))   # [B, h, Lq, d]
        out = ops.transpose(out, (0, 2, 1, 3))
        out = ops.reshape(out, (ops.shape(out)[0], ops.shape(out)[1], c))
        return ops.matmul(out, self.out_kernel) + self.out_bias

    def compute_output_shape(self, query_shape, key_shape=None, value_shape=None):
        return query_shape

    def get_config(self):
        return {**super().get_config(), "embed_dim": self.embed_dim,
                "num_heads": self.num_heads}
