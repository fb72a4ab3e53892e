"""The course's Keras networks measured like the baselines: same row, same meaning of every column."""

from __future__ import annotations

import numpy as np
import pytest

from mnistlab import baselines, keras_comparison, models


def test_every_course_architecture_has_a_table_label():
    assert set(keras_comparison.LABELS) == set(models.MODELS)


def test_keras_models_are_measured_the_same_way(mnist_small):
    (x_train, y_train), (x_test, y_test) = mnist_small
    model, result, _ = keras_comparison.fit_and_score(
        "dense", x_train, y_train, x_test, y_test, epochs=3, batch_size=32
    )
    assert result.model == keras_comparison.LABELS["dense"]
    assert result.train_size == 900  # 10 % of the 1,000 digits are held out for validation
    assert result.test_size == 200
    predicted = model.predict(x_test[..., None] / 255.0, verbose=0).argmax(axis=1)
    assert result.accuracy == pytest.approx(np.mean(predicted == y_test))
    assert result.accuracy > 0.5
    assert result.size_bytes > 4 * model.count_params()  # float32 weights plus the file's metadata
    assert list(vars(result)) == baselines.COLUMNS  # one table with the baselines' rows
