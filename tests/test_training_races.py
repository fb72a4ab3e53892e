"""Fair races (races.rate_sweep and its readers) and the optimizers compared in notebook 03."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from mnistlab import config, optimizers, races


def _sweep(rows):
    return pd.DataFrame(rows, columns=["contestant", "learning_rate", "epoch", "val_accuracy"])


@pytest.fixture
def made_up_sweep():
    rows = []
    for name, scores in {"A": {0.1: (0.5, 0.6), 0.3: (0.6, 0.8), 1.0: (0.2, 0.1)}, "B": {0.01: (0.4, 0.7)}}.items():
        for rate, per_epoch in scores.items():
            rows += [(name, rate, epoch, value) for epoch, value in enumerate(per_epoch, start=1)]
    return _sweep(rows)


def test_best_rates_read_the_last_epoch(made_up_sweep):
    assert races.best_rates(made_up_sweep).to_dict() == {"A": 0.3, "B": 0.01}


def test_ties_go_to_the_smaller_rate():
    sweep = _sweep([("A", 0.3, 1, 0.8), ("A", 0.1, 1, 0.8)])
    assert races.best_rates(sweep)["A"] == 0.1


def test_sweep_table_marks_the_best_and_the_edge(made_up_sweep):
    table = races.sweep_table(made_up_sweep)
    assert table.loc[("A", 0.3), "best"] and not table.loc[("A", 0.3), "edge"]
    assert table.loc[("B", 0.01), "best"] and table.loc[("B", 0.01), "edge"]  # a grid of one rate
    assert table["val_accuracy"].tolist() == [0.6, 0.8, 0.1, 0.7]


def test_race_curves_take_each_best_run(made_up_sweep):
    curves = races.race_curves(made_up_sweep)
    assert list(curves.columns) == ["A (0.3)", "B (0.01)"] and list(curves.index) == [1, 2]
    np.testing.assert_allclose(curves["A (0.3)"], [0.6, 0.8])


def test_rate_sweep_starts_every_run_from_the_same_weights(tiny_split):
    budget = races.RaceBudget(train_size=100, epochs=1, batch_size=50, val_size=40, rates={"same": (0.0, 0.0)})
    contestants = {"same": races.Contestant(keras.optimizers.SGD)}
    sweep = races.rate_sweep(tiny_split, contestants, budget)
    # a rate of 0 never moves the weights, so both runs score their common starting point
    assert len(sweep) == 2 and sweep["val_accuracy"].nunique() == 1


def test_optimizer_sweep_runs_every_rate_of_its_budget(tiny_split):
    budget = races.RaceBudget(train_size=100, epochs=1, batch_size=32, val_size=50,
                                 rates={name: (1e-2,) for name in optimizers.contestants()})
    sweep = optimizers.optimizer_sweep(tiny_split, budget)
    assert list(sweep["contestant"]) == ["SGD", "SGD + momentum", "Adam", "AdamW"]
    assert sweep["val_accuracy"].between(0, 1).all()


def test_optimizer_budgets_give_every_optimizer_the_same_number_of_rates():
    fast, full = optimizers.race_budget(config.FAST), optimizers.race_budget(config.FULL)
    for budget in (fast, full):
        sizes = {len(grid) for grid in budget.rates.values()}
        assert len(sizes) == 1 and set(budget.rates) == set(optimizers.contestants())
    assert fast.runs * fast.train_size * fast.epochs < full.runs * full.train_size * full.epochs
    # fast mode tries the two rates around each optimizer's usual one, the middle of its full grid
    assert fast.rates["Adam"] == (1e-3, 3e-3) and fast.rates["SGD + momentum"] == (0.01, 0.03)
    assert full.rates == optimizers.RATES


def test_momentum_contestant_is_keras_sgd_with_momentum():
    optimizer = optimizers.contestants()["SGD + momentum"].optimizer(0.05)
    assert isinstance(optimizer, keras.optimizers.SGD) and optimizer.momentum == optimizers.MOMENTUM


def test_velocity_growth_tends_to_one_over_one_minus_momentum():
    growth = optimizers.velocity_growth(60, learning_rate=0.1, momentum=0.9)
    np.testing.assert_allclose(growth["times plain SGD"].iloc[:3], [1.0, 1.9, 2.71], rtol=1e-5)
    assert 9.9 < growth["times plain SGD"].iloc[-1] < 10
