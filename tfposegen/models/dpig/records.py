"""DPIG TFRecord schema: one ``tf.train.Example`` per ordered image pair
(``datasets/convert_DF.py`` in charliememory/Disentangled-Person-Image-Generation).

:data:`FIELDS` is the single table of every feature the original converters write
(``convert_DF.py``, ``convert_market.py``, ``convert_RCV.py``): key, value kind, shape,
which converters write it, and the reader default. Writers (:func:`encode_example`) and
readers (:func:`parse_example`) are built from it, so records of the original converters
and of ``tfposegen.models.dpig.convert`` parse identically.

Conventions of the table:

* keys with ``{i}`` exist twice, ``{i}`` = 0 (source image "x") and 1 (target image);
* kinds: ``bytes`` (BytesList of one value), ``int64`` (Int64List), ``float`` (FloatList);
* shapes: ``()`` a single value, a tuple a fixed-length list stored flattened row-major
  (``"H"``, ``"W"`` are the image size; ``"G"`` the coarse grid width, 16 DF / 8 Market),
  ``None`` a variable-length list;
* masks are int64 {0, 1}; ``pose_peaks_{i}_rcv`` is (row, col, vis) x 18 in pixels with
  (0, 0, 0) for a missing joint; ``part_bbox_{i}`` is 37 x (y1, x1, y2, x2);
* ``image_name_{i}`` is the file name (UTF-8), ``image_raw_{i}`` the unchanged file bytes,
  ``image_format`` ``b"jpg"`` (DF, Market; also for PNG files in a DF folder) or ``b"png"``.
"""

import collections

import numpy as np
import tensorflow as tf

Field = collections.namedtuple("Field", "key kind shape writers default")

DF, MARKET, RCV = "DF", "Market", "RCV"
_ALL = (DF, MARKET, RCV)

FIELDS = (
    Field("image_name_{i}", "bytes", (), _ALL, None),
    Field("image_raw_{i}", "bytes", (), _ALL, None),
    Field("label", "int64", (), _ALL, None),  # always 1 (positive pair)
    Field("id_{i}", "int64", (), _ALL, None),  # identity index, first appearance in pairs
    Field("cam_{i}", "int64", (), _ALL, None),  # -1 on DF/RCV, Market: camera digit
    Field("image_format", "bytes", (), _ALL, b"jpg"),
    Field("image_height", "int64", (), _ALL, "H"),  # of image 0 (also used for image 1)
    Field("image_width", "int64", (), _ALL, "W"),
    Field("real_data", "int64", (), _ALL, 1),
    Field("attrs_{i}", "int64", None, _ALL, None),  # DF/RCV empty, Market 27 one-hot attrs
    Field("attrs_w2v25_{i}", "float", None, (MARKET,), None),
    Field("attrs_w2v50_{i}", "float", None, (MARKET,), None),
    Field("attrs_w2v100_{i}", "float", None, (MARKET,), None),
    Field("attrs_w2v150_{i}", "float", None, (MARKET,), None),
    Field("pose_peaks_{i}", "float", (16, "G", 18), (DF, MARKET), None),
    Field("pose_peaks_{i}_rcv", "float", (18, 3), _ALL, None),
    Field("pose_mask_r4_{i}", "int64", ("H", "W"), _ALL, None),
    Field("pose_mask_r8_{i}", "int64", ("H", "W"), (DF, RCV), None),
    Field("pose_mask_r6_{i}", "int64", ("H", "W"), (MARKET,), None),  # drawn with radius 7
    Field("pose_mask_r10_{i}", "int64", ("H", "W"), (RCV,), None),
    Field("seg_{i}", "int64", ("H", "W"), (MARKET,), None),  # all zeros in the original
    Field("shape", "int64", (1,), _ALL, None),  # H*W*18 of the sparse pose
    Field("indices_r4_{i}", "int64", None, _ALL, None),  # flat r*W*18 + c*18 + k
    Field("values_r4_{i}", "float", None, _ALL, None),
    Field("indices_r8_{i}", "int64", None, (DF, RCV), None),
    Field("values_r8_{i}", "float", None, (DF, RCV), None),
    Field("pose_subs_{i}", "float", None, (DF, MARKET), None),  # first OpenPose subset row
    Field("part_bbox_{i}", "int64", (37, 4), _ALL, None),
    Field("part_vis_{i}", "int64", (37,), _ALL, None),
    Field("roi10_mask_{i}", "int64", ("H", "W", 10), (DF,), None),
)

# What the original readers (datasets/deepfashion.py, datasets/market1501.py) require.
READER_KEYS = {
    DF: ("image_name_{i}", "image_raw_{i}", "label", "id_{i}", "cam_{i}", "image_format",
         "image_height", "image_width", "real_data", "pose_peaks_{i}_rcv", "pose_mask_r4_{i}",
         "pose_mask_r8_{i}", "shape", "part_bbox_{i}", "part_vis_{i}"),
    MARKET: ("image_name_{i}", "image_raw_{i}", "label", "id_{i}", "cam_{i}", "image_format",
             "image_height", "image_width", "real_data", "pose_peaks_{i}_rcv",
             "pose_mask_r4_{i}", "pose_mask_r6_{i}", "shape", "part_bbox_{i}",
             "part_vis_{i}"),
}
# What tfposegen.models.dpig.pipeline parses when it builds the pose masks from the
# keypoints (``fields="keypoints"``).
KEYPOINT_KEYS = ("image_name_{i}", "image_raw_{i}", "id_{i}", "pose_peaks_{i}_rcv",
                 "part_bbox_{i}", "part_vis_{i}")
SIZES = {DF: (256, 256), MARKET: (128, 64), RCV: (256, 256)}
GRID_COLS = {DF: 16, MARKET: 8, RCV: 16}


class RecordSchemaError(ValueError):
    """Values given to :func:`encode_example` do not match the schema."""


FIELD_SETS = ("all", "reader", "keypoints")


def keys(variant, fields="all"):
    """Concrete keys (``{i}`` expanded) written by converter ``variant`` (DF/Market/RCV),
    in table order.

    ``fields``: "all" (the original converter's schema), "reader" (only the keys the
    original readers require, :data:`READER_KEYS`; RCV records are read as DF) or
    "keypoints" (:data:`KEYPOINT_KEYS`: images, keypoints, part boxes, names and ids; the
    pose masks are rebuilt from the keypoints by ``tfposegen.models.dpig.pipeline``).
    "reader" records are readable by the original readers and by
    ``tfposegen.models.dpig.pipeline`` and are much smaller: a DF record drops
    ``roi10_mask`` (10 int64 masks per image), the sparse poses and the pose grids, about
    1.7 MB -> 0.3 MB; "keypoints" records only by ``tfposegen.models.dpig.pipeline``
    (DF 0.04 MB, Market 0.01 MB)."""
    if fields not in FIELD_SETS:
        raise ValueError(f"fields must be one of {FIELD_SETS}, got {fields!r}")
    wanted = {"all": None, "keypoints": KEYPOINT_KEYS,
              "reader": READER_KEYS[MARKET if variant == MARKET else DF]}[fields]
    out = []
    for f in FIELDS:
        if variant in f.writers and (wanted is None or f.key in wanted):
            out += [f.key.format(i=i) for i in (0, 1)] if "{i}" in f.key else [f.key]
    return out


def field(key):
    """The :class:`Field` of a concrete key (e.g. ``"pose_mask_r4_1"``)."""
    for f in FIELDS:
        if key in (f.key.format(i=0), f.key.format(i=1)):
            return f
    raise KeyError(key)


def concrete_shape(f, height, width, grid_cols=16):
    """A field's shape with H, W, G substituted (``None`` stays ``None``)."""
    if f.shape is None:
        return None
    sub = {"H": height, "W": width, "G": grid_cols}
    return tuple(sub.get(d, d) for d in f.shape)


def _feature(kind, value):
    if kind == "bytes":
        value = value.encode() if isinstance(value, str) else bytes(value)
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    flat = np.asarray(value).ravel()
    if kind == "int64":
        return tf.train.Feature(int64_list=tf.train.Int64List(value=flat.astype(np.int64).tolist()))
    return tf.train.Feature(float_list=tf.train.FloatList(value=flat.astype(np.float32).tolist()))


def encode_example(values, variant, height, width, fields="all"):
    """Serialize one pair record as converter ``variant`` writes it.

    Args:
        values: dict with exactly the keys of :func:`keys` ``(variant)``: str/bytes for
            bytes fields, numbers or arrays (any shape with the schema's number of
            elements) for int64/float fields.
        variant: "DF", "Market" or "RCV".
        height, width: image size H, W (fixes the mask lengths).
        fields: "all", "reader" or "keypoints" (:func:`keys`): the keys of ``values``
            outside the set are left out of the record.

    Returns:
        bytes, a serialized ``tf.train.Example``.

    Raises:
        RecordSchemaError: a key is missing or extra, or a fixed field has the wrong size.
    """
    every = keys(variant)
    missing, extra = set(every) - set(values), set(values) - set(every)
    if missing or extra:
        raise RecordSchemaError(f"{variant} record: missing {sorted(missing)}, "
                                f"unexpected {sorted(extra)}")
    feature = {}
    for key in keys(variant, fields):
        f = field(key)
        shape = concrete_shape(f, height, width, GRID_COLS[variant])
        if shape and np.size(values[key]) != np.prod(shape):
            raise RecordSchemaError(f"{key}: expected {np.prod(shape)} values {shape}, got "
                                    f"{np.size(values[key])}")
        feature[key] = _feature(f.kind, values[key])
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


_TF_DTYPES = {"bytes": tf.string, "int64": tf.int64, "float": tf.float32}


def feature_spec(key_list, height, width, grid_cols=16):
    """``tf.io`` parsing spec for concrete keys: FixedLenFeature (flattened length, the
    table's default where the original readers had one) or VarLenFeature."""
    spec = {}
    for key in key_list:
        f = field(key)
        shape = concrete_shape(f, height, width, grid_cols)
        dtype = _TF_DTYPES[f.kind]
        if shape is None:
            spec[key] = tf.io.VarLenFeature(dtype)
            continue
        default = {"H": height, "W": width}.get(f.default, f.default)
        length = [] if shape == () else [int(np.prod(shape))]
        spec[key] = tf.io.FixedLenFeature(length, dtype, default_value=default)
    return spec


def parse_example(serialized, variant=DF, key_list=None, height=None, width=None):
    """Parse serialized pair records (graph-safe): one record, or a batch in one op.

    Args:
        serialized: scalar string tensor (one record) or [N] (a batch, parsed at once).
        variant: "DF", "Market" or "RCV" (default image size and key set).
        key_list: concrete keys to parse (default: all keys ``variant`` writes).
        height, width: image size (default: 256x256 DF / RCV, 128x64 Market).

    Returns:
        dict key -> tensor: fixed fields reshaped to the table shape (e.g.
        ``pose_mask_r4_0`` int64 [H, W], ``part_bbox_0`` int64 [37, 4],
        ``pose_peaks_0_rcv`` float32 [18, 3]), with a leading [N] for a batch;
        variable-length fields dense (1-D; [N, longest] zero-padded for a batch).
    """
    dh, dw = SIZES[variant]
    height, width = height or dh, width or dw
    key_list = list(key_list or keys(variant))
    grid = GRID_COLS[variant]
    spec = feature_spec(key_list, height, width, grid)
    serialized = tf.convert_to_tensor(serialized)
    batched = serialized.shape.rank == 1
    parsed = (tf.io.parse_example if batched else tf.io.parse_single_example)(serialized, spec)
    out = {}
    for key in key_list:
        shape = concrete_shape(field(key), height, width, grid)
        value = parsed[key]
        if shape is None:
            out[key] = tf.sparse.to_dense(value)
        else:
            out[key] = tf.reshape(value, ((-1,) if batched else ()) + shape)
    return out
