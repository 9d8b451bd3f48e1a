"""Running a notebook under the colab profile on the stand-in Hub, tiny sizes (tests/test_standin_*.py).

Each notebook runs in a fresh kernel (nbclient) whose IPython startup file installs the stand-in
(tests/standin_hub.py); nothing is written back. A cell may fail only if it is an exercise stub tagged
`nbval-raises-exception`. A notebook that never reads the profile runs the same under every profile, and nbval
already runs it under `quick`, so only the notebooks that read it run there (every lesson must; a practice
notebook that starts to is picked up).
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from standin_hub import ipython_startup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from clean_notebooks import notebooks_in  # noqa: E402

RAISES = ("nbval-raises-exception", "raises-exception")  # the cell tags nbval reads
READS_PROFILE = ("start_lesson(", "get_profile(", "SPAFIT_")


def reads_profile(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any(word in cell.source for cell in nb.cells if cell.cell_type == "code" for word in READS_PROFILE)


PROFILE_READERS = [p for p in notebooks_in(ROOT) if reads_profile(p)]


def failing_cells(nb) -> list[str]:
    """'cell N: Error: message' for each code cell with an error output that is not marked to raise."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or set(RAISES) & set(cell.metadata.get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"cell {index}: {output.ename}: {output.evalue[:200]}")
    return found


def run_under_colab(path: Path, standin_hub_folder, monkeypatch, tmp_path) -> list[str]:
    """Execute the notebook at `path` under the colab profile on the stand-in Hub; the cells that failed."""
    monkeypatch.setenv("SPAFIT_PROFILE", "colab")
    monkeypatch.setenv("SPAFIT_LIVE", "1")  # the lessons' live runs, as a learner meets them
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # see tiny_sizes: one thread is the fast choice for tiny models
    monkeypatch.setenv("IPYTHONDIR", str(ipython_startup(standin_hub_folder, tmp_path / "ipython")))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return failing_cells(nb)
