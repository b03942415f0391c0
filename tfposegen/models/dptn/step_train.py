"""DPTN_step training: step inputs, the face crop, the objective, one iteration.

Follows ``DPTNModel`` of models/dptn_model.py in gkalstn000/DPTN_step
(``compute_generator_loss``, ``backward_G_basic``, ``compute_discriminator_loss``,
``backward_D_basic``, ``create_optimizers``), trainers/trainer.py (G step, then D step) and
its option defaults (``lambda_rec`` 2.5, ``lambda_style`` 250, ``lambda_content`` 0.25,
``lambda_g`` 2, ``lambda_step`` 2, ``t_s_ratio`` 0.5; lr 2e-4 with TTUR).

Every term runs on the S steps stacked along the batch (step-major, as ``torch.cat`` of the
step lists), against the quantised ground truths of
:func:`tfposegen.models.dptn.steps.step_target`:

* G: ``r * lambda_rec * L1_t + 0.5 * lambda_g * MSE(D(fake_t), 1) + r * (lambda_style *
  style_t + lambda_content * content_t) + face_t + 0.5 * lambda_step * NLL(step head of
  fake_t) + (1 - r) * (lambda_rec * L1_s + lambda_style * style_s + lambda_content *
  content_s) + face_s`` (``VGGLoss`` as DPTN's: raw input, Gram / (C H W); the face term a
  second VGG19 on ImageNet-normalised crops, L1 at relu1_1 .. relu5_1);
* D (on fakes made again with new noise): ``0.5 * (MSE(D(gt_t), 1) + lambda_step *
  NLL(real) + MSE(D(fake_t), 0) + lambda_step * NLL(fake))``; step labels 0 .. S-1.

The first target input of every chain is Gaussian noise. The original draws it with
``torch.randn`` inside the model; here the caller passes it in the batch (``noise_g`` for
the G step, ``noise_d`` for the D step), so runs are reproducible and a global batch split
among replicas makes the update of one device.

The face crop (``util.crop_face_from_output`` of util/util.py) unpacks the eye vector
``[y0, x0, y1, x1]`` as ``(xs, ys, xe, ye)``: rows and columns swapped, so for an upright
person it crops a patch of torso or background at the left edge. ``face="swapped"``
(default) reproduces it, ``face="fixed"`` crops around the eyes as intended, ``face="off"``
drops the term.
"""

import tensorflow as tf

from tfposegen.losses.gan import lsgan_g_loss
from tfposegen.losses.perceptual import DPTN_CONTENT_LAYERS, VGG19Features, content_l1
from tfposegen.models.dptn.step_networks import generate_steps
from tfposegen.models.dptn.steps import step_target
from tfposegen.models.dptn.train import DPTNTrainer, branch_losses
from tfposegen.train.common import apply_gradients

DEFAULT_WEIGHTS = {"lambda_rec": 2.5, "lambda_style": 250.0, "lambda_content": 0.25,
                   "lambda_g": 2.0, "lambda_step": 2.0, "t_s_ratio": 0.5}
LR = 2e-4
FACE_MODES = ("swapped", "fixed", "off")
EYES = (14, 15)  # keypoint rows of the face centre (obtain_face_center)
MODEL_KEYS = ("source_image", "source_pose", "source_face", "target_image", "target_pose",
              "target_face", "noise_g", "noise_d")
G_LOSS_NAMES = ("L1_target", "GAN_target", "VGG_target", "Face_target", "Step_loss",
                "L1_source", "VGG_source", "Face_source")
D_LOSS_NAMES = ("Real_loss", "Real_step", "Fake_loss", "Fake_step")


# ------------------------------------------------------------------ inputs


def face_centers(keypoints):
    """``obtain_face_center`` of data/base_dataset.py: the two eyes (keypoints 14, 15) as
    ``[y0, x0, y1, x1]`` in the keypoints' frame, or ``[-1, -1, -1, -1]`` when either eye's
    row truncates to -1 (only the rows are tested, as the code).

    Args:
        keypoints: float [B, 18, 2] (row, col) in the network frame, -1 missing.

    Returns:
        float32 [B, 4].
    """
    kp = tf.cast(keypoints, tf.float32)
    eyes = tf.reshape(tf.gather(kp, EYES, axis=1), [-1, 4])
    rows = tf.gather(kp[:, :, 0], EYES, axis=1)
    present = tf.reduce_all(tf.cast(rows, tf.int32) != -1, axis=1, keepdims=True)
    return tf.where(present, eyes, -tf.ones_like(eyes))


def step_pose_maps(keypoints, height, width, sigma=6.0, limb_sigma=3.0):
    """DPTN_step's 41-channel pose maps (``obtain_bone``: 18 keypoint Gaussians + 23 limb
    maps, :func:`tfposegen.pose.limb_maps.dptn_step_pose`, the graph-safe twin of
    ``dptn_step_pose_np``) for a batch, inside a graph.

    Args:
        keypoints: float [B, 18, 2] (row, col) in the network frame H x W, -1 missing.
        height, width: H, W.
        sigma, limb_sigma: the code's 6 and 3 (2 and 2 before its commit c520d34).

    Returns:
        float32 [B, H, W, 41] in [0, 1].
    """
    from tfposegen.pose.limb_maps import dptn_step_pose

    out = dptn_step_pose(tf.cast(keypoints, tf.float64), height, width,
                         old_size=(height, width), sigma=sigma, limb_sigma=limb_sigma)
    return tf.ensure_shape(out, [None, height, width, 41])


def step_batch(batch, noise_seed, sigma=6.0, limb_sigma=3.0):
    """A pose-pair batch (``tfposegen.data.pose_pairs.pose_pair_dataset``) -> DPTN_step's
    inputs :data:`MODEL_KEYS`: 41-channel pose maps and face centres from the keypoints, and
    two seeded noise images (stateless: element ``noise_seed`` of a run gives the same
    noise wherever it is computed).

    Args:
        batch: dict with ``source_image`` / ``target_image`` [B, H, W, 3] in [-1, 1] and
            ``source_keypoints`` / ``target_keypoints`` [B, 18, 2] in the network frame.
        noise_seed: int64 scalar (e.g. the iteration index).

    Returns:
        dict of :data:`MODEL_KEYS` tensors (noise float32 [B, H, W, 3] ~ N(0, 1)).
    """
    image = batch["source_image"]
    height, width = int(image.shape[1]), int(image.shape[2])
    out = {k: batch[k] for k in ("source_image", "target_image")}
    for role in ("source", "target"):
        kp = batch[f"{role}_keypoints"]
        out[f"{role}_pose"] = step_pose_maps(kp, height, width, sigma, limb_sigma)
        out[f"{role}_face"] = face_centers(kp)
    shape = tf.shape(image)
    seed = tf.cast(noise_seed, tf.int64)
    out["noise_g"] = tf.random.stateless_normal(shape, tf.stack([seed, tf.constant(1, tf.int64)]))
    out["noise_d"] = tf.random.stateless_normal(shape, tf.stack([seed, tf.constant(2, tf.int64)]))
    return out


# ------------------------------------------------------------------ face loss


def face_boxes(face, height, width, mode="swapped"):
    """The square crop of ``get_face_bbox_for_output`` (util/util.py) per sample.

    ``swapped`` (the code): with ``(xs, ys, xe, ye) = face``, centre row = floor((ys + ye) /
    2) (the mean eye COLUMN), centre column = floor((xs + xe) / 2) (the mean eye ROW), side
    L = min(W, max(32, int(2.5 * (xe - xs)))), centres clamped to [L//2, H-1-L//2] (rows)
    and [L//2, W-1-L//2] (columns); rows int(c_r) -/+ L//2, columns int(c_c) -/+ L//2.
    ``fixed``: the eyes' mean row and column as centre, L from the horizontal eye distance
    |x1 - x0|.

    Args:
        face: float [B, 4] ``[y0, x0, y1, x1]`` (:func:`face_centers`).
        height, width: the image size.

    Returns:
        (int32 [B, 4] ``[ys, ye, xs, xe]`` (end exclusive), bool [B] has a face).
    """
    face = tf.cast(face, tf.float32)
    y0, x0, y1, x1 = tf.unstack(face, axis=1)
    if mode == "swapped":
        row_c, col_c, extent = tf.floor((x0 + x1) / 2), tf.floor((y0 + y1) / 2), y1 - y0
    elif mode == "fixed":
        row_c, col_c, extent = tf.floor((y0 + y1) / 2), tf.floor((x0 + x1) / 2), tf.abs(x1 - x0)
    else:
        raise ValueError(f"face mode must be one of {FACE_MODES[:2]}, got {mode!r}")
    side = tf.minimum(width, tf.maximum(32, tf.cast(extent * 2.5, tf.int32)))  # int(): trunc
    half = side // 2
    half_f = tf.cast(half, tf.float32)
    row_c = tf.maximum(half_f, tf.minimum(tf.cast(height - 1 - half, tf.float32), row_c))
    col_c = tf.maximum(half_f, tf.minimum(tf.cast(width - 1 - half, tf.float32), col_c))
    row_c, col_c = tf.cast(row_c, tf.int32), tf.cast(col_c, tf.int32)
    boxes = tf.stack([row_c - half, row_c + half, col_c - half, col_c + half], axis=1)
    return boxes, tf.reduce_sum(face, axis=1) != -4.0


def crop_faces(images, face, mode="swapped"):
    """``crop_face_from_output``: each sample's box (:func:`face_boxes`) resized to
    ``H // 32 * 8`` square with bilinear interpolation, ``align_corners=True``; zeros where
    the sample has no face.

    Args:
        images: float [B, H, W, 3] in [-1, 1].
        face: float [B, 4] (:func:`face_centers`).

    Returns:
        float [B, s, s, 3], s = H // 32 * 8.
    """
    height, width = int(images.shape[1]), int(images.shape[2])
    size = height // 32 * 8
    boxes, present = face_boxes(face, height, width, mode)
    b = tf.cast(boxes, tf.float32)
    # align_corners=True: output 0 -> first row of the crop, output s-1 -> its last row
    norm = tf.stack([b[:, 0] / (height - 1), b[:, 2] / (width - 1),
                     (b[:, 1] - 1) / (height - 1), (b[:, 3] - 1) / (width - 1)], axis=1)
    crops = tf.image.crop_and_resize(images, norm, tf.range(tf.shape(images)[0]),
                                     [size, size], method="bilinear")
    return tf.where(present[:, None, None, None], crops, tf.zeros_like(crops))


def make_face_vgg():
    """The face loss's network (``PerceptualLoss('vgg19', relu_1_1 .. relu_5_1)`` of
    models/dptn_networks/perceptual.py): torchvision's VGG19 on ImageNet-normalised
    ``(x + 1) / 2``, frozen. Load with ``tfposegen.losses.perceptual.load_torchvision_vgg19``."""
    return VGG19Features(DPTN_CONTENT_LAYERS, input_range="[-1,1]", name="dptn_step_face_vgg")


def face_loss(face_vgg, fake, real, face, mode="swapped"):
    """Sum over relu1_1 .. relu5_1 of L1(VGG(crop(fake)), VGG(crop(real)) held constant);
    float32 scalar (0 for ``mode="off"``)."""
    if mode == "off":
        return tf.constant(0.0)
    feats_real = {k: tf.stop_gradient(v) for k, v in
                  face_vgg(crop_faces(real, face, mode)).items()}
    return content_l1(face_vgg(crop_faces(fake, face, mode)), feats_real, DPTN_CONTENT_LAYERS)


# ------------------------------------------------------------------ objective


def step_labels(steps, batch):
    """int32 [steps * batch]: 0 x batch, 1 x batch, ... (step-major, as the code)."""
    return tf.repeat(tf.range(steps), batch)


def nll(logp, labels):
    """``torch.nn.NLLLoss`` (mean of ``-logp[label]``); float32 scalar."""
    return -tf.reduce_mean(tf.gather(logp, labels, batch_dims=1))


def generator_losses(D, vgg, face_vgg, batch, fakes, gts, weights=None, face="swapped"):
    """Every term of ``compute_generator_loss`` for one chain.

    Args:
        D: a :class:`~tfposegen.models.dptn.step_networks.StepDiscriminator` (train mode).
        vgg: DPTN's ``VGGLoss`` network (:func:`tfposegen.models.dptn.train.make_loss_vgg`).
        face_vgg: :func:`make_face_vgg`.
        batch: dict with ``source_face`` / ``target_face`` [B, 4].
        fakes, gts: dicts ``t`` / ``s`` of lists of S images [B, H, W, 3] (outputs and
            quantised ground truths of each step).
        weights: overrides of :data:`DEFAULT_WEIGHTS`.
        face: :data:`FACE_MODES`.

    Returns:
        dict of float32 scalars: ``total`` and :data:`G_LOSS_NAMES`.
    """
    w = dict(DEFAULT_WEIGHTS, **(weights or {}))
    r, steps = w["t_s_ratio"], len(fakes["t"])
    out, terms = {}, {}
    for branch, role in (("t", "target"), ("s", "source")):
        fake, real = tf.concat(fakes[branch], 0), tf.concat(gts[branch], 0)
        app, content, style = branch_losses(vgg, fake, real, w)
        faces = tf.tile(batch[f"{role}_face"], [steps, 1])
        terms[branch] = (app, content + style, face_loss(face_vgg, fake, real, faces, face))
        if branch == "t":
            d_fake, logp = D(fake, training=True)
            out["GAN_target"] = 0.5 * w["lambda_g"] * lsgan_g_loss(d_fake)
            labels = step_labels(steps, tf.shape(fake)[0] // steps)
            out["Step_loss"] = 0.5 * w["lambda_step"] * nll(logp, labels)
    out["L1_target"], out["VGG_target"] = r * terms["t"][0], r * terms["t"][1]
    out["Face_target"] = terms["t"][2]
    out["L1_source"], out["VGG_source"] = (1 - r) * terms["s"][0], (1 - r) * terms["s"][1]
    out["Face_source"] = terms["s"][2]
    out["total"] = tf.add_n([out[k] for k in G_LOSS_NAMES])
    return out


def discriminator_losses(D, real, fake, steps, lambda_step=DEFAULT_WEIGHTS["lambda_step"]):
    """``compute_discriminator_loss`` on stacked step images.

    Args:
        D: the step discriminator (train mode).
        real, fake: float [S * B, H, W, 3] (quantised ground truths; generated, detached).

    Returns:
        dict of float32 scalars: ``total`` and :data:`D_LOSS_NAMES`.
    """
    labels = step_labels(steps, tf.shape(real)[0] // steps)
    d_real, logp_real = D(real, training=True)
    d_fake, logp_fake = D(tf.stop_gradient(fake), training=True)
    out = {"Real_loss": 0.5 * lsgan_g_loss(d_real),
           "Real_step": 0.5 * lambda_step * nll(logp_real, labels),
           "Fake_loss": 0.5 * lsgan_g_loss(d_fake, real_label=0.0),   # MSE(D(fake), 0)
           "Fake_step": 0.5 * lambda_step * nll(logp_fake, labels)}
    out["total"] = tf.add_n([out[k] for k in D_LOSS_NAMES])
    return out


def step_ground_truths(image, steps):
    """The quantised targets of steps 1 .. S: list of float32 [B, H, W, 3] in [-1, 1]."""
    return [step_target(image, j, steps) for j in range(1, steps + 1)]


def learning_rates(epoch, lr, niter, niter_decay, ttur=True):
    """(G, D) learning rates during the 1-based ``epoch`` (``Trainer.update_learning_rate``
    of trainers/trainer.py, called at the end of each epoch: the base rate falls by ``lr /
    niter_decay`` at the end of every epoch after ``niter``, so epoch ``niter + 2`` is the
    first at a lower rate); TTUR gives G half and D twice the base."""
    base = lr
    if niter_decay > 0:
        base = max(0.0, lr - lr / niter_decay * max(0, int(epoch) - 1 - int(niter)))
    return (base / 2, base * 2) if ttur else (base, base)


class StepTrainer(DPTNTrainer):
    """Networks, optimisers and the compiled iteration of one DPTN_step run (the DPTN
    trainer with the step objective, TTUR and its schedule).

    Args:
        nets: dict ``G`` (:class:`~tfposegen.models.dptn.step_networks.StepGenerator`) and
            ``D`` (:class:`~tfposegen.models.dptn.step_networks.StepDiscriminator`).
        vgg, face_vgg: the loss networks (weights loaded by the caller).
        batch_size: the global batch; iterations_per_epoch: ``len(pairs) // batch_size``.
        lr, niter, niter_decay, ttur: the schedule (:func:`learning_rates`); ``ttur`` False
            is the code's ``--no_TTUR`` (both at lr, betas (0.5, 0.999) instead of (0, 0.9)).
        weights: overrides of :data:`DEFAULT_WEIGHTS`; face: :data:`FACE_MODES`.
        strategy: the ``tf.distribute`` strategy whose scope built the networks.
    """

    model_keys, default_weights = MODEL_KEYS, DEFAULT_WEIGHTS
    loss_names = G_LOSS_NAMES + D_LOSS_NAMES

    def __init__(self, nets, vgg, face_vgg, batch_size, iterations_per_epoch, lr=LR,
                 niter=150, niter_decay=50, ttur=True, weights=None, face="swapped",
                 jit_compile=False, strategy=None):
        if face not in FACE_MODES:
            raise ValueError(f"face must be one of {FACE_MODES}, got {face!r}")
        self.face_vgg, self.face, self.ttur = face_vgg, face, bool(ttur)
        self.betas = (0.0, 0.9) if self.ttur else (0.5, 0.999)
        self.steps = int(nets["G"].config["steps"])
        self._setup(nets, vgg, batch_size, iterations_per_epoch, lr, niter, niter_decay,
                    weights, jit_compile, strategy)

    def learning_rates(self, step):
        """(G, D) learning rates at the 0-based iteration ``step``."""
        epoch = int(step) // self.iterations_per_epoch + 1
        return learning_rates(epoch, self.lr0, self.niter, self.niter_decay, self.ttur)

    def _iteration(self, batch):
        G, D, S = self.nets["G"], self.nets["D"], self.steps
        gts = {"t": step_ground_truths(batch["target_image"], S),
               "s": step_ground_truths(batch["source_image"], S)}
        args = (batch["source_image"], batch["source_pose"], batch["target_pose"])
        with tf.GradientTape() as g_tape:
            fake_t, fake_s = generate_steps(G, *args, batch["noise_g"], training=True)
            out = generator_losses(D, self.vgg, self.face_vgg, batch,
                                   {"t": fake_t, "s": fake_s}, gts, self.weights, self.face)
        apply_gradients(self.opts["G"], g_tape, out.pop("total"), self.vars["G"])
        fake_t, _ = generate_steps(G, *args, batch["noise_d"], training=True)
        with tf.GradientTape() as d_tape:
            d_out = discriminator_losses(D, tf.concat(gts["t"], 0),
                                         tf.stop_gradient(tf.concat(fake_t, 0)), S,
                                         self.weights["lambda_step"])
        apply_gradients(self.opts["D"], d_tape, d_out.pop("total"), self.vars["D"])
        return {**out, **d_out}
