#!/usr/bin/env python
"""``make bench``: the book's performance against its targets, in one table.

Run from the repository root (``make bench``, or ``.venv/bin/python benchmarks/bench.py``).
It prints one Markdown table and writes it to ``benchmarks/results.md`` (included by the
book's performance page) and the raw numbers to ``benchmarks/results.json``.

Sections (each row states its target):

* ``sim``       simulator throughput of :func:`sgdsim.sgd` against a bare numpy kernel
                (same update, same random draws) and a Python loop over chains, all in the
                same run; the three are checked to give the same numbers first;
* ``stat``      wall time of the chapter-3 headline slope estimate to 0.5 % relative
                standard error (``sgdsim.book.tz_theorem.headline_slope``);
* ``notebooks`` wall time and peak memory of a headless execution of every chapter;
* ``book``      a cold ``jupyter-book build`` (fresh output directory);
* ``widgets``   the median time of one explorer update (simulate + draw + render to PNG
                with the Agg backend) over the explorer's slider values.

Everything except the book build runs with one BLAS/OpenMP thread ("one core").
Timings are medians over ``--repeats`` runs after a warm-up run. Use ``--quick`` for a
fast indicative run; quick and partial runs do not overwrite the saved results unless
``--write``.
This is never run as part of the tests: timings are not test assertions.
"""

from __future__ import annotations

import os

# One core for everything measured in this process and the notebook kernels it starts.
_ORIGINAL_ENV = dict(os.environ)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as _dt  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import sgdsim  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
SECTIONS = ("sim", "stat", "notebooks", "book", "widgets")

# Targets (issue 9).
TARGET_KERNEL_RATIO = 0.8
TARGET_LOOP_RATIO = 50.0
TARGET_STAT_SECONDS = 2.0
TARGET_RSE = 0.005
TARGET_NB_SECONDS = 15.0
TARGET_NB_MB = 500.0
TARGET_BOOK_SECONDS = 120.0
TARGET_WIDGET_MS = 100.0

# Notebook executions. nbclient (behind `jupyter nbconvert --execute`) waits for each
# cell's reply with an asyncio poll on a ZeroMQ socket, and on a busy machine that poll
# sometimes misses the wake-up: the kernel has replied (its timestamps show it) but the
# client sleeps until its cell timeout, then finds the reply and goes on. With no timeout
# it sleeps forever. So the cell timeout is the notebook target (a cell that needs longer
# misses the target anyway), a run with a gap of more than NB_STALL_SECONDS between one
# cell's reply and the next cell's start (or as much beyond the start-up allowance outside
# the cells) is a *stalled* run: it is reported and repeated,
# not timed; and a run still going after NB_RUN_TIMEOUT seconds is killed and repeated.
NB_CELL_TIMEOUT = 15
NB_STALL_SECONDS = 3.0
NB_STARTUP_SECONDS = 7.0  # start-up + shut-down allowance outside the cells (about 3 s)
NB_RUN_TIMEOUT = 120.0
NB_MAX_BAD_RUNS = 4

OK, MISS, NA = "✓", "✗", "—"


# --------------------------------------------------------------------------- helpers
class Row:
    """One line of the results table."""

    def __init__(self, section, item, measured, target, status, raw=None):
        self.section, self.item, self.measured = section, item, measured
        self.target, self.status, self.raw = target, status, raw or {}

    def as_dict(self):
        return dict(section=self.section, item=self.item, measured=self.measured,
                    target=self.target, status=self.status, raw=self.raw)


def _timed(fn):
    """Wall time of ``fn()`` in seconds (garbage collection paused)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    finally:
        if enabled:
            gc.enable()


def _sci(x: float) -> str:
    """1.9×10⁸ style."""
    if not np.isfinite(x) or x <= 0:
        return str(x)
    e = int(np.floor(np.log10(x)))
    m = x / 10**e
    sup = str(e).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{m:.2f}×10{sup}"


def _status(ok: bool) -> str:
    return OK if ok else MISS


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_text = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy
        blas_text = "unknown"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_text,
        "sgdsim": sgdsim.__version__,
        "os": f"{platform.system()} {platform.release()}",
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


# --------------------------------------------------------------------------- simulators
# Each case: a problem, a starting point, a rate; ``bare`` is the same update written as
# lean numpy -- the same Generator calls and the same floating-point operations as the
# library, with its fastest primitives (``take``, in-place arithmetic) and nothing else: no
# validation, no function layers, no divergence checks, no recording -- so the ratio
# lib/bare measures the library's overhead. ``loop`` is the same update looping in Python
# over the chains (per-chain numpy arithmetic on the chain's (dim,) vector) with the same
# per-step draws. All three must give the same numbers (checked before timing: bare and
# lib bit for bit; the loop to 1e-12 where its dot product sums in another order).

def _quadratic_case():
    g = np.random.default_rng(20240901)
    problem = sgdsim.Quadratic(g.normal(size=200), 1.0)
    centers, H, n = problem.centers, problem.H, problem.n

    h = float(H[0, 0])

    def bare(phi, lr, steps, gen):
        for _ in range(steps):
            i = gen.integers(0, n, size=(phi.shape[0], 1))
            g = centers.take(i[:, 0], axis=0)
            np.subtract(phi, g, out=g)
            g *= h
            g *= lr
            phi -= g
        return phi

    def loop(phi, lr, steps, gen):
        for _ in range(steps):
            i = gen.integers(0, n, size=(phi.shape[0], 1))
            for c in range(phi.shape[0]):
                phi[c] -= lr * ((phi[c] - centers[i[c, 0]]) @ H)
        return phi

    return dict(key="quadratic", title="1-D quadratic (n = 200, B = 1)", problem=problem,
                phi0=np.zeros(1), lr=0.01, chains=10_000, bare=bare, loop=loop)


def _linreg_case():
    g = np.random.default_rng(20240902)
    n, d = 1000, 20
    X = g.normal(size=(n, d))
    y = X @ g.normal(size=d) + 0.5 * g.normal(size=n)
    problem = sgdsim.LinearRegression(X, y)

    def bare(phi, lr, steps, gen):
        for _ in range(steps):
            i = gen.integers(0, n, size=(phi.shape[0], 1))[:, 0]
            xb = X.take(i, axis=0)
            r = np.einsum("ci,ci->c", xb, phi)
            r -= y.take(i)
            xb *= r[:, None]
            xb *= lr
            phi -= xb
        return phi

    def loop(phi, lr, steps, gen):
        for _ in range(steps):
            i = gen.integers(0, n, size=(phi.shape[0], 1))
            for c in range(phi.shape[0]):
                x = X[i[c, 0]]
                r = x @ phi[c] - y[i[c, 0]]
                phi[c] -= lr * (r * x)
        return phi

    return dict(key="linreg", title="linear regression (d = 20, n = 1000, B = 1)",
                problem=problem, phi0=np.zeros(d), lr=0.01, chains=1000, bare=bare,
                loop=loop, exact_loop=False)


def _double_well_case():
    h, w, c, var = 1.0, 1.0, 0.0, 1.0
    problem = sgdsim.double_well(barrier=h, width=w, tilt=c, noise_var=var)
    s = float(np.sqrt(var))

    def bare(phi, lr, steps, gen):
        for _ in range(steps):
            z = gen.standard_normal(phi.shape)
            u = phi / w
            np.square(u, out=u)
            u -= 1.0
            g = phi * (4.0 * h)
            g /= w**2
            g *= u
            g += c
            z *= s
            z += g
            z *= lr
            phi -= z
        return phi

    def loop(phi, lr, steps, gen):
        for _ in range(steps):
            z = gen.standard_normal(phi.shape)
            for k in range(phi.shape[0]):
                x = phi[k]
                phi[k] -= lr * (4.0 * h * x / w**2 * ((x / w) ** 2 - 1.0) + c + z[k] * s)
        return phi

    return dict(key="double_well", title="double well + Gaussian noise (σ² = 1)",
                problem=problem, phi0=np.ones(1), lr=0.01, chains=10_000, bare=bare,
                loop=loop)


def _lib(case, chains, steps, seed):
    traj = sgdsim.sgd(case["problem"], case["phi0"], case["lr"], steps, chains=chains,
                      rng=np.random.default_rng(seed), record_every=steps)
    return traj.final


def _kernel(case, which, chains, steps, seed):
    phi = np.repeat(np.asarray(case["phi0"], float)[None, :], chains, axis=0)
    return case[which](phi, case["lr"], steps, np.random.default_rng(seed))


def bench_simulators(args) -> list[Row]:
    rows = []
    steps = 500 if args.quick else 1000
    loop_chains, loop_steps = (20, 20) if args.quick else (100, 50)
    for case in (_quadratic_case(), _linreg_case(), _double_well_case()):
        chains = case["chains"]
        # 1. Same numbers: bare kernel bit-identical to the library, loop on a subset.
        a = _lib(case, chains, 50, 1)
        b = _kernel(case, "bare", chains, 50, 1)
        if not np.array_equal(a, b):
            raise AssertionError(f"{case['key']}: the bare kernel does not reproduce sgdsim.sgd "
                                 f"(max diff {np.max(np.abs(a - b)):.3g}); fix the benchmark")
        a = _lib(case, loop_chains, 20, 2)
        b = _kernel(case, "loop", loop_chains, 20, 2)
        same = np.array_equal(a, b) if case.get("exact_loop", True) else np.allclose(
            a, b, rtol=1e-12, atol=1e-12)
        if not same:
            raise AssertionError(f"{case['key']}: the Python loop does not reproduce sgdsim.sgd")

        # 2. Warm up, then interleave the implementations over the repeats.
        _lib(case, chains, 10, 0)
        _kernel(case, "bare", chains, 10, 0)
        times = {"lib": [], "bare": [], "loop": []}
        for r in range(args.repeats):
            order = ("lib", "bare", "loop") if r % 2 == 0 else ("loop", "bare", "lib")
            for which in order:
                if which == "lib":
                    t, _ = _timed(lambda: _lib(case, chains, steps, 10 + r))
                elif which == "bare":
                    t, _ = _timed(lambda: _kernel(case, "bare", chains, steps, 10 + r))
                else:
                    t, _ = _timed(lambda: _kernel(case, "loop", loop_chains, loop_steps, 10 + r))
                times[which].append(t)
        rate = {
            "lib": chains * steps / statistics.median(times["lib"]),
            "bare": chains * steps / statistics.median(times["bare"]),
            "loop": loop_chains * loop_steps / statistics.median(times["loop"]),
        }
        # Ratios from the runs of the same repetition (paired: they saw the same load).
        per_lib = [chains * steps / t for t in times["lib"]]
        per_bare = [chains * steps / t for t in times["bare"]]
        per_loop = [loop_chains * loop_steps / t for t in times["loop"]]
        k_ratio = statistics.median(a / b for a, b in zip(per_lib, per_bare))
        l_ratio = statistics.median(a / b for a, b in zip(per_lib, per_loop))
        # On a loaded machine noise only adds time: the ratio of the fastest runs is a
        # useful second opinion (reported, not used for the verdict).
        k_best = min(times["bare"]) / min(times["lib"])
        ok = k_ratio >= TARGET_KERNEL_RATIO and l_ratio >= TARGET_LOOP_RATIO
        chains_txt = f"10⁴ chains" if chains == 10_000 else f"10³ chains"
        rows.append(Row(
            "sim", f"`sgd` throughput: {case['title']}, {chains_txt}",
            f"{_sci(rate['lib'])} chain-steps/s = **{k_ratio:.2f}×** bare kernel "
            f"({_sci(rate['bare'])}; fastest runs {k_best:.2f}×), **{l_ratio:,.0f}×** Python "
            f"loop ({_sci(rate['loop'])})",
            f"≥ {TARGET_KERNEL_RATIO}× kernel, ≥ {TARGET_LOOP_RATIO:g}× loop", _status(ok),
            raw=dict(times=times, steps=steps, chains=chains, loop_chains=loop_chains,
                     loop_steps=loop_steps, rate=rate, kernel_ratio=k_ratio,
                     kernel_ratio_fastest=k_best,
                     loop_ratio=l_ratio)))
        print(f"  {case['key']}: lib {_sci(rate['lib'])}/s, {k_ratio:.2f}x kernel "
              f"(fastest {k_best:.2f}x), "
              f"{l_ratio:.0f}x loop", flush=True)
    return rows


# --------------------------------------------------------------------------- statistics
def bench_statistical(args) -> list[Row]:
    item = "TZ headline slope to 0.5 % relative s.e. (`sgdsim.book.tz_theorem.headline_slope`)"
    target = f"≤ {TARGET_STAT_SECONDS:g} s"
    try:
        from sgdsim.book import tz_theorem as tz
        fn = tz.headline_slope
    except (ImportError, AttributeError):
        return [Row("stat", item, "not available on this branch", target, NA)]
    times, rses, values = [], [], []
    for r in range(1 if args.quick else args.repeats):
        t, est = _timed(lambda: fn(rng=np.random.default_rng(1000 + r), target_rse=TARGET_RSE))
        times.append(t)
        values.append(float(est.value))
        rses.append(float(est.stderr) / abs(float(est.value)))
    med = statistics.median(times)
    ok = med <= TARGET_STAT_SECONDS and max(rses) <= TARGET_RSE
    return [Row("stat", item,
                f"{med:.2f} s (relative s.e. reached: {100 * max(rses):.3f} % at worst)",
                target, _status(ok), raw=dict(times=times, rse=rses, values=values))]


# --------------------------------------------------------------------------- notebooks
def _toc_order() -> list[str]:
    """Docnames in ``_toc.yml`` order (a tiny parser: ``file: ...`` lines)."""
    names = []
    for line in (ROOT / "_toc.yml").read_text().splitlines():
        s = line.strip().lstrip("-").strip()
        for key in ("root:", "file:"):
            if s.startswith(key):
                names.append(s[len(key):].strip())
    return names


def chapter_notebooks() -> list[Path]:
    order = {name: i for i, name in enumerate(_toc_order())}
    nbs = sorted((ROOT / "chapters").glob("*.ipynb"))
    return sorted(nbs, key=lambda p: (order.get(f"chapters/{p.stem}", 10**6), p.name))


def _vm_hwm_kib(pid: int) -> int:
    """Peak resident set size (Linux ``VmHWM``) of a live process, in KiB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _run_watched(cmd, *, cwd, env, timeout, poll=0.02):
    """Run ``cmd``; return (wall seconds, peak MiB of its descendants, stdout, rc, stderr).

    Memory: every ``poll`` seconds, read the high-water mark ``VmHWM`` of each descendant
    of the started process (the Jupyter kernel and anything it starts); the peak is the
    largest of them (as ``/usr/bin/time -v`` reports the largest process). ``VmHWM`` is
    the OS-maintained maximum RSS, so short spikes between polls are not missed. The
    processes are not summed: a short-lived child forked by the kernel (a font-cache or
    shell helper) shares the kernel's pages and would count them twice.

    Robustness: output goes to temporary files, not pipes, so a kernel that outlives
    ``nbconvert`` (and inherits its stdout) cannot block the reader; the command runs in
    its own session, and after ``timeout`` seconds, or once it has exited, every process
    left in that session is killed. A timed-out run returns ``rc = None``.
    """
    import signal

    import psutil

    peaks: dict[int, int] = {}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        parent = psutil.Process(proc.pid)
        timed_out = False
        while proc.poll() is None:
            if time.perf_counter() - t0 > timeout:
                timed_out = True
                break
            try:
                for child in parent.children(recursive=True):
                    hwm = _vm_hwm_kib(child.pid)
                    if hwm > peaks.get(child.pid, 0):
                        peaks[child.pid] = hwm
            except psutil.Error:
                pass
            time.sleep(poll)
        wall = time.perf_counter() - t0
        try:  # the whole session: nbconvert if it timed out, and any lingering kernel
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        out.seek(0)
        err.seek(0)
        rc = None if timed_out else proc.returncode
        return wall, max(peaks.values(), default=0) / 1024, out.read(), rc, err.read()


def _cell_stamps(nb_json: bytes) -> list | None:
    """(start, end) of every executed cell: the kernel's ``execute_input`` and
    ``execute_reply`` timestamps as nbclient records them; None if the output is unreadable."""
    try:
        nb = json.loads(nb_json)
        parse = _dt.datetime.fromisoformat
        stamps = []
        for cell in nb["cells"]:
            ex = cell.get("metadata", {}).get("execution", {})
            if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
                stamps.append((parse(ex["iopub.execute_input"].replace("Z", "+00:00")),
                               parse(ex["shell.execute_reply"].replace("Z", "+00:00"))))
        return stamps
    except (ValueError, KeyError):
        return None


def _cells_seconds(stamps) -> float | None:
    """Kernel time from the first cell's start to the last cell's reply."""
    if not stamps:
        return None
    return (max(e for _, e in stamps) - min(s for s, _ in stamps)).total_seconds()


def _client_stall_seconds(stamps) -> float:
    """Longest wait between a cell's reply and the next cell's start (kernel timestamps).

    The kernel stamps ``execute_input`` when a cell starts and ``execute_reply`` when it
    ends; the time between one cell's reply and the next cell's input is client-side
    latency (normally milliseconds). A missed wake-up of the client shows here as a gap
    close to the cell timeout.
    """
    if stamps is None:
        return float("inf")
    gaps = [(nxt[0] - cur[1]).total_seconds() for cur, nxt in zip(stamps, stamps[1:])]
    return max(gaps, default=0.0)


def bench_notebooks(args) -> list[Row]:
    jupyter = Path(sys.executable).with_name("jupyter")
    rows = []
    nbs = chapter_notebooks()
    if not nbs:
        return [Row("notebooks", "chapter notebooks", "none found", "", MISS)]
    reps = 1 if args.quick else args.nb_repeats
    for nb in nbs:
        walls, mems, cells = [], [], []
        failed, timeouts, stalls = None, 0, 0
        while len(walls) < reps:
            wall, mem, out, rc, err = _run_watched(
                [str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--stdout",
                 f"--ExecutePreprocessor.timeout={NB_CELL_TIMEOUT}", str(nb)],
                cwd=ROOT, env=os.environ.copy(), timeout=NB_RUN_TIMEOUT)
            if rc is None:  # still running: killed; say so in the table, and repeat
                timeouts += 1
                print(f"  {nb.name}: no result after {NB_RUN_TIMEOUT:g} s; killed", flush=True)
            elif rc != 0:
                failed = err.decode(errors="replace").strip().splitlines()[-1:]
                break
            else:
                stamps = _cell_stamps(out)
                cells_s = _cells_seconds(stamps)
                stall = max(_client_stall_seconds(stamps),
                            wall - (cells_s or 0.0) - NB_STARTUP_SECONDS)
                if stall <= NB_STALL_SECONDS:
                    walls.append(wall)
                    mems.append(mem)
                    cells.append(cells_s)
                    continue
                stalls += 1
                print(f"  {nb.name}: client stalled {stall:.1f} s between cells (missed "
                      "wake-up); repeating", flush=True)
            if timeouts + stalls >= NB_MAX_BAD_RUNS:
                failed = [f"{timeouts} runs killed after {NB_RUN_TIMEOUT:g} s and {stalls} "
                          "stalled runs"]
                break
        name = f"notebook `{nb.relative_to(ROOT)}`"
        if failed is not None:
            rows.append(Row("notebooks", name, f"execution failed: {failed}",
                            f"≤ {TARGET_NB_SECONDS:g} s, ≤ {TARGET_NB_MB:g} MB", MISS))
            continue
        wall, mem = statistics.median(walls), max(mems)
        cell_times = [c for c in cells if c is not None]
        cell_txt = f" (cells {statistics.median(cell_times):.1f} s)" if cell_times else ""
        bad = []
        if stalls:
            bad.append(f"{stalls} stalled run(s) repeated")
        if timeouts:
            bad.append(f"{timeouts} run(s) killed after {NB_RUN_TIMEOUT:g} s and repeated")
        hung = f"; {', '.join(bad)}" if bad else ""
        ok = wall <= TARGET_NB_SECONDS and mem <= TARGET_NB_MB
        rows.append(Row("notebooks", name,
                        f"{wall:.1f} s{cell_txt}, {mem:.0f} MB peak{hung}",
                        f"≤ {TARGET_NB_SECONDS:g} s, ≤ {TARGET_NB_MB:g} MB", _status(ok),
                        raw=dict(wall=walls, peak_mb=mems, cells=cells, timeouts=timeouts,
                                 stalled_runs=stalls)))
        print(f"  {nb.name}: {wall:.1f} s, {mem:.0f} MB", flush=True)
    return rows


def bench_book(args) -> list[Row]:
    item = "cold `jupyter-book build` (fresh output directory, as `make book`)"
    target = f"≤ {TARGET_BOOK_SECONDS:g} s"
    if args.skip_book:
        return [Row("book", item, "skipped (--skip-book)", target, NA)]
    jb = Path(sys.executable).with_name("jupyter-book")
    with tempfile.TemporaryDirectory(prefix="sgd-book-bench-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(jb), "build", str(ROOT), "--builder", "html", "-W", "-n", "--keep-going",
             "--path-output", tmp],
            cwd=ROOT, env=_ORIGINAL_ENV, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        built = (Path(tmp) / "_build" / "html" / "index.html").exists()
    if proc.returncode != 0 or not built:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        return [Row("book", item, f"build FAILED after {wall:.0f} s: {' / '.join(tail)}",
                    target, MISS)]
    return [Row("book", item, f"{wall:.0f} s", target, _status(wall <= TARGET_BOOK_SECONDS),
                raw=dict(wall=wall))]


# --------------------------------------------------------------------------- widgets
def bench_widgets(args) -> list[Row]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sgdsim import widgets

    target = f"≤ {TARGET_WIDGET_MS:g} ms"
    sgdsim.plotting.use_book_style()
    try:
        found = widgets.iter_explorers()
    except (TypeError, ValueError) as exc:
        return [Row("widgets", "explorers (`EXPLORERS` in `sgdsim.widgets.*`)",
                    f"invalid: {exc}", target, MISS)]
    if not found:
        return [Row("widgets", "explorers (`EXPLORERS` in `sgdsim.widgets.*`)",
                    "none found on this branch", target, NA)]

    def update(spec, values):
        # Exactly what the widget does: simulate and draw, then render the PNG it shows
        # (the explorer's LiveFigure, or sgdsim.widgets.render_png for pyplot figures).
        plt.close("all")
        images = widgets.rendered_update(spec.draw(**{**spec.defaults, **values}))
        plt.close("all")
        if not images:
            raise RuntimeError("the explorer drew no figure")

    rows = []
    for name, spec in found:
        sweep = spec.sweep[:3] if args.quick else spec.sweep
        try:
            update(spec, {})  # warm-up (imports, caches, font loading)
            times = [_timed(lambda v=v: update(spec, v))[0] * 1e3 for v in sweep]
        except Exception as exc:  # report, and go on with the other explorers
            plt.close("all")
            rows.append(Row("widgets", f"explorer `{name}`",
                            f"update failed: {type(exc).__name__}: {str(exc)[:120]}",
                            target, MISS))
            continue
        med = statistics.median(times)
        rows.append(Row("widgets", f"explorer `{name}`",
                        f"median {med:.0f} ms, max {max(times):.0f} ms over {len(times)} "
                        "slider values", target, _status(med <= TARGET_WIDGET_MS),
                        raw=dict(ms=times)))
        print(f"  {name}: median {med:.0f} ms", flush=True)
    return rows


def widgets_dpi() -> str:
    from sgdsim import widgets

    return f"{widgets.EXPLORER_DPI:g}"


# --------------------------------------------------------------------------- output
def render(rows: list[Row], machine: dict, args) -> str:
    mode = "quick mode (indicative only)" if args.quick else f"{args.repeats} repeats"
    lines = [
        "| Benchmark | Measured (median) | Target | Met |",
        "| --- | --- | --- | :-: |",
    ]
    def cell(text):
        return str(text).replace("|", "\\|").replace("\n", " ")

    for r in rows:
        lines.append(f"| {cell(r.item)} | {cell(r.measured)} | {cell(r.target)} | {r.status} |")
    load = machine["load_average_start"]
    sim = [r.raw for r in rows if r.section == "sim" and r.raw]
    if sim:
        lines += [
            "",
            f"Throughput: each run makes {sim[0]['steps']} steps (`record_every` = steps, so "
            "only the first and last states are recorded); ratios are medians over the "
            "repetitions of the ratio within a repetition. The bare kernel reproduces "
            "`sgdsim.sgd` bit for bit, the Python loop to 10⁻¹² (checked first); the loop is "
            f"timed on {sim[0]['loop_chains']} chains × {sim[0]['loop_steps']} steps, and as "
            "its cost is proportional to chains × steps its rate per chain-step applies to "
            "any number of chains. \"Fastest runs\" is the ratio of the two minimum times, a "
            "second opinion when other work on the machine inflates some runs. Notebooks: wall time of `jupyter nbconvert --execute` "
            "(including Jupyter and kernel start-up; \"cells\" = first cell to last) and "
            "the kernel's peak resident memory (Linux `VmHWM`, polled every 20 ms); a "
            "\"stalled\" run (nbclient missed a reply's wake-up and waited for its cell "
            f"timeout of {NB_CELL_TIMEOUT} s) is repeated, not timed. Explorers: simulate, "
            "draw and render the PNG the widget shows (`sgdsim.widgets.LiveFigure`: the "
            "background once, then only what the controls change; "
            f"{widgets_dpi()} dpi).",
        ]
    lines += [
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
        f"{machine['os']}; Python {machine['python']}, numpy {machine['numpy']}, "
        f"BLAS {machine['blas']}; one BLAS thread except for the book build. "
        f"Load average at start {load[0]:.2f} / end {machine['load_average_end'][0]:.2f} "
        f"(1 min); {mode}; run {machine['date']}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small sizes, one repeat; does not write results unless --write")
    p.add_argument("--repeats", type=int, default=7,
                   help="repeats for simulator and statistics timings (default 7)")
    p.add_argument("--nb-repeats", type=int, default=3,
                   help="executions of each notebook (default 3)")
    p.add_argument("--only", action="append", choices=SECTIONS,
                   help="run only this section (repeatable)")
    p.add_argument("--skip-book", action="store_true", help="skip the cold book build")
    p.add_argument("--write", action="store_true",
                   help="write results even for a quick or partial run (--only, --skip-book)")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    p.add_argument("--output-dir", type=Path, default=HERE)
    args = p.parse_args(argv)
    if args.quick:
        args.repeats = min(args.repeats, 3)
    if args.repeats < 1 or args.nb_repeats < 1:
        p.error("--repeats and --nb-repeats must be >= 1")
    sections = args.only or list(SECTIONS)

    machine = machine_info()
    runners = dict(sim=bench_simulators, stat=bench_statistical, notebooks=bench_notebooks,
                   book=bench_book, widgets=bench_widgets)
    rows = []
    for s in SECTIONS:
        if s in sections:
            print(f"[{s}]", flush=True)
            rows += runners[s](args)
    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    machine["date"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = render(rows, machine, args)
    print()
    print(table)

    complete = not (args.quick or args.only or args.skip_book)
    write = (args.write or complete) and not args.no_write
    if not write and not args.no_write:
        print("(a quick or partial run: results not written; add --write to save them)")
    if write:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / "results.md").write_text(
            "% Written by `make bench` (benchmarks/bench.py); do not edit by hand.\n\n"
            + table)
        argv = {k: (str(v.relative_to(ROOT)) if isinstance(v, Path) and v.is_relative_to(ROOT)
                    else str(v)) for k, v in vars(args).items()}
        payload = dict(machine=machine, args=argv,
                       sections=sections, rows=[r.as_dict() for r in rows])
        (args.output_dir / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
        print(f"wrote {args.output_dir / 'results.md'} and results.json")
    missed = [r.item for r in rows if r.status == MISS]
    if missed:
        print(f"{len(missed)} target(s) missed: " + "; ".join(missed))
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
