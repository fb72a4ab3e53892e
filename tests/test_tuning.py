"""Hyperparameter search: the search space, a tiny random and grid search, the results table."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnistlab import tuning


def test_the_tunable_model_offers_the_tuner_the_whole_search_space():
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    tuning.build_tunable(hp)  # registers each hyperparameter it reads, with its choices
    offered = {name: list(hp.get_config()["space"][i]["config"]["values"]) for i, name in enumerate(hp.values)}
    assert offered == {name: list(values) for name, values in tuning.SEARCH_SPACE.items()}
    assert all(len(values) >= 2 for values in offered.values()), "a search needs a choice in every dimension"


def test_tunable_model_uses_the_chosen_values():
    import keras
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    hp.Fixed("filters", 64)
    hp.Fixed("units", 32)
    hp.Fixed("learning_rate", 1e-3)
    model = tuning.build_tunable(hp)
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [64, 64]
    assert model.layers[-2].units == 32
    # convert_to_numpy, not float(): Keras before 3.4 gives its variables no __float__
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-3)


@pytest.mark.slow  # trains several tiny models: 7-9 s each on 2 cores
@pytest.mark.parametrize("kind", ["random", "grid"])
def test_tiny_search_gives_a_table(course_home, tiny_split, kind):
    with tuning.temporary_tuner(kind, max_trials=2) as tuner:  # what notebook 04's search cell does
        tuner.search(tiny_split.x_train, tiny_split.y_train, epochs=1, batch_size=64,
                     validation_data=(tiny_split.x_val, tiny_split.y_val), verbose=0)
    table = tuning.results_table(tuner)
    assert list(table.columns) == ["filters", "units", "learning_rate", "val_accuracy"]
    assert len(table) == 2
    assert table["val_accuracy"].between(0, 1).all()
    assert set(table["filters"]) <= {32, 64, 128}
    folder = Path(tuner.directory)  # not tuner.project_dir, which creates the folder again
    assert course_home not in folder.parents and folder.name.startswith("mnistlab-tuning-")  # its own folder...
    assert not folder.exists()  # ...removed once the search is over
    with tuning.temporary_tuner(kind, max_trials=1) as other:
        assert other.directory != tuner.directory  # never shared by two searches
    best = tuner.get_best_hyperparameters(1)[0].values
    assert best["filters"] in tuning.SEARCH_SPACE["filters"]
    if kind == "grid":  # a grid walks the combinations in order: the first two differ in one value only
        differing = (table.iloc[0, :3] != table.iloc[1, :3]).sum()
        assert differing == 1


def test_bad_kind_and_trials_are_clear_errors(course_home):
    with pytest.raises(ValueError, match="kind must be one of"):
        tuning.make_tuner("bayes")
    with pytest.raises(ValueError, match="max_trials"):
        tuning.make_tuner("random", max_trials=0)


def test_the_temporary_tuner_folder_is_removed_even_on_an_error(course_home):
    with pytest.raises(KeyboardInterrupt), tuning.temporary_tuner("random", max_trials=1) as tuner:
        folder = Path(tuner.directory)
        assert folder.is_dir() and folder.name.startswith("mnistlab-tuning-")
        raise KeyboardInterrupt  # say, the learner interrupts the search
    assert not folder.exists()


def test_results_table_reports_a_failed_trial():
    from types import SimpleNamespace

    trial = SimpleNamespace(status="FAILED", message="ValueError: bad build", score=None)
    tuner = SimpleNamespace(oracle=SimpleNamespace(trials={"0": trial}))
    with pytest.raises(RuntimeError, match=r"(?s)1 tuning trial.*bad build"):
        tuning.results_table(tuner)
