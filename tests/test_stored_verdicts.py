"""Verdicts cannot go stale: every check verdict stored in solutions/ is the text the current checks print for the
numbers it quotes, and nbval's sanitizer (tools/nbval_sanitize.cfg) hides a verdict's numbers but none of its words.

A check of code prints a fixed PASS line (`check.summary`); a reading is rebuilt from the numbers its stored line
quotes (`check.reading`), so a letter those numbers do not allow, or words from an older version of the check,
fail here; a fixed choice is asked again with the stored letter.
"""

import json
import re
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

from spafit_course.lessons import checks
from spafit_course.lessons.checks.tools import verdict, wrap

ROOT = Path(__file__).resolve().parents[1]
VERDICT = re.compile(r"^(PASS|FAIL) (check_\w+): .*(?:\n  .*)*", re.M)
CALL = re.compile(r"\bchecks\.(check_\w+)\(")


def stored_verdicts():
    """(where, check name, stored verdict text) for every verdict a solution notebook's check cell printed."""
    found = []
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] != "code" or not CALL.search("".join(cell["source"])):
                continue
            text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") ==
                           "stream")
            for match in VERDICT.finditer(text):
                found.append((f"{path.name[:2]} c{index}", match.group(2), match.group(0)))
    return found


STORED = stored_verdicts()


def current_text(name: str, stored: str) -> str | None:
    """The verdict the current check prints for the numbers `stored` quotes; None when no answer and no numbers
    make the current check print a PASS line with those words."""
    check = getattr(checks, name)
    summary = " ".join(stored.split(": ", 1)[1].split())
    if hasattr(check, "summary"):  # a check of code: its PASS line is fixed
        return wrap(f"PASS {name}: {check.summary}")
    reading = getattr(check, "reading", None)
    if reading is not None:
        back = reading.read_back(summary)
        if back is None:
            return None
        answer, values = back
        return verdict(name, lambda _: reading.judge(answer, **values), None)[1]
    letter = re.match(r"\(([a-z])\) ", summary)  # a fixed choice: ask the check again
    return check.verdict(letter.group(1))[1] if letter else None


def test_the_solutions_store_verdicts_of_every_kind():
    names = {name for _, name, _ in STORED}
    assert len(STORED) >= 40
    kinds = {"summary" if hasattr(getattr(checks, n), "summary") else "reading"
             if getattr(getattr(checks, n), "reading", None) else "fixed" for n in names}
    assert kinds == {"summary", "reading", "fixed"}


@pytest.mark.parametrize("where, name, stored", STORED, ids=[f"{w} {n}" for w, n, _ in STORED])
def test_a_stored_verdict_is_what_the_current_check_prints_for_its_numbers(where, name, stored):
    assert stored.startswith("PASS"), f"solutions/{where}: a solution's check must pass:\n{stored}"
    expected = current_text(name, stored)
    assert expected is not None, (f"solutions/{where}: no answer makes {name} print these words today (stale: "
                                  f"re-execute the notebook):\n{stored}")
    assert stored == expected, f"solutions/{where} stores\n{stored}\nbut {name} prints for its numbers\n{expected}"


# ---------------------------------------------------------------- the test above can fail

FORGETTING = "PASS check_forgetting_prediction: (b) no: it loses 5 points or less, or gains: the top layer's probe went " \
             "from 0.733 to 0.777 (+0.043)"


def test_a_verdict_that_its_numbers_contradict_is_caught():
    right = wrap(FORGETTING)
    assert current_text("check_forgetting_prediction", right) == right
    reversed_claim = right.replace("(b) no: it loses 5 points or less, or gains", "(a) yes: it loses more than 5 "
                                                                                    "points")
    assert current_text("check_forgetting_prediction", reversed_claim).startswith("FAIL")
    older_words = wrap("PASS check_forgetting_prediction: (b) the top layer's probe went from 0.733 to 0.777 "
                       "(+0.043); the fine-tuned top layer lost more than that")
    assert current_text("check_forgetting_prediction", older_words) is None


def test_a_decision_its_interval_does_not_allow_is_caught():
    line = wrap("PASS check_optimism_claim: (a) choosing on test scores higher than choosing on validation: +0.014 "
                "[+0.006, +0.022], higher on 7 and lower on 0 of 8 samples")
    assert current_text("check_optimism_claim", line) == line
    assert current_text("check_optimism_claim", line.replace("[+0.006", "[-0.006")).startswith("FAIL")
    assert current_text("check_optimism_claim", line.replace("of 8 samples", "of 8 seeds")) is None


def test_a_code_checks_changed_summary_is_caught():
    line = wrap("PASS check_spafit: same LoRA layers, settings, trainable parameters, output and gradients as "
                "apply_spafit on 2 configurations")
    assert current_text("check_spafit", line) != line


# ---------------------------------------------------------------- the sanitizer

PATTERNS = get_sanitize_patterns((ROOT / "tools" / "nbval_sanitize.cfg").read_text())


def sanitized(text: str) -> str:
    """What nbval compares: every pattern applied in order (nbval's own reading of the file)."""
    for regex, replace in PATTERNS:
        text = re.sub(regex, replace, text)
    return text


def test_the_sanitizer_keeps_a_verdicts_words_and_hides_its_numbers():
    stored = wrap("PASS check_readout_claim: (a) the mean readout scores higher than the [CLS] readout: +0.049 "
                  "[+0.032, +0.066], higher on 10 and lower on 0 of 10 seeds") + "\n"
    rerun = wrap("PASS check_readout_claim: (a) the mean readout scores higher than the [CLS] readout: +0.0512 "
                 "[+0.03, +0.0661], higher on 9 and lower on 1 of 10 seeds") + "\n"
    assert stored.count("\n") != rerun.count("\n") or stored.split("\n")[1] != rerun.split("\n")[1]  # rewrapped
    assert sanitized(stored) == sanitized(rerun)
    assert "#" in sanitized(stored) and "the mean readout scores higher" in sanitized(stored)
    for changed in (stored.replace("(a) the mean readout scores higher", "(b) the mean readout scores higher"),
                    stored.replace("seeds", "samples"), stored.replace("PASS", "FAIL")):
        assert sanitized(changed) != sanitized(stored)


def test_the_sanitizer_leaves_everything_but_verdicts_alone():
    table = "layer 1   0.612\n  layer 2   0.655\nmajority 0.533\n"
    assert sanitized(table) == table
    printed_first = "fitted error by rank: {1: 0.744}\nPASS check_rank_prediction: (b) of the ranks [1, 2]\n"
    assert sanitized(printed_first).startswith("fitted error by rank: {1: 0.744}\nPASS check_rank_prediction: (b) "
                                               "of the ranks [#, #]")
    failing = "FAIL check_x: the value\n  expected: 0.5\n  got:      0.7\nnote: 3 more\n"
    assert sanitized(failing) == "FAIL check_x: the value expected: # got:      #<end of verdict>\nnote: 3 more\n"
