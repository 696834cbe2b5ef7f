"""Run folders: train the tutorial's network and write every artefact of a run or a sweep.

Conventions
-----------
A run folder holds ``model.safetensors``, ``model.json``, ``metrics.json``, ``history.csv``,
``figures/*.png`` and ``report.html``. It is built in a temporary sibling folder and renamed
into place when complete, so an interrupted run never leaves a half-written folder; an existing
folder is replaced only with ``force=True``.
"""

from __future__ import annotations

import os
import platform
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from . import __version__, plots
from .chords import get_vocabulary, parse_label, voicing
from .errors import OutputError, ParameterError, valid_non_negative_int, valid_positive_int
from .evalset import write_evalset
from .explain import bins_per_semitone_of, explain_file, explain_tutorial, first_kernels
from .fit import FitResult, TrainConfig, train_chords
from .generalise import SIZES as GENERALISATION_SIZES
from .generalise import generalisation_matrix
from .io import output_folder, save_model, write_csv, write_json, write_lab, write_wav
from .models import n_params
from .recognise import pretrained_models
from .report import write_generalisation_report, write_report, write_sweep_report
from .synth import SR, SYNTHS, add_noise, render, reverb, soundfont_path
from .tutorial import Recipe, get_recipe, train_tutorial
from .tutorial_data import draw_batches, make_batch, streams, test_noise, tutorial_inputs

__all__ = [
    "run_experiment",
    "run_sweep",
    "train_recogniser",
    "write_recogniser_run",
    "run_generalisation",
    "explain_to",
    "census",
    "versions",
    "machine",
    "write_synth",
]


def versions() -> dict:
    """Versions of chordscope and the libraries a result depends on."""
    import librosa
    import matplotlib
    import safetensors
    import scipy

    return {
        "chordscope": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "librosa": librosa.__version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "matplotlib": matplotlib.__version__,
    }


def machine() -> dict:
    """Describe the machine a result is computed on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }


#: The most seeds one sweep trains.
MAX_SEEDS = 100_000


def _figures(folder: Path, result, inputs, model) -> None:
    """Save the tutorial's figures for one trained model in ``folder/figures``."""
    figs = folder / "figures"
    # a batch as the tutorial shows it: the first examples of each half
    plan = draw_batches(streams(result.seeds[0])["validation"], 1)
    x, _ = make_batch(inputs, plan, 0)
    half = len(x) // 2
    names = [_note_name(inputs.roots_hz[r]) for r in plan.roots[0]]
    fig = plots.inputs_figure(x[:half, 0], x[half:, 0], root_names=names)
    plots.save_figure(fig, figs / "inputs.png")
    plots.save_figure(plots.curves_figure(result.history[0]), figs / "curves.png")
    plots.save_figure(plots.kernels_figure(result.conv[0]), figs / "kernels.png")
    noise = test_noise(1, shape=inputs.shape)[0]
    with torch.no_grad():
        for c, name in enumerate(("major", "minor")):
            xi = inputs.x[c, 0] + noise  # root A, first test noise pattern
            maps = model.feature_maps(torch.from_numpy(xi)[None, None])[0].numpy()
            fig = plots.feature_maps_figure(xi, maps, title=f"{name} chord (A), test example")
            plots.save_figure(fig, figs / f"feature_maps_{name}.png")
    plots.save_figure(plots.dense_figure(result.dense[0]), figs / "dense.png")


def _note_name(freq: float) -> str:
    import librosa

    return librosa.hz_to_note(freq, unicode=False)


def run_experiment(
    recipe="robust",
    seed: int = 0,
    *,
    out=None,
    force: bool = False,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    progress=None,
    threads: int | None = None,
) -> Path:
    """Train the tutorial's network once and write a complete run folder.

    Parameters
    ----------
    recipe : str or Recipe
        ``"robust"`` (default) or ``"seed"`` (the tutorial's exact recipe).
    seed : int
        Seed of the initial weights and of the training and validation streams.
    out : path-like, optional
        Run folder (default ``runs/<recipe>-seed<seed>``).
    force : bool
        Replace ``out`` if it exists.
    epochs, steps_per_epoch : int, optional
        Override the recipe's.
    progress : callable, optional
        Called as ``progress(steps, loss=..., val_accuracy=...)`` after each epoch and as
        ``progress(0, phase=...)`` when a stage without steps begins (the terminal's bar).
    threads : int, optional
        Torch threads (:func:`chordscope.threads.choose_threads`).

    Returns
    -------
    Path of the run folder.
    """
    seed = valid_non_negative_int("seed", seed)
    recipe = _recipe(recipe, epochs, steps_per_epoch)
    out = Path(out) if out is not None else Path("runs") / f"{recipe.name}-seed{seed}"
    with output_folder(out, force=force) as tmp:
        _phase(progress, "synthesising the tutorial's chords and their CQTs")
        inputs = tutorial_inputs()
        result = train_tutorial([seed], recipe, inputs=inputs, progress=progress, threads=threads)
        _phase(progress, "writing the model, figures, explanation and report")
        model = result.model(0)
        meta = {
            "vocabulary": _vocab_json(),
            "features": inputs.config.to_json(),
            "recipe": recipe.to_json(),
            "seed": seed,
            "versions": versions(),
            "machine": machine(),
        }
        save_model(tmp, model, meta)
        write_json(tmp / "metrics.json", _metrics(result, 0))
        write_csv(tmp / "history.csv", result.history[0])
        _figures(tmp, result, inputs, model)
        _write_explanation(tmp, result.conv[0], explain_tutorial(model, inputs.config))
        write_report(tmp, name=out.name)
    return out


def _phase(progress, text: str) -> None:
    """Tell ``progress`` that a stage without steps begins (``progress(0, phase=text)``)."""
    if progress is not None:
        progress(0, phase=text)


def _write_explanation(folder: Path, conv, explanation: dict) -> None:
    write_json(folder / "explanation.json", explanation)
    figs = folder / "figures"
    plots.save_figure(plots.tuning_figure(explanation), figs / "explain_tuning.png")
    plots.save_figure(plots.selectivity_figure(explanation), figs / "explain_selectivity.png")
    per = explanation["model"]["bins_per_semitone"]
    plots.save_figure(
        plots.semitone_kernels_figure(conv, explanation, per), figs / "explain_kernels.png"
    )


def explain_to(model_path, *, out=None) -> Path:
    """Explain a saved model and write ``explanation.json`` and figures into ``out``.

    ``model_path`` is a run folder, a ``.safetensors`` file or a pretrained name (``majmin``).
    ``out`` defaults to the run folder (or the model file's folder); a shipped model's
    explanation goes to ``runs/explain-NAME`` instead, never into the installed package. If
    ``out`` is a run folder, its ``report.html`` is rewritten with the explanation. Everything is
    computed before the first file is written, so a bad model leaves nothing behind.
    """
    shipped = pretrained_models()
    if isinstance(model_path, str) and model_path in shipped and not Path(model_path).exists():
        model_path = shipped[model_path]
    model_path = Path(model_path)
    explanation, model, _ = explain_file(model_path)
    package = Path(__file__).resolve().parent
    if out is None and package in model_path.resolve().parents:
        out = Path("runs") / f"explain-{model_path.stem}"  # not inside the installed package
    if out is None:
        out = model_path if model_path.is_dir() else model_path.parent
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder")
    _write_explanation(out, first_kernels(model), explanation)
    if (out / "metrics.json").is_file() and (out / "model.json").is_file():
        write_report(out)
    return out


def census(result, explanations: list[dict], *, n_clusters: int = 6, seed: int = 0) -> dict:
    """Roles of every kernel over the seeds of a sweep, and clusters of kernel shapes.

    Kernels are normalised to unit length and clustered with k-means (k-means++ start drawn
    from ``seed``); each cluster reports its size, centroid and most common role.
    """
    roles_all = [[k["role"] for k in e["kernels"]] for e in explanations]
    perfect = result.test_accuracy >= 1.0

    def count(sel):
        c = Counter(r for i, rs in enumerate(roles_all) if sel[i] for r in rs)
        return dict(sorted(c.items()))

    flat = result.conv.reshape(-1, result.conv[0, 0].size)
    unit = flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
    labels, centroids = _kmeans(unit, min(n_clusters, len(unit)), np.random.default_rng(seed))
    role_flat = [r for rs in roles_all for r in rs]
    clusters = []
    for c in np.argsort(-np.bincount(labels, minlength=len(centroids))):
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        rc = Counter(role_flat[i] for i in members)
        clusters.append(
            {
                "size": int(len(members)),
                "centroid": np.round(centroids[c].reshape(result.conv.shape[-2:]), 4).tolist(),
                "top_role": rc.most_common(1)[0][0],
                "roles": dict(sorted(rc.items())),
            }
        )
    n_ok = int(perfect.sum())
    return {
        "recipe": result.recipe.name,
        "n_seeds": len(result.seeds),
        "roles": count(np.ones(len(roles_all), bool)),
        "roles_by_outcome": {"perfect": count(perfect), "failed": count(~perfect)},
        "n_perfect": n_ok,
        "n_failed": len(result.seeds) - n_ok,
        "mean_dead_per_model": {
            "perfect": _mean_count(roles_all, perfect, "dead"),
            "failed": _mean_count(roles_all, ~perfect, "dead"),
        },
        "clusters": clusters,
        "per_seed": [{"seed": s, "roles": roles_all[i]} for i, s in enumerate(result.seeds)],
    }


def _mean_count(roles_all, sel, role):
    rows = [rs.count(role) for i, rs in enumerate(roles_all) if sel[i]]
    return round(float(np.mean(rows)), 4) if rows else None


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 50):
    """Plain k-means with a k-means++ start; returns (labels, centroids)."""
    centroids = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min(((x[:, None] - np.array(centroids)[None]) ** 2).sum(-1), axis=1)
        p = d / d.sum() if d.sum() > 0 else None
        centroids.append(x[rng.choice(len(x), p=p)])
    c = np.array(centroids)
    for _ in range(iters):
        labels = ((x[:, None] - c[None]) ** 2).sum(-1).argmin(1)
        new = np.array([x[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return labels, c


def _recipe(recipe, epochs, steps_per_epoch):

    recipe = recipe if isinstance(recipe, Recipe) else get_recipe(recipe)
    overrides = {}
    if epochs is not None:
        overrides["epochs"] = valid_positive_int("epochs", epochs)
    if steps_per_epoch is not None:
        overrides["steps_per_epoch"] = valid_positive_int("steps_per_epoch", steps_per_epoch)
    return replace(recipe, **overrides) if overrides else recipe


def _vocab_json() -> dict:
    return get_vocabulary("seed").to_json()


def _metrics(result, i: int) -> dict:
    return {
        "test_accuracy": float(result.test_accuracy[i]),
        "test_loss": float(result.test_loss[i]),
        "n_test": result.n_test,
        "n_params": n_params(result.model(i)),
        "recipe": result.recipe.name,
        "seed": result.seeds[i],
        "steps": result.recipe.steps,
        "steps_to_perfect": result.steps_to_perfect(i),
        "train_seconds": round(result.train_seconds, 4),
        "final_train_loss": result.history[i][-1]["train_loss"],
        "final_val_accuracy": result.history[i][-1]["val_accuracy"],
    }


def run_sweep(
    n_seeds: int,
    recipe="robust",
    *,
    first_seed: int = 0,
    out=None,
    force: bool = False,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    explain: bool = False,
    progress=None,
    threads: int | None = None,
) -> Path:
    """Train seeds ``first_seed .. first_seed + n_seeds - 1`` as one batched model.

    Writes ``sweep.json`` (recipe, n_seeds, success_rate, per_seed), ``figures/sweep.png`` and
    ``report.html`` into ``out`` (default ``runs/sweep-<recipe>-<n_seeds>``). With
    ``explain=True`` every seed's network is explained and ``census.json`` and
    ``figures/census.png`` are added (see :func:`census`).

    Returns
    -------
    Path of the sweep folder.
    """
    n_seeds = valid_positive_int("seeds", n_seeds)
    if n_seeds > MAX_SEEDS:
        raise ParameterError(f"seeds={n_seeds} must be at most {MAX_SEEDS}")
    first_seed = valid_non_negative_int("first_seed", first_seed)
    recipe = _recipe(recipe, epochs, steps_per_epoch)
    out = Path(out) if out is not None else Path("runs") / f"sweep-{recipe.name}-{n_seeds}"
    with output_folder(out, force=force) as tmp:
        seeds = list(range(first_seed, first_seed + n_seeds))
        _phase(progress, "synthesising the tutorial's chords and their CQTs")
        result = train_tutorial(seeds, recipe, progress=progress, threads=threads)
        _phase(progress, f"writing the figures{' and explaining every seed' if explain else ''}")
        per_seed = [
            {
                "seed": s,
                "test_accuracy": float(result.test_accuracy[i]),
                "test_loss": float(result.test_loss[i]),
                "steps_to_perfect": result.steps_to_perfect(i),
            }
            for i, s in enumerate(seeds)
        ]
        write_json(
            tmp / "sweep.json",
            {
                "recipe": recipe.name,
                "n_seeds": n_seeds,
                "success_rate": float(np.mean(result.test_accuracy >= 1.0)),
                "n_test": result.n_test,
                "steps": recipe.steps,
                "train_seconds": round(result.train_seconds, 4),
                "recipe_config": recipe.to_json(),
                "per_seed": per_seed,
                "versions": versions(),
                "machine": machine(),
            },
        )
        fig = plots.sweep_figure(
            result.test_accuracy,
            [p["steps_to_perfect"] for p in per_seed],
            recipe=recipe.name,
            steps_total=recipe.steps,
        )
        plots.save_figure(fig, tmp / "figures" / "sweep.png")
        if explain:
            exps = [explain_tutorial(result.model(i)) for i in range(len(seeds))]
            cen = census(result, exps)
            write_json(tmp / "census.json", cen)
            plots.save_figure(plots.census_figure(cen), tmp / "figures" / "census.png")
        write_sweep_report(tmp, name=out.name)
    return out


def train_recogniser(
    config: TrainConfig,
    out,
    *,
    resume: bool = False,
    force: bool = False,
    shards: int = 1,
    progress=None,
    threads: int | None = None,
    render_cache=None,
) -> FitResult:
    """Train a recogniser (:func:`chordscope.fit.train_chords`) and write its run folder.

    The folder (``out``) then holds ``model.safetensors`` + ``model.json``, ``metrics.json``,
    ``history.csv``, ``figures/`` and ``report.html`` beside the checkpoint; under DDP only
    rank 0 writes them. Parameters as :func:`~chordscope.fit.train_chords`.

    Returns
    -------
    FitResult
    """
    result = train_chords(
        config, out, resume=resume, force=force, shards=shards, progress=progress,
        threads=threads, render_cache=render_cache,
    )  # fmt: skip
    if result.rank == 0:
        _phase(progress, "writing the model, figures and report")
        write_recogniser_run(result)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()  # every rank returns once the folder is complete
    return result


def write_recogniser_run(result: FitResult) -> Path:
    """Write the run folder of a trained recogniser (model, metrics, history, figures, report)."""
    out, model = result.out, result.model
    meta = {**result.model_metadata(), "versions": versions(), "machine": machine()}
    save_model(out, model, meta)
    write_json(out / "metrics.json", result.metrics())
    write_csv(out / "history.csv", result.history)
    if result.history:
        plots.save_figure(
            plots.curves_figure(result.history, x="step"), out / "figures" / "curves.png"
        )
    conv = first_kernels(model)
    per = bins_per_semitone_of(model)
    ylabel = "semitones (relative)" if per == 1 else f"bins, {per} a semitone (relative)"
    plots.save_figure(
        plots.kernels_figure(conv[:8], ylabel=ylabel), out / "figures" / "kernels.png"
    )
    write_report(out)
    return out


def run_generalisation(
    out, *, quick: bool = False, seed: int = 0, force: bool = False, progress=None
) -> Path:
    """Compute the generalisation matrix and write it with every model it trained.

    Writes ``generalisation.json`` (the matrix of
    :func:`chordscope.generalise.generalisation_matrix`, with versions and machine),
    ``figures/generalisation.png`` (the heat-map), ``report.html``, ``evalset/`` (the
    evaluation songs it scores) and ``models/<condition>/`` (one run folder per model) into
    ``out``, which must not exist or be empty unless ``force``. Built in a temporary folder
    (:func:`output_folder`): an interrupted run leaves nothing under ``out``.
    """
    out = Path(out)
    valid_non_negative_int("seed", seed)
    quick = bool(quick)
    with output_folder(out, force=force) as tmp:
        songs = tmp / "evalset"
        _phase(progress, "rendering the evaluation songs (FluidSynth)")
        write_evalset(songs, n_songs=GENERALISATION_SIZES["quick" if quick else "full"]["songs"])

        def train(condition, config):
            return train_recogniser(config, tmp / "models" / condition, force=True)

        result = generalisation_matrix(
            songs, train=train, quick=quick, seed=seed, progress=progress
        )
        _phase(progress, "writing the matrix, its figure and report")
        summary = result.pop("summary")
        result.update(versions=versions(), machine=machine(), summary=summary)
        write_json(tmp / "generalisation.json", result)
        figure = plots.generalisation_figure(
            np.asarray(result["accuracy"]), result["train"], result["test"]
        )
        plots.save_figure(figure, tmp / "figures" / "generalisation.png")
        write_generalisation_report(tmp)
    return out


def _safe_name(label: str) -> str:
    return label.replace("#", "s").replace(":", "_").replace("/", "_over_").replace("*", "no")


def write_synth(
    labels,
    *,
    out,
    synth: str = "additive",
    seed: int = 0,
    duration: float = 2.0,
    sr: int = SR,
    program: int = 0,
    soundfont: str = "fluidr3",
    random_voicing: bool = False,
    snr: float | None = None,
    noise: str = "white",
    reverb_rt60: float | None = None,
    sequence: bool = False,
    durations=None,
) -> list[Path]:
    """Render chord labels to WAV files a person can listen to.

    One WAV per label (``NN_<label>.wav``), or with ``sequence=True`` one ``sequence.wav`` of the
    labels one after another (``durations`` seconds each, default ``duration``) with a
    ``sequence.lab`` beside it. Every label, option and the SoundFont are checked before the
    first file is written. Clip ``i`` draws from its own stream of ``seed``.

    Returns
    -------
    list of Path  the files written.
    """
    labels = list(labels)
    if not labels:
        raise OutputError("no chord labels given")
    if synth not in SYNTHS:
        raise ParameterError(f"synth={synth!r} must be one of {', '.join(SYNTHS)}")
    for lab in labels:
        parse_label(lab)
    seed = valid_non_negative_int("seed", seed)
    if synth == "soundfont":
        soundfont_path(soundfont)
        render([], synth="soundfont", program=program, soundfont=soundfont, duration=0.01, sr=sr)
    if durations is None:
        durations = [duration] * len(labels)
    durations = [float(d) for d in durations]
    if len(durations) != len(labels) or not all(0.01 <= d <= 600 for d in durations):
        raise ParameterError(
            f"durations must be {len(labels)} numbers of seconds in 0.01..600, one per label "
            f"(duration={durations[0] if durations else duration!r})"
        )
    if isinstance(sr, bool) or not isinstance(sr, int) or not 1000 <= sr <= 192_000:
        raise ParameterError(f"sr={sr!r} must be a sample rate in 1000..192000 Hz")
    if sum(durations) * sr > 2 * 3600 * 48_000:
        raise ParameterError(f"{sum(durations):g} s at sr={sr} is too long (at most 2 h at 48 kHz)")
    if reverb_rt60 is not None and not 0 < reverb_rt60 <= 30:
        raise ParameterError(f"reverb={reverb_rt60!r} must be an RT60 in (0, 30] seconds")
    if snr is not None:
        add_noise(np.zeros(4) + 1, snr, kind=noise, rng=np.random.default_rng(0))  # checks
    children = np.random.SeedSequence(seed).spawn(len(labels))
    clips = []
    for lab, d, child in zip(labels, durations, children, strict=True):
        rng = np.random.default_rng(child)
        notes = voicing(lab, rng=rng if random_voicing else None)
        y = render(
            notes, synth=synth, duration=d, sr=sr, rng=rng, program=program, soundfont=soundfont
        )
        if reverb_rt60 is not None:
            y = reverb(y, sr=sr, rt60=reverb_rt60, rng=rng)
        if snr is not None:
            y = add_noise(y, snr, kind=noise, rng=rng)
        clips.append(y)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {out}: {exc.strerror or exc}") from None
    if sequence:
        y = np.concatenate(clips)
        ends = np.cumsum(durations)
        starts = np.concatenate([[0.0], ends[:-1]])
        return [
            write_wav(out / "sequence.wav", _peak(y), sr),
            write_lab(out / "sequence.lab", list(zip(starts, ends, strict=True)), labels),
        ]
    return [
        write_wav(out / f"{i:02d}_{_safe_name(lab)}.wav", _peak(y), sr)
        for i, (lab, y) in enumerate(zip(labels, clips, strict=True))
    ]


def _peak(y: np.ndarray, level: float = 0.9) -> np.ndarray:
    """Scale down to a peak of ``level`` if louder (WAV files clip at 1)."""
    m = np.abs(y).max()
    return y * (level / m) if m > level else y
