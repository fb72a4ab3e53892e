"""TFLite export (float32 and full int8) and the LiteRT predictor that runs it like ``Predictor``."""

from __future__ import annotations

import numpy as np
import pytest
from deploy_models import tiny_cnn
from PIL import Image, ImageDraw

from mnistlab import decision, deploy, inference, store

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def model(tiny_split):
    return tiny_cnn(tiny_split)


@pytest.fixture(scope="module")
def float_file(model, tmp_path_factory):
    return deploy.export_tflite(model, tmp_path_factory.mktemp("float") / "tiny-float32.tflite")


@pytest.fixture(scope="module")
def int8_file(model, tiny_split, tmp_path_factory):
    return deploy.export_tflite(model, tmp_path_factory.mktemp("int8") / "tiny-int8.tflite", int8=True,
                                representative=tiny_split.x_val)


def drawn_digits() -> Image.Image:
    """A "1" and a "7" side by side, dark ink on light paper."""
    image = Image.new("L", (420, 220), 240)
    draw = ImageDraw.Draw(image)
    draw.line([(100, 30), (100, 190)], fill=15, width=16)
    draw.line([(230, 40), (350, 40), (280, 190)], fill=15, width=16)
    return image


def test_file_names_say_what_they_hold(tmp_path):
    assert deploy.tflite_path(tmp_path / "cnn.keras", int8=True) == tmp_path / "cnn-int8.tflite"
    assert deploy.tflite_path(tmp_path / "cnn.keras", int8=False) == tmp_path / "cnn-float32.tflite"


def test_float32_export_gives_the_keras_probabilities(model, float_file, tiny_split):
    lite = deploy.LiteRTPredictor(float_file)
    assert lite.input_dtype == np.float32
    images = tiny_split.x_test[:50]
    np.testing.assert_allclose(lite.probabilities(images), model(images, training=False), atol=1e-5)


def test_int8_export_is_uint8_in_and_out_smaller_and_agrees(model, float_file, int8_file, tiny_split):
    lite = deploy.LiteRTPredictor(int8_file)
    assert lite.input_dtype == np.uint8
    assert int8_file.stat().st_size < 0.5 * float_file.stat().st_size
    probabilities = lite.probabilities(tiny_split.x_test)
    assert probabilities.dtype == np.float32 and probabilities.shape == (len(tiny_split.x_test), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.05)  # uint8 steps of 1/256
    keras_labels = np.argmax(model.predict(tiny_split.x_test, verbose=0), axis=1)
    agreement = (probabilities.argmax(axis=1) == keras_labels).mean()
    assert agreement >= 0.9, f"int8 model agrees with Keras on only {agreement:.0%} of the test digits"


def test_litert_predictor_answers_like_predictor(model, float_file):
    keras_predictor, lite = inference.Predictor(model), deploy.LiteRTPredictor(float_file)
    picture = np.asarray(drawn_digits().crop((180, 0, 420, 220)))
    expected, got = keras_predictor.predict(picture, name="seven"), lite.predict(picture, name="seven")
    assert (got.digit, got.status) == (expected.digit, expected.status)
    assert [d for d, _ in got.top3] == [d for d, _ in expected.top3]
    assert got.confidence == pytest.approx(expected.confidence, abs=1e-4)
    number, expected_number = lite.read_number(drawn_digits()), keras_predictor.read_number(drawn_digits())
    assert len(number.digits) == 2 and number.text == expected_number.text  # two digits: batch resized
    blank = lite.predict(np.full((100, 100), 250, np.uint8), name="blank")
    assert blank.status == "not-a-digit"


def test_litert_predictor_also_runs_from_bytes(float_file, tiny_split):
    from_bytes = deploy.LiteRTPredictor(float_file.read_bytes())
    np.testing.assert_allclose(from_bytes.probabilities(tiny_split.x_test[0]),
                               deploy.LiteRTPredictor(float_file).probabilities(tiny_split.x_test[:1]), atol=1e-6)


def test_quantised_weights_stand_for_the_keras_kernels(model, int8_file):
    tensors = deploy.quantised_weights(int8_file)
    dense = tensors[0]  # the largest: the Dense kernel, stored (out, in) in TFLite
    kernel = model.layers[-1].get_weights()[0].T
    assert dense.values.dtype == np.int8 and dense.values.shape == kernel.shape
    assert dense.scales.shape == (10,)
    error = np.abs(dense.dequantised() - kernel)
    assert np.all(error <= dense.scales[:, np.newaxis] / 2 + 1e-6)  # rounding to the nearest step


def test_bad_model_files_get_clear_errors(tmp_path, model):
    with pytest.raises(deploy.ExportError, match="python -m mnistlab export"):
        deploy.LiteRTPredictor(tmp_path / "missing.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer at all")
    with pytest.raises(deploy.ExportError, match="not a usable TFLite model"):
        deploy.LiteRTPredictor(junk)
    with pytest.raises(deploy.ExportError, match="must end in .tflite"):
        deploy.export_tflite(model, tmp_path / "model.keras")
    wrong = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(deploy.ExportError, match=r"\(None, 28, 28, 1\)"):
        deploy.convert(wrong)
    with pytest.raises(deploy.ExportError, match="representative images"):
        deploy.convert(model, int8=True, representative=np.zeros((0, 28, 28, 1), np.float32))


def test_load_predictor_picks_the_runtime_from_the_file(tmp_path, model, float_file, course_home):
    assert isinstance(deploy.load_predictor(float_file), deploy.LiteRTPredictor)
    keras_file = store.save_deployable(model, tmp_path / "tiny.keras")
    loaded = deploy.load_predictor(keras_file)
    assert type(loaded) is inference.Predictor
    with pytest.raises(store.ModelFileError, match="python -m mnistlab --fast train"):
        deploy.load_predictor()  # the course folder is empty: no default model, and no silent training


def test_measuring_helpers(float_file, tiny_split):
    lite = deploy.LiteRTPredictor(float_file)
    labels = deploy.predict_labels(lite, tiny_split.x_test, batch_size=64)
    np.testing.assert_array_equal(labels, lite.probabilities(tiny_split.x_test).argmax(axis=1))
    timings = deploy.time_calls(lite.probabilities, tiny_split.x_test[:5])
    assert timings.shape == (5,) and np.all(timings >= 0)


def test_int8_export_check(int8_file, float_file, model, tiny_split, tmp_path, capsys):
    from mnistlab.exercises.deployment_checks import check_int8_export

    images, labels = tiny_split.x_test, tiny_split.y_test
    reference = float((deploy.predict_labels(deploy.LiteRTPredictor(float_file), images) == labels).mean())
    assert check_int8_export(int8_file, images, labels, reference, "ex") is True
    assert "✅ ex" in capsys.readouterr().out
    assert check_int8_export(..., images, labels, reference, "ex") is False
    assert "not done yet" in capsys.readouterr().out
    assert check_int8_export(float_file, images, labels, reference, "ex") is False
    assert "pass int8=True" in capsys.readouterr().out
    assert check_int8_export(tmp_path / "nothing.tflite", images, labels, reference, "ex") is False
    assert "is not a file" in capsys.readouterr().out
    unscaled = deploy.export_tflite(model, tmp_path / "unscaled.tflite", int8=True,
                                    representative=tiny_split.x_val * 255)  # the classic mistake
    assert check_int8_export(unscaled, images, labels, reference, "ex") is False
    assert "scaled to [0, 1]" in capsys.readouterr().out


def test_int8_export_check_refuses_the_default_calibration(int8_file, model, tiny_split, tmp_path, capsys):
    from mnistlab.exercises.deployment_checks import check_int8_export

    images, labels = tiny_split.x_test, tiny_split.y_test
    again = deploy.export_tflite(model, tmp_path / "again.tflite", int8=True, representative=tiny_split.x_val)
    # Same model, same calibration digits: the same bytes, so it is the file section 2 exported
    assert check_int8_export(again, images, labels, 0.0, "ex", default_export=int8_file) is False
    assert "not one calibrated on your digits" in capsys.readouterr().out
    own = deploy.export_tflite(model, tmp_path / "own.tflite", int8=True, representative=tiny_split.x_val[:40])
    assert check_int8_export(own, images, labels, 0.0, "ex", default_export=int8_file) is True


def test_conversion_keeps_the_converters_native_log_off_the_screen(model, tmp_path, capfd):
    capfd.readouterr()
    deploy.export_tflite(model, tmp_path / "quiet.tflite")
    out, err = capfd.readouterr()
    assert "SavedModel" not in err and "W0000" not in err and "SavedModel" not in out


def test_quantisation_table_reads_dtypes_scales_and_zero_points(int8_file, float_file):
    table = deploy.quantisation_table(int8_file)
    by_role = table.groupby("role")
    model_input, model_output = by_role.get_group("input").iloc[0], by_role.get_group("output").iloc[0]
    assert (model_input["dtype"], model_input["zero point"]) == ("uint8", 0)
    assert model_input["scale"] == pytest.approx(1 / 255)
    assert (model_output["dtype"], model_output["zero point"]) == ("uint8", 0)
    assert model_output["scale"] == pytest.approx(1 / 256)
    conv = by_role.get_group("weights").query("shape.str.len() == 4").iloc[0]
    assert conv["dtype"] == "int8" and conv["scales"] == 8 and not conv["all zero points"].any()  # symmetric
    bias = by_role.get_group("bias").query("scales == 8").iloc[0]
    assert bias["dtype"] == "int32" and not bias["all zero points"].any()
    conv_input = table[table["shape"] == (1, 28, 28, 1)].query("dtype == 'int8'").iloc[0]  # after the quantize op
    np.testing.assert_allclose(bias["all scales"], conv_input["scale"] * conv["all scales"], rtol=1e-5)
    activations = by_role.get_group("activation")
    assert set(activations["dtype"]) == {"int8"} and (activations["zero point"] != 0).any()
    assert set(deploy.quantisation_table(float_file)["role"]) <= {"input", "output", "not quantised"}


def test_int8_export_check_looks_at_the_calibration_digits(int8_file, model, mnist_small, tiny_split, tmp_path,
                                                           capsys):
    from mnistlab.exercises.deployment_checks import check_int8_export

    (x_train, _), (x_test, _) = mnist_small
    images, labels = tiny_split.x_test, tiny_split.y_test

    def export(name, calibration):
        return deploy.export_tflite(model, tmp_path / name, int8=True, representative=calibration)

    def verdict(path, calibration):
        return check_int8_export(path, images, labels, 0.0, "ex", default_export=int8_file,
                                 calibration=calibration, model=model, test_digits=x_test)

    prepared = tiny_split.x_train[:50]  # training digits through data.to_cnn_input (float32)
    by_hand = x_train[300:350, ..., np.newaxis] / 255.0  # other training digits, scaled by hand (float64)
    assert verdict(export("prepared.tflite", prepared), prepared)
    assert verdict(export("by-hand.tflite", by_hand), by_hand)
    assert capsys.readouterr().out.count("calibrated on 50 training digits") == 2
    test_digits = tiny_split.x_test[:50]
    assert not verdict(export("on-test.tflite", test_digits), test_digits)
    assert "calibrated on test digits: 50 of your 50" in capsys.readouterr().out
    assert not verdict(export("other.tflite", tiny_split.x_val[:50]), prepared)  # exported from other digits
    assert "not the int8 export of the model calibrated on `calibration`" in capsys.readouterr().out
    assert not verdict(int8_file, x_train[:50, ..., np.newaxis].astype(np.float32))  # 0..255
    assert "pixels go up to 255" in capsys.readouterr().out
    assert not verdict(int8_file, ...)
    assert "not done yet" in capsys.readouterr().out


@pytest.fixture(scope="module")
def loose_rule(model, tiny_split):
    """A rule fitted on the tiny model's validation digits, accepting only 80 % of them (so it refuses some)."""
    probabilities = deploy.predict_probabilities(inference.Predictor(model), tiny_split.x_val)
    return decision.fit_rule(probabilities, tiny_split.y_val, accepted_fraction=0.8)


def statuses(predictor, images) -> list[str]:
    return [predictor.judge(image, row, "x").status for image, row in zip(images, predictor.probabilities(images),
                                                                          strict=True)]


def test_one_rule_gives_the_same_decisions_in_keras_and_litert(model, float_file, int8_file, loose_rule, tiny_split):
    images = tiny_split.x_test
    expected = statuses(inference.Predictor(model, rule=loose_rule), images)
    assert "ok" in expected and set(expected) - {"ok"}  # the rule refuses some: the comparison means something
    assert statuses(deploy.LiteRTPredictor(float_file, rule=loose_rule), images) == expected
    int8 = statuses(deploy.LiteRTPredictor(int8_file, rule=loose_rule), images)
    assert np.mean(np.array(int8) == np.array(expected)) >= 0.9
    assert deploy.LiteRTPredictor(float_file).rule == decision.DecisionRule.uncalibrated()


def test_judge_prepared_decides_in_batches_as_judge_does_one_by_one(model, loose_rule, tiny_split):
    predictor = inference.Predictor(model, rule=loose_rule)
    images = tiny_split.x_val[:40]
    judged = deploy.judge_prepared(predictor, images, batch_size=16)
    assert [p.status for p in judged] == statuses(predictor, images)
    assert "ok" in {p.status for p in judged} and len({p.status for p in judged}) > 1  # the loose rule refuses some


def test_export_stores_the_same_rule_for_the_tflite_file(model, loose_rule, tmp_path):
    path = deploy.export_tflite(model, tmp_path / "tiny.tflite", rule=loose_rule)
    sidecar = decision.rule_path(path)
    assert sidecar.name == "tiny.tflite.decision.json" and decision.load_rule(path) == loose_rule
    assert deploy.load_predictor(path).rule == loose_rule  # the loader reads the rule of that exact file
    deploy.export_tflite(model, path)  # replaced without a rule: the old file's rule goes with it
    assert not sidecar.exists() and deploy.load_predictor(path).rule == decision.DecisionRule.uncalibrated()
    keras_file = store.save_deployable(model, tmp_path / "tiny.keras")
    assert deploy.load_predictor(keras_file).rule == decision.DecisionRule.uncalibrated()
    decision.save_rule(loose_rule, keras_file)
    assert deploy.load_predictor(keras_file).rule == loose_rule
