import json

import pytest

from chordscope import plots
from chordscope.errors import OutputError
from chordscope.report import render_report, write_report, write_sweep_report


@pytest.fixture
def run_dir(tmp_path, rng):
    d = tmp_path / "run"
    d.mkdir()
    (d / "metrics.json").write_text(
        json.dumps(
            {
                "test_accuracy": 0.987654,
                "test_loss": 0.01,
                "recipe": "<script>alert(1)</script>",
                "seed": 3,
                "steps": 100,
            }
        )
    )
    (d / "model.json").write_text(
        json.dumps(
            {
                "architecture": {"name": "SeedCNN"},
                "recipe": {"lr": 0.01},
                "versions": {"torch": "2.13.0"},
                "machine": {"cpu_count": 2},
            }
        )
    )
    (d / "history.csv").write_text("epoch,train_loss\n1,0.5\n")
    plots.save_figure(
        plots.kernels_figure(rng.normal(size=(4, 1, 5, 3))), d / "figures" / "kernels.png"
    )
    return d


def test_report_is_self_contained_and_escaped(run_dir):
    html = render_report(run_dir)
    assert "0.9877" in html and "2.13.0" in html and "SeedCNN" in html
    assert html.count("data:image/png;base64,") == 1
    assert 'src="http' not in html and "<script>" not in html and "&lt;script&gt;" in html


def test_explanation_section_when_present(run_dir):
    assert "What the network learned" not in render_report(run_dir)
    (run_dir / "explanation.json").write_text(
        json.dumps({"kernels": [{"sentence": "kernel 1 fires on minor thirds"}]})
    )
    assert "kernel 1 fires on minor thirds" in render_report(run_dir)


def test_write_report_atomic(run_dir):
    path = write_report(run_dir)
    assert path.name == "report.html" and path.read_text().startswith("<!DOCTYPE html>")
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]


def test_missing_files(tmp_path):
    with pytest.raises(OutputError, match="metrics.json: no such file"):
        write_report(tmp_path)
    with pytest.raises(OutputError, match="sweep.json: no such file"):
        write_sweep_report(tmp_path)


def test_numbers_are_rounded_for_people():
    from chordscope.report import _fmt

    assert _fmt(0.4905715882778168) == "0.4906" and _fmt(1.0) == "1.0000"
    assert _fmt({"perfect": 0.0, "failed": 3}) == "perfect: 0.0000, failed: 3"
    assert _fmt([8, 16, 32]) == "8, 16, 32" and _fmt(1873.486) == "1873"


def test_a_fresh_run_is_titled_with_its_own_name(tmp_path):
    from chordscope.cli import main

    out = tmp_path / "my-run"
    assert main(["run", "--recipe", "seed", "--epochs", "1", "--out", str(out), "--quiet"]) == 0
    page = (out / "report.html").read_text()
    assert "<title>chordscope run my-run</title>" in page and ".tmp" not in page
    assert "name='viewport'" in page


def test_a_recogniser_report_fits_its_kind(tmp_path):
    from chordscope.fit import TrainConfig
    from chordscope.runs import train_recogniser

    config = TrainConfig(
        steps=4, batch_size=32, n_val=32, n_test=32, eval_every=2, channels=(4, 8, 16)
    )
    out = train_recogniser(config, tmp_path / "rec").out
    page = (out / "report.html").read_text()
    assert "Training configuration" in page and "<h2>Recipe</h2>" not in page
    assert "every 2 steps" in page and "first 4 of the first layer&#x27;s 4 kernels" in page
    assert "4 validation batches" not in page and '{"' not in page  # no raw JSON in cells


def test_wide_kernel_sets_are_drawn_as_a_grid(rng):
    fig = plots.kernels_figure(rng.normal(size=(16, 1, 5, 3)))
    width, height = fig.get_size_inches()
    assert width <= 12 and height >= 16  # four rows of four, not one 48-inch strip
