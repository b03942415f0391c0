"""PAINT's data: Fashion-Gen folders, each stage's loader, a synthetic layout, TFRecords
(``LGN/data/aligned_dataset.py``, ``TSN/core/dataset.py``, ``AFN/core/dataset.py`` in
gxl-groups/PAINT). Layout (``root`` = LGN's ``--dataroot`` = TSN / AFN's ``zip_root``;
their ``flist_root`` is ``<root>/flist`` by default)::

    imageyy/<a>_<N>/<id>_<v>.jpg      RGB photos (TSN, AFN)
    parsing/<a>_<N>/<id>_<v>.png      label maps 0..19 (CIHP classes; all stages)
    pose/<a>_<N>/<id>_<v>.json        {"0": [x, y], ..., "17": [x, y]} (LGN)
    canny_train/<a>_<N>/<id>_<v>.jpg  edge images (LGN's unused ``c5`` / ``sketch``: not read)
    all_train.txt                     LGN's list (read for training and test alike)
    <flist_root>/pen5/{train,test}.flist, <flist_root>/pen55/{train,test}.flist  TSN, AFN

A garment folder ``<a>_<N>`` holds three views ``<N+1>_1``, ``<N+2>_2``, ``<N+3>_3``; list
lines are ``<a>_<N>/<N+1>_1.jpg`` (first token; blank and ``#`` lines skipped as numpy's
``genfromtxt`` does; a one-line list works, where ``genfromtxt`` gives a 0-d array that
crashes the original). Paths are built from the parsed relative name joined under the stage
folders, not with the original's ``str.replace('pen5', 'imageyy')`` / ``replace('jpg',
'png')`` over the whole path (which breaks on a root containing ``pen5`` or ``jpg``). TSN /
AFN lists are sorted as the originals sort theirs; LGN's keeps file order.

Items (:class:`PaintLayout`, ``item(index, seed, epoch)``) are dicts of float32 NHWC arrays,
images in [-1, 1] (``(u8 / 255 - 0.5) / 0.5``): LGN ``A`` [H, W, 18] pose disks in {-1, 1},
``B`` [H, W, 20] one-hot, ``ct`` / ``cb`` / ``c3`` [H, W, 4]; TSN ``parsing`` [H, W, 20],
``image`` [H, W, 3], ``mask_t`` / ``mask_b`` / ``mask_to`` / ``mask_bo`` [H, W, 1],
``swatch_t`` / ``swatch_b`` [H, W, 3]; AFN ``parsing`` / ``parsing_p1`` / ``parsing_p2`` [H,
W, 9], ``image`` / ``image_p1`` / ``image_p2`` [H, W, 3]. The originals draw the random
choices (LGN's view, TSN's swatch sides, AFN's roles) from torch's global RNG in the loader
workers; here each item draws them, in the same order, from ``numpy.random.default_rng([seed,
epoch, index])``: reproducible, whatever order items are read in. Missing or bad files raise
:class:`PaintDataError` naming the file; ``skip_bad_items=True`` reproduces TSN / AFN's bare
``try/except`` that returns item 0 instead.
"""

import collections
import io
import json
import os
import pathlib
import warnings

import numpy as np
from PIL import Image
from scipy import ndimage

from tfposegen.data.synthetic_persons import make_person, mirror_keypoints
from tfposegen.models.paint import pipeline as P
from tfposegen.parsing.labels import PAINT_TSN_BOTTOM, PAINT_TSN_TOP
from tfposegen.pose.formats import PoseFileError, read_paint_json
from tfposegen.pose.keypoints import NUM_JOINTS
from tfposegen.utils.files import atomic_path, dataset_files, write_json

STAGES = ("lgn", "tsn", "afn")
LGN_LIST = "all_train.txt"
FLIST_NAMES = {"tsn": "pen5", "afn": "pen55"}
FOLDERS = {"image": ("imageyy", ".jpg"), "parsing": ("parsing", ".png"),
           "pose": ("pose", ".json"), "canny": ("canny_train", ".jpg")}
# LGN's encoder components (aligned_dataset.py): upper garment, lower garment, head
LGN_COMPONENTS = {"ct": (5, 6, 7), "cb": (8, 9, 12), "c3": (1, 2, 13)}
CHANNELS = {"lgn": dict(A=NUM_JOINTS, B=P.NUM_LABELS, ct=4, cb=4, c3=4),
            "tsn": dict(parsing=P.NUM_LABELS, image=3, mask_t=1, mask_b=1, swatch_t=3,
                        swatch_b=3, mask_to=1, mask_bo=1),
            "afn": dict(parsing=9, image=3, image_p1=3, parsing_p1=9, image_p2=3, parsing_p2=9)}
KEYS = {stage: tuple(keys) for stage, keys in CHANNELS.items()}   # each stage's item keys
_PARTS = {"lgn": ("parsing", "pose"), "tsn": ("image", "parsing"), "afn": ("image", "parsing")}
_LR_LABELS = {14: 15, 15: 14, 16: 17, 17: 16, 18: 19, 19: 18}   # CIHP left <-> right
_TG22 = int(0.4142135623730950488016887242097 * (1 << 15) + 0.5)  # OpenCV's tan 22.5 << 15

View = collections.namedtuple("View", "stem image parsing keypoints")
View.__doc__ = """A view: ``stem`` ``<a>_<N>/<id>_<v>``, ``image`` / ``parsing`` file bytes (b""
if unread), ``keypoints`` float64 [18, 2] (row, col) of the pose JSON (None if unread)."""
RawItem = collections.namedtuple("RawItem", "stage name index views")
RawItem.__doc__ = """An item's sources: stage, list line, list position, :class:`View` s."""


class PaintDataError(ValueError):
    """A missing or unusable PAINT data file or list line; the message names it."""


# ------------------------------------------------------------------ lists and names


def read_list(path):
    """List-file lines (``all_train.txt``, ``*.flist``): the first whitespace token of each
    non-blank line not starting with ``#``, in file order; a one-line file gives one name.
    Raises :class:`PaintDataError` for a missing or empty list."""
    if not os.path.isfile(path):
        raise PaintDataError(f"{path}: list file not found")
    with open(path, encoding="utf-8") as f:
        names = [line.split()[0] for line in f if line.strip() and not line.lstrip()
                 .startswith("#")]
    if not names:
        raise PaintDataError(f"{path}: list file has no names")
    return names


def list_path(root, stage, split="train", flist_root=None, list_file=None):
    """The list a stage reads (or ``list_file``): LGN ``<root>/all_train.txt`` for every
    split (LGN/data/aligned_dataset.py), TSN ``<flist_root>/pen5/<split>.flist``
    (TSN/core/dataset.py), AFN ``.../pen55/...``; ``flist_root`` default ``<root>/flist``."""
    if stage not in STAGES:
        raise ValueError(f"stage: one of {STAGES}, got {stage!r}")
    if list_file is not None:
        return list_file if os.path.isabs(list_file) else os.path.join(root, list_file)
    if stage == "lgn":
        return os.path.join(root, LGN_LIST)
    flist_root = os.path.join(root, "flist") if flist_root is None else flist_root
    return os.path.join(flist_root, FLIST_NAMES[stage], f"{split}.flist")


def garment_views(name):
    """LGN's three view stems of a list line (LGN/data/aligned_dataset.py): ``<a>_<N>/<N+1>_1,
    <a>_<N>/<N+2>_2, <a>_<N>/<N+3>_3`` with ``<a>_<N>`` the line's first path component, N
    the digits after its last ``_`` (the original splits the whole line at every ``_``)."""
    folder = name.replace("\\", "/").split("/")[0]
    head, _, n = folder.rpartition("_")
    if not head or not n.isdigit():
        raise PaintDataError(f"{name!r}: expected '<a>_<N>/...' with a numeric N")
    return tuple(f"{folder}/{int(n) + v}_{v}" for v in (1, 2, 3))


def listed_views(name):
    """AFN's three view stems of a list line ``<folder>/<id>_1.jpg`` (AFN/core/dataset.py):
    the line, ``<folder>/<id+1>_2``, ``<folder>/<id+2>_3`` (id: the name up to its ``_``)."""
    stem = os.path.splitext(name.replace("\\", "/"))[0]
    folder, base = os.path.split(stem)
    ident = base.split("_")[0]
    if not ident.isdigit():
        raise PaintDataError(f"{name!r}: expected '<folder>/<id>_<view>.jpg' with a numeric id")
    return (stem,) + tuple(os.path.join(folder, f"{int(ident) + k}_{k + 1}") for k in (1, 2))


def view_path(root, stem, part):
    """``<root>/<imageyy|parsing|pose|canny_train>/<stem><.jpg|.png|.json|.jpg>``."""
    folder, ext = FOLDERS[part]
    return os.path.join(root, folder, *stem.split("/")) + ext


def read_view(root, stem, parts):
    """The :class:`View` of ``stem`` with the files of ``parts`` (``image``, ``parsing``,
    ``pose``) read; raises :class:`PaintDataError` naming a missing or malformed file."""
    data = dict(image=b"", parsing=b"", keypoints=None)
    for part in parts:
        path = view_path(root, stem, part)
        if not os.path.isfile(path):
            raise PaintDataError(f"{path}: {part} file not found")
        if part != "pose":
            data[part] = pathlib.Path(path).read_bytes()
            continue
        try:
            data["keypoints"] = read_paint_json(path)
        except PoseFileError as e:
            raise PaintDataError(str(e)) from None
    return View(stem, **data)


def decode_labels(data, what):
    """int64 [H, W] labels 0..19 of a parsing PNG's bytes (``np.array(Image.open(...))`` of an
    'L' / 'P' image), or :class:`PaintDataError` naming ``what`` (a colour image; a label of
    20 or more, to which the original's one-hot silently gives no class)."""
    labels = _decode(data, what, "parsing map", None)
    if labels.ndim != 2:
        raise PaintDataError(f"{what}: expected a single-channel label map, got shape "
                             f"{labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= P.NUM_LABELS):
        raise PaintDataError(f"{what}: labels must be 0..{P.NUM_LABELS - 1}, found "
                             f"{labels.min()}..{labels.max()}")
    return labels.astype(np.int64)


def decode_image(data, what):
    """float32 [H, W, 3] in [-1, 1] of an image file's bytes: PIL ``convert('RGB')``,
    ``ToTensor``, ``Normalize(0.5, 0.5)``; :class:`PaintDataError` naming ``what``. (TSN opens
    without ``convert``: its loader fails on a grey JPEG and substitutes item 0.)"""
    return (_decode(data, what, "image", "RGB").astype(np.float32) / 255 - 0.5) / 0.5


def _decode(data, what, kind, mode):
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert(mode) if mode else im)
    except Exception as e:
        raise PaintDataError(f"{what}: cannot read the {kind} ({e})") from None


# ------------------------------------------------------------------ per-stage builders


def rand_between(rng, a, b):
    """The originals' ``a + round(torch.rand(1) * (b - a))`` (half to even), a float32 uniform
    from the Generator ``rng``: (0, 2) gives 0, 1, 2 with probability 1/4, 1/2, 1/4."""
    u = rng.random(dtype=np.float32)
    return float(a + np.round(u * np.float32(b - a)))


def canny_edges(image, low, high):
    """OpenCV's ``cv2.Canny(image, low, high)`` (aperture 3, L1 gradient) in numpy: Sobel
    derivatives with replicated borders, magnitude ``|dx| + |dy|``, non-maximum suppression
    in four directions with OpenCV's fixed-point tan 22.5 / 67.5 tests (neighbours outside
    the image count 0; ``>`` one side, ``>=`` the other), pixels above ``floor(low)`` kept
    where 8-connected to one above ``floor(high)`` (swapped if low > high). ``image``: uint8
    [H, W]; returns uint8 [H, W], 255 on edges, 0 elsewhere. Checked equal to OpenCV 4.5.5
    and 5.1 on random masks and images."""
    low, high = sorted((int(np.floor(low)), int(np.floor(high))))
    a = np.pad(np.asarray(image, np.int64), 1, mode="edge")
    dx = (a[:-2, 2:] + 2 * a[1:-1, 2:] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[1:-1, :-2]
                                                       + a[2:, :-2])
    dy = (a[2:, :-2] + 2 * a[2:, 1:-1] + a[2:, 2:]) - (a[:-2, :-2] + 2 * a[:-2, 1:-1]
                                                       + a[:-2, 2:])
    mag = np.abs(dx) + np.abs(dy)
    height, width = mag.shape
    padded = np.pad(mag, 1)

    def at(dr, dc):
        return padded[1 + dr:1 + dr + height, 1 + dc:1 + dc + width]

    x, y = np.abs(dx), np.abs(dy) << 15
    tg22x = x * _TG22
    horizontal = y < tg22x
    vertical = ~horizontal & (y > tg22x + (x << 16))
    same_sign = (dx ^ dy) >= 0
    keep = np.where(horizontal, (mag > at(0, -1)) & (mag >= at(0, 1)),
                    np.where(vertical, (mag > at(-1, 0)) & (mag >= at(1, 0)),
                             np.where(same_sign, (mag > at(-1, -1)) & (mag > at(1, 1)),
                                      (mag > at(-1, 1)) & (mag > at(1, -1)))))
    weak = keep & (mag > low)
    components, _ = ndimage.label(weak, structure=np.ones((3, 3)))
    strong = np.unique(components[weak & (mag > high)])
    return np.where(np.isin(components, strong[strong > 0]), 255, 0).astype(np.uint8)


def lgn_components(labels):
    """LGN's encoder inputs of int [H, W] labels (LGN/data/aligned_dataset.py): dict ``ct``,
    ``cb``, ``c3`` of float32 [H, W, 4]: the masks of labels (5, 6, 7), (8, 9, 12), (1, 2,
    13) and ``cv2.Canny(union, 0, 1) / 255`` of their union (:func:`canny_edges`)."""
    labels = np.asarray(labels)
    out = {}
    for key, ids in LGN_COMPONENTS.items():
        masks = np.stack([labels == i for i in ids], axis=-1)
        edge = canny_edges(masks.sum(-1).astype(np.uint8), 0, 1) / np.float32(255)
        out[key] = np.concatenate([masks.astype(np.float32), edge[..., None]], axis=-1)
    return out


def lgn_view(rng):
    """LGN's random view (``ir_id = int(rand_between(0, 2))``): 0, 1, 2 (views 1..3) with
    probabilities 1/4, 1/2, 1/4, at test time too."""
    return int(rand_between(rng, 0, 2))


def lgn_example(labels, keypoints):
    """LGN's item (``AlignedDataset.__getitem__``, LGN/data/aligned_dataset.py in
    gxl-groups/PAINT) of a view's int [H, W] labels and float [18, 2] (row, col) keypoints:
    dict of float32 ``A`` [H, W, 18] pose disks in {-1, 1} (``pipeline.pose_disks``), ``B``
    [H, W, 20] one-hot, ``ct``, ``cb``, ``c3`` [H, W, 4] (:func:`lgn_components`)."""
    labels = np.asarray(labels)
    height, width = labels.shape
    return dict(A=P.pose_disks(keypoints, height, width), B=P.one_hot(labels),
                **lgn_components(labels))


def tsn_sides(rng, width=256):
    """TSN's swatch sides (``gen_inputb_rand`` then ``gen_inputb_randb``): ``int(rand_between
    (40, 60))`` and ``int(rand_between(32, 48))`` at width 256, scaled by width / 256
    otherwise (at least 1)."""
    return tuple(max(1, int(rand_between(rng, *sides) * width / 256))
                 for sides in (P.TOP_SIDES, P.BOTTOM_SIDES))


def tsn_example(image, labels, top_side, bottom_side):
    """TSN's item (``Dataset.load_item``, TSN/core/dataset.py in gxl-groups/PAINT) of
    ``image`` float32 [H, W, 3] in [-1, 1], ``labels`` int [H, W] 0..19 and the swatch
    squares' sides (:func:`tsn_sides`): dict of float32 ``parsing`` [H, W, 20] one-hot,
    ``image``, ``mask_t`` (labels 5, 6, 7) / ``mask_b`` (9, 12) [H, W, 1], ``mask_to`` /
    ``mask_bo`` [H, W, 1] the squares at the region's median pixel row (raster order, true
    division) and column W / 2 resp. 100 W / 256 (:func:`~tfposegen.models.paint.pipeline.
    swatch_box`; centred if the region is empty), ``swatch_t = image * mask_t * mask_to``,
    ``swatch_b`` likewise [H, W, 3]: the garment in the square, left in place."""
    labels = np.asarray(labels)
    width = labels.shape[1]
    out = dict(parsing=P.one_hot(labels), image=image)
    for key, ids, column, side in (("t", PAINT_TSN_TOP, P.TOP_COLUMN, top_side),
                                   ("b", PAINT_TSN_BOTTOM, P.BOTTOM_COLUMN, bottom_side)):
        region = np.isin(labels, ids).astype(np.float32)[..., None]
        r0, r1, c0, c1, _, _ = P.swatch_box(region[..., 0], (side, side), column * width / 256)
        square = np.zeros_like(region)
        square[r0:r1, c0:c1] = 1
        out[f"mask_{key}"], out[f"mask_{key}o"] = region, square
        out[f"swatch_{key}"] = image * region * square
    return out


def afn_roles(rng):
    """AFN's roles (AFN/core/dataset.py): indices into (v1, v2, v3) of (source, p1, p2).
    Start (0, 1, 2); ``r = rand_between(0, 2)``: 1 swaps source and p1, 2 swaps source and
    p2; a second draw of 1 swaps p1 and p2. Source v1 / v2 / v3 with probability 1/4, 1/2,
    1/4, at test time too."""
    roles = [0, 1, 2]
    r = int(rand_between(rng, 0, 2))
    if r:
        roles[0], roles[r] = roles[r], roles[0]
    if int(rand_between(rng, 0, 2)) == 1:
        roles[1], roles[2] = roles[2], roles[1]
    return tuple(roles)


def afn_example(images, labels, roles=(0, 1, 2)):
    """AFN's item (``Dataset.load_item``, AFN/core/dataset.py in gxl-groups/PAINT) of the
    three views' float32 [H, W, 3] images in [-1, 1] and int [H, W] labels, with ``roles``
    (:func:`afn_roles`): dict ``image`` / ``parsing`` (source), ``image_p1`` / ``parsing_p1``,
    ``image_p2`` / ``parsing_p2``; parsings float32 [H, W, 9] (``pipeline.afn_parsing``)."""
    out = {}
    for suffix, k in zip(("", "_p1", "_p2"), roles):
        out["image" + suffix] = images[k]
        out["parsing" + suffix] = P.afn_parsing(np.asarray(labels[k])[None])[0]
    return out


def item_rng(seed, index, epoch=0):
    """One item's random choices: ``numpy.random.default_rng([seed, epoch, index])``."""
    return np.random.default_rng([int(seed), int(epoch), int(index)])


def build_item(raw, seed=0, epoch=0, root=""):
    """A stage's item from a :class:`RawItem` (files or a record), its random choices from
    :func:`item_rng` (seed, epoch, ``raw.index``): a dict of float32 arrays with the keys
    ``KEYS[raw.stage]`` (module docstring). Raises :class:`PaintDataError` naming the file
    (under ``root``) that is malformed, or views of different sizes."""
    rng = item_rng(seed, raw.index, epoch)
    views = raw.views
    if raw.stage == "lgn":
        view = views[lgn_view(rng)]
        labels = decode_labels(view.parsing, view_path(root, view.stem, "parsing"))
        return lgn_example(labels, view.keypoints)
    labels = [decode_labels(v.parsing, view_path(root, v.stem, "parsing")) for v in views]
    images = [decode_image(v.image, view_path(root, v.stem, "image")) for v in views]
    for v, lab, img in zip(views, labels, images):
        if img.shape[:2] != labels[0].shape or lab.shape != labels[0].shape:
            raise PaintDataError(f"{view_path(root, v.stem, 'image')}: image {img.shape[:2]} "
                                 f"and parsing {lab.shape} must match {labels[0].shape}")
    if raw.stage == "tsn":
        return tsn_example(images[0], labels[0], *tsn_sides(rng, labels[0].shape[1]))
    return afn_example(images, labels, afn_roles(rng))


# ------------------------------------------------------------------ the layout


class PaintLayout:
    """One stage's view of a Fashion-Gen layout (LGN/data/aligned_dataset.py,
    TSN/core/dataset.py, AFN/core/dataset.py in gxl-groups/PAINT): ``names`` (the list; TSN /
    AFN sorted), ``item(index, seed=0, epoch=0)`` (:func:`build_item`), ``raw(index)`` (the
    :class:`RawItem`). All three views an LGN / AFN item may use are read (the original
    reads only the one it picks).

    Args:
        root: the data root; stage: ``"lgn"``, ``"tsn"`` or ``"afn"``.
        split: ``"train"`` / ``"test"`` (TSN / AFN; LGN reads ``all_train.txt`` for both).
        flist_root: folder of ``pen5/``, ``pen55/`` (default ``<root>/flist``).
        list_file: another list (relative to ``root`` or absolute).
        skip_bad_items: on a missing / bad file warn and return item 0, as TSN / AFN's
            ``__getitem__`` (default: raise :class:`PaintDataError`).
    """

    def __init__(self, root, stage, split="train", flist_root=None, list_file=None,
                 skip_bad_items=False):
        self.root, self.stage, self.skip_bad_items = root, stage, skip_bad_items
        self.list_path = list_path(root, stage, split, flist_root, list_file)
        names = read_list(self.list_path)
        self.names = names if stage == "lgn" else sorted(names)

    def __len__(self):
        return len(self.names)

    def view_stems(self, index):
        """The view stems item ``index`` reads (LGN 3, TSN 1, AFN 3)."""
        name = self.names[index]
        try:
            return {"lgn": garment_views, "afn": listed_views}.get(
                self.stage, lambda n: (os.path.splitext(n)[0],))(name)
        except PaintDataError as e:
            raise PaintDataError(f"{self.list_path}: {e}") from None

    def raw(self, index):
        """:class:`RawItem` of item ``index`` (its files' bytes and keypoints)."""
        views = tuple(read_view(self.root, s, _PARTS[self.stage]) for s in
                      self.view_stems(index))
        return RawItem(self.stage, self.names[index], index, views)

    def item(self, index, seed=0, epoch=0):
        """Item ``index`` as the stage's loader builds it (:func:`build_item`)."""
        try:
            return build_item(self.raw(index), seed, epoch, self.root)
        except PaintDataError as e:
            if not self.skip_bad_items or index == 0:
                raise
            warnings.warn(f"loading error: {e}; item 0 instead", stacklevel=2)
            return build_item(self.raw(0), seed, epoch, self.root)


# ------------------------------------------------------------------ synthetic layout


def _mirror_labels(labels):
    table = np.arange(256, dtype=np.uint8)
    table[list(_LR_LABELS)] = list(_LR_LABELS.values())
    return table[labels[:, ::-1]]


def write_synthetic_layout(root, num_train=3, num_test=1, size=256, seed=0, flist_root=None):
    """A Fashion-Gen layout of procedural people (:func:`make_person`, CIHP labels) under
    ``root``, so every stage trains and tests offline: ``num_train`` + ``num_test`` garment
    folders ``<42 + k % 5>_<70880 + 10 k + 1000 seed>``, each with view 1 a person, view 2
    the same image mirrored (keypoints mirrored, left / right labels swapped), view 3 the
    same person in another pose, as ``imageyy`` JPEGs (quality 95), ``parsing`` PNGs (L),
    ``pose`` JSON (``{"k": [x, y]}``; a hidden joint ``[0, 0]``, PAINT's "not found") and
    ``canny_train`` JPEGs (:func:`canny_edges` 100 / 200 of the grey image) of ``size`` x
    ``size`` (256 as Fashion-Gen; 64 for tests); lists ``all_train.txt``, ``all_test.txt``,
    ``<flist_root>/pen5|pen55/train|test.flist`` (default ``<root>/flist``). Files are
    written atomically; the same arguments give the same bytes. Returns dict ``train`` /
    ``test``: the list lines ``<a>_<N>/<N+1>_1.jpg``."""
    flist_root = os.path.join(root, "flist") if flist_root is None else flist_root
    lines = {"train": [], "test": []}
    for k in range(num_train + num_test):
        folder = f"{42 + k % 5}_{70880 + 10 * k + 1000 * seed}"
        n = int(folder.split("_")[1])
        ident = seed * 1000 + k
        first = make_person(ident, 2 * ident, size, size, with_parse=True, parse_labels="cihp")
        mirrored = (first[0][:, ::-1].copy(), mirror_keypoints(first[1], size),
                    _mirror_labels(first[2]))
        other = make_person(ident, 2 * ident + 1, size, size, with_parse=True,
                            parse_labels="cihp")
        for v, (image, keypoints, labels) in enumerate((first, mirrored, other), 1):
            stem = f"{folder}/{n + v}_{v}"
            grey = np.asarray(Image.fromarray(image).convert("L"))
            pose = {str(j): [0, 0] if r < 0 else [int(c), int(r)]
                    for j, (r, c) in enumerate(keypoints)}
            for part, data in (("image", image), ("parsing", labels), ("pose", pose),
                               ("canny", canny_edges(grey, 100, 200))):
                path = view_path(root, stem, part)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if part == "pose":
                    write_json(path, data)
                    continue
                with atomic_path(path) as tmp:
                    Image.fromarray(data).save(tmp, **({"quality": 95} if part != "parsing"
                                                       else {}))
        lines["train" if k < num_train else "test"].append(f"{folder}/{n + 1}_1.jpg")
    files = [(os.path.join(root, LGN_LIST), lines["train"]),
             (os.path.join(root, "all_test.txt"), lines["test"])]
    for flist in FLIST_NAMES.values():
        files += [(os.path.join(flist_root, flist, f"{s}.flist"), lines[s]) for s in lines]
    for path, names in files:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "w") as f:
            f.write("".join(f"{x}\n" for x in names))
    return lines


# ------------------------------------------------------------------ TFRecords

RECORDS_SUMMARY = "paint_records.json"
SCHEMA_VERSION = 1


def format_record(raw, height, width):
    """Serialized ``tf.train.Example`` of a :class:`RawItem`: ``stage``, ``name``, ``index``,
    ``height``, ``width``, ``num_views`` and per view k ``view<k>_stem``, ``view<k>_image`` /
    ``view<k>_parsing`` (the files' bytes, not re-encoded; empty when the stage does not
    read them), ``view<k>_keypoints`` (float64 [18, 2] raw bytes, empty without)."""
    import tensorflow as tf

    from tfposegen.data.pose_pairs import _bytes as b
    from tfposegen.data.pose_pairs import _int64

    feats = dict(stage=b(raw.stage.encode()), name=b(raw.name.encode()),
                 **{k: _int64([v]) for k, v in (("index", raw.index), ("height", height),
                                                ("width", width),
                                                ("num_views", len(raw.views)))})
    for k, view in enumerate(raw.views):
        kp = b"" if view.keypoints is None else np.asarray(view.keypoints, "<f8").tobytes()
        feats.update({f"view{k}_stem": b(view.stem.encode()), f"view{k}_image": b(view.image),
                      f"view{k}_parsing": b(view.parsing), f"view{k}_keypoints": b(kp)})
    return tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString()


def parse_record(serialized):
    """The :class:`RawItem` of a :func:`format_record` record (bytes)."""
    import tensorflow as tf

    f = tf.train.Example.FromString(bytes(serialized)).features.feature

    def b(key):
        return f[key].bytes_list.value[0]

    def view(k):
        kp = b(f"view{k}_keypoints")
        return View(b(f"view{k}_stem").decode(), b(f"view{k}_image"), b(f"view{k}_parsing"),
                    np.frombuffer(kp, "<f8").reshape(NUM_JOINTS, 2).copy() if kp else None)

    return RawItem(b("stage").decode(), b("name").decode(), f["index"].int64_list.value[0],
                   tuple(view(k) for k in range(f["num_views"].int64_list.value[0])))


def write_records(out_dir, root, stage, split="train", flist_root=None, list_file=None,
                  num_shards=1):
    """One stage's list as TFRecord shards ``<out_dir>/paint_<stage>-<k>-of-<n>.tfrecord``
    (contiguous runs of the list, each written atomically) and ``paint_records.json`` (stage,
    records, height, width, shards; written last); returns that summary dict. A record holds
    an item's raw views (:func:`format_record`): the reader draws the random choices per
    seed and epoch. Each item is built once while writing, so a missing or bad file, or a
    size other than the first item's, raises :class:`PaintDataError` naming it. Arguments
    as :class:`PaintLayout`; ``num_shards`` output files."""
    import tensorflow as tf

    layout = PaintLayout(root, stage, split, flist_root, list_file)
    os.makedirs(out_dir, exist_ok=True)
    per = -(-len(layout) // num_shards)
    size, shards = None, []
    for k in range(num_shards):
        path = os.path.join(out_dir, f"paint_{stage}-{k:05d}-of-{num_shards:05d}.tfrecord")
        with atomic_path(path) as tmp, tf.io.TFRecordWriter(tmp) as writer:
            for index in range(k * per, min((k + 1) * per, len(layout))):
                raw = layout.raw(index)
                shape = next(iter(build_item(raw, root=root).values())).shape[:2]
                if size is not None and shape != size:
                    raise PaintDataError(f"{layout.names[index]}: items are {shape}, the "
                                         f"first item is {size}")
                size = shape
                writer.write(format_record(raw, *shape))
        shards.append(os.path.basename(path))
    summary = dict(schema_version=SCHEMA_VERSION, stage=stage, records=len(layout),
                   height=int(size[0]), width=int(size[1]), shards=shards,
                   list=os.path.abspath(layout.list_path))
    write_json(os.path.join(out_dir, RECORDS_SUMMARY), summary)
    return summary


def read_summary(pattern):
    """``(summary dict, shard paths)`` of a records folder, shard or glob (the
    ``paint_records.json`` beside the first shard)."""
    files = dataset_files(pattern, ".tfrecord")
    if not files:
        raise PaintDataError(f"{pattern}: no .tfrecord files")
    path = os.path.join(os.path.dirname(files[0]), RECORDS_SUMMARY)
    if not os.path.isfile(path):
        raise PaintDataError(f"{path}: records summary not found (write_records writes it)")
    with open(path) as f:
        return json.load(f), files


def record_dataset(pattern, batch_size=1, shuffle=True, seed=0, repeat=False, epoch=0,
                   drop_remainder=False, shuffle_buffer=256, with_names=False):
    """``tf.data`` batches of a stage's items from :func:`write_records` shards. Each
    record is rebuilt by :func:`build_item` (in ``tf.numpy_function``): an element equals
    ``PaintLayout.item(index, seed, epoch)`` of its list entry, with epoch = ``epoch`` +
    position in the repeated stream // records. With ``repeat`` each pass draws new views /
    swatch sides / roles, as the original's RNG; without, iterating again repeats them.

    Args:
        pattern: records folder, a shard or a glob.
        batch_size, drop_remainder: batching (the originals' training drops a last partial
            batch).
        shuffle: shuffle records (buffer ``shuffle_buffer``, seeded by ``seed``); False: the
            list order. seed: also every item's choices (:func:`item_rng`).
        repeat: repeat forever; epoch: the first epoch's number.
        with_names: add ``name`` (string [B], the list line).

    Returns:
        ``tf.data.Dataset`` of dicts of float32 [B, H, W, C], keys ``KEYS[stage]``.
    """
    import tensorflow as tf

    summary, files = read_summary(pattern)
    stage, count = summary["stage"], int(summary["records"])
    height, width = int(summary["height"]), int(summary["width"])
    keys = KEYS[stage]

    def build(position, serialized):
        item = build_item(parse_record(serialized), seed, epoch + int(position) // count)
        return tuple(np.asarray(item[k], np.float32) for k in keys)

    @tf.autograph.experimental.do_not_convert
    def to_dict(position, serialized):
        values = tf.numpy_function(build, [position, serialized], [tf.float32] * len(keys),
                                   stateful=False)
        out = {k: tf.ensure_shape(v, [height, width, CHANNELS[stage][k]])
               for k, v in zip(keys, values)}
        if with_names:
            out["name"] = tf.io.parse_single_example(
                serialized, {"name": tf.io.FixedLenFeature([], tf.string)})["name"]
        return out

    ds = tf.data.TFRecordDataset(files)
    if repeat:
        ds = ds.repeat()
    ds = ds.enumerate()
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    ds = ds.map(to_dict, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
