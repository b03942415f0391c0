"""Convert ADGAN's PyTorch checkpoints (menyifang/ADGAN) into a networks folder.

    python run_scripts/adgan/convert_weights.py --netG 800_net_netG.pth \\
        --output checkpoints/fashion_AdaGen_sty512_nres8_lre3_SS_fc_vgg_cxloss_ss_merge3/800_net
    python run_scripts/adgan/convert_weights.py --netG latest_net_netG.pth \\
        --netD_PB latest_net_netD_PB.pth --netD_PP latest_net_netD_PP.pth --output out/latest_net

Reads ``torch.save(net.state_dict())`` files without torch (plain or DataParallel
``module.`` keys), infers each network's size from its tensors, loads every tensor strictly
(``tfposegen.models.adgan.weights``: missing, unused or mis-shaped tensors fail, nothing is
silently skipped as in the original's ``load_state_dict(strict=False)``) and writes
``weights.save_networks``'s folder (``networks.json`` + ``<key>.weights.h5``), which
run_scripts/adgan/test.py reads as ``<which_epoch>_net``. A bad file exits with status 2
and one line naming it.
"""

import os
import sys

from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("netG", None, "<label>_net_netG.pth")
flags.DEFINE_string("netD_PB", None, "<label>_net_netD_PB.pth (optional)")
flags.DEFINE_string("netD_PP", None, "<label>_net_netD_PP.pth (optional)")
flags.DEFINE_string("output", None, "Folder to write (replaced as a whole).")
flags.mark_flags_as_required(["output"])


def read_states():
    """{key: (path, state dict)} of the given files, read before TensorFlow is imported."""
    from tfposegen.convert.torch_checkpoint import state_dict

    files = {k: getattr(FLAGS, k) for k in ("netG", "netD_PB", "netD_PP") if getattr(FLAGS, k)}
    if not files:
        raise app.UsageError("give at least one of --netG, --netD_PB, --netD_PP")
    return {k: (path, state_dict(path)) for k, path in files.items()}


def convert(states):
    """Build and load each network; returns {key: model}."""
    from tfposegen.models.adgan import weights
    from tfposegen.models.adgan.discriminators import ResnetDiscriminator
    from tfposegen.models.adgan.networks import ADGen

    nets = {}
    for key, (path, state) in states.items():
        try:
            config = (weights.adgen_config(state) if key == "netG"
                      else weights.discriminator_config(state))
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        model = ADGen(**config) if key == "netG" else ResnetDiscriminator(**config)
        load = weights.load_adgen_state if key == "netG" else weights.load_discriminator_state
        load(model, state, path=path)
        nets[key] = model
    return nets


def main(argv):
    del argv
    from tfposegen.convert.torch_checkpoint import TorchCheckpointError

    try:
        states = read_states()
        from tfposegen.models.adgan import weights

        nets = convert(states)
    except (TorchCheckpointError, ValueError) as e:
        print(f"convert_weights.py: error: {e}", file=sys.stderr)
        return 2
    sources = {k: os.path.abspath(path) for k, (path, _) in states.items()}
    folder = weights.save_networks(nets, FLAGS.output, {"source": sources})
    for key, model in nets.items():
        print(f"{key}: {model.count_params():,} parameters from {sources[key]}")
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(app.run(main))
