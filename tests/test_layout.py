"""The package layout: dependencies point one way, and modules stay readable.

Shared floors (everything in ``tfposegen`` but ``models``) never import a system package;
a system package never imports another one, except DGP, which builds on the StyleGAN2
backbone; ``ops``, ``layers`` and ``losses`` read no files.
"""

import ast
import pathlib
import re

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tfposegen"
ALLOWED_SYSTEM_DEPS = {("dgp", "stylegan2")}
MAX_LINES = 600


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path):
    """Every absolute ``tfposegen...`` module a file imports (also inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m.startswith("tfposegen.")}


def _system(module):
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "models" else None


def test_dependencies_point_one_way():
    wrong = []
    for path in _modules():
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        here = ".".join(rel.parts)
        mine = _system(here)
        for module in _imports(path):
            theirs = _system(module)
            if theirs is None or theirs == mine:
                continue
            if mine is None:
                wrong.append(f"floor {here} imports {module}")
            elif (mine, theirs) not in ALLOWED_SYSTEM_DEPS:
                wrong.append(f"system {here} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_layout_check_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from tfposegen.models.dpig import networks\n")
    assert _imports(bad) == {"tfposegen.models.dpig", "tfposegen.models.dpig.networks"}
    assert _system("tfposegen.models.dpig.networks") == "dpig"


@pytest.mark.parametrize("floor", ["ops", "layers", "losses"])
def test_math_floors_read_no_files(floor):
    readers = re.compile(r"(?<![.\w])open\(|np\.load\(|tf\.io\.read_file|^\s*import (h5py|pickle)",
                         re.M)
    for path in (PACKAGE / floor).rglob("*.py"):
        assert not readers.search(path.read_text()), path


def test_long_modules_say_why():
    for path in _modules():
        lines = path.read_text().count("\n")
        if lines > MAX_LINES:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            assert "Length:" in doc, f"{path}: {lines} lines and no 'Length:' reason"


def test_no_module_starts_tensorflow_on_import(warm_python):
    """Every module imported (the fork server imports them all, and refuses to start if one
    creates TensorFlow's runtime), devices can still be configured, as scripts do after their
    imports."""
    import subprocess

    code = ("import sys, tensorflow as tf\n"
            "cpu = tf.config.list_physical_devices('CPU')[0]\n"
            "tf.config.set_logical_device_configuration(\n"
            "    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'tfposegen'))\n")
    proc = subprocess.run([warm_python.python, "-c", code], capture_output=True, text=True,
                          env=warm_python.env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    want = sorted(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
                  .removesuffix(".__init__") for p in _modules())
    assert proc.stdout.strip() == str(want)
