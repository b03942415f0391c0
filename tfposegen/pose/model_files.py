"""BlazePose model files: find them, or fetch them once from the mediapipe wheel.

The three TFLite files (``pose_detection.tflite``, ``pose_landmark_full.tflite``,
``selfie_segmentation.tflite``) ship inside the ``mediapipe==0.10.21`` wheel on the Python
package index. mediapipe itself cannot be installed next to TF 2.21 (protobuf < 5 against
TF's >= 6.31), so the wheel is downloaded with ``pip download --no-deps`` (never installed),
opened as a zip, and the files are extracted atomically into a cache folder:
``$TFPOSEGEN_CACHE/blazepose`` when that variable is set, else
``~/.cache/tfposegen/blazepose``. Every file is checked against its SHA-256.

A user who already has the files points ``model_dir`` at a folder holding them (or holding
the mediapipe wheel); nothing is downloaded then.
"""

import glob
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

from tfposegen.utils.files import atomic_path

WHEEL_REQUIREMENT = "mediapipe==0.10.21"
# file name -> (member path inside the wheel, SHA-256)
MODEL_FILES = {
    "pose_detection.tflite": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    "pose_landmark_full.tflite": (
        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
    "selfie_segmentation.tflite": (
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c"),
}


class ModelFilesError(RuntimeError):
    """The BlazePose model files are missing, damaged or cannot be fetched; the message
    says what failed and how to supply the files by hand."""


def cache_dir():
    """Folder where fetched model files are kept (``$TFPOSEGEN_CACHE/blazepose`` or
    ``~/.cache/tfposegen/blazepose``)."""
    root = os.environ.get("TFPOSEGEN_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "tfposegen")
    return os.path.join(root, "blazepose")


def _how_to(folder):
    members = ", ".join(m for m, _ in MODEL_FILES.values())
    return (f"To supply them by hand: run `pip download {WHEEL_REQUIREMENT} --no-deps -d DIR` "
            f"on a machine with internet access, unzip {members} from the wheel into one "
            f"folder (or leave the .whl there) and pass that folder as model_dir / "
            f"--model_dir, or copy the files into {folder}.")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_from_wheel(wheel, dest, names=tuple(MODEL_FILES)):
    """Extract model files from a mediapipe wheel (a zip) into ``dest`` atomically.

    Args:
        wheel: path of ``mediapipe-0.10.21-*.whl``.
        dest: folder (created if missing).
        names: file names (keys of :data:`MODEL_FILES`).

    Returns:
        dict file name -> path in ``dest``.
    """
    os.makedirs(dest, exist_ok=True)
    paths = {}
    try:
        with zipfile.ZipFile(wheel) as z:
            for name in names:
                member, digest = MODEL_FILES[name]
                data = z.read(member)
                if hashlib.sha256(data).hexdigest() != digest:
                    raise ModelFilesError(f"{wheel}: {member} has an unexpected SHA-256 (not "
                                          f"the {WHEEL_REQUIREMENT} wheel?)")
                paths[name] = os.path.join(dest, name)
                with atomic_path(paths[name]) as tmp, open(tmp, "wb") as f:
                    f.write(data)
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise ModelFilesError(f"{wheel}: cannot extract the BlazePose files ({e}). "
                              + _how_to(dest)) from None
    return paths


def download_wheel(dest):
    """``pip download mediapipe==0.10.21 --no-deps`` into ``dest``; returns the wheel path.

    Raises:
        ModelFilesError: pip failed (no network, no matching wheel for this platform).
    """
    cmd = [sys.executable, "-m", "pip", "download", WHEEL_REQUIREMENT, "--no-deps",
           "--disable-pip-version-check", "-q", "-d", dest]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ModelFilesError(f"`{' '.join(cmd)}` failed ({e}). " + _how_to(cache_dir())) \
            from None
    wheels = glob.glob(os.path.join(dest, "mediapipe-*.whl"))
    if done.returncode != 0 or not wheels:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ModelFilesError(f"could not download the BlazePose model files: `{' '.join(cmd)}` "
                              f"exited with {done.returncode} ({' / '.join(tail)}). "
                              + _how_to(cache_dir()))
    return wheels[0]


def model_paths(names, model_dir=None, fetch=True):
    """Paths of BlazePose model files, fetching them into :func:`cache_dir` if needed.

    Args:
        names: file names (keys of :data:`MODEL_FILES`), e.g. ``("pose_detection.tflite",
            "pose_landmark_full.tflite")``.
        model_dir: folder holding the files (or a mediapipe wheel to take them from); when
            given, nothing is downloaded.
        fetch: download the wheel when the files are not in the cache (``model_dir`` None).

    Returns:
        dict file name -> existing path.

    Raises:
        ModelFilesError: a file is missing and cannot be fetched, or is damaged.
    """
    folder = os.fspath(model_dir) if model_dir is not None else cache_dir()
    if model_dir is not None and not os.path.isdir(folder):
        raise ModelFilesError(f"{folder}: model_dir is not a folder. " + _how_to(cache_dir()))
    paths = {n: os.path.join(folder, n) for n in names}
    missing = [n for n, p in paths.items() if not os.path.isfile(p)]
    if missing:
        wheels = glob.glob(os.path.join(folder, "mediapipe-*.whl"))
        if wheels:
            target = cache_dir() if model_dir is not None else folder
            paths.update(extract_from_wheel(wheels[0], target, missing))
        elif model_dir is not None or not fetch:
            why = "fetching is disabled" if model_dir is None else "model_dir was given"
            raise ModelFilesError(f"{folder}: missing {', '.join(missing)} ({why}). "
                                  + _how_to(cache_dir()))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                paths.update(extract_from_wheel(download_wheel(tmp), folder, missing))
    for name, path in paths.items():
        if _sha256(path) != MODEL_FILES[name][1]:
            raise ModelFilesError(f"{path}: unexpected SHA-256 (damaged or a different "
                                  f"version; the port expects {WHEEL_REQUIREMENT}'s file). "
                                  + _how_to(cache_dir()))
    return paths
