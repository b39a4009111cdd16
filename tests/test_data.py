"""Tests for cnnlib.data: lookup, verification, safe caching, resize-once and batches.

Every test but the one marked ``data`` runs on tiny IDX files written here, with
the expected-digest table patched to describe them. The cache, CNNLIB_DATA and the
system folder all point into tmp_path, and downloading is switched off.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import struct
from pathlib import Path

import pytest
import torch

import cnnlib.data.fashion as fashion
import cnnlib.data.locate as locate
from cnnlib.data import (
    EXPECTED,
    LABELS,
    DatasetNotFoundError,
    FashionMNIST,
    IdxSpec,
    clear_memo,
    clear_resized,
    load_split,
    stratified_subset,
    text_labels,
)

REAL_SYSTEM_DIR = locate.SYSTEM_DIR
_real_download = locate._download  # kept before the autouse fixture swaps it out
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
N_TRAIN, N_TEST = 30, 20


def idx_images(images: torch.Tensor, magic: int = 2051) -> bytes:
    """IDX bytes for uint8 images of shape (N, H, W)."""
    n, h, w = images.shape
    return struct.pack(">IIII", magic, n, h, w) + images.numpy().tobytes()


def idx_labels(labels: torch.Tensor, magic: int = 2049) -> bytes:
    """IDX bytes for labels of shape (N,)."""
    return struct.pack(">II", magic, labels.numel()) + labels.to(torch.uint8).numpy().tobytes()


def make_split(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random 28x28 images whose pixel (0, 0) is the example's index, so each is identifiable."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
    images[:, 0, 0] = torch.arange(n, dtype=torch.uint8)
    labels = (torch.arange(n) % 10)[torch.randperm(n, generator=g)]
    return images, labels


@pytest.fixture
def fixture_files(monkeypatch) -> dict[str, bytes]:
    """Decompressed bytes of four small IDX files; EXPECTED now describes exactly these."""
    train, test = make_split(N_TRAIN, 1), make_split(N_TEST, 2)
    files = {NAMES[0]: idx_images(train[0]), NAMES[1]: idx_labels(train[1]),
             NAMES[2]: idx_images(test[0]), NAMES[3]: idx_labels(test[1])}
    for name, data in files.items():
        magic, count = struct.unpack(">II", data[:8])
        monkeypatch.setitem(EXPECTED, name,
                            IdxSpec(name, magic, count, hashlib.sha256(data).hexdigest()))
    return files


def write_files(folder: Path, files: dict[str, bytes], gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden temp files included) with its bytes."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Point every lookup location into tmp_path and make any download attempt fail."""
    monkeypatch.setenv("CNNLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    monkeypatch.delenv("CNNLIB_DATA", raising=False)
    monkeypatch.setattr(locate, "SYSTEM_DIR", tmp_path / "system")

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to download")

    monkeypatch.setattr(locate, "_download", no_network)
    clear_memo()
    clear_resized()
    yield
    clear_memo()
    clear_resized()


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


# --- lookup -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["gz", "plain", "torchvision"])
def test_loads_what_was_written(tmp_path, fixture_files, layout):
    folder = tmp_path / "root"
    if layout == "torchvision":
        write_files(folder / "FashionMNIST" / "raw", fixture_files, gz=False)
    else:
        write_files(folder, fixture_files, gz=layout == "gz")
    images, labels = load_split(True, root=folder)
    expected_images, expected_labels = make_split(N_TRAIN, 1)
    assert images.dtype == torch.uint8 and images.shape == (N_TRAIN, 28, 28)
    assert labels.dtype == torch.int64 and labels.shape == (N_TRAIN,)
    assert torch.equal(images, expected_images)
    assert torch.equal(labels, expected_labels)


def test_lookup_order_root_then_env_then_cache_then_system(
    tmp_path, fixture_files, monkeypatch, caplog, cache
):
    caplog.set_level(logging.INFO, logger="cnnlib.data.locate")
    root = write_files(tmp_path / "root", fixture_files)
    env = write_files(tmp_path / "env", fixture_files)
    write_files(tmp_path / "system", fixture_files)

    def source() -> str:
        clear_memo()
        caplog.clear()
        load_split(False, root=root if use_root else None)
        (message,) = [r.getMessage() for r in caplog.records]
        return message

    monkeypatch.setenv("CNNLIB_DATA", str(env))
    use_root = True
    assert "root argument" in source()  # the argument beats CNNLIB_DATA
    use_root = False
    assert "CNNLIB_DATA" in source()
    monkeypatch.delenv("CNNLIB_DATA")
    assert "user cache" in source()  # filled by the loads above
    for p in cache.iterdir():
        p.unlink()
    assert "system folder" in source()
    # Loading from the system folder refilled the cache with the decompressed files.
    assert listing(cache) == {name: fixture_files[name] for name in NAMES[2:]}


def test_a_bad_root_falls_back_with_a_warning(tmp_path, fixture_files):
    write_files(tmp_path / "system", fixture_files)
    with pytest.warns(UserWarning, match="ignored root argument"):
        images, _ = load_split(True, root=tmp_path / "nowhere")
    assert images.shape == (N_TRAIN, 28, 28)


def test_load_split_is_memoized_and_returns_copies(tmp_path, fixture_files, monkeypatch):
    write_files(tmp_path / "system", fixture_files)
    reads = []
    original = locate.read_verified
    monkeypatch.setattr(locate, "read_verified",
                        lambda p, spec: reads.append(p) or original(p, spec))
    images, labels = load_split(True)
    images.zero_()
    again, _ = load_split(True)
    assert len(reads) == 2  # images and labels, read once
    assert torch.equal(again, make_split(N_TRAIN, 1)[0])  # the caller's edit did not leak


# --- corrupt files: one clear error, cache untouched ------------------------------------


def corrupt(files: dict[str, bytes], how: str) -> tuple[dict[str, bytes], str]:
    """A copy of ``files`` with one problem, and the phrase the error must contain."""
    files = dict(files)
    data = files[NAMES[0]]
    if how == "truncated":
        files[NAMES[0]] = data[:-100]
        return files, f"truncated: expected {len(data)} bytes, got {len(data) - 100}"
    if how == "magic":
        files[NAMES[1]] = struct.pack(">I", 2051) + files[NAMES[1]][4:]
        return files, "wrong magic number 2051 (expected 2049)"
    if how == "checksum":
        files[NAMES[0]] = data[:-1] + bytes([(data[-1] + 1) % 256])
        return files, "checksum mismatch"
    if how == "label":
        files[NAMES[1]] = files[NAMES[1]][:-1] + b"\x0c"
        return files, "label value 12 out of range 0..9"
    raise AssertionError(how)


def assert_clear_error(err: DatasetNotFoundError, phrase: str) -> None:
    message = str(err)
    assert phrase in message
    assert "CNNLIB_DATA" in message and "root=" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "internet" in message
    # Every location is listed, with its own diagnosis.
    assert [where.split()[0] for where, _ in err.attempts] == ["root", "user", "system",
                                                                 "download"]


@pytest.mark.parametrize("how", ["truncated", "magic", "checksum", "label"])
def test_corrupt_source_gives_one_clear_error_and_leaves_cache_alone(
    tmp_path, fixture_files, cache, how
):
    bad, phrase = corrupt(fixture_files, how)
    root = write_files(tmp_path / "root", bad, gz=False)
    # A stale, wrong file already in the cache must stay exactly as it was.
    cache.mkdir()
    (cache / NAMES[0]).write_bytes(b"stale")
    before = listing(cache)
    with pytest.raises(DatasetNotFoundError) as info:
        load_split(True, root=root)
    assert isinstance(info.value, FileNotFoundError)
    assert_clear_error(info.value, phrase)
    assert listing(cache) == before


def test_truncated_gzip_is_reported_and_nothing_is_cached(tmp_path, fixture_files, cache):
    root = write_files(tmp_path / "root", fixture_files)
    gz = root / f"{NAMES[0]}.gz"
    gz.write_bytes(gz.read_bytes()[:-50])
    with pytest.raises(DatasetNotFoundError) as info:
        load_split(True, root=root)
    assert_clear_error(info.value, "truncated gzip stream")
    assert listing(cache) == {}


def test_missing_everywhere_says_missing(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_split(True)
    message = str(info.value)
    assert "user cache" in message and "missing (no such folder)" in message
    assert "skipped" in message  # offline: the download was not tried


# --- the cache: atomic, optional ----------------------------------------------------------


@pytest.mark.parametrize("fails", ["replace", "fsync"])
def test_failed_cache_write_leaves_no_partial_file(tmp_path, fixture_files, cache, monkeypatch,
                                                   fails):
    write_files(tmp_path / "system", fixture_files)

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, fails, boom)
    with pytest.warns(UserWarning, match="could not write the cache"):
        images, _ = load_split(True)
    assert images.shape == (N_TRAIN, 28, 28)  # still loaded, from the source
    assert listing(cache) == {}  # no half-written file, no leftover .part


def test_unwritable_cache_warns_and_still_loads(tmp_path, fixture_files, monkeypatch):
    write_files(tmp_path / "system", fixture_files)
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("CNNLIB_CACHE", str(blocker / "cache"))  # cannot mkdir under a file
    with pytest.warns(UserWarning, match="could not write the cache"):
        _, labels = load_split(False)
    assert labels.shape == (N_TEST,)


def test_download_goes_through_a_temp_folder_and_fills_the_cache(
    tmp_path, fixture_files, cache, monkeypatch
):
    torchvision = pytest.importorskip("torchvision")
    calls = []

    class FakeFashionMNIST:  # writes what torchvision's download would, in its layout
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            write_files(Path(root) / "FashionMNIST" / "raw", fixture_files)

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", FakeFashionMNIST)
    monkeypatch.setattr(locate, "_download", _real_download)
    images, _ = load_split(True, download=True)
    assert images.shape == (N_TRAIN, 28, 28)
    assert len(calls) == 1 and Path(calls[0][0]).parent == cache
    assert listing(cache) == fixture_files  # both splits cached, temp folder gone


def test_offline_never_downloads(tmp_path, fixture_files, monkeypatch):
    monkeypatch.setattr(locate, "_download", _real_download)
    monkeypatch.setenv("CNNLIB_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="skipped"):
        load_split(True)  # would reach torchvision and fail the test if it tried


def test_failed_download_is_reported(fixture_files, monkeypatch):
    def fail(*args):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(locate, "_download", fail)
    with pytest.raises(DatasetNotFoundError, match="failed: Error downloading"):
        load_split(True, download=True)


# --- bounded memory: a small .gz that inflates to far more than the real file -----------

BOMB_MB = 500  # zeros after the header: 500 MB inflated, about 2 MB on disk

# Runs in a fresh interpreter, so its peak memory is the loads' alone: one load per folder
# given, the smaller case first (ru_maxrss only grows). The real spec of the training
# images applies (47 MB); each lookup sees only its bomb's folder.
MEASURE = """
import json, resource, sys, tracemalloc
from pathlib import Path
import cnnlib.data.locate as locate
locate.SYSTEM_DIR = Path(sys.argv[1])
tracemalloc.start()
for root in sys.argv[2:]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.reset_peak()
    try:
        locate.load_split(True, root=root, download=False)
        message = None
    except locate.DatasetNotFoundError as err:
        message = str(err)
    traced_peak = tracemalloc.get_traced_memory()[1]
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"message": message, "traced_mb": traced_peak / 2**20,
                      "rss_growth_mb": rss_growth / 2**10}))
"""


def zeros_member() -> bytes:
    """One gzip member of BOMB_MB megabytes of zeros, from a streaming writer (about 2 MB)."""
    import io

    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1) as stream:
        block = bytes(2**20)
        for _ in range(BOMB_MB):
            stream.write(block)
    return buffer.getvalue()


def write_bomb(folder: Path, header: bytes, zeros: bytes) -> Path:
    """A .gz of ``header`` then the zeros: two gzip members make one valid .gz."""
    folder.mkdir()
    path = folder / f"{NAMES[0]}.gz"
    path.write_bytes(gzip.compress(header) + zeros)
    assert path.stat().st_size < 5 * 2**20
    return folder


def test_a_decompression_bomb_is_refused_within_bounded_memory(tmp_path):
    import json
    import subprocess
    import sys

    cases = [  # (header, what the error must say, the most memory it may take in MB)
        # a wrong header: nothing beyond it may be inflated
        (struct.pack(">IIII", 2049, 60000, 28, 28), "wrong magic number 2049 (expected 2051)",
         16),
        # the right header, then far too much: at most the real file's 47 MB is held
        (struct.pack(">IIII", 2051, 60000, 28, 28), "too long: more than the expected 47040016",
         100),
    ]
    zeros = zeros_member()
    roots = [write_bomb(tmp_path / f"bomb{i}", header, zeros)
             for i, (header, _, _) in enumerate(cases)]
    env = {**os.environ, "CNNLIB_CACHE": str(tmp_path / "cache"), "CNNLIB_OFFLINE": "1",
           "OMP_NUM_THREADS": "1"}
    env.pop("CNNLIB_DATA", None)
    command = [sys.executable, "-c", MEASURE, str(tmp_path / "system"), *map(str, roots)]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                         check=True)
    results = [json.loads(line) for line in run.stdout.strip().splitlines()[-2:]]
    for (_, phrase, limit_mb), result in zip(cases, results, strict=True):
        print(result)  # inflating it all would take more than BOMB_MB
        assert result["message"] is not None and phrase in result["message"], result["message"]
        assert f"{NAMES[0]}.gz" in result["message"]
        assert result["traced_mb"] < limit_mb, result
        assert result["rss_growth_mb"] < limit_mb, result


def test_a_plain_file_far_too_long_is_refused_from_its_size(tmp_path, fixture_files):
    root = write_files(tmp_path / "root", fixture_files, gz=False)
    with open(root / NAMES[0], "ab") as handle:
        handle.write(bytes(2**20))
    with pytest.raises(DatasetNotFoundError) as info:
        load_split(True, root=root)
    size = len(fixture_files[NAMES[0]])
    assert f"too long: expected {size} bytes, got {size + 2**20}" in str(info.value)


def test_a_gzip_with_a_bad_checksum_is_refused(tmp_path, fixture_files):
    root = write_files(tmp_path / "root", fixture_files)
    gz = root / f"{NAMES[1]}.gz"
    data = bytearray(gz.read_bytes())
    data[-8] ^= 0xFF  # the gzip trailer's CRC-32
    gz.write_bytes(bytes(data))
    with pytest.raises(DatasetNotFoundError, match="corrupt gzip data"):
        load_split(True, root=root)


# --- FashionMNIST: resize once, batches, subsets ------------------------------------------


@pytest.fixture
def data_dir(tmp_path, fixture_files) -> Path:
    return write_files(tmp_path / "root", fixture_files)


def count_resizes(monkeypatch) -> list[int]:
    calls = []
    original = fashion._resize_chunk

    def counting(images, size):
        calls.append(images.shape[0])
        return original(images, size)

    monkeypatch.setattr(fashion, "_resize_chunk", counting)
    return calls


def test_resize_happens_once_per_resolution(data_dir, monkeypatch):
    calls = count_resizes(monkeypatch)
    monkeypatch.setattr(fashion, "RESIZE_CHUNK", 8)
    first = FashionMNIST(batch_size=4, resize=32, root=data_dir)
    assert sum(calls) == N_TRAIN + N_TEST and max(calls) <= 8  # in chunks
    n_calls = len(calls)
    second = FashionMNIST(batch_size=16, resize=(32, 32), root=data_dir, train_subset=10)
    assert len(calls) == n_calls  # same resolution: nothing resized again
    assert torch.equal(second.train_images, first.train_images[
        stratified_subset(first.train_labels, 10, seed=0)])
    FashionMNIST(resize=(20, 30), root=data_dir)
    assert sum(calls) == 2 * (N_TRAIN + N_TEST)  # a new resolution is resized once


def test_subset_resizes_only_its_examples(data_dir, monkeypatch):
    calls = count_resizes(monkeypatch)
    FashionMNIST(resize=40, root=data_dir, train_subset=10, val_subset=5)
    assert sum(calls) == 15
    FashionMNIST(resize=40, root=data_dir)
    assert sum(calls) == N_TRAIN + N_TEST  # only the remaining ones


@pytest.mark.parametrize("size", [(96, 96), (14, 14), (20, 30)])
def test_resize_matches_torchvision(data_dir, size):
    tf = pytest.importorskip("torchvision.transforms.v2.functional")
    data = FashionMNIST(resize=size, root=data_dir)
    source, _ = load_split(True, root=data_dir)
    reference = tf.resize(source.unsqueeze(1), list(size), antialias=True).squeeze(1)
    assert data.train_images.dtype == torch.uint8
    if torchvision_resizes_uint8_natively():
        assert torch.equal(data.train_images, reference)
    else:  # it went through float32 and rounded: some pixels one gray level apart
        torch.testing.assert_close(data.train_images, reference, rtol=0, atol=1)


def torchvision_resizes_uint8_natively() -> bool:
    """Whether torchvision resizes uint8 with PyTorch's uint8 kernel, as cnnlib always does.

    Recent versions do on x86 with AVX2 or AVX512 and on ARM. Older ones (0.19) test for
    "AVX2" in the CPU capability, so on an AVX512 machine they convert to float32,
    interpolate and round instead. Without the helper (a private one), assume not.
    """
    try:
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms.v2.functional._geometry import (
            _do_native_uint8_resize_on_cpu,
        )
    except ImportError:
        return False
    return bool(_do_native_uint8_resize_on_cpu(InterpolationMode.BILINEAR))


def test_batches_cover_every_example_once(data_dir):
    data = FashionMNIST(batch_size=8, resize=(16, 12), root=data_dir)
    batches = list(data.train_batches())
    assert len(batches) == data.num_train_batches == 4  # 30 = 8 + 8 + 8 + 6
    assert [len(y) for _, y in batches] == [8, 8, 8, 6]
    for X, y in batches:
        assert X.dtype == torch.float32 and X.shape[1:] == (1, 16, 12)
        assert y.dtype == torch.int64 and X.shape[0] == y.shape[0]
        assert 0.0 <= X.min() and X.max() <= 1.0
    X = torch.cat([X for X, _ in batches])
    y = torch.cat([y for _, y in batches])
    # Each batch is the stored images scaled by 1/255, labels travelling with them.
    order = torch.cat([torch.nonzero((data.train_images.float() / 255 == x).all(dim=(1, 2)))[0]
                       for x in X[:, 0]])
    assert sorted(order.tolist()) == list(range(N_TRAIN))
    assert torch.equal(y, data.train_labels[order])


def test_unresized_batches_identify_examples(data_dir):
    data = FashionMNIST(batch_size=7, root=data_dir)
    ids = torch.cat([(X[:, 0, 0, 0] * 255).round().long() for X, _ in data.train_batches()])
    assert sorted(ids.tolist()) == list(range(N_TRAIN))  # pixel (0, 0) holds the index
    assert ids.tolist() != list(range(N_TRAIN))  # and they were shuffled
    val_ids = torch.cat([(X[:, 0, 0, 0] * 255).round().long() for X, _ in data.val_batches()])
    assert val_ids.tolist() == list(range(N_TEST))  # validation stays in order
    assert data.num_val_batches == len(data.get_dataloader(False)) == 3


def test_shuffle_is_reproducible_with_a_generator(data_dir):
    data = FashionMNIST(batch_size=8, root=data_dir)

    def labels(seed: int) -> list[int]:
        g = torch.Generator().manual_seed(seed)
        return torch.cat([y for _, y in data.train_batches(generator=g)]).tolist()

    assert labels(3) == labels(3)
    assert labels(3) != labels(4)
    unshuffled = torch.cat([y for _, y in data.train_batches(shuffle=False)])
    assert torch.equal(unshuffled, data.train_labels)


def test_dataloader_and_dataset(data_dir):
    data = FashionMNIST(batch_size=8, root=data_dir)
    loader = data.get_dataloader(True)
    assert len(loader) == 4
    first = [y for _, y in loader]
    second = [y for _, y in loader]  # re-iterable, reshuffled each pass
    assert sorted(torch.cat(first).tolist()) == sorted(torch.cat(second).tolist())
    dataset = data.dataset(False)
    assert isinstance(dataset, torch.utils.data.Dataset) and len(dataset) == N_TEST
    real = torch.utils.data.DataLoader(dataset, batch_size=8)
    for (X, y), (X_ref, y_ref) in zip(real, data.val_batches(), strict=True):
        assert torch.equal(X, X_ref) and torch.equal(y, y_ref)


def test_subsets_are_balanced_and_seeded(data_dir):
    data = FashionMNIST(root=data_dir, train_subset=15, val_subset=10, seed=5)
    assert (data.num_train, data.num_val) == (15, 10)
    counts = torch.bincount(data.train_labels, minlength=10)
    assert counts.max() - counts.min() <= 1
    assert torch.equal(torch.bincount(data.val_labels, minlength=10), torch.ones(10).long())
    same = FashionMNIST(root=data_dir, train_subset=15, val_subset=10, seed=5)
    other = FashionMNIST(root=data_dir, train_subset=15, val_subset=10, seed=6)
    assert torch.equal(same.train_images, data.train_images)
    assert not torch.equal(other.train_images, data.train_images)
    full = FashionMNIST(root=data_dir, train_subset=N_TRAIN)
    assert torch.equal(full.train_labels, load_split(True, root=data_dir)[1])


def test_repr_names_sizes_resolution_and_batch_size(data_dir):
    data = FashionMNIST(batch_size=16, resize=(20, 24), root=data_dir, train_subset=10)
    assert repr(data) == (f"FashionMNIST(train=10 of {N_TRAIN}, val={N_TEST}, "
                          "resolution=20x24, batch_size=16)")


@pytest.mark.parametrize(("kwargs", "error", "phrase"), [
    ({"batch_size": 0}, ValueError, "batch_size must be at least 1, got 0"),
    ({"batch_size": -3}, ValueError, "got -3"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
    ({"resize": 0}, ValueError, "resize must be at least 1, got 0"),
    ({"resize": (28, -1)}, ValueError, "got -1"),
    ({"resize": (1, 2, 3)}, TypeError, "(h, w) pair"),
    ({"resize": "96"}, TypeError, "(h, w) pair"),
    ({"train_subset": 0}, ValueError, "train_subset must be at least 1, got 0"),
    ({"train_subset": N_TRAIN + 1}, ValueError, f"train_subset={N_TRAIN + 1} is larger"),
    ({"val_subset": 1000}, ValueError, f"val_subset=1000 is larger than the split ({N_TEST}"),
])
def test_bad_arguments(data_dir, kwargs, error, phrase):
    with pytest.raises(error) as info:
        FashionMNIST(root=data_dir, **kwargs)
    assert phrase in str(info.value)


def test_text_labels():
    assert len(LABELS) == 10 and LABELS[0] == "t-shirt" and LABELS[9] == "ankle boot"
    assert text_labels(torch.tensor([[0, 9], [6, 8]])) == ["t-shirt", "ankle boot", "shirt", "bag"]
    with pytest.raises(ValueError, match=r"got \[10\]"):
        text_labels([3, 10])


# --- the real files -------------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.skipif(not REAL_SYSTEM_DIR.is_dir(),
                    reason="needs Debian's dataset-fashion-mnist in /usr/share/datasets")
@pytest.mark.parametrize(("train", "n"), [(True, 60000), (False, 10000)])
def test_real_fashion_mnist(monkeypatch, train, n):
    monkeypatch.setattr(locate, "SYSTEM_DIR", REAL_SYSTEM_DIR)
    images, labels = load_split(train)
    assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(torch.bincount(labels, minlength=10), torch.full((10,), n // 10))
