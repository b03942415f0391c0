"""Numeric precision of networks: ``float32`` (default, faithful) or ``mixed_bfloat16``.

``set_precision(name)`` sets the Keras global dtype policy
(``keras.mixed_precision.set_dtype_policy``); it must run *before* the networks are built,
since every Keras layer reads the global policy when it is created. Under
``mixed_bfloat16``:

- variables (weights, W+ codes, noise maps, optimiser slots) stay float32;
- layers compute in bfloat16 (inputs are cast on entry by Keras; the library's ops follow
  the dtype of their input tensor);
- the library's networks return float32 (their last op casts), and every loss is computed
  in float32 (:func:`to_float32` for any other network output).

bfloat16 keeps float32's 8-bit exponent (same range, about 1e-38 to 3e38) and only shortens
the mantissa (8 bits, about 2-3 significant decimal digits), so gradients neither overflow
nor underflow where float32 does not: **no loss scaling** is needed (unlike float16) and
none is applied. The price is precision: results differ from float32 by roughly 1e-2
relative, so ``float32`` stays the default for parity with the original releases.
bfloat16 pays on hardware with native bf16 math (NVIDIA Ampere and later, TPUs, x86 CPUs
with AVX512_BF16 / AMX); on CPUs without it (AVX2 only) TensorFlow emulates it and it is
usually *slower* than float32 (``benchmarks/bench_precision.py`` measures both).
"""

import contextlib

import keras
from keras import ops

PRECISIONS = ("float32", "mixed_bfloat16")
DEFAULT_PRECISION = "float32"



def check_precision(name):
    """Validate a precision name.

    Args:
        name: ``"float32"`` or ``"mixed_bfloat16"``.

    Returns:
        the name, unchanged.

    Raises:
        ValueError: the name is not one of ``PRECISIONS`` (the message lists them).
    """
    if name not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {name!r}")
    return name


def current_precision():
    """Name of the Keras global dtype policy (e.g. ``"float32"``, ``"mixed_bfloat16"``)."""
    return keras.mixed_precision.dtype_policy().name


def set_precision(name):
    """Validate ``name`` and make it the Keras global dtype policy.

    Call before building networks: layers built earlier keep their policy.

    Args:
        name: one of ``PRECISIONS``.

    Returns:
        the name of the policy that was global before (to restore it).

    Raises:
        ValueError: unknown name (nothing is changed).
    """
    check_precision(name)
    previous = current_precision()
    keras.mixed_precision.set_dtype_policy(name)
    return previous


@contextlib.contextmanager
def precision_scope(name):
    """``with precision_scope("mixed_bfloat16"): build(...)``: set the global policy for the
    block and restore the previous one afterwards (also on errors)."""
    previous = set_precision(name)
    try:
        yield name
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def to_float32(x):
    """Cast a tensor (or a nested structure of tensors) to float32 before a loss.

    A no-op for float32 tensors (the same tensor comes back), so float32 runs are unchanged.

    Args:
        x: tensor of any float dtype and shape, or a list / tuple / dict of them; ``None``
            entries pass through.

    Returns:
        the same structure with float32 tensors of the same shapes and values (bfloat16
        values are exactly representable in float32).
    """
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: to_float32(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(to_float32(v) for v in x)
    if keras.backend.standardize_dtype(x.dtype) == "float32":
        return x
    return ops.cast(x, "float32")
