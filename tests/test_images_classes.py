"""The failure classes seen on real user pictures, each drawn here: the pipeline must read them all."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from mnistlab import images
from mnistlab.images.background import drawing_levels
from mnistlab.images.digit import components, digit_likeness
from tests.test_images import draw_digit, paper, shifted_similarity, similarity

LUMA = np.array([0.299, 0.587, 0.114])


@pytest.fixture(scope="module")
def seven():
    return images.prepare_image(paper(draw_digit("seven")))


# --------------------------------------------------------------------------- 1. distractors


def canvas_screenshot(ink: np.ndarray) -> np.ndarray:
    """RGB web-canvas screenshot: the digit, a coloured label in a corner, a scribble beside it."""
    grey = paper(ink)
    image = Image.fromarray(np.stack([grey] * 3, axis=-1))
    draw = ImageDraw.Draw(image)
    draw.text((8, 6), "Draw a digit:", fill=(30, 90, 220), font_size=24)  # UI text, wider than the digit
    draw.line([(300 + 8 * k, 360 + 10 * (k % 2)) for k in range(12)], fill=(20, 20, 20), width=3)  # a scribble
    return np.asarray(image)


def test_a_label_and_a_scribble_are_not_taken_for_the_digit():
    ink = draw_digit("seven", size=200, width=10, canvas=(400, 400), offset=(100, 100))
    clean = images.prepare_image(paper(ink))
    assert shifted_similarity(images.prepare_image(canvas_screenshot(ink)), clean) > 0.9


def test_digit_likeness_ranks_a_digit_above_scribbles_and_edges():
    mask = draw_digit("four", size=160, width=12, canvas=(400, 400), offset=(120, 120)) > 0.5
    scribble = Image.new("1", (400, 400), 0)
    ImageDraw.Draw(scribble).line([(20 + 12 * k, 30 + 25 * (k % 2)) for k in range(20)], fill=1, width=6)
    mask |= np.asarray(scribble, dtype=bool)  # a signature, as long as the digit is tall
    mask[370:378, 20:380] = True  # a long flat mark across the bottom (a colour boundary)
    mask[5:395, 392:400] = True  # a page edge along the border
    labels, found = components(mask)
    scores = digit_likeness(found, labels, ink=None)
    digit = labels[200, 219]  # on the four's stem
    assert max(scores, key=scores.get) == digit


# --------------------------------------------------------------------------- 2. colourful backgrounds


def isoluminant(shape: str, start, end, pen) -> np.ndarray:
    """A digit in a saturated colour exactly as bright as the gradient under it (grey cannot see it)."""
    ink = draw_digit(shape)[..., np.newaxis]
    across = (np.mgrid[0:200, 0:200][1] / 199)[..., np.newaxis]
    background = np.array(start) * (1 - across) + np.array(end) * across
    colour = np.array(pen, float) * ((background @ LUMA) / (np.array(pen) @ LUMA))[..., np.newaxis]
    return (background * (1 - ink) + np.clip(colour, 0, 255) * ink).round().astype(np.uint8)


def _gradient(start, end) -> np.ndarray:
    across = (np.mgrid[0:200, 0:200][1] / 199)[..., np.newaxis]
    return (np.array(start) * (1 - across) + np.array(end) * across).round().astype(np.uint8)


@pytest.mark.parametrize(
    ("start", "end", "pen"),
    [((30, 120, 40), (150, 140, 20), (220, 40, 220)), ((20, 130, 140), (200, 110, 20), (120, 120, 255))],
    ids=["magenta-on-green-to-yellow", "blue-on-cyan-to-orange"],
)
def test_a_saturated_digit_on_a_colour_gradient_is_found_by_colour_distance(start, end, pen, seven):
    rgb = isoluminant("seven", start, end, pen)
    plain = _gradient(start, end)
    difference = np.abs(images.to_grey(Image.fromarray(rgb)) - images.to_grey(Image.fromarray(plain)))
    assert difference[draw_digit("seven") > 0.9].mean() < 0.05  # all but invisible in grey
    steps = images.prepare_steps(rgb)
    assert steps.grey_channel == "colour distance"
    assert shifted_similarity(steps.result, seven) > 0.75


# --------------------------------------------------------------------------- 3. faint parts of a stroke


def test_the_faint_bar_of_a_seven_stays_with_its_black_stem(seven):
    ink = draw_digit("seven")
    ink[:60] *= 0.3  # the top bar drawn in light grey, the stem in black
    result = images.prepare_image(paper(ink))
    assert result[4:10].max() > 0.8  # the bar is there, as white as the stem
    assert shifted_similarity(result, seven) > 0.85


def test_where_a_light_grey_part_of_a_stroke_meets_a_black_one_there_is_no_dark_seam():
    ink = draw_digit("one", width=24)
    ink[:100] *= 0.3  # the upper half of the stroke in light grey
    result = images.prepare_image(paper(ink))[..., 0]
    column = result[:, result.sum(axis=0).argmax()]  # down the middle of the stroke
    rows = np.flatnonzero(column > 0.5)
    assert rows[-1] - rows[0] >= 18  # the whole stroke, both parts
    assert column[rows[0]:rows[-1] + 1].min() > 0.7  # each part as white as the other, no gap between


def test_a_gap_where_the_pen_skipped_is_bridged():
    ink = draw_digit("seven", width=16)
    clean = images.prepare_steps(paper(ink))
    ink[100:114] = 0  # the pen skipped across the stem: a gap about a stroke wide
    steps = images.prepare_steps(paper(ink))
    assert steps.gaps_bridged == 1 and clean.gaps_bridged == 0
    _, pieces = ndi.label(steps.result[..., 0] > 0.5, structure=np.ones((3, 3)))
    assert pieces == 1
    assert shifted_similarity(steps.result, clean.result) > 0.95


@pytest.mark.parametrize("shape", ["four", "zero", "seven"])
def test_stroke_ends_that_do_not_face_each_other_are_not_joined(shape):
    # A 4 open at the top, a 0 not quite closed, a 7 whose bar ends near nothing: ends that point past
    # each other or at the side of a stroke are drawn as they are.
    ink = draw_digit(shape, width=14)
    if shape == "four":
        ink[20:60, 105:140] = 0  # the stem's top cut away: its end faces the diagonal's side
    elif shape == "zero":
        ink[:40, 60:140] = 0  # the top of the 0 cut wide open: its ends face up, not each other
    steps = images.prepare_steps(paper(ink))
    assert steps.gaps_bridged == 0


def test_a_faint_smudge_on_its_own_is_not_grown_into_the_digit(seven):
    ink = draw_digit("seven", canvas=(200, 300))
    ink[80:120, 230:290] = 0.15  # faint, not connected to the digit
    assert shifted_similarity(images.prepare_image(paper(ink)), seven) > 0.9


# --------------------------------------------------------------------------- 4. edge to edge


@pytest.mark.parametrize("dark_ink", [False, True])
@pytest.mark.parametrize("shape", ["zero", "four"])
def test_a_fat_digit_filling_a_small_canvas_is_not_blank(shape, dark_ink):
    drawn = draw_digit(shape, width=40)
    top, left, bottom, right = images.bounding_box(drawn > 0.5)
    big = np.asarray(Image.fromarray(drawn[top:bottom, left:right]).resize((28, 28), Image.BILINEAR))
    assert big[0].max() > 0.5 and big[-1].max() > 0.5  # touches the top and the bottom
    canvas = paper(big, dark_ink=dark_ink)
    assert drawing_levels(canvas / 255.0) is not None
    roomy = np.pad(np.asarray(Image.fromarray(big).resize((112, 112), Image.BILINEAR)), 40)  # same digit, margins
    steps = images.prepare_steps(canvas)
    assert steps.polarity == (images.DARK_ON_LIGHT if dark_ink else images.LIGHT_ON_DARK)
    # Both are fat enough to be thinned, at different resolutions (28 vs 112 px): alike, not identical.
    assert similarity(steps.result, images.prepare_image(paper(roomy, dark_ink=dark_ink))) > 0.7


# --------------------------------------------------------------------------- 5. thin strokes, small canvas


@pytest.mark.parametrize("dark_ink", [False, True])
def test_a_one_pixel_digit_on_a_28_pixel_canvas_gets_an_mnist_stroke(dark_ink, seven):
    image = Image.new("L", (28, 28), 0)
    ImageDraw.Draw(image).line([(7, 5), (20, 5), (12, 23)], fill=255, width=1)
    thin = paper(np.asarray(image, dtype=np.float32) / 255, dark_ink=dark_ink)
    steps = images.prepare_steps(thin)
    assert steps.stroke_action == "thickened"
    coverage = float((steps.result > 0.5).mean())
    assert 0.05 < coverage < 0.3  # MNIST digits: 5-24 % of the pixels above 0.5
    assert shifted_similarity(steps.result, seven) > 0.7


def four_connected(mask: np.ndarray) -> np.ndarray:
    """A 1-px line as many paint programs draw it: every diagonal step gets a corner pixel."""
    out = mask.copy()
    out[:-1, 1:] |= mask[:-1, :-1] & mask[1:, 1:] & ~mask[:-1, 1:] & ~mask[1:, :-1]
    out[:-1, :-1] |= mask[:-1, 1:] & mask[1:, :-1] & ~mask[:-1, :-1] & ~mask[1:, 1:]
    return out


@pytest.mark.parametrize("dark_ink", [False, True])
def test_a_one_pixel_curved_digit_in_mnist_format_is_still_thickened(dark_ink):
    # A 6 drawn with a 1-px pen with staircase steps: 18 px tall and centred on a 28x28 canvas it looks
    # like an MNIST digit, and its strokes measure about 0.08 of its height, among MNIST's thinnest.
    image = Image.new("1", (28, 28), 0)
    draw = ImageDraw.Draw(image)
    draw.ellipse([8, 12, 19, 21], outline=1, width=1)
    draw.line([(18, 4), (13, 6), (10, 10), (8, 16)], fill=1, width=1)
    six = four_connected(np.asarray(image.convert("L")) > 0)  # (a mode "1" array holds 255 for True)
    steps = images.prepare_steps(paper(six.astype(np.float32), dark_ink=dark_ink))
    assert steps.stroke_action == "thickened"
    assert 0.1 < float((steps.result > 0.5).mean()) < 0.3  # MNIST digits: 5-24 % above 0.5; as drawn: 7 %
