"""Scores of trained models on labelled examples.

Conventions
-----------
Scores are returned as dicts of named floats in a fixed order, ready for JSON (mir_eval's
``evaluate`` style). Predictions take the first class on ties, as ``argmax`` does.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["classification_scores", "confusion_matrix"]


@torch.no_grad()
def classification_scores(model, x: np.ndarray, y: np.ndarray, *, batch_size: int = 4096) -> dict:
    """Accuracy and mean cross-entropy of ``model`` on inputs ``x`` with class indices ``y``.

    Parameters
    ----------
    model : torch.nn.Module  returning logits
    x : np.ndarray [shape=(n, 1, n_bins, n_frames)]
    y : np.ndarray [shape=(n,)], int

    Returns
    -------
    scores : dict  ``{"accuracy": float, "loss": float, "n": int}``
    """
    model.eval()
    logits = torch.cat(
        [model(torch.as_tensor(x[i : i + batch_size])) for i in range(0, len(x), batch_size)]
    )
    target = torch.as_tensor(y)
    loss = torch.nn.functional.cross_entropy(logits, target).item()
    acc = (logits.argmax(-1) == target).double().mean().item()
    return {"accuracy": acc, "loss": loss, "n": int(len(y))}


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of class ``i`` predicted as ``j``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2)
    array([[1, 0],
           [1, 1]])
    """
    idx = np.asarray(y_true) * n_classes + np.asarray(y_pred)
    return np.bincount(idx, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
