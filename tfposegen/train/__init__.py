"""The training loop every trainer shares (``common.run_training``: snapshots, resumable
checkpoints, TensorBoard, progress) and the ``tf.distribute`` helpers (strategies, batch
splitting). Each system's recipe lives in its own package (e.g.
``tfposegen.models.stylegan2.train``)."""
