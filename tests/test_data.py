"""The MNIST loader (local places, checksums, downloads against a local server) and preprocessing."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from mnistlab import config, data

SHARED_COPY = data.find_local_file()  # whichever place the test run provides (CI: $MNISTLAB_DATA)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No MNIST anywhere: an empty course folder and an empty Keras home."""
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "course"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv(data.DATA_ENV, raising=False)
    return tmp_path


# ------------------------------------------------------------------ local places


def test_search_order(isolated, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, "/env/mnist.npz")
    places = data.candidate_paths("/explicit/mnist.npz")
    assert places == [
        Path("/explicit/mnist.npz"),
        Path("/env/mnist.npz"),
        isolated.resolve() / "course" / "data" / "mnist.npz",
        isolated / "keras" / "datasets" / "mnist.npz",
    ]


def test_nothing_found_offline_says_where_to_put_the_file(isolated):
    with pytest.raises(data.MnistDataError) as caught:
        data.load_mnist(download=False)
    message = str(caught.value)
    assert "not on this machine" in message
    assert str(isolated.resolve() / "course" / "data" / "mnist.npz") in message
    assert str(isolated / "keras" / "datasets" / "mnist.npz") in message
    assert "MNISTLAB_DATA" in message


def test_explicit_missing_path_is_an_error(isolated):
    with pytest.raises(data.MnistDataError, match="No MNIST file at .*nowhere.npz"):
        data.load_mnist(isolated / "nowhere.npz")


@pytest.mark.parametrize("place", ["course/data/mnist.npz", "keras/datasets/mnist.npz"])
def test_found_in_each_default_place(isolated, place):
    target = isolated / place
    target.parent.mkdir(parents=True)
    shutil.copyfile(SHARED_COPY, target)
    (x_train, y_train), (x_test, y_test) = data.load_mnist(download=False)
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert y_train[0] == 5 and y_test[0] == 7


def test_wrong_hash_is_reported_and_not_used(isolated):
    fake = isolated / "course" / "data" / "mnist.npz"
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"not mnist")
    with pytest.raises(data.MnistDataError) as caught:
        data.load_mnist(download=False)
    message = str(caught.value)
    assert str(fake) in message
    assert data.MNIST_SHA256 in message
    assert hashlib.sha256(b"not mnist").hexdigest() in message


def test_canonical_content(mnist_arrays):
    (x_train, y_train), (x_test, y_test) = mnist_arrays
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert x_train.mean() == pytest.approx(33.318421, abs=1e-5)


def test_npz_without_the_mnist_arrays_is_rejected(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(data.MnistDataError, match="no x_train, y_train, x_test, y_test"):
        data.read_npz(path)


# ------------------------------------------------------------------ downloads from 127.0.0.1


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    claimed_length: int | None = None

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", str(self.claimed_length or len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def serve():
    """Start a server on 127.0.0.1 that answers every GET with the given bytes; yields its URL."""
    servers = []

    def start(body: bytes, claimed_length: int | None = None) -> str:
        handler = type("Handler", (_Handler,), {"body": body, "claimed_length": claimed_length})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/mnist.npz"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_good_file(isolated, serve):
    url = serve(SHARED_COPY.read_bytes())
    (x_train, _), (x_test, y_test) = data.load_mnist(url=url)
    assert x_train.shape == (60_000, 28, 28) and y_test[:3].tolist() == [7, 2, 1]
    saved = isolated.resolve() / "course" / "data" / "mnist.npz"
    assert data.sha256_of(saved) == data.MNIST_SHA256
    assert _leftovers(saved.parent) == ["mnist.npz"]  # no temporary file left behind
    assert data.find_local_file() == saved  # the next call is offline


def test_download_with_wrong_hash_is_deleted(isolated, serve):
    url = serve(b"x" * 1000)
    with pytest.raises(data.MnistDataError) as caught:
        data.load_mnist(url=url)
    message = str(caught.value)
    assert "damaged or incomplete" in message and "deleted" in message
    assert data.MNIST_SHA256 in message and hashlib.sha256(b"x" * 1000).hexdigest() in message
    assert _leftovers(isolated / "course" / "data") == []


def test_truncated_download_is_deleted(isolated, serve):
    whole = SHARED_COPY.read_bytes()
    url = serve(whole[: len(whole) // 3], claimed_length=len(whole))
    with pytest.raises(data.MnistDataError, match=r"stopped early \(3,830,144 of 11,490,434 bytes\)"):
        data.load_mnist(url=url)
    assert _leftovers(isolated / "course" / "data") == []


def test_truncated_file_served_whole_is_deleted(isolated, serve):
    whole = SHARED_COPY.read_bytes()
    url = serve(whole[:-100])
    with pytest.raises(data.MnistDataError, match="wrong SHA-256"):
        data.load_mnist(url=url)
    assert _leftovers(isolated / "course" / "data") == []


def test_server_down_says_what_to_do(isolated):
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(data.MnistDataError) as caught:
        data.load_mnist(url=f"http://127.0.0.1:{port}/mnist.npz")
    message = str(caught.value)
    assert "Could not download MNIST" in message and "refused" in message.lower()
    assert "copy Keras' mnist.npz" in message and str(isolated.resolve() / "course" / "data") in message
    assert _leftovers(isolated / "course" / "data") == []


# ------------------------------------------------------------------ preprocessing


def test_scale_pixels():
    raw = np.array([[0, 51, 255]], dtype=np.uint8)
    scaled = data.scale_pixels(raw)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 0.2, 1.0]])
    with pytest.raises(ValueError, match="0..255"):
        data.scale_pixels(np.array([-1.0, 300.0]))


def test_channel_axis_and_flatten():
    images = np.zeros((5, 28, 28), dtype=np.uint8)
    assert data.add_channel_axis(images).shape == (5, 28, 28, 1)
    assert data.flatten_images(images).shape == (5, 784)
    assert data.flatten_images(data.add_channel_axis(images)).shape == (5, 784)
    assert data.to_cnn_input(images).shape == (5, 28, 28, 1)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        data.add_channel_axis(np.zeros((28, 28)))


def test_one_hot_round_trip():
    labels = np.array([3, 0, 9])
    rows = data.one_hot(labels)
    assert rows.shape == (3, 10) and rows.dtype == np.float32
    assert rows.sum(axis=1).tolist() == [1, 1, 1] and rows[0, 3] == 1
    assert data.from_one_hot(rows).tolist() == [3, 0, 9]
    with pytest.raises(ValueError, match="0..9"):
        data.one_hot(np.array([10]))


def test_stratified_split_keeps_proportions():
    labels = np.repeat(np.arange(10), 50)
    images = np.arange(500)
    x_tr, x_val, y_tr, y_val = data.train_validation_split(images, labels, validation_fraction=0.2, seed=1)
    assert len(x_val) == 100 and np.bincount(y_val).tolist() == [10] * 10
    assert set(x_tr) | set(x_val) == set(images) and not set(x_tr) & set(x_val)
    again = data.train_validation_split(images, labels, validation_fraction=0.2, seed=1)
    assert np.array_equal(again[1], x_val)


def test_stratified_subset():
    labels = np.repeat(np.arange(10), 30)
    images = np.arange(300)
    x_small, y_small = data.stratified_subset(images, labels, 100, seed=0)
    assert len(x_small) == 100 and np.bincount(y_small).tolist() == [10] * 10
    assert data.stratified_subset(images, labels, None)[0] is images
