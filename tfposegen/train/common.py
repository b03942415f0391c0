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
