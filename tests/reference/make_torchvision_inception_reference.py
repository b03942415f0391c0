"""Reference features for tests/test_metrics_torchvision_inception.py: torchvision's
``inception_v3`` run the way the DPTN codes' FID wraps it (``metrics/inception.py`` of
PangzeCheung/Dual-task-Pose-Transformer-Network = ``utils/inception.py`` of
gkalstn000/DPTN_step: blocks 0-3 of its ``InceptionV3``, ``F.upsample`` to 299 x 299,
``normalize_input``), on seeded random weights.

Run with the torch venv (torch, torchvision: a separate venv, never the package's):

    python tests/reference/make_torchvision_inception_reference.py

Writes tests/data/metrics/torchvision_inception.npz:

* ``names`` [580] (str) and ``shapes`` [580, 4] (int, -1 padded): the state-dict entries of
  ``inception_v3(weights=None, aux_logits=True, init_weights=False)`` in its order (the
  released ``inception_v3_google-*.pth`` has the same names, with the aux head);
* ``weight_sums`` [580]: float64 sum of each array of ``random_state(names, shapes)``, so a test
  can tell that numpy still generates the same weights;
* ``sum_small``, ``sum_large``: float64 sums of the two ``inputs()`` (checked by
  ``conftest.reference_arrays``);
* ``features_small`` [2, 2048], ``features_large`` [1, 2048] float32: the wrapper's output for
  ``inputs()["small"]`` (2 images 64 x 48: upsampled) and ``["large"]`` (1 image 331 x 310:
  downsampled without antialiasing), each uint8 image divided by 255 as the FID code does.

The 27 M weights are not stored: ``random_state`` (numpy only, importable without torch)
makes them from the stored names and shapes, here and in the test.
"""

import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "metrics",
                   "torchvision_inception.npz")


def random_state(names, shapes, seed=0):
    """Deterministic torch-layout weights for the given entries: {name: float32 array}
    (int64 zeros for ``num_batches_tracked``).

    Convolutions and linear layers are He-normal (``sqrt(2 / fan_in)``), BatchNorm weights
    U(0.5, 1.5), biases and running means N(0, 0.1), running variances U(0.5, 1.5): features
    stay of order one through the 94 conv / BN / ReLU layers with the BN in eval mode.

    Args:
        names: sequence of str.
        shapes: sequence of int tuples, or an array [N, 4] padded with -1.
    """
    rng = np.random.default_rng(seed)
    state = {}
    for name, shape in zip(names, shapes):
        shape = tuple(int(s) for s in shape if s >= 0)
        kind = str(name).rsplit(".", 1)[-1]
        if kind == "num_batches_tracked":
            state[name] = np.zeros(shape, np.int64)
        elif kind == "weight" and len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            state[name] = (rng.standard_normal(shape, dtype=np.float32)
                           * np.float32(np.sqrt(2.0 / fan_in)))
        elif kind in ("weight", "running_var"):
            state[name] = rng.uniform(0.5, 1.5, shape).astype(np.float32)
        else:  # bias, running_mean
            state[name] = (rng.standard_normal(shape, dtype=np.float32) * np.float32(0.1))
    return state


def weight_sums(state):
    """float64 sum of each array in the state's order."""
    return np.array([np.sum(v, dtype=np.float64) for v in state.values()])


def inputs(seed=1):
    """{"small": uint8 [2, 64, 48, 3], "large": uint8 [1, 331, 310, 3]}: smooth colour
    patterns plus noise."""
    rng = np.random.default_rng(seed)

    def image(h, w, phase):
        yy, xx = np.mgrid[0:h, 0:w]
        yy, xx = yy / h, xx / w
        base = np.stack([np.sin(5 * xx + 2 * c + phase) * np.cos(3 * yy - c)
                         for c in range(3)], -1)
        return np.clip(np.round(127.5 + 90 * base + rng.normal(0, 20, (h, w, 3))), 0, 255)

    small = np.stack([image(64, 48, 0.0), image(64, 48, 1.3)]).astype(np.uint8)
    large = image(331, 310, 2.1)[None].astype(np.uint8)
    return {"small": small, "large": large}


def shapes_array(shapes):
    """[N, 4] int64, -1 padded."""
    out = np.full((len(shapes), 4), -1, np.int64)
    for i, shape in enumerate(shapes):
        out[i, :len(shape)] = shape
    return out


def main():
    import torch
    import torch.nn.functional as F
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False)
    names = list(net.state_dict())
    shapes = shapes_array([tuple(v.shape) for v in net.state_dict().values()])
    state = random_state(names, shapes)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    net.eval()
    # The DPTN wrapper's block list for output block 3 (its InceptionV3([3])).
    blocks = torch.nn.Sequential(
        net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3,
        torch.nn.MaxPool2d(kernel_size=3, stride=2),
        net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, torch.nn.MaxPool2d(kernel_size=3, stride=2),
        net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c,
        net.Mixed_6d, net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c,
        torch.nn.AdaptiveAvgPool2d(output_size=(1, 1))).eval()

    def wrapper(x):
        x = F.upsample(x, size=(299, 299), mode="bilinear")  # resize_input, as the code
        x = x.clone()                                         # normalize_input
        x[:, 0] = x[:, 0] * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x[:, 1] = x[:, 1] * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x[:, 2] = x[:, 2] * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        return blocks(x)

    out = {"names": np.array(names), "shapes": shapes, "weight_sums": weight_sums(state)}
    for key, images in inputs().items():
        x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255  # the FID code's steps
        with torch.no_grad():
            feats = wrapper(torch.from_numpy(x)).numpy().reshape(len(images), -1)
        out[f"features_{key}"] = feats.astype(np.float32)
        out[f"sum_{key}"] = np.float64(np.sum(images, dtype=np.float64))
        print(key, feats.shape, float(feats.mean()), float(feats.std()), float(feats.max()))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **out)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
