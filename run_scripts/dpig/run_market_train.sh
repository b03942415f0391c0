#!/bin/bash
# DPIG Market-1501 training (the original run_market_train.sh): 1, 2, then 3, 4.
#   bash run_scripts/dpig/run_market_train.sh                   # Market_train_data (downloaded when absent)
#   DPIG_SYNTHETIC=1 bash run_scripts/dpig/run_market_train.sh  # tiny synthetic records, a few steps
# LOG_DIR (default logs_market) and DATA_DIR (default data, or data_synthetic) move the folders.
# Fixed: the original passed model 4 no --pretrained_poseAE_path, so its pose AE stayed
# random; here it restores MODEL2's.
set -e
cd "$(dirname "$0")/../.."
gpu=0
D_arch='DCGAN'
log_dir=${LOG_DIR:-logs_market}
if [ "${DPIG_SYNTHETIC}" = "1" ]; then
    data_dir=${DATA_DIR:-data_synthetic}
    python run_scripts/dpig/make_synthetic_dpig.py --dataset=Market --data_dir="${data_dir}"
    s1=4; s2=4; tiny="--conv_hidden_num=8 --z_num=8 --fc_hidden=32 --critic_dim=8 --log_step=2"
    b1=2; b2=2; b3=2; b4=2
else
    data_dir=${DATA_DIR:-data}
    # ---- download (needs the internet; skipped when the folder exists) ----
    if [ ! -d "${data_dir}/Market_train_data" ]; then
        mkdir -p "${data_dir}" && cd "${data_dir}"
        wget homes.esat.kuleuven.be/~liqianma/NIPS17_PG2/data/Market_train_data.zip
        unzip Market_train_data.zip
        mv data4tf_GAN_attr_pose_onlyPosPair_128x64PoseRCV_Mask_sparse_Attr_partBbox7_maskR4R6 Market_train_data
        rm -f Market_train_data.zip
        cd - > /dev/null
    fi
    s1=120000; s2=60000; tiny="--z_num=64"
    b1=16; b2=64; b3=32; b4=64
fi
common="--dataset=Market_train_data --data_dir=${data_dir} --use_gpu=True --img_H=128 \
        --img_W=64 --d_lr=0.00002 --g_lr=0.00002 --lr_update_step=50000 --D_arch=${D_arch} \
        --gpu=${gpu} ${tiny}"

####################### Stage-I: reconstruction #####################
## Fg Bg reconstruction
python run_scripts/dpig/main.py ${common} --batch_size=${b1} --max_step=${s1} --model=1 \
    --model_dir=${log_dir}/MODEL1_Encoder_GAN_BodyROI7
## PoseRCV reconstruction
python run_scripts/dpig/main.py ${common} --batch_size=${b2} --max_step=${s2} --model=2 \
    --model_dir=${log_dir}/MODEL2_PoseRCV_AE

####################### Stage-II: sampling #####################
## FgBg sampling (restores MODEL1's Encoder and ID_AE)
python run_scripts/dpig/main.py ${common} --batch_size=${b3} --max_step=${s1} --model=3 \
    --model_dir=${log_dir}/MODEL3_subSampleAppNetFgBg_WGAN --start_step=0 \
    --pretrained_path=${log_dir}/MODEL1_Encoder_GAN_BodyROI7
## Pose sampling (restores MODEL1 and MODEL2's PoseAE)
python run_scripts/dpig/main.py ${common} --batch_size=${b4} --max_step=${s2} --model=4 \
    --model_dir=${log_dir}/MODEL4_subnetSamplePoseRCV_WGAN --start_step=0 \
    --pretrained_path=${log_dir}/MODEL1_Encoder_GAN_BodyROI7 \
    --pretrained_poseAE_path=${log_dir}/MODEL2_PoseRCV_AE
