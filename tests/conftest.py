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
