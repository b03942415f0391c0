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


@pytest.fixture
def eager():
    """Every ``tf.function`` of the test runs eagerly (the same ops, no tracing): for the
    math of training steps whose traced form another test runs (tracing a tiny step costs
    more than running it)."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


@pytest.fixture(scope="session")
def warm_python():
    """The fork server of Python interpreters with TensorFlow imported, one per test process
    (:func:`warm_python.server`): ``.python`` runs ``<script>.py ...`` or ``-c CODE`` as a
    new process without the import's seconds; ``.env(**extra)`` puts it first on PATH."""
    import warm_python

    return warm_python.server()


def reference_module(filename):
    """Import ``tests/reference/<filename>`` (a reference script: its numpy part rebuilds the
    seeded weights and inputs its stored arrays were made from)."""
    import importlib.util

    path = pathlib.Path(__file__).parent / "reference" / filename
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_arrays(module, path):
    """The arrays of a reference ``.npz`` with ``inputs``: the inputs ``module.inputs()``
    rebuilds with numpy, checked against the float64 sums stored as ``sum_<key>``."""
    import numpy as np

    data = dict(np.load(path))
    x = module.inputs()
    for key, value in x.items():
        assert np.sum(value, dtype=np.float64) == pytest.approx(float(data[f"sum_{key}"]),
                                                                rel=1e-12, abs=1e-9), key
    data["inputs"] = x
    return data


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


def assert_same_update(script, loss_names, keys=("G", "D"), warm=None):
    """Run ``script`` (``TWO_LOGICAL_CPUS`` + a body printing ``{"one": ..., "two": ...}``
    with ``replicas``, ``losses`` and the weights under ``keys``) in a new process (a fork
    of ``warm``, the ``warm_python`` fixture, if given) and check that two replicas gave the
    losses (rel 1e-5) and weights (5e-6) of one device."""
    import json
    import subprocess
    import sys

    import numpy as np
    import pytest

    root = str(pathlib.Path(__file__).resolve().parents[1])
    python, env = ((warm.python, warm.env(PYTHONPATH=root)) if warm else
                   (sys.executable, dict(os.environ, PYTHONPATH=root)))
    proc = subprocess.run([python, "-c", script], capture_output=True, text=True,
                          timeout=600, env=env)
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


# ----------------------------------------------------------------- scheduling under -n
# pytest-xdist (`-n 2`): the suite's time is its longest worker's, so the work is handed
# out longest first (rough seconds of a test on a busy two-core machine, from
# `--durations`; any other test counts 1 s), and each module runs on one worker (its
# module fixtures built once) except the modules in SPLIT_MODULES, whose long tests share
# only cheap fixtures and are spread over both. Only the order changes, never a test.
DURATIONS = {
    "test_adgan_train.py::test_train_resume_and_test_scripts": 22,
    "test_adgan_train.py::test_two_replicas_make_the_update_of_one_device": 24,
    "test_adgan_train.py::test_overfit_one_pair_lowers_the_l1_and_raises_ssim": 15,
    "test_adgan_transfer.py::test_attribute_transfer_all_or_no_classes_is_plain_rendering": 15,
    "test_deepgenpro.py::test_original_command_line_writes_every_output": 15,
    "test_demo.py::test_readme_demo_runs_and_keeps_the_garment": 34,
    "test_dgp.py::test_full_size_graphs_of_every_phase_lower_to_xla": 34,
    "test_dgp.py::test_interrupted_run_resumes_to_identical_outputs": 11,
    "test_dgp.py::test_pattern_search_changes_only_noise_and_search_uses_projection_image": 10,
    "test_dgp.py::test_first_adam_step_is_tf1_adam_with_epsilon_1e8": 4,
    "test_dpig_data.py::test_keypoint_field_records_rebuild_the_masks_exactly": 17,
    "test_dpig_train.py::test_run_scripts_synthetic_train_then_test[market]": 47,
    "test_dpig_train.py::test_run_scripts_synthetic_train_then_test[DF]": 38,
    "test_dpig_train.py::test_resume_in_new_process_is_bit_identical_and_two_workers_make_its_u"
    "pdate": 32,
    "test_dpig_train.py::test_two_replicas_make_the_update_of_one_device": 16,
    "test_dpig_train.py::test_overfit_handful_of_pairs": 20,
    "test_dpig_train.py::test_models_train_finite_and_moving[101]": 12,
    "test_dpig_train.py::test_two_workers_on_loopback_make_the_update_of_one_process": 9,
    "test_dpig_train.py::test_models_train_finite_and_moving[1]": 9,
    "test_dpig_train.py::test_heatmaps_built_in_the_step_equal_the_pipelines": 8,
    "test_dpig_train.py::test_restore_chain_and_tests_write_folders": 8,
    "test_dpig_train.py::test_models_train_finite_and_moving[3]": 6,
    "test_dpig_train.py::test_main_flags_match_config_and_errors": 4,
    "test_dpig_train.py::test_models_train_finite_and_moving[4]": 4,
    "test_dpig_train.py::test_market_sampling_tests_write_folders": 4,
    "test_dpig_train.py::test_pose_transfer_script_equals_the_models": 4,
    "test_dpig_train.py::test_interpolation_ends_at_both_images": 3,
    "test_dpig_train.py::test_models_train_finite_and_moving[104]": 3,
    "test_dpig_train.py::test_models_train_finite_and_moving[103]": 3,
    "test_dptn_step_train.py::test_dptn_step_two_workers_make_the_update_of_one_process": 52,
    "test_dptn_step_train.py::test_overfit_lowers_l1": 34,
    "test_dptn_step_train.py::test_generator_and_discriminator_objectives_closed_form": 7,
    "test_dptn_train.py::test_train_resume_and_test_scripts": 52,
    "test_dptn_train.py::test_overfit_one_pair_lowers_l1_and_raises_ssim": 38,
    "test_dptn_train.py::test_dptn_two_workers_make_the_update_of_one_process": 33,
    "test_dptn_train.py::test_two_replicas_make_the_update_of_one_device": 20,
    "test_dptn_train.py::test_export_round_trips_in_a_fresh_process": 17,
    "test_export.py::test_every_signature_round_trips_in_a_fresh_process": 51,
    "test_multiworker.py::test_stylegan2_two_workers_make_the_update_of_one_process": 31,
    "test_multiworker.py::test_encoder_two_workers_make_the_update_of_one_process": 16,
    "test_perceptual.py::test_attribute_gradient_under_jit": 16,
    "test_perceptual.py::test_attribute_model": 13,
    "test_stylegan2.py::test_synthesis_and_discriminator_under_xla_with_gradients": 8,
    "test_train_encoder.py::test_resumed_training_is_identical": 9,
    "test_train_encoder.py::test_overfits_a_tiny_batch_of_generated_images": 15,
    "test_train_encoder.py::test_script_writes_a_dgp_pickle": 9,
    "test_train_encoder.py::test_loss_terms_and_decayed_learning_rate": 5,
    "test_train_stylegan2.py::test_two_replicas_make_the_update_of_one_device": 20,
    "test_train_stylegan2.py::test_gs_moving_average_lazy_regularisers_and_identical_resume": 11,
    "test_train_stylegan2.py::test_script_writes_checkpoints_grids_pickles_and_logs": 5,
}
# modules timed as a whole: rough seconds per test (their module fixtures shared)
PER_TEST = {"test_dptn_step_networks.py": 3, "test_dptn_step_scripts.py": 17,
            "test_paint_export.py": 15, "test_paint_pipeline.py": 1.5,
            "test_dptn_step_export.py": 12, "test_paint_lgn.py": 1.5, "test_paint_tsn.py": 1.5,
            "test_paint_afn.py": 1, "test_metrics_torchvision_inception.py": 4,
            "test_websvc.py": 6, "test_paint_train.py": 12, "test_paint_data.py": 0.8,
            "test_paint_scripts.py": 50}
SPLIT_MODULES = {"test_dpig_train.py", "test_dgp.py", "test_adgan_train.py", "test_dptn_train.py",
                 "test_dptn_step_train.py", "test_train_stylegan2.py", "test_train_encoder.py",
                 "test_demo.py"}


def _duration(nodeid):
    name = nodeid.split("/")[-1]
    default = PER_TEST.get(name.split("::")[0], 1.0)
    return DURATIONS.get(name, DURATIONS.get(name.split("[")[0], default))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Longest work first under `-n` with the default `--dist load` (see DURATIONS)."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LongestFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return nodeid if module.split("/")[-1] in SPLIT_MODULES else module

        def _assign_work_unit(self, node):
            if not getattr(self, "_ordered", False):
                units = sorted(self.workqueue.items(),
                               key=lambda unit: -sum(map(_duration, unit[1])))
                self.workqueue.clear()
                self.workqueue.update(units)
                self._ordered = True
            super()._assign_work_unit(node)

    return LongestFirst(config, log)
