"""Fixtures for the browser tests: the built site on a local server, and headless Chromium.

The site (``_build/html``, from ``make book``) is served on 127.0.0.1 by a server started
here; every request it answers is recorded with its status, so a test can ask which requests a
page made and whether any got a 404. Chromium is Debian's (``/usr/bin/chromium`` driven by
``/usr/bin/chromedriver``; no browser download), headless, with a fresh profile, and with every
host name except 127.0.0.1 made unresolvable: a page that needs the network fails loudly, which
is the proof that the site is offline-complete.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BOOK_CHROMEDRIVER", "/usr/bin/chromedriver")
DESKTOP = (1280, 900)


class _Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.log: list[tuple[str, int]] = []

    def add(self, path: str, code: int) -> None:
        with self.lock:
            self.log.append((path, code))

    def mark(self) -> int:
        with self.lock:
            return len(self.log)

    def since(self, mark: int) -> list[tuple[str, int]]:
        with self.lock:
            return list(self.log[mark:])


class _Handler(http.server.SimpleHTTPRequestHandler):
    recorder: _Recorder

    def log_request(self, code="-", size="-"):
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = 0
        self.recorder.add(self.path, code)

    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site in {SITE}: run `make book` first")
    return SITE


@pytest.fixture(scope="session")
def server(site):
    """(base_url, recorder): the built site served on 127.0.0.1 at a free port."""
    recorder = _Recorder()
    handler = type("Handler", (_Handler,), {"recorder": recorder})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", recorder
    httpd.shutdown()
    httpd.server_close()


def _chrome(profile: str, size=DESKTOP):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    for exe, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(exe).exists():
            pytest.fail(f"{exe} not found: install Debian's {pkg} (apt-get install {pkg})")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-quic", "--no-first-run", "--disable-default-apps", "--disable-extensions",
        "--hide-scrollbars", "--force-device-scale-factor=1",
        f"--window-size={size[0]},{size[1]}", f"--user-data-dir={profile}",
        # Only the local server resolves: anything else the page asks for fails.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


@pytest.fixture(scope="session")
def driver():
    # Selenium Manager must never try to fetch a driver: both paths are given explicitly.
    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="book-chromium-")
    drv = _chrome(profile)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
