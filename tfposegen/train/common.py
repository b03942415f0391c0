"""Pieces shared by the training loops: gradient application and checkpointable groups."""

import tensorflow as tf


def apply_gradients(optimizer, tape, loss, variables):
    """Optimiser step on the variables that have a gradient of ``loss`` (as TF1: the others
    are skipped, e.g. D's output bias in an R1 step). Under a ``tf.distribute`` strategy the
    gradients are divided by the number of replicas: the optimiser sums them over replicas
    and each replica's loss is its own mean."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    grads = tape.gradient(loss, variables)
    pairs = [(g / replicas, v) for g, v in zip(grads, variables) if g is not None]
    optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])


def variables_by_index(variables):
    """A dict ``v0000 -> variable`` for ``tf.train.Checkpoint`` (order-keyed, so a model
    rebuilt from the same config restores whatever its variable names)."""
    return {f"v{i:04d}": v for i, v in enumerate(variables)}


def model_variables(model):
    """``variables_by_index`` of all of a Keras model's weights."""
    return variables_by_index(model.weights)


def run_training(trainer, data, run_dir, batch_size, total_kimg, snapshot_kimg, snapshot,
                 show=(), logs=True, name="train", log=print):
    """The loop both training scripts share: resume, step, log, snapshot.

    Restores the newest checkpoint of ``<run_dir>/checkpoints`` (weights, optimisers, step,
    and the data iterator), then runs ``trainer.train_step`` until ``total_kimg``, showing
    progress (steps/s, ETA, the ``show`` losses), writing every loss and kimg/s as
    TensorBoard scalars under ``<run_dir>/logs`` (when ``logs``), and every
    ``snapshot_kimg`` and at the end saving a checkpoint and calling
    ``snapshot(step, kimg, writer)`` for the script's own outputs.

    Args:
        trainer: has ``train_step(batch) -> dict``, ``step`` (int64 variable) and
            ``checkpoint(**extra) -> tf.train.Checkpoint``.
        data: iterator of training batches (checkpointed with the run).

    Returns:
        the number of steps done.
    """
    import math
    import os
    import time

    from tfposegen.utils.progress import Progress

    ckpt = trainer.checkpoint(data=data)
    manager = tf.train.CheckpointManager(ckpt, os.path.join(run_dir, "checkpoints"),
                                         max_to_keep=2)
    if manager.latest_checkpoint:
        ckpt.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        log(f"resumed from {manager.latest_checkpoint} at step {int(trainer.step.numpy())}")
    writer = (tf.summary.create_file_writer(os.path.join(run_dir, "logs")) if logs
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
            manager.save(checkpoint_number=step)
            snapshot(step, step * batch_size // 1000, writer)
    writer.flush()
    log(f"done: {step} steps ({step * batch_size / 1000:.1f} kimg) in {run_dir}")
    return step
