"""Running the command line inside a test (tests/test_entry_points.py and the hardening tests)."""

from spafit_course import cli


def run(argv, capsys):
    """(exit status, stdout, stderr) of the command line, whether it returns or exits."""
    try:
        status = cli.main(argv)
    except SystemExit as leave:
        status = leave.code
    out = capsys.readouterr()
    return status, out.out, out.err
