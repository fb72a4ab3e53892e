"""``python -m mnistlab serve``: the web page (draw, upload, webcam) and its JSON API on this computer."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

from mnistlab.commands.arguments import positive_int

LOCAL_HOST = "127.0.0.1"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="start the web app: draw, upload or show a digit to the webcam",
        description="Serve the digit-reader page and its JSON API (POST /api/predict, POST /api/number, "
        "GET /healthz). It listens on 127.0.0.1 only, so nobody else on the network can reach it, unless "
        "you pass --host. Stop it with Ctrl+C.",
    )
    parser.add_argument("--model", type=Path, default=None,
                        help="a .keras model or a .tflite export (default: the course's trained default model)")
    parser.add_argument("--host", default=LOCAL_HOST,
                        help="address to listen on (default: %(default)s, this computer only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument("--max-upload-mb", type=positive_int, default=10,
                        help="largest upload accepted (default: %(default)s MB)")
    parser.set_defaults(run=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (taken, no such address), or None when it can."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        return error.strerror or str(error)
    return None


def run(args) -> int:
    from mnistlab.errors import MnistlabError, UsageError

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0-65535)")
    problem = port_problem(args.host, args.port)  # checked before the model loads: fail in a second
    if problem:
        raise MnistlabError(f"cannot listen on {args.host}:{args.port} ({problem}). Try another --port, or stop "
                            f"the program using it.")
    import uvicorn

    from mnistlab import deploy
    from mnistlab.web.app import create_app

    model_path = deploy.model_file(args.model)
    predictor = deploy.load_predictor(model_path)  # never trains: a missing model names `train`
    if not predictor.rule.calibrated:
        from mnistlab import decision

        print(decision.uncalibrated_note(model_path), file=sys.stderr)
    app = create_app(predictor, model_name=model_path.name, max_upload_bytes=args.max_upload_mb * 2**20)
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}: other computers on the network can use this server "
              f"(and browsers allow the webcam only on https or localhost).", file=sys.stderr)
    print(f"Open http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}/ "
          f"in a browser (Ctrl+C stops the server).", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    except SystemExit as stop:  # uvicorn exits when it cannot bind (someone took the port meanwhile)
        return int(stop.code or 0)
    return 0
