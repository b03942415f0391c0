"""PyTorch baseline of the DGP optimisation step, for "ours / theirs" in the benchmark report.

    STYLEGAN2_ADA_PYTORCH=DIR python benchmarks/torch_baseline.py [--resolutions 256,512]
        [--steps N] [--threads 2] [--json PATH]
    python benchmarks/torch_baseline.py --stylegan2_ada_pytorch DIR ...

Run it with a Python that has torch and torchvision (not the one tfposegen runs in: this
script imports neither tensorflow nor tfposegen, and tfposegen never imports torch). DIR is
a checkout of NVlabs/stylegan2-ada-pytorch; its ``training/networks.py`` and ``torch_utils``
are imported from there and never copied into this repository (they are under NVIDIA's
Source Code License, not ours).
On CPU their custom CUDA ops run the reference (pure PyTorch) code; this script also turns
the plugin loaders off so that no C++ compile is ever attempted.

It rebuilds, with random weights, batch 1, float32 and ``--threads`` CPU threads, the same
networks and the same step per phase as ``benchmarks/bench_dgp.py`` runs with
``tfposegen.models.dgp.project.DGPProjector`` (DGP.py in RuiLiFeng/Deep-Generative-Projection):

* G: NVlabs ``SynthesisNetwork`` (NVlabs/stylegan2-ada-pytorch ``training/networks.py``),
  config-f channels (``channel_base=32768``, i.e. TF1's ``fmap_base=16384``, at most 512),
  skip architecture, no fp16 layers, no clamping, ``noise_mode='const'`` with every noise
  strength set to 0.3: 14 W+ rows at 256 px (our ``config_f_256``), 16 at 512 px (``dgp_512``).
  The mapping network is not built: no phase runs it.
* D: NVlabs ``Discriminator``, resnet architecture, same channels, minibatch-stddev group 4.
* E: idinvert's encoder as ours (``tfposegen/models/dgp/encoder.py``), written here in
  PyTorch: 5x5 conv, then log2(R/4) residual blocks of 2x2 average pool and two 3x3 convs
  (each conv -> lrelu 0.2 -> BatchNorm), a dense layer and BatchNorm to W+; eval mode.
* VGG16: torchvision ``vgg16`` up to conv4_3's ReLU, at R, on caffe-preprocessed [0, 255]
  images (RGB -> BGR, minus the ImageNet mean).
* ResNet101: torchvision ``resnet101`` without ``fc`` (2048 pooled features), made Keras'
  ResNet101 v1 (the stride of each downsampling block on its first 1x1 conv, not on the
  3x3 conv as torchvision's v1.5; BatchNorm epsilon 1.001e-5), at 331 px, on images
  resized with TF1's legacy bilinear rule (``half_pixel_centers=False``) and preprocessed
  ``x / 127.5 - 1``.

One step (``Projector.step``): render ``x_rec = G(wp, noise)``, compute the phase's loss,
backpropagate to the optimised variables only (every network is frozen), one Adam update
(lr 0.01, betas 0.9 / 0.999, eps 1e-8; a fresh Adam per phase), then read the loss terms
and the image rendered before the update back as Python floats / numpy:

* encode: ``wp = E(x)``, reset the noise maps, render ``G(wp)`` (no gradients);
* projection (Adam on W+): ``mean(((x - x_rec) m)^2) + 5e-5 mean((V(x) - V(x_rec))^2)
  + 5e-5 sum((A(x) - A(x_rec))^2) + mean(softplus(-D(x_rec)))`` with
  ``V(y) = VGG16(to255(y) m)``, ``A(y) = ResNet101(resize331(to255(y)) resize331(m))``; the
  targets ``V(x)``, ``A(x)`` are computed once;
* semantic search (Adam on W+) and pattern search (Adam on the noise maps, W+ frozen):
  ``inner + adv + 0.9 outer + arm`` against ``x`` and the projection's last image.

The components are timed alone as in bench_dgp: G forward (no gradients), G
forward+backward (gradient of ``mean(G(wp)^2)`` w.r.t. W+), D, VGG16 and ResNet101 (with the
resize) forward+backward w.r.t. the image. Each figure is the median of ``--steps`` calls
(encode: at most 3) after a first call that is reported separately; PyTorch runs eagerly,
so the first call has no compile, only first-use allocations. The inputs are random (an
image in [-1, 1] and random 0/1 masks): speed does not depend on them. The 1-min load
average is printed at the start and the end: other work on the machine slows everything.

Known differences from ours: torchvision's ResNet101 convs have no bias (Keras' have one,
a per-channel add before each BatchNorm); PyTorch is NCHW where ours is NHWC (VGG16
features are flattened in NCHW order, which a mean squared difference does not see); Adam
is PyTorch's (same hyper-parameters; the update costs the same).
"""

import argparse
import importlib
import json
import logging
import os
import platform
import statistics
import sys
import time
import types
import warnings

PHASES = ("projection", "semantic_search", "pattern_search")
PRESETS = {256: "config_f_256", 512: "dgp_512"}
COMPONENTS = ("G forward", "G", "D", "VGG16", "ResNet101")
ADAM = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8)
FEAT_WEIGHT = ATTR_WEIGHT = 5e-5
OUTER_WEIGHT = 0.9
ATTR_SIZE = 331
W_DIM = 512
NOISE_STRENGTH = 0.3
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def fail(message):
    """Print one line saying what is missing and exit with status 2."""
    print(f"torch_baseline: {message}", file=sys.stderr)
    sys.exit(2)


def import_torch():
    """(torch, torchvision, numpy), or exit 2 naming the one that is missing."""
    try:
        import numpy
        import torch
        import torchvision
    except ImportError as e:
        fail(f"missing Python package {e.name!r}: run this script with a Python that has "
             "torch, torchvision and numpy installed")
    return torch, torchvision, numpy


def _stub_module(name, **attrs):
    """Insert an empty module under ``name`` unless the real one imports."""
    try:
        importlib.import_module(name)
    except ImportError:
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        sys.modules[name] = module


def import_nvlabs(checkout):
    """Import ``training.networks`` from a stylegan2-ada-pytorch checkout, plugins off.

    ``dnnlib.util`` imports ``requests`` and ``distutils`` for its download helpers only;
    where they are absent, empty stand-ins let it import.
    """
    if not checkout:
        fail("missing the stylegan2-ada-pytorch checkout: pass --stylegan2_ada_pytorch DIR "
             "or set STYLEGAN2_ADA_PYTORCH")
    need = [os.path.join(checkout, p) for p in ("training/networks.py", "torch_utils/ops",
                                                 "dnnlib")]
    if not all(os.path.exists(p) for p in need):
        fail(f"missing {next(p for p in need if not os.path.exists(p))}: {checkout} is not a "
             "checkout of NVlabs/stylegan2-ada-pytorch")
    _stub_module("requests")
    _stub_module("distutils")
    _stub_module("distutils.util", strtobool=lambda v: v.lower() in ("y", "yes", "t", "true",
                                                                    "on", "1"))
    sys.path.insert(0, os.path.abspath(checkout))
    # Importing torch.utils.cpp_extension (via torch_utils.custom_ops) logs a warning when
    # there is no CUDA; nothing is compiled.
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        networks = importlib.import_module("training.networks")
        for name in ("bias_act", "upfirdn2d"):
            op = importlib.import_module(f"torch_utils.ops.{name}")
            op._init = lambda: False  # never build the CUDA plugins: reference ops only
    return networks


# ---------------------------------------------------------------------------- networks


def build_stylegan2(networks, resolution):
    """NVlabs (synthesis, discriminator) with config-f channels, float32, frozen, eval mode."""
    common = dict(img_resolution=resolution, img_channels=3, channel_base=32768,
                  channel_max=512, num_fp16_res=0, conv_clamp=None)
    G = networks.SynthesisNetwork(w_dim=W_DIM, architecture="skip", **common)
    D = networks.Discriminator(c_dim=0, architecture="resnet", **common)
    for name, param in G.named_parameters():
        if name.endswith("noise_strength"):
            param.data.fill_(NOISE_STRENGTH)
    return G.eval().requires_grad_(False), D.eval().requires_grad_(False)


def noise_maps(G):
    """G's constant noise buffers, in layer order (``num_ws - 1`` of them)."""
    return [m.noise_const for m in G.modules()
            if getattr(m, "use_noise", False) and hasattr(m, "noise_const")]


def build_encoder(torch, resolution, num_ws, filters=64, filters_max=512):
    """idinvert's encoder (as ``tfposegen.models.dgp.encoder.idinvert_layout``), eval mode."""
    nn = torch.nn

    def conv_bn(cin, cout, k, bias=True):
        return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=bias),
                             nn.LeakyReLU(0.2), nn.BatchNorm2d(cout, eps=1e-5))

    class Block(nn.Module):
        """2x2 average pool, two conv -> lrelu -> BN, plus the (1x1 conv + BN) shortcut."""

        def __init__(self, cin, cout):
            super().__init__()
            self.pool = nn.AvgPool2d(2)
            self.main = nn.Sequential(conv_bn(cin, min(cin, cout), 3),
                                      conv_bn(min(cin, cout), cout, 3))
            self.shortcut = nn.Identity() if cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-5))

        def forward(self, x):
            x = self.pool(x)
            return self.main(x) + self.shortcut(x)

    class Encoder(nn.Module):
        """images [N, 3, R, R] in [-1, 1] -> W+ [N, num_ws, 512]."""

        def __init__(self):
            super().__init__()
            num_blocks = (resolution // 4).bit_length() - 1
            ch = [min(filters * 2 ** i, filters_max) for i in range(num_blocks + 1)]
            self.from_img = conv_bn(3, filters, 5)
            self.blocks = nn.Sequential(*[Block(ch[i], ch[i + 1]) for i in range(num_blocks)])
            self.latent = nn.Linear(ch[-1] * 16, num_ws * W_DIM)
            self.latent_bn = nn.BatchNorm1d(num_ws * W_DIM, eps=1e-5)

        def forward(self, images):
            x = self.blocks(self.from_img(images)).flatten(1)  # NCHW order, as idinvert
            return self.latent_bn(self.latent(x)).view(-1, num_ws, W_DIM)

    return Encoder().eval().requires_grad_(False)


def build_vgg16(torch, torchvision):
    """[N, 3, R, R] in [0, 255] -> VGG16 conv4_3 (after ReLU) features, flattened."""
    trunk = torchvision.models.vgg16(weights=None).features[:23]
    mean = torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)

    class VGG16Features(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = trunk

        def forward(self, images):
            return self.trunk(images.flip(1) - mean).flatten(1)

    return VGG16Features().eval().requires_grad_(False)


def build_resnet101(torch, torchvision):
    """[N, 3, 331, 331] in [0, 255] -> 2048 pooled features of a Keras-style ResNet101 v1."""
    net = torchvision.models.resnet101(weights=None)
    net.fc = torch.nn.Identity()
    for layer in (net.layer2, net.layer3, net.layer4):  # v1: stride on the first 1x1 conv
        layer[0].conv1.stride, layer[0].conv2.stride = (2, 2), (1, 1)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eps = 1.001e-5

    class AttributeFeatures(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, images):
            return self.net(images / 127.5 - 1.0)

    return AttributeFeatures().eval().requires_grad_(False)


def legacy_resize(torch, numpy, in_size, out_size):
    """TF1 bilinear resize (``half_pixel_centers=False``) of NCHW tensors, width then height.

    ``src = dst * in / out``, lower = floor, upper = min(ceil, in - 1), as the TF kernel.
    """
    scale = numpy.float32(in_size) / numpy.float32(out_size)
    src = numpy.arange(out_size, dtype=numpy.float32) * scale
    lower = torch.from_numpy(numpy.floor(src).astype(numpy.int64))
    upper = torch.from_numpy(numpy.minimum(numpy.ceil(src), in_size - 1).astype(numpy.int64))
    lerp = torch.from_numpy(src - numpy.floor(src))

    def lerp_axis(x, dim):
        a, b = x.index_select(dim, lower), x.index_select(dim, upper)
        shape = [1, 1, 1, 1]
        shape[dim] = out_size
        return a + (b - a) * lerp.view(shape)

    return lambda x: lerp_axis(lerp_axis(x, 3), 2)


# ---------------------------------------------------------------------------- the step


class Projector:
    """W+, noise maps, the inputs and one Adam per phase: ``DGPProjector`` in PyTorch."""

    def __init__(self, torch, numpy, nets, resolution, seed=0):
        self.torch = torch
        self.G, self.D, self.E, self.vgg, self.attr = (nets[k] for k in ("G", "D", "E", "vgg",
                                                                          "attr"))
        self.resize = legacy_resize(torch, numpy, resolution, ATTR_SIZE)
        gen = torch.Generator().manual_seed(seed)
        r = resolution
        self.x = torch.rand(1, 3, r, r, generator=gen) * 2 - 1
        self.pixel_mask, self.mask_arm, self.mask_inner = (
            (torch.rand(1, 1, r, r, generator=gen) > p).float() for p in (0.2, 0.8, 0.6))
        self.noise = noise_maps(self.G)
        self.noise_init = [n.clone() for n in self.noise]
        self.wp = torch.zeros(1, self.G.num_ws, W_DIM)
        self.projected = torch.zeros_like(self.x)
        self.vgg_target = self.attr_target = None
        self.phase = self.optimizer = None

    def compute_targets(self):
        """V(x) and A(x), once (as ours, when the projection step is first built)."""
        if self.vgg_target is None:
            with self.torch.no_grad():
                self.vgg_target = self.vgg(self.vgg_input(self.x))
                self.attr_target = self.attr(self.attr_input(self.x))

    def render(self):
        """G(wp) with the current noise maps, [1, 3, R, R]."""
        return self.G(self.wp, noise_mode="const")

    def vgg_input(self, images):
        return (images + 1) * 127.5 * self.pixel_mask

    def attr_input(self, images):
        return self.resize((images + 1) * 127.5) * self.resize(self.pixel_mask)

    def adversarial(self, images):
        return self.torch.nn.functional.softplus(-self.D(images, None)).mean()

    def encode(self):
        """wp = E(x), noise maps reset; returns G(wp) as numpy."""
        with self.torch.no_grad():
            self.wp.copy_(self.E(self.x))
            self.reset_noise()
            return self.render().numpy()

    def reset_noise(self):
        with self.torch.no_grad():
            for n, n0 in zip(self.noise, self.noise_init):
                n.copy_(n0)

    def start_phase(self, phase, projected=None):
        """A fresh Adam on W+ (projection, semantic search) or the noise maps (pattern)."""
        if phase == "projection":
            self.compute_targets()
        pattern = phase == "pattern_search"
        self.wp.requires_grad_(not pattern)
        for n in self.noise:
            n.requires_grad_(pattern)
        if projected is not None:
            self.projected.copy_(self.torch.from_numpy(projected))
        if pattern:
            self.reset_noise()
        variables = list(self.noise) if pattern else [self.wp]
        self.optimizer = self.torch.optim.Adam(variables, **ADAM)
        self.phase = phase

    def projection_terms(self, x_rec):
        terms = {"pix": ((self.x - x_rec) * self.pixel_mask).square().mean(),
                 "feat": (self.vgg_target - self.vgg(self.vgg_input(x_rec))).square().mean(),
                 "attr": (self.attr_target - self.attr(self.attr_input(x_rec))).square().sum(),
                 "adv": self.adversarial(x_rec)}
        terms["total"] = (terms["pix"] + FEAT_WEIGHT * terms["feat"] + terms["adv"]
                          + ATTR_WEIGHT * terms["attr"])
        return terms

    def search_terms(self, x_rec):
        to_projected = (self.projected - x_rec).square()
        terms = {"inner": ((self.x - x_rec).square() * self.mask_inner).mean(),
                 "arm": (to_projected * self.mask_arm).mean(),
                 "outer": (to_projected * (1 - self.mask_arm) * (1 - self.mask_inner)).mean(),
                 "adv": self.adversarial(x_rec)}
        terms["total"] = (terms["inner"] + terms["adv"] + OUTER_WEIGHT * terms["outer"]
                          + terms["arm"])
        return terms

    def step(self):
        """One step of the current phase: (float loss terms, image before the update)."""
        self.optimizer.zero_grad(set_to_none=True)
        x_rec = self.render()
        loss_fn = self.projection_terms if self.phase == "projection" else self.search_terms
        terms = loss_fn(x_rec)
        terms["total"].backward()
        self.optimizer.step()
        return {k: v.item() for k, v in terms.items()}, x_rec.detach().numpy()


# ---------------------------------------------------------------------------- timing


def time_calls(fn, n):
    """Seconds of the first call and of each of the next ``n`` calls."""
    times = []
    for _ in range(n + 1):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], times[1:]


def bench_phases(projector, n):
    """encode (first + min(n, 3) calls) and each phase (start + first step, then n steps)."""
    out = {"encode": time_calls(projector.encode, min(n, 3))}
    projected = None
    for phase in PHASES:
        t0 = time.perf_counter()
        projector.start_phase(phase, projected)
        _, image = projector.step()
        first = time.perf_counter() - t0
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            _, image = projector.step()
            times.append(time.perf_counter() - t0)
        out[phase] = (first, times)
        if phase == "projection":
            projected = image
    return out


def component_fns(torch, projector):
    """Functions timing each network alone; each returns a gradient (or G's image)."""
    p = projector
    p.compute_targets()
    for n in p.noise:  # constants again after the pattern search
        n.requires_grad_(False)
    wp = torch.randn(1, p.G.num_ws, W_DIM, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        image = p.G(wp, noise_mode="const")

    def grad(loss_fn, arg):
        def fn():
            a = arg.detach().requires_grad_(True)
            return torch.autograd.grad(loss_fn(a), a)[0]
        return fn

    def forward():
        with torch.no_grad():
            return p.G(wp, noise_mode="const")

    return {
        "G forward": forward,
        "G": grad(lambda w: p.G(w, noise_mode="const").square().mean(), wp),
        "D": grad(p.adversarial, image),
        "VGG16": grad(lambda img: (p.vgg_target - p.vgg(p.vgg_input(img))).square().mean(),
                      image),
        "ResNet101": grad(lambda img: (p.attr_target - p.attr(p.attr_input(img))).square()
                          .sum(), image),
    }


def bench_resolution(torch, torchvision, numpy, networks, resolution, n):
    """Phases and components at one resolution: dict part -> (first s, [step s])."""
    torch.manual_seed(0)
    G, D = build_stylegan2(networks, resolution)
    nets = dict(G=G, D=D, E=build_encoder(torch, resolution, G.num_ws),
                vgg=build_vgg16(torch, torchvision), attr=build_resnet101(torch, torchvision))
    projector = Projector(torch, numpy, nets, resolution)
    out = bench_phases(projector, n)
    for name, fn in component_fns(torch, projector).items():
        out[name] = time_calls(fn, n)
    return out


# ---------------------------------------------------------------------------- report


def median(first_times):
    return statistics.median(first_times[1])


def print_phases(results):
    print("| res | phase | N | first s | s/step |")
    print("|---|---|---|---|---|")
    for res, r in results.items():
        for name in ("encode", *PHASES):
            print(f"| {res} | {name} | {len(r[name][1])} | {r[name][0]:.2f} | "
                  f"{median(r[name]):.3f} |")


def print_components(results):
    """Each network forward+backward alone, and their sum against the projection step."""
    labels = {"G": "G synthesis (d/dW+)", "D": "D (d/dimage)",
              "VGG16": "VGG16 conv4_3 @R (d/dimage)",
              "ResNet101": "ResNet101 @331 + resize (d/dimage)"}
    print("| res | part | first s | s | % |")
    print("|---|---|---|---|---|")
    for res, r in results.items():
        total = sum(median(r[p]) for p in labels)
        for p, label in labels.items():
            print(f"| {res} | {label} | {r[p][0]:.2f} | {median(r[p]):.3f} | "
                  f"{median(r[p]) / total:.0%} |")
        step = median(r["projection"])
        for label, secs in (("sum of the four", total), ("measured projection step", step),
                            ("rest (Adam, pixel loss, glue)", step - total)):
            print(f"| {res} | {label} | - | {secs:.3f} | {secs / total:.0%} |")
        print(f"| {res} | (G forward only, not in the sum) | {r['G forward'][0]:.2f} | "
              f"{median(r['G forward']):.3f} | - |")


def write_json(path, args, torch, results, loads):
    """The figures (median s/step per phase and component) and the raw timings."""
    figures, raw = [], {}
    for res, r in results.items():
        setting = (f"{res} px ({PRESETS[res]}), PyTorch reference ops, batch 1, float32, "
                   f"{args.threads} threads")
        for name in ("encode", *PHASES, *COMPONENTS):
            figures.append(dict(what=name, setting=setting, value=median(r[name]),
                                unit="s/step"))
        raw[str(res)] = {name: {"first_s": first, "steps_s": times}
                         for name, (first, times) in r.items()}
    with open(path, "w") as f:
        json.dump(dict(benchmark="torch_baseline", settings=vars(args),
                       torch=torch.__version__, threads=torch.get_num_threads(),
                       load=loads, figures=figures, raw=raw), f, indent=1)


def machine(torch, torchvision):
    """One line naming the CPU and the versions."""
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"CPU: {model}, {os.cpu_count()} cores; Python {platform.python_version()}, torch "
            f"{torch.__version__}, torchvision {torchvision.__version__}; torch threads "
            f"{torch.get_num_threads()} (interop {torch.get_num_interop_threads()})")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stylegan2_ada_pytorch", default=os.environ.get("STYLEGAN2_ADA_PYTORCH"),
                   help="checkout of NVlabs/stylegan2-ada-pytorch (default: "
                        "$STYLEGAN2_ADA_PYTORCH)")
    p.add_argument("--resolutions", default="256", help="comma-separated, from 256, 512")
    p.add_argument("--steps", type=int, default=3, help="timed steps per phase and component")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    p.add_argument("--json", default=None, help="also write the figures here as JSON")
    args = p.parse_args()
    args.resolutions = [int(r) for r in args.resolutions.split(",")]
    if any(r not in PRESETS for r in args.resolutions):
        p.error(f"--resolutions: choose from {sorted(PRESETS)}")
    if args.steps < 1:
        p.error("--steps must be at least 1")
    return args


def main():
    args = parse_args()
    torch, torchvision, numpy = import_torch()
    networks = import_nvlabs(args.stylegan2_ada_pytorch)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    start, loads = time.perf_counter(), {"start": os.getloadavg()[0]}
    print("# DGP optimisation speed, PyTorch baseline (batch 1, float32, random weights)\n")
    print(machine(torch, torchvision))
    print(f"stylegan2-ada-pytorch from {os.path.abspath(args.stylegan2_ada_pytorch)}; "
          f"1-min load average at the start: {loads['start']:.2f}\n", flush=True)
    results = {}
    for res in args.resolutions:
        t0 = time.perf_counter()
        results[res] = bench_resolution(torch, torchvision, numpy, networks, res, args.steps)
        print(f"{res} px ({PRESETS[res]}): measured in {time.perf_counter() - t0:.0f} s",
              flush=True)
    print("\n## Seconds per step (first = first call; s/step = median of N)\n")
    print_phases(results)
    print("\n## Projection step by network (forward+backward, median of N; % of the sum)\n")
    print_components(results)
    loads["end"] = os.getloadavg()[0]
    print(f"\ntotal time {time.perf_counter() - start:.0f} s; 1-min load average at the end: "
          f"{loads['end']:.2f}")
    if args.json:
        write_json(args.json, args, torch, results, loads)
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
