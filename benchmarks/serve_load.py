"""Load-test the web app on this computer: concurrent clients posting real sample images to /api/predict.

Starts ``python -m mnistlab serve`` on 127.0.0.1 (a free port; nothing leaves the machine), waits
for ``/healthz``, then ``--clients`` threads share ``--requests`` uploads of the single-digit sample
images (``images/samples``). Reports requests/s, latency p50/p95, errors (any non-200 answer or
failed connection), how many answers match the file's label, the server's memory (RSS) before
and after, and the machine's load average. The run is bounded: a fixed number of requests, each with a timeout.

Run (from the repository root)::

    nice -n 10 python benchmarks/serve_load.py [--model PATH] [--clients 8] [--requests 500]

Without ``--model`` the server uses the course's default model for the current mode.
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

from mnistlab import config

HOST = "127.0.0.1"  # never anything else: this benchmark loads only its own local server
START_TIMEOUT_S = 180  # importing TensorFlow and loading the model on a busy 2-core machine
REQUEST_TIMEOUT_S = 60


def single_digit_samples() -> list[tuple[str, bytes, str]]:
    """``(file name, bytes, label)`` of every single-digit sample image."""
    folder = config.images_dir() / "samples"
    with open(folder / "labels.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if len(row["label"]) == 1]
    return [(row["file"], (folder / row["file"]).read_bytes(), row["label"]) for row in rows]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(model: Path | None, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "mnistlab", "serve", "--host", HOST, "--port", str(port)]
    if model is not None:
        command += ["--model", str(model)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "2"})
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped while starting:\n{server.stderr.read()}")
        try:
            if httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the server did not answer /healthz within {START_TIMEOUT_S} s")


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def run_clients(url: str, samples, clients: int, requests: int):
    """Send ``requests`` uploads from ``clients`` threads; returns (latencies in ms, errors, right answers)."""
    latencies, errors, right = [], [], 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        nonlocal right
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as session:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                name, content, label = samples[index % len(samples)]
                start = time.perf_counter()
                try:
                    response = session.post(url, files={"file": (name, content)})
                    ok = response.status_code == 200
                    answer = response.json().get("digit") if ok else None
                    problem = None if ok else f"{name}: HTTP {response.status_code}"
                except (httpx.HTTPError, ValueError) as error:
                    answer, problem = None, f"{name}: {type(error).__name__}: {error}"
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)
                    right += str(answer) == label

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.asarray(latencies), errors, right


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=None, help=".keras or .tflite model (default: the course model)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=500, help="requests in total (default: %(default)s)")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 64 and 1 <= args.requests <= 20_000):
        parser.error("use 1-64 clients and 1-20,000 requests: this is a bounded test")
    samples = single_digit_samples()
    port = free_port()
    server = start_server(args.model, port)
    try:
        health = httpx.get(f"http://{HOST}:{port}/healthz").json()
        url = f"http://{HOST}:{port}/api/predict"
        run_clients(url, samples[:4], 2, 8)  # warm up: the first requests build caches
        before = rss_mb(server.pid)
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        latencies, errors, right = run_clients(url, samples, args.clients, args.requests)
        wall = time.perf_counter() - start
        after = rss_mb(server.pid)
        load_after = os.getloadavg()[0]
        alive = httpx.get(f"http://{HOST}:{port}/healthz").status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"server: {health['model']} ({health['runtime']}), {os.cpu_count()} CPU cores")
    # The machine's 1-minute load average (this benchmark's own server and clients included): quote it with the
    # numbers, which follow the load more than the server.
    print(f"load average: {load_before:.1f} at the start, {load_after:.1f} at the end")
    print(f"load: {args.clients} concurrent clients, {args.requests} requests of {len(samples)} sample images")
    print(f"throughput: {args.requests / wall:.1f} requests/s ({wall:.1f} s)")
    print(f"latency: p50 {np.percentile(latencies, 50):.0f} ms, p95 {np.percentile(latencies, 95):.0f} ms, "
          f"max {latencies.max():.0f} ms")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"answers equal to the file's label: {right}/{args.requests}")
    print(f"server memory (RSS): {before:.0f} MB before, {after:.0f} MB after; still answering: {alive}")
    return 1 if errors or not alive else 0


if __name__ == "__main__":
    raise SystemExit(main())
