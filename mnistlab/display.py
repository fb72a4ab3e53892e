"""Notebook display helpers: show library source in a cell and summarise the environment."""

from __future__ import annotations

import inspect
import platform
import sys
from importlib import metadata

from mnistlab import config

_PACKAGES = ("tensorflow", "tensorflow-cpu", "keras", "numpy", "scikit-learn", "matplotlib", "mnistlab")


def show_source(obj) -> object:
    """Display the source of a library function or class with syntax colouring (notebooks never copy it)."""
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")


def environment_summary() -> dict[str, str]:
    """Python and package versions, and which mode (full or fast) the course runs in."""
    summary = {"python": platform.python_version(), "platform": sys.platform}
    for package in _PACKAGES:
        try:
            summary[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    summary["mode"] = config.budget().name + (" (MNISTLAB_FAST=1)" if config.fast_mode() else "")
    folder, why = config.course_folder()
    summary["course folder"] = f"{folder} ({why})"
    return summary


def show_environment() -> dict[str, str]:
    """Print :func:`environment_summary` as aligned lines; returns it too."""
    summary = environment_summary()
    width = max(map(len, summary))
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    return summary
