"""The two errors the pipeline raises: an unusable image, and an image without a digit."""


class ImageError(ValueError):
    """An image could not be used; the message names the image, the problem and what to do."""


class NoDigitError(ImageError):
    """The image was read but holds no digit (blank page, flat colour, only specks)."""
