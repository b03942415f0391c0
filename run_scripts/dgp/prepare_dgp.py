"""Make a DGP sample folder from a model photo and a garment product photo.

    python run_scripts/dgp/prepare_dgp.py --model_img me.png --cloth_img shirt.png \\
        --out_dir data/me_shirt [--model_parse me_parse.png] [--cloth_sleeve short]

DGP's authors did not release how they made a sample's cloth parse and coarse alignment;
this script makes them (the files of ``deepGenPro.py`` in RuiLiFeng/Deep-Generative-Projection):

1. The product photo (the garment alone, upright, on a plain background) is parsed into
   DGP's cloth labels by ``tfposegen.parsing.cloth.cloth_parse``.
2. The model parse is read from ``--model_parse`` (8-bit grey PNG with DGP's model labels
   0, 16, 32, 64, 255, the model photo's size) or made by
   ``tfposegen.parsing.model.model_parse``.
3. ``tfposegen.models.dgp.coarse_align`` warps the garment onto the model (torso and sleeves
   separately, thin-plate splines between shoulder, armpit, hem and sleeve anchors) and
   pastes it over the photo; the residual mask is DGP's own
   (``tfposegen.models.dgp.masks.residual_mask``).

Written (each file atomically, after everything was computed)::

    <out_dir>/model_info/model_img.png     the model photo (padded to a square if needed)
    <out_dir>/model_info/model_parse.png   its parse
    <out_dir>/cloth/cloth_img.png          the warped garment on white (model frame, as in
                                           DGP's samples)
    <out_dir>/cloth/cloth_parse.png        its labels, pixel-aligned with coarse_align.png
    <out_dir>/cloth/coarse_align.png       the garment pasted on the model
    <out_dir>/cloth/residual_parse.png     DGP's residual mask (1-bit)

and prints the ``deepGenPro.py`` command that runs DGP on them. DGP needs square images: a
non-square model photo is padded to a square with its border colour (parse: background).
Errors exit with status 2 and ``prepare_dgp.py: error: <path> ...``.
"""

import os
import shlex
import sys

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("model_img", None, "Photo of the model (RGB, any size).")
flags.DEFINE_string("cloth_img", None, "Product photo of the garment on a plain background.")
flags.DEFINE_string("out_dir", None, "Folder to write the DGP sample into (created).")
flags.DEFINE_string("model_parse", "", "Model parse PNG (8-bit grey, DGP's model labels, the "
                    "model photo's size); empty: made by tfposegen.parsing.model.")
flags.DEFINE_enum("cloth_sleeve", "short", ["short", "long"], "Sleeve length of the garment "
                  "(deepGenPro.py --cloth_sleeve).")


class UserError(Exception):
    """A problem with the command line or the files it names."""


def _read_model_parse(path, shape):
    """uint8 [H, W] model labels from ``path``, checked against DGP's labels and ``shape``."""
    from tfposegen.models.dgp.inputs import read_parse
    from tfposegen.models.dgp.masks import MODEL_LABELS

    parse = read_parse(path, MODEL_LABELS, "--model_parse", square=False)
    if parse.shape != shape:
        raise UserError(f"{path}: --model_parse is {parse.shape[1]}x{parse.shape[0]}, the model "
                        f"photo {shape[1]}x{shape[0]}; they must match")
    return parse


def _make_model_parse(image):
    try:
        from tfposegen.parsing.model import model_parse
    except ImportError as e:
        raise UserError(f"{FLAGS.model_img}: cannot make the model parse ({e}); pass "
                        "--model_parse") from None
    try:
        return model_parse(image)
    except (ValueError, RuntimeError) as e:
        raise UserError(f"{FLAGS.model_img}: cannot make the model parse ({e}); pass "
                        "--model_parse") from None


def _square(image, parse):
    """Pad a non-square photo (border colour) and its parse (background) to a square."""
    h, w = parse.shape
    if h == w:
        return image, parse
    pad = ((abs(w - h) // 2, abs(w - h) - abs(w - h) // 2), (0, 0))
    pad = pad if h < w else pad[::-1]
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    colour = np.median(border, axis=0).astype(np.uint8)
    padded = np.stack([np.pad(image[..., c], pad, constant_values=colour[c])
                       for c in range(3)], axis=-1)
    print(f"prepare_dgp.py: padded the {w}x{h} model photo to {max(h, w)}x{max(h, w)} "
          "(DGP needs squares)")
    return padded, np.pad(parse, pad)


def prepare(model_img_path, cloth_img_path, out_dir, model_parse_path, cloth_sleeve):
    """Compute every file, then write them; returns (cloth_dir, model_dir)."""
    from tfposegen.models.dgp.coarse_align import paste_garment, warp_garment
    from tfposegen.models.dgp.masks import residual_mask
    from tfposegen.parsing.cloth import cloth_parse
    from tfposegen.utils.files import read_rgb, write_png

    model_img = read_rgb(model_img_path, "--model_img")
    cloth_img = read_rgb(cloth_img_path, "--cloth_img")
    product_parse = cloth_parse(cloth_img_path)
    model_parse = (_read_model_parse(model_parse_path, model_img.shape[:2]) if model_parse_path
                   else _make_model_parse(model_img))
    model_img, model_parse = _square(model_img, model_parse)
    garment, aligned = warp_garment(model_parse, cloth_img, product_parse, cloth_sleeve)
    files = {
        ("model_info", "model_img"): model_img,
        ("model_info", "model_parse"): model_parse,
        ("cloth", "cloth_img"): np.where((aligned != 0)[..., None], garment, 255).astype(np.uint8),
        ("cloth", "cloth_parse"): aligned,
        ("cloth", "coarse_align"): paste_garment(model_img, garment, aligned),
        ("cloth", "residual_parse"): residual_mask(model_parse, aligned, cloth_sleeve),
    }
    for folder in ("model_info", "cloth"):
        os.makedirs(os.path.join(out_dir, folder), exist_ok=True)
    for (folder, name), array in files.items():
        write_png(os.path.join(out_dir, folder, name + ".png"), array)
    return os.path.join(out_dir, "cloth", ""), os.path.join(out_dir, "model_info", "")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    from tfposegen.models.dgp.coarse_align import CoarseAlignError
    from tfposegen.parsing.cloth import ClothParseError

    try:
        for flag in ("model_img", "cloth_img", "out_dir"):
            if not getattr(FLAGS, flag):
                raise UserError(f"--{flag} is required")
        if os.path.exists(FLAGS.out_dir) and not os.path.isdir(FLAGS.out_dir):
            raise UserError(f"{FLAGS.out_dir}: --out_dir exists and is not a folder")
        cloth_dir, model_dir = prepare(FLAGS.model_img, FLAGS.cloth_img, FLAGS.out_dir,
                                       FLAGS.model_parse, FLAGS.cloth_sleeve)
    except CoarseAlignError as e:
        return _fail(f"{FLAGS.model_parse or FLAGS.model_img}: {e}")
    except (UserError, ClothParseError, ValueError) as e:  # incl. ImageReadError, DGPInputError
        return _fail(e)
    output_dir = os.path.join(FLAGS.out_dir, "output", "")
    print(f"DGP sample written to {FLAGS.out_dir}; run DGP with:\n"
          f"python run_scripts/dgp/deepGenPro.py --cloth_dir {shlex.quote(cloth_dir)} "
          f"--model_dir {shlex.quote(model_dir)} --cloth_sleeve {FLAGS.cloth_sleeve} "
          f"--output_dir {shlex.quote(output_dir)}")
    return 0


def _fail(error):
    print(f"prepare_dgp.py: error: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    app.run(main)
