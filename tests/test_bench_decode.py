"""benchmarks/bench_decode.py: the flux-driven Viterbi; the ``NAME@K`` and ``A:B`` systems."""

import sys
from pathlib import Path

import numpy as np
from conftest import save_tiny_recogniser

from chordscope.recognise import decode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_decode import viterbi_switching  # noqa: E402
from bench_realmusic import _systems  # noqa: E402


def test_a_constant_switching_probability_is_librosas_viterbi():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.full(25, 0.3), size=400).astype(np.float32)
    for stay in (0.6, 0.97):
        ours = viterbi_switching(P, np.full(len(P), 1 - stay))
        assert (ours == decode(P, self_transition=stay)).all()


def test_switching_follows_the_onsets():
    P = np.full((20, 3), 0.2)
    P[:, 0] = 0.6
    P[8:, :] = [0.35, 0.45, 0.2]  # the music leans to class 1 from frame 8 on
    quiet = np.full(20, 1e-4)
    assert (viterbi_switching(P, quiet) == 0).all()  # too dear to move anywhere
    onset = quiet.copy()
    onset[8] = 0.9  # an onset where it leans
    assert viterbi_switching(P, onset).tolist() == [0] * 8 + [1] * 12


def test_a_model_name_with_at_k_sets_the_shift_average(tmp_path, monkeypatch):
    import chordscope

    seen = []
    monkeypatch.setattr(chordscope, "predict", lambda p, **kw: seen.append(kw) or [])
    tiny = save_tiny_recogniser(tmp_path / "m")
    systems = _systems([f"{tiny}@0", f"{tiny}@2", str(tiny)], baseline=False)
    for run in systems.values():
        run("x.wav")
    assert [kw.get("shift_average") for kw in seen] == [0, 2, None]


def test_a_model_name_roots_colon_qualities_pairs_two_models(tmp_path, monkeypatch):
    import chordscope

    seen = []
    monkeypatch.setattr(chordscope, "predict", lambda p, **kw: seen.append(kw) or [])
    a = save_tiny_recogniser(tmp_path / "a")
    b = save_tiny_recogniser(tmp_path / "b", seed=2)
    systems = _systems([f"{a}:{b}@0", str(a)], baseline=False)
    for run in systems.values():
        run("x.wav")
    paired, alone = (kw["model"] for kw in seen)
    assert paired.qualities is not None and paired.qualities.name == str(b)
    assert paired.name == str(a) and seen[0]["shift_average"] == 0
    assert alone.qualities is None


def test_errors_near_a_chord_change_are_told_apart():
    """``--errors``: a late boundary is ``change``; a wrong chord inside one is its own kind."""
    from bench_realmusic import _error_kinds

    ref = np.array([[0.0, 2.0], [2.0, 4.0], [4.0, 6.0]]), ["C:maj", "A:min", "A:min"]
    late = [(0.0, 2.2, "C:maj"), (2.2, 6.0, "A:min")]
    assert {k: round(v, 3) for k, v in _error_kinds(late, *ref).items()} == {
        "right": 5.8,
        "change": 0.2,  # the repeated A:min at 4 s is not a change
    }
    inside = [(0.0, 2.0, "C:maj"), (2.0, 3.0, "A:min"), (3.0, 3.5, "F:maj"), (3.5, 6, "N")]
    kinds = {k: round(v, 3) for k, v in _error_kinds(inside, *ref).items()}
    assert kinds == {"right": 3.0, "root": 0.5, "chord/N": 2.5}
