"""Sphinx configuration of the course site.

Built from the checkout's root, with this folder as the configuration folder (README, "The course site"):

    sphinx-build -W -c docs . SITE_FOLDER

The root is the source folder so that the pages can be the lessons themselves (lessons/NN_*.ipynb, executed
by myst-nb) beside the pages in docs/; include_patterns keeps every other file of the checkout out. Nothing is
written into the checkout: the doctrees go to SITE_FOLDER/.doctrees and the lessons execute in a temporary
folder. MINIAE_EXECUTED_LESSONS=DIR builds from executed copies in DIR instead of executing (tests/test_site.py
does that with the lessons its session has executed).
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True   # no __pycache__ left in docs/_ext

import miniae_site  # noqa: E402  (after the path above)

sys.dont_write_bytecode = _bytecode

project = "miniae"
author = "the miniae authors"
copyright = "the miniae authors, MIT licence"
release = version = "0.1.0"

extensions = [
    "myst_nb",                 # markdown pages and the executed notebooks (it brings myst_parser)
    "sphinx.ext.autodoc",      # the API reference from the docstrings
    "sphinx.ext.mathjax",      # math, with the local MathJax below
    "miniae_site",             # docs/_ext/miniae_site.py: executed copies, execution notes, alt text, safety
]

root_doc = "docs/index"
# the site's pages, the lessons, and the table of the lessons' claims (tools/claims/README.md, which README links)
include_patterns = ["docs/**", "lessons/[0-9][0-9]_*.ipynb", "tools/claims/README.md"]
# every other top-level name of the checkout is left out, so Sphinx never walks into .venv/, .git/ or a site
# folder the user put inside the checkout
exclude_patterns = sorted(name for name in os.listdir(miniae_site.ROOT) if name not in ("docs", "lessons", "tools")) + [
    "docs/_ext", "docs/_static", "docs/_templates", "lessons/exercises", "**/.ipynb_checkpoints"]

# ------------------------------------------------------------------------------------------ MyST and notebooks
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True   # $$...$$ inside a paragraph is display math, as Jupyter shows it

EXECUTED = os.environ.get(miniae_site.EXECUTED_ENV)
nb_execution_mode = "off" if EXECUTED else "force"
nb_execution_timeout = 900      # per cell; the longest lesson cell takes a few minutes on a busy 2-core machine
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_in_temp = True     # the kernel works in a temporary folder: nothing written beside the lessons, and
                                # `import miniae` imports the installed package, as in a student's kernel
nb_merge_streams = True
nb_ipywidgets_js = {}           # no widget scripts from a CDN
if not EXECUTED:
    # the kernels inherit this environment: one BLAS thread, as the tests run the lessons (the claims' bands
    # were swept with it), inline figures (a user's MPLBACKEND=Agg would hide them), no figure files written
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")
    os.environ.pop("MPLBACKEND", None)
    os.environ.pop("MINIAE_FIGURE_DIR", None)

# ------------------------------------------------------------------------------------------ math: local MathJax 3
# miniae_site copies MathJax 3 (the files of PyPI's django-static-mathjax, MathJax's own build) into _static/mathjax/
# at the end of the build. Its SVG output draws every glyph as a path: no fonts to load, from anywhere.
mathjax_path = "mathjax/tex-svg-full.js"
mathjax3_config = {
    "tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
    "svg": {"fontCache": "global"},
}

# ------------------------------------------------------------------------------------------ API reference
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_preserve_defaults = True   # signatures show defaults as written (dtype=np.float64), not their repr
add_module_names = False

# ------------------------------------------------------------------------------------------ HTML
html_theme = "sphinx_book_theme"
html_title = "miniae: autoencoders from scratch"
html_static_path = ["_static"]
html_css_files = ["miniae.css"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
    # the pages of wide tables (benchmarks, the claims sweep) give the in-page contents' column to the tables
    "secondary_sidebar_items": {"**": ["page-toc"], "docs/benchmarks": [], "tools/claims/README": []},
}
html_show_sphinx = False
html_last_updated_fmt = None
html_copy_source = True         # a lesson's .ipynb (with outputs) can be downloaded from its page
html_favicon = "_static/favicon.svg"     # a page without one makes the browser ask for /favicon.ico
html_context = {"default_mode": "light"}  # the theme's light/dark switch starts at light (unset, it logs an error)
