"""Reading a submission's code without running it: forbidden names and notes.

The grader parses every code cell (never executes it) and resolves names through the
notebook's imports, so ``import torch.nn.functional as F`` then ``F.conv2d(...)`` reads as
``torch.nn.functional.conv2d``. Two things come out:

* :func:`forbidden_references`: for each question, the forbidden names that the code of
  its answer refers to (the functions and classes the question's tests use, and the
  notebook functions they call in turn), with the cell and line;
* :func:`notes`: what an instructor should look at whatever the score: code that reaches
  for the grading machinery (``sys.modules``, ``builtins``, ``sys.setprofile``, frames,
  ``gc``, ``ctypes``, ``sys.path``, ``otter`` or ``cnnlib.classroom`` internals), the
  network, other processes or signals.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

_IPYTHON_PREFIXES = ("%", "!")

# Dotted-name prefixes an answer has no business touching, and what to call them.
_SUSPICIOUS = {
    "sys.modules": "changes sys.modules", "sys.setprofile": "calls sys.setprofile",
    "sys.settrace": "calls sys.settrace", "sys._getframe": "inspects the call stack",
    "sys.path": "changes sys.path", "sys.addaudithook": "adds an audit hook",
    "builtins": "changes builtins", "__builtins__": "changes builtins",
    "inspect.currentframe": "inspects the call stack", "inspect.stack": "inspects the call stack",
    "gc.get_objects": "searches the garbage collector",
    "gc.get_referrers": "searches the garbage collector",
    "ctypes": "uses ctypes", "cnnlib.classroom": "reaches into the grading code",
    "otter": "reaches into otter", "pickle": "uses pickle", "marshal": "uses marshal",
    "socket": "uses the network", "urllib": "uses the network", "requests": "uses the network",
    "http": "uses the network", "subprocess": "starts programs", "os.system": "starts programs",
    "os.fork": "starts processes", "os.kill": "sends signals", "os.killpg": "sends signals",
    "signal": "handles signals", "multiprocessing": "starts processes",
    "os.exec": "starts programs",
    "shutil.rmtree": "deletes folders", "os.remove": "deletes files", "os.unlink": "deletes files",
}
_ALLOWED_OTTER = {"otter.Notebook"}


@dataclass(frozen=True)
class Reference:
    name: str  # the forbidden dotted name it matched
    cell: int
    line: int
    where: str  # the notebook function it is in, or "top level"

    def __str__(self) -> str:
        return f"{self.name} (cell {self.cell}, line {self.line}, in {self.where})"


def without_magics(source: str) -> str:
    """The cell's Python: IPython lines (``%magic``, ``!shell``) blanked, line numbers kept."""
    return "\n".join("" if line.lstrip().startswith(_IPYTHON_PREFIXES) else line
                     for line in source.splitlines())


# CPython 3.11 keeps one counter per interpreter while it turns source into ``ast`` objects
# or back, and threads doing so at the same time can trip it: "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905). The grader grades submissions on
# threads, so every such conversion in the grading process holds this lock.
AST_LOCK = threading.Lock()


def _parse(source: str) -> ast.Module | None:
    try:
        with AST_LOCK:
            return ast.parse(without_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


class _Reader:
    """One pass over the notebook: its imports, its top-level definitions, dotted names."""

    def __init__(self, cells: list[str]):
        self.aliases: dict[str, str] = {}  # local name -> dotted module path
        self.defs: dict[str, tuple[int, ast.AST]] = {}  # top-level def/class -> (cell, node)
        self.trees: list[tuple[int, ast.Module]] = []
        for index, source in enumerate(cells, start=1):
            tree = _parse(source) if isinstance(source, str) else None
            if tree is None:
                continue
            self.trees.append((index, tree))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        local = alias.asname or alias.name.split(".")[0]
                        self.aliases[local] = alias.name if alias.asname else local
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    for alias in node.names:
                        self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.defs[node.name] = (index, node)

    def dotted(self, node: ast.AST) -> str | None:
        """``F.conv2d`` -> ``torch.nn.functional.conv2d``; None for what is not a name chain."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = self.aliases.get(node.id, node.id)
        return ".".join([root, *reversed(parts)])

    def names_in(self, tree: ast.AST) -> list[tuple[str, int]]:
        found = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Attribute, ast.Name)) and not isinstance(
                    getattr(node, "ctx", None), ast.Store):
                name = self.dotted(node)
                if name:
                    found.append((name, node.lineno))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                continue
        return found


def _matches(name: str, forbidden: str) -> bool:
    return name == forbidden or name.startswith(forbidden + ".")


def forbidden_references(cells: list[str], answers: dict[str, list[str]],
                         forbids: dict[str, list[str]]) -> dict[str, list[Reference]]:
    """For each question with forbidden names: where its answer's code refers to one.

    ``answers`` maps a question to the global names its tests use; the code of the answer
    is those definitions and every notebook function or class they name, transitively. A
    global that is not defined by a ``def``/``class`` (``net = ...``) brings in the whole
    top level, where such values are made.
    """
    reader = _Reader(cells)
    found: dict[str, list[Reference]] = {}
    for question, names in forbids.items():
        if not names:
            continue
        todo = list(answers.get(question, []))
        seen: set[str] = set()
        bodies: list[tuple[int, ast.AST, str]] = []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in reader.defs:
                cell, node = reader.defs[name]
                bodies.append((cell, node, name))
                todo += [n.split(".")[0] for n, _ in reader.names_in(node)
                         if n.split(".")[0] in reader.defs]
            else:
                bodies += [(cell, tree, "top level") for cell, tree in reader.trees]
        hits = []
        for cell, node, where in bodies:
            for name, line in reader.names_in(node):
                match = next((f for f in names if _matches(name, f)), None)
                if match:
                    hits.append(Reference(match, cell, line, where))
        if hits:
            found[question] = sorted(set(hits), key=lambda r: (r.cell, r.line, r.name))
    return found


def notes(cells: list[str]) -> list[str]:
    """What the code reaches for that an instructor should see (each kind once)."""
    reader = _Reader(cells)
    said: dict[str, str] = {}
    for cell, tree in reader.trees:
        for name, _line in reader.names_in(tree):
            if name in _ALLOWED_OTTER or name.startswith("otter.Notebook"):
                continue
            for prefix, what in _SUSPICIOUS.items():
                if _matches(name, prefix) and what not in said:
                    said[what] = f"{what} (cell {cell}: {name})"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("exec", "eval", "compile", "__import__")
                    and "runs code from strings" not in said):
                said["runs code from strings"] = (
                    f"runs code from strings (cell {cell}: {node.func.id})")
    return list(said.values())
