"""Chord annotation files (.lab, JAMS, CSV) and their scoring with mir_eval."""

import json

import mir_eval
import numpy as np
import pytest

from chordscope.cli import main
from chordscope.errors import InputError, ParameterError
from chordscope.evaluate import (
    CHORD_METRICS,
    chord_scores,
    pair_files,
    pool_interval,
    score_files,
)
from chordscope.io import read_chords, write_chords_csv, write_jams, write_lab

SEGS = [(0.0, 1.5, "N"), (1.5, 3.25, "C:maj7"), (3.25, 5.0, "A:min"), (5.0, 6.0, "G:sus4")]


def _write(path, segs):
    suffix = path.suffix
    if suffix == ".lab":
        return write_lab(path, [s[:2] for s in segs], [s[2] for s in segs])
    if suffix == ".jams":
        return write_jams(path, segs)
    return write_chords_csv(path, segs)


@pytest.mark.parametrize("suffix", [".lab", ".jams", ".csv"])
def test_round_trip(tmp_path, suffix):
    path = _write(tmp_path / f"song{suffix}", SEGS)
    intervals, labels = read_chords(path)
    assert labels == [s[2] for s in SEGS]
    np.testing.assert_allclose(intervals, [s[:2] for s in SEGS])


def test_jams_validates_and_keeps_metadata(tmp_path):
    import jams

    path = write_jams(
        tmp_path / "a.jams",
        [s + (0.5,) for s in SEGS],
        duration=7.0,
        metadata={"title": "Song", "model": "majmin", "annotator": {"name": "chordscope"}},
    )
    jam = jams.load(str(path), validate=True)
    ann = jam.annotations[0]
    assert ann.namespace == "chord"
    assert jam.file_metadata.duration == 7.0
    assert jam.file_metadata.title == "Song"
    assert ann.sandbox.model == "majmin"
    assert ann.annotation_metadata.annotation_tools.startswith("chordscope")
    assert [o.confidence for o in ann.data] == [0.5] * len(SEGS)


@pytest.mark.parametrize(
    "segs, match",
    [
        ([], "must not be empty"),
        ([(0.0, 1.0, "C:maj"), (1.0, 2.0)], "all be"),
        ([(1.0, 0.5, "C:maj")], "start < end"),
        ([(0.0, 1.0, "H:maj")], "invalid chord label"),
        ([(0.0, 1.0, "C:maj", 1.5)], "confidence"),
    ],
)
@pytest.mark.parametrize("suffix", [".jams", ".csv"])
def test_bad_segments_write_nothing(tmp_path, segs, match, suffix):
    path = tmp_path / f"x{suffix}"
    with pytest.raises(ParameterError, match=match):
        _write(path, segs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name, content, match",
    [
        ("a.lab", "0.0 1.0 C:maj\n1.0 0.5 A:min\n", "bad segment times"),
        ("a.lab", "0.0 1.0 Q:maj\n", "invalid chord label"),
        ("a.lab", "", "no chord segments"),
        ("a.csv", "begin,end,chord\n0,1,C:maj\n", "header"),
        ("a.csv", "start,end,label\n0,x,C:maj\n", "not numbers"),
        ("a.jams", "{not json", "not a valid .jams"),
        ("a.txt", "0 1 C:maj\n", "unknown chord file type"),
    ],
)
def test_bad_files_name_themselves(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match=match) as info:
        read_chords(path)
    assert str(path) in str(info.value)


def test_jams_without_chords(tmp_path):
    import jams

    jam = jams.JAMS()
    jam.file_metadata.duration = 2.0
    ann = jams.Annotation(namespace="tag_open", duration=2.0)
    ann.append(time=0.0, duration=1.0, value="x")
    jam.annotations.append(ann)
    jam.save(str(tmp_path / "t.jams"))
    with pytest.raises(InputError, match="no annotation in the 'chord' namespace"):
        read_chords(tmp_path / "t.jams")


def test_chord_scores_equal_mir_eval_and_weights_count_compared_seconds():
    ref_i = np.array([[0.0, 2.0], [2.0, 4.0], [4.0, 5.0]])
    ref_l = ["C:maj", "A:min7", "G:sus4"]
    est_i = np.array([[0.0, 3.0], [3.0, 5.0]])
    est_l = ["C:maj", "A:min"]
    scores, seconds = chord_scores(ref_i, ref_l, est_i, est_l)
    full = mir_eval.chord.evaluate(ref_i, ref_l, est_i, est_l)
    for m in CHORD_METRICS:
        assert scores[m] == pytest.approx(full[m])
    # A:min7 vs A:min over [3, 4] is right for majmin, wrong for sevenths; sus4 is skipped by majmin
    assert scores["majmin"] == pytest.approx(3.0 / 4.0)
    assert seconds["majmin"] == pytest.approx(4.0)
    assert seconds["root"] == pytest.approx(5.0)


def test_seg_scores_where_the_chords_change_not_their_names():
    ref_i, ref_l = np.array([[0.0, 2.0], [2.0, 4.0]]), ["C:maj", "A:min"]
    late = chord_scores(ref_i, ref_l, np.array([[0.0, 2.5], [2.5, 4.0]]), ref_l)[0]
    # 0.5 s of the second chord (and of the first estimate) lies across a change: 1 - 0.5 / 4
    assert late["seg"] == pytest.approx(0.875) and late["majmin"] == pytest.approx(0.875)
    wrong_names = chord_scores(ref_i, ref_l, ref_i, ["D:maj", "F:min"])[0]
    assert wrong_names["seg"] == 1.0 and wrong_names["majmin"] == 0.0
    split = chord_scores(ref_i, ref_l, np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 4.0]]),
                         ["C:maj", "C:maj", "A:min"])  # fmt: skip
    assert split[0]["seg"] == 1.0 and split[1]["seg"] == pytest.approx(4.0)  # one chord, merged


def test_seg_equals_mir_eval_on_random_segmentations():
    rng = np.random.default_rng(7)
    names = ["C:maj", "C", "A:min", "F:maj", "G:7", "N", "C:maj/3"]
    compared = 0
    for _ in range(2000):
        start = rng.uniform(0, 1)
        rb = np.unique(np.r_[start, rng.uniform(start, 10, rng.integers(0, 11)), 10.0])
        lo, hi = rng.uniform(0, 1.5), rng.uniform(9, 11)
        eb = np.unique(np.r_[lo, rng.uniform(lo, hi, rng.integers(0, 11)), hi])
        if rng.random() < 0.5:  # shared and half-second boundaries
            rb, eb = np.unique(np.round(rb * 2) / 2), np.unique(np.round(eb * 2) / 2)
        if rng.random() < 0.3:
            eb = rb.copy()
        if len(rb) < 2 or len(eb) < 2:
            continue
        ref_i, est_i = np.stack([rb[:-1], rb[1:]], 1), np.stack([eb[:-1], eb[1:]], 1)
        ref_l, est_l = list(rng.choice(names, len(ref_i))), list(rng.choice(names, len(est_i)))
        if rng.random() < 0.2:  # gaps in the estimate
            est_i, est_l = est_i[::2], est_l[::2]
        try:
            expected = mir_eval.chord.evaluate(ref_i, ref_l, est_i, est_l)["seg"]
        except ValueError:  # mir_eval refuses the zero-length pieces it makes itself
            continue
        assert chord_scores(ref_i, ref_l, est_i, est_l)[0]["seg"] == pytest.approx(expected)
        compared += 1
    assert compared > 1500


def test_pooled_scores_are_duration_weighted(tmp_path):
    (tmp_path / "ref").mkdir()
    (tmp_path / "est").mkdir()
    # song a: 10 s, all right; song b: 2 s, all wrong → pooled majmin 10/12 (the mean would be 0.5)
    _write(tmp_path / "ref" / "a.lab", [(0.0, 10.0, "C:maj")])
    _write(tmp_path / "est" / "a.jams", [(0.0, 10.0, "C:maj")])
    _write(tmp_path / "ref" / "b.lab", [(0.0, 2.0, "C:maj")])
    _write(tmp_path / "est" / "b.csv", [(0.0, 2.0, "D:min")])
    _write(tmp_path / "ref" / "c.lab", [(0.0, 2.0, "C:maj")])  # no estimate: left out
    pairs = pair_files(tmp_path / "ref", tmp_path / "est")
    assert [p[0] for p in pairs] == ["a", "b"]
    result = score_files(pairs)
    assert result["files"]["a"]["majmin"] == 1.0
    assert result["files"]["b"]["majmin"] == 0.0
    assert result["total"]["majmin"] == pytest.approx(10.0 / 12.0)
    # two files: a draw of b alone scores 0, of a alone 1 (each 1 in 4)
    assert result["interval_95"]["majmin"] == (0.0, 1.0)


def test_score_command_prints_the_interval_for_several_files(tmp_path, capsys):
    for name, est in (("a", "C:maj"), ("b", "C:maj"), ("c", "D:min")):
        _write(tmp_path / f"{name}.lab", [(0.0, 4.0, "C:maj")])
        (tmp_path / "est").mkdir(exist_ok=True)
        _write(tmp_path / "est" / f"{name}.lab", [(0.0, 4.0, est)])
    (tmp_path / "ref").mkdir()
    for name in "abc":
        (tmp_path / f"{name}.lab").rename(tmp_path / "ref" / f"{name}.lab")
    assert main(["score", str(tmp_path / "ref"), str(tmp_path / "est")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in out[-3:]] == [
        ["all", "(weighted)", "0.6667"],
        ["95", "%", "low"],
        ["95", "%", "high"],
    ]
    low, high = float(out[-2].split()[4]), float(out[-1].split()[4])  # majmin's column
    assert low < 2 / 3 < high and (low, high) == pytest.approx((0.0, 1.0))


def _results(scores, seconds):
    return [({"majmin": x}, {"majmin": w}) for x, w in zip(scores, seconds, strict=True)]


def test_pool_interval_resamples_files_with_a_seeded_generator():
    rng = np.random.default_rng(5)
    few = _results(rng.uniform(0.6, 1.0, 8), rng.uniform(10.0, 60.0, 8))
    many = few * 8  # the same spread of songs, eight times as many
    total = sum(x["majmin"] * w["majmin"] for x, w in few) / sum(w["majmin"] for _, w in few)
    lo, hi = pool_interval(few, seed=3)
    assert lo < total < hi
    assert min(x["majmin"] for x, _ in few) <= lo and hi <= max(x["majmin"] for x, _ in few)
    assert pool_interval(few, seed=3) == (lo, hi)  # same seed, same interval
    assert pool_interval(few, seed=4) != (lo, hi)
    lo_many, hi_many = pool_interval(many, seed=3)
    assert hi_many - lo_many < 0.6 * (hi - lo)  # about 1/sqrt(8) as wide
    lo_80, hi_80 = pool_interval(few, level=0.8, seed=3)
    assert lo <= lo_80 < hi_80 <= hi
    # a long file counts for more, as in pool: two wrong minutes outweigh one right second,
    # two right ones one wrong second (a draw of the short file alone is rarer than 1 in 20)
    assert pool_interval(_results([0.0, 0.0, 1.0], [60.0, 60.0, 1.0]), level=0.9)[1] < 0.05
    assert pool_interval(_results([1.0, 1.0, 0.0], [60.0, 60.0, 1.0]), level=0.9)[0] > 0.95


def test_pool_interval_refuses_what_it_cannot_say():
    assert pool_interval(_results([0.5], [0.0])) is None  # nothing compared
    with pytest.raises(InputError, match="unknown metric"):
        pool_interval(_results([0.5], [1.0]), metric="majmi")
    with pytest.raises(InputError, match="level"):
        pool_interval(_results([0.5], [1.0]), level=1.0)


def test_score_command_table_and_json(tmp_path, capsys):
    _write(tmp_path / "r.lab", SEGS)
    _write(tmp_path / "e.lab", [(0.0, 1.5, "N"), (1.5, 6.0, "C:maj")])
    assert main(["score", str(tmp_path / "r.lab"), str(tmp_path / "e.lab"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["total"]) == set(CHORD_METRICS)
    assert 0 < result["total"]["root"] < 1
    assert main(["score", str(tmp_path / "r.lab"), str(tmp_path / "e.lab")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["file", *CHORD_METRICS]
    assert out[-1].startswith("all (weighted)")


def test_score_goes_on_past_a_bad_pair(tmp_path, capsys):
    for side in ("ref", "est"):
        (tmp_path / side).mkdir()
    _write(tmp_path / "ref" / "a.lab", [(0.0, 10.0, "C:maj")])
    _write(tmp_path / "est" / "a.lab", [(0.0, 10.0, "C:maj")])
    _write(tmp_path / "ref" / "b.lab", [(0.0, 2.0, "C:maj")])
    (tmp_path / "est" / "b.lab").write_text("0 1 C:maj\n0.5 2 D:min\n")  # overlapping
    _write(tmp_path / "ref" / "c.lab", [(0.0, 4.0, "C:maj")])
    _write(tmp_path / "est" / "c.lab", [(0.0, 4.0, "A:min")])
    argv = ["score", str(tmp_path / "ref"), str(tmp_path / "est")]
    assert main(argv) == 1  # some pairs scored, one could not be read
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("chordscope: error:") and "b.lab" in err[0]
    lines = captured.out.splitlines()[1:]
    assert [line.split()[:3] for line in lines[-2:]] == [["95", "%", "low"], ["95", "%", "high"]]
    rows = {line.split()[0]: line.split()[1:] for line in lines[:-2]}
    assert set(rows) == {"a", "c", "all"}  # b is left out of the table and of the total
    assert main([*argv, "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert list(result["errors"]) == ["b"] and "b.lab" in result["errors"]["b"]
    assert result["total"]["majmin"] == pytest.approx(10.0 / 14.0)  # a and c only
    (tmp_path / "est" / "a.lab").write_text("nonsense\n")
    (tmp_path / "est" / "c.lab").write_text("nonsense\n")
    assert main(argv) == 2  # nothing could be scored
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


@pytest.mark.parametrize(
    "ref, est, match",
    [
        ("missing.lab", "e.lab", "no such file"),
        ("r.lab", "folder", "both be files or both be folders"),
        ("folder", "folder", "no annotation in"),
        ("r.lab", "bad.lab", "invalid chord label"),
    ],
)
def test_score_bad_input(tmp_path, capsys, ref, est, match):
    _write(tmp_path / "r.lab", SEGS)
    _write(tmp_path / "e.lab", SEGS)
    (tmp_path / "bad.lab").write_text("0 1 C:mjr\n")
    (tmp_path / "folder").mkdir()
    assert main(["score", str(tmp_path / ref), str(tmp_path / est)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
