"""The built website's layout, as a reader's browser lays it out (item 4: readable figures).

On every page, in a 1280-px window: every figure is shown at no less than 3/4 of its
natural width (its text shrinks with it), and a table wider than the content column
scrolls inside its own box with a scrollbar that takes room. In a 390-px window (a phone):
the page itself never scrolls sideways, and the same holds for tables.

The pages are opened in a Chromium that draws scrollbars, as a desktop browser on Windows
or Linux does: headless Chromium hides them unless told not to, and then neither the
page's scrollbar (15 px less for the column) nor a table's can be seen.

The figure style (cnnlib.viz.style) is sized from two measurements of this site: the
content column and the code font. test_style_matches_the_site checks that they still hold,
so tests/test_viz_style.py, which checks the renderers against them, stays meaningful.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cnnlib.viz import style

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
# index.html only redirects to book/intro.html; _static/ holds the theme's Jinja macros.
PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if p.relative_to(SITE).parts[0] != "_static" and p.name != "index.html"
) or ["<no site: run `make book`>"]
# The smallest fraction of its natural width a figure may be shown at.
MIN_SCALE = 0.75
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


# The content column (the article less its padding) and the code font, in CSS px.
MEASURE_PAGE = """() => {
  const article = document.querySelector('main article.bd-article')
                  || document.querySelector('main');
  const style = getComputedStyle(article);
  const pre = document.querySelector('main pre');
  return {
    column: article.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
    code: pre ? parseFloat(getComputedStyle(pre).fontSize) : null,
  };
}"""

# [src, natural width, displayed width] of every image shown in main, once decoded
# (lazy ones are made eager first). Hidden ones (a launch button's logo) have no box.
IMAGES = """() => Promise.all(Array.from(document.querySelectorAll('main img')).map(img => {
  img.loading = 'eager';
  return img.decode().catch(() => null);
})).then(() => Array.from(document.querySelectorAll('main img'))
  .filter(img => img.naturalWidth > 0 && img.getClientRects().length > 0
                 && img.getBoundingClientRect().width > 0)
  .map(img => [img.currentSrc.split('/').pop().slice(0, 60), img.naturalWidth,
               img.getBoundingClientRect().width]))"""

# For each table wider than the content column: whether an ancestor scrolls it sideways,
# fits the column, and draws a scrollbar that takes room (not one that only appears while
# scrolling). Returns one line per table that does not.
TABLES = """(column) => {
  const problems = [];
  document.querySelectorAll('main table').forEach((table, k) => {
    if (table.scrollWidth <= column + 1) return;
    let box = table.parentElement;
    while (box && box.tagName !== 'MAIN'
           && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
      box = box.parentElement;
    }
    const name = `table ${k} (${Math.round(table.scrollWidth)} px)`;
    if (!box || box.tagName === 'MAIN') {
      problems.push(`${name}: no box scrolls it`);
      return;
    }
    const s = getComputedStyle(box);
    const bar = box.offsetHeight - box.clientHeight - parseFloat(s.borderTopWidth)
                - parseFloat(s.borderBottomWidth);
    if (box.getBoundingClientRect().width > column + 1) {
      problems.push(`${name}: its scroll box is wider than the column`);
    } else if (bar <= 0) {
      problems.push(`${name}: its scrollbar takes no room, so it is hidden until used`);
    }
  });
  return problems;
}"""

# Elements that stick out of the window on the right, outside any box that scrolls them:
# what makes the page scroll sideways. Fixed ones (the off-canvas sidebar) do not count.
STICKING_OUT = """() => {
  const W = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= W + 0.5) continue;
    let contained = false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible' || s.position === 'fixed') { contained = true; break; }
    }
    if (!contained && getComputedStyle(e).position !== 'fixed') {
      out.push(`${e.tagName.toLowerCase()}.${String(e.className).split(' ')[0]} ` +
               `(right edge ${Math.round(r.right)} px)`);
    }
  }
  return out.slice(0, 8);
}"""


@pytest.fixture(scope="module")
def reader_browser(browser):
    """A second Chromium, started by the session's Playwright, that draws its scrollbars."""
    chromium = browser.browser_type.launch(
        executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        ignore_default_args=["--hide-scrollbars"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(reader_browser):
    """A 1280-px window (its scrollbar included) of the reader's browser."""
    context = reader_browser.new_context(viewport={"width": 1280, "height": 1000})
    yield context.new_page()
    context.close()


def _open(page, site_url: str, path: str, typeset) -> None:
    page.goto(f"{site_url}/{path}", wait_until="load")
    typeset(page)


def test_style_matches_the_site(page, site_url, typeset):
    """The two numbers cnnlib.viz.style is sized from, measured on a chapter page."""
    _open(page, site_url, "chapters/7_2_conv_images.html", typeset)
    measured = page.evaluate(MEASURE_PAGE)
    assert measured == {"column": style.CONTENT_WIDTH_PX, "code": style.CODE_FONT_PX}, (
        "the theme's layout changed: update CONTENT_WIDTH_PX and CODE_FONT_PX in "
        "cnnlib/viz/style.py, then re-execute the notebooks"
    )


@pytest.mark.parametrize("path", PAGES)
def test_page_layout(page, site_url, path, typeset):
    assert (SITE / path).is_file(), f"{SITE} has no pages: run `make book` first"
    _open(page, site_url, path, typeset)
    column = page.evaluate(MEASURE_PAGE)["column"]
    problems = []
    for src, natural, shown in page.evaluate(IMAGES):
        if shown < MIN_SCALE * natural - 0.5:
            problems.append(f"1280 px: image {src} is {natural} px wide, shown at {shown:.0f} "
                            f"({shown / natural:.2f} of its width)")
    problems += [f"1280 px: {p}" for p in page.evaluate(TABLES, column)]

    page.set_viewport_size(PHONE)
    typeset(page)
    # clientWidth: the window less its scrollbar, what the page has to fit in.
    width, window = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if width > window:
        problems.append(f"390 px: the page is {width} px wide and scrolls sideways; "
                        f"sticking out: {page.evaluate(STICKING_OUT)}")
    column = page.evaluate(MEASURE_PAGE)["column"]
    problems += [f"390 px: {p}" for p in page.evaluate(TABLES, column)]
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)
