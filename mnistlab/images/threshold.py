"""Section 2.4, thresholding and clean-up: which pixels are ink, without ruled paper's printed lines, gaps bridged."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from skimage.filters import apply_hysteresis_threshold
from skimage.measure import block_reduce
from skimage.morphology import skeletonize
from skimage.transform import hough_line

from mnistlab.images.constants import (
    BLANK_NOISE,
    BRANCH_STROKES,
    BRIDGE_CONE,
    BRIDGE_LATERAL,
    BRIDGE_SKELETON_WIDTH,
    BRIDGE_STROKES,
    FAINT_WIDTH,
    HYSTERESIS_LOW,
    INK_FLOOR_NOISE,
    LINE_EDGE,
    LINE_FIT_REACH,
    LINE_MAX_THICKNESS,
    LINE_MIN_COVER,
    LINE_MIN_SIDE,
    LINE_RUN_ON,
    LINE_SEPARATION,
    LINE_SIDE_GAP,
    LINE_TILT_STEP,
    MAX_TILT_DEGREES,
    MIN_CONTRAST,
    PEAK_MIN_SIDE,
    PEAK_SIGMA,
    SEPARATION_NOISE,
    SPUR_STROKES,
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
    smooth = ndi.gaussian_filter(ink, PEAK_SIGMA) if max(ink.shape) >= PEAK_MIN_SIDE else ink
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
    if thin >= 1:
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


def _line_offsets(cols: np.ndarray, centres: np.ndarray, shape: tuple[int, int]) -> tuple[float, list[float]]:
    """``(slope, offsets)`` of straight lines showing in at least :data:`LINE_MIN_COVER` of the columns.

    scikit-image's Hough transform (``hough_line``) of the thin runs' centres, over the tilts up to
    :data:`MAX_TILT_DEGREES` only (printed lines are nearly horizontal): at the best tilt, each
    line piles its runs into one distance bin (two, when the line's thickness puts its centres
    between rows: hence a sum over three neighbouring bins). ``offsets`` are rows at column 0.
    """
    height, width = shape
    points = np.zeros(shape, dtype=bool)
    points[np.clip(np.round(centres).astype(int), 0, height - 1), cols] = True
    tilts = np.radians(np.arange(-MAX_TILT_DEGREES, MAX_TILT_DEGREES + 1e-6, LINE_TILT_STEP))
    votes, angles, distances = hough_line(points, theta=np.pi / 2 + tilts)  # the normal of a row is vertical
    votes = ndi.uniform_filter1d(votes.astype(float), size=3, axis=0, mode="constant") * 3
    best = int(np.argmax(votes.max(axis=0)))
    counts, angle = votes[:, best], float(angles[best])
    kept: list[int] = []
    for index in np.argsort(-counts, kind="stable"):  # strongest first; one offset per line
        if counts[index] < LINE_MIN_COVER * width:
            break
        if all(abs(index - other) > LINE_SEPARATION for other in kept):
            kept.append(int(index))
    # Back from the normal form x cos(a) + y sin(a) = d to y = offset + slope * x.
    slope = -math.cos(angle) / math.sin(angle)
    return slope, sorted(float(distances[index]) / math.sin(angle) for index in kept)


def horizontal_rule_lines(mask: np.ndarray) -> np.ndarray:
    """Pixels of the ruled lines running across a mask from side to side (nearly horizontal).

    A line must be thin (at most :data:`LINE_MAX_THICKNESS` of the height), cross almost the
    whole width and follow a straight or gently curved path (a quadratic fit through its runs).
    Two or more such lines are ruled paper. A single one could be a digit's bar in a tight crop
    (a 4's), so it is only taken when it keeps clear of the top and bottom edge and runs on past
    the rest of the ink by :data:`LINE_RUN_ON` of the width on both sides (the paper extends
    beyond the writing).
    """
    height, width = mask.shape
    lines = np.zeros_like(mask, dtype=bool)
    if width < LINE_MIN_SIDE or height < LINE_MIN_SIDE:
        return lines
    first_col, last_col = int(LINE_SIDE_GAP * width), int(math.ceil((1 - LINE_SIDE_GAP) * width))
    if not (mask[:, :first_col + 1].any() and mask[:, last_col:].any()):
        return lines  # no ink near both sides: nothing crosses the picture
    max_thickness = max(3.0, LINE_MAX_THICKNESS * height)
    cols, centres, lengths = _thin_runs(mask, max_thickness)
    if cols.size < LINE_MIN_COVER * width:
        return lines
    slope, offsets = _line_offsets(cols, centres, mask.shape)
    rows = np.arange(height)[:, np.newaxis]
    found, at_edge = [], []
    for offset in offsets:
        near = np.abs(centres - slope * cols - offset) <= LINE_FIT_REACH
        line_cols = np.unique(cols[near])
        if (line_cols.size < LINE_MIN_COVER * width or line_cols[0] > LINE_SIDE_GAP * width
                or line_cols[-1] < (1 - LINE_SIDE_GAP) * width):
            continue  # not side to side: the bar of a digit, not a ruled line
        centre_line = np.polynomial.Polynomial.fit(cols[near], centres[near], deg=2)(np.arange(width))
        half = float(np.median(lengths[near])) / 2 + 0.5
        found.append(mask & (np.abs(rows - centre_line[np.newaxis, :]) <= half))
        at_edge.append(centre_line.min() < LINE_EDGE * height or centre_line.max() > (1 - LINE_EDGE) * height)
    if len(found) == 1:
        rest = np.nonzero(mask & ~found[0])[1]
        first, last = np.percentile(rest, [1, 99]) if rest.size else (width / 2, width / 2)
        if at_edge[0] or first < LINE_RUN_ON * width or last > (1 - LINE_RUN_ON) * width:
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


NEIGHBOURS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]


def _next_pixels(skeleton: np.ndarray, pixel: tuple[int, int], path: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The skeleton pixels around ``pixel`` that are not on ``path`` yet; at a staircase step the two
    candidates touch each other and the straight (4-connected) one is the way on."""
    row, col = pixel
    height, width = skeleton.shape
    found = [(row + dr, col + dc) for dr, dc in NEIGHBOURS
             if 0 <= row + dr < height and 0 <= col + dc < width and skeleton[row + dr, col + dc]
             and (row + dr, col + dc) not in path]
    if len(found) == 2 and max(abs(found[0][0] - found[1][0]), abs(found[0][1] - found[1][1])) == 1:
        found = [min(found, key=lambda p: abs(p[0] - row) + abs(p[1] - col))]
    return found


def _end_pixels(skeleton: np.ndarray) -> np.ndarray:
    """The skeleton's pixels with exactly one skeleton neighbour: the free ends of its branches."""
    neighbours = ndi.convolve(skeleton.astype(np.uint8), np.ones((3, 3), dtype=np.uint8), mode="constant") - 1
    return skeleton & (neighbours == 1)


def prune(skeleton: np.ndarray, length: int) -> np.ndarray:
    """The skeleton with every branch shortened by ``length`` pixels from its free end.

    Spurs up to that long vanish (a skeleton forks into a Y at a stroke cut square, and sprouts a
    twig at every bump of a fat stroke), and each stroke end moves onto its stroke's centre line.
    """
    pruned = skeleton.copy()
    for _ in range(length):
        pruned &= ~_end_pixels(pruned)
    return pruned


def stroke_ends(skeleton: np.ndarray, reach: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(point, direction)`` of every stroke end of a (pruned) one-pixel skeleton, as (row, col) floats.

    An end is a skeleton pixel with one neighbour; its direction (a unit vector pointing out of the
    stroke) comes from its branch followed back for up to ``reach`` pixels, or to the first
    junction, and needs at least a third of that.
    """
    ends = []
    for row, col in zip(*np.nonzero(_end_pixels(skeleton)), strict=True):
        path = [(int(row), int(col))]
        while len(path) <= reach:
            following = _next_pixels(skeleton, path[-1], path)
            if len(following) != 1:
                break  # a junction, or the other end of a short piece
            path.append(following[0])
        if 3 * len(path) > reach:
            outward = np.subtract(path[0], path[-1]).astype(float)
            ends.append((np.array(path[0], dtype=float), outward / np.hypot(*outward)))
    return ends


def bridge_gaps(digit: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """``(digit, mask, bridges)``: gaps where the pen skipped, bridged by a stroke as wide as the pen.

    A skip leaves two stroke ends facing each other across a short gap. Two ends are joined when
    each lies ahead of the other, on its line (no more than :data:`BRIDGE_LATERAL` stroke widths to
    the side of it), their directions are opposite within :data:`BRIDGE_CONE` degrees, they are at
    most :data:`BRIDGE_STROKES` stroke widths apart, and the ink around the first does not already
    reach the second. Ends that point past each other (a 4 open at the top) or at the side of another
    stroke (a 5's bowl near its stem) are left alone: the digit is what was drawn. ``digit`` is the
    cropped ink (stroke cores 1.0), ``mask`` its pixels; the ends are found on scikit-image's skeleton
    of a copy in which the strokes are about :data:`BRIDGE_SKELETON_WIDTH` pixels wide.
    """
    width = rough_stroke_width(mask)
    factor = max(1, int(width // BRIDGE_SKELETON_WIDTH))
    small = block_reduce(mask, factor, np.max) if factor > 1 else mask
    small_width = width / factor
    skeleton = prune(skeletonize(small), int(round(SPUR_STROKES * small_width)))
    ends = stroke_ends(skeleton, reach=max(3, int(round(BRANCH_STROKES * small_width))))
    if len(ends) < 2:
        return digit, mask, 0
    labels, _ = ndi.label(small, structure=np.ones((3, 3), dtype=bool))
    reach, side = BRIDGE_STROKES * small_width, BRIDGE_LATERAL * small_width
    opposite = math.cos(math.radians(BRIDGE_CONE))
    pairs = []  # (distance, i, j) for ends i and j that face each other across a gap
    for i, (end_a, out_a) in enumerate(ends):
        for j in range(i + 1, len(ends)):
            end_b, out_b = ends[j]
            gap = end_b - end_a
            distance = float(np.hypot(*gap))
            ahead = gap @ out_a > 0 and -gap @ out_b > 0
            in_line = abs(_cross(out_a, gap)) <= side and abs(_cross(out_b, gap)) <= side
            if (0 < distance <= reach and ahead and in_line and -(out_a @ out_b) >= opposite
                    and not _joined_nearby(labels, end_a, end_b, reach)):
                pairs.append((distance, i, j))
    if not pairs:
        return digit, mask, 0
    bridge = Image.new("L", (mask.shape[1], mask.shape[0]), 0)
    draw = ImageDraw.Draw(bridge)
    used: set[int] = set()
    for _, i, j in sorted(pairs):  # nearest first; each end joined once
        if i in used or j in used:
            continue
        used |= {i, j}
        (row_a, col_a), (row_b, col_b) = (ends[k][0] * factor + (factor - 1) / 2 for k in (i, j))
        draw.line([(col_a, row_a), (col_b, row_b)], fill=255, width=max(1, int(round(width))))
    painted = np.asarray(bridge) > 0
    return np.maximum(digit, painted.astype(digit.dtype)), mask | painted, len(used) // 2


def _cross(a: np.ndarray, b: np.ndarray) -> float:
    """How far ``b`` lies to the side of the line along the unit vector ``a`` (2-D cross product)."""
    return float(a[0] * b[1] - a[1] * b[0])


def _joined_nearby(labels: np.ndarray, end_a: np.ndarray, end_b: np.ndarray, reach: float) -> bool:
    """Whether the ink around ``end_a`` (within ``reach``) reaches ``end_b`` without leaving that window."""
    radius = int(math.ceil(reach)) + 1
    row, col = (int(v) for v in end_a)
    top, left = max(0, row - radius), max(0, col - radius)
    window = labels[top:row + radius + 1, left:col + radius + 1] > 0
    local, _ = ndi.label(window, structure=np.ones((3, 3), dtype=bool))
    return bool(local[row - top, col - left] == local[int(end_b[0]) - top, int(end_b[1]) - left] != 0)
