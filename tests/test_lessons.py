"""Every lesson notebook is committed without outputs and executes top to bottom."""
import nbformat
import pytest

from notebooks import LESSONS, run_notebook

LESSON_FILES = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_is_committed_without_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} has outputs committed; clear them"
            assert cell.execution_count is None


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_executes(path):
    nb = run_notebook(path)
    assert any(cell.cell_type == "code" and cell.outputs for cell in nb.cells)
    source = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "import miniae" in source or "from miniae" in source, "a lesson builds on miniae"
