"""Write the torch checkpoints and expected arrays used by tests/test_torch_checkpoint.py.

Run with the torch reference environment (never imported by the package or its tests):

    <torch venv>/bin/python tests/reference/make_torch_checkpoints.py

Writes into tests/data/torch/:
  small_zip.pth / small_legacy.pth   state_dict of ``Small`` (zip / legacy stream format)
  dataparallel.pth                   the same state_dict wrapped by nn.DataParallel
  train_zip.pth                      {"netG": state_dict, "optimizer": Adam state, "epoch": 3, ...}
  misc_zip.pth / misc_legacy.pth     strided views, float16/bfloat16/int64/bool/... tensors,
                                     storages tagged 'cuda:0'
  expected.npz                       every tensor above via ``.numpy()`` and layer outputs
"""

import collections
import pathlib

import numpy as np
import torch
import torch.nn as nn

OUT = pathlib.Path(__file__).resolve().parents[1] / "data" / "torch"


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.up4 = nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1)
        self.up3 = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
        self.fc = nn.Linear(8, 5)
        self.bn = nn.BatchNorm2d(4)
        self.sn = nn.utils.spectral_norm(nn.Conv2d(4, 4, 3))
        self.psn = nn.utils.parametrizations.spectral_norm(nn.Linear(6, 3))


def save_legacy(obj, path):
    torch.save(obj, path, _use_new_zipfile_serialization=False)


def save_tagged_cuda(obj, path, legacy):
    """Save as if the storages lived on 'cuda:0' (this CPU-only torch cannot make one)."""
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        if legacy:
            save_legacy(obj, path)
        else:
            torch.save(obj, path)
    finally:
        torch.serialization.location_tag = original


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    expected = {}
    net = Small()
    with torch.no_grad():  # train-mode passes: BN running stats, spectral-norm u/v
        net.train()
        for _ in range(2):
            net.bn(torch.randn(2, 4, 5, 5))
            net.sn(torch.randn(1, 4, 5, 5))
            net.psn(torch.randn(1, 6))
        net.eval()
        x = torch.randn(2, 3, 5, 6)
        h = torch.randn(2, 4, 3, 4)
        v = torch.randn(3, 8)
        expected["io/x"] = x.numpy()
        expected["io/h"] = h.numpy()
        expected["io/v"] = v.numpy()
        expected["io/conv"] = net.conv(x).numpy()
        expected["io/up4"] = net.up4(h).numpy()
        expected["io/up3"] = net.up3(h).numpy()
        expected["io/fc"] = net.fc(v).numpy()
        net.sn(torch.randn(1, 4, 5, 5))  # eval forward: weight from the stored u, v
        expected["io/sn_weight"] = net.sn.weight.numpy()
        expected["io/psn_weight"] = net.psn.weight.numpy()

    sd = collections.OrderedDict((k, t.detach().clone()) for k, t in net.state_dict().items())
    for k, t in sd.items():
        expected[f"small/{k}"] = t.numpy().copy()
    torch.save(sd, OUT / "small_zip.pth")
    save_legacy(sd, OUT / "small_legacy.pth")
    dp = nn.DataParallel(net, device_ids=[])
    torch.save(dp.state_dict(), OUT / "dataparallel.pth")

    opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))
    net.train()
    loss = net.fc(torch.randn(2, 8)).square().sum() + net.conv(x).mean()
    loss.backward()
    opt.step()
    opt_state = opt.state_dict()
    for i, st in opt_state["state"].items():
        for name, t in st.items():
            expected[f"opt/{i}/{name}"] = t.numpy().copy()
    torch.save({"netG": sd, "optimizer": opt_state, "epoch": 3, "name": "tiny",
                "lr": 2e-4, "betas": (0.5, 0.999), "tags": {"a", "b"}, "blob": b"\x00\xff"},
               OUT / "train_zip.pth")

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    misc = collections.OrderedDict(
        transposed=base.t(),                      # stride (1, 6)
        sliced=base[1:, ::2],                     # offset 6, stride (6, 2)
        shared=base[2],                           # shares base's storage, offset 12
        base=base,
        expanded=torch.ones(3).expand(2, 3),      # stride (0, 1)
        half=torch.randn(2, 3).half(),
        bf16=torch.randn(5).bfloat16(),
        double=torch.randn(3, dtype=torch.float64),
        long=torch.tensor([-(2 ** 40), 0, 7], dtype=torch.int64),
        int32=torch.tensor([[1, -2], [3, 2 ** 30]], dtype=torch.int32),
        int8=torch.tensor([-128, 5, 127], dtype=torch.int8),
        uint8=torch.tensor([0, 200, 255], dtype=torch.uint8),
        bool=torch.tensor([True, False, True]),
        scalar=torch.tensor(3.5),
        empty=torch.zeros(0, 3),
    )
    for k, t in misc.items():
        expected[f"misc/{k}"] = (t.float() if t.dtype == torch.bfloat16 else t).numpy().copy()
    save_tagged_cuda(misc, OUT / "misc_zip.pth", legacy=False)
    save_tagged_cuda(misc, OUT / "misc_legacy.pth", legacy=True)
    for name in ("misc_zip.pth", "misc_legacy.pth"):  # torch itself reads them back
        back = torch.load(OUT / name, map_location="cpu", weights_only=True)
        assert all(torch.equal(back[k], misc[k]) for k in misc), name
    assert b"cuda:0" in (OUT / "misc_legacy.pth").read_bytes()

    np.savez_compressed(OUT / "expected.npz", **expected)
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
