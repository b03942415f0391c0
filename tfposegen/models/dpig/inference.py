"""DPIG on new images: the PG2 task from keypoints alone, restoring the networks of a test
model, and fitting a photo into the model's frame.

Keypoints are 18 OpenPose-order joints (row, col) in pixels with (-1, -1) for a missing
joint. Images NHWC float32 in [-1, 1].
"""

import tensorflow as tf

from tfposegen.models.dpig import models as M
from tfposegen.pose.maps import keypoints_to_rcv, part_boxes, pose_heatmap, pose_mask

SIZES = {"df": (256, 256), "market": (128, 64)}


def pose_transfer(networks, dataset, images, keypoints, target_keypoints):
    """The source's appearance in the target pose (the PG2 task, as tests 1001 / 12).

    As the original converters, the part boxes and their visibility (and Market's radius-7
    "r6" foreground mask) are computed from the source keypoints, floored to integers as
    OpenPose peaks; the pose map (radius-4 disks) is drawn from the target keypoints.

    Args:
        networks: dict with "encoder" and "generator" (restored).
        dataset: "df" or "market".
        images: float32 [N, H, W, 3] in [-1, 1].
        keypoints, target_keypoints: float32 [N, 18, 2].

    Returns:
        float32 [N, H, W, 3], about [-1, 1].
    """
    h, w = images.shape[1], images.shape[2]
    rcv = keypoints_to_rcv(tf.floor(keypoints))
    boxes, vis = part_boxes(rcv, dataset)
    batch = {"x": images, "part_bbox": boxes, "part_vis": vis}
    if dataset == "market":
        batch["mask_r6"] = pose_mask(rcv, h, w, 7)
    pose = pose_heatmap(keypoints_to_rcv(target_keypoints), h, w)
    return networks["generator"](M.appearance(networks, dataset, batch), pose)


def restore_test_networks(dataset, height, width, paths, hidden=128, z_num=64, fc_hidden=None):
    """The networks of test model 1002 (DF) / 13 (Market) restored from ``paths``
    ({``--pretrained_*`` flag name: checkpoint prefix or training folder}); with only
    ``pretrained_path`` the encoder and generator of 1001 / 12. The critic is left out.

    Returns:
        (dict of networks, dataset key "df" / "market").

    Raises:
        ValueError (incl. ``RestoreError``): a needed checkpoint missing or unusable.
    """
    from tfposegen.models.dpig.train import restore_networks

    key = "market" if dataset.lower().startswith("market") else "df"
    samplers = paths.get("pretrained_appSample_path") and paths.get("pretrained_poseSample_path")
    number = {"df": (1001, 1002), "market": (12, 13)}[key][bool(samplers)]
    spec = M.get_spec(number)
    nets = M.build_networks(spec, height, width, hidden, z_num, fc_hidden)
    for flag, keys in spec.restores.items():
        keys = [k for k in keys if k != "critic"]
        if not paths.get(flag):
            raise ValueError(f"--{flag} is needed for {', '.join(keys)}")
        restore_networks(paths[flag], {k: nets[k] for k in keys})
    nets.pop("critic", None)
    return nets, key


__all__ = ["SIZES", "pose_transfer", "restore_test_networks"]
