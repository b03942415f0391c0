"""Photos that strangers upload: size limits, decoding as the only content check, and
messages a shopper understands.

A photo is accepted when its bytes (at most :data:`MAX_BYTES`) decode with Pillow as a
still image whose header declares at most :data:`MAX_PIXELS` pixels (checked before the
pixels are decoded: decompression bombs) and whose sides are at least :data:`MIN_SIDE`. The
file name and declared type are never used. EXIF orientation is applied (phone photos).
"""

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MIN_SIDE = 64


class PhotoError(ValueError):
    """A request the service refuses, with the words shown to the shopper and the HTTP
    status the API answers (4xx)."""

    def __init__(self, message, status=422):
        super().__init__(message)
        self.status = status


def sentence(what):
    """``what`` with its first letter capitalised, to start a message."""
    return what[:1].upper() + what[1:]


def read_photo(data, what="photo"):
    """Decode an uploaded photo.

    Args:
        data: the uploaded bytes.
        what: how messages name it ("your photo", "the product photo").

    Returns:
        uint8 [H, W, 3] RGB.

    Raises:
        PhotoError: empty, too large (413), not an image (415), too many pixels (413) or too
            small (422); the message names ``what``.
    """
    if not data:
        raise PhotoError(f"{sentence(what)} is missing: please choose a file.", 400)
    if len(data) > MAX_BYTES:
        raise PhotoError(f"{sentence(what)} is larger than {MAX_BYTES // (1024 * 1024)} MB.", 413)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            w, h = image.size
            if w * h > MAX_PIXELS:
                raise PhotoError(f"{sentence(what)} has too many pixels ({w} x {h}); the limit is "
                                 f"{MAX_PIXELS // 1_000_000} megapixels.", 413)
            image.load()
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(f"{sentence(what)} is not a picture we can read: please upload a JPEG or "
                         f"PNG photo.", 415) from None
    if min(w, h) < MIN_SIDE:
        raise PhotoError(f"{sentence(what)} is too small ({w} x {h}); please use a photo at least "
                         f"{MIN_SIDE} pixels on each side.", 422)
    image = ImageOps.exif_transpose(image)
    return np.asarray(image.convert("RGB"))


def png_bytes(image):
    """uint8 [H, W, 3] or [H, W] -> PNG file bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()
