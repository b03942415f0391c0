#!/bin/bash
# DPIG DeepFashion testing (the original run_DF_test.sh): 1002 (sampling factors), 1001 (PG2
# task), then score.py / score_mask.py on the PG2 results.
#   bash run_scripts/dpig/run_DF_test.sh                    # after run_DF_train.sh (its folders)
#   PRETRAINED_DIR=<dir> bash run_scripts/dpig/run_DF_test.sh  # the released models (their names)
#   DPIG_SYNTHETIC=1 bash run_scripts/dpig/run_DF_test.sh   # after DPIG_SYNTHETIC=1 run_DF_train.sh
# LOG_DIR (default logs_DF) and DATA_DIR (default data, or data_synthetic) as run_DF_train.sh.
set -e
cd "$(dirname "$0")/../.."
gpu=0
D_arch='DCGAN'
log_dir=${LOG_DIR:-logs_DF}
if [ "${DPIG_SYNTHETIC}" = "1" ]; then
    data_dir=${DATA_DIR:-data_synthetic}
    python run_scripts/dpig/make_synthetic_dpig.py --dataset=DF --data_dir="${data_dir}"
    size="--img_H=128 --img_W=64"; batch=2; batches="--test_batch_num=2"; n1001=2
    tiny="--conv_hidden_num=8 --z_num=8 --fc_hidden=32 --critic_dim=8"
else
    data_dir=${DATA_DIR:-data}
    # ---- download (needs the internet; skipped when the folders exist) ----
    mkdir -p "${data_dir}" && cd "${data_dir}"
    for split in train test; do
        if [ ! -d DF_${split}_data ]; then
            wget homes.esat.kuleuven.be/~liqianma/NIPS17_PG2/data/DF_${split}_data.zip
            unzip DF_${split}_data.zip
            if [ ${split} = train ]; then
                mv data4tf_GAN_attr_pose_onlyPosPair_256x256PoseRCV_Mask_sparse_partBbox37_maskR4R8_roi10Complete DF_train_data
            else
                mv data4tf_GAN_attr_pose_onlyPosPair_256x256PoseRCV_Mask_test_sparse_partBbox37_maskR4R8_roi10Complete DF_test_data
            fi
            rm -f DF_${split}_data.zip
        fi
    done
    cd - > /dev/null
    size="--img_H=256 --img_W=256"; batch=16; batches=""; n1001=400; tiny="--z_num=64"
fi
# training records renamed *train* -> *test* (the original's DF_trainAStest_data)
if [ ! -d "${data_dir}/DF_trainAStest_data" ]; then
    mkdir "${data_dir}/DF_trainAStest_data"
    (cd "${data_dir}/DF_trainAStest_data" && ln -s ../DF_train_data/* . &&
     for file in *train*; do mv "$file" "${file/train/test}"; done)
fi
if [ -n "${PRETRAINED_DIR}" ]; then  # the released models' folder names
    app=${PRETRAINED_DIR}/MODEL101_DF_Encoder_GAN_BodyROI7_App/model.ckpt-0
    app_sample=${PRETRAINED_DIR}/MODEL103_DF_subnetSampleApp_WGAN/model.ckpt-0
    pose_ae=${PRETRAINED_DIR}/MODEL102_DF_PoseRCV_AE/model.ckpt-0
    pose_sample=${PRETRAINED_DIR}/MODEL104_DF_subnetSamplePoseRCV_WGAN/model.ckpt-0
else  # run_DF_train.sh's folders (newest checkpoint of each)
    app=${log_dir}/MODEL101_DF_Encoder_GAN_BodyROI7
    app_sample=${log_dir}/MODEL103_DF_subSampleAppNet_WGAN
    pose_ae=${log_dir}/MODEL102_DF_PoseRCV_AE
    pose_sample=${log_dir}/MODEL104_DF_subSamplePoseNet_WGAN
fi
common="--dataset=DF_test_data --data_dir=${data_dir} --use_gpu=True ${size} \
        --batch_size=${batch} --is_train=False --D_arch=${D_arch} --gpu=${gpu} ${tiny} ${batches}"

####################### Testing Whole Framework #####################
## Generate data for Sampling one or more factors
python run_scripts/dpig/main.py ${common} --sample_app=False --sample_pose=True --model=1002 \
    --model_dir=${log_dir}/MODEL104_DF_subnetSamplePoseRCV_WGAN \
    --pretrained_path=${app} --pretrained_appSample_path=${app_sample} \
    --pretrained_poseAE_path=${pose_ae} --pretrained_poseSample_path=${pose_sample}

## PG2 task (Conditional pose guided person image generation)
model_dir=${log_dir}/MODEL101_DF_Encoder_GAN_BodyROI7_App
python run_scripts/dpig/main.py ${common} --model=1001 --model_dir=${model_dir} \
    --pretrained_path=${app}

## Score (the PG2 results)
test_dir=test_result_ROI7_Condition_TargetPose_${n1001}x${batch}
stage=1
python run_scripts/dpig/score.py ${stage} ${gpu} ${model_dir} ${test_dir} ${INCEPTION_GRAPH}
python run_scripts/dpig/score_mask.py ${stage} ${gpu} ${model_dir} ${test_dir} ${INCEPTION_GRAPH}
