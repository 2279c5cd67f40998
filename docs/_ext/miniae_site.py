"""The course site's own Sphinx extension (loaded by docs/conf.py) and the helpers tests/test_site.py shares.

What it adds to Sphinx, myst-nb and the theme:

- the lessons' executed copies: with ``MINIAE_EXECUTED_LESSONS=DIR`` a lesson's source is replaced by
  DIR's executed notebook of the same name (``source-read``), so the build executes nothing;
- a note at the top of each lesson page: when, from which commit and in which environment (Python, NumPy,
  OpenBLAS and its kernel, threads, platform) the page's outputs were computed;
- alt text for every figure a lesson's cells draw, from the figure's title in the cell, its first comment
  or its section;
- the site's safety: it refuses to build into a folder that holds anything but an earlier site build, and
  keeps its output and doctrees out of the sources when they sit inside the checkout;
- MathJax 3 from the installed ``django-static-mathjax`` package, copied into the site (no CDN);
- ``index.html`` at the site's top, leading to the home page (docs/index.html);
- two directives for the API reference: ``miniae-exports`` (what ``import miniae`` offers) and
  ``miniae-other-modules`` (every public module that has no page of its own, so a new module is never left out).
"""
import datetime
import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXECUTED_ENV = "MINIAE_EXECUTED_LESSONS"
LESSON_DOC = re.compile(r"^lessons/(?P<stem>[0-9][0-9]_[^/]+)$")
# the key of an executed copy's notebook metadata that records where it was executed
METADATA_KEY = "miniae_execution"
# a site build leaves this file (Sphinx's HTML builder) or one of these names; anything else in the output
# folder is somebody's file
SITE_MARKERS = {".buildinfo", ".doctrees", "_static", "_sources", "_images", "docs", "lessons", "genindex.html",
                "search.html", "searchindex.js", "objects.inv", "index.html", "jupyter_execute", "_downloads",
                "py-modindex.html", ".buildinfo.bak", "tools"}

# what runs in a fresh interpreter with the kernels' environment: the numeric environment as a kernel sees it
_PROBE = r"""
import json, platform, sys
import numpy
from threadpoolctl import threadpool_info
blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
print(json.dumps({
    "python": platform.python_version(),
    "numpy": numpy.__version__,
    "blas": [{"library": i.get("internal_api"), "version": i.get("version"),
              "kernel": i.get("architecture"), "threads": i.get("num_threads")} for i in blas],
    "platform": platform.platform(),
    "machine": platform.machine(),
}))
"""


# ------------------------------------------------------------------------------------------ execution info
def commit(root=ROOT):
    """The checkout's commit (``git rev-parse HEAD``), with " plus uncommitted changes" when tracked files
    differ from it; "unknown" outside a git checkout."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" plus uncommitted changes" if dirty else "")


def execution_info(env=None, executable=sys.executable):
    """Where notebooks run with environment ``env`` (default: this process's) are executed: a dict with the
    date (UTC), the commit, Python, NumPy, the BLAS libraries with version, kernel and threads, and the
    platform.  The numeric part comes from a fresh interpreter started with ``env``, as a kernel is."""
    done = subprocess.run([executable, "-c", _PROBE], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"could not read the numeric environment: {done.stderr.strip()[-2000:]}")
    info = json.loads(done.stdout)
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info["commit"] = commit()
    return info


def describe(info):
    """The note a lesson page shows, as MyST markdown."""
    if not info:
        return ("```{admonition} Where this page was executed\n:class: miniae-execution\n"
                "Unknown: the executed notebook carries no record of it.\n```\n")
    blas = "; ".join(f"{b['library']} {b['version']} ({b['kernel']} kernel, {b['threads']} thread"
                     f"{'' if b['threads'] == 1 else 's'})" for b in info.get("blas", [])) or "none found"
    return ("```{admonition} Where this page was executed\n:class: miniae-execution\n"
            f"Executed on {info['date']} from commit `{info['commit']}`, with Python {info['python']}, "
            f"NumPy {info['numpy']}, BLAS: {blas}, on {info['platform']}. "
            "Another machine prints other digits in the last places; the claims a lesson asserts hold "
            "on any machine.\n```\n")


def record(nb, info):
    """Store ``info`` in the executed notebook ``nb``'s metadata (what the site shows on its page)."""
    nb.metadata[METADATA_KEY] = info
    return nb


# ------------------------------------------------------------------------------------------ the lessons
def _lesson_stem(docname):
    match = LESSON_DOC.match(docname)
    return match["stem"] if match else None


def _with_note(notebook, info):
    """The notebook (a dict) with the execution note as a markdown cell after its first cell (the title)."""
    note = {"cell_type": "markdown", "metadata": {}, "source": describe(info)}
    if notebook.get("nbformat", 4) >= 4 and notebook.get("nbformat_minor", 0) >= 5:
        note["id"] = "miniae-execution-note"
    notebook["cells"].insert(1, note)
    return notebook


def substitute_lesson(app, docname, source):
    """``source-read``: a lesson's source becomes its executed copy (MINIAE_EXECUTED_LESSONS) or stays the
    notebook the build executes; either way with the note saying where it was executed."""
    stem = _lesson_stem(docname)
    if stem is None:
        return
    from sphinx.errors import ExtensionError

    folder = os.environ.get(EXECUTED_ENV)
    if folder:
        path = Path(folder) / f"{stem}.ipynb"
        if not path.is_file():
            raise ExtensionError(f"{EXECUTED_ENV}={folder} has no {path.name}: put the executed copy of "
                                 f"lessons/{stem}.ipynb there, or unset {EXECUTED_ENV} to execute the lessons")
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if not any(cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code"):
            raise ExtensionError(f"{path} has no outputs: it is not an executed notebook")
        info = notebook.get("metadata", {}).get(METADATA_KEY)
    else:
        notebook = json.loads(source[0])
        if not hasattr(app, "_miniae_execution_info"):
            app._miniae_execution_info = execution_info()
        info = app._miniae_execution_info
    source[0] = json.dumps(_with_note(notebook, info))


# ------------------------------------------------------------------------------------------ alt text
_TITLE = re.compile(r"""(?:\btitle\s*=\s*|\.set_title\(\s*|\.suptitle\(\s*|plt\.title\(\s*)"""
                    r"""(f?)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")


def figure_titles(source):
    """The titles a cell's code gives its figures, in order: plain string literals as written, f-strings
    with each {expression} shown as "…"."""
    titles = []
    for is_f, literal in _TITLE.findall(source):
        text = literal[1:-1].replace("\\n", " ").replace('\\"', '"').replace("\\'", "'")
        if is_f:
            text = re.sub(r"\{[^{}]*\}", "…", text)
        text = " ".join(text.split())
        if text.strip("… "):
            titles.append(text)
    return titles


def first_comment(source):
    """The first comment line of a cell's code, without the '#'."""
    for line in source.splitlines():
        if line.strip().startswith("#"):
            return line.strip().lstrip("#").strip()
    return ""


def alt_text(lesson, number, section, source):
    """Alt text for the ``number``-th figure of ``lesson`` (e.g. "06"), drawn by a cell with code ``source``
    under the heading ``section``: what the cell's titles (else its first comment, else the section) say."""
    what = "; ".join(figure_titles(source)) or first_comment(source) or section
    where = f"Lesson {lesson}, figure {number}"
    if section and what != section:
        where += f" (section “{section}”)"
    return f"{where}: {what}" if what else where


def add_alt_text(app, doctree):
    """``doctree-read``: every image of a lesson page that has no alt text gets one (see alt_text)."""
    from docutils import nodes

    stem = _lesson_stem(app.env.docname)
    if stem is None:
        return
    number = 0
    for image in doctree.findall(nodes.image):
        number += 1
        if image.get("alt", "").strip():
            continue
        cell = image.parent
        while cell is not None and not (isinstance(cell, nodes.container) and "cell" in cell.get("classes", [])):
            cell = cell.parent
        source = ""
        if cell is not None:
            blocks = list(cell.findall(nodes.literal_block))
            source = blocks[0].astext() if blocks else ""
        section = image.parent
        while section is not None and not isinstance(section, nodes.section):
            section = section.parent
        heading = section[0].astext() if section is not None and isinstance(section[0], nodes.title) else ""
        image["alt"] = alt_text(stem[:2], number, heading, source)


# ------------------------------------------------------------------------------------------ safety
def check_output_folder(app):
    """``builder-inited``: refuse an output folder that holds anything but an earlier site build, finished
    (Sphinx's .buildinfo) or not (only the names a build writes); keep output and doctrees out of the sources."""
    out = Path(app.outdir).resolve()
    entries = set(os.listdir(out)) if out.is_dir() else set()
    if entries - SITE_MARKERS and ".buildinfo" not in entries:
        doctrees = Path(app.doctreedir)
        if doctrees.is_dir() and doctrees.parent == out and not any(doctrees.iterdir()):
            doctrees.rmdir()   # Sphinx made it a moment ago: leave the folder as it was
        foreign = sorted(entries - SITE_MARKERS)[:5]
        # one line, not Sphinx's crash report: this is the user's folder, not a bug
        print(f"Refused to build the site here: {out} holds files that are not a site build "
              f"({', '.join(foreign)}, ...); name an empty or new folder, or the folder of an earlier site build",
              file=sys.stderr)
        raise SystemExit(2)
    src = Path(app.srcdir).resolve()
    for folder in (out, Path(app.doctreedir).resolve()):
        if folder.is_relative_to(src) and folder != src:
            app.config.exclude_patterns.append(folder.relative_to(src).as_posix())


# ------------------------------------------------------------------------------------------ static files
def mathjax_folder():
    """MathJax 3's browser build (es5/), as PyPI's django-static-mathjax installs it."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        from sphinx.errors import ExtensionError

        raise ExtensionError("MathJax is not installed: pip install '.[docs]' (it brings django-static-mathjax)")
    return Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax" / "es5"


def finish(app, exception):
    """``build-finished``: copy MathJax into the site and write the top index.html."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    target = out / "_static" / "mathjax"
    if not (target / "MathJax.js").is_file():
        # the SVG build and what it may load later; not the speech engine (sre) nor the font-based CHTML output
        shutil.copytree(mathjax_folder(), target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("sre", "chtml", "*chtml*.js", "node-main.js"))
    home = app.builder.get_target_uri(app.config.root_doc)
    top = out / "index.html"
    if app.config.root_doc != "index":
        top.write_text(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{app.config.project}</title>"
            f"<meta http-equiv=\"refresh\" content=\"0; url={home}\"></head>\n"
            f"<body><p><a href=\"{home}\">{app.config.project}: the course site</a></p></body></html>\n",
            encoding="utf-8")


# ------------------------------------------------------------------------------------------ API reference
def public_modules(package="miniae"):
    """The public modules of the package, as full names, sorted: every module whose name does not start
    with an underscore (``__main__`` is the command line's entry point, not a module to import)."""
    pkg = importlib.import_module(package)
    names = []
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def module_pages(api_folder):
    """{module name: page} of the API pages that document a module with ``automodule``."""
    pages = {}
    for page in sorted(Path(api_folder).glob("*.md")):
        for name in re.findall(r"^\.\. automodule:: (\S+)", page.read_text(encoding="utf-8"), flags=re.M):
            pages[name] = page
    return pages


def _directives():
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    class OtherModules(SphinxDirective):
        """Every public module of miniae that no page of the API folder documents, each under its own
        heading with its automodule."""

        def run(self):
            api = Path(self.env.srcdir) / Path(self.env.docname).parent
            documented = module_pages(api)
            self.env.note_dependency(__file__)
            rest = [name for name in public_modules() if name not in documented]
            lines = []
            for name in rest:
                lines += [name, "-" * len(name), "", f".. automodule:: {name}", ""]
            if not lines:
                return [nodes.paragraph(text="(Every public module has its page above.)")]
            node = nodes.section()
            nested_parse_with_titles(self.state, StringList(lines, source=self.env.docname), node)
            return node.children

    class Exports(SphinxDirective):
        """A table of the names ``import miniae`` offers, each linked to its entry in its module's page."""

        def run(self):
            import miniae

            rows = []
            for name in sorted(n for n in dir(miniae) if not n.startswith("_")):
                obj = getattr(miniae, name)
                if hasattr(obj, "__file__"):          # a submodule
                    rows.append(f"   * - ``miniae.{name}``\n     - :py:mod:`{obj.__name__}`")
                elif getattr(obj, "__module__", "").startswith("miniae."):
                    rows.append(f"   * - ``miniae.{name}``\n     - :py:obj:`{obj.__module__}.{name}`")
            text = [".. list-table::", "   :header-rows: 1", "", "   * - name", "     - defined in"] + rows
            node = nodes.container()
            self.state.nested_parse(StringList("\n".join(text).splitlines(), source=self.env.docname), 0, node)
            return node.children

    class Exercises(SphinxDirective):
        """Each exercise of lessons/exercises/: its title, its student version to download and its graded
        checks with their points, read from the instructor notebook's nbgrader metadata (written as MyST)."""

        def run(self):
            lines = []
            for path in exercise_notebooks():
                self.env.note_dependency(str(path))
                title, checks = exercise_summary(path)
                student = path.parent / "student" / path.name
                total = sum(points for _, _, points in checks)
                if student.is_file():
                    target = student.relative_to(ROOT).as_posix()
                    release = (f"Student version: {{download}}`{student.name} </{target}>` (the instructor version "
                               f"with the answers: `lessons/exercises/{path.name}`).")
                else:
                    release = (f"No student version yet: `python tools/nbgrader_course.py --student-copy` makes it "
                               f"from `lessons/exercises/{path.name}`.")
                lines += [f"## {title}", "", release, "", f"{len(checks)} graded checks, {total} points:", ""]
                lines += [f"- {what}: `{grade_id}` ({points} point{'' if points == 1 else 's'})"
                          for what, grade_id, points in checks]
                lines.append("")
            node = nodes.section()
            nested_parse_with_titles(self.state, StringList(lines, source=self.env.docname), node)
            return node.children

    return OtherModules, Exports, Exercises


def exercise_notebooks():
    """The instructor versions of the exercises."""
    return sorted((ROOT / "lessons" / "exercises").glob("ex[0-9][0-9]_*.ipynb"))


def exercise_summary(path):
    """(title, [(what the check tests, its grade id, points), ...]) of an exercise notebook: the title is its
    first heading, each check a grade cell of nbgrader whose first line reads "# graded (N points): what"."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    title, checks = Path(path).stem, []
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown" and title == Path(path).stem:
            heading = re.search(r"^# (.+)$", source, flags=re.M)
            if heading:
                title = heading[1].strip()
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("grade"):
            first = source.splitlines()[0] if source else ""
            what = re.sub(r"^#\s*graded\s*\([^)]*\):\s*", "", first).strip() or grading.get("grade_id", "")
            checks.append((what, grading.get("grade_id", ""), grading.get("points", 0)))
    return title, checks


# ------------------------------------------------------------------------------------------ setup
def setup(app):
    other_modules, exports, exercises = _directives()
    app.add_directive("miniae-other-modules", other_modules)
    app.add_directive("miniae-exports", exports)
    app.add_directive("miniae-exercises", exercises)
    app.connect("builder-inited", check_output_folder)
    app.connect("source-read", substitute_lesson)
    app.connect("doctree-read", add_alt_text)
    app.connect("build-finished", finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


if __name__ == "__main__":   # python docs/_ext/miniae_site.py: print the execution info of this environment
    json.dump(execution_info(), sys.stdout, indent=1)
    print()
