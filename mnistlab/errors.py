"""The one base class of the package's expected failures, whose message tells the user what to do."""

# ``python -m mnistlab`` catches :class:`MnistlabError` once (in :func:`mnistlab.cli.main`): it prints
# ``error: <message>`` and exits with :attr:`MnistlabError.exit_code`, so no command repeats its own
# print-and-return. Anything else is a bug and keeps its traceback.

from __future__ import annotations


class MnistlabError(Exception):
    """A failure the user can fix (a missing file, a bad option); ``str(error)`` says how."""

    exit_code = 1

    def _render_traceback_(self) -> list[str]:  # Jupyter shows just the advice, not a traceback
        return [f"{type(self).__name__}: {self}"]


class UsageError(MnistlabError):
    """A command-line option that cannot work (exit code 2, like argparse's own usage errors)."""

    exit_code = 2


class SettingError(MnistlabError, ValueError):
    """An environment variable of the course (``MNISTLAB_FAST``, ...) holds a value it does not understand."""

    exit_code = 2
