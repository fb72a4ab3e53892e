"""The FastAPI application: the page, ``POST /api/predict``, ``POST /api/number`` and ``GET /healthz``."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from mnistlab import images
from mnistlab.inference import Predictor
from mnistlab.web import payloads
from mnistlab.web.limits import BodySizeLimit

STATIC_DIR = Path(__file__).parent / "static"
MAX_UPLOAD_BYTES = 10 * 2**20  # a phone photo is 2-8 MB; nothing a digit needs is bigger
WORKERS = 2  # images prepared at once; more requests wait their turn instead of piling up memory
# The page loads nothing from elsewhere (no CDN: it must work offline); the browser enforces that.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
                           "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'")
NO_IMAGE = ("No image received. Send the picture as the multipart form field 'file', or as the raw "
            "request body (e.g. curl --data-binary @digit.png).")
log = logging.getLogger("mnistlab.web")


class BadUpload(Exception):
    """A request that holds no usable image; answered with 400 and the message."""


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_upload(request: Request) -> tuple[bytes, str]:
    """The image bytes and a name for messages: multipart field ``file``, or else the raw body."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise BadUpload(NO_IMAGE)
            return await upload.read(), upload.filename or "uploaded file"
    data = await request.body()
    if not data:
        raise BadUpload(NO_IMAGE)
    return data, "uploaded image"


def create_app(predictor: Predictor, model_name: str = "model", max_upload_bytes: int = MAX_UPLOAD_BYTES,
               workers: int = WORKERS) -> FastAPI:
    """The web app around ``predictor`` (a Keras ``Predictor`` or a ``deploy.LiteRTPredictor``).

    Every answer goes through the library pipeline, so the page, the API, the CLI and the notebooks
    agree on the same file.
    """
    # The interactive API docs pages load their scripts from a CDN, which the course cannot rely on.
    app = FastAPI(title="mnistlab digit reader", docs_url=None, redoc_url=None)
    app.add_middleware(BodySizeLimit, max_bytes=max_upload_bytes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    limiter = anyio.CapacityLimiter(workers)
    runtime = "litert" if predictor.model is None else "keras"

    def predict_bytes(data: bytes, name: str, with_steps: bool) -> dict:
        if with_steps:
            prediction, steps = predictor.predict_with_steps(data, name=name)
            return payloads.prediction_json(prediction) | {"steps": payloads.steps_json(steps)}
        return payloads.prediction_json(predictor.predict(data, name=name))

    def read_number(data: bytes, name: str) -> dict:
        # The one place the web app reads multi-digit numbers.
        try:
            return payloads.number_json(predictor.read_number(data, name=name))
        except images.NoDigitError as error:  # a blank picture is an answer, not a bad request
            return payloads.no_number_json(str(error))

    @app.exception_handler(BadUpload)
    async def bad_upload(request: Request, error: BadUpload):
        return error_response(400, str(error))

    @app.exception_handler(images.ImageError)
    async def bad_image(request: Request, error: images.ImageError):
        return error_response(422, str(error))

    # Starlette's own refusals (a malformed multipart body, an unknown path, a wrong method) and FastAPI's
    # query-parameter errors would otherwise answer {"detail": ...}: every error of the API has one shape.
    @app.exception_handler(HTTPException)
    async def refused(request: Request, error: HTTPException):
        return error_response(error.status_code, f"{error.detail}. {NO_IMAGE}" if error.status_code == 400
                              else str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors())
        return error_response(422, f"Bad request parameter ({problems}). The README's API section lists them.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        log.exception("unexpected error while answering %s", request.url.path)
        return error_response(500, f"Internal error ({type(error).__name__}); the server keeps running. "
                                   f"Try another image, and report this if it happens again.")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC_DIR / "index.html", headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "model": model_name, "runtime": runtime,
                "max_upload_bytes": max_upload_bytes}

    @app.post("/api/predict")
    async def predict(request: Request, steps: bool = False):
        """The digit in one image: ``{"digit", "confidence", "top3", "status", "message", "open_set_score"}``
        (+ ``steps``); confidence and top-3 calibrated by the model's decision rule, ``message`` says why it is
        "unsure" or "not-a-digit"."""
        data, name = await read_upload(request)
        return await anyio.to_thread.run_sync(predict_bytes, data, name, steps, limiter=limiter)

    @app.post("/api/number")
    async def number(request: Request):
        """Several digits written in a row: ``{"number", "confidence", "status", "message", "digits"}``; pieces
        that are not digits are left out of ``number`` and named in ``message``."""
        data, name = await read_upload(request)
        return await anyio.to_thread.run_sync(read_number, data, name, limiter=limiter)

    return app
