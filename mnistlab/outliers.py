"""Generated non-digits for outlier-exposure training: letters, symbols, scribbles, shapes, photos and digit pairs."""

# A digit model trained only on digits has never been shown anything else, so its softmax is
# "sure" of some digit for a letter or a drawing too. Outlier exposure (Hendrycks et al., 2019)
# adds pictures that are NOT digits to training, with the uniform distribution as their target,
# so the network learns to spread its probability over all ten digits when nothing fits.
#
# Every picture here is generated on the fly from what ships with the installed packages
# (matplotlib's fonts, scikit-image's sample photos) and then prepared by the very pipeline
# that prepares a user's picture (:func:`mnistlab.images.prepare_image`), so the network sees
# non-digits exactly as it will see them in use. Shapes a person would read as a digit (O, I,
# l, S, Z, B, G, b, g, q, D, σ, δ, circles, lone strokes) are left out on purpose: refusing them
# would teach the network to refuse real 0s, 1s, 2s, 5s, 6s, 8s and 9s.

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage as ndi

from mnistlab import images

CANVAS = 96  # side of a generated picture in pixels before the pipeline prepares it
# A prepared picture whose ink is at most this many pixels wide is a lone stroke, which reads as a 1.
ONE_LIKE_WIDTH = 8
# Letters and symbols that cannot be read as a digit (see the module comment for what is left out).
LETTERS = "ACEFHJKLMNPRTUVWXYacdefhkmnprtuvwxy"
SYMBOLS = "+-×÷=<>≤≥≠±#@&%$?*~^{}αβγλμπΣΩ√∞→←↑↓♥★✓"
PHOTOS = ("astronaut.png", "camera.png", "coffee.png", "chelsea.png", "coins.png", "moon.png", "rocket.jpg",
          "motorcycle_left.png", "brick.png", "grass.png", "gravel.png", "page.png", "text.png", "retina.jpg")

Generator = Callable[[np.random.Generator], np.ndarray]


@cache
def font_files() -> tuple[Path, ...]:
    """The TrueType fonts that ship with matplotlib (DejaVu, STIX, Computer Modern): printed letter shapes."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return tuple(sorted(p for p in folder.glob("*.ttf") if not p.name.startswith(("LastResort", "cmex", "STIXSiz"))))


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _has_glyph(font: ImageFont.FreeTypeFont, text: str) -> bool:
    box = font.getbbox(text)
    return box[2] - box[0] > 2 and box[3] - box[1] > 2


def _paper(rng: np.random.Generator) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    paper = Image.new("L", (CANVAS, CANVAS), int(rng.integers(215, 256)))
    return paper, ImageDraw.Draw(paper)


def _ink(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 90))


def _handwritten(paper: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """A printed or drawn picture made to look hand-drawn: tilted, sheared and gently warped."""
    angle = rng.uniform(-20, 20)
    shear = rng.uniform(-0.3, 0.3)
    tilted = paper.rotate(angle, resample=Image.BILINEAR, fillcolor=paper.getpixel((0, 0)))
    tilted = tilted.transform(tilted.size, Image.AFFINE, (1, shear, -shear * CANVAS / 2, 0, 1, 0),
                              resample=Image.BILINEAR, fillcolor=paper.getpixel((0, 0)))
    grey = np.asarray(tilted, dtype=np.float32)
    # Elastic warp (Simard et al., 2003): a smooth random displacement field bends the straight strokes.
    strength, smooth = rng.uniform(1.5, 4.0), rng.uniform(5, 9)
    dy, dx = (ndi.gaussian_filter(rng.uniform(-1, 1, grey.shape), smooth) * strength * smooth for _ in range(2))
    rows, cols = np.meshgrid(np.arange(CANVAS), np.arange(CANVAS), indexing="ij")
    return ndi.map_coordinates(grey, [rows + dy, cols + dx], order=1, mode="nearest").astype(np.uint8)


def glyph(characters: str) -> Generator:
    """A generator of one character from ``characters`` in a random matplotlib font, size and slant."""

    def draw(rng: np.random.Generator) -> np.ndarray:
        for _ in range(20):  # not every font has every symbol
            text = characters[rng.integers(len(characters))]
            fonts = font_files()
            font = _font(fonts[rng.integers(len(fonts))], int(rng.integers(44, 76)))
            if _has_glyph(font, text):
                break
        paper, pen = _paper(rng)
        pen.text((CANVAS / 2, CANVAS / 2), text, font=font, fill=_ink(rng), anchor="mm")
        return _handwritten(paper, rng)

    return draw


def _smooth_path(points: np.ndarray, steps: int = 12) -> list[tuple[float, float]]:
    """A Catmull-Rom curve through ``points``: a pen stroke rather than a polygon."""
    padded = np.vstack([points[:1], points, points[-1:]])
    path = []
    for p0, p1, p2, p3 in zip(padded, padded[1:], padded[2:], padded[3:], strict=False):
        for t in np.linspace(0, 1, steps, endpoint=False):
            path.append(tuple(0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                                     + (3 * p1 - p0 - 3 * p2 + p3) * t**3)))
    path.append(tuple(points[-1]))
    return path


def scribble(rng: np.random.Generator) -> np.ndarray:
    """A random scrawl: one or two smooth pen strokes through 5-12 random points."""
    paper, pen = _paper(rng)
    for _ in range(int(rng.integers(1, 3))):
        points = rng.uniform(12, CANVAS - 12, size=(int(rng.integers(5, 13)), 2))
        pen.line(_smooth_path(points), fill=_ink(rng), width=int(rng.integers(3, 8)), joint="curve")
    return _handwritten(paper, rng)


def _star(centre: float, outer: float, inner: float, tips: int, turn: float) -> list[tuple[float, float]]:
    corners = []
    for k in range(2 * tips):
        radius = outer if k % 2 == 0 else inner
        angle = turn + math.pi * k / tips
        corners.append((centre + radius * math.cos(angle), centre + radius * math.sin(angle)))
    return corners


def shape(rng: np.random.Generator) -> np.ndarray:
    """A drawn shape: a star, a polygon, an arrow, a house, a smiley, a grid, a spiral, a blot or a few dots."""
    paper, pen = _paper(rng)
    ink, width, c = _ink(rng), int(rng.integers(3, 7)), CANVAS / 2
    kind = rng.integers(9)
    if kind == 0:  # star
        corners = _star(c, rng.uniform(30, 42), rng.uniform(10, 20), int(rng.integers(4, 8)), rng.uniform(0, 6.3))
        pen.polygon(corners, outline=ink, width=width, fill=ink if rng.random() < 0.3 else None)
    elif kind == 1:  # polygon with 3-6 corners
        corners = _star(c, rng.uniform(28, 42), rng.uniform(28, 42), int(rng.integers(2, 4)), rng.uniform(0, 6.3))[::2]
        pen.polygon(corners, outline=ink, width=width)
    elif kind == 2:  # arrow
        pen.line([(15, c), (80, c)], fill=ink, width=width)
        pen.line([(60, c - 18), (80, c), (60, c + 18)], fill=ink, width=width, joint="curve")
    elif kind == 3:  # house
        pen.rectangle([24, 45, 72, 84], outline=ink, width=width)
        pen.line([(18, 48), (48, 14), (78, 48)], fill=ink, width=width, joint="curve")
        pen.rectangle([42, 62, 54, 84], outline=ink, width=max(2, width - 2))
    elif kind == 4:  # smiley: the face circle alone would read as a 0, its eyes and mouth make it a face
        pen.ellipse([12, 12, 84, 84], outline=ink, width=width)
        pen.ellipse([30, 32, 38, 42], fill=ink)
        pen.ellipse([58, 32, 66, 42], fill=ink)
        pen.arc([28, 40, 68, 70], 20, 160, fill=ink, width=width)
    elif kind == 5:  # grid or hash
        lines = int(rng.integers(3, 6))
        for x in np.linspace(18, 78, lines):
            pen.line([(x, 12), (x, 84)], fill=ink, width=width)
            pen.line([(12, x), (84, x)], fill=ink, width=width)
    elif kind == 6:  # spiral
        turns = np.linspace(0, rng.uniform(3, 5) * math.pi, 80)
        pen.line([(c + 3.5 * t * math.cos(t), c + 3.5 * t * math.sin(t)) for t in turns], fill=ink, width=width)
    elif kind == 7:  # a filled blot: what the pipeline makes of a dot or a smudge blown up to digit size
        corners = _star(c, rng.uniform(15, 40), rng.uniform(15, 40), int(rng.integers(3, 7)), rng.uniform(0, 6.3))
        pen.polygon(corners, fill=ink)
    else:  # a few dots
        for x, y in rng.uniform(15, CANVAS - 15, size=(int(rng.integers(2, 6)), 2)):
            r = rng.uniform(4, 9)
            pen.ellipse([x - r, y - r, x + r, y + r], fill=ink)
    return _handwritten(paper, rng)


@cache
def _photo(name: str) -> np.ndarray:
    import skimage

    return np.asarray(Image.open(Path(skimage.data_dir) / name).convert("L"))


def photo_crop(rng: np.random.Generator) -> np.ndarray:
    """A random square crop of one of scikit-image's sample photos, scaled down like a user's upload."""
    photo = _photo(PHOTOS[rng.integers(len(PHOTOS))])
    side = int(rng.integers(min(photo.shape) // 4, min(photo.shape)))
    top, left = rng.integers(0, photo.shape[0] - side + 1), rng.integers(0, photo.shape[1] - side + 1)
    crop = Image.fromarray(photo[top:top + side, left:left + side]).resize((CANVAS, CANVAS), Image.BILINEAR)
    return np.asarray(crop)


def digit_pair(digits: np.ndarray) -> Generator:
    """Two training digits side by side and overlapping, read as one picture: two digits are not one."""

    def draw(rng: np.random.Generator) -> np.ndarray:
        a, b = (digits[i].reshape(28, 28) for i in rng.integers(len(digits), size=2))
        overlap = int(rng.integers(4, 14))
        canvas = np.zeros((28, 56 - overlap), dtype=np.float32)
        canvas[:, :28] = a
        canvas[:, 28 - overlap:] = np.maximum(canvas[:, 28 - overlap:], b)
        return (255 * (1 - np.clip(canvas, 0, 1))).astype(np.uint8)  # dark ink on white paper, like a scan

    return draw


def generators(digits: np.ndarray | None = None) -> dict[str, tuple[float, Generator]]:
    """Every kind of non-digit with its share of the mix; ``digits`` (training digits) enable digit pairs."""
    kinds: dict[str, tuple[float, Generator]] = {
        "letter": (0.30, glyph(LETTERS)),
        "symbol": (0.20, glyph(SYMBOLS)),
        "scribble": (0.15, scribble),
        "shape": (0.15, shape),
        "photo": (0.10, photo_crop),
    }
    if digits is not None:
        kinds["pair"] = (0.10, digit_pair(digits))
    return kinds


def looks_like_a_one(prepared: np.ndarray) -> bool:
    """Whether a prepared picture is a lone narrow stroke, as a 1 is: never a non-digit example."""
    columns = np.flatnonzero(np.asarray(prepared).reshape(28, 28).max(axis=0) > 0.3)
    return columns.size == 0 or columns[-1] - columns[0] < ONE_LIKE_WIDTH


def generate(count: int, seed: int, digits: np.ndarray | None = None) -> np.ndarray:
    """``count`` prepared non-digits (count, 28, 28, 1) float32, the same for the same seed.

    Each picture goes through :func:`mnistlab.images.prepare_image`; one the pipeline refuses
    (nothing digit-like found, e.g. a flat photo crop) is replaced by another, since a user's
    picture like it would never reach the network either; so is a lone stroke (:func:`looks_like_a_one`).
    """
    if count < 0:
        raise ValueError(f"count must be at least 0, got {count}")
    kinds = list(generators(digits).values())
    shares = np.array([share for share, _ in kinds])
    rng = np.random.default_rng(seed)
    prepared = np.zeros((count, 28, 28, 1), dtype=np.float32)
    done = 0
    while done < count:
        _, draw = kinds[rng.choice(len(kinds), p=shares / shares.sum())]
        try:
            picture = images.prepare_image(draw(rng))
        except images.ImageError:
            continue
        if not looks_like_a_one(picture):
            prepared[done] = picture
            done += 1
    return prepared
