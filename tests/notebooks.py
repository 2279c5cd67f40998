"""Helpers to execute notebooks in tests (used by test_lessons and test_exercises)."""
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"


def run_notebook(path, timeout=300, cwd=None, allow_errors=False):
    """Execute the notebook at ``path`` top to bottom in a fresh kernel; return the executed notebook."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd or Path(path).parent)}})
    client.execute()
    return nb


def cell_outputs_text(nb):
    """All text printed by the notebook's cells, joined."""
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                chunks.append(out["text"])
            elif "data" in out and "text/plain" in out["data"]:
                chunks.append(out["data"]["text/plain"])
    return "\n".join(chunks)
