"""Export DGP or DPIG networks as a versioned SavedModel for TF Serving.

    python run_scripts/export_savedmodel.py --network pretrained/demo/dgp_demo_64.pkl \\
        --export_dir exported/dgp --version 1
    python run_scripts/export_savedmodel.py --dpig_dataset DF --img_H 256 --img_W 256 \\
        --pretrained_path logs_DF/MODEL101_DF_Encoder_GAN_BodyROI7 \\
        --pretrained_appSample_path logs_DF/MODEL103_DF_subSampleAppNet_WGAN \\
        --pretrained_poseAE_path logs_DF/MODEL102_DF_PoseRCV_AE \\
        --pretrained_poseSample_path logs_DF/MODEL104_DF_subSamplePoseNet_WGAN \\
        --export_dir exported/dpig_df
    python run_scripts/export_savedmodel.py --adgan_netG checkpoints/<name>/800_net \\
        --export_dir exported/adgan
    python run_scripts/export_savedmodel.py --dptn_step_checkpoint \\
        checkpoints/<id>/latest_net.pth --export_dir exported/dptn_step
    python run_scripts/export_savedmodel.py --paint_lgn_G checkpoints/LGN/40_net_G.pth \\
        --paint_tsn_G release_model/pennet_pen5_pconv256/gen_00033.pth \\
        --paint_afn_G release_model/pennet_pen55_pconv256/gen_00033.pth \\
        --export_dir exported/paint
    tensorflow_model_server --rest_api_port=8501 --model_name=dgp \\
        --model_base_path=$PWD/exported/dgp

DGP: ``--network`` is a DGP network file (an ``(E, D, Gs)`` pickle or a folder converted by
``run_scripts/dgp/convert_weights.py``); signatures ``dgp_encode``, ``dgp_synthesize``,
``dgp_generate`` and
their ``_float`` variants. DPIG (``--dpig_dataset``): the networks of the test models (1002
for DF, 13 for Market) restored with main.py's ``--pretrained_*`` flags (a checkpoint
prefix or a training folder, of this library or the released TF1 models); signatures
``dpig_pose_transfer`` (+ ``_float``) and, when the app and pose sampler checkpoints are
given, ``dpig_sample`` and ``dpig_sample_in_pose``. ADGAN (``--adgan_netG``: a networks folder, the
original's ``<label>_net_netG.pth`` or a demo file such as
``pretrained/demo/adgan_demo_64.npz``): signatures ``adgan_pose_transfer`` and
``adgan_attribute_transfer`` at ``--img_H`` x ``--img_W`` (default: the demo file's size,
else DeepFashion's 256 x 176). DPTN (``--dptn_netG``: a networks folder of
run_scripts/dptn/train.py or the original's ``latest_net_G.pth``): ``dptn_pose_transfer``
at ``--dptn_dataset``'s size. DPTN_step (``--dptn_step_checkpoint``: a networks folder of
run_scripts/dptn_step/train.py or the original's single-file ``<epoch>_net.pth``, at
``--dptn_dataset``'s size): ``dptn_step_pose_transfer`` and ``dptn_step_style_mix``, pose
maps of widths ``--dptn_step_sigma`` / ``--dptn_step_limb_sigma`` (2 / 2 for checkpoints
before the code's commit c520d34). PAINT (``--paint_lgn_G``, ``--paint_tsn_G``,
``--paint_afn_G``: the three released generator files, 256 x 256; or ``--paint_preset tiny``,
the tiny 64 x 64 networks with random weights seeded by ``--paint_seed``, for tests):
``paint_design`` and ``paint_design_in_view``, keypoints + two swatches + a seed -> layouts,
designs and views. Each system lists its signatures in ``tfposegen.models.<system>.export``.
"""

import os
import sys

from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_string("network", os.path.join(ROOT, "pretrained", "demo", "dgp_demo_64.pkl"),
                    "DGP network file (pickle or converted folder).")
flags.DEFINE_string("export_dir", None, "Model folder; the export goes to <export_dir>/<version>.")
flags.DEFINE_integer("version", 1, "Version sub-folder.", lower_bound=1)
flags.DEFINE_enum("dpig_dataset", None, ["DF", "Market"], "Export DPIG instead of DGP.")
flags.DEFINE_string("adgan_netG", None, "Export ADGAN: its generator file or folder.")
flags.DEFINE_string("dptn_netG", None, "Export DPTN: a networks folder or latest_net_G.pth.")
flags.DEFINE_enum("dptn_dataset", "fashion", ["fashion", "market"], "DPTN sizes: 256x256 "
                  "from 256x176 keypoints, or Market's 128x64.")
flags.DEFINE_string("dptn_step_checkpoint", None, "Export DPTN_step: a networks folder or the "
                    "original's <epoch>_net.pth (keypoint frame: --dptn_dataset).")
flags.DEFINE_float("dptn_step_sigma", 6.0, "DPTN_step joint-map sigma (2 before c520d34).")
flags.DEFINE_float("dptn_step_limb_sigma", 3.0, "DPTN_step limb-map sigma (2 before c520d34).")
flags.DEFINE_string("paint_lgn_G", None, "Export PAINT: LGN's <epoch>_net_G.pth.")
flags.DEFINE_string("paint_tsn_G", None, "Export PAINT: TSN's gen_<NNNNN>.pth.")
flags.DEFINE_string("paint_afn_G", None, "Export PAINT: AFN's gen_<NNNNN>.pth.")
flags.DEFINE_enum("paint_preset", None, ["released", "tiny"], "Export PAINT: the released "
                  "networks (the --paint_*_G files; implied by them) or tiny random ones.")
flags.DEFINE_integer("paint_seed", 0, "PAINT --paint_preset tiny: the weights' seed.")
flags.DEFINE_integer("img_H", None, "DPIG / ADGAN image height (default: DF 256, Market 128; "
                     "ADGAN 256 or the demo file's).")
flags.DEFINE_integer("img_W", None, "DPIG / ADGAN image width (default: DF 256, Market 64; "
                     "ADGAN 176 or the demo file's).")
flags.DEFINE_integer("conv_hidden_num", 128, "DPIG conv width, as main.py.")
flags.DEFINE_integer("z_num", 64, "DPIG generator bottleneck, as main.py.")
flags.DEFINE_integer("fc_hidden", None, "DPIG FC width, as main.py (default: the original's).")
for _name, _what in (("pretrained_path", "encoder and generator (MODEL101 / MODEL1)"),
                     ("pretrained_appSample_path", "appearance sampler (MODEL103 / MODEL3)"),
                     ("pretrained_poseAE_path", "pose AE (MODEL102 / MODEL2)"),
                     ("pretrained_poseSample_path", "pose sampler (MODEL104 / MODEL4)")):
    flags.DEFINE_string(_name, None, f"DPIG checkpoint of the {_what}.")
flags.mark_flag_as_required("export_dir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    paint = [FLAGS.paint_lgn_G, FLAGS.paint_tsn_G, FLAGS.paint_afn_G]
    try:
        if FLAGS.paint_preset or any(paint):
            preset = FLAGS.paint_preset or "released"
            missing = [f"--paint_{n}_G" for n, p in zip(("lgn", "tsn", "afn"), paint) if not p]
            if preset == "released" and missing:
                raise ValueError(f"PAINT's released networks need {', '.join(missing)}")
            from tfposegen.models.paint.export import export_networks

            path = export_networks(FLAGS.export_dir, FLAGS.version, preset,
                                   paint if any(paint) else None, FLAGS.paint_seed)
        elif FLAGS.dptn_step_checkpoint:
            from tfposegen.models.dptn.export import export_step_generator_file

            path = export_step_generator_file(
                FLAGS.dptn_step_checkpoint, FLAGS.export_dir, FLAGS.version, FLAGS.dptn_dataset,
                FLAGS.dptn_step_sigma, FLAGS.dptn_step_limb_sigma)
        elif FLAGS.dptn_netG:
            from tfposegen.models.dptn.export import export_generator_file

            path = export_generator_file(FLAGS.dptn_netG, FLAGS.export_dir, FLAGS.version,
                                         FLAGS.dptn_dataset)
        elif FLAGS.adgan_netG:
            from tfposegen.models.adgan.export import export_generator_file

            path = export_generator_file(FLAGS.adgan_netG, FLAGS.export_dir, FLAGS.version,
                                          FLAGS.img_H, FLAGS.img_W)
        elif FLAGS.dpig_dataset:
            from tfposegen.models.dpig.export import export_dpig
            from tfposegen.models.dpig.inference import restore_test_networks

            default = (256, 256) if FLAGS.dpig_dataset == "DF" else (128, 64)
            h, w = FLAGS.img_H or default[0], FLAGS.img_W or default[1]
            paths = {k: FLAGS[k].value for k in ("pretrained_path", "pretrained_appSample_path",
                                                 "pretrained_poseAE_path",
                                                 "pretrained_poseSample_path")}
            nets, dataset = restore_test_networks(FLAGS.dpig_dataset, h, w, paths,
                                                  FLAGS.conv_hidden_num, FLAGS.z_num,
                                                  FLAGS.fc_hidden)  # RestoreError: ValueError
            path = export_dpig(nets, dataset, h, w, FLAGS.export_dir, FLAGS.version)
        else:
            if not os.path.exists(FLAGS.network):
                raise ValueError(f"{FLAGS.network}: --network not found")
            from tfposegen.models.dgp.dnnlib import load_networks
            from tfposegen.models.dgp.export import export_dgp

            path = export_dgp(load_networks(FLAGS.network), FLAGS.export_dir, FLAGS.version)
    except (ValueError, FileExistsError) as e:  # incl. Conversion-, DnnlibPickle-, RestoreError
        print(f"export_savedmodel.py: error: {e}", file=sys.stderr)
        return 2
    print(f"exported {path}")
    return 0


if __name__ == "__main__":
    app.run(main)
