"""The pipeline's tuned numbers in one place, each with the reason or the measurement behind it."""

from typing import Literal, TypeAlias

# ---------------------------------------------------------------- MNIST's conventions (the target)

MNIST_SIZE = 28  # output field
BOX_SIZE = 20  # MNIST digits are size-normalised into a 20x20 box, keeping their aspect ratio
MNIST_CENTRE = (14.0, 14.0)  # where MNIST puts the centre of mass (row, column)

# ---------------------------------------------------------------- 1. reading

MAX_PIXELS = 50_000_000  # refuse anything bigger before decoding it (decompression bombs)
MAX_FILE_BYTES = 100 * 1024 * 1024
SUPPORTED_FORMATS = "PNG, JPEG, GIF, BMP, TIFF or WebP"
# Phone cameras save MPO files: a JPEG plus a second, smaller preview frame. Not an animation:
# the first frame is the photo.
STILL_MULTI_FRAME_FORMATS = ("MPO",)

# ---------------------------------------------------------------- 2. colour and grey

# Longest side the pipeline works at: a digit needs far fewer pixels than a phone gives. At 640 a digit
# a tenth of a photo's height is still ~48 px tall, its strokes (MNIST's median: 0.13 of that) ~6 px wide.
# Real set and samples read the same at 640 as at 1024 (and at 400), in half the time (benchmarks/RESULTS.md).
WORK_SIZE = 640
SCORE_SIZE = 256  # channels are ranked on copies this small: only the ranking matters, and it is fast
# A colour image whose 99th percentile of (max - min channel) stays below this is grey in practice.
GREY_CHROMA = 0.1
# A colour channel (or the colour distance) replaces brightness only when the writing stands out
# at least this many times more clearly in it: brightness is right for nearly every picture.
CHANNEL_ADVANTAGE = 1.5
# The colour distance from the local background replaces brightness when the strongest marks stand
# out 3 times more by colour than by brightness (isoluminant pen on a gradient: 10-60 times; coloured
# paper, a brown table, blue ink on white: about 1-2 times, where brightness already works).
COLOUR_ADVANTAGE = 3.0

# ---------------------------------------------------------------- 3. background, lighting and polarity

COARSE_CELLS = 48  # the background is estimated on a copy this small (cheap; strokes vanish in it)
BACKGROUND_WINDOW = 0.4  # closing/opening window, as a fraction of the image: wider than any stroke
POLARITY_WINDOW = 0.5  # median window for the polarity vote: a shadow or table edge is background
GREY_LEVELS = 1024  # grey histograms (percentiles, shares) resolve 1/1024: finer than 8-bit pixels
TAIL_FRACTION = 0.005  # "the strongest marks": the top 0.5 % of deviations (a thin digit is ~1-3 % ink)
BORDER_BAND = 0.03  # the outer ring used as the canvas colour: 3 % of the short side
# The ring is a canvas when its spread is under 10 % of the image's range and it sits within 15 %
# of one end of it (measured on the sample drawings and scans).
RING_FLAT, RING_END = 0.1, 0.15
# A two-level drawing or clean scan: at least 90 % of the pixels lie within 10 % of the range from
# the darkest or the lightest level (drawings and binarised scans: 95-100 %; phone photos: far less).
# On a small canvas the antialiased edges are a large share of the pixels (MNIST digits: 75-90 %
# near an end), so up to SMALL_CANVAS px the share asked for is lower.
DRAWING_BAND, DRAWING_SHARE = 0.1, 0.9
SMALL_CANVAS, SMALL_DRAWING_SHARE = 64, 0.7
BLUR_SIGMA = 0.7  # paper grain and sensor noise on big images; a 1-px line survives it
BLUR_MIN_SIDE = 200  # smaller images are drawings or crops: nothing to smooth
MIN_PAPER = 0.1  # Weber contrast divides by the paper brightness; a black shadow must not explode it

# Sheet on a darker table (find_page): a page covers >= 15 % of the picture, touches under half the
# border, is >= 0.2 brighter than its surround, and is >= 90 % of its convex hull (a sheet is convex,
# even in perspective). Its writing covers <= 20 % of it and is stroke-like (width <= 0.35 of its
# extent); open paper is >= 10 % of the short side and >= 2 stroke widths wide (sample photos: 3-9
# stroke widths; fat MNIST 8s with slit loops: 0.7-0.9).
PAGE_MIN_AREA, PAGE_MAX_BORDER, PAGE_MIN_STEP, PAGE_CONVEXITY = 0.15, 0.5, 0.2, 0.9
PAGE_MAX_WRITING, PAGE_MAX_BLOB_WIDTH, PAGE_MIN_OPEN, PAGE_OPEN_STROKES = 0.2, 0.35, 0.1, 2.0
PAGE_DARK_BORDER = 0.3  # a page is only looked for when the border sits in the darkest 30 % of the range
PAGE_MARGIN = 0.02  # the sheet's shadowed edge is trimmed by 2 % of the image size

# ---------------------------------------------------------------- 4. thresholding and clean-up

OTSU_BINS = 256  # scikit-image's default histogram for Otsu's threshold

MIN_CONTRAST = 0.08  # ink weaker than this (on a 0..1 grey scale) is not ink: the image is blank
# The peak is read on a copy blurred by 1 px (images from 64 px on), so one hot pixel (a speck, JPEG
# ringing) is not taken for the strongest ink.
PEAK_SIGMA, PEAK_MIN_SIDE = 1.0, 64
BLANK_NOISE = 6.0  # ... and so is a "strongest mark" within 6 noise standard deviations
# Ink covering most of a drawing inflates the noise estimate of the whole image; the background's own
# noise is used when the ink stands this many noise SDs clear of it (a noise-only photo: 1-3).
SEPARATION_NOISE = 10.0
INK_FLOOR_NOISE = 4.0  # Otsu runs on pixels above 4 noise SDs, so a small digit is not drowned by paper
# The high threshold stays between 20 % and 50 % of the ink's peak: a faint digit still gets a cut
# below its strokes, a bold one is not cut through its antialiased edges.
THRESHOLD_RANGE = (0.2, 0.5)
# Hysteresis: weak ink down to this fraction of the threshold is kept where it connects to strong
# ink (the light top bar of a 7 whose stem is black; a faint arc closing a 9). Lower (0.15) lets a
# faint part's rims in too, wider than the pen, and the class "faint" of benchmarks/image_classes.py
# reads far worse (benchmarks/RESULTS.md); MNIST's stroke widths were measured on masks at 0.3.
HYSTERESIS_LOW = 0.3
# Faint ink is only added where it is 0.3-2 times as wide as the digit's strokes: a faint pen stroke is
# nearly as wide as the pen (a lighter touch narrows it; class "faint" of benchmarks/image_classes.py reads
# a little worse with 0.5, benchmarks/RESULTS.md); the printed lines of ruled paper (1-3 px on a page
# photo) are far thinner and what is left of a shadow far wider.
FAINT_WIDTH = (0.3, 2.0)
# A gap along a stroke (a pen that skipped) is bridged when two stroke ends face each other: each
# ahead of the other and no more than BRIDGE_LATERAL stroke widths to the side of its line, their
# directions opposite within BRIDGE_CONE degrees (a gap in a curve: the tangents turn by the arc
# skipped), and at most BRIDGE_STROKES widths apart. Ends are measured a stroke width inside the
# tips, so gaps up to 2 stroke widths are bridged.
BRIDGE_STROKES, BRIDGE_LATERAL, BRIDGE_CONE = 4.0, 0.75, 45.0
# The skeleton is pruned by half a stroke width first (its spurs and the Y it forks into at a square-cut
# tip vanish; stroke ends move a stroke width inside the tips), then an end's direction is taken
# from up to 1.5 widths of its branch.
SPUR_STROKES, BRANCH_STROKES = 0.5, 1.5
# Ends are found on a copy where strokes are ~8 px wide: fast, no stroke vanishes, and a gap of a
# quarter of a stroke width still shows (a coarser copy closes it in the skeleton, not in the digit).
BRIDGE_SKELETON_WIDTH = 8

LINE_MIN_SIDE = 32  # smaller pictures are crops of one digit: no ruled paper to look for
MAX_TILT_DEGREES = 6.0  # ruled lines tilted more than this (a very skewed photo) are not looked for
LINE_TILT_STEP = 0.25  # degrees between the tilts tried: half a step off, a 640-px line drifts 1.4 px end to end
# A line must show as a thin run in this fraction of the columns at least: the rest may be hidden where
# the writing touches it (a 1 written along a line of squared paper).
LINE_MIN_COVER = 0.3
LINE_MAX_THICKNESS = 0.02  # a printed line is at most 2 % of the image tall (pens are thicker)
LINE_SIDE_GAP = 0.05  # a printed line runs from within 5 % of one side to within 5 % of the other
LINE_SEPARATION = 3  # Hough distance bins (pixels) between two lines: closer peaks are one thick line
LINE_FIT_REACH = 1.5  # runs within 1.5 px of a line found belong to it (its centre rounds to a pixel)
LINE_EDGE = 0.03  # a lone line within 3 % of the top or bottom edge may be a tight crop's bar
LINE_RUN_ON = 0.15  # a lone line is paper's only when the writing stops 15 % short of both sides

# ---------------------------------------------------------------- 5. finding the digit

SPECK_FRACTION = 0.03  # blobs under 3 % of the biggest are specks
SPECK_SIDE = 0.004  # ... and so are blobs under (0.4 % of the image side)^2 pixels
GROUP_REACH = 0.5  # strokes within half the digit's size belong to it (a 5's flag, a 4's bar)
# Digit-likeness (digit.digit_likeness). Strokes of MNIST digits are 0.07-0.23 of the digit's size;
# past FILLED_STROKE a blob is a blot or a filled button. Digits are rarely wider than tall (MNIST:
# width/height under 1.4 for 99 % of them); words, scribbles and colour boundaries are.
FILLED_STROKE = 0.35
WIDE_MARK = 1.6
BORDER_PENALTY = 0.5  # page edges and UI bars touch the border; an edge-to-edge digit still can win
EDGE_CONTACT = 0.3  # touching the border along 30 % of its length: it runs along the edge (a page edge)
GROUP_MIN_STRENGTH = 0.3  # a mark under 30 % of the digit's ink strength is not one of its strokes
CENTRALITY_WEIGHT = 0.5  # a blob in a far corner scores half what it would in the middle: digits are
# usually near the middle of a picture, but not always (a tiny digit off in a corner is still found)
EDGE_RUN_PENALTY = BORDER_PENALTY ** 3  # a blob running along the border (a page edge) scores 8x less
# Several digits in a row (digit_masks): blobs whose horizontal extents overlap by half the narrower
# are one digit's strokes; border-touching blobs under a quarter of the biggest are page edges or
# specks; marks under a quarter of the typical height, unless a tenth of the biggest blob's ink, are
# specks (a "1" is short but not that small); a group wider than 1.3 times its height is touching
# digits, about 0.75 of their height wide each, cut at the weakest column within a third of a digit
# width of the even split.
COLUMN_OVERLAP, BORDER_SPECK, SHORT_MARK, SMALL_MARK = 0.5, 0.25, 0.25, 0.1
TOUCHING_WIDTH, DIGIT_ASPECT, CUT_PARTS = 1.3, 0.75, 3

# ---------------------------------------------------------------- 6. MNIST normalisation

# A 28x28 picture is already in MNIST's format (kept as it is) when its digit's longest side is
# 17-21 px (MNIST test digits: 20 px, 1,997 of the first 2,000; the range admits crops their authors
# normalised a little differently), nothing else above a tenth of its peak lies around it, and its
# centre of mass is within 1.5 px of (14, 14).
MNIST_BOX_RANGE, MNIST_CLUTTER, MNIST_CENTRE_REACH = (BOX_SIZE - 3, BOX_SIZE + 1), 0.1, 1.5
CROP_PAD = 2  # antialiased edges kept around the digit's mask
CORE_PERCENTILE = 75  # stroke cores: the 75th percentile of the ink under the mask becomes 1.0
RIDGE_DEPTH = 0.25  # a stroke's centre line lies at least a quarter of its width deep (not a bump on its edge)
STROKE_MIN_PIXELS = 64  # crops smaller than this are upsampled before their strokes are measured
# Stroke width relative to the digit's longest side (see normalise.measure_strokes), measured through
# this pipeline on the 10,000 MNIST test digits (percentiles in benchmarks/RESULTS.md). Only
# strokes outside THIN_LIMIT..THICK_LIMIT are redrawn, and a 28x28 digit already in MNIST's format is
# kept as it is only when its strokes lie inside.
# Thickened to THIN_TARGET below THIN_LIMIT, MNIST's 5th percentile (0.091): the model misreads MNIST's
# own digits that thin five times as often as typical ones (benchmarks/RESULTS.md, "The user-image
# pipeline"), and a 1-px line on a 28x28 canvas, about
# 1/17 = 0.06 of its digit, measures 0.07-0.10 through its antialiasing or its staircase steps: a lower
# limit leaves it thin.
THIN_LIMIT, THIN_TARGET = 0.09, 0.12
THICK_LIMIT, THICK_TARGET = 0.26, 0.16  # thicker than this gets thinned to the target
THINNED_KEEP = 0.15  # thinning that leaves less than 15 % of the ink destroyed the digit: undo it

Polarity: TypeAlias = Literal["dark-on-light", "light-on-dark"]  # which way round ink and paper are
StrokeAction: TypeAlias = Literal["thickened", "thinned", "kept", "already MNIST-like"]  # what normalisation did
DARK_ON_LIGHT: Polarity = "dark-on-light"
LIGHT_ON_DARK: Polarity = "light-on-dark"
