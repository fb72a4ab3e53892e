"""Classical baselines: settings, features, the measured table, and the `baselines` command."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from mnistlab import baselines, cli, config, data


def test_make_baseline_builds_the_documented_models():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    assert isinstance(baselines.make_baseline("logistic_regression"), LogisticRegression)
    assert baselines.make_baseline("knn").n_neighbors == 3
    assert isinstance(baselines.make_baseline("knn"), KNeighborsClassifier)
    forest = baselines.make_baseline("random_forest", seed=7)
    assert isinstance(forest, RandomForestClassifier) and forest.n_estimators == 200 and forest.random_state == 7
    svm = baselines.make_baseline("rbf_svm")
    assert isinstance(svm, SVC) and svm.kernel == "rbf" and (svm.C, svm.gamma) == (5.0, 0.05)
    with pytest.raises(ValueError, match="Unknown baseline 'svm'.*rbf_svm"):
        baselines.make_baseline("svm")


def test_features_are_flat_pixels_scaled_to_unit_range():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[1, 0, 0] = 255
    features = baselines.to_features(images)
    assert features.shape == (2, 784) and features.dtype == np.float32
    assert features[1, 0] == 1.0 and features.sum() == 1.0


@pytest.mark.parametrize("name", list(baselines.BASELINES))
def test_each_baseline_learns_the_small_slice(mnist_small, name):
    (x_train, y_train), (x_test, y_test) = mnist_small
    model, result, _ = baselines.fit_and_score(name, x_train, y_train, x_test, y_test)
    assert result.model == baselines.BASELINES[name]
    assert (result.train_size, result.test_size) == (1_000, 200)
    assert result.accuracy > 0.7  # 1,000 digits are enough for every baseline to be far above chance (0.1)
    expected = np.mean(model.predict(baselines.to_features(x_test)) == y_test)
    assert result.accuracy == pytest.approx(expected)
    assert result.train_seconds >= 0 and result.predict_seconds >= 0
    assert result.size_bytes == baselines.model_size_bytes(model) > 0


def test_knn_size_grows_with_the_digits_it_stores(mnist_small):
    (x_train, y_train), (x_test, y_test) = mnist_small
    small, _, _ = baselines.fit_and_score("knn", x_train[:100], y_train[:100], x_test, y_test)
    large, _, _ = baselines.fit_and_score("knn", x_train, y_train, x_test, y_test)
    # k-NN keeps every training image: 900 more images of 784 float32 pixels
    growth = baselines.model_size_bytes(large) - baselines.model_size_bytes(small)
    assert growth >= 900 * 784 * 4


def test_mismatched_images_and_labels_are_refused(mnist_small):
    (x_train, y_train), (x_test, y_test) = mnist_small
    with pytest.raises(ValueError, match="differ in length"):
        baselines.fit_and_score("knn", x_train, y_train[:10], x_test, y_test)


def test_train_sizes_cap_only_the_svm():
    full = baselines.train_sizes(config.FULL)
    assert full == {"logistic_regression": None, "knn": None, "random_forest": None,
                    "rbf_svm": config.FULL.svm_train_size}
    assert full["rbf_svm"] is not None  # the full-mode SVM must be bounded
    assert set(baselines.train_sizes(config.FAST).values()) == {config.FAST.baseline_train_size}
    loose_cap = dataclasses.replace(config.FAST, svm_train_size=10 * config.FAST.baseline_train_size)
    assert baselines.train_sizes(loose_cap)["rbf_svm"] == config.FAST.baseline_train_size


def test_run_baselines_returns_the_table(mnist_small):
    tiny = dataclasses.replace(config.FAST, baseline_train_size=300, svm_train_size=200)
    table = baselines.run_baselines(["knn", "rbf_svm"], budget=tiny, arrays=mnist_small, test_size=100)
    assert list(table.columns) == baselines.COLUMNS
    assert table["model"].tolist() == [baselines.BASELINES["knn"], baselines.BASELINES["rbf_svm"]]
    assert table["train_size"].tolist() == [300, 200]
    assert table["test_size"].tolist() == [100, 100]
    assert table["accuracy"].between(0.5, 1).all()
    text = baselines.format_table(table)
    assert "k-nearest neighbours (k=3)" in text and "accuracy %" in text
    assert f"{100 * table['accuracy'].iloc[0]:.2f}" in text
    with pytest.raises(ValueError, match="Unknown baseline"):
        baselines.run_baselines(["knn", "cnn"], arrays=mnist_small)


def test_command_choices_match_the_baselines():
    from mnistlab.commands import baselines as command

    assert tuple(command.NAMES) == tuple(baselines.BASELINES)


def test_baselines_command_prints_the_table(capsys):
    code = cli.main(["baselines", "--fast", "--only", "knn", "rbf_svm", "--test-size", "200"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Mode: fast" in out
    table_start = out.index("train digits")  # the header of the final table
    rows = out[table_start:].splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["k-nearest", "RBF"]
    assert all(f"{config.FAST.baseline_train_size:,}" in row and " 200 " in row for row in rows)


def test_baselines_command_rejects_bad_options(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["baselines", "--only", "cnn"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'cnn'" in capsys.readouterr().err
    assert cli.main(["baselines", "--test-size", "5"]) == 2
    assert "--test-size 5" in capsys.readouterr().err


def test_baselines_command_can_save_csv(tmp_path):
    path = tmp_path / "table.csv"
    assert cli.main(["baselines", "--fast", "--only", "knn", "--test-size", "100", "--csv", str(path)]) == 0
    saved = pd.read_csv(path)
    assert saved["model"].tolist() == [baselines.BASELINES["knn"]]


def test_run_baselines_hands_back_the_predictions_and_the_table_prints_a_wilson_interval(mnist_small):
    tiny = dataclasses.replace(config.FAST, baseline_train_size=300, svm_train_size=200)
    predictions = {}
    table = baselines.run_baselines(["knn"], budget=tiny, arrays=mnist_small, test_size=100, predictions=predictions)
    (_, _), (x_test, y_test) = mnist_small
    _, y_used = data.stratified_subset(x_test, y_test, 100, seed=config.SEED)
    assert list(predictions) == [baselines.BASELINES["knn"]]
    predicted = predictions[baselines.BASELINES["knn"]]
    assert np.mean(predicted == y_used) == pytest.approx(table["accuracy"].iloc[0])
    assert baselines.accuracy_ci_text(0.996, 10_000) == "99.46–99.71"
    assert "95 % CI" in baselines.format_table(table)
