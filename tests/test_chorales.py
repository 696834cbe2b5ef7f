"""Bach chorales from music21's corpus: labels that line up with the notes, and their rendering."""

import json

import mir_eval
import numpy as np
import pytest
from test_heldout import needs_render

from chordscope import chorales, heldout
from chordscope.errors import ParameterError
from chordscope.io import read_chords


def _chord_tone_share(piece: chorales.Chorale) -> float:
    """The share of the sounding note time whose pitch class is a tone of the labelled chord."""
    total = hit = 0.0
    for a, b, label in piece.chords:
        root, bits, _ = mir_eval.chord.encode(label)
        tones = {(root + i) % 12 for i in np.flatnonzero(bits)}
        for pitch, start, end, _ in piece.notes:
            overlap = min(b, end) - max(a, start)
            if overlap > 0:
                total += overlap
                hit += overlap * (pitch % 12 in tones)
    return hit / total


def test_every_chorale_kept_lines_up_with_its_score_and_those_left_out_do_not():
    for number in chorales.CHORALE_NUMBERS:
        piece = chorales.chorale(number)
        starts = [a for a, _, _ in piece.chords]
        assert starts[0] == 0.0 and piece.chords[-1][1] == piece.length_q
        assert all(
            b == c for (_, b, _), (c, _, _) in zip(piece.chords[:-1], piece.chords[1:], strict=True)
        )
        assert all(mir_eval.chord.encode(lab) is not None for *_, lab in piece.chords)
        assert {v for *_, v in piece.notes} == {0, 1, 2, 3}
        # passing notes and suspensions aside, nearly every note is a tone of its chord
        assert _chord_tone_share(piece) > 0.88, number
    transposed = chorales.chorale(17)
    chorales._TRANSPOSED.pop(17)  # read as the analysis has it: in another key than the score
    try:
        assert _chord_tone_share(chorales.chorale(17)) < 0.2
    finally:
        chorales._TRANSPOSED[17] = 2
    assert transposed.chords[0][2] == "F#:min"
    with pytest.raises(ParameterError, match="analysed chorales"):
        chorales.chorale(11)  # its analysis follows another version than the score


def test_reading_a_chorale_leaves_no_pickle_to_be_read_later():
    from music21 import environment

    scratch = environment.Environment().getRootTempDir()
    before = set(scratch.glob("*.p*"))
    chorales.chorale(3)
    assert set(scratch.glob("*.p*")) == before  # music21 would cache parsed files as pickles


def test_roman_numerals_become_harte_labels_with_their_bass():
    from music21 import roman

    cases = {
        ("I", "C"): "C:maj",
        ("V7", "C"): "G:7",
        ("V43", "C"): "G:7/5",
        ("V42", "C"): "G:7/b7",
        ("iv6", "c"): "F:min/b3",
        ("viio7", "c"): "B:dim7",
        ("viio65", "c"): "B:dim7/b3",
        ("iiø7", "c"): "D:hdim7",
        ("IV7", "C"): "F:maj7",
        ("III+", "c"): "Eb:aug",
    }
    for (figure, key), label in cases.items():
        got = chorales.roman_to_harte(roman.RomanNumeral(figure, key))
        assert got == label, (figure, key, got)
    # no shorthand (an augmented sixth): written with its degrees, the same notes and bass
    for figure in ("Ger65", "It6", "Fr43"):
        rn = roman.RomanNumeral(figure, "C")
        label = chorales.roman_to_harte(rn)
        root, bits, bass = mir_eval.chord.encode(label)
        assert "(" in label
        assert {(root + i) % 12 for i in np.flatnonzero(bits)} == {p.pitchClass for p in rn.pitches}
        assert (root + bass) % 12 == rn.bass().pitchClass


@needs_render
def test_the_chorales_condition_plays_each_chorale_once_with_held_out_programs(tmp_path):
    assert heldout.condition_pieces("chorales", 40) == len(chorales.CHORALE_NUMBERS) == 18
    assert heldout.condition_pieces("chorales-both", 40) == 18
    assert heldout.condition_pieces("chorales", 2) == 2
    assert heldout.condition_pieces("mp3", 40) == 40
    paths = heldout.write_condition(tmp_path, "chorales", n_songs=2)
    assert [p.name for p in paths] == ["chorale000.wav", "chorale001.wav"]
    for i, path in enumerate(paths):
        meta = json.loads(path.with_suffix(".json").read_text())
        assert meta["riemenschneider"] == chorales.CHORALE_NUMBERS[i]
        assert set(meta["programs"].values()) <= set(heldout.HELD_OUT_CHORD_PROGRAMS)
        intervals, labels = read_chords(path.with_suffix(".lab"))
        piece = chorales.chorale(meta["riemenschneider"])
        assert labels[0] == labels[-1] == "N" and labels[1:-1] == [c[2] for c in piece.chords]
        q = 60.0 / meta["tempo"]  # the score's quarter notes at the drawn tempo
        starts = [0.5 + a * q for a, _, _ in piece.chords]
        np.testing.assert_allclose(intervals[1:-1, 0], starts, atol=2e-3)
        assert intervals[-2, 1] > 0.5 + piece.length_q * q  # the last chord rings on
    with pytest.raises(ParameterError, match="18 pieces"):
        heldout.render_condition("chorales", 18)
    with pytest.raises(ParameterError, match="Bach's chorales"):
        heldout.heldout_song(0, "chorales")


@needs_render
def test_chorales_both_plays_the_same_pieces_through_the_held_out_soundfont():
    a = heldout.render_condition("chorales", 1)
    b = heldout.render_condition("chorales-both", 1)
    keep = ("riemenschneider", "tempo", "programs")
    assert {k: a[3][k] for k in keep} == {k: b[3][k] for k in keep}
    assert (a[3]["soundfont"], b[3]["soundfont"]) == ("fluidr3", heldout.HELD_OUT_SOUNDFONT)
    assert [s[2] for s in a[2]] == [s[2] for s in b[2]]  # the same chords, each while it rings
    assert [s[0] for s in a[2][:-1]] == [s[0] for s in b[2][:-1]]
    assert len(a[0]) == len(b[0]) and not np.allclose(a[0], b[0], atol=0.05)
