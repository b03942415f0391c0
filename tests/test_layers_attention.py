"""TorchMultiheadAttention (tfposegen.layers.attention) against torch's formula written out
in numpy: packed q / k / v projections, per-head scaled dot products, softmax over keys,
output projection."""

import numpy as np
import pytest

from tfposegen.layers.attention import TorchMultiheadAttention


def _numpy_mha(q_in, k_in, v_in, w_in, b_in, w_out, b_out, heads):
    """torch.nn.functional.multi_head_attention_forward without masks / dropout, batch-first,
    with torch-layout weights: in_proj_weight [3C, C], out_proj.weight [C, C]."""
    c = q_in.shape[-1]
    d = c // heads
    q, k, v = (x @ w_in[i * c:(i + 1) * c].T + b_in[i * c:(i + 1) * c]
               for i, x in enumerate((q_in, k_in, v_in)))
    out = np.zeros_like(q)
    for h in range(heads):
        s = slice(h * d, (h + 1) * d)
        scores = (q[..., s] / np.sqrt(d)) @ np.swapaxes(k[..., s], -1, -2)
        p = np.exp(scores - scores.max(-1, keepdims=True))
        out[..., s] = (p / p.sum(-1, keepdims=True)) @ v[..., s]
    return out @ w_out.T + b_out


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_matches_torch_formula(heads):
    rng = np.random.default_rng(heads)
    c, lq, lk = 8, 5, 7
    q, k, v = (rng.standard_normal((2, n, c)).astype(np.float32) for n in (lq, lk, lk))
    w_in = rng.standard_normal((3 * c, c)).astype(np.float32) / np.sqrt(c)
    b_in = 0.1 * rng.standard_normal(3 * c).astype(np.float32)
    w_out = rng.standard_normal((c, c)).astype(np.float32) / np.sqrt(c)
    b_out = 0.1 * rng.standard_normal(c).astype(np.float32)
    layer = TorchMultiheadAttention(c, heads)
    layer(q, k, v)
    layer.in_proj_kernel.assign(w_in.T)      # the name map's "linear" layout
    layer.in_proj_bias.assign(b_in)
    layer.out_kernel.assign(w_out.T)
    layer.out_bias.assign(b_out)
    want = _numpy_mha(q.astype(np.float64), k, v, w_in, b_in, w_out, b_out, heads)
    np.testing.assert_allclose(np.asarray(layer(q, k, v)), want, atol=1e-5)
    assert TorchMultiheadAttention.from_config(layer.get_config()).num_heads == heads
    with pytest.raises(ValueError, match="divisible"):
        TorchMultiheadAttention(10, 3)
