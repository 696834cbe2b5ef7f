import numpy as np
import pytest
import torch

from chordscope.errors import ParameterError
from chordscope.models import SeedCNN
from chordscope.tutorial import (
    _forward_backward,
    _patches,
    get_recipe,
    initial_weights,
    train_reference,
    train_tutorial,
)
from chordscope.tutorial_data import draw_batches, make_batch, streams


def test_hand_written_gradients_equal_autograd_on_full_batches(inputs, rng):
    """The fast path's loss and gradients over distinct inputs = autograd over 128 examples."""
    S = 3
    models = [SeedCNN() for _ in range(S)]
    batches = []
    for m in models:
        with torch.no_grad():
            m.conv.weight.copy_(torch.from_numpy(rng.normal(size=(4, 1, 5, 3)).astype(np.float32)))
    plans = [draw_batches(np.random.default_rng(s), 1) for s in range(S)]
    ref_loss, ref_gW, ref_gD = [], [], []
    for m, plan in zip(models, plans, strict=True):
        x, y = make_batch(inputs, plan, 0)
        batches.append((x, y))
        m.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        ref_loss.append(loss.item())
        ref_gW.append(m.conv.weight.grad.reshape(4, 15).clone())
        ref_gD.append(m.dense.weight.grad.clone())
    Pb = _patches(inputs.x.reshape(24, 36, 3), (5, 3))
    Pb = torch.from_numpy(np.ascontiguousarray(Pb.swapaxes(0, 1)).reshape(-1, 15))
    W = torch.stack([m.conv.weight.detach().reshape(4, 15) for m in models])
    D = torch.stack([m.dense.weight.detach() for m in models])
    counts = np.stack([np.bincount(p.roots[0], minlength=12) for p in plans])
    wts = torch.from_numpy(np.concatenate([counts, counts], 1) / 128.0).float()
    Pn = torch.from_numpy(np.stack([_patches(p.noise[0], (5, 3)) for p in plans]))
    onehot = torch.eye(2).repeat_interleave(12, dim=0)
    loss, acc, dW, dD = _forward_backward(W, D, Pb, Pb.t().contiguous(), Pn, wts, onehot)
    np.testing.assert_allclose(loss.numpy(), ref_loss, rtol=1e-5)
    torch.testing.assert_close(dW, torch.stack(ref_gW), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(dD, torch.stack(ref_gD), rtol=1e-4, atol=1e-6)
    for s, (x, y) in enumerate(batches):
        pred = models[s](torch.from_numpy(x)).argmax(-1).numpy()
        assert acc[s].item() == pytest.approx((pred == y).mean())


@pytest.mark.parametrize(
    "recipe",
    [
        get_recipe("seed", epochs=2, steps_per_epoch=40),
        get_recipe("robust", epochs=2, steps_per_epoch=40),
        get_recipe(
            "seed",
            optimizer="adam",
            lr=0.01,
            schedule="cosine",
            warmup=10,
            epochs=1,
            steps_per_epoch=60,
        ),
    ],
    ids=["seed", "robust", "adam-cosine"],
)
def test_fast_trainer_equals_the_straightforward_loop(inputs, recipe):
    fast = train_tutorial([5], recipe, inputs=inputs)
    ref = train_reference(5, recipe, inputs=inputs)
    np.testing.assert_allclose(fast.conv[0], ref.conv.weight.detach().numpy(), atol=2e-5)
    np.testing.assert_allclose(fast.dense[0], ref.dense.weight.detach().numpy(), atol=2e-5)
    assert not np.allclose(fast.conv[0], initial_weights(5, recipe)["conv.weight"])


def test_same_seed_same_weights_and_sweep_equals_single_runs(inputs):
    recipe = get_recipe("seed", epochs=2, steps_per_epoch=50)
    a = train_tutorial([3], recipe, inputs=inputs)
    b = train_tutorial([3], recipe, inputs=inputs)
    assert np.array_equal(a.conv, b.conv) and np.array_equal(a.dense, b.dense)
    sweep = train_tutorial([1, 3, 4], recipe, inputs=inputs)
    np.testing.assert_allclose(sweep.conv[1], a.conv[0], atol=1e-5)
    assert not np.allclose(sweep.conv[0], sweep.conv[1])


def test_robust_recipe_reaches_100_percent_on_a_handful_of_seeds(inputs):
    res = train_tutorial(list(range(100, 108)), "robust", inputs=inputs)
    assert res.test_accuracy.tolist() == [1.0] * 8
    assert all(res.steps_to_perfect(i) is not None for i in range(8))
    assert res.n_test == 2400


def test_history_and_checkpoints(inputs):
    res = train_tutorial(
        [0], get_recipe("seed", epochs=3, steps_per_epoch=20), inputs=inputs, eval_every=25
    )
    h = res.history[0]
    assert [e["epoch"] for e in h] == [1, 2, 3] and h[-1]["step"] == 60
    assert set(h[0]) == {
        "epoch",
        "step",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
    }
    assert res.checkpoints.tolist() == [25, 50, 60]
    assert res.test_curve[0, -1] == res.test_accuracy[0]


def test_initialisations():
    seed_w = initial_weights(0, get_recipe("seed"))
    rob_w = initial_weights(0, get_recipe("robust"))
    lim = np.sqrt(6 / (15 + 60))
    assert np.abs(seed_w["conv.weight"]).max() <= lim and seed_w["conv.weight"].min() < 0
    np.testing.assert_array_equal(rob_w["conv.weight"], np.abs(seed_w["conv.weight"]))
    assert not rob_w["dense.weight"].any() and np.abs(seed_w["dense.weight"]).max() <= 1.0


def test_keras_decay_and_cosine_schedules():
    r = get_recipe("seed")
    assert r.learning_rate(0) == 0.01
    assert r.learning_rate(2999) == pytest.approx(0.01 / (1 + 1e-6 * 2999))
    c = get_recipe("seed", schedule="cosine", warmup=10)
    assert c.learning_rate(0) == pytest.approx(0.001) and c.learning_rate(10) == pytest.approx(0.01)
    assert c.learning_rate(c.steps) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs=0"),
        ({"steps_per_epoch": -1}, "steps_per_epoch=-1"),
        ({"batch_size": 7}, "batch_size=7"),
        ({"optimizer": "rmsprop"}, "optimizer='rmsprop'"),
        ({"lr": 0.0}, "lr=0.0"),
    ],
)
def test_bad_recipes(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        get_recipe("seed", **kwargs)


def test_bad_seeds_and_recipe_name():
    with pytest.raises(ParameterError, match="recipe='fast'"):
        get_recipe("fast")
    with pytest.raises(ParameterError, match="seed=-1"):
        train_tutorial([-1], "seed")
    with pytest.raises(ParameterError, match="at least one seed"):
        train_tutorial([], "seed")


def test_streams_do_not_share_state():
    s = streams(0)
    assert s["train"] is not s["validation"]
