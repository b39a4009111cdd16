"""Every measured figure that the prose states is backed by a run, a record or a source.

A *measured figure* is a number in a chapter's Markdown or on a book page that states a time,
a speed, a size in bytes, or an accuracy, error or loss. Such a number is only true where
it came from, so each must be backed by one of:

* the notebook prints it: the same number appears in what one of the two code cells
  before or after the Markdown cell printed (so only figures that repeat run after run:
  a seeded accuracy, never a wall-clock time);
* a citation: its paragraph links to an outside source (a paper, the D2L page);
* the results page: its paragraph links to the results page, and the number is on it
  (that page is made from run records, and tests/test_results_page.py holds it to them).

Numbers in inline code or math are code, not claims about a run, and are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[78]_*.ipynb"))
# results.md is written from the run records by scripts/build_results_page.py.
BOOK_PAGES = sorted(p for p in (ROOT / "book").glob("*.md") if p.name != "results.md")
RESULTS = ROOT / "book" / "results.md"

_NUMBER = r"(\d[\d,]*(?:\.\d+)?)"
# A number with a unit of time, speed or size; "s" and "h" only after a space, so that
# "the 1990s" is not read as 1990 seconds.
_UNITS = [
    re.compile(_NUMBER + r"\s*(?:ms|milliseconds?|sec|seconds?|mins?|minutes?|hours?)\b", re.I),
    re.compile(_NUMBER + r"\s+[sh]\b"),
    re.compile(_NUMBER + r"\s*(?:images?|examples?|img|samples?)\s*(?:/|per)\s*(?:s|sec|second)\b",
               re.I),
    re.compile(_NUMBER + r"\s*(?:×|x|times)\s*(?:faster|slower|quicker|the speed|speed-?up)", re.I),
    re.compile(r"speed-?up of\s*" + _NUMBER, re.I),
    re.compile(_NUMBER + r"\s*(?:[KMGT]i?B|kB|bytes)\b"),
]
_SCORE_WORDS = re.compile(r"\b(?:accura\w*|error rate|errors?|loss(?:es)?)\b", re.I)
_SCORES = [re.compile(r"(?<![\d.])(0\.\d{2,})(?!\d|\.\d)"), re.compile(_NUMBER + r"\s*%")]


def _prose(text: str) -> str:
    """The paragraph without its code and math (numbers there are not claims)."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$]*\$", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    return re.sub(r"\]\([^)]*\)", "]", text)  # link targets: addresses, not figures


def measured_figures(paragraph: str) -> list[str]:
    """The measured figures a Markdown paragraph states, as written ("14.2", "0.91", "3")."""
    prose = _prose(paragraph)
    found = [m.group(1) for pattern in _UNITS for m in pattern.finditer(prose)]
    for sentence in re.split(r"(?<=[.!?])\s+", prose):
        if _SCORE_WORDS.search(sentence):
            found += [m.group(1) for pattern in _SCORES for m in pattern.finditer(sentence)]
    return list(dict.fromkeys(found))


def _cites(paragraph: str) -> bool:
    return re.search(r"\]\(https?://", paragraph) is not None


def _links_results(paragraph: str) -> bool:
    link = r"\]\([^)]*results(?:\.md|\.html|\.ipynb)?(?:#[^)]*)?\)"
    return re.search(link, paragraph) is not None


def _printed(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        else:
            data = output.get("data", {})
            parts.append(data.get("text/plain", ""))
    return "\n".join(parts)


def _appears(figure: str, text: str) -> bool:
    plain = figure.replace(",", "")
    return any(re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", text) for f in {figure, plain})


def unsourced(paragraphs: list[tuple[str, str]], results_page: str) -> list[str]:
    """``paragraphs``: (Markdown paragraph, what the nearby code cells printed). The figures
    that nothing backs, each with the start of its paragraph."""
    problems = []
    for paragraph, printed in paragraphs:
        if _cites(paragraph):
            continue
        for figure in measured_figures(paragraph):
            if _appears(figure, printed):
                continue
            if _links_results(paragraph) and _appears(figure, results_page):
                continue
            start = " ".join(paragraph.split())[:90]
            problems.append(f"{figure!r} in: {start}...")
    return problems


def _split(source: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", source) if p.strip()]


def notebook_paragraphs(notebook) -> list[tuple[str, str]]:
    cells = notebook.cells
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    out = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        before = [j for j in code if j < i][-2:]
        after = [j for j in code if j > i][:2]
        printed = "\n".join(_printed(cells[j]) for j in before + after)
        out += [(p, printed) for p in _split(cell.source)]
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_measured_figure_in_a_chapter_is_backed(path):
    notebook = nbformat.read(path, as_version=4)
    problems = unsourced(notebook_paragraphs(notebook), RESULTS.read_text(encoding="utf-8"))
    assert not problems, (
        f"{path.name} states figures that no printed output, results-page record or cited "
        "source backs (print them in the cell beside the sentence, link the results page "
        "where the record is, or cite the source):\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("path", BOOK_PAGES, ids=[p.stem for p in BOOK_PAGES])
def test_every_measured_figure_on_a_book_page_is_backed(path):
    text = path.read_text(encoding="utf-8")
    problems = unsourced([(p, "") for p in _split(text)], RESULTS.read_text(encoding="utf-8"))
    assert not problems, (
        f"{path.name} states figures that no results-page record or cited source backs:\n  "
        + "\n  ".join(problems))


# The checker itself: each kind of figure is found, and each kind of backing is accepted.

def test_finds_times_speeds_sizes_and_scores():
    text = ("One epoch takes 14.2 s and the run 3 minutes, at 2,100 images/s, 3.1× faster; "
            "the checkpoint is 240 KB. Its validation accuracy is 0.912, or 91%.")
    assert measured_figures(text) == ["3", "14.2", "2,100", "3.1", "240", "0.912", "91"]


def test_ignores_settings_code_math_and_decades():
    text = ("LeNet came out in the 1990s. We train for 10 epochs with `lr=0.1` on 28 × 28 "
            "images; $0.5$ is the dropout rate, and the loss uses `0.25`.")
    assert measured_figures(text) == []


def test_a_figure_is_backed_by_a_print_a_citation_or_the_results_page():
    results = "| lenet | 0.735 |"
    said = "The network reaches a validation accuracy of 0.735."
    assert unsourced([(said, "")], results) != []
    assert unsourced([(said, "val acc 0.735\n")], results) == []
    assert unsourced([(said, "val acc 0.7351\n")], results) != []
    assert unsourced([(said + " See [the paper](https://arxiv.org/abs/1).", "")], results) == []
    assert unsourced([(said + " See the [results](../book/results.md).", "")], results) == []
    assert unsourced([("Accuracy 0.912, see [results](results.md).", "")], results) != []
