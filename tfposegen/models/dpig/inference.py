"""DPIG on new images: the PG2 task from keypoints alone, restoring the networks of a test
model, and fitting a photo into the model's frame.

Keypoints are 18 OpenPose-order joints (row, col) in pixels with (-1, -1) for a missing
joint. Images NHWC float32 in [-1, 1].
"""

import numpy as np
import tensorflow as tf
from PIL import Image

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


def fit_photo(image, keypoints, height, width):
    """Scale a photo to fit ``height`` x ``width`` (aspect kept, bicubic) and pad the rest
    with the photo's border colour (median of its outermost pixels), centred, moving the
    keypoints with it.

    Args:
        image: uint8 [h, w, 3].
        keypoints: float [18, 2] (row, col) in the photo, (-1, -1) missing.

    Returns:
        (uint8 [height, width, 3], float32 [18, 2] keypoints in the new frame, (-1, -1)
        kept).
    """
    image = np.asarray(image)
    h, w = image.shape[:2]
    scale = min(height / h, width / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    top, left = (height - nh) // 2, (width - nw) // 2
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    out = np.empty((height, width, 3), np.uint8)
    out[:] = np.median(border, axis=0).astype(np.uint8)
    out[top:top + nh, left:left + nw] = np.asarray(
        Image.fromarray(image).resize((nw, nh), Image.BICUBIC))
    kp = np.asarray(keypoints, np.float32)
    moved = kp * np.float32(scale) + np.array([top, left], np.float32)
    return out, np.where(np.all(kp >= 0, -1, keepdims=True), moved, -1).astype(np.float32)


__all__ = ["SIZES", "fit_photo", "pose_transfer", "restore_test_networks"]
