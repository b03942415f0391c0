"""One resumable DGP run: encoder, three phases, outputs.

The run keeps its state in ``<output_dir>/.dgp_state/``: ``state.npz`` (W+, noise maps,
Adam variables, the phase images, the losses so far and a fingerprint of the settings),
written atomically every ``checkpoint_every`` steps and at the end of every phase, and one
uint8 frame file per phase for the videos (a memory-mapped ``.npy``, so the 2,510 frames of
a default run never sit in memory). A run restarted with the same settings continues from
the last checkpoint and, the computation being deterministic, ends with the same images as
an uninterrupted run. The state folder is removed once every output is written.
"""

import json
import os
import shutil

import numpy as np

from tfposegen.models.dgp import outputs
from tfposegen.models.dgp.project import PHASES
from tfposegen.utils.files import to_uint8, write_json, write_npz, write_png
from tfposegen.utils.progress import Progress

STATE_DIR = ".dgp_state"
STATE_FILE = "state.npz"


class DGPStateError(RuntimeError):
    """The output folder holds an unfinished run made with different settings."""


def _frames_path(state_dir, phase):
    return os.path.join(state_dir, f"frames_{phase}.npy")


def _load_state(state_dir, fingerprint):
    path = os.path.join(state_dir, STATE_FILE)
    if not os.path.isfile(path):
        return None
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    if meta["fingerprint"] != fingerprint:
        changed = sorted(k for k in set(fingerprint) | set(meta["fingerprint"])
                         if fingerprint.get(k) != meta["fingerprint"].get(k))
        raise DGPStateError(
            f"{path}: this output folder holds an unfinished run with other settings "
            f"(differs in: {', '.join(changed)}). Run again with the same settings to "
            f"continue it, use another --output_dir, or pass --restart to discard it.")
    return meta, arrays


class _Run:
    def __init__(self, projector, inputs, output_dir, steps, fingerprint, save_video,
                 checkpoint_every, log):
        self.p, self.inputs, self.out = projector, inputs, output_dir
        self.steps, self.fingerprint = steps, fingerprint
        self.save_video, self.checkpoint_every, self.log = save_video, checkpoint_every, log
        self.state_dir = os.path.join(output_dir, STATE_DIR)
        self.rough = inputs.rough_alignment
        self.frames = None

    def checkpoint(self, meta, images, with_optimizer):
        if self.frames is not None:
            self.frames.flush()
        state = self.p.state()
        if not with_optimizer:
            state = {k: v for k, v in state.items() if not k.startswith("adam")}
        state.update(images)
        write_npz(os.path.join(self.state_dir, STATE_FILE), meta=np.array(json.dumps(meta)),
                  **state)

    def open_frames(self, phase, fresh):
        if not self.save_video:
            return None
        path = _frames_path(self.state_dir, phase)
        r = self.rough.shape[0]
        if fresh or not os.path.isfile(path):
            return np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8,
                                             shape=(self.steps[phase], r, r, 3))
        return np.load(path, mmap_mode="r+")

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        image = self.p.encode()
        write_png(os.path.join(self.out, outputs.PNG_NAMES["rough_alignment"]), self.rough)
        write_png(os.path.join(self.out, outputs.PNG_NAMES["encoder"]), to_uint8(image[0]))
        write_png(os.path.join(self.out, "residual_parse.png"), self.inputs.residual)
        for name in ("mask_arm", "mask_inner"):
            mask = getattr(self.inputs, name)
            write_png(os.path.join(self.out, f"{name}.png"), (mask * 255).astype(np.uint8))
        meta = {"fingerprint": self.fingerprint, "phase": 0, "step": 0, "losses": {}}
        images = {"img_encoder": image}
        self.checkpoint(meta, images, with_optimizer=False)
        return meta, images

    def run(self, state, stop_after):
        if state is None:
            meta, images = self.start()
            arrays = None
        else:
            meta, arrays = state
            images = {k: v for k, v in arrays.items() if k.startswith("img_")}
            where = PHASES[meta["phase"]] if meta["phase"] < len(PHASES) else "the videos"
            self.log(f"resuming {where} at step {meta['step']} from {self.state_dir}")
        budget = stop_after
        for index, phase in enumerate(PHASES):
            if index < meta["phase"]:
                continue
            n = self.steps[phase]
            self.p.start_phase(phase, images.get("img_projection"))
            start = meta["step"]
            if arrays is not None:
                self.p.load_state(arrays)
                arrays = None
            losses = meta["losses"].setdefault(phase, {})
            self.frames = self.open_frames(phase, fresh=start == 0)
            progress = Progress(phase, n, start)
            for i in range(start, n):
                if budget is not None and budget <= 0:
                    meta["step"] = i
                    self.checkpoint(meta, images, with_optimizer=True)
                    self.log(f"stopped after the requested steps; state in {self.state_dir}")
                    return None
                terms, before = self.p.step()
                if i > 0 and self.frames is not None:
                    self.frames[i - 1] = to_uint8(before[0])
                for k, v in terms.items():
                    losses.setdefault(k, [])[i:] = [v]
                progress.update(i + 1, terms)
                budget = None if budget is None else budget - 1
                if (i + 1) % self.checkpoint_every == 0 and i + 1 < n:
                    meta["step"] = i + 1
                    self.checkpoint(meta, images, with_optimizer=True)
            final = self.p.render()
            images[f"img_{phase}"] = final
            if self.frames is not None:
                self.frames[n - 1] = to_uint8(final[0])
            self.finish_phase(phase, index, images, losses)
            meta.update(phase=index + 1, step=0)
            self.checkpoint(meta, images, with_optimizer=False)
            self.frames = None
        return self.finish(images)

    def finish_phase(self, phase, index, images, losses):
        write_png(os.path.join(self.out, outputs.PNG_NAMES[phase]),
                  to_uint8(images[f"img_{phase}"][0]))
        write_json(os.path.join(self.out, outputs.losses_name(phase)),
                   {"phase": phase, "steps": self.steps[phase], "terms": losses})
        if self.frames is not None:
            previous = "img_encoder" if index == 0 else f"img_{PHASES[index - 1]}"
            path = os.path.join(self.out, outputs.VIDEO_NAMES[phase])
            outputs.write_video(path, self.rough, to_uint8(images[previous][0]), self.frames)
            self.log(f"wrote {path}")

    def finish(self, images):
        if self.save_video:
            def all_frames():
                for phase in PHASES:
                    yield from np.load(_frames_path(self.state_dir, phase), mmap_mode="r")
            path = os.path.join(self.out, outputs.VIDEO_NAMES["all"])
            outputs.write_video(path, self.rough, to_uint8(images["img_encoder"][0]),
                                all_frames())
            self.log(f"wrote {path}")
        shutil.rmtree(self.state_dir)
        return {k[4:]: to_uint8(v[0]) for k, v in images.items()}


def run_dgp(projector, inputs, output_dir, steps, fingerprint, save_video=True,
            checkpoint_every=100, stop_after=None, restart=False, log=print):
    """Run (or resume) DGP for one pair and write every output into ``output_dir``.

    Args:
        projector: ``DGPProjector`` built for ``inputs``.
        inputs: ``DGPInputs``.
        output_dir: existing folder.
        steps: dict phase -> number of steps (each >= 1).
        fingerprint: JSON-able dict of everything that determines the result; a saved
            state with another fingerprint is refused (``DGPStateError``).
        save_video: write the four MP4s.
        checkpoint_every: steps between checkpoints within a phase.
        stop_after: stop (with a checkpoint) after this many steps in this call; None = run
            to the end.
        restart: discard a saved state instead of resuming it.
        log: ``print``-like function for messages.

    Returns:
        dict name -> uint8 [R, R, 3] of the result images (``encoder``, ``projection``,
        ``semantic_search``, ``pattern_search``), or None when stopped by ``stop_after``.
    """
    for phase in PHASES:
        if steps[phase] < 1:
            raise ValueError(f"{phase} needs at least 1 step, got {steps[phase]}")
    state_dir = os.path.join(output_dir, STATE_DIR)
    if restart and os.path.isdir(state_dir):
        shutil.rmtree(state_dir)
    state = _load_state(state_dir, fingerprint)
    run = _Run(projector, inputs, output_dir, steps, fingerprint, save_video,
               max(1, checkpoint_every), log)
    return run.run(state, stop_after)
