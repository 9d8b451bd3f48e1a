"""Lesson 03's control task: the same probe on the same frozen features, with labels reassigned at random.

Hewitt & Liang (2019) judge a probe by its selectivity: its accuracy on the real task minus its accuracy on a
control task that only memorising can solve. Their tasks label words, and a control task gives each word type a
random label of its own. Here every sentence is its own item, so the control task gives each sentence a label
drawn at random, with the real labels' class balance (a permutation of them). What the probe fits of its training
sentences' random labels is what it can memorise; on held-out sentences, whose random labels it never saw, it can
only guess, so the real task's held-out accuracy above that guess is what the features carry, not memory.
"""

from __future__ import annotations

import numpy as np


def control_labels(labels, seed: int) -> np.ndarray:
    """The control task's labels: the real ones in a random order (the same class balance, no meaning)."""
    return np.random.default_rng(seed).permutation(np.asarray(labels))


def control_task_on_features(train_features, y_train, test_features, y_test, seed: int, reassignments: int = 3
                             ) -> dict:
    """Per layer of `train_features` / `test_features` (layers, sentences, hidden): the probe's accuracy on the
    real task and on `reassignments` control tasks, each on its training sentences and on held-out ones.

    Returns {"majority", "real_train", "real": [accuracy per layer], "control_train", "control": [[accuracy per
    reassignment] per layer]}; layer 0 is the embeddings.
    """
    from ..runs.probes import probe_scores

    if isinstance(reassignments, bool) or not isinstance(reassignments, int) or not 1 <= reassignments <= 20:
        raise ValueError(f"reassignments must be a whole number from 1 to 20, got {reassignments!r}")
    if len(train_features) != len(test_features):
        raise ValueError(f"train and test features must have the same layers, got {len(train_features)} and "
                         f"{len(test_features)}")
    shuffled = [(control_labels(y_train, seed + 1000 * r), control_labels(y_test, seed + 1000 * r + 1))
                for r in range(reassignments)]
    real = [probe_scores(a, y_train, b, y_test) for a, b in zip(train_features, test_features)]
    control = [[probe_scores(a, c_train, b, c_test) for c_train, c_test in shuffled]
               for a, b in zip(train_features, test_features)]
    return {"majority": float(np.bincount(np.asarray(y_test)).max() / len(y_test)),
            "real_train": [r[0] for r in real], "real": [r[1] for r in real],
            "control_train": [[c[0] for c in layer] for layer in control],
            "control": [[c[1] for c in layer] for layer in control]}


def control_task_text(result: dict) -> str:
    """One line per layer: the probe on the real task and on the control task (training and held-out sentences,
    the mean over reassignments) and the selectivity, real minus control on held-out sentences."""
    lines = [f"majority-class rate of the held-out sentences: {result['majority']:.3f}",
             f"control task: the mean over {len(result['control'][0])} random reassignments of the labels",
             "                 real task          control task       selectivity",
             "layer        train  held-out     train  held-out     (held-out)"]
    for k, (real_train, real, c_train, c) in enumerate(zip(result["real_train"], result["real"],
                                                          result["control_train"], result["control"])):
        name = "embeddings" if k == 0 else f"layer {k}"
        lines.append(f"{name:>10}   {real_train:6.3f}  {real:8.3f}    {np.mean(c_train):6.3f}  {np.mean(c):8.3f}"
                     f"     {real - np.mean(c):+.3f}")
    return "\n".join(lines)
