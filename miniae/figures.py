"""``miniae figures``: regenerate the README's figures from the code the lessons run.

The lessons draw every figure in their own cells and hand it to
``miniae.plot.export_figure(fig, name)``, which writes a PNG only when the environment
variable MINIAE_FIGURE_DIR names a folder.  This command sets it and executes every lesson
notebook top to bottom (nbclient, from the ``[lessons]`` extra), then draws the two figures
of ``miniae compare-pca``.  So a figure in the README is always what a lesson shows.
Run in a checkout, ``miniae figures --force`` rewrites the checkout's ``figures/``.
"""
import os
import platform
import time
from pathlib import Path

from . import compare
from .threads import one_thread
from .validation import MiniaeInputError


def add_arguments(parser):
    """Add the arguments of ``miniae figures`` to ``parser``."""
    parser.add_argument("--lessons", default="lessons",
                        help="folder holding the lesson notebooks 01_*.ipynb ... (default ./lessons)")
    parser.add_argument("--out", default="figures", help="folder to write the PNGs into (default ./figures)")
    parser.add_argument("--only", default=None, help="only the lessons whose file name contains this")
    parser.add_argument("--force", action="store_true", help="overwrite PNGs that already exist in --out")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per notebook cell (default 900)")


def lesson_notebooks(folder, only=None):
    """The lesson notebooks ``NN_*.ipynb`` in ``folder``, sorted; those whose file name contains ``only``
    when it is given.  A folder without lessons is refused."""
    folder = Path(folder)
    notebooks = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise MiniaeInputError(f"--lessons {str(folder)!r} holds no lesson notebooks (01_*.ipynb, ...); "
                               "pass the folder of the course's lessons")
    return [path for path in notebooks if only is None or only in path.name]


def execute_notebook(path, timeout):
    """Run the notebook at path top to bottom in a fresh kernel, in its own folder; nothing is saved."""
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:  # an optional dependency: the [lessons] extra
        raise MiniaeInputError("miniae figures executes the lessons and needs nbclient: "
                               "pip install 'miniae[lessons]'") from None
    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def run(args):
    """Execute the lessons with MINIAE_FIGURE_DIR set, then draw compare-pca's figures; list what was written."""
    out = Path(args.out)
    notebooks = lesson_notebooks(args.lessons, args.only)
    existing = sorted(p.name for p in out.glob("*.png")) if out.is_dir() else []
    if existing and not args.force:
        raise MiniaeInputError(f"{out} already holds {len(existing)} PNG files ({', '.join(existing[:3])}, ...); "
                               "pass --force to overwrite them or --out to write elsewhere")
    out.mkdir(parents=True, exist_ok=True)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    # the kernels inherit this environment: where to write, one BLAS thread and, on x86-64, one OpenBLAS
    # kernel (Haswell's, which every x86-64 CPU NumPy's wheels support runs), so that the figures have the
    # same bits on any such machine: the thread count and the kernel change how a product is summed.
    # The lessons' claims hold in any environment; only the figures' bits are pinned here.
    settings = {"MINIAE_FIGURE_DIR": str(out.resolve()), "MPLBACKEND": "Agg",
                **{name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    if platform.machine().lower() in ("x86_64", "amd64"):
        settings["OPENBLAS_CORETYPE"] = "Haswell"
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        for path in notebooks:
            start = time.perf_counter()
            execute_notebook(path, args.timeout)
            print(f"{path.name:<40} executed in {time.perf_counter() - start:.0f}s", flush=True)
    finally:
        for name, value in previous.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
    if args.only is None:
        with one_thread():  # the same bits on any machine (see miniae.threads)
            compare.make_figures(out)
    written = sorted(p.name for p in out.glob("*.png") if before.get(p.name) != p.stat().st_mtime_ns)
    print(f"{len(written)} figures written to {out}: {', '.join(written)}")
    return 0
