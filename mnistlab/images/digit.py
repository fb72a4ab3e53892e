"""Section 5, finding the digit: the ink blobs, which of them make up the digit, or each digit of a number."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from mnistlab.images.constants import GROUP_REACH, SPECK_FRACTION, SPECK_SIDE
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


def group_strokes(seed: Component, others: list[Component], reach: float = GROUP_REACH) -> list[Component]:
    """The seed plus every blob within ``reach`` x its size of the group (a 5's flag, a 4's bar)."""
    group = [seed]
    pending = [c for c in others if c.index != seed.index]
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
            if near <= limit:
                group.append(candidate)
                pending.remove(candidate)
                grew = True
    return group


def find_digit(mask: np.ndarray, label: str = "image") -> np.ndarray:
    """The digit's pixels: specks dropped, page edges ignored, the strokes of one digit kept."""
    labels, found = components(mask)
    kept = drop_specks(found, mask.shape)
    if not kept:
        raise NoDigitError(f"{label}: no digit found (no ink blob big enough).")
    biggest = max(c.area for c in kept)
    inner = [c for c in kept if not c.touches_border and c.area >= 0.25 * biggest]
    seed = max(inner or kept, key=lambda c: c.area)
    group = group_strokes(seed, kept)
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
            if overlap > 0.5 * narrower:
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
        lo, hi = max(1, centre - width // (3 * count)), min(width - 1, centre + width // (3 * count))
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
    kept = [c for c in kept if not (c.touches_border and c.area < 0.25 * biggest)]
    # Specks relative to the typical digit, not the biggest blob: a "1" is small but real.
    heights = sorted(c.height for c in kept)
    typical_height = heights[len(heights) // 2] if heights else 1
    kept = [c for c in kept if c.height >= 0.25 * typical_height or c.area >= 0.1 * biggest]
    pieces = []
    for group in _columns(kept):
        group_mask = np.isin(labels, [c.index for c in group])
        height = max(c.bottom for c in group) - min(c.top for c in group)
        width = max(c.right for c in group) - min(c.left for c in group)
        if width > 1.3 * height:
            pieces.extend(_split_wide(group_mask, expected_width=0.75 * height))
        else:
            pieces.append(group_mask)
    return pieces
