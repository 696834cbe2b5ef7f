import numpy as np

from chordscope.tutorial_data import draw_batches, make_batch, streams, test_noise, test_set


def test_inputs_are_24_normalised_cqts(inputs):
    assert inputs.x.shape == (2, 12, 36, 3)
    assert np.allclose(inputs.x.max(axis=(2, 3)), 1.0)
    assert inputs.x.min() >= 0
    # major dyads peak 4 bins above the root, minor 3: root k sits at bin 12 + k
    prof = inputs.x.mean(axis=-1)
    for k in range(12):
        assert prof[0, k, 12 + k + 4] > prof[0, k, 12 + k + 3]
        assert prof[1, k, 12 + k + 3] > prof[1, k, 12 + k + 4]


def test_batch_has_same_roots_in_both_halves_and_one_noise_pattern(inputs):
    plan = draw_batches(np.random.default_rng(1), 3)
    x, y = make_batch(inputs, plan, 2)
    assert x.shape == (128, 1, 36, 3) and y.tolist() == [0] * 64 + [1] * 64
    roots = plan.roots[2]
    clean = np.concatenate([inputs.x[0, roots], inputs.x[1, roots]])
    noise = x[:, 0] - clean
    np.testing.assert_allclose(noise, np.broadcast_to(noise[0], noise.shape), atol=1e-6)
    gain = np.abs(noise[0]).max()
    assert 0 < gain <= 0.1


def test_noise_gain_is_drawn_per_batch_up_to_a_tenth():
    plan = draw_batches(np.random.default_rng(2), 2000)
    peaks = np.abs(plan.noise).max(axis=(1, 2))
    assert peaks.max() <= 0.1 and peaks.min() < 0.01
    assert 0.04 < np.median(peaks) < 0.06  # gain ~ U(0, 0.1)


def test_streams_are_reproducible_and_independent():
    a, b = streams(7), streams(7)
    assert np.array_equal(a["train"].random(5), b["train"].random(5))
    c = streams(7)
    assert not np.array_equal(c["train"].random(5), c["validation"].random(5))
    assert not np.array_equal(streams(7)["train"].random(5), streams(8)["train"].random(5))


def test_test_set_is_fixed_and_exhaustive(inputs):
    x, y = test_set(inputs, n_patterns=5)
    assert x.shape == (120, 1, 36, 3) and np.bincount(y).tolist() == [60, 60]
    x2, _ = test_set(inputs, n_patterns=5)
    assert np.array_equal(x, x2)
    np.testing.assert_allclose(
        x[:24, 0] - inputs.x.reshape(24, 36, 3),
        np.broadcast_to(test_noise(5)[0], (24, 36, 3)),
        atol=1e-6,
    )
