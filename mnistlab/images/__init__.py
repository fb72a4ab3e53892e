"""Turn a user's image (photo, scan, drawing, array) into an MNIST-like 28x28 digit, stage by stage."""

# MNIST's convention, which every stage works towards: a white digit on black, its strokes about
# an eighth of the digit's height wide, the digit size-normalised into a 20x20 box keeping its
# aspect ratio, and placed in a 28x28 field so that its centre of mass sits at the centre.
#
# One module per stage, in the order of notebook 07's sections:
#
#     reading      any source -> upright PIL image, or an ImageError saying what was wrong
#     colour       grey in [0, 1] at a working size; a colour channel or the colour distance from
#                  the background when coloured writing hides in brightness
#     background   a sheet on a table, polarity, uneven lighting: "ink" bright on a black background
#     threshold    which pixels are ink (Otsu + hysteresis), printed ruled/squared lines removed
#     digit        the ink blobs, ranked by how digit-like they are; the strokes of one digit
#     normalise    crop, stroke width, 20x20 box, centre of mass in 28x28
#     pipeline     prepare_image (the list of the steps), prepare_steps, split_digits, raw_resize
#
# The tuned numbers are in ``constants``, each with its reason. Reading digits with a model
# (``read_number``, ``Predictor``) is :mod:`mnistlab.inference`'s, which builds on this package.

from mnistlab.images.background import detect_polarity, estimate_background, find_page, flatten, isolate_page
from mnistlab.images.colour import colour_channels, limit_size, strongest_grey, to_grey
from mnistlab.images.constants import DARK_ON_LIGHT, LIGHT_ON_DARK, MNIST_SIZE, Polarity, StrokeAction
from mnistlab.images.digit import Component, components, digit_masks, drop_specks, find_digit, group_strokes
from mnistlab.images.errors import ImageError, NoDigitError
from mnistlab.images.measure import bounding_box, noise_level, stroke_width
from mnistlab.images.normalise import centre_by_mass, crop_digit, fit_box, normalise_stroke
from mnistlab.images.pipeline import (
    PipelineSteps,
    find_ink,
    measure_digit_strokes,
    normalise_digit,
    prepare_image,
    prepare_steps,
    raw_resize,
    split_digits,
)
from mnistlab.images.reading import ImageSource, describe_source, read_image
from mnistlab.images.threshold import remove_rule_lines, threshold_ink

__all__ = [
    "DARK_ON_LIGHT", "LIGHT_ON_DARK", "MNIST_SIZE", "Component", "ImageError", "ImageSource", "NoDigitError",
    "PipelineSteps", "Polarity", "StrokeAction",
    "bounding_box", "centre_by_mass", "colour_channels", "components", "crop_digit", "describe_source",
    "detect_polarity", "digit_masks", "drop_specks", "estimate_background", "find_digit", "find_ink", "find_page",
    "fit_box", "flatten", "group_strokes", "isolate_page", "limit_size", "measure_digit_strokes", "noise_level",
    "normalise_digit", "normalise_stroke", "prepare_image", "prepare_steps", "raw_resize", "read_image",
    "remove_rule_lines", "split_digits", "stroke_width", "strongest_grey", "threshold_ink", "to_grey",
]
