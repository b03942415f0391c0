"""DPIG's ``main.py``: train or test a ``--model`` with the original ``config.py`` flags.

    python run_scripts/dpig/main.py --dataset=DF_train_data --data_dir=data --img_H=256 \\
        --img_W=256 --batch_size=6 --max_step=120000 --d_lr=0.00002 --g_lr=0.00002 \\
        --lr_update_step=50000 --model=101 --model_dir=logs/MODEL101 --is_train=True

Every flag of the original keeps its name, default and boolean parsing ('true' / '1',
any case, is True); unknown flags are ignored as the original's ``parse_known_args``.
Records are read from ``<data_dir>/<dataset>``; ``params.json`` (all flags) is written into
the model dir before training. New flags: ``--strategy`` (tf.distribute), ``--seed``,
``--original_quirks`` (reproduce the released tester's bugs), ``--deterministic``,
``--test_batch_num``, and the small-network flags ``--fc_hidden`` / ``--critic_dim`` used by
the smoke runs. The original's ``--interpolate_fg`` / ``--interpolate_bg`` /
``--interpolate_pose`` (flags without code there) run ``tfposegen.models.dpig.interpolate`` on a
test model: strips from each image of one batch to the same row of the next.
"""

import argparse
import datetime
import json
import os
import sys


def str2bool(v):
    """The original's boolean parser: 'true' / '1' (any case) -> True, else False."""
    return v.lower() in ("true", "1")


def build_parser():
    """argparse parser with every ``config.py`` flag (and this port's additions)."""
    p = argparse.ArgumentParser(prog="main.py")
    a = p.add_argument
    a("--img_H", type=int, default=128)
    a("--img_W", type=int, default=64)
    a("--conv_hidden_num", type=int, default=128)
    a("--z_num", type=int, default=64)
    a("--dataset", type=str, default="CelebA")
    a("--split", type=str, default="train")
    a("--batch_size", type=int, default=16)
    a("--grayscale", type=str2bool, default=False)
    a("--num_worker", type=int, default=4)
    a("--is_train", type=str2bool, default=True)
    a("--test_one_by_one", type=str2bool, default=False)
    a("--optimizer", type=str, default="adam")
    a("--start_step", type=int, default=0)
    for name in ("ckpt_path", "pretrained_path", "pretrained_appSample_path",
                 "pretrained_poseAE_path", "pretrained_poseSample_path", "FeaLossModel_path",
                 "z_emb_dir"):
        a(f"--{name}", type=str, default=None)
    a("--max_step", type=int, default=500000)
    a("--lr_update_step", type=int, default=100000)
    a("--L1Loss_weight", type=float, default=20)
    a("--d_lr", type=float, default=0.00008)
    a("--g_lr", type=float, default=0.00008)
    a("--beta1", type=float, default=0.5)
    a("--beta2", type=float, default=0.999)
    a("--gamma", type=float, default=0.5)
    a("--lambda_k", type=float, default=0.001)
    a("--use_gpu", type=str2bool, default=True)
    a("--gpu", type=int, default=-1)
    a("--model", type=int, default=0)
    a("--D_arch", type=str, default="DCGAN")
    for name in ("sample_app", "sample_fg", "sample_bg", "sample_pose", "one_app_per_batch",
                 "interpolate_fg", "interpolate_fg_up", "interpolate_fg_down", "interpolate_bg",
                 "interpolate_pose", "inverse_fg", "inverse_bg", "inverse_pose"):
        a(f"--{name}", type=str2bool, default=False)
    a("--load_path", type=str, default="")
    a("--log_step", type=int, default=200)
    a("--save_model_secs", type=int, default=1000)
    a("--num_log_samples", type=int, default=3)
    a("--log_level", type=str, default="INFO", choices=["INFO", "DEBUG", "WARN"])
    a("--log_dir", type=str, default="logs")
    a("--model_dir", type=str, default=None)
    a("--data_dir", type=str, default="data")
    a("--test_data_path", type=str, default=None)
    a("--sample_per_image", type=int, default=64)
    a("--random_seed", type=int, default=123)
    # additions of this port
    a("--strategy", default="default", choices=["default", "mirrored", "multiworker"],
      help="tf.distribute strategy; --batch_size is global")
    a("--seed", type=int, default=0, help="seed of initial weights, data order and noise")
    a("--original_quirks", type=str2bool, default=False,
      help="reproduce the released tester's bugs (shuffled test data, 1002's mixed batches)")
    a("--deterministic", type=str2bool, default=False,
      help="deterministic TF kernels (slower): runs, resumed or not, are bit-identical")
    a("--test_batch_num", type=int, default=None, help="test batches (default: original's)")
    a("--fc_hidden", type=int, default=None, help="FC width of pose AE / mapping / critics "
      "(default: the original's 512 / 256)")
    a("--critic_dim", type=int, default=64, help="DCGAN critic base width")
    a("--precision", default="float32", choices=["float32", "mixed_bfloat16"],
      help="numeric precision: float32 (default, faithful) or mixed_bfloat16 (bfloat16 "
      "compute, float32 variables, optimisers and losses; no loss scaling needed); fast only "
      "where the hardware has bfloat16 math")
    return p


def prepare_dirs(config):
    """``utils.prepare_dirs_and_logger``: model_dir from load_path / dataset + time."""
    if config.load_path:
        if config.load_path.startswith(config.log_dir):
            config.model_dir = config.model_dir or config.load_path
        elif config.load_path.startswith(config.dataset):
            config.model_name = config.load_path
        else:
            config.model_name = f"{config.dataset}_{config.load_path}"
    else:
        config.model_name = f"{config.dataset}_{datetime.datetime.now():%m%d_%H%M%S}"
    if config.model_dir is None:
        config.model_dir = os.path.join(config.log_dir, config.model_name)
    config.data_path = os.path.join(config.data_dir, config.dataset)
    for path in (config.log_dir, config.data_dir, config.model_dir):
        os.makedirs(path, exist_ok=True)


def run(config, parser):
    """Build, restore, then train or test (errors -> ``parser.error``, exit 2)."""
    if config.gpu > -1:
        os.environ["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        os.environ["CUDA_VISIBLE_DEVICES"] = str(config.gpu)
    import tensorflow as tf

    from tfposegen.train.common import is_chief, make_strategy

    # first, before any TF op: MultiWorkerMirroredStrategy configures collectives at startup.
    # Mirrored: the DCGAN critic all-reduces its batch statistics inside the forward pass;
    # with collective all-reduce the replicas may launch that and the gradients' all-reduce
    # in different orders (TF aborts: shape mismatch), so reduce through one device.
    strategy = make_strategy(config.strategy, tf.distribute.ReductionToOneDevice())
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    import keras

    from tfposegen.models.dpig import models as M
    from tfposegen.models.dpig import test as T
    from tfposegen.models.dpig import train as TR
    from tfposegen.models.dpig.pipeline import PipelineError, dpig_dataset, record_files
    from tfposegen.train.precision import set_precision
    from tfposegen.utils.files import atomic_path

    set_precision(config.precision)  # before the networks are built

    try:
        spec = M.get_spec(config.model)
        record_files(config.data_path)
    except (M.ModelError, PipelineError) as e:
        parser.error(str(e))
    variant = "Market" if spec.dataset == "market" else "DF"
    with strategy.scope():
        keras.utils.set_random_seed(config.seed)
        try:
            nets = M.build_networks(spec, config.img_H, config.img_W, config.conv_hidden_num,
                                    config.z_num, config.fc_hidden, config.critic_dim)
            for flag, keys in spec.restores.items():
                if getattr(config, flag):
                    TR.restore_networks(getattr(config, flag), {k: nets[k] for k in keys})
            if config.ckpt_path and not (spec.number in (102, 103) and config.pretrained_path):
                TR.restore_networks(config.ckpt_path, nets)
        except (M.ModelError, TR.RestoreError) as e:
            parser.error(str(e))
    train = config.is_train and spec.stage != "test"
    quirks = config.original_quirks
    ds = dpig_dataset(config.data_path, variant, config.batch_size,
                      shuffle=train or quirks, seed=config.seed, repeat=train or quirks,
                      height=config.img_H, width=config.img_W, heatmaps=not train,
                      uint8=train)
    if train:
        if is_chief(strategy):  # the other workers of a cluster write nothing there
            with atomic_path(os.path.join(config.model_dir, "params.json")) as tmp, \
                    open(tmp, "w") as f:
                json.dump(vars(config), f, indent=4, sort_keys=True)  # the original's layout
        trainer = TR.DPIGTrainer(spec, nets, config.batch_size, config.g_lr, config.d_lr,
                                 config.lr_update_step, config.seed, config.sample_pose,
                                 strategy)
        # previews: the first batch in file order, from its own dataset (a second iterator of
        # ``ds`` would reshuffle differently in every process, breaking exact resume)
        fixed = next(iter(dpig_dataset(config.data_path, variant, config.batch_size,
                                       shuffle=False, repeat=False, height=config.img_H,
                                       width=config.img_W)))
        TR.train_loop(trainer, iter(trainer.model_inputs(ds)), fixed, config.model_dir,
                      config.max_step, config.log_step, config.start_step)
        return 0
    if spec.stage != "test":
        parser.error(f"--model {spec.number} is a training model; test with 1001 / 1002 "
                     "(DF) or 11 / 12 / 13 (Market)")
    batch_num = config.test_batch_num or M.TEST_BATCHES[spec.number]
    factor = ("pose" if config.interpolate_pose else "bg" if config.interpolate_bg else
              ("fg" if spec.dataset == "market" else "appearance") if config.interpolate_fg
              else None)
    if factor:
        from tfposegen.models.dpig.interpolate import run_interpolation

        if factor == "pose" and "pose_ae" not in nets:
            parser.error(f"--interpolate_pose needs a pose AE: use --model 1002 / 11 / 13, "
                         f"not {spec.number}")
        if factor in ("fg", "bg") and spec.dataset != "market":
            parser.error("--interpolate_bg needs a Market model (11 / 12 / 13)")
        folder = os.path.join(config.model_dir, f"test_result_interpolate_{factor}_"
                              f"{batch_num}x{config.batch_size}")
        n = run_interpolation(nets, spec.dataset, iter(ds), folder, batch_num, factor)
        print(f"main.py: wrote {n} interpolation strips to {folder}")
        return 0
    name = T.test_dir_name(spec.number, batch_num, config.batch_size, config.sample_app,
                           config.sample_pose, config.sample_fg, config.sample_bg)
    folder = os.path.join(config.model_dir, name)
    if spec.kind == "pg2":
        n = T.run_pg2(nets, spec.dataset, iter(ds), folder, batch_num)
    elif spec.kind == "sample_market":
        sample_fg = config.sample_app if spec.number == 11 else config.sample_fg
        n = T.run_sample_market(nets, iter(ds), folder, batch_num, spec.number, sample_fg,
                                config.sample_bg, config.sample_pose,
                                config.one_app_per_batch, config.seed, quirks)
    else:
        n = T.run_sample_factors(nets, iter(ds), folder, batch_num, config.sample_app,
                                 config.sample_pose, config.seed, quirks)
    print(f"main.py: wrote {n} images to {folder}")
    return 0


def main(argv=None):
    parser = build_parser()
    config, _ = parser.parse_known_args(argv)
    config.data_format = "NHWC"
    prepare_dirs(config)
    return run(config, parser)


if __name__ == "__main__":
    sys.exit(main())
