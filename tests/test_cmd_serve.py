"""``python -m mnistlab serve``: safe defaults (127.0.0.1:8000), clear errors before anything starts."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from mnistlab import cli, store
from mnistlab.commands import serve

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10),
                              keras.layers.Softmax()])
    model.layers[1].set_weights([np.zeros((784, 10), np.float32), np.zeros(10, np.float32)])
    return store.save_deployable(model, tmp_path_factory.mktemp("model") / "flat.keras")


@pytest.fixture
def started(monkeypatch):
    """Records what uvicorn would have been asked to serve, instead of serving."""
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    return calls


def test_defaults_bind_to_this_computer_only(model_path, started, capsys):
    assert cli.main(["serve", "--model", str(model_path)]) == 0
    app, options = started[0]
    assert options["host"] == "127.0.0.1" and options["port"] == 8000
    assert "http://127.0.0.1:8000/" in capsys.readouterr().out
    assert {route.path for route in app.routes} >= {"/", "/healthz", "/api/predict", "/api/number"}


def test_another_host_is_served_with_a_warning(model_path, started, capsys):
    assert cli.main(["serve", "--model", str(model_path), "--host", "0.0.0.0", "--port", "0"]) == 0
    assert started[0][1]["host"] == "0.0.0.0"
    assert "other computers on the network" in capsys.readouterr().err


def test_missing_model_says_how_to_train_it(course_home, started, capsys):
    assert cli.main(["serve", "--port", "0"]) == 1
    assert "python -m mnistlab --fast train" in capsys.readouterr().err
    assert not started


def test_a_taken_port_is_reported_before_loading_anything(model_path, started, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--model", str(model_path), "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert cli.main(["serve", "--model", str(model_path), "--port", "70000"]) == 2
    assert not started


def test_loopback_addresses():
    assert serve.is_loopback("127.0.0.1") and serve.is_loopback("localhost") and serve.is_loopback("::1")
    assert not serve.is_loopback("0.0.0.0") and not serve.is_loopback("192.168.1.5")
