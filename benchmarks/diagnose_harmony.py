"""Why does the pretrained ``majmin`` model fail on common progressions? One factor at a time.

Renders small, controlled song sets with FluidSynth (FluidR3_GM, the training SoundFont),
labels them with ``chordscope.predict`` (pretrained ``majmin`` and ``sevenths``) and scores them
with ``mir_eval``. Every row changes ONE factor of a baseline arrangement that scores well
(piano, close root-position chords in octave 4 re-struck every two beats, bass on the root every
beat as in training songs, one chord per bar, 100 bpm):

- chord quality (the same roots as maj, min, 7, maj7, min7, hdim7, dim7),
- voicing (random inversions, training-style random voicing, shell 1-3-7, rootless 3-5-7-9,
  open guitar shapes, wide spread), with the root bass and without any bass,
- bass (none, root per beat, one root per chord, root-fifth, walking with passing notes,
  inversions with their bass and slash labels),
- comping (chord held for its whole length as in training, arpeggio let ring, staccato
  arpeggio, rhythmic stabs with rests, strummed),
- instrument (GM programs in and out of the training set),
- register (chord instrument in octave 3, 4, 5),
- harmonic rhythm (1 beat, 2 beats, 1 bar, 2 bars per chord),
- a lead melody on top (chord tones only, or with passing tones);

``control`` rows separate two factors that interact (the bass alone; a sustained organ with a
walking bass or inversions; a held piano chord with a walking bass; fresh songs of the
TRAINING generator itself, ``chordscope.songs.training_song`` at unused indices, played by
one program or the twelve training programs: how well the model fits its own distribution) and
``combined`` rows stack several (what a jazz or blues arrangement does).

Each row is one "medley": every progression of its set, in each key, back to back with 1.5 s
of silence between them, rendered in one FluidSynth call and labelled in one ``predict`` call per
model (silent frames are forced to ``N``, so the songs do not influence each other).

Scores are over *chord time only* (reference ``N`` at the ends of each song is not scored) and
are duration-weighted like ``chordscope score``. Columns:

- one ``majmin`` column per progression (majmin model, mir_eval ``majmin``); ``-`` if the
  progression is not in the row's set,
- ``all``: majmin over every progression of the row, ``root``: mir_eval ``root`` (majmin model),
- ``7:sev`` / ``7:tet`` / ``7:mm``: the ``sevenths`` model scored by mir_eval ``sevenths``
  (maj, min, 7, maj7, min7 only), ``tetrads`` (every quality, hdim7 and dim7 included) and
  ``majmin``; the sevenths model's confusions are listed by ``tetrads``,
- ``beat1`` / ``late``: majmin (majmin model) on the first beat of every chord / on its beats
  3 and later (``-`` where chords are shorter): how accuracy changes as a chord decays,
- ``bass>``: where the bass plays a note that is not the root (walking, root-fifth,
  inversions), the share of that time the majmin model names the BASS NOTE as the root,
- ``excl``: the share of chord time that mir_eval ``majmin`` does not score at all (hdim7,
  dim7, dim, ... reduce to no major/minor triad).

Under each row the top confusions (seconds), every label transposed so that the song's key is
C: ``D:min7>F:maj 9.6`` reads "ii7 was called the relative major IV for 9.6 s". A reference that
majmin does not score is marked ``*`` (e.g. ``C#:dim7*>A:maj``): it costs nothing in majmin but
shows what the model does with it.

Usage::

    nice -n 10 .venv/bin/python benchmarks/diagnose_harmony.py            # full (2 keys)
    nice -n 10 .venv/bin/python benchmarks/diagnose_harmony.py --quick    # 1 key, fewer rows
    ... --rows voicing,bass        # only rows whose section or name contains these words
    ... --json out.json            # also dump every scored piece

Every random draw (walking bass, melody, training-style voicings) comes from
``np.random.default_rng`` seeded by the row, the progression and the key: reruns print the same
table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from zlib import crc32

import numpy as np

SEED = 20261126
PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
GAP = 1.5  # seconds of silence (reference N) between the songs of a medley

# --------------------------------------------------------------------------------------------
# Progressions, written in C: (root semitones above the key, Harte quality, beats)
# --------------------------------------------------------------------------------------------


def _bars(chords, beats=4):
    return [(r, q, beats) for r, q in chords]


PROGRESSIONS = {
    "I-vi-IV-V": _bars([(0, "maj"), (9, "min"), (5, "maj"), (7, "maj")] * 2),
    "ii7-V7-Imaj7": _bars([(2, "min7"), (7, "7"), (0, "maj7"), (0, "maj7")] * 2),
    "blues7": _bars(
        [(0, "7")] * 4 + [(5, "7")] * 2 + [(0, "7")] * 2 + [(7, "7"), (5, "7"), (0, "7"), (7, "7")]
    ),
    "min ii0-V7-i": _bars([(2, "hdim7"), (7, "7"), (0, "min"), (0, "min")] * 2),
    "I-#i07-ii-V": _bars([(0, "maj"), (1, "dim7"), (2, "min"), (7, "maj")] * 2),
}
PROG_COLS = list(PROGRESSIONS)
CHORD_PROGRAMS = (0, 2, 4, 16, 19, 24, 25, 26, 48, 49, 88, 89)  # the pretrained models' programs
SHORT = {
    "I-vi-IV-V": "triad",
    "ii7-V7-Imaj7": "ii-V-I",
    "blues7": "blues",
    "min ii0-V7-i": "min-iiVi",
    "I-#i07-ii-V": "pass-dim",
}
QUALITY_ROOTS = (0, 9, 5, 2, 7, 4)  # with keys C and F# every root is played once
MINOR_KEY = {"min ii0-V7-i"}

DEGREE = {
    1: "b2",
    2: "2",
    3: "b3",
    4: "3",
    5: "4",
    6: "b5",
    7: "5",
    8: "b6",
    9: "bb7",
    10: "b7",
    11: "7",
}


def label(root: int, quality: str, bass_iv: int = 0) -> str:
    lab = f"{PITCH_NAMES[root % 12]}:{quality}"
    return lab if bass_iv == 0 else f"{lab}/{DEGREE[bass_iv]}"


def intervals(quality: str) -> list[int]:
    from chordscope.chords import quality_intervals

    return list(quality_intervals(quality))


def transpose_label(lab: str, k: int) -> str:
    """Move a label's root down by ``k`` semitones (so a song in key k reads as in C)."""
    if lab in ("N", "X"):
        return lab
    root, _, rest = lab.partition(":")
    return f"{PITCH_NAMES[(PITCH_NAMES.index(root) - k) % 12]}:{rest}"


# --------------------------------------------------------------------------------------------
# Arrangement
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arr:
    program: int = 0
    voicing: str = "close"  # close | inversions | training | shell | rootless | guitar | spread
    octave: int = 4
    bass: str = "root"  # none | root | sustained | root5 | walking | inversions
    comp: str = "half"  # half | block | arpeggio | arp8 | stabs | strum | none
    beats: float | None = None  # None: the progression's own (one bar per chord)
    melody: str | None = None  # None | chords | passing
    tempo: float = 100.0
    bass_program: int = 33
    melody_program: int = 65


GUITAR = {  # E-shape barre chords and common jazz-guitar grips, semitones above the low root
    "maj": [0, 7, 12, 16, 19, 24],
    "min": [0, 7, 12, 15, 19, 24],
    "7": [0, 7, 10, 16, 19, 24],
    "maj7": [0, 7, 11, 16, 19],
    "min7": [0, 7, 10, 15, 19, 24],
    "hdim7": [0, 6, 10, 15],
    "dim7": [0, 6, 9, 15],
    "dim": [0, 6, 12, 15],
}


def chord_pitches(root: int, quality: str, bass_iv: int, arr: Arr, rng) -> list[int]:
    """MIDI pitches the chord instrument plays for one chord (``root`` is a pitch class)."""
    from chordscope.chords import voicing

    ivs = intervals(quality)
    base = 12 * (arr.octave + 1) + root  # root in the chord octave (C4 = 60)
    third, fifth = ivs[1], ivs[2]
    seventh = ivs[3] if len(ivs) > 3 else None
    v = arr.voicing
    if v == "close" or bass_iv:  # a labelled inversion is always played close above its bass
        return [int(p) for p, _, _ in voicing(label(root, quality, bass_iv), octave=arr.octave)]
    if v == "inversions":  # close position, rotated by a random number of notes
        ps = [base + i for i in ivs]
        for _ in range(int(rng.integers(0, len(ps)))):
            ps = ps[1:] + [ps[0] + 12]
        return ps
    if v == "training":  # exactly what training songs play (chords.voicing with an rng)
        notes = voicing(label(root, quality), rng=rng, octave=arr.octave, bass=False, strum=0.0)
        return [int(p) for p, _, _ in notes]
    if v == "shell":  # 1-3-7 (triads keep 1-3-5)
        return [base, base + third, base + (seventh if seventh is not None else fifth)]
    if v == "rootless":  # 3-5-7-9 (triads: 3-5-9, the pianist's add9 without root)
        ups = [third, fifth] + ([seventh] if seventh is not None else []) + [14]
        return [base + i for i in ups]
    if v == "guitar":  # lowest string's root between E2 and D#3
        low = 40 + (root - 4) % 12
        return [low + i for i in GUITAR[quality]]
    if v == "spread":  # root, fifth, tenth, seventh (or root) above: C3 G3 E4 B4
        low = base - 12
        top = seventh + 12 if seventh is not None else 24
        return [low, low + fifth, low + third + 12, low + top]
    raise ValueError(v)


def comp_notes(ps, start, end, beat, arr: Arr, vel=0.8):
    """Notes ``(pitch, start, end, velocity)`` of one chord in the row's comping style."""
    out = []
    c = arr.comp
    if c == "none":
        return out
    if c == "block":  # held for the whole chord, as training songs play it
        out += [(p, start, end, vel) for p in ps]
    elif c == "half":  # re-struck every two beats (half notes)
        t = start
        while t < end - 1e-9:
            out += [(p, t, min(end, t + 2 * beat), vel) for p in ps]
            t += 2 * beat
    elif c in ("arpeggio", "arp8"):  # up through the voicing in eighths: let ring / 1/8 each
        step, k = beat / 2, 0
        while start + k * step < end - 1e-9:
            t = start + k * step
            out.append((ps[k % len(ps)], t, end if c == "arpeggio" else t + step * 0.95, vel))
            k += 1
    elif c == "stabs":  # Charleston per bar: beat 1 and the "and" of 2, 0.4 beat each; rests
        t = start
        while t < end - 1e-9:
            for off in (0.0, 1.5):
                if t + off * beat < end - 1e-9:
                    s = t + off * beat
                    out += [(p, s, min(end, s + 0.4 * beat), vel) for p in ps]
            t += 4 * beat
    elif c == "strum":  # a strum every beat, down (low→high) on beats 1 and 3, up on 2 and 4
        k = 0
        while start + k * beat < end - 1e-9:
            s = start + k * beat
            order = ps if k % 2 == 0 else ps[::-1]
            for j, p in enumerate(order):
                out.append((p, s + 0.012 * j, min(end, s + 0.85 * beat), vel * (1 - 0.04 * j)))
            k += 1
    else:
        raise ValueError(c)
    return out


def bass_notes(root, quality, bass_iv, nxt_root, start, end, beat, arr: Arr, rng):
    """The bass line under one chord (MIDI C2..B2 for the root, like training songs)."""
    b = arr.bass
    if b == "none":
        return []
    ivs = intervals(quality)
    low = 36 + (root + bass_iv) % 12  # the chord's bass note (the root unless an inversion)
    n = max(1, int(round((end - start) / beat)))
    times = [(start + i * beat, min(end, start + (i + 1) * beat)) for i in range(n)]
    if b in ("root", "inversions"):
        return [(low, s, e, 0.8) for s, e in times]
    if b == "sustained":
        return [(low, start, end, 0.8)]
    if b == "root5":  # two-feel: root on beat 1, fifth (below if it would go above B2) on 3
        fifth = low + ivs[2] if low + ivs[2] <= 47 else low + ivs[2] - 12
        out = []
        for i in range(0, n, 2):
            s, e = start + i * beat, min(end, start + (i + 2) * beat)
            out.append((low if (i // 2) % 2 == 0 else fifth, s, e, 0.8))
        return out
    if b == "walking":  # root on 1, chord and scale tones, chromatic approach to the next root
        pitches = [low]
        tones = [low + i for i in ivs[1:]] + [low + 12, low + 2, low + 5]
        for i in range(1, n):
            if i == n - 1 and nxt_root is not None:
                target = 36 + nxt_root % 12
                pitches.append(target + (1 if rng.random() < 0.5 else -1))
            else:
                pitches.append(int(tones[int(rng.integers(len(tones)))]))
        return [(p, s, e, 0.8) for p, (s, e) in zip(pitches, times, strict=True)]
    raise ValueError(b)


def melody_notes(chords, key, minor, beat, arr: Arr, rng):
    """A lead line in eighths around C5-C6: chord tones on the beats; off-beats chord tones
    (``chords``) or a scale step from the last note (``passing``, often a non-chord tone)."""
    scale = [0, 2, 3, 5, 7, 8, 11] if minor else [0, 2, 4, 5, 7, 9, 11]
    scale_pcs = sorted((key + s) % 12 for s in scale)
    allowed = [p for p in range(70, 88) if p % 12 in scale_pcs]
    out, prev = [], 76
    for root, quality, _, start, end in chords:
        ct = [p for p in range(70, 88) if (p - root) % 12 in intervals(quality)]
        k, step = 0, beat / 2
        while start + k * step < end - 1e-9:
            s = start + k * step
            if rng.random() < 0.12:  # a breath
                k += 1
                continue
            if k % 2 == 1 and arr.melody == "passing" and rng.random() < 0.7:
                i = min(range(len(allowed)), key=lambda j: abs(allowed[j] - prev))
                i = int(np.clip(i + (1 if rng.random() < 0.5 else -1), 0, len(allowed) - 1))
                p = allowed[i]
            else:
                near = sorted(ct, key=lambda q: abs(q - prev))[:3]
                p = int(near[int(rng.integers(len(near)))])
            out.append((p, s, min(end, s + 0.95 * step), 0.95))
            prev = p
            k += 1
    return out


def arrange(prog_name, key, arr: Arr, t0, seed_tag):
    """Notes of one song starting at ``t0`` and its reference segments."""
    rng = np.random.default_rng([SEED, crc32(seed_tag.encode()), key])
    beat = 60.0 / arr.tempo
    prog = PROGRESSIONS[prog_name] if prog_name in PROGRESSIONS else quality_prog(prog_name)
    chords, t = [], t0
    for i, (r, q, beats) in enumerate(prog):
        d = (arr.beats or beats) * beat
        bass_iv = 0
        if arr.bass == "inversions" and i % 2 == 1:  # every other chord: over its 3rd, then 5th
            ivs = intervals(q)
            bass_iv = ivs[1] if i % 4 == 1 else ivs[2]
        chords.append(((key + r) % 12, q, bass_iv, t, t + d))
        t += d
    notes = {"chords": [], "bass": [], "melody": []}
    refs = []
    for i, (root, q, bass_iv, s, e) in enumerate(chords):
        ps = chord_pitches(root, q, bass_iv, arr, rng)
        notes["chords"] += comp_notes(ps, s, e, beat, arr)
        nxt = chords[i + 1][0] if i + 1 < len(chords) else None
        bn = bass_notes(root, q, bass_iv, nxt, s, e, beat, arr, rng)
        notes["bass"] += bn
        # the reference, cut at every beat: (start, end, label, beat in chord, bass pc, root)
        n = max(1, int(round((e - s) / beat)))
        for b in range(n):
            bs, be = s + b * beat, (e if b == n - 1 else s + (b + 1) * beat)
            mid = 0.5 * (bs + be)
            under = [int(p) % 12 for p, ns, ne, _ in bn if ns <= mid < ne]
            refs.append((bs, be, label(root, q, bass_iv), b, under[0] if under else None, root))
    if arr.melody:
        mel = [(r, q, b, s, e) for r, q, b, s, e in chords]
        notes["melody"] = melody_notes(mel, key, prog_name in MINOR_KEY, beat, arr, rng)
    return notes, refs, t


def quality_prog(name):
    q = name.split(":", 1)[1]
    return [(r, q, 4) for r in QUALITY_ROOTS]


def render_medley(songs, arr: Arr, tag, sr=16000):
    """Render songs ``[(prog_name, key)]`` back to back; return (audio, refs with tags)."""
    import pretty_midi

    from chordscope.synth import midi_notes, render_midi

    t = GAP
    allnotes = defaultdict(list)
    refs = []  # (start, end, label, prog, key, beat in chord, sounding bass pc, chord root pc)
    for prog, key in songs:
        notes, r, t_end = arrange(prog, key, arr, t, f"{tag}|{prog}")
        for k, v in notes.items():
            allnotes[k] += v
        refs += [(s, e, lab, prog, key, b, bpc, root) for s, e, lab, b, bpc, root in r]
        t = t_end + GAP
    duration = t + 0.5
    pm = pretty_midi.PrettyMIDI(initial_tempo=arr.tempo)
    for name, program in (
        ("chords", arr.program),
        ("bass", arr.bass_program),
        ("melody", arr.melody_program),
    ):
        if allnotes[name]:
            inst = midi_notes(allnotes[name], program=program)
            inst.name = name
            pm.instruments.append(inst)
    y = render_midi(pm, duration=duration, sr=sr, soundfont="fluidr3")
    peak = np.abs(y).max()
    return (y * (0.9 / peak) if peak > 0 else y), refs, duration


def render_training(programs, indices, sr=16000):
    """Fresh songs of the TRAINING generator (``chordscope.songs.training_song``, training
    seed 0, song indices never used by the pretrained models' 800 + 2 x 40 songs), played by
    ``programs``, rendered like training songs (FluidR3, no added noise), back to back."""
    from chordscope.chords import parse_label
    from chordscope.songs import render_song, training_song

    parts, refs, t = [np.zeros(int(GAP * sr))], [], GAP
    for i in indices:
        song = training_song(int(i), seed=0, programs=tuple(programs))
        y = render_song(song, sr=sr, soundfont="fluidr3")
        beat = 60.0 / song.tempo
        bass = song.notes.get("bass", [])
        for s0, e0, lab in song.chords:
            if lab == "N":
                continue
            root = int(parse_label(lab)[0])
            n = max(1, int(round((e0 - s0) / beat)))
            for b in range(n):
                bs, be = s0 + b * beat, (e0 if b == n - 1 else s0 + (b + 1) * beat)
                mid = 0.5 * (bs + be)
                under = [int(p) % 12 for p, ns, ne, _ in bass if ns <= mid < ne]
                refs.append(
                    (t + bs, t + be, lab, "training", 0, b, under[0] if under else None, root)
                )
        parts += [y, np.zeros(int(GAP * sr))]
        t += len(y) / sr + GAP
    y = np.concatenate(parts)
    return y, refs, len(y) / sr


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def pieces(refs, est):
    """Overlaps of every (non-N) reference segment with the estimate's segments:
    ``[(ref_index, est_label, seconds)]`` (what mir_eval's merge does, kept per reference)."""
    out = []
    j = 0
    for i, (s, e, *_rest) in enumerate(refs):
        while j < len(est) and est[j][1] <= s:
            j += 1
        k = j
        while k < len(est) and est[k][0] < e:
            d = min(e, est[k][1]) - max(s, est[k][0])
            if d > 1e-9:
                out.append((i, est[k][2], d))
            k += 1
    return out


def score_row(refs, est_mm, est_7):
    """Per-piece records with mir_eval comparisons for both models."""
    import mir_eval.chord

    recs = []
    for model, est in (("majmin", est_mm), ("sevenths", est_7)):
        ps = pieces(refs, est)
        rl = [refs[i][2] for i, _, _ in ps]
        el = [lab for _, lab, _ in ps]
        mm = mir_eval.chord.majmin(rl, el)
        rt = mir_eval.chord.root(rl, el)
        sv = mir_eval.chord.sevenths(rl, el)
        te = mir_eval.chord.tetrads(rl, el)
        for (i, lab, d), a, b, c, t in zip(ps, mm, rt, sv, te, strict=True):
            s, e, ref, prog, key, beat, bass_pc, root = refs[i]
            recs.append(
                dict(
                    model=model,
                    prog=prog,
                    key=key,
                    ref=ref,
                    est=lab,
                    sec=d,
                    beat=beat,
                    bass_pc=bass_pc,
                    root_pc=root,
                    majmin=float(a),
                    root=float(b),
                    sevenths=float(c),
                    tetrads=float(t),
                )
            )
    return recs


def wmean(recs, metric):
    num = sum(r["sec"] * r[metric] for r in recs if r[metric] >= 0)
    den = sum(r["sec"] for r in recs if r[metric] >= 0)
    return num / den if den > 0 else float("nan")


def est_root(lab):
    return None if lab in ("N", "X") else PITCH_NAMES.index(lab.split(":")[0])


def follows_bass(recs):
    """Where the bass plays a note other than the chord's root (a scorable chord): the share of
    that time the predicted root is the BASS note (``None`` if the bass never leaves the root)."""
    sel = [
        r
        for r in recs
        if r["bass_pc"] is not None and r["bass_pc"] != r["root_pc"] and r["majmin"] >= 0
    ]
    tot = sum(r["sec"] for r in sel)
    if tot < 1.0:
        return None
    return sum(r["sec"] for r in sel if est_root(r["est"]) == r["bass_pc"]) / tot


def confusions(recs, metric, top=4):
    c = defaultdict(float)
    for r in recs:
        if r[metric] == 0 or (metric == "majmin" and r[metric] < 0):
            ref = transpose_label(r["ref"], r["key"]) + ("*" if r[metric] < 0 else "")
            c[(ref, transpose_label(r["est"], r["key"]))] += r["sec"]
    items = [kv for kv in sorted(c.items(), key=lambda kv: -kv[1]) if kv[1] >= 0.1][:top]
    return ", ".join(f"{a}>{b} {s:.1f}" for (a, b), s in items) or "-"


# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


@dataclass
class Row:
    section: str
    name: str
    arr: Arr
    progs: tuple


def rows(quick: bool):
    base = Arr()
    nb = replace(base, bass="none")
    ALL = tuple(PROG_COLS)
    R = [Row("baseline", "piano,close,root bass,half notes,1 bar", base, ALL)]
    for q in ("maj", "min", "7", "maj7", "min7", "hdim7", "dim7"):
        R.append(Row("quality", f"{q}: 6 roots x keys, baseline arr.", base, (f"Q:{q}",)))
    voicings = [
        ("inversions", "random inversions (close)"),
        ("training", "training-style random voicing"),
        ("shell", "shell 1-3-7"),
        ("rootless", "rootless 3-5-7-9"),
        ("guitar", "open guitar shapes (E-shape)"),
        ("spread", "wide spread 1-5-10-7"),
    ]
    for v, name in voicings:
        R.append(Row("voicing", name, replace(base, voicing=v), ALL))
    for v, name in voicings:
        if v in ("inversions", "training", "rootless", "spread"):
            R.append(Row("voic/nobas", f"{name}, NO bass", replace(nb, voicing=v), ALL))
    for b, name in [
        ("none", "no bass"),
        ("sustained", "root, one note per chord"),
        ("root5", "root-fifth two-feel"),
        ("walking", "walking (passing/approach notes)"),
        ("inversions", "every other chord inverted (/3,/5)"),
    ]:
        R.append(Row("bass", f"bass: {name}", replace(base, bass=b), ALL))
    for arr, name in [
        (replace(base, comp="block"), "held whole chord (training block)"),
        (replace(nb, comp="block"), "held whole chord, NO bass"),
        (replace(base, comp="arpeggio"), "arpeggio 8ths, let ring (training)"),
        (replace(base, comp="arp8"), "arpeggio 8ths, staccato"),
        (replace(base, comp="stabs"), "stabs (Charleston), rests"),
        (replace(base, comp="strum"), "strummed, a strum per beat"),
    ]:
        R.append(Row("comping", name, arr, ALL))
    programs = [
        (4, "EP 1 Rhodes (trained)"),
        (5, "EP 2 DX (NOT trained)"),
        (16, "drawbar organ (trained)"),
        (26, "jazz guitar (trained)"),
        (27, "clean guitar (NOT trained)"),
        (89, "warm pad (trained)"),
        (11, "vibraphone (NOT trained)"),
    ]
    if quick:
        programs = programs[:4]
    for p, name in programs:
        R.append(Row("instrument", f"program {p} {name}", replace(base, program=p), ALL))
    R.append(Row("register", "chords in octave 3", replace(base, octave=3), ALL))
    R.append(Row("register", "chords in octave 5", replace(base, octave=5), ALL))
    R.append(Row("register", "chords in octave 5, NO bass", replace(nb, octave=5), ALL))
    for b, name in ((1, "1 beat"), (2, "2 beats"), (8, "2 bars")):
        R.append(Row("rhythm", f"harmonic rhythm {name}/chord", replace(base, beats=b), ALL))
    R.append(Row("melody", "melody on top, chord tones (sax)", replace(base, melody="chords"), ALL))
    R.append(
        Row("melody", "melody on top, passing tones (sax)", replace(base, melody="passing"), ALL)
    )
    R.append(Row("control", "bass only (no chord instrument)", replace(base, comp="none"), ALL))
    R.append(
        Row("control", "organ 16 + walking bass", replace(base, program=16, bass="walking"), ALL)
    )
    R.append(
        Row(
            "control",
            "organ 16 + inversions (/3,/5)",
            replace(base, program=16, bass="inversions"),
            ALL,
        )
    )
    R.append(
        Row(
            "control",
            "piano held whole chord + walking",
            replace(base, comp="block", bass="walking"),
            ALL,
        )
    )
    n_train = 3 if quick else 6
    R.append(Row("control", "TRAINING generator songs, piano 0", base, ("TRAIN:0",) * n_train))
    R.append(Row("control", "TRAINING generator songs, organ 16", base, ("TRAIN:16",) * n_train))
    R.append(
        Row(
            "control",
            "TRAINING generator songs, 12 programs",
            base,
            ("TRAIN:" + ",".join(str(p) for p in CHORD_PROGRAMS),) * n_train,
        )
    )
    R.append(
        Row(
            "combined",
            "EP 4 + rootless + walking + stabs",
            Arr(program=4, voicing="rootless", bass="walking", comp="stabs"),
            ALL,
        )
    )
    R.append(
        Row(
            "combined",
            "EP 4 + shell + walking + melody, held",
            Arr(program=4, voicing="shell", bass="walking", melody="passing", comp="block"),
            ALL,
        )
    )
    return R


def fmt(v, w):
    return f"{'-':>{w}}" if v is None or v != v else f"{v:{w}.3f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="one key, fewer instrument rows")
    ap.add_argument("--rows", default="", help="comma-separated words: keep matching rows")
    ap.add_argument("--json", default=None, help="write every scored piece to this file")
    ap.add_argument("--majmin", default="majmin", help="the majmin model (name or path)")
    ap.add_argument("--sevenths", default="sevenths", help="the sevenths model (name or path)")
    ap.add_argument(
        "--shift-average",
        type=int,
        default=1,
        help="predict's transposition average (1, its default; 0: one network pass)",
    )
    args = ap.parse_args(argv)

    import chordscope
    from chordscope.io import write_wav

    t_start = time.perf_counter()
    keys = (0,) if args.quick else (0, 8)  # C, Ab
    qkeys = (0,) if args.quick else (0, 6)  # quality rows: 6 roots in C, 6 more in F#
    R = rows(args.quick)
    if args.rows:
        words = [w.strip().lower() for w in args.rows.split(",") if w.strip()]
        R = [
            r
            for r in R
            if r.section == "baseline"
            or any(w in (r.section + " " + r.name).lower() for w in words)
        ]
    print(
        f"# diagnose_harmony: FluidR3, models {args.majmin} + {args.sevenths} "
        f"(shift_average {args.shift_average}), keys "
        f"{[PITCH_NAMES[k] for k in keys]} (quality rows {[PITCH_NAMES[k] for k in qkeys]}), "
        f"100 bpm, chord time only, seed {SEED}"
    )
    cols = [SHORT[p] for p in PROG_COLS]
    head = (
        f"{'section':<10} {'row':<40} "
        + " ".join(f"{c:>8}" for c in cols)
        + f" {'all':>6} {'root':>5} {'beat1':>5} {'late':>5} {'bass>':>5}"
        + f" {'7:sev':>6} {'7:tet':>6} {'7:mm':>5} {'excl':>5}"
    )
    print(head)
    print("-" * len(head))
    dump = []
    with tempfile.TemporaryDirectory(prefix="diagnose-harmony-") as tmp:
        for row in R:
            if row.progs[0].startswith("TRAIN:"):
                progs = [int(p) for p in row.progs[0][6:].split(",")]
                y, refs, _ = render_training(progs, range(200_000, 200_000 + len(row.progs)))
            else:
                ks = qkeys if row.section == "quality" else keys
                songs = [(p, k) for p in row.progs for k in ks]
                y, refs, _ = render_medley(songs, row.arr, row.name)
            wav = write_wav(Path(tmp) / "medley.wav", y, 16000)
            est_mm = chordscope.predict(wav, args.majmin, shift_average=args.shift_average)
            est_7 = chordscope.predict(wav, args.sevenths, shift_average=args.shift_average)
            recs = score_row(refs, est_mm, est_7)
            mm = [r for r in recs if r["model"] == "majmin"]
            s7 = [r for r in recs if r["model"] == "sevenths"]
            if row.section == "quality" or row.progs[0].startswith("TRAIN:"):
                q = row.progs[0].split(":")[1] if row.section == "quality" else "random"
                percol = [f"{'q=' + q:>8}"] + [f"{'':>8}"] * (len(PROG_COLS) - 1)
            else:
                percol = []
                for p in PROG_COLS:
                    v = wmean([r for r in mm if r["prog"] == p], "majmin")
                    percol.append(f"{v:8.3f}" if p in row.progs else f"{'-':>8}")
            tot = sum(r["sec"] for r in mm)
            excl = sum(r["sec"] for r in mm if r["majmin"] < 0) / tot if tot else 0.0
            mmv = wmean(mm, "majmin")
            b1 = wmean([r for r in mm if r["beat"] == 0], "majmin")
            late = wmean([r for r in mm if r["beat"] >= 2], "majmin")
            fb = follows_bass(mm)
            print(
                f"{row.section:<10} {row.name[:40]:<40} "
                + " ".join(percol)
                + f" {mmv:6.3f} {wmean(mm, 'root'):5.3f} {fmt(b1, 5)} {fmt(late, 5)}"
                f" {fmt(fb, 5)} {wmean(s7, 'sevenths'):6.3f}"
                f" {wmean(s7, 'tetrads'):6.3f}"
                f" {wmean(s7, 'majmin'):5.3f} {excl:5.2f}"
            )
            print(f"{'':<10}   majmin model: {confusions(mm, 'majmin')}")
            print(f"{'':<10}   sevenths model (tetrads): {confusions(s7, 'tetrads', 3)}")
            sys.stdout.flush()
            for r in recs:
                dump.append({"section": row.section, "row": row.name, **r})
    wall = time.perf_counter() - t_start
    print(f"# wall time {wall:.1f} s ({len(R)} rows)")
    if args.json:
        Path(args.json).write_text(json.dumps(dump, indent=0))


if __name__ == "__main__":
    main()
