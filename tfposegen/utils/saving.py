"""One saved form for the networks of every system: a folder with ``networks.json`` (each
network's class name and ``get_config()``) and one ``<key>.weights.h5`` per network (Keras
3 weights), written atomically as a whole.

    save_networks({"G": generator, "D": critic}, "pretrained/mine")
    nets, meta, extras = load_networks("pretrained/mine", {"Generator": Generator, ...})

Loading takes the allowed classes from the caller (each system passes its own table), so a
networks file can never name a class to import. Training checkpoints (networks plus
optimiser state, for resuming) are ``tf.train.Checkpoint``s kept by ``tfposegen.train``;
this form is for trained or converted networks.
"""

import json
import os
import shutil
import tempfile

FORMAT = "tfposegen-networks"
CONFIG_FILE = "networks.json"


class NetworksFileError(ValueError):
    """A folder is not a readable networks folder; the message names the file."""


def save_networks(networks, out_dir, metadata=None, extra_files=None):
    """Write networks, their configs and optional text files as one folder, atomically.

    Args:
        networks: mapping (or iterable of pairs) key -> built Keras model whose class has a
            ``get_config`` that its ``from_config`` accepts. Keys are file-name safe words.
        out_dir: folder to create; an existing one is replaced as a whole, and only once the
            new one is complete.
        metadata: JSON-serialisable dict stored beside the networks (e.g. the source file).
        extra_files: dict file name -> text, written into the folder (e.g. an original
            network's source text).

    Returns:
        the absolute path of the folder.
    """
    out_dir = os.path.abspath(os.fspath(out_dir))
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise NetworksFileError(f"{out_dir}: exists and is not a folder")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp_", dir=parent)
    try:
        config = {"format": FORMAT, "version": 1, **(metadata or {}), "networks": {}}
        for key, model in dict(networks).items():
            if not str(key).isidentifier():
                raise NetworksFileError(f"{out_dir}: network key {key!r} is not a plain word")
            model.save_weights(os.path.join(tmp, f"{key}.weights.h5"))
            config["networks"][key] = {"class": type(model).__name__,
                                       "config": model.get_config()}
        for name, text in (extra_files or {}).items():
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        with open(os.path.join(tmp, CONFIG_FILE), "w") as f:
            json.dump(config, f, indent=1)
        if os.path.isdir(out_dir):
            old = tempfile.mkdtemp(prefix=".old_", dir=parent)
            os.replace(out_dir, os.path.join(old, "x"))
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
    return out_dir


def load_networks(path, classes, extra_files=()):
    """Load a folder written by :func:`save_networks`.

    Args:
        path: the folder.
        classes: dict class name -> Keras model class allowed in this folder.
        extra_files: names of optional text files to read back.

    Returns:
        ``(networks, metadata, extras)``: dict key -> model with its weights, the stored
        metadata (without the networks table), dict name -> text of the extra files found.

    Raises:
        NetworksFileError: no or unreadable ``networks.json``, an unknown class, or a
            weights file that does not fit its network (the message names the file).
    """
    path = os.fspath(path)
    cfg_path = os.path.join(path, CONFIG_FILE)
    try:
        with open(cfg_path) as f:
            config = json.load(f)
        entries = config.pop("networks")
        if config.get("format", FORMAT) != FORMAT or not isinstance(entries, dict):
            raise ValueError("wrong format")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise NetworksFileError(f"{cfg_path}: not a tfposegen networks file ({e})") from None
    networks = {}
    for key, entry in entries.items():
        name = entry.get("class") if isinstance(entry, dict) else None
        if name not in classes:
            raise NetworksFileError(f"{cfg_path}: network {key!r} has class {name!r}; "
                                    f"expected one of {sorted(classes)}")
        # The dtype policy is a run-time choice (tfposegen.train.precision), not part of
        # the saved network: build under the global policy.
        net_config = {k: v for k, v in entry["config"].items() if k != "dtype"}
        model = classes[name].from_config(net_config)
        weights = os.path.join(path, f"{key}.weights.h5")
        try:
            model.load_weights(weights)
        except (OSError, ValueError) as e:
            raise NetworksFileError(f"{weights}: cannot load the weights of {key!r} ({e})") \
                from None
        networks[key] = model
    extras = {}
    for name in extra_files:
        if os.path.isfile(os.path.join(path, name)):
            with open(os.path.join(path, name)) as f:
                extras[name] = f.read()
    return networks, config, extras
