"""Interactive ipywidgets for the notebooks; every widget builds without a display (CI runs headless)."""

from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from mnistlab.plots.digits import plot_pixel_values


class DigitBrowser:
    """Pick a digit class and an index within it; see the image next to its raw pixel values.

    ``DigitBrowser(x_train, y_train)`` in a cell shows it; ``.widget`` is the ipywidgets box,
    ``.digit`` and ``.index`` its controls, ``.selected()`` the current (image, label, position).
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, digit: int = 0):
        images, labels = np.asarray(images), np.asarray(labels).astype(int)
        if images.ndim != 3 or len(images) != len(labels):
            raise ValueError(
                f"DigitBrowser needs images (N, H, W) and labels (N,), got {images.shape} and {labels.shape}"
            )
        self.images, self.labels = images, labels
        self._positions = {d: np.flatnonzero(labels == d) for d in range(10)}
        present = [d for d, where in self._positions.items() if len(where)]
        if not present:
            raise ValueError("DigitBrowser got no labelled digits to show")
        start = digit if digit in present else present[0]
        self.digit = widgets.Dropdown(options=present, value=start, description="digit")
        self.index = widgets.IntSlider(
            value=0, min=0, max=len(self._positions[start]) - 1, description="example", continuous_update=False
        )
        self.caption = widgets.HTML()
        self.output = widgets.Output()
        self.digit.observe(self._on_digit, names="value")
        self.index.observe(self._redraw, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.digit, self.index]), self.caption, self.output])
        self._redraw()

    def selected(self) -> tuple[np.ndarray, int, int]:
        """The image shown now, its label, and its position in the full array."""
        position = int(self._positions[self.digit.value][self.index.value])
        return self.images[position], int(self.labels[position]), position

    def _on_digit(self, change) -> None:
        # Move the slider back to 0 *before* changing its max, so it never points past the end.
        self.index.unobserve(self._redraw, names="value")
        self.index.value = 0
        self.index.max = len(self._positions[change["new"]]) - 1
        self.index.observe(self._redraw, names="value")
        self._redraw()

    def _redraw(self, _change=None) -> None:
        image, label, position = self.selected()
        self.caption.value = (
            f"digit <b>{label}</b>, example {self.index.value + 1} of {self.index.max + 1} "
            f"(index {position}); pixel values {int(image.min())}..{int(image.max())}"
        )
        self.output.clear_output(wait=True)
        from IPython.display import display

        with self.output:
            figure = plot_pixel_values(image, title=f"label {label}, index {position}")
            display(figure)
            plt.close(figure)  # already rendered into the Output; keep pyplot from showing it twice

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


class UploadPredictor:
    """Upload your own digit image and see what the model reads, step by step (builds headless).

    ``UploadPredictor(predictor)`` in a cell shows an upload button; each upload is run through
    :func:`mnistlab.images.prepare_image` and the model, and the output area shows the pipeline
    steps and the confidence bars, or the problem with the file. ``.handle(name, data)`` does
    the same for bytes you already have (how the notebook tests it without a browser).
    """

    def __init__(self, predictor):
        self.predictor = predictor
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload digit")
        self.number = widgets.Checkbox(value=False, description="several digits in a row")
        self.output = widgets.Output()
        self.status = widgets.HTML("Choose an image of a handwritten digit (PNG, JPEG, ...).")
        self.widget = widgets.VBox([widgets.HBox([self.upload, self.number]), self.status, self.output])
        self.last = None  # the last Prediction or NumberReading, or the error message
        self.upload.observe(self._on_upload, names="value")

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = item.get("name", "upload") if isinstance(item, dict) else getattr(item, "name", "upload")
        content = item["content"] if isinstance(item, dict) else item.content
        self.handle(name, bytes(content))

    def handle(self, name: str, data: bytes):
        """Predict for one uploaded file; returns the Prediction/NumberReading, or the error text."""
        from mnistlab import images
        from mnistlab.plots.images import plot_confidence_bars, plot_pipeline_steps

        self.output.clear_output()
        try:
            if self.number.value:
                reading = self.predictor.read_number(data, name=name)
                self.status.value = f"<b>{name}</b>: reads <b>{reading.text}</b> ({reading.confidence:.0%} sure)"
                self.last = reading
                return reading
            result, steps = self.predictor.predict_with_steps(data, name=name)
        except images.ImageError as error:
            self.status.value = f"<span style='color:#b00'>{error}</span>"
            self.last = str(error)
            return self.last
        self.status.value = f"<b>{result.summary()}</b>"
        self.last = result
        if steps is not None:
            from IPython.display import display

            with self.output:
                for fig in (plot_pipeline_steps(steps),
                            plot_confidence_bars(self.predictor.probabilities(result.image)[0], result.image)):
                    display(fig)
                    plt.close(fig)  # already rendered into the Output; keep pyplot from showing it twice
        return result
