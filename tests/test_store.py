"""The model store: deployable saving, loading with one error type, file names, histories, the training lock."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from mnistlab import architectures, config, errors, models, store, training


@pytest.fixture(scope="module")
def fitted_dense(tiny_split):
    """A compiled dense network after one short fit: it holds optimizer state a deployable copy must drop."""
    config.set_seed()
    model = training.compile_model(models.build_dense())
    model.fit(tiny_split.x_train[:64], tiny_split.y_train[:64], epochs=1, batch_size=32, verbose=0)
    return model


def test_deployable_copy_has_no_optimizer_and_predicts_the_same(fitted_dense, tiny_split, tmp_path):
    path = store.save_deployable(fitted_dense, tmp_path / "model.keras")
    with zipfile.ZipFile(path) as archive:
        import h5py

        with archive.open("model.weights.h5") as handle, h5py.File(handle) as weights:
            assert "optimizer" not in weights
    assert store.file_size_mb(path) < 1.0
    reloaded = store.load_model(path)
    np.testing.assert_allclose(
        reloaded.predict(tiny_split.x_test, verbose=0), fitted_dense.predict(tiny_split.x_test, verbose=0), atol=1e-6
    )


def test_save_requires_keras_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.keras"):
        store.save_deployable(models.build_dense(), tmp_path / "model.h5")


def test_every_load_failure_is_one_error_type_that_names_the_file(tmp_path):
    with pytest.raises(store.ModelFileError, match="No saved model at .*missing.keras.*python -m mnistlab train"):
        store.load_model(tmp_path / "missing.keras")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(store.ModelFileError, match="broken.keras.*not a Keras 3 model file"):
        store.load_model(broken)
    empty_zip = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("nothing.txt", "x")
    with pytest.raises(store.ModelFileError, match="Could not load the model in .*empty.keras"):
        store.load_model(empty_zip)
    assert issubclass(store.ModelFileError, errors.MnistlabError)


def test_a_missing_default_model_names_the_command_of_its_mode(course_home, monkeypatch):
    with pytest.raises(store.ModelFileError, match=r"run `python -m mnistlab --fast train`"):
        store.load_model(store.default_model_path())
    monkeypatch.setenv(config.FAST_ENV, "0")
    with pytest.raises(store.ModelFileError, match=r"run `python -m mnistlab train`"):
        store.load_model(store.default_model_path())


def test_default_model_path_depends_on_mode_version_and_registry(course_home, monkeypatch):
    fast = store.default_model_path()
    assert fast.parent == course_home / "models"
    assert fast.name == f"default_cnn-{architectures.default().version}-fast-30k-3ep.keras"
    assert store.default_model_path(config.FULL).name == "default_cnn-v5-full-60k-12ep.keras"
    monkeypatch.setenv(config.FAST_ENV, "0")
    assert store.default_model_path() != fast
    # the default model is one edit of the registry: the store follows it
    monkeypatch.setattr(architectures, "DEFAULT_MODEL", "small_cnn")
    assert store.default_model_path(config.FAST).name == "small_cnn-v1-fast-30k-3ep.keras"


def test_histories_and_training_state_live_beside_the_model(course_home):
    out = course_home / "models" / "m.keras"
    checkpoint, backup = store.training_state_paths(out)
    assert checkpoint == course_home / "models" / "checkpoints" / "m.weights.h5"
    assert backup == course_home / "models" / "checkpoints" / "m-backup"
    assert store.history_path(out) == course_home / "models" / "m-history.csv"
    assert store.load_model_history(out) is None and store.load_default_history() is None


def test_model_lock_waits_for_the_other_process(tmp_path):
    from filelock import FileLock

    path = tmp_path / "m.keras"
    with store.model_lock(path):
        other = FileLock(path.with_name(path.name + ".lock"))
        with pytest.raises(Exception):  # noqa: B017 - filelock's Timeout
            other.acquire(timeout=0.05)
    other.acquire(timeout=0.05)
    other.release()
