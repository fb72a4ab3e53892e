"""Measure the pipeline on the failure classes of real pictures, drawn from MNIST test digits.

Each class turns MNIST test digits (indices 5000 on, away from the first 2,000 other benchmarks use)
into the kind of picture real users send: a digit beside a UI label and a scribble (distractor), a
saturated digit on a colour gradient (gradient), a faint upper part and a thin band cut across
(faint), a gap about a stroke wide in one stroke where the pen skipped (skip), a fat digit filling a
28x28 canvas edge to edge (edge), a 1-px skeleton on a 28x28 canvas (thin). It prints top-1, the
accepted share and how many accepted answers are right per class, and prepare_image's median time::

    nice -n 10 python benchmarks/image_classes.py [-n N] [--classes CLASS ...] [--model MODEL]
"""
import argparse
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from mnistlab import data, images, inference
from mnistlab.commands.arguments import positive_int


def big(digit, size):
    return np.asarray(Image.fromarray(digit).resize((size, size), Image.LANCZOS), np.float32).clip(0, 255) / 255

def distractor(digit, rng):
    canvas = np.full((420, 420), 1.0, np.float32)
    ink = big(digit, 300)
    y, x = rng.integers(40, 90, 2)
    canvas[y:y+300, x:x+300] -= 0.9 * ink
    img = Image.fromarray((canvas.clip(0, 1) * 255).astype(np.uint8)).convert("RGB")
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    d.text((8, 6), "Predict", fill=(30, 60, 200), font=font)
    pts = [(300 + 10 * k, 395 + 8 * np.sin(k + rng.random())) for k in range(11)]
    d.line(pts, fill=(40, 40, 40), width=3)
    return np.asarray(img)

def gradient(digit, rng):
    pairs = [((40, 200, 60), (240, 230, 40)), ((40, 210, 220), (250, 140, 30)), ((250, 120, 180), (120, 140, 250))]
    c1, c2 = (np.array(c, np.float32) for c in pairs[rng.integers(len(pairs))])
    t = np.linspace(0, 1, 320)[None, :, None]
    angle = rng.random()
    yy, xx = np.mgrid[0:320, 0:320] / 320
    t = (angle * xx + (1 - angle) * yy)[..., None]
    bg = c1 * (1 - t) + c2 * t

    def lum(c):
        return c @ np.array([0.299, 0.587, 0.114])

    inks = [np.array(c, np.float32) for c in [(200, 30, 200), (40, 60, 230), (230, 30, 30), (30, 160, 30)]]
    ink_c = inks[rng.integers(len(inks))]
    target = float(lum(bg.reshape(-1, 3)).mean())
    ink_c = np.clip(ink_c * target / max(lum(ink_c), 1), 0, 255)
    ink = np.zeros((320, 320), np.float32)
    ink[40:280, 40:280] = big(digit, 240)
    rgb = bg * (1 - ink[..., None]) + ink_c * ink[..., None]
    return rgb.round().clip(0, 255).astype(np.uint8)

def faint(digit, rng):
    ink = big(digit, 280)
    rows = np.flatnonzero(ink.max(1) > 0.3)
    top, bottom = rows[0], rows[-1]
    cut = top + int(0.4 * (bottom - top))
    ink[:cut] *= 0.22  # a light-grey upper part
    # a pen skip: a band across the digit's middle
    yy, xx = np.mgrid[0:280, 0:280]
    band = np.abs((yy - 0.62 * 280) + 0.3 * (xx - 140)) < 6
    ink[band] = 0
    canvas = np.full((340, 340), 0.96, np.float32)
    canvas[30:310, 30:310] -= 0.9 * ink
    return (canvas.clip(0, 1) * 255).astype(np.uint8)

def skip(digit, rng):
    """A pen that skipped: a gap about a stroke wide cut across one stroke, away from its ends."""
    ink = big(digit, 280)
    strokes = ink > 0.5
    skeleton = skeletonize(strokes)
    width = 4 * ndi.distance_transform_edt(strokes)[strokes].mean() - 1
    neighbours = ndi.convolve(skeleton.astype(int), np.ones((3, 3), int), mode="constant") - 1
    plain = skeleton & (neighbours == 2)  # on a stroke, not at an end or a junction
    special = ndi.binary_dilation(skeleton & (neighbours != 2), iterations=int(1.5 * width))
    rows, cols = np.nonzero(plain & ~special)
    if rows.size:
        k = rng.integers(rows.size)
        yy, xx = np.mgrid[0:280, 0:280]
        ink[(yy - rows[k]) ** 2 + (xx - cols[k]) ** 2 <= (0.6 * width) ** 2] = 0
    canvas = np.full((340, 340), 0.96, np.float32)
    canvas[30:310, 30:310] -= 0.9 * ink
    return (canvas.clip(0, 1) * 255).astype(np.uint8)

def edge(digit, rng):
    fat = ndi.grey_dilation(digit, size=(3, 3))
    top, left, bottom, right = images.bounding_box(fat > 60)
    crop = fat[top:bottom, left:right]
    w = max(4, min(28, round(28 * crop.shape[1] / crop.shape[0])))
    out = np.zeros((28, 28), np.uint8)
    out[:, (28 - w) // 2:(28 - w) // 2 + w] = np.asarray(Image.fromarray(crop).resize((w, 28), Image.BILINEAR))
    return out if rng.random() < 0.5 else 255 - out

def thin(digit, rng):
    skel = skeletonize(digit > 100)
    out = (skel * 255).astype(np.uint8)
    return out if rng.random() < 0.5 else 255 - out

CLASSES = {"distractor": distractor, "gradient": gradient, "faint": faint, "skip": skip, "edge": edge, "thin": thin}

def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=positive_int, default=100, help="digits per class (default: 100)")
    parser.add_argument("--classes", nargs="+", choices=list(CLASSES), default=list(CLASSES),
                        help="failure classes to draw (default: all)")
    parser.add_argument("--model", default=None, help="a .keras file (default: the course's default model)")
    return parser.parse_args(argv)

def main(argv=None):
    args = parse_args(argv)
    n, which = args.n, args.classes
    model = inference.load_model(args.model) if args.model else inference.load_default_model()
    pred = inference.Predictor(model)
    _, (x, y) = data.load_mnist()
    idx = np.arange(5000, 5000 + n)
    base = pred.probabilities(data.to_cnn_input(x[idx])).argmax(1)
    print(f"model on the raw MNIST digits: {np.mean(base == y[idx]):.1%}")
    for name in which:
        rng = np.random.default_rng(0)
        right = acc = acc_right = blank = 0
        secs = []
        for i in idx:
            picture = CLASSES[name](x[i], rng)
            t = time.perf_counter()
            try:
                p = images.prepare_image(picture)
            except images.NoDigitError:
                blank += 1
                continue
            secs.append(time.perf_counter() - t)
            r = pred.predict_prepared(p)
            right += r.top3[0][0] == y[i]
            acc += r.is_digit
            acc_right += r.is_digit and r.digit == y[i]
        print(f"{name:11} top-1 {right / n:.1%}  accepted {acc / n:.1%}  accepted and right "
              f"{acc_right / max(acc, 1):.1%}  refused {blank}  "
              f"p50 {np.median(secs) * 1000:.0f} ms")

if __name__ == "__main__":
    main()
