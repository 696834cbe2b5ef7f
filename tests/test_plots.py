import numpy as np

from chordscope import plots


def test_inputs_and_curves_panels(rng):
    x = rng.random((4, 36, 3))
    fig = plots.inputs_figure(x, x, root_names=["A4", "B4", "C5", "D5"])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:4] == ["A4:maj", "B4:maj", "C5:maj", "D5:maj"] and "D5:min" in titles
    h = [
        {
            "epoch": e,
            "train_loss": 1 / e,
            "train_accuracy": 0.9,
            "val_loss": 1 / e,
            "val_accuracy": 1.0,
        }
        for e in (1, 2)
    ]
    fig = plots.curves_figure(h)
    assert [ax.get_title() for ax in fig.axes] == ["Accuracy", "Loss"]
    assert len(fig.axes[0].lines) == 2


def test_kernels_colour_scale_is_centred_at_zero(rng):
    conv = rng.uniform(-1, 1, size=(4, 1, 5, 3))
    conv[2, 0, 1, 1] = 3.0
    fig = plots.kernels_figure(conv)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 4
    for im in images:
        lo, hi = im.get_clim()
        assert lo == -hi == -3.0
    assert fig.axes[0].get_ylabel().startswith("semitones")


def test_feature_map_titles_show_maxima(rng):
    maps = rng.uniform(-1, 1, size=(4, 32, 1))
    maps[1, 7, 0] = 1.234
    fig = plots.feature_maps_figure(rng.random((36, 3)), maps)
    titles = [ax.get_title() for ax in fig.axes[:5]]
    assert titles[0] == "input"
    assert titles[2] == "max: 1.23"
    assert titles[1] == f"max: {maps[0].max():4.2f}"


def test_dense_annotations_are_the_transposed_weights():
    dense = np.array([[-0.5, 2.91, -0.61, -3.05], [2.33, -3.88, -0.32, 3.25]])
    fig = plots.dense_figure(dense)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[:2] == ["-0.50", "+2.33"] and texts[-1] == "+3.25"


def test_sweep_figure_counts():
    fig = plots.sweep_figure(
        np.array([1.0, 1.0, 0.5]), [100, 300, None], recipe="seed", steps_total=3000
    )
    assert "2/3" in fig.axes[0].get_title() and "1 never" in fig.axes[1].get_title()


def test_save_figure_writes_png_atomically(tmp_path, rng):
    path = plots.save_figure(
        plots.kernels_figure(rng.normal(size=(4, 1, 5, 3))), tmp_path / "f" / "k.png"
    )
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in path.parent.iterdir()] == ["k.png"]
