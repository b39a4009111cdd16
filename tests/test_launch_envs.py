"""What the launch buttons install: Binder and conda get CPU-only PyTorch, Colab keeps its own.

`environment.yml` (which Binder builds, and conda users create) must hold the lock's
versions, torch and torchvision as their CPU builds, no CUDA package, and exactly what the
notebooks and the assignments need at run time: the dependency closure, read from the
installed packages' metadata, of cnnlib's requirements, its `widgets` and `notebooks`
extras, otter-grader and whatever a notebook imports. The Colab cell at the top of every
chapter and assignment must install cnnlib without its dependencies and let pip add only
packages that cannot replace Colab's torch, torchvision, numpy or matplotlib.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tempfile
import types
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions, version
from pathlib import Path

import jupytext
import pytest
import tomllib
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ENV = yaml.safe_load((ROOT / "environment.yml").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Packages of PyTorch's CUDA builds (and conda's names for them): never in a CPU environment.
CUDA = re.compile(r"^(nvidia-|cuda-|cudatoolkit|pytorch-cuda|triton$)")
# Installed with Python itself (conda's python and pip); the lock leaves them out too.
BASE = {"pip", "setuptools", "wheel"}
# Binder runs Linux x86_64 with the environment's Python: evaluate markers for that machine.
MARKERS = {**default_environment(), "platform_system": "Linux", "sys_platform": "linux",
           "os_name": "posix", "platform_machine": "x86_64", "python_version": "3.11"}
# Colab comes with these; its cell must never install another version of them.
COLAB_KEEPS = {"torch", "torchvision", "numpy", "matplotlib"}
SOURCES = {folder: sorted((ROOT / folder).glob("*.py")) for folder in ("chapters", "assignments")}


def _lock() -> dict[str, tuple[str, str]]:
    """requirements.lock as {canonical name: (name as written, version)}."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, pinned = line.strip().split("==")
            pins[canonicalize_name(name)] = (name, pinned)
    return pins


LOCK = _lock()


def _pip_entries() -> list[str]:
    [pip] = [d["pip"] for d in ENV["dependencies"] if isinstance(d, dict)]
    return [entry.strip() for entry in pip]


def _env_pins() -> dict[str, str]:
    pins = {}
    for entry in _pip_entries():
        if not entry.startswith("-"):
            assert "==" in entry, f"environment.yml: {entry!r} is not pinned with =="
            name, pinned = entry.split("==")
            pins[canonicalize_name(name)] = pinned
    return pins


def _requires(name: str, extras: set[str]) -> list[Requirement]:
    """What an installed package requires on Binder's machine, with the given extras."""
    try:
        found = distribution(name).requires or []
    except PackageNotFoundError:
        pytest.skip(f"{name} is not installed here (run `make setup`): its metadata is needed")
    wanted = []
    for text in found:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({**MARKERS, "extra": e}) for e in extras | {""}):
            wanted.append(requirement)
    if canonicalize_name(name) == "torch":  # the CPU wheel is the CUDA one without these
        wanted = [r for r in wanted if not CUDA.match(canonicalize_name(r.name))]
    return wanted


def _closure(roots: list[str]) -> set[str]:
    """Every package that installing `roots` installs (canonical names), from metadata."""
    extras_of: dict[str, set[str]] = {}
    todo = [Requirement(root) for root in roots]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name in extras_of and extras <= extras_of[name]:
            continue
        extras_of[name] = extras_of.get(name, set()) | extras
        todo += _requires(name, extras_of[name])
    return set(extras_of)


def _notebook_imports() -> set[str]:
    """Distributions whose modules a chapter or an assignment imports (not cnnlib, not stdlib)."""
    providers = packages_distributions()
    names = set()
    for path in SOURCES["chapters"] + SOURCES["assignments"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module]
            else:
                continue
            for module in (m.split(".")[0] for m in modules):
                if module in sys.stdlib_module_names or module == "cnnlib":
                    continue
                if module == "google":  # the Colab check: google.colab exists only there
                    continue
                assert module in providers, f"{path.name} imports {module}, which nothing provides"
                names.update(providers[module])
    return {canonicalize_name(n) for n in names}


def _runtime_roots() -> list[str]:
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    # The assignments' student notebooks run `import otter` (otter assign adds it).
    otter = re.search(r"^otter-grader==\S+$", (ROOT / "requirements.in").read_text(), re.M)
    return [*project["dependencies"], *extras["widgets"], *extras["notebooks"], otter.group(0),
            *sorted(_notebook_imports())]


# ---- Binder and conda: environment.yml -------------------------------------------------


def test_environment_names_no_cuda_package():
    conda = [d for d in ENV["dependencies"] if isinstance(d, str)]
    names = [re.split(r"[=<>! ]", d)[0] for d in conda] + list(_env_pins())
    assert [n for n in names if CUDA.match(canonicalize_name(n)) or n == "pytorch"] == []
    # No CUDA build by its local version label either (torch==2.x+cu126).
    assert [p for p in _env_pins().values() if re.search(r"\+cu\d", p)] == []


def test_torch_and_torchvision_are_the_locks_versions_from_the_cpu_index():
    pins = _env_pins()
    for name in ("torch", "torchvision"):
        assert pins.get(name) == f"{LOCK[name][1]}+cpu", f"{name}: the lock's version, +cpu"
    options = [e for e in _pip_entries() if e.startswith("-")]
    assert f"--extra-index-url {CPU_INDEX}" in options
    # Self-contained: no `-r requirements.lock`, which would bring the CUDA packages back.
    assert [o for o in options if o.startswith(("-r", "--requirement", "-c"))] == []


def test_every_other_pin_is_the_locks():
    wrong = {
        name: (pinned, LOCK.get(name, (None, "absent from the lock"))[1])
        for name, pinned in _env_pins().items()
        if name not in ("torch", "torchvision") and LOCK.get(name, (None, None))[1] != pinned
    }
    assert wrong == {}, "environment.yml pin -> requirements.lock pin"


def test_environment_installs_cnnlib_from_this_checkout_on_the_locks_python():
    assert "-e ." in _pip_entries()
    conda = [d for d in ENV["dependencies"] if isinstance(d, str)]
    assert "pip" in conda
    [python] = [d for d in conda if d.startswith("python")]
    assert python == "python=3.11"  # the Python the lock was resolved on (see requirements.in)


def test_environment_holds_what_the_notebooks_need_and_nothing_more():
    """Complete (pip finds every dependency pinned) and small (no CI-only tools)."""
    needed = _closure(_runtime_roots()) - BASE
    pinned = set(_env_pins())
    missing = sorted(needed - pinned)
    extra = sorted(pinned - needed)

    def lines(names):
        return "\n".join(f"      - {LOCK[n][0]}=={LOCK[n][1]}" for n in names if n in LOCK)

    assert not missing, f"add to environment.yml's pip list:\n{lines(missing)}"
    assert not extra, f"nothing at run time needs these; remove:\n{lines(extra)}"


def test_the_runtime_needs_no_cuda_package():
    """The closure above skips only torch's CUDA requirements: nothing else pulls one in."""
    assert [n for n in _closure(_runtime_roots()) if CUDA.match(n)] == []


# ---- Colab: the install cell at the top of every notebook -------------------------------


def _colab_cell(path: Path) -> str:
    [cell] = [c for c in jupytext.read(path).cells
              if c.cell_type == "code" and "google.colab" in c.source]
    return cell.source


def _otter_pin() -> str:
    return re.search(r"^otter-grader==\S+$", (ROOT / "requirements.in").read_text(), re.M).group(0)


def test_every_notebook_has_the_same_colab_cell():
    """One cell, copied: the assignments' adds otter-grader and nothing else."""
    chapters = {_colab_cell(p) for p in SOURCES["chapters"]}
    assignments = {_colab_cell(p) for p in SOURCES["assignments"]}
    assert len(chapters) == 1 and len(assignments) == 1
    [chapter], [assignment] = chapters, assignments
    assert assignment.replace(f', "{_otter_pin()}"', "") == chapter


def _run_on_fake_colab(path: Path, monkeypatch, tmp_path) -> list[list[str]]:
    """Run a notebook's Colab cell as if on Colab; return the commands it would run."""
    commands = []

    def run(command, **kwargs):
        assert kwargs.get("check") is True, "a failed install must stop the notebook"
        commands.append([str(part) for part in command])
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    exec(compile(_colab_cell(path), str(path), "exec"), {"__name__": "colab_cell"})
    return commands


@pytest.mark.parametrize("path", [SOURCES["chapters"][0], SOURCES["assignments"][0]],
                         ids=lambda p: p.parent.name)
def test_colab_cell_keeps_colabs_own_torch(path, monkeypatch, tmp_path):
    commands = _run_on_fake_colab(path, monkeypatch, tmp_path)
    assert commands, "on Colab the cell installs cnnlib"
    pip = [sys.executable, "-m", "pip", "install"]
    named: set[str] = set()
    for command in commands:
        assert command[:4] == pip
        flags = [c for c in command[4:] if c.startswith("-")]
        assert not set(flags) & {"-U", "--upgrade", "-I", "--ignore-installed",
                                 "--force-reinstall"}, command
        requirements = [c for i, c in enumerate(command[4:], 4)
                        if not c.startswith("-") and command[i - 1] != "-c"]
        if any(r.startswith("cnnlib @ git+") for r in requirements):
            # cnnlib itself: without dependencies, so its torch>=2.4 can never pull a torch.
            assert "--no-deps" in flags and len(requirements) == 1, command
            continue
        # Anything else: under constraints that pin Colab's packages to what is installed.
        constraints = Path(command[command.index("-c") + 1]).read_text().split()
        assert sorted(constraints) == sorted(f"{n}=={version(n)}" for n in COLAB_KEEPS)
        for text in requirements:
            name = canonicalize_name(Requirement(text).name)
            assert name not in COLAB_KEEPS, f"the cell must not install {name}"
            pulled = _closure([text])
            assert not pulled & {"torch", "torchvision"}, f"{text} would pull {pulled}"
            assert not [n for n in pulled if CUDA.match(n)], f"{text} pulls a CUDA package"
            named.add(name)
    # Everything cnnlib and its explorers need is on Colab already (kept) or installed by
    # the cell (the explorers are anywidget widgets: without it no chapter imports them).
    project = PYPROJECT["project"]
    needs = {canonicalize_name(Requirement(r).name)
             for r in [*project["dependencies"], *project["optional-dependencies"]["widgets"]]}
    assert needs <= COLAB_KEEPS | named
    if path.parent.name == "assignments":
        assert "otter-grader" in named
