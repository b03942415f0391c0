"""The shopper web service as a Flask (WSGI) application: a page, a catalogue view and a
JSON API over :class:`tfposegen.serving.shopper.ShopperPipeline`.

Routes (JSON errors are ``{"error": message}`` with a 4xx / 5xx status; no traceback is
ever sent):

=====================================  ============================================================
``GET /``                              the page (``static/index.html``)
``GET /healthz``                       ``{"status": "ok", "frame": [H, W] (the result's size),
                                       "signature", "steps", "queue": {...}}``
``GET /api/catalog``                   ``{"products": [{"id", "name", "url"}]}``
``GET /catalog/<id>.png``              a product photo
``POST /api/jobs``                     multipart ``shopper`` file and ``product`` file or
                                       ``product_id`` -> 202 ``{"job": id}``; optionally
                                       ``style_product`` file or ``style_product_id`` and
                                       ``mix_from`` (style mixing, below)
``POST /api/catalog_jobs``             multipart ``shopper`` -> 202 ``{"jobs": [{"product_id",
                                       "job"}]}``: every product in the shopper's pose
``GET /api/jobs/<job>``                ``{"state", "position", "error"?, "result"?: {panel: url},
                                       "steps"?: [url]}``
``GET /results/<job>/<panel>.png``     panels ``result``, ``product_pose``, ``shopper_pose``,
                                       ``parse`` (ADGAN), ``step_1`` .. ``step_S`` (DPTN_step)
``POST /api/pose_transfer``            as ``/api/jobs`` but waits: the PNG, or with
                                       ``?format=json`` ``{"image": base64 PNG, "width",
                                       "height", "steps"?: [base64 PNG]}``
=====================================  ============================================================

``steps`` (DPTN_step's coarse-to-fine images, step 1 first) is there when the model gives
them. Style mixing (DPTN_step exports; ``/healthz`` says ``"style_mixing": true``): with a
second product, steps 1 .. ``mix_from`` - 1 draw the first product and steps ``mix_from`` ..
S the second (``mix_from`` 1 .. S + 1, default 2: the coarsest step from the first).
``parse`` is there only when the model uses the product's parse. A full queue answers 503 with
``Retry-After``; a request body over ``max_request_bytes`` is refused with 413 from its
``Content-Length`` before it is read.
"""

import base64
import os
import sys

from flask import Flask, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from tfposegen.serving.jobs import JobQueue, QueueFull
from tfposegen.serving.shopper import parse_picture
from tfposegen.serving.uploads import MAX_BYTES, PhotoError, png_bytes, read_photo

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


class Catalog:
    """The shop's products: ``items``, a list of (name, uint8 [H, W, 3] photo), ids are
    positions; ``png``, their PNG bytes. Each product's analysis (keypoints, parse) is made
    once, on first use (by the worker thread)."""

    def __init__(self, items):
        self.items = list(items)
        self.png = [png_bytes(image) for _, image in self.items]
        self._analysed = {}

    @classmethod
    def from_folder(cls, folder):
        """Every JPEG / PNG of ``folder`` (sorted by name) that decodes as a photo; others
        are skipped with a message on stderr."""
        items = []
        for name in sorted(os.listdir(folder)):
            if os.path.splitext(name)[1].lower() not in (".jpg", ".jpeg", ".png"):
                continue
            with open(os.path.join(folder, name), "rb") as f:
                try:
                    items.append((os.path.splitext(name)[0], read_photo(f.read(), name)))
                except PhotoError as e:
                    print(f"catalog: skipped {os.path.join(folder, name)}: {e}",
                          file=sys.stderr)
        return cls(items)

    def analysed(self, pipeline, index):
        if index not in self._analysed:
            self._analysed[index] = pipeline.analyse(self.items[index][1],
                                                     "the product photo", with_parse=True)
        return self._analysed[index]


def _render(pipeline, catalog, product, shopper_photo, style=None, mix_from=None):
    """Worker-thread job: the result and its panels as PNG bytes ({panel: bytes}, the
    step images as ``step_1`` .. ``step_S`` in order). ``product`` and ``style`` (None: no
    style mixing) are catalogue indices or photos."""
    def person(item, what):
        if isinstance(item, int):
            return catalog.analysed(pipeline, item)
        return pipeline.analyse(item, what, with_parse=True)

    product = person(product, "the product photo")
    if style is not None:
        style = person(style, "the style product photo")
    shopper = pipeline.analyse(shopper_photo, "your photo", with_parse=False)
    image, steps = pipeline.render(product, shopper, with_steps=True, style=style,
                                   mix_from=mix_from)
    panels = {"result": png_bytes(image), "product_pose": png_bytes(product.pose_picture),
              "shopper_pose": png_bytes(shopper.pose_picture)}
    if product.parse is not None:
        panels["parse"] = png_bytes(parse_picture(product.parse))
    for k, step in enumerate(steps, 1):
        panels[f"step_{k}"] = png_bytes(step)
    return panels


def _step_panels(panels):
    """The ``step_k`` panel names of a result, in step order."""
    return [f"step_{k}" for k in range(1, len(panels) + 1) if f"step_{k}" in panels]


def _error(message, status, **headers):
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


def create_app(pipeline, catalog=None, max_queue=8, ttl=600.0, log=print):
    """The Flask app.

    Args:
        pipeline: a :class:`~tfposegen.serving.shopper.ShopperPipeline` (or any object with
            its ``analyse``, ``render``, ``height``, ``width``, ``steps`` and ``mixes``).
        catalog: a :class:`Catalog` (None: empty).
        max_queue: jobs that may wait; more get 503.
        ttl: seconds results are kept.
        log: callable(str) for unexpected errors.

    Returns:
        the ``flask.Flask`` app; ``app.config["JOBS"]`` is its :class:`JobQueue`,
        ``app.config["PIPELINE"]`` the pipeline.
    """
    catalog = catalog or Catalog([])
    jobs = JobQueue(max_queue, ttl, expected_errors=(PhotoError,), log=log)
    app = Flask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=2 * MAX_BYTES + 65536, JOBS=jobs, PIPELINE=pipeline)

    @app.errorhandler(PhotoError)
    def photo_error(e):
        return _error(str(e), e.status)

    @app.errorhandler(QueueFull)
    def queue_full(e):
        return _error(f"The service is busy. Please try again in {e.retry_after} seconds.",
                      503, **{"Retry-After": str(e.retry_after)})

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code == 413:
            return _error(f"The upload is too large (at most {MAX_BYTES // (1024 * 1024)} MB "
                          f"per photo).", 413)
        return _error(e.description or e.name, e.code)

    @app.errorhandler(Exception)
    def unexpected(e):
        log(f"request failed: {type(e).__name__}: {e}")
        return _error("Sorry, the service failed on this request.", 500)

    def photo_field(name, what):
        upload = request.files.get(name)
        return read_photo(upload.read(MAX_BYTES + 1) if upload else b"", what)

    def product_field(prefix="", what="the product photo"):
        if request.form.get(prefix + "product_id") not in (None, ""):
            value = request.form[prefix + "product_id"]
            if not value.isdigit() or int(value) >= len(catalog.items):
                raise PhotoError("That product is not in the catalogue.", 404)
            return int(value)
        return photo_field(prefix + "product", what)

    def style_fields():
        """(style product, mix_from) of a style-mixing request, else (None, None)."""
        if not (request.form.get("style_product_id") or request.files.get("style_product")):
            return None, None
        if not pipeline.mixes:
            raise PhotoError("This model cannot mix the styles of two products.", 400)
        value = request.form.get("mix_from", "2")
        if not value.isdigit() or not 1 <= int(value) <= pipeline.steps + 1:
            raise PhotoError(f"mix_from must be a whole number from 1 to "
                             f"{pipeline.steps + 1}.", 400)
        return product_field("style_", "the style product photo"), int(value)

    def submit():
        product = product_field()
        style, mix_from = style_fields()
        shopper = photo_field("shopper", "your photo")
        return jobs.submit(_render, pipeline, catalog, product, shopper, style, mix_from)

    def job_json(job):
        out = {"job": job.id, "state": job.state, "position": jobs.position(job)}
        if job.state == "error":
            out["error"], out["status"] = job.error
        elif job.state == "done":
            out["result"] = {p: f"/results/{job.id}/{p}.png" for p in job.result}
            steps = _step_panels(job.result)
            if steps:
                out["steps"] = [f"/results/{job.id}/{p}.png" for p in steps]
        return out

    @app.get("/")
    def index():
        return send_file(os.path.join(STATIC, "index.html"), mimetype="text/html")

    @app.get("/healthz")
    def health():
        return jsonify(status="ok", frame=[pipeline.height, pipeline.width],
                       signature=getattr(pipeline, "signature", None),
                       steps=pipeline.steps, style_mixing=pipeline.mixes,
                       products=len(catalog.items), queue=jobs.stats())

    @app.get("/api/catalog")
    def list_catalog():
        return jsonify(products=[{"id": i, "name": name, "url": f"/catalog/{i}.png"}
                                 for i, (name, _) in enumerate(catalog.items)])

    @app.get("/catalog/<int:index>.png")
    def catalog_photo(index):
        if index >= len(catalog.items):
            return _error("That product is not in the catalogue.", 404)
        return app.response_class(catalog.png[index], mimetype="image/png")

    @app.post("/api/jobs")
    def new_job():
        return jsonify(job=submit().id), 202

    @app.post("/api/catalog_jobs")
    def new_catalog_jobs():
        shopper = photo_field("shopper", "your photo")
        n = len(catalog.items)
        if not n:
            return _error("The catalogue is empty.", 404)
        made = jobs.submit_all(_render, [(pipeline, catalog, i, shopper) for i in range(n)])
        return jsonify(jobs=[{"product_id": i, "job": j.id} for i, j in enumerate(made)]), 202

    @app.get("/api/jobs/<job_id>")
    def job_status(job_id):
        job = jobs.get(job_id)
        if job is None:
            return _error("This result has expired or never existed.", 404)
        return jsonify(job_json(job))

    @app.get("/results/<job_id>/<panel>.png")
    def result_panel(job_id, panel):
        job = jobs.get(job_id)
        if job is None or job.state != "done" or panel not in job.result:
            return _error("This result has expired or never existed.", 404)
        return app.response_class(job.result[panel], mimetype="image/png")

    @app.post("/api/pose_transfer")
    def pose_transfer():
        job = submit()
        job.done.wait(timeout=300)
        if job.state == "error":
            message, status = job.error
            return _error(message, status)
        if job.state != "done":
            return _error("The request took too long.", 504)
        png = job.result["result"]
        if request.args.get("format") == "json":
            out = dict(image=base64.b64encode(png).decode("ascii"), height=pipeline.height,
                       width=pipeline.width, job=job.id)
            steps = _step_panels(job.result)
            if steps:
                out["steps"] = [base64.b64encode(job.result[p]).decode("ascii") for p in steps]
            return jsonify(out)
        return app.response_class(png, mimetype="image/png")

    return app
