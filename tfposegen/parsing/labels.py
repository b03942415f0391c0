"""Every label table of the library, in one place.

DGP (``deepGenPro.py`` / ``utils.py`` in RuiLiFeng/Deep-Generative-Projection): the model
parse and the cloth parse are grey PNGs whose pixel values are the labels below.

ADGAN (``data/keypoint.py`` in menyifang/ADGAN, maintainer's answer in its issue #10): the
8-class ``semantic_merge3`` maps merge the 20 LIP classes; the style code is laid out in this
class order (class i owns style channels 64 i .. 64 i + 63).

LIP / CIHP (20 classes; PAINT's layouts, gxl-groups/PAINT ``LGN/utils.py``): the same ids,
except that id 10 is "jumpsuits" in LIP and "torso-skin" in CIHP.
"""

# ----------------------------------------------------------------- DGP model parse
BACKGROUND = 0
ARM_LEFT, ARM_RIGHT, TRUNK, HAIR = 16, 32, 64, 255   # left / right as seen in the image
MODEL_LABELS = {BACKGROUND: "background", ARM_LEFT: "arm (image left)",
                ARM_RIGHT: "arm (image right)", TRUNK: "trunk", HAIR: "hair"}

# ----------------------------------------------------------------- DGP cloth parse
COLLAR_INSIDE, BODY, SLEEVE_LEFT, SLEEVE_RIGHT = 23, 32, 64, 128
CLOTH_LABELS = {BACKGROUND: "background", COLLAR_INSIDE: "collar inside", BODY: "garment body",
                SLEEVE_LEFT: "sleeve (image left)", SLEEVE_RIGHT: "sleeve (image right)"}
# Where a coarse alignment shows the garment (23, the inside of the collar, shows the model).
GARMENT_LABELS = (BODY, SLEEVE_LEFT, SLEEVE_RIGHT)

# ----------------------------------------------------------------- LIP / CIHP, 20 classes
LIP_LABELS = ("background", "hat", "hair", "glove", "sunglasses", "upper-clothes", "dress",
              "coat", "socks", "pants", "jumpsuits", "scarf", "skirt", "face", "left-arm",
              "right-arm", "left-leg", "right-leg", "left-shoe", "right-shoe")
CIHP_LABELS = LIP_LABELS[:10] + ("torso-skin",) + LIP_LABELS[11:]
# id -> RGB of PAINT's layout images (``labelcolormap(20)`` of LGN/utils.py, also TSN/utils.py).
CIHP_PALETTE = ((0, 0, 0), (128, 0, 0), (255, 0, 0), (0, 85, 0), (170, 0, 51), (255, 85, 0),
                (0, 0, 85), (0, 119, 221), (85, 85, 0), (0, 85, 85), (85, 51, 0),
                (52, 86, 128), (0, 128, 0), (0, 0, 255), (51, 170, 221), (0, 255, 255),
                (85, 255, 170), (170, 255, 85), (255, 255, 0), (255, 170, 0))
# PAINT TSN's swatch regions ``mask_t`` / ``mask_b`` (CIHP ids; TSN/core/dataset.py: the
# lower region leaves out 6 dress and 8 socks).
PAINT_TSN_TOP, PAINT_TSN_BOTTOM = (5, 6, 7), (9, 12)
# AFN's 9 merged classes (AFN/core/dataset.py): class -> CIHP ids.
PAINT_AFN_CLASSES = ((2,), (14, 15, 10), (16, 17, 8), (1,), (5, 7), (6, 9, 12), (18, 19),
                     (13, 3), (0, 4, 11))
CIHP_TO_PAINT_AFN = {i: k for k, ids in enumerate(PAINT_AFN_CLASSES) for i in ids}

# ----------------------------------------------------------------- ADGAN, 8 classes
ADGAN_LABELS = ("background", "pants", "hair", "skirt", "face", "upper clothes", "arm", "leg")
# LIP id -> ADGAN id (semantic_merge3).
LIP_TO_ADGAN = {0: 0, 9: 1, 1: 2, 2: 2, 12: 3, 13: 4, 4: 4, 10: 4, 5: 5, 6: 5, 7: 5, 11: 5,
                3: 6, 14: 6, 15: 6, 8: 7, 16: 7, 17: 7, 18: 7, 19: 7}


def merge_lip_to_adgan(parse):
    """ADGAN's 8-class map from a 20-class LIP map.

    Args:
        parse: integer array [..., H, W] with LIP ids 0..19.

    Returns:
        uint8 array of the same shape with ADGAN ids 0..7.

    Raises:
        ValueError: for an id outside 0..19.
    """
    import numpy as np

    parse = np.asarray(parse)
    if parse.size and (parse.min() < 0 or parse.max() > 19):
        raise ValueError(f"LIP labels are 0..19, got values {parse.min()}..{parse.max()}")
    table = np.array([LIP_TO_ADGAN[i] for i in range(20)], np.uint8)
    return table[parse]
