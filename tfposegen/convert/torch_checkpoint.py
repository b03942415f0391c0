"""Read PyTorch checkpoints (``.pth`` / ``.pt``) with numpy only, and map them onto Keras weights.

Two on-disk forms of ``torch.save`` are read (see ``torch/serialization.py`` in pytorch/pytorch):

* the zip archive of torch >= 1.6: ``<dir>/data.pkl`` (the pickled object, whose storages are
  persistent ids ``('storage', storage_type, key, location, numel)``) plus one raw little-endian
  blob per storage at ``<dir>/data/<key>`` (``<dir>/byteorder`` may say ``big``);
* the legacy stream of torch 1.1-1.5 (``_use_new_zipfile_serialization=False``): pickled magic
  number, protocol version and sys-info dict, then the main pickle (persistent ids with a sixth
  ``view_metadata`` entry), then the pickled sorted list of storage keys, then per storage an
  8-byte little-endian element count and the raw bytes.

The older tar form (torch < 1.0) is refused with a clear error. Storage locations (``cuda:0``)
are ignored: every tensor loads on the CPU as a numpy array. ``bfloat16`` tensors become
``float32`` (exactly: a bfloat16 is the upper half of a float32); other dtypes keep theirs.

Security: unpickling runs through ``_RestrictedUnpickler``, whose ``find_class`` maps only the
globals a weights file needs (``torch._utils._rebuild_tensor[_v2]``, ``_rebuild_parameter``,
``_rebuild_parameter_with_state``, ``torch.<T>Storage``, ``torch.Size``, ``torch.device``,
``collections.OrderedDict``, ``builtins.set/frozenset/bytearray`` and ``_codecs.encode``) to
local numpy-producing stand-ins. Any other global (``os.system``, model classes, numpy objects)
raises ``TorchCheckpointError`` without being imported or called. Whole pickled models
(``torch.save(model)``) are therefore refused: save ``model.state_dict()`` instead.

Memory: storages are memory-mapped straight from the file (``np.memmap`` at the blob's offset,
both for uncompressed zip members and for legacy streams) and each tensor is copied out once
through ``np.lib.stride_tricks.as_strided``, so a 1.3 GB tensor is resident once, not twice.
Only compressed zip members (never written by torch) are read into memory first.
"""

import collections
import fnmatch
import os
import pickle
import struct
import zipfile

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


class TorchCheckpointError(ValueError):
    """A file is not a readable PyTorch checkpoint, or its tensors do not fit; names the file."""


class _StorageType:
    """Stand-in for a ``torch.<T>Storage`` class: the numpy dtype of its elements."""

    def __init__(self, name, dtype, bfloat16=False):
        self.name = name
        self.dtype = np.dtype(dtype)
        self.bfloat16 = bfloat16


_STORAGE_TYPES = {t.name: t for t in (
    _StorageType("FloatStorage", "<f4"), _StorageType("DoubleStorage", "<f8"),
    _StorageType("HalfStorage", "<f2"), _StorageType("BFloat16Storage", "<u2", bfloat16=True),
    _StorageType("LongStorage", "<i8"), _StorageType("IntStorage", "<i4"),
    _StorageType("ShortStorage", "<i2"), _StorageType("CharStorage", "i1"),
    _StorageType("ByteStorage", "u1"), _StorageType("BoolStorage", "?"),
    _StorageType("ComplexFloatStorage", "<c8"), _StorageType("ComplexDoubleStorage", "<c16"),
    _StorageType("UntypedStorage", "u1"),
)}


class _StorageRef:
    """A storage named in the pickle: ``length`` elements from ``start`` of blob ``key``."""

    def __init__(self, stype, key, numel, start=0, length=None):
        self.stype, self.key, self.numel = stype, key, numel
        self.start = start
        self.length = numel if length is None else length


class _PendingTensor:
    """A tensor whose storage bytes are read after unpickling (legacy files store them last)."""

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _StorageRef):
            raise TypeError(f"tensor storage is a {type(storage).__name__}, not a storage")
        self.storage = storage
        self.offset = _check_int(offset, "storage offset")
        self.size = tuple(_check_int(s, "size") for s in size)
        self.stride = tuple(_check_int(s, "stride") for s in stride)
        if len(self.size) != len(self.stride):
            raise ValueError(f"size {self.size} and stride {self.stride} differ in rank")


def _check_int(value, what):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"tensor {what} {value!r} is not a non-negative int")
    return value


def _rebuild_tensor(storage, storage_offset, size, stride, *_):
    """``torch._utils._rebuild_tensor[_v2]``: requires_grad, hooks and metadata are dropped."""
    return _PendingTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, *_):
    """``torch._utils._rebuild_parameter[_with_state]``: a Parameter is its data."""
    if not isinstance(data, _PendingTensor):
        raise TypeError(f"parameter data is a {type(data).__name__}, not a tensor")
    return data


def _device(kind, index=None):
    """``torch.device``: kept as its string form (``'cuda:0'``)."""
    return str(kind) if index is None else f"{kind}:{int(index)}"


def _codecs_encode(text, encoding="utf-8"):
    """``_codecs.encode``: how protocol-2 pickles store ``bytes``; only latin-1 of a str."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise TypeError("_codecs.encode is only allowed on a str with 'latin1'")
    return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): tuple,
    ("torch", "device"): _device,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("_codecs", "encode"): _codecs_encode,
}
_ALLOWED_GLOBALS.update({("torch", n): t for n, t in _STORAGE_TYPES.items()})


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only ``_ALLOWED_GLOBALS`` and records the storages it meets."""

    def __init__(self, file, path, legacy):
        super().__init__(file)
        self._path, self._legacy = path, legacy
        self.storages = {}  # key -> _StorageRef of the whole storage

    def find_class(self, module, name):
        module = "builtins" if module == "__builtin__" else module
        target = _ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise TorchCheckpointError(
                f"{self._path}: refusing to load global '{module}.{name}': only tensors, "
                "storages and plain containers are allowed (the file may contain code, or a "
                "whole pickled model; save model.state_dict() instead)")
        return target

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            kind = pid[0] if isinstance(pid, tuple) and pid else type(pid).__name__
            raise TorchCheckpointError(f"{self._path}: unsupported persistent id {kind!r} "
                                       "(only tensor storages are supported)")
        if len(pid) != (6 if self._legacy else 5):
            raise TorchCheckpointError(f"{self._path}: malformed storage id of length {len(pid)}")
        stype, key, _location, numel = pid[1:5]
        if not isinstance(stype, _StorageType) or not isinstance(key, str):
            raise TorchCheckpointError(f"{self._path}: malformed storage id {pid!r}")
        _check_int(numel, "storage numel")
        ref = self.storages.setdefault(key, _StorageRef(stype, key, numel))
        if ref.stype is not stype or ref.numel != numel:
            raise TorchCheckpointError(f"{self._path}: storage {key!r} is used with two types")
        view = pid[5] if self._legacy else None
        if view is None:
            return ref
        _view_key, start, length = view
        start, length = _check_int(start, "view offset"), _check_int(length, "view size")
        if start + length > numel:
            raise TorchCheckpointError(f"{self._path}: storage view of {key!r} out of range")
        return _StorageRef(stype, key, numel, start, length)


def _unpickle(file, path, legacy=False):
    """Run the restricted unpickler on an open binary file; returns (object, unpickler)."""
    unpickler = _RestrictedUnpickler(file, path, legacy)
    try:
        return unpickler.load(), unpickler
    except TorchCheckpointError:
        raise
    except Exception as e:  # any malformed pickle: EOFError, UnpicklingError, TypeError, ...
        raise TorchCheckpointError(f"{path}: not a readable PyTorch pickle "
                                   f"({type(e).__name__}: {e})") from e


def _materialize(obj, read_storage, path, lazy=False):
    """Replace every pending tensor / storage in ``obj`` by a numpy array (in place for
    dicts and lists, which keeps their order and type; tuples are rebuilt). ``lazy``: leave
    tensors as read-only views of the memory-mapped file where the layout allows."""
    done = {}

    def tensor(p):
        ref = p.storage
        if any(s == 0 for s in p.size):
            data = np.empty(p.size, ref.stype.dtype)
        else:
            last = p.offset + sum((n - 1) * s for n, s in zip(p.size, p.stride))
            if last >= ref.length:
                raise TorchCheckpointError(
                    f"{path}: tensor of size {p.size}, stride {p.stride}, offset {p.offset} "
                    f"reads past its storage {ref.key!r} of {ref.length} elements")
            flat = read_storage(ref)[ref.start + p.offset:]
            view = np.lib.stride_tricks.as_strided(
                flat, p.size, [s * flat.itemsize for s in p.stride], writeable=False)
            if lazy and flat.dtype.isnative and not ref.stype.bfloat16:
                return view
            data = np.array(view, ref.stype.dtype.newbyteorder("="), order="C")
        if ref.stype.bfloat16:
            data = (data.astype(np.uint32) << 16).view(np.float32)
        return data

    def visit(x):
        if id(x) in done:
            return done[id(x)]
        if isinstance(x, _PendingTensor):
            out = tensor(x)
        elif isinstance(x, _StorageRef):
            out = tensor(_PendingTensor(x, 0, (x.length,), (1,)))
        elif isinstance(x, dict):
            done[id(x)] = x
            for k in list(x):
                x[k] = visit(x[k])
            return x
        elif isinstance(x, list):
            done[id(x)] = x
            x[:] = [visit(v) for v in x]
            return x
        elif isinstance(x, tuple):
            out = tuple(visit(v) for v in x)
        else:
            return x
        done[id(x)] = out
        return out

    return visit(obj)


def _zip_member_array(path, zf, info, dtype, count):
    """``count`` elements of ``dtype`` from a zip member: memory-mapped when stored."""
    if info.file_size < count * dtype.itemsize:
        raise TorchCheckpointError(f"{path}: {info.filename} holds {info.file_size} bytes, "
                                   f"expected {count * dtype.itemsize}")
    if count == 0:
        return np.empty(0, dtype)
    if info.compress_type != zipfile.ZIP_STORED:
        return np.frombuffer(zf.read(info), dtype, count)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise TorchCheckpointError(f"{path}: bad zip local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    offset = info.header_offset + 30 + name_len + extra_len
    if offset + count * dtype.itemsize > os.path.getsize(path):
        raise TorchCheckpointError(f"{path}: {info.filename} is truncated")
    return np.memmap(path, dtype, mode="r", offset=offset, shape=(count,))


def _load_zip(path, lazy=False):
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            pkls = sorted((n for n in names if n.endswith("data.pkl")
                           and n.count("/") == 1), key=len)
            if not pkls:
                raise TorchCheckpointError(
                    f"{path}: zip file without '<dir>/data.pkl', not a torch.save archive")
            prefix = pkls[0][: -len("data.pkl")]
            big = prefix + "byteorder" in names and zf.read(prefix + "byteorder") == b"big"
            with zf.open(pkls[0]) as f:
                obj, unpickler = _unpickle(f, path)
            cache = {}

            def read_storage(ref):
                if ref.key not in cache:
                    name = f"{prefix}data/{ref.key}"
                    if name not in names:
                        raise TorchCheckpointError(f"{path}: storage {name} is missing")
                    dtype = ref.stype.dtype.newbyteorder(">" if big else "<")
                    cache[ref.key] = _zip_member_array(path, zf, zf.getinfo(name), dtype,
                                                       ref.numel)
                return cache[ref.key]

            return _materialize(obj, read_storage, path, lazy)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as e:
        raise TorchCheckpointError(f"{path}: unreadable zip archive ({e})") from e


def _load_legacy(path, lazy=False):
    with open(path, "rb") as f:
        magic, _ = _unpickle(f, path)
        if magic != LEGACY_MAGIC_NUMBER:
            raise TorchCheckpointError(f"{path}: not a PyTorch checkpoint (bad magic number)")
        version, _ = _unpickle(f, path)
        if version != LEGACY_PROTOCOL_VERSION:
            raise TorchCheckpointError(f"{path}: unsupported legacy protocol version {version!r}")
        sys_info, _ = _unpickle(f, path)
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", True):
            raise TorchCheckpointError(f"{path}: only little-endian legacy files are supported")
        obj, unpickler = _unpickle(f, path, legacy=True)
        keys, _ = _unpickle(f, path)
        if not isinstance(keys, list):
            raise TorchCheckpointError(f"{path}: malformed storage key list")
        offsets, size = {}, os.path.getsize(path)
        for key in keys:
            ref = unpickler.storages.get(key)
            head = f.read(8)
            if ref is None or len(head) != 8:
                raise TorchCheckpointError(f"{path}: storage {key!r} is unknown or truncated")
            (count,) = struct.unpack("<q", head)
            end = f.tell() + count * ref.stype.dtype.itemsize
            if count != ref.numel or end > size:
                raise TorchCheckpointError(f"{path}: storage {key!r} is truncated or "
                                           f"has {count} elements, expected {ref.numel}")
            offsets[key] = f.tell()
            f.seek(end)
    missing = sorted(set(unpickler.storages) - set(offsets))
    if missing:
        raise TorchCheckpointError(f"{path}: storages {missing[:5]} are not in the file")
    cache = {}

    def read_storage(ref):
        if ref.key not in cache:
            cache[ref.key] = (np.empty(0, ref.stype.dtype) if ref.numel == 0 else np.memmap(
                path, ref.stype.dtype, mode="r", offset=offsets[ref.key], shape=(ref.numel,)))
        return cache[ref.key]

    return _materialize(obj, read_storage, path, lazy)


def load_torch_file(path, lazy=False):
    """Load a ``torch.save`` file without torch: every tensor becomes a numpy array.

    Follows ``torch.load`` in ``torch/serialization.py`` of pytorch/pytorch (zip archive or
    legacy stream, see the module docstring), with a restricted unpickler.

    Args:
        path: str or os.PathLike, a ``.pth`` / ``.pt`` file.
        lazy: return each tensor stored uncompressed in native byte order as a read-only
            view of the memory-mapped file (nothing is read until it is used; e.g.
            DPTN_step's 1.31 GB positional table, of which a loader needs 7 rows); other
            tensors are copied as usual.

    Returns:
        The saved object (dicts, ``OrderedDict``s, lists, tuples, numbers, strings) with each
        tensor or Parameter as a C-contiguous numpy array of its shape and dtype (``float32``,
        ``float16``, ``int64``, ``bool``, ...; ``bfloat16`` -> ``float32``). Tensors sharing one
        pickled tensor object come back as one array.

    Raises:
        TorchCheckpointError: the file is missing, truncated, not a checkpoint, in the old tar
            form, or references a global outside the allow list (named as ``module.name``).
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as e:
        raise TorchCheckpointError(f"{path}: cannot read ({e})") from e
    if head[:4] == b"PK\x03\x04":
        return _load_zip(path, lazy)
    if head[257:262] == b"ustar":
        raise TorchCheckpointError(f"{path}: tar checkpoints of torch < 1.0 are not supported; "
                                   "re-save with a newer torch")
    if head[:1] != b"\x80":
        raise TorchCheckpointError(f"{path}: not a PyTorch checkpoint (neither a zip archive "
                                   "nor a legacy pickle stream)")
    return _load_legacy(path, lazy)


def state_dict(source, key=None, strip_prefixes=("module.",)):
    """A flat ``name -> numpy array`` mapping from a checkpoint file or a loaded object.

    Args:
        source: path of a checkpoint, or an object returned by ``load_torch_file``.
        key: optional entry to pick first, e.g. ``"netG"`` or ``"state_dict"``.
        strip_prefixes: prefixes removed from the start of each name when present (default:
            the ``module.`` that ``nn.DataParallel`` / DDP add).

    Returns:
        dict of str -> np.ndarray in the file's order.

    Raises:
        TorchCheckpointError: ``key`` is absent, the object is not a flat mapping of arrays
            (the message lists its top-level keys), or two names collide after stripping.
    """
    where = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<object>"
    obj = load_torch_file(source) if where != "<object>" else source
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            top = list(obj) if isinstance(obj, dict) else type(obj).__name__
            raise TorchCheckpointError(f"{where}: no entry {key!r}; top level: {top}")
        obj = obj[key]
    if not isinstance(obj, dict):
        raise TorchCheckpointError(f"{where}: expected a state dict, got {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not (isinstance(k, str) and isinstance(v, np.ndarray))]
    if bad:
        raise TorchCheckpointError(
            f"{where}: not a flat name -> tensor mapping (e.g. {bad[:3]}); pass key= one of "
            f"the top-level keys {list(obj)[:20]}")
    out = {}
    for name, value in obj.items():
        for prefix in strip_prefixes:
            if name.startswith(prefix):
                name = name[len(prefix):]
        if name in out:
            raise TorchCheckpointError(f"{where}: two tensors are named {name!r} after "
                                       f"stripping {strip_prefixes}")
        out[name] = value
    return out


_SN_SUFFIXES = {  # torch.nn.utils.spectral_norm / torch.nn.utils.parametrizations.spectral_norm
    "weight_orig": "weight_orig", "weight_u": "u", "weight_v": "v",
    "parametrizations.weight.original": "weight_orig",
    "parametrizations.weight.0._u": "u", "parametrizations.weight.0._v": "v",
}


def spectral_norm_triples(state):
    """Group the spectral-norm tensors of a state dict by module.

    ``torch.nn.utils.spectral_norm`` (``spectral_norm.py`` in pytorch/pytorch) stores
    ``<p>.weight_orig`` (the raw weight), ``<p>.weight_u`` (``(out,)``) and ``<p>.weight_v``
    (``(in*kh*kw,)``); the parametrization version stores
    ``<p>.parametrizations.weight.original`` / ``.0._u`` / ``.0._v``. Both are recognised.

    Args:
        state: dict of name -> np.ndarray (e.g. from ``state_dict``).

    Returns:
        dict ``p -> {"weight_orig": array, "u": array, "v": array}`` in first-seen order
        (``p`` is ``""`` for a top-level module).

    Raises:
        TorchCheckpointError: a group lacks one of its three tensors.
    """
    groups = {}
    for name, value in state.items():
        for suffix, role in _SN_SUFFIXES.items():
            if name == suffix or name.endswith("." + suffix):
                groups.setdefault(name[: -len(suffix)].rstrip("."), {})[role] = value
    broken = {p: sorted(g) for p, g in groups.items() if len(g) != 3}
    if broken:
        raise TorchCheckpointError(f"incomplete spectral-norm groups (roles present): {broken}")
    return groups


def spectral_norm_weight(triple):
    """The weight a spectral-normed torch module uses in eval mode: ``W / (u . W_mat v)``.

    Follows ``SpectralNorm.compute_weight`` in ``torch/nn/utils/spectral_norm.py`` of
    pytorch/pytorch without power iterations (``eval()``), with ``W_mat`` the weight reshaped
    to ``(out, -1)`` (dim 0; note ``ConvTranspose`` modules use dim 1 in torch, so this helper
    covers Conv / Linear only).

    Args:
        triple: one value of ``spectral_norm_triples``.

    Returns:
        float32 np.ndarray shaped like ``triple["weight_orig"]``.
    """
    w = np.asarray(triple["weight_orig"], np.float32)
    sigma = np.dot(triple["u"], w.reshape(w.shape[0], -1) @ triple["v"])
    return (w / sigma).astype(np.float32)


_KERAS_LAYOUT = {  # kind -> (rank, permutation applied to the torch array)
    "conv2d": (4, (2, 3, 1, 0)),            # (out, in, kh, kw) -> (kh, kw, in, out)
    "conv_transpose2d": (4, (2, 3, 1, 0)),  # (in, out, kh, kw) -> (kh, kw, out, in)
    "linear": (2, (1, 0)),                  # (out, in) -> (in, out)
}


def to_keras(array, kind):
    """Convert one torch weight to the layout of the matching Keras 3 variable.

    The rule: the two spatial axes move to the front and the two channel axes swap, i.e. the
    transpose ``(2, 3, 1, 0)`` for 4-D kernels and ``(1, 0)`` for Linear; nothing is flipped.

    * ``"conv2d"``: ``nn.Conv2d.weight`` ``(out, in, kh, kw)`` -> ``Conv2D`` ``(kh, kw, in, out)``.
    * ``"conv_transpose2d"``: ``nn.ConvTranspose2d.weight`` ``(in, out, kh, kw)`` ->
      ``Conv2DTranspose`` ``(kh, kw, out, in)`` (both layers are the adjoint of a correlation).
    * ``"linear"``: ``nn.Linear.weight`` ``(out, in)`` -> ``Dense`` ``(in, out)``.
    * ``"vector"``: biases, norm scales / shifts / running stats, unchanged (any rank).

    Args:
        array: np.ndarray from a torch state dict.
        kind: one of the names above.

    Returns:
        C-contiguous np.ndarray of the same dtype.

    Raises:
        ValueError: unknown ``kind`` or an array of the wrong rank.
    """
    return _relayout(array, kind, "to_keras")


def to_torch(array, kind):
    """The inverse of :func:`to_keras`: a Keras 3 variable's value in the torch layout of
    ``kind`` (e.g. ``Conv2D`` ``(kh, kw, in, out)`` -> ``(out, in, kh, kw)``). C-contiguous
    np.ndarray of the same dtype."""
    return _relayout(array, kind, "to_torch")


def _relayout(array, kind, direction):
    array = np.asarray(array)
    if kind == "vector":
        return array
    if kind not in _KERAS_LAYOUT:
        raise ValueError(f"{direction}: unknown kind {kind!r}; "
                         f"expected one of {sorted(_KERAS_LAYOUT) + ['vector']}")
    rank, perm = _KERAS_LAYOUT[kind]
    if array.ndim != rank:
        raise ValueError(f"{direction}: a {kind} weight must be {rank}-D, got shape "
                         f"{array.shape}")
    return np.ascontiguousarray(array.transpose(perm if direction == "to_keras"
                                                else np.argsort(perm)))


def _is_ignored(name, ignore):
    return any(name.startswith(p) or fnmatch.fnmatchcase(name, p) for p in ignore)


def assign_state_dict(pairs, state, path="<checkpoint>", strict=True, ignore=()):
    """Assign torch tensors to Keras variables, all or nothing.

    Every name is looked up and every converted shape compared with its variable BEFORE any
    variable is touched; one error then lists all problems.

    Args:
        pairs: list of ``(keras_variable, torch_name, kind)``; ``kind`` as in ``to_keras``.
            A variable needs ``.shape``, ``.dtype`` and ``.assign`` (``keras.Variable``).
        state: dict of torch name -> np.ndarray (e.g. from ``state_dict``).
        path: file name used in error messages.
        strict: also fail when checkpoint tensors are left unused.
        ignore: names exempt from the unused check: each entry is a name prefix or an
            ``fnmatch`` pattern (e.g. ``("netD.", "*.num_batches_tracked")``).

    Raises:
        TorchCheckpointError: missing names, shape mismatches (showing torch and converted
            shapes) or, with ``strict``, unused names; nothing is assigned then.
        ValueError: a ``kind`` unknown to ``to_keras`` or of the wrong rank.
    """
    missing, mismatched, ready = [], [], []
    for variable, name, kind in pairs:
        if name not in state:
            missing.append(name)
            continue
        value = to_keras(state[name], kind)
        if tuple(value.shape) != tuple(variable.shape):
            mismatched.append(f"{name} {tuple(state[name].shape)} -> {tuple(value.shape)} "
                              f"vs variable {tuple(variable.shape)}")
            continue
        ready.append((variable, value))
    used = {name for _, name, _ in pairs}
    unused = [n for n in state if n not in used and not _is_ignored(n, ignore)] if strict else []
    if missing or mismatched or unused:
        parts = []
        for label, items in (("missing", missing), ("shape mismatch", mismatched),
                             ("unused", unused)):
            if items:
                more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
                parts.append(f"{len(items)} {label}: {items[:5]}{more}")
        raise TorchCheckpointError(f"{path}: cannot assign state dict; " + "; ".join(parts))
    for variable, value in ready:
        variable.assign(value.astype(str(np.dtype(variable.dtype))))
