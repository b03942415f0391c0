"""The shopper pipeline: a product photo (a model wearing the product) and a shopper's photo
in, the product worn in the shopper's pose out, through an exported pose-transfer
SavedModel (ADGAN, DPTN_step or DPTN: :mod:`tfposegen.serving.models`).

This is the job of ``websvc.py`` in sgoldyaev/DeepFashion.ADGAN (OpenPose keypoints, Mask
R-CNN masks as the parse, ADGAN), done with this library's parts:

1. each photo: BlazePose (:mod:`tfposegen.pose.blazepose`) and the selfie segmentation;
   refused with a shopper-readable :class:`~tfposegen.serving.uploads.PhotoError` when it
   shows no person, several people, a back view (:func:`is_back_view`) or too little of
   the body (both shoulders and a hip are needed);
2. the product photo's 8-class parse (:func:`tfposegen.parsing.adgan.adgan_parse`), for
   ADGAN only (DPTN and DPTN_step take the source keypoints instead);
3. both photos fitted into the model's frame (:func:`tfposegen.pose.keypoints.fit_photo`):
   ADGAN's network size, DPTN's keypoint frame;
4. the SavedModel's pose-transfer signature (``adgan_pose_transfer``,
   ``dptn_step_pose_transfer`` or ``dptn_pose_transfer``; the adapters of
   :mod:`tfposegen.serving.models`): the product photo's person rendered in the shopper's
   pose (DPTN_step: also every step's image, coarse to fine).

The SavedModel is loaded once and warmed with one call; its sizes are read from the
signature. Not thread-safe: one caller at a time (:class:`tfposegen.serving.jobs.JobQueue`
runs it on one worker thread).
"""

import collections
import warnings

import numpy as np
from PIL import Image, ImageDraw

from tfposegen.parsing.adgan import adgan_parse
from tfposegen.parsing.model import parse_keypoints, person_probability
from tfposegen.pose import blazepose
from tfposegen.pose.keypoints import fit_photo, to_openpose
from tfposegen.pose.segmentation import SelfieSegmentation
from tfposegen.serving.models import load_model
from tfposegen.serving.uploads import PhotoError, sentence

_LIMBS = ((1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
          (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
# ADGAN_LABELS colours for the parse picture: bg, pants, hair, skirt, face, upper, arm, leg
PARSE_COLOURS = np.array([[0, 0, 0], [0, 0, 255], [128, 64, 0], [0, 128, 128],
                          [255, 200, 150], [255, 0, 0], [255, 255, 0], [0, 200, 0]], np.uint8)
_MIN_VISIBILITY = 0.5

Person = collections.namedtuple("Person", "image keypoints parse pose_picture")
Person.__doc__ = """One analysed photo in the model's frame H x W (ADGAN: the network size;
DPTN: the keypoint frame, :mod:`tfposegen.serving.models`): ``image`` uint8 [H, W, 3],
``keypoints`` float32 [18, 2] (row, col) integer pixels, (-1, -1) missing, ``parse`` uint8
[H, W] ADGAN labels (None when not needed), ``pose_picture`` uint8 [h, w, 3]: the photo
with its keypoints drawn."""


def is_back_view(result, image_shape):
    """True when BlazePose sees the person from behind: its nose lies inside the photo and
    is visible (so the ``facing="auto"`` result kept the model's own left / right; see
    :mod:`tfposegen.pose.blazepose`) and the person's right shoulder is on the image's
    right (:func:`tfposegen.pose.blazepose.faces_camera` is False).

    Args:
        result: :class:`tfposegen.pose.blazepose.PoseResult` of ``facing="auto"``.
        image_shape: (H, W, ...) of the photo.
    """
    h, w = image_shape[:2]
    row, col = result.landmarks[0]
    face = result.visibility[0] >= _MIN_VISIBILITY and 0 <= row < h and 0 <= col < w
    return bool(face) and not blazepose.faces_camera(result.landmarks, result.roi)


def draw_keypoints(image, keypoints):
    """The photo (uint8 [H, W, 3]) with the 18 keypoints (row, col; (-1, -1) missing) and
    their limbs drawn, line width ~1 % of the photo's height: uint8 [H, W, 3]."""
    picture = Image.fromarray(np.asarray(image, np.uint8))
    draw = ImageDraw.Draw(picture)
    width = max(1, round(picture.height / 100))
    present = np.all(np.asarray(keypoints) >= 0, axis=1)
    for a, b in _LIMBS:
        if present[a] and present[b]:
            draw.line([tuple(keypoints[a][::-1]), tuple(keypoints[b][::-1])], fill=(0, 255, 0),
                      width=width)
    for r, c in np.asarray(keypoints)[present]:
        draw.ellipse([c - 2 * width, r - 2 * width, c + 2 * width, r + 2 * width],
                     fill=(255, 0, 0))
    return np.asarray(picture)


def parse_picture(parse):
    """uint8 [H, W] ADGAN labels -> uint8 [H, W, 3] colours (:data:`PARSE_COLOURS`)."""
    return PARSE_COLOURS[np.clip(np.asarray(parse), 0, 7)]


class ShopperPipeline:
    """Product photo + shopper photo -> the product worn in the shopper's pose.

    Args:
        model_dir: a SavedModel version folder with one of the signatures of
            :data:`tfposegen.serving.models.KNOWN` (``run_scripts/export_savedmodel.py``).
        pose_model, selfie_model: BlazePose / selfie segmentation to reuse (else built from
            ``blazepose_dir`` / ``fetch``, :mod:`tfposegen.pose.model_files`).
        dataset: a DPTN export's ``--dptn_dataset`` ("fashion", "market"; its keypoint
            frame); None: guessed from the network size (:func:`~tfposegen.serving.models.
            keypoint_frame`).

    Attributes:
        signature: the signature served; ``height``, ``width``: the result's size;
        ``steps``: how many step images :meth:`render` gives with ``with_steps`` (S for
        DPTN_step, else 0); ``uses_parse``: whether the product's parse is made (ADGAN);
        ``mixes``: whether :meth:`render` mixes two products' styles (DPTN_step).

    Raises:
        ValueError: not a SavedModel or none of the known signatures (the message names the
            folder and the signatures it has).
    """

    def __init__(self, model_dir, pose_model=None, selfie_model=None, blazepose_dir=None,
                 fetch=True, dataset=None):
        self.model = load_model(model_dir, dataset)
        self.signature = self.model.signature
        self.height, self.width = self.model.size
        self.steps, self.uses_parse = self.model.steps, self.model.uses_parse
        self.mixes = self.model.mixes
        self.pose_model = pose_model or blazepose.BlazePose(blazepose_dir, fetch)
        self.selfie_model = selfie_model or SelfieSegmentation(blazepose_dir, fetch)
        frame, missing = self.model.frame, np.full((18, 2), -1, np.float32)
        self.model(np.zeros((*frame, 3), np.uint8), missing, np.zeros(frame, np.int32),
                   missing)  # warm-up: traces once

    def analyse(self, photo, what, with_parse):
        """One photo -> :class:`Person` in the model's frame.

        Args:
            photo: uint8 [h, w, 3] RGB (:func:`tfposegen.serving.uploads.read_photo`).
            what: how messages name it ("your photo", "the product photo").
            with_parse: also make the 8-class parse (the appearance source needs it; made
                only when the model uses one, ADGAN).

        Raises:
            PhotoError (422): no person, several people, a back view, or no shoulders /
                hips.
        """
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", blazepose.MultiplePeopleWarning)
            try:
                result = self.pose_model(photo, name=what)
            except blazepose.NoPersonError:
                raise PhotoError(f"We could not find a person in {what}. Please use a photo "
                                 f"of one person, standing, seen from the front.") from None
        if any(issubclass(w.category, blazepose.MultiplePeopleWarning) for w in caught):
            raise PhotoError(f"{sentence(what)} shows several people. Please use a photo of "
                             f"one person only.")
        if is_back_view(result, photo.shape):
            raise PhotoError(f"{sentence(what)} seems to show the person from behind. Please use a "
                             f"photo taken from the front.")
        keypoints, _ = to_openpose(result.landmarks, result.visibility, photo.shape)
        present = np.all(keypoints >= 0, axis=1)
        if not (present[2] and present[5] and (present[8] or present[11])):
            raise PhotoError(f"{sentence(what)} does not show enough of the body. Please use "
                             f"a photo where the shoulders and hips are visible.")
        labels = None
        height, width = self.model.frame
        if with_parse and self.uses_parse:
            prob = person_probability(result, self.selfie_model(photo))
            labels = adgan_parse(photo, parse_keypoints(result, photo.shape), prob)
            image, kp, labels = fit_photo(photo, keypoints, height, width, labels)
        else:
            image, kp = fit_photo(photo, keypoints, height, width)
        # ADGAN's pose maps mark a joint at integer pixels only (its annotations are
        # integers, as DPTN's; tfposegen.models.adgan.export): round, keeping (-1, -1)
        kp = np.where(kp >= 0, np.round(kp), -1).astype(np.float32)
        return Person(image, kp, labels, draw_keypoints(photo, keypoints))

    def render(self, product, shopper, with_steps=False, style=None, mix_from=None):
        """The product photo's person (:class:`Person`, with a parse for ADGAN) in the
        shopper's pose (:class:`Person`): uint8 [height, width, 3]; with ``with_steps``
        (image, list of :attr:`steps` uint8 [height, width, 3] step images, coarse to
        fine; empty but for DPTN_step).

        ``style`` (a second product's :class:`Person`) and ``mix_from`` (int, 1 ..
        ``steps`` + 1) mix styles where :attr:`mixes` (DPTN_step): steps before
        ``mix_from`` see ``product``, the later ones ``style``. Raises ValueError for a
        model that cannot mix or a ``mix_from`` out of range."""
        mix = None
        if style is not None:
            if not self.mixes:
                raise ValueError(f"{self.signature} cannot mix styles (a DPTN_step export "
                                 "can)")
            if not (isinstance(mix_from, int) and 1 <= mix_from <= self.steps + 1):
                raise ValueError(f"mix_from must be an integer from 1 to {self.steps + 1}, "
                                 f"got {mix_from!r}")
            mix = (style.image, style.keypoints, mix_from)
        parse = product.parse.astype(np.int32) if product.parse is not None else None
        image, steps = self.model(product.image, product.keypoints, parse, shopper.keypoints,
                                  style=mix)
        return (image, steps) if with_steps else image

    def __call__(self, product_photo, shopper_photo):
        """Product photo, shopper photo (uint8 RGB) -> (uint8 [H, W, 3] result, product
        :class:`Person`, shopper :class:`Person`). Raises PhotoError as :meth:`analyse`."""
        product = self.analyse(product_photo, "the product photo", with_parse=True)
        shopper = self.analyse(shopper_photo, "your photo", with_parse=False)
        return self.render(product, shopper), product, shopper
