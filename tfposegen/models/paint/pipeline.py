"""PAINT's three stages chained: keypoints + two texture swatches -> layouts -> designs ->
other views (gxl-groups/PAINT never runs them together: each stage's test script reads the
previous stage's kind of data from disk; this module builds each stage's inputs from the
previous stage's outputs the way those scripts' loaders build them from files).

1. :func:`lgn_inputs`: keypoints -> LGN's 18 pose-disk maps (``LGN/data/aligned_dataset.py``);
   :func:`random_codes`: the 24-wide latent codes LGN samples (``BiCycleGANModel.test`` /
   ``get_z_random``, ``LGN/models/bicycle_gan_model.py``; seeded TF stateless normals,
   :func:`latent_codes`, the same in the SavedModel of :mod:`tfposegen.models.paint.export`);
   :func:`layouts`: LGN's softmax -> argmax labels (``LGN/test.py`` saves
   ``fake_B.max(1)[1]`` as the layout PNG) and their one-hot.
2. :func:`tsn_inputs`: a layout's labels + swatches -> TSN's seven inputs
   (``TSN/core/dataset.py``: one-hot parsing, garment regions, swatch squares);
   :func:`designs`: TSN's image (``TSN/test.py``).
3. :func:`afn_inputs`: the design, its layout and a target layout -> AFN's inputs
   (``AFN/core/dataset.py``: 9-class merges); :func:`views`: AFN's image
   (``AFN/test.py``: ``G(img2, parsingp1, parsing)``).

:func:`design_pipeline` runs all three. Where the original leaves something to the data it
read, the choice made here (each also in the function's docstring):

- swatches: TSN's loader cuts an s x s square (s drawn from 40..60, 32..48 for the lower
  garment) out of the real photo at a fixed place; here a swatch image of any size up to
  the canvas is pasted at that place (:func:`swatch_box`) and cut by the garment region;
- the target view: AFN's targets are the dataset's other photographed views (their
  parsings); here the target layout is LGN's output for the target view's keypoints with
  the same latent code (default: the left-right mirrored keypoints, :func:`mirror_keypoints`);
  the ``parsing_generation`` network AFN/test.py loads for this purpose is neither used nor
  released;
- sizes other than 256: column positions that the original hard-codes for 256 are scaled.

Arrays are NHWC numpy (or tensors where a network returns them); images are float in
[-1, 1] (``ToTensor`` + ``Normalize(0.5, 0.5)`` of the loaders; the networks end in tanh).
"""

import collections

import numpy as np
from PIL import Image, ImageDraw

from tfposegen.data.synthetic_persons import make_person
from tfposegen.data.synthetic_persons import mirror_keypoints as mirror_person_keypoints
from tfposegen.models.paint import presets
from tfposegen.parsing.labels import (
    CIHP_PALETTE,
    CIHP_TO_PAINT_AFN,
    PAINT_AFN_CLASSES,
    PAINT_TSN_BOTTOM,
    PAINT_TSN_TOP,
)
from tfposegen.pose.keypoints import NUM_JOINTS, OPENPOSE_NAMES

NUM_LABELS = 20
DISK_RADIUS = 4          # self.radius of the LGN / TSN loaders
CODE_PIECES, PIECE_WIDTH = 3, 8   # upper garment, lower garment, head; get_z_random's width
# TSN's swatch squares: the column centre (W / 2 for the top; the bottom's is hard-coded 100
# at width 256) and the original's random side ranges (int(rand_between(a, b)))
TOP_COLUMN, BOTTOM_COLUMN = 128, 100
TOP_SIDES, BOTTOM_SIDES = (40, 60), (32, 48)

PaintNets = collections.namedtuple("PaintNets", "lgn tsn afn size")
PaintNets.__doc__ = """The three generators and the canvas side they run at: ``lgn``
(:class:`~tfposegen.models.paint.lgn.LGNGenerator`), ``tsn``
(:class:`~tfposegen.models.paint.tsn.TSNGenerator`), ``afn``
(:class:`~tfposegen.models.paint.afn.AFNGenerator`), ``size`` (int, H = W)."""


# ------------------------------------------------------------------------------ checks


def check_keypoints(keypoints, height, width, what="keypoints"):
    """float64 [18, 2] (row, col) pixels, (-1, -1) for a missing joint, or a ValueError
    naming what is wrong: the shape, or a joint outside the height x width canvas."""
    kp = np.asarray(keypoints, np.float64)
    if kp.shape != (NUM_JOINTS, 2):
        raise ValueError(f"{what}: expected [18, 2] (row, col) OpenPose/COCO keypoints, got "
                         f"shape {kp.shape}")
    if not np.all(np.isfinite(kp)):
        raise ValueError(f"{what}: not finite")
    missing = np.all(kp == -1, axis=1)
    outside = ~missing & ((kp[:, 0] < 0) | (kp[:, 0] >= height) | (kp[:, 1] < 0)
                          | (kp[:, 1] >= width))
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        raise ValueError(f"{what}: joint {k} ({OPENPOSE_NAMES[k]}) at (row, col) "
                         f"({kp[k, 0]:g}, {kp[k, 1]:g}) is outside the {height} x {width} "
                         f"canvas ((-1, -1) marks a missing joint)")
    return kp


def check_swatch(swatch, height, width, what="swatch"):
    """float32 [h, w, 3] in [-1, 1] with 1 <= h <= height and 1 <= w <= width, or a
    ValueError naming what is wrong."""
    s = np.asarray(swatch, np.float32)
    if s.ndim != 3 or s.shape[-1] != 3 or min(s.shape[:2]) < 1:
        raise ValueError(f"{what}: expected an RGB image [h, w, 3], got shape {s.shape}")
    if s.shape[0] > height or s.shape[1] > width:
        raise ValueError(f"{what}: {s.shape[0]} x {s.shape[1]} is larger than the {height} x "
                         f"{width} canvas")
    if not np.all(np.isfinite(s)) or s.min() < -1 or s.max() > 1:
        raise ValueError(f"{what}: values must lie in [-1, 1] (images as (u8 / 255 - 0.5) / "
                         f"0.5), got {s.min():g} .. {s.max():g}")
    return s


def _check_labels(labels, what="layout"):
    lab = np.asarray(labels)
    if lab.ndim != 3 or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"{what}: expected integer labels [B, H, W], got {lab.dtype} "
                         f"{lab.shape}")
    if lab.size and (lab.min() < 0 or lab.max() >= NUM_LABELS):
        raise ValueError(f"{what}: labels must be 0..19, got {lab.min()}..{lab.max()}")
    return lab


def _check_canvas(nets, height, width):
    side = 2 ** nets.lgn.num_downs
    if height % side or width % side:
        raise ValueError(f"canvas {height} x {width}: LGN with {nets.lgn.num_downs} levels "
                         f"needs multiples of {side}")


# ------------------------------------------------------------------------------ LGN


def lgn_inputs(keypoints, height=256, width=256, radius=DISK_RADIUS):
    """LGN's pose input from keypoints (``AlignedDataset.__getitem__``,
    LGN/data/aligned_dataset.py in gxl-groups/PAINT): channel k is a black image with PIL's
    ``ellipse((x - r, y - r, x + r, y + r))`` filled white around joint k, through
    ``ToTensor`` and ``Normalize(0.5, 0.5)``. A joint is drawn when it is present and, as
    the original's ``pointX > 1 or pointY > 1``, x > 1 or y > 1.

    Args:
        keypoints: [18, 2] or [B, 18, 2] (row, col) pixels (x = col, y = row), (-1, -1)
            missing; any other joint must lie on the canvas.
        height, width: canvas (256 x 256 in PAINT).
        radius: disk radius (4).

    Returns:
        float32 [B, H, W, 18]: -1 background, +1 inside a disk (a missing joint: all -1).

    Raises:
        ValueError: wrong shape or a joint off the canvas (named).
    """
    kp = np.asarray(keypoints, np.float64)
    batch = kp[None] if kp.ndim == 2 else kp
    out = np.empty((len(batch), height, width, NUM_JOINTS), np.float32)
    for b, one in enumerate(batch):
        one = check_keypoints(one, height, width, f"keypoints[{b}]" if kp.ndim == 3
                              else "keypoints")
        out[b] = pose_disks(one, height, width, radius)
    return out


def pose_disks(keypoints, height=256, width=256, radius=DISK_RADIUS):
    """One pose's 18 disk maps as LGN's loader draws them (``AlignedDataset.__getitem__``,
    LGN/data/aligned_dataset.py in gxl-groups/PAINT), with no canvas check: a joint off the
    canvas is clipped by PIL as in the original (:func:`lgn_inputs` checks first; the data
    loaders of :mod:`tfposegen.models.paint.data` draw what the files say).

    Args:
        keypoints: float [18, 2] (row, col) = (y, x) pixels; (-1, -1) missing. Drawn iff
            x > 1 or y > 1 (PAINT's "found" test: (0, 0) is not drawn).
        height, width, radius: canvas and disk radius (256, 256, 4).

    Returns:
        float32 [H, W, 18]: -1 background, +1 inside the disk ``ellipse((x - r, y - r, x + r,
        y + r))`` filled and outlined white.
    """
    out = np.empty((height, width, NUM_JOINTS), np.float32)
    for k, (y, x) in enumerate(np.asarray(keypoints, np.float64)):
        disk = Image.new("L", (width, height), 0)
        if not (y == -1 and x == -1) and (x > 1 or y > 1):
            ImageDraw.Draw(disk).ellipse((x - radius, y - radius, x + radius, y + radius),
                                         fill=255, outline=255)
        out[:, :, k] = (np.asarray(disk, np.float32) / 255 - 0.5) / 0.5
    return out


def latent_codes(seed, n, nz=CODE_PIECES * PIECE_WIDTH):
    """The latent codes as a TF computation, the one definition both paths use (the numpy
    path eagerly through :func:`random_codes`, the SavedModel's ``paint_design`` in its
    graph): float32 tensor [n, nz], ``tf.random.stateless_normal([n, nz], [seed, 0]) * 2 -
    1``, i.e. N(-1, 2^2) as LGN's ``get_z_random(1, 8) * 2 - 1`` pieces
    (LGN/models/bicycle_gan_model.py in gxl-groups/PAINT). ``seed``: an int64 scalar (int or
    tensor); ``n``: int or int32 scalar tensor. Row i does not depend on n (a larger n
    extends the same rows), and the values are the same eagerly and in a graph."""
    import tensorflow as tf

    seed = tf.cast(seed, tf.int64)
    shape = tf.stack([tf.cast(n, tf.int32), tf.constant(nz, tf.int32)])
    z = tf.random.stateless_normal(shape, tf.stack([seed, tf.zeros_like(seed)]))
    return z * 2.0 - 1.0


def random_codes(seed, n, nz=CODE_PIECES * PIECE_WIDTH):
    """``n`` latent codes as LGN's test draws them when it does not encode a layout
    (``BiCycleGANModel.test`` with ``z0 None``, LGN/models/bicycle_gan_model.py): three
    ``get_z_random(1, 8)`` pieces (upper garment, lower garment, head) concatenated, each
    ``randn(1, 8) * 2 - 1``, i.e. N(-1, 2^2), not N(0, 1).

    Returns float32 [n, nz]: :func:`latent_codes` computed eagerly (TF's stateless normal
    seeded by the int64 ``seed``, not torch's stream), so the same seed gives the same codes
    here and in the SavedModel (:mod:`tfposegen.models.paint.export`); code i is the same
    for every n > i."""
    if n < 1:
        raise ValueError(f"number of layouts must be >= 1, got {n}")
    if not -2 ** 63 <= int(seed) < 2 ** 63:
        raise ValueError(f"seed must be an int64, got {seed}")
    return np.asarray(latent_codes(int(seed), int(n), nz), np.float32)


def layouts(lgn_G, pose, z):
    """LGN's layouts for pose maps and codes (``netG(real_A, z0)`` of
    ``BiCycleGANModel.test``).

    Args:
        lgn_G: an :class:`~tfposegen.models.paint.lgn.LGNGenerator`.
        pose: float32 [1 or B, H, W, 18] from :func:`lgn_inputs` (one pose is repeated).
        z: float32 [B, nz] (:func:`random_codes`).

    Returns:
        ``(labels, one_hot, probabilities)``: int32 [B, H, W] in 0..19, the argmax LGN/test.py
        saves as the layout PNG (first index on ties); float32 [B, H, W, 20] its one-hot (how
        the TSN / AFN loaders read that PNG back); float32 [B, H, W, 20] G's softmax.
    """
    z = np.asarray(z, np.float32)
    pose = np.asarray(pose, np.float32)
    if z.ndim != 2 or z.shape[1] != lgn_G.nz:
        raise ValueError(f"z: expected [B, {lgn_G.nz}], got shape {z.shape}")
    if pose.ndim != 4 or pose.shape[-1] != NUM_JOINTS or pose.shape[0] not in (1, len(z)):
        raise ValueError(f"pose: expected [1 or {len(z)}, H, W, 18], got shape {pose.shape}")
    pose = np.broadcast_to(pose, (len(z),) + pose.shape[1:])
    probs = np.asarray(lgn_G(pose, z, training=False))
    labels = np.argmax(probs, axis=-1).astype(np.int32)
    return labels, one_hot(labels), probs


def one_hot(labels, classes=NUM_LABELS):
    """float32 [..., classes] with channel i = (labels == i), as the loaders build
    ``parsing_im_b_20``."""
    return (np.asarray(labels)[..., None] == np.arange(classes)).astype(np.float32)


def colour_layout(labels):
    """uint8 [..., H, W, 3] PAINT's colour coding of 20-class labels (``labelcolormap(20)``
    of LGN/utils.py in gxl-groups/PAINT)."""
    lab = _check_labels(np.asarray(labels)[None] if np.ndim(labels) == 2 else labels)
    out = np.asarray(CIHP_PALETTE, np.uint8)[lab]
    return out[0] if np.ndim(labels) == 2 else out


# ------------------------------------------------------------------------------ TSN


def swatch_box(region, shape, column):
    """Where TSN's loader puts a swatch square (``gen_inputb_rand`` / ``gen_inputb_randb``
    and ``gen_input``, TSN/core/dataset.py in gxl-groups/PAINT): the region's pixels in
    row-major order, the one at position ``count // 2``, its row as ``index / W`` (true
    division: row + col / W), the column fixed at ``column``; an empty region centres the
    square on the canvas. Rows ``max(int(r - h / 2), 0) .. min(int(r + h / 2), H)`` (end
    excluded, ``int`` truncating toward zero), columns likewise with w.

    Args:
        region: bool / 0-1 [H, W] garment region.
        shape: (h, w) of the swatch (the original: a square side s).
        column: the column centre (W / 2 for the top, 100 at W 256 for the bottom).

    Returns:
        ``(r0, r1, c0, c1, dr, dc)``: the box ``[r0, r1) x [c0, c1)`` and the swatch pixel
        shown at its top-left, ``swatch[dr, dc]`` (non-zero only where the box is clipped at
        the top or left border: the swatch keeps its place around the centre).
    """
    region = np.asarray(region)
    height, width = region.shape
    idx = np.flatnonzero(region.reshape(-1))
    if idx.size:
        r, c = idx[idx.size // 2] / width, float(column)
    else:
        r, c = height / 2, width / 2
    h, w = shape
    r0, r1 = max(int(r - h / 2), 0), min(int(r + h / 2), height)
    c0, c1 = max(int(c - w / 2), 0), min(int(c + w / 2), width)
    return r0, r1, c0, c1, r0 - int(np.floor(r - h / 2)), c0 - int(np.floor(c - w / 2))


def place_swatch(swatch, region, column):
    """A swatch pasted on the canvas as TSN's loader makes its input: ``(masked, square)``
    with ``square`` float32 [H, W, 1] 1 on the :func:`swatch_box` box (``mask_to``; pixels
    outside the garment count too) and ``masked`` float32 [H, W, 3] the swatch there times
    the garment region, 0 elsewhere (``img_t * mask_p``: the image times the region times
    the square)."""
    region = np.asarray(region, np.float32)
    r0, r1, c0, c1, dr, dc = swatch_box(region, swatch.shape[:2], column)
    canvas = np.zeros(region.shape + (3,), np.float32)
    square = np.zeros(region.shape + (1,), np.float32)
    canvas[r0:r1, c0:c1] = swatch[dr:dr + r1 - r0, dc:dc + c1 - c0]
    square[r0:r1, c0:c1] = 1.0
    return canvas * region[..., None] * square, square


def tsn_inputs(labels, top_swatch, bottom_swatch):
    """TSN's seven generator inputs for layouts (``Dataset.load_item``, TSN/core/dataset.py
    in gxl-groups/PAINT, with the layout in place of the parsing PNG and the swatch images
    in place of the photo's squares).

    Args:
        labels: int [B, H, W] 20-class layouts (:func:`layouts`).
        top_swatch, bottom_swatch: float [h, w, 3] in [-1, 1], at most H x W: the upper- and
            lower-garment textures (the original cuts 40..60 resp. 32..48 px squares).

    Returns:
        dict of float32 arrays, keyword order of ``TSNGenerator``: ``imgt_masked`` /
        ``imgb_masked`` [B, H, W, 3] (the swatch in its square, cut by the region),
        ``mask_t`` (labels 5, 6, 7) / ``mask_b`` (9, 12) [B, H, W, 1], ``mask_to`` /
        ``mask_bo`` [B, H, W, 1] (the squares: top centred on column W / 2, bottom on column
        100 * W / 256, rows from the region, :func:`swatch_box`), ``parsing`` [B, H, W, 20]
        one-hot.

    Raises:
        ValueError: bad labels, or a swatch of the wrong shape, too large or out of range.
    """
    labels = _check_labels(labels)
    _, height, width = labels.shape
    top = check_swatch(top_swatch, height, width, "top swatch")
    bottom = check_swatch(bottom_swatch, height, width, "bottom swatch")
    mask_t = np.isin(labels, PAINT_TSN_TOP).astype(np.float32)
    mask_b = np.isin(labels, PAINT_TSN_BOTTOM).astype(np.float32)
    top_col, bottom_col = width * TOP_COLUMN / 256, width * BOTTOM_COLUMN / 256
    t = [place_swatch(top, m, top_col) for m in mask_t]
    b = [place_swatch(bottom, m, bottom_col) for m in mask_b]
    return dict(imgt_masked=np.stack([x[0] for x in t]), imgb_masked=np.stack([x[0] for x in b]),
                mask_t=mask_t[..., None], mask_b=mask_b[..., None],
                mask_to=np.stack([x[1] for x in t]), mask_bo=np.stack([x[1] for x in b]),
                parsing=one_hot(labels))


def designs(tsn_G, inputs):
    """TSN's design images, ``model(imgt_masked, imgb_masked, mask_t, mask_b, mask_to,
    mask_bo, parsing)`` (TSN/test.py in gxl-groups/PAINT, its five unused arguments
    dropped): float32 [B, H, W, 3] in (-1, 1) from :func:`tsn_inputs`'s dict."""
    return np.asarray(tsn_G(**inputs))


# ------------------------------------------------------------------------------ AFN


def afn_parsing(labels):
    """AFN's 9-class one-hot of 20-class labels (``Dataset.load_item``, AFN/core/dataset.py
    in gxl-groups/PAINT; classes in ``tfposegen.parsing.labels.PAINT_AFN_CLASSES``):
    float32 [B, H, W, 9]."""
    table = np.array([CIHP_TO_PAINT_AFN[i] for i in range(NUM_LABELS)])
    return one_hot(table[_check_labels(labels)], len(PAINT_AFN_CLASSES))


def afn_inputs(design, source_labels, target_labels):
    """AFN's inputs (AFN/test.py: ``model(img2, parsingp1, parsing)``) for a design: dict
    ``image`` float32 [B, H, W, 3] in [-1, 1] (the source view: the design),
    ``target_parsing`` / ``source_parsing`` float32 [B, H, W, 9] (:func:`afn_parsing` of
    the target view's layout and of the design's own)."""
    design = np.asarray(design, np.float32)
    src, tgt = _check_labels(source_labels), _check_labels(target_labels, "target layout")
    if design.shape[:3] != src.shape or tgt.shape != src.shape or design.shape[-1] != 3:
        raise ValueError(f"AFN inputs disagree: design {design.shape}, source layout "
                         f"{src.shape}, target layout {tgt.shape}")
    return dict(image=design, target_parsing=afn_parsing(tgt), source_parsing=afn_parsing(src))


def views(afn_G, inputs):
    """AFN's rendered views: ``(image, flows)``, float32 [B, H, W, 3] in (-1, 1) and the
    three flows [B, H/8, W/8, 2], [B, H/4, W/4, 2], [B, H/2, W/2, 2] (AFN/test.py's
    ``pred_img1, flow_list1``) from :func:`afn_inputs`'s dict."""
    image, flows = afn_G(**inputs)
    return np.asarray(image), [np.asarray(f) for f in flows]


def mirror_keypoints(keypoints, width):
    """The left-right mirrored pose (float64 [18, 2]: col -> W - 1 - col, left and right
    joints swapped, (-1, -1) kept), the default target view of :func:`design_pipeline`."""
    return mirror_person_keypoints(np.asarray(keypoints, np.float64), width)


# ------------------------------------------------------------------------------ chain


def design_pipeline(nets, keypoints, swatches, seed=0, num_layouts=1, view_keypoints=None):
    """The whole chain for one person: ``num_layouts`` random layouts for the pose, a design
    for each with the two swatches, and each design rendered in the target view.

    Args:
        nets: :class:`PaintNets`.
        keypoints: [18, 2] (row, col) on the ``nets.size`` canvas, (-1, -1) missing.
        swatches: ``(top, bottom)`` float [h, w, 3] in [-1, 1] (:func:`tsn_inputs`).
        seed: the latent codes' seed (:func:`random_codes`).
        num_layouts: how many layouts (designs, views).
        view_keypoints: [18, 2] the target view's pose; default :func:`mirror_keypoints`.
            Its layout is LGN's for that pose with the same codes.

    Returns:
        dict: ``z`` [N, 24]; ``layouts`` int32 [N, H, W] and ``layout_probs`` [N, H, W,
        20]; ``designs`` float32 [N, H, W, 3] in (-1, 1); ``view_layouts`` int32 [N, H, W];
        ``views`` float32 [N, H, W, 3] in (-1, 1); ``flows`` (three arrays, :func:`views`).

    Raises:
        ValueError: bad keypoints, swatches or counts (named in the message).
    """
    size = nets.size
    _check_canvas(nets, size, size)
    if len(swatches) != 2:
        raise ValueError(f"swatches: expected (top, bottom), got {len(swatches)} items")
    check_keypoints(keypoints, size, size)
    target = (mirror_keypoints(keypoints, size) if view_keypoints is None
              else check_keypoints(view_keypoints, size, size, "view keypoints"))
    pose = lgn_inputs(keypoints, size, size)
    for s, what in zip(swatches, ("top swatch", "bottom swatch")):
        check_swatch(s, size, size, what)
    z = random_codes(seed, num_layouts, nets.lgn.nz)
    labels, _, probs = layouts(nets.lgn, pose, z)
    view_labels, _, _ = layouts(nets.lgn, lgn_inputs(target, size, size), z)
    images = designs(nets.tsn, tsn_inputs(labels, *swatches))
    rendered, flows = views(nets.afn, afn_inputs(images, labels, view_labels))
    return dict(z=z, layouts=labels, layout_probs=probs, designs=images,
                view_layouts=view_labels, views=rendered, flows=flows)


# ------------------------------------------------------------------------------ set-up


def build_networks(preset="released", seed=None):
    """:class:`PaintNets` of a preset: ``released`` (256 x 256, the released widths; load
    weights with :func:`load_networks`) or ``tiny`` (``presets.TINY_PIPELINE``, 64 x 64).
    ``seed``: ``keras.utils.set_random_seed`` before building, for repeatable random
    weights."""
    import keras

    from tfposegen.models.paint.afn import AFNGenerator
    from tfposegen.models.paint.lgn import LGNGenerator
    from tfposegen.models.paint.tsn import TSNGenerator

    if preset == "released":
        cfg = dict(size=presets.PIPELINE_SIZE, lgn=presets.LGN_G, tsn=presets.TSN_G,
                   afn=presets.AFN_G)
    elif preset == "tiny":
        cfg = presets.TINY_PIPELINE
    else:
        raise ValueError(f"preset: 'released' or 'tiny', got {preset!r}")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return PaintNets(LGNGenerator(**cfg["lgn"]), TSNGenerator(**cfg["tsn"]),
                     AFNGenerator(**cfg["afn"]), cfg["size"])


def load_networks(lgn_path, tsn_path, afn_path):
    """The released networks with their weights: LGN's ``40_net_G.pth`` (LGN/test.py), TSN's
    and AFN's ``gen_<NNNNN>.pth`` (TSN/test.py, AFN/test.py), by path
    (:mod:`tfposegen.models.paint.weights`, strict). Raises ``TorchCheckpointError`` naming
    the file."""
    from tfposegen.models.paint import weights

    nets = build_networks("released")
    weights.load_generator_state(nets.lgn, lgn_path)
    weights.load_tsn_generator_state(nets.tsn, tsn_path)
    weights.load_afn_generator_state(nets.afn, afn_path)
    return nets


def synthetic_inputs(seed=0, size=256):
    """Procedural inputs (:mod:`tfposegen.data.synthetic_persons`): ``(keypoints,
    view_keypoints, (top, bottom))``: a person's [18, 2] keypoints, another pose of the same
    person, and two swatches cut from that person's clothes (upper clothes and trousers),
    square, of the middle of the original's side ranges (50 and 40 px at 256, scaled), in
    [-1, 1]."""
    image, keypoints, parse = make_person(seed, 2 * seed, size, size, with_parse=True)
    _, view_keypoints = make_person(seed, 2 * seed + 1, size, size)
    swatches = []
    for label, sides in ((5, TOP_SIDES), (1, BOTTOM_SIDES)):   # ADGAN ids: upper clothes, pants
        side = max(1, round(sum(sides) / 2 * size / 256))
        rows, cols = np.nonzero(parse == label)
        r, c = (int(np.median(rows)), int(np.median(cols))) if rows.size else (size // 2,) * 2
        r0 = min(max(r - side // 2, 0), size - side)
        c0 = min(max(c - side // 2, 0), size - side)
        crop = image[r0:r0 + side, c0:c0 + side].astype(np.float32)
        swatches.append((crop / 255 - 0.5) / 0.5)
    return keypoints.astype(np.float64), view_keypoints.astype(np.float64), tuple(swatches)
