"""Label tables (tfposegen.parsing.labels): ADGAN's 8-class merge of the 20 LIP classes."""

import numpy as np
import pytest

from tfposegen.parsing import labels as L

# ADGAN's semantic_merge3 by class name (menyifang/ADGAN issue #10), written out by name so
# that the id table in the library is checked against an independent statement of it.
MERGE_BY_NAME = {
    "background": ["background"], "pants": ["pants"], "hair": ["hat", "hair"],
    "skirt": ["skirt"], "face": ["face", "sunglasses", "jumpsuits"],
    "upper clothes": ["upper-clothes", "dress", "coat", "scarf"],
    "arm": ["glove", "left-arm", "right-arm"],
    "leg": ["socks", "left-leg", "right-leg", "left-shoe", "right-shoe"],
}


def test_lip_to_adgan_merge_matches_the_names():
    for adgan_id, name in enumerate(L.ADGAN_LABELS):
        lip_ids = sorted(L.LIP_LABELS.index(n) for n in MERGE_BY_NAME[name])
        assert sorted(k for k, v in L.LIP_TO_ADGAN.items() if v == adgan_id) == lip_ids
    assert sorted(L.LIP_TO_ADGAN) == list(range(20))


def test_merge_maps_an_image_and_refuses_unknown_ids():
    lip = np.arange(20, dtype=np.uint8).reshape(4, 5)
    got = L.merge_lip_to_adgan(lip)
    assert got.dtype == np.uint8 and got.shape == (4, 5)
    assert got[0, 2] == L.ADGAN_LABELS.index("hair") and got[2, 3] == L.ADGAN_LABELS.index("face")
    with pytest.raises(ValueError, match="0..19"):
        L.merge_lip_to_adgan(np.array([[20]]))


def test_dgp_tables_and_cihp_differ_from_lip_only_at_10():
    assert sorted(L.MODEL_LABELS) == [0, 16, 32, 64, 255]
    assert sorted(L.CLOTH_LABELS) == [0, 23, 32, 64, 128]
    assert [i for i in range(20) if L.LIP_LABELS[i] != L.CIHP_LABELS[i]] == [10]
