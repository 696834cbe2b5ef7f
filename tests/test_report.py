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
    assert "0.987654" in html and "2.13.0" in html and "SeedCNN" in html
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
