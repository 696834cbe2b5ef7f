"""Training songs that move and sound like music.

Progressions people write, voiced as players voice them, over bass lines with passing notes,
with a lead line, layered instruments and drums.

Conventions
-----------
- A song is drawn from ``numpy.random.SeedSequence([seed, 40, index])``; ``seed`` may not be the
  evaluation set's (:data:`EVAL_SEED`). Same seed, same notes, same audio.
- Harmony (:func:`progression`): a key, then one of five writers — a functional walk over the
  diatonic degrees (with secondary dominants, passing diminished sevenths, borrowed chords from
  the parallel minor and suspensions that resolve), a four-chord loop, a 12-bar blues in
  dominant sevenths (major or minor), jazz ii–V–I chains with turnarounds, or a modal loop.
  Harmonic rhythm: two beats, a bar or two bars per chord.
- Labels are full Harte labels of what sounds (``G:7``, ``C:maj7/3``, ``B:hdim7``, ``D:min9``);
  a recogniser's training targets are their reduction to its vocabulary (MIREX convention, as
  :meth:`chordscope.chords.Vocabulary.index` reduces), and frames whose chord the vocabulary
  cannot hold (``B:hdim7`` in ``majmin``) are left out of the loss.
- Playing (:func:`arrange`): one to three chord instruments, each with its own voicing style
  (close with inversions, shell 1–3–7, rootless 3–5–7–9 over the bass, guitar barre shapes,
  spread) and comping pattern (sustained, rhythmic stabs, arpeggios, strums), a bass line (roots,
  root–fifth, walking with chromatic approach notes, octaves) that plays a slash chord's bass, a
  lead melody with passing and neighbour tones in half of the songs, drums from one of the GM
  kits, and a dynamic curve over the song; with ``counter > 0`` a share of the songs also get a
  counter-voice (:func:`counter_line`: a slower tenor line with suspensions, passing and
  neighbour tones, drawn from its own stream ``SeedSequence([seed, 43, index])`` so the other
  tracks stay as they were). A share (:data:`ISOLATED`) of the songs are single
  chords struck once and left to ring, with silences between, as in recordings of one chord.
- Instruments come from :data:`TRAIN_CHORD_PROGRAMS`, :data:`TRAIN_BASS_PROGRAMS` and
  :data:`TRAIN_LEAD_PROGRAMS`; the held-out programs of the evaluation
  (:mod:`chordscope.heldout`) are never among them (tested). ``extra_programs`` adds chord
  instruments to the draw (:data:`MORE_CHORD_PROGRAMS` is a set of struck and plucked ones);
  the training configuration refuses held-out programs there.
- The simple songs at the end of the module (:class:`Song`, :func:`play_song`,
  :func:`render_song`) play chordscope's evaluation set (composed in :mod:`chordscope.evalset`)
  and the random training songs of ``data = "songs"`` (:func:`training_song`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .chords import PITCH_NAMES, parse_label, quality_intervals, voicing
from .errors import ParameterError, valid_non_negative_int, valid_positive_int
from .synth import SR, midi_notes, midi_to_hz, normalise_peak, render_midi

__all__ = [
    "MusicSong",
    "TRAIN_CHORD_PROGRAMS",
    "MORE_CHORD_PROGRAMS",
    "TRAIN_BASS_PROGRAMS",
    "TRAIN_LEAD_PROGRAMS",
    "progression",
    "voice",
    "arrange",
    "music_song",
    "invert",
    "counter_line",
    "render_music",
    "additive_track",
    "fm_track",
    "ring_out",
    "RING_OUT_DB",
    "Song",
    "play_song",
    "training_song",
    "render_song",
    "TRAINING_QUALITIES",
    "CHORD_PROGRAMS",
    "BASS_PROGRAMS",
    "EVAL_SEED",
]

#: GM programs the chord instruments of training songs are drawn from: pianos, electric piano 1,
#: harpsichord, celesta/glockenspiel/music box, organs, guitars, strings, pads, brass, synths.
TRAIN_CHORD_PROGRAMS = (
    0, 1, 2, 3, 4, 6, 8, 9, 10, 16, 18, 19, 20, 22, 24, 25, 26, 28, 30,
    48, 49, 51, 53, 54, 56, 57, 62, 80, 81, 88, 89, 91, 92, 94, 95,
)  # fmt: skip
TRAIN_BASS_PROGRAMS = (32, 33, 34, 35, 38)
TRAIN_LEAD_PROGRAMS = (40, 41, 56, 64, 65, 68, 71, 73, 80, 81)
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40)  # GM2 kit numbers: standard, room, power, electronic, ...
ISOLATED = 0.2  # share of training songs that are single chords with silences between
RINGING_PROGRAMS = (0, 1, 2, 3, 4, 6, 16, 19, 24, 25, 26, 30, 48, 49, 88, 89)  # for those
#: Chord programs neither the default training songs nor the held-out evaluation use, for
#: ``extra_programs``: marimba, xylophone, tubular bells, dulcimer, tango accordion, pizzicato
#: strings, muted trumpet, synth brass 2, metallic pad, sitar, banjo, shamisen, koto, kalimba.
MORE_CHORD_PROGRAMS = (12, 13, 14, 15, 23, 45, 59, 63, 93, 104, 105, 106, 107, 108)

# diatonic degrees (semitones above the tonic, triad, seventh)
MAJOR = [(0, "maj", "maj7"), (2, "min", "min7"), (4, "min", "min7"), (5, "maj", "maj7"),
         (7, "maj", "7"), (9, "min", "min7"), (11, "dim", "hdim7")]  # fmt: skip
MINOR = [(0, "min", "min7"), (2, "dim", "hdim7"), (3, "maj", "maj7"), (5, "min", "min7"),
         (7, "maj", "7"), (8, "maj", "maj7"), (10, "maj", "7")]  # fmt: skip
# where a functional walk goes from each degree (index into MAJOR / MINOR) and how often
MOVES = {0: [3, 4, 5, 1, 2, 6], 1: [4, 4, 4, 6, 3], 2: [5, 5, 3], 3: [4, 4, 0, 1, 6],
         4: [0, 0, 0, 5], 5: [1, 1, 3, 4], 6: [0, 0, 2]}  # fmt: skip
# four-chord loops: (semitones above tonic, quality)
MAJOR_LOOPS = [
    [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")],  # I V vi IV
    [(0, "maj"), (9, "min"), (5, "maj"), (7, "maj")],  # I vi IV V
    [(9, "min"), (5, "maj"), (0, "maj"), (7, "maj")],  # vi IV I V
    [(0, "maj"), (5, "maj"), (9, "min"), (7, "maj")],  # I IV vi V
    [(0, "maj"), (10, "maj"), (5, "maj"), (0, "maj")],  # I bVII IV I (mixolydian)
    [(0, "maj"), (4, "min"), (5, "maj"), (7, "maj")],  # I iii IV V
    [(0, "maj"), (5, "maj"), (5, "min"), (0, "maj")],  # I IV iv I (borrowed iv)
    [(0, "maj"), (8, "maj"), (10, "maj"), (0, "maj")],  # I bVI bVII I (modal mixture)
]
MINOR_LOOPS = [
    [(0, "min"), (8, "maj"), (3, "maj"), (10, "maj")],  # i VI III VII
    [(0, "min"), (5, "min"), (7, "min"), (0, "min")],  # i iv v i (aeolian)
    [(0, "min"), (10, "maj"), (8, "maj"), (10, "maj")],  # i VII VI VII
    [(0, "min"), (5, "min"), (10, "maj"), (3, "maj")],  # i iv VII III
    [(0, "min"), (8, "maj"), (5, "min"), (7, "maj")],  # i VI iv V
    [(0, "min"), (2, "maj"), (0, "min"), (2, "maj")],  # i II (dorian)
]
COLOURS = {"maj": ["maj6", "maj(9)", "maj9"], "min": ["min6", "min(9)", "min9"], "7": ["9", "13"]}


@dataclass
class MusicSong:
    """A composed training song: its chords (with times) and its tracks of notes."""

    seed: list
    tempo: float
    key: str
    writer: str  # which progression writer made the harmony
    chords: list  # [(start_s, end_s, Harte label)], N before and after
    duration: float
    tracks: list = field(default_factory=list)  # [(name, program, is_drum, [(p, on, off, vel)])]

    def to_json(self) -> dict:
        """Metadata (no notes)."""
        return {
            "seed": self.seed,
            "tempo": round(self.tempo, 3),
            "key": self.key,
            "writer": self.writer,
            "duration": round(self.duration, 6),
            "tracks": [(name, prog, drum, len(notes)) for name, prog, drum, notes in self.tracks],
        }


def _label(root: int, quality: str, bass: str = "") -> str:
    return f"{PITCH_NAMES[root % 12]}:{quality}" + (f"/{bass}" if bass else "")


def progression(rng: np.random.Generator, n_chords: int = 16) -> tuple[str, str, list[str]]:
    """Draw a key and a chord progression of at least ``n_chords`` chords.

    Returns
    -------
    key : str  e.g. ``"D:maj"``
    writer : str  ``functional``, ``loop``, ``blues``, ``jazz`` or ``modal``
    labels : list of str  Harte labels (root position; see :func:`arrange` for inversions)

    Examples
    --------
    >>> key, writer, labels = progression(np.random.default_rng(0), 8)
    >>> len(labels) >= 8 and all(":" in lab for lab in labels)
    True
    """
    n_chords = valid_positive_int("n_chords", n_chords)
    tonic = int(rng.integers(12))
    minor = bool(rng.random() < 0.35)
    writer = str(
        rng.choice(
            ["functional", "loop", "blues", "jazz", "modal"], p=[0.35, 0.25, 0.12, 0.18, 0.10]
        )
    )
    sevenths = float(rng.choice([0.0, 0.2, 0.5, 0.9]))  # how jazzy the song is
    out: list[tuple[int, str]] = []  # (semitones above tonic, quality)
    if writer == "blues":
        twelve = (
            [0, 5, 0, 0, 5, 5, 0, 0, 7, 5, 0, 7]
            if rng.random() < 0.5
            else [0] * 4 + [5, 5, 0, 0, 7, 5, 0, 7]
        )
        while len(out) < n_chords:
            for d in twelve:
                q = "7" if not minor or d == 7 else ("min7" if rng.random() < 0.7 else "min")
                out.append((d, q))
    elif writer == "jazz":
        while len(out) < n_chords:
            r = rng.random()
            if r < 0.45:  # ii-V-I in the key (or its minor form)
                out += (
                    [(2, "hdim7"), (7, "7"), (0, "min7")]
                    if minor
                    else [(2, "min7"), (7, "7"), (0, "maj7")]
                )
            elif r < 0.7:  # turnaround I-VI7-ii7-V7
                out += [(0, "min7" if minor else "maj7"), (9, "7"), (2, "min7"), (7, "7")]
            else:  # ii-V to another degree (tonicisation)
                t = int(rng.choice([5, 9, 2, 4]))
                out += [
                    ((t + 2) % 12, "min7"),
                    ((t + 7) % 12, "7"),
                    (t, "maj7" if t == 5 else "min7"),
                ]
    elif writer in ("loop", "modal"):
        loops = MINOR_LOOPS if minor else MAJOR_LOOPS
        if writer == "modal":
            loops = [lp for lp in loops if any(iv in (2, 8, 10) for iv, _ in lp)] or loops
        loop = loops[int(rng.integers(len(loops)))]
        while len(out) < n_chords:
            out += [
                (iv, q if rng.random() >= sevenths else _seventh_of(iv, q, minor)) for iv, q in loop
            ]
    else:  # functional walk with secondary dominants, passing diminished, borrowing, suspensions
        degrees = MINOR if minor else MAJOR
        d = 0
        while len(out) < n_chords:
            iv, triad, seventh = degrees[d]
            quality = seventh if rng.random() < sevenths else triad
            nxt = int(rng.choice(MOVES[d]))
            r = rng.random()
            if not minor and r < 0.08:  # borrowed from the parallel minor
                iv, quality = [(5, "min"), (8, "maj"), (10, "maj"), (3, "maj")][
                    int(rng.integers(4))
                ]
            out.append((iv, quality))
            tiv = degrees[nxt][0]
            if r > 0.88 and nxt not in (0, 6):  # secondary dominant of the next chord
                out.append(((tiv + 7) % 12, "7"))
            elif 0.8 < r <= 0.88 and (tiv - iv) % 12 == 2:  # passing diminished seventh
                out.append(((iv + 1) % 12, "dim7"))
            elif 0.76 < r <= 0.8 and degrees[nxt][1] == "maj":  # a suspension that resolves
                out.append((tiv, "sus4"))
            d = nxt
    labels = []
    for iv, q in out:
        if q in COLOURS and rng.random() < 0.1:
            q = COLOURS[q][int(rng.integers(len(COLOURS[q])))]
        labels.append(_label(tonic + iv, q))
    key = _label(tonic, "min" if minor else "maj")
    return key, writer, labels


def _seventh_of(iv: int, quality: str, minor: bool) -> str:
    """Return the diatonic seventh on degree ``iv`` of a loop (dominant on V, else maj7 / min7)."""
    if quality == "maj":
        return "7" if (iv == 7 or (iv == 10 and minor)) else "maj7"
    return {"min": "min7", "dim": "hdim7"}.get(quality, quality)


def _tones(label: str) -> tuple[int, list[int]]:
    """Root pitch class and the chord's intervals, ninths and thirteenths above the octave."""
    head = label.split("/")[0]
    root = int(parse_label(head)[0])
    quality = head.split(":")[1]
    base = quality.split("(")[0]
    ivs = set(quality_intervals(base))
    if base in ("9", "maj9", "min9", "11", "13", "min11", "min13", "maj13"):
        ivs = {14 if i == 2 else 21 if (i == 9 and "13" in base) else i for i in ivs if i != 5}
        ivs.add(14)
    if "(9)" in quality:
        ivs.add(14)
    return root, sorted(ivs)


VOICINGS = ("close", "shell", "rootless", "guitar", "spread")


def voice(label: str, style: str, rng: np.random.Generator, *, bass_iv: int = 0) -> list[int]:
    """MIDI pitches of one voicing of ``label`` in a player's ``style`` (see :data:`VOICINGS`).

    ``bass_iv`` (semitones above the root) is the lowest note of an inverted chord.

    Examples
    --------
    >>> voice("C:maj", "close", np.random.default_rng(0))[:1] >= [48]
    True
    >>> sorted(p % 12 for p in voice("G:7", "shell", np.random.default_rng(0)))
    [5, 7, 11]
    """
    root, ivs = _tones(label)
    base = 48 + root if root < 7 else 36 + root  # root between G2 and F#3
    if style == "shell" and len(ivs) >= 3:
        third = [i for i in ivs if i in (3, 4, 5, 2)][:1]
        top = [i for i in ivs if i in (9, 10, 11)][:1] or [7]
        return (
            [base]
            + [base + 12 + i if i < 7 else base + i for i in third]
            + [base + top[0] + (12 if top[0] == 7 else 0)]
        )
    if style == "rootless" and len(ivs) >= 4:
        upper = [i % 12 for i in ivs if i % 12 != 0] + (
            [2] if max(ivs) < 12 and rng.random() < 0.5 else []
        )
        lo = 52 + int(rng.integers(0, 6))  # E3..A3 region
        out, prev = [], lo - 1
        for i in sorted(upper, key=lambda i: (i - (lo - root)) % 12):
            p = prev + 1 + ((root + i - prev - 1) % 12)
            out.append(p)
            prev = p
        return out
    if style == "guitar":
        frets_e, frets_a = (root - 4) % 12, (root - 9) % 12
        third = (
            3 if 3 in ivs and 4 not in ivs else (4 if 4 in ivs else ivs[1] if len(ivs) > 1 else 7)
        )
        seventh = [i for i in ivs if i in (9, 10, 11)]
        if frets_e <= frets_a:  # E-shape barre: R 5 R/7 3 5 R
            r = 40 + frets_e
            return [r, r + 7, r + (seventh[0] if seventh else 12), r + 12 + third, r + 19, r + 24]
        r = 45 + frets_a  # A-shape barre: R 5 R/7 3 5
        return [r, r + 7, r + (seventh[0] if seventh else 12), r + 12 + third, r + 19]
    if style == "spread":
        p = [base, base + 7 if 7 in ivs else base + ivs[-1]]
        p += [base + 12 + i for i in ivs if i not in (0, 7)]
        return sorted(set(p))
    # close position from a drawn register with a random inversion
    p = [base + 12 + i for i in ivs]
    for _ in range(int(rng.integers(0, len(p)))):
        p = p[1:] + [p[0] + 12]
    if bass_iv:
        b = [q for q in p if (q - root) % 12 == bass_iv % 12]
        if b:
            p = sorted(q + 12 if q < b[0] else q for q in p)
    if max(p) > 84:
        p = [q - 12 for q in p]
    return p


def _comp(pitches, start, end, beat, pattern, rng, vel):
    """Play one chord on the chord instrument: ``pattern`` = block, stabs, arpeggio, strum."""
    notes = []
    if pattern == "block":
        spread = 0.015 * rng.random()
        return [
            (p, start + k * spread, end, vel * rng.uniform(0.85, 1)) for k, p in enumerate(pitches)
        ]
    step = beat / 2 if pattern != "arpeggio" or rng.random() < 0.6 else beat / 4
    n = max(1, int(round((end - start) / step)))
    if pattern == "stabs":
        mask = rng.random(n) < 0.55
        mask[0] = True
        for k in np.flatnonzero(mask):
            t = start + k * step
            notes += [(p, t, min(end, t + step * rng.uniform(0.4, 0.9)), vel) for p in pitches]
    elif pattern == "arpeggio":
        order = list(range(len(pitches)))
        if rng.random() < 0.4:
            order = order + order[-2:0:-1]
        for k in range(n):
            p = pitches[order[k % len(order)]]
            notes.append(
                (
                    p,
                    start + k * step,
                    end if rng.random() < 0.5 else min(end, start + (k + 1) * step),
                    vel,
                )
            )
    else:  # strum: downstrokes on beats, upstrokes on some offbeats, low to high / high to low
        for k in range(n):
            if k % 2 and rng.random() < 0.5:
                continue
            t = start + k * step
            order = pitches if k % 2 == 0 else pitches[::-1]
            gap = rng.uniform(0.008, 0.025)
            v = vel * (1.0 if k % 2 == 0 else 0.75)
            notes += [(p, t + j * gap, min(end, t + step * 1.9), v) for j, p in enumerate(order)]
    return notes


def _bass(root, bass_iv, ivs, nxt_root, start, end, beat, style, rng):
    """Play a bass line on one chord: roots, root-fifth, walking with approach notes, or octaves."""
    low = 28 + (root + bass_iv - 4) % 12  # E1..D#2
    n_beats = max(1, int(round((end - start) / beat)))
    if style == "roots":
        return [(low, start, end, 0.8)]
    notes = []
    fifth = 7 if 7 in ivs else (6 if 6 in ivs else 8)
    for b in range(n_beats):
        t = start + b * beat
        if style == "fifths":
            p = low if b % 2 == 0 else low + fifth - (12 if low + fifth > 45 else 0)
        elif style == "octaves":
            notes.append((low + 12 * (b % 2), t, t + beat * 0.45, 0.75))
            notes.append((low + 12 * ((b + 1) % 2), t + beat / 2, t + beat * 0.95, 0.7))
            continue
        else:  # walking: chord tones, then a chromatic or scale approach into the next root
            if b == 0:
                p = low
            elif b == n_beats - 1 and nxt_root is not None:
                target = 28 + (nxt_root - 4) % 12
                p = target + (1 if rng.random() < 0.5 else -1) * int(rng.choice([1, 2]))
            else:
                p = low + int(rng.choice([i for i in ivs if i < 12] + [12]))
        notes.append((p, t, t + beat * 0.95, 0.8))
    return notes


def arrange(
    chords, tempo: float, key: str, rng: np.random.Generator, *, programs=TRAIN_CHORD_PROGRAMS
) -> list:
    """Tracks ``[(name, program, is_drum, notes)]`` that play ``chords`` (see module docs).

    Labels with a bass (``C:maj/3``) put that note under the chord and in the bass line; the
    chord instruments are drawn from ``programs``.
    """
    beat = 60.0 / tempo
    body = [c for c in chords if c[2] != "N"]
    tonic = parse_label(key)[0]
    scale = np.array([0, 2, 4, 5, 7, 9, 11] if key.endswith("maj") else [0, 2, 3, 5, 7, 8, 10])
    has_bass = bool(rng.random() < 0.8)
    n_inst = int(rng.choice([1, 1, 2, 2, 3]))
    programs = rng.choice(programs, size=n_inst, replace=False)
    tracks = []
    for k, prog in enumerate(programs):
        style = str(rng.choice(VOICINGS, p=[0.35, 0.15, 0.15, 0.2, 0.15]))
        if style == "rootless" and not has_bass:  # without a bass nothing would sound the root
            style = "shell"
        pattern = str(rng.choice(["block", "stabs", "arpeggio", "strum"], p=[0.35, 0.2, 0.25, 0.2]))
        if k > 0:  # a second / third instrument: a pad or an answer in another register
            style, pattern = (
                str(rng.choice(["close", "spread"])),
                str(rng.choice(["block", "arpeggio"])),
            )
        vel = rng.uniform(0.5, 0.9) * (0.7 if k else 1.0)
        notes = []
        # register: an octave up for half of the added instruments and a fifth of the first
        up = 12 * int(style != "guitar" and rng.random() < (0.5 if k else 0.2))
        for start, end, lab in body:
            bass_iv = _slash(lab)
            p = [q + up for q in voice(lab, style, rng, bass_iv=bass_iv) if q + up <= 96]
            notes += _comp(p, start, end, beat, pattern, rng, vel)
        tracks.append((f"chords{k}", int(prog), False, notes))
    if has_bass:
        style = str(rng.choice(["roots", "fifths", "walking", "octaves"], p=[0.3, 0.3, 0.25, 0.15]))
        notes = []
        for i, (start, end, lab) in enumerate(body):
            root, ivs = _tones(lab)
            nxt = _tones(body[i + 1][2])[0] if i + 1 < len(body) else None
            notes += _bass(
                root, _slash(lab), [i % 12 for i in ivs], nxt, start, end, beat, style, rng
            )
        tracks.append(("bass", int(rng.choice(TRAIN_BASS_PROGRAMS)), False, notes))
    if rng.random() < 0.5:
        tracks.append(("lead", int(rng.choice(TRAIN_LEAD_PROGRAMS)), False,
                       _melody(body, beat, tonic, scale, rng)))  # fmt: skip
    if rng.random() < 0.6 and body:  # drums; in half of the songs they count in and play on
        start, end = body[0][0], body[-1][1]  # into the tail, where the label is N
        if rng.random() < 0.5:
            start *= float(rng.uniform(0, 0.5))
            end += (chords[-1][1] - end) * float(rng.uniform(0.5, 1))
        tracks.append(("drums", int(rng.choice(DRUM_KITS)), True, _drums(start, end, beat, rng)))
    # dynamics: a slow curve over the song scales every velocity
    t0, t1 = (body[0][0], body[-1][1]) if body else (0.0, 1.0)
    a, b = rng.uniform(0.6, 1.0, 2)
    curve = lambda t: a + (b - a) * (t - t0) / max(t1 - t0, 1e-9)  # noqa: E731
    return [(n, p, d, [(q, s, e, float(np.clip(v * curve(s), 0.05, 1))) for q, s, e, v in notes])
            for n, p, d, notes in tracks]  # fmt: skip


def _slash(label: str) -> int:
    return int(parse_label(label)[2])


def _melody(body, beat, tonic, scale, rng):
    """Play a lead line: chord tones on strong beats, passing or neighbour scale tones between."""
    notes, prev = [], 72 + tonic % 12
    for start, end, lab in body:
        root, ivs = _tones(lab)
        chord_pcs = {(root + i) % 12 for i in ivs}
        n = max(1, int(round((end - start) / (beat / 2))))
        for k in range(n):
            if rng.random() < 0.25:
                continue  # a rest
            t = start + k * beat / 2
            if k % 2 == 0:
                cands = [
                    p for p in range(prev - 7, prev + 8) if p % 12 in chord_pcs and 64 <= p <= 88
                ]
            else:  # passing / neighbour: a scale step from the last note
                cands = [p for p in (prev - 2, prev - 1, prev + 1, prev + 2)
                         if (p - tonic) % 12 in scale and 64 <= p <= 88]  # fmt: skip
            if not cands:
                continue
            prev = int(rng.choice(cands))
            notes.append((prev, t, t + beat / 2 * rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0)))
    return notes


def _drums(start, end, beat, rng):
    notes, b = [], 0
    hat = int(rng.choice([42, 44, 46, 51]))
    while start + b * beat < end - 1e-9:
        t = start + b * beat
        notes.append((36 if b % 2 == 0 else 38, t, t + 0.1, 0.8 if b % 2 == 0 else 0.7))
        notes.append((hat, t, t + 0.05, 0.5))
        if rng.random() < 0.8:
            notes.append((hat, t + beat / 2, t + beat / 2 + 0.05, 0.35))
        b += 1
    return notes


def music_song(
    index: int,
    *,
    seed: int,
    n_chords: int = 16,
    counter: float = 0.0,
    inversions: float = 0.0,
    extra_programs=(),
) -> MusicSong:
    """Training song ``index`` drawn from ``seed`` (see module docs).

    ``counter`` is the probability of a counter-voice (:func:`counter_line`); ``inversions`` the
    probability that a chord not already inverted is played and labelled as an inversion
    (:func:`invert`), songs of single chords included (played close, the label's bass lowest).
    Each draws from its own stream, nothing at 0, so songs drawn before they existed are
    unchanged. ``extra_programs`` joins :data:`TRAIN_CHORD_PROGRAMS` (and the single chords'
    :data:`RINGING_PROGRAMS`) in the draw of chord instruments; with any, the songs differ from
    those drawn without.

    Examples
    --------
    >>> s = music_song(0, seed=1, n_chords=4)
    >>> s.chords[0][2], s.chords[-1][2], len(s.tracks) > 0
    ('N', 'N', True)
    """
    index = valid_non_negative_int("index", index)
    if seed == EVAL_SEED:
        raise ParameterError("training songs must not use the evaluation set's seed")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 40, index]))
    key, writer, labels = progression(rng, n_chords)
    if inversions:
        irng = np.random.default_rng(np.random.SeedSequence([seed, 45, index]))
        labels = [invert(lab, irng) if irng.random() < inversions else lab for lab in labels]
    tempo = float(rng.uniform(60, 180))
    beat = 60.0 / tempo
    beats = float(rng.choice([2, 4, 4, 8])) if writer != "jazz" else float(rng.choice([2, 4]))
    lead_in, tail = float(rng.uniform(0.3, 1.5)), float(rng.uniform(0.3, 1.5))
    extra = tuple(int(p) for p in extra_programs)
    if rng.random() < ISOLATED:
        ringing = RINGING_PROGRAMS + tuple(p for p in extra if p not in RINGING_PROGRAMS)
        return _isolated_chords(seed, index, key, labels[:n_chords], lead_in, tail, rng, ringing)
    chords, t = [(0.0, lead_in, "N")], lead_in
    for lab in labels[:n_chords]:
        if rng.random() < 0.15 and ":" in lab and "dim" not in lab:  # an inversion, labelled
            plain = lab.split("/")[0]  # drawn as before even where `inversions` inverted it
            bass = rng.choice(_inversion_choices(plain))
            lab = lab if "/" in lab else f"{plain}/{bass}"
        d = beats * beat * (0.5 if rng.random() < 0.1 else 1.0)
        chords.append((t, t + d, lab))
        t += d
    chords.append((t, t + tail, "N"))
    song = MusicSong(
        seed=[int(seed), 40, int(index)], tempo=tempo, key=key, writer=writer,
        chords=chords, duration=t + tail,
    )  # fmt: skip
    chord_programs = TRAIN_CHORD_PROGRAMS + tuple(p for p in extra if p not in TRAIN_CHORD_PROGRAMS)
    song.tracks = arrange(chords, tempo, key, rng, programs=chord_programs)
    if counter:
        crng = np.random.default_rng(np.random.SeedSequence([seed, 43, index]))
        if crng.random() < counter:
            body = [c for c in chords if c[2] != "N"]
            scale = [0, 2, 4, 5, 7, 9, 11] if key.endswith("maj") else [0, 2, 3, 5, 7, 8, 10]
            line = counter_line(body, 60.0 / tempo, parse_label(key)[0], scale, crng)
            song.tracks.append(("counter", int(crng.choice(TRAIN_LEAD_PROGRAMS)), False, line))
    return song


def _inversion_choices(label: str) -> list:
    """Return the slash basses an inversion of ``label`` may take: 5, the third, the seventh."""
    _, ivs = _tones(label)
    third = [i for i in ivs if i in (3, 4)]
    choices = ["5"] + (["3" if third[0] == 4 else "b3"] if third else [])
    if "7" in label.split(":")[1]:
        choices.append("b7" if "maj7" not in label else "7")
    return choices


def invert(label: str, rng: np.random.Generator) -> str:
    """``label`` as one of its inversions, drawn from ``rng`` (``C:7`` -> ``C:7/b7``).

    Labels without a plain root, third and fifth to invert over (``N``, diminished, augmented,
    suspended, already inverted) come back unchanged, drawing nothing.

    Examples
    --------
    >>> invert("A:min7", np.random.default_rng(0)) in ("A:min7/5", "A:min7/b3", "A:min7/b7")
    True
    >>> invert("B:dim", np.random.default_rng(0))
    'B:dim'
    """
    if ":" not in label or "/" in label or any(q in label for q in ("dim", "sus", "aug")):
        return label
    return f"{label}/{rng.choice(_inversion_choices(label))}"


def counter_line(body, beat: float, tonic: int, scale, rng: np.random.Generator) -> list:
    """Write a counter-voice in the tenor register (MIDI 50–72), a note a beat, moving by step.

    At a chord change the previous note is held over as a suspension when it is not a tone of
    the new chord (half of the time), then resolves down a step; between the chord's downbeats
    it moves to a chord tone on strong beats and by a scale step (passing or neighbour tone) on
    weak ones. Non-chord tones are the point: the label stays the chord.

    Returns
    -------
    notes : list of ``(midi, start, end, velocity)``

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> notes = counter_line([(0.0, 2.0, "C:maj"), (2.0, 4.0, "F:maj")], 0.5, 0, range(12), rng)
    >>> 0 < len(notes) <= 8 and all(50 <= n[0] <= 72 for n in notes)
    True
    """
    notes, prev = [], 60 + int(rng.integers(-5, 6))
    in_scale = {(tonic + s) % 12 for s in scale}
    vel = float(rng.uniform(0.4, 0.7))
    for start, end, lab in body:
        root, ivs = _tones(lab)
        pcs = {(root + i) % 12 for i in ivs}
        for k in range(max(1, int(round((end - start) / beat)))):
            t = start + k * beat
            if k == 0 and prev % 12 not in pcs and rng.random() < 0.5:
                pitch = prev  # a suspension: the old note against the new chord
            elif k == 1 and notes and notes[-1][0] % 12 not in pcs and notes[-1][1] == start:
                down = [p for p in (prev - 1, prev - 2) if p % 12 in pcs]  # it resolves down
                pitch = down[0] if down else prev - 1
            elif k % 2 == 0:
                near = [p for p in range(prev - 4, prev + 5) if p % 12 in pcs and 50 <= p <= 72]
                pitch = int(rng.choice(near)) if near else prev
            else:
                steps = [p for p in (prev - 2, prev - 1, prev + 1, prev + 2)
                         if p % 12 in in_scale and 50 <= p <= 72]  # fmt: skip
                pitch = int(rng.choice(steps)) if steps else prev
            pitch = int(min(72, max(50, pitch)))
            if rng.random() < 0.15:
                continue  # a rest
            notes.append((pitch, t, t + beat * float(rng.uniform(0.8, 1.0)), vel))
            prev = pitch
    return notes


def _isolated_chords(seed, index, key, labels, lead_in, tail, rng, programs) -> MusicSong:
    """Compose a song of single chords, as in recordings of single chords.

    Each chord is struck once and left to ring (0.8–3 s), with silences (``N``) between them.
    """
    program = int(rng.choice(programs))
    style = str(rng.choice(["guitar", "close", "spread"]))
    chords, notes, t = [(0.0, lead_in, "N")], [], lead_in
    for lab in labels:
        d, gap = float(rng.uniform(0.8, 3.0)), float(rng.uniform(0.1, 1.0))
        spread, vel = float(rng.uniform(0.0, 0.03)), float(rng.uniform(0.4, 1.0))
        played = "close" if "/" in lab else style  # an inversion: its bass lowest
        for j, p in enumerate(voice(lab, played, rng, bass_iv=_slash(lab))):
            notes.append((p, t + j * spread, t + d, vel * float(rng.uniform(0.8, 1.0))))
        end, nxt = t + d, t + d + gap
        chords += [(t, end, lab), (end, nxt, "N")]
        t = nxt
    chords[-1] = (chords[-1][0], t + tail, "N")
    return MusicSong(
        seed=[int(seed), 40, int(index)], tempo=120.0, key=key, writer="isolated",
        chords=chords, duration=t + tail, tracks=[("chords0", program, False, notes)],
    )  # fmt: skip


#: How far below its loudest moment a chord may fall and still be heard as that chord, in dB:
#: the 30 dB of a reverberation time's T30, fixed before any model was scored with it.
RING_OUT_DB = 30.0


def ring_out(chords, y: np.ndarray, sr: int, *, drop_db: float = RING_OUT_DB, floor: float = 0.0,
             frame: float = 0.128, hop: float = 0.032) -> list:  # fmt: skip
    """Let each chord's label last while its sound does: into the ``N`` after it.

    A note's end is not its sound's end: a harp, a choir or a guitar rings on after the key is
    released. An annotator labels the chord until it has died away, so each chord followed by
    ``N`` is extended until the short-time RMS of ``y`` (``frame`` seconds every ``hop``) falls
    ``drop_db`` below the chord's loudest frame, or below ``floor`` (the RMS of noise that will
    cover the tail), at most to the next chord's start. Chords followed by a chord are unchanged;
    ``N`` segments shrink or vanish.

    Parameters
    ----------
    chords : list of ``(start_s, end_s, label)``  tiling the song, ``N`` where nothing is played
    y : np.ndarray  the song's audio, without the noise ``floor`` stands for
    sr : int  its sample rate
    drop_db : float  how far below the chord's loudest frame its sound has died away
    floor : float  an RMS level below which it is inaudible anyway
    frame, hop : float  the RMS window and its step, in seconds (2048 and 512 samples at 16 kHz)

    Returns
    -------
    list of ``(start_s, end_s, label)``  the same tiling, chords followed by ``N`` extended

    Examples
    --------
    >>> sr = 16000
    >>> t = np.arange(2 * sr) / sr
    >>> y = np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t)  # struck at 0, dies away 26 dB a second
    >>> ring_out([(0.0, 0.5, "A:maj"), (0.5, 2.0, "N")], y, sr)
    [(0.0, 1.216, 'A:maj'), (1.216, 2.0, 'N')]
    """
    import librosa

    frame, hop = max(1, int(round(frame * sr))), max(1, int(round(hop * sr)))
    rms = librosa.feature.rms(y=np.asarray(y, dtype=float), frame_length=frame, hop_length=hop)[0]
    level, n = 20 * np.log10(rms + 1e-10), len(rms)
    floor_db = 20 * np.log10(floor + 1e-10)
    out = [list(c) for c in chords]
    for k in range(len(out) - 1):
        (a, b, label), (_, nxt_end, nxt_label) = out[k], out[k + 1]
        if label == "N" or nxt_label != "N":
            continue
        i0, i1 = int(round(a * sr / hop)), int(round(b * sr / hop))
        if i1 <= i0 or i0 >= n:
            continue
        peak = level[i0:i1].max()
        if peak <= max(floor_db, -190.0):  # nothing of it sounds above the noise: nothing rings
            continue
        stop = max(peak - drop_db, floor_db)
        limit = min(int(round(nxt_end * sr / hop)), n)
        i = i1
        while i < limit and level[i] >= stop:
            i += 1
        end = min(round(i * hop / sr, 3), nxt_end) if i < limit else nxt_end
        out[k][1] = out[k + 1][0] = max(end, b)
    return [tuple(c) for c in out if c[1] > c[0]]


def additive_track(notes, *, duration: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Play ``notes`` ``[(pitch, on, off, velocity)]`` with one drawn additive timbre.

    The timbre is drawn once: up to 16 harmonics with amplitudes ``k ** -tilt`` times a
    log-normal gain per harmonic, even harmonics scaled down by a drawn factor (hollow,
    clarinet-like spectra among them), an attack of 2–40 ms, a decay of 0–3 per second while
    held (organ-like to piano-like) and a 30–300 ms release after the note's end. So the network
    meets harmonic spectra that no SoundFont in training has.

    Examples
    --------
    >>> y = additive_track([(69, 0.0, 0.5, 1.0)], duration=1.0, sr=16000,
    ...                    rng=np.random.default_rng(0))
    >>> y.shape, bool(abs(y[:8000]).max() > 0.1), bool(abs(y[-100:]).max() < 1e-3)
    ((16000,), True, True)
    """
    n_harm = 16
    k = np.arange(1, n_harm + 1)
    gains = k ** -rng.uniform(0.5, 2.0) * rng.lognormal(0.0, 0.6, n_harm)
    gains[1::2] *= rng.uniform(0.05, 1.0)  # harmonics 2, 4, ...

    def tone(pitch, t):
        f = midi_to_hz(pitch) * k
        ok = f < sr / 2 - 100
        phases = rng.uniform(0, 2 * np.pi, n_harm)[ok]
        return (gains[ok, None] * np.sin(2 * np.pi * f[ok, None] * t + phases[:, None])).sum(0)

    return _play(notes, duration, sr, rng, tone)


def _play(notes, duration: float, sr: int, rng: np.random.Generator, tone) -> np.ndarray:
    """Sum ``tone(pitch, t)`` of every note under an envelope drawn once from ``rng``.

    The envelope: an attack of 2–40 ms, a decay of 0–3 per second while held and a 30–300 ms
    release after the note's end, cut after five time constants.
    """
    attack, decay = rng.uniform(0.002, 0.04), rng.uniform(0.0, 3.0)
    release = rng.uniform(0.03, 0.3)
    y = np.zeros(int(round(duration * sr)))
    for pitch, on, off, vel in notes:
        a = int(on * sr)
        if a >= len(y):
            continue
        held = max(off - on, 0.0)
        t = np.arange(min(len(y) - a, int((held + 5 * release) * sr))) / sr
        env = np.minimum(t / attack, 1.0) * np.exp(-decay * t)
        env *= np.where(t > held, np.exp(-(t - held) / release), 1.0)
        y[a : a + len(t)] += vel * env * tone(pitch, t)
    return y


#: Modulator-to-carrier frequency ratios of :func:`fm_track`: harmonic (integer and 1/2) and a
#: few inharmonic ones (bell- and metal-like sidebands).
FM_RATIOS = (0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 7.0, 1.41, 3.5)


def fm_track(notes, *, duration: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Play ``notes`` ``[(pitch, on, off, velocity)]`` with one drawn two-operator FM timbre.

    The timbre is drawn once: a modulator at a ratio of the carrier's frequency
    (:data:`FM_RATIOS`, detuned by up to 0.3 %), a modulation index of 0.5–6 at the attack that
    falls towards 15–100 % of it at 0.5–5 per second (bright attacks that darken, as in FM
    electric pianos and basses), and the envelope of :func:`additive_track` (attack 2–40 ms,
    decay 0–3 per second, release 30–300 ms). Its sidebands at ``f + k * ratio * f`` put energy
    where no harmonic of a SoundFont sample is: strong upper partials, for a ratio of 1/2 an
    octave below, and for inharmonic ratios partials between the semitones. The tone is the
    sum of its sidebands (``sin(a + I sin b) = sum_k J_k(I) sin(a + k b)``) up to Nyquist, so
    nothing folds back.

    Examples
    --------
    >>> y = fm_track([(45, 0.0, 0.5, 1.0)], duration=2.5, sr=16000, rng=np.random.default_rng(0))
    >>> y.shape, bool(abs(y[:8000]).max() > 0.1), bool(abs(y[-100:]).max() < 1e-3)
    ((40000,), True, True)
    """
    from scipy.special import jv

    ratio = float(rng.choice(FM_RATIOS)) * (1.0 + rng.uniform(-0.003, 0.003))
    index0, floor, fall = rng.uniform(0.5, 6.0), rng.uniform(0.15, 1.0), rng.uniform(0.5, 5.0)
    ks = np.arange(-int(index0) - 5, int(index0) + 6)  # |k| > I + 4: J_k(I) < 0.01

    def tone(pitch, t):
        f = midi_to_hz(pitch) * (1.0 + ks * ratio)  # sideband frequencies (negative: reflected)
        k = ks[np.abs(f) < sr / 2 - 100]
        coarse = t[::32]  # the index changes slowly: Bessel weights on every 32nd sample
        index = index0 * (floor + (1.0 - floor) * np.exp(-fall * coarse))
        w = np.stack([np.interp(t, coarse, jv(j, index)) for j in k])
        phase = 2 * np.pi * midi_to_hz(pitch) * (1.0 + k[:, None] * ratio) * t
        return (w * np.sin(phase)).sum(0)

    return _play(notes, duration, sr, rng, tone)


def render_music(
    song: MusicSong,
    *,
    sr: int = SR,
    soundfont: str = "fluidr3",
    additive: tuple = (),
    rng: np.random.Generator | None = None,
    fm: tuple = (),
    harmony: bool = False,
):
    """Render a song to mono audio with FluidSynth, peak normalised to 0.9.

    Tracks named in ``additive`` are played by :func:`additive_track`, those named in ``fm`` by
    :func:`fm_track` (``fm`` wins where a track is in both; timbres drawn from ``rng``) instead,
    at an RMS level 0.6–1.5 times that of the rest of the mix. With ``harmony``, return
    ``(y, h)``: ``h`` is the chord and bass tracks of ``y`` alone (no drums, lead or counter-voice),
    on the same scale; it draws nothing more, so ``y`` is the same either way.
    """
    import pretty_midi

    def is_harmony(name):
        return name.startswith("chords") or name == "bass"

    synthesised = {**dict.fromkeys(additive, additive_track), **dict.fromkeys(fm, fm_track)}
    pm, pm_h = (pretty_midi.PrettyMIDI(initial_tempo=song.tempo) for _ in range(2))
    for name, program, is_drum, notes in song.tracks:
        if notes and name not in synthesised:
            for target in (pm, pm_h) if is_harmony(name) else (pm,):
                inst = midi_notes(notes, program=program, is_drum=is_drum)
                inst.name = name
                target.instruments.append(inst)
    y = render_midi(pm, duration=song.duration, sr=sr, soundfont=soundfont)
    h = None
    if harmony:
        h = y
        if not pm_h.instruments:
            h = np.zeros_like(y)
        elif len(pm_h.instruments) < len(pm.instruments):  # something else plays: render apart
            h = render_midi(pm_h, duration=song.duration, sr=sr, soundfont=soundfont)
    for name, _, _, notes in song.tracks:
        if name in synthesised and notes:
            z = np.zeros_like(y)
            play = synthesised[name]
            part = play(notes, duration=song.duration, sr=sr, rng=rng)[: len(y)]
            z[: len(part)] = part
            rest, own = np.sqrt(np.mean(y**2)), np.sqrt(np.mean(z**2))
            if own > 0:
                z = z * ((rest / own) * rng.uniform(0.6, 1.5) if rest > 0 else 1.0)
                y = y + z
                if harmony and is_harmony(name):
                    h = h + z
    peak = np.abs(y).max()
    scale = 0.9 / peak if peak > 0 else 1.0  # normalise_peak's scale, shared with h
    return (y * scale, h * scale) if harmony else y * scale


# ------------------------------------------------------------------------------------------------
# Simple songs: the evaluation set's (composed in chordscope.evalset) and the random training
# songs of data = "songs" (any root and quality in any order).

#: Seed of chordscope's evaluation set (:mod:`chordscope.evalset`); training songs refuse it.
EVAL_SEED = 7_770_001
#: GM programs of the evaluation set's and the simple training songs' chord and bass instruments.
CHORD_PROGRAMS = (
    0,
    2,
    4,
    16,
    19,
    24,
    25,
    26,
    48,
    49,
    88,
    89,
)  # pianos, organs, guitars, strings, pads
BASS_PROGRAMS = (32, 33, 34, 35, 38)


@dataclass
class Song:
    """A composed song: its chords (with times) and how it is played."""

    seed: list
    tempo: float
    key: str
    chords: list  # [(start_s, end_s, label)]
    chord_program: int
    bass_program: int
    drums: bool
    style: str  # "block" or "arpeggio"
    duration: float
    notes: dict = field(default_factory=dict)  # program/"drums" -> [(pitch, start, end, velocity)]
    octaves: tuple = (4,)  # the chord instrument's octave: fixed, or drawn per chord in lo..hi

    def to_json(self) -> dict:
        """Metadata (no notes)."""
        return {
            "seed": self.seed,
            "tempo": round(self.tempo, 3),
            "key": self.key,
            "chord_program": self.chord_program,
            "bass_program": self.bass_program,
            "drums": self.drums,
            "style": self.style,
            "duration": round(self.duration, 6),
            "n_chords": sum(1 for c in self.chords if c[2] != "N"),
        }


def play_song(song: Song, rng: np.random.Generator, *, lead_in: float, tail: float) -> Song:
    """Fill ``song.notes``: the chord instrument, a bass line and drums.

    The chord instrument plays blocks or arpeggios; the bass line on the roots plays if
    ``song.bass_program`` is not ``None``; kick, snare and hi-hat play if ``song.drums``.

    Plays the evaluation set's songs (:func:`chordscope.evalset.compose_song`) and the simple
    training songs (:func:`training_song`).
    """
    beat = 60.0 / song.tempo
    chords = song.chords
    chord_notes, bass_notes, drum_notes = [], [], []
    for start, end, lab in chords[1:-1]:
        if lab == "N":  # a rest inside a training song
            continue
        notes = voicing(
            lab,
            rng=rng,
            octave=(
                song.octaves[0]
                if len(song.octaves) == 1
                else int(rng.integers(song.octaves[0], song.octaves[-1] + 1))
            ),
            bass=False,
            strum=0.02,
        )
        if song.style == "block":
            chord_notes += [(p, start + o, end, v) for p, o, v in notes]
        else:
            step = beat / 2
            k = 0
            while start + k * step < end - 1e-9:
                p, _, v = notes[k % len(notes)]
                chord_notes.append((p, start + k * step, end, v))
                k += 1
        root = int(round(min(p for p, _, _ in voicing(lab)))) % 12
        n_beats = max(1, int(round((end - start) / beat)))
        for b in range(n_beats if song.bass_program is not None else 0):
            bass_notes.append((36 + root, start + b * beat, start + (b + 1) * beat, 0.8))
    if song.drums:
        n_beats = int((song.duration - 0.5) / beat)
        for b in range(n_beats):
            tb = lead_in * 0.5 + b * beat
            if tb + beat > song.duration - tail * 0.5:
                break
            drum_notes.append((36 if b % 2 == 0 else 38, tb, tb + 0.1, 0.7))  # kick / snare
            drum_notes.append((42, tb, tb + 0.05, 0.5))  # closed hi-hat
            drum_notes.append((42, tb + beat / 2, tb + beat / 2 + 0.05, 0.4))
    song.notes = {"chords": chord_notes, "bass": bass_notes, "drums": drum_notes}
    return song


#: Qualities of random training songs and how often each is drawn (common ones more often).
TRAINING_QUALITIES = {
    "maj": 4,
    "min": 4,
    "7": 2,
    "maj7": 2,
    "min7": 2,
    "dim": 1,
    "aug": 0.5,
    "sus2": 0.5,
    "sus4": 1,
    "hdim7": 1,
    "dim7": 0.5,
}


def training_song(
    index: int,
    *,
    seed: int,
    programs=CHORD_PROGRAMS,
    n_chords: int = 16,
    qualities: dict | None = None,
    roots=tuple(range(12)),
    octaves=(3, 4),
) -> Song:
    """Draw a random song for training, played like an evaluation song.

    Chords are drawn uniformly over roots and by weight over qualities (not from a key).

    Compared with :func:`compose_song`: any root and quality in any order, chords of 1 to 8
    beats, rests (``N``) inside the song, the chord instrument in one of ``octaves`` per chord,
    a bass line in 70 % of songs, drums in half. ``seed`` must differ from :data:`EVAL_SEED`
    (it is checked).

    Examples
    --------
    >>> s = training_song(0, seed=1, n_chords=4)
    >>> s.chords[0][2], s.chords[-1][2], len(s.chords) >= 6
    ('N', 'N', True)
    """
    index = valid_non_negative_int("index", index)
    n_chords = valid_positive_int("n_chords", n_chords)
    if seed == EVAL_SEED:
        raise ParameterError("training songs must not use the evaluation set's seed")
    octaves = tuple(int(o) for o in octaves)
    if not octaves or octaves != tuple(range(octaves[0], octaves[0] + len(octaves))):
        raise ParameterError(f"octaves={octaves!r} must be consecutive octaves, lowest first")
    qualities = dict(qualities or TRAINING_QUALITIES)
    names = list(qualities)
    weights = np.array([qualities[q] for q in names], dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 30, index]))
    tempo = float(rng.uniform(60, 180))
    beat = 60.0 / tempo
    lead_in, tail = float(rng.uniform(0.3, 1.5)), float(rng.uniform(0.3, 1.5))
    chords = [(0.0, lead_in, "N")]
    t = lead_in
    for _ in range(n_chords):
        d = beat * float(rng.choice([1, 2, 2, 4, 4, 4, 8]))
        if rng.random() < 0.05:
            lab = "N"
        else:
            root = int(roots[int(rng.integers(len(roots)))])
            quality = names[int(rng.choice(len(names), p=weights / weights.sum()))]
            lab = f"{PITCH_NAMES[root]}:{quality}"
        chords.append((t, t + d, lab))
        t += d
    chords.append((t, t + tail, "N"))
    song = Song(
        seed=[int(seed), 30, int(index)],
        tempo=tempo,
        key="random",
        chords=chords,
        chord_program=int(programs[int(rng.integers(len(programs)))]),
        bass_program=(
            int(BASS_PROGRAMS[int(rng.integers(len(BASS_PROGRAMS)))])
            if rng.random() < 0.7
            else None
        ),
        drums=bool(rng.random() < 0.5),
        style="arpeggio" if rng.random() < 0.3 else "block",
        duration=t + tail,
        octaves=octaves,
    )
    return play_song(song, rng, lead_in=lead_in, tail=tail)


def render_song(
    song: Song, *, sr: int = SR, soundfont: str = "fluidr3", parts=("chords", "bass", "drums")
) -> np.ndarray:
    """Render a composed song's ``parts`` to mono audio with FluidSynth (peak normalised to 0.9)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=song.tempo)
    for name, program, is_drum in (
        ("chords", song.chord_program, False),
        ("bass", song.bass_program or 0, False),
        ("drums", 0, True),
    ):
        if name not in parts or not song.notes.get(name):
            continue
        inst = midi_notes(song.notes[name], program=program, is_drum=is_drum)
        inst.name = name
        pm.instruments.append(inst)
    return normalise_peak(render_midi(pm, duration=song.duration, sr=sr, soundfont=soundfont))
