"""The sandbox side of grading: run a submission's notebook, then answer the grader.

    python -I -m cnnlib.classroom.runner IN_FD OUT_FD     (started by cnnlib.classroom.sandbox)

This process holds the student's code and nothing else: no hidden test, no reference
answer, no score. The grader sends the notebook; the runner sets its own limits, runs the
code cells one by one (reporting each cell as it starts, and each error), then serves
requests (:class:`Session`): look up a global, call it, read an attribute, ... Every reply
is data (:mod:`protocol`); anything that is not data stays here behind a handle. Whatever
the student's code changes in this process can change only the student's own answers.

While the grader asks about a question, a profiler notes every call that the student's own
code makes to a function the question forbids (:class:`ForbiddenMonitor`); an audit hook
notes network, process and file attempts for the instructor. Both report; neither decides
a score.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import io
import os
import sys
import threading
import traceback
import types
from collections.abc import ItemsView, Iterator, KeysView, ValuesView
from typing import Any

import torch
from torch import nn

from cnnlib.classroom import protocol

CELL_PREFIX = "<cell "  # the file name of the student's code: "<cell 7>"
MAX_ITEMS = 100_000  # elements read from an iterator the student returns
MAX_REPR = 300


def is_student_code(code: types.CodeType) -> bool:
    return code.co_filename.startswith(CELL_PREFIX)


def qualified_type(value: Any) -> str:
    """``torch.nn.Conv2d`` rather than ``torch.nn.modules.conv.Conv2d`` where torch.nn has it."""
    cls = type(value)
    if getattr(nn, cls.__name__, None) is cls:
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


# ----------------------------------------------------------------------------- what tests ask


_SETTINGS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
             "groups", "in_features", "out_features", "num_features", "eps", "momentum", "p",
             "output_size", "start_dim", "end_dim", "ceil_mode")


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Size):
        return list(value)
    return value if value is None or isinstance(value, (bool, int, float, str)) else repr(value)


def describe_structure(net: nn.Module) -> list[dict]:
    """Every submodule in order, with its type and the settings that define PyTorch's layers.

    Tuples become lists, so that the description reads the same after a trip as data."""
    if not isinstance(net, nn.Module):
        raise TypeError(f"expected an nn.Module, got {type(net).__name__}")
    rows = []
    for name, module in net.named_modules():
        row: dict = {"name": name, "type": qualified_type(module)}
        for field in _SETTINGS:
            if field in vars(module) or field in type(module).__dict__ and not callable(
                    getattr(type(module), field, None)):
                value = getattr(module, field, None)
                if value is None or isinstance(value, (bool, int, float, str, tuple, list)):
                    row[field] = _plain(value)
        own = dict(module.named_parameters(recurse=False))
        if own:
            row["parameters"] = {key: list(p.shape) for key, p in own.items()}
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            row["bias"] = module.bias is not None
        rows.append(row)
    return rows


def call_with_gradients(function: Any, args: tuple, kwargs: dict,
                        grad_output: torch.Tensor) -> tuple[Any, list]:
    """Call, back-propagate ``(output * grad_output).sum()``, return the output and the
    gradient of every argument tensor that requires grad (positional, then keyword)."""
    inputs = [v for v in list(args) + list(kwargs.values())
              if isinstance(v, torch.Tensor) and v.requires_grad]
    with torch.enable_grad():
        output = function(*args, **kwargs)
        # A function that returns several values (Y, new statistics): the first is Y.
        first = output[0] if isinstance(output, (tuple, list)) and output else output
        if not isinstance(first, torch.Tensor):
            raise TypeError(f"expected a tensor result, got {type(first).__name__}")
        if first.shape != grad_output.shape:
            raise ValueError(f"the result has shape {tuple(first.shape)}, expected "
                             f"{tuple(grad_output.shape)}")
        if first.requires_grad:
            (first * grad_output.to(first.dtype)).sum().backward()
    grads = [None if t.grad is None else t.grad.detach() for t in inputs]
    if isinstance(output, (tuple, list)):
        detached = [v.detach() if isinstance(v, torch.Tensor) else v for v in output]
        return type(output)(detached) if isinstance(output, tuple) else detached, grads
    return output.detach(), grads


# ----------------------------------------------------------------------------- forbidden calls


class ForbiddenMonitor:
    """Notes the forbidden functions that the student's own code calls while it is on.

    Names are resolved to objects once, before any student code runs: a function's code
    object, a builtin's identity, a class's ``__init__``, or a module (a name prefix). A call
    counts when its caller is student code (a ``<cell N>`` frame), so library code that an
    allowed function uses inside does not.
    """

    def __init__(self, forbids: dict[str, list[str]]):
        self.by_question = {q: self._resolve(names) for q, names in forbids.items()}
        self.active: tuple[dict, dict, list] | None = None
        self.seen: set[str] = set()

    @staticmethod
    def _resolve(names: list[str]) -> tuple[dict, dict, list]:
        codes: dict = {}  # code object -> name
        classes: dict = {}  # __init__ code object -> [(class, name)]: which class it made
        builtin_ids: dict = {}  # id(builtin) -> name
        prefixes: list = []  # (module prefix, name)
        for name in names:
            target = _import_dotted(name)
            if isinstance(target, types.ModuleType):
                prefixes.append((target.__name__, name))
            elif isinstance(target, type):
                # Constructing counts: the __init__ the class runs, its own or inherited from
                # a class of the same library (nn.BatchNorm2d runs _BatchNorm's), never
                # object's or nn.Module's, which every module runs.
                init = next((k.__dict__["__init__"] for k in target.__mro__
                             if "__init__" in k.__dict__), None)
                if isinstance(init, types.FunctionType) and init not in _SHARED_INITS:
                    classes.setdefault(init.__code__, []).append((target, name))
                builtin_ids.setdefault(id(target), name)
            # Two names of one object (torch.nn.functional.conv2d is torch.conv2d): the
            # question's first spelling is the one reported.
            elif isinstance(target, types.FunctionType):
                codes.setdefault(target.__code__, name)
            elif target is not None:
                builtin_ids.setdefault(id(target), name)
        return codes, classes, builtin_ids, prefixes

    def start(self, question: str | None) -> None:
        self.seen = set()
        self.active = self.by_question.get(question) if question else None
        if self.active and any(self.active):
            sys.setprofile(self._profile)

    def stop(self) -> list[str]:
        if self.active:
            sys.setprofile(None)
        self.active = None
        return sorted(self.seen)

    def _profile(self, frame, event, arg) -> None:
        codes, classes, builtin_ids, prefixes = self.active
        if event == "c_call":
            name = builtin_ids.get(id(arg))
            if name and is_student_code(frame.f_code):
                self.seen.add(name)
        elif event == "call":
            caller = frame.f_back
            if caller is None or not is_student_code(caller.f_code):
                return
            name = codes.get(frame.f_code)
            if name is None and frame.f_code in classes:
                made = type(frame.f_locals.get("self"))
                name = next((n for cls, n in classes[frame.f_code] if issubclass(made, cls)), None)
            if name is None and prefixes:
                module = frame.f_globals.get("__name__", "")
                name = next((n for p, n in prefixes if module == p or module.startswith(p + ".")),
                            None)
            if name:
                self.seen.add(name)


_SHARED_INITS = (object.__init__, nn.Module.__init__)


def _import_dotted(name: str) -> Any:
    """The object a dotted name means (``torch.nn.functional.conv2d``), or None."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute, None)
        return target
    return None


# ----------------------------------------------------------------------------- the session


class Session:
    """Answers the grader's requests about a namespace; objects stay here behind handles."""

    def __init__(self, namespace: dict, monitor: ForbiddenMonitor | None = None):
        self.namespace = namespace
        self.monitor = monitor or ForbiddenMonitor({})
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}  # id(object) -> handle

    # -- values
    def _handle(self, value: Any) -> dict:
        key = id(value)
        if key not in self.ids:
            self.ids[key] = len(self.objects) + 1
            self.objects[self.ids[key]] = value
        try:
            text = repr(value)
        except Exception:  # a student's __repr__ may raise
            text = f"<{type(value).__name__}>"
        return {"$handle": self.ids[key], "type": qualified_type(value),
                "callable": callable(value), "repr": text[:MAX_REPR]}

    def encode(self, value: Any) -> Any:
        if isinstance(value, (Iterator, KeysView, ValuesView, ItemsView)):
            value = _take(value)
        return protocol.encode(value, self._handle)

    def _resolve(self, tagged: dict) -> Any:
        handle = tagged.get("$handle")
        if handle not in self.objects:
            raise protocol.ProtocolError(f"unknown handle {handle!r}")
        return self.objects[handle]

    def decode(self, value: Any) -> Any:
        return protocol.decode(value, self._resolve, modules=True)

    # -- requests
    def handle(self, request: dict) -> dict:
        """One request in, one reply out: ``{"value": ...}`` or ``{"error": {...}}``, plus the
        forbidden calls seen while answering it."""
        op = request.get("op")
        method = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if method is None:
            return {"error": {"type": "ProtocolError", "message": f"unknown request {op!r}"}}
        self.monitor.start(request.get("question"))
        try:
            with torch.set_grad_enabled(bool(request.get("grad", True))):
                value = method(request)
            reply = {"value": self.encode(value)}
        except _Missing:
            reply = {"missing": True}
        except BaseException as error:  # the student's code may raise anything, even exit
            if isinstance(error, KeyboardInterrupt):
                raise
            reply = {"error": {"type": type(error).__name__,
                               "message": _message(error)}}
        finally:
            seen = self.monitor.stop()
        if seen:
            reply["forbidden"] = seen
        return reply

    def _target(self, request: dict) -> Any:
        return self._resolve({"$handle": request.get("handle")})

    def op_lookup(self, request: dict) -> Any:
        name = request.get("name")
        if not isinstance(name, str) or name not in self.namespace:
            raise _Missing
        return self.namespace[name]

    def op_call(self, request: dict) -> Any:
        function = self._target(request)
        args = self.decode(request.get("args", []))
        kwargs = self.decode(request.get("kwargs", {"$dict": []}))
        if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(
                isinstance(k, str) for k in kwargs):
            raise protocol.ProtocolError("call needs a list of args and a dict of kwargs")
        if "grad_output" in request:
            grad_output = self.decode(request["grad_output"])
            output, grads = call_with_gradients(function, tuple(args), kwargs, grad_output)
            return (output, grads)
        return function(*args, **kwargs)

    def op_getattr(self, request: dict) -> Any:
        return getattr(self._target(request), str(request.get("name")))

    def op_setattr(self, request: dict) -> Any:
        setattr(self._target(request), str(request.get("name")), self.decode(request.get("value")))
        return None

    def op_len(self, request: dict) -> Any:
        return len(self._target(request))

    def op_iter(self, request: dict) -> Any:
        return _take(self._target(request))

    def op_getitem(self, request: dict) -> Any:
        return self._target(request)[self.decode(request.get("key"))]

    def op_isinstance(self, request: dict) -> Any:
        cls = _import_dotted(str(request.get("type")))
        if not isinstance(cls, type):
            raise TypeError(f"{request.get('type')} is not a class")
        return isinstance(self._target(request), cls)

    def op_structure(self, request: dict) -> Any:
        return describe_structure(self._target(request))


def _take(iterable: Any) -> list:
    """The items of an iterable as a list, at most MAX_ITEMS (a generator may never end)."""
    items = []
    for item in iterable:
        items.append(item)
        if len(items) > MAX_ITEMS:
            raise ValueError(f"an iterator gave more than {MAX_ITEMS} items")
    return items


class _Missing(Exception):
    """The notebook defines no global of that name."""


def _message(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:
        text = "(its message could not be read)"
    return text[:2000]


# ----------------------------------------------------------------------------- notes


class AuditNotes:
    """What the notebook tried that an instructor should see: network, other processes,
    files outside the sandbox's own folders, switching the profiler off."""

    ALLOWED_ROOTS = ("/sandbox", "/tmp", "/usr", "/proc/self", "/dev/null", "/dev/urandom",
                     "/etc/fonts", "/etc/ld.so.cache", "/etc/localtime", "/sys/devices/system",
                     "/proc/cpuinfo", "/proc/meminfo")

    def __init__(self, allowed: tuple[str, ...]):
        self.allowed = self.ALLOWED_ROOTS + allowed
        self.notes: dict[str, str] = {}
        self.cell: int | None = None
        self.on = False
        self._inside = False

    def note(self, kind: str, text: str) -> None:
        if len(self.notes) < 40 and kind not in self.notes:
            where = f" (cell {self.cell})" if self.cell is not None else ""
            self.notes[kind] = text + where

    def __call__(self, event: str, args: tuple) -> None:
        # An exception escaping an audit hook can end the interpreter: never let one out.
        # Looking at the stack is itself audited (sys._getframe): hence the guard.
        if not self.on or self._inside or event in ("sys._getframe", "object.__getattr__"):
            return
        self._inside = True
        try:
            if _student_on_stack():
                self._record(event, args)
        except Exception:
            pass
        finally:
            self._inside = False

    def _record(self, event: str, args: tuple) -> None:
        if event.startswith("socket.") and event != "socket.__new__":
            self.note("network", f"tried to use the network ({event})")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
            self.note("process", f"started another program ({event})")
        elif event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            self.note("signal", f"sent a signal ({event} {args[:2]!r})")
        elif event in ("sys.setprofile", "sys.settrace", "sys.addaudithook"):
            self.note("patching", f"called {event}, which can switch off grading's monitor")
        elif event == "ctypes.dlopen" or event.startswith("ctypes."):
            self.note("ctypes", f"used ctypes ({event})")
        elif event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            if path.startswith("/") and not path.startswith(self.allowed):
                self.note(f"open {path[:60]}", f"tried to open {path[:120]}")


def _student_on_stack(limit: int = 60) -> bool:
    """True when the student's code is among the callers (not the runner's own work)."""
    frame = sys._getframe(0)
    while frame is not None and limit:
        if is_student_code(frame.f_code):
            return True
        frame, limit = frame.f_back, limit - 1
    return False


# ----------------------------------------------------------------------------- running cells


_OTTER_CALLS = {("grader", "check"), ("grader", "check_all"), ("grader", "export"),
                ("otter", "Notebook")}


def is_otter_cell(source: str) -> bool:
    """True for otter's own cells (``import otter``/``grader = otter.Notebook(...)``,
    ``grader.check("q1")``, export): their public checks mean nothing while grading."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    if not tree.body:
        return False
    for node in tree.body:
        if isinstance(node, ast.Import) and [a.name for a in node.names] == ["otter"]:
            continue
        value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
        if isinstance(node, ast.Assign) and not (
                len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "grader"):
            return False
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and isinstance(value.func.value, ast.Name)
                and (value.func.value.id, value.func.attr) in _OTTER_CALLS):
            return False
    return True


class _NoGrader:
    """Stands in for otter's ``grader`` while grading: its checks would only print."""

    def check(self, *args, **kwargs):
        return None

    check_all = export = check


class _Sink(io.TextIOBase):
    """Where the notebook's prints go: nowhere (a flood of output costs nothing)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def run_cells(cells: list[str], send, namespace: dict, audit: AuditNotes,
              reserve: list | None = None) -> None:
    """Run each code cell as a notebook would, telling the grader where it is."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(user_ns=namespace)
    namespace["grader"] = _NoGrader()
    for index, source in enumerate(cells, start=1):
        if not isinstance(source, str) or not source.strip() or is_otter_cell(source):
            continue
        send({"event": "cell", "cell": index})
        audit.cell = index
        try:
            code = shell.transform_cell(source)
            compiled = compile(code, f"{CELL_PREFIX}{index}>", "exec")
            exec(compiled, namespace)  # noqa: S102 - this process exists to run it
        except BaseException as error:  # SystemExit and KeyboardInterrupt stop a cell too
            if isinstance(error, MemoryError) and reserve:
                reserve.clear()
            send({"event": "error", "cell": index, "type": type(error).__name__,
                  "message": _message(error)})
        finally:
            sys.setprofile(None)
    audit.cell = None


def drop_privileges(uid: int) -> None:
    """Become an unprivileged user with no groups (the grader started us as root), and die
    with our parent: a change of user clears the parent-death signal that bwrap set."""
    import ctypes
    import signal

    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() == 0:  # the parent is already gone
        raise SystemExit("the sandbox's parent ended")


def set_limits(limits: dict) -> None:
    """Hard limits that no code in this process can raise again (and children inherit)."""
    import resource

    for name, value in limits.items():
        which = getattr(resource, f"RLIMIT_{name.upper()}", None)
        if which is not None and isinstance(value, int) and value >= 0:
            resource.setrlimit(which, (value, value))
    # A write past the file-size limit then fails with EFBIG (a cell error that names the
    # limit) instead of killing the whole process.
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main(argv: list[str]) -> int:
    fd_in, fd_out = int(argv[0]), int(argv[1])
    lock = threading.Lock()
    reserve = [bytearray(16 << 20)]  # freed to report a MemoryError that used up the rest

    def send(message: dict) -> None:
        with lock:
            try:
                protocol.send(fd_out, message)
            except protocol.ProtocolError:
                raise
            except BaseException:
                # Half a message would garble every later one: end instead, and the
                # grader sees the sandbox end.
                os._exit(70)

    start = protocol.receive(fd_in)
    if isinstance(start.get("user"), int):
        drop_privileges(start["user"])
    set_limits(start.get("rlimits", {}))
    cells = start.get("cells", [])
    if not isinstance(cells, list):
        send({"event": "fatal", "message": "no cells"})
        return 2
    monitor = ForbiddenMonitor({q: [str(n) for n in names]
                                for q, names in start.get("forbids", {}).items()})
    audit = AuditNotes(tuple(str(p) for p in start.get("readable", [])))
    sys.addaudithook(audit)
    sys.stdin = io.StringIO("")
    sys.stdout = sys.stderr = _Sink()
    os.chdir(start.get("cwd", "/sandbox"))
    sys.path.insert(0, os.getcwd())
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    audit.on = True
    try:
        run_cells(cells, send, namespace, audit, reserve)
    except Exception:
        send({"event": "fatal", "message": traceback.format_exc()[-2000:]})
        return 2
    audit.on = False
    send({"event": "ready", "notes": list(audit.notes.values())})
    session = Session(namespace, monitor)
    while True:
        try:
            request = protocol.receive(fd_in)
        except (EOFError, protocol.ProtocolError):
            return 0
        if request.get("op") == "bye":
            return 0
        audit.on = True
        reply = session.handle(request)
        audit.on = False
        if audit.notes:
            reply["notes"] = list(audit.notes.values())
        try:
            send(reply)
        except protocol.ProtocolError as error:
            send({"error": {"type": "ProtocolError", "message": str(error)}})


def _main_logged(argv: list[str]) -> int:
    """``main``, with its own failures written to the real stderr (the grader discards it
    unless CNNLIB_GRADE_STDERR names a file): the notebook's prints go nowhere."""
    real_stderr = os.fdopen(os.dup(2), "w")
    try:
        return main(argv)
    except BaseException:
        traceback.print_exc(file=real_stderr)
        real_stderr.flush()
        return 3


if __name__ == "__main__":
    sys.exit(_main_logged(sys.argv[1:]))
