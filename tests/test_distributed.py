"""`accelerate launch` runs the same `train` in several processes (data parallel). Two CPU processes over gloo
stand in for two GPUs: one run folder, written by the main process only, whose metrics count every validation
row exactly once (the row count is odd, so an even split between the processes would pad or drop a row)."""

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import write_digits_csv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accelerate_launch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # `--cpu` would start a single process in accelerate 1.x (several CPU processes need MPI); `--multi_gpu` starts
    # them through torchrun, and ACCELERATE_USE_CPU keeps them on the CPU even where a GPU is present.
    launcher = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or "accelerate"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "ACCELERATE_USE_CPU": "1",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        launcher,
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        "-m",
        "workbench",
        *args,
    ]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


def odd_digits_csv(path: Path) -> Path:
    """245 digits (one class five rows short), so the stratified split holds 49 validation rows: an odd number."""
    full = write_digits_csv(path.with_name("full.csv"), per_class=25)
    with full.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    threes = [i for i, row in enumerate(rows) if row[-1] == "3"][:5]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header] + [row for i, row in enumerate(rows) if i not in threes])
    return path


def test_two_processes_make_one_run_with_every_validation_row_counted_once(tmp_path):
    data = odd_digits_csv(tmp_path / "digits.csv")
    result = accelerate_launch(
        "train",
        "--data",
        str(data),
        "--model",
        "mlp",
        "--epochs",
        "2",
        "--output",
        str(tmp_path / "runs"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    # Only the main process prints: one start line, one JSON result.
    lines = result.stdout.strip().splitlines()
    assert sum(line.startswith("Started mlp") for line in lines) == 1, result.stdout
    assert sum(line.startswith("{") for line in lines) == 1, result.stdout
    outcome = json.loads(lines[-1])
    assert outcome["status"] == "finished"

    run_dirs = list((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 1 and str(run_dirs[0]) == outcome["run_dir"]
    run_dir = run_dirs[0]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "finished"
    assert "2 processes" in record["device"]
    validation_rows = record["data"]["validation_rows"]
    assert validation_rows % 2 == 1, "the data should give an odd number of validation rows"

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["n"] == validation_rows
    assert sum(map(sum, metrics["confusion_matrix"])) == validation_rows
    # One writer: every event once, in order, from the start to the one finish.
    kinds = [json.loads(line)["kind"] for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert kinds[0] == "started" and kinds[-1] == "finished" and kinds.count("started") == 1
    assert kinds.count("evaluated") == 2
    for name in ("model.safetensors", "validation.parquet", "featurizer.json"):
        assert (run_dir / name).is_file(), name


def test_two_processes_follow_one_time_budget(tmp_path):
    # the main process's plan is broadcast (a collective call every process must reach); all stop at the same step
    data = odd_digits_csv(tmp_path / "digits.csv")
    result = accelerate_launch(
        "train",
        "--data",
        str(data),
        "--model",
        "mlp",
        "--time-budget",
        "0.00001",
        "--patience",
        "0",
        "--output",
        str(tmp_path / "runs"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    run_dir = Path(json.loads(result.stdout.strip().splitlines()[-1])["run_dir"])
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    planned = [e for e in events if e["kind"] == "planned"]
    assert len(planned) == 1 and planned[0]["total_steps"] == 2  # the budget was spent: it ends at the first plan
    assert events[-1]["kind"] == "finished" and events[-1]["step"] == 2


@pytest.mark.parametrize("use_cpu, world_size, expected", [("", "1", False), ("", "2", True), ("1", "1", True)])
def test_several_processes_without_cuda_use_the_cpu(monkeypatch, use_cpu, world_size, expected):
    import torch

    from workbench.devices import cpu_processes

    monkeypatch.setenv("ACCELERATE_USE_CPU", use_cpu)
    monkeypatch.setenv("WORLD_SIZE", world_size)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cpu_processes() is expected


def test_evaluation_batches_of_uneven_sizes_are_dealt_out_whole_each_row_once():
    """BERT's evaluation batches are sorted by length and differ in size; each process gets whole batches."""
    from types import SimpleNamespace

    from torch.utils.data import DataLoader

    from workbench.models.bert import length_sorted_batches
    from workbench.scoring import shard_batches

    lengths = [5, 9, 3, 7, 7, 2, 8, 1, 6, 4, 9]  # 11 rows: batches of 4, 4 and 3
    loader = DataLoader(list(range(11)), batch_sampler=length_sorted_batches(lengths, 4), collate_fn=list)
    seen = []
    for rank in range(2):
        accelerator = SimpleNamespace(num_processes=2, process_index=rank)
        seen += [row for batch in shard_batches(loader, accelerator) for row in batch]
    assert sorted(seen) == list(range(11))
