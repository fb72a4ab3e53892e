"""The stages composed: ``prepare_image`` as the list of its steps, ``prepare_steps`` keeping every image."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image

from mnistlab.images.background import detect_polarity, drawing_levels, flatten, isolate_page
from mnistlab.images.colour import GreyChannel, strongest_grey, to_grey, working_image
from mnistlab.images.constants import MNIST_SIZE, Polarity, StrokeAction
from mnistlab.images.digit import digit_masks, find_digit
from mnistlab.images.errors import NoDigitError
from mnistlab.images.normalise import (
    already_mnist,
    centre_by_mass,
    crop_digit,
    fit_box,
    measure_strokes,
    normalise_stroke,
)
from mnistlab.images.reading import ImageSource, describe_source, read_image
from mnistlab.images.threshold import (
    background_noise,
    bridge_gaps,
    grow_faint_ink,
    remove_rule_lines,
    threshold_ink,
)

ORIGINAL_MAX_SIDE = 2048  # bigger originals are shown shrunk (a 50 MP RGB copy is 150 MB)


@dataclass
class PipelineSteps:
    """Every intermediate image of :func:`prepare_image`, in order, plus what was decided."""

    images: dict[str, np.ndarray] = field(default_factory=dict)
    polarity: Polarity | Literal[""] = ""
    threshold: float = 0.0
    stroke_width: float = 0.0  # relative to the digit's longest side
    stroke_action: StrokeAction | Literal[""] = ""
    grey_channel: GreyChannel = "brightness"  # or the colour view in which the writing stood out far more
    page_found: bool = False  # a sheet on a darker table was found and the table painted over
    rule_line_pixels: int = 0  # ink pixels removed as the printed lines of ruled or squared paper
    gaps_bridged: int = 0  # gaps along a stroke (a pen that skipped) joined
    name: str = ""
    keep_images: bool = field(default=True, repr=False)  # False: record the decisions only (fast path)

    @property
    def result(self) -> np.ndarray:
        """The final (28, 28, 1) float32 image."""
        return self.images["centred"][..., np.newaxis]

    def keep(self, key: str, image: np.ndarray) -> np.ndarray:
        """Remember ``image`` as step ``key`` (when keeping images) and hand it on."""
        if self.keep_images:
            self.images[key] = image
        return image

    def __getitem__(self, key: str) -> np.ndarray:
        return self.images[key]

    def __iter__(self):
        return iter(self.images.items())


def as_shown(image: Image.Image) -> np.ndarray:
    """The picture as a person sees it, for the "original" step: RGB (grey where it has transparency, laid
    on the background :func:`to_grey` chooses), shrunk to at most ORIGINAL_MAX_SIDE."""
    image = working_image(image, ORIGINAL_MAX_SIDE)
    if "A" in image.mode or "transparency" in image.info:
        return to_grey(image)
    return np.asarray(image.convert("RGB"))


def find_ink(source: ImageSource, steps: PipelineSteps) -> tuple[np.ndarray, np.ndarray, float]:
    """Sections 1-4: ``(ink, mask, threshold)``, the ink bright on black whatever the picture was."""
    image = read_image(source, steps.name)  # 1. reading
    if steps.keep_images:
        steps.keep("original", as_shown(image))
    grey, steps.grey_channel = strongest_grey(working_image(image))  # 2. colour and grey, at the working size
    grey, page = isolate_page(grey)  # 3. background, lighting and polarity
    steps.page_found = page is not None
    steps.keep("grey", grey)
    levels = drawing_levels(grey)  # a two-level drawing or clean scan has one canvas colour
    steps.polarity = detect_polarity(grey, levels)
    ink, background = flatten(grey, steps.polarity, levels)
    steps.keep("background", background)
    noise = background_noise(ink)  # 4. thresholding and clean-up
    mask, steps.threshold = threshold_ink(ink, steps.name, noise)
    mask, lines = remove_rule_lines(mask)
    mask, faint_lines = remove_rule_lines(grow_faint_ink(ink, mask, steps.threshold, lines, noise))
    lines |= faint_lines  # (faint ink may bring the faint rest of a printed line with it)
    steps.rule_line_pixels = int(lines.sum())
    ink = steps.keep("ink", np.where(lines, 0.0, ink).astype(np.float32))
    return ink, steps.keep("mask", mask), steps.threshold


def normalise_digit(ink: np.ndarray, digit_mask: np.ndarray, threshold: float, steps: PipelineSteps) -> np.ndarray:
    """Section 2.6: the digit's ink as MNIST draws it, a (28, 28) float32 image."""
    as_it_is = already_mnist(ink, digit_mask)  # MNIST digits and crops already normalised
    if as_it_is is not None:
        steps.stroke_action = "already MNIST-like"
        return steps.keep("centred", as_it_is)
    digit, sub_mask = crop_digit(ink, digit_mask, threshold)
    digit, sub_mask, steps.gaps_bridged = bridge_gaps(digit, sub_mask)  # where the pen skipped
    steps.keep("cropped", digit)
    stroked, steps.stroke_width, steps.stroke_action = normalise_stroke(digit, sub_mask)
    steps.keep("stroke", stroked)
    small = steps.keep("resized", fit_box(stroked))
    return steps.keep("centred", centre_by_mass(small))


def prepare_image(source: ImageSource, name: str | None = None, *, steps: PipelineSteps | None = None) -> np.ndarray:
    """An MNIST-like digit from a path, bytes, PIL image or array: shape (28, 28, 1), float32 in [0, 1].

    White digit on black, size-normalised into 20x20 keeping its aspect ratio, centred by
    mass in 28x28. Raises :class:`ImageError` (a ``ValueError``) naming the image and the
    problem for unreadable input, and :class:`NoDigitError` when there is no digit to find.
    Pass a :class:`PipelineSteps` as ``steps`` to keep every intermediate image.
    """
    steps = steps if steps is not None else PipelineSteps(keep_images=False)
    steps.name = describe_source(source, name)
    ink, mask, threshold = find_ink(source, steps)  # 1-4: read, grey, polarity and lighting, threshold
    digit_mask = steps.keep("digit_mask", find_digit(mask, steps.name, ink))  # 5: the digit's strokes
    return normalise_digit(ink, digit_mask, threshold, steps)[..., np.newaxis]  # 6: MNIST's conventions


def prepare_steps(source: ImageSource, name: str | None = None) -> PipelineSteps:
    """Run the pipeline and keep every intermediate image (for teaching and debugging).

    Keys, in order: original, grey, background, ink, mask, digit_mask, cropped, stroke,
    resized, centred. ``steps.result`` is what :func:`prepare_image` returns.
    """
    steps = PipelineSteps()
    prepare_image(source, name, steps=steps)
    return steps


def measure_digit_strokes(source: ImageSource, name: str | None = None) -> tuple[float, float]:
    """``(relative, pixels)``: the digit's stroke width before normalisation, as section 2.6 measures it to
    decide whether to thicken or thin, relative to the digit's longest side and in the picture's pixels.

    For an MNIST digit this is the measurement the stroke limits in ``constants`` were set from.
    """
    steps = PipelineSteps(name=describe_source(source, name), keep_images=False)
    ink, mask, threshold = find_ink(source, steps)
    digit, digit_mask = crop_digit(ink, find_digit(mask, steps.name, ink), threshold)
    relative = measure_strokes(digit, digit_mask)[0]
    return relative, relative * max(digit.shape)


def raw_resize(source: ImageSource, name: str | None = None) -> np.ndarray:
    """What most tutorials do: grey, squash to 28x28, scale to [0, 1]. The baseline to beat."""
    image = read_image(source, name=name)
    grey = to_grey(image)
    small = Image.fromarray(grey).resize((MNIST_SIZE, MNIST_SIZE), Image.BILINEAR)
    return np.clip(np.asarray(small, dtype=np.float32), 0, 1)[..., np.newaxis]


def split_digits(source: ImageSource, name: str | None = None) -> list[np.ndarray]:
    """Single MNIST-like digits (each (28, 28, 1)) from an image of several written in a row."""
    steps = PipelineSteps(name=describe_source(source, name), keep_images=False)
    ink, mask, threshold = find_ink(source, steps)
    pieces = digit_masks(mask)
    if not pieces:
        raise NoDigitError(f"{steps.name}: no digits found.")
    return [normalise_digit(ink, piece, threshold, steps)[..., np.newaxis] for piece in pieces]
