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


def _drawn(fig):
    """``fig`` drawn on an Agg canvas, so that text extents are final."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def _overlaps(a, b) -> bool:
    """Whether two display-space boxes share more than a pixel's sliver of area."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5 and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5


def _assert_tick_labels_apart(ax, axis="x"):
    labels = [t for t in getattr(ax, f"get_{axis}ticklabels")() if t.get_text()]
    boxes = [t.get_window_extent() for t in labels]
    assert len(boxes) >= 2
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            pair = (labels[i].get_text(), labels[j].get_text())
            assert not _overlaps(boxes[i], boxes[j]), f"tick labels {pair} overlap"


def _contrast(c1, c2) -> float:
    """WCAG contrast ratio of two colours."""
    from matplotlib.colors import to_rgb

    def lum(c):
        c = np.array(to_rgb(c))
        c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((lum(c1), lum(c2)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _assert_annotations_readable(ax, values):
    """Every number written on an image cell contrasts (WCAG AA, 4.5:1) with the cell."""
    im = ax.images[0]
    values = np.asarray(values)
    assert len(ax.texts) == values.size
    for t in ax.texts:
        j, i = (int(round(p)) for p in t.get_position())
        cell = im.cmap(im.norm(values[i, j]))
        assert _contrast(t.get_color(), cell) >= 4.5, (t.get_text(), t.get_color(), cell)


def _census(*, all_perfect=False, perfect=None, failed=None, rng=None):
    """A census as :func:`chordscope.runs.census` writes it: 4 seeds × 4 kernels, 6 clusters.

    ``perfect`` and ``failed`` replace the role counts (the clusters stay those of 16 kernels).
    """
    rng = rng or np.random.default_rng(0)
    perfect = perfect or {"dead": 1, "maj detector": 1, "min detector": 1, "redundant": 1}
    failed = failed or {"dead": 4, "min detector": 1, "mixed": 3, "redundant": 4}
    if all_perfect:
        perfect, failed = {r: perfect.get(r, 0) + failed.get(r, 0) for r in failed | perfect}, {}
    roles = {r: perfect.get(r, 0) + failed.get(r, 0) for r in sorted(perfect | failed)}
    cluster_roles = [
        ("redundant", {"dead": 1, "maj detector": 1, "min detector": 1, "redundant": 3}),
        ("dead", {"dead": 3, "redundant": 1}),
        ("min detector", {"min detector": 1, "redundant": 1}),
        ("dead", {"dead": 1, "mixed": 1}),
        ("mixed", {"mixed": 1}),
        ("mixed", {"mixed": 1}),
    ]
    clusters = [
        {
            "size": sum(rc.values()),
            "centroid": np.round(rng.normal(0, 0.2, size=(5, 3)), 4).tolist(),
            "top_role": top,
            "roles": rc,
        }
        for top, rc in cluster_roles
    ]
    n_ok = 4 if all_perfect else 1
    return {
        "recipe": "seed",
        "n_seeds": 4,
        "roles": roles,
        "roles_by_outcome": {"perfect": perfect, "failed": failed},
        "n_perfect": n_ok,
        "n_failed": 4 - n_ok,
        "mean_dead_per_model": {"perfect": 1.0, "failed": None if all_perfect else 1.3333},
        "clusters": clusters,
        "per_seed": [],
    }


def _explanation(rng, triads=("maj", "min", "dim", "aug"), n_kernels=4):
    """The parts of an explanation (:func:`chordscope.explain.explain_tutorial`) figures read."""
    edges = np.linspace(0, 1, 21)
    return {
        "kernels": [
            {
                "kernel": k + 1,
                "role": "redundant",
                "tuning": {
                    "intervals": {str(i): float(rng.random()) for i in range(13)},
                    "triads": {t: float(rng.random()) for t in triads},
                },
                "selectivity": {
                    "histogram_edges": edges.tolist(),
                    "histogram": {c: rng.integers(0, 9, 20).tolist() for c in ("maj", "min")},
                    "auc_preferred": 0.5,
                },
            }
            for k in range(n_kernels)
        ]
    }


def test_inputs_figure_has_axis_labels_and_colour_bar(rng):
    x = rng.random((4, 36, 3))
    fig = _drawn(plots.inputs_figure(x, x, root_names=["A4", "B4", "C5", "D5"]))
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 8
    assert all(ax.get_xlabel() for ax in panels)
    assert panels[0].get_ylabel().startswith("CQT bin")
    ticks = [t.get_text() for t in panels[0].get_yticklabels()]
    assert ticks[:3] == ["A3", "D#4", "A4"]  # bin 0 is A3, one bin per semitone
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and "log-compressed CQT magnitude" in bars[0].get_ylabel()


def test_class_tick_labels_do_not_overlap(rng):
    four = ("maj", "min", "dim", "aug")
    fig = _drawn(plots.tuning_figure(_explanation(rng, four)))
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()][-4:] == list(four)
        _assert_tick_labels_apart(ax)
    for n_kernels in (2, 4, 16):
        fig = _drawn(plots.dense_figure(rng.normal(size=(4, n_kernels)), class_names=four))
        _assert_tick_labels_apart(fig.axes[0])
    many = [f"{p}:{q}" for q in ("maj", "min") for p in ("C", "C#", "D", "D#", "E", "F")]
    fig = _drawn(plots.dense_figure(rng.normal(size=(len(many), 4)), class_names=many))
    _assert_tick_labels_apart(fig.axes[0])


def test_census_legend_covers_no_bar_and_stays_in_the_figure():
    even = {r: 2 for r in ("dead", "maj detector", "min detector", "mixed", "redundant")}
    for cen in (_census(), _census(perfect=even, failed=even)):  # even: bars fill the axes
        fig = _drawn(plots.census_figure(cen))
        ax = fig.axes[0]
        legends = fig.legends + [a.get_legend() for a in fig.axes if a.get_legend()]
        assert len(legends) == 1
        box = legends[0].get_window_extent()
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
        assert ax.patches
        for bar in ax.patches:
            assert not _overlaps(box, bar.get_window_extent())
        for text in [ax.xaxis.label, *ax.get_xticklabels(), *ax.texts]:
            assert not _overlaps(box, text.get_window_extent())
    fig = plots.census_figure(_census())
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert labels == ["seeds at 100 % (1)", "failed seeds (3)"]  # the seeds behind each series


def test_census_without_failures_has_no_failed_series():
    fig = _drawn(plots.census_figure(_census(all_perfect=True)))
    ax = fig.axes[0]
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    labels += [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
    assert labels == ["seeds at 100 % (4)"]
    assert not any("failed" in lab for lab in labels)
    assert len(ax.patches) == len(_census()["roles"])  # one bar per role, no empty series


def test_census_numbers_are_the_bars_numbers():
    cen = _census()
    fig = _drawn(plots.census_figure(cen))
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    widths = {}
    for bar in ax.patches:  # stacked: a role's bars share their centre line
        y = round(bar.get_y() + bar.get_height() / 2)
        widths[names[y]] = widths.get(names[y], 0) + bar.get_width()
    assert widths == cen["roles"]
    for a, c in zip(fig.axes[1:], cen["clusters"], strict=True):
        size_line, role_line = a.get_title().split("\n")
        count, role = role_line.split(" ", 1)  # "3 redundant", not "redundant" for all 6
        assert size_line == f"{c['size']} kernel{'s' * (c['size'] != 1)}:"
        assert role == c["top_role"] and int(count) == c["roles"][role]
        assert int(count) <= widths[role]  # a cluster never holds more of a role than all seeds
    printed = {names[round(t.get_position()[1])]: int(t.get_text()) for t in ax.texts}
    assert printed == cen["roles"]  # the total printed beside each bar


def test_numbers_on_cells_are_readable(rng):
    conv = rng.uniform(-1, 1, size=(4, 1, 5, 3))
    conv[0, 0, :, 0] = [-1.0, -0.7, -0.65, 0.6, 0.65]  # dark cells either side of the old 0.6
    fig = plots.kernels_figure(conv)
    for k, ax in enumerate(fig.axes[:4]):
        _assert_annotations_readable(ax, conv[k, 0])
    dense = np.array([[-0.5, 2.91, -0.61, -3.05], [2.33, -3.88, -0.32, 3.25]])
    fig = plots.dense_figure(dense)  # -3.88 and 3.25: dark blue and dark red cells
    _assert_annotations_readable(fig.axes[0], dense.T)
    matrix = np.linspace(0, 1, 12).reshape(3, 4)
    fig = plots.generalisation_figure(matrix, list("abc"), list("wxyz"))
    _assert_annotations_readable(fig.axes[0], matrix)


def test_semitone_kernels_name_their_rows_by_interval_and_never_show_a_question_mark(rng):
    exp = _explanation(rng, n_kernels=2)
    exp["kernels"][0]["where"] = {"typical_offset": -14}  # two octaves below: read as a class
    exp["kernels"][1]["where"] = {"typical_offset": None}  # never fires
    exp["kernels"][1]["role"] = "dead"
    fig = plots.semitone_kernels_figure(rng.standard_normal((2, 1, 5, 3)), exp)
    first, second = fig.axes[0], fig.axes[1]
    labels = [t.get_text() for t in first.get_yticklabels()]
    # row j sits at offset -14 + j: a minor seventh two octaves ... a major second one octave
    # below the root
    assert labels == ["m7 (-14)", "M7 (-13)", "R (-12)", "m2 (-11)", "M2 (-10)"]
    assert all("?" not in t.get_text() for ax in fig.axes for t in ax.get_yticklabels())
    assert [t.get_text() for t in second.get_yticklabels()][:2] == ["row 0", "row 1"]
    assert "no typical position" in second.get_title()
