"""The built website as a reader gets it, in a real (headless) browser.

Run with ``make test-browser`` after ``make book`` (CI does both). For every page: it loads with
no console error and without asking any host but the local server for anything (offline-complete);
MathJax typeset all math and no raw TeX is visible; every image loaded and has alt text; every
internal link resolves; notebook pages have launch (Binder, Colab, Live Code) and download buttons
with well-formed URLs and hide the setup cell; widget explorers show a "launch to interact" note
instead of dead controls; explorer players (precomputed frames) respond to every control; a chapter page
weighs at most 3 MB. A screenshot of every page (and phone-width ones of the chapters) is saved
under ``_build/screenshots/``.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"  # the same as the fixture `site` in conftest.py
sys.path.insert(0, str(ROOT / "tools"))
import nbtools  # noqa: E402

pytestmark = pytest.mark.browser

PAGES = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
               if not p.relative_to(SITE).parts[0].startswith("_")) if SITE.is_dir() else []
CHAPTERS = sorted(p.stem for p in (ROOT / "chapters").glob("*.ipynb"))
REPO = nbtools.repository_url().removeprefix("https://github.com/").strip("/")
BRANCH = "main"
# Hosts a page may LINK to (never load from): launch services, the repository, ordinary links.
LAUNCH_HOSTS = {"mybinder.org", "colab.research.google.com", "github.com"}
# TeX that would mean MathJax did not run on some math.
RAW_TEX = re.compile(r"\$\$|\\(?:frac|tfrac|dfrac|begin|end|eta|sigma|Phi|mathcal|mathbb|"
                     r"nabla|sum|hat|left|right|operatorname|partial|sqrt|langle)\b|\\\(|\\\[")


def shot_name(page: str, prefix: str = "") -> str:
    return prefix + page.removesuffix(".html").replace("/", "_") + ".png"


def full_page_png(driver) -> bytes:
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width, height = size["width"], min(size["height"], 20000)
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    return base64.b64decode(data["data"])


def wait_ready(driver, timeout=30.0) -> str:
    """Wait for the page, MathJax's typesetting and the fonts; return MathJax's state."""
    t0 = time.monotonic()
    while driver.execute_script("return document.readyState") != "complete":
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("page did not finish loading")
        time.sleep(0.05)
    state = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const mj = window.MathJax;
        const fonts = () => (document.fonts ? document.fonts.ready : Promise.resolve());
        if (!mj || !mj.startup || !mj.startup.promise) { fonts().then(() => done('none')); return; }
        mj.startup.promise.then(fonts).then(() => done('typeset'), e => done('error: ' + e));
    """)
    time.sleep(0.3)  # let late resource requests (fonts, images) show up in the logs
    return state


@dataclass
class Visit:
    page: str
    url: str
    mathjax: str
    console: list = field(default_factory=list)
    requests: list = field(default_factory=list)
    served: list = field(default_factory=list)


def drain(driver):
    driver.get_log("browser")
    driver.get_log("performance")


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def load(driver, server, page: str) -> Visit:
    base, recorder = server
    drain(driver)
    mark = recorder.mark()
    url = urljoin(base, page)
    driver.get(url)
    state = wait_ready(driver)
    return Visit(page=page, url=url, mathjax=state, console=driver.get_log("browser"),
                 requests=requested_urls(driver), served=recorder.since(mark))


@pytest.fixture(scope="module", params=PAGES)
def visit(request, driver, server, shots) -> Visit:
    """Each page, loaded once (tests are grouped by page); a full-page screenshot is saved."""
    v = load(driver, server, request.param)
    (shots / shot_name(v.page)).write_bytes(full_page_png(driver))
    return v


def ensure(driver, v: Visit):
    if urldefrag(driver.current_url)[0] != v.url:
        driver.get(v.url)
        wait_ready(driver)


def is_notebook(page: str) -> bool:
    return page.startswith("chapters/") and Path(page).stem in CHAPTERS


# --------------------------------------------------------------------------- the whole site
def test_site_has_the_expected_pages():
    assert PAGES, f"no pages in {SITE}: run `make book`"
    for name in ["index.html", "search.html", "chapters/intro.html", "chapters/errata.html",
                 "chapters/bibliography.html"] + [f"chapters/{c}.html" for c in CHAPTERS]:
        assert name in PAGES, f"{name} missing from the built site"


def test_built_html_loads_nothing_from_other_hosts():
    """No <script src>, <link href>, <img src>, ... on another host in any built page."""
    pattern = re.compile(r"<(script|link|img|iframe|source|video|audio|embed)\b[^>]*?"
                         r"\b(?:src|href)=[\"']((?:https?:)?//[^\"']+)", re.I)
    offenders = {}
    for page in PAGES:
        for tag, url in pattern.findall((SITE / page).read_text(encoding="utf-8")):
            offenders.setdefault(page, []).append(f"<{tag}> {url}")
    assert not offenders, f"pages load resources from other hosts: {offenders}"


# --------------------------------------------------------------------------- every page
def test_page_loads_without_console_errors(visit):
    errors = [e["message"] for e in visit.console if e["level"] == "SEVERE"]
    assert not errors, f"{visit.page}: console errors: {errors}"


def test_page_asks_no_other_host(visit):
    """Offline-complete: every request goes to the local server (or is inline data)."""
    foreign = [u for u in visit.requests
               if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname != "127.0.0.1"]
    assert not foreign, f"{visit.page} requested: {foreign}"


def test_page_resources_all_served(visit):
    missing = [(p, c) for p, c in visit.served if c >= 400]
    assert not missing, f"{visit.page}: the local server answered {missing}"


def test_math_is_typeset_and_no_raw_tex_is_visible(visit, driver):
    ensure(driver, visit)
    info = driver.execute_script("""
        const art = document.querySelector('main') || document.body;
        const maths = [...art.querySelectorAll('.math')];
        const untypeset = maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80));
        const errors = [...art.querySelectorAll('mjx-merror')].map(m => m.textContent.slice(0, 80));
        const skip = 'PRE,CODE,SCRIPT,STYLE,TEXTAREA,MJX-CONTAINER,MJX-ASSISTIVE-MML,NOSCRIPT';
        const walker = document.createTreeWalker(art, NodeFilter.SHOW_TEXT, {acceptNode(n) {
            for (let p = n.parentElement; p && p !== art; p = p.parentElement) {
                if (skip.split(',').includes(p.tagName) || p.classList.contains('highlight')) return NodeFilter.FILTER_REJECT;
            }
            return NodeFilter.FILTER_ACCEPT; }});
        let text = ''; while (walker.nextNode()) text += walker.currentNode.nodeValue + ' ';
        return {n: maths.length, mjx: art.querySelectorAll('mjx-container').length, untypeset, errors, text};
    """)
    assert not info["untypeset"], f"{visit.page}: math not typeset: {info['untypeset']}"
    assert not info["errors"], f"{visit.page}: MathJax errors: {info['errors']}"
    if info["n"]:
        assert visit.mathjax == "typeset", f"{visit.page}: MathJax state {visit.mathjax}"
        assert info["mjx"] >= info["n"]
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(info["text"])})
    assert not raw, f"{visit.page}: raw TeX visible: {raw}"


def test_every_image_loads_and_has_alt_text(visit, driver):
    ensure(driver, visit)
    images = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const imgs = [...document.images];
        imgs.forEach(i => { i.loading = 'eager'; });
        Promise.all(imgs.map(i => i.decode().catch(() => null))).then(() => done(imgs.map(i => ({
            src: i.currentSrc || i.src, alt: i.getAttribute('alt'), w: i.naturalWidth,
            complete: i.complete}))));
    """)
    for img in images:
        name = img["src"].rsplit("/", 1)[-1][:60]
        assert img["complete"] and img["w"] > 0, f"{visit.page}: image did not load: {name}"
        alt = (img["alt"] or "").strip()
        assert alt, f"{visit.page}: image without alt text: {name}"
        assert not re.fullmatch(r"[\w./-]+\.(png|svg|jpe?g|gif)", alt), \
            f"{visit.page}: alt text is a file name: {alt!r}"


def test_figures_are_sharp(visit, driver):
    """Notebook figures are SVG or high-DPI PNG: at least 1.5 image pixels per CSS pixel (the
    explorers' precomputed players trade resolution for page weight and are left out)."""
    ensure(driver, visit)
    blurry = driver.execute_script("""
        return [...document.querySelectorAll('.cell_output img')]
          .filter(i => !i.closest('.animation') && !i.closest('.sgdsim-player') && !/\\.svg($|\\?)/.test(i.src) && i.clientWidth > 0)
          .filter(i => i.naturalWidth < 1.5 * i.clientWidth)
          .map(i => `${i.src.slice(-30)}: ${i.naturalWidth}px shown at ${i.clientWidth}px`);""")
    assert not blurry, f"{visit.page}: low-resolution figures: {blurry}"


def _fetch(url: str, cache: dict) -> tuple[int, str]:
    if url not in cache:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = r.read()
                text = body.decode("utf-8", "replace") if url.endswith((".html", "/")) else ""
                cache[url] = (r.status, text)
        except urllib.error.HTTPError as e:
            cache[url] = (e.code, "")
    return cache[url]


_FETCHED: dict = {}


def test_internal_links_resolve(visit, driver):
    ensure(driver, visit)
    hrefs = driver.execute_script(
        "return [...document.querySelectorAll('a[href]')].map(a => a.href)")
    broken = []
    for href in sorted(set(hrefs)):
        parsed = urlparse(href)
        if parsed.scheme not in ("http", "https") or parsed.hostname != "127.0.0.1":
            continue
        target, frag = urldefrag(href)
        status, text = _fetch(target, _FETCHED)
        if status != 200:
            broken.append(f"{href} -> {status}")
        elif frag and text and not re.search(
                rf"""\b(?:id|name)=["']{re.escape(frag)}["']""", text):
            broken.append(f"{href} -> no element #{frag}")
    assert not broken, f"{visit.page}: broken internal links: {broken}"


def test_external_links_are_launch_or_ordinary_links(visit, driver):
    """Outbound links are fine (Binder, Colab, the repository, references), but well formed."""
    ensure(driver, visit)
    hrefs = driver.execute_script(
        "return [...document.querySelectorAll('a[href]')].map(a => a.href)")
    for href in hrefs:
        p = urlparse(href)
        if p.scheme in ("http", "https") and p.hostname != "127.0.0.1":
            assert p.hostname and "." in p.hostname, f"{visit.page}: malformed link {href}"


def test_notebook_pages_have_launch_and_download_buttons(visit, driver, server):
    if not is_notebook(visit.page):
        pytest.skip("not a notebook page")
    ensure(driver, visit)
    nb = Path(visit.page).stem
    links = driver.execute_script(
        "return [...document.querySelectorAll('.dropdown-launch-buttons a, "
        ".dropdown-download-buttons a')].map(a => a.href)")
    binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=lab/tree/chapters/{nb}.ipynb"
    colab = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/chapters/{nb}.ipynb"
    assert binder in links, f"{visit.page}: no Binder button {binder} in {links}"
    assert colab in links, f"{visit.page}: no Colab button {colab} in {links}"
    assert driver.find_elements("css selector", "button.btn-launch-thebe"), "no Live Code button"
    downloads = [u for u in links if u.endswith(".ipynb") and urlparse(u).hostname == "127.0.0.1"]
    assert downloads, f"{visit.page}: no .ipynb download button"
    with urllib.request.urlopen(downloads[0], timeout=10) as r:
        notebook = nbformat.reads(r.read().decode("utf-8"), as_version=4)
    first = notebook.cells[0]
    assert "remove-cell" in first.metadata.get("tags", []), "download lacks the setup cell"
    assert f"git+{nbtools.repository_url()}" in first.source
    assert driver.find_elements("css selector", "button[onclick*='printPdf'], .btn-download-pdf-button")


def test_setup_cell_is_hidden(visit, driver):
    if not is_notebook(visit.page):
        pytest.skip("not a notebook page")
    ensure(driver, visit)
    html = driver.page_source
    assert "Setup (hidden on the website)" not in html
    assert "%pip install" not in html


def test_widgets_show_a_launch_note_not_dead_controls(visit, driver):
    ensure(driver, visit)
    dead = driver.find_elements(
        "css selector", ".jupyter-widgets, .widget-slider, script[type*='jupyter.widget']")
    assert not dead, f"{visit.page}: {len(dead)} dead widget element(s) on the static page"
    notes = driver.find_elements("css selector", ".book-widget-launch")
    if not notes:
        pytest.skip("no widget explorer on this page")
    nb = Path(visit.page).stem
    binder = f"https://mybinder.org/v2/gh/{REPO}/{BRANCH}?urlpath=lab/tree/chapters/{nb}.ipynb"
    for note in notes:
        assert note.is_displayed()
        assert "Interactive explorer" in note.text
        link = note.find_element("css selector", "a").get_attribute("href")
        assert link == binder, f"{visit.page}: launch note links to {link}, expected {binder}"


def test_explorer_players_respond_to_their_controls(visit, driver):
    """Each kernel-free explorer (sgdsim.widgets.Player): every control, moved by keyboard,
    swaps the visible frame and updates its value label, within 50 ms."""
    ensure(driver, visit)
    players = driver.find_elements("css selector", ".sgdsim-player")
    if not players:
        pytest.skip("no explorer player on this page")
    for k, player in enumerate(players):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", player)

        def state():
            shown = [im.get_attribute("data-frame")
                     for im in player.find_elements("css selector", "img[data-frame]")
                     if im.is_displayed()]
            return shown, [o.text for o in player.find_elements("css selector", "output")]

        shown, labels = state()
        assert shown == ["default"], f"{visit.page}: player {k} shows {shown} at first"
        for c, ctl in enumerate(player.find_elements("css selector", "[data-control]")):
            # the event handler's own time: set the next position and dispatch 'input'
            ms = driver.execute_script(
                "var o = arguments[0], t = performance.now();"
                "if (o.tagName === 'SELECT') { o.selectedIndex = (o.selectedIndex + 1) % o.options.length; }"
                "else { o.value = Math.min(parseInt(o.max, 10), parseInt(o.value, 10) + 1) === parseInt(o.value, 10)"
                "  ? parseInt(o.value, 10) - 1 : parseInt(o.value, 10) + 1; }"
                "o.dispatchEvent(new Event('input', {bubbles: true}));"
                "return performance.now() - t;", ctl)
            shown2, labels2 = state()
            assert len(shown2) == 1 and shown2 != ["default"], \
                f"{visit.page}: player {k}, control {c}: the frame did not change ({shown2})"
            assert labels2[c] != labels[c], \
                f"{visit.page}: player {k}, control {c}: the value label did not change"
            assert ms < 50, f"{visit.page}: player {k}: a control change took {ms:.0f} ms"
        # keyboard: focus the first control and press an arrow key
        first = player.find_element("css selector", "[data-control]")
        driver.execute_script("arguments[0].focus()", first)  # (a click may hit the sticky header)
        from selenium.webdriver.common.keys import Keys
        before = state()
        if first.tag_name == "input":  # towards the side that has room
            at_start = first.get_attribute("value") == first.get_attribute("min")
            first.send_keys(Keys.ARROW_RIGHT if at_start else Keys.ARROW_LEFT)
        else:
            first.send_keys(Keys.ARROW_DOWN)
        assert state() != before or first.tag_name == "select", \
            f"{visit.page}: player {k}: the keyboard does not move its first control"


def test_chapter_pages_stay_within_3_mb(visit):
    """A chapter page with its players (HTML and the images it references) is at most 3 MB."""
    if not is_notebook(visit.page):
        pytest.skip("not a chapter page")
    page = SITE / visit.page
    text = page.read_text(encoding="utf-8")
    total = len(text.encode())
    for src in set(re.findall(r'<img[^>]+src="([^"]+)"', text)):
        if not src.startswith(("data:", "http")):
            f = (page.parent / src.split("#")[0]).resolve()
            if f.is_file():
                total += f.stat().st_size
    assert total <= 3 * 2**20, f"{visit.page}: {total / 2**20:.2f} MB (budget 3 MB)"


# --------------------------------------------------------------------------- theme features
@pytest.fixture
def chapter_page():
    page = next((f"chapters/{c}.html" for c in CHAPTERS if f"chapters/{c}.html" in PAGES), None)
    if page is None:
        pytest.fail("no chapter page was built")
    return page


def test_search_finds_pages(driver, server):
    base, _ = server
    driver.get(urljoin(base, "search.html?q=gradient"))
    wait_ready(driver)
    deadline = time.monotonic() + 15
    results = []
    while time.monotonic() < deadline and not results:
        results = driver.find_elements("css selector", "#search-results li a")
        time.sleep(0.1)
    assert results, "search for 'gradient' found nothing"
    buttons = driver.find_elements("css selector", "button.search-button, .search-button__button")
    assert any(b.is_displayed() for b in buttons), "no visible search field or button"


def test_dark_mode_and_full_screen(driver, server, shots, chapter_page):
    base, _ = server
    driver.get(urljoin(base, chapter_page))
    wait_ready(driver)
    switch = driver.find_elements("css selector", "button.theme-switch-button")
    assert switch, "no light/dark switch"
    try:
        for _ in range(3):  # the switch cycles auto -> light -> dark (order depends on start)
            if driver.execute_script("return document.documentElement.dataset.theme") == "dark":
                break
            driver.execute_script("arguments[0].click()", switch[0])
        assert driver.execute_script("return document.documentElement.dataset.theme") == "dark"
        bg = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        rgb = [int(x) for x in re.findall(r"\d+", bg)[:3]]
        assert sum(rgb) < 3 * 100, f"dark mode background is {bg}"
        (shots / shot_name(chapter_page, "dark_")).write_bytes(full_page_png(driver))
    finally:
        driver.execute_script("localStorage.clear()")
    full = driver.find_elements("css selector", "button.btn-fullscreen-button")
    assert full, "no full-screen button"
    full[0].click()  # a real (trusted) click: browsers refuse full screen to scripted ones
    time.sleep(0.3)
    assert driver.execute_script("return document.fullscreenElement !== null"), \
        "the full-screen button did not enter full screen"
    full[0].click()
    time.sleep(0.3)
    assert driver.execute_script("return document.fullscreenElement === null")


@pytest.mark.parametrize("page", [f"chapters/{c}.html" for c in CHAPTERS] + ["chapters/intro.html"])
def test_phone_width(page, driver, server, shots):
    """At 390 px the page has no horizontal scroll, its figures fit the screen, and every
    player control is on screen, wide enough (a range's track 150 px), and swaps the frame."""
    if page not in PAGES:
        pytest.fail(f"{page} was not built")
    base, _ = server
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        driver.get(urljoin(base, page))
        wait_ready(driver)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = driver.execute_script("""
            return [...document.querySelectorAll('main img')].filter(i => {
                const r = i.getBoundingClientRect(); return r.width > window.innerWidth + 1;
            }).map(i => i.src.slice(-40));""")
        squashed = driver.execute_script("""
            return [...document.querySelectorAll('main img')].filter(i => {
                const r = i.getBoundingClientRect();
                if (!i.naturalWidth || !r.width) return false;
                return Math.abs(r.height / r.width - i.naturalHeight / i.naturalWidth) > 0.02;
            }).map(i => i.src.slice(-40));""")
        (shots / shot_name(page, "phone_")).write_bytes(full_page_png(driver))
        # Each player's controls fit the screen and still swap the frame when moved.
        players = driver.execute_script("""
            return [...document.querySelectorAll('.sgdsim-player')].map(p => {
              const shown = () => [...p.querySelectorAll('img[data-frame]')]
                  .filter(i => i.getClientRects().length).map(i => i.dataset.frame);
              return [...p.querySelectorAll('[data-control]')].map(o => {
                const r = o.getBoundingClientRect(), before = shown();
                if (o.tagName === 'SELECT') { o.selectedIndex = (o.selectedIndex + 1) % o.options.length; }
                else { o.value = o.value === o.max ? o.min : o.max; }
                o.dispatchEvent(new Event('input', {bubbles: true}));
                const after = shown();
                return {left: r.left, right: r.right, width: r.width, range: o.type === 'range',
                        swapped: after.length === 1 && after[0] !== before[0]};
              });
            });""")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    for k, controls in enumerate(players):
        for c, ctl in enumerate(controls):
            where = f"{page}: player {k}, control {c} at phone width"
            assert ctl["left"] >= -1 and ctl["right"] <= 391, f"{where}: off screen {ctl}"
            assert ctl["width"] >= (150 if ctl["range"] else 60), \
                f"{where}: only {ctl['width']:.0f} px wide"
            assert ctl["swapped"], f"{where}: moving it did not swap the frame"
    assert overflow <= 1, f"{page}: {overflow}px horizontal overflow at phone width"
    assert not wide, f"{page}: images wider than the phone screen: {wide}"
    assert not squashed, f"{page}: images distorted at phone width: {squashed}"
