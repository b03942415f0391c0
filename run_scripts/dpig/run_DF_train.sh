#!/bin/bash
# DPIG DeepFashion training (the original run_DF_train.sh): 101, 102, then 103, 104.
#   bash run_scripts/dpig/run_DF_train.sh                   # DF_train_data (downloaded when absent)
#   DPIG_SYNTHETIC=1 bash run_scripts/dpig/run_DF_train.sh  # tiny synthetic records, a few steps
# LOG_DIR (default logs_DF) and DATA_DIR (default data, or data_synthetic) move the folders.
set -e
cd "$(dirname "$0")/../.."
gpu=0
D_arch='DCGAN'
log_dir=${LOG_DIR:-logs_DF}
if [ "${DPIG_SYNTHETIC}" = "1" ]; then
    data_dir=${DATA_DIR:-data_synthetic}
    python run_scripts/dpig/make_synthetic_dpig.py --dataset=DF --data_dir="${data_dir}"
    size="--img_H=128 --img_W=64"; steps=4
    tiny="--conv_hidden_num=8 --z_num=8 --fc_hidden=32 --critic_dim=8 --log_step=2"
    b1=2; b2=2; b3=2; b4=2
else
    data_dir=${DATA_DIR:-data}
    # ---- download (needs the internet; skipped when the folder exists) ----
    if [ ! -d "${data_dir}/DF_train_data" ]; then
        mkdir -p "${data_dir}" && cd "${data_dir}"
        wget homes.esat.kuleuven.be/~liqianma/NIPS17_PG2/data/DF_train_data.zip
        unzip DF_train_data.zip
        mv data4tf_GAN_attr_pose_onlyPosPair_256x256PoseRCV_Mask_sparse_partBbox37_maskR4R8_roi10Complete DF_train_data
        rm -f DF_train_data.zip
        cd - > /dev/null
    fi
    size="--img_H=256 --img_W=256"; steps=120000; tiny="--z_num=64"
    b1=6; b2=16; b3=16; b4=32
fi
common="--dataset=DF_train_data --data_dir=${data_dir} --use_gpu=True ${size} \
        --d_lr=0.00002 --g_lr=0.00002 --lr_update_step=50000 --D_arch=${D_arch} --gpu=${gpu} \
        ${tiny}"

####################### Stage-I: reconstruction #####################
## Appearance reconstruction
python run_scripts/dpig/main.py ${common} --batch_size=${b1} --max_step=${steps} --model=101 \
    --model_dir=${log_dir}/MODEL101_DF_Encoder_GAN_BodyROI7
## PoseRCV reconstruction
python run_scripts/dpig/main.py ${common} --batch_size=${b2} --max_step=${steps} --model=102 \
    --model_dir=${log_dir}/MODEL102_DF_PoseRCV_AE

####################### Stage-II: sampling #####################
## Appearance sampling (restores MODEL101's Encoder and ID_AE; newest checkpoint of its dir)
python run_scripts/dpig/main.py ${common} --batch_size=${b3} --max_step=${steps} --model=103 \
    --model_dir=${log_dir}/MODEL103_DF_subSampleAppNet_WGAN --start_step=0 \
    --pretrained_path=${log_dir}/MODEL101_DF_Encoder_GAN_BodyROI7
## Pose sampling (restores MODEL101 and MODEL102's PoseAE)
python run_scripts/dpig/main.py ${common} --batch_size=${b4} --max_step=$((steps / 2)) --model=104 \
    --model_dir=${log_dir}/MODEL104_DF_subSamplePoseNet_WGAN --start_step=0 \
    --pretrained_path=${log_dir}/MODEL101_DF_Encoder_GAN_BodyROI7 \
    --pretrained_poseAE_path=${log_dir}/MODEL102_DF_PoseRCV_AE
