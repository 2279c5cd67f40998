"""Rerun lessons over seeds and numeric environments and record the spread of every claim.

A lesson's asserted statements are ``miniae.claims.claim(name, value, above=, below=)`` calls. This
tool executes each lesson once per (environment, seed) with MINIAE_CLAIMS_LOG set, so every claim
is recorded with its value instead of raised, and writes

    tools/claims/<lesson>.json   every run's claims, cell errors, seconds, and where it ran
    tools/claims/README.md       one table per lesson: each claim's band and the values seen

A lesson's seed is the line ``SEED = 0`` in its first code cell; the sweep replaces the number.
An environment is CORETYPE:THREADS, e.g. ``Haswell:1`` (OPENBLAS_CORETYPE=Haswell, one BLAS
thread) or ``native:2`` (the kernel OpenBLAS picks for this CPU, two threads). Runs with one thread
go ``--jobs`` at a time; a run with more threads runs alone, so that it is not measured on a busy
machine.

    python tools/claims_sweep.py                         # every lesson, seeds 0 1 2, three environments
    python tools/claims_sweep.py lessons/04_denoising.ipynb --seeds 0 1 2 3 4
    python tools/claims_sweep.py --table                 # only rewrite README.md from the JSON files

Run it from a checkout with miniae installed (``pip install '.[lessons]'``); it writes only into
--out and a temporary folder.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
DEFAULT_OUT = ROOT / "tools" / "claims"
DEFAULT_ENVS = ["native:1", "Haswell:1", "SandyBridge:2"]
SEED_LINE = re.compile(r"^SEED = \d+", re.MULTILINE)


def parse_env(text):
    """'Haswell:1' -> ('Haswell', 1); the kernel 'native' leaves OPENBLAS_CORETYPE unset."""
    kernel, _, threads = text.partition(":")
    if not kernel or not threads.isdigit() or int(threads) < 1:
        raise argparse.ArgumentTypeError(f"an environment is CORETYPE:THREADS such as Haswell:1, got {text!r}")
    return kernel, int(threads)


def environment(kernel, threads, log):
    env = dict(os.environ)
    for var in ("MINIAE_FIGURE_DIR", "OPENBLAS_CORETYPE"):
        env.pop(var, None)
    if kernel != "native":
        env["OPENBLAS_CORETYPE"] = kernel
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["MPLBACKEND"] = "Agg"
    env["MINIAE_CLAIMS_LOG"] = str(log)
    return env


def with_seed(source_path, seed, target_path):
    """Copy a notebook, its ``SEED = 0`` line set to ``seed``; False when it has no such line."""
    import nbformat

    nb = nbformat.read(str(source_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and SEED_LINE.search(cell.source):
            cell.source = SEED_LINE.sub(f"SEED = {seed}", cell.source, count=1)
            nbformat.write(nb, str(target_path))
            return True
    nbformat.write(nb, str(target_path))
    return False


def execute_one(path, timeout):
    """(In a subprocess.) Execute the notebook at ``path`` in its folder; print the cell errors as JSON."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    client.execute()
    errors = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append({"cell": index, "error": f"{out['ename']}: {out['evalue']}"[:400]})
    print(json.dumps(errors))


def blas_kernel(env):
    """The OpenBLAS kernel NumPy loads in ``env`` (threadpoolctl), e.g. 'Haswell'."""
    code = ("import numpy, threadpoolctl; "
            "info = [i for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas']; "
            "print(info[0].get('architecture') if info else 'unknown')")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def run(lesson, kernel, threads, seed, workdir, timeout):
    """Execute one lesson in one environment with one seed; return the run's record."""
    snapshot = Path(workdir) / "lessons"   # the lessons as they were when the sweep started
    folder = Path(workdir) / f"{lesson.stem}-{kernel}-{threads}-{seed}"
    shutil.copytree(snapshot, folder)
    path = folder / lesson.name
    seeded = with_seed(snapshot / lesson.name, seed, path)
    log = folder / "claims.jsonl"
    env = environment(kernel, threads, log)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--execute-one", str(path), "--timeout", str(timeout)],
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    try:
        errors = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        errors = [{"cell": None, "error": f"the run failed: {done.stderr.strip()[-400:]}"}]
    claims = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    shutil.rmtree(folder, ignore_errors=True)
    return {"env": f"{kernel}:{threads}", "kernel": blas_kernel(env), "seed": seed if seeded else None,
            "seconds": round(seconds, 1), "claims": claims, "errors": errors}


def sweep(lessons, envs, seeds, jobs, timeout, out):
    out.mkdir(parents=True, exist_ok=True)
    runs = [(lesson, kernel, threads, seed) for lesson in lessons for kernel, threads in envs for seed in seeds]
    alone = [r for r in runs if r[2] > 1]
    together = [r for r in runs if r[2] == 1]
    results = {lesson.stem: [] for lesson in lessons}
    with tempfile.TemporaryDirectory(prefix="claims-sweep-") as workdir:
        # every run starts from this copy, so editing a lesson while the sweep runs changes none of its runs
        shutil.copytree(LESSONS, Path(workdir) / "lessons",
                        ignore=shutil.ignore_patterns("exercises", ".ipynb_checkpoints"))
        for batch, width in ((together, jobs), (alone, 1)):
            with concurrent.futures.ThreadPoolExecutor(max_workers=width) as pool:
                futures = {pool.submit(run, *r, workdir, timeout): r for r in batch}
                for future in concurrent.futures.as_completed(futures):
                    lesson, kernel, threads, seed = futures[future]
                    record = future.result()
                    results[lesson.stem].append(record)
                    outside = sum(not c["inside"] for c in record["claims"])
                    print(f"{lesson.stem} {kernel}:{threads} seed {seed}: {len(record['claims'])} claims, "
                          f"{outside} outside, {len(record['errors'])} cell errors, {record['seconds']} s", flush=True)
    command = "python tools/claims_sweep.py " + " ".join(sys.argv[1:])
    where = {"machine": machine(), "numpy": numpy_version(), "date": datetime.date.today().isoformat(),
             "command": command.strip()}
    for lesson in lessons:
        ordered = sorted(results[lesson.stem], key=lambda r: (r["env"], r["seed"] if r["seed"] is not None else -1))
        (out / f"{lesson.stem}.json").write_text(json.dumps({**where, "runs": ordered}, indent=1) + "\n")


def machine():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or model
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"


def numpy_version():
    code = ("import numpy, scipy, sklearn; print(f'NumPy {numpy.__version__}, SciPy {scipy.__version__}, "
            "scikit-learn {sklearn.__version__}')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return done.stdout.strip()


def fmt(value):
    return "-" if value is None else f"{value:.4g}"


def table(out):
    """README.md of ``out``: per lesson, each claim's band, the values seen and how many runs held it."""
    lines = ["# Claims sweep", "",
             "Every `claim(...)` a lesson asserts, rerun over seeds and numeric environments by "
             "`tools/claims_sweep.py` (see its docstring). *runs held* counts the runs whose value was inside the "
             "band; *closest* is the smallest distance from a value to the band's nearer end, as a fraction of "
             "that end (or absolute where the end is 0). A band is set from this table, inside what was seen. "
             "The seconds are wall-clock time on the machine as it was during the sweep (runs side by side, "
             "other work), not the lesson's time alone.", ""]
    for path in sorted(out.glob("*.json")):
        data = json.loads(path.read_text())
        runs = data["runs"]
        envs = sorted({f"{r['env']} ({r['kernel']})" for r in runs})
        seeds = sorted({str(r["seed"]) for r in runs})
        lines += [f"## {path.stem}", "",
                  f"`{data['command']}` on {data['date']}: {data['machine']}; {data['numpy']}.",
                  f"Environments: {', '.join(envs)}; seeds: {', '.join(seeds)}; {len(runs)} runs, "
                  f"{sum(r['seconds'] for r in runs) / max(len(runs), 1):.0f} s each on average.", "",
                  "| claim | band | min | median | max | runs held | closest |", "|---|---|---|---|---|---|---|"]
        names = []
        for r in runs:
            for c in r["claims"]:
                if c["name"] not in names:
                    names.append(c["name"])
        for name in names:
            seen = [c for r in runs for c in r["claims"] if c["name"] == name]
            values = [c["value"] for c in seen]
            above, below = seen[0]["above"], seen[0]["below"]
            band = (f"({fmt(above)}, {fmt(below)})" if above is not None and below is not None
                    else f"> {fmt(above)}" if above is not None else f"< {fmt(below)}")
            gaps = []
            for v in values:
                for end, sign in ((above, 1), (below, -1)):
                    if end is not None:
                        gaps.append(sign * (v - end) / (abs(end) if end else 1))
            closest = min(gaps) if gaps else None
            held = sum(c["inside"] for c in seen)
            lines.append(f"| {name} | {band} | {fmt(min(values))} | {fmt(statistics.median(values))} | "
                         f"{fmt(max(values))} | {held}/{len(runs)} | {fmt(closest)} |")
        errors = [(r["env"], r["seed"], e) for r in runs for e in r["errors"]]
        errors = [(env, seed, e) for env, seed, e in errors if not e["error"].startswith("ClaimError")]
        if errors:
            lines += ["", "Cell errors other than claims:"]
            lines += [f"- {env} seed {seed}, cell {e['cell']}: {e['error']}" for env, seed, e in errors]
        lines.append("")
    (out / "README.md").write_text("\n".join(lines))
    return out / "README.md"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", type=Path, help="lesson notebooks (default: every lessons/NN_*.ipynb)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--envs", nargs="+", type=parse_env, default=[parse_env(e) for e in DEFAULT_ENVS])
    parser.add_argument("--jobs", type=int, default=2, help="one-thread runs at once (default 2)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may take")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--table", action="store_true", help="only rewrite the table from --out's JSON files")
    parser.add_argument("--execute-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.execute_one:
        return execute_one(args.execute_one, args.timeout)
    if not args.table:
        lessons = [Path(p) for p in args.lessons] or sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
        for lesson in lessons:
            if not (LESSONS / lesson.name).exists():
                parser.error(f"{lesson} is not a lesson in {LESSONS}")
        sweep(lessons, args.envs, args.seeds, args.jobs, args.timeout, args.out)
    print(f"wrote {table(args.out)}")


if __name__ == "__main__":
    main()
