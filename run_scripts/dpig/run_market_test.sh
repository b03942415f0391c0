#!/bin/bash
# DPIG Market-1501 testing (the original run_market_test.sh): 11 (re-id set), 13 (sampling
# factors), 12 (PG2 task), then score.py / score_mask.py on the PG2 results.
#   bash run_scripts/dpig/run_market_test.sh                    # after run_market_train.sh
#   PRETRAINED_DIR=<dir> bash run_scripts/dpig/run_market_test.sh  # the released models (their names)
#   DPIG_SYNTHETIC=1 bash run_scripts/dpig/run_market_test.sh   # after DPIG_SYNTHETIC=1 run_market_train.sh
# LOG_DIR (default logs_market) and DATA_DIR (default data, or data_synthetic) as training.
set -e
cd "$(dirname "$0")/../.."
gpu=0
D_arch='DCGAN'
log_dir=${LOG_DIR:-logs_market}
stage=1
if [ "${DPIG_SYNTHETIC}" = "1" ]; then
    data_dir=${DATA_DIR:-data_synthetic}
    python run_scripts/dpig/make_synthetic_dpig.py --dataset=Market --data_dir="${data_dir}"
    batch=2; batches="--test_batch_num=2"; n12=2
    tiny="--conv_hidden_num=8 --z_num=8 --fc_hidden=32 --critic_dim=8"
else
    data_dir=${DATA_DIR:-data}
    # ---- download (needs the internet; skipped when the folders exist) ----
    mkdir -p "${data_dir}" && cd "${data_dir}"
    for split in train test; do
        if [ ! -d Market_${split}_data ]; then
            wget homes.esat.kuleuven.be/~liqianma/NIPS17_PG2/data/Market_${split}_data.zip
            unzip Market_${split}_data.zip
            if [ ${split} = train ]; then
                mv data4tf_GAN_attr_pose_onlyPosPair_128x64PoseRCV_Mask_sparse_Attr_partBbox7_maskR4R6 Market_train_data
            else
                mv data4tf_GAN_attr_pose_onlyPosPair_128x64PoseRCV_Mask_test_sparse_Attr_partBbox7_maskR4R6 Market_test_data
            fi
            rm -f Market_${split}_data.zip
        fi
    done
    cd - > /dev/null
    batch=32; batches=""; n12=600; tiny="--z_num=64"
fi
# training records renamed *train* -> *test* (the original's Market_trainAStest_data)
if [ ! -d "${data_dir}/Market_trainAStest_data" ]; then
    mkdir "${data_dir}/Market_trainAStest_data"
    (cd "${data_dir}/Market_trainAStest_data" && ln -s ../Market_train_data/* . &&
     for file in *train*; do mv "$file" "${file/train/test}"; done)
fi
if [ -n "${PRETRAINED_DIR}" ]; then  # the released models' folder names
    app=${PRETRAINED_DIR}/MODEL1_Encoder_GAN_BodyROI7_PartVis_FgBg/model.ckpt-0
    app_sample=${PRETRAINED_DIR}/MODEL3_subSampleAppNetFgBg_WGAN/model.ckpt-0
    pose_ae=${PRETRAINED_DIR}/MODEL2_PoseRCV_AE/model.ckpt-0
    pose_sample=${PRETRAINED_DIR}/MODEL4_subnetSamplePoseRCV_WGAN/model.ckpt-0
else  # run_market_train.sh's folders (newest checkpoint of each)
    app=${log_dir}/MODEL1_Encoder_GAN_BodyROI7
    app_sample=${log_dir}/MODEL3_subSampleAppNetFgBg_WGAN
    pose_ae=${log_dir}/MODEL2_PoseRCV_AE
    pose_sample=${log_dir}/MODEL4_subnetSamplePoseRCV_WGAN
fi
model_dir=${log_dir}/MODEL4_subnetSamplePoseRCV_WGAN
common="--data_dir=${data_dir} --use_gpu=True --input_scale_size=128 --batch_size=${batch} \
        --is_train=False --D_arch=${D_arch} --gpu=${gpu} ${tiny} ${batches} \
        --model_dir=${model_dir} --pretrained_path=${app}"
samplers="--pretrained_appSample_path=${app_sample} --pretrained_poseAE_path=${pose_ae} \
          --pretrained_poseSample_path=${pose_sample}"

####################### Testing Whole Framework #####################
## Generate data for re-id
python run_scripts/dpig/main.py ${common} ${samplers} --dataset=Market_trainAStest_data \
    --sample_app=True --sample_pose=False --one_app_per_batch=True --model=11

## Generate data for Sampling one or more factors
python run_scripts/dpig/main.py ${common} ${samplers} --dataset=Market_trainAStest_data \
    --sample_fg=True --sample_bg=True --sample_pose=True --model=13

## PG2 task (Conditional pose guided person image generation)
python run_scripts/dpig/main.py ${common} --dataset=Market_test_data --model=12

## Score (the PG2 results)
test_dir=test_samples_result_ROI7_Condition_TargetPose_${n12}x${batch}
python run_scripts/dpig/score.py ${stage} ${gpu} ${model_dir} ${test_dir} ${INCEPTION_GRAPH}
python run_scripts/dpig/score_mask.py ${stage} ${gpu} ${model_dir} ${test_dir} ${INCEPTION_GRAPH}
