"""The built website, opened in a real (headless) browser."""

import pytest

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
