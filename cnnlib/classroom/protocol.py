"""The wire between the grader and a sandboxed submission: data only, never pickle.

Grading runs the student's notebook in one process (the sandbox, :mod:`runner`) and the
tests in another (the grader, :mod:`remote`). They exchange messages: a 8-byte length,
then a JSON document. Values travel as JSON with a few tagged forms::

    {"$tuple": [...]}                      a tuple (a JSON list is a list)
    {"$dict": [[key, value], ...]}         a dict (keys: str, int, float, bool or None)
    {"$float": "nan" | "inf" | "-inf"}     the floats JSON cannot spell
    {"$ellipsis": true}                    ``...``, what an unanswered cell leaves
    {"$tensor": {dtype, shape, data, requires_grad, parameter}}
    {"$ndarray": {dtype, shape, data}}     raw little-endian bytes, base64
    {"$dtype": "float32"}, {"$device": "cpu"}
    {"$module": {type, config, state, children}}   a standard torch.nn layer, sent as a copy
    {"$handle": id, "type": ..., "callable": ..., "repr": ...}
                                           an object that stays where it lives

Decoding builds only plain values, tensors, numpy arrays and the standard layers named in
``MODULE_TYPES``: nothing in a message can make the reader run code it did not already
have. Every size is bounded (``MAX_MESSAGE``, ``MAX_ELEMENTS``, ``MAX_DEPTH``) and a
message that breaks a rule raises :class:`ProtocolError`.
"""

from __future__ import annotations

import base64
import json
import math
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

MAX_MESSAGE = 64 << 20  # bytes of one message: a batch of 500 test images is 2 MB
MAX_ELEMENTS = 16 << 20  # elements of one tensor
MAX_DEPTH = 48  # nesting of lists, tuples and dicts
MAX_STRING = 1 << 20  # characters of one string
HEADER = struct.Struct(">Q")

_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16,
    "int32": torch.int32, "int64": torch.int64, "bool": torch.bool,
}
_DTYPE_NAMES = {dtype: name for name, dtype in _DTYPES.items()}
_NUMPY_DTYPES = {"float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64",
                 "bool"}

# The layers a test may hand to student code (a copy travels): constructor arguments, read
# back from the layer itself.
MODULE_TYPES: dict[str, tuple[type, tuple[str, ...]]] = {
    "torch.nn.Linear": (nn.Linear, ("in_features", "out_features")),
    "torch.nn.Conv2d": (nn.Conv2d, ("in_channels", "out_channels", "kernel_size", "stride",
                                    "padding", "dilation", "groups", "padding_mode")),
    "torch.nn.BatchNorm1d": (nn.BatchNorm1d, ("num_features", "eps", "momentum", "affine",
                                              "track_running_stats")),
    "torch.nn.BatchNorm2d": (nn.BatchNorm2d, ("num_features", "eps", "momentum", "affine",
                                              "track_running_stats")),
    "torch.nn.MaxPool2d": (nn.MaxPool2d, ("kernel_size", "stride", "padding", "dilation",
                                          "ceil_mode")),
    "torch.nn.AvgPool2d": (nn.AvgPool2d, ("kernel_size", "stride", "padding", "ceil_mode",
                                          "count_include_pad")),
    "torch.nn.AdaptiveAvgPool2d": (nn.AdaptiveAvgPool2d, ("output_size",)),
    "torch.nn.Dropout": (nn.Dropout, ("p",)),
    "torch.nn.ReLU": (nn.ReLU, ()),
    "torch.nn.Sigmoid": (nn.Sigmoid, ()),
    "torch.nn.Tanh": (nn.Tanh, ()),
    "torch.nn.Flatten": (nn.Flatten, ("start_dim", "end_dim")),
    "torch.nn.Identity": (nn.Identity, ()),
    "torch.nn.Sequential": (nn.Sequential, ()),
}
_MODULE_NAMES = {cls: name for name, (cls, _) in MODULE_TYPES.items()}


class ProtocolError(ValueError):
    """A message that is not what the protocol allows (too big, malformed, unknown form)."""


# ----------------------------------------------------------------------------- framing


def send(fd: int, message: dict) -> None:
    """Write one message to a file descriptor (a pipe), whole."""
    body = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_MESSAGE:
        raise ProtocolError(f"a message of {len(body) >> 20} MB is over the "
                            f"{MAX_MESSAGE >> 20} MB limit")
    data = memoryview(HEADER.pack(len(body)) + body)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def receive(fd: int, deadline: float | None = None, finish_by: float | None = None) -> dict:
    """Read one message; raise ``TimeoutError`` when none has begun by ``deadline``
    (``time.monotonic``), ``EOFError`` when the writer is gone and :class:`ProtocolError` on
    a bad message.

    ``deadline`` bounds only the wait for a message to *begin*: once its first byte is
    here, the rest is read whole, by ``finish_by`` (or ProtocolError). A timeout that struck
    half way through would leave the rest in the pipe, and the next read would take the
    middle of a message for its length.
    """
    first = _read_exactly(fd, 1, deadline)
    try:
        header = first + _read_exactly(fd, HEADER.size - 1, finish_by)
        (length,) = HEADER.unpack(header)
        if length > MAX_MESSAGE:
            raise ProtocolError(f"a message announces {length} bytes, over the "
                                f"{MAX_MESSAGE >> 20} MB limit")
        body = _read_exactly(fd, length, finish_by)
    except TimeoutError:
        raise ProtocolError("a message stopped half way and did not end in time") from None
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(f"a message is not JSON: {str(error)[:100]}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None:
            # A deadline already past still looks once: what is waiting is read.
            wait = max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], wait)[0]:
                raise TimeoutError("no answer before the deadline")
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ----------------------------------------------------------------------------- values


def is_data(value: Any) -> bool:
    """True for what travels as a copy: plain values, tensors, arrays (not containers)."""
    return value is None or value is Ellipsis or isinstance(
        value, (bool, int, float, str, torch.Tensor, np.ndarray, np.generic, torch.dtype,
                torch.device))


def encode(value: Any, handle: Callable[[Any], dict] | None = None, depth: int = 0) -> Any:
    """``value`` as JSON-ready data; ``handle(obj)`` stands in for what is not data (without
    it such a value is an error). Iterators are read into lists."""
    if depth > MAX_DEPTH:
        raise ProtocolError(f"values nest deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise ProtocolError(f"a string of {len(value)} characters is over the limit")
        return value
    if value is Ellipsis:
        return {"$ellipsis": True}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$float": repr(float(value))}
    if isinstance(value, np.generic) and not isinstance(value, np.ndarray):
        return encode(value.item(), handle, depth)
    if isinstance(value, torch.Tensor):
        return {"$tensor": _encode_tensor(value)}
    if isinstance(value, np.ndarray):
        return {"$ndarray": _encode_array(value)}
    if isinstance(value, torch.dtype):
        return {"$dtype": _DTYPE_NAMES.get(value, str(value))}
    if isinstance(value, torch.device):
        return {"$device": str(value)}
    if isinstance(value, tuple):  # torch.Size and named tuples too: they travel as tuples
        return {"$tuple": [encode(v, handle, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, handle, depth + 1) for v in value]
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not (key is None or isinstance(key, (str, int, float, bool))):
                raise ProtocolError(f"a dict key of type {type(key).__name__} cannot travel")
            items.append([encode(key, None, depth + 1), encode(item, handle, depth + 1)])
        return {"$dict": items}
    if handle is None:
        raise ProtocolError(f"a {type(value).__name__} cannot travel as data")
    return handle(value)


def _encode_tensor(tensor: torch.Tensor) -> dict:
    if tensor.layout != torch.strided or tensor.is_quantized or tensor.device.type == "meta":
        raise ProtocolError("only dense tensors can travel (this one is "
                            f"{tensor.layout}, {tensor.device.type})")
    if tensor.dtype not in _DTYPE_NAMES:
        raise ProtocolError(f"tensors of dtype {tensor.dtype} cannot travel")
    data = tensor.detach().to("cpu").contiguous()
    raw = data.view(torch.int16) if data.dtype == torch.bfloat16 else data
    return {"dtype": _DTYPE_NAMES[tensor.dtype], "shape": list(tensor.shape),
            "data": base64.b64encode(raw.numpy().tobytes()).decode("ascii"),
            "requires_grad": bool(tensor.requires_grad),
            "parameter": isinstance(tensor, nn.Parameter)}


def _encode_array(array: np.ndarray) -> dict:
    if array.dtype.name not in _NUMPY_DTYPES:
        raise ProtocolError(f"numpy arrays of dtype {array.dtype} cannot travel")
    return {"dtype": array.dtype.name, "shape": list(array.shape),
            "data": base64.b64encode(np.ascontiguousarray(array).astype(
                array.dtype.newbyteorder("<")).tobytes()).decode("ascii")}


def decode(value: Any, resolve: Callable[[dict], Any] | None = None, depth: int = 0,
           modules: bool = False) -> Any:
    """The inverse of :func:`encode`; ``resolve(tagged)`` turns a ``$handle`` into an object
    (without it a handle is an error). Layers (``$module``) are built only when ``modules``
    is true: the sandbox builds the grader's layers, but the grader never builds one from
    the sandbox's settings (``nn.Linear(10**9, 10**9)`` would exhaust its memory)."""
    if depth > MAX_DEPTH:
        raise ProtocolError(f"values nest deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v, resolve, depth + 1, modules) for v in value]
    if not isinstance(value, dict) or len(value) < 1:
        raise ProtocolError(f"unexpected value of type {type(value).__name__}")
    tag = next(iter(value))
    body = value[tag]
    if tag == "$tuple" and isinstance(body, list):
        return tuple(decode(v, resolve, depth + 1, modules) for v in body)
    if tag == "$dict" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ProtocolError("a $dict item must be a [key, value] pair")
            key = decode(pair[0], None, depth + 1)
            if not (key is None or isinstance(key, (str, int, float, bool))):
                raise ProtocolError("a $dict key must be a plain value")
            out[key] = decode(pair[1], resolve, depth + 1, modules)
        return out
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$ellipsis":
        return Ellipsis
    if tag == "$tensor":
        return _decode_tensor(body)
    if tag == "$ndarray":
        return _decode_array(body)
    if tag == "$dtype" and body in _DTYPES:
        return _DTYPES[body]
    if tag == "$device" and body in ("cpu", "cuda", "mps", "meta") or (
            isinstance(body, str) and body.startswith("cuda:") and body[5:].isdigit()):
        return torch.device(body)
    if tag == "$module" and modules:
        return decode_module(body, depth)
    if tag == "$handle":
        if resolve is None:
            raise ProtocolError("a handle arrived where only data may")
        return resolve(value)
    raise ProtocolError(f"unknown value form {tag!r}")


def _shape_and_bytes(body: Any, itemsize: int) -> tuple[list[int], bytes]:
    if not isinstance(body, dict):
        raise ProtocolError("a tensor must be an object")
    shape = body.get("shape")
    if not (isinstance(shape, list) and len(shape) <= 16
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape)):
        raise ProtocolError(f"bad tensor shape {shape!r}")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise ProtocolError(f"a tensor of {count} elements is over the limit")
    try:
        raw = base64.b64decode(body.get("data", ""), validate=True)
    except (ValueError, TypeError):
        raise ProtocolError("tensor data is not base64") from None
    if len(raw) != count * itemsize:
        raise ProtocolError(f"tensor data has {len(raw)} bytes; shape {shape} needs "
                            f"{count * itemsize}")
    return shape, raw


def _decode_tensor(body: Any) -> torch.Tensor:
    dtype = _DTYPES.get(body.get("dtype") if isinstance(body, dict) else None)
    if dtype is None:
        raise ProtocolError(f"bad tensor dtype in {str(body)[:80]}")
    shape, raw = _shape_and_bytes(body, torch.empty((), dtype=dtype).element_size())
    storage = torch.int16 if dtype == torch.bfloat16 else dtype
    tensor = torch.frombuffer(bytearray(raw), dtype=storage) if raw else torch.empty(
        0, dtype=storage)
    tensor = tensor.view(dtype) if dtype == torch.bfloat16 else tensor
    tensor = tensor.reshape(shape).clone()
    if body.get("parameter") is True:
        return nn.Parameter(tensor, requires_grad=bool(body.get("requires_grad")))
    if body.get("requires_grad") is True and tensor.is_floating_point():
        tensor.requires_grad_(True)
    return tensor


def _decode_array(body: Any) -> np.ndarray:
    name = body.get("dtype") if isinstance(body, dict) else None
    if name not in _NUMPY_DTYPES:
        raise ProtocolError(f"bad array dtype {name!r}")
    dtype = np.dtype(name).newbyteorder("<")
    shape, raw = _shape_and_bytes(body, dtype.itemsize)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(np.dtype(name)).copy()


# ----------------------------------------------------------------------------- standard layers


def is_standard_module(module: Any) -> bool:
    """True for a layer built only from ``MODULE_TYPES`` (and so able to travel as a copy)."""
    if type(module) not in _MODULE_NAMES:
        return False
    return all(is_standard_module(child) for child in module.children())


def encode_module(module: nn.Module) -> dict:
    """A standard layer as data: its type, constructor settings, own tensors and children."""
    name = _MODULE_NAMES[type(module)]
    _, fields = MODULE_TYPES[name]
    config = {field: getattr(module, field) for field in fields}
    if "bias" in dict(module.named_parameters(recurse=False)) or hasattr(module, "bias"):
        config["bias"] = getattr(module, "bias", None) is not None
    state = {key: value for key, value in module.state_dict(keep_vars=False).items()
             if "." not in key}
    return {"$module": {"type": name, "config": encode(config), "state": encode(state),
                        "training": module.training,
                        "children": [[key, encode_module(child)]
                                     for key, child in module.named_children()]}}


def decode_module(body: Any, depth: int = 0) -> nn.Module:
    if depth > MAX_DEPTH or not isinstance(body, dict) or body.get("type") not in MODULE_TYPES:
        raise ProtocolError(f"not a layer that can travel: {str(body)[:80]}")
    cls, fields = MODULE_TYPES[body["type"]]
    config = decode(body.get("config", {"$dict": []}))
    if not isinstance(config, dict) or not set(config) <= set(fields) | {"bias"}:
        raise ProtocolError(f"bad settings for {body['type']}: {str(config)[:80]}")
    if cls is nn.Sequential:
        module = nn.Sequential()
        for pair in body.get("children", []):
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ProtocolError("a Sequential's children must be [name, layer] pairs")
            module.add_module(pair[0], decode_module(pair[1].get("$module")
                                                     if isinstance(pair[1], dict) else None,
                                                     depth + 1))
    else:
        try:
            module = cls(**config)
        except (TypeError, ValueError) as error:
            raise ProtocolError(f"cannot build {body['type']}: {error}") from None
    state = decode(body.get("state", {"$dict": []}))
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ProtocolError("a layer's state must be a dict of tensors")
    with torch.no_grad():
        try:
            module.load_state_dict(state, strict=False)
        except RuntimeError as error:
            raise ProtocolError(f"bad state for {body['type']}: {str(error)[:200]}") from None
    module.train(bool(body.get("training", True)))
    return module
