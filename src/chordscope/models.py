"""Network definitions.

Conventions
-----------
Inputs are ``(batch, 1, n_bins, n_frames)`` float tensors, frequency before time. Models return
logits; the softmax of the tutorial's last layer is applied by :meth:`SeedCNN.probabilities` and
inside the loss (``log_softmax``), which is the same function computed stably.
A model is described by a JSON-ready ``architecture`` dict, from which :func:`build_model`
rebuilds it; that dict is what ``model.json`` stores.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from .errors import ModelFileError, ParameterError

__all__ = [
    "SeedCNN",
    "ChordCNN",
    "ChordTCN",
    "RECOGNISERS",
    "build_model",
    "check_architecture",
    "recogniser_architecture",
    "n_params",
    "glorot_uniform_",
    "glorot_limit",
    "whiten_frequency",
    "harmonic_stack",
    "input_steps_problem",
]


def input_steps_problem(whiten, harmonic_shifts, per_semitone: int = 1) -> str | None:
    """Say what is wrong with the fixed input steps' settings, or return ``None``.

    ``whiten`` is 0 or an odd number of bins >= 3; ``harmonic_shifts`` is empty or begins with 0,
    each shift once; both count semitone bins, so they need one bin a semitone
    (``per_semitone``). The one rule behind :class:`ChordCNN`, :func:`check_architecture` and
    ``TrainConfig``.

    Examples
    --------
    >>> input_steps_problem(12, [])
    'whiten=12 must be 0 (off) or an odd number of bins >= 3'
    """
    if whiten and (whiten < 3 or whiten % 2 == 0):
        return f"whiten={whiten!r} must be 0 (off) or an odd number of bins >= 3"
    shifts = list(harmonic_shifts)
    if shifts and (shifts[0] != 0 or len(set(shifts)) != len(shifts)):
        return f"harmonic_shifts={shifts!r} must begin with 0, each shift once"
    if per_semitone != 1 and (whiten or shifts):
        return "whiten and harmonic_shifts need bins_per_semitone = 1 (they count semitone bins)"
    return None


def harmonic_stack(x: torch.Tensor, shifts) -> torch.Tensor:
    """Stack copies of a log-frequency input moved by ``shifts`` semitones as channels.

    Channel ``c`` holds at bin ``b`` what the input holds at bin ``b + shifts[c]`` (zero beyond
    its edges): with shifts 12, 19, 24 and 28 a note's 2nd to 5th harmonics line up with its
    fundamental, so a first-layer kernel sees a note's partials together (the harmonic CQT of
    Bittner et al., 2017, built from one CQT). ``x`` is ``(batch, 1, n_bins, n_frames)``.

    Examples
    --------
    >>> x = torch.zeros(1, 1, 60, 1); x[0, 0, 32] = 1.0   # a partial at bin 32
    >>> h = harmonic_stack(x, [0, 12, -12])   # seen an octave lower, and an octave higher
    >>> h.shape, float(h[0, 1, 20, 0]), float(h[0, 2, 44, 0])
    (torch.Size([1, 3, 60, 1]), 1.0, 1.0)
    """
    n = x.shape[-2]
    out = []
    for s in (int(v) for v in shifts):
        if s >= 0:
            out.append(nn.functional.pad(x[..., s:, :], (0, 0, 0, min(s, n))))
        else:
            out.append(nn.functional.pad(x[..., : n + s, :], (0, 0, min(-s, n), 0)))
    return torch.cat(out, dim=1)


def whiten_frequency(x: torch.Tensor, width: int, floor: float = 0.1) -> torch.Tensor:
    """Local standardisation across frequency: ``(x - mean) / sqrt(var + floor**2)``.

    The mean and variance are taken over ``width`` bins centred on each bin of each frame (edge
    bins repeated), so the spectral envelope (the timbre's and the room's slow tilt) is removed
    and the local contrast between partials and their neighbours is kept; ``floor`` keeps near-
    silent frames from being blown up into noise. ``x`` is ``(batch, 1, n_bins, n_frames)``.

    Examples
    --------
    >>> x = torch.linspace(0, 1, 73)[None, None, :, None].expand(1, 1, 73, 5)
    >>> whiten_frequency(x, 13)[..., 6:-6, :].abs().max() < 1e-5  # a tilt is all envelope
    tensor(True)
    """
    pad = int(width) // 2
    xp = nn.functional.pad(x, (0, 0, pad, pad), mode="replicate")
    mean = nn.functional.avg_pool2d(xp, (int(width), 1), stride=1)
    var = (nn.functional.avg_pool2d(xp * xp, (int(width), 1), stride=1) - mean * mean).clamp(min=0)
    return (x - mean) / torch.sqrt(var + float(floor) ** 2)


class SeedCNN(nn.Module):
    """The tutorial's network: conv (4 kernels 5×3, valid, no bias) → global max → ReLU → dense.

    Parameters
    ----------
    n_kernels : int
        Number of convolution kernels (4 in the tutorial).
    kernel_size : tuple of int
        ``(semitones, frames)`` of each kernel.
    n_classes : int
        Number of outputs (2: maj, min).
    input_shape : tuple of int
        ``(n_bins, n_frames)`` of one input.

    Examples
    --------
    >>> model = SeedCNN()
    >>> n_params(model)
    68
    >>> model(torch.zeros(8, 1, 36, 3)).shape
    torch.Size([8, 2])
    """

    def __init__(self, n_kernels=4, kernel_size=(5, 3), n_classes=2, input_shape=(36, 3)):
        super().__init__()
        self.architecture = {
            "name": "SeedCNN",
            "n_kernels": int(n_kernels),
            "kernel_size": [int(k) for k in kernel_size],
            "n_classes": int(n_classes),
            "input_shape": [int(s) for s in input_shape],
        }
        self.conv = nn.Conv2d(1, n_kernels, tuple(kernel_size), bias=False)
        self.dense = nn.Linear(n_kernels, n_classes, bias=False)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Convolution outputs (cross-correlation, valid mode): ``(batch, n_kernels, h, w)``."""
        return self.conv(x)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Global max of each feature map, then ReLU: what the dense layer sees."""
        return torch.relu(self.feature_maps(x).amax(dim=(-2, -1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)``."""
        return self.dense(self.pooled(x))

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax of the logits: the tutorial's output."""
        return torch.softmax(self(x), dim=-1)


class ChordCNN(nn.Module):
    """A small chord recogniser over a context of CQT frames.

    ``conv1`` (kernels of ``kernel_size`` semitones × frames, no bias) is the layer
    :mod:`chordscope.explain` reads; then batch norm and ReLU, two more conv blocks (3 × 3), each
    of the first two followed by a max pool over two bins of frequency; the result is averaged
    over the remaining frames, keeping frequency (the root is an absolute pitch), and read out by
    a linear layer to the vocabulary's classes.

    The convolutions pad frequency but not time: with 7 input frames and kernels 3 frames wide,
    the three layers consume the context exactly. So the network is a convolution over time
    too, and :meth:`frame_logits` labels every frame of a whole spectrogram in one pass, equal to
    running :meth:`forward` on each frame's window (the windows share their work).

    Parameters
    ----------
    n_classes : int  vocabulary size (25 for majmin, 133 for sevenths)
    n_bins, n_frames : int  input shape (73 bins C1–C7, 7 context frames by default)
    channels : tuple of int  output channels of the three conv blocks
    kernel_size : tuple of int  the first layer's (semitones, frames)
    bins_per_semitone : int  1 (default), or 3 for :data:`chordscope.features.FINE_CQT`: ``conv1``
        is then ``kernel_size[0] * 3`` bins tall and steps 3 bins at a time, each output centred
        on a semitone's middle bin, so every layer after it works in semitones as before
    whiten : int  0 (default), or an odd number of bins: :func:`whiten_frequency` over that many
        bins before ``conv1`` (a fixed step with no weights)
    harmonic_shifts : tuple of int  empty (default), or semitone shifts beginning with 0: the
        input is :func:`harmonic_stack` of them (after any whitening), one channel each

    Examples
    --------
    >>> m = ChordCNN(n_classes=25)
    >>> m(torch.zeros(2, 1, 73, 7)).shape
    torch.Size([2, 25])
    """

    def __init__(
        self,
        n_classes=25,
        n_bins=73,
        n_frames=7,
        channels=(8, 16, 32),
        kernel_size=(5, 3),
        whiten=0,
        harmonic_shifts=(),
        bins_per_semitone=1,
    ):
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        kh, kw = (int(k) for k in kernel_size)
        b = int(bins_per_semitone)
        self.architecture = {
            "name": "ChordCNN",
            "n_classes": int(n_classes),
            "n_bins": int(n_bins),
            "n_frames": int(n_frames),
            "channels": [c1, c2, c3],
            "kernel_size": [kh, kw],
        }
        shifts = [int(v) for v in harmonic_shifts]
        problem = input_steps_problem(int(whiten), shifts, b)
        if problem:
            raise ValueError(problem)
        if b < 1 or int(n_bins) % b:
            raise ValueError(f"n_bins={n_bins} must be a multiple of bins_per_semitone={b}")
        if b != 1:  # absent for 1: older files stay the same
            self.architecture["bins_per_semitone"] = b
        if int(whiten):
            self.architecture["whiten"] = int(whiten)  # absent for 0: older files stay the same
        if shifts:
            self.architecture["harmonic_shifts"] = shifts
        if int(n_frames) < self.context:
            raise ValueError(f"n_frames={n_frames} must be at least {self.context}")
        # output j is centred on input bin b * j + b // 2: semitone j's middle bin
        pad = (kh * b - b) // 2 if kh % 2 else kh * b // 2
        self.conv1 = nn.Conv2d(
            len(shifts) or 1, c1, (kh * b, kw), stride=(b, 1), padding=(pad, 0), bias=False
        )
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=(1, 0), bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=(1, 0), bias=False)
        self.bn3 = nn.BatchNorm2d(c3)
        self.pool = nn.MaxPool2d((2, 1))
        self.dense = nn.Linear(c3 * (self.semitones // 4), n_classes)

    @property
    def semitones(self) -> int:
        """Rows of ``conv1``'s output: the input's semitones (``n_bins / bins_per_semitone``)."""
        return self.architecture["n_bins"] // self.architecture.get("bins_per_semitone", 1)

    @property
    def context(self) -> int:
        """Frames one output frame sees (``kernel_size[1] + 4``: 7 for the default)."""
        return self.architecture["kernel_size"][1] + 4

    def first_layer_input(self, x: torch.Tensor) -> torch.Tensor:
        """Return what ``conv1`` reads of an input ``x``.

        That is ``x`` itself unless the fixed steps ``whiten`` or ``harmonic_shifts`` are set.
        """
        if "whiten" in self.architecture:
            x = whiten_frequency(x, self.architecture["whiten"])
        if "harmonic_shifts" in self.architecture:
            x = harmonic_stack(x, self.architecture["harmonic_shifts"])
        return x

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.bn1(self.conv1(self.first_layer_input(x)))))
        h = self.pool(torch.relu(self.bn2(self.conv2(h))))
        return torch.relu(self.bn3(self.conv3(h)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)`` for inputs ``(batch, 1, n_bins, n_frames)``."""
        return self.dense(self._features(x).mean(dim=-1).flatten(1))

    def frame_logits(self, F: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of every frame of a spectrogram ``(n_bins, n)``.

        The spectrogram is padded with copies of its first and last frames (as
        :func:`chordscope.features.context_frames` pads) and convolved once. For the default
        ``n_frames == context`` this equals ``forward(context_frames(F))``.
        """
        if self.architecture["n_frames"] != self.context:
            raise ValueError("frame_logits needs n_frames == context (no averaging over time)")
        k = self.context // 2
        x = torch.cat([F[:, :1].expand(-1, k), F, F[:, -1:].expand(-1, k)], dim=1)
        h = self._features(x[None, None])[0]  # (c3, n_bins // 4, n)
        return self.dense(h.flatten(0, 1).T)

    @property
    def margin(self) -> int:
        """Frames of real signal each side of a block that make block-wise labelling exact."""
        return self.context // 2

    def sequence_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n - context + 1, n_classes)`` of inputs ``(batch, 1, n_bins, n)``.

        Every output frame sees its own ``context`` input frames (no padding in time): training
        on excerpts shares the convolutions between neighbouring frames.
        """
        h = self._features(x)  # (batch, c3, n_bins // 4, n - context + 1)
        return self.dense(h.flatten(1, 2).transpose(1, 2))


class ChordTCN(ChordCNN):
    """:class:`ChordCNN` followed by a temporal convolution network: seconds of context.

    The ChordCNN front end (``conv1`` is still the layer :mod:`chordscope.explain` reads) turns
    every frame into an embedding of ``embed`` values; then residual blocks of 1-D convolutions
    over time (kernel 3, dilations ``dilations``, zero padding, batch norm, ReLU) let each
    frame see ``sum(dilations)`` more frames each side (63 for the default: with the front end's
    3, 66 frames or 2.1 s each side), before the read-out. Block-wise labelling with
    :attr:`margin` frames of real signal each side is exact.

    Parameters
    ----------
    n_classes : int  as :class:`ChordCNN`
    **front : the front end's keywords, as :class:`ChordCNN` takes them (``n_bins``,
        ``channels``, ``whiten``, ``harmonic_shifts``, ``bins_per_semitone``, ...)
    embed : int  width of the per-frame embedding and of the temporal blocks
    dilations : tuple of int  one residual block per dilation
    structure : int  1: a second read-out, of every frame's bass (12 pitch classes or none)
        and chord tones (12 pitch classes), for structured training
        (:meth:`sequence_structure`); labelling never uses it

    Examples
    --------
    >>> m = ChordTCN(n_classes=25)
    >>> m.frame_logits(torch.zeros(73, 100)).shape
    torch.Size([100, 25])
    >>> m.margin
    66
    """

    learns_from_excerpts = True  # trained on excerpts of songs (sequence_logits), not windows

    def __init__(
        self, n_classes=25, *, embed=64, dilations=(1, 2, 4, 8, 16, 32), structure=0, **front
    ):
        super().__init__(n_classes, **front)  # the front end's settings, as ChordCNN takes them
        self.architecture.update(
            name="ChordTCN", embed=int(embed), dilations=[int(d) for d in dilations]
        )
        if structure:  # left out of the dict when off: older model files stay as they were
            self.architecture["structure"] = 1
            self.structure_head = nn.Conv1d(int(embed), 2 * 12 + 1, 1)
        c3 = self.architecture["channels"][2]
        self.embed = nn.Conv1d(c3 * (self.semitones // 4), int(embed), 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(int(embed), int(embed), 3, padding=int(d), dilation=int(d), bias=False),
                nn.BatchNorm1d(int(embed)),
                nn.ReLU(),
            )
            for d in dilations
        )
        self.dense = nn.Conv1d(int(embed), int(n_classes), 1)

    @property
    def margin(self) -> int:
        """Frames each side that one output frame depends on."""
        return self.context // 2 + sum(self.architecture["dilations"])

    def _embedding(self, h: torch.Tensor) -> torch.Tensor:
        """Per-frame front features ``(batch, c3, n_bins // 4, n)`` → ``(batch, embed, n)``."""
        z = torch.relu(self.embed(h.flatten(1, 2)))
        for block in self.blocks:
            z = z + block(z)
        return z

    def _temporal(self, h: torch.Tensor) -> torch.Tensor:
        """Per-frame front features ``(batch, c3, n_bins // 4, n)`` → logits ``(batch, n, k)``."""
        return self.dense(self._embedding(h)).transpose(1, 2)

    def sequence_structure(self, x: torch.Tensor) -> tuple:
        """Class, chord-tone and bass logits of inputs ``(batch, 1, n_bins, n)``.

        Returns ``(classes, tones, bass)``, shaped ``(batch, m, n_classes)``, ``(batch, m, 12)``
        (one independent logit per pitch class) and ``(batch, m, 13)`` (12 pitch classes, then
        no chord), ``m = n - context + 1``; only for a model built with ``structure = 1``.
        """
        if "structure" not in self.architecture:
            raise ParameterError("this model has no structure read-out (structure = 0)")
        z = self._embedding(self._features(x))
        aux = self.structure_head(z).transpose(1, 2)
        return self.dense(z).transpose(1, 2), aux[..., :12], aux[..., 12:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n_classes)`` of single windows (no temporal context beyond them)."""
        return self._temporal(self._features(x).mean(dim=-1, keepdim=True))[:, 0]

    def sequence_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, n - context + 1, n_classes)`` of inputs ``(batch, 1, n_bins, n)``."""
        return self._temporal(self._features(x))

    def frame_logits(self, F: torch.Tensor) -> torch.Tensor:
        """Return the logits ``(n, n_classes)`` of every frame of a spectrogram ``(n_bins, n)``.

        At the edges, the first and last frame repeat for the front end; the temporal blocks pad
        zeros.
        """
        k = self.context // 2
        x = torch.cat([F[:, :1].expand(-1, k), F, F[:, -1:].expand(-1, k)], dim=1)
        return self.sequence_logits(x[None, None])[0]


_ARCHITECTURES = {"SeedCNN": SeedCNN, "ChordCNN": ChordCNN, "ChordTCN": ChordTCN}
#: Architectures that can label audio: the ones with ``frame_logits`` (checked by capability).
RECOGNISERS = {n: cls for n, cls in _ARCHITECTURES.items() if hasattr(cls, "frame_logits")}


def _keywords(cls) -> set:
    """Return the keywords ``cls(...)`` takes, following ``**kwargs`` on to its base classes."""
    names = set()
    for c in cls.__mro__:
        params = inspect.signature(c.__init__).parameters.values()
        names |= {p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names - {"self"}
    return names - {"self"}


def recogniser_architecture(name: str, **settings) -> dict:
    """Return the ``architecture`` dict of recogniser ``name`` built from training ``settings``.

    Settings the class does not take (``embed`` for a ``ChordCNN``) are left out, so a trainer
    can pass all of its model settings to any architecture; so are fixed input steps that are
    off (``whiten = 0``, no ``harmonic_shifts``); sequences become lists (JSON).

    Examples
    --------
    >>> recogniser_architecture("ChordCNN", n_classes=25, n_frames=7, channels=(8, 16, 32),
    ...                         embed=64)
    {'name': 'ChordCNN', 'n_classes': 25, 'n_frames': 7, 'channels': [8, 16, 32]}
    """
    if name not in RECOGNISERS:
        raise ParameterError(f"model={name!r} must be one of {', '.join(RECOGNISERS)}")
    takes = _keywords(_ARCHITECTURES[name])
    # steps that are off are left out, as the model leaves them out of its own dict
    off = {"whiten": 0, "harmonic_shifts": [], "structure": 0, "bins_per_semitone": 1}
    return {
        "name": name,
        **{
            k: list(v) if isinstance(v, tuple) else v
            for k, v in settings.items()
            if k in takes and not (k in off and (list(v) if isinstance(v, tuple) else v) == off[k])
        },
    }


#: The most parameters a model read from a file may have (400 MB of float32 weights).
MAX_PARAMS = 100_000_000

_ARCH_RANGES = {  # key: (number of values or None for one, low, high); see check_architecture
    "n_kernels": (None, 1, 1024),
    "n_classes": (None, 1, 10_000),
    "n_bins": (None, 4, 1000),
    "n_frames": (None, 1, 10_000),
    "input_shape": (2, 1, 10_000),
    "channels": (3, 1, 1024),
    "kernel_size": (2, 1, 64),
    "embed": (None, 1, 4096),
    "dilations": ((1, 64), 1, 4096),
    "whiten": (None, 0, 1001),
    "harmonic_shifts": ((1, 16), -96, 96),
    "structure": (None, 0, 1),
    "bins_per_semitone": (None, 1, 3),
}


def _estimated_params(a: dict) -> int:
    """Roughly the number of weights of architecture ``a`` (checked before any allocation)."""
    kh, kw = a.get("kernel_size", (5, 3))
    n_classes = a.get("n_classes", 25)
    if a["name"] == "SeedCNN":
        return a.get("n_kernels", 4) * (kh * kw + n_classes)
    c1, c2, c3 = a.get("channels", (8, 16, 32))
    b = a.get("bins_per_semitone", 1)
    flat = c3 * (a.get("n_bins", 73) // b // 4)
    n_in = max(1, len(a.get("harmonic_shifts", ())))
    n = kh * b * kw * c1 * n_in + 9 * (c1 * c2 + c2 * c3) + flat * n_classes
    if a["name"] == "ChordTCN":
        embed = a.get("embed", 64)
        n_blocks = len(a.get("dilations", range(6)))
        n += flat * embed + 3 * embed * embed * n_blocks + embed * n_classes
    return n


def check_architecture(architecture) -> dict:
    """Check an ``architecture`` dict from a file before anything is allocated; return it.

    Every known key must be an integer (or a list of them) in a sane range (:data:`_ARCH_RANGES`)
    and the whole model at most :data:`MAX_PARAMS` weights.

    Raises
    ------
    ModelFileError  naming the first key out of range, or the estimated size.

    Examples
    --------
    >>> check_architecture({"name": "ChordCNN", "channels": [8, 16, 32]})["channels"]
    [8, 16, 32]
    """
    name = architecture.get("name") if isinstance(architecture, dict) else architecture
    if (
        not isinstance(architecture, dict)
        or not isinstance(name, str)
        or name not in _ARCHITECTURES
    ):
        if not isinstance(name, (str, type(None))):
            name = type(name).__name__
        raise ModelFileError(
            f"unknown architecture {name!r}; known: {', '.join(sorted(_ARCHITECTURES))}"
        )

    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    for key, (count, lo, hi) in _ARCH_RANGES.items():
        if key not in architecture:
            continue
        value = architecture[key]
        if count is None:
            ok = is_int(value) and lo <= value <= hi
            want = f"an integer in {lo}..{hi}"
        else:
            n_min, n_max = count if isinstance(count, tuple) else (count, count)
            ok = (
                isinstance(value, list)
                and n_min <= len(value) <= n_max
                and all(is_int(v) and lo <= v <= hi for v in value)
            )
            n = f"{n_min} to {n_max}" if n_min != n_max else str(n_min)
            want = f"a list of {n} integers in {lo}..{hi}"
        if not ok:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise ModelFileError(f"architecture {key}={shown} must be {want}")
    problem = input_steps_problem(
        architecture.get("whiten", 0),
        architecture.get("harmonic_shifts", []),
        architecture.get("bins_per_semitone", 1),
    )
    if problem:
        raise ModelFileError(f"architecture {problem}")
    n = _estimated_params(architecture)
    if n > MAX_PARAMS:
        raise ModelFileError(
            f"architecture {architecture['name']} would have about {n:,} weights "
            f"({n * 4 / 1e9:.1f} GB; at most {MAX_PARAMS:,})"
        )
    return architecture


def build_model(architecture: dict) -> nn.Module:
    """Rebuild a model from its ``architecture`` dict (as stored in ``model.json``).

    The dict is checked by :func:`check_architecture` first, so a file that lies about the
    model's size is refused before any memory is allocated.

    Examples
    --------
    >>> build_model(SeedCNN().architecture).architecture["n_kernels"]
    4
    """
    check_architecture(architecture)
    kwargs = {k: v for k, v in architecture.items() if k != "name"}
    try:
        return _ARCHITECTURES[architecture["name"]](**kwargs)
    except (TypeError, ValueError, RuntimeError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise ModelFileError(f"invalid architecture {architecture!r}: {reason}") from None


def n_params(model: nn.Module) -> int:
    """Count the trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def glorot_limit(shape) -> float:
    """Keras' Glorot-uniform limit ``sqrt(6 / (fan_in + fan_out))`` for a torch weight shape.

    For a conv weight ``(out, in, kh, kw)``: fan_in = in·kh·kw, fan_out = out·kh·kw; for a
    dense weight ``(out, in)``: fan_in = in, fan_out = out.
    """
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    return (6.0 / (fan_in + fan_out)) ** 0.5


@torch.no_grad()
def glorot_uniform_(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Initialise every weight with Keras' Glorot-uniform, drawn from ``generator``."""
    for p in model.parameters():
        limit = glorot_limit(p.shape)
        p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * limit)
    return model
