"""The shopper web service (run_scripts/shopper/websvc.py, tfposegen.serving): uploads and
their limits, the job queue, the pipeline on procedural persons, the running server under
concurrent API calls, the page in a real browser (headless Chromium driven by selenium;
`.ci/run` installs it), and a DPTN_step export served with its coarse-to-fine steps."""

import base64
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import warnings

import numpy as np
import pytest
from PIL import Image

from tfposegen.data.synthetic_persons import make_person
from tfposegen.serving import demo
from tfposegen.serving.jobs import JobQueue, QueueFull
from tfposegen.serving.shopper import Person
from tfposegen.serving.uploads import MAX_BYTES, MAX_PIXELS, PhotoError, png_bytes, read_photo
from tfposegen.serving.web import Catalog, create_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "run_scripts", "shopper", "websvc.py")
ARTIFACTS = os.environ.get("TFPOSEGEN_TEST_ARTIFACTS")


# ------------------------------------------------------------------ uploads


def test_photos_are_checked_by_decoding_not_by_name():
    photo = demo.demo_photo(0)
    np.testing.assert_array_equal(read_photo(png_bytes(photo)), photo)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG")
    assert read_photo(buffer.getvalue()).shape == photo.shape
    cases = [(b"", 400, "missing"), (b"this is text, not a JPEG", 415, "not a picture"),
             (png_bytes(photo)[:200], 415, "not a picture"),
             (png_bytes(np.zeros((40, 300, 3), np.uint8)), 422, "too small"),
             (b"\0" * (MAX_BYTES + 1), 413, "larger than 10 MB")]
    for data, status, words in cases:
        with pytest.raises(PhotoError, match=words) as e:
            read_photo(data, "your photo")
        assert e.value.status == status and str(e.value).startswith("Your photo")


def test_decompression_bomb_is_refused_from_its_header():
    side = int(np.sqrt(MAX_PIXELS)) + 100                    # 41 megapixels of one colour
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG")  # a few kB on disk
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(PhotoError, match="too many pixels") as e:
        read_photo(buffer.getvalue(), "your photo")
    assert e.value.status == 413


# ------------------------------------------------------------------ the queue


class GatedPipeline:
    """A stand-in for ShopperPipeline whose render waits for ``gate``: the queue can be
    filled while the model is busy."""

    height, width, steps, mixes = 64, 44, 0, False

    def __init__(self):
        self.gate = threading.Event()

    def analyse(self, photo, what, with_parse):
        return Person(photo[:64, :44], np.zeros((18, 2), np.float32),
                      np.zeros((64, 44), np.uint8) if with_parse else None, photo)

    def render(self, product, shopper, with_steps, style=None, mix_from=None):
        assert self.gate.wait(30) and with_steps and style is None
        return product.image // 2 + shopper.image // 2, []


def _form(product_seed=0, shopper_seed=42):
    return {"product": (io.BytesIO(png_bytes(demo.demo_photo(product_seed))), "p.png"),
            "shopper": (io.BytesIO(png_bytes(demo.demo_photo(shopper_seed))), "../../etc/me.png")}


def test_full_queue_answers_503_while_health_answers():
    pipeline = GatedPipeline()
    app = create_app(pipeline, Catalog([("a", demo.demo_photo(0))]), max_queue=2, ttl=0.5)
    client = app.test_client()
    first = client.post("/api/jobs", data=_form()).json["job"]   # taken by the worker
    deadline = time.time() + 10
    while client.get(f"/api/jobs/{first}").json["state"] != "running":
        assert time.time() < deadline
        time.sleep(0.01)
    queued = [client.post("/api/jobs", data=_form()) for _ in range(2)]
    assert [r.status_code for r in queued] == [202, 202]
    assert client.get(f"/api/jobs/{queued[1].json['job']}").json["position"] == 2
    full = client.post("/api/jobs", data=_form())
    assert full.status_code == 503 and int(full.headers["Retry-After"]) >= 1
    assert "busy" in full.json["error"]
    assert client.post("/api/catalog_jobs", data={"shopper": _form()["shopper"]}).status_code \
        == 503
    health = client.get("/healthz")                          # the model is still busy
    assert health.status_code == 200 and health.json["queue"]["waiting"] == 2
    pipeline.gate.set()
    job = queued[1].json["job"]
    deadline = time.time() + 10
    while client.get(f"/api/jobs/{job}").json["state"] != "done":
        assert time.time() < deadline
        time.sleep(0.01)
    status = client.get(f"/api/jobs/{job}").json
    # random ids; the upload's file name appears nowhere
    assert len(job) == 32 and int(job, 16) >= 0 and "etc" not in str(status)
    panel = client.get(status["result"]["result"])
    assert Image.open(io.BytesIO(panel.data)).size == (44, 64)
    time.sleep(0.6)                                           # results expire
    assert client.get(f"/api/jobs/{job}").status_code == 404
    assert client.get(status["result"]["result"]).status_code == 404


def test_job_queue_reports_errors_without_internals():
    def fails(kind):
        if kind == "photo":
            raise PhotoError("Your photo is odd.", 422)
        raise KeyError("internal detail")

    logged = []
    jobs = JobQueue(max_queue=4, ttl=60, expected_errors=(PhotoError,), log=logged.append)
    a, b = jobs.submit_all(fails, [("photo",), ("bug",)])
    assert a.done.wait(10) and b.done.wait(10)
    assert a.error == ("Your photo is odd.", 422)
    assert b.error == ("Sorry, the service failed on this request.", 500)
    assert "internal detail" in logged[0]
    with pytest.raises(QueueFull):
        jobs.submit_all(fails, [("photo",)] * 5)


def test_api_routes_refuse_bad_requests():
    app = create_app(GatedPipeline(), Catalog([("a", demo.demo_photo(0))]))
    client = app.test_client()
    for product_id in ("7", "-1", "x"):
        r = client.post("/api/jobs", data={"product_id": product_id,
                                           "shopper": _form()["shopper"]})
        assert r.status_code == 404 and "not in the catalogue" in r.json["error"]
    r = client.post("/api/jobs", data={"product_id": "0"})
    assert r.status_code == 400 and r.json["error"] == "Your photo is missing: please choose " \
                                                        "a file."
    assert client.get("/results/0123/result.png").status_code == 404
    assert client.get("/api/jobs/../../etc/passwd").status_code == 404
    assert client.get("/api/catalog").json["products"][0]["url"] == "/catalog/0.png"
    r = client.post("/api/jobs", data={"product_id": "0", "style_product_id": "0",
                                       "shopper": _form()["shopper"]})
    assert r.status_code == 400 and r.json["error"] == "This model cannot mix the styles " \
                                                        "of two products."


# ------------------------------------------------------------------ the real pipeline


@pytest.fixture(scope="module")
def blazepose_models():
    from tfposegen.pose.blazepose import BlazePose
    from tfposegen.pose.model_files import ModelFilesError
    from tfposegen.pose.segmentation import SelfieSegmentation

    try:
        return BlazePose(), SelfieSegmentation()
    except ModelFilesError as e:
        pytest.skip(f"BlazePose model files unavailable: {e}")


TINY_STEP_G = dict(ngf=4, img_f=8, layers=1, num_blocks=0, num_CABs=1, num_TTBs=1, steps=2)


@pytest.fixture(scope="module")
def exports(tmp_path_factory, warm_python):
    """The demo ADGAN generator exported by run_scripts/export_savedmodel.py --adgan_netG (a
    subprocess, and one with a missing file) and, meanwhile in this process, a random-weight
    32 x 32 DPTN_step generator (S = 2) as --dptn_step_checkpoint exports it (fashion:
    keypoints in 256 x 176): {"adgan": version folder, "dptn_step": version folder}."""
    import tensorflow as tf

    from tfposegen.models.dptn import presets
    from tfposegen.models.dptn.export import export_dptn_step
    from tfposegen.models.dptn.step_networks import StepGenerator

    tmp = tmp_path_factory.mktemp("adgan_export")
    script = os.path.join(ROOT, "run_scripts", "export_savedmodel.py")
    demo_file = os.path.join(ROOT, "pretrained", "demo", "adgan_demo_64.npz")
    env = warm_python.env(PYTHONPATH=ROOT)
    procs = [subprocess.Popen([warm_python.python, script, f"--adgan_netG={path}",
                               f"--export_dir={out}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=env)
             for path, out in ((demo_file, tmp), (f"{tmp}/nope.pth", f"{tmp}/x"))]
    tf.keras.utils.set_random_seed(0)
    with warnings.catch_warnings():   # the tiny net's one-channel attention softmax
        warnings.filterwarnings("ignore", "You are using a softmax over axis")
        G = StepGenerator(32, 32, **dict(presets.DPTN_STEP_G, **TINY_STEP_G))
        step = export_dptn_step(G, tmp_path_factory.mktemp("dptn_step_export"))
    (_, err), (_, missing) = (p.communicate(timeout=300) for p in procs)
    assert procs[0].returncode == 0, err[-2000:]
    assert procs[1].returncode == 2 and "nope.pth: no such generator" in missing
    return {"adgan": str(tmp / "1"), "dptn_step": step}


@pytest.fixture(scope="module")
def pipeline(blazepose_models, exports):
    """The demo generator exported by run_scripts/export_savedmodel.py --adgan_netG."""
    from tfposegen.serving.shopper import ShopperPipeline

    return ShopperPipeline(exports["adgan"], *blazepose_models)


def test_demo_persons_pass_and_bad_photos_get_their_message(pipeline):
    from tfposegen.parsing.adgan import adgan_parse, class_iou
    from tfposegen.parsing.model import parse_keypoints, person_probability

    ious = []
    for seed in demo.PRODUCT_SEEDS + demo.SHOPPER_SEEDS:
        photo = demo.demo_photo(seed)
        person = pipeline.analyse(photo, "the product photo", True)
        assert person.image.shape == (64, 44, 3) and person.parse.shape == (64, 44)
        # the parse at the photo's size against the drawn parts
        result = pipeline.pose_model(photo)
        parse = adgan_parse(photo, parse_keypoints(result, photo.shape),
                            person_probability(result, pipeline.selfie_model(photo)))
        truth = make_person(seed, seed + 100, *demo.SIZE, with_parse=True)[2]
        ious.append(class_iou(parse, truth, (0, 1, 2, 4, 5, 6)))
    back = make_person(3, 103, *demo.SIZE)[0]                 # faceless head: seen from behind
    two = np.concatenate([demo.demo_photo(42), np.full((256, 40, 3), 230, np.uint8),
                          demo.demo_photo(45)], axis=1)
    for photo, words in ((back, "from behind"), (two, "several people"),
                         (np.full((256, 176, 3), 200, np.uint8), "could not find a person")):
        with pytest.raises(PhotoError, match=words) as e:
            pipeline.analyse(photo, "your photo", False)
        assert e.value.status == 422


# ------------------------------------------------------------------ DPTN_step and DPTN models

def _save_module(folder, name, fn, specs):
    """A SavedModel whose only signature ``name`` is ``fn`` on ``specs``."""
    import tensorflow as tf

    module = tf.Module()
    module.fn = tf.function(fn, input_signature=specs)
    tf.saved_model.save(module, str(folder), signatures={name: module.fn})
    return str(folder)


def _png_array(data):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))))


@pytest.fixture(scope="module")
def step_app(exports, blazepose_models):
    """The Flask app on the DPTN_step export, with one catalogue product."""
    from tfposegen.serving.shopper import ShopperPipeline

    pipeline = ShopperPipeline(exports["dptn_step"], *blazepose_models)
    return create_app(pipeline, Catalog([("a", demo.demo_photo(demo.PRODUCT_SEEDS[0]))]))


def test_dptn_step_model_is_served_with_its_steps(step_app, blazepose_models, tmp_path):
    """The service on a DPTN_step export: the final image and S step images at the keypoint
    frame's aspect (32 x 22), equal to the signature called on the analysed persons; DPTN's
    dptn_pose_transfer through the same adapter; a SavedModel without a known signature (or
    a folder without a SavedModel) is refused with a message naming the folder and the
    signatures it has."""
    import tensorflow as tf

    from tfposegen.serving.shopper import ShopperPipeline

    pipeline = step_app.config["PIPELINE"]
    assert (pipeline.signature, pipeline.steps) == ("dptn_step_pose_transfer", 2)
    assert (pipeline.height, pipeline.width, pipeline.model.frame) == (32, 22, (256, 176))
    product_photo = demo.demo_photo(demo.PRODUCT_SEEDS[0])
    client = step_app.test_client()
    form = {"product_id": "0", "shopper": _form()["shopper"]}
    reply = client.post("/api/pose_transfer?format=json", data=form)
    assert reply.status_code == 200, reply.json
    image, steps = _png_array(reply.json["image"]), [_png_array(s) for s in reply.json["steps"]]
    assert image.shape == (32, 22, 3) and [s.shape for s in steps] == [(32, 22, 3)] * 2
    np.testing.assert_array_equal(steps[-1], image)
    # the adapter: the product fitted into 256 x 176, stretched to 32 x 32; seed 0
    product = pipeline.analyse(product_photo, "the product photo", True)
    shopper = pipeline.analyse(demo.demo_photo(42), "your photo", False)
    assert product.parse is None and product.image.shape == (256, 176, 3)
    stretched = np.asarray(Image.fromarray(product.image).resize((32, 32), Image.BILINEAR))
    out = pipeline.model.loaded.signatures["dptn_step_pose_transfer"](
        images=tf.constant(stretched[None]), source_keypoints=tf.constant(product.keypoints[None]),
        target_keypoints=tf.constant(shopper.keypoints[None]), seed=tf.constant(0, tf.int64))
    want = [np.asarray(Image.fromarray(s).resize((22, 32), Image.BILINEAR))
            for s in out["step_images"].numpy()[:, 0]]
    np.testing.assert_array_equal(np.stack(steps), np.stack(want))
    status = client.get(f"/api/jobs/{reply.json['job']}").json
    assert "parse" not in status["result"] and len(status["steps"]) == 2
    assert client.get(status["steps"][0]).status_code == 200
    assert client.get("/healthz").json["steps"] == 2

    # style mixing: step 1 from the catalogue product, step 2 from an uploaded second product
    assert client.get("/healthz").json["style_mixing"] is True
    style_photo = demo.demo_photo(demo.PRODUCT_SEEDS[1])
    form = {"product_id": "0", "style_product": (io.BytesIO(png_bytes(style_photo)), "b.png"),
            "mix_from": "2", "shopper": _form()["shopper"]}
    reply = client.post("/api/pose_transfer?format=json", data=form)
    assert reply.status_code == 200, reply.json
    mixed = [_png_array(s) for s in reply.json["steps"]]
    style = pipeline.analyse(style_photo, "the style product photo", True)
    stretched_b = np.asarray(Image.fromarray(style.image).resize((32, 32), Image.BILINEAR))
    out = pipeline.model.loaded.signatures["dptn_step_style_mix"](
        images=tf.constant(stretched[None]), source_keypoints=tf.constant(product.keypoints[None]),
        images_b=tf.constant(stretched_b[None]),
        source_keypoints_b=tf.constant(style.keypoints[None]),
        target_keypoints=tf.constant(shopper.keypoints[None]), seed=tf.constant(0, tf.int64),
        mix_from=tf.constant(2))
    want = [np.asarray(Image.fromarray(s).resize((22, 32), Image.BILINEAR))
            for s in out["step_images"].numpy()[:, 0]]
    np.testing.assert_array_equal(np.stack(mixed), np.stack(want))
    np.testing.assert_array_equal(mixed[0], steps[0])      # step 1 still sees the product
    assert np.abs(mixed[1].astype(int) - steps[1]).max() > 0
    for bad in ("0", "4", "x"):
        reply = client.post("/api/jobs", data={"product_id": "0", "style_product_id": "0",
                                               "mix_from": bad, "shopper": _form()["shopper"]})
        assert reply.status_code == 400, bad
        assert reply.json["error"] == "mix_from must be a whole number from 1 to 3."

    # DPTN: a stand-in dptn_pose_transfer at Market's 128 x 64 (frame guessed: no stretch)
    specs = [tf.TensorSpec([None, 128, 64, 3], tf.uint8, name="images"),
             tf.TensorSpec([None, 18, 2], tf.float32, name="source_keypoints"),
             tf.TensorSpec([None, 18, 2], tf.float32, name="target_keypoints")]
    dptn = _save_module(tmp_path / "dptn", "dptn_pose_transfer",
                        lambda images, source_keypoints, target_keypoints: {"images": images},
                        specs)
    dptn = ShopperPipeline(dptn, *blazepose_models)
    assert (dptn.height, dptn.width, dptn.steps, dptn.model.frame) == (128, 64, 0, (128, 64))
    image, steps = dptn.render(dptn.analyse(product_photo, "the product photo", True), shopper,
                               with_steps=True)
    assert image.shape == (128, 64, 3) and steps == []

    # websvc.py prints the ValueError as "websvc.py: error: <message>" and exits with 2
    other = _save_module(tmp_path / "other", "double", lambda x: {"y": 2 * x},
                         [tf.TensorSpec([None], tf.float32)])
    for folder, words in ((other, "none of the pose-transfer signatures the service knows "
                                  "(adgan_pose_transfer, dptn_step_pose_transfer, "
                                  "dptn_pose_transfer); this SavedModel has ['double']"),
                          (str(tmp_path), "not a SavedModel version folder")):
        with pytest.raises(ValueError, match=f"^{re.escape(f'{folder}: {words}')}"):
            ShopperPipeline(folder, *blazepose_models)


# ------------------------------------------------------------------ the running server


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(blazepose_models, tmp_path_factory):
    """websvc.py as a user starts it (default model and catalogue), on a free port."""
    port = _free_port()
    log = tmp_path_factory.mktemp("websvc") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, SCRIPT, f"--port={port}", "--max_queue=16"],
                                stdout=out, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PYTHONPATH=ROOT))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                break
        except (urllib.error.URLError, ConnectionError):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.time() < deadline, "the server did not start"
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(30)


def _post(url, fields, files):
    """multipart/form-data POST with urllib: returns (status, headers, body bytes)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f'{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode()
                     + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_concurrent_requests_get_their_own_results(server, pipeline):
    cases = [(p, s) for p in (0, 2, 4, 5) for s in demo.SHOPPER_SEEDS[:2]]   # 8 requests
    results = [None] * len(cases)

    def call(i):
        product, shopper = cases[i]
        fields = {"product_id": str(product)}
        files = {"shopper": ("me.png", png_bytes(demo.demo_photo(shopper)))}
        fmt = "?format=json" if i % 2 else ""
        results[i] = _post(f"{server}/api/pose_transfer{fmt}", fields, files)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    outputs = []
    for i, (status, _headers, body) in enumerate(results):
        assert status == 200, body[:500]
        if i % 2:
            import json

            body = base64.b64decode(json.loads(body)["image"])
        outputs.append(np.asarray(Image.open(io.BytesIO(body))))
    for (product, shopper), out in zip(cases, outputs):
        want, _, _ = pipeline(demo.demo_photo(demo.PRODUCT_SEEDS[product]),
                              demo.demo_photo(shopper))
        assert out.shape == (64, 44, 3)
        assert np.abs(out.astype(int) - want).max() <= 2, (product, shopper)
    assert len({o.tobytes() for o in outputs}) == len(cases)   # all different


def test_oversized_upload_is_refused_before_it_is_sent(server):
    host, port = server.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"POST /api/pose_transfer HTTP/1.1\r\nHost: {host}\r\n"
                  f"Content-Type: multipart/form-data; boundary=x\r\n"
                  f"Content-Length: {50 * 1024 * 1024}\r\n\r\n".encode() + b"x" * 65536)
        start = time.time()
        answer = s.recv(4096).decode("latin-1")               # 50 MB never sent
    assert answer.startswith("HTTP/1.1 413"), answer[:300]
    assert time.time() - start < 10


def test_server_answers_bad_input_with_4xx_messages(server):
    text = ("me.jpg", b"this is a text file renamed to .jpg\n")
    status, _, body = _post(f"{server}/api/pose_transfer", {"product_id": "0"},
                            {"shopper": text})
    assert status == 415 and b"not a picture we can read" in body
    blank = ("me.png", png_bytes(np.full((256, 176, 3), 200, np.uint8)))
    status, _, body = _post(f"{server}/api/pose_transfer", {"product_id": "0"},
                            {"shopper": blank})
    assert status == 422 and b"could not find a person" in body
    assert b"Traceback" not in body


# ------------------------------------------------------------------ the page in a browser


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("chromium and chromium-driver are not installed (.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,1100"):
        options.add_argument(arg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chrome = webdriver.Chrome(service=Service(driver), options=options)
    yield chrome
    chrome.quit()


def _wait(browser, condition, timeout=120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(lambda d: condition(d))


def test_page_in_a_real_browser(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    shopper, product = tmp_path / "me.png", tmp_path / "dress.png"
    Image.fromarray(demo.demo_photo(45)).save(shopper)
    Image.fromarray(demo.demo_photo(demo.PRODUCT_SEEDS[1])).save(product)
    browser.get(server + "/")
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#products img")) ==
          len(demo.PRODUCT_SEEDS))
    browser.find_element(By.ID, "product").send_keys(str(product))
    browser.find_element(By.ID, "shopper").send_keys(str(shopper))
    browser.find_element(By.ID, "go").click()
    _wait(browser, lambda d: d.execute_script(
        "const i = document.getElementById('result'); return i.complete && i.naturalWidth"))
    src = browser.find_element(By.ID, "result").get_attribute("src")
    with urllib.request.urlopen(src) as response:
        result = np.asarray(Image.open(io.BytesIO(response.read())))
    assert result.shape == (64, 44, 3)
    from tfposegen.pose.keypoints import fit_photo

    for photo in (demo.demo_photo(45), demo.demo_photo(demo.PRODUCT_SEEDS[1])):
        fitted, _ = fit_photo(photo, np.full((18, 2), -1), 64, 44)
        assert np.abs(result.astype(int) - fitted).mean() > 5
    assert browser.find_element(By.ID, "error").text == ""
    screenshot = tmp_path / "websvc.png"
    browser.save_screenshot(str(screenshot))
    assert Image.open(screenshot).size[0] > 0
    if ARTIFACTS:
        os.makedirs(ARTIFACTS, exist_ok=True)
        shutil.copy(screenshot, os.path.join(ARTIFACTS, "websvc.png"))

    # the catalogue view: every product in the shopper's pose, filled in as they come
    browser.find_element(By.ID, "catalog-go").click()
    _wait(browser, lambda d: d.execute_script(
        "return [...document.querySelectorAll('#grid img')].filter("
        "i => i.complete && i.naturalWidth).length") == len(demo.PRODUCT_SEEDS))
    if ARTIFACTS:
        browser.save_screenshot(os.path.join(ARTIFACTS, "websvc_catalog.png"))

    # a text file renamed .jpg: the error is on the page, in words
    fake = tmp_path / "holiday.jpg"
    fake.write_text("not a photo at all\n")
    browser.find_element(By.ID, "shopper").send_keys(str(fake))
    browser.find_element(By.ID, "go").click()
    _wait(browser, lambda d: d.find_element(By.ID, "error").text != "", timeout=30)
    assert "not a picture we can read" in browser.find_element(By.ID, "error").text


def test_dptn_step_page_shows_every_step(step_app, browser, tmp_path):
    """The page on the DPTN_step app (served in this process): the result, no parts panel,
    and the coarse-to-fine strip of the S = 2 step images."""
    from selenium.webdriver.common.by import By
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, step_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        shopper = tmp_path / "me.png"
        Image.fromarray(demo.demo_photo(47)).save(shopper)
        browser.get(f"http://127.0.0.1:{server.server_port}/")
        _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#products img"), 30)
        browser.find_element(By.CSS_SELECTOR, "#products label").click()
        browser.find_element(By.ID, "shopper").send_keys(str(shopper))
        browser.find_element(By.ID, "go").click()
        loaded = ("return [...document.querySelectorAll('#result, #steps img')].filter("
                  "i => i.complete && i.naturalWidth === 22).length")
        _wait(browser, lambda d: d.execute_script(loaded) == 3, 60)
        captions = [f.text for f in browser.find_elements(By.CSS_SELECTOR, "#steps figcaption")]
        assert captions == ["step 1", "step 2 (final)"]
        assert not browser.find_element(By.ID, "parse-figure").is_displayed()
        assert browser.find_element(By.ID, "steps-section").is_displayed()
        assert browser.find_element(By.ID, "error").text == ""
        if ARTIFACTS:
            os.makedirs(ARTIFACTS, exist_ok=True)
            browser.save_screenshot(os.path.join(ARTIFACTS, "websvc_dptn_step.png"))
    finally:
        server.shutdown()
