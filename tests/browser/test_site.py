"""The built website, opened in a real (headless) browser."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "scripts"))

from assignment_masters import find_masters, leaks, read_master  # noqa: E402

pytestmark = pytest.mark.browser


def _rendered_images(page) -> int:
    """Images in the page body that actually decoded (naturalWidth > 0)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('main img'))
                 .filter(img => img.complete && img.naturalWidth > 0).length"""
    )


def test_conv_page_shows_executed_outputs_and_figures(page, site_url, artifacts):
    page.goto(f"{site_url}/chapters/7_2_conv_images.html")
    page.wait_for_load_state("load")
    outputs = page.locator(".cell_output").all_inner_texts()
    assert any("19., 25." in text for text in outputs), "the corr2d output is missing"
    assert _rendered_images(page) >= 1
    page.screenshot(path=str(artifacts / "site_7_2.png"), full_page=False)


def test_every_chapter_page_has_outputs(page, site_url):
    page.goto(f"{site_url}/index.html")  # a redirect to the intro page
    page.wait_for_url("**/book/intro.html")
    links = page.eval_on_selector_all("nav a.reference.internal", "els => els.map(e => e.href)")
    chapters = sorted({href.split("#")[0] for href in links if "/chapters/" in href})
    assert chapters, "the navigation lists no chapter pages"
    for href in chapters:
        page.goto(href)
        assert page.locator(".cell_output").count() > 0, f"{href} shows no executed output"
        assert _rendered_images(page) >= 1, f"{href} shows no figure"


# ----------------------------------------------------------------------------- assignments


def _masters():
    return [read_master(path) for path in find_masters()]


def _fetch_notebook(page, href: str):
    import nbformat

    response = page.request.get(href)
    assert response.ok, f"{href} answers {response.status}"
    return nbformat.reads(response.text(), as_version=4)


def test_instructors_guide_lists_every_question_and_links_student_notebooks(page, site_url):
    masters = _masters()
    page.goto(f"{site_url}/book/instructors.html")
    # The assignments' table is the one with the download links (the guide has other tables).
    rows = page.locator("main table:has(a[download]) tbody tr").all_inner_texts()
    questions = sum(len(m.questions) for m in masters)
    assert len(rows) == questions + len(masters) + 1  # a total row per assignment, one overall
    links = page.eval_on_selector_all("main table a[download]", "els => els.map(e => e.href)")
    assert len(links) == len(masters)
    for master, href in zip(masters, links, strict=True):
        assert href.endswith(f"/assignments/{master.stem}.ipynb")
        notebook = _fetch_notebook(page, href)
        assert notebook.metadata["otter"]["assignment_name"] == master.stem
        assert leaks(master, notebook) == [], f"{href} shows solutions or hidden tests"


def test_every_chapter_exercises_section_links_its_assignment(page, site_url):
    for master in _masters():
        page.goto(f"{site_url}/chapters/{master.stem}.html")
        link = page.locator(f'a[download][href$="assignments/{master.stem}.ipynb"]')
        assert link.count() == 1, f"{master.stem}: no download link to its assignment"
        assert "exercises" in link.evaluate(
            "a => a.closest('section').querySelector('h2, h3').textContent").lower()
        _fetch_notebook(page, link.evaluate("a => a.href"))


def test_no_hidden_test_or_autograder_file_is_published():
    """Hidden tests live only in the autograder: no page or file of the site names one."""
    names = [t.name for m in _masters() for q in m.questions for t in q.tests if t.hidden]
    published = [p for p in SITE.rglob("*") if p.is_file()
                 and p.suffix in (".html", ".ipynb", ".js", ".json", ".txt", ".md", ".py")]
    assert not [p for p in SITE.rglob("*autograder*")]
    for path in published:
        text = path.read_text(errors="replace")
        found = [n for n in names if n in text]
        assert not found, f"{path.relative_to(SITE)} names hidden tests {found[:3]}"
