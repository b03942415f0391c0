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


# Start of a script run in a fresh process that compares one device with a
# MirroredStrategy on two logical CPUs (deterministic ops); it prints its results as JSON.
TWO_LOGICAL_CPUS = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import json, numpy as np, tensorflow as tf, keras
tf.config.experimental.enable_op_determinism()
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""


def assert_same_update(script, loss_names, keys=("G", "D")):
    """Run ``script`` (``TWO_LOGICAL_CPUS`` + a body printing ``{"one": ..., "two": ...}``
    with ``replicas``, ``losses`` and the weights under ``keys``) and check that two
    replicas gave the losses (rel 1e-5) and weights (5e-6) of one device."""
    import json
    import subprocess
    import sys

    import numpy as np
    import pytest

    root = str(pathlib.Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PYTHONPATH=root))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    one, two = out["one"], out["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    for a, b in zip(one["losses"], two["losses"]):
        for k in loss_names:
            assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-6), k
    for key in keys:
        for a, b in zip(one[key], two[key]):
            np.testing.assert_allclose(a, b, atol=5e-6)
