"""Modulated convolution of StyleGAN2 (weight modulation and demodulation), NHWC."""

from keras import ops

from tfposegen.ops.upfirdn2d import upsample_conv2d


def modulated_conv2d(x, w, styles, demodulate=True, up=False, resample_kernel=(1, 3, 3, 1),
                     eps=1e-8):
    """Convolve each sample with the kernel modulated by its style vector.

    Same math as the fused TF1 op of NVlabs StyleGAN2 (per sample n:
    ``W1 = w * s[n, i]``; ``W2 = W1 / sqrt(sum_{kh,kw,i} W1^2 + eps)``), computed in the
    equivalent unfused form ``conv(x * s, w) * d`` so that one ordinary convolution serves the
    whole batch.

    Args:
        x: [N, H, W, Cin] activations.
        w: [k, k, Cin, Cout] kernel, already multiplied by its runtime scale (TF HWIO layout).
        styles: [N, Cin] styles (the affine output, +1 already added).
        demodulate: divide each output channel by the norm of its modulated kernel.
        up: if True, 2x up-sampling by transposed convolution and FIR (TF1 ``upsample_conv_2d``).
        resample_kernel: FIR taps for ``up``.

    Returns:
        [N, H', W', Cout] with H' = 2H if ``up`` else H (SAME padding).
    """
    x = x * styles[:, None, None, :]
    if up:
        x = upsample_conv2d(x, w, k=resample_kernel)
    else:
        x = ops.conv(x, w, strides=1, padding="same")
    if demodulate:
        wsq = ops.sum(ops.square(w), axis=[0, 1])  # [Cin, Cout]
        d = ops.rsqrt(ops.matmul(ops.square(styles), wsq) + eps)  # [N, Cout]
        x = x * d[:, None, None, :]
    return x
