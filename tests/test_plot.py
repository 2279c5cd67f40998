"""Plot helpers: each returns a Figure, saves when given a path, and refuses shapes it cannot draw."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from miniae import plot


@pytest.fixture
def images(rng):
    return rng.uniform(0, 1, (7, 64))


def test_mosaic_array_places_each_image_in_its_tile(images):
    tiled = plot.mosaic_array(images, n_cols=3, pad=1)
    assert tiled.shape == (3 * 9 - 1, 3 * 9 - 1)
    assert np.array_equal(tiled[0:8, 9:17], images[1].reshape(8, 8))
    assert np.array_equal(tiled[18:26, 0:8], images[6].reshape(8, 8))
    assert np.isnan(tiled[8, 0]) and np.isnan(tiled[18:26, 9:17]).all()  # gap and empty tile


def test_mosaic_of_non_square_images_needs_a_shape(rng):
    with pytest.raises(ValueError, match="not a square; pass shape"):
        plot.mosaic_array(rng.uniform(size=(3, 12)))
    assert plot.mosaic_array(rng.uniform(size=(3, 12)), shape=(3, 4), n_cols=3, pad=0).shape == (3, 12)
    with pytest.raises(ValueError, match="shape \\(5, 5\\) has 25 pixels but images have 12"):
        plot.mosaic_array(rng.uniform(size=(3, 12)), shape=(5, 5))


@pytest.mark.parametrize("draw", [
    lambda imgs, path: plot.image_mosaic(imgs, n_cols=4, path=path, title="mosaic"),
    lambda imgs, path: plot.filter_grid(imgs.T - 0.5, n_cols=4, path=path),
    lambda imgs, path: plot.interpolation_strip([imgs[:4], imgs[3:]], row_labels=["a", "b"],
                                                col_labels=list("wxyz"), path=path),
    lambda imgs, path: plot.attribute_scatter(imgs[:, :2], imgs[:, 5], path=path, label="smile"),
])
def test_each_plot_returns_a_figure_and_saves_it(images, tmp_path, draw):
    path = tmp_path / "out.png"
    fig = draw(images, path)
    assert isinstance(fig, Figure)
    assert path.exists() and path.stat().st_size > 1000


def test_plots_draw_on_a_given_axis(images):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    assert plot.attribute_scatter(images[:, :2], images[:, 3], ax=axes[0]) is fig
    assert plot.image_mosaic(images, ax=axes[1]) is fig
    assert len(fig.axes) == 3  # the two panels and the colour bar


def test_filter_grid_scales_each_filter_to_its_own_maximum(rng):
    import matplotlib.pyplot as plt

    W = rng.standard_normal((16, 3)) * np.array([1.0, 10.0, 100.0])
    fig = plot.filter_grid(W, n_cols=3)
    shown = fig.axes[0].images[0].get_array()
    tiles = [shown[:4, 5 * i:5 * i + 4] for i in range(3)]
    assert all(np.isclose(np.abs(t).max(), 1.0) for t in tiles)
    plt.close(fig)


@pytest.mark.parametrize("call, match", [
    (lambda: plot.attribute_scatter(np.zeros((5, 3)), np.zeros(5)), "points must have shape \\(n, 2\\)"),
    (lambda: plot.attribute_scatter(np.zeros((5, 2)), np.zeros(4)), "values must have shape \\(5,\\)"),
    (lambda: plot.filter_grid(np.zeros(16)), "weights must be a 2-D matrix"),
    (lambda: plot.interpolation_strip([np.zeros((3, 16)), np.zeros((4, 16))]), "same number of images"),
    (lambda: plot.image_mosaic(np.zeros((2, 2, 2, 2))), "images must be \\(n, h\\*w\\) or \\(n, h, w\\)"),
])
def test_bad_shapes_are_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
