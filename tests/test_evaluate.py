import numpy as np

from chordscope.evaluate import classification_scores, confusion_matrix
from chordscope.tutorial import get_recipe, train_tutorial
from chordscope.tutorial_data import test_set


def test_scores_of_the_module_equal_the_fast_trainers_test_scores(inputs):
    res = train_tutorial([2, 9], get_recipe("seed", epochs=1, steps_per_epoch=150), inputs=inputs)
    x, y = test_set(inputs)
    for i in range(2):
        s = classification_scores(res.model(i), x, y)
        assert s["n"] == res.n_test == 2400
        assert s["accuracy"] == res.test_accuracy[i]
        np.testing.assert_allclose(s["loss"], res.test_loss[i], rtol=1e-4)


def test_confusion_matrix():
    c = confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 2)
    assert c.tolist() == [[1, 1], [1, 2]]
