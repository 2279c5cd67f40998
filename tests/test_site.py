"""The course site (docs/, README "The course site"): its API reference covers every public name, and the
whole site, built with warnings as errors from the lessons this session executed, works in a real browser.

The browser test takes the executed lessons from the ``notebook_runs`` fixture (no second execution), writes
them with a record of where they ran into a temporary folder, builds the site from them with the README's
command (MINIAE_EXECUTED_LESSONS names that folder), serves it on 127.0.0.1 and opens every page in headless
Chromium through playwright, refusing every request to any other host. Screenshots of each page go to
MINIAE_SITE_SCREENSHOTS (default: a temporary folder; the test prints where), for a person to look at.
"""
import builtins
import concurrent.futures
import copy
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from notebooks import ROOT, lesson_notebooks

sys.path.insert(0, str(ROOT / "docs" / "_ext"))
import miniae_site  # noqa: E402  (docs/_ext, put on the path above)

DOCS = ROOT / "docs"
API = DOCS / "api"
DESIGN = ROOT.parent / "shared" / "DESIGN.md"
CHROMIUM = os.environ.get("MINIAE_CHROMIUM", "/usr/bin/chromium")
# without the background-networking flags Chromium itself calls Google's hosts at every start
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# words in `code` in DESIGN.md that name no Python object of miniae: nbgrader's command, the keys of a recurrent
# layer's params, the word "code" itself
NOT_NAMES = {"generate_assignment", "Wx", "Wh", "b", "code"}
# pages whose search must find a word, and the lesson a result must link to
SEARCHES = {"reparameterization": "lessons/06_vae.html", "contractive": "lessons/05_contractive.html"}
# screenshots stop there (px): a lesson's first 8,000 px hold most of its figures; of the other pages (the API
# reference runs to 30,000 px) the first two screens show the layout.  Taller screenshots cost time (PNG encoding).
SCREENSHOT_HEIGHT = {"lessons": 8000, "other": 1800}


# ------------------------------------------------------------------------------------------ the API reference
def documented_modules():
    """{module: where} for every module the API pages document: those with an automodule directive on a page
    of docs/api/, and (through the miniae-other-modules directive of docs/api/index.md) every other public one."""
    pages = {name: page.name for name, page in miniae_site.module_pages(API).items()}
    if "miniae-other-modules" in (API / "index.md").read_text(encoding="utf-8"):
        for name in miniae_site.public_modules():
            pages.setdefault(name, "index.md (miniae-other-modules)")
    return pages


def public_names(module_name):
    """The names autodoc documents for a module (:members: and :undoc-members:): ``__all__`` when the module
    has one, else every name not starting with "_" whose object was defined in this module."""
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == module_name]


def test_every_public_module_and_name_has_an_api_entry_with_its_docstring():
    import importlib
    import inspect

    documented = documented_modules()
    missing = [name for name in miniae_site.public_modules() if name not in documented]
    assert not missing, f"public modules without an API page (add docs/api/NAME.md with an automodule): {missing}"
    undocumented = []
    for module_name in miniae_site.public_modules():
        module = importlib.import_module(module_name)
        for name in public_names(module_name):
            obj = getattr(module, name)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
                undocumented.append(f"{module_name}.{name}")
    assert not undocumented, f"public classes and functions without a docstring (their API entry is empty): " \
                             f"{undocumented}"


def design_names():
    """The names in `code` (inline) in DESIGN.md that look like Python names: the leading dotted identifier of
    each span, e.g. "Autoencoder.mirrored" from `Autoencoder.mirrored(sizes, ...)`."""
    text = DESIGN.read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)      # fenced blocks are not names
    names = []
    for span in re.findall(r"`([^`\n]+)`", text):
        match = re.match(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(\(.*\))?(\s+/\s+.*)?$", span.strip())
        if match and match[1] not in names:
            names.append(match[1])
    return [name for name in names if name not in NOT_NAMES and not hasattr(builtins, name)]


def resolve(name):
    """(object, the name of the module that documents it) for a name DESIGN.md uses, or (None, None).
    ``model.x``, ``layer.x``, ``loss.x`` mean an attribute of the models', layers' or losses' classes."""
    import importlib
    import inspect

    parts = name.split(".")
    if parts[0] == "miniae":
        parts = parts[1:]
        if not parts:
            return importlib.import_module("miniae"), "miniae"
    modules = ["miniae"] + miniae_site.public_modules()
    if parts[0] in ("model", "layer", "loss"):
        owners = {"model": ("miniae.models.Model", "miniae.vae.VAE", "miniae.models.Autoencoder"),
                  "layer": ("miniae.layers.Layer", "miniae.layers.Dense"),
                  "loss": ("miniae.losses.Loss", "miniae.losses.MSE")}[parts[0]]
        for owner in owners:
            module, cls = owner.rsplit(".", 1)
            obj = getattr(importlib.import_module(module), cls)
            if hasattr(obj, parts[1]):
                return getattr(obj, parts[1]), module
        for owner in owners:   # an attribute __init__ sets: documented when the class docstring names it
            module, cls = owner.rsplit(".", 1)
            obj = getattr(importlib.import_module(module), cls)
            if re.search(rf"self\.{parts[1]}\s*=", inspect.getsource(obj)) and parts[1] in (inspect.getdoc(obj) or ""):
                return obj, module
        return None, None
    for module_name in modules:
        module = importlib.import_module(module_name)
        if parts[0] in ("miniae", module_name.split(".")[-1]) and module_name != "miniae" and len(parts) == 1:
            return module, module_name
        obj = module
        for part in parts:
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            home = inspect.getmodule(obj)
            return obj, (home.__name__ if home is not None else module_name)
    return None, None


def design_coverage():
    """([(name, where documented)], [names that are not in miniae yet], [names in miniae without an entry])."""
    import inspect

    documented = documented_modules()
    documented["miniae"] = "index.md"
    covered, absent, bare = [], [], []
    for name in design_names():
        obj, module = resolve(name)
        if obj is None:
            absent.append(name)
        elif module not in documented:
            bare.append(f"{name} (in {module}, which has no API page)")
        elif not inspect.ismodule(obj) and (callable(obj) or isinstance(obj, property)) and not inspect.getdoc(obj):
            bare.append(f"{name} (no docstring)")
        else:
            covered.append((name, documented[module]))
    return covered, absent, bare


def test_every_name_of_design_md_in_miniae_has_an_api_entry_with_its_docstring():
    if not DESIGN.is_file():
        pytest.skip(f"{DESIGN} is not there (it lives beside the checkout, in shared/)")
    covered, absent, bare = design_coverage()
    assert covered, "found no name of DESIGN.md in miniae: is the parsing of DESIGN.md broken?"
    assert not bare, f"names of DESIGN.md without an API entry with a docstring: {bare}"


def test_names_of_design_md_not_in_miniae_yet():
    """Listed, not failed: DESIGN.md is ahead of the code (issue 24 adds the sequence layers); once a name
    exists, the test above covers it."""
    if not DESIGN.is_file():
        pytest.skip(f"{DESIGN} is not there")
    _, absent, _ = design_coverage()
    if absent:
        pytest.skip(f"names of DESIGN.md not in miniae yet (their API entries are not checked): {', '.join(absent)}")


# ------------------------------------------------------------------------------------------ alt text
def test_alt_text_of_a_lesson_figure_comes_from_its_cell():
    source = 'fig = image_grid(X[:40], title="8-D VAE: decoded draws from N(0, I)")\nplt.show()'
    assert miniae_site.alt_text("06", 4, "7. Generating: samples from the prior", source) == \
        "Lesson 06, figure 4 (section “7. Generating: samples from the prior”): 8-D VAE: decoded draws from N(0, I)"
    f_string = 'ax.set_title(f"{name}\\n5-NN accuracy in 2-D: {accuracy[name]:.2f}")'
    assert miniae_site.figure_titles(f_string) == ["… 5-NN accuracy in 2-D: …"]
    commented = "# two computation graphs: z sampled inside the graph\nfig, ax = plt.subplots()"
    assert miniae_site.alt_text("06", 2, "3. The trick", commented).endswith(": two computation graphs: "
                                                                             "z sampled inside the graph")
    assert miniae_site.alt_text("01", 1, "Data-specific", "plt.plot(x)") == "Lesson 01, figure 1: Data-specific"
    assert miniae_site.alt_text("01", 1, "", "plt.plot(x)") == "Lesson 01, figure 1"


# ------------------------------------------------------------------------------------------ building the site
def sphinx_build():
    """The README's sphinx-build, from this interpreter's environment."""
    script = Path(sys.executable).parent / "sphinx-build"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sphinx"]


def write_executed_lessons(notebook_runs, folder):
    """Each lesson executed by the session, with where it ran recorded in its metadata, into ``folder``."""
    info = miniae_site.execution_info(env=notebook_runs.env)
    folder.mkdir(parents=True, exist_ok=True)
    for relative in lesson_notebooks():
        nb = copy.deepcopy(notebook_runs.get(relative).result())
        nbformat.write(miniae_site.record(nb, info), str(folder / Path(relative).name))
    return info


def build_site(executed, out):
    """The site built by the README's command from the executed lessons in ``executed``: (seconds, output)."""
    env = dict(os.environ, **{miniae_site.EXECUTED_ENV: str(executed)})
    start = time.perf_counter()
    done = subprocess.run(sphinx_build() + ["-W", "--keep-going", "-q", "-c", "docs", ".", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert done.returncode == 0, f"sphinx-build -W failed:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    return seconds


def test_the_build_refuses_a_folder_that_holds_other_files(tmp_path):
    pytest.importorskip("sphinx", reason="the course site needs the [docs] extra")
    pytest.importorskip("myst_nb", reason="the course site needs the [docs] extra")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "mine.txt").write_text("a user's file")
    done = subprocess.run(sphinx_build() + ["-q", "-c", "docs", ".", str(folder)], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, **{miniae_site.EXECUTED_ENV: str(tmp_path / "none")}))
    assert done.returncode != 0
    assert "holds files that are not a site build (mine.txt" in done.stdout + done.stderr
    assert [p.name for p in folder.iterdir()] == ["mine.txt"], "the refused build left something behind"
    assert (folder / "mine.txt").read_text() == "a user's file"


# ------------------------------------------------------------------------------------------ the browser
def browser_or_skip():
    """playwright's sync API and Debian's chromium, or skip (fail in CI, where .ci/run installs both)."""
    problem = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        problem, sync_playwright = "playwright is not installed (pip install '.[docs]')", None
    if problem is None and not os.access(CHROMIUM, os.X_OK):
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set MINIAE_CHROMIUM)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the site's browser test cannot run in CI: {problem}")
        pytest.skip(problem)
    return sync_playwright


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass   # a browser that closes a connection early is no error of the site


@pytest.fixture
def served(tmp_path):
    """A function serving a folder on 127.0.0.1 (an ephemeral port) from a thread: returns the base URL."""
    servers = []

    def serve(folder):
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = QuietServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def site_pages(site):
    """Every HTML page of the built site, relative to it (Sphinx's own folders of assets left out)."""
    skip = {"_static", "_sources", "_downloads", "_images", "jupyter_execute", ".doctrees"}
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not skip & set(p.relative_to(site).parts))


@functools.lru_cache(maxsize=None)
def ids_in(path):
    """The id and name attributes of an HTML file (the anchors a link may point to)."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return set(re.findall(r"""\s(?:id|name)=["']([^"']+)["']""", text))


# what the page shows as text outside code, and what MathJax left unrendered or marked as an error
PAGE_STATE = r"""async () => {
  for (const img of document.images) { img.loading = "eager"; }
  await Promise.all(Array.from(document.images).map(img => img.decode().catch(() => null)));
  const skip = "pre, code, script, style, textarea, .highlight, mjx-container";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent || parent.closest(skip) || !parent.getClientRects().length) continue;
    texts.push(walker.currentNode.textContent);
  }
  return {
    text: texts.join(" "),
    images: Array.from(document.images).map(img => ({src: img.currentSrc || img.src, alt: img.getAttribute("alt"),
                                                    width: img.naturalWidth})),
    links: Array.from(document.querySelectorAll("a[href]")).map(a => a.href),
    mathErrors: document.querySelectorAll("mjx-merror, [data-mjx-error]").length,
    mathSources: document.querySelectorAll(".math").length,
    mathRendered: document.querySelectorAll("mjx-container").length,
    height: document.documentElement.scrollHeight,
  };
}"""

# MathJax 3 has typeset the page when its startup promise resolves
MATHJAX_DONE = """() => new Promise((resolve, reject) => {
  const started = Date.now();
  const wait = () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(() => resolve(true), reject);
    }
    else if (Date.now() - started > 20000) reject(new Error("MathJax did not start within 20 s"));
    else setTimeout(wait, 50);
  };
  wait();
})"""

# raw TeX that MathJax should have turned into math
RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\s][^$]*\$")


def check_page(page, base, site, relative, shots):
    """Open one page; return the problems found (a list of strings) and write its screenshot."""
    problems = []
    refresh = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', (site / relative).read_text(encoding="utf-8"))
    page.goto(base + relative, wait_until="load")
    if refresh:   # the site's top index.html leads to the home page
        target = urllib.parse.urljoin(base + relative, refresh[1])
        page.wait_for_url(target, wait_until="load")
    if page.evaluate("() => document.querySelector('.math') !== null"):
        page.evaluate(MATHJAX_DONE)
    state = page.evaluate(PAGE_STATE)
    for image in state["images"]:
        if not image["width"]:
            problems.append(f"image not loaded: {image['src']}")
        if not (image["alt"] or "").strip():
            problems.append(f"image without alt text: {image['src']}")
    if state["mathErrors"]:
        problems.append(f"{state['mathErrors']} MathJax error element(s)")
    if state["mathSources"] and not state["mathRendered"]:
        problems.append(f"{state['mathSources']} math element(s), none typeset")
    raw = RAW_MATH.findall(state["text"])
    if raw:
        problems.append(f"raw math in the text: {raw[:5]}")
    for link in state["links"]:
        problems += check_link(link, base, site, page.url)
    path = shots / (relative.replace("/", "__").removesuffix(".html") + ".png")
    height = min(state["height"], SCREENSHOT_HEIGHT["lessons" if relative.startswith("lessons/") else "other"])
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": height})
    return problems


def check_link(link, base, site, here):
    """A link of the page at ``here``: internal ones must name a file of the site and, with #id, an id in it."""
    if not link.startswith(base):
        return []
    parsed = urllib.parse.urlparse(link)
    relative = urllib.parse.unquote(parsed.path)[len(urllib.parse.urlparse(base).path):]
    target = site / relative
    if relative == "" or relative.endswith("/"):
        target = target / "index.html"
    if not target.is_file():
        return [f"broken link to {relative} (from {here})"]
    if parsed.fragment and target.suffix == ".html":
        fragment = urllib.parse.unquote(parsed.fragment)
        if fragment not in ids_in(str(target)):
            return [f"link to a missing anchor: {relative}#{fragment}"]
    return []


def search_finds(page, base, word, lesson):
    """Problems of the search page for ``word``: it must list a result that links to ``lesson``."""
    page.goto(base + "search.html?q=" + urllib.parse.quote(word), wait_until="load")
    try:
        page.wait_for_selector(f"#search-results a[href*='{lesson}']", timeout=20000)
    except Exception:   # playwright's TimeoutError
        found = page.evaluate("() => Array.from(document.querySelectorAll('#search-results a')).map(a => a.href)")
        return [f"search for {word!r} lists no link to {lesson} (results: {found[:10]})"]
    return []


def browse(site, base, shots, workers=1):
    """Open every page of the site served at ``base`` in headless Chromium, and its search; returns
    (pages, refused requests, console errors, {page: problems}, seconds).  ``workers`` browsers share the
    pages, each in a thread of its own (playwright's sync API wants one instance a thread); on two busy
    cores two took as long as one (rendering is CPU-bound), so one it is."""
    sync_playwright = browser_or_skip()
    pages = site_pages(site)
    refused, console, problems = [], [], {}
    # the lessons (the longest pages) first, dealt in turn to the workers
    ordered = sorted(pages, key=lambda page: not page.startswith("lessons/"))
    shares = [ordered[i::workers] for i in range(workers)]
    searches = [list(SEARCHES.items()) if i == workers - 1 else [] for i in range(workers)]

    def work(share, searches):
        current = {"page": None}

        def note(problem):
            problems.setdefault(current["page"], []).append(problem)

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport={"width": 1280, "height": 900})

            def route(request_route):
                if request_route.request.url.startswith(base):
                    request_route.continue_()
                else:
                    refused.append(request_route.request.url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda msg: console.append(f"{current['page']}: {msg.text}")
                    if msg.type == "error" else None)
            page.on("pageerror", lambda error: console.append(f"{current['page']}: page error {error}"))
            page.on("response", lambda response: note(f"HTTP {response.status} for {response.url}")
                    if response.status >= 400 else None)
            for relative in share:
                current["page"] = relative
                for problem in check_page(page, base, site, relative, shots):
                    note(problem)
            for word, lesson in searches:
                current["page"] = f"search.html?q={word}"
                for problem in search_finds(page, base, word, lesson):
                    note(problem)
                page.screenshot(path=str(shots / f"search-{word}.png"))
            browser.close()

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work, share, found) for share, found in zip(shares, searches)]:
            future.result()
    return pages, refused, console, problems, time.perf_counter() - start


def untracked(root=ROOT):
    """The untracked files of the checkout (``git status``), or None outside a git checkout."""
    done = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all"],
                          capture_output=True, text=True)
    return None if done.returncode != 0 else {line for line in done.stdout.splitlines() if line.startswith("??")}


@pytest.mark.notebooks
@pytest.mark.site
def test_site_builds_and_every_page_works_in_chromium(notebook_runs, tmp_path, served):
    browser_or_skip()
    executed, site = tmp_path / "executed", tmp_path / "site"
    write_executed_lessons(notebook_runs, executed)
    before = untracked()
    build_seconds = build_site(executed, site)
    after = untracked()
    print(f"\nsite built with -W from the session's executed lessons in {build_seconds:.1f} s: {site}")
    shots = Path(os.environ.get("MINIAE_SITE_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    pages, refused, console, problems, seconds = browse(site, served(site), shots)
    print(f"opened {len(pages)} pages and {len(SEARCHES)} searches in Chromium in {seconds:.1f} s; "
          f"screenshots in {shots}")
    (shots / "report.json").write_text(json.dumps({"pages": pages, "refused": refused, "console": console,
                                                   "problems": problems, "build_seconds": build_seconds,
                                                   "browser_seconds": seconds}, indent=1))
    if before is not None:
        assert after == before, f"the build wrote into the checkout: {sorted(after - before)}"
    assert len(pages) >= len(lesson_notebooks()) + 5, f"the site has only {len(pages)} pages: {pages}"
    assert not refused, f"{len(refused)} requests to other hosts (refused): {sorted(set(refused))[:20]}"
    assert not console, f"console errors: {console[:20]}"
    assert not problems, "pages with problems:\n" + "\n".join(f"{page}: {found[:8]}"
                                                             for page, found in problems.items())
