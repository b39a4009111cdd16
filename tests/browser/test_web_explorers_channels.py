"""7.4's channels explorer on a page opened from file://, computing in the browser.

As for the pooling explorer: a tiny page in tmp_path loads cnnlib/web/cnn-ops.js, cnn-host.js
and explorers/channels.js by file:// script tags and mounts the explorer with the state Python
gives (``ChannelsExplorer.page_state()``: every number it holds); settings are made through
the page's real controls with the keyboard only (sliders, and numbers typed into the boxes),
and every number the page shows is compared with torch.nn.functional.conv2d.
"""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F
from live_page import check_readable_on_a_phone, explorer_page, lab_page, phone_page, set_slider

from cnnlib.viz.cell_grid import format_value
from cnnlib.widgets.channels import ChannelsExplorer, notes_tensors

pytestmark = pytest.mark.browser

ROOT = ".cnnx-chan"
SLIDERS = ("in_channels", "out_channels", "kernel_size", "out_channel")


def shown(page) -> dict:
    """What the page shows: status, message, controls, boxes and every panel's cells."""
    return page.evaluate("""() => {
      const root = document.querySelector('.cnnx-chan');
      const pictures = root.querySelector('.cnnx-pictures');
      const panels = {};
      for (const figure of root.querySelectorAll('figure[data-panel]')) {
        const cells = [...figure.querySelectorAll('g[data-row]')];
        const h = Math.max(...cells.map((g) => Number(g.dataset.row))) + 1;
        const rows = Array.from({length: h}, () => []);
        const texts = Array.from({length: h}, () => []);
        for (const g of cells) {
          rows[Number(g.dataset.row)][Number(g.dataset.col)] = Number(g.dataset.value);
          texts[Number(g.dataset.row)][Number(g.dataset.col)] =
            g.querySelector('text').textContent;
        }
        panels[figure.dataset.panel] = {rows, texts,
          caption: figure.querySelector('figcaption').textContent,
          label: figure.querySelector('svg').getAttribute('aria-label')};
      }
      const message = root.querySelector('.cnnx-message');
      return {
        status: root.querySelector('[role=status]').innerText.trim(),
        message: message.hidden ? '' : message.textContent,
        pictures: !pictures.hidden,
        header: root.querySelector('.cnnx-header').textContent,
        values: Object.fromEntries([...root.querySelectorAll('input')].map(
          (i) => [i.name, i.type === 'range' ? Number(i.value) : i.value])),
        invalid: [...root.querySelectorAll('input[aria-invalid=true]')].map((i) => i.name),
        panels: pictures.hidden ? {} : panels,
      };
    }""")


def type_into(page, name: str, text: str) -> None:
    """Type text into the box ``name`` and press Enter, with the keyboard only."""
    box = page.locator(f'{ROOT} input[name="{name}"]')
    box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def grid_text(rows) -> str:
    return "; ".join(" ".join(str(v) for v in line) for line in rows)


def numbers(rng: random.Random, *shape: int) -> list:
    """Nested lists of random numbers with one decimal, as a reader types them."""
    if len(shape) == 1:
        return [round(rng.uniform(-9, 9), 1) for _ in range(shape[0])]
    return [numbers(rng, *shape[1:]) for _ in range(shape[0])]


def check_against_torch(page, X: torch.Tensor, K: torch.Tensor, bias: torch.Tensor,
                        o: int) -> None:
    """Every number on the page is F.conv2d's (to 1e-4), every label format_value's."""
    got = shown(page)
    python = ChannelsExplorer(X, K, bias)  # the same layer, set up in Python
    python.out_channel = o
    assert got["status"] == python.status_text and got["header"] == python.header
    assert not got["message"] and got["pictures"]
    c_i = X.shape[0]
    Y = F.conv2d(X[None], K, bias)[0]
    expected = {f"Y[{o}]": Y[o], "bias": bias[o:o + 1, None],
                "sum": F.conv2d(X[None], K[o:o + 1])[0, 0]}
    for c in range(c_i):
        expected[f"X[{c}]"] = X[c]
        expected[f"K[{o}, {c}]"] = K[o, c]
        expected[f"partial {c}"] = F.conv2d(X[None, c:c + 1], K[o:o + 1, c:c + 1])[0, 0]
    for a in range(K.shape[0]):
        expected[f"out {a}"] = Y[a]
    assert set(got["panels"]) == set(expected)
    for name, want in expected.items():
        panel = got["panels"][name]
        torch.testing.assert_close(torch.tensor(panel["rows"], dtype=torch.float32), want,
                                   rtol=0, atol=1e-4, msg=f"{name} differs")
        assert panel["texts"] == [[format_value(v) for v in line] for line in want.tolist()]
    assert got["panels"]["bias"]["texts"] == [[format_value(float(bias[o]))]]
    assert got["values"]["bias"] == format_value_typed(float(bias[o]))


def format_value_typed(value: float) -> str:
    """How the bias box writes a number: seven significant digits, as typed."""
    text = f"{float(f'{value:.7g}')!r}"
    return text[:-2] if text.endswith(".0") else text


def test_settings_made_with_the_keyboard_match_pytorch(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ChannelsExplorer(*notes_tensors()), "Channels"))
    X, K = notes_tensors()
    check_against_torch(watched, X, K, torch.zeros(3), 0)  # the notes' 56, 72, 104, 120
    maxima = watched.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
      '.cnnx-chan input[type=range]')].map((i) => [i.name, Number(i.max)]))""")
    assert maxima == dict(in_channels=3, out_channels=3, kernel_size=4, out_channel=2)
    rng = random.Random(21)
    inputs = numbers(rng, 3, 3, 3)
    weights = numbers(rng, 3, 3, 3, 3)
    biases = numbers(rng, 3)
    cases = [(1, 1, 2, 0), (3, 3, 3, 2), (3, 2, 1, 1), (2, 3, 2, 1)] + [
        (rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 3), rng.randint(0, 2))
        for _ in range(4)]
    # The layer the page holds: the notes' numbers, zeros past them, and what is typed.
    held_X = torch.zeros(3, 3, 3)
    held_X[:2] = X
    held_K = torch.zeros(3, 3, 4, 4)
    held_K[:3, :2, :2, :2] = K
    held_b = torch.zeros(3)
    for c_i, c_o, k, o in cases:
        for name, value in zip(SLIDERS, (c_i, c_o, k, o), strict=True):
            if watched.locator(f'{ROOT} input[name="{name}"]').is_enabled():
                set_slider(watched, ROOT, name, value)  # one output channel: none to choose
        o = min(o, c_o - 1)
        assert shown(watched)["values"]["out_channel"] == o
        # Type this output channel's bias, its kernel slices and the input channels.
        type_into(watched, "bias", str(biases[o]))
        held_b[o] = biases[o]
        for c in range(c_i):
            kernel = [line[:k] for line in weights[o][c][:k]]
            type_into(watched, f"kernel-{c}", grid_text(kernel))
            held_K[o, c, :k, :k] = torch.tensor(kernel)
        c = rng.randrange(c_i)
        type_into(watched, f"input-{c}", grid_text(inputs[c]))
        held_X[c] = torch.tensor(inputs[c])
        check_against_torch(watched, held_X[:c_i], held_K[:c_o, :c_i, :k, :k], held_b[:c_o], o)
    assert watched.problems == []


def test_each_output_channel_keeps_its_own_bias(watched, tmp_path):
    """Issue 22: channel 0's bias 10, channel 1's −10, back to channel 0: it shows 10 (the
    page form showed −10), and the numbers are F.conv2d's with both biases."""
    watched.goto(explorer_page(tmp_path, ChannelsExplorer(*notes_tensors()), "Channels"))
    X, K = notes_tensors()
    set_slider(watched, ROOT, "out_channel", 0)
    type_into(watched, "bias", "10")
    set_slider(watched, ROOT, "out_channel", 1)
    assert shown(watched)["values"]["bias"] == "0"  # channel 1's own bias, not channel 0's
    type_into(watched, "bias", "-10")
    set_slider(watched, ROOT, "out_channel", 0)
    got = shown(watched)
    assert got["values"]["bias"] == "10" and got["panels"]["bias"]["texts"] == [["10"]]
    check_against_torch(watched, X, K, torch.tensor([10.0, -10.0, 0.0]), 0)
    assert got["panels"]["out 1"]["caption"] == "Y[1], b[1] = -10"
    # A typed kernel stays with its channel, too.
    type_into(watched, "kernel-1", "1 -1; 0.5 2")
    set_slider(watched, ROOT, "out_channel", 2)
    set_slider(watched, ROOT, "out_channel", 0)
    assert shown(watched)["values"]["kernel-1"] == "1 -1; 0.5 2"
    K[0, 1] = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    check_against_torch(watched, X, K, torch.tensor([10.0, -10.0, 0.0]), 0)
    assert watched.problems == []


def test_a_kernel_larger_than_the_input_is_explained_and_fixed(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ChannelsExplorer(*notes_tensors()), "Channels"))
    set_slider(watched, ROOT, "kernel_size", 4)
    got = shown(watched)
    python = ChannelsExplorer(*notes_tensors())
    python.kernel_size = 4
    assert got["status"] == got["message"] == python.error != ""
    assert "choose a kernel size of at most 3" in got["status"] and not got["pictures"]
    set_slider(watched, ROOT, "kernel_size", 3)  # the controls stay usable
    X, K = notes_tensors()
    held = torch.zeros(3, 2, 3, 3)
    held[:, :, :2, :2] = K
    check_against_torch(watched, X, held, torch.zeros(3), 0)
    assert watched.problems == []


def test_typing_mistakes_are_explained_and_can_be_fixed(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ChannelsExplorer(*notes_tensors()), "Channels"))
    before = shown(watched)
    type_into(watched, "kernel-0", "1 2 3; 4 5")
    got = shown(watched)
    assert got["status"] == ('row 1 of K[0, 0] has 3 numbers; it needs 2 (for example '
                             '"0 0; 0 0")')
    assert got["invalid"] == ["kernel-0"] and got["values"]["kernel-0"] == "1 2 3; 4 5"
    assert got["panels"] == before["panels"]  # nothing changed
    type_into(watched, "kernel-0", "1 2; x 4")
    assert shown(watched)["status"] == 'K[0, 0]: "x" is not a number'
    type_into(watched, "bias", "")
    assert shown(watched)["status"] == "b[0] must be a number, such as 0.5 or -2"
    type_into(watched, "bias", "0")
    type_into(watched, "kernel-0", "1 2; 3 4")
    got = shown(watched)
    assert got["invalid"] == [] and got["status"].startswith("Y[0] = ")
    X, K = notes_tensors()
    K[0, 0] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    check_against_torch(watched, X, K, torch.zeros(3), 0)
    assert watched.problems == []


def test_the_1x1_convolution_is_shown(watched, tmp_path):
    """Kernel size 1, as the chapter's text says: each partial is its channel times one
    weight, and the status says so."""
    watched.goto(explorer_page(tmp_path, ChannelsExplorer(*notes_tensors()), "Channels"))
    set_slider(watched, ROOT, "kernel_size", 1)
    got = shown(watched)
    X, K = notes_tensors()
    K1 = K[:, :, :1, :1]
    for c in range(2):
        torch.testing.assert_close(torch.tensor(got["panels"][f"partial {c}"]["rows"],
                                                dtype=torch.float32),
                                   X[c] * K1[0, c, 0, 0])
        assert got["panels"][f"K[0, {c}]"]["rows"] == [[float(K1[0, c, 0, 0])]]
    assert "(a 1×1 convolution: each output value mixes the 2 input values" in got["status"]
    check_against_torch(watched, X, K1.clone(), torch.zeros(3), 0)
    assert watched.problems == []


def test_keyboard_only_with_labels_and_a_polite_status(watched, tmp_path):
    watched.goto(explorer_page(tmp_path, ChannelsExplorer(*notes_tensors()), "Channels"))
    order = []
    for _ in range(4 + 3 + 2):
        watched.keyboard.press("Tab")
        order.append(watched.evaluate(
            "() => [document.activeElement.name, document.activeElement.labels[0].textContent]"))
    assert order == [[c.name, c.label] for c in ChannelsExplorer.CONTROLS] + [
        ["bias", "bias b[0]"], ["kernel-0", "kernel K[0, 0]"], ["kernel-1", "kernel K[0, 1]"],
        ["input-0", "input X[0]"], ["input-1", "input X[1]"]]
    status = watched.locator(f"{ROOT} [role=status]")
    assert status.get_attribute("aria-live") == "polite"
    before = status.inner_text()
    for _ in range(5):  # from X[1] back to the output channel slider
        watched.keyboard.press("Shift+Tab")
    assert watched.evaluate("() => document.activeElement.name") == "out_channel"
    watched.keyboard.press("ArrowRight")
    assert status.inner_text() != before and status.inner_text().startswith("Y[1] = ")
    for svg in watched.locator(f"{ROOT} svg").all():
        label = svg.get_attribute("aria-label")
        assert svg.get_attribute("role") == "img" and len(label) > 10
        assert svg.locator("title").text_content() == label
    assert watched.problems == []


def test_readable_on_a_phone(browser, tmp_path, artifacts):
    page = phone_page(browser)
    # The widest rows the sliders allow: 3 input channels, a 3×3 kernel; long numbers.
    explorer = ChannelsExplorer(*notes_tensors())
    explorer.in_channels, explorer.kernel_size = 3, 3
    explorer.set_input(2, [[-12.75, 3.5, 100.25], [0.5, -7.0, 2.0], [1.0, 1.0, -1.0]])
    page.goto(explorer_page(tmp_path, explorer, "Channels"))
    check_readable_on_a_phone(page, ROOT)
    page.screenshot(path=str(artifacts / "web-explorer-channels-phone.png"), full_page=True)
    page.context.close()


def test_in_lab_it_draws_pythons_numbers_without_computing(watched, tmp_path):
    """JupyterLab's path: anywidget's module (the class's _esm) renders a synced model whose
    values all come from Python; compute() is never called, so what it shows is Python's, and
    what the reader types goes to Python as the whole array with one number changed."""
    widget = ChannelsExplorer(*notes_tensors())
    widget.set_bias(0, 10.0)
    widget.set_bias(1, -10.0)
    widget.out_channel = 1
    watched.goto(lab_page(tmp_path, widget))
    watched.locator(f"{ROOT} [role=status]").wait_for()
    got = shown(watched)
    assert got["status"] == widget.status_text and got["header"] == widget.header
    assert got["values"]["bias"] == "-10"
    assert got["panels"]["Y[1]"]["rows"] == widget.output_map
    assert [got["panels"][f"out {a}"]["rows"] for a in range(3)] == widget.outputs
    type_into(watched, "bias", "2.5")
    type_into(watched, "kernel-0", "1 0; 0 1")
    sets = watched.evaluate("() => window.sets")
    assert [name for name, _ in sets] == ["biases", "weights"]
    assert sets[0][1] == [10.0, 2.5, 0.0]
    assert sets[1][1][1][0][:2] == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert sets[1][1][0] == widget.weights[0] and sets[1][1][2] == widget.weights[2]
    assert watched.problems == []
