"""PAINT LGN configurations: what ``LGN/options/base_options.py`` in gxl-groups/PAINT sets
by default (the README command only adds ``--dataroot``, ``--name``, ``--direction AtoB``,
the default, and ``--model stage1_gan``, a model file the release lacks: ``bicycle_gan``,
the default, is meant), and tiny ones for tests (the released topology at a small width)."""

# --input_nc 18 --output_nc 20 --nz 24 --ngf 64 --netG unet_256 (num_downs 8), no dropout
LGN_G = dict(input_nc=18, output_nc=20, nz=24, num_downs=8, ngf=64, use_dropout=False)
# define_E(4, 8, --nef 64, 'resnet_256'): 5 blocks, vaeLike (bicycle_gan_model.py)
LGN_E = dict(input_nc=4, output_nc=8, nef=64, n_blocks=5, vae_like=True)
# --netD / --netD2 basic_256_multi, --num_Ds 2, --ndf 64; D and D2 are the same network
LGN_D = dict(input_nc=20, ndf=64, n_layers=3, num_D=2)
# the image side the released configuration needs (2^num_downs; E's 8 * 2^n_blocks)
LGN_SIZE = 256
# test.py loads --epoch 40 by default: <checkpoints_dir>/<name>/40_net_G.pth, 40_net_E.pth
LGN_EPOCH = "40"

TINY_G = dict(LGN_G, ngf=4)
TINY_E = dict(LGN_E, nef=8)
TINY_D = dict(LGN_D, ndf=8)

# Counted on the original torch modules (tests/reference/make_paint_lgn_reference.py).
PARAMS_RELEASED = {"G": 55_614_868, "E": 2_591_056, "D": 3_485_090}

# AFN (AFN/model/pennet.py InpaintGenerator.flow_param: dim 64, n_res 2; 9-class parsings;
# AFN/core/trainer.py netD2 = define_D(24, 64, 'basic', norm='instance'))
AFN_G = dict(dim=64, n_res=2, parsing_nc=9, image_nc=3, align_corners=True)
AFN_D2 = dict(input_nc=24, ndf=64, n_layers=3)
AFN_SIZE = 256
# where training saves and AFN/test.py (with -m pconv) loads gen_/dis2_<NNNNN>.pth
AFN_SAVE_DIR = "release_model/pennet_pen55_pconv256"
TINY_AFN_G = dict(AFN_G, dim=4)
TINY_AFN_D2 = dict(AFN_D2, ndf=8)
# Counted on the original torch modules (tests/reference/make_paint_afn_reference.py); G
# includes the 737,664 parameters of the two AtnConv modules it builds and never calls.
AFN_PARAMS_RELEASED = {"G": 70_364_035, "D2": 2_786_241}

# TSN (TSN/configs/celebahq.json, TSN/core/trainer.py): InpaintGenerator() of
# TSN/model/pennet.py (cnum 32 and SPADE's nhidden 128 hard-coded there, 20 parsing labels)
# and define_D(3, 64, 'basic', n_layers_D=3, norm='batch'); 256 x 256 images (-s 256).
TSN_G = dict(cnum=32, label_nc=20, spade_hidden=128)
TSN_D = dict(input_nc=3, ndf=64, n_layers=3)
TSN_SIZE = 256
# Trainer.save / test.py: release_model/pennet_pen5_pconv256/{gen,dis}_<NNNNN>.pth, the
# newest NNNNN in latest.ckpt (00033 after the configured 330 000 iterations)
TSN_SAVE_DIR = "release_model/pennet_pen5_pconv256"
TINY_TSN_G = dict(TSN_G, cnum=4, spade_hidden=16)
TINY_TSN_D = dict(TSN_D, ndf=8)
# torch parameters (D: without the batch-norm running statistics, 1,792 floats, which Keras
# counts as non-trainable weights); tests/reference/make_paint_tsn_reference.py
PARAMS_TSN = {"G": 81_189_635, "D": 2_766_529}

# The chained stages (tfposegen.models.paint.pipeline): the released networks run at 256 x
# 256; the tiny chain at 64 x 64 (LGN with 6 levels, the fewest G_Unet_add_all builds; TSN
# needs multiples of 64, AFN of 16).
PIPELINE_SIZE = 256
TINY_PIPELINE = dict(size=64, lgn=dict(TINY_G, num_downs=6), tsn=TINY_TSN_G, afn=TINY_AFN_G)

# Per-stage training at test size (tfposegen.models.paint.train.build_stage(stage, "tiny")):
# the released topologies, narrow, at the smallest sides they build for (LGN: 6 U-Net levels
# and E with 3 blocks, 64 x 64; TSN: multiples of 64; AFN: multiples of 16, at least 48).
TRAIN_TINY = {
    "lgn": dict(size=64, G=dict(TINY_G, num_downs=6), E=dict(TINY_E, n_blocks=3), D=TINY_D),
    "tsn": dict(size=64, G=TINY_TSN_G, D=TINY_TSN_D),
    "afn": dict(size=48, G=TINY_AFN_G, D2=TINY_AFN_D2),
}
