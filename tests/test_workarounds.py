"""Workarounds for third-party packages, checked against the installed versions so none breaks or lingers silently.

Each workaround gets two tests: it still works (else the course breaks on that version), and it is still
needed (else it is dead code to delete). A failure names the package versions and what to do.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import io
import sys

import pytest
from PIL import Image

from mnistlab import images, tuning
from mnistlab.plots import architecture


def versions(*packages: str) -> str:
    return ", ".join(f"{name} {importlib.metadata.version(name)}" for name in packages)


# --------------------------------------------------------------------------- visualkeras reads layer.output_shape


@pytest.fixture(scope="module")
def small_model():
    import keras

    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                             keras.layers.Dense(10)])


def test_visualkeras_output_shape_patch_still_works(small_model):
    try:
        image = architecture.layered_view_image(small_model)
    except AttributeError as error:
        pytest.fail(
            f"With {versions('visualkeras', 'keras')}, layered_view fails even with the output_shape patch "
            f"(_keras2_output_shapes in mnistlab/plots/architecture.py): {error}. visualkeras now reads "
            f"something else from the layers: update the patch for this version."
        )
    assert image.size[0] > 50
    assert not any("output_shape" in vars(layer) for layer in small_model.layers), "the patch must not linger"


def test_visualkeras_output_shape_patch_is_still_needed(small_model):
    import visualkeras

    if any(hasattr(layer, "output_shape") for layer in small_model.layers):
        pytest.fail(
            f"With {versions('keras')}, Keras layers have output_shape again, so visualkeras needs no help: "
            f"delete _keras2_output_shapes from mnistlab/plots/architecture.py and this test."
        )
    try:
        visualkeras.layered_view(small_model, legend_text_spacing_offset=0)
    except AttributeError as error:
        assert "output_shape" in str(error), f"{versions('visualkeras')} failed for another reason: {error}"
    else:
        pytest.fail(
            f"{versions('visualkeras', 'keras')} draws Keras 3 models without the output_shape patch: delete "
            f"_keras2_output_shapes from mnistlab/plots/architecture.py (and this test), and raise the "
            f"visualkeras lower bound in pyproject.toml and environment.yml to this version."
        )


# --------------------------------------------------------------------------- Keras Tuner imports tensorboard


@pytest.fixture
def no_tensorboard(monkeypatch):
    """As if TensorBoard were not installed (the course does not need it), whether or not it is."""
    for name in [module for module in sys.modules if module == "tensorboard" or module.startswith("tensorboard.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # makes `import tensorboard...` raise ImportError


def test_keras_tuner_still_calls_the_overridden_private_method():
    import keras_tuner

    method = getattr(keras_tuner.Tuner, "_configure_tensorboard_dir", None)
    problem = None
    if method is None:
        problem = "Tuner has no _configure_tensorboard_dir any more"
    elif list(inspect.signature(method).parameters) != ["self", "callbacks", "trial", "execution"]:
        problem = f"Tuner._configure_tensorboard_dir now takes {inspect.signature(method)}"
    elif "self._configure_tensorboard_dir(callbacks, trial, execution)" not in inspect.getsource(
        keras_tuner.Tuner.run_trial
    ):
        problem = "Tuner.run_trial no longer calls _configure_tensorboard_dir(callbacks, trial, execution)"
    if problem:
        pytest.fail(
            f"With {versions('keras-tuner')}: {problem}, so mnistlab.tuning._WithoutTensorBoard overrides "
            f"nothing. Check whether a search still imports tensorboard without a TensorBoard callback, then "
            f"adapt or delete the override."
        )


def test_keras_tuner_override_lets_a_search_run_without_tensorboard(course_home, no_tensorboard):
    with tuning.temporary_tuner("random", max_trials=1) as tuner:
        callbacks: list = []
        tuner._configure_tensorboard_dir(callbacks, trial=None)  # no TensorBoard callback: must not import it
    assert callbacks == []


def test_keras_tuner_override_is_still_needed(course_home, no_tensorboard):
    import keras
    import keras_tuner

    # Keras Tuner imports tensorboard only on the TensorFlow backend, which is the one the course runs on.
    assert keras.backend.backend() == "tensorflow", f"the course runs on TensorFlow, not {keras.backend.backend()}"
    with tuning.temporary_tuner("random", max_trials=1) as tuner:
        try:
            keras_tuner.Tuner._configure_tensorboard_dir(tuner, [], trial=None)
        except ImportError:
            return  # still imports tensorboard with no TensorBoard callback: the override is needed
    pytest.fail(
        f"{versions('keras-tuner')} no longer imports tensorboard when no TensorBoard callback is passed: "
        f"delete _WithoutTensorBoard from mnistlab/tuning.py (and these tests), and raise the keras-tuner "
        f"lower bound in pyproject.toml and environment.yml to this version."
    )


# --------------------------------------------------------------------------- Pillow skips a PNG's IDAT checksums


def test_png_integrity_check_still_catches_what_pillow_decodes():
    from test_images import zeroed_png

    for recompute_checksum in (False, True):
        damaged = zeroed_png(recompute_checksum)
        try:
            images.read_image(damaged, name="zeroed.png")
        except images.ImageError as error:
            assert "damaged" in str(error)
        else:
            pytest.fail(f"With {versions('pillow')}, a PNG whose image data is zeroed (checksum "
                        f"{'recomputed' if recompute_checksum else 'stale'}) reads as a picture: "
                        f"_check_png_intact in mnistlab/images/reading.py no longer catches it.")


def test_png_integrity_check_is_still_needed():
    from test_images import zeroed_png

    for recompute_checksum in (False, True):
        try:
            Image.open(io.BytesIO(zeroed_png(recompute_checksum))).load()
        except (OSError, SyntaxError) as error:
            pytest.fail(f"With {versions('pillow')}, Pillow itself now refuses a PNG with zeroed image data "
                        f"(checksum {'recomputed' if recompute_checksum else 'stale'}: {error}). If it does for "
                        f"both, delete _check_png_intact in mnistlab/images/reading.py and its second pass "
                        f"over the file.")
