"""ADGAN's training and test pictures: the 5-panel strip (source, source pose, target, target
pose, generated) of ``get_current_visuals`` in models/adgan.py and ``util/util.py`` in
menyifang/ADGAN."""

import numpy as np

# Limbs (joint pairs, COCO-18) and joint colours of the pose drawings (util/util.py).
LIMB_SEQ = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
            (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17))
JOINT_COLORS = np.array([[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0],
                         [170, 255, 0], [85, 255, 0], [0, 255, 0], [0, 255, 85],
                         [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255],
                         [0, 0, 255], [85, 0, 255], [170, 0, 255], [255, 0, 255],
                         [255, 0, 170], [255, 0, 85]], np.uint8)


# ------------------------------------------------------------------ schedule


def pose_joints(pose_map, threshold=0.1):
    """(row, col) of each channel's first maximum above ``threshold``, else (-1, -1):
    ``map_to_cord`` of util/util.py in menyifang/ADGAN. pose_map [H, W, 18] -> int [18, 2]."""
    pose_map = np.asarray(pose_map)
    joints = np.full((pose_map.shape[-1], 2), -1, np.int64)
    for c in range(pose_map.shape[-1]):
        ch = pose_map[..., c]
        if ch.max() > threshold:
            joints[c] = np.unravel_index(np.argmax(ch), ch.shape)
    return joints


def draw_pose(joints, height, width, radius=2):
    """uint8 [H, W, 3] drawing of int [18, 2] (row, col) joints on black, as
    ``draw_pose_from_cords`` of util/util.py in menyifang/ADGAN: white :data:`LIMB_SEQ`
    limbs (here without anti-aliasing), then discs of radius 2 in :data:`JOINT_COLORS`."""
    canvas = np.zeros((height, width, 3), np.uint8)
    ok = (joints >= 0).all(-1)
    for a, b in LIMB_SEQ:
        if ok[a] and ok[b]:
            n = int(np.abs(joints[a] - joints[b]).max()) + 1
            pts = np.rint(np.linspace(joints[a], joints[b], n)).astype(int)
            inside = (pts[:, 0] < height) & (pts[:, 1] < width)
            canvas[pts[inside, 0], pts[inside, 1]] = 255
    rows, cols = np.mgrid[:height, :width]
    for i in np.flatnonzero(ok):
        disc = (rows - joints[i, 0]) ** 2 + (cols - joints[i, 1]) ** 2 < radius ** 2
        canvas[disc] = JOINT_COLORS[i % len(JOINT_COLORS)]
    return canvas


def tensor_to_uint8(image):
    """[-1, 1] float [H, W, 3] -> uint8 as ``tensor2im``: ``(x + 1) / 2 * 255`` truncated."""
    return ((np.asarray(image, np.float32) + 1) / 2 * 255).astype(np.uint8)


def vis_strip(source, source_pose, target, target_pose, fake):
    """The original's ``vis`` image (``get_current_visuals`` of models/adgan.py in
    menyifang/ADGAN): uint8 [H, 5 W, 3] = [P1 | BP1 drawing | P2 | BP2 drawing | fake],
    from one sample: images [H, W, 3] in [-1, 1], pose maps [H, W, 18]."""
    h, w = np.asarray(source).shape[:2]
    return np.concatenate([tensor_to_uint8(source), draw_pose(pose_joints(source_pose), h, w),
                           tensor_to_uint8(target), draw_pose(pose_joints(target_pose), h, w),
                           tensor_to_uint8(fake)], axis=1)
