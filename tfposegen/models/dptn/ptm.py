"""DPTN's Pose Transformer Module (``models/PTM.py`` in
PangzeCheung/Dual-task-Pose-Transformer-Network).

Feature maps [B, H, W, C] become H*W tokens [B, H*W, C] (no positional encoding, so only
the consistency of the flattening matters). Every norm is ``InstanceNorm1d(C, affine)``
over the tokens (per sample and channel), the activation LeakyReLU 0.1, attention
``nn.MultiheadAttention(C, nhead)`` (:class:`tfposegen.layers.attention.
TorchMultiheadAttention`), the feed-forward width ``dim_feedforward``.

- Context Augment Block (CAB) on x: ``x = norm1(x + SelfAttn(x))``;
  ``x = norm2(x + linear2(LReLU(linear1(x))))``. The CAB stack has no final norm.
- Texture Transfer Block (TTB) on t with memory M (the CABs' output) and values V (the
  source encoder's tokens): ``t = norm1(t + SelfAttn(t))``; ``t = norm2(t + Attn(q=t, k=M,
  v=V))``; ``t = norm3(t + FFN(t))``. The TTB stack ends with a final norm.
"""

import keras
from keras import layers, ops

from tfposegen.layers.attention import TorchMultiheadAttention
from tfposegen.layers.composite import BuiltByFirstCall
from tfposegen.layers.normalization import InstanceNorm

SLOPE = 0.1


class _TokenBlock(BuiltByFirstCall, keras.layers.Layer):
    def __init__(self, d_model, nhead, dim_feedforward, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.nhead = int(d_model), int(nhead)
        self.dim_feedforward = int(dim_feedforward)
        self.self_attn = TorchMultiheadAttention(self.d_model, self.nhead)
        self.linear1 = layers.Dense(self.dim_feedforward)
        self.linear2 = layers.Dense(self.d_model)
        self.act = layers.LeakyReLU(SLOPE)

    def _ffn(self, x):
        return self.linear2(self.act(self.linear1(x)))

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "nhead": self.nhead,
                "dim_feedforward": self.dim_feedforward}


class CAB(_TokenBlock):
    """Context Augment Block: tokens [B, L, C] -> [B, L, C]."""

    def __init__(self, d_model, nhead, dim_feedforward, **kwargs):
        super().__init__(d_model, nhead, dim_feedforward, **kwargs)
        self.norm1, self.norm2 = InstanceNorm(affine=True), InstanceNorm(affine=True)

    def call(self, x):
        x = self.norm1(x + self.self_attn(x, x, x))
        return self.norm2(x + self._ffn(x))


class TTB(_TokenBlock):
    """Texture Transfer Block: tokens t [B, L, C], memory [B, L', C], values [B, L', C]
    -> [B, L, C]."""

    def __init__(self, d_model, nhead, dim_feedforward, **kwargs):
        super().__init__(d_model, nhead, dim_feedforward, **kwargs)
        self.multihead_attn = TorchMultiheadAttention(self.d_model, self.nhead)
        self.norm1, self.norm2, self.norm3 = (InstanceNorm(affine=True) for _ in range(3))

    def call(self, t, memory, values):
        t = self.norm1(t + self.self_attn(t, t, t))
        t = self.norm2(t + self.multihead_attn(t, memory, values))
        return self.norm3(t + self._ffn(t))


class PTM(BuiltByFirstCall, keras.layers.Layer):
    """The Pose Transformer Module: (F_ss, F_st, F_s) [B, H, W, C] each -> refined F_st
    [B, H, W, C].

    Args:
        d_model: C (DPTN: 256).
        nhead, num_CABs, num_TTBs, dim_feedforward: as the original (DPTN: 2, 2, 2, 256).
    """

    def __init__(self, d_model, nhead=2, num_CABs=2, num_TTBs=2, dim_feedforward=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.nhead = int(d_model), int(nhead)
        self.num_CABs, self.num_TTBs = int(num_CABs), int(num_TTBs)
        self.dim_feedforward = int(dim_feedforward or d_model)
        args = (self.d_model, self.nhead, self.dim_feedforward)
        self.cabs = [CAB(*args) for _ in range(self.num_CABs)]
        self.ttbs = [TTB(*args) for _ in range(self.num_TTBs)]
        self.norm = InstanceNorm(affine=True)

    def call(self, source_source, source_target, source):
        shape = ops.shape(source_target)

        def tokens(x):
            return ops.reshape(x, (shape[0], -1, self.d_model))

        memory = tokens(source_source)
        for cab in self.cabs:
            memory = cab(memory)
        t, values = tokens(source_target), tokens(source)
        for ttb in self.ttbs:
            t = ttb(t, memory, values)
        return ops.reshape(self.norm(t), shape)

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "nhead": self.nhead,
                "num_CABs": self.num_CABs, "num_TTBs": self.num_TTBs,
                "dim_feedforward": self.dim_feedforward}
