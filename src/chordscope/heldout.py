"""A held-out evaluation: songs played by instruments and through effects training never used.

chordscope's evaluation set (:mod:`chordscope.evalset`) is played by the programs and the
SoundFont the pretrained models were trained on. The held-out set asks the harder question: how
well does a recogniser label sounds it has never heard? Each *condition* is one folder of short
labelled pieces (audio, MIREX ``.lab``, ``.json`` metadata), written by :func:`write_heldout_set`
(``chordscope evalset --heldout --out DIR``).

Conventions
-----------
- Songs are composed by :func:`chordscope.evalset.compose_song` (diatonic progressions in a random
  key, 60–160 bpm, ``N`` at both ends) from ``seed`` (default :data:`HELDOUT_SEED`, never a
  training or evaluation seed): song ``i`` has the same chords, tempo and voicings in every song
  condition, so two conditions differ only by how the song sounds (a paired comparison).
  ``compose_song`` draws from its own stream ``SeedSequence([seed, i])``; every draw this module
  makes for song ``i`` of a condition comes from ``SeedSequence([seed, condition_id, i])``, with
  condition ids from 101 up (training streams use the tags 20, 30, 31 and 40).
- A song's last chord is labelled while it sounds, as in the evaluation set: into the final
  ``N`` until its chord and bass parts, rendered apart from the drums and put through the
  condition's fader and room, have fallen :data:`~chordscope.songs.RING_OUT_DB` below their
  loudest (format 3, 2026-12-01).
- Timbres: :data:`HELD_OUT_CHORD_PROGRAMS`, :data:`HELD_OUT_BASS_PROGRAMS` and
  :data:`HELD_OUT_LEAD_PROGRAMS` are General-MIDI programs no training set uses; the held-out
  SoundFont is ``OPL-3_FM_128M`` (Debian ``opl3-soundfont``: recordings of a Yamaha YMF262 FM
  chip), which shares no samples with FluidR3_GM or TimGM6mb. (MuseScore_General is built on
  FluidR3 Mono's samples and csound's ``sf_GMbank`` shares most of its samples with TimGM6mb, so
  neither is unheard.)
- Conditions (:data:`CONDITIONS`): ``heldout-programs`` (held-out programs, FluidR3);
  ``heldout-soundfont`` (the training programs through the OPL3 SoundFont); ``heldout-both``
  (held-out programs through the OPL3 SoundFont); then the ``heldout-programs`` songs with one
  change each: ``detuned`` (±40 cents by a MIDI pitch bend: tempo and label times unchanged),
  ``dynamics`` (velocity curve with accents and a slow gain envelope), ``melody`` (a louder lead
  line with passing and neighbour tones on weak eighths), ``reverb`` (a room impulse response
  with early reflections and a frequency-dependent tail), ``mp3`` (44.1 kHz, 128 kbit/s CBR by
  libsndfile's LAME encoder, labelled from the decoded file); and ``isolated`` (one-second chords
  with half-second silences, root position and inversions, triads and sevenths, each chord on a
  held-out program; each chord is labelled while it sounds, until it has fallen 30 dB below its
  loudest, so a harp or a choir that rings through the silence is labelled as its chord:
  :func:`chordscope.songs.ring_out`); ``heldout-music`` (added 2026-12-01: songs written by the
  training songs' composer, :func:`chordscope.songs.music_song`, from this set's seed, with
  walking and two-feel basses, inversions, shell and rootless voicings, stabs, arpeggios and
  strums, every chord, bass and lead instrument a held-out program, FluidR3; see
  :func:`music_piece`), and ``heldout-music-both``, the same songs through the OPL3 SoundFont.
  The song conditions before them are composed like the evaluation set
  (block chords or arpeggios over a bass on the root), the arrangement the first models were
  trained on; these two are arranged like the new models' training songs. Each favours one
  family, so both are reported. ``chorales`` (added 2026-12-02) is harmony no chordscope code
  wrote: the Bach chorales of music21's corpus with their Roman-numeral analyses
  (:mod:`chordscope.chorales`), each played once (18 pieces at most), the upper voices and the
  bass by two held-out programs, FluidR3; ``chorales-both`` plays the same pieces, programs and
  tempi through the OPL3 SoundFont.
- The same seed gives byte-identical files, mp3 included (LAME is deterministic; tested).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chords import PITCH_NAMES, parse_label, voicing
from .errors import ParameterError, valid_non_negative_int, valid_positive_int
from .evalset import compose_song
from .io import atomic_write_bytes, write_json, write_lab, write_wav
from .songs import BASS_PROGRAMS, CHORD_PROGRAMS, EVAL_SEED, RING_OUT_DB, ring_out
from .synth import SR, midi_notes, normalise_peak, render_midi, soundfont_path

__all__ = [
    "HELDOUT_SEED",
    "HELDOUT_SONGS",
    "HELD_OUT_CHORD_PROGRAMS",
    "HELD_OUT_BASS_PROGRAMS",
    "HELD_OUT_LEAD_PROGRAMS",
    "HELD_OUT_SOUNDFONT",
    "CONDITIONS",
    "MUSIC_CONDITIONS",
    "CHORALE_CONDITIONS",
    "Condition",
    "condition_rng",
    "heldout_song",
    "isolated_chords",
    "music_piece",
    "condition_pieces",
    "room_impulse_response",
    "mp3_frame_bitrates",
    "render_condition",
    "write_condition",
    "write_heldout_set",
]

#: Seed of the held-out set: not :data:`chordscope.evalset.EVAL_SEED` (7770001), not
#: :data:`chordscope.tutorial_data.TEST_SEED`, far from the small seeds training runs use.
HELDOUT_SEED = 9_190_003
#: Pieces per condition by default. Ten songs of 8 bars (187 s) left a majmin score a 95 %
#: bootstrap interval 0.08-0.25 wide; forty narrow it by half (rendering takes seconds).
HELDOUT_SONGS = 40
#: Chord instruments no training set uses: FM electric piano, clavinet, vibraphone, percussive
#: organ, accordion, clean and overdriven guitars, harp, synth strings, choir, brass, polysynth.
HELD_OUT_CHORD_PROGRAMS = (5, 7, 11, 17, 21, 27, 29, 46, 50, 52, 61, 90)
#: Bass instruments no training set uses: slap basses 1 and 2, synth bass 2.
HELD_OUT_BASS_PROGRAMS = (36, 37, 39)
#: Lead instruments of the ``melody`` condition: French horn, tenor sax, English horn, piccolo,
#: pan flute, voice lead.
HELD_OUT_LEAD_PROGRAMS = (60, 66, 69, 72, 75, 85)
#: The held-out SoundFont's name for :func:`chordscope.synth.soundfont_path`.
HELD_OUT_SOUNDFONT = "opl3"
#: Bumped whenever the files a seed gives change (benchmarks compare it before reusing a cache).
# 2: isolated chords labelled while they sound (songs.ring_out); 3: songs' last chords too
HELDOUT_FORMAT = 3

DETUNE_CENTS = 40.0
PITCH_BEND_RANGE_CENTS = 200.0  # FluidSynth's default pitch-wheel sensitivity: 2 semitones
MP3_SR = 44100
MP3_KBPS = 128
# libsndfile maps a compression level c to 320 - c * (320 - 32) kbit/s for MPEG-1 Layer III
MP3_COMPRESSION_LEVEL = (320 - MP3_KBPS) / (320 - 32)
LEAD_RANGE = (67, 86)  # G4 .. D6: above the chords (octave 4)
ISOLATED_CHORD_S, ISOLATED_GAP_S = 1.0, 0.5
# (quality, weight, inversions as Harte bass degrees)
ISOLATED_QUALITIES = (
    ("maj", 3, ("3", "5")),
    ("min", 3, ("b3", "5")),
    ("7", 2, ("3", "5", "b7")),
    ("maj7", 1, ("3", "5", "7")),
    ("min7", 1.5, ("b3", "5", "b7")),
)


@dataclass(frozen=True)
class Condition:
    """One held-out condition: its seed-stream id, file stem and one-line description."""

    id: int
    stem: str
    description: str


CONDITIONS = {
    "heldout-programs": Condition(101, "song", "held-out GM programs, FluidR3"),
    "heldout-soundfont": Condition(102, "song", "training programs, held-out OPL3 SoundFont"),
    "heldout-both": Condition(103, "song", "held-out programs, held-out OPL3 SoundFont"),
    "detuned": Condition(104, "song", "heldout-programs songs, +-40 cents (MIDI pitch bend)"),
    "dynamics": Condition(105, "song", "heldout-programs songs, velocity curve, accents, gain"),
    "melody": Condition(106, "song", "heldout-programs songs with a louder lead melody"),
    "reverb": Condition(107, "song", "heldout-programs songs through a room reverb"),
    "mp3": Condition(108, "song", "heldout-programs songs, 128 kbit/s mp3 at 44.1 kHz"),
    "isolated": Condition(109, "chords", "1 s chords and 0.5 s gaps, inversions, sevenths"),
    "heldout-music": Condition(
        110, "song", "musical songs (progressions, voicings, bass lines), held-out programs"
    ),
    "heldout-music-both": Condition(
        111, "song", "heldout-music songs through the held-out OPL3 SoundFont"
    ),
    "chorales": Condition(
        112, "chorale", "Bach chorales and their analyses (music21), held-out programs"
    ),
    "chorales-both": Condition(113, "chorale", "the chorales through the held-out OPL3 SoundFont"),
}
#: The conditions that play :func:`music_piece` songs, and the SoundFont of each.
MUSIC_CONDITIONS = {"heldout-music": "fluidr3", "heldout-music-both": HELD_OUT_SOUNDFONT}
#: The conditions that play Bach's chorales (:mod:`chordscope.chorales`), and the SoundFont of each.
CHORALE_CONDITIONS = {"chorales": "fluidr3", "chorales-both": HELD_OUT_SOUNDFONT}


def _valid_condition(name: str) -> Condition:
    if name not in CONDITIONS:
        raise ParameterError(f"condition={name!r} must be one of {', '.join(CONDITIONS)}")
    return CONDITIONS[name]


def condition_rng(condition: str, index: int, *, seed: int = HELDOUT_SEED) -> np.random.Generator:
    """Return the generator of every draw for piece ``index`` of ``condition``.

    Examples
    --------
    >>> float(condition_rng("detuned", 0).random()) == float(condition_rng("detuned", 0).random())
    True
    """
    cid = _valid_condition(condition).id
    return np.random.default_rng(np.random.SeedSequence([int(seed), cid, int(index)]))


def _pick(rng: np.random.Generator, options) -> int:
    return int(options[int(rng.integers(len(options)))])


def heldout_song(
    index: int, condition: str = "heldout-programs", *, seed: int = HELDOUT_SEED, n_bars: int = 8
):
    """Song ``index`` with the instruments of ``condition`` (chord and bass programs set).

    The three timbre conditions draw their programs from their own stream; every other song
    condition plays the ``heldout-programs`` song (same programs), which it then changes.

    Returns
    -------
    song : chordscope.songs.Song
    soundfont : str  ``"fluidr3"`` or :data:`HELD_OUT_SOUNDFONT`
    """
    _valid_condition(condition)
    if condition == "isolated":
        raise ParameterError("condition='isolated' has no songs: see isolated_chords")
    if condition in MUSIC_CONDITIONS:
        raise ParameterError(f"condition={condition!r} plays musical songs: see music_piece")
    if condition in CHORALE_CONDITIONS:
        raise ParameterError(
            f"condition={condition!r} plays Bach's chorales: see chordscope.chorales"
        )
    song = compose_song(index, seed=seed, n_bars=n_bars)
    timbre = condition if condition.startswith("heldout-") else "heldout-programs"
    rng = condition_rng(timbre, index, seed=seed)
    if timbre == "heldout-soundfont":
        song.chord_program = _pick(rng, CHORD_PROGRAMS)
        song.bass_program = _pick(rng, BASS_PROGRAMS)
    else:
        song.chord_program = _pick(rng, HELD_OUT_CHORD_PROGRAMS)
        song.bass_program = _pick(rng, HELD_OUT_BASS_PROGRAMS)
    return song, ("fluidr3" if timbre == "heldout-programs" else HELD_OUT_SOUNDFONT)


# --- rendering -------------------------------------------------------------------------------


def _song_midi(song, parts=("chords", "bass", "drums"), *, bend: int = 0, lead_program=None):
    """Return a PrettyMIDI of ``song.notes``' parts.

    ``bend`` (a MIDI pitch-bend value) is set on every melodic part from time 0.
    """
    import pretty_midi

    programs = {"chords": song.chord_program, "bass": song.bass_program, "lead": lead_program}
    pm = pretty_midi.PrettyMIDI(initial_tempo=song.tempo)
    for name in parts:
        if not song.notes.get(name) or (name != "drums" and programs[name] is None):
            continue
        drums = name == "drums"
        inst = midi_notes(song.notes[name], program=programs.get(name) or 0, is_drum=drums)
        inst.name = name
        if bend and not drums:
            inst.pitch_bends.append(pretty_midi.PitchBend(int(bend), 0.0))
        pm.instruments.append(inst)
    return pm


def _dynamics(song, rng: np.random.Generator, sr: int) -> tuple[np.ndarray, dict]:
    """Rescale ``song.notes``' velocities by a curve with accents; return a gain envelope too."""
    beat = 60.0 / song.tempo
    bar = 4 * beat
    t0, t1 = song.chords[1][0], song.chords[-1][0]
    shape = ("crescendo", "decrescendo", "swell", "dip", "terraced")[int(rng.integers(5))]
    lo, hi = float(rng.uniform(0.25, 0.4)), float(rng.uniform(0.85, 1.0))
    n_points = max(2, int(round((t1 - t0) / bar)) + 1)
    x = np.linspace(0.0, 1.0, n_points)
    if shape == "crescendo":
        level = lo + (hi - lo) * x
    elif shape == "decrescendo":
        level = hi - (hi - lo) * x
    elif shape == "swell":
        level = lo + (hi - lo) * np.sin(np.pi * x)
    elif shape == "dip":
        level = hi - (hi - lo) * np.sin(np.pi * x)
    else:  # a new level every two bars
        level = np.repeat(rng.uniform(lo, hi, (n_points + 1) // 2), 2)[:n_points]
    times = t0 + x * (t1 - t0)
    n_accents = 0
    for part in ("chords", "bass", "drums"):
        notes = []
        for pitch, start, end, velocity in song.notes.get(part, []):
            v = velocity * float(np.interp(start, times, level)) * float(rng.uniform(0.9, 1.1))
            on_bar = abs((start - t0) / bar - round((start - t0) / bar)) * bar < 0.03
            if on_bar or rng.random() < 0.08:
                v *= 1.35
                n_accents += 1
            notes.append((pitch, start, end, float(np.clip(v, 0.05, 1.0))))
        song.notes[part] = notes
    # a slow fader, independent of the playing: a level in -12..0 dB every two bars
    fader_t = np.arange(0.0, song.duration + 2 * bar, 2 * bar)
    fader_db = rng.uniform(-12.0, 0.0, len(fader_t))
    t = np.arange(int(sr * song.duration)) / sr
    gain = 10.0 ** (np.interp(t, fader_t, fader_db) / 20.0)
    meta = {
        "shape": shape,
        "velocity_range": [round(lo, 4), round(hi, 4)],
        "accents": n_accents,
        "fader_db": [round(float(d), 3) for d in fader_db],
    }
    return gain, meta


def _melody(song, rng: np.random.Generator) -> tuple[list, dict]:
    """Play a lead line on an eighth-note grid: notes ``(pitch, start, end, velocity)``.

    Chord tones on the beats; passing tones (a step between chord tones a third apart),
    neighbour tones (a step away and back), rests or held notes on the off-beats.
    """
    tonic_name, _, mode = song.key.partition(":")
    tonic = PITCH_NAMES.index(tonic_name)
    steps = (0, 2, 3, 5, 7, 8, 10) if mode == "min" else (0, 2, 4, 5, 7, 9, 11)
    scale = [p for p in range(LEAD_RANGE[0] - 2, LEAD_RANGE[1] + 3) if (p - tonic) % 12 in steps]
    step = 30.0 / song.tempo  # an eighth note
    slots = []  # (time, chord tones' pitch classes, on the beat)
    for start, end, label in song.chords:
        if label == "N":
            continue
        root, bitmap, _ = parse_label(label)
        pcs = {(root + int(i)) % 12 for i in np.flatnonzero(bitmap)}
        n = max(1, int(round((end - start) / step)))
        slots += [(start + k * step, pcs, k % 2 == 0) for k in range(n)]
    end_time = song.chords[-1][0]
    strong = [k for k, s in enumerate(slots) if s[2]]
    pitch_at = {}
    prev = int(rng.integers(LEAD_RANGE[0] + 4, LEAD_RANGE[1] - 4))
    for k in strong:  # chord tones on the beats, mostly by small moves
        tones = [p for p in range(*LEAD_RANGE) if p % 12 in slots[k][1]]
        near = sorted(tones, key=lambda p: (abs(p - prev), p))[:3]
        prev = pitch_at[k] = near[int(rng.choice(3, p=(0.45, 0.35, 0.2)))] if near else prev
    n_nct = 0
    for k, (_, pcs, on_beat) in enumerate(slots):
        if on_beat:
            continue
        a, b = pitch_at.get(k - 1), pitch_at.get(k + 1)
        r = rng.random()
        between = [
            p for p in scale if a is not None and b is not None and min(a, b) < p < max(a, b)
        ]
        if a is not None and b is not None and 3 <= abs(a - b) <= 4 and len(between) == 1:
            if r < 0.7:
                pitch_at[k] = between[0]  # passing tone
        elif a is not None and a == b and r < 0.5:
            up = r < 0.25
            pitch_at[k] = (
                min((p for p in scale if p > a), default=a)
                if up
                else max((p for p in scale if p < a), default=a)
            )  # neighbour tone
        elif r < 0.2:
            pitch_at[k] = None  # rest
        n_nct += pitch_at.get(k) is not None and pitch_at[k] % 12 not in pcs
    notes = []
    for k, (t, _, _) in enumerate(slots):
        if k not in pitch_at:  # the previous note goes on sounding
            if notes:
                p, s, _, v = notes[-1]
                notes[-1] = (p, s, min(t + step, end_time), v)
            continue
        if pitch_at[k] is not None:
            notes.append((pitch_at[k], t, min(t + step, end_time), float(rng.uniform(0.8, 1.0))))
    return notes, {"notes": len(notes), "non_chord_tones": int(n_nct)}


def room_impulse_response(
    rng: np.random.Generator,
    *,
    sr: int = SR,
    rt60: float = 1.0,
    predelay: float = 0.01,
    n_early: int = 8,
) -> np.ndarray:
    """Draw a room's reverberant response (no direct sound), of unit energy.

    Early reflections: ``n_early`` signed taps in the 80 ms after ``predelay``; then a diffuse
    tail of noise from ``predelay + 20 ms``, whose part below 1.5 kHz decays 60 dB in ``rt60``
    seconds and whose part above in ``0.45 * rt60`` (air and walls absorb high frequencies).

    Examples
    --------
    >>> ir = room_impulse_response(np.random.default_rng(0), rt60=0.5)
    >>> round(float(np.sum(ir**2)), 6)
    1.0
    """
    from scipy.signal import butter, sosfilt

    if not (rt60 > 0 and predelay >= 0 and n_early >= 0):
        raise ParameterError(f"rt60={rt60!r} must be > 0, predelay={predelay!r} >= 0")
    n = int(sr * (predelay + 1.2 * rt60))
    t = np.arange(n) / sr
    ir = np.zeros(n)
    taps = predelay + rng.uniform(0.0, 0.08, n_early)
    gains = rng.uniform(0.3, 0.8, n_early) * rng.choice([-1.0, 1.0], n_early)
    for tap, g in zip(taps, gains, strict=True):
        ir[min(int(tap * sr), n - 1)] += g * 10.0 ** (-3.0 * tap / rt60)
    onset = predelay + 0.02
    fade = np.clip((t - predelay) / 0.02, 0.0, 1.0)
    cutoff = min(1500.0, 0.45 * sr)
    low = sosfilt(butter(4, cutoff, "low", fs=sr, output="sos"), rng.standard_normal(n))
    high = sosfilt(butter(4, cutoff, "high", fs=sr, output="sos"), rng.standard_normal(n))
    after = np.maximum(t - onset, 0.0)
    tail = low * 10.0 ** (-3.0 * after / rt60) + high * 10.0 ** (-3.0 * after / (0.45 * rt60))
    ir += 0.5 * fade * tail * 10.0 ** (-3.0 * onset / rt60)
    return ir / np.sqrt(np.sum(ir**2))


def _room(rng: np.random.Generator, sr: int) -> tuple:
    """Draw the ``reverb`` condition's room: a function that plays a signal in it, and its meta."""
    from scipy.signal import fftconvolve

    rt60 = float(rng.uniform(0.8, 1.8))
    predelay = float(rng.uniform(0.005, 0.03))
    drr_db = float(rng.uniform(-1.0, 6.0))  # direct-to-reverberant energy ratio
    ir = room_impulse_response(rng, sr=sr, rt60=rt60, predelay=predelay, n_early=8)

    def play(y: np.ndarray) -> np.ndarray:
        return y + fftconvolve(y, ir)[: len(y)] * 10.0 ** (-drr_db / 20.0)

    meta = {"rt60": round(rt60, 4), "predelay_s": round(predelay, 4), "drr_db": round(drr_db, 3)}
    return play, meta


def mp3_frame_bitrates(data) -> dict:
    """Count the frames of an MPEG-1 Layer III stream by bitrate: ``{kbit/s: frames}``.

    ``data`` is the file's bytes or its path; an ID3v2 tag at the start is skipped.
    """
    if not isinstance(data, (bytes, bytearray)):
        data = Path(data).read_bytes()
    rates = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0)
    i, counts = 0, {}
    if data[:3] == b"ID3" and len(data) >= 10:
        i = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9])
    while i + 4 <= len(data):
        h = int.from_bytes(data[i : i + 4], "big")
        kbps, rate_index = rates[(h >> 12) & 15], (h >> 10) & 3
        # frame sync, MPEG-1 (3), Layer III (1), a valid bitrate and sample rate
        if (
            h >> 21 != 0x7FF
            or (h >> 19) & 3 != 3
            or (h >> 17) & 3 != 1
            or not kbps
            or rate_index == 3
        ):
            i += 1
            continue
        counts[kbps] = counts.get(kbps, 0) + 1
        i += 144000 * kbps // (44100, 48000, 32000)[rate_index] + ((h >> 9) & 1)
    return counts


def _mp3_bytes(y: np.ndarray, sr: int) -> bytes:
    import soundfile as sf

    if "MP3" not in sf.available_formats():
        raise ParameterError("this libsndfile cannot write mp3 (needs libsndfile >= 1.1)")
    buf = io.BytesIO()
    sf.write(
        buf,
        np.clip(y, -1.0, 1.0),
        sr,
        format="MP3",
        compression_level=MP3_COMPRESSION_LEVEL,
        bitrate_mode="CONSTANT",
    )
    return buf.getvalue()


def isolated_chords(index: int, *, n_chords: int = 20, seed: int = HELDOUT_SEED) -> list[dict]:
    """Return the chords of ``isolated`` file ``index``: label, start, program, octave, velocity.

    Qualities maj, min, 7, maj7, min7 (weighted 3 : 3 : 2 : 1 : 1.5); half in root position, the
    rest on one of the label's inversions (``C:maj/3``, ``A:min7/b7``); each chord on a program
    drawn from :data:`HELD_OUT_CHORD_PROGRAMS`, octave 3 or 4. Chords last
    ``ISOLATED_CHORD_S`` seconds after a silence of ``ISOLATED_GAP_S``.
    """
    index = valid_non_negative_int("index", index)
    n_chords = valid_positive_int("n_chords", n_chords)
    rng = condition_rng("isolated", index, seed=seed)
    weights = np.array([w for _, w, _ in ISOLATED_QUALITIES], dtype=float)
    chords, t = [], ISOLATED_GAP_S
    for _ in range(n_chords):
        quality, _, inversions = ISOLATED_QUALITIES[
            int(rng.choice(len(weights), p=weights / weights.sum()))
        ]
        label = f"{PITCH_NAMES[int(rng.integers(12))]}:{quality}"
        if rng.random() >= 0.5:
            label += "/" + inversions[int(rng.integers(len(inversions)))]
        chords.append(
            {
                "label": label,
                "start": round(t, 6),
                "program": _pick(rng, HELD_OUT_CHORD_PROGRAMS),
                "octave": int(rng.integers(3, 5)),
                "velocity": round(float(rng.uniform(0.6, 1.0)), 4),
            }
        )
        t += ISOLATED_CHORD_S + ISOLATED_GAP_S
    return chords


def _isolated(index: int, *, n_chords: int, seed: int, sr: int):
    import pretty_midi

    chords = isolated_chords(index, n_chords=n_chords, seed=seed)
    by_program = {}
    for c in chords:
        notes = voicing(c["label"], octave=c["octave"])  # close position, the label's bass lowest
        end = c["start"] + ISOLATED_CHORD_S
        by_program.setdefault(c["program"], []).extend(
            (p, c["start"] + 0.004 * k, end, c["velocity"]) for k, (p, _, _) in enumerate(notes)
        )
    pm = pretty_midi.PrettyMIDI()
    for program in sorted(by_program):
        pm.instruments.append(midi_notes(by_program[program], program=program))
    duration = chords[-1]["start"] + ISOLATED_CHORD_S + ISOLATED_GAP_S
    y = normalise_peak(render_midi(pm, duration=duration, sr=sr, soundfont="fluidr3"))
    segments = []
    for c in chords:
        gap_start = segments[-1][1] if segments else 0.0
        segments += [
            (gap_start, c["start"], "N"),
            (c["start"], c["start"] + ISOLATED_CHORD_S, c["label"]),
        ]
    segments.append((segments[-1][1], len(y) / sr, "N"))
    # a chord is labelled while it sounds: a harp or a choir rings on after its notes end
    segments = ring_out(segments, y, sr, drop_db=RING_OUT_DB)
    return y, segments, {"chords": chords, "soundfont": "fluidr3", "ring_out_db": RING_OUT_DB}


def music_piece(index: int, *, seed: int = HELDOUT_SEED, n_chords: int = 8):
    """Piece ``index`` of ``heldout-music``: a musical song played by held-out programs.

    The song is written by the training songs' composer (:func:`chordscope.songs.music_song`:
    progressions, voicings, comping, bass lines, lead, drums) from this set's own seed, skipping
    its songs of single chords (``seed``, ``seed + 1``, ... until one is a song); then every
    chord instrument gets a different program of :data:`HELD_OUT_CHORD_PROGRAMS`, the bass one
    of :data:`HELD_OUT_BASS_PROGRAMS` and the lead one of :data:`HELD_OUT_LEAD_PROGRAMS`, drawn
    from the condition's stream. The drum kits stay (they carry no chord).

    Returns
    -------
    song : chordscope.songs.MusicSong
    """
    from .songs import music_song

    index = valid_non_negative_int("index", index)
    n_chords = valid_positive_int("n_chords", n_chords)
    song = music_song(index, seed=seed, n_chords=n_chords)
    tries = 1
    while song.writer == "isolated":
        song = music_song(index, seed=seed + tries, n_chords=n_chords)
        tries += 1
    rng = condition_rng("heldout-music", index, seed=seed)
    chord_programs = iter(rng.permutation(HELD_OUT_CHORD_PROGRAMS).tolist())
    tracks = []
    for name, program, is_drum, notes in song.tracks:
        if name.startswith("chords"):
            program = next(chord_programs)
        elif name == "bass":
            program = _pick(rng, HELD_OUT_BASS_PROGRAMS)
        elif not is_drum:
            program = _pick(rng, HELD_OUT_LEAD_PROGRAMS)
        tracks.append((name, int(program), is_drum, notes))
    song.tracks = tracks
    return song


def _music(index: int, *, seed: int, n_chords: int, sr: int, soundfont: str):
    from .songs import render_music

    song = music_piece(index, seed=seed, n_chords=n_chords)
    y, harmony = render_music(song, sr=sr, soundfont=soundfont, harmony=True)
    segments, meta = _sounding(song, len(y), harmony, sr)
    return y, segments, {**meta, "soundfont": soundfont, "ring_out_db": RING_OUT_DB}


def _sounding(song, n_samples: int, pitched: np.ndarray, sr: int) -> tuple[list, dict]:
    """Label a song's segments while its harmony sounds; return them with its metadata.

    The last chord runs to the end of the audio, then :func:`chordscope.songs.ring_out` labels
    it N once ``pitched`` (the song without drums) has died away by :data:`RING_OUT_DB`.
    """
    segments = [(s, e, lab) for s, e, lab in song.chords]
    segments[-1] = (segments[-1][0], n_samples / sr, segments[-1][2])
    segments = ring_out(segments, pitched, sr, drop_db=RING_OUT_DB)
    meta = song.to_json()  # its "seed" is the composition's stream
    meta["composition_seed"] = meta.pop("seed")
    meta["duration"] = round(n_samples / sr, 6)
    return segments, meta


def condition_pieces(condition: str, n_songs: int) -> int:
    """How many pieces ``condition`` has in a set of ``n_songs`` a condition.

    ``n_songs``, except for the two chorale conditions: at most 18, as many as music21's corpus
    has analysed chorales that line up with their scores
    (:data:`chordscope.chorales.CHORALE_NUMBERS`); none is played twice.
    """
    _valid_condition(condition)
    if condition not in CHORALE_CONDITIONS:
        return int(n_songs)
    from .chorales import CHORALE_NUMBERS

    return min(int(n_songs), len(CHORALE_NUMBERS))


def _chorale(index: int, *, sr: int, rng: np.random.Generator, soundfont: str):
    """Chorale ``index`` (of :data:`chordscope.chorales.CHORALE_NUMBERS`), played and labelled.

    Its three upper voices are played by one held-out program and its bass by another, through
    ``soundfont``, at a tempo of 60–96 quarter notes a minute, each note a little detached so
    that repeated notes sound again; half a second of silence before, two seconds after (the
    last chord is labelled while it rings, as everywhere in this set).
    """
    import pretty_midi

    from .chorales import CHORALE_NUMBERS, chorale

    if not 0 <= index < len(CHORALE_NUMBERS):
        raise ParameterError(
            f"index={index!r}: the chorales condition has {len(CHORALE_NUMBERS)} pieces"
        )
    piece = chorale(CHORALE_NUMBERS[index])
    upper, lower = (int(p) for p in rng.choice(HELD_OUT_CHORD_PROGRAMS, 2, replace=False))
    tempo = float(rng.uniform(60.0, 96.0))
    q, lead_in = 60.0 / tempo, 0.5
    voices = {0: [], 1: []}
    for pitch, start, end, voice in piece.notes:
        a, b = lead_in + start * q, lead_in + end * q
        velocity = float(np.clip(rng.normal(0.75, 0.05), 0.5, 0.95))
        voices[int(voice == 3)].append((pitch, a, max(a + 0.05, b - 0.03), velocity))
    pm = pretty_midi.PrettyMIDI()
    pm.instruments += [midi_notes(voices[0], program=upper), midi_notes(voices[1], program=lower)]
    end = lead_in + piece.length_q * q
    duration = end + 2.0
    y = normalise_peak(render_midi(pm, duration=duration, sr=sr, soundfont=soundfont))
    segments = [(0.0, lead_in, "N")]
    segments += [(lead_in + a * q, lead_in + b * q, lab) for a, b, lab in piece.chords]
    segments.append((end, len(y) / sr, "N"))
    segments = ring_out(segments, y, sr, drop_db=RING_OUT_DB)
    meta = {
        "riemenschneider": piece.number,
        "bwv": piece.bwv,
        "title": piece.title,
        "source": "music21 corpus: score and Roman-numeral analysis (bach/choraleAnalyses)",
        "tempo": round(tempo, 3),
        "programs": {"soprano, alto, tenor": upper, "bass": lower},
        "soundfont": soundfont,
        "ring_out_db": RING_OUT_DB,
        "duration": round(len(y) / sr, 6),
    }
    return y, segments, meta


def render_condition(
    condition: str,
    index: int,
    *,
    seed: int = HELDOUT_SEED,
    n_bars: int = 8,
    chords_per_file: int = 20,
    sr: int = SR,
):
    """Audio, reference segments and metadata of piece ``index`` of ``condition``.

    Returns
    -------
    y : np.ndarray  mono, peak 0.9
    sr : int  the sample rate of ``y`` (:data:`MP3_SR` for ``mp3``)
    segments : list of ``(start, end, label)``  tiling ``[0, len(y) / sr]``
    meta : dict  JSON-ready: what was drawn
    """
    cond = _valid_condition(condition)
    if condition == "mp3":
        sr = MP3_SR
    meta = {"condition": condition, "index": int(index), "seed": [int(seed), cond.id, int(index)]}
    if condition == "isolated":
        y, segments, extra = _isolated(index, n_chords=chords_per_file, seed=seed, sr=sr)
        return y, sr, segments, {**meta, "sr": sr, **extra}
    if condition in CHORALE_CONDITIONS:  # both play the same programs at the same tempo
        rng = condition_rng("chorales", index, seed=seed)
        soundfont = CHORALE_CONDITIONS[condition]
        y, segments, extra = _chorale(index, sr=sr, rng=rng, soundfont=soundfont)
        return y, sr, segments, {**meta, "sr": sr, **extra}
    if condition in MUSIC_CONDITIONS:  # 2 * n_bars chords: about as long as the other songs
        soundfont = MUSIC_CONDITIONS[condition]
        y, segments, extra = _music(
            index, n_chords=2 * n_bars, seed=seed, sr=sr, soundfont=soundfont
        )
        return y, sr, segments, {**meta, "sr": sr, **extra}
    song, soundfont = heldout_song(index, condition, seed=seed, n_bars=n_bars)
    rng = condition_rng(condition, index, seed=seed)
    extra, bend, gain, lead = {}, 0, None, None
    if condition == "detuned":
        cents = DETUNE_CENTS if index % 2 == 0 else -DETUNE_CENTS
        bend = int(round(8192 * cents / PITCH_BEND_RANGE_CENTS))
        extra = {"detune_cents": cents, "pitch_bend": bend}
    elif condition == "dynamics":
        gain, extra = _dynamics(song, rng, sr)
    elif condition == "melody":
        lead_program = _pick(rng, HELD_OUT_LEAD_PROGRAMS)
        lead, extra = _melody(song, rng)
        song.notes["lead"] = lead
        extra = {"lead_program": lead_program, **extra}
    y = render_midi(_song_midi(song, bend=bend), duration=song.duration, sr=sr, soundfont=soundfont)
    # the chords and bass alone, to say when the last chord has died away: drums play on
    pitched = y
    if song.drums:
        pitched = render_midi(
            _song_midi(song, ("chords", "bass"), bend=bend),
            duration=song.duration,
            sr=sr,
            soundfont=soundfont,
        )
    if gain is not None:
        y, pitched = y * gain, pitched * gain
    if lead:
        lead_y = render_midi(
            _song_midi(song, ("lead",), lead_program=extra["lead_program"]),
            duration=song.duration,
            sr=sr,
            soundfont=soundfont,
        )
        louder_db = float(rng.uniform(4.0, 8.0))
        rms_acc, rms_lead = np.sqrt(np.mean(y**2)), np.sqrt(np.mean(lead_y**2))
        if rms_lead > 0 and rms_acc > 0:
            y = y + lead_y * (rms_acc / rms_lead) * 10.0 ** (louder_db / 20.0)
        extra["lead_above_accompaniment_db"] = round(louder_db, 3)
    if condition == "reverb":
        room, extra = _room(rng, sr)
        y, pitched = room(y), room(pitched)
    y = normalise_peak(y)
    segments, song_meta = _sounding(song, len(y), pitched, sr)
    extra["ring_out_db"] = RING_OUT_DB
    return y, sr, segments, {**meta, **song_meta, "soundfont": soundfont, "sr": sr, **extra}


def _params(seed, n_songs, n_bars, chords_per_file, sr) -> dict:
    return {
        "format": HELDOUT_FORMAT,
        "seed": int(seed),
        "n_songs": int(n_songs),
        "n_bars": int(n_bars),
        "chords_per_file": int(chords_per_file),
        "sr": int(sr),
    }


def write_condition(
    out,
    condition: str,
    *,
    n_songs: int = HELDOUT_SONGS,
    seed: int = HELDOUT_SEED,
    n_bars: int = 8,
    chords_per_file: int = 20,
    sr: int = SR,
    progress=None,
) -> list[Path]:
    """Write ``n_songs`` pieces of ``condition`` into the folder ``out``, then ``condition.json``.

    The two chorale conditions have at most 18 pieces (:func:`condition_pieces`).
    Files per piece: ``songNNN.wav`` (``.mp3`` for ``mp3``; ``chordsNNN`` for ``isolated``,
    ``choraleNNN`` for the chorales),
    ``.lab`` (MIREX) and ``.json``. ``condition.json`` is written last: its presence says the
    folder is complete, and its ``params`` say with which settings.

    Returns
    -------
    list of Path  the audio files.
    """
    cond = _valid_condition(condition)
    out = Path(out)
    paths = []
    for i in range(condition_pieces(condition, n_songs)):
        y, rate, segments, meta = render_condition(
            condition, i, seed=seed, n_bars=n_bars, chords_per_file=chords_per_file, sr=sr
        )
        stem = out / f"{cond.stem}{i:03d}"
        if condition == "mp3":
            import soundfile as sf

            data = _mp3_bytes(y, rate)
            info = sf.info(io.BytesIO(data))
            duration = info.frames / info.samplerate  # label the file as it decodes
            segments[-1] = (segments[-1][0], duration, segments[-1][2])
            meta.update(
                {
                    "duration": round(duration, 6),
                    "mp3_kbps": mp3_frame_bitrates(data),
                    "encoder": f"libsndfile {sf.__libsndfile_version__} (LAME), CBR",
                }
            )
            audio = atomic_write_bytes(stem.with_suffix(".mp3"), data)
        else:
            audio = write_wav(stem.with_suffix(".wav"), y, rate)
        write_lab(stem.with_suffix(".lab"), [s[:2] for s in segments], [s[2] for s in segments])
        write_json(stem.with_suffix(".json"), meta)
        paths.append(audio)
        if progress is not None:
            progress(1)
    write_json(
        out / "condition.json",
        {
            "condition": condition,
            "description": cond.description,
            "params": _params(seed, n_songs, n_bars, chords_per_file, sr),
            "files": [p.name for p in paths],
        },
    )
    return paths


def write_heldout_set(
    out,
    *,
    conditions=None,
    n_songs: int = HELDOUT_SONGS,
    seed: int = HELDOUT_SEED,
    n_bars: int = 8,
    chords_per_file: int = 20,
    sr: int = SR,
    progress=None,
) -> dict:
    """Write the held-out evaluation: one sub-folder of ``out`` per condition.

    Parameters
    ----------
    out : path-like  a folder (created)
    conditions : list of str, optional  names from :data:`CONDITIONS` (default: all)
    n_songs : int  pieces per condition (songs of ``n_bars`` bars, about 20–30 s at 8 bars;
        files of ``chords_per_file`` chords for ``isolated``)
    seed : int  not the evaluation set's seed
    sr : int  sample rate of the WAV files (the ``mp3`` condition is 44.1 kHz)
    progress : callable, optional  called with 1 after each file

    Returns
    -------
    dict  condition → list of audio paths
    """
    n_songs = valid_positive_int("songs", n_songs)
    seed = valid_non_negative_int("seed", seed)
    n_bars = valid_positive_int("n_bars", n_bars)
    chords_per_file = valid_positive_int("chords_per_file", chords_per_file)
    sr = valid_positive_int("sr", sr)
    if seed == EVAL_SEED:
        raise ParameterError(
            f"seed={seed} is the evaluation set's seed: the held-out set needs its own"
        )
    if conditions is None:
        conditions = list(CONDITIONS)
    if isinstance(conditions, str) or not list(conditions):
        raise ParameterError(f"conditions={conditions!r} must be a non-empty list of names")
    conditions = list(dict.fromkeys(conditions))
    for c in conditions:
        _valid_condition(c)
    soundfont_path("fluidr3")
    if any(c in ("heldout-soundfont", "heldout-both") for c in conditions):
        soundfont_path(HELD_OUT_SOUNDFONT)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"output path {out} exists and is not a folder")
    return {
        c: write_condition(
            out / c,
            c,
            n_songs=n_songs,
            seed=seed,
            n_bars=n_bars,
            chords_per_file=chords_per_file,
            sr=sr,
            progress=progress,
        )
        for c in conditions
    }
