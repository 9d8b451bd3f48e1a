"""The tasks (lessons 00 and 05): the nine GLUE tasks plus the offline polarity task of the quick profile."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Task:
    name: str
    text_fields: tuple  # one field, or a sentence pair
    num_labels: int  # 1 means regression (STS-B)
    metrics: tuple  # the first is the headline metric
    eval_splits: tuple  # labelled splits that results are reported on
    source: str = "glue"  # "glue" (the Hub's nyu-mll/glue) or "polarity" (offline)

    @property
    def is_regression(self) -> bool:
        return self.num_labels == 1

    @property
    def headline_metric(self) -> str:
        return self.metrics[0]

    @property
    def eval_split(self) -> str:
        """The split lessons report on: `test` for polarity, `validation` (MNLI: `validation_matched`) on GLUE,
        whose test labels are hidden (-1)."""
        return self.eval_splits[0]


TASKS = {
    "cola": Task("cola", ("sentence",), 2, ("matthews_correlation",), ("validation",)),
    "sst2": Task("sst2", ("sentence",), 2, ("accuracy",), ("validation",)),
    "mrpc": Task("mrpc", ("sentence1", "sentence2"), 2, ("f1", "accuracy"), ("validation",)),
    "qqp": Task("qqp", ("question1", "question2"), 2, ("f1", "accuracy"), ("validation",)),
    "stsb": Task("stsb", ("sentence1", "sentence2"), 1, ("pearson", "spearmanr"), ("validation",)),
    "mnli": Task("mnli", ("premise", "hypothesis"), 3, ("accuracy",), ("validation_matched", "validation_mismatched")),
    "qnli": Task("qnli", ("question", "sentence"), 2, ("accuracy",), ("validation",)),
    "rte": Task("rte", ("sentence1", "sentence2"), 2, ("accuracy",), ("validation",)),
    "wnli": Task("wnli", ("sentence1", "sentence2"), 2, ("accuracy",), ("validation",)),
    "polarity": Task("polarity", ("sentence",), 2, ("accuracy",), ("test",), source="polarity"),
}

GLUE_TASKS = tuple(name for name, task in TASKS.items() if task.source == "glue")


def get_task(name: str | Task) -> Task:
    """The task of that name, or an error listing the known tasks; a `Task` is returned as it is, so a run
    resolves its task's name once and passes the object on."""
    if isinstance(name, Task):
        return name
    key = name.lower().replace("-", "") if isinstance(name, str) else name
    if key not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[key]


def on_validation(task: str | Task) -> Task:
    """The task scored on its validation split, where choices are made. The offline polarity task reports its
    test split, so this moves it; GLUE's reported split is already its validation split (the test labels are
    hidden), so there the two coincide."""
    task = get_task(task)
    return replace(task, eval_splits=("validation",)) if task.source == "polarity" else task
