"""Processes working side by side: one trains the default model while others wait; fits never share files."""

from __future__ import annotations

import threading
import time

from filelock import FileLock

from mnistlab import models, store, training


def test_a_second_caller_waits_for_the_trainer_and_loads_its_model(course_home, monkeypatch):
    trained = []
    monkeypatch.setattr(training, "train", lambda *args, **kwargs: trained.append(args))
    path = store.default_model_path()
    path.parent.mkdir(parents=True)
    said, got = [], []

    trainer = FileLock(path.with_name(path.name + ".lock"))  # stands in for another process that is training
    with trainer:
        waiter = threading.Thread(target=lambda: got.append(training.load_or_train_default(print_to=said.append)))
        waiter.start()
        deadline = time.monotonic() + 30
        while not said and time.monotonic() < deadline:
            time.sleep(0.05)
        assert said and "waiting" in said[0] and str(path) in said[0]
        assert waiter.is_alive(), "it must wait while the other process holds the lock"
        store.save_deployable(models.build_default_model(), path)  # the other process finishes
    waiter.join(timeout=60)

    assert not waiter.is_alive()
    assert trained == [], "the waiting caller must load the finished model, not train a second one"
    assert got and got[0].output_shape == (None, 10)
    assert len(said) == 1


def test_fits_that_name_no_checkpoint_never_share_one(course_home):
    first = training.scratch_checkpoint_path(models.build_dense())
    second = training.scratch_checkpoint_path(models.build_dense())
    assert first != second and first.name == second.name == "dense.weights.h5"
    assert first.parent.is_dir() and course_home not in first.parents  # a temporary folder, not the course's
