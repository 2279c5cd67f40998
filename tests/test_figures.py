"""Every PNG in figures/ is drawn by a lesson (or by compare-pca), and `miniae figures` regenerates them."""
import json
import re
from pathlib import Path

import nbformat
import pytest

from miniae import compare, plot
from miniae.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIGURES_FOLDER = ROOT / "figures"
EXPORT = re.compile(r"export_figure\([^\n]*?[\"']([\w.-]+\.png)[\"']")


def exported_by_lessons():
    """{file name: lesson} for every export_figure(..., "name.png") in a lesson's code cells."""
    owners = {}
    for path in sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb")):
        source = "\n".join(cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                           for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code")
        for name in EXPORT.findall(source):
            assert name not in owners, f"{name} is exported by {owners[name]} and by {path.name}"
            owners[name] = path.name
    return owners


def test_every_committed_png_is_drawn_by_a_lesson_or_compare_pca():
    committed = {path.name for path in FIGURES_FOLDER.glob("*.png")}
    drawn = set(exported_by_lessons()) | set(compare.FIGURES)
    assert committed - drawn == set(), "PNGs in figures/ that no lesson or compare-pca draws"
    assert drawn - committed == set(), "figures a lesson exports that are not committed"


def test_every_figure_the_readme_shows_is_committed():
    shown = set(re.findall(r"figures/([\w.-]+\.png)", (ROOT / "README.md").read_text()))
    assert shown and shown <= {path.name for path in FIGURES_FOLDER.glob("*.png")}


def test_export_figure_writes_only_where_told(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    fig = plt.figure()
    monkeypatch.delenv("MINIAE_FIGURE_DIR", raising=False)
    assert plot.export_figure(fig, "x.png") is None
    monkeypatch.setenv("MINIAE_FIGURE_DIR", str(tmp_path))
    assert plot.export_figure(fig, "x.png") == tmp_path / "x.png" and (tmp_path / "x.png").stat().st_size > 0


def test_compare_quick_make_figures_writes_every_file_it_lists(tmp_path, monkeypatch):
    monkeypatch.setattr(compare, "QUICK_CODE_SIZES", (2,))
    paths = compare.make_figures(tmp_path, quick=True)
    assert sorted(Path(p).name for p in paths) == sorted(compare.FIGURES)
    for name in compare.FIGURES:
        assert (tmp_path / name).stat().st_size > 5000, name


def tiny_lesson(folder):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\nfrom miniae.plot import export_figure\n"
        "fig = plt.figure(); plt.plot([0, 1]); export_figure(fig, 'tiny.png')")]
    folder.mkdir()
    nbformat.write(nb, str(folder / "01_tiny.ipynb"))


@pytest.mark.notebooks
def test_miniae_figures_executes_the_lessons_and_never_overwrites_unasked(tmp_path, capsys):
    lessons, out = tmp_path / "lessons", tmp_path / "out"
    tiny_lesson(lessons)
    assert main(["figures", "--lessons", str(lessons), "--out", str(out), "--only", "tiny"]) == 0
    assert (out / "tiny.png").stat().st_size > 0
    assert main(["figures", "--lessons", str(lessons), "--out", str(out), "--only", "tiny"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["figures", "--lessons", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o2")]) == 2
