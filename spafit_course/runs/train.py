"""Fine-tune and evaluate a prepared model (lessons 01-05) with `transformers.Trainer`.

Lesson 00 writes the training loop by hand once; from lesson 01 on this function does it. Because it is the
Trainer, `torchrun --nproc_per_node N` or `accelerate launch` runs the same code on several devices, and on a
GPU it trains in bf16 where the GPU runs it natively, else fp16 (see `native_bf16`).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field

import psutil
import torch
from transformers import (DataCollatorWithPadding, PrinterCallback, ProgressCallback, Trainer, TrainerCallback,
                          TrainingArguments)

from .metrics import task_metrics
from ..tuning.params import count_parameters
from .tasks import get_task


@dataclass
class TrainResult:
    metrics: dict  # {eval split: {metric: value}}
    trainable: int
    total: int
    train_seconds: float
    median_step_seconds: float
    steps: int
    peak_memory_mb: float
    device: str
    extra: dict = field(default_factory=dict)
    #: {"loss": [[step, training loss]], "watch": [[step, loss, headline metric]] on the watched split}
    history: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def synchronize() -> None:
    """Wait for queued GPU work: CUDA runs asynchronously, so a timer read without this misses the step."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def release_device_memory(model=None) -> None:
    """Move `model` (if given) off the GPU and return the freed memory, so the next run's peak is its own."""
    if not torch.cuda.is_available():
        return
    if model is not None:
        model.to("cpu")
    gc.collect()  # the Trainer and its optimizer state sit in reference cycles
    torch.cuda.empty_cache()


class StepClock(TrainerCallback):
    """Times each optimizer step (forward, backward, update) and samples peak memory."""

    def __init__(self):
        self.step_seconds: list[float] = []
        self.peak_rss = 0
        self._start = None

    def on_step_begin(self, args, state, control, **kwargs):
        synchronize()
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self._start is not None:
            synchronize()
            self.step_seconds.append(time.perf_counter() - self._start)
        self.peak_rss = max(self.peak_rss, psutil.Process().memory_info().rss)


class History(TrainerCallback):
    """The training loss at every logging step, and the watched split's loss and metric at every evaluation:
    what a learner plots to see whether a run has flattened (lessons 01-06)."""

    def __init__(self, metric: str):
        self.metric = f"eval_{metric}"
        self.loss: list[list[float]] = []
        self.watch: list[list[float]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:
            self.loss.append([state.global_step, round(float(logs["loss"]), 5)])
        if self.metric in logs:
            self.watch.append([state.global_step, round(float(logs["eval_loss"]), 5),
                               round(float(logs[self.metric]), 5)])


class WatchWithoutChanging(TrainerCallback):
    """Scoring the watched split while training must not change the run: every DataLoader draws its seed from
    torch's global random state, which the dropout masks of later steps also draw from. The state at the end of
    each step is put back after the evaluation that follows it."""

    def __init__(self):
        self._state = None

    def on_step_end(self, args, state, control, **kwargs):
        self._state = (torch.random.get_rng_state(),
                       torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)

    def on_evaluate(self, args, state, control, **kwargs):
        if self._state is not None:
            torch.random.set_rng_state(self._state[0])
            if self._state[1] is not None:
                torch.cuda.set_rng_state_all(self._state[1])


class BarsOnly(ProgressCallback):
    """The console progress bars, without the dict of logs printed under them."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        pass


def native_bf16(capability: tuple[int, int]) -> bool:
    """bf16 runs in hardware from compute capability 8.0 (Ampere: A100, L4, H100) up. A T4 (7.5), Colab's free
    GPU, reports bf16 as supported through emulation, which is slower than fp16 there."""
    return tuple(capability) >= (8, 0)


def device_flags() -> dict:
    """fp16 or bf16 on a GPU (see native_bf16); on a CPU-only machine, say so, so torchrun joins over gloo."""
    if torch.cuda.is_available():
        return {"bf16": True} if native_bf16(torch.cuda.get_device_capability()) else {"fp16": True}
    if torch.backends.mps.is_available():
        return {}
    launched = int(os.environ.get("WORLD_SIZE", "1")) > 1  # by torchrun or accelerate launch
    return {"use_cpu": True, "ddp_backend": "gloo"} if launched else {"use_cpu": True}


def length_grouping() -> dict:
    """Batch sentences of similar length together: far less padding, so faster steps on short snippets."""
    if "train_sampling_strategy" in TrainingArguments.__dataclass_fields__:  # transformers 5
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True}


def train_and_evaluate(model, tokenizer, task_name, train_dataset, eval_datasets: dict,
                       learning_rate: float, epochs: float = 1, batch_size: int = 32, seed: int = 42,
                       warmup_ratio: float = 0.06, progress: bool = True, output_dir: str | None = None,
                       watch=None, watch_points: int = 0) -> TrainResult:
    """Train `model` (already prepared by a method) on `train_dataset`, then score every eval split.

    Returns the task's metrics per split, trainable and total parameters, wall time, the median step time,
    peak memory (GPU: `torch.cuda.max_memory_allocated`; CPU: the process's peak resident memory, sampled
    after every step) and the history: the training loss against steps (about 100 points at most) and, when
    `watch` (a tokenised split, e.g. validation) and `watch_points` are given, its loss and headline metric at
    that many evenly spaced steps, the last one included.
    """
    task = get_task(task_name)
    counts = count_parameters(model)
    steps_per_epoch = math.ceil(len(train_dataset) / batch_size)
    total_steps = math.ceil(steps_per_epoch * epochs)
    watching = watch is not None and watch_points > 0
    args = TrainingArguments(
        output_dir=output_dir or tempfile.mkdtemp(prefix="spafit-"),
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=2 * batch_size,
        num_train_epochs=epochs,
        learning_rate=learning_rate,
        warmup_steps=int(warmup_ratio * steps_per_epoch * epochs),
        weight_decay=0.0,
        seed=seed,
        data_seed=seed,
        eval_strategy="steps" if watching else "no",
        eval_steps=max(1, math.ceil(total_steps / watch_points)) if watching else None,
        save_strategy="no",
        logging_strategy="steps",
        logging_steps=max(1, total_steps // 100),
        logging_first_step=True,
        report_to="none",
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        ddp_find_unused_parameters=False,
        **length_grouping(),
        **device_flags(),
    )
    clock, history = StepClock(), History(task.headline_metric)

    def watched_metrics(prediction):
        return task_metrics(task, prediction.predictions, prediction.label_ids)

    trainer = Trainer(model=model, args=args, train_dataset=train_dataset, eval_dataset=watch if watching else None,
                      compute_metrics=watched_metrics if watching else None,
                      data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                      callbacks=[clock, history] + ([WatchWithoutChanging()] if watching else []))
    # The Trainer prints its log dicts under the bars (or alone without bars); keep only the bars.
    trainer.callback_handler.pop_callback(PrinterCallback)
    if progress and trainer.callback_handler.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(BarsOnly)
    if torch.cuda.is_available():
        release_device_memory()  # what earlier runs left behind, so the peak below is this run's
        torch.cuda.reset_peak_memory_stats()
    synchronize()
    start = time.perf_counter()
    trainer.train()
    synchronize()
    train_seconds = time.perf_counter() - start
    if watching and (not history.watch or history.watch[-1][0] != trainer.state.global_step):
        trainer.evaluate()  # the watched split at the last step too, where the run ends

    metrics = {}
    for split, dataset in eval_datasets.items():
        output = trainer.predict(dataset)
        metrics[split] = task_metrics(task, output.predictions, output.label_ids)
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**20
        device = torch.cuda.get_device_name()
    else:
        peak = clock.peak_rss / 2**20
        device = "cpu"
    model.eval()
    return TrainResult(
        metrics=metrics, trainable=counts.trainable, total=counts.total, train_seconds=train_seconds,
        median_step_seconds=statistics.median(clock.step_seconds) if clock.step_seconds else float("nan"),
        steps=len(clock.step_seconds), peak_memory_mb=peak, device=device,
        history={"loss": history.loss, **({"watch": history.watch} if watching else {})},
    )
