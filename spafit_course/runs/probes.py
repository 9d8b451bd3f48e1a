"""Linear probes on every layer's representation (lesson 03, and lesson 06's forgetting measure).

`layer_features` runs a frozen encoder once over sentences and keeps, for every layer 0..L (0 is the embedding
output), the [CLS] vector and the mean of the token vectors; `probe_accuracy` fits a logistic regression on one
layer's features and scores it on held-out sentences.
"""

from __future__ import annotations

import numpy as np
import torch


@torch.no_grad()
def layer_features(model, tokenizer, sentences, max_length: int = 64, batch_size: int = 64, device=None):
    """[CLS] and mean-pooled vectors of every layer: two arrays of shape (layers + 1, sentences, hidden)."""
    device = device or next(model.parameters()).device
    model.eval()
    cls, mean = [], []
    for start in range(0, len(sentences), batch_size):
        batch = tokenizer(list(sentences[start:start + batch_size]), padding=True, truncation=True,
                          max_length=max_length, return_tensors="pt").to(device)
        states = model.base_model(**batch, output_hidden_states=True).hidden_states
        mask = batch["attention_mask"].unsqueeze(-1).float()
        cls.append(torch.stack([h[:, 0] for h in states]).cpu())
        mean.append(torch.stack([(h * mask).sum(1) / mask.sum(1) for h in states]).cpu())
    return torch.cat(cls, 1).numpy(), torch.cat(mean, 1).numpy()


def fitted_probe(train_x, train_y):
    """A standardised, L2-regularised (C = 0.1) logistic regression fitted on one layer's features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1)).fit(train_x, train_y)


def probe_accuracy(train_x, train_y, test_x, test_y) -> float:
    """Accuracy on held-out sentences of the probe (`fitted_probe`) fitted on one layer's features."""
    return float(fitted_probe(train_x, train_y).score(test_x, test_y))


def probe_scores(train_x, train_y, test_x, test_y) -> tuple[float, float]:
    """The probe's accuracy on the sentences it was fitted on and on held-out ones (lesson 03's control task)."""
    probe = fitted_probe(train_x, train_y)
    return float(probe.score(train_x, train_y)), float(probe.score(test_x, test_y))


def constant_rows(features: np.ndarray) -> bool:
    """True when every sentence has the same vector (the embedding layer's [CLS]): nothing for a probe to read."""
    return bool(np.allclose(features, features[:1], atol=1e-6))
