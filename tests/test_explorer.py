"""The lesson-04 explorer: its counts match the closed form, its figure colours exactly the right layers."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_rgba

from spafit_course import SpafitConfig, closed_form_count, layer_groups
from spafit_course.explorer import (GROUP_COLORS, HEAD_COLOR, draw_stratification, explorer_counts,
                                    make_explorer)
from spafit_course.models import model_config, tiny_config


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
    # DESIGN.md: r = 64 on query/key/value, N1 = 4, N2 = 9 on bert-large-cased trains 6,084,610 parameters.
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


def test_widgets_keep_n1_at_most_n2_and_train_button_adds_results():
    calls = []

    def fake_train(config):
        calls.append(config)
        return {"method": "spafit", "metric": "accuracy", "score": 0.5, "trainable": 1000}

    box = make_explorer(models=("bert-large-cased",), n1=4, n2=9, train_fn=fake_train)
    controls = box.children[0].children[0].children
    s1, s2 = controls[1], controls[2]
    assert s1.max == 24
    s1.value = 12
    assert s2.value == 12
    s2.value = 3
    assert s1.value == 3
    button = box.children[1]
    button.click()
    assert [(c.n1, c.n2) for c in calls] == [(3, 3)]
    assert box.results[0]["label"] == "N1=3 N2=3 r=8"
