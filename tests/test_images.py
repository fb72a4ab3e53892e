"""The user-image pipeline: every input kind reads, every step does its job, bad input fails clearly."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from mnistlab import config, images
from mnistlab.images.constants import WORK_SIZE

# --------------------------------------------------------------------------- drawing helpers


def draw_digit(shape: str = "seven", size: int = 200, width: int = 20, canvas: tuple[int, int] | None = None,
               offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Ink in [0, 1] (1 = ink) of a simple digit-like shape drawn with a pen of ``width`` px."""
    height, wide = canvas or (size, size)
    image = Image.new("L", (wide, height), 0)
    draw = ImageDraw.Draw(image)
    top, left = offset
    s = size

    def p(x, y):
        return (left + x * s, top + y * s)

    if shape == "seven":
        draw.line([p(0.25, 0.15), p(0.75, 0.15), p(0.45, 0.85)], fill=255, width=width)
    elif shape == "one":
        draw.line([p(0.5, 0.12), p(0.5, 0.88)], fill=255, width=width)
    elif shape == "zero":
        draw.ellipse([p(0.28, 0.12), p(0.72, 0.88)], outline=255, width=width)
    elif shape == "four":
        draw.line([p(0.62, 0.88), p(0.62, 0.12), p(0.22, 0.62), p(0.8, 0.62)], fill=255, width=width)
    else:
        raise ValueError(shape)
    return np.asarray(image, dtype=np.float32) / 255


def paper(ink: np.ndarray, dark_ink: bool = True) -> np.ndarray:
    """uint8 grey image: dark ink on light paper (or the reverse)."""
    grey = 0.95 - 0.85 * ink if dark_ink else 0.08 + 0.85 * ink
    return (grey * 255).round().astype(np.uint8)


def encode(array_or_image, fmt: str, **kwargs) -> bytes:
    image = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two prepared images (1 = identical pattern)."""
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def shifted_similarity(a: np.ndarray, b: np.ndarray, reach: int = 1) -> float:
    """Best :func:`similarity` over shifts of up to ``reach`` pixels (centring rounds to whole pixels)."""
    return max(
        similarity(np.roll(a, (dy, dx), axis=(0, 1)), b)
        for dy in range(-reach, reach + 1)
        for dx in range(-reach, reach + 1)
    )


@pytest.fixture(scope="module")
def reference():
    """The clean, centred seven every variant is compared with."""
    return images.prepare_image(paper(draw_digit("seven")))


def check_mnist_like(result: np.ndarray) -> None:
    assert result.shape == (28, 28, 1)
    assert result.dtype == np.float32
    assert result.min() >= 0.0 and result.max() <= 1.0
    assert result.max() > 0.9  # stroke cores are white
    rows, cols = np.nonzero(result[..., 0] > 0)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21  # fits MNIST's 20 px box
    com = ndi.center_of_mass(result[..., 0])
    assert abs(com[0] - 14) <= 1 and abs(com[1] - 14) <= 1
    ring = np.concatenate([result[0, :, 0], result[-1, :, 0], result[:, 0, 0], result[:, -1, 0]])
    assert ring.mean() < 0.05  # black around a white digit


# --------------------------------------------------------------------------- formats and sources


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"])
def test_every_common_format_reads_to_the_same_digit(fmt, reference):
    result = images.prepare_image(encode(paper(draw_digit("seven")), fmt))
    check_mnist_like(result)
    assert similarity(result, reference) > 0.9


def test_path_and_pathlib_and_lying_extension(tmp_path, reference):
    png_named_jpg = tmp_path / "digit.jpg"
    png_named_jpg.write_bytes(encode(paper(draw_digit("seven")), "PNG"))
    assert similarity(images.prepare_image(png_named_jpg), reference) > 0.95
    assert similarity(images.prepare_image(str(png_named_jpg)), reference) > 0.95


def test_pil_image_and_arrays_of_many_kinds(reference):
    grey = paper(draw_digit("seven"))
    rgb = np.stack([grey] * 3, axis=-1)
    variants = [
        Image.fromarray(grey),
        grey,
        grey[..., np.newaxis],
        grey.astype(np.float32) / 255,
        grey.astype(np.float64),
        (grey.astype(np.uint16) * 257),
        grey > 128,
        rgb,
        np.concatenate([rgb, np.full(grey.shape + (1,), 255, np.uint8)], axis=-1),
    ]
    for variant in variants:
        result = images.prepare_image(variant)
        check_mnist_like(result)
        assert similarity(result, reference) > 0.9, type(variant)


def test_palette_sixteen_bit_and_cmyk(reference):
    grey = paper(draw_digit("seven"))
    palette = Image.fromarray(grey).convert("P")
    sixteen = Image.fromarray(grey.astype(np.uint16) * 257)
    assert sixteen.mode.startswith("I;16")
    cmyk = Image.fromarray(grey).convert("CMYK")
    for variant in (encode(palette, "PNG"), encode(sixteen, "PNG"), encode(cmyk, "JPEG"), encode(cmyk, "TIFF")):
        assert similarity(images.prepare_image(variant), reference) > 0.9


@pytest.mark.parametrize("colour", [(0, 0, 0), (255, 255, 255), (200, 30, 30)])
def test_transparency_is_composited_on_a_contrasting_background(colour, reference):
    ink = draw_digit("seven")
    rgba = np.zeros(ink.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = colour
    rgba[..., 3] = (ink * 255).astype(np.uint8)  # the digit lives only in the alpha channel
    result = images.prepare_image(encode(rgba, "PNG"))
    check_mnist_like(result)
    assert similarity(result, reference) > 0.9
    grey = images.to_grey(Image.fromarray(rgba))
    assert abs(float(grey[ink > 0.9].mean()) - float(grey[ink == 0].mean())) > 0.3  # visible after compositing


def test_palette_with_transparency(reference):
    ink = draw_digit("seven")
    image = Image.fromarray(np.where(ink > 0.5, 0, 255).astype(np.uint8)).convert("P")
    image.info["transparency"] = image.getpixel((0, 0))
    assert similarity(images.prepare_image(encode(image, "GIF", transparency=image.getpixel((0, 0)))), reference) > 0.9


def test_exif_rotation_is_applied(reference):
    upright = Image.fromarray(paper(draw_digit("seven")))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    data = encode(stored, "JPEG", quality=95, exif=exif)
    assert similarity(images.prepare_image(data), reference) > 0.9
    assert similarity(images.prepare_image(encode(stored, "JPEG", quality=95)), reference) < 0.6  # it mattered


# --------------------------------------------------------------------------- the steps


def test_polarity_is_detected_from_the_image(reference):
    ink = draw_digit("seven")
    assert images.detect_polarity(paper(ink, dark_ink=True) / 255.0) == images.DARK_ON_LIGHT
    assert images.detect_polarity(paper(ink, dark_ink=False) / 255.0) == images.LIGHT_ON_DARK
    light_on_dark = images.prepare_image(paper(ink, dark_ink=False))
    assert similarity(light_on_dark, reference) > 0.95


def test_polarity_with_a_hairline_on_a_big_canvas():
    ink = draw_digit("four", size=800, width=1, canvas=(1000, 1000), offset=(100, 100))
    assert images.detect_polarity(paper(ink) / 255.0) == images.DARK_ON_LIGHT
    assert images.detect_polarity(paper(ink, dark_ink=False) / 255.0) == images.LIGHT_ON_DARK


def test_uneven_lighting_and_coloured_paper_are_flattened(reference):
    ink = draw_digit("seven")
    yy, xx = np.mgrid[0:200, 0:200] / 200
    light = (1 - 0.5 * xx) * (1 - 0.35 * np.exp(-((yy - 0.7) ** 2 + (xx - 0.3) ** 2) / 0.02))
    paper_rgb = np.array([1.0, 0.85, 0.6])  # orange paper
    ink_rgb = np.array([0.1, 0.2, 0.6])  # blue ink
    rgb = (paper_rgb * (1 - ink[..., None]) + ink_rgb * ink[..., None]) * light[..., None]
    result = images.prepare_image((rgb * 255).astype(np.uint8))
    check_mnist_like(result)
    assert similarity(result, reference) > 0.9
    grey = images.to_grey(Image.fromarray((rgb * 255).astype(np.uint8)))
    flat, _ = images.flatten(grey, images.DARK_ON_LIGHT)
    paper_only = flat[ink == 0]
    assert np.percentile(paper_only, 99) < 0.5 * np.percentile(flat[ink > 0.9], 50)  # the shadow is gone


@pytest.mark.parametrize(
    ("paper_rgb", "ink_rgb"),
    [((255, 255, 255), (235, 230, 20)), ((60, 160, 60), (190, 95, 95))],
    ids=["yellow-on-white", "red-on-green-same-brightness"],
)
def test_coloured_ink_as_bright_as_its_paper_is_read_from_a_colour_channel(paper_rgb, ink_rgb, reference):
    ink = draw_digit("seven")[..., None]
    rgb = (np.array(paper_rgb) * (1 - ink) + np.array(ink_rgb) * ink).round().astype(np.uint8)
    brightness = images.to_grey(Image.fromarray(rgb))
    assert abs(float(brightness.max() - brightness.min())) < 0.2  # nearly invisible in brightness alone
    steps = images.prepare_steps(rgb)
    assert steps.grey_channel in {"red", "green", "blue", "colour distance"}
    assert similarity(steps.result, reference) > 0.95


def test_colour_channels_come_at_the_working_size():
    rgb = np.zeros((1500, 2500, 3), np.uint8)
    rgb[..., 0] = 255
    rgb[:, :1000, 1] = 200  # half red, half orange: colourful, so the channels are offered
    channels = images.colour_channels(Image.fromarray(rgb))
    grey = images.limit_size(images.to_grey(Image.fromarray(rgb)))
    assert set(channels) == {"red", "green", "blue"}
    working = (round(1500 * WORK_SIZE / 2500), WORK_SIZE)
    assert all(channel.shape == grey.shape == working for channel in channels.values())


def test_ordinary_colour_pictures_keep_brightness():
    ink = draw_digit("seven")[..., None]
    for paper_rgb, ink_rgb in [((250, 246, 235), (20, 40, 150)), ((255, 210, 220), (170, 20, 30))]:
        rgb = (np.array(paper_rgb) * (1 - ink) + np.array(ink_rgb) * ink).astype(np.uint8)
        assert images.prepare_steps(rgb).grey_channel == "brightness"
    assert images.colour_channels(Image.fromarray(paper(draw_digit("seven")))) == {}  # grey: nothing to choose


def test_specks_and_noise_are_dropped(reference):
    rng = np.random.default_rng(0)
    grey = paper(draw_digit("seven", canvas=(300, 300), offset=(50, 50))).astype(np.float32)
    grey += rng.normal(0, 8, grey.shape)
    for _ in range(30):  # pepper specks all over the page
        y, x = rng.integers(0, 297, size=2)
        grey[y:y + 3, x:x + 3] = 20
    result = images.prepare_image(np.clip(grey, 0, 255).astype(np.uint8))
    assert similarity(result, reference) > 0.9


def printed_lines(size: int = 600, spacing: int = 60, tilt: float = 2.0, grid: bool = False) -> np.ndarray:
    """Ruled (or, with ``grid``, squared) paper's lines in [0, 1], slightly tilted as in a photo."""
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    drift = np.tan(np.radians(tilt)) * size
    for at in range(15, size, spacing):
        draw.line([(0, at), (size, at + drift)], fill=255, width=3)
        if grid:
            draw.line([(at, 0), (at - drift, size)], fill=255, width=3)
    return np.asarray(image, dtype=np.float32) / 255


@pytest.mark.parametrize("shape", ["seven", "four", "zero"])
@pytest.mark.parametrize("grid", [False, True], ids=["ruled", "squared"])
def test_ruled_and_squared_paper_lines_are_removed(shape, grid):
    ink = draw_digit(shape, size=200, width=14, canvas=(600, 600), offset=(200, 200))
    clean = images.prepare_image(paper(ink))
    lined = np.clip(ink + 0.8 * printed_lines(grid=grid) * (1 - ink), 0, 1)  # lines as dark as a pen
    steps = images.prepare_steps(paper(lined))
    assert steps.rule_line_pixels > 0
    assert shifted_similarity(steps.result, clean) > 0.95
    ink, digit_mask, threshold = _front_without_line_removal(paper(lined))
    without_removal = images.normalise_digit(ink, digit_mask, threshold, images.PipelineSteps(keep_images=False))
    assert shifted_similarity(without_removal, clean) < 0.9  # what the lines did before they were removed


def _front_without_line_removal(source):
    """What the pipeline found before line removal existed: (ink, digit mask, threshold)."""
    grey = images.to_grey(images.read_image(source))
    ink, _ = images.flatten(grey, images.detect_polarity(grey))
    mask, threshold = images.threshold_ink(ink)
    return ink, images.find_digit(mask), threshold


def test_a_stroke_crossing_a_line_is_kept_whole():
    ink = draw_digit("one", size=200, width=10, canvas=(600, 600), offset=(190, 200))  # both ends between lines
    lines = printed_lines(tilt=0)
    mask, removed = images.remove_rule_lines((ink > 0.5) | (lines > 0.5))
    assert removed.any()
    np.testing.assert_array_equal(mask, ink > 0.5)  # lines gone, the one's stroke unbroken where they crossed


@pytest.mark.parametrize("shape", ["seven", "four", "one", "zero"])
@pytest.mark.parametrize("width", [2, 4, 8])
def test_a_digits_own_bar_is_never_taken_for_a_ruled_line(shape, width):
    # Tight crops are the risky case: a thin 4's bar or a 7's top crosses the whole image.
    mask = draw_digit(shape, size=400, width=width) > 0.5
    top, left, bottom, right = images.bounding_box(mask)
    for crop in (mask[top:bottom, left:right], np.pad(mask[top:bottom, left:right], 3)):
        kept, removed = images.remove_rule_lines(crop)
        assert not removed.any()
        np.testing.assert_array_equal(kept, crop)


def sheet_on_table(ink: np.ndarray, tilt: float = 8.0) -> np.ndarray:
    """uint8 photo of a white sheet (a tilted, blurred quadrilateral) on a dark, grainy table."""
    size = ink.shape[0]
    sheet = Image.new("L", (size, size), 0)
    angles = np.radians(np.array([45, 135, 225, 315]) + tilt)
    corners = [(size / 2 + 0.4 * size * np.cos(a), size / 2 + 0.43 * size * np.sin(a)) for a in angles]
    ImageDraw.Draw(sheet).polygon(corners, fill=255)
    on_sheet = ndi.gaussian_filter(np.asarray(sheet, dtype=np.float32) / 255, 2)
    table = 0.25 + 0.05 * np.random.default_rng(0).standard_normal(ink.shape)
    grey = on_sheet * (0.92 - 0.8 * ink) + (1 - on_sheet) * table
    return (np.clip(grey, 0, 1) * 255).astype(np.uint8)


@pytest.mark.parametrize("shape", ["seven", "four", "zero"])
def test_sheet_on_a_darker_table_is_isolated(shape):
    ink = draw_digit(shape, size=160, width=14, canvas=(600, 600), offset=(220, 200))
    steps = images.prepare_steps(sheet_on_table(ink))
    assert steps.page_found and steps.polarity == images.DARK_ON_LIGHT
    assert shifted_similarity(steps.result, images.prepare_image(paper(ink))) > 0.95


def test_a_sheet_too_narrow_to_trim_is_left_alone():
    grey = np.full((60, 1200), 0.2, dtype=np.float32)  # a long strip of paper on a dark table
    grey[8:52, 20:1180] = 0.9
    grey[15:45, 500:503] = 0.2  # a pen stroke on it
    assert images.find_page(grey) is not None
    cleaned, page = images.isolate_page(grey)  # its 2 % margin (24 px) is wider than the strip's half-height
    assert page is None and np.array_equal(cleaned, grey)


@pytest.mark.parametrize("shape", ["zero", "one", "seven"])
def test_fat_light_digits_on_dark_are_not_taken_for_a_sheet(shape):
    for width in (20, 45):
        grey = paper(draw_digit(shape, width=width), dark_ink=False) / 255.0
        assert images.find_page(grey) is None
        assert images.isolate_page(grey)[1] is None
        assert images.detect_polarity(grey) == images.LIGHT_ON_DARK


def test_separate_strokes_of_one_digit_are_kept_together():
    ink = draw_digit("seven")
    ink[:, 105:118] *= (np.arange(200) > 60)[:, None]  # cut the seven's bar: two blobs, one digit
    steps = images.prepare_steps(paper(ink))
    _, found = images.components(steps["digit_mask"])
    assert len(found) == 2


def test_hairline_on_a_big_canvas_becomes_an_mnist_stroke():
    ink = draw_digit("four", size=700, width=1, canvas=(1000, 1000), offset=(150, 120))
    steps = images.prepare_steps(paper(ink))
    assert steps.stroke_action == "thickened"
    pen = images.prepare_image(paper(draw_digit("four", size=700, width=55, canvas=(1000, 1000), offset=(150, 120))))
    coverage = float((steps.result > 0.5).mean())
    assert 0.05 < coverage < 0.3  # MNIST digits: 5-24 % of the 28x28 pixels above 0.5
    assert similarity(steps.result, pen) > 0.85  # like the same digit drawn with a normal pen


@pytest.mark.parametrize("pen", [6, 12, 24])
def test_measure_digit_strokes_gives_the_pen_width_and_its_share_of_the_digit(pen):
    relative, pixels = images.measure_digit_strokes(paper(draw_digit("one", size=200, width=pen)))
    assert pixels == pytest.approx(pen, rel=0.2)
    twice_as_big = images.measure_digit_strokes(paper(draw_digit("one", size=400, width=2 * pen)))
    assert twice_as_big[0] == pytest.approx(relative, rel=0.1), "the share does not depend on the picture's size"
    assert twice_as_big[1] == pytest.approx(2 * pixels, rel=0.1)
    twice_as_wide = images.measure_digit_strokes(paper(draw_digit("one", size=200, width=2 * pen)))[0]
    assert twice_as_wide == pytest.approx(2 * relative, rel=0.2)


def test_fat_marker_strokes_are_thinned():
    steps = images.prepare_steps(paper(draw_digit("seven", width=75)))
    assert steps.stroke_action == "thinned"
    assert 0.05 < float((steps.result > 0.5).mean()) < 0.35


def test_thinning_a_fat_digit_keeps_its_thin_parts():
    # A 6 whose loop was drawn with a fat marker (nearly filled) and whose stem is thin: eroding every
    # stroke by the loop's excess used to leave a one-pixel stem that vanished in the 20-pixel box.
    image = Image.new("L", (200, 200), 0)
    draw = ImageDraw.Draw(image)
    draw.ellipse([30, 70, 170, 195], outline=255, width=60)
    draw.line([(135, 8), (85, 40), (65, 100)], fill=255, width=8)
    steps = images.prepare_steps(paper(np.asarray(image, dtype=np.float32) / 255))
    assert steps.stroke_action == "thinned"
    result = steps.result[..., 0]
    assert result[2:8].max() > 0.5  # the stem, in the top of the box, is still a white stroke
    assert 0.05 < float((result > 0.5).mean()) < 0.3


def test_tiny_off_centre_digit_is_found_and_centred(reference):
    ink = draw_digit("seven", size=30, width=3, canvas=(480, 640), offset=(400, 40))
    result = images.prepare_image(paper(ink))
    check_mnist_like(result)
    other = images.prepare_image(paper(draw_digit("zero")))
    assert similarity(result, reference) > 0.75
    assert similarity(result, reference) > similarity(result, other) + 0.3


def test_aspect_ratio_is_kept_for_a_one():
    result = images.prepare_image(paper(draw_digit("one")))[..., 0]
    rows, cols = np.nonzero(result > 0.2)
    assert rows.max() - rows.min() + 1 >= 19  # 20 px tall
    assert cols.max() - cols.min() + 1 <= 8  # and still thin, not stretched into a square


def test_prepare_steps_shows_every_step_and_matches_prepare_image():
    source = paper(draw_digit("zero"))
    steps = images.prepare_steps(source, name="zero.png")
    assert not steps.page_found and steps.rule_line_pixels == 0
    assert list(steps.images) == ["original", "grey", "background", "ink", "mask", "digit_mask", "cropped",
                                  "stroke", "resized", "centred"]
    assert steps["resized"].shape[0] == 20 or steps["resized"].shape[1] == 20
    assert steps.polarity == images.DARK_ON_LIGHT and steps.name == "zero.png"
    np.testing.assert_array_equal(steps.result, images.prepare_image(source))


def test_mnist_test_digits_survive_the_pipeline(mnist_small):
    _, (x_test, _) = mnist_small
    prepared = np.stack([images.prepare_image(digit) for digit in x_test[:100]])[..., 0]
    original = x_test[:100].astype(np.float32) / 255
    diffs = np.abs(prepared - original).mean(axis=(1, 2))
    assert np.median(diffs) < 0.02  # nearly unchanged: MNIST is already what the pipeline makes
    assert np.mean([similarity(a, b) for a, b in zip(prepared, original, strict=True)]) > 0.95


def test_fat_mnist_eights_are_not_taken_for_a_sheet(mnist_arrays):
    # These test-set 8s have slit-like loops inside fat strokes: an early page detector took each
    # for a bright sheet with thin writing on it.
    _, (x_test, y_test) = mnist_arrays
    eights = [5960, 5967, 6004, 6070, 6154, 8097, 8486]
    assert set(y_test[eights]) == {8}
    for index in eights:
        assert images.find_page(x_test[index] / 255.0) is None


def test_raw_resize_is_the_naive_baseline():
    raw = images.raw_resize(paper(draw_digit("seven")))
    assert raw.shape == (28, 28, 1) and raw.dtype == np.float32
    assert raw[0, 0, 0] > 0.9  # still white paper: what the model never saw


# --------------------------------------------------------------------------- several digits


def test_split_digits_left_to_right():
    strip = np.zeros((200, 640), dtype=np.float32)
    for k, shape in enumerate(["one", "zero", "seven"]):
        strip[:, 20 + k * 200:220 + k * 200] = draw_digit(shape)
    pieces = images.split_digits(paper(strip))
    assert len(pieces) == 3
    singles = [images.prepare_image(paper(draw_digit(shape))) for shape in ["one", "zero", "seven"]]
    for i, piece in enumerate(pieces):
        assert piece.shape == (28, 28, 1)
        scores = [similarity(piece, single) for single in singles]
        assert int(np.argmax(scores)) == i


def test_split_digits_cuts_touching_digits():
    strip = np.zeros((200, 330), dtype=np.float32)
    strip[:, 0:200] = draw_digit("zero")
    strip[:, 110:310] = np.maximum(strip[:, 110:310], draw_digit("zero"))  # two zeros touching
    pieces = images.split_digits(paper(np.pad(strip, 20)))
    assert len(pieces) == 2


# --------------------------------------------------------------------------- bad input


def _png_with_size(width: int, height: int) -> bytes:
    """A valid-looking PNG whose header claims ``width`` x ``height`` (a decompression bomb)."""
    data = bytearray(encode(np.zeros((8, 8), np.uint8), "PNG"))
    ihdr = 8 + 8  # signature, then length + b"IHDR"
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:ihdr + 13])) & 0xFFFFFFFF
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def test_missing_file(tmp_path):
    with pytest.raises(images.ImageError, match=r"nope\.png: no such file"):
        images.prepare_image(tmp_path / "nope.png")


def test_folder_instead_of_a_file(tmp_path):
    with pytest.raises(images.ImageError, match="is a folder"):
        images.prepare_image(tmp_path)


def test_empty_file_and_empty_bytes(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(images.ImageError, match=r"empty\.png: the file is empty \(0 bytes\)"):
        images.prepare_image(empty)
    with pytest.raises(images.ImageError, match="empty"):
        images.prepare_image(b"")


def test_non_image_file(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\n")
    with pytest.raises(images.ImageError, match=r"notes\.png: not an image file .*PNG, JPEG"):
        images.prepare_image(text)


def test_corrupt_truncated_file(tmp_path):
    data = encode(paper(draw_digit("seven")), "PNG")
    broken = tmp_path / "broken.png"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(images.ImageError, match=r"broken\.png: .*(damaged|truncated)"):
        images.prepare_image(broken)
    jpeg = encode(paper(draw_digit("seven")), "JPEG")
    with pytest.raises(images.ImageError, match=r"cut\.jpg: .*(damaged|truncated)"):
        images.prepare_image(jpeg[: len(jpeg) // 3], name="cut.jpg")


@pytest.mark.parametrize(("width", "height", "size"), [
    (100_000, 100_000, "10,000 megapixels"),  # above Pillow's hard limit (179 MP), which refuses it itself
    (10_000, 10_000, "10,000x10,000 = 100 megapixels"),  # where Pillow only warns (89-179 MP)
    (8_000, 7_000, "8,000x7,000 = 56 megapixels"),  # only our limit applies
])
def test_decompression_bomb_is_refused_before_decoding_with_one_limit(tmp_path, width, height, size):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_with_size(width, height))
    with pytest.raises(images.ImageError) as caught:
        images.prepare_image(bomb)
    message = str(caught.value)
    assert f"bomb.png: the image is {size}; the limit is 50 megapixels" in message, message
    assert "decompression bomb" in message and "Resize it to at most 50 megapixels" in message
    assert "178956970" not in message and "89478485" not in message and message.count("limit") == 1


def test_too_many_pixels_reads_the_same_from_a_pil_image_and_an_array():
    for source, size in [(Image.new("1", (7_100, 7_100)), "7,100x7,100"),
                         (np.zeros((7_100, 7_100), bool), "7,100x7,100")]:
        with pytest.raises(images.ImageError, match=rf": the image is {size} = 50\.4 megapixels; the limit is 50 "):
            images.read_image(source)


def zeroed_png(recompute_checksum: bool) -> bytes:
    """A PNG of a seven whose image data (IDAT) is zeros from its middle on, as an overwritten file is.

    With the old checksum, as damage on a disk or in a transfer leaves it; with a recomputed one, as a
    faulty program writing the file would.
    """
    data = bytearray(encode(paper(draw_digit("seven")), "PNG"))
    chunk = data.index(b"IDAT") - 4  # its length field
    (length,) = struct.unpack(">I", data[chunk:chunk + 4])
    payload = chunk + 8
    data[payload + length // 2:payload + length] = bytes(length - length // 2)
    if recompute_checksum:
        crc = zlib.crc32(bytes(data[chunk + 4:payload + length]))
        data[payload + length:payload + length + 4] = struct.pack(">I", crc)
    return bytes(data)


@pytest.mark.parametrize(("recompute_checksum", "reason"), [
    (False, r"checksum in b'IDAT'"),
    (True, r"the compressed image data stops before its end"),
])
def test_png_with_zeroed_image_data_is_damaged_not_a_digit(recompute_checksum, reason):
    damaged = zeroed_png(recompute_checksum)
    # Pillow alone decodes it without a word, into a picture half black (see test_workarounds.py)
    assert np.asarray(Image.open(io.BytesIO(damaged))).mean() < 0.7 * paper(draw_digit("seven")).mean()
    with pytest.raises(images.ImageError, match=rf"^seven\.png: the PNG file is damaged: part of its image data "
                                                rf"was changed or lost .*{reason}.*Save or export the image again"):
        images.prepare_image(damaged, name="seven.png")


def test_every_sample_image_still_reads():
    samples = sorted(path for path in (config.images_dir() / "samples").iterdir() if path.suffix != ".csv")
    assert len(samples) > 100
    for path in samples:
        assert images.read_image(path).size[0] > 0, path


def test_animated_gif(tmp_path):
    frames = [Image.fromarray(paper(draw_digit(shape))) for shape in ("one", "seven")]
    path = tmp_path / "moving.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with pytest.raises(images.ImageError, match=r"moving\.gif: an animated image with 2 frames"):
        images.prepare_image(path)


def test_blank_page_is_reported_as_no_digit(tmp_path):
    page = tmp_path / "blank.jpg"
    Image.new("RGB", (600, 800), (250, 250, 245)).save(page)
    with pytest.raises(images.NoDigitError, match=r"blank\.jpg: looks blank"):
        images.prepare_image(page)
    assert issubclass(images.NoDigitError, images.ImageError)
    assert issubclass(images.ImageError, ValueError)


def test_photo_of_nothing_is_reported_as_no_digit():
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:300, 0:400] / 400
    photo = 180 - 60 * xx - 30 * yy + rng.normal(0, 3, (300, 400))  # a lighting gradient and sensor noise
    with pytest.raises(images.NoDigitError, match="looks blank"):
        images.prepare_image(np.clip(photo, 0, 255).astype(np.uint8), name="wall.jpg")


@pytest.mark.parametrize(
    ("kind", "data", "problem"),
    [
        ("drawing.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>',
         r"drawing\.svg: not an image file .*PNG, JPEG"),
        ("scan.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", r"scan\.pdf: not an image file .*PNG, JPEG"),
        ("black.png", encode(np.zeros((200, 200), np.uint8), "PNG"), r"black\.png: looks blank"),
        ("noise.png", encode(np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8), "PNG"),
         r"noise\.png: looks blank"),
        ("dot.png", encode(np.zeros((1, 1), np.uint8), "PNG"), r"dot\.png: looks blank"),
    ],
)
def test_pictures_without_a_readable_digit_get_a_clear_error(kind, data, problem):
    with pytest.raises(images.ImageError, match=problem):
        images.prepare_image(data, name=kind)


def test_a_huge_canvas_is_shrunk_before_the_work(reference):
    canvas = Image.new("L", (7000, 5000), 245)  # 35 megapixels, under the 50-megapixel guard
    ImageDraw.Draw(canvas).line([(3000, 1500), (4000, 1500), (3500, 3500)], fill=20, width=120)
    steps = images.prepare_steps(canvas)
    assert max(steps["grey"].shape) == WORK_SIZE
    assert max(steps["original"].shape[:2]) <= 2048
    assert shifted_similarity(steps.result, reference) > 0.8


@pytest.mark.parametrize(
    ("array", "problem"),
    [
        (np.zeros((5, 5, 7), np.uint8), "expected a 2-D grey image or a 3-D RGB/RGBA"),
        (np.zeros((0, 10), np.uint8), "empty"),
        (np.full((20, 20), np.nan), "NaN"),
        (np.full((20, 20), 300.0), "outside 0..1 and 0..255"),
        (np.array([["a", "b"]]), "not numbers"),
    ],
)
def test_bad_arrays(array, problem):
    with pytest.raises(images.ImageError, match=problem) as info:
        images.prepare_image(array)
    assert "array of shape" in str(info.value)


def test_unsupported_source_type():
    with pytest.raises(images.ImageError, match="object of type dict: cannot be used as an image"):
        images.prepare_image({"not": "an image"})


def test_pipeline_figures():
    import matplotlib

    matplotlib.use("Agg")
    from mnistlab.plots import plot_pipeline_grid, plot_pipeline_steps

    steps = [images.prepare_steps(paper(draw_digit(shape)), name=f"{shape}.png") for shape in ("one", "zero")]
    fig = plot_pipeline_steps(steps[0])
    assert len(fig.axes) == len(steps[0].images) and "one.png" in fig._suptitle.get_text()
    grid = plot_pipeline_grid(steps, keys=["grey", "centred"])
    assert len(grid.axes) == 4
    with pytest.raises(ValueError, match="no pipeline results"):
        plot_pipeline_grid([])


def test_a_digit_already_in_mnist_format_is_kept_as_it_is(mnist_small):
    _, (x_test, _) = mnist_small
    kept = 0
    for digit in x_test[:50]:
        steps = images.prepare_steps(digit)
        if steps.stroke_action == "already MNIST-like":
            kept += 1
            assert similarity(steps.result, digit) > 0.99  # the same pixels, only scaled (and clipped) to white cores
    assert kept >= 40  # nearly every MNIST digit; the rest go through the full normalisation
    shifted = np.roll(x_test[0], 5, axis=1)  # off-centre: not MNIST's convention any more
    assert images.prepare_steps(shifted).stroke_action != "already MNIST-like"
