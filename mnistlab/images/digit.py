"""Section 2.5, finding the digit: the ink blobs, which of them make up the digit, or each digit of a number."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import regionprops

from mnistlab.images.constants import (
    BORDER_PENALTY,
    BORDER_SPECK,
    CENTRALITY_WEIGHT,
    COLUMN_OVERLAP,
    CUT_PARTS,
    DIGIT_ASPECT,
    EDGE_CONTACT,
    EDGE_RUN_PENALTY,
    FILLED_STROKE,
    GROUP_MIN_STRENGTH,
    GROUP_REACH,
    SHORT_MARK,
    SMALL_MARK,
    SPECK_FRACTION,
    SPECK_SIDE,
    TOUCHING_WIDTH,
    WIDE_MARK,
)
from mnistlab.images.errors import NoDigitError
from mnistlab.images.measure import bounding_box


@dataclass
class Component:
    """One connected blob of ink."""

    index: int
    area: int
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive
    touches_border: bool

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def components(mask: np.ndarray) -> tuple[np.ndarray, list[Component]]:
    """8-connected components of a mask: the label image and one :class:`Component` per blob."""
    labels, count = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        return labels, []
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    height, width = mask.shape
    found = []
    for index, box in enumerate(ndi.find_objects(labels), start=1):
        if box is None:
            continue
        rows, cols = box
        found.append(Component(
            index=index, area=int(areas[index]), top=rows.start, left=cols.start,
            bottom=rows.stop, right=cols.stop,
            touches_border=rows.start == 0 or cols.start == 0 or rows.stop == height or cols.stop == width,
        ))
    return labels, found


def drop_specks(found: list[Component], shape: tuple[int, int]) -> list[Component]:
    """Keep blobs bigger than 3 % of the biggest and than a size-dependent minimum."""
    if not found:
        return []
    biggest = max(c.area for c in found)
    minimum = max(3, int((SPECK_SIDE * max(shape)) ** 2))
    return [c for c in found if c.area >= max(minimum, SPECK_FRACTION * biggest)]


def _gap(a: Component, b: Component) -> float:
    dy = max(0, max(a.top, b.top) - min(a.bottom, b.bottom))
    dx = max(0, max(a.left, b.left) - min(a.right, b.right))
    return math.hypot(dx, dy)


def group_strokes(seed: Component, others: list[Component], reach: float = GROUP_REACH,
                  strength: dict[int, float] | None = None) -> list[Component]:
    """The seed plus every blob within ``reach`` x its size of the group (a 5's flag, a 4's bar).

    Not grouped: page edges and shadows that do not overlap the digit, marks much fainter than
    the seed (a colour boundary of the background; ``strength`` is each blob's mean ink), and
    wide, flat marks lying wholly beside the digit (a scribble, a signature, a word).
    """
    group = [seed]
    pending = [c for c in others if c.index != seed.index]
    strength = strength or {}
    seed_strength = strength.get(seed.index, 1.0)
    grew = True
    while grew and pending:
        grew = False
        top = min(c.top for c in group)
        bottom = max(c.bottom for c in group)
        left = min(c.left for c in group)
        right = max(c.right for c in group)
        box = Component(-1, 0, top, left, bottom, right, False)
        limit = reach * max(bottom - top, right - left)
        for candidate in list(pending):
            near = _gap(box, candidate)
            if candidate.touches_border and near > 0:
                continue  # page edges and shadows only count when they overlap the digit
            if strength.get(candidate.index, seed_strength) < GROUP_MIN_STRENGTH * seed_strength:
                continue
            beside = candidate.left >= right or candidate.right <= left
            if beside and candidate.width > WIDE_MARK * candidate.height:
                continue
            if near <= limit:
                group.append(candidate)
                pending.remove(candidate)
                grew = True
    return group


def blob_strength(found: list[Component], labels: np.ndarray, ink: np.ndarray | None) -> dict[int, float]:
    """Each blob's mean ink (1.0 for every blob when there is no ink image)."""
    if ink is None:
        return {c.index: 1.0 for c in found}
    sums = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=labels.max() + 1)
    return {c.index: float(sums[c.index] / c.area) for c in found}


def digit_likeness(found: list[Component], labels: np.ndarray, ink: np.ndarray | None,
                   strength: dict[int, float] | None = None) -> dict[int, float]:
    """A score per blob for how much it looks like a handwritten digit (higher is more digit-like).

    The product of: its size relative to the picture; how central it is; how stroke-like (a
    filled button or a blot has strokes as wide as itself); its shape (a word, a scribble or a
    colour boundary is far wider than tall, a digit is not); its ink strength relative to the
    strongest blob (``strength``, see :func:`blob_strength`); and a halving for blobs that touch
    the border (page edges, UI bars). The first or the biggest blob is not good enough: a label,
    a signature or a background edge can be bigger than a thin digit.
    """
    height, width = labels.shape
    strength = strength if strength is not None else blob_strength(found, labels, ink)
    # A chamfer distance is plenty for ranking, and several times faster than the Euclidean one.
    depth = ndi.distance_transform_cdt(np.pad(labels > 0, 1), metric="chessboard")[1:-1, 1:-1].astype(np.float32)
    wanted = np.zeros(labels.max() + 1, dtype=bool)
    wanted[[c.index for c in found]] = True
    props = {p.label: p for p in regionprops(np.where(wanted[labels], labels, 0), intensity_image=depth)}
    strongest = max(strength.values()) or 1.0
    half_diagonal = math.hypot(height, width) / 2
    ring = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    contact = np.bincount(ring, minlength=labels.max() + 1)
    scores = {}
    for c in found:
        size = max(c.height, c.width) / max(height, width)
        row, col = props[c.index].centroid
        centrality = 1 - min(1.0, math.hypot(row - height / 2, col - width / 2) / half_diagonal)
        stroke = (4 * props[c.index].intensity_mean - 1) / max(c.height, c.width)  # relative stroke width
        stroke_like = 1.0 if stroke <= FILLED_STROKE else (FILLED_STROKE / stroke) ** 2
        flat = 1.0 if c.width <= WIDE_MARK * c.height else (WIDE_MARK * c.height / c.width) ** 2
        border = BORDER_PENALTY if c.touches_border else 1.0
        if contact[c.index] > EDGE_CONTACT * max(c.height, c.width):
            border *= EDGE_RUN_PENALTY  # runs along the border: a page edge or a window frame
        scores[c.index] = (size * (1 - CENTRALITY_WEIGHT + CENTRALITY_WEIGHT * centrality) * stroke_like * flat * border
                           * strength[c.index] / strongest)
    return scores


def find_digit(mask: np.ndarray, label: str = "image", ink: np.ndarray | None = None) -> np.ndarray:
    """The digit's pixels: specks dropped, the most digit-like blob (see :func:`digit_likeness`)
    and the strokes that belong with it."""
    labels, found = components(mask)
    kept = drop_specks(found, mask.shape)
    if not kept:
        raise NoDigitError(f"{label}: no digit found (no ink blob big enough).")
    strength = blob_strength(kept, labels, ink)
    scores = digit_likeness(kept, labels, ink, strength)
    seed = max(kept, key=lambda c: scores[c.index])
    group = group_strokes(seed, kept, strength=strength if ink is not None else None)
    return np.isin(labels, [c.index for c in group])


def _columns(kept: list[Component]) -> list[list[Component]]:
    """Group blobs whose horizontal extents overlap (one digit's strokes), left to right."""
    groups: list[list[Component]] = []
    for comp in sorted(kept, key=lambda c: c.left):
        if groups:
            last = groups[-1]
            right = max(c.right for c in last)
            left = min(c.left for c in last)
            overlap = right - comp.left
            narrower = min(comp.width, right - left)
            if overlap > COLUMN_OVERLAP * narrower:
                last.append(comp)
                continue
        groups.append([comp])
    return groups


def _split_wide(mask: np.ndarray, expected_width: float) -> list[np.ndarray]:
    """Cut a blob of touching digits at the weakest columns of its ink profile."""
    top, left, bottom, right = bounding_box(mask)
    width = right - left
    count = max(1, int(round(width / expected_width)))
    if count == 1:
        return [mask]
    profile = mask[:, left:right].sum(axis=0).astype(float)
    cuts = []
    for k in range(1, count):
        centre = int(k * width / count)
        reach = width // (CUT_PARTS * count)  # a cut is looked for this close to the even split
        lo, hi = max(1, centre - reach), min(width - 1, centre + reach)
        cuts.append(left + lo + int(np.argmin(profile[lo:hi + 1])) if hi > lo else left + centre)
    pieces, start = [], left
    for cut in [*cuts, right]:
        piece = np.zeros_like(mask)
        piece[:, start:cut] = mask[:, start:cut]
        if piece.any():
            pieces.append(piece)
        start = cut
    return pieces


def digit_masks(mask: np.ndarray) -> list[np.ndarray]:
    """One mask per digit written in a row, left to right."""
    labels, found = components(mask)
    kept = drop_specks(found, mask.shape)
    if not kept:
        return []
    biggest = max(c.area for c in kept)
    kept = [c for c in kept if not (c.touches_border and c.area < BORDER_SPECK * biggest)]
    # Specks relative to the typical digit, not the biggest blob: a "1" is small but real.
    heights = sorted(c.height for c in kept)
    typical_height = heights[len(heights) // 2] if heights else 1
    kept = [c for c in kept if c.height >= SHORT_MARK * typical_height or c.area >= SMALL_MARK * biggest]
    pieces = []
    for group in _columns(kept):
        group_mask = np.isin(labels, [c.index for c in group])
        height = max(c.bottom for c in group) - min(c.top for c in group)
        width = max(c.right for c in group) - min(c.left for c in group)
        if width > TOUCHING_WIDTH * height:
            pieces.extend(_split_wide(group_mask, expected_width=DIGIT_ASPECT * height))
        else:
            pieces.append(group_mask)
    return pieces
