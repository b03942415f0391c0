"""Pose: keypoints from photos (BlazePose, mediapipe's pose models run with ``tf.lite``), the
18 OpenPose joints, keypoint files (read and write) and pose maps.

    from tfposegen.pose import BlazePose, detect_keypoints, write_keypoint_csv
    model = BlazePose()                     # fetches the model files once
    kp, scores = detect_keypoints("photo.jpg", model)   # [18, 2] (row, col), -1 missing
    write_keypoint_csv("poses.csv", {"photo.jpg": kp})

Modules: :mod:`~tfposegen.pose.blazepose` (detector + landmark model),
:mod:`~tfposegen.pose.keypoints` (33 -> 18 mapping),
:mod:`~tfposegen.pose.formats` (keypoint files: PATN / GFLA CSV, OpenPose JSON and pickles,
RCV pickles; read and write), :mod:`~tfposegen.pose.maps` (heat-maps, pose masks, part
boxes as TF ops with numpy twins), :mod:`~tfposegen.pose.limb_maps` (DPTN_step's 41-channel
joint + limb maps, numpy),
:mod:`~tfposegen.pose.segmentation` (selfie segmentation),
:mod:`~tfposegen.pose.model_files` (finding / fetching the ``.tflite`` files).
"""

from tfposegen.pose.blazepose import (
    BlazePose,
    MultiplePeopleWarning,
    NoPersonError,
    PoseInputError,
    PoseResult,
)
from tfposegen.pose.formats import (
    PoseFileError,
    load_poses,
    write_keypoint_csv,
    write_openpose_json,
    write_openpose_pickles,
    write_rcv_pickle,
)
from tfposegen.pose.keypoints import OPENPOSE_NAMES, detect_keypoints, to_openpose
from tfposegen.pose.model_files import ModelFilesError
from tfposegen.pose.segmentation import SelfieSegmentation

__all__ = ["BlazePose", "ModelFilesError", "MultiplePeopleWarning", "NoPersonError",
           "OPENPOSE_NAMES", "PoseFileError", "PoseInputError", "PoseResult",
           "SelfieSegmentation", "detect_keypoints", "load_poses", "to_openpose",
           "write_keypoint_csv", "write_openpose_json", "write_openpose_pickles",
           "write_rcv_pickle"]
