"""Keypoints from photos: BlazePose (mediapipe's pose models run with ``tf.lite``), the 18
OpenPose joints DPIG uses, and writers of the keypoint files its converters read.

    from tfposegen.pose import BlazePose, detect_keypoints, write_keypoint_csv
    model = BlazePose()                     # fetches the model files once
    kp, scores = detect_keypoints("photo.jpg", model)   # [18, 2] (row, col), -1 missing
    write_keypoint_csv("poses.csv", {"photo.jpg": kp})

Modules: :mod:`~tfposegen.pose.blazepose` (detector + landmark model),
:mod:`~tfposegen.pose.keypoints` (33 -> 18 mapping, writers),
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
from tfposegen.pose.keypoints import (
    OPENPOSE_NAMES,
    detect_keypoints,
    to_openpose,
    write_keypoint_csv,
    write_openpose_json,
    write_openpose_pickles,
    write_rcv_pickle,
)
from tfposegen.pose.model_files import ModelFilesError
from tfposegen.pose.segmentation import SelfieSegmentation

__all__ = ["BlazePose", "ModelFilesError", "MultiplePeopleWarning", "NoPersonError",
           "OPENPOSE_NAMES", "PoseInputError", "PoseResult", "SelfieSegmentation",
           "detect_keypoints", "to_openpose", "write_keypoint_csv", "write_openpose_json",
           "write_openpose_pickles", "write_rcv_pickle"]
