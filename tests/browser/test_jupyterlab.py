"""Every chapter as a student runs it on Binder: in JupyterLab, in a real (headless) browser.

Run with ``make test-lab`` (CI does, after ``make test-browser``; needs Debian's ``chromium``
and ``chromium-driver``, and fails without them). A JupyterLab server is started from this
environment on 127.0.0.1 (free port, random token, no browser), serving a temporary copy of
``chapters/`` (JupyterLab autosaves: the repository's notebooks are never touched); its kernels
import ``sgdsim`` from this checkout's ``lib/`` and run without ``SGDSIM_STATIC_BUILD``, so the
explorers are live ipywidgets; the copies are trusted, as Binder's ``postBuild`` trusts the
chapters (their stored players render on open). For every chapter, headless Chromium (every host but 127.0.0.1
unresolvable) opens the notebook and clicks Run > Run All Cells; then:

* every code cell ran in the fresh kernel (one ``execute_reply``, status ``ok``, per non-empty
  code cell; its execution count shown; the kernel idle at the end) and no output is an error;
* every explorer cell (``NBVAL_IGNORE_OUTPUT`` + ``explorer(``) rendered its widgets: an
  ``interactive`` box with its controls, each with a visible size, and a picture (PNG ``img``),
  not the text fallback that shows when the widget front end is missing;
* every slider of every explorer is dragged with the mouse (press on the handle, move, release)
  to an intermediate position; its handle and readout must then show a new value strictly
  between the slider's minimum and maximum, and the explorer's picture must change (the kernel
  redrew it); an explorer's dropdown, if any, is set to another option, and the picture changes;
* the browser console has no error (SEVERE) entry.

A screenshot of each chapter (its last explorer after the drags) is saved as
``_build/screenshots/lab_<chapter>.png``; the server's log and what was checked (per chapter:
times, cells, explorers, controls, each slider's move) go to ``_build/jupyterlab/``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
LOGS = ROOT / "_build" / "jupyterlab"
RESULTS: dict[str, dict] = {}  # written to _build/jupyterlab/results.json
EXPLORER_TEXT = "Interactive explorer: run the notebook in Jupyter"  # the widgets' text form

pytestmark = pytest.mark.lab

SERVER_START_TIMEOUT = 120.0  # s, for the server to answer
KERNEL_TIMEOUT = 120.0        # s, for a fresh kernel to be idle
RUN_ALL_TIMEOUT = 600.0       # s, for Run All (a chapter takes 10-25 s on an idle machine)
REDRAW_TIMEOUT = 90.0         # s, for an explorer to redraw after a slider is released


def explorer_cells(name: str) -> list[int]:
    """Indices of a chapter's explorer cells (the cells that create an ipywidgets explorer)."""
    nb = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and "NBVAL_IGNORE_OUTPUT" in c.source and "explorer(" in c.source]


def code_cell_count(name: str) -> int:
    nb = nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)
    return sum(c.cell_type == "code" and c.source.strip() != "" for c in nb.cells)


# ------------------------------------------------------------------------- the server

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    def __init__(self, base: str, token: str, proc: subprocess.Popen, log: Path):
        self.base, self.token, self.proc, self.log = base, token, proc, log

    def api(self, method: str, path: str, timeout: float = 10.0):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server from this environment, on 127.0.0.1, serving a copy of chapters/."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "root"
    shutil.copytree(ROOT / "chapters", root / "chapters",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
    # A downloaded copy that nobody trusted. Trust goes by a hash of the content, so these
    # copies differ from the trusted ones in one metadata key.
    (root / "untrusted").mkdir()
    for src in (ROOT / "chapters").glob("*.ipynb"):
        nb = nbformat.read(src, as_version=4)
        nb.metadata["sgdsim_test_copy"] = "untrusted"
        nbformat.write(nb, root / "untrusted" / src.name)
    # Jupyter's own state in the temporary directory, not the user's: no saved workspace,
    # settings or config of this machine can change what the test sees.
    dirs = {k: tmp / k.lower() for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
                                         "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
                                         "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR")}
    for d in dirs.values():
        d.mkdir()
    # The news plugin would ask (in a pop-up) whether to fetch news from jupyter.org.
    (dirs["JUPYTER_CONFIG_DIR"] / "labconfig").mkdir()
    (dirs["JUPYTER_CONFIG_DIR"] / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env = {k: v for k, v in os.environ.items() if k != "SGDSIM_STATIC_BUILD"}
    env.update({k: str(v) for k, v in dirs.items()})
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "lib")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("MPLBACKEND", None)  # the kernel's inline backend, as in any Jupyter

    # As Binder's postBuild does: the chapters are trusted, so their stored outputs (the
    # explorers' precomputed players, with JavaScript) render when a notebook opens.
    subprocess.run([sys.executable, "-m", "jupyter", "trust",
                    *sorted(str(p) for p in (root / "chapters").glob("*.ipynb"))],
                   env=env, check=True, capture_output=True)
    port, token = _free_port(), secrets.token_hex(24)
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / "server.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
           # window.jupyterapp: the test reads the notebook model (execution counts,
           # outputs) and the kernel's messages from it; everything it *does* is clicks.
           "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI runs as root (in a container)
        cmd.append("--allow-root")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, proc, log)
    try:
        t0 = time.monotonic()
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                server.api("GET", "/api/status", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                if time.monotonic() - t0 > SERVER_START_TIMEOUT:
                    pytest.fail(f"jupyter lab did not answer within {SERVER_START_TIMEOUT:.0f} s:"
                                f"\n{server.log_tail()}")
                time.sleep(0.5)
        yield server
    finally:
        _stop(server)
        (LOGS / "results.json").write_text(json.dumps(RESULTS, indent=1, ensure_ascii=False))


def _stop(server: LabServer) -> None:
    """Shut the server (and its kernels) down through its API; signal it only if that fails."""
    proc = server.proc
    if proc.poll() is None:
        try:
            server.api("POST", "/api/shutdown", timeout=10)
        except (urllib.error.URLError, OSError):
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Our own process group only (start_new_session): the server and its kernels.
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
    assert proc.returncode is not None


# ------------------------------------------------------------------------- the page

# The open notebook, as the page's JupyterLab sees it.
_PANEL = """
const app = window.jupyterapp;
const w = app && app.shell && app.shell.currentWidget;
const panel = (w && w.content && w.sessionContext && w.context) ? w : null;
"""


def wait_for(predicate, timeout: float, what: str, poll: float = 0.25):
    t0 = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def kernel_state(driver) -> dict | None:
    return driver.execute_script(_PANEL + """
        if (!panel) return null;
        const s = panel.sessionContext.session;
        const k = s && s.kernel;
        return {path: panel.context.path, ready: panel.context.isReady,
                kernel: k ? k.status : null, name: k ? k.name : null};
    """)


def watch_kernel(driver) -> None:
    """Record the kernel's execute_input / execute_reply messages from now on."""
    driver.execute_script(_PANEL + """
        const k = panel.sessionContext.session.kernel;
        const log = window.__labtest = {inputs: [], replies: []};
        k.anyMessage.connect((_, args) => {
            const m = args.msg, t = m.header.msg_type;
            if (args.direction !== 'recv') return;
            if (t === 'execute_input') log.inputs.push(m.content.execution_count);
            if (t === 'execute_reply') log.replies.push(
                {status: m.content.status, count: m.content.execution_count,
                 ename: m.content.ename || null, evalue: m.content.evalue || null});
        });
    """)


def run_state(driver) -> dict:
    return driver.execute_script(_PANEL + """
        const k = panel.sessionContext.session.kernel;
        const cells = [];
        panel.content.widgets.forEach((cell, i) => {
            const m = cell.model;
            if (m.type !== 'code') return;
            const errors = [];
            for (let j = 0; j < m.outputs.length; j++) {
                const o = m.outputs.get(j);
                if (o.type === 'error') {
                    const j2 = o.toJSON();
                    errors.push(j2.ename + ': ' + j2.evalue);
                }
                if (o.type === 'stream' && o.toJSON().name === 'stderr')
                    errors.push('stderr: ' + String(o.toJSON().text).slice(0, 300));
            }
            const prompt = cell.node.querySelector('.jp-InputPrompt');
            cells.push({index: i, empty: m.sharedModel.getSource().trim() === '',
                        count: m.executionCount, errors: errors,
                        prompt: prompt ? prompt.textContent.trim() : null});
        });
        return {kernel: k ? k.status : null, log: window.__labtest, cells: cells};
    """)


def click_menu(driver, menu: str, command: str) -> None:
    """Open a menu of the menu bar and click one of its items, as a user does."""
    from selenium.webdriver.common.by import By

    items = [e for e in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
             if e.text.strip() == menu]
    assert items, f"no menu {menu!r} in JupyterLab's menu bar"
    items[0].click()
    entry = wait_for(lambda: [e for e in driver.find_elements(
        By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]') if e.is_displayed()],
        10, f"the menu item {command}")
    entry[0].click()


def explorer_nodes(driver, index: int):
    """The ``interactive`` box of the explorer in cell ``index`` (or None), scrolled into view."""
    return driver.execute_script(_PANEL + """
        const cell = panel.content.widgets[arguments[0]];
        panel.content.activeCellIndex = arguments[0];
        cell.node.scrollIntoView({block: 'start'});
        return cell.node.querySelector('.widget-interact');
    """, index)


def explorer_report(driver, box) -> dict:
    return driver.execute_script("""
        const box = arguments[0];
        const out = box.closest('.jp-Cell');
        const size = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
        const controls = Array.from(box.children).filter(
            c => !c.classList.contains('widget-output'));
        return {
          controls: controls.map(c => ({cls: c.className, size: size(c),
                                        label: (c.querySelector('.widget-label') || {}).textContent || ''})),
          sliders: box.querySelectorAll('.widget-hslider .noUi-handle').length,
          dropdowns: box.querySelectorAll('.widget-dropdown select').length,
          // a hash of each picture's data URL (they are ~100 kB each)
          images: Array.from(box.querySelectorAll('.widget-output img')).map(i => {
              let h = 2166136261; const s = i.src;
              for (let k = 0; k < s.length; k++) h = Math.imul(h ^ s.charCodeAt(k), 16777619);
              return s.length + ':' + (h >>> 0).toString(16); }),
          imagesLoaded: Array.from(box.querySelectorAll('.widget-output img')).every(
              i => i.complete && i.naturalWidth > 0),
          errors: out.querySelectorAll('.jupyter-widgets-error-widget, .widget-error').length,
          fallback: out.textContent.includes(arguments[1]),
        };
    """, box, EXPLORER_TEXT)


def wait_for_new_picture(driver, box, pictures, what: str) -> None:
    """Wait until the explorer's picture is loaded and differs from ``pictures``."""
    try:
        wait_for(lambda: (x := explorer_report(driver, box)) and x["images"]
                 and x["imagesLoaded"] and x["images"] != pictures,
                 REDRAW_TIMEOUT, "the picture to change")
    except AssertionError:
        raise AssertionError(f"{what}, but the picture did not change within "
                             f"{REDRAW_TIMEOUT:.0f} s") from None


def slider_state(driver, slider) -> dict:
    return driver.execute_script("""
        const s = arguments[0];
        const h = s.querySelector('.noUi-handle');
        const track = s.querySelector('.noUi-target') || s.querySelector('.slider');
        const r = track.getBoundingClientRect(), hr = h.getBoundingClientRect();
        const ro = s.querySelector('.widget-readout');
        // noUiSlider's own numbers (its aria-value* attributes are rounded: 0.01 shows as 0);
        // a log slider's value is the exponent, a selection slider's the option's index.
        const api = track.noUiSlider;
        const value = api.get(true);
        return {label: (s.querySelector('.widget-label') || {}).textContent || '',
                min: api.options.range.min[0] ?? api.options.range.min,
                max: api.options.range.max[0] ?? api.options.range.max,
                now: parseFloat(Array.isArray(value) ? value[0] : value),
                readout: ro ? ro.textContent.trim() : null,
                track: [r.left, r.width], handle: [hr.left + hr.width / 2, hr.width],
                slider_width: s.getBoundingClientRect().width};
    """, slider)


def drag(driver, slider, state: dict) -> float:
    """Drag the slider's handle with the mouse to the far side of its middle; the target fraction."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    lo, hi, now = state["min"], state["max"], state["now"]
    frac = (now - lo) / (hi - lo)
    target = 0.3 if frac > 0.5 else 0.7
    left, width = state["track"]
    dx = round(left + target * width - state["handle"][0])
    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    (ActionChains(driver, duration=50)
     .move_to_element(handle).click_and_hold().pause(0.1)
     .move_by_offset(dx // 3, 0).pause(0.05)
     .move_by_offset(dx - dx // 3, 0).pause(0.1)
     .release().perform())
    return target


def severe_console(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


# ------------------------------------------------------------------------- the test


def stored_player(driver, index: int):
    """Visible pictures and the text of the stored output of explorer cell ``index``."""
    return driver.execute_script(_PANEL + """
        const cell = panel && panel.content.widgets[arguments[0]];
        if (!cell) return null;
        panel.content.activeCellIndex = arguments[0];
        cell.node.scrollIntoView({block: 'start'});
        const out = cell.node.querySelector('.jp-OutputArea');
        const player = out && out.querySelector('.sgdsim-player');
        if (!player) return null;
        const shown = Array.from(player.querySelectorAll('img')).filter(
            i => i.getClientRects().length > 0);
        return {shown: shown.length, loaded: shown.every(i => i.complete && i.naturalWidth > 0),
                alt: shown.map(i => i.alt), text: out.textContent.slice(0, 200)};
    """, index)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_explorer_cells_show_one_picture_before_running(lab, driver, chapter):
    """Opened *untrusted* (a downloaded copy: JupyterLab sanitizes its HTML and runs no
    script), before anything runs, each explorer cell shows its stored player's default
    picture -- one picture, not the 13-15 frames stacked, and not a text repr."""
    driver.get(f"{lab.base}/lab/tree/untrusted/{chapter}.ipynb?reset&token={lab.token}")
    wait_for(lambda: (s := kernel_state(driver)) and s["ready"]
             and s["path"] == f"untrusted/{chapter}.ipynb" and s,
             KERNEL_TIMEOUT, f"untrusted/{chapter}.ipynb to open")
    for index in explorer_cells(chapter):
        rep = wait_for(lambda: (x := stored_player(driver, index)) and x["loaded"] and x,
                       30, f"the stored player of explorer cell {index}")
        assert rep["shown"] == 1, (
            f"{chapter}, explorer cell {index}: {rep['shown']} pictures show before the "
            f"notebook runs (untrusted): {rep['alt'][:3]}")
        assert "Explorer (precomputed" not in rep["text"], rep["text"]
    driver.execute_async_script(_PANEL + """
        const done = arguments[arguments.length - 1];
        panel.sessionContext.shutdown().then(() => done(true), e => done(String(e)));
    """)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs_and_explorers_respond(lab, driver, shots, chapter):
    from selenium.webdriver.common.by import By

    expected_explorers = explorer_cells(chapter)
    n_code = code_cell_count(chapter)
    driver.get_log("browser")  # drop what earlier pages logged
    t0 = time.monotonic()
    driver.get(f"{lab.base}/lab/tree/chapters/{chapter}.ipynb?reset&token={lab.token}")
    state = wait_for(lambda: (s := kernel_state(driver)) and s["ready"]
                     and s["path"] == f"chapters/{chapter}.ipynb" and s["kernel"] == "idle" and s,
                     KERNEL_TIMEOUT, f"{chapter}.ipynb to open with an idle kernel")
    assert state["name"] == "python3"

    # Run > Run All Cells, then wait until every non-empty code cell got its reply.
    watch_kernel(driver)
    click_menu(driver, "Run", "runmenu:run-all")  # Run > Run All Cells
    t_run = time.monotonic()
    try:
        wait_for(lambda: (r := run_state(driver)) and len(r["log"]["replies"]) >= n_code
                 and r["kernel"] == "idle" and r,
                 RUN_ALL_TIMEOUT, "Run All Cells to finish", poll=1.0)
    except AssertionError:
        r = run_state(driver)
        bad = [c for c in r["cells"] if c["errors"]]
        raise AssertionError(f"{chapter}: {len(r['log']['replies'])}/{n_code} cells ran, kernel "
                             f"{r['kernel']}; errors: {bad[:3]}; {lab.log_tail(20)}") from None
    run_seconds = time.monotonic() - t_run
    r = run_state(driver)
    failed = [x for x in r["log"]["replies"] if x["status"] != "ok"]
    assert not failed, f"{chapter}: cells failed in JupyterLab: {failed[:3]}"
    errors = [(c["index"], c["errors"]) for c in r["cells"] if c["errors"]]
    assert not errors, f"{chapter}: error outputs in cells {errors}"
    counts = [c["count"] for c in r["cells"] if not c["empty"]]
    assert counts == list(range(1, n_code + 1)) == sorted(r["log"]["inputs"]), (
        f"{chapter}: execution counts {counts}, kernel inputs {r['log']['inputs']}")
    prompts = [c["prompt"] for c in r["cells"] if not c["empty"]]
    assert all(p and "*" not in p and any(ch.isdigit() for ch in p) for p in prompts), prompts

    # Every explorer rendered; every slider, dragged, moves and redraws the picture.
    explorers, sliders_moved = [], 0
    for index in expected_explorers:
        box = wait_for(lambda: explorer_nodes(driver, index), 30,
                       f"the explorer widgets of cell {index}")
        rep = wait_for(lambda: (x := explorer_report(driver, box)) and x["images"]
                       and x["imagesLoaded"] and x, 30, f"the picture of explorer cell {index}")
        where = f"{chapter}, explorer cell {index}"
        assert not rep["fallback"], f"{where}: the widgets' text form shows (no widget manager?)"
        assert not rep["errors"], f"{where}: widget error in the output"
        assert rep["controls"], f"{where}: no controls"
        small = [c for c in rep["controls"] if c["size"][0] < 100 or c["size"][1] < 10]
        assert not small, f"{where}: controls without room: {small}"
        assert rep["sliders"] >= 1, f"{where}: no slider among {rep['controls']}"
        sliders = box.find_elements(By.CSS_SELECTOR, ".widget-hslider")
        assert len(sliders) == rep["sliders"]
        moved = []
        for slider in sliders:
            before = slider_state(driver, slider)
            what = f"{where}, slider {before['label']!r}"
            assert before["track"][1] >= 150, (
                f"{what}: track only {before['track'][1]:.0f} px wide "
                f"(slider {before['slider_width']:.0f} px)")
            pictures = explorer_report(driver, box)["images"]
            target = drag(driver, slider, before)
            try:
                after = wait_for(lambda: (s := slider_state(driver, slider))
                                 and s["now"] != before["now"] and s["readout"] != before["readout"]
                                 and s, 10, "the handle and readout to move")
            except AssertionError:
                raise AssertionError(f"{what}: the drag to {target:.0%} of the "
                                     f"{before['track'][1]:.0f} px track did not move it: "
                                     f"{slider_state(driver, slider)}") from None
            assert after["min"] < after["now"] < after["max"], (
                f"{what}: dragged to {after['now']} (readout {after['readout']}), not strictly "
                f"between {after['min']} and {after['max']}")
            wait_for_new_picture(driver, box, pictures, f"{what}: moved {before['readout']} -> "
                                 f"{after['readout']}")
            moved.append(f"{before['label'].strip()} {before['readout']}->{after['readout']} "
                         f"(track {after['track'][1]:.0f} px)")
            sliders_moved += 1
        # A dropdown, if the explorer has one: choose another option; the picture changes.
        for select in box.find_elements(By.CSS_SELECTOR, ".widget-dropdown select"):
            from selenium.webdriver.support.select import Select

            menu = Select(select)
            old = menu.first_selected_option.text
            new = next(o.text for o in menu.options if o.text != old)
            pictures = explorer_report(driver, box)["images"]
            menu.select_by_visible_text(new)
            wait_for_new_picture(driver, box, pictures, f"{where}: dropdown {old!r} -> {new!r}")
            moved.append(f"dropdown {old}->{new}")
        explorers.append({"cell": index, "controls": len(rep["controls"]),
                          "sliders": len(sliders), "dropdowns": rep["dropdowns"],
                          "moved": moved})
    assert len(explorers) == len(expected_explorers)
    driver.save_screenshot(str(shots / f"lab_{chapter}.png"))

    # No state dialog may block the next page: save the (temporary) copy and stop its kernel.
    r = run_state(driver)
    assert not [c for c in r["cells"] if c["errors"]], f"{chapter}: errors after the drags"
    severe = severe_console(driver)
    driver.execute_async_script(_PANEL + """
        const done = arguments[arguments.length - 1];
        app.commands.execute('docmanager:save')
            .then(() => panel.sessionContext.shutdown()).then(() => done(true), e => done(String(e)));
    """)
    assert not severe, f"{chapter}: browser console errors: {severe}"
    RESULTS[chapter] = {"seconds": round(time.monotonic() - t0, 1),
                        "run_all_seconds": round(run_seconds, 1), "code_cells": n_code,
                        "explorers": explorers, "sliders_dragged": sliders_moved}
    print(f"\n{chapter}: {json.dumps(RESULTS[chapter], ensure_ascii=False)}")
