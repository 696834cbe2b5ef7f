"""Note sets to waveforms.

Conventions
-----------
Waveforms are float64 NumPy arrays with time on the last axis. ``duration`` is in seconds and the
number of samples is ``int(sr * duration)``, as in the tutorial (``np.arange(sr * secs)``). Each
note of a chord is a sine of amplitude ``gain``; notes add, so a dyad peaks near ``2 * gain``.

Beyond the tutorial's sines, :func:`render` turns a list of notes (MIDI pitch, onset, velocity)
into audio with one of the synthesis kinds ``sine``, ``additive`` (harmonic partials with a
random spectral tilt, attack/decay envelope, slight detune and inharmonicity) or ``pluck``
(Karplus–Strong). Every random choice is drawn from the ``numpy.random.Generator`` passed in:
same generator state, same audio. :func:`add_noise` adds white or pink noise at a given SNR and
:func:`reverb` convolves with a synthetic, exponentially decaying impulse response.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .chords import voicing
from .errors import ParameterError
from .features import SR

__all__ = [
    "sine",
    "sine_chord",
    "render",
    "render_soundfont",
    "render_midi",
    "normalise_peak",
    "midi_notes",
    "additive_partials",
    "additive_envelope",
    "soundfont_path",
    "add_noise",
    "reverb",
    "SYNTHS",
    "midi_to_hz",
    "chords_midi",
    "sonify",
]

SYNTHS = ("sine", "additive", "pluck", "soundfont")
#: The two General-MIDI SoundFonts chordscope trains on; any other stays an unseen-timbre test.
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"  # Debian package fluid-soundfont-gm
#: The held-out SoundFont, never used in training: a Yamaha OPL3 FM chip sampled note by note
#: (Debian opl3-soundfont). It shares no samples with FluidR3 or TimGM6mb, unlike
#: MuseScore_General (built on FluidR3 Mono) and csound's sf_GMbank (mostly TimGM6mb's samples).
OPL3 = "/usr/share/sounds/sf2/OPL-3_FM_128M.sf2"  # Debian package opl3-soundfont
_APT_HINTS = {"fluidr3": "fluid-soundfont-gm", "opl3": "opl3-soundfont"}


def _time(duration: float, sr: int) -> np.ndarray:
    if not duration > 0:
        raise ParameterError(f"duration={duration!r} must be a positive number of seconds")
    if not sr > 0:
        raise ParameterError(f"sr={sr!r} must be a positive sample rate")
    return np.arange(int(sr * duration))


def sine(frequency: float, *, duration: float = 1.0, sr: int = SR, gain: float = 0.5):
    """Return a sine tone ``gain * sin(2 pi f t / sr)``, starting at phase 0.

    Returns
    -------
    y : np.ndarray [shape=(int(sr * duration),)]

    Examples
    --------
    >>> sine(440.0, duration=0.01, sr=8000).shape
    (80,)
    """
    t = _time(duration, sr)
    return gain * np.sin(2.0 * np.pi * frequency * t / sr)


def sine_chord(frequencies, *, duration: float = 1.0, sr: int = SR, gain: float = 0.5):
    """Sum of one sine per frequency, each of amplitude ``gain`` (the tutorial's ``chord_wave``).

    Parameters
    ----------
    frequencies : array_like [shape=(..., n_notes)]
        Note frequencies in Hz; leading axes give a batch of chords.

    Returns
    -------
    y : np.ndarray [shape=(..., int(sr * duration))]

    Examples
    --------
    >>> sine_chord([[440.0, 554.4], [440.0, 523.3]], duration=0.5).shape
    (2, 8000)
    """
    t = _time(duration, sr)
    f = np.asarray(frequencies, dtype=float)[..., None]
    return (gain * np.sin(2.0 * np.pi * f * t / sr)).sum(axis=-2)


def midi_to_hz(pitch) -> np.ndarray:
    """Equal-tempered frequency of MIDI pitch(es), A4 = 69 = 440 Hz.

    Examples
    --------
    >>> float(midi_to_hz(69))
    440.0
    """
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=float) - 69.0) / 12.0)


def additive_partials(f0: float, sr: int, rng: np.random.Generator) -> dict:
    """Draw the partials and envelope of one ``additive`` note (the order of draws is fixed).

    Returns a dict: ``freqs``, ``amps`` (summing to 1), ``phases`` (of ``sin`` at the onset),
    ``attack`` (s) and ``decay`` (1/s) of the envelope ``min(t / attack, 1) * exp(-decay t)``.
    """
    tilt = rng.uniform(0.6, 2.0)  # partial k has amplitude k ** -tilt
    inharm = rng.uniform(0.0, 2e-4)  # stiff-string inharmonicity B
    detune = 2.0 ** (rng.normal(0.0, 4.0) / 1200.0)  # a few cents
    attack = rng.uniform(0.005, 0.03)
    decay = rng.uniform(0.3, 3.0)  # 1 / s
    n_part = int(min(16, (sr / 2 - 100) // f0))
    k = np.arange(1, max(n_part, 1) + 1)
    fk = f0 * detune * k * np.sqrt(1.0 + inharm * k**2)
    amp = k**-tilt * (fk < sr / 2 - 100)
    phase = rng.uniform(0, 2 * np.pi, size=len(k))
    return {"freqs": fk, "amps": amp / amp.sum(), "phases": phase, "attack": attack, "decay": decay}


def additive_envelope(t, attack: float, decay: float):
    """Return the ``additive`` envelope at times ``t`` (seconds after the onset)."""
    t = np.asarray(t, dtype=float)
    return np.where(t < 0, 0.0, np.minimum(t / attack, 1.0) * np.exp(-decay * np.maximum(t, 0)))


def _additive_note(f0, n, sr, rng, velocity):
    t = np.arange(n) / sr
    p = additive_partials(f0, sr, rng)
    y = (
        p["amps"][:, None] * np.sin(2 * np.pi * p["freqs"][:, None] * t + p["phases"][:, None])
    ).sum(0)
    return velocity * additive_envelope(t, p["attack"], p["decay"]) * y


def _pluck_note(f0, n, sr, rng, velocity):
    """Synthesise one plucked note by Karplus–Strong.

    A noise burst goes through a delay line with a two-point loss filter and a
    linear-interpolation fractional delay, computed one period (block) at a time.
    """
    delay = sr / f0  # the loop's total delay in samples
    S = min(0.5, 55.0 / f0)  # loss filter (1 - S, S): a lighter damping for high notes
    N = int(np.floor(delay - S))
    frac = delay - S - N
    if N < 2:
        raise ParameterError(f"pitch {f0:.1f} Hz is too high for a pluck at sr={sr}")
    h = np.convolve([1.0 - S, S], [1.0 - frac, frac])  # taps on y[n-N], y[n-N-1], y[n-N-2]
    g = 0.996 ** (440.0 / f0)  # decay per period, slower for low strings
    y = np.zeros(n + N + 2)
    y[: N + 2] = rng.uniform(-1, 1, N + 2)
    y[: N + 2] -= y[: N + 2].mean()
    for start in range(N + 2, len(y), N):
        stop = min(start + N, len(y))
        idx = np.arange(start, stop)
        y[idx] = g * (h[0] * y[idx - N] + h[1] * y[idx - N - 1] + h[2] * y[idx - N - 2])
    from scipy.signal import lfilter

    out = lfilter([1.0, -1.0], [1.0, -0.995], y[N + 2 :])  # block DC, which the loop keeps
    return velocity * out / max(np.abs(out).max(), 1e-9)


def render(
    notes,
    *,
    synth: str = "additive",
    duration: float = 1.0,
    sr: int = SR,
    gain: float = 0.5,
    rng: np.random.Generator | None = None,
    program: int = 0,
    soundfont: str = "fluidr3",
) -> np.ndarray:
    """Render notes ``[(midi_pitch, onset_seconds, velocity), ...]`` into one waveform.

    Parameters
    ----------
    notes : sequence of (float, float, float)
        MIDI pitch (fractional allowed), onset in seconds, velocity in (0, 1].
    synth : str
        ``"sine"``, ``"additive"``, ``"pluck"`` or ``"soundfont"`` (FluidSynth).
    duration : float
        Length of the result in seconds; notes sound until the end.
    gain : float
        Amplitude of a note of velocity 1.
    rng : numpy.random.Generator
        Source of every random choice (required for ``additive`` and ``pluck``).
    program, soundfont :
        General-MIDI program (0..127) and SoundFont (``"fluidr3"``, ``"timgm6mb"`` or a path)
        for ``synth="soundfont"``; see :func:`render_soundfont`.

    Returns
    -------
    y : np.ndarray [shape=(int(sr * duration),)]

    Examples
    --------
    >>> y = render([(69, 0.0, 1.0)], synth="sine", duration=0.5)
    >>> y.shape
    (8000,)
    """
    if synth not in SYNTHS:
        raise ParameterError(f"synth={synth!r} must be one of {', '.join(SYNTHS)}")
    n = len(_time(duration, sr))
    if synth == "soundfont":
        return render_soundfont(
            notes, program=program, soundfont=soundfont, duration=duration, sr=sr, gain=gain
        )
    if synth != "sine" and rng is None:
        raise ParameterError(f"synth={synth!r} needs a seeded rng")
    y = np.zeros(n)
    for pitch, onset, velocity in notes:
        start = int(round(onset * sr))
        if start >= n:
            continue
        f0 = float(midi_to_hz(pitch))
        if not 20.0 <= f0 < sr / 2:
            raise ParameterError(f"pitch {pitch} ({f0:.1f} Hz) is outside 20 Hz .. sr/2")
        m = n - start
        if synth == "sine":
            note = velocity * np.sin(2 * np.pi * f0 * np.arange(m) / sr)
        elif synth == "additive":
            note = _additive_note(f0, m, sr, rng, velocity)
        else:
            note = _pluck_note(f0, m, sr, rng, velocity)
        y[start:] += gain * note
    return y


def normalise_peak(y: np.ndarray, level: float = 0.9) -> np.ndarray:
    """Scale ``y`` so that its largest absolute sample is ``level`` (silence stays silence).

    Examples
    --------
    >>> float(normalise_peak(np.array([0.5, -2.0])).min())
    -0.9
    """
    peak = np.abs(y).max()
    return y * (level / peak) if peak > 0 else y


def add_noise(y, snr_db: float, *, kind: str = "white", rng: np.random.Generator) -> np.ndarray:
    """Add white or pink noise so that signal power / noise power = ``snr_db`` decibels.

    Examples
    --------
    >>> y = np.sin(np.arange(16000) / 5.0)
    >>> z = add_noise(y, 10.0, rng=np.random.default_rng(0))
    >>> round(float(10 * np.log10(np.mean(y**2) / np.mean((z - y) ** 2))), 6)
    10.0
    """
    try:
        snr_db = float(snr_db)
    except (TypeError, ValueError):
        raise ParameterError(f"snr={snr_db!r} must be a number of decibels") from None
    if not np.isfinite(snr_db):
        raise ParameterError(f"snr={snr_db!r} must be a finite number of decibels")
    if kind not in ("white", "pink"):
        raise ParameterError(f"noise kind={kind!r} must be white or pink")
    y = np.asarray(y, dtype=float)
    w = rng.standard_normal(y.shape[-1])
    if kind == "pink":  # shape the spectrum as 1 / sqrt(f): power falls 3 dB per octave
        spec = np.fft.rfft(w)
        f = np.arange(len(spec), dtype=float)
        f[0] = 1.0
        w = np.fft.irfft(spec / np.sqrt(f), n=len(w))
    p_sig = np.mean(y**2)
    p_noise = np.mean(w**2)
    if p_sig == 0:
        return y + w * 1e-3
    return y + w * np.sqrt(p_sig / (p_noise * 10.0 ** (snr_db / 10.0)))


def reverb(
    y, *, sr: int = SR, rt60: float = 0.5, wet: float = 0.3, rng: np.random.Generator
) -> np.ndarray:
    """Convolve with exponentially decaying noise (60 dB down after ``rt60`` s); same length.

    Examples
    --------
    >>> reverb(np.ones(100), rt60=0.1, rng=np.random.default_rng(0)).shape
    (100,)
    """
    from scipy.signal import fftconvolve

    if not rt60 > 0 or not 0 <= wet <= 1:
        raise ParameterError(f"rt60={rt60!r} must be > 0 and wet={wet!r} in [0, 1]")
    t = np.arange(int(rt60 * sr)) / sr
    ir = rng.standard_normal(len(t)) * 10.0 ** (-3.0 * t / rt60)
    ir /= np.sqrt(np.sum(ir**2))
    y = np.asarray(y, dtype=float)
    return (1 - wet) * y + wet * fftconvolve(y, ir)[: y.shape[-1]]


def midi_notes(notes, *, program: int = 0, is_drum: bool = False, offset: float = 0.0):
    """Return a ``pretty_midi.Instrument`` playing ``[(pitch, start, end, velocity), ...]``.

    Velocities in (0, 1] become MIDI velocities 1..127; times are shifted by ``offset``.
    """
    import pretty_midi

    inst = pretty_midi.Instrument(program=int(program), is_drum=is_drum)
    for pitch, start, end, velocity in notes:
        inst.notes.append(
            pretty_midi.Note(
                velocity=int(np.clip(round(127 * velocity), 1, 127)),
                pitch=int(round(pitch)),
                start=offset + float(start),
                end=offset + float(end),
            )
        )
    return inst


@lru_cache(maxsize=1)
def fluidsynth_version() -> str:
    """Return the first line of ``fluidsynth --version`` (``"absent"`` where it is not installed).

    Examples
    --------
    >>> isinstance(fluidsynth_version(), str)
    True
    """
    exe = shutil.which("fluidsynth")
    if exe is None:
        return "absent"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return (proc.stdout.strip().splitlines() or ["unknown"])[0]


def soundfont_path(soundfont: str = "fluidr3") -> str:
    """Return the path of a SoundFont.

    ``soundfont`` is ``"fluidr3"`` (Debian's FluidR3_GM), ``"timgm6mb"`` (shipped with
    pretty_midi), ``"opl3"`` (Debian's OPL-3_FM_128M, the held-out SoundFont of
    :mod:`chordscope.heldout`) or a path to any ``.sf2``/``.sf3`` file, checked to be a
    SoundFont.
    """
    if soundfont == "fluidr3":
        path = Path(FLUIDR3)
    elif soundfont == "opl3":
        path = Path(OPL3)
    elif soundfont == "timgm6mb":
        try:
            import pretty_midi
        except ImportError:
            raise ParameterError(
                "soundfont 'timgm6mb' needs pretty_midi: pip install pretty_midi"
            ) from None
        path = Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")
    else:
        path = Path(soundfont)
    if not path.is_file():
        hint = f" (apt-get install {_APT_HINTS[soundfont]})" if soundfont in _APT_HINTS else ""
        raise ParameterError(f"soundfont {str(path)!r} not found{hint}")
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise ParameterError(f"{str(path)!r} is not a SoundFont (.sf2) file")
    return str(path)


def render_soundfont(
    notes,
    *,
    program: int = 0,
    soundfont: str = "fluidr3",
    duration: float = 1.0,
    sr: int = SR,
    gain: float = 0.5,
) -> np.ndarray:
    """Render notes with a General-MIDI instrument of a SoundFont, through the FluidSynth program.

    The notes go into a one-track MIDI file (pretty_midi) that ``fluidsynth`` renders offline with
    its reverb and chorus off, so the same notes always give the same samples. The result is
    mixed to mono, cut or padded to ``duration`` and scaled so that its peak is ``2 * gain``
    (the level of two full-velocity sines).

    Raises
    ------
    ParameterError
        For a program outside 0..127, a missing or invalid SoundFont, or a missing ``fluidsynth``
        program (``apt-get install fluidsynth``).
    """
    if (
        isinstance(program, bool)
        or not isinstance(program, (int, np.integer))
        or not 0 <= program <= 127
    ):
        raise ParameterError(f"program={program!r} must be a General-MIDI program 0..127")
    soundfont_path(soundfont)
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    pm.instruments.append(midi_notes([(p, o, duration, v) for p, o, v in notes], program=program))
    y = render_midi(pm, duration=duration, sr=sr, soundfont=soundfont)
    peak = np.abs(y).max()
    return y * (2 * gain / peak) if peak > 0 else y


def render_midi(pm, *, duration: float, sr: int = SR, soundfont: str = "fluidr3") -> np.ndarray:
    """Render a ``pretty_midi.PrettyMIDI`` with the ``fluidsynth`` program, offline.

    Reverb and chorus are off, so the same MIDI always gives the same samples. The result is
    mono, ``int(sr * duration)`` samples long, not normalised.
    """
    from scipy.io import wavfile

    sf2 = soundfont_path(soundfont)
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise ParameterError("the fluidsynth program is not installed (apt-get install fluidsynth)")
    n = len(_time(duration, sr))
    with tempfile.TemporaryDirectory(prefix="chordscope-fs-") as tmp:
        mid, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        pm.write(str(mid))
        cmd = [exe, "-ni", "-q", "-R", "0", "-C", "0", "-g", "1.0", "-r", str(sr)]
        cmd += ["-F", str(wav), sf2, str(mid)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not wav.is_file():
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            raise ParameterError(f"fluidsynth failed: {msg[-1] if msg else proc.returncode}")
        rate, data = wavfile.read(wav)
    data = data.astype(float)
    if data.ndim == 2:
        data = data.mean(axis=1)
    if rate != sr:
        import librosa

        data = librosa.resample(data, orig_sr=rate, target_sr=sr)
    y = np.zeros(n)
    y[: min(n, len(data))] = data[:n]
    return y


def _chord_notes(segments, octave: int):
    """Return the notes ``(pitch, start, end, velocity)`` of the chords of ``segments``."""
    notes = []
    for seg in segments:
        start, end, label = float(seg[0]), float(seg[1]), seg[2]
        if end <= start:
            raise ParameterError(f"segment {start}..{end} s ({label}) must end after it starts")
        for pitch, _, velocity in voicing(label, octave=octave):
            notes.append((pitch, start, end, 0.7 * velocity))
    return notes


def chords_midi(segments, *, program: int = 0, octave: int = 4):
    """Return a ``pretty_midi.PrettyMIDI`` that plays chord segments as block chords.

    Each ``(start, end, label, ...)`` sounds its close-position voicing
    (:func:`chordscope.chords.voicing`) from start to end with GM ``program``; ``N`` is silence.

    Examples
    --------
    >>> pm = chords_midi([(0.0, 1.0, "C:maj"), (1.0, 2.0, "N"), (2.0, 3.0, "A:min")])
    >>> [(n.pitch, n.start) for n in pm.instruments[0].notes][:4]
    [(60, 0.0), (64, 0.0), (67, 0.0), (69, 2.0)]
    """
    import pretty_midi

    if not 0 <= int(program) <= 127:
        raise ParameterError(f"program={program!r} must be a General-MIDI program 0..127")
    pm = pretty_midi.PrettyMIDI()
    inst = midi_notes(_chord_notes(segments, octave), program=int(program))
    inst.name = "chords"
    pm.instruments.append(inst)
    return pm


def sonify(
    segments,
    *,
    synth: str = "additive",
    sr: int = SR,
    seed: int = 0,
    program: int = 0,
    soundfont: str = "fluidr3",
    octave: int = 4,
    duration: float | None = None,
) -> np.ndarray:
    """Render chord segments to audio, to hear a prediction (block chords, ``N`` silent).

    ``duration`` defaults to the end of the last segment; the result is peak-normalised to 0.9.
    Every draw of the synthesiser comes from ``seed``.

    Examples
    --------
    >>> y = sonify([(0.0, 0.5, "C:maj"), (0.5, 1.0, "N")], sr=16000)
    >>> y.shape, float(abs(y[:8000]).max()) > 0.5, float(abs(y[8400:]).max()) < 0.01
    ((16000,), True, True)
    """
    if synth not in SYNTHS:
        raise ParameterError(f"synth={synth!r} must be one of {', '.join(SYNTHS)}")
    segments = list(segments)
    end = max((float(s[1]) for s in segments), default=0.0)
    duration = float(end if duration is None else duration)
    if not 0 < duration <= 6 * 3600:
        raise ParameterError(f"duration={duration!r} s must be in (0, 6 h]")
    n = int(round(duration * sr))
    if synth == "soundfont":
        pm = chords_midi(segments, program=program, octave=octave)
        return normalise_peak(render_midi(pm, duration=duration, sr=sr, soundfont=soundfont))
    rng = np.random.default_rng(seed)
    y = np.zeros(n)
    fade = max(1, int(0.01 * sr))  # 10 ms release: no click at a chord change
    for seg in segments:
        start, stop, label = float(seg[0]), min(float(seg[1]), duration), seg[2]
        notes = [(p, 0.0, 0.7 * v) for p, _, v in voicing(label, octave=octave)]
        a, b = int(round(start * sr)), int(round(stop * sr))
        if not notes or b <= a:
            continue
        block = render(notes, synth=synth, duration=(b - a) / sr, sr=sr, rng=rng)[: b - a]
        block[-fade:] *= np.linspace(1.0, 0.0, min(fade, len(block)))
        y[a : a + len(block)] += block
    return normalise_peak(y)
