"""The pose-transfer SavedModels the shopper service serves, behind one interface.

:func:`load_model` opens a SavedModel version folder, finds the first of :data:`KNOWN` among
its signatures and wraps it in an adapter that turns an analysed source person and a target
pose into that signature's inputs:

===========================  ==========================  ================================
signature                    export_savedmodel.py flag   the adapter feeds it
===========================  ==========================  ================================
``adgan_pose_transfer``      ``--adgan_netG``            the source image and its 8-class
                                                         parse, the target keypoints, all
                                                         in the network frame H x W
``dptn_step_pose_transfer``  ``--dptn_step_checkpoint``  the source image fitted into the
                                                         keypoint frame and stretched to
                                                         the network size (Pillow
                                                         bilinear, as the code's data);
                                                         source and target keypoints in
                                                         the keypoint frame; ``seed`` 0
``dptn_pose_transfer``       ``--dptn_netG``             as DPTN_step, without a seed
===========================  ==========================  ================================

The keypoint frame of a DPTN export is ``--dptn_dataset``'s (``tfposegen.data.pose_pairs.
KEYPOINT_FRAMES``: fashion 256 x 176, market 128 x 64); the SavedModel does not record it, so it is
given (``dataset``) or guessed from the network size (H = 2 W: market, else fashion). DPTN
results are stretched back from the network size to the keypoint frame's aspect (height H),
so that a person is not shown widened; DPTN_step also returns every step's image, coarse to
fine, at that size, and mixes styles when its export has ``dptn_step_style_mix`` (as
``--dptn_step_checkpoint`` writes it): a second source person B whose appearance the steps
from ``mix_from`` on see (the step README's style mixing; 1: all B, S + 1: all A).
"""

import os

import numpy as np
from PIL import Image

KNOWN = ("adgan_pose_transfer", "dptn_step_pose_transfer", "dptn_pose_transfer")
EXPORT_FLAGS = {"adgan_pose_transfer": "--adgan_netG",
                "dptn_step_pose_transfer": "--dptn_step_checkpoint",
                "dptn_pose_transfer": "--dptn_netG"}
SEED = 0


class AdganModel:
    """``adgan_pose_transfer``: ``uses_parse`` True, ``steps`` 0; ``frame`` and ``size``
    (the result's H x W) are the network's H x W."""

    uses_parse = True
    steps = 0
    mixes = False

    def __init__(self, signature, fn):
        self.signature, self._fn = signature, fn
        shape = fn.structured_input_signature[1]["images"].shape
        self.frame = self.size = (int(shape[1]), int(shape[2]))

    def __call__(self, image, keypoints, parse, target_keypoints, style=None):
        """One source person: uint8 [H, W, 3], (unused) keypoints, int [H, W] parse, target
        float [18, 2] (row, col in the frame); ``style`` must be None (no style mixing)
        -> (uint8 [H, W, 3], [])."""
        if style is not None:
            raise ValueError(f"{self.signature} cannot mix styles")
        import tensorflow as tf

        out = self._fn(images=tf.constant(image[None], tf.uint8),
                       parse=tf.constant(parse[None], tf.int32),
                       target_keypoints=tf.constant(target_keypoints[None], tf.float32))
        return out["images"].numpy()[0], []


class DptnModel:
    """``dptn_step_pose_transfer`` or ``dptn_pose_transfer``: ``uses_parse`` False;
    ``steps`` S (DPTN_step) or 0; ``frame`` the keypoint frame (fh, fw) photos are fitted
    into; ``network`` the signature's (H, W); ``size`` the result's (H, round(H fw / fh));
    ``mixes`` whether ``mix`` (the ``dptn_step_style_mix`` function, or None) is there."""

    uses_parse = False

    def __init__(self, signature, fn, frame, mix=None):
        self.signature, self._fn, self._mix = signature, fn, mix
        self.mixes = mix is not None
        inputs = fn.structured_input_signature[1]
        shape = inputs["images"].shape
        self.network = (int(shape[1]), int(shape[2]))
        self.frame = tuple(int(v) for v in frame)
        h = self.network[0]
        self.size = (h, max(1, round(h * self.frame[1] / self.frame[0])))
        self._seeded = "seed" in inputs
        steps = fn.structured_outputs.get("step_images")
        self.steps = int(steps.shape[0]) if steps is not None else 0

    def _resize(self, image, size):
        if image.shape[:2] == tuple(size):
            return image
        return np.asarray(Image.fromarray(image).resize(size[::-1], Image.BILINEAR))

    def __call__(self, image, keypoints, parse, target_keypoints, style=None):
        """One source person: uint8 [fh, fw, 3] in the keypoint frame, its keypoints and the
        target's, float [18, 2] (row, col in the frame; -1 missing); ``parse`` unused;
        ``style`` None or (image B, keypoints B, mix_from) for style mixing (``mixes``
        only; mix_from an int in 1 .. S + 1) -> (uint8 [H, w, 3] result, a list of S
        uint8 [H, w, 3] step images, coarse to fine), w the frame's aspect at height H."""
        import tensorflow as tf

        fn, args = self._fn, {}
        if style is not None:
            if not self.mixes:
                raise ValueError(f"{self.signature}: this export has no dptn_step_style_mix "
                                 "signature; style mixing needs a DPTN_step export")
            image_b, keypoints_b, mix_from = style
            fn = self._mix
            args = dict(images_b=tf.constant(self._resize(image_b, self.network)[None]),
                        source_keypoints_b=tf.constant(keypoints_b[None], tf.float32),
                        mix_from=tf.constant(int(mix_from), tf.int32))
        args.update(images=tf.constant(self._resize(image, self.network)[None], tf.uint8),
                    source_keypoints=tf.constant(keypoints[None], tf.float32),
                    target_keypoints=tf.constant(target_keypoints[None], tf.float32))
        if self._seeded:
            args["seed"] = tf.constant(SEED, tf.int64)
        out = fn(**args)
        steps = out["step_images"].numpy()[:, 0] if self.steps else []
        return (self._resize(out["images"].numpy()[0], self.size),
                [self._resize(s, self.size) for s in steps])


def keypoint_frame(network, dataset=None):
    """A DPTN export's keypoint frame (fh, fw): ``dataset``'s ("fashion", "market"), or for
    None guessed from the ``network`` size (H, W): market when H = 2 W, else fashion."""
    from tfposegen.data.pose_pairs import KEYPOINT_FRAMES

    if dataset is None:
        dataset = "market" if network[0] == 2 * network[1] else "fashion"
    if dataset not in KEYPOINT_FRAMES:
        raise ValueError(f"the DPTN dataset must be one of {sorted(KEYPOINT_FRAMES)}, "
                         f"got {dataset!r}")
    return KEYPOINT_FRAMES[dataset]


def load_model(model_dir, dataset=None):
    """Open a SavedModel version folder and wrap its pose-transfer signature.

    Args:
        model_dir: a folder with ``saved_model.pb`` (e.g. ``exported/adgan/1``).
        dataset: a DPTN export's ``--dptn_dataset`` (keypoint frame); None: guessed.

    Returns:
        an :class:`AdganModel` or :class:`DptnModel` (the first of :data:`KNOWN` found); its
        ``loaded`` attribute keeps the SavedModel alive.

    Raises:
        ValueError: not a SavedModel, unreadable, or none of the known signatures (the
            message names the folder and the signatures it has).
    """
    import tensorflow as tf

    model_dir = os.fspath(model_dir)
    if not any(os.path.isfile(os.path.join(model_dir, name))
               for name in ("saved_model.pb", "saved_model.pbtxt")):
        raise ValueError(f"{model_dir}: not a SavedModel version folder (no saved_model.pb); "
                         f"--model is a folder such as exported/adgan/1")
    try:
        loaded = tf.saved_model.load(model_dir)
    except Exception as e:  # TF raises many kinds for a damaged SavedModel
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ValueError(f"{model_dir}: the SavedModel cannot be loaded ({type(e).__name__}: "
                         f"{first[:300]})") from None
    found = [name for name in KNOWN if name in loaded.signatures]
    if not found:
        flags = ", ".join(EXPORT_FLAGS.values())
        raise ValueError(f"{model_dir}: none of the pose-transfer signatures the service "
                         f"knows ({', '.join(KNOWN)}); this SavedModel has "
                         f"{sorted(loaded.signatures) or 'no signatures'}. Export a generator "
                         f"with run_scripts/export_savedmodel.py ({flags})")
    name = found[0]
    fn = loaded.signatures[name]
    if name == "adgan_pose_transfer":
        model = AdganModel(name, fn)
    else:
        shape = fn.structured_input_signature[1]["images"].shape
        model = DptnModel(name, fn, keypoint_frame((int(shape[1]), int(shape[2])), dataset),
                          loaded.signatures.get("dptn_step_style_mix"))
    model.loaded = loaded  # the signature's functions live as long as their object
    return model
