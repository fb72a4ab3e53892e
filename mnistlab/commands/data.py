"""``python -m mnistlab data [--offline]``: find (or download) MNIST, check its SHA-256 and say where it is."""

from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "data",
        help="find or download MNIST and verify it",
        description="Look for mnist.npz in the usual places (MNISTLAB_DATA, data/, the Keras cache), "
        "download it if there is none, check its SHA-256 and print where it is.",
    )
    parser.add_argument("--offline", action="store_true", help="only look for a local copy, never download")
    parser.set_defaults(run=run)


def run(args) -> int:
    from mnistlab import data

    path = data.locate_mnist(download=not args.offline)  # a MnistDataError is reported by cli.main
    print(f"MNIST ready: {path}")
    return 0
