"""Fast prediction: top-3, "not sure" and "not a digit", batches, folders and whole numbers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnistlab import decision, deploy, images, inference, store

keras = pytest.importorskip("keras")  # the course always has Keras; this only keeps the import local


def fixed_model(probabilities) -> keras.Model:
    """A model that answers ``probabilities`` whatever the image (zero weights, bias = log p)."""
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.add(keras.layers.Softmax())
    model.layers[1].set_weights([np.zeros((784, 10), np.float32), np.log(np.asarray(probabilities, np.float32))])
    return model


def digit_image(size: int = 200, shape: str = "seven") -> np.ndarray:
    image = Image.new("L", (size, size), 245)
    draw = ImageDraw.Draw(image)
    if shape == "seven":
        draw.line([(50, 30), (150, 30), (90, 170)], fill=20, width=18)
    else:
        draw.ellipse([(60, 25), (140, 175)], outline=20, width=18)
    return np.asarray(image)


CONFIDENT_SEVEN = [0.01] * 7 + [0.9] + [0.01] * 2  # sums to 0.99: softmax renormalises
UNSURE = [0.3, 0.25, 0.2, 0.05, 0.05, 0.05, 0.04, 0.03, 0.02, 0.01]


@pytest.fixture(scope="module")
def confident():
    return inference.Predictor(fixed_model(CONFIDENT_SEVEN))


def test_top3_and_confidence(confident):
    result = confident.predict(digit_image(), name="seven.png")
    assert result.status == "ok" and result.is_digit
    assert result.digit == 7
    assert result.confidence == pytest.approx(0.9 / 0.99, abs=1e-4)
    assert [d for d, _ in result.top3][0] == 7 and len(result.top3) == 3
    assert result.top3[0][1] >= result.top3[1][1] >= result.top3[2][1]
    assert result.image.shape == (28, 28, 1)
    assert result.summary().startswith("seven.png: 7 (90.9%)  top-3 7 90.9%")


def test_low_confidence_is_reported_as_unsure():
    result = inference.Predictor(fixed_model(UNSURE)).predict(digit_image(), name="scribble.png")
    assert result.status == "unsure" and result.digit is None and not result.is_digit
    assert [d for d, _ in result.top3] == [0, 1, 2]
    assert "not sure" in result.summary() and "best guess 0" in result.message


def test_blank_image_is_not_a_digit(confident):
    result = confident.predict(np.full((300, 300), 240, np.uint8), name="blank.png")
    assert result.status == "not-a-digit" and result.digit is None
    assert "blank.png" in result.message and "blank" in result.message


def test_blob_unlike_a_digit_is_not_a_digit(confident):
    filled = np.zeros((28, 28, 1), np.float32)
    filled[4:24, 4:24] = 1.0  # a solid square: covers half the field, no digit does that
    result = confident.predict_prepared(filled, "square")
    assert result.status == "not-a-digit" and "cover" in result.message


def test_probabilities_accept_one_image_or_a_batch(confident):
    one = images.prepare_image(digit_image())
    assert confident.probabilities(one).shape == (1, 10)
    assert confident.probabilities(np.stack([one, one, one])).shape == (3, 10)
    assert confident.probabilities(one[..., 0]).shape == (1, 10)
    with pytest.raises(ValueError, match=r"expected prepared images of shape \(N, 28, 28, 1\)"):
        confident.probabilities(np.zeros((2, 32, 32, 1)))


def test_compiled_call_matches_keras_predict():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    batch = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(inference.Predictor(model).probabilities(batch), model.predict(batch, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_predict_folder_goes_on_after_bad_files(confident, tmp_path):
    Image.fromarray(digit_image()).save(tmp_path / "a_good.png")
    (tmp_path / "b_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    Image.new("L", (100, 100), 250).save(tmp_path / "c_blank.jpg")
    (tmp_path / "d_empty.gif").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image, not even looked at")
    results = confident.predict_folder(tmp_path)
    assert [r.name.split("/")[-1] for r in results] == ["a_good.png", "b_broken.png", "c_blank.jpg", "d_empty.gif"]
    assert [r.status for r in results] == ["ok", "error", "not-a-digit", "error"]
    assert "b_broken.png" in results[1].message and "empty" in results[3].message
    table = inference.predictions_table(results)
    assert list(table["status"]) == ["ok", "error", "not-a-digit", "error"]
    with pytest.raises(FileNotFoundError, match="No folder at"):
        confident.predict_folder(tmp_path / "missing")


def test_predict_raises_a_clear_error_for_unreadable_input(confident, tmp_path):
    with pytest.raises(images.ImageError, match=r"gone\.png: no such file"):
        confident.predict(tmp_path / "gone.png")


def test_read_number_gives_one_prediction_per_digit(confident):
    strip = np.full((200, 440), 245, np.uint8)
    strip[:, 20:220] = digit_image(shape="seven")
    strip[:, 220:420] = digit_image(shape="zero")
    reading = confident.read_number(strip, name="70.png")
    assert len(reading.digits) == 2
    assert reading.text == "77"  # the fixed model always answers 7
    assert reading.confidence == pytest.approx((0.9 / 0.99) ** 2, abs=1e-3)
    assert reading.digits[1].name == "70.png digit 2"


def test_a_rule_calibrates_what_predictions_show_but_not_the_raw_probabilities():
    sharp = decision.DecisionRule(temperature=0.5, threshold=0.99, calibrated=True)
    predictor = inference.Predictor(fixed_model(CONFIDENT_SEVEN), rule=sharp)
    prepared = images.prepare_image(digit_image())
    raw = predictor.probabilities(prepared)[0]
    assert raw[7] == pytest.approx(0.9 / 0.99, abs=1e-4)  # the model's own softmax, untouched
    calibrated = predictor.calibrated_probabilities(prepared)[0]
    assert calibrated[7] == pytest.approx(0.9**2 / (0.9**2 + 9 * 0.01**2), abs=1e-4)  # softmax(log p / 0.5)
    result = predictor.predict_prepared(prepared, "seven")
    assert result.status == "ok" and result.confidence == pytest.approx(calibrated[7], abs=1e-6)
    assert result.open_set_score == pytest.approx(calibrated[7], abs=1e-6) and result.top3[0][1] == result.confidence
    assert inference.Predictor(fixed_model(CONFIDENT_SEVEN)).rule == decision.DecisionRule.uncalibrated()


def test_no_digit_fits_is_not_a_digit_with_the_reason():
    spread = [0.14, 0.13, 0.12, 0.11, 0.1, 0.1, 0.09, 0.08, 0.07, 0.06]
    rule = decision.DecisionRule(temperature=1.0, threshold=0.7, calibrated=True)
    result = inference.Predictor(fixed_model(spread), rule=rule).predict(digit_image(), name="star.png")
    assert result.status == "not-a-digit" and result.digit is None and result.top3[0][0] == 0
    assert "a letter, a symbol or a drawing, not a digit" in result.message
    assert result.summary().startswith("star.png: not a digit: this looks like")


def test_without_a_model_the_default_models_rule_is_used(course_home, monkeypatch):
    path = store.default_model_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"the default model file")
    rule = decision.DecisionRule(temperature=0.45, threshold=0.8, calibrated=True, fitted_on="test")
    decision.save_rule(rule, path)
    monkeypatch.setattr(inference, "load_default_model", lambda: fixed_model(CONFIDENT_SEVEN))
    assert inference.Predictor().rule == rule
    assert inference.default_rule() == rule


def test_read_number_skips_pieces_that_are_not_digits():
    from deploy_models import rows_predictor

    one, nine = np.eye(10)[1] * 0.98 + 0.002, np.eye(10)[9] * 0.98 + 0.002
    four_or_nine = np.full(10, 0.0025)
    four_or_nine[[4, 9]] = [0.6, 0.38]
    rule = decision.DecisionRule(temperature=1.0, threshold=0.8, calibrated=True)
    predictor = rows_predictor([one, np.full(10, 0.1), four_or_nine, nine], rule)
    strip = np.full((200, 880), 245, np.uint8)
    for i in range(4):
        strip[:, 20 + 215 * i:220 + 215 * i] = digit_image(shape="seven" if i % 2 else "zero")
    reading = predictor.read_number(strip, name="strip")
    assert [p.status for p in reading.digits] == ["ok", "not-a-digit", "unsure", "ok"]
    assert reading.text == "1?9" and [p.name for p in reading.skipped] == ["strip digit 2"]
    assert reading.confidence == pytest.approx(np.prod([p.confidence for p in reading.kept]))
    assert reading.skipped_note().startswith("skipped 1 piece that is not a digit: piece 2 (this looks like")


def test_a_rule_fitted_on_the_predictors_batched_probabilities(mnist_small):
    (x_train, y_train), _ = mnist_small
    predictor = inference.Predictor(fixed_model(CONFIDENT_SEVEN))
    probabilities = deploy.predict_probabilities(predictor, x_train[:50, ..., None] / 255.0, batch_size=16)
    rule = decision.fit_rule(probabilities, y_train[:50])
    assert rule.calibrated and rule.fitted_on == "MNIST validation split, 50 digits"
    calibrated = decision.calibrated_probabilities(predictor.probabilities(x_train[:1, ..., None] / 255.0), rule)
    assert rule.threshold == pytest.approx(decision.open_set_score(calibrated, rule.score)[0], rel=1e-6)  # one row


def test_load_model_errors(tmp_path):
    from mnistlab.store import ModelFileError

    with pytest.raises(ModelFileError, match="No saved model at .*none.keras"):
        inference.load_model(tmp_path / "none.keras")
    bad = tmp_path / "bad.keras"
    bad.write_text("not a model")
    with pytest.raises(ModelFileError, match="bad.keras is not a Keras 3 model file"):
        inference.load_model(bad)


def test_upload_widget_builds_headless_and_handles_bytes(confident):
    from mnistlab import widgets

    box = widgets.UploadPredictor(confident)
    assert box.widget.children[0].children[0] is box.upload
    data = io.BytesIO()
    Image.fromarray(digit_image()).save(data, format="PNG")
    result = box.handle("mine.png", data.getvalue())
    assert result.digit == 7 and "mine.png: 7" in box.status.value
    message = box.handle("junk.png", b"definitely not an image")
    assert "junk.png: not an image file" in message and "junk.png" in box.status.value


def test_prediction_plots(confident):
    import matplotlib

    matplotlib.use("Agg")
    from mnistlab.plots import plot_confidence_bars, plot_image_predictions

    result = confident.predict(digit_image(), name="seven.png")
    fig = plot_confidence_bars(confident.probabilities(result.image)[0], result.image)
    assert fig.axes[-1].get_title().startswith("7 (")
    blank = confident.predict(np.full((50, 50), 250, np.uint8), name="blank")
    grid = plot_image_predictions([result, blank])
    assert len([ax for ax in grid.axes if ax.get_title()]) == 1  # the blank has no prepared image to show
    with pytest.raises(ValueError, match="expected 10 probabilities"):
        plot_confidence_bars(np.ones(3))
