"""Section 2.3, background, lighting and polarity: which side is ink, and how far each pixel stands out."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage.filters import rank
from skimage.morphology import footprint_rectangle

from mnistlab.images.constants import (
    BACKGROUND_WINDOW,
    BLUR_MIN_SIDE,
    BLUR_SIGMA,
    BORDER_BAND,
    COARSE_CELLS,
    DARK_ON_LIGHT,
    DRAWING_BAND,
    DRAWING_SHARE,
    LIGHT_ON_DARK,
    MIN_CONTRAST,
    MIN_PAPER,
    PAGE_CONVEXITY,
    PAGE_DARK_BORDER,
    PAGE_MARGIN,
    PAGE_MAX_BLOB_WIDTH,
    PAGE_MAX_BORDER,
    PAGE_MAX_WRITING,
    PAGE_MIN_AREA,
    PAGE_MIN_OPEN,
    PAGE_MIN_STEP,
    PAGE_OPEN_STROKES,
    POLARITY_WINDOW,
    RING_END,
    RING_FLAT,
    SMALL_CANVAS,
    SMALL_DRAWING_SHARE,
    Polarity,
)
from mnistlab.images.measure import (
    bounding_box,
    grey_histogram,
    histogram_percentiles,
    histogram_share,
    otsu,
    stroke_width,
    tail_strength,
)

Levels = tuple[float, float]  # (dark, light) grey levels of a two-level drawing


class _Measure:
    """The default of ``levels`` arguments: measure them here (callers that already have them pass them)."""


MEASURE = _Measure()


def _coarse(grey: np.ndarray, cells: int = COARSE_CELLS) -> np.ndarray:
    """A small copy (longest side ``cells``) by area averaging."""
    height, width = grey.shape
    factor = max(height, width) / cells
    if factor <= 1:
        return grey
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    return np.asarray(Image.fromarray(grey).resize(size, Image.BOX), dtype=np.float32)


def _upsample(small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if small.shape == shape:
        return small
    return np.asarray(Image.fromarray(small).resize((shape[1], shape[0]), Image.BILINEAR),
                      dtype=np.float32)


def estimate_background(grey: np.ndarray, ink: Polarity | None = None, window: float = BACKGROUND_WINDOW) -> np.ndarray:
    """Large-scale background (lighting, shadows, paper colour) with the strokes taken out.

    Computed on a 48-pixel copy over windows 40 % of the image wide, then smoothly
    upsampled: cheap, and wide enough that strokes do not show. With the ink's polarity known
    it is a morphological closing (dark ink: strokes are filled by the surrounding paper) or
    opening (light ink), the "rolling ball" of document cleaning, which strokes only survive
    where they are wider than the window. Without it (``ink=None``) a median filter.
    """
    small = _coarse(grey)
    size = max(3, int(round(window * max(small.shape))) | 1)
    plane = _plane(small)  # a straight lighting gradient is removed exactly, the filter does the rest
    small = small - plane
    if ink == DARK_ON_LIGHT:
        background = ndi.grey_closing(small, size=size, mode="reflect")
    elif ink == LIGHT_ON_DARK:
        background = ndi.grey_opening(small, size=size, mode="reflect")
    elif ink is None:
        background = _median(small, size)
    else:
        raise ValueError(f"ink must be {DARK_ON_LIGHT!r}, {LIGHT_ON_DARK!r} or None, got {ink!r}")
    background = ndi.uniform_filter(background, size=3, mode="reflect") + plane
    return _upsample(background.astype(np.float32), grey.shape)


def _median(small: np.ndarray, size: int) -> np.ndarray:
    """Median over ``size`` x ``size`` windows, edges reflected: scikit-image's histogram-based rank
    median on an 8-bit copy (30 times faster than ``scipy.ndimage.median_filter``; 1/255 of the range
    is far finer than a background estimate needs)."""
    low, high = float(small.min()), float(small.max())
    if high - low < 1e-9:
        return small.copy()
    scale = 255.0 / (high - low)
    pad = size // 2
    levels = np.pad(np.round((small - low) * scale).astype(np.uint8), pad, mode="symmetric")
    median = rank.median(levels, footprint_rectangle((size, size)))[pad:-pad, pad:-pad]
    return (median.astype(np.float32) / scale + low).astype(np.float32)


def _plane(small: np.ndarray) -> np.ndarray:
    """Least-squares plane a + b*row + c*col through an image (a lighting gradient)."""
    rows, cols = np.mgrid[0:small.shape[0], 0:small.shape[1]]
    design = np.stack([np.ones(small.size), rows.ravel(), cols.ravel()], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, small.ravel().astype(np.float64), rcond=None)
    return (design @ coefficients).reshape(small.shape).astype(np.float32)


def border_level(grey: np.ndarray) -> tuple[float, float]:
    """``(median, spread)`` of the outer ring of pixels (3 % of the size, at least 1 pixel)."""
    height, width = grey.shape
    band = max(1, int(round(BORDER_BAND * min(height, width))))
    ring = np.concatenate([grey[:band].ravel(), grey[-band:].ravel(), grey[:, :band].ravel(), grey[:, -band:].ravel()])
    low, mid, high = np.percentile(ring, [25, 50, 75])
    return float(mid), float(high - low)


def find_page(grey: np.ndarray) -> np.ndarray | None:
    """The sheet of paper in a photo that shows a darker table all around it, else ``None``.

    Such a photo fools the border rule of :func:`detect_polarity` (a uniform dark border
    looks like the background of light ink). A page is recognised as a bright region that
    does not reach most of the image border, is nearly convex (a sheet, even in perspective,
    is a convex quadrilateral) and is much brighter than its surround, and whose dark holes
    (the writing) are thin strokes covering a small part of it, with open paper far wider
    than those strokes. A fat light digit on a dark canvas fails these last tests: its holes
    (a 0's middle) are round blobs, or absent, or slits hardly narrower than its strokes.
    """
    bright = grey > otsu(grey)
    labels, count = ndi.label(bright)
    if count == 0:
        return None
    page = labels == (np.argmax(np.bincount(labels.ravel())[1:]) + 1)
    filled = ndi.binary_fill_holes(page)
    holes = filled & ~bright  # the writing: dark pixels inside the sheet (not the bright middle of a 0)
    area, hole_area = int(filled.sum()), int(holes.sum())
    border = np.zeros_like(filled)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    if (area < PAGE_MIN_AREA * grey.size or filled[border].mean() > PAGE_MAX_BORDER
            or not 0 < hole_area <= PAGE_MAX_WRITING * area):
        return None
    if float(np.median(grey[page])) - float(np.median(grey[~filled])) < PAGE_MIN_STEP:
        return None
    if area < PAGE_CONVEXITY * _convex_area(filled):
        return None
    hole_top, hole_left, hole_bottom, hole_right = bounding_box(holes)
    writing_width = stroke_width(holes)
    if writing_width / max(hole_bottom - hole_top, hole_right - hole_left) > PAGE_MAX_BLOB_WIDTH:
        return None  # the "writing" is a solid blob: more likely the middle of a fat light digit
    # Paper is open space much wider than the writing (measured: 3-9 times on the sample photos);
    # a fat light 8 with slit-like loops is hardly wider than its slits (0.7-0.9 times on MNIST).
    open_space = float(ndi.distance_transform_edt(np.pad(page, 1)).max())
    if open_space < PAGE_MIN_OPEN * min(grey.shape) or open_space < PAGE_OPEN_STROKES * writing_width:
        return None
    return filled


def _convex_area(mask: np.ndarray) -> float:
    """Area of the convex hull of a mask's pixels (pixel squares, not centres)."""
    from scipy.spatial import ConvexHull, QhullError

    edge = mask & ~ndi.binary_erosion(mask)
    rows, cols = np.nonzero(edge)
    corners = np.concatenate([np.stack([rows + dr, cols + dc], axis=1) for dr in (0, 1) for dc in (0, 1)])
    try:
        return float(ConvexHull(corners).volume)  # in 2-D, "volume" is the area
    except QhullError:
        return float(mask.sum())


def isolate_page(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(grey, page)``: with a sheet photographed on a darker table, the table painted over with paper.

    Everything outside the page (see :func:`find_page`) gets the paper's median brightness,
    so the later steps see a plain sheet. The page is first shrunk by 2 % of the image size:
    its blurred, shadowed edge would otherwise stay behind as a dark frame that looks like ink.
    Without a page, the image is returned unchanged.
    """
    if drawing_levels(grey) is not None:
        return grey, None  # a two-level drawing has no table around it (a fat light 0 could pass for a sheet)
    low, high = histogram_percentiles(grey_histogram(grey), (1, 99))
    ring, _ = border_level(grey)
    if ring - low > PAGE_DARK_BORDER * (high - low):
        return grey, None  # the border is not dark: no table around a sheet (and no cost paid)
    page = find_page(grey)
    if page is None:
        return grey, None
    margin = max(2.0, PAGE_MARGIN * max(grey.shape))
    page = ndi.distance_transform_edt(np.pad(page, 1))[1:-1, 1:-1] > margin
    if not page.any():  # a sheet too narrow to shrink (a long thin strip): leave the image alone
        return grey, None
    paper_level = float(np.median(grey[page]))
    return np.where(page, grey, paper_level).astype(np.float32), page


def drawing_levels(grey: np.ndarray) -> Levels | None:
    """``(dark, light)`` levels when the picture is a two-level drawing or clean scan, else ``None``.

    In a drawing nearly every pixel sits near the darkest or the lightest level (only the
    antialiased edges lie between): no shadow, no lighting gradient, so the canvas colour is one
    number and needs no local estimate. A local estimate would fail exactly where a digit
    drawn large fills most of the canvas: its fat strokes would be taken for background.
    """
    counts = grey_histogram(grey)
    low, high = histogram_percentiles(counts, (1, 99))
    spread = high - low
    if spread <= 2 * MIN_CONTRAST:
        return None
    band = DRAWING_BAND * spread
    near = histogram_share(counts, low + band) + 1 - histogram_share(counts, high - band, inclusive=False)
    share = SMALL_DRAWING_SHARE if max(grey.shape) <= SMALL_CANVAS else DRAWING_SHARE
    return (low, high) if near >= share else None


def _canvas_polarity(grey: np.ndarray, levels: Levels) -> Polarity:
    """Polarity of a drawing: its four corners when they agree (a digit rarely fills a corner, even
    one drawn edge to edge), else the outer ring when it is uniform, else the more common level (a
    digit covers less of its canvas than the canvas does)."""
    low, high = levels
    side = max(1, int(round(BORDER_BAND * min(grey.shape))))
    corners = [np.median(grey[rows, cols]) for rows in (slice(0, side), slice(-side, None))
               for cols in (slice(0, side), slice(-side, None))]
    middle = (low + high) / 2
    if all(c > middle for c in corners):
        return DARK_ON_LIGHT
    if all(c <= middle for c in corners):
        return LIGHT_ON_DARK
    ring, ring_spread = border_level(grey)
    if ring_spread < RING_FLAT * (high - low):
        return DARK_ON_LIGHT if ring > middle else LIGHT_ON_DARK
    return DARK_ON_LIGHT if (grey > middle).mean() > 0.5 else LIGHT_ON_DARK


def detect_polarity(grey: np.ndarray, levels: Levels | None | _Measure = MEASURE) -> Polarity:
    """``"dark-on-light"`` or ``"light-on-dark"``, judged from the image alone.

    First vote: the background is the median over windows half the image wide (so a shadow or
    a table edge is background, not ink), and the ink is whichever side strays further from
    it: the mean of the strongest 0.5 % of dark deviations against the strongest 0.5 % of
    light ones. This fails when fat strokes fill most of a tight crop; so when the outer ring
    of the image is uniform and sits at one end of the grey range, the ring is taken as the
    background instead (a drawing's canvas, a scan's margin). A two-level drawing or clean scan
    (:func:`drawing_levels`) is judged by its corners first: a digit drawn edge to edge fills
    most of the ring but rarely a corner. ``levels`` are its :func:`drawing_levels`, measured
    here unless given.
    """
    if isinstance(levels, _Measure):
        levels = drawing_levels(grey)
    if levels is not None:
        return _canvas_polarity(grey, levels)
    residual = grey - estimate_background(grey, None, window=POLARITY_WINDOW)
    darker = tail_strength(-residual.ravel())
    lighter = tail_strength(residual.ravel())
    vote = DARK_ON_LIGHT if darker > lighter else LIGHT_ON_DARK
    low, high = histogram_percentiles(grey_histogram(grey), (1, 99))
    spread = high - low
    if spread > 2 * MIN_CONTRAST:
        ring, ring_spread = border_level(grey)
        if ring_spread < RING_FLAT * spread:
            if high - ring < RING_END * spread:
                return DARK_ON_LIGHT
            if ring - low < RING_END * spread:
                return LIGHT_ON_DARK
    return vote


def flatten(grey: np.ndarray, polarity: Polarity,
            levels: Levels | None | _Measure = MEASURE) -> tuple[np.ndarray, np.ndarray]:
    """``(ink, background)``: ink is how far each pixel stands out from the local paper.

    Ink is bright (>= 0) on a background of 0, whatever the original polarity, lighting or
    paper colour; a light Gaussian blur (only on big images) evens out paper texture and
    sensor noise without erasing one-pixel lines. A two-level drawing (:func:`drawing_levels`)
    has one canvas colour, used as it is (``levels``: measured here unless given).
    """
    if isinstance(levels, _Measure):
        levels = drawing_levels(grey)
    if levels is not None and polarity in (DARK_ON_LIGHT, LIGHT_ON_DARK):
        canvas = levels[1] if polarity == DARK_ON_LIGHT else levels[0]
        background = np.full(grey.shape, canvas, dtype=np.float32)
        ink = canvas - grey if polarity == DARK_ON_LIGHT else grey - canvas
    elif polarity == DARK_ON_LIGHT:
        background = estimate_background(grey, DARK_ON_LIGHT)
        # Contrast relative to the local paper brightness: a shadow dims paper and ink alike,
        # so dividing by the paper level undoes it (Weber contrast).
        ink = (background - grey) / np.maximum(background, MIN_PAPER) * float(np.median(background))
    elif polarity == LIGHT_ON_DARK:
        background = estimate_background(grey, LIGHT_ON_DARK)
        ink = grey - background
    else:
        raise ValueError(f"polarity must be {DARK_ON_LIGHT!r} or {LIGHT_ON_DARK!r}, got {polarity!r}")
    if max(grey.shape) >= BLUR_MIN_SIDE:
        ink = ndi.gaussian_filter(ink, BLUR_SIGMA)
    return np.clip(ink, 0, None).astype(np.float32), background
