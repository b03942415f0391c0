"""FID / IS (tfposegen.metrics.fid) against closed forms, numpy formulas and pytorch-fid.

tests/data/metrics/fid_cases.npz: inputs and ``calculate_frechet_distance`` outputs of the
pytorch-fid package (tests/reference/make_metrics_reference.py).
"""

import os

import numpy as np
import pytest

from tfposegen.metrics import fid as fm

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "metrics")


def _psd_sqrt(s):
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def closed_form(mu1, s1, mu2, s2):
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2) by symmetric eigendecompositions."""
    r = _psd_sqrt(s1)
    inner = np.linalg.eigvalsh(r @ s2 @ r)
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(np.clip(inner, 0, None)))


def _random_spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_diagonal_covariances():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=12), rng.normal(size=12)
    a, b = rng.uniform(0.1, 3, 12), rng.uniform(0.1, 3, 12)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = fm.frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert abs(got - expected) <= 1e-6 * expected
    assert abs(closed_form(mu1, np.diag(a), mu2, np.diag(b)) - expected) <= 1e-9 * expected


def test_random_spd_covariances():
    rng = np.random.default_rng(1)
    for d in (2, 7, 32):
        mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
        s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
        expected = closed_form(mu1, s1, mu2, s2)
        assert abs(fm.frechet_distance(mu1, s1, mu2, s2) - expected) <= 1e-6 * expected, d


def test_gaussian_feature_sets():
    rng = np.random.default_rng(2)
    f1 = rng.normal(size=(300, 10))
    f2 = rng.normal(0.5, 1.0, size=(250, 10)) @ rng.normal(size=(10, 10))
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1 = (f1 - mu1).T @ (f1 - mu1) / (len(f1) - 1)
    s2 = (f2 - mu2).T @ (f2 - mu2) / (len(f2) - 1)
    mu, sigma = fm.feature_statistics(f1)
    np.testing.assert_allclose(mu, mu1, rtol=1e-12)
    np.testing.assert_allclose(sigma, s1, rtol=1e-10)
    expected = closed_form(mu1, s1, mu2, s2)
    assert abs(fm.fid_from_features(f1, f2) - expected) <= 1e-6 * expected
    assert abs(fm.fid_from_features(f1, f1)) < 1e-6


@pytest.mark.parametrize("case", ["few_samples", "eps_offset", "full_rank"])
def test_matches_pytorch_fid(case):
    data = np.load(os.path.join(DATA, "fid_cases.npz"))
    args = [data[f"{case}_{k}"] for k in ("mu1", "sigma1", "mu2", "sigma2")]
    if case == "eps_offset":  # sqrtm of a nilpotent product is infinite: the retry runs
        with pytest.warns(RuntimeWarning, match="singular product"):
            got = fm.frechet_distance(*args)
    else:
        got = fm.frechet_distance(*args)
    expected = float(data[f"{case}_fid"])
    assert np.isfinite(got)
    assert abs(got - expected) <= 1e-6 * abs(expected), (got, expected)


def test_frechet_errors():
    with pytest.raises(fm.MetricInputError, match="imaginary"):
        fm.frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), -np.eye(3))
    with pytest.raises(fm.MetricInputError, match="mu1, mu2"):
        fm.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(3))
    with pytest.raises(fm.MetricInputError, match="sigma1, sigma2"):
        fm.frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    with pytest.raises(fm.MetricInputError, match="features"):
        fm.feature_statistics(np.zeros((1, 5)))


def test_fid_batches_arrays_and_datasets():
    import tensorflow as tf

    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (7, 4, 4, 3)).astype(np.float32)
    b = rng.uniform(-1, 1, (9, 4, 4, 3)).astype(np.float32) ** 2
    calls = []

    def extractor(batch):
        calls.append(len(batch))
        return np.asarray(batch).reshape(len(batch), -1)[:, :5]

    expected = fm.fid_from_features(a.reshape(7, -1)[:, :5], b.reshape(9, -1)[:, :5])
    assert fm.fid(a, b, extractor, batch_size=3) == pytest.approx(expected, rel=1e-12)
    assert calls == [3, 3, 1, 3, 3, 3]
    ds_a = tf.data.Dataset.from_tensor_slices(a).batch(4)
    ds_b = tf.data.Dataset.from_tensor_slices(b).batch(2)
    assert fm.fid(ds_a, ds_b, extractor) == pytest.approx(expected, rel=1e-12)


def _bilinear_half_pixel(x, out):
    """numpy F.interpolate(bilinear, align_corners=False) of [B, H, W, C], H -> out, W -> out."""
    def axis_weights(n):
        src = np.clip((np.arange(out) + 0.5) * n / out - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        m = np.zeros((out, n))
        m[np.arange(out), lo] += 1 - (src - lo)
        m[np.arange(out), hi] += src - lo
        return m
    mh, mw = axis_weights(x.shape[1]), axis_weights(x.shape[2])
    return np.einsum("ih,jw,bhwc->bijc", mh, mw, x)


def test_inception_inputs():
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (2, 20, 13, 3), dtype=np.uint8)
    expected = _bilinear_half_pixel(images / 127.5 - 1.0, fm.INCEPTION_SIZE)
    got = np.asarray(fm.inception_inputs(images))
    assert got.shape == (2, 299, 299, 3)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(np.asarray(fm.inception_inputs(images / 127.5 - 1.0)), got,
                               atol=1e-5)
    with pytest.raises(fm.MetricInputError, match=r"\[-1, 1\]"):
        fm.inception_inputs(images.astype(np.float32))


def test_inception_features(tmp_path):
    import keras

    path = str(tmp_path / "inception_random.weights.h5")
    keras.applications.InceptionV3(include_top=False, pooling="avg", weights=None,
                                   input_shape=(299, 299, 3)).save_weights(path)
    extractor = fm.InceptionFeatures(path)
    images = np.random.default_rng(5).integers(0, 256, (2, 40, 40, 3), dtype=np.uint8)
    f1 = extractor(images)
    assert f1.shape == (2, fm.POOL3_DIMS) and f1.dtype == np.float32
    assert np.all(f1 >= 0) and np.std(f1) > 0  # averaged ReLU outputs, not constant
    assert not np.allclose(f1[0], f1[1])
    # Deterministic and independent of the batch it runs in.
    np.testing.assert_allclose(extractor(images[1:]), f1[1:], rtol=1e-4, atol=1e-6)
    with pytest.raises(fm.MetricInputError, match="weights_path"):
        fm.InceptionFeatures(str(tmp_path / "missing.weights.h5"))


def _is_original(p, splits):
    """inception_score/model.py in openai/improved-gan, written out for positive p."""
    n, scores = len(p), []
    for i in range(splits):
        part = p[i * n // splits:(i + 1) * n // splits]
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return np.mean(scores), np.std(scores)


def test_inception_score_formula():
    rng = np.random.default_rng(6)
    p = rng.dirichlet(np.full(1008, 0.05), size=103) + 1e-12
    p /= p.sum(1, keepdims=True)
    mean, std = fm.inception_score(p, splits=10)
    ref_mean, ref_std = _is_original(p, 10)
    assert mean == pytest.approx(ref_mean, rel=1e-10) and std == pytest.approx(ref_std, rel=1e-8)
    # 103 rows: the original's i*N//splits boundaries are not np.array_split's.
    alt = [np.exp((q * (np.log(q) - np.log(q.mean(0)))).sum(1).mean())
           for q in np.array_split(p, 10)]
    assert abs(np.mean(alt) - mean) > 1e-6


def test_inception_score_limits():
    row = np.random.default_rng(7).dirichlet(np.ones(1000))
    mean, std = fm.inception_score(np.tile(row, (50, 1)), splits=5)
    assert mean == pytest.approx(1.0, abs=1e-12) and std < 1e-12
    k, splits = 7, 4
    labels = np.tile(np.arange(k), 3 * splits)  # every split holds each class 3 times
    mean, std = fm.inception_score(np.eye(1000)[labels], splits=splits)
    assert mean == pytest.approx(k, rel=1e-12) and std < 1e-12
    with pytest.raises(fm.MetricInputError, match="sum to 1"):
        fm.inception_score(np.full((20, 10), 0.2), splits=2)
