import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pathlib

import pytest

DATA = pathlib.Path(__file__).parent / "data"
SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(1234)


def reference_module(filename):
    """Import ``tests/reference/<filename>`` (a reference script: its numpy part rebuilds the
    seeded weights and inputs its stored arrays were made from)."""
    import importlib.util

    path = pathlib.Path(__file__).parent / "reference" / filename
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rel_err(actual, expected):
    """max |a - e| / max(1, |e|), elementwise: the parity measure of the ports."""
    import numpy as np

    actual = np.asarray(actual, np.float64)
    return float(np.max(np.abs(actual - expected) / np.maximum(1.0, np.abs(expected))))
