"""Section 4, thresholding and clean-up: which pixels are ink, without the printed lines of ruled paper."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import apply_hysteresis_threshold

from mnistlab.images.constants import (
    BLANK_NOISE,
    FAINT_WIDTH,
    HYSTERESIS_LOW,
    INK_FLOOR_NOISE,
    LINE_MAX_THICKNESS,
    LINE_MIN_COVER,
    LINE_SIDE_GAP,
    MAX_TILT_DEGREES,
    MIN_CONTRAST,
    SEPARATION_NOISE,
    THRESHOLD_RANGE,
)
from mnistlab.images.errors import NoDigitError
from mnistlab.images.measure import noise_level, otsu, rough_stroke_width


def threshold_ink(ink: np.ndarray, label: str = "image", noise: float | None = None) -> tuple[np.ndarray, float]:
    """``(mask, threshold)``: which pixels are ink. Raises :class:`NoDigitError` on a blank image.

    The threshold is Otsu's, computed among the pixels that rise above the noise floor (so a
    tiny digit on a big page is not drowned by the paper), and kept between a fifth and half
    of the ink's peak strength. Faint strokes are added later by :func:`grow_faint_ink`.
    ``noise`` is :func:`background_noise` of ``ink`` (measured here when not given).
    """
    smooth = ndi.gaussian_filter(ink, 1.0) if max(ink.shape) >= 64 else ink
    peak = float(smooth.max())
    noise = background_noise(ink) if noise is None else noise
    if peak < MIN_CONTRAST or peak < BLANK_NOISE * noise:
        raise NoDigitError(
            f"{label}: looks blank: nothing stands out from the background (strongest mark "
            f"{peak:.2f} against noise {noise:.3f}). Check that the digit is in the picture and "
            f"is darker or lighter than the paper."
        )
    floor = max(INK_FLOOR_NOISE * noise, 0.5 * MIN_CONTRAST)
    candidates = ink[ink > floor]
    threshold = otsu(candidates) if candidates.size > 10 else floor
    low, high = THRESHOLD_RANGE
    threshold = min(max(threshold, floor, low * peak), high * peak)
    return ink > threshold, threshold


def grow_faint_ink(ink: np.ndarray, mask: np.ndarray, threshold: float, lines: np.ndarray,
                   noise: float | None = None) -> np.ndarray:
    """The mask plus weaker ink, down to :data:`HYSTERESIS_LOW` of the threshold, connected to it.

    Hysteresis (scikit-image's ``apply_hysteresis_threshold``): the light-grey top bar of a 7
    whose stem is black, or the faint arc that closes a 9, stays with the digit, while a faint
    smudge on its own does not. The printed lines removed from the mask (and their soft edges)
    are kept out, so a line cannot creep back in along its faint edge. ``noise`` is
    :func:`background_noise` of ``ink`` (measured here when not given).
    """
    blocked = ndi.binary_dilation(lines, iterations=2) & ~mask if lines.any() else lines
    seeds_only = np.where(blocked, 0.0, np.where(mask, np.maximum(ink, threshold * 1.001), ink))
    noise = background_noise(ink) if noise is None else noise
    weak = max(HYSTERESIS_LOW * threshold, INK_FLOOR_NOISE * noise)  # never into the noise
    added = apply_hysteresis_threshold(seeds_only, weak, threshold) & ~mask
    if not added.any():
        return mask
    # Only faint ink about as wide as the pen: a printed line crossing a stroke is faint too but far
    # thinner, the leftover of a shadow far wider.
    width = rough_stroke_width(mask)
    thin, wide = FAINT_WIDTH[0] * width / 2, FAINT_WIDTH[1] * width / 2
    if thin >= 1 and added.any():
        added &= _opening(added, thin, grow=thin)
    if added.any():
        added &= ~_opening(added, wide, grow=wide)
    return mask | added


def _opening(mask: np.ndarray, radius: float, grow: float) -> np.ndarray:
    """Morphological opening by a diamond of ``radius`` (then grown by ``grow``), with two chamfer distance
    transforms: what ``skimage.morphology.opening`` does, in time that does not grow with the radius
    (a wide pen on a big photo needs radii of 20 px and more)."""
    core = ndi.distance_transform_cdt(mask, metric="taxicab") > radius
    if not core.any():
        return core
    return ndi.distance_transform_cdt(~core, metric="taxicab") <= radius + grow


def background_noise(ink: np.ndarray) -> float:
    """The noise of the background: of the whole image, or of its background class alone when ink
    covers so much of the picture (a digit drawn edge to edge) that it swamps the estimate."""
    noise = noise_level(ink)
    values = ink.ravel()[:: max(1, ink.size // 100_000)]  # a subsample gives the same statistics, faster
    split = otsu(values)
    quiet, strong = values[values <= split], values[values > split]
    if quiet.size == 0 or strong.size == 0 or strong.size < 0.25 * values.size:
        return noise
    quiet_noise = noise_level(quiet)
    clear = float(np.median(strong) - np.median(quiet))
    if clear > SEPARATION_NOISE * max(quiet_noise, noise_level(strong), 1e-3):
        return min(noise, quiet_noise)
    return noise


def _thin_runs(mask: np.ndarray, max_length: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(column, centre_row, length)`` of every vertical run of ink no longer than ``max_length``.

    A horizontal line crosses each column as one short run; a digit's upright strokes make
    long runs and are left out.
    """
    change = np.diff(np.pad(mask, ((1, 1), (0, 0))).astype(np.int8), axis=0).T  # one row per column
    cols, starts = np.nonzero(change == 1)  # ordered by column, then row: starts and ends pair up
    _, ends = np.nonzero(change == -1)
    lengths = ends - starts
    short = lengths <= max_length
    return cols[short], (starts[short] + ends[short] - 1) / 2.0, lengths[short]


def _line_offsets(cols: np.ndarray, centres: np.ndarray, width: int) -> tuple[float, list[int]]:
    """``(slope, offsets)`` of straight lines showing in at least :data:`LINE_MIN_COVER` of the columns.

    Every tilt up to :data:`MAX_TILT_DEGREES` is tried (a Hough transform restricted to
    nearly horizontal lines); at the best one, each line piles its runs into one offset bin.
    """
    best_slope, best_counts, best_low = 0.0, np.zeros(1), 0
    for slope in np.tan(np.radians(np.arange(-MAX_TILT_DEGREES, MAX_TILT_DEGREES + 0.01, 0.25))):
        offsets = np.round(centres - slope * cols).astype(int)
        low = int(offsets.min())
        counts = np.convolve(np.bincount(offsets - low), np.ones(3), mode="same")  # thickness parity
        if counts.max() > best_counts.max():
            best_slope, best_counts, best_low = float(slope), counts, low
    offsets: list[int] = []
    for index in np.argsort(-best_counts, kind="stable"):  # strongest first; one offset per line
        if best_counts[index] < LINE_MIN_COVER * width:
            break
        if all(abs(index - kept) > 3 for kept in offsets):
            offsets.append(int(index))
    return best_slope, sorted(index + best_low for index in offsets)


def horizontal_rule_lines(mask: np.ndarray) -> np.ndarray:
    """Pixels of the ruled lines running across a mask from side to side (nearly horizontal).

    A line must be thin (at most 2 % of the height), cross almost the whole width and follow
    a straight or gently curved path (a quadratic fit through its runs). Two or more such
    lines are ruled paper. A single one could be a digit's bar in a tight crop (a 4's), so it
    is only taken when it keeps clear of the top and bottom edge and runs on past the rest of
    the ink by 15 % of the width on both sides (the paper extends beyond the writing).
    """
    height, width = mask.shape
    lines = np.zeros_like(mask, dtype=bool)
    if width < 32 or height < 32:
        return lines
    first_col, last_col = int(LINE_SIDE_GAP * width), int(math.ceil((1 - LINE_SIDE_GAP) * width))
    if not (mask[:, :first_col + 1].any() and mask[:, last_col:].any()):
        return lines  # no ink near both sides: nothing crosses the picture
    max_thickness = max(3.0, LINE_MAX_THICKNESS * height)
    cols, centres, lengths = _thin_runs(mask, max_thickness)
    if cols.size < LINE_MIN_COVER * width:
        return lines
    slope, offsets = _line_offsets(cols, centres, width)
    rows = np.arange(height)[:, np.newaxis]
    found, at_edge = [], []
    for offset in offsets:
        near = np.abs(centres - slope * cols - offset) <= 1.5
        line_cols = np.unique(cols[near])
        if (line_cols.size < LINE_MIN_COVER * width or line_cols[0] > LINE_SIDE_GAP * width
                or line_cols[-1] < (1 - LINE_SIDE_GAP) * width):
            continue  # not side to side: the bar of a digit, not a ruled line
        centre_line = np.polynomial.Polynomial.fit(cols[near], centres[near], deg=2)(np.arange(width))
        half = float(np.median(lengths[near])) / 2 + 0.5
        found.append(mask & (np.abs(rows - centre_line[np.newaxis, :]) <= half))
        at_edge.append(centre_line.min() < 0.03 * height or centre_line.max() > 0.97 * height)
    if len(found) == 1:
        rest = np.nonzero(mask & ~found[0])[1]
        first, last = np.percentile(rest, [1, 99]) if rest.size else (width / 2, width / 2)
        if at_edge[0] or first < 0.15 * width or last > 0.85 * width:
            return lines  # one line that does not run on past the writing: maybe a digit's bar
    for line in found:
        lines |= line
    return lines


def remove_rule_lines(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mask, lines)``: the printed lines of ruled or squared paper taken out of an ink mask.

    Horizontal and vertical lines are found by :func:`horizontal_rule_lines` (on the
    transposed mask for vertical ones). Where a digit's stroke crosses a line, the stroke is
    kept: removed line pixels with digit ink on both sides of the line are put back.
    """
    across = int(math.ceil(max(3.0, LINE_MAX_THICKNESS * max(mask.shape)))) * 2 + 1  # longer than a line is thick
    horizontal = horizontal_rule_lines(mask)
    vertical = horizontal_rule_lines(mask.T).T
    lines = horizontal | vertical
    if not lines.any():
        return mask, lines
    remaining = mask & ~lines
    # Close across each line only (never along it), so a stroke is bridged but the line is not.
    crossings = (horizontal & ndi.binary_closing(remaining, structure=np.ones((across, 1), dtype=bool))) | (
        vertical & ndi.binary_closing(remaining, structure=np.ones((1, across), dtype=bool))
    )
    return remaining | crossings, lines & ~crossings
