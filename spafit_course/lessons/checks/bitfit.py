"""Checks of lesson 01's practice: training chosen bias families, leaving the key biases out, and what "moved
most" measures under Adam and under plain gradient steps."""

from __future__ import annotations

import copy

import torch

from ...runs.models import tiny_model
from ...tuning.architectures import get_layers, resolve_targets
from ...tuning.freezing import freeze_all, unfreeze_head
from ..bitfit_runs import bias_change_by_family
from ..practice import logits, train_steps
from ...runs.overrides import is_number
from .answers import answer_check, single_threaded
from .models import check_values_kept, compare_names, compare_tensors, diagnose, snapshot, trainable_names
from .readings import Option, Reading, judge_choice
from .tools import CheckFailed, as_number, learner_check, safe_repr
from .values import number_of, require

# ---------------------------------------------------------------- exercise 1.1


def reference_train_only_biases(model, families):
    """Freeze everything, then train the biases of the named families (course names: query, key, value,
    attention_output, ffn_in, ffn_out) in every layer, and the task head."""
    freeze_all(model)
    paths = resolve_targets(model, tuple(families)) if families else {}
    for layer in get_layers(model):
        for path in paths.values():
            layer.get_submodule(path).bias.requires_grad_(True)
    unfreeze_head(model)
    return model


FAMILIES = ("query", "key", "value", "attention_output", "ffn_in", "ffn_out")
#: The family choices the check tries: each family on its own (so no two can be mixed up), the BitFit paper's
#: strong subset, all six, none.
FAMILY_CASES = [(family,) for family in FAMILIES] + [("query", "ffn_in"), FAMILIES, ()]


@learner_check("the named bias families of every layer and the head train, nothing else (BERT and DistilBERT)")
@single_threaded
def check_train_only_biases(train_fn):
    """Exercise 1.1: `train_fn(model, families)` trains exactly the named bias families and the head."""
    for family in ("bert", "distilbert"):
        # one model per family, everything trainable again before each case (as a fresh model): a case that
        # passes left every value and every module as it was, so the next case starts from the same model
        model, reference = (tiny_model(family, num_layers=2, hidden=16) for _ in range(2))
        before = snapshot(model)
        for families in FAMILY_CASES:
            train_fn(model.requires_grad_(True), list(families))
            expected = trainable_names(reference_train_only_biases(reference, families))
            label = f"{family}, families {list(families)}"
            compare_names(label, expected, trainable_names(model))
            check_values_kept(label, before, model, "choosing what trains changes no value: set requires_grad, "
                                                    "and leave the weights and biases as they are")


# ---------------------------------------------------------------- exercise 1.2


def tiny_batches(model, steps: int, seed: int = 0, batch: int = 4, length: int = 6) -> list[dict]:
    """Random training batches (input_ids, attention_mask, labels) for a tiny model: hidden inputs of the checks."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        ids = torch.randint(5, model.config.vocab_size, (batch, length), generator=generator)
        mask = torch.ones_like(ids)
        mask[0, length - 2:] = 0
        out.append({"input_ids": ids, "attention_mask": mask,
                    "labels": torch.randint(0, model.config.num_labels, (batch,), generator=generator)})
    return out


def reference_trained_logits(base, families, batches, lr, eval_batch):
    """Logits on `eval_batch` after `train_steps` on a copy of `base` with only these bias families (and the head)
    training; `base` itself is left as it was."""
    model = reference_train_only_biases(copy.deepcopy(base), families)
    train_steps(model, batches, lr)
    return logits(model, eval_batch)


@learner_check("a copy of base trains with only the named biases; the logits match the reference")
@single_threaded
def check_trained_logits(logits_fn):
    """Exercise 1.2: `logits_fn(base, families, batches, lr, eval_batch)` trains a copy of `base` with only the
    named biases and returns its logits on `eval_batch`."""
    base = tiny_model("bert", num_layers=2, hidden=16, seed=3)
    batches, (eval_batch,) = tiny_batches(base, 3), tiny_batches(base, 1, seed=9, batch=5)
    start = {n: p.detach().clone() for n, p in base.named_parameters()}
    for families in (("query", "ffn_in"), ("value", "ffn_out")):
        expected = reference_trained_logits(base, families, batches, 1e-2, eval_batch)
        got = logits_fn(base, list(families), batches, 1e-2, eval_batch)
        moved = [n for n, p in base.named_parameters() if not torch.equal(p.detach(), start[n])]
        if moved:
            raise CheckFailed(f"families {list(families)}: base after your function", "unchanged",
                              f"{len(moved)} tensors changed, e.g. {moved[0]}",
                              "train a copy (copy.deepcopy(base)): every run must start from the same model")
        every = reference_trained_logits(base, ("query", "key", "value", "attention_output", "ffn_in", "ffn_out"),
                                         batches, 1e-2, eval_batch)
        untrained = logits(base, eval_batch)
        causes = {"every bias trained: only the families passed in may train": every,
                  "nothing trained: run train_steps on the copy before reading its logits": untrained}
        compare_tensors(f"logits after training families {list(families)} for 3 steps at lr 1e-2", expected,
                        got, diagnose(got, causes) or "train the copy with practice.train_steps(model, batches, lr), "
                                                       "then read practice.logits(model, eval_batch)")


KEY_OPTIONS = {
    "a": Option("the same predictions, logits equal up to float rounding",
                "the key bias adds q·b_k to every score in a row of attention, and softmax ignores a shift shared "
                "by the whole row: whatever the key biases do, no output changes"),
    "b": Option("mostly the same, a few snippets change label",
                "the key biases cannot change any output at all: softmax ignores the shift q·b_k, which is the "
                "same for every key of a row, so the two runs compute the same function"),
    "c": Option("clearly different models, many labels change",
                "the key biases are one family in six and get no gradient (lesson 01): without them the other "
                "families train exactly as before"),
}


@answer_check
def check_key_bias_prediction(prediction):
    """Exercise 1.2: what leaving the key biases out of BitFit does to the trained model."""
    return judge_choice("BitFit with and without the key biases, same start and batches", prediction, KEY_OPTIONS,
                        "a")


# ---------------------------------------------------------------- exercise 1.3


def reference_bias_movement(base, batches, optimizer, lr):
    """How far each bias family moved (mean absolute change per value) when every bias and the head train on a
    copy of `base` with `optimizer` ("adam" or "sgd")."""
    families = ("query", "key", "value", "attention_output", "ffn_in", "ffn_out")
    model = reference_train_only_biases(copy.deepcopy(base), families)
    train_steps(model, batches, lr, optimizer)
    return bias_change_by_family(model, base)


@learner_check("each family's movement matches, under Adam and under plain gradient steps")
@single_threaded
def check_bias_movement(movement_fn):
    """Exercise 1.3: `movement_fn(base, batches, optimizer, lr)` trains every bias of a copy of `base` with the
    optimizer and returns each family's mean absolute change per value."""
    base = tiny_model("bert", num_layers=2, hidden=16, seed=4)
    batches = tiny_batches(base, 3, seed=2)
    start = snapshot(base)
    for optimizer, lr in (("adam", 1e-2), ("sgd", 0.5)):
        expected = reference_bias_movement(base, batches, optimizer, lr)
        got = movement_fn(base, batches, optimizer, lr)
        check_values_kept(f"{optimizer}: base", start, base, "train a copy (copy.deepcopy(base)) and compare it "
                                                             "with base: a trained base has nothing left to compare")
        if not isinstance(got, dict) or set(got) != set(expected):
            raise CheckFailed(f"{optimizer}: one number per bias family", sorted(expected),
                              sorted(got) if isinstance(got, dict) else f"a {type(got).__name__}: "
                                                                         f"{safe_repr(got)[:80]}",
                              "return bias_change_by_family(trained copy, base)")
        got = {f: as_number(v) for f, v in got.items()}
        if not all(is_number(v) for v in got.values()):
            raise CheckFailed(f"{optimizer}: one number per bias family", "numbers", safe_repr(got)[:80])
        wrong = [f for f in expected if abs(float(got[f]) - expected[f]) > 1e-6 + 1e-4 * expected[f]]
        if wrong:
            other = reference_bias_movement(base, batches, "sgd" if optimizer == "adam" else "adam", lr)
            hint = ("the optimizer passed in was not used (train_steps(model, batches, lr, optimizer))"
                    if all(abs(float(got[f]) - other[f]) <= 1e-6 + 1e-4 * other[f] for f in other) else
                    "train every bias family of a copy of base, then compare it with base itself")
            raise CheckFailed(f"{optimizer} at lr {lr}: movement of {', '.join(wrong)}",
                              {f: f"{expected[f]:.3g}" for f in wrong}, {f: f"{float(got[f]):.3g}" for f in wrong},
                              hint)


def spread(movement: dict) -> float:
    """Largest over smallest movement among the families that can learn (the key biases left out)."""
    values = [v for family, v in movement.items() if family != "key"]
    return max(values) / min(values)


def movement_of(values, what: str) -> dict:
    """One finite, non-negative movement per bias family, every family but the key moved; or a FAIL."""
    from ..bitfit_runs import BIAS_FAMILIES

    families = list(BIAS_FAMILIES.values())
    if not isinstance(values, dict) or set(values) != set(families):
        raise CheckFailed(f"{what}: one number per bias family", families,
                          sorted(values, key=str) if isinstance(values, dict) else safe_repr(values)[:80],
                          "pass what bias_movement returned (bias_change_by_family's dict)")
    movement = {f: number_of(v, f"{what}: the movement of {f}", low=0.0) for f, v in values.items()}
    if any(v == 0 for f, v in movement.items() if f != "key"):
        raise CheckFailed(f"{what}: every family but the key biases moved", "positive movements",
                          {f: v for f, v in movement.items() if v == 0}, "the run did not train: check bias_movement")
    return movement


MOVEMENT_OPTIONS = {
    "a": Option("under Adam the families move by similar amounts whatever their gradients, so 'moved most' does "
                "not say which family matters",
                "Adam divides every step by the running size of that parameter's own gradient, so a parameter "
                "with a small but steady gradient moves as far as one with a large gradient"),
    "b": Option("the family that moved most matters most: movement ranks the families by importance",
                "movement depends on the optimizer: the same start and batches rank the families differently "
                "under Adam and under plain gradient steps, so it cannot be a property of the families alone"),
    "c": Option("both optimizers move the families alike: the ranking is a property of the model",
                "compare the two spreads: the optimizers do not move the families alike"),
}


MOVEMENT = Reading("what 'moved most' measures", MOVEMENT_OPTIONS,
                   lambda adam, sgd: "a" if adam < sgd else "c",
                   "spread (largest / smallest, key left out): Adam {adam:.1f}x, gradient steps {sgd:.1f}x")


@answer_check(reading=MOVEMENT)
def check_movement_reading(reading, adam, sgd):
    """Exercise 1.3: what the movement under Adam and under gradient steps says about lesson 01's bar chart."""
    adam = movement_of(require(adam, "Adam movement"), "the Adam run's movement")
    sgd = movement_of(require(sgd, "gradient-step movement"), "the gradient steps' movement")
    if adam == sgd:
        raise CheckFailed("two runs' movements", "the Adam run's and the gradient steps' movements",
                          "the same movement twice", "pass movement['adam'] and movement['sgd'], each once")
    return MOVEMENT.judge(reading, adam=round(spread(adam), 1), sgd=round(spread(sgd), 1))
