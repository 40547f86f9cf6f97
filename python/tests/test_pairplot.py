"""cusbi.pairplot as sbi's tutorials call it: one sample set or a list, limits, points, upper
styles; the figure written as PNG and SVG (or cusbi.Error on a build without cairo)."""

import numpy as np
import pytest
import torch

import cusbi

needs_cairo = pytest.mark.skipif(not cusbi.plot_available(),
                                 reason="this cusbi was built without cairo (CUSBI_PLOT=OFF)")


@pytest.fixture(scope="module")
def samples():
    return torch.randn(500, 2, generator=torch.Generator().manual_seed(0)) * 0.3 + 1.0


@needs_cairo
def test_tutorial_pairplot_writes_png_and_svg(samples, tmp_path):
    fig = cusbi.pairplot(samples, limits=[[-3, 3], [-3, 3]], figsize=(3, 3), upper="contour")
    assert isinstance(fig, cusbi.Figure)
    assert (fig.width_px, fig.height_px) == (300, 300)  # figsize x dpi (100)
    fig.savefig(tmp_path / "npe.png")
    fig.save(str(tmp_path / "npe.svg"))
    assert (tmp_path / "npe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "npe.svg").read_text().lstrip().startswith("<?xml")
    assert fig.png()[:4] == b"\x89PNG" and "<svg" in fig.svg()
    # The panel for (dim 1, dim 2) maps the data point (1, 1) inside the figure.
    px, py = fig.pixel_of(0, 1, 1.0, 1.0)
    assert 0 < px < 300 and 0 < py < 300


@needs_cairo
def test_several_sample_sets_points_and_path(samples, tmp_path):
    prior_samples = np.random.default_rng(0).uniform(-3, 3, (500, 2)).astype(np.float32)
    fig = cusbi.pairplot([samples, prior_samples], points=torch.tensor([1.0, 1.0]),
                         limits=[-3, 3], labels=["theta_1", "theta_2"], upper="scatter",
                         fig_kwargs={"title": "posterior vs prior"},
                         path=tmp_path / "both.svg")
    svg = (tmp_path / "both.svg").read_text()
    # The same drawing as fig.svg() (cairo numbers its surfaces per render, so compare sizes).
    assert "<svg" in svg and abs(len(svg) - len(fig.svg())) < 100


def test_bad_arguments_raise(samples):
    with pytest.raises(cusbi.Error):
        cusbi.pairplot(samples, limits=[[3, -3], [-3, 3]])  # low >= high
    with pytest.raises(cusbi.Error):
        cusbi.pairplot(samples, labels=["only one"])  # D = 2 labels needed
    with pytest.raises(cusbi.Error):
        cusbi.pairplot(samples, upper="violin")


@pytest.mark.skipif(cusbi.plot_available(), reason="this build draws (cairo found)")
def test_without_cairo_drawing_raises(samples, tmp_path):
    fig = cusbi.pairplot(samples)
    with pytest.raises(cusbi.Error, match="cairo"):
        fig.save(tmp_path / "x.png")
