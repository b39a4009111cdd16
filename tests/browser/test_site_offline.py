"""The built website works offline: every page, served from _build/html with the internet cut off.

Every request to a host other than the loopback one is aborted (and recorded), as on a
machine without a network. On every HTML page of the site we then check that no script,
stylesheet, font or anything else was even requested from elsewhere (MathJax is served from
_static/), that the console stays free of errors, that every image in the page body decodes,
that no page carries a live widget view (which would need a kernel and a widget manager:
explorers come as page forms, see tests/browser/test_site_explorers.py), and that MathJax
typeset every formula (no raw ``\\(`` or ``$$`` left in the text).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# _static/ holds the theme's Jinja macro files (*.html), which are not pages.
PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if p.relative_to(SITE).parts[0] != "_static"
) or ["<no site: run `make book`>"]
# Sphinx writes each formula as <span|div class="math notranslate ...">\(...\)</span>.
MATH_IN_SOURCE = re.compile(r'class="math notranslate')

pytestmark = pytest.mark.browser


class OfflinePage:
    """A page whose requests to non-loopback hosts are aborted; it records them and every error."""

    def __init__(self, page):
        self.page = page
        self.external: list[str] = []  # "resource-type url" of every aborted request
        self.errors: list[str] = []  # console errors and uncaught exceptions
        page.set_default_timeout(30_000)
        page.route("**/*", self._route)
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(
            f"console: {msg.text} ({msg.location.get('url', '')})"))
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _route(self, route):
        request = route.request
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOOPBACK:
            self.external.append(f"{request.resource_type} {request.url}")
            route.abort("internetdisconnected")
        else:
            route.continue_()


@pytest.fixture
def offline_page(page):
    return OfflinePage(page)



# src of every image in main that does not decode (lazy ones are made eager first).
BROKEN_IMAGES = """() => Promise.all(Array.from(document.querySelectorAll('main img')).map(img => {
  img.loading = 'eager';
  return img.decode().then(() => (img.naturalWidth > 0 ? null : img.src), () => img.src);
})).then(srcs => srcs.filter(Boolean))"""

# Text of main outside code and MathJax output, with the raw TeX delimiters left in it.
RAW_MATH = """() => {
  const main = document.querySelector('main');
  if (!main) return [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {acceptNode: node =>
    node.parentElement.closest('pre, code, script, style, mjx-container')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  const raw = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const delimiter of ['\\\\(', '\\\\[', '$$']) {
      const at = node.data.indexOf(delimiter);
      if (at >= 0) raw.push(node.data.slice(Math.max(0, at - 20), at + 40));
    }
  }
  return raw;
}"""


@pytest.mark.parametrize("path", PAGES)
def test_page_works_offline(offline_page, site_url, path, typeset):
    assert (SITE / path).is_file(), f"{SITE} has no pages: run `make book` first"
    page = offline_page.page
    page.goto(f"{site_url}/{path}", wait_until="load")
    if path == "index.html":  # a redirect to the first page
        page.wait_for_url("**/book/intro.html")
        page.wait_for_load_state("load")
        path = "book/intro.html"
    source = (SITE / path).read_text(encoding="utf-8")

    has_mathjax = typeset(page)
    page.wait_for_load_state("networkidle")
    typeset(page)

    problems = []
    if offline_page.external:
        problems.append(f"requests to other hosts: {offline_page.external}")
    if offline_page.errors:
        problems.append(f"console errors: {offline_page.errors}")
    broken = page.evaluate(BROKEN_IMAGES)
    if broken:
        problems.append(f"images that do not decode: {broken}")
    views = source.count("application/vnd.jupyter.widget-view+json")
    if views:
        problems.append(f"{views} live widget views, which a page cannot run (make notebooks)")
    raw = page.evaluate(RAW_MATH)
    if raw:
        problems.append(f"raw TeX left in the text: {raw[:5]}")
    formulas = len(MATH_IN_SOURCE.findall(source))
    if formulas:
        typeset = page.locator("main mjx-container").count()
        if not has_mathjax:
            problems.append(f"{formulas} formulas but MathJax did not start")
        elif typeset < formulas:
            problems.append(f"{formulas} formulas, {typeset} typeset (mjx-container)")
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)
