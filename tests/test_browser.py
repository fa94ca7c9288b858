"""A real-browser check of the built HTML book (headless Chromium via Selenium).

Runs after `make html` (marker `browser`). Asserts that every chapter page renders its
title, the table of contents, and each of its figures (images decoded by the browser,
natural width > 0), and that no internal link or anchor is broken.

It also reads every chapter page as a reader sees it (issue 18) and fails on each of four
defects: a table cell showing `nan`; a glued value wrapped in quotes (a string glued
where a number belonged, e.g. `'87.6'`); a code block whose content is wider than its box
(`scrollWidth > clientWidth`: the reader sees it cut off); a table header that is an
identifier (`reliability_percent`) instead of a human label. `PAGE_DEFECTS_JS` is the one
check; `test_the_page_checks_fail_on_a_page_with_each_defect` runs it on a small page that
has each defect, so the checks are shown to be able to fail.
"""

from __future__ import annotations

import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from conftest import ROOT

pytestmark = pytest.mark.browser
# QDA_BOOK_HTML: check another built copy of the book (default: the one `make html` builds)
HTML = Path(os.environ.get("QDA_BOOK_HTML") or ROOT / "_build" / "html")


# One script, run in the page, returns [kind, detail] for every defect a reader would see.
PAGE_DEFECTS_JS = r"""
const root = document.querySelector('article') || document.querySelector('main') || document.body;
const out = [];
const short = (t) => t.replace(/\s+/g, ' ').trim().slice(0, 80);
// 1. a missing value printed as nan (pandas' repr) in a table cell
for (const cell of root.querySelectorAll('table td, table th')) {
  const t = cell.textContent;
  if (/\b(nan|NaN|NaT)\b|<NA>/.test(t)) out.push(['nan', short(t)]);
}
// 2. a glued value wrapped in quotes: MyST-NB pastes a str glue as its repr, 'text'
//    (Sphinx turns the quotes into typographic ones). Glued spans, and quoted numbers in prose.
const quoted = /^\s*(['"\u2018\u2019\u201c\u201d]).*(['"\u2018\u2019\u201c\u201d])\s*$/s;
for (const el of root.querySelectorAll('span.pasted-text, span.pasted-inline, p span.output, li span.output, td span.output, dd span.output')) {
  if (quoted.test(el.textContent)) out.push(['quoted glue', short(el.textContent)]);
}
for (const el of root.querySelectorAll('p, li, dd, td')) {
  const m = el.textContent.match(/['\u2018\u201c"][-+]?\d[\d.,]*['\u2019\u201d"]/);
  if (m) out.push(['quoted number', short(m[0])]);
}
// 3. code wider than its box: the reader sees it cut at the column's edge
for (const el of root.querySelectorAll('pre')) {
  if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
    const line = el.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '');
    out.push(['code wider than its box', `${el.scrollWidth} > ${el.clientWidth} px: ${short(line)}`]);
  }
}
// 4. a table header that is an identifier (snake_case) instead of a human label
for (const th of root.querySelectorAll('table th')) {
  const t = th.textContent.trim();
  if (/^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(t)) out.push(['identifier as header', t]);
}
return out;
"""


def page_defects(driver) -> list[str]:
    """The defects a reader sees on the page open in ``driver`` (see PAGE_DEFECTS_JS)."""
    return [f"{kind}: {detail}" for kind, detail in driver.execute_script(PAGE_DEFECTS_JS)]


def _chapter_pages() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for p in toc.get("parts", []) for c in p["chapters"]]
    return [HTML / f"{f}.html" for f in files]


def _chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def driver():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html/index.html is missing: run `make html` before the browser check")
    chromium, chromedriver = _chromium(), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium and chromium-driver (.ci/run installs them)")
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
    ]:
        opts.add_argument(flag)
    d = webdriver.Chrome(service=Service(chromedriver), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def test_index_opens_on_the_book_with_title_and_toc(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get((HTML / "index.html").as_uri())
    # index.html is Jupyter Book's redirect to the root chapter: wait for the book page
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.querySelectorAll('nav.bd-links a').length") > 0
    )
    assert "reproducible analysis book" in driver.title.lower() or "preface" in driver.title.lower()
    toc_links = driver.execute_script(
        "return Array.from(document.querySelectorAll('nav.bd-links a')).map(a => a.textContent.trim())"
    )
    assert len([t for t in toc_links if t]) >= len(_chapter_pages()) - 1
    banner = driver.execute_script("return document.body.innerText")
    assert "synthetic" in banner.lower()


@pytest.mark.parametrize("page", _chapter_pages(), ids=lambda p: p.stem)
def test_chapter_page_renders_title_toc_and_figures(driver, page):
    assert page.exists(), f"{page} was not built"
    driver.get(page.as_uri())
    h1 = driver.execute_script("const h = document.querySelector('main h1, article h1'); return h ? h.textContent : ''")
    assert h1.strip(), f"{page.name}: no title"
    n_toc = driver.execute_script("return document.querySelectorAll('nav.bd-links a').length")
    assert n_toc >= 3, f"{page.name}: table of contents missing"
    images = driver.execute_script(
        "return Array.from(document.querySelectorAll('article img, main img')).map("
        "i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.getAttribute('alt') || ''])"
    )
    for src, complete, width, _alt in images:
        assert complete and width > 0, f"{page.name}: figure {src} did not render"
    expected = int(page.with_suffix(".html").read_text().count('class="figure') > 0)
    if expected:
        assert images, f"{page.name}: the page has figures but no image rendered"


@pytest.mark.parametrize("page", _chapter_pages(), ids=lambda p: p.stem)
def test_chapter_page_reads_cleanly(driver, page):
    """No nan in a table, no glued value in quotes, no code cut off, no identifier as a header."""
    assert page.exists(), f"{page} was not built"
    driver.get(page.as_uri())
    defects = page_defects(driver)
    assert not defects, f"{page.name}:\n" + "\n".join(defects[:30])


# A page of the built book with one instance of each defect injected into its article.
_INJECTED = {
    "nan": "<table><caption>t</caption><tr><th>Round</th></tr><tr><td>nan</td></tr></table>",
    "quoted glue": '<p>alike on <span class="output text_plain">\u201887.6\u2019</span>% of pairs</p>',
    "code wider than its box": '<div class="highlight"><pre>' + "x = 1  # " + "w" * 300 + "</pre></div>",
    "identifier as header": "<table><caption>t</caption><tr><th>reliability_percent</th></tr><tr><td>1</td></tr></table>",
}


@pytest.mark.parametrize("kind", sorted(_INJECTED))
def test_the_page_checks_fail_on_a_page_with_each_defect(driver, tmp_path, kind):
    """Each check can fail: inject its defect into a copy of a built chapter page (same
    theme and CSS, through a <base> element) and run the same script on it; the page as
    built has no defect of that kind, so the injection is what the check found."""
    page = next(p for p in _chapter_pages() if p.exists())
    html = page.read_text()
    marker = '<article class="bd-article">'
    assert marker in html, "the theme's article element changed: update the injection"
    html = html.replace("<head>", f'<head><base href="{page.as_uri()}">', 1)
    bad = tmp_path / "injected.html"
    bad.write_text(html.replace(marker, marker + _INJECTED[kind], 1))
    driver.get(bad.as_uri())
    assert any(d.startswith(kind + ":") for d in page_defects(driver)), f"{kind} injected but not found"
    driver.get(page.as_uri())
    assert not [d for d in page_defects(driver) if d.startswith(kind + ":")]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag in ("img", "script") and a.get("src"):
            self.hrefs.append(a["src"])
        if tag == "link" and a.get("href") and a.get("rel") and "stylesheet" in a.get("rel"):
            self.hrefs.append(a["href"])


def test_no_internal_link_is_broken():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: run `make html` first")
    parsed: dict[Path, _Links] = {}
    for page in HTML.rglob("*.html"):
        if "_static" in page.parts:
            continue  # theme templates, not pages
        p = _Links()
        p.feed(page.read_text(errors="replace"))
        parsed[page.resolve()] = p
    broken = []
    for page, p in parsed.items():
        for href in p.hrefs:
            u = urlparse(href)
            if u.scheme or href.startswith(("//", "mailto:", "javascript:")):
                continue  # external links are checked on a schedule, not in the build
            path, frag = unquote(u.path), u.fragment
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.relative_to(HTML.resolve())}: {href}")
            elif frag and target.suffix == ".html" and target in parsed and frag not in parsed[target].ids:
                broken.append(f"{page.relative_to(HTML.resolve())}: #{frag} not in {target.name}")
    assert not broken, "\n".join(broken[:20])


def test_every_figure_has_alt_text_and_a_caption_and_every_table_a_caption():
    """In the built HTML of every chapter: <img> in the article carries alt text and sits in a
    captioned figure; every <table> in the article has a <caption>."""
    from html.parser import HTMLParser as _P

    class Walk(_P):
        def __init__(self):
            super().__init__()
            self.stack: list[str] = []
            self.problems: list[str] = []
            self.fig_open = 0
            self.fig_caption = []
            self.tables: list[bool] = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            cls = a.get("class") or ""
            if tag == "figure" or (tag == "div" and "figure" in cls.split()):
                self.fig_open += 1
                self.fig_caption.append(False)
            if (tag in ("figcaption",) or (tag in ("p", "span") and "caption" in cls)) and self.fig_caption:
                self.fig_caption[-1] = True
            if tag == "img" and "bd-article" in " ".join(self.stack):
                if not (a.get("alt") or "").strip():
                    self.problems.append(f"image {a.get('src')} has no alt text")
                if not self.fig_open:
                    self.problems.append(f"image {a.get('src')} is not in a captioned figure")
            if tag == "table":
                self.tables.append(False)
            if tag == "caption" and self.tables:
                self.tables[-1] = True
            self.stack.append(cls)

        def handle_endtag(self, tag):
            if self.stack:
                self.stack.pop()
            if tag == "figure" and self.fig_open:
                self.fig_open -= 1
                if not self.fig_caption.pop():
                    self.problems.append("a figure has no caption")
            if tag == "table" and self.tables and not self.tables.pop():
                self.problems.append("a table has no caption")

    problems = []
    for page in _chapter_pages():
        w = Walk()
        w.feed(page.read_text())
        problems += [f"{page.name}: {p}" for p in w.problems]
    assert not problems, "\n".join(problems[:30])


# ---------------------------------------------------------------------------
# Teaching pages (issue 15): every exercise on paper, every model answer collapsed
# ---------------------------------------------------------------------------
CRAFT = HTML / "chapters" / "craft.html"
GUIDE = HTML / "chapters" / "teaching-guide.html"


def _open(driver, page):
    assert page.exists(), f"{page} was not built"
    driver.get(page.as_uri())


def test_craft_page_prints_every_exercise_as_a_captioned_table(driver):
    _open(driver, CRAFT)
    captions = driver.execute_script(
        "return Array.from(document.querySelectorAll('article table caption')).map(c => c.textContent.trim())"
    )
    for k in range(1, 7):
        mine = [c for c in captions if c.startswith(f"Exercise {k}.")]
        assert mine, f"exercise {k}: no static table (captions: {captions})"
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('article table')).filter("
        "t => (t.caption ? t.caption.textContent : '').startsWith('Exercise ')).map(t => t.rows.length)"
    )
    assert all(n >= 2 for n in rows), "an exercise table has no body row"


def test_craft_page_keeps_every_model_answer_collapsed_until_opened(driver):
    _open(driver, CRAFT)
    answers = driver.execute_script(
        "return Array.from(document.querySelectorAll('article .admonition.dropdown')).map(a => {"
        "  const t = a.querySelector('.admonition-title');"
        "  const body = Array.from(a.children).filter(c => !c.classList.contains('admonition-title'));"
        "  const seen = c => getComputedStyle(c).visibility !== 'hidden' && c.getBoundingClientRect().height > 0;"
        "  return [t ? t.textContent.trim() : '', body.some(seen)];"
        "})"
    )
    titles = [t for t, _ in answers]
    for k in range(1, 7):
        hits = [visible for t, visible in answers if t.startswith(f"Model answer to exercise {k}")]
        assert hits, f"exercise {k}: no model answer (titles: {titles})"
        assert not any(hits), f"exercise {k}: the model answer is not collapsed"
    # opening one shows its computed content (a table for exercise 1)
    driver.execute_script(
        "const a = Array.from(document.querySelectorAll('article .admonition.dropdown'))"
        ".find(x => x.textContent.includes('Model answer to exercise 1'));"
        "(a.querySelector('button.toggle-button') || a.querySelector('.admonition-title')).click();"
    )
    import time

    time.sleep(0.5)
    shown = driver.execute_script(
        "const a = Array.from(document.querySelectorAll('article .admonition.dropdown'))"
        ".find(x => x.textContent.includes('Model answer to exercise 1'));"
        "const t = a.querySelector('table');"
        "return t ? getComputedStyle(t).visibility === 'visible' && t.getBoundingClientRect().height > 0 : false"
    )
    assert shown, "opening model answer 1 did not show the team's codes"


def test_teaching_pages_link_the_guide_and_say_the_reading_is_not_the_truth(driver):
    _open(driver, GUIDE)
    text = driver.execute_script("return document.querySelector('article').innerText").replace("\u2019", "'")
    for k in range(1, 5):
        assert f"Session {k}" in text, f"the workshop plan has no session {k}"
    assert text.count("Learning objectives") == 4 and "Hand out" in text
    assert "one team's reading" in text.lower()
    for page in (CRAFT, HTML / "chapters" / "teaching.html"):
        _open(driver, page)
        body = driver.execute_script("return document.querySelector('article').innerText")
        body = body.replace("\u2019", "'").lower()
        assert "one team's reading" in body and "not the truth" in body, page.name
