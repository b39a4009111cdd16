"""benchmarks/lenet_vs_d2l.py without running it: arguments, timing, the record, d2l's data."""

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from cnnlib.data.idx import IdxSpec, to_tensor, verify
from cnnlib.runs.records import hardware_info

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope="module")
def bench():
    path = ROOT / "benchmarks" / "lenet_vs_d2l.py"
    spec = importlib.util.spec_from_file_location("lenet_vs_d2l", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_defaults_are_the_notes_configuration(bench):
    args = bench.parse_args([])
    assert (args.epochs, args.batch_size, args.lr, args.subset) == (10, 128, 0.1, None)
    smoke = bench.parse_args(["--epochs", "1", "--subset", "512"])
    assert (smoke.epochs, smoke.subset) == (1, 512)
    assert args.split_batch is None  # one slice per torch thread
    assert bench.parse_args(["--split-batch", "3"]).split_batch == 3
    for bad in (["--epochs", "0"], ["--subset", "0"], ["--lr", "-1"], ["--split-batch", "0"],
                ["--split-batch", "129"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_benchmark_record_from_a_fake_run(bench, tmp_path):
    args = bench.parse_args(["--epochs", "2", "--output", str(tmp_path / "r.json")])
    timer = bench.PassTimer()
    for _ in range(2):  # two fake "epochs" of three batches of 4 images
        for _batch in timer.wrap([(torch.zeros(4), torch.zeros(4))] * 3):
            pass
    assert timer.examples == [12, 12]
    cnnlib_side = {**timer.summary(), "val_acc": 0.80}
    d2l_side = {"images_per_s": cnnlib_side["images_per_s"] / 4, "val_acc": 0.75,
                "epoch_images_per_s": [1.0, 1.0]}
    hardware = {"cpu_model": "test CPU", "cpu_count": 2, "torch": torch.__version__,
                "torch_threads": 2}
    record = bench.build_record({"cnnlib": cnnlib_side, "d2l": d2l_side}, args, hardware,
                                {"before": [0.1, 0.2, 0.3]}, date="2025-01-01T00:00:00+00:00")
    bench.write_json(args.output, record)
    back = json.loads(args.output.read_text())
    assert back["speedup"] == pytest.approx(4.0)
    assert back["target"] == {"speedup_at_least": 3.0, "speedup_met": True,
                              "accuracy_equal_or_better": True}
    assert back["accuracy_gap"] == pytest.approx(0.05)
    assert back["config"]["epochs"] == 2 and back["config"]["batch_size"] == 128
    assert back["hardware"]["cpu_model"] == "test CPU"
    assert back["cnnlib"]["train_images"] == 24
    assert list(tmp_path.iterdir()) == [args.output]  # no temporary file left behind
    with pytest.raises(ValueError, match="d2l"):
        bench.build_record({"cnnlib": cnnlib_side}, args, hardware, {})


def test_benchmark_idx_files_rebuild_the_official_bytes(bench):
    images = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8)
    labels = torch.tensor([1, 9, 0])
    files = bench._idx_bytes(images, labels)
    for kind, magic, original in (("images", 2051, images), ("labels", 2049, labels)):
        content = files[kind]
        # cnnlib's own checks of magic, header, length and label range (the digest is
        # this content's: the real run compares with the official files' digests).
        spec = IdxSpec(f"x-{kind}", magic, 3, hashlib.sha256(content).hexdigest())
        verify(content, spec)
        torch.testing.assert_close(to_tensor(content, spec), original)


def test_benchmark_hardware_adds_to_the_run_records_description(bench):
    info, base = bench.hardware_info(), hardware_info()
    for key in ("cpu_model", "cpu_count", "torch", "torch_threads", "python"):
        assert info[key] == base[key], key
    assert {"cpus_usable", "cuda", "platform"} <= set(info)


def test_split_batch_reaches_the_child_processes(bench):
    args = bench.parse_args(["--split-batch", "2", "--subset", "64"])
    forwarded = bench._forwarded_args(args)
    assert forwarded[forwarded.index("--split-batch") + 1] == "2"
    assert "--split-batch" not in bench._forwarded_args(bench.parse_args([]))
