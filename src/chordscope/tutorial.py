"""Training recipes for the tutorial's network, one seed or many at once.

Conventions
-----------
- A :class:`Recipe` is everything that decides training besides the seed: initialisation,
  optimiser, learning-rate schedule, epochs, steps and batch sizes. ``seed`` is the tutorial's
  recipe; ``robust`` is the default (see ``docs/robust.md`` for why it is what it is).
- :func:`train_tutorial` trains any number of seeds of :class:`~chordscope.models.SeedCNN` as
  one batched model. Each seed draws its own data and initial weights from streams derived from
  its seed (:func:`chordscope.tutorial_data.streams`), so seed ``k`` gives the same result
  whether it is trained alone or in a sweep of a hundred.
- It is fast because it uses two facts of the tutorial's data: a batch holds at most 24
  different clean inputs (12 roots × maj/min) plus ONE shared noise pattern, and the mean loss
  of 128 examples equals the count-weighted mean over those distinct inputs. The forward pass
  and its gradient are written out by hand over the distinct inputs; ``tests/test_train.py``
  checks them against autograd on the ``nn.Module`` and against :func:`train_reference`, the
  straightforward per-step loop that builds each batch of 128 as the tutorial does.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .errors import ParameterError, valid_choice, valid_non_negative_int, valid_positive_int
from .models import SeedCNN, glorot_limit
from .threads import choose_threads, using_threads
from .tutorial_data import BatchPlan, TutorialInputs, draw_batches, make_batch, streams, test_noise
from .tutorial_data import tutorial_inputs as _tutorial_inputs

__all__ = [
    "Recipe",
    "RECIPES",
    "get_recipe",
    "TrainResult",
    "train_tutorial",
    "train_reference",
    "initial_weights",
]


@dataclass(frozen=True)
class Recipe:
    """How to train the tutorial's network. Defaults are the tutorial's (recipe ``seed``)."""

    name: str = "seed"
    init: str = "glorot"  # conv kernels: 'glorot' (Keras default) or 'glorot_positive' (|Glorot|)
    dense_init: str = "glorot"  # dense weights: 'glorot' (Keras default) or 'zeros'
    conv_lr_scale: float = 1.0  # learning rate of the kernels relative to the dense layer
    optimizer: str = "sgd"  # 'sgd' (Keras SGD) or 'adam'
    lr: float = 0.01  # base learning rate
    momentum: float = 0.9  # SGD momentum
    nesterov: bool = True  # Nesterov momentum, Keras' formulation
    decay: float = 1e-6  # Keras time decay: lr_t = lr / (1 + decay * t)
    schedule: str = "keras"  # 'keras' (time decay above) or 'cosine' (to 0 at the last step)
    warmup: int = 0  # steps of linear warm-up before the schedule
    epochs: int = 15
    steps_per_epoch: int = 200
    batch_size: int = 128  # examples per step: batch_size // 2 roots, as maj and as min
    val_steps: int = 4  # validation batches per epoch
    betas: tuple[float, float] = (0.9, 0.999)  # Adam
    eps: float = 1e-7  # Adam (Keras' epsilon)

    def __post_init__(self):
        valid_choice("init", self.init, ("glorot", "glorot_positive"))
        valid_choice("dense_init", self.dense_init, ("glorot", "zeros"))
        valid_choice("optimizer", self.optimizer, ("sgd", "adam"))
        valid_choice("schedule", self.schedule, ("keras", "cosine"))
        for name in ("epochs", "steps_per_epoch", "val_steps"):
            valid_positive_int(name, getattr(self, name))
        valid_non_negative_int("warmup", self.warmup)
        if valid_positive_int("batch_size", self.batch_size) % 2:
            raise ParameterError(
                f"batch_size={self.batch_size!r} must be even (half maj, half min)"
            )
        if not self.lr > 0:
            raise ParameterError(f"lr={self.lr!r} must be positive")

    @property
    def steps(self) -> int:
        """Total number of training steps."""
        return self.epochs * self.steps_per_epoch

    def learning_rate(self, t: int) -> float:
        """Learning rate of step ``t`` (0-based)."""
        if t < self.warmup:
            return self.lr * (t + 1) / self.warmup
        if self.schedule == "keras":
            return self.lr / (1.0 + self.decay * t)
        span = max(1, self.steps - self.warmup)
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * (t - self.warmup) / span))

    def to_json(self) -> dict:
        """JSON-ready dict of every field."""
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d


RECIPES = {
    "seed": Recipe(),
    # The tutorial's optimiser and schedule, two changes to the initialisation (docs/robust.md):
    # non-negative kernels start alive on the non-negative inputs, and a zero dense layer lets
    # the kernels move only once the dense layer has learnt which class each one votes for.
    "robust": Recipe(name="robust", init="glorot_positive", dense_init="zeros"),
}


def get_recipe(name: str, **overrides) -> Recipe:
    """Return the recipe called ``name``, with fields replaced by ``overrides``.

    Examples
    --------
    >>> get_recipe("seed", epochs=2).steps
    400
    """
    valid_choice("recipe", name, RECIPES)
    return replace(RECIPES[name], **overrides) if overrides else RECIPES[name]


def initial_weights(seed: int, recipe: Recipe, model: SeedCNN | None = None) -> dict:
    """Draw the initial weights of seed ``seed`` under ``recipe`` from the seed's ``init`` stream.

    Returns
    -------
    weights : dict
        ``{"conv.weight": (K, 1, kh, kw), "dense.weight": (C, K)}`` float32 arrays.
    """
    model = model or SeedCNN()
    rng = streams(seed)["init"]
    out = {}
    for name, p in model.named_parameters():
        limit = glorot_limit(p.shape)
        w = rng.uniform(-limit, limit, size=tuple(p.shape))
        if name == "conv.weight" and recipe.init == "glorot_positive":
            w = np.abs(w)
        if name == "dense.weight" and recipe.dense_init == "zeros":
            w = np.zeros_like(w)
        out[name] = w.astype(np.float32)
    return out


# ----------------------------------------------------------------------------------------------
# optimisers, written elementwise so they serve one seed or a stack of seeds


def _sgd_keras(p, g, state, lr, recipe):
    """Keras SGD: v = m v - lr g; p += m v - lr g (Nesterov) or p += v."""
    v = state.setdefault("v", torch.zeros_like(p))
    v.mul_(recipe.momentum).sub_(lr * g)
    if recipe.nesterov:
        p.add_(recipe.momentum * v - lr * g)
    else:
        p.add_(v)


def _adam(p, g, state, lr, recipe):
    """Adam with bias correction (Kingma & Ba), epsilon outside the square root."""
    b1, b2 = recipe.betas
    m = state.setdefault("m", torch.zeros_like(p))
    v = state.setdefault("v", torch.zeros_like(p))
    t = state["t"] = state.get("t", 0) + 1
    m.mul_(b1).add_(g, alpha=1 - b1)
    v.mul_(b2).addcmul_(g, g, value=1 - b2)
    step = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
    p.sub_(step * m / (v.sqrt() + recipe.eps))


_OPTIMIZERS = {"sgd": _sgd_keras, "adam": _adam}


# ----------------------------------------------------------------------------------------------
# the batched fast path


def _patches(x: np.ndarray, kernel_size) -> np.ndarray:
    """All kernel-sized windows of ``x[..., H, W]`` as ``[..., positions, kh * kw]``."""
    kh, kw = kernel_size
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(-2, -1))
    return np.ascontiguousarray(win.reshape(*x.shape[:-2], -1, kh * kw))


def _forward_backward(W, D, Pb, PbT, Pn, wts, onehot, want_grad=True):
    """Loss, accuracy and gradients of S models on the distinct inputs of one batch each.

    Parameters
    ----------
    W : (S, K, F) kernels, flattened (F = kh * kw). D : (S, C, K) dense weights.
    Pb : (P * U, F) and PbT : (F, P * U), patches of the U distinct clean inputs, position-major.
    Pn : (S, P, F) patches of each model's noise pattern (shared by its whole batch).
    wts : (S, U) weight of each distinct input in the batch mean (rows sum to 1).
    onehot : (U, C) class of each distinct input.

    Returns loss (S,), accuracy (S,) and, if ``want_grad``, dL/dW and dL/dD.

    The feature maps are laid out (P, U, S, K), position first, so that the global max pooling
    is a fast reduction over the first axis.
    """
    S, K, F = W.shape
    U, C = onehot.shape
    P = Pn.shape[1]
    clean = (Pb @ W.reshape(S * K, F).t()).view(P, U, S, K)  # one product for every seed
    noise = torch.bmm(Pn, W.transpose(1, 2)).transpose(0, 1).contiguous()  # (P, S, K)
    M = clean + noise[:, None]  # (P, U, S, K) feature maps
    h = M.amax(dim=0)  # (U, S, K) global max pooling
    r = torch.relu(h).transpose(0, 1)  # (S, U, K)
    z = torch.bmm(r, D.transpose(1, 2))  # (S, U, C) logits
    logp = torch.log_softmax(z, dim=-1)
    loss = -(wts * (logp * onehot).sum(-1)).sum(-1)
    acc = (wts * onehot.argmax(-1).eq(z.argmax(-1))).sum(-1)  # ties go to the first class
    if not want_grad:
        return loss, acc, None, None
    dz = wts[..., None] * (logp.exp() - onehot)  # (S, U, C)
    dD = torch.bmm(dz.transpose(1, 2), r)  # (S, C, K)
    dh = (torch.bmm(dz, D) * (r > 0)).transpose(0, 1)  # (U, S, K)
    dM = torch.eq(M, h, out=torch.empty_like(M)).mul_(dh)  # the gradient reaches the arg-max only
    dW = (PbT @ dM.view(P * U, S * K)).view(F, S, K).permute(1, 2, 0)
    dW = dW + torch.bmm(dM.sum(1).permute(1, 2, 0), Pn)
    return loss, acc, dW, dD


def _evaluate(W, D, Pb, noise_patches, onehot, max_elements=4_000_000):
    """Mean loss and accuracy of S models on every clean input under every noise pattern.

    ``noise_patches`` is ``(T, P, F)``; patterns are scored in chunks that keep the feature
    maps below ``max_elements`` floats.
    """
    S, K, F = W.shape
    U, C = onehot.shape
    T, P, _ = noise_patches.shape
    clean = (Pb @ W.reshape(S * K, F).t()).view(P, 1, U, S, K)
    loss = torch.zeros(S, dtype=torch.float64)
    n_correct = torch.zeros(S, dtype=torch.int64)
    step = max(1, max_elements // (S * U * P * K))
    for i in range(0, T, step):
        noise = torch.einsum("tpf,skf->ptsk", noise_patches[i : i + step], W)[:, :, None]
        r = torch.relu((clean + noise).amax(dim=0))  # (t, U, S, K)
        z = torch.einsum("tusk,sck->tusc", r, D)
        logp = torch.log_softmax(z, dim=-1)
        loss -= torch.einsum("tusc,uc->s", logp, onehot)
        n_correct += onehot.argmax(-1)[:, None].eq(z.argmax(-1)).sum(dim=(0, 1))
    return loss / (T * U), n_correct.double() / (T * U)


@dataclass
class TrainResult:
    """What :func:`train_tutorial` returns, for S seeds.

    Attributes
    ----------
    conv : np.ndarray [shape=(S, K, 1, kh, kw)]  final kernels, in ``nn.Conv2d`` layout.
    dense : np.ndarray [shape=(S, C, K)]  final dense weights, in ``nn.Linear`` layout.
    history : list of list of dict  per seed, per epoch: train/validation loss and accuracy.
    test_accuracy, test_loss : np.ndarray [shape=(S,)]  on the fixed test set.
    checkpoints : np.ndarray  steps at which the test set was scored.
    test_curve : np.ndarray [shape=(S, n_checkpoints)]  test accuracy at each checkpoint.
    """

    recipe: Recipe
    seeds: list[int]
    conv: np.ndarray
    dense: np.ndarray
    history: list[list[dict]]
    test_accuracy: np.ndarray
    test_loss: np.ndarray
    checkpoints: np.ndarray
    test_curve: np.ndarray
    train_seconds: float
    n_test: int
    extra: dict = field(default_factory=dict)

    def steps_to_perfect(self, i: int) -> int | None:
        """First checkpoint from which seed ``i`` stays at test accuracy 1.0 (None: never)."""
        ok = self.test_curve[i] >= 1.0
        if not ok[-1]:
            return None
        bad = np.flatnonzero(~ok)
        return int(self.checkpoints[bad[-1] + 1] if len(bad) else self.checkpoints[0])

    def model(self, i: int = 0) -> SeedCNN:
        """Seed ``i``'s trained network as an ``nn.Module``."""
        K, _, kh, kw = self.conv.shape[1:]
        model = SeedCNN(n_kernels=K, kernel_size=(kh, kw), n_classes=self.dense.shape[1])
        model.load_state_dict(
            {
                "conv.weight": torch.from_numpy(self.conv[i]),
                "dense.weight": torch.from_numpy(self.dense[i]),
            }
        )
        return model


def train_tutorial(
    seeds,
    recipe: Recipe | str = "robust",
    *,
    inputs: TutorialInputs | None = None,
    eval_every: int = 100,
    n_test_patterns: int = 100,
    progress=None,
    threads: int | None = None,
) -> TrainResult:
    """Train one tutorial network per seed, all seeds as one batched model.

    Parameters
    ----------
    seeds : int or sequence of int
        One seed per network; each is trained exactly as it would be alone.
    recipe : Recipe or str
    inputs : TutorialInputs, optional
        The clean inputs (default: :func:`chordscope.tutorial_data.tutorial_inputs`).
    eval_every : int
        Score the fixed test set every ``eval_every`` steps (and after the last step).
    n_test_patterns : int
        Noise patterns of the test set; it holds ``24 * n_test_patterns`` examples.
    progress : callable, optional
        Called as ``progress(steps, loss=..., val_accuracy=...)`` after each epoch (the means
        over the seeds).
    threads : int, optional
        Torch threads (default: one, see :mod:`chordscope.threads`; the environment wins).

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> res = train_tutorial([0, 1], "seed", eval_every=200)
    >>> res.conv.shape, res.test_accuracy.shape
    ((2, 4, 1, 5, 3), (2,))
    """
    work = "sweep" if np.size(seeds) > 1 else "tutorial"
    with using_threads(choose_threads(work, threads)), torch.inference_mode():
        return _train(seeds, recipe, inputs, eval_every, n_test_patterns, progress)


def _train(seeds, recipe, inputs, eval_every, n_test_patterns, progress) -> TrainResult:
    t0 = time.perf_counter()
    seeds = [valid_non_negative_int("seed", s) for s in np.atleast_1d(seeds).tolist()]
    if not seeds:
        raise ParameterError("seeds must hold at least one seed")
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    eval_every = valid_positive_int("eval_every", eval_every)
    inputs = inputs or _tutorial_inputs()
    model0 = SeedCNN(input_shape=inputs.shape)
    ks = tuple(model0.architecture["kernel_size"])
    C, R = inputs.x.shape[:2]
    S = len(seeds)

    Pb = _patches(inputs.x.reshape(C * R, *inputs.shape), ks)  # (U, P, F)
    Pb = torch.from_numpy(np.ascontiguousarray(Pb.swapaxes(0, 1)).reshape(-1, Pb.shape[-1]))
    PbT = Pb.t().contiguous()
    onehot = torch.eye(C).repeat_interleave(R, dim=0)  # (U, C)
    init = [initial_weights(s, recipe, model0) for s in seeds]
    W = torch.from_numpy(
        np.stack([w["conv.weight"].reshape(len(w["conv.weight"]), -1) for w in init])
    )
    D = torch.from_numpy(np.stack([w["dense.weight"] for w in init]))
    W, D = W.contiguous(), D.contiguous()
    rngs = [streams(s) for s in seeds]
    test_P = torch.from_numpy(_patches(test_noise(n_test_patterns, shape=inputs.shape), ks))
    update = _OPTIMIZERS[recipe.optimizer]
    state_W, state_D = {}, {}

    def plan_tensors(kind, n):
        plans = [
            draw_batches(r[kind], n, batch_size=recipe.batch_size, shape=inputs.shape) for r in rngs
        ]
        counts = np.stack([_root_counts(p, R) for p in plans])  # (S, n, R)
        wts = np.concatenate([counts] * C, axis=-1) / (C * counts.sum(-1, keepdims=True))
        Pn = _patches(np.stack([p.noise for p in plans]), ks)  # (S, n, P, F)
        return torch.from_numpy(wts.astype(np.float32)), torch.from_numpy(Pn)

    history = [[] for _ in seeds]
    checkpoints, curve = [], []
    test_loss = test_acc = None
    t = 0
    for epoch in range(recipe.epochs):
        wts_all, Pn_all = plan_tensors("train", recipe.steps_per_epoch)
        sum_loss = torch.zeros(S)
        sum_acc = torch.zeros(S)
        for i in range(recipe.steps_per_epoch):
            loss, acc, dW, dD = _forward_backward(
                W, D, Pb, PbT, Pn_all[:, i], wts_all[:, i], onehot
            )
            sum_loss += loss
            sum_acc += acc
            lr = recipe.learning_rate(t)
            update(W, dW, state_W, lr * recipe.conv_lr_scale, recipe)
            update(D, dD, state_D, lr, recipe)
            t += 1
            if t % eval_every == 0 or t == recipe.steps:
                test_loss, test_acc = _evaluate(W, D, Pb, test_P, onehot)
                checkpoints.append(t)
                curve.append(test_acc.clone())
        wts_v, Pn_v = plan_tensors("validation", recipe.val_steps)
        val_loss = torch.zeros(S)
        val_acc = torch.zeros(S)
        for i in range(recipe.val_steps):
            lo, ac, _, _ = _forward_backward(W, D, Pb, PbT, Pn_v[:, i], wts_v[:, i], onehot, False)
            val_loss += lo / recipe.val_steps
            val_acc += ac / recipe.val_steps
        n = recipe.steps_per_epoch
        for s in range(S):
            history[s].append(
                {
                    "epoch": epoch + 1,
                    "step": t,
                    "train_loss": float(sum_loss[s] / n),
                    "train_accuracy": float(sum_acc[s] / n),
                    "val_loss": float(val_loss[s]),
                    "val_accuracy": float(val_acc[s]),
                }
            )
        if progress is not None:  # the mean over the seeds
            progress(
                recipe.steps_per_epoch,
                loss=float(sum_loss.mean() / n),
                val_accuracy=float(val_acc.mean()),
            )

    conv = W.reshape(S, W.shape[1], 1, *ks).numpy().copy()
    return TrainResult(
        recipe=recipe,
        seeds=seeds,
        conv=conv,
        dense=D.numpy().copy(),
        history=history,
        test_accuracy=test_acc.numpy().astype(float),
        test_loss=test_loss.numpy().astype(float),
        checkpoints=np.array(checkpoints),
        test_curve=torch.stack(curve, dim=1).numpy().astype(float),
        train_seconds=time.perf_counter() - t0,
        n_test=int(C * R * len(test_P)),
    )


def _root_counts(plan: BatchPlan, n_roots: int) -> np.ndarray:
    """How many times each root occurs in each batch of ``plan``: ``(n_batches, n_roots)``."""
    n = len(plan)
    offsets = (np.arange(n) * n_roots)[:, None]
    return np.bincount((plan.roots + offsets).ravel(), minlength=n * n_roots).reshape(n, n_roots)


# ----------------------------------------------------------------------------------------------
# the straightforward reference


def train_reference(seed: int, recipe: Recipe | str = "seed", *, inputs=None, steps=None):
    """Train one seed step by step on full batches of 128, with autograd: the slow baseline.

    Each batch is built example by example from the same random streams as
    :func:`train_tutorial`, so both give the same weights up to rounding. Used by the tests and
    by ``benchmarks/bench_train.py``; returns the trained :class:`SeedCNN`.
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    inputs = inputs or _tutorial_inputs()
    steps = recipe.steps if steps is None else steps
    model = SeedCNN(input_shape=inputs.shape)
    with torch.no_grad():
        for name, w in initial_weights(seed, recipe, model).items():
            model.get_parameter(name).copy_(torch.from_numpy(w))
    rng = streams(seed)["train"]
    states = {name: {} for name, _ in model.named_parameters()}
    update = _OPTIMIZERS[recipe.optimizer]
    t = 0
    for _epoch in range(recipe.epochs):
        plan = draw_batches(
            rng, recipe.steps_per_epoch, batch_size=recipe.batch_size, shape=inputs.shape
        )
        for i in range(recipe.steps_per_epoch):
            if t == steps:
                return model
            x, y = make_batch(inputs, plan, i)
            loss = torch.nn.functional.cross_entropy(
                model(torch.from_numpy(x)), torch.from_numpy(y)
            )
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                lr = recipe.learning_rate(t)
                for name, p in model.named_parameters():
                    scale = recipe.conv_lr_scale if name.startswith("conv") else 1.0
                    update(p, p.grad, states[name], lr * scale, recipe)
            t += 1
    return model
