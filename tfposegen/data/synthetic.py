"""Procedural upper-body clothing-model samples in DGP's data layout.

(One module over 600 lines on purpose: drawing, garments, warps and the layout writer share
one seeded random stream per sample, whose draw order fixes every byte of the files.)

Every sample is drawn from a seed with numpy, PIL (``ImageDraw``) and scipy only: a person
cropped between jaw and thigh (neck at the top centre, shoulders, torso, two arms in varied
poses, hips at the bottom) on a white or light plain background, wearing an own garment A,
and a second garment B ("the new garment") already placed in the model's frame. The layout
and label values are DGP's (:mod:`tfposegen.parsing.labels`)::

    model_info/model_img.png     RGB, the person wearing garment A
    model_info/model_parse.png   labels 0 background, 16 arm on the image-left side,
                                 32 arm on the image-right side, 64 trunk (neck, chest,
                                 worn garment A including its sleeves, trousers: everything
                                 but arms and hair), 255 hair
    cloth_1/cloth_img.png        RGB, garment B in the model's frame on white
    cloth_1/cloth_parse.png      labels 0 background, 23 inside of the back collar (the neck
                                 opening), 32 garment body, 64 sleeve on the image-left side,
                                 128 sleeve on the image-right side (tank tops: no 64 / 128)
    cloth_1/coarse_align.png     RGB, the model image with B's pixels (cloth labels 32, 64,
                                 128) pasted over it; garment A stays visible elsewhere

Arm labels (16 / 32) cover bare skin only (arm and hand); sleeves of the worn garment A are
part of the trunk (64), as the worn top is in human parsing, so DGP's residual mask covers
an old long sleeve that the new garment leaves uncovered.

Label maps and images are drawn from the same polygons into one map of layer ids (no
anti-aliasing), so the parse maps hold only label values and match the images; the images
then get shading (rounded silhouettes, arm shadows, a horizontal light gradient, fabric
folds), a slight blur for soft edges and a little sensor noise. Everything is a function of
the seed: the same seed gives byte-identical arrays and PNG files. The person (and so
``model_img`` / ``model_parse``) depends on the seed only, not on ``sleeve``, so one seed
with different ``sleeve`` values gives one model with different new garments.

API: :func:`make_dgp_sample` (arrays of one sample), :func:`write_dgp_sample` (a DGP sample
folder that ``tfposegen.models.dgp.inputs.read_pair`` accepts), :func:`make_model_images` (model
images only, e.g. StyleGAN2 training data). About 40 ms per sample at 256 px on one CPU core.

Length: one module (about 880 lines) because the body, garment and rendering steps share the
private geometry of one drawing (outlines, sleeve chains, the label canvas); the sections
follow the order in which a sample is drawn.
"""

import colorsys
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tfposegen.parsing import labels as L

SLEEVES = ("tank", "short", "long")
PATTERNS = ("solid", "stripes", "checks", "dots", "print")
POSES = ("hang", "bent", "hip", "out")

# Realistic skin colours from very light to deep (sRGB); a sample interpolates between two
# neighbours and jitters slightly.
_SKIN_TONES = np.array([
    (255, 225, 205), (243, 205, 178), (234, 189, 157), (222, 171, 127), (201, 146, 105),
    (176, 120, 84), (141, 93, 62), (110, 72, 47), (80, 52, 36)], np.float32)
_HAIR_COLOURS = np.array([
    (28, 22, 20), (52, 36, 28), (86, 58, 38), (118, 76, 44), (140, 74, 42),
    (182, 144, 96), (214, 186, 134), (150, 146, 140)], np.float32)
_TROUSER_COLOURS = np.array([
    (34, 44, 72), (52, 74, 112), (88, 112, 150), (24, 24, 26), (60, 60, 64),
    (190, 172, 140), (120, 100, 76), (236, 232, 222), (70, 80, 56)], np.float32)

# Model parse: arm on the image-left / image-right side; cloth parse: the sleeve there.
_ARM_LABEL = {-1: L.ARM_LEFT, 1: L.ARM_RIGHT}
_SLEEVE_LABEL = {-1: L.SLEEVE_LEFT, 1: L.SLEEVE_RIGHT}
_CLOTH_SLEEVE_FLAG = {"tank": "short", "short": "short", "long": "long"}


# ----------------------------------------------------------------------------------------
# Geometry helpers (normalised coordinates: x to the right, y down, image side = 1)

def _smooth(points, k=5):
    """Catmull-Rom curve through ``points`` ([n, 2]), ``k`` samples per segment."""
    p = np.asarray(points, np.float64)
    if len(p) < 3:
        return p
    q = np.vstack([p[:1], p, p[-1:]])
    t = np.linspace(0, 1, k, endpoint=False)[:, None]
    p0, p1, p2, p3 = q[:-3, None], q[1:-2, None], q[2:-1, None], q[3:, None]
    c = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
               + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3)
    return np.vstack([c.reshape(-1, 2), p[-1:]])


def _circle(centre, r, n=20):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([centre[0] + r * np.cos(a), centre[1] + r * np.sin(a)], 1)


def _ellipse(centre, rx, ry, n=28):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([centre[0] + rx * np.cos(a), centre[1] + ry * np.sin(a)], 1)


def _direction(side, degrees):
    """Unit vector at ``degrees`` from straight down, positive = away from the body."""
    a = np.deg2rad(degrees)
    return np.array([side * np.sin(a), np.cos(a)])


def _normal(d):
    return np.array([-d[1], d[0]])


def _band(p0, p1, w0, w1, w_mid=None):
    """Quadrilateral (hexagon with ``w_mid``) of widths w0 at p0 and w1 at p1."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    n = _normal(d / max(np.hypot(*d), 1e-9))
    if w_mid is None:
        return np.array([p0 + n * w0 / 2, p1 + n * w1 / 2, p1 - n * w1 / 2, p0 - n * w0 / 2])
    pm = p0 + 0.4 * d
    return np.array([p0 + n * w0 / 2, pm + n * w_mid / 2, p1 + n * w1 / 2,
                     p1 - n * w1 / 2, pm - n * w_mid / 2, p0 - n * w0 / 2])


def _local_shape(origin, d, side, points):
    """Place local (along, across-outward) points in the frame of direction ``d``."""
    n = _normal(d)
    if n[0] * side < 0:
        n = -n
    pts = np.asarray(points, float)
    return origin + pts[:, :1] * d + pts[:, 1:] * n


def _affine(points, t):
    """Apply (centre, scale, rotation radians, shift) to [n, 2] points."""
    centre, scale, rot, shift = t
    c, s = np.cos(rot), np.sin(rot)
    p = (np.asarray(points, float) - centre) * scale
    return np.stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1]], 1) + centre + shift


def _random_colour(rng, dark=0.15, light=0.95):
    """A garment colour: mostly saturated hues, sometimes white / grey / black."""
    r = rng.random()
    if r < 0.12:
        v = rng.uniform(0.88, 0.98)
        return np.array([v, v, v * rng.uniform(0.97, 1.0)], np.float32) * 255
    if r < 0.24:
        v = rng.uniform(0.08, 0.5)
        return np.array([v, v, v], np.float32) * 255
    rgb = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.25, 0.9), rng.uniform(dark, light))
    return np.array(rgb, np.float32) * 255


# ----------------------------------------------------------------------------------------
# Materials: functions of normalised pixel coordinates (u, v) -> float32 RGB [n, 3]

class _Material:
    """A colour field; ``kind`` is one of "skin", "garment", "hair", "plain"."""

    def __init__(self, kind, fn, name=""):
        self.kind, self.fn, self.name = kind, fn, name

    def __call__(self, u, v):
        return self.fn(u, v)


def _plain(kind, colour):
    colour = np.asarray(colour, np.float32)
    return _Material(kind, lambda u, v: np.broadcast_to(colour, (len(u), 3)), "solid")


def _mix(c1, c2, w):
    w = np.asarray(w, np.float32)[:, None]
    return c1[None] * (1 - w) + c2[None] * w


def _pattern(rng, origin, name=None):
    """A garment material with a random pattern anchored at ``origin`` (the collar)."""
    if name is None:
        name = PATTERNS[rng.choice(len(PATTERNS), p=(0.3, 0.2, 0.17, 0.15, 0.18))]
    c1 = _random_colour(rng)
    c2 = _random_colour(rng)
    if np.abs(c1 - c2).sum() < 120:  # make the pattern visible
        c2 = np.where(c1 > 128, c1 * 0.35, 255 - (255 - c1) * 0.25).astype(np.float32)
    x0, y0 = origin
    if name == "solid":
        return _plain("garment", c1)
    if name == "stripes":
        period = rng.uniform(0.025, 0.08)
        duty = rng.uniform(0.25, 0.6)
        theta = rng.choice([np.pi / 2, np.pi / 2, 0.0, np.pi / 4, -np.pi / 4])
        ct, st = np.cos(theta), np.sin(theta)

        def fn(u, v):
            q = ((u - x0) * ct + (v - y0) * st) / period
            return _mix(c1, c2, (q - np.floor(q)) < duty)
    elif name == "checks":
        period = rng.uniform(0.03, 0.08)
        line = rng.uniform(0.2, 0.5)

        def fn(u, v):
            a = ((u - x0) / period) % 1 < line
            b = ((v - y0) / period) % 1 < line
            return _mix(c1, c2, 0.5 * a + 0.5 * b)
    elif name == "dots":
        period = rng.uniform(0.03, 0.07)
        radius = rng.uniform(0.15, 0.32)

        def fn(u, v):
            row = np.floor((v - y0) / period)
            du = ((u - x0) / period + 0.5 * (row % 2)) % 1 - 0.5
            dv = ((v - y0) / period) % 1 - 0.5
            return _mix(c1, c2, du * du + dv * dv < radius * radius)
    else:  # print: a motif on the chest
        c3 = _random_colour(rng)
        mx, my = x0 + rng.uniform(-0.02, 0.02), y0 + rng.uniform(0.14, 0.24)
        size = rng.uniform(0.05, 0.1)
        motif = rng.choice(["circle", "ring", "star", "text", "band", "triangle"])

        def fn(u, v):
            du, dv = (u - mx) / size, (v - my) / size
            r = np.hypot(du, dv)
            if motif == "circle":
                w = (r < 1) * 1.0 + ((r < 0.45) & (dv < 0)) * -0.5
            elif motif == "ring":
                w = ((r < 1) & (r > 0.65)) * 1.0 + (r < 0.3) * 0.5
            elif motif == "star":
                ang = np.arctan2(dv, du)
                w = (r < 0.55 + 0.45 * np.cos(5 * ang)) * 1.0
            elif motif == "text":
                bars = ((np.abs(dv + 0.45) < 0.18) & (np.abs(du) < 1.4)) | \
                       ((np.abs(dv - 0.1) < 0.14) & (np.abs(du) < 1.0)) | \
                       ((np.abs(dv - 0.55) < 0.1) & (np.abs(du + 0.3) < 0.8))
                w = bars * 1.0
            elif motif == "band":
                w = (np.abs(dv) < 0.35) * 1.0 + (np.abs(dv) < 0.12) * -0.5
            else:
                w = ((dv < 0.7) & (dv > 1.6 * np.abs(du) - 0.9)) * 1.0
            out = _mix(c1, c2, np.clip(w, 0, 1))
            half = np.isclose(w, 0.5)
            out[half] = c3
            return out
    return _Material("garment", fn, name)


def _hair_material(rng):
    base = _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))] * rng.uniform(0.9, 1.1)
    period = rng.uniform(0.008, 0.016)
    wave = rng.uniform(0.005, 0.02)
    contrast = rng.uniform(0.04, 0.12)

    def fn(u, v):
        s = np.sin(2 * np.pi * (u + wave * np.sin(v * 25)) / period)
        return base[None] * (0.92 + contrast * s[:, None]).astype(np.float32)
    return _Material("hair", fn, "hair")


# ----------------------------------------------------------------------------------------
# The person

class _Body:
    """Body proportions and arm poses of one person (normalised coordinates)."""

    def __init__(self, rng):
        build = rng.uniform(0.9, 1.12)
        self.cx = 0.5 + rng.uniform(-0.03, 0.03)
        self.nw = rng.uniform(0.10, 0.135) * (0.7 + 0.3 * build)   # neck width
        self.y_nb = rng.uniform(0.06, 0.11)                          # neck base
        self.y_sh = self.y_nb + rng.uniform(0.05, 0.085)             # shoulder tips
        self.sw = rng.uniform(0.245, 0.285) * build                  # shoulder half width
        self.ta = self.sw - rng.uniform(0.04, 0.07)                  # armpit half width
        self.y_ap = self.y_sh + rng.uniform(0.15, 0.2)
        self.ww = min(self.ta - 0.01, rng.uniform(0.15, 0.215) * build)  # waist
        self.y_w = rng.uniform(0.55, 0.65)
        self.hw = self.ww + rng.uniform(0.01, 0.06)                 # hips at the bottom
        self.tilt = rng.uniform(-0.012, 0.012)
        self.chin = None
        if rng.random() < 0.7:
            ry = rng.uniform(0.09, 0.13)
            self.chin = (self.cx + rng.uniform(-0.01, 0.01),
                         rng.uniform(0.005, 0.05) - ry, rng.uniform(0.09, 0.12), ry)
        self.wa = rng.uniform(0.08, 0.098) * build                   # upper arm width
        self.L1 = rng.uniform(0.30, 0.35)
        self.L2 = rng.uniform(0.25, 0.29)
        self.Lh = rng.uniform(0.12, 0.15)
        pose = POSES[rng.choice(4, p=(0.4, 0.15, 0.27, 0.18))]
        self.arms = {}
        for side in (-1, 1):
            if rng.random() < 0.35:
                pose = POSES[rng.choice(4, p=(0.4, 0.15, 0.27, 0.18))]
            self.arms[side] = self._arm(rng, side, pose)

    def half_width(self, y):
        """Torso half width at height y (below the armpits)."""
        return np.interp(y, [self.y_ap, self.y_ap + 0.08, self.y_w, 1.05],
                         [self.ta, self.ta * 0.99, self.ww, self.hw])

    def shoulder_y(self, side, dx):
        """Height of the shoulder line at horizontal distance dx from the centre line."""
        tip = self.sw - 0.55 * self.wa  # the arm's joint; the arm's round top continues
        t = np.clip((dx - self.nw / 2) / (tip - self.nw / 2), 0, 1)
        return self.y_nb + (self.y_sh - self.y_nb) * t ** 0.6 + side * self.tilt * t

    def _arm(self, rng, side, pose):
        j0 = np.array([self.cx + side * (self.sw - 0.55 * self.wa),
                       self.y_sh + 0.5 * self.wa + side * self.tilt])
        L1, L2, Lh = self.L1, self.L2, self.Lh
        if pose == "hip":
            y_t = rng.uniform(0.58, 0.7)
            w = np.array([self.cx + side * (self.half_width(y_t) + rng.uniform(0.0, 0.03)), y_t])
            L2 = L2 * rng.uniform(0.72, 0.92)
            v = w - j0
            dist = np.hypot(*v)
            if dist > L1 + L2 - 0.005:
                w = j0 + v / dist * (L1 + L2 - 0.005)
                dist = L1 + L2 - 0.005
            alpha = np.arccos(np.clip((L1 * L1 + dist * dist - L2 * L2) / (2 * L1 * dist), -1, 1))
            u = v / dist
            cands = []
            for a in (alpha, -alpha):
                c, s = np.cos(a), np.sin(a)
                cands.append(j0 + L1 * np.array([c * u[0] - s * u[1], s * u[0] + c * u[1]]))
            j1 = max(cands, key=lambda p: side * p[0])
            j2 = w
            d3 = _direction(side, -rng.uniform(40, 95))
            Lh = Lh * rng.uniform(0.6, 0.85)
        else:
            if pose == "hang":
                a1 = rng.uniform(3, 12)
                a2 = a1 + rng.uniform(-12, 4)
            elif pose == "out":
                a1 = rng.uniform(12, 22)
                a2 = a1 - rng.uniform(5, 30)
            else:  # bent: forearm across the front of the body
                a1 = rng.uniform(-3, 10)
                a2 = -rng.uniform(45, 85)
                L2 = L2 * rng.uniform(0.5, 0.8)
            j1 = j0 + L1 * _direction(side, a1)
            d3 = _direction(side, (a2 + rng.uniform(0, 25)) if pose == "bent"
                            else a2 + rng.uniform(-8, 8))
            # a hand in front of the body stays on its own side of the centre line
            while side * (j1[0] + L2 * _direction(side, a2)[0] + Lh * d3[0] - self.cx) < 0.02 \
                    and L2 > 0.06:
                L2 *= 0.9
            j2 = j1 + L2 * _direction(side, a2)
        l1 = np.hypot(*(j1 - j0))
        l2 = np.hypot(*(j2 - j1))
        return {"pose": pose, "j0": j0, "j1": j1, "j2": j2, "d1": (j1 - j0) / l1,
                "d2": (j2 - j1) / l2, "d3": d3, "l1": l1, "l2": l2, "Lh": Lh,
                "w0": self.wa, "w1": self.wa * 0.78, "w2": self.wa * 0.58}

    def torso_polygon(self):
        sides = []
        for side in (-1, 1):
            cx, nw = self.cx, self.nw
            pts = [(cx + side * nw * 0.51, -0.05), (cx + side * nw / 2, self.y_nb - 0.015)]
            # the shoulder ends at the arm's joint: the arm's round top is the deltoid
            tip = self.sw - 0.55 * self.wa
            for t in (0.0, 0.3, 0.6, 0.85, 1.0):
                dx = nw / 2 + t * (tip - nw / 2)
                pts.append((cx + side * dx, self.shoulder_y(side, dx)))
            pts += [(cx + side * (tip + 0.25 * self.wa), self.y_sh + 0.06 + side * self.tilt),
                    (cx + side * self.ta, self.y_ap),
                    (cx + side * self.ta * 0.99, self.y_ap + 0.08),
                    (cx + side * self.ww, self.y_w), (cx + side * self.hw, 1.05)]
            sides.append(_smooth(pts, 4))
        return np.vstack([sides[0], sides[1][::-1]])

    def arm_polygons(self, side):
        a = self.arms[side]
        polys = [
            _circle(a["j0"], a["w0"] / 2),
            _band(a["j0"], a["j1"], a["w0"], a["w1"], a["w0"] * 1.02),
            _circle(a["j1"], a["w1"] / 2),
            _band(a["j1"], a["j2"], a["w1"], a["w2"], a["w1"] * 1.04),
            _circle(a["j2"], a["w2"] / 2, 14)]
        wh, lh = a["w2"] * 1.15, a["Lh"]
        hand = [(0, -wh * 0.45), (0.3 * lh, -wh * 0.52), (0.45 * lh, -wh * 0.75),
                (0.62 * lh, -wh * 0.62), (0.85 * lh, -wh * 0.38), (lh, -wh * 0.1),
                (lh, wh * 0.15), (0.85 * lh, wh * 0.42), (0.4 * lh, wh * 0.52), (0, wh * 0.45)]
        polys.append(_local_shape(a["j2"], a["d3"], -side, hand))
        return polys


# ----------------------------------------------------------------------------------------
# Garments

def _garment_spec(rng, kind, body, new):
    """Random cut of a garment of sleeve ``kind`` on ``body`` (``new``: garment B)."""
    spec = {"kind": kind, "ease": rng.uniform(0.005, 0.03), "fit": rng.uniform(0, 1),
            "flare": rng.uniform(0, 0.04), "hem_curve": rng.uniform(-0.01, 0.025)}
    if new:
        spec["hem"] = rng.uniform(0.76, 1.0)
    else:
        spec["hem"] = rng.uniform(0.5, 0.66) if rng.random() < 0.2 else rng.uniform(0.74, 1.05)
    neck = rng.choice(["crew", "crew", "scoop", "v", "boat"])
    if kind == "tank":
        neck = rng.choice(["scoop", "scoop", "v", "crew"])
    half = body.nw / 2
    spec["neck"] = neck
    spec["neck_hw"] = half + {"crew": rng.uniform(0.005, 0.025), "scoop": rng.uniform(0.03, 0.07),
                              "v": rng.uniform(0.01, 0.04), "boat": rng.uniform(0.06, 0.09)}[neck]
    spec["neck_depth"] = {"crew": rng.uniform(0.03, 0.06), "scoop": rng.uniform(0.08, 0.15),
                          "v": rng.uniform(0.08, 0.17), "boat": rng.uniform(0.025, 0.04)}[neck]
    spec["back_depth"] = rng.uniform(0.0, 0.015)
    spec["strap"] = rng.uniform(0.018, 0.045)
    spec["armhole"] = rng.uniform(0.02, 0.06)
    if kind == "short":
        spec["sleeve_len"] = body.L1 * rng.uniform(0.3, 0.6)
        spec["sleeve_ease"] = rng.uniform(1.15, 1.4)
    elif kind == "long":
        spec["sleeve_len"] = None  # to the wrist
        spec["sleeve_ease"] = rng.uniform(1.08, 1.25)
    spec["trim"] = rng.random() < 0.5
    return spec


def _neckline(body, spec, depth):
    """Points of a neckline curve from the image-left to the image-right neck point."""
    hw = spec["neck_hw"]
    t = np.linspace(-1, 1, 17)
    y_top = np.where(t < 0, body.shoulder_y(-1, hw), body.shoulder_y(1, hw)) - 0.004
    shape = 1 - np.abs(t) if spec["neck"] == "v" else np.sqrt(np.clip(1 - t * t, 0, 1))
    return np.stack([body.cx + t * hw, y_top + depth * shape], 1)


def _garment_polygons(body, spec, arm_chains):
    """Polygons of one garment, a dict: "body" (top edge = back neckline), "worn" (top
    edge = front neckline: the garment as seen on the model), "front" (the front neckline
    curve), "collar" (between back and front necklines), "trim" (list of bands) and
    "sleeves" ({side: [polygons]}, empty for tank tops)."""
    e, cx = spec["ease"], body.cx
    hem = spec["hem"]
    sides = []
    for side in (-1, 1):
        hw = spec["neck_hw"]
        if spec["kind"] == "tank":
            so = min(hw + spec["strap"], body.sw - 0.03)
            pts = [(cx + side * hw, body.shoulder_y(side, hw) - 0.003),
                   (cx + side * so, body.shoulder_y(side, so) - 0.003),
                   (cx + side * (so + 0.012), body.shoulder_y(side, so) + 0.05),
                   (cx + side * (body.ta + e * 0.5 - 0.012), body.y_ap + spec["armhole"] - 0.03),
                   (cx + side * (body.ta + e), body.y_ap + spec["armhole"])]
            y_start = body.y_ap + spec["armhole"] + 0.06
        else:
            # the shoulder seam ends over the arm; the sleeve cap covers the shoulder tip
            seam = body.sw - 0.6 * body.wa
            pts = [(cx + side * dx, body.shoulder_y(side, dx) - 0.004)
                   for dx in np.linspace(hw, seam, 4)]
            pts += [(cx + side * (seam - 0.01), body.y_sh + 0.07),
                    (cx + side * (body.ta + e), body.y_ap + 0.015)]
            y_start = body.y_ap + 0.08
        top = _smooth(pts, 4)
        ys = [y for y in np.linspace(y_start, hem, 5)]
        low = []
        for y in ys:
            half = (1 - spec["fit"]) * (body.ta + e) + spec["fit"] * (body.half_width(y) + e)
            half += spec["flare"] * max(0.0, y - body.y_w) / max(1e-3, hem - body.y_w)
            low.append((cx + side * half, y))
        sides.append(np.vstack([top, _smooth(low, 4)[1:]]))
    front = _neckline(body, spec, spec["neck_depth"])
    back = _neckline(body, spec, spec["back_depth"])
    hem_t = np.linspace(-1, 1, 9)[1:-1]
    x_l, x_r = sides[0][-1, 0], sides[1][-1, 0]
    hem_pts = np.stack([(x_l + x_r) / 2 + hem_t * (x_r - x_l) / 2,
                        hem + spec["hem_curve"] * (1 - hem_t ** 2)], 1)[::-1]
    outline = np.vstack([sides[0][::-1], back, sides[1], hem_pts])
    worn = np.vstack([sides[0][::-1], front, sides[1], hem_pts])
    collar = np.vstack([back, front[::-1]])
    trim = []
    if spec["trim"]:
        band = front + np.array([0, 0.012])
        trim.append(np.vstack([front, band[::-1]]))
    sleeves = {}
    if spec["kind"] != "tank":
        for side, a in arm_chains.items():
            sleeves[side] = _sleeve_polygons(a, spec, trim)
    return {"body": outline, "worn": worn, "front": front, "collar": collar, "trim": trim,
            "sleeves": sleeves}


def _sleeve_polygons(a, spec, trim):
    """A sleeve along an arm chain: cap at the shoulder, then bands to the sleeve length."""
    k = spec["sleeve_ease"]
    length = spec["sleeve_len"]
    if length is None:
        length = a["l1"] + a["l2"] * 0.93
    # the cap's top stays on the shoulder line (no puffed shoulders)
    cap = a["j0"] + a["d1"] * (k - 1) * a["w0"] / 2
    polys = [_circle(cap, a["w0"] / 2 * k)]
    if length <= a["l1"]:
        f = length / a["l1"]
        w_end = (a["w0"] * (1 - f) + a["w1"] * f) * k * 1.12
        end = a["j0"] + a["d1"] * length
        polys.append(_band(cap, end, a["w0"] * k, w_end))
        if spec["trim"]:
            trim.append(_band(end - a["d1"] * 0.014, end, w_end, w_end))
    else:
        polys.append(_band(cap, a["j1"], a["w0"] * k, a["w1"] * k))
        polys.append(_circle(a["j1"], a["w1"] / 2 * k))
        rest = length - a["l1"]
        f = rest / a["l2"]
        w_end = (a["w1"] * (1 - f) + a["w2"] * f) * k
        end = a["j1"] + a["d2"] * rest
        polys.append(_band(a["j1"], end, a["w1"] * k, w_end))
        if spec["trim"]:
            trim.append(_band(end - a["d2"] * 0.02, end, w_end * 0.97, w_end * 0.97))
    return polys


def _perturbed_chains(body, rng):
    """Arm chains for garment B: the model's arms with slightly different sleeve angles."""
    chains = {}
    for side, a in body.arms.items():
        b = dict(a)
        rot = np.deg2rad(rng.uniform(-5, 5))
        c, s = np.cos(rot), np.sin(rot)
        for key in ("d1", "d2"):
            d = a[key]
            b[key] = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        b["j1"] = a["j0"] + b["d1"] * a["l1"]
        b["j2"] = b["j1"] + b["d2"] * a["l2"]
        chains[side] = b
    return chains


# ----------------------------------------------------------------------------------------
# Rendering: one map of layer ids, then colours and shading

class _Canvas:
    """Polygons drawn (no anti-aliasing) into one uint8 map of layer ids; each layer id has a
    parse label and a material."""

    def __init__(self, size):
        self.size = size
        self.image = Image.new("L", (size, size), 0)
        self.draw = ImageDraw.Draw(self.image)
        self.layers = [(0, None, False)]
        self._ids = {}

    def layer(self, label, material, limb=False):
        key = (label, id(material), limb)
        if key not in self._ids:
            if len(self.layers) == 256:
                raise RuntimeError("more than 255 layers")
            self._ids[key] = len(self.layers)
            self.layers.append((label, material, limb))
        return self._ids[key]

    def fill(self, polygons, label, material, limb=False):
        k = self.layer(label, material, limb)
        if isinstance(polygons, np.ndarray):
            polygons = [polygons]
        for p in polygons:
            pts = np.asarray(p, np.float64) * self.size
            self.draw.polygon([tuple(q) for q in pts.tolist()], fill=k)

    def ids(self):
        return np.asarray(self.image)

    def labels(self):
        lut = np.zeros(256, np.uint8)
        for k, layer in enumerate(self.layers):
            lut[k] = layer[0]
        return lut[self.ids()]


def _blur(mask, radius):
    """Gaussian blur of a bool or [0, 1] float mask with PIL; float32 in [0, 1]."""
    image = Image.fromarray((np.asarray(mask, np.float32) * 255).astype(np.uint8))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(radius)), np.float32) / 255


def _smooth_noise(rng, size, cells=6):
    """Low-frequency noise field, float32 [size, size], roughly in [-1, 1]."""
    grid = rng.standard_normal((cells, cells)).astype(np.float32)
    image = Image.fromarray(grid, mode="F").resize((size, size), Image.BICUBIC)
    return np.asarray(image)


def _render(canvas, background, rng, look):
    """Colours, shading, soft edges and noise of a canvas -> uint8 [S, S, 3]."""
    size = canvas.size
    ids = canvas.ids()
    flat = ids.ravel()
    n = size * size
    u_all = ((np.arange(n) % size) + 0.5) / size
    v_all = ((np.arange(n) // size) + 0.5) / size
    rgb = np.empty((n, 3), np.float32)
    rgb[:] = background
    garment = np.zeros(n, bool)
    limb = np.zeros(n, bool)
    for k in np.unique(flat):
        if k == 0:
            continue
        label, material, is_limb = canvas.layers[k]
        idx = np.flatnonzero(flat == k)
        rgb[idx] = material(u_all[idx], v_all[idx])
        if material.kind == "garment":
            garment[idx] = True
        if is_limb:
            limb[idx] = True
    rgb = rgb.reshape(size, size, 3)
    u = u_all.reshape(size, size).astype(np.float32)
    v = v_all.reshape(size, size).astype(np.float32)
    fg = ids > 0
    garment, limb = garment.reshape(size, size), limb.reshape(size, size)

    # Rounded silhouette, rounded limbs, shadows of the limbs on the body.
    sil = _blur(fg, 0.03 * size)
    shade = 0.72 + 0.28 * np.clip((sil - 0.45) / 0.45, 0, 1)
    if limb.any():
        lb = _blur(limb, 0.015 * size)
        shade = np.where(limb, 0.74 + 0.26 * np.clip((lb - 0.35) / 0.5, 0, 1),
                         shade * (1 - 0.25 * lb))
    # Light from one side, fabric folds, dark contour lines between parts.
    shade *= 1 + look["light"] * (u - look["cx"]) / 0.5
    shade = np.where(garment, shade * (1 + look["folds"] * _smooth_noise(rng, size)), shade)
    edge = np.zeros_like(fg)
    diff_x = (ids[:, 1:] != ids[:, :-1]) & fg[:, 1:] & fg[:, :-1]
    diff_y = (ids[1:] != ids[:-1]) & fg[1:] & fg[:-1]
    edge[:, 1:] |= diff_x
    edge[1:] |= diff_y
    shade = np.where(edge, shade * 0.86, shade)
    chin = look.get("chin")
    if chin is not None:  # shadow under the jaw
        ccx, ccy, rx, ry = chin
        yc = ccy + ry * np.sqrt(np.clip(1 - ((u - ccx) / rx) ** 2, 0, 1))
        d = v - yc
        shadow = np.where((d > 0) & (np.abs(u - ccx) < rx), np.exp(-d / 0.025), 0)
        shade *= 1 - 0.35 * shadow * (look["skin_ids"][ids])
    # Background: soft shadow around the person, slight vertical gradient.
    bg_shade = (1 - look["bg_shadow"] * sil) * (1 - look["bg_grad"] * v)
    shade = np.where(fg, shade, bg_shade if look["bg_shadow"] else 1.0)
    out = np.clip(rgb * shade[..., None], 0, 255)
    image = Image.fromarray(out.astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(max(0.4, 0.55 * size / 256)))
    out = np.asarray(image, np.float32)
    if look["noise"]:
        noise = rng.standard_normal((size, size, 3), dtype=np.float32) * look["noise"]
        out = np.where(fg[..., None] | (look["bg_shadow"] > 0), out + noise, out)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _skin_colour(rng):
    t = rng.uniform(0, len(_SKIN_TONES) - 1)
    i = int(t)
    c = _SKIN_TONES[i] * (1 - (t - i)) + _SKIN_TONES[min(i + 1, len(_SKIN_TONES) - 1)] * (t - i)
    return np.clip(c * rng.uniform(0.96, 1.04, 3), 0, 255).astype(np.float32)


def _hair_polygons(body, rng):
    """Hair: (behind, front) polygon lists. Behind: hair falling on the back, visible above
    the shoulder line beside the neck (drawn before the body). Front: strands falling from
    the top edge over the shoulders onto the chest (drawn last)."""
    behind, front = [], []
    style = rng.choice(["behind", "front", "both"], p=(0.3, 0.4, 0.3))
    if style != "front":
        for side in (-1, 1):
            x_in = body.cx + side * (body.nw / 2 - 0.01)
            x_out = body.cx + side * (body.nw / 2 + rng.uniform(0.1, 0.22))
            y_end = body.y_sh + rng.uniform(-0.01, 0.08)
            behind.append(np.array([(x_in, -0.05), (x_out, -0.05), (x_out, y_end),
                                    (x_in, y_end)]))
    if style == "behind":
        return behind, front
    sides = [s for s in (-1, 1) if rng.random() < 0.8] or [int(rng.choice([-1, 1]))]
    for side in sides:
        inner = body.nw / 2 - rng.uniform(0.0, 0.02)
        width = rng.uniform(0.07, 0.15)
        tip = body.y_sh + rng.uniform(-0.01, 0.3)
        spread = rng.uniform(0.0, 0.06)
        ts = np.linspace(0, 1, 10)
        y = -0.03 + ts * (tip + 0.03)
        centre = body.cx + side * (inner + width / 2 + spread * np.sqrt(ts))
        w = width * (1 - ts ** 2 * 0.85) + 0.004
        wave = 0.008 * np.sin(ts * rng.uniform(6, 12) + rng.uniform(0, 6))
        left = np.stack([centre - w / 2 + wave, y], 1)
        right = np.stack([centre + w / 2 + wave, y], 1)
        front.append(np.vstack([left, right[::-1]]))
    return behind, front


def _person(rng):
    """Everything random about the model (body, skin, hair, trousers, garment A)."""
    body = _Body(rng)
    skin = _plain("skin", _skin_colour(rng))
    face = _plain("skin", skin(np.zeros(1), np.zeros(1))[0] * rng.uniform(1.0, 1.05))
    hair = _hair_material(rng) if rng.random() < 0.5 else None
    hair_polys = _hair_polygons(body, rng) if hair is not None else ([], [])
    trousers = _plain("plain", _TROUSER_COLOURS[rng.integers(len(_TROUSER_COLOURS))]
                      * rng.uniform(0.9, 1.1))
    y_trousers = rng.uniform(0.62, 0.9)
    kind_a = SLEEVES[rng.choice(3, p=(0.35, 0.35, 0.3))]
    spec_a = _garment_spec(rng, kind_a, body, new=False)
    origin = (body.cx, body.y_nb)
    mat_a = _pattern(rng, origin)
    trim_a = _plain("garment", _random_colour(rng)) if rng.random() < 0.5 else mat_a
    bg = np.full(3, 255, np.float32)
    if rng.random() < 0.5:
        bg = np.clip(rng.uniform(228, 250) + rng.uniform(-6, 6, 3), 0, 255).astype(np.float32)
    look = {"cx": body.cx, "light": rng.uniform(-0.14, 0.14), "folds": rng.uniform(0.03, 0.09),
            "bg_shadow": rng.uniform(0.0, 0.08) if bg[0] < 255 else 0.0,
            "bg_grad": rng.uniform(0.0, 0.05) if bg[0] < 255 else 0.0,
            "noise": rng.uniform(0.8, 2.5), "chin": body.chin}
    return {"body": body, "skin": skin, "face": face, "hair": hair, "hair_polys": hair_polys,
            "trousers": trousers, "y_trousers": y_trousers, "kind_a": kind_a,
            "spec_a": spec_a, "mat_a": mat_a, "trim_a": trim_a, "bg": bg, "look": look}


def _draw_model(p, size):
    body = p["body"]
    canvas = _Canvas(size)
    if p["hair_polys"][0]:
        canvas.fill(p["hair_polys"][0], 255, p["hair"])
    canvas.fill(body.torso_polygon(), 64, p["skin"])
    if body.chin is not None:
        ccx, ccy, rx, ry = body.chin
        canvas.fill(_ellipse((ccx, ccy), rx, ry), 64, p["face"])
    y_p = p["y_trousers"]
    t_pts = [(body.cx - body.half_width(y_p) - 0.008, y_p)]
    for y in np.linspace(y_p, 1.05, 4)[1:]:
        t_pts.append((body.cx - body.half_width(y) - 0.012, y))
    right = [(2 * body.cx - x, y) for x, y in t_pts]
    canvas.fill(np.vstack([t_pts, right[::-1]]), 64, p["trousers"])
    garment = _garment_polygons(body, p["spec_a"], body.arms)
    # Garment A: the worn top's front neckline is its top edge (the neck shows above it).
    canvas.fill(garment["worn"], 64, p["mat_a"])
    for side in (-1, 1):
        canvas.fill(body.arm_polygons(side), _ARM_LABEL[side], p["skin"], limb=True)
    for polys in garment["sleeves"].values():
        canvas.fill(polys, 64, p["mat_a"], limb=True)
    if garment["trim"]:
        canvas.fill(garment["trim"], 64, p["trim_a"])
    if p["hair_polys"][1]:
        canvas.fill(p["hair_polys"][1], 255, p["hair"])
    look = dict(p["look"])
    skin_ids = np.zeros(256, np.float32)
    skin_ids[canvas.layer(64, p["skin"])] = 1
    look["skin_ids"] = skin_ids
    return canvas, look


def _new_garment(body, rng, kind):
    spec = _garment_spec(rng, kind, body, new=True)
    chains = _perturbed_chains(body, rng)
    garment = _garment_polygons(body, spec, chains)
    t = ((body.cx, body.y_nb), rng.uniform(0.97, 1.04), np.deg2rad(rng.uniform(-1.5, 1.5)),
         rng.uniform(-0.012, 0.012, 2))
    origin = tuple(_affine(np.array([[body.cx, body.y_nb]]), t)[0])
    pattern = _pattern(rng, origin)
    inside = pattern(np.array([origin[0]]), np.array([origin[1] + 0.3]))[0]
    collar_mat = _plain("garment", inside * rng.uniform(0.6, 0.8))
    trim_mat = _plain("garment", _random_colour(rng)) if rng.random() < 0.4 else pattern
    return {"spec": spec, "garment": garment, "t": t, "pattern": pattern,
            "collar_mat": collar_mat, "trim_mat": trim_mat}


def _draw_cloth(b, size):
    canvas = _Canvas(size)
    g, t = b["garment"], b["t"]
    canvas.fill(_affine(g["body"], t), 32, b["pattern"])
    canvas.fill(_affine(g["collar"], t), 23, b["collar_mat"])
    for side, polys in g["sleeves"].items():
        canvas.fill([_affine(q, t) for q in polys], _SLEEVE_LABEL[side], b["pattern"])
    for q in g["trim"]:
        # trims of the sleeves take the sleeve label, the collar trim the body label
        c = _affine(q, t).mean(0)
        label = 32
        for side, polys in g["sleeves"].items():
            if any(_inside(c, _affine(s, t)) for s in polys):
                label = _SLEEVE_LABEL[side]
        canvas.fill(_affine(q, t), label, b["trim_mat"])
    return canvas


def _inside(point, polygon):
    """Even-odd point-in-polygon test."""
    x, y = point
    px, py = polygon[:, 0], polygon[:, 1]
    qx, qy = np.roll(px, 1), np.roll(py, 1)
    cross = ((py > y) != (qy > y)) & (x < (qx - px) * (y - py) / (qy - py + 1e-12) + px)
    return bool(cross.sum() % 2)


def _streams(seed):
    """Independent generators for the person, the new garment and the image noise."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(4)]


def _check_size(size):
    if not isinstance(size, (int, np.integer)) or size < 32:
        raise ValueError(f"size must be an integer >= 32, got {size!r}")
    return int(size)


def _model(seed, size):
    rng_person, rng_cloth, rng_noise, rng_cloth_noise = _streams(seed)
    person = _person(rng_person)
    canvas, look = _draw_model(person, size)
    image = _render(canvas, person["bg"], rng_noise, look)
    return person, canvas, image, (rng_cloth, rng_cloth_noise)


def make_dgp_sample(seed, size=256, sleeve=None):
    """One synthetic DGP sample.

    Args:
        seed: non-negative int; the same seed gives identical arrays.
        size: side S of the square images (>= 32).
        sleeve: sleeve type of the new garment B, "tank", "short" or "long"; chosen from the
            seed when None. The model (``model_img``, ``model_parse``) does not depend on it.

    Returns:
        dict with
        ``model_img``: uint8 [S, S, 3], the person wearing their own garment A;
        ``model_parse``: uint8 [S, S], labels {0, 16, 32, 64} and 255 where there is hair;
        ``cloth_img``: uint8 [S, S, 3], garment B in the model's frame on white (255);
        ``cloth_parse``: uint8 [S, S], labels {0, 23, 32} plus {64, 128} unless a tank top;
        ``coarse_align``: uint8 [S, S, 3], ``cloth_img`` where ``cloth_parse`` is 32, 64 or
        128, ``model_img`` elsewhere;
        ``sleeve``: B's sleeve type; ``cloth_sleeve``: DGP's ``--cloth_sleeve`` value for B
        ("short" for tank and short sleeves, "long" for long sleeves);
        ``info``: dict describing the sample (``model_sleeve``, ``model_pattern``,
        ``cloth_pattern``, ``poses`` (image-left, image-right), ``skin`` RGB, ``hair``).
    """
    size = _check_size(size)
    if sleeve is not None and sleeve not in SLEEVES:
        raise ValueError(f"sleeve must be one of {SLEEVES} or None, got {sleeve!r}")
    person, canvas, model_img, (rng_cloth, rng_noise) = _model(seed, size)
    kind = SLEEVES[rng_cloth.choice(3, p=(0.3, 0.4, 0.3))]
    if sleeve is not None:
        kind = sleeve
    new = _new_garment(person["body"], rng_cloth, kind)
    cloth_canvas = _draw_cloth(new, size)
    look = {"cx": person["body"].cx, "light": rng_cloth.uniform(-0.1, 0.1),
            "folds": rng_cloth.uniform(0.03, 0.08), "bg_shadow": 0.0, "bg_grad": 0.0,
            "noise": rng_cloth.uniform(0.5, 1.5)}
    cloth_img = _render(cloth_canvas, np.full(3, 255, np.float32), rng_noise, look)
    cloth_parse = cloth_canvas.labels()
    cloth_img[cloth_parse == 0] = 255
    pasted = np.isin(cloth_parse, (32, 64, 128))
    coarse = np.where(pasted[..., None], cloth_img, model_img)
    body = person["body"]
    info = {"model_sleeve": person["kind_a"], "model_pattern": person["mat_a"].name,
            "cloth_pattern": new["pattern"].name,
            "poses": (body.arms[-1]["pose"], body.arms[1]["pose"]),
            "skin": tuple(int(c) for c in np.rint(person["skin"](np.zeros(1), np.zeros(1))[0])),
            "hair": person["hair"] is not None}
    return {"model_img": model_img, "model_parse": canvas.labels(), "cloth_img": cloth_img,
            "cloth_parse": cloth_parse, "coarse_align": coarse, "sleeve": kind,
            "cloth_sleeve": _CLOTH_SLEEVE_FLAG[kind], "info": info}


def write_dgp_sample(folder, seed, size=256, sleeve=None):
    """Write one sample in DGP's layout (each PNG written atomically).

    Files: ``folder/model_info/{model_img,model_parse}.png`` and
    ``folder/cloth_1/{cloth_img,cloth_parse,coarse_align}.png`` (parse maps 8-bit
    greyscale, images RGB); see :func:`make_dgp_sample`.

    Returns:
        (cloth_dir, model_dir, cloth_sleeve): the two folders as strings and the
        ``--cloth_sleeve`` value ("short" or "long") to use with them.
    """
    from tfposegen.utils.files import write_png

    sample = make_dgp_sample(seed, size, sleeve)
    model_dir = os.path.join(os.fspath(folder), "model_info")
    cloth_dir = os.path.join(os.fspath(folder), "cloth_1")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(cloth_dir, exist_ok=True)
    for name in ("model_img", "model_parse"):
        write_png(os.path.join(model_dir, name + ".png"), sample[name])
    for name in ("cloth_img", "cloth_parse", "coarse_align"):
        write_png(os.path.join(cloth_dir, name + ".png"), sample[name])
    return cloth_dir, model_dir, sample["cloth_sleeve"]


def make_model_images(seeds, size=256):
    """Model images (persons wearing garments), e.g. as StyleGAN2 training data.

    Args:
        seeds: iterable of non-negative ints.
        size: side S of the images (>= 32).

    Yields:
        uint8 [S, S, 3] per seed, equal to ``make_dgp_sample(seed, size)["model_img"]``.
    """
    size = _check_size(size)
    for seed in seeds:
        yield _model(seed, size)[2]
