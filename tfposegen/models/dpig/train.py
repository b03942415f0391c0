"""DPIG training (``trainer.py`` / ``trainer_256.py`` in
charliememory/Disentangled-Person-Image-Generation): stage I (101 / 1, 102 / 2) and stage II (103,
104 /
3, 4) as ``tf.function`` steps, the original cadence, checkpoints to resume from.

A run resumed in a new process is bit-identical to an uninterrupted one under
``tf.config.experimental.enable_op_determinism()`` (``main.py --deterministic=true``).
Without it TF's multi-threaded CPU kernels sum in a varying order, and two runs, resumed or
not, drift apart from the last bits (Adam magnifies this on near-zero gradients).

Per iteration ``s`` (trainer*.train): if ``s > 0`` one generator-side step; then the critic
step(s) (1 for "dcgan", :data:`~tfposegen.models.dpig.losses.CRITIC_ITERS` clipped ones for
"wgan"); every step reads a **new** batch, as every TF1 ``sess.run`` dequeued one. Market
model 3 runs this for the fg and then the bg WGAN. Optimisers: "dcgan" / "adam" ->
TF1 Adam (beta1 0.5, beta2 0.999, eps 1e-8), "wgan" -> :class:`TF1RMSProp`. Both learning
rates are ``lr0 * 0.5 ** (s // lr_update_step)`` at iteration ``s`` (the original halves
after ``s % U == U - 1``). Noise of the mapping nets is a stateless function of
``(seed, s, purpose)`` drawn for the global batch, so a resumed run and any number of
replicas make the same updates. Images NHWC float32 in [-1, 1].
"""

import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

from tfposegen.convert.tf1_checkpoint import TF1CheckpointError, load_tf1_checkpoint
from tfposegen.losses import gan
from tfposegen.models.dpig import losses as L
from tfposegen.models.dpig.models import GROUPS, NUM_PARTS, appearance
from tfposegen.models.dpig.pipeline import to_float
from tfposegen.pose.maps import normalize_rcv, pose_heatmap
from tfposegen.train.common import (
    apply_gradients,
    is_chief,
    model_variables,
    run_replicas,
    same_on_every_worker,
    select_keys,
    split_batch,
    variables_by_index,
)
from tfposegen.train.optimizers import Adam
from tfposegen.utils.progress import Progress

_MODEL_KEYS = ("x", "pose", "pose_rcv", "mask", "mask_r6", "part_bbox", "part_vis")


class RestoreError(ValueError):
    """A checkpoint to restore from is missing or lacks networks; the message names it."""


class TF1RMSProp(keras.optimizers.Optimizer):
    """``tf.train.RMSPropOptimizer`` with its defaults (decay 0.9, momentum 0, eps 1e-10):
    ``ms = 0.9 ms + 0.1 g^2``; ``var -= lr * g / sqrt(ms + eps)``, the mean square
    initialised to **1** (Keras' RMSprop starts at 0 and puts eps outside the sqrt)."""

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-10, name="TF1RMSProp",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._ms = [self.add_variable_from_reference(v, "ms", initializer="ones")
                    for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        ms = self._ms[self._get_variable_index(variable)]
        lr = tf.cast(learning_rate, variable.dtype)
        self.assign(ms, self.rho * ms + (1.0 - self.rho) * tf.square(gradient))
        self.assign_sub(variable, lr * gradient / tf.sqrt(ms + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


def tf1_adam(learning_rate):
    """``tf.train.AdamOptimizer(lr, beta1=0.5)``: beta2 0.999, eps 1e-8 (Keras: 1e-7)."""
    return Adam(learning_rate=learning_rate, beta_1=0.5, beta_2=0.999, epsilon=1e-8)


def learning_rate(lr0, step, lr_update_step):
    """Learning rate of iteration ``step``: ``lr0 * 0.5 ** (step // lr_update_step)``."""
    return lr0 * 0.5 ** (step // lr_update_step)


def restore_networks(path, networks):
    """Load networks from an earlier model's checkpoint: a ``model.ckpt-<step>`` of this
    library (networks saved by group, :data:`~tfposegen.models.dpig.models.GROUPS`) or of the
    original TF1 code (by variable name).

    Args:
        path: checkpoint prefix (``.../model.ckpt-0``) or a folder (its newest checkpoint).
        networks: dict key -> model to fill.

    Raises:
        RestoreError: nothing at ``path`` or networks missing from it (message names both).
    """
    prefix = tf.train.latest_checkpoint(path) if os.path.isdir(path) else path
    if not prefix or not tf.io.gfile.exists(prefix + ".index"):
        raise RestoreError(f"{path}: no checkpoint (expected <prefix>.index)")
    names = {n for n, _ in tf.train.list_variables(prefix)}
    if "_CHECKPOINTABLE_OBJECT_GRAPH" not in names:
        try:
            load_tf1_checkpoint(prefix, list(networks.values()))
        except TF1CheckpointError as e:
            raise RestoreError(str(e)) from e
        return
    groups = {GROUPS[k]: model_variables(m) for k, m in networks.items()}
    missing = sorted(g for g in groups if not any(n.startswith(g + "/") for n in names))
    if missing:
        raise RestoreError(f"{prefix}: no {missing} networks in this checkpoint")
    tf.train.Checkpoint(**groups).restore(prefix).expect_partial().assert_existing_objects_matched()


class DPIGTrainer:
    """Networks, optimisers and compiled steps of one DPIG training run.

    Args:
        spec: ``tfposegen.models.dpig.models.ModelSpec`` of a training model (stage I or II).
        networks: dict key -> built model (``models.build_networks``, in the strategy's
            scope); frozen networks (not in ``spec.trains``) should already be restored.
        batch_size: global batch.
        g_lr, d_lr: initial learning rates of the generator side and the critic.
        lr_update_step: halving period.
        seed: seed of the mapping-net noise.
        sample_pose: 102 / 2 only: decode N(0, 0.2^2) noise instead of the pose embedding
            (the original's flag; off for real training).
        strategy: ``tf.distribute`` strategy (default: the current one).
    """

    def __init__(self, spec, networks, batch_size, g_lr=8e-5, d_lr=8e-5,
                 lr_update_step=100000, seed=0, sample_pose=False, strategy=None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        if batch_size % self.replicas:
            raise ValueError(f"batch_size {batch_size} must divide among {self.replicas} "
                             "replicas")
        self.spec, self.nets, self.batch_size = spec, networks, batch_size
        self.g_lr0, self.d_lr0, self.lr_update_step = g_lr, d_lr, lr_update_step
        self.seed, self.sample_pose = seed, sample_pose
        with self.strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.groups = []
            for gen_keys, critic_keys, mode in spec.trains:
                make = TF1RMSProp if mode == "wgan" else tf1_adam
                g_vars = [v for k in gen_keys for v in networks[k].trainable_weights]
                d_vars = [v for k in critic_keys for v in networks[k].trainable_weights]
                g_opt, d_opt = make(g_lr), (make(d_lr) if d_vars else None)
                g_opt.build(g_vars)
                if d_opt is not None:
                    d_opt.build(d_vars)
                self.groups.append((mode, g_vars, d_vars, g_opt, d_opt))
        self._g = [tf.function(lambda b, gi=gi: self._run(self._g_step, gi, b),
                               autograph=False)
                   for gi in range(len(self.groups))]
        self._g_eval = [tf.function(lambda b, gi=gi: self._run(self._g_loss_only, gi, b),
                                    autograph=False)
                        for gi in range(len(self.groups))]
        self._d = [tf.function(lambda b, i, gi=gi: self._run(self._d_step, gi, b, i),
                               autograph=False)
                   for gi in range(len(self.groups))]
        self._clip = [tf.function(lambda gi=gi: self._clip_step(gi), autograph=False)
                      for gi in range(len(self.groups))]

    # -- plumbing
    def _run(self, replica_fn, gi, batch, *args):
        """``replica_fn(gi, batch, *args)`` on every replica; a batch read with
        ``uint8=True``, without ``pose`` or without masks is completed there
        (``pipeline.to_float``: on the replica's device, as the original built its
        heat-maps in its graph; the same numbers as the pipeline's)."""
        def completed(gi, batch, *args):
            return replica_fn(gi, to_float(batch, dataset=self.spec.dataset), *args)
        return run_replicas(self.strategy, completed, gi, batch, *args)

    def model_inputs(self, dataset):
        """The dataset with only the tensors the models read: global batches, which
        :meth:`train_step` splits across the replicas (so its plain iterator checkpoints,
        also under ``MultiWorkerMirroredStrategy``, where every worker reads the same
        seeded batches and keeps its replicas' rows)."""
        return select_keys(dataset, _MODEL_KEYS)

    def _noise(self, dim, purpose):
        """This replica's share of N(0, 0.2^2) noise [batch / replicas, dim]."""
        seed = tf.stack([tf.cast(self.seed * 1000 + purpose, tf.int64), self.step])
        z = tf.random.stateless_normal([self.batch_size, dim], seed, stddev=L.NOISE_STDDEV)
        rid = tf.distribute.get_replica_context().replica_id_in_sync_group
        per = self.batch_size // self.replicas
        return z[rid * per:(rid + 1) * per]

    # -- forward passes per model kind
    def appearance(self, batch, key="encoder"):
        """Appearance embedding of the batch's source images: [B, 224] (DF) / [B, 352]."""
        return appearance(self.nets, self.spec.dataset, batch, key)

    def _rcv_norm(self, batch):
        h, w = batch["x"].shape[1], batch["x"].shape[2]
        return normalize_rcv(batch["pose_rcv"], h, w)

    def _stage1(self, batch):
        x = batch["x"]
        fake = self.nets["generator"](self.appearance(batch), batch["pose"])
        critic = self.nets["critic"]
        if self.spec.dataset == "df":  # one BN batch for real and fake, as 101
            real_logits, fake_logits = tf.split(critic(tf.concat([x, fake], 0)), 2)
        else:
            real_logits, fake_logits = critic(x), critic(fake)
        g, d = L.dcgan_losses(real_logits, fake_logits)
        l1, mask_l1 = L.reconstruction_losses(fake, x, batch["mask"])
        return {"g_loss_only": g, "g_loss": g + L.L1_WEIGHT * l1, "d_loss": d, "L1Loss": l1,
                "PoseMaskLoss": mask_l1}

    def _pose_ae(self, batch):
        rcv = self._rcv_norm(batch)
        ae = self.nets["pose_ae"]
        z = ae.encode(rcv)
        if self.sample_pose:
            z = self._noise(ae.z_dim, 7)
        loss = L.pose_reconstruction_loss(rcv, ae.decode(z))
        return {"g_loss": loss * L.POSE_WEIGHT, "reconstruct_loss": loss}

    def _wgan(self, gi, batch, purpose):
        """Real and fake embeddings of WGAN group ``gi`` and the critic losses."""
        kind = self.spec.kind
        if kind == "app_sampler":
            real = self.nets["encoder_roi48"](batch["x"], batch["part_bbox"][:, :NUM_PARTS])
            mapping, critic = self.nets["app_mapping"], self.nets["app_critic"]
        elif kind == "pose_sampler":
            real = self.nets["pose_ae"].encode(self._rcv_norm(batch))
            mapping, critic = self.nets["pose_mapping"], self.nets["pose_critic"]
        else:  # fgbg_sampler: [fg 224 | bg 128]
            e = self.appearance(batch)
            part = self.nets["fg_mapping"].dim
            real = e[:, :part] if gi == 0 else e[:, part:]
            name = "fg" if gi == 0 else "bg"
            mapping, critic = self.nets[f"{name}_mapping"], self.nets[f"{name}_critic"]
        fake = mapping(self._noise(mapping.dim, 100 * gi + purpose))
        real_s, fake_s = tf.split(critic(tf.concat([tf.stop_gradient(real), fake], 0)), 2)
        g, d = L.wgan_losses(real_s, fake_s)
        suffix = "" if len(self.groups) == 1 else ("_fg", "_bg")[gi]
        return {f"g_loss_embs{suffix}": g, f"d_loss_embs{suffix}": d}, g, d

    def _losses(self, gi, batch, purpose):
        """(loss dict, generator-side loss, critic loss or None) of group ``gi``."""
        if self.spec.kind == "recon":
            out = self._stage1(batch)
            return out, out["g_loss"], out["d_loss"]
        if self.spec.kind == "pose_ae":
            out = self._pose_ae(batch)
            return out, out["g_loss"], None
        return self._wgan(gi, batch, purpose)

    # -- the steps, per replica
    def _g_step(self, gi, batch):
        _, g_vars, _, g_opt, _ = self.groups[gi]
        with tf.GradientTape() as tape:
            out, g, _ = self._losses(gi, batch, 1)
        apply_gradients(g_opt, tape, g, g_vars)
        return out

    def _g_loss_only(self, gi, batch):
        return self._losses(gi, batch, 1)[0]

    def _d_step(self, gi, batch, iteration):
        _, _, d_vars, _, d_opt = self.groups[gi]
        with tf.GradientTape() as tape:
            out, _, d = self._losses(gi, batch, 10 + tf.cast(iteration, tf.int64))
        apply_gradients(d_opt, tape, d, d_vars)
        return out

    def _clip_step(self, gi):
        gan.clip_weights(self.groups[gi][2], L.CLIP)

    def train_step(self, data):
        """One iteration (see module docstring), reading its global batches from iterator
        ``data`` (of :meth:`model_inputs`); returns a dict of float losses and learning
        rates."""
        data = _Split(self.strategy, data)
        step = int(self.step.numpy())
        g_lr = learning_rate(self.g_lr0, step, self.lr_update_step)
        d_lr = learning_rate(self.d_lr0, step, self.lr_update_step)
        out = {"g_lr": g_lr, "d_lr": d_lr}
        for gi, (mode, _, d_vars, g_opt, d_opt) in enumerate(self.groups):
            g_opt.learning_rate.assign(g_lr)
            if step > 0:
                out.update(self._g[gi](next(data)))
            elif not d_vars:
                out.update(self._g_eval[gi](next(data)))
            if d_opt is None:
                continue
            d_opt.learning_rate.assign(d_lr)
            for i in range(L.CRITIC_ITERS if mode == "wgan" else 1):
                d_out = self._d[gi](next(data), tf.constant(i, tf.int64))
                if mode == "wgan":
                    self._clip[gi]()
            out.update({k: v for k, v in d_out.items() if k not in out or "d_loss" in k})
        self.step.assign_add(1)
        return {k: float(v) for k, v in out.items()}

    def checkpoint(self, **extra):
        """``tf.train.Checkpoint`` of every network (by group), optimiser and the step."""
        items = {GROUPS[k]: model_variables(m) for k, m in self.nets.items()}
        for gi, (_, _, _, g_opt, d_opt) in enumerate(self.groups):
            items[f"g_opt{gi}"] = variables_by_index(g_opt.variables)
            if d_opt is not None:
                items[f"d_opt{gi}"] = variables_by_index(d_opt.variables)
        return tf.train.Checkpoint(step=self.step, **items, **extra)

    # -- previews
    def preview(self, batch):
        """Preview images of a (non-distributed) batch, uint8 [B, H, W, 3] by name: "G"
        (101 / 1: reconstruction; 103 / 3: sampled appearance in the batch's poses; 104 / 4:
        the batch's appearance in sampled poses), "G_pose" (104 / 4: sampled pose maps);
        {} for 102 / 2."""
        kind, h, w = self.spec.kind, batch["x"].shape[1], batch["x"].shape[2]
        n = batch["x"].shape[0]
        gen = self.nets.get("generator")
        rng = tf.random.Generator.from_seed(self.seed)
        if kind == "recon":
            return {"G": to_uint8(gen(self.appearance(batch), batch["pose"]))}
        if kind == "app_sampler":
            z = rng.normal([n, self.nets["app_mapping"].dim], stddev=L.NOISE_STDDEV)
            return {"G": to_uint8(gen(self.nets["app_mapping"](z), batch["pose"]))}
        if kind == "fgbg_sampler":
            fg = self.nets["fg_mapping"](rng.normal([n, self.nets["fg_mapping"].dim],
                                                    stddev=L.NOISE_STDDEV))
            bg = self.nets["bg_mapping"](rng.normal([n, self.nets["bg_mapping"].dim],
                                                    stddev=L.NOISE_STDDEV))
            return {"G": to_uint8(gen(tf.concat([fg, bg], -1), batch["pose"]))}
        if kind == "pose_sampler":
            z = rng.normal([n, self.nets["pose_mapping"].dim], stddev=L.NOISE_STDDEV)
            rcv = self.nets["pose_ae"].decode(self.nets["pose_mapping"](z))
            pose = pose_heatmap(rcv, h, w, normalized=True)
            enc = "encoder" if "encoder" in self.nets else "encoder_roi48"
            if enc == "encoder":
                app = self.appearance(batch)
            else:
                app = self.nets[enc](batch["x"], batch["part_bbox"][:, :NUM_PARTS])
            return {"G_pose": pose_image(pose), "G": to_uint8(gen(app, pose))}
        return {}

    def preview_due(self, step, log_step):
        """Whether iteration ``step`` writes previews (trainer*.train's schedule)."""
        if self.spec.kind == "pose_ae":
            return False
        extra = {"recon": (10,), "pose_sampler": (10, 200)}.get(self.spec.kind, ())
        if self.spec.kind == "fgbg_sampler":
            return step == 0 or step % 300 == 299 or step % 1000 == 999
        return step == 0 or step in extra or step % (3 * log_step) == 3 * log_step - 1


class _Split:
    """Iterator of a strategy's per-replica splits of the global batches of ``data``."""

    def __init__(self, strategy, data):
        self.strategy, self.data = strategy, data

    def __next__(self):
        return tf.nest.map_structure(lambda t: split_batch(self.strategy, t), next(self.data))


def to_uint8(images):
    """[-1, 1]-unit images (unclipped) -> uint8 by clip to [0, 255] and truncation, as the
    original's ``denorm_img`` + ``astype(uint8)``: [..., C] float -> uint8 numpy."""
    return np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).astype(np.uint8)


def pose_image(pose_map):
    """18-channel {-1, +1} pose map [B, H, W, 18] -> grey uint8 [B, H, W] (0 or 255):
    ``(max over channels + 1) * 127.5``, truncated."""
    return ((np.max(np.asarray(pose_map), axis=-1) + 1.0) * 127.5).astype(np.uint8)


def save_grid(images, path, nrow=8, padding=2):
    """Write the original's ``utils.save_image`` grid: ``nrow`` columns, cells of
    (H+padding) x (W+padding) with the image at (2, 2) of its cell (padding 2), black
    background; images uint8-castable [N, H, W, 3] or [N, H, W] / [N, H, W, 1] (grey,
    broadcast to RGB), values in [0, 255] (truncated to uint8)."""
    from tfposegen.utils.files import write_png

    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    images = np.broadcast_to(images, images.shape[:3] + (3,)).astype(np.uint8)
    n, h, w = images.shape[:3]
    cols = min(nrow, n)
    rows = -(-n // cols)
    ch, cw = h + padding, w + padding
    off = 1 + padding // 2
    grid = np.zeros((ch * rows + off, cw * cols + off, 3), np.uint8)
    for k in range(n):
        y, x = divmod(k, cols)
        grid[y * ch + off:y * ch + off + h, x * cw + off:x * cw + off + w] = images[k]
    write_png(path, grid)


def train_loop(trainer, data, fixed, model_dir, max_step, log_step=200, start_step=0,
               save_step=None, log=print):
    """The DPIG loop: resume, iterate to ``max_step``, log, preview, checkpoint.

    Resumes from the newest ``<model_dir>/model.ckpt-<step>`` (networks, optimisers, step,
    data iterator), else starts at ``start_step``. Under ``MultiWorkerMirroredStrategy``
    every worker restores from ``model_dir`` (shared storage; RuntimeError when the workers
    restored different steps) and only the chief writes there (checkpoints, grids,
    summaries); the others save into a temporary folder.
    TensorBoard scalars (every loss and learning rate) at ``step % log_step == log_step -
    1``; preview grids (``<step>_G.png`` / ``<step>_G_pose.png`` and TensorBoard images) as
    :meth:`DPIGTrainer.preview_due`; ``model.ckpt-<step>`` every ``save_step`` (default
    ``30 * log_step``) iterations and at the end, keeping 20. Progress shows steps/s, ETA.

    Args:
        trainer: :class:`DPIGTrainer`.
        data: iterator of global training batches (of ``trainer.model_inputs``).
        fixed: one non-distributed batch for previews (grids ``x_fixed.png`` ... written at
            the start).

    Returns:
        the final step.
    """
    save_step = save_step or 30 * log_step
    chief = is_chief(trainer.strategy)
    ckpt = trainer.checkpoint(data=data)
    manager = tf.train.CheckpointManager(ckpt, model_dir, max_to_keep=20,
                                         checkpoint_name="model.ckpt")
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        log(f"resumed from {manager.latest_checkpoint} at step {int(trainer.step.numpy())}")
    elif start_step:
        trainer.step.assign(start_step)
    step = int(trainer.step.numpy())
    same_on_every_worker(trainer.strategy, step, "the step to resume from")
    writer = (tf.summary.create_file_writer(model_dir) if chief
              else tf.summary.create_noop_writer())
    if step == start_step and chief:
        write_fixed_grids(fixed, model_dir, pose=trainer.spec.kind != "pose_ae")
    progress = Progress(f"DPIG model {trainer.spec.number}", max_step, step)
    while step < max_step:
        losses = trainer.train_step(data)
        progress.update(step + 1, {k: v for k, v in losses.items() if "lr" not in k})
        if step % log_step == log_step - 1:
            with writer.as_default(step=step):
                for k, v in losses.items():
                    tf.summary.scalar(("misc/" if "lr" in k else "loss/") + k, v)
        if chief and trainer.preview_due(step, log_step):
            with writer.as_default(step=step):
                for name, images in trainer.preview(fixed).items():
                    save_grid(images, os.path.join(model_dir, f"{step}_{name}.png"))
                    tf.summary.image(name, images[..., None] if images.ndim == 3 else images,
                                     max_outputs=4)
        step += 1
        if step % save_step == 0 or step == max_step:
            if chief:
                manager.save(checkpoint_number=step - 1)
            else:  # every worker must save (TF); the others into a folder deleted at once
                with tempfile.TemporaryDirectory(prefix="tfposegen-worker-ckpt-") as tmp:
                    tf.train.CheckpointManager(ckpt, tmp, 1).save(checkpoint_number=step - 1)
    writer.flush()
    return step


def write_fixed_grids(batch, folder, pose=True):
    """Grids of a batch as the originals write them: ``x_fixed.png``, ``x_target_fixed.png``,
    ``mask_fixed.png``, ``mask_target_fixed.png`` and (``pose``) ``pose_fixed.png``,
    ``pose_target_fixed.png``."""
    for t in ("", "_target"):
        save_grid(to_uint8(batch["x" + t]), os.path.join(folder, f"x{t}_fixed.png"))
        save_grid(np.asarray(batch["mask" + t]) * 255, os.path.join(folder, f"mask{t}_fixed.png"))
        if pose:
            save_grid(pose_image(batch["pose" + t]), os.path.join(folder, f"pose{t}_fixed.png"))


__all__ = ["DPIGTrainer", "RestoreError", "TF1RMSProp", "learning_rate", "pose_image",
           "restore_networks", "save_grid", "tf1_adam", "to_uint8", "train_loop",
           "write_fixed_grids"]
