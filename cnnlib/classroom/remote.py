"""The grader's side of grading: stand-ins for the objects that live in the sandbox.

A test runs in the grading process and is handed, for each of its parameters, either the
student's value as data (a tensor, a number, a tuple...) or a :class:`Remote` stand-in for
an object that stays in the sandbox (a function, a class, a model). Using a stand-in sends
a request (:mod:`protocol`) and turns the reply back into data or new stand-ins: no
student code ever runs here, and nothing the student's process sends can be more than
data. A stand-in never pretends to be the class it stands for: ``isinstance`` goes through
:func:`cnnlib.classroom.checks.is_instance`.

:class:`Connection` carries the requests and keeps, per question, the forbidden calls the
sandbox saw and the notes it sent. Two transports exist: the sandbox's pipes
(:class:`cnnlib.classroom.sandbox.Sandbox`) and :class:`LocalTransport`, which answers in
this process through the same encoding, for the test suite's fast checks of every master.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnnlib.classroom import protocol
from cnnlib.classroom.runner import ForbiddenMonitor, Session

__all__ = ["Connection", "LocalTransport", "Remote", "RemoteCallable", "StudentError"]


class StudentError(Exception):
    """The student's code raised while the grader used it; ``kind`` is its exception type."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Connection:
    """Requests about one submission, and what the sandbox reported while answering them."""

    def __init__(self, request: Callable[[dict], dict]):
        self._request = request
        self.question: str | None = None  # the question whose tests are running
        self.forbidden: dict[str, set[str]] = defaultdict(set)  # question -> names called
        self.notes: dict[str, None] = {}  # the sandbox's notes, in order, once each

    def op(self, op: str, **fields: Any) -> Any:
        message = {"op": op, "question": self.question, "grad": torch.is_grad_enabled(),
                   **fields}
        reply = self._request(message)
        if not isinstance(reply, dict):
            raise protocol.ProtocolError("a reply must be an object")
        if self.question is not None:
            for name in _strings(reply.get("forbidden")):
                self.forbidden[self.question].add(name)
        for note in _strings(reply.get("notes")):
            self.notes.setdefault(note)
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            raise StudentError(str(error.get("type", "Error"))[:80],
                               str(error.get("message", ""))[:2000])
        if reply.get("missing") is True:
            return None
        return protocol.decode(reply.get("value"), self._stand_in)

    def lookup(self, name: str) -> Any:
        """The notebook's global ``name``: data, a stand-in, or None when it is not defined."""
        return self.op("lookup", name=name)

    def _stand_in(self, tagged: dict) -> Remote:
        if not isinstance(tagged.get("$handle"), int):
            raise protocol.ProtocolError("a handle must be a number")
        cls = RemoteCallable if tagged.get("callable") is True else Remote
        return cls(self, tagged)

    def encode_argument(self, value: Any) -> Any:
        """A test's argument for the student's code: data, a standard layer, or a stand-in
        of this same submission."""
        def handle(obj: Any) -> dict:
            if isinstance(obj, Remote) and obj._conn is self:
                return {"$handle": obj._handle}
            if isinstance(obj, nn.Module) and protocol.is_standard_module(obj):
                return protocol.encode_module(obj)
            raise TypeError(
                f"a test cannot hand a {type(obj).__name__} to the student's code: only data, "
                "standard torch.nn layers and the student's own objects can cross")
        return protocol.encode(value, handle)


def _strings(value: Any) -> list[str]:
    return [str(v)[:500] for v in value[:50]] if isinstance(value, list) else []


class Remote:
    """A stand-in for one object in the sandbox. Attribute reads, method calls, ``len``,
    iteration and indexing are asked of the sandbox; what comes back is data (a copy) or
    another stand-in."""

    __slots__ = ("_conn", "_handle", "_type", "_repr")

    def __init__(self, conn: Connection, tagged: dict):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_handle", tagged["$handle"])
        object.__setattr__(self, "_type", str(tagged.get("type", "?"))[:200])
        object.__setattr__(self, "_repr", str(tagged.get("repr", ""))[:300])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocols Python or torch probe for, never asked
        return self._conn.op("getattr", handle=self._handle, name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._conn.op("setattr", handle=self._handle, name=name,
                      value=self._conn.encode_argument(value))

    def __len__(self) -> int:
        return self._conn.op("len", handle=self._handle)

    def __iter__(self):
        return iter(self._conn.op("iter", handle=self._handle))

    def __getitem__(self, key: Any) -> Any:
        return self._conn.op("getitem", handle=self._handle, key=protocol.encode(key))

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return self._repr or f"<{self._type} in the sandbox>"

    def _remote_isinstance(self, qualified_name: str) -> bool:
        return bool(self._conn.op("isinstance", handle=self._handle, type=qualified_name))

    def _remote_structure(self) -> list[dict]:
        return self._conn.op("structure", handle=self._handle)


class RemoteCallable(Remote):
    """A stand-in for a function, a class or a module of the student's."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._conn.op("call", handle=self._handle,
                             args=[self._conn.encode_argument(a) for a in args],
                             kwargs=self._conn.encode_argument(dict(kwargs)))

    def _remote_call_with_gradients(self, args: tuple, kwargs: dict,
                                    grad_output: torch.Tensor) -> tuple[Any, list]:
        output, grads = self._conn.op(
            "call", handle=self._handle, args=[self._conn.encode_argument(a) for a in args],
            kwargs=self._conn.encode_argument(dict(kwargs)),
            grad_output=protocol.encode(grad_output))
        return output, list(grads)


class LocalTransport:
    """Answers requests in this process, through the same encoding as the sandbox (each
    message makes a JSON round trip), so that the test suite checks every master's tests
    against the protocol's rules in seconds. Not a sandbox: only for trusted code."""

    def __init__(self, namespace: dict, forbids: dict[str, list[str]] | None = None):
        self.session = Session(namespace, ForbiddenMonitor(forbids or {}))

    def __call__(self, message: dict) -> dict:
        reply = self.session.handle(json.loads(json.dumps(message, allow_nan=False)))
        return json.loads(json.dumps(reply, allow_nan=False))
