"""The training loop every trainer shares (``common.run_training``: snapshots, resumable
checkpoints, TensorBoard, progress), the ``tf.distribute`` helpers (strategies, batch
splitting) and the optimiser they use (``optimizers.Adam``). Each system's recipe lives in
its own package (e.g. ``tfposegen.models.stylegan2.train``)."""
