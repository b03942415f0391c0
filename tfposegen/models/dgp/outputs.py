"""DGP's output files: PNGs, side-by-side MP4 videos and per-phase loss logs.

Names as the original (``deepGenPro.py`` in RuiLiFeng/Deep-Generative-Projection). Every file is
written
atomically (``tfposegen.utils.files``).
"""

import numpy as np

from tfposegen.utils.files import atomic_path

PNG_NAMES = {
    "rough_alignment": "rough_alignment.png",
    "encoder": "outputs_encoder.png",
    "projection": "outputs_projection.png",
    "semantic_search": "outputs_semantic_search.png",
    "pattern_search": "outputs_pattern_search.png",
}
VIDEO_NAMES = {"projection": "projection.mp4", "semantic_search": "semantic_search.mp4",
               "pattern_search": "pattern_search.mp4", "all": "DGP.mp4"}
FPS = 10
BITRATE = "16M"


def losses_name(phase):
    """File name of a phase's loss log, e.g. ``projection_losses.json``."""
    return f"{phase}_losses.json"


def write_video(path, left, middle, frames):
    """Write an MP4 of ``[left, middle, frame]`` panels side by side, one per frame.

    As the original: imageio's ffmpeg writer, 10 fps, H.264 (libx264), bitrate 16M,
    yuv420p. Frames are streamed, never all held in memory.

    Args:
        path: output ``.mp4`` path (written atomically).
        left, middle: uint8 [R, R, 3] fixed panels.
        frames: iterable of uint8 [R, R, 3].
    """
    import imageio.v2 as imageio  # the ffmpeg binary comes with the imageio-ffmpeg wheel

    with atomic_path(path) as tmp:
        writer = imageio.get_writer(tmp, format="FFMPEG", mode="I", fps=FPS, codec="libx264",
                                    bitrate=BITRATE, macro_block_size=16)
        try:
            for frame in frames:
                writer.append_data(np.concatenate([left, middle, frame], axis=1))
        finally:
            writer.close()
