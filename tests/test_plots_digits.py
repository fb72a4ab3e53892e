"""Data figures: they draw what they are given and save where asked."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnistlab import plots  # noqa: E402


@pytest.fixture
def digits():
    images = np.zeros((20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    for index, label in enumerate(labels):
        images[index, 4 + label, 4:24] = 200 + index  # one bright row whose height encodes the label
    return images, labels


def test_digit_grid_layout_and_titles(digits):
    images, labels = digits
    fig = plots.plot_digit_grid(images[:12], titles=labels[:12], columns=5)
    axes = fig.axes
    assert len(axes) == 15  # 3 rows of 5, the last 3 blank
    assert [ax.get_title() for ax in axes[:12]] == [str(label) for label in labels[:12]]
    assert np.array_equal(axes[0].images[0].get_array(), images[0])
    assert not axes[13].images


def test_digit_grid_accepts_cnn_and_flat_shapes(digits):
    images, _ = digits
    for shaped in (images[..., None], images.reshape(20, 784)):
        fig = plots.plot_digit_grid(shaped[:3])
        assert np.array_equal(fig.axes[2].images[0].get_array(), images[2])


def test_digit_grid_rejects_bad_input(digits):
    images, labels = digits
    with pytest.raises(ValueError, match="3 titles for 20 images"):
        plots.plot_digit_grid(images, titles=labels[:3])
    with pytest.raises(ValueError, match="images must be a stack"):
        plots.plot_digit_grid(np.zeros(5))


def test_class_balance_bars_are_the_counts():
    labels = np.array([0, 0, 1, 9, 9, 9])
    fig = plots.plot_class_balance(labels)
    heights = [patch.get_height() for patch in fig.axes[0].patches]
    assert heights == [2, 1, 0, 0, 0, 0, 0, 0, 0, 3]


def test_intensity_histogram_counts_every_pixel(digits):
    images, _ = digits
    fig = plots.plot_intensity_histogram(images, bins=16)
    assert sum(patch.get_height() for patch in fig.axes[0].patches) == images.size


def test_mean_digit_images(digits):
    images, labels = digits
    means = plots.mean_digit_images(images, labels)
    assert means.shape == (10, 28, 28)
    np.testing.assert_allclose(means[3, 7, 4], (203 + 213) / 2)
    assert np.isnan(plots.mean_digit_images(images[:5], labels[:5])[9]).all()  # no 9 among the first five
    assert len(plots.plot_mean_digits(images, labels).axes) == 10


def test_save_goes_under_figures(course_home, digits):
    from PIL import Image

    fig = plots.plot_digit_grid(digits[0][:2], save="grid")
    with Image.open(course_home / "images" / "figures" / "grid.png") as saved:
        assert saved.format == "PNG"
        width, height = saved.size
    assert width > 100 and height > 50 and fig.get_figwidth() > 2


def test_pixel_values_show_only_inked_rows_and_save(course_home):
    image = np.zeros((28, 28), dtype=np.uint8)
    image[10:13, 5:9] = 255
    fig = plots.plot_pixel_values(image[..., None], title="a bar", save="pixels")
    picture, heatmap = fig.axes[:2]
    assert picture.get_title() == "a bar" and np.array_equal(picture.images[0].get_array(), image)
    assert [t.get_text() for t in heatmap.get_yticklabels()] == ["10", "11", "12"]
    assert [t.get_text() for t in heatmap.get_xticklabels()] == ["5", "6", "7", "8"]
    assert [t.get_text() for t in heatmap.texts] == ["255"] * 12  # one annotation per pixel of the 3x4 crop
    assert (course_home / "images" / "figures" / "pixels.png").is_file()
    with pytest.raises(ValueError, match=r"one image \(H, W\)"):
        plots.plot_pixel_values(np.zeros((2, 28, 28)))
