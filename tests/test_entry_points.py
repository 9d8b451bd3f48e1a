"""Every entry point as careful as the rest of `spafit-course` (issue 18): a bad command line, environment variable
or output path is one line on stderr with exit status 2, refused before anything trains; an option a mode would
ignore is refused; sentence pairs come from the task, never from the batch."""

import json

import pytest

from spafit_course import SpafitConfig, apply_spafit, save_adapter
from spafit_course import cli
# the lesson modules are imported before any test patches what they import, so none keeps a patched function
from spafit_course.lessons import budget_curves, catalogue, comparison_runs, forgetting_runs, seeds  # noqa: F401
from spafit_course.runs import experiments, models
from spafit_course.runs import sweep as runs_sweep
from spafit_course.runs.models import load_model
from spafit_course.runs.profiles import QUICK_MODEL

from cli_run import run

SIZE_VARIABLES = ("SPAFIT_PROFILE", "SPAFIT_TRAIN_SIZE", "SPAFIT_EVAL_SIZE", "SPAFIT_BATCH_SIZE", "SPAFIT_MAX_LENGTH",
                  "SPAFIT_EPOCHS")


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("entry")
    (folder / "a-file").write_text("not a folder")
    (folder / "blocked" / "compare.json").mkdir(parents=True)  # a folder where a result file goes
    (folder / "blocked-png" / "sweep.png").mkdir(parents=True)
    (folder / "blocked-bench" / "bench.json").mkdir(parents=True)
    (folder / "adapters-file" / "adapters").mkdir(parents=True)
    (folder / "adapters-file" / "adapters" / "spafit").write_text("a file where the adapter folder goes")
    (folder / "adapter-json" / "adapters" / "lora" / "spafit_adapter.json").mkdir(parents=True)
    (folder / "blocked-peft" / "adapter_config.json").mkdir(parents=True)
    model = apply_spafit(load_model(QUICK_MODEL, seed=0), SpafitConfig(n1=4, n2=5, r=2))
    save_adapter(model, folder / "polarity", base_model_name=QUICK_MODEL, task="polarity", max_length=32,
                 label_names=["rotten", "fresh"])
    save_adapter(model, folder / "mrpc", base_model_name=QUICK_MODEL, task="mrpc", max_length=32)
    save_adapter(model, folder / "unknown", base_model_name=QUICK_MODEL, task=None, max_length=32)
    return folder


@pytest.fixture
def nothing_trains(monkeypatch):
    """Any training or data preparation fails the test: refusals must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError("training started before the refusal")

    for module, name in ((experiments, "compare_methods"), (experiments, "run_method"),
                         (experiments, "prepared_data"),
                         (comparison_runs, "prepared_data"), (runs_sweep, "run_method"),
                         (budget_curves, "run_planned"), (seeds, "one_seed"),
                         (cli.sweep, "run_sweep"), (cli.bench, "run_bench"), (models, "load_adapted")):
        monkeypatch.setattr(module, name, refuse)
    for variable in SIZE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


# command line, environment, the one line stderr must hold (exactly, after "spafit-course COMMAND: error: ")
BAD_ENTRIES = [
    (["lessons", "--record-budgets", "--lessons", "01"], {},
     "--record-budgets stores the quick profile's budget curves and takes only --seeds and --jobs; drop --lessons"),
    (["lessons", "--record-budgets", "--output", "{tmp}/out.json", "--profile", "quick"], {},
     "drop --profile, --output"),
    (["lessons", "--record-budgets", "--record-seeds"], {}, "drop --record-seeds"),
    (["lessons", "--record-budgets"], {"SPAFIT_TRAIN_SIZE": "8"},
     "a record holds the quick profile at the lessons' budgets, but SPAFIT_TRAIN_SIZE is set and would "
     "change the run; unset it to record"),
    (["lessons", "--record-seeds", "--seeds", "43"], {"SPAFIT_EPOCHS": "2", "SPAFIT_PROFILE": "colab"},
     "but SPAFIT_EPOCHS, SPAFIT_PROFILE are set and would change the run; unset them to record"),
    (["lessons", "--jobs", "2"], {}, "--jobs applies to --record-seeds and --record-budgets only"),
    (["lessons"], {"SPAFIT_PROFILE": "bogus"},
     "SPAFIT_PROFILE='bogus' is not a profile; choose from quick, colab, paper, or unset it for quick"),
    (["forgetting"], {"SPAFIT_TRAIN_SIZE": "abc"},
     "SPAFIT_TRAIN_SIZE='abc' must be an integer in 1..10000000, written in plain decimal digits, like 64; unset it "
     "to use the profile's train_size"),
    (["lessons", "--lessons", "01"], {"SPAFIT_EVAL_SIZE": "-4"},
     "SPAFIT_EVAL_SIZE='-4' must be an integer in 1..10000000, written in plain decimal digits"),
    (["compare"], {"SPAFIT_EPOCHS": "nan"},
     "SPAFIT_EPOCHS='nan' must be a number > 0 and <= 100, written in plain decimal digits, like 0.5 or 2; unset it "
     "to use the profile's epochs"),
    (["compare"], {"SPAFIT_EPOCHS": "inf"}, "SPAFIT_EPOCHS='inf' must be a number > 0 and <= 100"),
    (["sweep"], {"SPAFIT_MAX_LENGTH": "100000"},
     "SPAFIT_MAX_LENGTH='100000' must be an integer in 4..512, written in plain decimal digits, like 64; unset it to "
     "use the profile's max_length"),
    (["compare"], {"SPAFIT_BATCH_SIZE": "0"}, "SPAFIT_BATCH_SIZE='0' must be an integer in 1..4096"),
    (["compare"], {"SPAFIT_TRAIN_SIZE": "1.5"}, "SPAFIT_TRAIN_SIZE='1.5' must be an integer in 1..10000000"),
    (["compare", "--max-length", "1"], {},
     "argument --max-length: must be an integer in 4..512, got 1 (see spafit-course compare --help)"),
    (["compare", "--methods", "lora,bitfit,lora"], {},
     "argument --methods: names method(s) ['lora'] more than once: 'lora,bitfit,lora'"),
    (["compare", "--seed", "4294967296"], {},
     "argument --seed: must be an integer in 0..4294967295, got 4294967296"),
    (["compare", "--output", ""], {}, "argument --output: must be a path, got an empty string"),
    (["compare", "--output", "{tmp}/blocked"], {},
     "cannot write the compare results' JSON {tmp}/blocked/compare.json: a folder is in its place"),
    (["compare", "--save-adapters", "--output", "{tmp}/adapters-file"], {},
     "cannot save an adapter into {tmp}/adapters-file/adapters/spafit: it is a file, and an adapter is a folder"),
    (["compare", "--save-adapters", "--methods", "full,lora", "--output", "{tmp}/adapter-json"], {},
     "cannot write the adapter's description {tmp}/adapter-json/adapters/lora/spafit_adapter.json: a folder is in "
     "its place"),
    (["compare", "--save-adapters", "--output", "{tmp}/a-file/below"], {}, "cannot be created: {tmp}/a-file is a file"),
    (["sweep", "--output", "{tmp}/blocked-png"], {},
     "cannot write the sweep's heatmaps {tmp}/blocked-png/sweep.png: a folder is in its place"),
    (["sweep", "--seed", "-1"], {}, "argument --seed: must be an integer in 0..4294967295, got -1"),
    (["count", "--paper", "--model", "bert-base-cased"], {},
     "--paper counts the paper's own settings and takes only --num-labels; drop --model (or drop --paper to count "
     "those)"),
    (["count", "--paper", "--r", "8", "--targets", "query", "--bias-terms", "all"], {},
     "drop --r, --targets, --bias-terms"),
    (["count", "--paper", "--n1", "2"], {}, "drop --n1"),
    (["bench", "--tiny", "--seed", "4294967296"], {}, "argument --seed: must be an integer in 0..4294967295"),
    (["bench", "--tiny", "--warmup", "-1"], {}, "argument --warmup: must be an integer >= 0, got -1"),
    (["bench", "--tiny", "--threads", "0"], {}, "argument --threads: must be an integer >= 1, got 0"),
    (["bench", "--tiny", "--output", "{tmp}/blocked-bench"], {},
     "cannot write the bench report {tmp}/blocked-bench/bench.json: a folder is in its place"),
    (["bench", "--tiny", "--json", ""], {}, "argument --json: must be a path, got an empty string"),
    (["predict", "{tmp}/polarity", "--pairs", "a film\tdull"], {},
     "the adapter was trained on polarity, which takes single sentences; drop --pairs"),
    (["predict", "{tmp}/mrpc", "--single", "a film"], {},
     "the adapter was trained on mrpc, which takes sentence pairs; drop --single"),
    (["predict", "{tmp}/mrpc", "a film\tthe film", "no tab here"], {},
     "sentence 2 ('no tab here') has no tab: a sentence-pair task takes each input as 'first sentence<TAB>second "
     "sentence'"),
    (["predict", "{tmp}/polarity", "--pairs", "--single", "a film"], {},
     "argument --single: not allowed with argument --pairs"),
    (["predict", "", "a film"], {}, "argument adapter: must be a path, got an empty string"),
    (["predict", "{tmp}/polarity", "--file", "", "a film"], {}, "argument --file: must be a path"),
    (["export", "{tmp}/polarity", "{tmp}/blocked-peft"], {},
     "cannot write the peft adapter's config {tmp}/blocked-peft/adapter_config.json: a folder is in its place"),
    (["export", "", "{tmp}/out"], {}, "argument ADAPTER_FOLDER: must be a path, got an empty string"),
    (["lessons", "--output", ""], {}, "argument --output: must be a path, got an empty string"),
    (["lessons", "--output", "{tmp}/a-file/out.json"], {}, "the folder of --output {tmp}/a-file is a file"),
    (["lessons", "--seeds", "4294967296"], {}, "argument --seeds: must be comma-separated whole numbers 0..4294967295"),
    (["lessons", "--seeds", "\u00b2"], {}, "argument --seeds: must be comma-separated whole numbers"),
    (["forgetting", "--seeds", "1,,1"], {}, "argument --seeds: names a seed twice: '1,,1'"),
    (["lessons", "--lessons", "01"], {"SPAFIT_RUN_MEMO": "{tmp}/a-file"},
     "cannot write the run memo entry (SPAFIT_RUN_MEMO={tmp}/a-file) {tmp}/a-file/bitfit_and_full-"),
    (["forgetting", "--seeds", "42"], {"SPAFIT_RUN_MEMO": "{tmp}/a-file/below"}, "{tmp}/a-file is a file, not a folder"),
]


@pytest.mark.parametrize("argv, env, message", BAD_ENTRIES,
                         ids=[" ".join(a) + "".join(f" {k}={v}" for k, v in e.items()) for a, e, _ in BAD_ENTRIES])
def test_bad_entry_is_one_line_before_any_work(argv, env, message, paths, capsys, monkeypatch, nothing_trains):
    for variable, value in env.items():
        monkeypatch.setenv(variable, value.format(tmp=paths))
    status, out, err = run([a.format(tmp=paths) for a in argv], capsys)
    assert status == 2, (out, err)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"spafit-course {argv[0]}: error: "), err
    assert message.format(tmp=paths) in err, err


def test_every_subcommand_meets_a_bad_entry():
    assert {argv[0] for argv, _, _ in BAD_ENTRIES} == set(cli.build_parser()._subparsers._group_actions[0].choices)


def test_record_refusal_leaves_the_packaged_records_as_they_were(monkeypatch, capsys, nothing_trains):
    from spafit_course.lessons.budget_curves import RECORDED_BUDGETS
    from spafit_course.lessons.seeds import RECORDED_SEEDS

    before = [path.read_bytes() for path in (RECORDED_SEEDS, RECORDED_BUDGETS)]
    monkeypatch.setenv("SPAFIT_TRAIN_SIZE", "8")
    assert run(["lessons", "--record-seeds", "--profile", "quick"], capsys)[0] == 2
    assert run(["lessons", "--record-budgets"], capsys)[0] == 2
    assert [path.read_bytes() for path in (RECORDED_SEEDS, RECORDED_BUDGETS)] == before


@pytest.mark.parametrize("argv", [["lessons", "--profile", "colab", "--lessons", "01,04"],
                                  ["forgetting", "--profile", "colab", "--seeds", "42"],
                                  ["compare", "--profile", "paper", "--methods", "bitfit"]])
def test_an_offline_hub_profile_is_one_line(argv, capsys, monkeypatch):
    for variable in SIZE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    status, _, err = run(argv, capsys)
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "needs the Hugging Face Hub" in err and "HF_HUB_OFFLINE=1 is set" in err and "--profile quick" in err


def test_a_glue_task_on_the_quick_profile_offline_points_to_its_own_task(capsys, monkeypatch):
    for variable in SIZE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    status, _, err = run(["compare", "--task", "sst2", "--methods", "bitfit"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert err.rstrip().endswith("the quick profile runs offline on its own task only: use --task polarity (its "
                                 "default)")
    assert "use the offline quick profile" not in err


def test_sweep_honours_the_train_size_variable_like_every_other_command(capsys, monkeypatch, tmp_path):
    seen = []

    def capture(profile, *args, **kwargs):
        seen.append(profile.train_size)
        raise ValueError("stop here")

    monkeypatch.setattr(cli.sweep, "run_sweep", capture)
    for variable in SIZE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    run(["sweep", "--output", str(tmp_path)], capsys)
    monkeypatch.setenv("SPAFIT_TRAIN_SIZE", "24")
    status, out, _ = run(["sweep", "--output", str(tmp_path)], capsys)
    run(["sweep", "--output", str(tmp_path), "--train-size", "12"], capsys)
    assert seen == [runs_sweep.SWEEP_TRAIN_SIZE, 24, 12]
    assert "24 training examples" in out


def prediction_lines(paths, capsys, *args):
    status, out, err = run(["predict", *map(str, args)], capsys)
    assert status == 0, err
    return out.splitlines()


def test_a_single_sentence_task_keeps_a_tab_as_text_whatever_its_neighbours(paths, capsys):
    adapter = paths / "polarity"
    alone = prediction_lines(paths, capsys, adapter, "a gripping\tfunny film")
    beside_plain = prediction_lines(paths, capsys, adapter, "a gripping\tfunny film", "dull")
    beside_tabs = prediction_lines(paths, capsys, adapter, "a gripping\tfunny film", "two\thours")
    assert alone[0] == beside_plain[0] == beside_tabs[0]
    as_text = prediction_lines(paths, capsys, adapter, "a gripping funny film")  # a tab tokenizes as a space
    assert alone[0].split("\t")[:2] == as_text[0].split("\t")[:2]


def test_a_pair_task_reads_pairs_and_an_unknown_task_follows_the_option(paths, capsys):
    pairs = prediction_lines(paths, capsys, paths / "mrpc", "a film\tthe film", "dull\tlong")
    assert len(pairs) == 2 and pairs[0].endswith("a film\tthe film")
    assert prediction_lines(paths, capsys, paths / "mrpc", "--pairs", "a film\tthe film")[0] == pairs[0]
    as_pair = prediction_lines(paths, capsys, paths / "unknown", "--pairs", "a film\tthe film")
    as_text = prediction_lines(paths, capsys, paths / "unknown", "a film\tthe film")
    assert as_pair != as_text  # the same line read as a pair and as one text: different inputs, different outputs


def test_the_library_predict_decides_pairs_once_for_all_sentences(paths):
    from spafit_course.runs.models import load_adapted, load_tokenizer
    from spafit_course.runs.predict import predict

    model, tokenizer = load_adapted(QUICK_MODEL, paths / "polarity"), load_tokenizer(QUICK_MODEL)
    one = predict(model, tokenizer, ["a\tb"], 32)[0]
    # the same label, and the same probability up to float rounding (padding to a neighbour's length reorders sums)
    for batch in (["a\tb", "c\td"], ["a\tb", "plain"]):
        label, probability = predict(model, tokenizer, batch, 32, batch_size=2)[0]
        assert label == one[0] and probability == pytest.approx(one[1], abs=1e-5)
    with pytest.raises(ValueError, match=r"sentence 1 \('plain'\) has no tab"):
        predict(model, tokenizer, ["plain"], 32, pairs=True)


def test_compare_writes_its_results_atomically_with_the_previous_ones_kept(monkeypatch, tmp_path, capsys):
    from spafit_course.runs.models import tiny_model

    monkeypatch.setenv("SPAFIT_TRAIN_SIZE", "8")
    monkeypatch.setenv("SPAFIT_EVAL_SIZE", "8")
    monkeypatch.setenv("SPAFIT_BATCH_SIZE", "8")
    monkeypatch.setenv("SPAFIT_MAX_LENGTH", "16")
    real = experiments.compare_methods

    def tiny(profile, methods, task, **kwargs):
        return real(profile, methods, task, progress=False, on_result=kwargs.get("on_result"),
                    model_factory=lambda labels: tiny_model("bert", num_layers=6, num_labels=labels,
                                                            vocab_size=30522))

    monkeypatch.setattr(experiments, "compare_methods", tiny)
    assert run(["compare", "--methods", "bitfit", "--output", str(tmp_path)], capsys)[0] == 0
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(first) == {"compare.json", "compare.csv", "compare.png"}

    def broken_savefig(self, *args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", broken_savefig)
    status, _, err = run(["compare", "--methods", "spafit", "--output", str(tmp_path)], capsys)
    assert status == 2 and err == "spafit-course compare: error: No space left on device\n"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first  # whole, and no temporary file left
    assert json.loads(first["compare.json"])["rows"][0]["method"] == "bitfit"
