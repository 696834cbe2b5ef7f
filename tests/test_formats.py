"""Chord file formats: the registry in chordscope.io, Segment, and recognise.predict_files."""

import copy
import pickle

import numpy as np
import pytest
import soundfile as sf
from conftest import save_tiny_recogniser

import chordscope
from chordscope import io as cio
from chordscope.errors import InputError, ParameterError
from chordscope.features import CHORD_CQT
from chordscope.io import (
    CHORD_FORMATS,
    CHORD_SUFFIXES,
    ChordFormat,
    Segment,
    chord_format,
    read_chords,
)
from chordscope.recognise import FileResult, predict_files

SR = CHORD_CQT.sr
SEGS = [
    Segment(0.0, 1.5, "N", 0.25),
    Segment(1.5, 3.25, "C:maj7", 0.5),
    Segment(3.25, 5.0, "A:min", 1.0),
    Segment(5.0, 6.123456, "G:sus4", 0.0),
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """An untrained majmin ChordCNN saved as a run folder (the mechanics, not the accuracy)."""
    return save_tiny_recogniser(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def two_wavs(tmp_path, rng):
    """Two short triads (1 s and 1.5 s) as 16 kHz wavs, and a bad file named between them."""
    paths = []
    for name, seconds, freqs in [("a", 1.0, (220.0, 261.63, 329.63)), ("c", 1.5, (196.0, 246.9))]:
        t = np.arange(int(seconds * SR)) / SR
        y = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
        y = 0.5 * (y + 0.01 * rng.standard_normal(len(t)))
        sf.write(tmp_path / f"{name}.wav", y.astype(np.float32), SR)
        paths.append(tmp_path / f"{name}.wav")
    (tmp_path / "b.wav").write_bytes(b"")  # an empty file: between the two good ones
    return paths[0], tmp_path / "b.wav", paths[1]


# --- Segment ----------------------------------------------------------------------------------


def test_segment_is_the_tuple_it_replaces():
    plain = Segment(0.0, 1.5, "C:maj")
    assert plain == (0.0, 1.5, "C:maj") and len(plain) == 3
    assert (plain.start, plain.end, plain.label, plain.confidence) == (0.0, 1.5, "C:maj", None)
    start, end, label = plain
    assert (start, end, label) == (0.0, 1.5, "C:maj")
    assert repr(plain) == "(0.0, 1.5, 'C:maj')"
    rated = Segment(0.0, 1.5, "C:maj", 0.75)
    assert rated == (0.0, 1.5, "C:maj", 0.75) and rated.confidence == 0.75 and len(rated) == 4
    assert rated[:2] == (0.0, 1.5)
    for clone in (pickle.loads(pickle.dumps(rated)), copy.deepcopy(rated)):
        assert type(clone) is Segment and clone == rated and clone.confidence == 0.75


# --- the registry -----------------------------------------------------------------------------


def test_registry_names_suffixes_and_lookup():
    assert set(CHORD_FORMATS) >= {"lab", "jams", "csv"}
    assert CHORD_SUFFIXES == tuple(f.suffix for f in CHORD_FORMATS.values())
    for name, fmt in CHORD_FORMATS.items():
        assert fmt.name == name and fmt.suffix.startswith(".")
        assert chord_format(name) is fmt
        assert chord_format(fmt) is fmt
    assert CHORD_FORMATS["lab"].confidence is False
    assert CHORD_FORMATS["jams"].confidence is True and CHORD_FORMATS["csv"].confidence is True


@pytest.mark.parametrize("bad", ["xml", "LAB", ".lab", None])
def test_unknown_format_is_a_one_line_parameter_error(bad):
    with pytest.raises(ParameterError) as info:
        chord_format(bad)
    message = str(info.value)
    assert "\n" not in message and repr(bad) in message
    assert all(name in message for name in CHORD_FORMATS)


@pytest.mark.parametrize("name", list(CHORD_FORMATS))
def test_every_format_round_trips_segments(tmp_path, name):
    fmt = CHORD_FORMATS[name]
    path = fmt.write(tmp_path / f"song{fmt.suffix}", SEGS, metadata={"model": "test"})
    assert path == tmp_path / f"song{fmt.suffix}" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    back = fmt.read(path)
    assert all(isinstance(s, Segment) for s in back)
    assert [s.label for s in back] == [s.label for s in SEGS]
    np.testing.assert_allclose([s[:2] for s in back], [s[:2] for s in SEGS], atol=1e-6)
    if fmt.confidence:
        assert [s.confidence for s in back] == [s.confidence for s in SEGS]
    else:
        assert all(s.confidence is None and len(s) == 3 for s in back)
    # read_chords picks the same reader by the suffix
    intervals, labels = read_chords(path)
    assert labels == [s.label for s in back]
    np.testing.assert_array_equal(intervals, [s[:2] for s in back])


@pytest.mark.parametrize("name", list(CHORD_FORMATS))
def test_every_format_writes_three_item_segments(tmp_path, name):
    fmt = CHORD_FORMATS[name]
    plain = [s[:3] for s in SEGS]
    back = fmt.read(fmt.write(tmp_path / f"x{fmt.suffix}", plain))
    assert [s.label for s in back] == [s[2] for s in plain]
    assert all(s.confidence is None for s in back)


@pytest.mark.parametrize("name", list(CHORD_FORMATS))
@pytest.mark.parametrize(
    "segs, match",
    [
        ([], "must not be empty"),
        ([(1.0, 0.5, "C:maj")], "start < end"),
        ([(0.0, 1.0, "H:maj")], "invalid chord label"),
    ],
)
def test_every_format_refuses_bad_segments_and_writes_nothing(tmp_path, name, segs, match):
    fmt = CHORD_FORMATS[name]
    with pytest.raises(ParameterError, match=match):
        fmt.write(tmp_path / f"x{fmt.suffix}", segs)
    assert list(tmp_path.iterdir()) == []


def test_csv_confidence_that_is_not_a_number_reads_as_none(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("start,end,label,confidence\n0,1,C:maj,0.5\n1,2,G:7,\n2,3,N,abc\n")
    assert [s.confidence for s in CHORD_FORMATS["csv"].read(path)] == [0.5, None, None]


def test_format_read_names_the_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("start,end,label\n0,1,Q:maj\n")
    with pytest.raises(InputError, match="invalid chord label") as info:
        CHORD_FORMATS["csv"].read(path)
    assert str(path) in str(info.value)
    with pytest.raises(InputError, match="no such file"):
        CHORD_FORMATS["lab"].read(tmp_path / "gone.lab")


def test_registry_drives_read_chords(tmp_path, monkeypatch):
    path = tmp_path / "a.tsv"
    path.write_text("0\t1\tC:maj\n1\t2\tA:min\n")
    with pytest.raises(InputError, match="unknown chord file type '.tsv'") as info:
        read_chords(path)
    assert all(suffix in str(info.value) for suffix in CHORD_SUFFIXES)

    # one more registry entry, and read_chords reads that suffix (and lists it when refusing)
    tsv = ChordFormat(
        "tsv", ".tsv", False, CHORD_FORMATS["lab"].writer, CHORD_FORMATS["lab"].parser
    )
    monkeypatch.setitem(CHORD_FORMATS, "tsv", tsv)
    intervals, labels = read_chords(path)
    assert labels == ["C:maj", "A:min"] and intervals.tolist() == [[0.0, 1.0], [1.0, 2.0]]
    assert chord_format("tsv") is tsv
    (tmp_path / "a.xml").write_text("<chords/>")
    with pytest.raises(InputError, match=r"expected .*\.tsv"):
        read_chords(tmp_path / "a.xml")
    monkeypatch.delitem(CHORD_FORMATS, "lab")
    (tmp_path / "b.lab").write_text("0\t1\tC:maj\n")
    with pytest.raises(InputError, match="unknown chord file type '.lab'"):
        read_chords(tmp_path / "b.lab")
    assert cio.CHORD_FORMATS is CHORD_FORMATS


# --- predict_files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CHORD_FORMATS))
def test_predict_files_writes_one_file_per_input_and_keeps_going(
    tmp_path, two_wavs, tiny_model, name
):
    fmt = CHORD_FORMATS[name]
    good_a, bad, good_c = two_wavs
    out = tmp_path / "labels" / "deep"  # created
    seen = []
    results = predict_files(
        [good_a, bad, str(good_c)],
        model=tiny_model,
        out_dir=out,
        format=name,
        tuning=0.0,
        on_result=seen.append,
    )
    assert seen == results and all(isinstance(r, FileResult) for r in results)
    assert [r.source for r in results] == [good_a, bad, good_c]
    assert [r.ok for r in results] == [True, False, True]
    assert sorted(p.name for p in out.iterdir()) == [f"a{fmt.suffix}", f"c{fmt.suffix}"]

    failed = results[1]
    assert isinstance(failed.error, InputError) and "empty" in str(failed.error)
    assert str(bad) in str(failed.error)
    assert failed.destination is None and failed.segments is None

    for r, seconds in zip([results[0], results[2]], [1.0, 1.5], strict=True):
        assert r.error is None and r.destination == out / f"{r.source.stem}{fmt.suffix}"
        assert r.segments[0].start == 0.0 and r.segments[-1].end == pytest.approx(seconds)
        assert all(isinstance(s, Segment) for s in r.segments)
        assert all((s.confidence is not None) == fmt.confidence for s in r.segments)
        back = fmt.read(r.destination)
        assert [s.label for s in back] == [s.label for s in r.segments]
        np.testing.assert_allclose([s[:2] for s in back], [s[:2] for s in r.segments], atol=1e-6)
        # what predict gives for the same file and settings
        assert r.segments == chordscope.predict(
            r.source, model=tiny_model, tuning=0.0, return_confidence=fmt.confidence
        )


def test_predict_files_jams_records_the_settings(tmp_path, two_wavs, tiny_model):
    import jams

    good_a = two_wavs[0]
    [result] = predict_files(
        good_a,  # one path, not a list
        model=tiny_model,
        format="jams",
        self_transition=0.9,
        min_duration=0.5,
        shift_average=0,
        metadata={"title": "A minor", "tuning": "as typed"},
    )
    assert result.destination == good_a.with_suffix(".jams")  # beside the audio by default
    jam = jams.load(str(result.destination), validate=True)
    assert jam.file_metadata.title == "A minor"
    sandbox = jam.annotations[0].sandbox
    assert sandbox.model == str(tiny_model) and sandbox.audio == "a.wav"
    assert (sandbox.self_transition, sandbox.min_duration, sandbox.shift_average) == (0.9, 0.5, 0)
    assert sandbox.tuning == "as typed"  # metadata wins over the recorded setting


def test_predict_files_expands_folders(tmp_path, two_wavs, tiny_model):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    (empty / "notes.txt").write_text("no audio")
    results = predict_files(
        [tmp_path, empty], model=tiny_model, out_dir=tmp_path / "out", format="csv"
    )
    # the folder's audio files sorted by name (b.wav, the empty one, fails), then the empty folder
    assert [r.source.name for r in results] == ["a.wav", "b.wav", "c.wav", "nothing-here"]
    assert [r.ok for r in results] == [True, False, True, False]
    assert str(results[3].error) == f"{empty}: a folder without audio files"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.csv", "c.csv"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"format": "xml"}, "format='xml'"),
        ({"self_transition": 1.0}, "self_transition"),
        ({"min_duration": -1.0}, "min_duration"),
        ({"tuning": 0.7}, "tuning"),
        ({"tuning": "sharp"}, "tuning"),
        ({"shift_average": 7}, "shift_average"),
        ({"shift_average": 1.5}, "shift_average"),
    ],
)
def test_predict_files_refuses_bad_settings_before_any_file(
    tmp_path, two_wavs, tiny_model, kwargs, match
):
    seen = []
    with pytest.raises(ParameterError, match=match):
        predict_files(
            two_wavs, model=tiny_model, out_dir=tmp_path / "o", on_result=seen.append, **kwargs
        )
    assert seen == [] and not (tmp_path / "o").exists()


def test_predict_files_is_a_package_shortcut():
    assert chordscope.predict_files is predict_files
