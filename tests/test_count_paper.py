"""`spafit-course count --paper`: the paper's setting counted on the meta device against the closed forms."""

import pytest

from spafit_course.cli import main
from spafit_course.runs.counting import PAPER_RANGE, paper_configs, paper_rows
from spafit_course.runs.models import model_config
from spafit_course.tuning.closed_form import closed_form_count


@pytest.fixture(scope="module")
def rows():
    return {r["setting"]: r for r in paper_rows()}


def test_paper_rows_match_closed_form_and_design_numbers(rows):
    config = model_config("bert-large-cased", 2)
    for label, spafit in paper_configs().items():
        assert rows[label]["trainable"] == closed_form_count(config, spafit).trainable
        assert rows[label]["closed_form"] == rows[label]["trainable"]
    # The reconstruction's numbers (docs/paper-profile.md), each derived by hand from the closed form.
    assert rows["full fine-tuning"]["trainable"] == 333_581_314
    assert rows["SPAFIT N1=4 N2=9, r=64 q/k/v"]["trainable"] == 6_084_610
    assert rows["SPAFIT N1=8 N2=10, r=64 q/k/v"]["trainable"] == 5_654_530
    assert rows["SPAFIT N1=8 N2=10, r=64 q/k/v/attn-out"]["trainable"] == 7_489_538
    # BitFit: 24 layers x (4H + I + H) Linear biases + the 2-label head = 24 * 9216 + 2050.
    assert rows["BitFit (all layers)"]["trainable"] == 24 * (5 * 1024 + 4096) + 1024 * 2 + 2
    # LoRA everywhere: 24 layers x 3 targets x r(in + out) + head, no biases.
    assert rows["LoRA r=64 q/k/v (all layers)"]["trainable"] == 24 * 3 * 64 * 2048 + 2050


def test_range_marks(rows):
    marks = {label: r["in_paper_range"] for label, r in rows.items()}
    assert [k for k, v in marks.items() if v] == ["SPAFIT N1=4 N2=9, r=64 q/k/v", "SPAFIT N1=8 N2=10, r=64 q/k/v",
                                                 "SPAFIT N1=8 N2=10, r=64 q/k/v/attn-out"]
    assert PAPER_RANGE == (5_650_000, 7_490_000)


def test_count_paper_command_prints_table_and_reconstruction_note(capsys):
    assert main(["count", "--paper"]) == 0
    out = capsys.readouterr().out
    assert "333,581,314" in out and "reconstruction" in out
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines() if line.startswith(("SPAFIT", "LoRA",
                                                                                                "BitFit", "full"))}
    assert "6,084,610" in lines["SPAFIT N1=4 N2=9, r=64 q/k/v"] and " yes " in lines["SPAFIT N1=4 N2=9, r=64 q/k/v"]
    assert "5,654,530" in lines["SPAFIT N1=8 N2=10, r=64 q/k/v"]
    assert "7,489,538" in lines["SPAFIT N1=8 N2=10, r=64 q/k/v/attn-out"]
    assert " no " in lines["full fine-tuning"] and " no " in lines["LoRA r=64 q/k/v (all layers)"]
