"""Convert official DGP / StyleGAN2 weights once to a folder that tfposegen loads without them.

    python run_scripts/dgp/convert_weights.py dnnlib \\
        --input encoder-stylegan2-upper-body-512.pkl --output pretrained/dgp_512

writes ``<output>/networks.json`` and one ``<key>.weights.h5`` per network (E, D, Gs, G);
load it back with ``tfposegen.models.dgp.dnnlib.load_networks(output)``.
"""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="format", required=True)
    p = sub.add_parser("dnnlib", help="TF1 dnnlib pickle (NVlabs StyleGAN2 or DGP)")
    p.add_argument("--input", required=True, help="the .pkl file")
    p.add_argument("--output", required=True, help="folder to write")
    args = parser.parse_args(argv)

    from tfposegen.convert.dnnlib_pickle import DnnlibPickleError
    from tfposegen.models.dgp.dnnlib import ConversionError, load_dnnlib_pickle, save_networks

    try:
        nets = load_dnnlib_pickle(args.input)
        save_networks(nets, args.output)
    except (ConversionError, DnnlibPickleError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for key, model in nets.items():
        n = sum(int(v.numpy().size) for v in model.weights)
        print(f"{key:3s} {type(model).__name__:14s} {n:>12,d} values")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
