"""cnnlib/web/cnn-ops.js (chapter 7's operations in JavaScript) computes what PyTorch computes.

A tiny page in ``tmp_path`` loads the script from ``file://``, as the website's pages opened
from a folder do. Cases are generated here with torch (a fixed seed per case), sent to the
page in one ``page.evaluate`` call, and the results compared with ``torch.nn.functional``
to 1e-4 (absolute, relative above 1). Where PyTorch refuses a setting (a kernel larger than
the padded input, pooling padding above half the window) the script must refuse it too.
The same cases run in Node (the script is also a CommonJS module) when ``node`` exists.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "cnnlib" / "web" / "cnn-ops.js"
TOLERANCE = 1e-4

# Runs a list of cases with the library O; the same source runs in the page and in Node.
# Values that JSON cannot carry (-Infinity from max-pooling padding) travel as strings.
RUN_CASES = """
function runCases(O, cases) {
  const T = (t) => O.tensor(t.shape, t.data);
  return cases.map((c) => {
    try {
      let out;
      if (c.op === "outputSize") return { value: O.outputSize(...c.args) };
      if (c.op === "conv2d") {
        const options = { ...c.options };
        if (c.biasAsTensor && options.bias) {
          options.bias = T({ shape: [options.bias.length], data: options.bias });
        }
        out = O.conv2d(T(c.X), T(c.W), options);
      } else if (c.op === "pool2d") {
        out = O.pool2d(T(c.X), c.options);
      } else if (c.op === "pad2d") {
        out = O.pad2d(T(c.X), c.padding, Number(c.value));
      } else {
        out = O[c.op](T(c.X), T(c.K));
      }
      const data = Array.from(out.data, (v) => (Number.isFinite(v) ? v : String(v)));
      return { shape: out.shape, data };
    } catch (err) {
      return { error: err.message };
    }
  });
}
"""


@pytest.fixture
def ops_page(page, tmp_path):
    """A blank page opened from file:// with cnn-ops.js loaded by a classic <script src>."""
    html = tmp_path / "ops.html"
    html.write_text(
        f'<!doctype html><meta charset="utf-8"><title>ops</title>'
        f'<script src="{SCRIPT.as_uri()}"></script>'
    )
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(html.as_uri())
    assert page.evaluate("typeof CNNOps") == "object", f"CNNOps not defined: {errors}"
    yield page
    assert not errors, errors


def test_script_defines_one_global(ops_page, tmp_path):
    """Loading the script adds CNNOps to the page and nothing else."""
    names = "() => Object.getOwnPropertyNames(globalThis)"
    with_script = set(ops_page.evaluate(names))
    blank = tmp_path / "blank.html"
    blank.write_text('<!doctype html><meta charset="utf-8"><title>blank</title>')
    ops_page.goto(blank.as_uri())
    assert with_script - set(ops_page.evaluate(names)) == {"CNNOps"}


def run_in_page(page, cases: list[dict]) -> list[dict]:
    return page.evaluate(f"(cases) => {{ {RUN_CASES}; return runCases(CNNOps, cases); }}", cases)


# --------------------------------------------------------------------------- the cases


def _pair(r: random.Random, a: int, b: int):
    """A number or an [h, w] pair, as the options take either."""
    return a if a == b and r.random() < 0.5 else [a, b]


def _both(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _data(T: torch.Tensor) -> dict:
    return {"shape": list(T.shape), "data": T.flatten().tolist()}


def _randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=torch.float32) * 3


def _reference(fn):
    """fn()'s result as an array, or the RuntimeError text when PyTorch refuses."""
    try:
        return fn().numpy()
    except RuntimeError as err:
        return err


def conv_case(seed: int, C=None, H=None, W=None, O=None, k=None, padding=None, stride=None,
              dilation=None, bias=None, two_d=False, label="random") -> tuple[dict, object]:
    """A conv2d case: random settings (fixed by seed) unless given; returns (case, expected)."""
    r = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    C = C or r.randint(1, 3)
    O = O or r.randint(1, 3)
    H, W = H or r.randint(1, 10), W or r.randint(1, 10)
    kh, kw = k or (r.randint(1, 4), r.randint(1, 4))
    padding = padding if padding is not None else _pair(r, r.randint(0, 3), r.randint(0, 3))
    stride = stride if stride is not None else _pair(r, r.randint(1, 4), r.randint(1, 4))
    dilation = dilation if dilation is not None else _pair(
        r, r.choice([1, 1, 1, 2, 3]), r.choice([1, 1, 1, 2, 3]))
    use_bias = bias if bias is not None else r.random() < 0.6
    X = _randn(g, C, H, W)
    Wt = _randn(g, O, C, kh, kw)
    b = _randn(g, O) if use_bias else None
    options = {"padding": padding, "stride": stride, "dilation": dilation}
    for name, default in (("padding", 0), ("stride", 1), ("dilation", 1)):
        if options[name] == default and r.random() < 0.5:
            del options[name]  # the default must apply when the option is left out
    if b is not None:
        options["bias"] = b.tolist()
    case = {"op": "conv2d", "label": label, "X": _data(X[0] if two_d else X), "W": _data(Wt),
            "options": options, "biasAsTensor": r.random() < 0.5}
    expected = _reference(lambda: F.conv2d(
        X[None], Wt, b, stride=_both(stride), padding=_both(padding), dilation=_both(dilation)
    )[0])
    return case, expected


def pool_case(seed: int, kind=None, C=None, H=None, W=None, size=None, padding=None,
              stride="random", two_d=None, label="random") -> tuple[dict, object]:
    """A pool2d case; stride None leaves it out (PyTorch's default: the window size)."""
    r = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    kind = kind or r.choice(["max", "avg"])
    C = C or r.randint(1, 3)
    H, W = H or r.randint(1, 9), W or r.randint(1, 9)
    size = size or _pair(r, r.randint(1, 4), r.randint(1, 4))
    size_h, size_w = _both(size)
    # Mostly within PyTorch's rule (at most half the window), sometimes beyond it.
    padding = padding if padding is not None else _pair(
        r, r.randint(0, size_h // 2 + (r.random() < 0.1)), r.randint(0, size_w // 2))
    if stride == "random":
        stride = None if r.random() < 0.3 else _pair(r, r.randint(1, 4), r.randint(1, 4))
    two_d = two_d if two_d is not None else (C == 1 and r.random() < 0.5)
    X = _randn(g, C, H, W)
    options = {"kind": kind, "size": size, "padding": padding}
    if stride is not None:
        options["stride"] = stride
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    expected = _reference(lambda: pool(
        X[None], _both(size), stride=_both(stride) if stride is not None else None,
        padding=_both(padding))[0])
    if two_d and not isinstance(expected, RuntimeError):
        expected = expected[0]
    case = {"op": "pool2d", "label": label, "X": _data(X[0] if two_d else X), "options": options}
    return case, expected


def pad_case(seed: int) -> tuple[dict, object]:
    r = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    two_d = r.random() < 0.3
    X = _randn(g, *([] if two_d else [r.randint(1, 3)]), r.randint(1, 6), r.randint(1, 6))
    ph, pw = r.randint(0, 3), r.randint(0, 3)
    value = r.choice([0.0, 1.5, -float("inf")])
    case = {"op": "pad2d", "label": "random", "X": _data(X), "padding": _pair(r, ph, pw),
            "value": "-Infinity" if value == -float("inf") else value}  # JSON has no -inf
    return case, F.pad(X, (pw, pw, ph, ph), value=value).numpy()


def corr_case(seed: int, op: str, C=None, O=None, H=None, W=None, k=None,
              label="random") -> tuple[dict, object]:
    """corr2d / corr2dMultiIn / corr2dMultiInOut against F.conv2d (no padding, stride 1)."""
    r = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    C, O = C or r.randint(1, 3), O or r.randint(1, 3)
    H, W = H or r.randint(1, 7), W or r.randint(1, 7)
    kh, kw = k or (r.randint(1, 5), r.randint(1, 5))
    X = _randn(g, C, H, W)
    K = _randn(g, O, C, kh, kw)
    if op == "corr2d":
        X, K = X[:1], K[:1, :1]
        case_x, case_k = X[0], K[0, 0]
        ref = lambda: F.conv2d(X[None], K)[0, 0]  # noqa: E731
    elif op == "corr2dMultiIn":
        K = K[:1]
        case_x, case_k = X, K[0]
        ref = lambda: F.conv2d(X[None], K)[0, 0]  # noqa: E731
    else:
        case_x, case_k = X, K
        ref = lambda: F.conv2d(X[None], K)[0]  # noqa: E731
    case = {"op": op, "label": label, "X": _data(case_x), "K": _data(case_k)}
    return case, _reference(ref)


def output_size_case(seed: int) -> tuple[dict, object]:
    """outputSize against the size of F.conv2d's output for the same one-axis setting."""
    r = random.Random(seed)
    n, k, p, s, d = (r.randint(1, 30), r.randint(1, 7), r.randint(0, 3), r.randint(1, 4),
                     r.randint(1, 3))
    ref = _reference(lambda: torch.tensor(F.conv2d(
        torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1), stride=(s, 1), padding=(p, 0),
        dilation=(d, 1)).shape[2]))
    return {"op": "outputSize", "label": "random", "args": [n, k, p, s, d]}, ref


def edge_cases() -> list[tuple[dict, object]]:
    """The settings issue 21 names, each on its own."""
    return [
        conv_case(1, C=1, H=3, W=3, k=(4, 4), padding=0, stride=1, dilation=1,
                  label="kernel larger than the input"),
        conv_case(2, C=2, H=3, W=3, k=(3, 5), padding=0, stride=1, dilation=1,
                  label="kernel wider than the input"),
        conv_case(3, C=1, H=4, W=4, k=(3, 3), padding=0, stride=1, dilation=2,
                  label="dilated kernel larger than the input"),
        corr_case(4, "corr2d", H=3, W=3, k=(4, 2), label="corr2d kernel larger than the input"),
        corr_case(5, "corr2dMultiInOut", H=2, W=5, k=(3, 3),
                  label="corr2dMultiInOut kernel larger than the input"),
        pool_case(6, kind="max", H=2, W=2, size=5, padding=1, stride=None,
                  label="pooling window larger than the padded input"),
        conv_case(7, C=2, O=3, H=4, W=5, k=(4, 5), padding=0, stride=1, dilation=1,
                  label="kernel exactly the input size"),
        corr_case(8, "corr2dMultiIn", H=3, W=4, k=(3, 4), label="corr2dMultiIn kernel = input"),
        conv_case(9, H=9, W=9, k=(2, 2), padding=0, stride=3, dilation=1,
                  label="stride larger than the kernel"),
        conv_case(10, H=7, W=6, k=(1, 2), padding=0, stride=[4, 5], dilation=1,
                  label="non-square stride larger than the kernel"),
        conv_case(11, H=6, W=6, k=(3, 3), padding=0, stride=1, dilation=1, label="zero padding"),
        conv_case(12, C=2, H=4, W=3, k=(1, 1), padding=2, stride=1, dilation=1, bias=True,
                  label="padding only (a 1x1 kernel with padding)"),
        conv_case(13, C=1, H=5, W=5, k=(3, 3), padding=1, stride=1, dilation=1,
                  label="one channel"),
        conv_case(14, C=1, H=5, W=6, k=(2, 3), padding=[1, 0], stride=[1, 2], dilation=1,
                  two_d=True, label="one channel given as an HxW input"),
        conv_case(15, C=3, O=1, H=6, W=6, k=(3, 3), padding=1, stride=1, dilation=1,
                  label="one output channel"),
        conv_case(16, C=2, O=2, H=8, W=7, k=(2, 4), padding=[2, 1], stride=[3, 1],
                  dilation=1, label="non-square kernel, stride and padding"),
        conv_case(17, C=2, O=2, H=9, W=9, k=(3, 2), padding=[2, 1], stride=[1, 2],
                  dilation=[2, 3], label="dilation"),
        pool_case(18, kind="max", H=5, W=6, size=3, padding=1, stride=2,
                  label="max pooling with padding"),
        pool_case(19, kind="avg", H=5, W=6, size=3, padding=1, stride=2,
                  label="avg pooling with padding (padded zeros counted)"),
        pool_case(20, kind="avg", H=4, W=7, size=[2, 4], padding=[1, 2], stride=[1, 3],
                  label="non-square avg pooling with padding"),
        pool_case(21, kind="max", H=4, W=4, size=2, padding=2, stride=None,
                  label="pooling padding more than half the window"),
        conv_case(22, C=1, O=1, H=1, W=1, k=(1, 1), padding=0, stride=1, dilation=1,
                  label="single-pixel input, 1x1 kernel"),
        conv_case(23, C=2, O=2, H=1, W=1, k=(3, 3), padding=1, stride=2, dilation=1,
                  label="single-pixel input, 3x3 kernel with padding"),
        pool_case(24, kind="avg", C=1, H=1, W=1, size=2, padding=1, stride=None,
                  label="single-pixel input, avg pooling with padding"),
        pool_case(25, kind="max", C=1, H=1, W=1, size=1, padding=0, stride=None, two_d=True,
                  label="single-pixel input, 1x1 max pooling"),
        corr_case(26, "corr2d", H=1, W=1, k=(1, 1), label="single-pixel corr2d"),
    ]


def all_cases() -> list[tuple[dict, object]]:
    cases = edge_cases()
    cases += [conv_case(1000 + i) for i in range(300)]
    cases += [pool_case(2000 + i) for i in range(200)]
    cases += [pad_case(3000 + i) for i in range(40)]
    for offset, op in enumerate(("corr2d", "corr2dMultiIn", "corr2dMultiInOut")):
        cases += [corr_case(4000 + 100 * offset + i, op) for i in range(40)]
    cases += [output_size_case(5000 + i) for i in range(60)]
    return cases


def check_results(cases: list[tuple[dict, object]], results: list[dict]) -> dict:
    """Compare every result with PyTorch's; return counts of computed and refused cases."""
    assert len(results) == len(cases)
    counts = {"computed": 0, "refused": 0}
    for (case, expected), got in zip(cases, results, strict=True):
        where = f"{case['op']} ({case['label']}): {json.dumps(case)[:300]}"
        if isinstance(expected, RuntimeError):
            # PyTorch refuses: so must the script, with a message naming the function.
            assert "error" in got, f"{where}: PyTorch refuses ({expected}) but JS returned {got}"
            assert got["error"].startswith(f"{case['op']}: "), got["error"]
            counts["refused"] += 1
            continue
        assert "error" not in got, f"{where}: JS refused ({got['error']}), PyTorch gave a result"
        if case["op"] == "outputSize":
            assert got["value"] == int(expected), where
        else:
            actual = np.array([float(v) for v in got["data"]], dtype=np.float64)
            expected = np.asarray(expected, dtype=np.float64)
            assert got["shape"] == list(expected.shape), f"{where}: shape {got['shape']}"
            actual = actual.reshape(expected.shape)
            finite = np.isfinite(expected)
            assert np.array_equal(actual[~finite], expected[~finite]), where
            error = np.abs(actual[finite] - expected[finite]) / np.maximum(
                1.0, np.abs(expected[finite]))
            assert error.size == 0 or error.max() <= TOLERANCE, f"{where}: error {error.max()}"
        counts["computed"] += 1
    return counts


# --------------------------------------------------------------------------- tests


def test_ops_match_pytorch_in_chromium(ops_page):
    cases = all_cases()
    results = run_in_page(ops_page, [case for case, _ in cases])
    counts = check_results(cases, results)
    # The random settings must exercise both sides of PyTorch's rules, not one.
    assert counts["computed"] > 500 and counts["refused"] > 50, counts


def test_edge_cases_named_in_the_issue(ops_page):
    """Each named setting is a case of its own, and refusals happen on both sides."""
    cases = edge_cases()
    results = run_in_page(ops_page, [case for case, _ in cases])
    check_results(cases, results)
    refused = {case["label"] for (case, expected) in cases if isinstance(expected, RuntimeError)}
    assert refused == {
        "kernel larger than the input", "kernel wider than the input",
        "dilated kernel larger than the input", "corr2d kernel larger than the input",
        "corr2dMultiInOut kernel larger than the input",
        "pooling window larger than the padded input",
        "pooling padding more than half the window",
    }


def test_ops_match_pytorch_in_node(tmp_path):
    """The same cases through Node: the script is also a CommonJS module."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    cases = all_cases()
    runner = tmp_path / "run.js"
    runner.write_text(
        f"const O = require({json.dumps(str(SCRIPT))});\n{RUN_CASES}\n"
        "const input = require('fs').readFileSync(0, 'utf8');\n"
        "process.stdout.write(JSON.stringify(runCases(O, JSON.parse(input))));\n"
    )
    done = subprocess.run([node, str(runner)], input=json.dumps([c for c, _ in cases]),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    check_results(cases, json.loads(done.stdout))


# Each bad call, and words its message must hold: what was wrong, and how to fix it.
BAD_CALLS = [
    ("O.conv2d(T([1, 3, 3]), T([1, 1, 4, 4]))",
     ["conv2d: ", "kernel spans 4 cells in height", "padded input is only 3",
      "use a smaller kernel, more padding or a larger input"]),
    ("O.conv2d(T([1, 4, 4]), T([1, 1, 2, 2]), {dilation: 4})",
     ["kernel (2 taps with dilation 4) spans 5 cells", "padded input is only 4"]),
    ("O.conv2d(T([1, 3, 3]), T([1, 1, 2, 2]), {stride: 0})",
     ["conv2d: stride must be a whole number >= 1", "got 0", "stride 1 visits every position"]),
    ("O.conv2d(T([1, 3, 3]), T([1, 1, 2, 2]), {stride: [1, 1.5]})",
     ["stride must be a whole number >= 1 or a pair [h, w]", "got [1,1.5]"]),
    ("O.conv2d(T([1, 3, 3]), T([1, 1, 2, 2]), {padding: -1})",
     ["padding must be a whole number >= 0", "got -1", "use 0 for no padding"]),
    ("O.conv2d(T([1, 3, 3]), T([1, 1, 2, 2]), {dilation: 0})",
     ["dilation must be a whole number >= 1", "dilation 1 means adjacent kernel taps"]),
    ("O.conv2d(T([2, 3, 3]), T([1, 3, 2, 2]))",
     ["X has 2 channel(s) but W has 3 input channel(s)", "give W the shape [1, 2, 2, 2]",
      "or give X 3 channel(s)"]),
    ("O.conv2d(T([3, 3]), T([3, 3]))",
     ["W must have shape [O, C, kh, kw], got shape [3,3]"]),
    ("O.conv2d(T([1, 3, 3]), T([2, 1, 2, 2]), {bias: [1]})",
     ["bias has 1 values but W has 2 output channel(s)", "one bias per output channel"]),
    ("O.conv2d(T([1, 3, 3]), T([1, 1, 2, 2]), {bias: [NaN]})",
     ["bias[0] is NaN", "finite number"]),
    ("O.conv2d(T([1, 3, 3]), T([1, 1, 2, 2]), {strides: 2})",
     ['unknown option "strides"', "the options are bias, padding, stride, dilation"]),
    ("O.conv2d({shape: [2, 2], data: new Float32Array([1, NaN, 0, 0])}, T([1, 1, 1, 1]))",
     ["X.data[1] is NaN", "every value must be a finite number", "replace NaN and Infinity"]),
    ("O.conv2d({shape: [2, 2], data: new Float32Array([1, Infinity, 0, 0])}, T([1, 1, 1, 1]))",
     ["X.data[1] is Infinity"]),
    ("O.conv2d({shape: [2, 2], data: new Float32Array(3)}, T([1, 1, 1, 1]))",
     ["X.data has 3 values but shape [2,2] needs 4"]),
    ("O.conv2d({shape: [2, 2], data: [1, 2, 3, 4]}, T([1, 1, 1, 1]))",
     ["X.data must be a Float32Array", "CNNOps.tensor(shape, data)"]),
    ("O.conv2d([[1, 2], [3, 4]], T([1, 1, 1, 1]))",
     ["X must be a tensor {shape, data}", "build one with CNNOps.tensor"]),
    ("O.tensor([2, 2], [1, 2, 3])",
     ["tensor: data has 3 values but shape [2,2] needs 4", "one value per element"]),
    ("O.tensor([2], [1, NaN])", ["tensor: data[1] is NaN", "finite number"]),
    ("O.tensor([2], [1, '2'])", ['data[1] is "2"', "finite number"]),
    ("O.tensor([2], [1, 1e39])", ["data[1] = 1e+39 is too large for float32"]),
    ("O.tensor([2, 0])", ["shape[1] is 0", "every size must be a whole number >= 1"]),
    ("O.tensor(5)", ["shape must be a non-empty array of sizes"]),
    ("O.pool2d(T([1, 4, 4]), {kind: 'max', size: 2, padding: 2})",
     ["pool2d: padding [2, 2] is more than half the window [2, 2]",
      "PyTorch allows at most [1, 1]", "lower the padding or widen the window"]),
    ("O.pool2d(T([1, 3, 3]), {kind: 'max', size: 4, padding: 0})",
     ["pooling window spans 4 cells in height", "padded input is only 3"]),
    ("O.pool2d(T([1, 3, 3]), {kind: 'mean', size: 2})", ['kind must be "max" or "avg"']),
    ("O.pool2d(T([1, 3, 3]), {kind: 'max'})",
     ["options.size is missing", 'e.g. {kind: "max", size: 2}']),
    ("O.pool2d(T([1, 3, 3]), {kind: 'max', size: [2, 0]})",
     ["size must be a whole number >= 1", "got [2,0]", "the window needs at least one cell"]),
    ("O.pool2d(T([1, 3, 3]), {kind: 'max', size: 2, stride: 0})",
     ["stride must be a whole number >= 1", "stride 1 visits every position"]),
    ("O.pool2d(T([1, 3, 3]))", ["pool2d: options must be an object"]),
    ("O.pad2d(T([2, 2]), -1)", ["pad2d: padding must be", "use 0 for no padding"]),
    ("O.pad2d(T([2, 2]), 1, NaN)", ["value must be a number", "-Infinity for max pooling"]),
    ("O.pad2d(T([2, 2, 2, 2]), 1)", ["X must have shape [H, W] or [C, H, W], got shape [2,2,2,2]"]),
    ("O.corr2d(T([3, 3]), T([4, 4]))",
     ["corr2d: the kernel K (4×4) is larger than the input X (3×3)",
      "use a smaller kernel, or conv2d with padding"]),
    ("O.corr2d(T([1, 3, 3]), T([2, 2]))", ["X must have shape [H, W]"]),
    ("O.corr2dMultiIn(T([2, 3, 3]), T([3, 2, 2]))",
     ["corr2dMultiIn: X has 2 channel(s) but K has 3", "give K 2 input channel(s)"]),
    ("O.corr2dMultiInOut(T([2, 3, 3]), T([2, 2, 2]))",
     ["K must have shape [O, C, kh, kw], got shape [2,2,2]"]),
    ("O.corr2dMultiInOut(T([1, 3, 3]), T([2, 1, 4, 1]))",
     ["the kernel (4×1) is larger than the input (3×3)"]),
    ("O.outputSize(3, 5, 0, 1)",
     ["outputSize: the kernel spans 5 cells in length but the padded input is only 3"]),
    ("O.outputSize(8, 3, 0, 1.5)", ["stride must be a whole number >= 1, got 1.5"]),
    ("O.outputSize(0, 1, 0, 1)", ["input length n must be a whole number >= 1, got 0"]),
    ("O.receptiveField([])", ["layers must be a non-empty array of {kernel, stride, padding}"]),
    ("O.receptiveField([{kernel_size: 3}])",
     ['layers[0]: unknown option "kernel_size"', "the options are kernel, stride"]),
    ("O.receptiveField([{kernel: 3}, {stride: 2}])", ["layers[1] has no kernel"]),
    ("O.receptiveField([{kernel: 3, stride: 0}])",
     ["layers[0].stride must be a whole number >= 1", "stride 1 visits every position"]),
    ("O.inputRegion([{kernel: 3}], -1, 0)", ["row must be a whole number >= 0, got -1"]),
    ("O.inputRegion([{kernel: 3}], 6, 0, 8)",
     ["cell (6, 0) is outside the last layer's 6×6 output", "row must be < 6"]),
    ("O.inputRegion([{kernel: 3}, {kernel: 5}], 0, 0, 6)",
     ["inputRegion: layers[1] (input 4×4): the kernel spans 5 cells in height"]),
]


def test_error_messages(ops_page):
    """Every bad call throws an Error that says what was wrong (and how to fix it)."""
    messages = ops_page.evaluate(
        """(calls) => calls.map((call) => {
             const O = CNNOps;
             const T = (shape) => O.tensor(shape);
             try { new Function("O", "T", "return " + call)(O, T); return null; }
             catch (err) { return err instanceof Error ? err.message : "not an Error: " + err; }
           })""",
        [call for call, _ in BAD_CALLS],
    )
    for (call, fragments), message in zip(BAD_CALLS, messages, strict=True):
        assert message is not None, f"{call} did not throw"
        for fragment in fragments:
            assert fragment in message, f"{call}: {fragment!r} not in {message!r}"


def test_bad_calls_leave_no_partial_state(ops_page):
    """A refused call changes neither its arguments nor the library, and the next call works."""
    problems = ops_page.evaluate(
        """() => {
          const O = CNNOps;
          const problems = [];
          const keys = Object.keys(O).join();
          const X = O.tensor([2, 4, 4], Array.from({length: 32}, (_, t) => t - 10));
          const W = O.tensor([3, 2, 2, 2], Array.from({length: 24}, (_, t) => (t % 5) - 2));
          const snapshot = () => JSON.stringify([X.shape, Array.from(X.data), W.shape,
                                                  Array.from(W.data)]);
          const before = snapshot();
          const good = () => JSON.stringify(Array.from(O.conv2d(X, W, {padding: 1}).data));
          const reference = good();
          const bad = [
            () => O.conv2d(X, W, {padding: 1, stride: 0}),
            () => O.conv2d(X, W, {bias: [1, 2]}),
            () => O.conv2d(X, O.tensor([3, 2, 9, 9])),
            () => O.pool2d(X, {kind: "max", size: 2, padding: 3}),
            () => O.corr2dMultiInOut(X, O.tensor([1, 3, 2, 2])),
            () => O.pad2d(X, [1, -1]),
            () => O.inputRegion([{kernel: 3}], 9, 0, 4),
          ];
          bad.forEach((call, index) => {
            try { call(); problems.push(`call ${index} did not throw`); } catch (err) {}
            if (snapshot() !== before) problems.push(`call ${index} changed its arguments`);
            if (Object.keys(O).join() !== keys) problems.push(`call ${index} changed CNNOps`);
            if (good() !== reference) problems.push(`after call ${index} the result changed`);
          });
          // Successful calls leave their arguments alone too, and results are fresh tensors.
          const Y = O.conv2d(X, W, {padding: 0});
          const P = O.pad2d(X, 0);
          P.data[0] = 99;
          O.pool2d(X, {kind: "max", size: 2, padding: 1});
          if (snapshot() !== before) problems.push("a successful call changed its arguments");
          if (Y.data === X.data || P.data === X.data) problems.push("a result shares memory");
          if (!Object.isFrozen(O)) problems.push("CNNOps is not frozen");
          return problems;
        }"""
    )
    assert problems == []


# --------------------------------------------------------------------------- receptive fields


def _random_stack(seed: int) -> tuple[list[dict], tuple[int, int]]:
    """1-4 conv/pool layers with random geometry, and an input size every layer fits in."""
    r = random.Random(seed)
    while True:
        layers = []
        for _ in range(r.randint(1, 4)):
            layer = {"kernel": _pair(r, r.randint(1, 4), r.randint(1, 4))}
            if r.random() < 0.7:
                layer["stride"] = _pair(r, r.randint(1, 3), r.randint(1, 3))
            if r.random() < 0.6:
                layer["padding"] = _pair(r, r.randint(0, 2), r.randint(0, 2))
            if r.random() < 0.3:
                layer["dilation"] = _pair(r, r.randint(1, 3), r.randint(1, 3))
            layers.append(layer)
        size = (r.randint(4, 24), r.randint(4, 24))
        try:
            _forward(layers, torch.zeros(1, 1, *size))
            return layers, size
        except RuntimeError:
            continue  # a layer's window does not fit: draw again


def _forward(layers: list[dict], x: torch.Tensor) -> torch.Tensor:
    """The stack as convolutions with all-ones weights (pooling has the same geometry)."""
    for layer in layers:
        kh, kw = _both(layer["kernel"])
        x = F.conv2d(x, torch.ones(1, 1, kh, kw, dtype=x.dtype),
                     stride=_both(layer.get("stride", 1)),
                     padding=_both(layer.get("padding", 0)),
                     dilation=_both(layer.get("dilation", 1)))
    return x


def _gradient_box(layers: list[dict], size: tuple[int, int], row: int, col: int):
    """The box of input pixels whose gradient wrt output cell (row, col) is nonzero.

    All weights and inputs are positive, so a pixel's gradient is nonzero exactly when a
    path of taps (none on padding) joins it to the cell.
    """
    x = torch.ones(1, 1, *size, dtype=torch.float64, requires_grad=True)
    _forward(layers, x)[0, 0, row, col].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    if rows.numel() == 0:
        return None
    return {"top": int(rows.min()), "left": int(cols.min()),
            "bottom": int(rows.max()) + 1, "right": int(cols.max()) + 1}


def test_receptive_field_against_pytorch_gradients(ops_page):
    stacks = [_random_stack(seed) for seed in range(60)]
    # Cell (0, 0) of a 1x1 kernel with padding 2 sees only padding: its region is null.
    stacks.append(([{"kernel": 3}, {"kernel": 1, "padding": 2}], (6, 6)))
    queries = []
    for layers, size in stacks:
        out_h, out_w = _forward(layers, torch.zeros(1, 1, *size)).shape[2:]
        r = random.Random(len(queries))
        cells = {(0, 0), (out_h - 1, out_w - 1), (out_h // 2, out_w // 2)}
        cells |= {(r.randrange(out_h), r.randrange(out_w)) for _ in range(4)}
        queries += [(layers, size, row, col) for row, col in sorted(cells)]
    results = ops_page.evaluate(
        """(queries) => queries.map(([layers, size, row, col]) => ({
             tight: CNNOps.inputRegion(layers, row, col, size),
             box: CNNOps.inputRegion(layers, row, col),
             field: CNNOps.receptiveField(layers),
           }))""",
        [list(q) for q in queries],
    )
    inside = only_padding = 0
    for (layers, size, row, col), got in zip(queries, results, strict=True):
        where = f"{layers} on {size}, cell ({row}, {col})"
        expected = _gradient_box(layers, size, row, col)
        assert got["tight"] == expected, where
        box, last = got["box"], got["field"][-1]
        # The unclipped box is the receptive field: its size is receptiveField's.
        assert [box["bottom"] - box["top"], box["right"] - box["left"]] == last["size"], where
        # Output cell (0, 0)'s box is centred on receptiveField's start; neighbours are a
        # jump apart.
        if (row, col) == (0, 0):
            assert [(box["top"] + box["bottom"] - 1) / 2,
                    (box["left"] + box["right"] - 1) / 2] == last["start"], where
        if expected is None:
            only_padding += 1
            continue
        # Real pixels seen lie inside the unclipped box ...
        assert box["top"] <= expected["top"] and expected["bottom"] <= box["bottom"], where
        assert box["left"] <= expected["left"] and expected["right"] <= box["right"], where
        # ... and where the box lies inside the input, it is exactly what PyTorch sees.
        if box["top"] >= 0 and box["left"] >= 0 and box["bottom"] <= size[0] and \
                box["right"] <= size[1]:
            assert box == expected, where
            inside += 1
    assert inside > 30, f"only {inside} cells had a receptive field inside the input"
    assert only_padding >= 1, "no cell that sees only padding was tried"


def test_receptive_field_jump_against_pytorch(ops_page):
    """Neighbouring interior cells' gradient boxes are receptiveField's jump apart."""
    layers = [{"kernel": 3, "padding": 1}, {"kernel": [2, 3], "stride": [2, 3]},
              {"kernel": 3, "dilation": 2}, {"kernel": 2, "stride": 2}]
    size = (40, 52)
    fields = ops_page.evaluate("(layers) => CNNOps.receptiveField(layers)", layers)
    for depth in range(1, len(layers) + 1):
        stack = layers[:depth]
        out_h, out_w = _forward(stack, torch.zeros(1, 1, *size)).shape[2:]
        row, col = out_h // 2, out_w // 2
        here = _gradient_box(stack, size, row, col)
        down = _gradient_box(stack, size, row + 1, col)
        right = _gradient_box(stack, size, row, col + 1)
        field = fields[depth - 1]
        assert [here["bottom"] - here["top"], here["right"] - here["left"]] == field["size"]
        assert [down["top"] - here["top"], right["left"] - here["left"]] == field["jump"]
