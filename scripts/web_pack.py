"""Pack binary files into classic scripts a page opened from ``file://`` can load.

Usage (``make web-deps`` runs it for onnxruntime-web's wasm)::

    python scripts/web_pack.py INPUT OUTPUT.js NAME [--comment TEXT]

writes ``OUTPUT.js``, which sets ``globalThis.CNNNetworks.packed[NAME]`` to
``{length, text}``: INPUT gzipped, then written seven bits to a character.
``scripts/export_onnx.py`` packs the networks the same way (:func:`pack`), and
``cnnlib/web/cnn-networks.js`` (``unpack``) turns the text back into the bytes.

Why not base64: a page opened from ``file://`` can load ``<script>`` tags and nothing
else, so binaries travel as text in a script, and the runtime alone is 3.6 MB of gzip.
Base64 carries 6 bits in each character (a third more than the bytes); this format
carries 7 (a seventh more, plus ~3 % of escapes), which takes about 0.7 MB off every page
with a trained network. It stays pure ASCII, so it reads the same whatever character
set a web server declares for ``.js`` files (a denser, Latin-1 text would not).

The format: the gzip stream's bits, most significant first, cut into groups of 7 (the
last one padded with zeros); each group is the character with that code, written as a JS
escape where a double-quoted string cannot hold it raw (LF, CR, ``"`` and ``\\``).
Gzip is made by zopfli, whose streams are about 4 % smaller than ``gzip -9``'s and
which any gzip decoder (the browser's ``DecompressionStream``) reads.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: cnnlib is the repository's
    sys.path.insert(0, str(ROOT))

from cnnlib._atomic import atomic_open  # noqa: E402

#: The 7-bit values a double-quoted JS string cannot hold raw, and how each is written. NUL
#: may stay raw: a script file's text is read as it is (only an inline <script> in HTML
#: would turn NUL into U+FFFD, and these files are never inlined).
ESCAPES = {0x0A: "\\n", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
#: zopfli's iterations: 5 gets almost all of its gain (15 is its default) in a third of the
#: time (22 s for the 14.8 MB runtime on a 2-core Xeon).
ZOPFLI_ITERATIONS = 5


def compress(data: bytes) -> bytes:
    """``data`` as a gzip stream: zopfli's if it is installed, else Python's ``gzip -9``."""
    try:
        import zopfli.gzip
    except ImportError:  # the result is still gzip, only ~4 % larger
        return gzip.compress(data, compresslevel=9, mtime=0)
    return zopfli.gzip.compress(data, numiterations=ZOPFLI_ITERATIONS)


def to_text7(data: bytes) -> str:
    """``data`` seven bits to a character, as the inside of a double-quoted JS string."""
    out = []
    value, bits = 0, 0
    for byte in data:
        value = (value << 8) | byte
        bits += 8
        while bits >= 7:
            bits -= 7
            group = (value >> bits) & 0x7F
            out.append(ESCAPES.get(group) or chr(group))
        value &= (1 << bits) - 1
    if bits:
        group = (value << (7 - bits)) & 0x7F
        out.append(ESCAPES.get(group) or chr(group))
    return "".join(out)


def from_text7(text: str, length: int) -> bytes:
    """The inverse of :func:`to_text7` (after JS has read the escapes): ``length`` bytes.

    The browser's copy is ``unpack`` in ``cnnlib/web/cnn-networks.js``; this one is for
    tests and for checking a packed file without a browser.
    """
    out = bytearray()
    value, bits = 0, 0
    for char in text:
        value = (value << 7) | ord(char)
        bits += 7
        if bits >= 8:
            bits -= 8
            out.append((value >> bits) & 0xFF)
            value &= (1 << bits) - 1
    if len(out) < length:
        raise ValueError(f"packed text holds {len(out)} bytes, fewer than the {length} stated")
    return bytes(out[:length])


def pack(data: bytes) -> dict:
    """``{"length": bytes of gzip, "text": its 7-bit text}`` for ``data``."""
    squeezed = compress(data)
    return {"length": len(squeezed), "text": to_text7(squeezed)}


def js_literal(data: bytes) -> str:
    """``pack(data)`` as a JavaScript object literal ``{length: ..., text: "..."}``.

    Not JSON: JSON escapes every control character as six characters (``\\u0001``), where
    a JavaScript string holds all but NUL, LF and CR raw; a quarter of the 7-bit
    characters are control characters.
    """
    packed = pack(data)
    return f'{{length: {packed["length"]}, text: "{packed["text"]}"}}'


def script_text(name: str, data: bytes, comment: str = "") -> str:
    """A classic script setting ``globalThis.CNNNetworks.packed[name]`` to ``pack(data)``."""
    lines = [f"// {line}" for line in comment.splitlines()]
    lines.append(
        "(function (root) {\n"
        "  var networks = root.CNNNetworks = root.CNNNetworks || {};\n"
        "  networks.packed = networks.packed || {};\n"
        f"  networks.packed[{json.dumps(name)}] = {js_literal(data)};\n"
        "})(globalThis);\n"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", type=Path, help="the binary file to pack")
    parser.add_argument("output", type=Path, help="the .js file to write")
    parser.add_argument("name", help="its key in CNNNetworks.packed")
    parser.add_argument("--comment", default="", help="first lines of the script (licence)")
    args = parser.parse_args(argv)
    if not args.input.is_file():
        parser.error(f"{args.input} is not a file: run `make web-deps`, which installs it")
    text = script_text(args.name, args.input.read_bytes(), args.comment)
    with atomic_open(args.output, "w") as handle:  # never half a script
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
