"""DPTN (Exploring Dual-task Correlation for Pose Guided Person Image Generation, CVPR 2022;
PangzeCheung/Dual-task-Pose-Transformer-Network), read top to bottom:

- ``blocks``: the encoder, residual, decoder, output and discriminator blocks.
- ``ptm``: the Pose Transformer Module (Context Augment and Texture Transfer Blocks).
- ``networks``: ``DPTNGenerator`` (both branches, shared En_c and decoder, En_s, PTM) and
  ``ResDiscriminator``.
- ``presets``: the released configuration and a tiny one; the released parameter counts.
- ``weights``: the name map from ``latest_net_G.pth`` / ``latest_net_D.pth`` (aliases,
  spectral norm, ``module.`` prefixes) to the Keras variables; networks folders.
- ``train``: the objective, one iteration, the schedule, ``DPTNTrainer``.
- ``export``: the SavedModel signatures ``dptn_pose_transfer``, and DPTN_step's
  ``dptn_step_pose_transfer`` and ``dptn_step_style_mix``.
- ``steps``: DPTN_step's quantised step targets and sinusoidal step maps.
- ``step_networks``: DPTN_step's ``StepGenerator``, ``StepDiscriminator`` and the S-step
  chain ``generate_steps`` (per-step sources: style mixing).
- ``step_train``: DPTN_step's inputs, face crop, objective and ``StepTrainer``.
"""
