"""Make the sample "user" images in images/samples/ from MNIST *test* digits and drawing code.

Deterministic (seeded): running it again rewrites the same images. Every image is either an
MNIST test digit transformed to look like a photo, scan or paint-program drawing, or a digit
drawn as pen strokes from hand-written polyline templates below. Nothing here is ever used
for training. Run: ``python scripts/make_sample_images.py`` (needs MNIST, see mnistlab.data).
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from mnistlab import config, data

SEED = 2026
PER_KIND = 12
OUT = config.images_dir() / "samples"

# Polyline templates (x, y in 0..1, y down) for pen-drawn digits; a list of strokes per digit.
_CIRCLE = [(0.5 + 0.3 * math.sin(t), 0.5 - 0.4 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 40)]
TEMPLATES = {
    0: [_CIRCLE],
    1: [[(0.35, 0.25), (0.55, 0.1), (0.55, 0.9)]],
    2: [[(0.25, 0.3), (0.35, 0.15), (0.55, 0.1), (0.72, 0.2), (0.72, 0.38), (0.25, 0.9), (0.78, 0.9)]],
    3: [
        [
            (0.25, 0.15),
            (0.6, 0.1),
            (0.72, 0.25),
            (0.6, 0.45),
            (0.4, 0.48),
            (0.62, 0.52),
            (0.75, 0.7),
            (0.6, 0.9),
            (0.25, 0.85),
        ]
    ],
    4: [[(0.62, 0.9), (0.62, 0.1), (0.2, 0.65), (0.82, 0.65)]],
    5: [[(0.75, 0.1), (0.32, 0.1), (0.28, 0.45), (0.55, 0.42), (0.72, 0.55), (0.72, 0.75), (0.55, 0.9), (0.25, 0.85)]],
    6: [
        [
            (0.7, 0.12),
            (0.45, 0.25),
            (0.3, 0.5),
            (0.28, 0.75),
            (0.45, 0.9),
            (0.65, 0.85),
            (0.72, 0.68),
            (0.6, 0.52),
            (0.4, 0.55),
            (0.3, 0.68),
        ]
    ],
    7: [[(0.2, 0.1), (0.8, 0.1), (0.45, 0.9)]],
    8: [
        [(0.5 + 0.2 * math.sin(t), 0.3 - 0.2 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 30)],
        [(0.5 + 0.25 * math.sin(t), 0.7 - 0.2 * math.cos(t)) for t in np.linspace(math.pi, 3 * math.pi, 30)],
    ],
    9: [
        [
            (0.7, 0.35),
            (0.5 + 0.22 * math.sin(1.6), 0.32),
            *[
                (0.48 + 0.22 * math.sin(t), 0.32 - 0.2 * math.cos(t))
                for t in np.linspace(math.pi / 2, 2.5 * math.pi, 30)
            ],
            (0.7, 0.35),
            (0.66, 0.9),
        ]
    ],
}


def mnist_test_pool():
    """MNIST test digits grouped by label."""
    _, (x_test, y_test) = data.load_mnist()
    return x_test, y_test


def upscale(digit: np.ndarray, size: int) -> np.ndarray:
    """An MNIST digit (uint8, white on black) as float ink in [0, 1] at ``size`` x ``size``."""
    return np.asarray(Image.fromarray(digit).resize((size, size), Image.BICUBIC), dtype=np.float32).clip(0, 255) / 255


def draw_template(digit: int, size: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A digit drawn with pen strokes of ``width`` pixels: float ink in [0, 1]."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    jitter = rng.normal(0, 0.015, size=2)
    slant = rng.uniform(-0.15, 0.15)
    for stroke in TEMPLATES[digit]:
        points = []
        for x, y in stroke:
            x = x + slant * (0.5 - y) + jitter[0] + rng.normal(0, 0.004)
            y = y + jitter[1] + rng.normal(0, 0.004)
            points.append((x * size, y * size))
        draw.line(points, fill=255, width=width, joint="curve")
    return np.asarray(canvas, dtype=np.float32) / 255


def place(ink: np.ndarray, shape: tuple[int, int], top: int, left: int) -> np.ndarray:
    out = np.zeros(shape, dtype=np.float32)
    h, w = ink.shape
    out[top : top + h, left : left + w] = ink
    return out


def lighting(shape, rng, strength=0.35):
    """Uneven light: a gradient plus a soft shadow blob, 1 = full light."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    angle = rng.uniform(0, 2 * math.pi)
    grad = np.cos(angle) * xx + np.sin(angle) * yy
    grad = (grad - grad.min()) / max(np.ptp(grad), 1e-6)
    cy, cx = rng.uniform(0, 1, size=2) * (h / max(h, w), w / max(h, w))
    shadow = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(0.05, 0.2) ** 2))
    return (1 - strength * grad) * (1 - 0.5 * strength * shadow)


def compose(
    ink: np.ndarray, paper_rgb, ink_rgb, light: np.ndarray | float = 1.0, noise: float = 0.0, rng=None
) -> np.ndarray:
    """Ink on paper as uint8 RGB."""
    paper = np.asarray(paper_rgb, dtype=np.float32) / 255
    pen = np.asarray(ink_rgb, dtype=np.float32) / 255
    rgb = paper * (1 - ink[..., None]) + pen * ink[..., None]
    rgb = rgb * (np.asarray(light)[..., None] if np.ndim(light) else light)
    if noise and rng is not None:
        rgb = rgb + rng.normal(0, noise, size=rgb.shape)
    return (rgb.clip(0, 1) * 255).round().astype(np.uint8)


def save(image: Image.Image, name: str, fmt: str, **kwargs) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    (OUT / name).write_bytes(buffer.getvalue())
    return name


def main() -> None:
    rng = np.random.default_rng(SEED)
    x_test, y_test = mnist_test_pool()
    rows: list[dict] = []
    for old in OUT.glob("*"):
        if old.is_file():
            old.unlink()

    def pick(label: int) -> tuple[np.ndarray, int]:
        index = int(rng.choice(np.flatnonzero(y_test == label)))
        return x_test[index], index

    def add(name, label, kind, source):
        rows.append({"file": name, "label": str(label), "kind": kind, "source": source})

    formats = [
        ("png", "PNG", {}),
        ("jpg", "JPEG", {"quality": 80}),
        ("bmp", "BMP", {}),
        ("tif", "TIFF", {"compression": "tiff_deflate"}),
        ("webp", "WEBP", {"quality": 80}),
    ]
    papers = [(250, 246, 235), (255, 245, 160), (255, 210, 220), (200, 225, 255), (215, 245, 205)]
    inks = [(20, 40, 150), (170, 20, 30), (20, 110, 40), (60, 20, 110), (30, 30, 30)]

    for i in range(PER_KIND):  # 1. scans: dark ink on light paper, various formats
        label = i % 10
        digit, index = pick(label)
        size = int(rng.integers(100, 200))
        ink = place(upscale(digit, size), (size + 60, size + 60), 30, 30)
        rgb = compose(ink, (245, 245, 240), (25, 25, 25), noise=0.02, rng=rng)
        ext, fmt, kw = formats[i % len(formats)]
        img = Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(0.8))
        if i % 3 == 0 or fmt == "BMP":
            img = img.convert("L")
        add(save(img, f"scan_{i:02d}.{ext}", fmt, **kw), label, "scan dark-on-light", f"mnist-test:{index}")

    for i in range(PER_KIND):  # 2. phone photos: shadows, gradient, blur, JPEG, some with EXIF rotation
        label = (i + 3) % 10
        digit, index = pick(label)
        size = int(rng.integers(180, 320))
        h, w = size + int(rng.integers(80, 200)), size + int(rng.integers(80, 200))
        ink = place(
            upscale(digit, size), (h, w), int(rng.integers(20, h - size - 20)), int(rng.integers(20, w - size - 20))
        )
        rgb = compose(ink, (235, 232, 225), (35, 35, 45), light=lighting((h, w), rng, 0.45), noise=0.03, rng=rng)
        img = Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(1.2))
        if i % 3 == 0:  # stored sideways with an EXIF "rotate" tag, as phones do
            exif = Image.Exif()
            exif[0x0112] = 6  # orientation: rotate 90 CW to view
            img = img.transpose(Image.Transpose.ROTATE_90)
            add(
                save(img, f"photo_{i:02d}.jpg", "JPEG", quality=70, exif=exif),
                label,
                "photo with shadow",
                f"mnist-test:{index}",
            )
        else:
            add(save(img, f"photo_{i:02d}.jpg", "JPEG", quality=70), label, "photo with shadow", f"mnist-test:{index}")

    for i in range(PER_KIND):  # 3. coloured paper and coloured ink
        label = (i + 5) % 10
        digit, index = pick(label)
        size = int(rng.integers(120, 200))
        ink = place(upscale(digit, size), (size + 80, size + 80), 40, 40)
        rgb = compose(
            ink,
            papers[i % len(papers)],
            inks[i % len(inks)],
            light=lighting((size + 80,) * 2, rng, 0.2),
            noise=0.02,
            rng=rng,
        )
        ext, fmt, kw = [("png", "PNG", {}), ("webp", "WEBP", {"quality": 80}), ("jpg", "JPEG", {"quality": 80})][i % 3]
        add(
            save(Image.fromarray(rgb), f"colour_{i:02d}.{ext}", fmt, **kw),
            label,
            "coloured paper/ink",
            f"mnist-test:{index}",
        )

    for i in range(PER_KIND):  # 4. light on dark: chalkboard, white pen on black, dark-mode paint
        label = (i + 7) % 10
        digit, index = pick(label)
        size = int(rng.integers(120, 200))
        ink = place(upscale(digit, size), (size + 70, size + 90), 35, 45)
        board = [(30, 50, 40), (15, 15, 20), (40, 40, 45)][i % 3]
        rgb = compose(ink, board, (235, 235, 225), light=lighting(ink.shape, rng, 0.3), noise=0.04, rng=rng)
        add(
            save(
                Image.fromarray(rgb), f"dark_{i:02d}.{'png' if i % 3 == 0 else 'jpg'}", "PNG" if i % 3 == 0 else "JPEG"
            ),
            label,
            "light-on-dark",
            f"mnist-test:{index}",
        )

    for i in range(PER_KIND):  # 5. thin pen strokes on a big canvas (paint program, 1-2 px brush)
        label = i % 10
        size = 1000
        digit_size = int(rng.integers(400, 800))
        ink = place(
            draw_template(label, digit_size, int(rng.integers(1, 3)), rng),
            (size, size),
            int(rng.integers(0, size - digit_size)),
            int(rng.integers(0, size - digit_size)),
        )
        img = Image.fromarray(((1 - ink) * 255).astype(np.uint8))
        if i % 2:
            add(save(img.convert("P"), f"thin_{i:02d}.gif", "GIF"), label, "thin strokes, big canvas", "drawn")
        else:
            add(save(img, f"thin_{i:02d}.png", "PNG", optimize=True), label, "thin strokes, big canvas", "drawn")

    for i in range(PER_KIND):  # 6. tiny, off-centre digits with a few specks around
        label = (i + 1) % 10
        digit, index = pick(label)
        size = int(rng.integers(22, 48))
        h, w = int(rng.integers(250, 400)), int(rng.integers(250, 400))
        ink = place(
            upscale(digit, size), (h, w), int(rng.integers(5, h - size - 5)), int(rng.integers(5, w - size - 5))
        )
        for _ in range(int(rng.integers(2, 6))):
            y, x = int(rng.integers(0, h - 3)), int(rng.integers(0, w - 3))
            ink[y : y + 2, x : x + 2] = 0.8
        rgb = compose(ink, (248, 248, 248), (10, 10, 10), noise=0.015, rng=rng)
        ext, fmt = ("png", "PNG") if i % 2 == 0 else ("jpg", "JPEG")
        add(
            save(Image.fromarray(rgb).convert("L"), f"tiny_{i:02d}.{ext}", fmt),
            label,
            "tiny off-centre",
            f"mnist-test:{index}",
        )

    for i in range(PER_KIND):  # 7. noisy scans: specks, paper grain, 16-bit TIFF, slight rotation
        label = (i + 4) % 10
        digit, index = pick(label)
        size = int(rng.integers(120, 200))
        ink = place(upscale(digit, size), (size + 60, size + 60), 30, 30)
        ink = np.asarray(Image.fromarray(ink).rotate(float(rng.uniform(-12, 12)), Image.BILINEAR))
        grain = ndi_grain(ink.shape, rng)
        grey = (0.92 - 0.8 * ink + grain).clip(0, 1)
        specks = rng.random(ink.shape) < 0.003
        grey[specks] = rng.choice([0.0, 1.0], size=int(specks.sum()))
        if i % 2 == 0:
            img = Image.fromarray((grey * 65535).astype(np.uint16))
            add(
                save(img, f"noisy_{i:02d}.tif", "TIFF", compression="tiff_deflate"),
                label,
                "noisy scan",
                f"mnist-test:{index}",
            )
        else:
            img = Image.fromarray((grey * 255).astype(np.uint8))
            add(save(img, f"noisy_{i:02d}.jpg", "JPEG", quality=60), label, "noisy scan", f"mnist-test:{index}")

    for i in range(PER_KIND):  # 8. paint programs: transparent background (RGBA / palette), lying extension
        label = (i + 6) % 10
        digit, index = pick(label)
        size = int(rng.integers(200, 400))
        alpha = (place(upscale(digit, size), (size + 40, size + 40), 20, 20) * 255).astype(np.uint8)
        colour = [(0, 0, 0), (255, 255, 255), (200, 30, 30), (30, 60, 200)][i % 4]
        rgba = np.zeros(alpha.shape + (4,), dtype=np.uint8)
        rgba[..., :3] = colour
        rgba[..., 3] = alpha
        img = Image.fromarray(rgba)
        if i % 4 == 3:
            add(
                save(img, f"paint_{i:02d}.jpg", "PNG"), label, "paint, transparent", f"mnist-test:{index}"
            )  # PNG named .jpg
        elif i % 4 == 2:
            add(
                save(img, f"paint_{i:02d}.webp", "WEBP", lossless=True),
                label,
                "paint, transparent",
                f"mnist-test:{index}",
            )
        else:
            add(save(img, f"paint_{i:02d}.png", "PNG"), label, "paint, transparent", f"mnist-test:{index}")

    numbers = ["2026", "314", "1789", "42", "905", "6174", "380", "1234", "5067", "98"]
    for i, number in enumerate(numbers):  # 9. several digits in a row
        size = int(rng.integers(90, 150))
        pieces, sources = [], []
        for ch in number:
            digit, index = pick(int(ch))
            pieces.append(upscale(digit, size))
            sources.append(str(index))
        gap = int(rng.integers(-size // 8, size // 10))
        w = 40 + len(number) * (size + gap) + 40
        ink = np.zeros((size + 60, w), dtype=np.float32)
        for k, piece in enumerate(pieces):
            left = 40 + k * (size + gap)
            ink[30 : 30 + size, left : left + size] = np.maximum(ink[30 : 30 + size, left : left + size], piece)
        dark = i % 3 == 2
        rgb = compose(
            ink,
            (25, 25, 30) if dark else (240, 238, 230),
            (230, 230, 230) if dark else (30, 30, 60),
            light=lighting(ink.shape, rng, 0.3),
            noise=0.02,
            rng=rng,
        )
        add(
            save(Image.fromarray(rgb), f"number_{i:02d}.jpg", "JPEG", quality=80),
            number,
            "multi-digit",
            "mnist-test:" + "+".join(sources),
        )

    # The two kinds below were added later; they come last so the images above stay the same.
    for i in range(PER_KIND):  # 10. ruled or squared school paper, lines often crossing the digit
        label = (i + 2) % 10
        digit, index = pick(label)
        size = int(rng.integers(140, 240))
        h, w = size + int(rng.integers(120, 260)), size + int(rng.integers(160, 320))
        top, left = int(rng.integers(30, h - size - 30)), int(rng.integers(40, w - size - 40))
        ink = place(upscale(digit, size), (h, w), top, left)
        grid = i % 3 == 2
        lines = printed_lines((h, w), spacing=size * rng.uniform(0.45, 1.0), width=int(rng.integers(1, 4)),
                              tilt=rng.uniform(-3, 3), grid=grid, rng=rng)
        # Light blue or grey print and a ballpoint pen; every fourth one a pencil, barely darker than the lines.
        pencil = i % 4 == 3
        line_rgb = (150, 150, 155) if pencil else [(150, 180, 230), (170, 170, 175), (120, 150, 210)][i % 3]
        paper = compose(lines * rng.uniform(0.5, 1.0), (250, 250, 245), line_rgb)
        pen_rgb = (100, 100, 105) if pencil else [(25, 30, 90), (30, 30, 30), (20, 40, 150)][i % 3]
        pen = np.asarray(pen_rgb, dtype=np.float32)
        rgb = paper.astype(np.float32) * (1 - ink[..., None]) + pen * ink[..., None]
        rgb = rgb * lighting((h, w), rng, 0.3)[..., None] + rng.normal(0, 4, size=rgb.shape)
        img = Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))
        add(
            save(img, f"ruled_{i:02d}.jpg", "JPEG", quality=80),
            label,
            "squared paper" if grid else "ruled paper",
            f"mnist-test:{index}",
        )

    for i in range(PER_KIND):  # 11. a sheet photographed on a darker table, the table all around it
        label = (i + 8) % 10
        digit, index = pick(label)
        size = int(rng.integers(100, 180))
        h, w = int(size * rng.uniform(2.6, 3.4)), int(size * rng.uniform(2.6, 3.4))
        sheet = sheet_mask((h, w), rng)
        on_rows, on_cols = np.nonzero(sheet > 0.99)
        # The digit somewhere well inside the sheet.
        top = int(np.clip(on_rows.mean() - size / 2 + rng.normal(0, 0.1 * size), on_rows.min() + 10,
                          on_rows.max() - size - 10))
        left = int(np.clip(on_cols.mean() - size / 2 + rng.normal(0, 0.1 * size), on_cols.min() + 10,
                           on_cols.max() - size - 10))
        ink = place(upscale(digit, size), (h, w), top, left)
        page = compose(ink, (240, 238, 232), (30, 30, 40)).astype(np.float32)
        table = np.asarray([(95, 60, 35), (60, 60, 65), (120, 85, 50), (40, 35, 30)][i % 4], dtype=np.float32)
        table_rgb = table * (1 + ndi_grain((h, w), rng)[..., None] * 3)
        rgb = page * sheet[..., None] + table_rgb * (1 - sheet[..., None])
        rgb = rgb * lighting((h, w), rng, 0.35)[..., None] + rng.normal(0, 4, size=rgb.shape)
        img = Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.0))
        add(save(img, f"table_{i:02d}.jpg", "JPEG", quality=75), label, "sheet on a table", f"mnist-test:{index}")

    with open(OUT / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["file", "label", "kind", "source"])
        writer.writeheader()
        writer.writerows(rows)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(rows)} images to {OUT} ({total / 1e6:.2f} MB)")


def printed_lines(shape, spacing: float, width: int, tilt: float, grid: bool, rng) -> np.ndarray:
    """The printed lines of ruled (or, with ``grid``, squared) paper, float in [0, 1], slightly tilted."""
    h, w = shape
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    drift = math.tan(math.radians(tilt))
    start = rng.uniform(0, spacing)
    for at in np.arange(start, max(h, w) * 1.2, spacing):
        draw.line([(-w * 0.1, at), (w * 1.1, at + drift * w * 1.2)], fill=255, width=width)
        if grid:
            draw.line([(at, -h * 0.1), (at - drift * h * 1.2, h * 1.1)], fill=255, width=width)
    return np.asarray(canvas, dtype=np.float32) / 255


def sheet_mask(shape, rng) -> np.ndarray:
    """Where a sheet of paper lies in a photo: a quadrilateral in mild perspective, soft-edged, in [0, 1]."""
    h, w = shape
    corners = [(0.12, 0.12), (0.88, 0.12), (0.88, 0.88), (0.12, 0.88)]
    points = [((x + rng.uniform(-0.06, 0.06)) * w, (y + rng.uniform(-0.06, 0.06)) * h) for x, y in corners]
    canvas = Image.new("L", (w, h), 0)
    ImageDraw.Draw(canvas).polygon(points, fill=255)
    return np.asarray(canvas.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32) / 255


def ndi_grain(shape, rng) -> np.ndarray:
    """Paper grain: smoothed noise, a few percent of grey."""
    from scipy import ndimage as ndi

    return ndi.gaussian_filter(rng.normal(0, 0.06, size=shape), 1.5).astype(np.float32)


if __name__ == "__main__":
    main()
