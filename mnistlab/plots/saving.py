"""Finishing figures and saving them under the course's figures folder, shared by every plot helper."""

from __future__ import annotations

from pathlib import Path

from mnistlab import config


def figure_path(save: str | Path) -> Path:
    """Where ``save`` goes: a bare name under ``images/figures/`` (``.png`` added), a path as it is."""
    path = Path(save)
    if not path.is_absolute() and path.parent == Path("."):
        path = config.figures_dir() / path
    if not path.suffix:
        path = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(fig, save: str | Path | None, dpi: int = 120) -> Path | None:
    """Save ``fig`` at :func:`figure_path` of ``save``; no-op when ``save`` is None."""
    if save is None:
        return None
    path = figure_path(save)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def finish_figure(fig, save: str | Path | None):
    """The last step of every plot helper: tidy the layout, save if asked (see :func:`save_figure`), return ``fig``."""
    fig.tight_layout()
    save_figure(fig, save)
    return fig
