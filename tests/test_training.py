"""Compile + fit with callbacks and a recipe, history frame, train, load_or_train_default (the store: test_store.py)."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

from mnistlab import architectures, augmentation, config, data, losses, models, store, training


def test_schedule_warms_up_then_decays():
    schedule = training.warmup_cosine_schedule(100, peak=1e-2)
    rates = [float(schedule(step)) for step in range(100)]
    peak_step = int(np.argmax(rates))
    assert rates[0] == pytest.approx(1e-3, rel=1e-3)
    assert max(rates) == pytest.approx(1e-2, rel=1e-2)
    assert 5 <= peak_step <= 15
    assert rates[-1] < 1e-3
    assert all(a >= b for a, b in zip(rates[peak_step:], rates[peak_step + 1 :], strict=False))


def test_schedule_rejects_too_few_steps():
    with pytest.raises(ValueError, match="total_steps"):
        training.warmup_cosine_schedule(1)


def test_recipe_labels_and_losses():
    recipe = architectures.DEFAULT_RECIPE
    default = training.compile_model(models.build_default_model(), total_steps=10, recipe=recipe)
    assert type(default.optimizer).__name__ == "AdamW"
    assert default.loss.label_smoothing == pytest.approx(0.1)
    assert training.prepare_labels(np.array([3]), recipe).shape == (1, 10)
    small = training.compile_model(models.build_small_cnn())
    assert type(small.optimizer).__name__ == "Adam"
    np.testing.assert_array_equal(training.prepare_labels(np.array([3, 1])), [3, 1])
    with pytest.raises(ValueError, match="total_steps"):
        training.compile_model(models.build_default_model(), recipe=recipe)


def test_the_recipe_not_the_model_name_decides_how_a_model_trains():
    # the default model's network compiled without its recipe trains like a tutorial model, and a tutorial
    # network given the default recipe trains like the default model: nothing reads model.name
    plain = training.compile_model(models.build_default_model())
    assert type(plain.optimizer).__name__ == "Adam"
    dense = training.compile_model(models.build_dense(), total_steps=10, recipe=architectures.DEFAULT_RECIPE)
    assert type(dense.optimizer).__name__ == "AdamW"
    assert training.augmentation_for(architectures.DEFAULT_RECIPE) is augmentation.DEFAULT
    assert training.augmentation_for(architectures.TUTORIAL) is None


def test_fit_records_history_and_returns_the_best_validation_epoch(tiny_split, tmp_path):
    checkpoint = tmp_path / "best.weights.h5"
    result = training.fit(
        models.build_small_cnn(), tiny_split, epochs=3, batch_size=32, checkpoint_path=checkpoint, verbose=0
    )
    assert isinstance(result.history, pd.DataFrame)
    assert list(result.history.index) == [1, 2, 3]
    for column in ("accuracy", "loss", "val_accuracy", "val_loss", "seconds", "cpu_seconds", "learning_rate"):
        assert column in result.history
    assert checkpoint.is_file()
    # a tutorial model comes back with the weights of its best validation epoch, whichever epoch that was
    accuracy, loss = training.accuracy_and_loss(result.model, tiny_split.x_val, tiny_split.y_val)
    assert accuracy == pytest.approx(result.history["val_accuracy"].max(), abs=1e-6)
    assert np.isfinite(loss)


@pytest.fixture(scope="module")
def default_run(tiny_split, tmp_path_factory):
    """One epoch of the default model, trained once for the tests that need a trained one."""
    folder = tmp_path_factory.mktemp("default_run")
    return training.fit(
        models.build_default_model(), tiny_split, epochs=1, batch_size=64,
        checkpoint_path=folder / "c.weights.h5", verbose=0, recipe=architectures.DEFAULT_RECIPE,
    )


class InterruptMidEpoch(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (what Ctrl-C does in a notebook) after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch: int, batch: int):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, -1
        self.weights_at_epoch_end: dict[int, list] = {}

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        self.weights_at_epoch_end[epoch + 1] = [w.copy() for w in self.model.get_weights()]


class RecordStart(keras.callbacks.Callback):
    """The weights and optimizer step a run starts from (after BackupAndRestore has restored them)."""

    def on_train_begin(self, logs=None):
        self.weights = [w.copy() for w in self.model.get_weights()]
        self.step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))


@pytest.mark.slow  # trains a model: 10-16 s on 2 cores
def test_an_interrupted_fit_resumes_from_its_backup_and_loses_nothing(tiny_split, tmp_path):
    backup, checkpoint = tmp_path / "backup", tmp_path / "c.weights.h5"
    examples, _ = training.training_examples(tiny_split, architectures.DEFAULT_RECIPE)  # digits + non-digits
    steps = augmentation.steps_per_epoch(len(examples), 64)
    config.set_seed()
    stop = InterruptMidEpoch(epoch=2, batch=1)  # during the third epoch, after two of its batches
    with pytest.raises(KeyboardInterrupt):
        training.fit(models.build_default_model(), tiny_split, epochs=4, batch_size=64, checkpoint_path=checkpoint,
                     backup_dir=backup, verbose=0, extra_callbacks=[stop], recipe=architectures.DEFAULT_RECIPE)
    assert training.backed_up_epochs(backup) == 2
    before = pd.read_csv(training.backup_history_path(backup), index_col="epoch")
    assert list(before.index) == [1, 2]

    start = RecordStart()
    result = training.fit(models.build_default_model(), tiny_split, epochs=4, batch_size=64,
                          checkpoint_path=checkpoint, backup_dir=backup, verbose=0, extra_callbacks=[start],
                          recipe=architectures.DEFAULT_RECIPE)
    # the new run starts from the weights and optimizer state of the end of epoch 2, not from scratch
    for restored, saved in zip(start.weights, stop.weights_at_epoch_end[2], strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert start.step == 2 * steps
    assert list(result.history.index) == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(result.history.loc[[1, 2]], before.astype(float))
    schedule = training.warmup_cosine_schedule(4 * steps)
    assert result.history.loc[3, "learning_rate"] == pytest.approx(float(schedule(3 * steps)), rel=1e-5)
    assert not backup.exists() and not training.backup_history_path(backup).exists(), "a finished run cleans up"


def test_a_resumed_run_only_checkpoints_epochs_better_than_before(tmp_path):
    callbacks = training.make_callbacks(tmp_path / "c.weights.h5", tmp_path / "backup", best_so_far=0.97)
    checkpoint = next(c for c in callbacks if isinstance(c, keras.callbacks.ModelCheckpoint))
    assert checkpoint.best == 0.97
    assert training.backed_up_epochs(tmp_path / "backup") == 0 and training.backed_up_epochs(None) == 0


def test_fit_rejects_bad_sizes(tiny_split):
    with pytest.raises(ValueError, match="epochs"):
        training.fit(models.build_dense(), tiny_split, epochs=0, batch_size=32)


# A budget small enough for a unit test: load_or_train_default takes it like any other plan.
TINY = dataclasses.replace(config.FAST, name="tiny", train_size=300, epochs=1, batch_size=64)


@pytest.mark.slow  # trains a model: 10-16 s on 2 cores
def test_load_or_train_default_trains_once_then_loads(course_home, mnist_arrays, capsys):
    first = training.load_or_train_default(plan=TINY)
    assert "trained now" in capsys.readouterr().out
    path = store.default_model_path(TINY)
    assert path.is_file() and "tiny-0k-1ep" in path.name
    history = store.load_default_history(TINY)
    assert list(history.index) == [1] and "val_accuracy" in history
    assert first.output_shape == (None, 10) and first.input_shape == (None, 28, 28, 1)
    second = training.load_or_train_default(plan=TINY)
    assert capsys.readouterr().out == "", "the second call must load, not train"
    x = data.to_cnn_input(mnist_arrays[1][0][:5])
    np.testing.assert_allclose(first.predict(x, verbose=0), second.predict(x, verbose=0), atol=1e-6)


def test_split_mnist_sizes_and_balance(mnist_arrays):
    split = data.split_mnist(1000, arrays=mnist_arrays)
    assert len(split.x_train) == 900 and len(split.x_val) == 100 and len(split.x_test) == 10_000
    assert split.x_train.dtype == np.float32 and split.x_train.shape[1:] == (28, 28, 1)
    assert split.x_train.min() >= 0.0 and split.x_train.max() <= 1.0
    assert set(np.unique(split.y_val)) == set(range(10))


def test_train_saves_the_model_before_anything_else_can_fail(course_home, monkeypatch, tiny_split):
    def broken_evaluate(*args, **kwargs):
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(training, "accuracy_and_loss", broken_evaluate)
    out = course_home / "dense.keras"
    with pytest.raises(RuntimeError, match="evaluation failed"):
        training.train(
            "dense", epochs=1, batch_size=64, split=tiny_split, verbose=0,
            checkpoint_path=course_home / "dense.weights.h5", save_to=out,
        )
    assert store.load_model(out).count_params() == 118_282


def test_train_writes_the_history_next_to_the_saved_model(course_home, tiny_split):
    out = course_home / "models" / store.default_model_path().name
    checkpoint_path, backup_dir = store.training_state_paths(out)
    assert checkpoint_path.parent == backup_dir.parent == course_home / "models" / "checkpoints"
    training.train(
        "dense", epochs=1, batch_size=64, split=tiny_split, verbose=0,
        checkpoint_path=checkpoint_path, backup_dir=backup_dir, save_to=out,
    )
    assert store.history_path(out) == store.history_path(store.default_model_path())
    history = store.load_default_history()
    assert list(history.index) == [1] and "val_accuracy" in history


def test_default_recipe_returns_its_last_epoch_not_an_earlier_best(tiny_split, tmp_path):
    # Sabotage the second (last) epoch so that its validation loss is clearly worse than the first's:
    # the default recipe must still return the last epoch's weights, not early stopping's "best".
    model = models.build_default_model()
    seen = {}

    def flip_the_output_layer(epoch, logs=None):
        if epoch == 1:
            output = model.get_layer("probabilities")
            kernel, bias = output.get_weights()
            output.set_weights([-5 * kernel, bias])

    def remember_final_weights(logs=None):
        seen["final"] = [w.copy() for w in model.get_weights()]

    saboteur = keras.callbacks.LambdaCallback(on_epoch_begin=flip_the_output_layer, on_train_end=remember_final_weights)
    original_fit = model.fit
    model.fit = lambda *args, callbacks=(), **kwargs: original_fit(*args, callbacks=[saboteur, *callbacks], **kwargs)
    result = training.fit(model, tiny_split, epochs=2, batch_size=64, checkpoint_path=tmp_path / "c.weights.h5",
                          verbose=0, recipe=architectures.DEFAULT_RECIPE)
    assert result.history["val_loss"].iloc[1] > result.history["val_loss"].iloc[0]  # the last epoch is not the best
    for kept, final in zip(result.model.get_weights(), seen["final"], strict=True):
        np.testing.assert_array_equal(kept, final)


def test_manual_sgd_step_equals_the_optimizer(tiny_split):
    config.set_seed()
    by_hand = models.build_small_cnn()
    by_optimizer = training.twin(by_hand)
    before = [w.copy() for w in by_hand.get_weights()]
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    images, labels = tiny_split.x_train[:32], tiny_split.y_train[:32]
    loss_hand = losses.manual_sgd_step(by_hand, loss_fn, images, labels, learning_rate=0.05)
    loss_opt = losses.optimizer_step(by_optimizer, loss_fn, images, labels, keras.optimizers.SGD(0.05))
    assert loss_hand == pytest.approx(loss_opt)
    for hand, opt, old in zip(by_hand.get_weights(), by_optimizer.get_weights(), before, strict=True):
        np.testing.assert_allclose(hand, opt, atol=1e-7)
        assert not np.array_equal(hand, old), "every weight moves"
    loss_after, _ = losses.loss_and_gradients(by_hand, loss_fn, images, labels)
    assert loss_after < loss_hand, "a small step against the gradient lowers the loss on that batch"


def test_manual_step_moves_each_weight_by_rate_times_gradient(tiny_split):
    config.set_seed()
    model = models.build_dense()
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    images, labels = tiny_split.x_train[:16], tiny_split.y_train[:16]
    _, gradients = losses.loss_and_gradients(model, loss_fn, images, labels)
    before = model.get_weights()
    losses.manual_sgd_step(model, loss_fn, images, labels, learning_rate=0.5)
    for old, new, gradient in zip(before, model.get_weights(), gradients, strict=True):
        np.testing.assert_allclose(new, old - 0.5 * gradient.numpy(), atol=1e-6)


def test_twin_is_independent():
    model = models.build_dense()
    copy = training.twin(model)
    np.testing.assert_array_equal(copy.get_weights()[0], model.get_weights()[0])
    copy.trainable_variables[0].assign(copy.trainable_variables[0] + 1.0)
    assert not np.array_equal(copy.get_weights()[0], model.get_weights()[0])


def test_training_time_estimate_scales_with_the_budget():
    full, fast = training.estimated_training_seconds(config.FULL), training.estimated_training_seconds(config.FAST)
    assert training.training_digits(config.FULL) == 54_000 and training.training_digits(config.FAST) == 27_000
    assert full / fast == pytest.approx((54_000 * config.FULL.epochs) / (27_000 * config.FAST.epochs))


def test_epoch_printer_prints_one_line_per_epoch(tiny_split, tmp_path):
    lines = []
    training.fit(
        models.build_dense(), tiny_split, epochs=2, batch_size=64, checkpoint_path=tmp_path / "c.weights.h5",
        verbose=0, extra_callbacks=[training.EpochPrinter(2, lines.append)],
    )
    assert len(lines) == 2
    assert lines[0].strip().startswith("epoch 1/2") and lines[1].strip().startswith("epoch 2/2")
    assert "validation accuracy" in lines[1]


@pytest.mark.slow  # trains a model: 10-16 s on 2 cores
def test_load_or_train_default_says_it_trains_and_shows_progress(course_home, capsys):
    plan = dataclasses.replace(TINY, epochs=2)
    training.load_or_train_default(plan=plan)
    out = capsys.readouterr().out
    path = store.default_model_path(plan)
    assert "trained now" in out and "tiny mode" in out and str(path) in out
    assert "2 epochs" in out and "roughly" in out
    epoch_lines = [line for line in out.splitlines() if line.strip().startswith("epoch ")]
    assert len(epoch_lines) == 2 and "validation accuracy" in epoch_lines[0]
    assert out.strip().splitlines()[-1] == f"Saved the default model to {path}."
    training.load_or_train_default(plan=plan)
    assert capsys.readouterr().out == "", "loading a saved model prints nothing"


def test_a_fit_without_a_checkpoint_path_removes_its_scratch_folder(tiny_split, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes the scratch folder
    result = training.fit(models.build_dense(), tiny_split, epochs=1, batch_size=64, verbose=0)
    assert result.checkpoint_path is None
    assert list(tmp_path.iterdir()) == [], "the scratch checkpoint folder is left behind"
