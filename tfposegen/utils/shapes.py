"""Input shape checks of the Keras models, raising a clear error before TensorFlow does."""


def check_shape(name, tensor, expected):
    """Raise ``ValueError`` unless ``tensor``'s static shape fits ``expected``.

    Args:
        name: the input's name, for the message.
        tensor: anything with a ``shape``.
        expected: tuple of ints, ``None`` for any size (shown as ``N``).
    """
    got = tuple(tensor.shape)
    if len(got) != len(expected) or any(e is not None and g is not None and g != e
                                         for g, e in zip(got, expected)):
        exp = "[" + ", ".join("N" if e is None else str(e) for e in expected) + "]"
        raise ValueError(f"{name}: expected shape {exp}, got {list(got)}")
