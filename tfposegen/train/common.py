"""Pieces shared by the training loops: gradient application and checkpointable groups."""

import tensorflow as tf


def apply_gradients(optimizer, tape, loss, variables):
    """Optimiser step on the variables that have a gradient of ``loss`` (as TF1: the others
    are skipped, e.g. D's output bias in an R1 step). Under a ``tf.distribute`` strategy the
    gradients are divided by the number of replicas: the optimiser sums them over replicas
    and each replica's loss is its own mean."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    grads = tape.gradient(loss, variables)
    pairs = [(g / replicas if replicas > 1 else g, v) for g, v in zip(grads, variables)
             if g is not None]
    optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])


def select_keys(dataset, keys):
    """``dataset`` (of dicts) with only the entries ``keys`` present (e.g. the tensors a
    training step reads, so that its iterator checkpoints); the keys missing from an
    element are left out."""
    keys = tuple(keys)

    @tf.autograph.experimental.do_not_convert
    def select(batch):
        return {k: batch[k] for k in keys if k in batch}
    return dataset.map(select)


def run_replicas(strategy, replica_fn, *args):
    """``strategy.run(replica_fn, args)``; every output (a nest of scalars) averaged over the
    replicas."""
    out = strategy.run(replica_fn, args=args)
    return tf.nest.map_structure(
        lambda v: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None), out)


def replicated_step(strategy, iteration, jit_compile=False):
    """A ``tf.function`` of a global-batch dict that runs ``iteration`` (a function of the
    replica's batch returning a nest of scalars) on every replica of ``strategy`` (XLA
    when :func:`xla_ok`) and averages the outputs over the replicas. Traced without
    autograph: the iterations have no tensor-dependent Python control flow."""
    replica = tf.function(iteration, autograph=False, jit_compile=xla_ok(strategy, jit_compile))
    return tf.function(lambda batch: run_replicas(strategy, replica, batch), autograph=False)


def make_strategy(name, cross_device_ops=None):
    """The ``tf.distribute`` strategy of a ``--strategy`` flag: ``default`` (one device),
    ``mirrored`` (all local GPUs; ``cross_device_ops`` as MirroredStrategy's) or
    ``multiworker`` (the cluster in ``TF_CONFIG``; create it before any other TF work)."""
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(cross_device_ops=cross_device_ops)
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "default":
        return tf.distribute.get_strategy()
    raise ValueError(f"unknown strategy {name!r} (default, mirrored, multiworker)")


def is_chief(strategy):
    """Whether this process writes the run's outputs: always, except on the non-chief
    workers of a multi-worker cluster (TF's rule: the ``chief`` task, else worker 0)."""
    return bool(strategy.extended.should_checkpoint)


def xla_ok(strategy, jit_compile):
    """``jit_compile``, but False (with a warning) for a strategy with several replicas on
    CPUs: XLA cannot compile TF's collectives on CPU (TF 2.21: "Collectives are not yet
    implemented for CPU devices when compiling with XLA")."""
    if not jit_compile or strategy.num_replicas_in_sync == 1:
        return jit_compile
    if any(tf.DeviceSpec.from_string(d).device_type == "CPU"
           for d in strategy.extended.worker_devices):
        import warnings

        warnings.warn("several replicas on CPUs: training without XLA (jit_compile)",
                      stacklevel=2)
        return False
    return True


def split_batch(strategy, batch):
    """A global batch [N, ...] as per-replica values (replica ``i`` gets rows
    ``i * N / replicas`` to ``(i + 1) * N / replicas``); distributed values and
    one-replica strategies pass through. Under ``MultiWorkerMirroredStrategy`` every worker
    must hold the same global batch (a deterministic, seeded pipeline), and takes its
    replicas' rows: the run makes the update of one device with that batch."""
    replicas = strategy.num_replicas_in_sync
    if replicas == 1 or isinstance(batch, tf.distribute.DistributedValues):
        return batch
    n = int(batch.shape[0])
    if n % replicas:
        raise ValueError(f"batch of {n} does not divide among {replicas} replicas")
    per = n // replicas

    def local(ctx):
        i = ctx.replica_id_in_sync_group
        return batch[i * per:(i + 1) * per]

    return strategy.experimental_distribute_values_from_function(local)


def data_sharded(dataset):
    """``dataset`` with the DATA auto-shard policy: under ``MultiWorkerMirroredStrategy`` the
    default (AUTO) shards a TFRecord pipeline by FILE, so the workers would read different
    files and the global batch would not be the one a single process reads."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def variables_by_index(variables):
    """A dict ``v0000 -> variable`` for ``tf.train.Checkpoint`` (order-keyed, so a model
    rebuilt from the same config restores whatever its variable names)."""
    return {f"v{i:04d}": v for i, v in enumerate(variables)}


def model_variables(model):
    """``variables_by_index`` of all of a Keras model's weights."""
    return variables_by_index(model.weights)


def same_on_every_worker(strategy, value, what):
    """Fail unless ``value`` (a number) is the same on every replica of the strategy."""
    if strategy.num_replicas_in_sync == 1:
        return
    v = strategy.experimental_distribute_values_from_function(
        lambda ctx: tf.constant([value], tf.float32))
    every = strategy.gather(v, axis=0).numpy()
    lo, hi = float(every.min()), float(every.max())
    if lo != hi:
        raise RuntimeError(f"the workers disagree on {what} (from {lo:g} to {hi:g}; here "
                           f"{value:g}): every worker must read the chief's checkpoints")


def run_training(trainer, data, run_dir, batch_size, total_kimg, snapshot_kimg, snapshot,
                 show=(), logs=True, name="train", log=print, epoch=None):
    """The loop both training scripts share: resume, step, log, snapshot.

    Restores the newest checkpoint of ``<run_dir>/checkpoints`` (weights, optimisers, step,
    and the data iterator), then runs ``trainer.train_step`` until ``total_kimg``, showing
    progress (steps/s, ETA, the ``show`` losses), writing every loss and kimg/s as
    TensorBoard scalars under ``<run_dir>/logs`` (when ``logs``), and every
    ``snapshot_kimg`` and at the end saving a checkpoint and calling
    ``snapshot(step, kimg, writer)`` for the script's own outputs.

    Multi-worker (``trainer.strategy`` a ``MultiWorkerMirroredStrategy``): every worker
    restores from ``<run_dir>/checkpoints`` (shared storage, or a copy of the chief's
    folder), and fails if the workers restored different steps; every worker saves (TF
    requires it), but only the chief into ``<run_dir>``, the others into a temporary folder
    that is deleted right after; only the chief writes logs and calls ``snapshot``.

    Args:
        trainer: has ``train_step(batch) -> dict``, ``step`` (int64 variable),
            ``checkpoint(**extra) -> tf.train.Checkpoint`` and optionally ``strategy``.
        data: iterator of global training batches (checkpointed with the run, so a plain
            ``iter(dataset)``: a distributed iterator cannot be checkpointed).
        epoch: optional ``(steps_per_epoch, epoch_end)``: on the chief, after the step that
            ends epoch ``e`` (1-based) at step ``s``, ``epoch_end(e, s)`` (the originals'
            ``<epoch>_net`` files), after that step's checkpoint and snapshot if any.

    Returns:
        the number of steps done.
    """
    import math
    import os
    import shutil
    import tempfile
    import time

    from tfposegen.utils.progress import Progress

    strategy = getattr(trainer, "strategy", None) or tf.distribute.get_strategy()
    chief = is_chief(strategy)
    ckpt = trainer.checkpoint(data=data)
    ckpt_dir = os.path.join(run_dir, "checkpoints")
    latest = tf.train.latest_checkpoint(ckpt_dir)
    if latest:
        ckpt.restore(latest).assert_existing_objects_matched()
        log(f"resumed from {latest} at step {int(trainer.step.numpy())}")
    same_on_every_worker(strategy, int(trainer.step.numpy()), "the step to resume from")

    def save(step):
        if chief:
            manager.save(checkpoint_number=step)
            return
        tmp = tempfile.mkdtemp(prefix="tfposegen-worker-ckpt-")
        try:
            tf.train.CheckpointManager(ckpt, tmp, max_to_keep=1).save(checkpoint_number=step)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    manager = tf.train.CheckpointManager(ckpt, ckpt_dir, max_to_keep=2) if chief else None
    writer = (tf.summary.create_file_writer(os.path.join(run_dir, "logs")) if logs and chief
              else tf.summary.create_noop_writer())
    total = math.ceil(total_kimg * 1000 / batch_size)
    every = max(1, int(round(snapshot_kimg * 1000 / batch_size)))
    step = int(trainer.step.numpy())
    progress = Progress(name, total, step)
    t_last, s_last = time.time(), step
    while step < total:
        losses = trainer.train_step(next(data))
        step += 1
        progress.update(step, {k: v for k, v in losses.items() if k in show})
        with writer.as_default(step=step):
            for k, v in losses.items():
                tf.summary.scalar(f"loss/{k}", v)
            if step % 10 == 0:
                now = time.time()
                tf.summary.scalar("speed/kimg_per_s",
                                  (step - s_last) * batch_size / 1000 / (now - t_last))
                t_last, s_last = now, step
        if step % every == 0 or step == total:
            save(step)
            if chief:
                snapshot(step, step * batch_size // 1000, writer)
        if epoch and chief and step % epoch[0] == 0:
            epoch[1](step // epoch[0], step)
    writer.flush()
    log(f"done: {step} steps ({step * batch_size / 1000:.1f} kimg) in {run_dir}")
    return step
