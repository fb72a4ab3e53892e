"""The web API with FastAPI's test client: answers equal the library's, bad input gets 4xx JSON, limits hold."""

from __future__ import annotations

import io

import numpy as np
import pytest
from deploy_models import rows_predictor, tiny_cnn
from PIL import Image
from test_images import zeroed_png

from mnistlab import config, decision, deploy, inference
from mnistlab.web.app import create_app

pytest.importorskip("httpx")  # the test client
from fastapi.testclient import TestClient  # noqa: E402

LIMIT = 300_000  # bytes; small so that the size-limit tests stay fast
SAMPLES = config.images_dir() / "samples"


@pytest.fixture(scope="module")
def predictor(tiny_split):
    return inference.Predictor(tiny_cnn(tiny_split))


@pytest.fixture(scope="module")
def client(predictor):
    with TestClient(create_app(predictor, model_name="tiny.keras", max_upload_bytes=LIMIT)) as client:
        yield client


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def expected_json(prediction: inference.Prediction) -> dict:
    return {"digit": prediction.digit, "status": prediction.status,
            "top3": [d for d, _ in prediction.top3], "confidence": pytest.approx(prediction.confidence, abs=1e-5)}


def answer(body: dict) -> dict:
    return {"digit": body["digit"], "status": body["status"], "top3": [t["digit"] for t in body["top3"]],
            "confidence": body["confidence"]}


def test_page_static_files_and_health(client):
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="draw-canvas"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]  # nothing from a CDN
    assert "http" not in page.text.replace("http://localhost", "")  # no external URL in the page
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    health = client.get("/healthz").json()
    assert health == {"status": "ok", "model": "tiny.keras", "runtime": "keras", "max_upload_bytes": LIMIT}


@pytest.mark.parametrize("name", ["scan_00.png", "photo_03.jpg", "paint_02.webp", "thin_01.gif"])
def test_upload_answers_equal_the_predictor(client, predictor, name):
    path = SAMPLES / name
    expected = expected_json(predictor.predict(path))
    with path.open("rb") as file:
        multipart = client.post("/api/predict", files={"file": (name, file, "application/octet-stream")})
    assert multipart.status_code == 200, multipart.text
    assert answer(multipart.json()) == expected
    raw = client.post("/api/predict", content=path.read_bytes(), headers={"content-type": "image/png"})
    assert raw.status_code == 200 and answer(raw.json()) == expected
    assert set(raw.json()) == {"digit", "confidence", "top3", "status", "message", "open_set_score"}
    assert raw.json()["open_set_score"] == pytest.approx(predictor.predict(path).open_set_score, abs=1e-5)


def test_steps_come_with_the_answer_when_asked(client):
    body = client.post("/api/predict?steps=true", content=(SAMPLES / "scan_00.png").read_bytes()).json()
    names = [step["name"] for step in body["steps"]]
    assert names[0] == "original" and names[-1] == "centred" and len(names) == 10
    assert all(step["image"].startswith("data:image/png;base64,") for step in body["steps"])


def test_number_answers_equal_the_predictor(client, predictor):
    path = SAMPLES / "number_00.jpg"
    expected = predictor.read_number(path)
    body = client.post("/api/number", files={"file": ("number.jpg", path.read_bytes())}).json()
    assert body["number"] == expected.text and len(body["digits"]) == len(expected.digits)
    assert body["confidence"] == pytest.approx(expected.confidence, abs=1e-5)


def test_blank_picture_is_an_answer_not_an_error(client):
    blank = png_bytes(Image.new("L", (200, 200), 250))
    single = client.post("/api/predict", content=blank)
    assert single.status_code == 200 and single.json()["status"] == "not-a-digit"
    assert single.json()["digit"] is None and single.json()["message"]
    number = client.post("/api/number", content=blank)
    assert number.status_code == 200 and number.json()["status"] == "not-a-digit"
    assert number.json()["number"] == "" and "blank" in number.json()["message"]


def test_not_a_digit_comes_with_its_reason_and_skipped_pieces_stay_out_of_the_number():
    spread, one = np.full(10, 0.1), np.eye(10)[1] * 0.98 + 0.002
    rule = decision.DecisionRule(temperature=1.0, threshold=0.8, calibrated=True)
    with TestClient(create_app(rows_predictor([spread], rule))) as client:
        single = client.post("/api/predict", content=(SAMPLES / "scan_00.png").read_bytes()).json()
    assert single["status"] == "not-a-digit" and single["digit"] is None
    assert "not a digit" in single["message"] and single["open_set_score"] == pytest.approx(0.1)
    with TestClient(create_app(rows_predictor([one, spread, one], rule))) as client:
        number = client.post("/api/number", content=(SAMPLES / "number_00.jpg").read_bytes()).json()
    assert len(number["digits"]) >= 3, "the sample number should have at least three pieces"
    assert number["number"] == "1" + "1" * (len(number["digits"]) - 2) and number["status"] == "ok"
    assert number["message"].startswith("skipped 1 piece that is not a digit: piece 2 (this looks like a letter")
    assert [d["status"] for d in number["digits"]][:2] == ["ok", "not-a-digit"]


def decompression_bomb() -> bytes:
    """A tiny PNG that would decode into 56 megapixels."""
    return png_bytes(Image.new("1", (8_000, 7_000), 1))


@pytest.mark.parametrize(("content", "problem"), [
    (b"just some text, certainly no picture", "not an image file"),
    (b"", "empty"),
    (png_bytes(Image.new("L", (64, 64), 200))[:60], "damaged"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not an image file"),
    (zeroed_png(recompute_checksum=False), "the PNG file is damaged"),  # Pillow alone decodes it, nearly black
    (zeroed_png(recompute_checksum=True), "the PNG file is damaged"),
])
def test_bad_uploads_get_the_pipelines_message(client, content, problem):
    response = client.post("/api/predict", files={"file": ("upload.png", content, "image/png")})
    assert response.status_code == 422
    assert problem in response.json()["error"] and "upload.png" in response.json()["error"]


def test_decompression_bomb_is_refused(client):
    bomb = decompression_bomb()
    assert len(bomb) < LIMIT
    response = client.post("/api/predict", content=bomb)
    assert response.status_code == 422 and "megapixels" in response.json()["error"]


def test_missing_image_is_a_bad_request(client):
    for response in (client.post("/api/predict"),
                     client.post("/api/predict", files={"picture": ("x.png", b"123")}),
                     client.post("/api/number", data={"file": "a text field"}, files={"other": ("x", b"1")})):
        assert response.status_code == 400 and "multipart form field 'file'" in response.json()["error"]


def test_uploads_over_the_limit_get_413(client):
    big = b"\x00" * (LIMIT + 1)
    declared = client.post("/api/predict", content=big)
    assert declared.status_code == 413 and "limit" in declared.json()["error"]
    as_form = client.post("/api/number", files={"file": ("big.png", big)})
    assert as_form.status_code == 413

    def chunks():  # no Content-Length: the limit must count the bytes as they arrive
        for _ in range(LIMIT // 50_000 + 2):
            yield b"\x00" * 50_000

    streamed = client.post("/api/predict", content=chunks())
    assert streamed.status_code == 413
    assert client.get("/healthz").status_code == 200  # and the server goes on


class BrokenPredictor(inference.Predictor):
    """Fails inside the model call, as a bug or an exhausted machine would."""

    def probabilities(self, batch):
        raise RuntimeError("simulated failure")


def test_an_unexpected_error_is_500_json_and_the_server_goes_on(predictor):
    broken = BrokenPredictor(predictor.model)
    with TestClient(create_app(broken), raise_server_exceptions=False) as client:
        response = client.post("/api/predict", content=(SAMPLES / "scan_00.png").read_bytes())
        assert response.status_code == 500 and "keeps running" in response.json()["error"]
        assert client.get("/healthz").status_code == 200


def test_the_api_serves_a_litert_model_too(predictor, tmp_path):
    lite = deploy.LiteRTPredictor(deploy.convert(predictor.model))
    path = SAMPLES / "scan_05.png"
    with TestClient(create_app(lite, model_name="tiny.tflite")) as client:
        assert client.get("/healthz").json()["runtime"] == "litert"
        body = client.post("/api/predict", content=path.read_bytes()).json()
    assert answer(body) == expected_json(lite.predict(path))
    assert np.isclose(body["confidence"], predictor.predict(path).confidence, atol=1e-4)


def test_every_refusal_has_the_apis_error_shape(client):
    broken = client.post(  # a multipart body whose boundary never comes
        "/api/predict", content=b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc",
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    unknown = client.get("/api/nothing-here")
    wrong_method = client.get("/api/predict")
    bad_flag = client.post("/api/predict?steps=maybe", content=b"123")
    for response, status in ((broken, 400), (unknown, 404), (wrong_method, 405), (bad_flag, 422)):
        assert response.status_code == status, response.text
        assert set(response.json()) == {"error"} and response.json()["error"], response.text
    assert "multipart form field 'file'" in broken.json()["error"]
    assert "steps" in bad_flag.json()["error"]
