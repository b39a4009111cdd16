"""scripts/web_pack.py: binaries packed as 7-bit text in a script, and read back exactly."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from live_harness import NODE, needs_node

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("web_pack", ROOT / "scripts" / "web_pack.py")
web_pack = importlib.util.module_from_spec(spec)
sys.modules["web_pack"] = web_pack
spec.loader.exec_module(web_pack)

def read_as_javascript(text: str) -> str:
    """The string a JavaScript engine reads from ``"text"`` (its escapes are JSON's too)."""
    return json.loads(f'"{text}"', strict=False)


SAMPLES = [b"", b"\x00", b"\xff", bytes(range(256)) * 3, os.urandom(10_001)]


@pytest.mark.parametrize("data", SAMPLES, ids=lambda d: f"{len(d)}B")
def test_seven_bit_text_round_trips(data):
    text = web_pack.to_text7(data)
    assert len(text) >= len(data) * 8 // 7
    assert all(ord(c) < 128 for c in text)  # ASCII: the same under any declared charset
    assert web_pack.from_text7(read_as_javascript(text), len(data)) == data


def test_a_short_text_is_refused():
    text = read_as_javascript(web_pack.to_text7(b"abcdefgh"))
    with pytest.raises(ValueError, match="fewer than the 9 stated"):
        web_pack.from_text7(text, 9)


def test_pack_is_gzip_that_any_reader_opens():
    data = bytes(range(256)) * 100
    packed = web_pack.pack(data)
    stream = web_pack.from_text7(read_as_javascript(packed["text"]), packed["length"])
    assert gzip.decompress(stream) == data
    assert len(packed["text"]) < len(stream) * 4 / 3  # denser than base64


@needs_node
def test_the_script_javascript_reads_holds_the_bytes(tmp_path):
    """Run the written script under Node: its text, unpacked, is the input file."""
    data = os.urandom(50_000) + bytes(range(256)) * 8
    source, script = tmp_path / "blob.bin", tmp_path / "blob.js"
    source.write_bytes(data)
    assert web_pack.main([str(source), str(script), "blob", "--comment", "a\nb"]) == 0
    assert script.read_text(encoding="ascii").startswith("// a\n// b\n")
    out = subprocess.run(
        [NODE, "-e", f"require({json.dumps(str(script))});"
         "const p = globalThis.CNNNetworks.packed.blob;"
         "process.stdout.write(JSON.stringify({length: p.length, codes: Array.from(p.text,"
         " (c) => c.charCodeAt(0))}));"],
        check=True, capture_output=True, text=True).stdout
    got = json.loads(out)
    stream = web_pack.from_text7("".join(map(chr, got["codes"])), got["length"])
    assert gzip.decompress(stream) == data


def test_a_missing_input_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        web_pack.main([str(tmp_path / "nope.wasm"), str(tmp_path / "out.js"), "x"])
    assert "is not a file" in capsys.readouterr().err
    assert not (tmp_path / "out.js").exists()
