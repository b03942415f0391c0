"""PAINT per-stage training (tfposegen.models.paint.train, train_lgn): every loss term of one
step against an independent recomputation, the weights of the original, a tiny overfit per
stage, an exact resume, the in-graph Canny against the loader's, and two replicas making the
update of one device.

The tiny networks run eagerly here (a traced step costs 15-25 s of tracing on this machine,
an eager one 1.5-4 s); the traced steps run in test_paint_scripts.py's training runs."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import TWO_LOGICAL_CPUS, assert_same_update

from tfposegen.models.paint import train as T
from tfposegen.models.paint import train_lgn as L

pytestmark = pytest.mark.usefixtures("eager")


def _layout(n, s, shift=0):
    """[n, s, s] CIHP labels of a blocky person (hair 2, face 13, upper clothes 5, arms 14 /
    15, pants 9, legs 16 / 17), shifted right by ``shift + 3 i`` pixels for sample i."""
    out = np.zeros((n, s, s), np.int64)
    u = s // 16
    for i in range(n):
        c = s // 2 + shift + 3 * i
        lab = out[i]
        lab[u:3 * u, c - 2 * u:c + 2 * u] = 2
        lab[2 * u:4 * u, c - u:c + u] = 13
        lab[4 * u:9 * u, c - 3 * u:c + 3 * u] = 5
        lab[4 * u:9 * u, c - 5 * u:c - 3 * u] = 14
        lab[4 * u:9 * u, c + 3 * u:c + 5 * u] = 15
        lab[9 * u:12 * u, c - 3 * u:c + 3 * u] = 9
        lab[12 * u:15 * u, c - 3 * u:c - u] = 16
        lab[12 * u:15 * u, c + u:c + 3 * u] = 17
    return out


def _image(labels, classes):
    """An RGB image in [-1, 1]: one fixed colour per label."""
    colours = np.random.default_rng(7).uniform(-0.9, 0.9, (classes, 3)).astype(np.float32)
    return colours[labels]


def lgn_batch(n=2, s=64):
    labels = _layout(n, s)
    onehot = np.eye(20, dtype=np.float32)[labels]
    pose = -np.ones((n, s, s, 18), np.float32)
    for j in range(18):
        r, c = 4 + (j * 7) % (s - 8), 4 + (j * 11) % (s - 8)
        pose[:, r - 2:r + 3, c - 2:c + 3, j] = 1.0
    comps = [c.numpy() for c in L.layout_components(onehot, ((5, 6, 7), (8, 9, 12), (1, 2, 13)))]
    return {"A": pose, "B": onehot, "ct": comps[0], "cb": comps[1], "c3": comps[2]}


def tsn_batch(n=2, s=64):
    labels = _layout(n, s)
    image = _image(labels, 20)
    mask_t = np.isin(labels, (5, 6, 7))[..., None].astype(np.float32)
    mask_b = np.isin(labels, (9, 12))[..., None].astype(np.float32)
    mask_to, mask_bo = np.zeros_like(mask_t), np.zeros_like(mask_b)
    mask_to[:, 20:32, 26:38] = 1
    mask_bo[:, 38:46, 24:34] = 1
    return {"parsing": np.eye(20, dtype=np.float32)[labels], "image": image, "mask_t": mask_t,
            "mask_b": mask_b, "swatch_t": image * mask_t * mask_to,
            "swatch_b": image * mask_b * mask_bo, "mask_to": mask_to, "mask_bo": mask_bo}


def afn_batch(n=2, s=48):
    merge = np.zeros(20, np.int64)
    for k, group in enumerate(((2,), (14, 15, 10), (16, 17, 8), (1,), (5, 7), (6, 9, 12),
                               (18, 19), (13, 3), (0, 4, 11))):
        merge[list(group)] = k
    out = {}
    for key, shift in (("", 0), ("_p1", -4), ("_p2", 4)):
        labels = merge[_layout(n, s, shift)]
        out[f"parsing{key}"] = np.eye(9, dtype=np.float32)[labels]
        out[f"image{key}"] = _image(labels, 9)
    return out


def _np(x):
    return np.asarray(x, np.float64)


def _mse_last(scores, target):
    return float(np.mean((_np(scores)[-1] - target) ** 2))


def _gram(f):
    f = _np(f)
    b, h, w, c = f.shape
    f = f.reshape(b, h * w, c)
    return np.einsum("bnc,bnd->bcd", f, f) / (h * w * c)


def _vgg_terms(vgg, fake, real, w_vgg, w_style):
    ff, fr = vgg(fake), vgg(real)
    content = sum(np.mean(np.abs(_np(ff[k]) - _np(fr[k]))) for k in T.CONTENT_LAYERS)
    style = sum(np.mean(np.abs(_gram(ff[k]) - _gram(fr[k]))) for k in T.STYLE_LAYERS)
    return w_vgg * content, w_style * style


def test_in_graph_components_equal_the_loaders():
    """The z-predict's E inputs made in the graph (``binary_canny`` in TF) equal the
    loader's numpy components (``data.lgn_components``, whose Canny is checked against
    OpenCV's algorithm in test_paint_data.py), on layouts and on random masks."""
    from tfposegen.models.paint import data as D

    rng = np.random.default_rng(0)
    for m in [(rng.random((23, 31)) < p).astype(np.uint8) for p in (0.1, 0.5)]:
        np.testing.assert_array_equal(L.binary_canny(m[None]).numpy()[0],
                                      D.canny_edges(m, 0, 1) / 255.0)
    labels = _layout(2, 64)
    graph = L.layout_components(tf.one_hot(labels, 20))
    for i, lab in enumerate(labels):
        loader = D.lgn_components(lab)
        for key, got in zip(("ct", "cb", "c3"), graph):
            np.testing.assert_array_equal(got.numpy()[i], loader[key], err_msg=key)
        assert loader["ct"][..., 3].any() and loader["c3"][..., 3].any()


def test_lgn_terms_overfit_double_step_and_resume(tmp_path):
    """Terms of backward_EG / backward_G_alone / backward_D recomputed with numpy from the
    networks' outputs; the step's values, the double Adam step of G (B4), a 3-step overfit
    of the cross-entropy at the encoded means, and a resume that continues identically
    (networks, optimisers, noise generator)."""
    batch = lgn_batch()
    nets = T.build_stage("lgn", "tiny", seed=1)
    nets.pop("size")
    G, E, D, D2 = (nets[k] for k in ("G", "E", "D", "D2"))
    tr = T.LGNTrainer(nets, batch_size=2, iterations_per_epoch=100, lr=5e-3)
    noise = tr.draw_noise(1)
    out = tr.losses({**batch, **noise})
    # independent recomputation (bicycle_gan_model.py; lambda_L1 30, GAN2 1, kl 0.01, z 0.01)
    mus = [E(batch[k][:1]) for k in ("ct", "cb", "c3")]
    eps, zr = _np(noise["eps"]), _np(noise["z_random"])
    z_enc = np.concatenate([eps[:, 8 * i:8 * i + 8] * np.exp(0.5 * _np(lv)) + _np(mu)
                            for i, (mu, lv) in enumerate(mus)], axis=1)
    fake_enc = _np(G(batch["A"][:1], z_enc.astype(np.float32)))
    np.testing.assert_allclose(_np(out["fake_enc"]), fake_enc, atol=1e-6)
    ce = 30 * -np.sum(batch["B"][:1] * np.log(fake_enc + 1e-5)) / 65536
    assert float(out["G_L1"]) == pytest.approx(ce, rel=1e-5)
    fake_rand = out["fake_rand"]
    gan2 = sum(np.mean((_np(m) - 1) ** 2) for m in D2(fake_rand))
    assert float(out["G_GAN2"]) == pytest.approx(gan2, rel=1e-5)
    mu2 = [_np(E(c)[0]) for c in L.layout_components(fake_rand)]
    z_l1 = sum(0.01 * np.mean(np.abs(m - zr[:, 8 * i:8 * i + 8])) for i, m in enumerate(mu2))
    assert float(out["z_L1"]) == pytest.approx(z_l1, rel=1e-5)
    kl_mus = [_np(mus[0][0]), _np(mus[1][0]), mu2[2]]          # mu3 overwritten (B3)
    kl = sum(-0.005 * np.sum(1 + _np(lv) - m ** 2 - np.exp(_np(lv)))
             for m, (_, lv) in zip(kl_mus, mus))
    assert float(out["kl"]) == pytest.approx(kl, rel=1e-4, abs=1e-7)
    assert float(out["G"]) == pytest.approx(gan2 + ce, rel=1e-5)   # kl not back-propagated
    d_loss = (sum(np.mean(_np(m) ** 2) for m in D(out["fake_enc"]))
              + sum(np.mean((_np(m) - 1) ** 2) for m in D(batch["B"][:1])))
    assert float(tr._d_loss("D", out["fake_enc"], batch["B"][:1])) == pytest.approx(d_loss,
                                                                                     rel=1e-5)

    def ce_at_means():
        z = tf.concat([E(batch[k][:1])[0] for k in ("ct", "cb", "c3")], axis=1)
        return float(L.cross_entropy(G(batch["A"][:1], z), batch["B"][:1]))

    first_ce = ce_at_means()
    step = tr.train_step(batch)
    assert all(np.isfinite(v) for v in step.values())
    assert step["G"] == pytest.approx(step["G_GAN2"] + step["G_L1"], rel=1e-6)
    assert int(tr.opts["G"].iterations) == 2 and int(tr.opts["E"].iterations) == 1   # B4
    ckpt = tr.checkpoint()
    path = ckpt.save(str(tmp_path / "ck"))
    later = [tr.train_step(batch) for _ in range(2)]
    after = [v.numpy() for v in G.weights + E.weights + D2.weights]
    last_ce = ce_at_means()
    ckpt.restore(path).assert_existing_objects_matched()
    assert int(tr.step.numpy()) == 1
    again = [tr.train_step(batch) for _ in range(2)]
    for a, b in zip(later, again):
        for k in L.LOSS_NAMES:
            assert a[k] == pytest.approx(b[k], rel=1e-6, abs=1e-7), k
    for a, b in zip(after, [v.numpy() for v in G.weights + E.weights + D2.weights]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    print(f"\nLGN overfit: cross-entropy at the encoded means {first_ce:.4f} -> {last_ce:.4f}"
          " after 3 steps")
    assert last_ce < 0.8 * first_ce


@pytest.fixture(scope="module")
def vgg():
    return T.make_loss_vgg()   # Keras' random weights: the test needs no ImageNet file


def test_tsn_terms_and_overfit(vgg):
    """TSN's terms (hole 6, vgg 0.5, style 50, adv (0.1 + 1) x last-sample LSGAN, dis /2)
    recomputed from the networks, D in training mode; then 2 steps of reconstruction alone
    lower the L1."""
    batch = tsn_batch()
    nets = T.build_stage("tsn", "tiny", seed=2)
    nets.pop("size")
    G, D = nets["G"], nets["D"]
    tr = T.TSNTrainer(nets, vgg, batch_size=2, lr=1e-3)
    assert (tr.options["d2glr"], tr.options["hole_weight"], tr.options["style"]) == (4.0, 6, 50)
    assert tr.learning_rates(0) == (1e-3, 4e-3) and tr.total_steps == 330001
    pred = G(*(batch[k] for k in ("swatch_t", "swatch_b", "mask_t", "mask_b", "mask_to",
                                  "mask_bo", "parsing")))
    real = batch["image"]
    dis = 0.5 * (_mse_last(D(real, training=True), 1) + _mse_last(D(pred, training=True), 0))
    hole = 6 * np.mean(np.abs(_np(pred) - real))
    vgg_t, style_t = _vgg_terms(vgg, pred, real, 0.5, 50)
    out = tr.train_step(batch)
    adv = 1.1 * _mse_last(D(pred, training=True), 1)          # D after its step
    assert out["dis"] == pytest.approx(dis, rel=1e-4)
    assert out["hole"] == pytest.approx(hole, rel=1e-5)
    assert out["vgg"] == pytest.approx(vgg_t, rel=1e-4)
    assert out["style"] == pytest.approx(style_t, rel=1e-3)
    assert out["adv"] == pytest.approx(adv, rel=1e-4)
    assert out["G"] == pytest.approx(out["adv"] + out["hole"] + out["vgg"] + out["style"],
                                     rel=1e-6)
    assert all(np.isfinite(v) for v in out.values()) and out["vgg"] > 0 and out["style"] > 0
    # the overfit: reconstruction only (no GAN, no VGG), a higher rate, the same G
    fit = T.TSNTrainer(nets, None, batch_size=2, lr=1e-2, adversarial_weight=0.0,
                       adv_plus_one=False)
    for _ in range(2):
        fit.train_step(batch)
    last = 6 * np.mean(np.abs(_np(fit.generate(batch)) - real))
    print(f"\nTSN overfit: hole (6 x L1) {hole:.4f} -> {last:.4f} after 1 + 2 steps")
    assert last < 0.9 * hole


def test_afn_terms_and_overfit(vgg):
    """AFN's terms (two views: hole 5, vgg 0.5, style 250; adv 0.1 x last-sample LSGAN of
    D2 on cat(parsing, image) of both views, dis2 /2) recomputed; 2 more steps without the
    VGG terms lower the L1."""
    batch = afn_batch()
    nets = T.build_stage("afn", "tiny", seed=3)
    nets.pop("size")
    G, D2 = nets["G"], nets["D2"]
    tr = T.AFNTrainer(nets, vgg, batch_size=2, lr=2e-3)
    assert tr.learning_rates(0) == (2e-3, 2e-3) and tr.options["style"] == 250
    preds = [G(batch["image"], batch[f"parsing_p{k}"], batch["parsing"])[0] for k in (1, 2)]
    pose = lambda a, b: np.concatenate([batch["parsing_p1"], a, batch["parsing_p2"], b], -1)  # noqa: E731
    fake = pose(*map(_np, preds)).astype(np.float32)
    real = pose(batch["image_p1"], batch["image_p2"])
    dis2 = 0.5 * (_mse_last(D2(real), 1) + _mse_last(D2(fake), 0))
    want = {"dis2": dis2}
    for k, suffix in ((1, ""), (2, "2")):
        target = batch[f"image_p{k}"]
        want[f"hole{suffix}"] = 5 * np.mean(np.abs(_np(preds[k - 1]) - target))
        want[f"vgg{suffix}"], want[f"style{suffix}"] = _vgg_terms(vgg, preds[k - 1], target,
                                                                  0.5, 250)
    out = tr.train_step(batch)
    want["adv"] = 0.1 * _mse_last(D2(fake), 1)
    for k, v in want.items():
        assert out[k] == pytest.approx(v, rel=1e-3 if "style" in k else 1e-4), k
    assert out["G"] == pytest.approx(sum(out[k] for k in T.AFN_LOSS_NAMES[1:-1]), rel=1e-6)
    assert all(np.isfinite(v) for v in out.values())
    fit = T.AFNTrainer(nets, None, batch_size=2, lr=1e-2)   # the overfit: no VGG terms
    for _ in range(2):
        fit.train_step(batch)
    first = want["hole"] + want["hole2"]
    last = sum(5 * np.mean(np.abs(_np(p) - batch[f"image_p{k}"]))
               for k, p in zip((1, 2), fit.generate(batch)))
    print(f"\nAFN overfit: hole + hole2 (5 x L1 each) {first:.4f} -> {last:.4f} after 1 + 2 "
          "steps")
    assert last < 0.9 * first


MIRRORED = TWO_LOGICAL_CPUS + """import sys
sys.path.insert(0, os.path.join(os.environ["PYTHONPATH"].split(os.pathsep)[0], "tests"))
from test_paint_train import lgn_batch
from tfposegen.models.paint import train as T
from tfposegen.train.common import apply_gradients, split_batch
batch = lgn_batch(4)
x = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
out = {}
for name, st in (("one", tf.distribute.get_strategy()),
                 ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
    with st.scope():
        nets = T.build_stage("lgn", "tiny", seed=5)
        nets.pop("size")
        D = T.build_stage("tsn", "tiny", seed=6)["D"]
        sgd = keras.optimizers.SGD(0.01)
        sgd.build(D.trainable_weights)
    t = T.LGNTrainer(nets, batch_size=4, iterations_per_epoch=10, lr=1e-3, strategy=st)
    for opt in t.opts.values():  # Adam would turn the rounding of ~0 gradients into lr steps
        opt.epsilon = 1e-3
    tf.config.run_functions_eagerly(True)   # the replica math, not tracing, is under test
    losses = [t.train_step(batch)]

    def d_step(x):   # TSN's D: last-sample LSGAN through batch norm on the global batch
        with tf.GradientTape() as tape:
            loss = T.last_sample_lsgan(D(x, training=True), 1.0)
        apply_gradients(sgd, tape, loss, D.trainable_weights)
        return loss

    for i in range(2):
        v = st.run(d_step, args=(split_batch(st, tf.constant(x)),))
        losses[0][f"D_tsn{i}"] = float(st.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None))
    out[name] = {"replicas": t.replicas, "losses": losses,
                 **{k: [w.numpy().tolist() for w in nets[k].weights] for k in nets},
                 "D_tsn": [w.numpy().tolist() for w in D.weights]}
print(json.dumps(out))
"""


def test_two_replicas_make_the_update_of_one_device(warm_python):
    """MirroredStrategy on two logical CPUs against one device, global batch 4: LGN (each
    half split among the replicas, noise drawn for the global batch, the summed terms
    scaled) gives the same losses and G, E, D, D2 after two steps; TSN's D (batch norm
    over the global batch, the GAN term on the last sample only) the same loss, weights and
    moving statistics after two SGD steps."""
    assert_same_update(MIRRORED, L.LOSS_NAMES + ("D_tsn0", "D_tsn1"),
                       keys=("G", "E", "D", "D2", "D_tsn"), warm=warm_python)
