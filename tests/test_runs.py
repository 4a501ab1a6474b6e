"""Tests for workbench.runs: writes are atomic, a run whose process died reads as interrupted (and cannot be
loaded as if it were done), damaged runs do not break the list, and run ids never reach outside the runs folder."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import runs
from workbench.events import Evaluated, Started, Step
from workbench.predict import Predictor


def make_run(root: Path, model: str = "mlp", **fields) -> Path:
    run_dir = runs.create_run(root, model, {"model": {"name": model, "kind": "mlp"}, "data": {"source": "x.csv"}})
    if fields:
        runs.update_run(run_dir, **fields)
    return run_dir


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# ---------------------------------------------------------------------------------------------- atomic writes


def test_atomic_write_json_writes_the_file_and_nothing_else(tmp_path):
    target = tmp_path / "data.json"

    runs.atomic_write_json(target, {"accuracy": 0.9, "label": "négatif"})
    runs.atomic_write_json(target, {"accuracy": 0.95, "label": "négatif"})

    assert json.loads(target.read_text(encoding="utf-8")) == {"accuracy": 0.95, "label": "négatif"}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_a_writer_that_raises_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "run.json"
    runs.atomic_write_json(target, {"status": "running"})

    with pytest.raises(TypeError):
        runs.atomic_write_json(target, {"status": "finished", "weights": object()})  # fails half way through

    assert json.loads(target.read_text()) == {"status": "running"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_atomic_write_with_cleans_up_after_any_exception(tmp_path):
    target = tmp_path / "model.safetensors"

    def half_write(tmp: Path) -> None:
        tmp.write_bytes(b"half a model")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runs.atomic_write_with(target, half_write)

    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------- status


def test_run_of_a_dead_process_is_interrupted_and_refused(tmp_path):
    run_dir = make_run(tmp_path, pid=dead_pid())

    assert runs.effective_status(runs.read_run(run_dir)) == "interrupted"
    assert [r.status for r in runs.list_runs(tmp_path)] == ["interrupted"]
    with pytest.raises(ValueError, match="is interrupted; only finished or stopped runs"):
        runs.require_loadable(run_dir)
    with pytest.raises(ValueError, match="interrupted"):
        Predictor.load(run_dir)


def test_run_of_a_live_process_is_running(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        other = make_run(tmp_path, pid=sleeper.pid)
        own = make_run(tmp_path)  # created by this process

        assert runs.effective_status(runs.read_run(other)) == "running"
        assert runs.effective_status(runs.read_run(own)) == "running"
        with pytest.raises(ValueError, match="is running"):
            runs.require_loadable(own)
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("status", ["finished", "stopped", "failed"])
def test_ended_runs_keep_their_status_whatever_the_pid(tmp_path, status):
    run_dir = make_run(tmp_path, status=status, pid=dead_pid())

    assert runs.effective_status(runs.read_run(run_dir)) == status


def test_list_runs_is_newest_first_and_reads_the_headline(tmp_path):
    older = tmp_path / "20240101-120000-mlp-0123456789ab"
    newer = tmp_path / "20250101-120000-bundled-minilm-ba9876543210"
    for run_dir, model in ((older, "mlp"), (newer, "bundled-minilm")):
        run_dir.mkdir()
        runs.atomic_write_json(
            run_dir / runs.RUN_FILE,
            {
                "status": "finished",
                "model": {"name": model},
                "data": {"source": "reviews.csv"},
                "metrics": {"accuracy": 0.8, "f1_macro": 0.75},
                "created": "2025-01-01T12:00:00",
            },
        )

    listed = runs.list_runs(tmp_path)

    assert [r.id for r in listed] == [newer.name, older.name]
    assert (listed[0].model, listed[0].data, listed[0].accuracy, listed[0].f1_macro) == (
        "bundled-minilm",
        "reviews.csv",
        0.8,
        0.75,
    )


def test_list_runs_skips_damaged_and_foreign_folders(tmp_path):
    good = make_run(tmp_path, status="finished")
    damaged = make_run(tmp_path, status="finished")
    (damaged / runs.RUN_FILE).write_text('{"status": "finis')
    empty = tmp_path / "20250101-120000-mlp-aaaaaaaaaaaa"
    empty.mkdir()  # looks like a run, has no run.json
    (tmp_path / "notes").mkdir()
    (tmp_path / "readme.txt").write_text("not a run")

    assert [r.id for r in runs.list_runs(tmp_path)] == [good.name]
    assert runs.list_runs(tmp_path / "missing") == []


def test_damaged_run_record_is_a_clear_error(tmp_path):
    run_dir = make_run(tmp_path)
    (run_dir / runs.RUN_FILE).write_bytes(b"\xff\xfe{")

    with pytest.raises(ValueError, match="damaged"):
        runs.read_run(run_dir)
    with pytest.raises(ValueError, match="not a run folder"):
        runs.read_run(tmp_path)


# ---------------------------------------------------------------------------------------------- run ids


def test_new_run_ids_are_valid_unique_and_readable():
    ids = {runs.new_run_id("/models/My Fancy BERT!") for _ in range(50)}

    assert len(ids) == 50
    assert all(runs.RUN_ID.match(i) and "-my-fancy-bert-" in i for i in ids)


def test_resolve_run_finds_a_real_run(tmp_path):
    run_dir = make_run(tmp_path)

    assert runs.resolve_run(tmp_path, run_dir.name) == run_dir
    assert runs.resolve_run(tmp_path, f"  {run_dir.name}\n") == run_dir


@pytest.mark.parametrize(
    "run_id",
    [
        "../x",
        "..",
        "/etc",
        "/tmp/20250101-120000-mlp-0123456789ab",
        "20250101-120000-mlp-0123456789ab/../..",
        "20250101-120000-mlp-0123456789AB",
        "latest",
        "",
    ],
)
def test_resolve_run_refuses_anything_but_a_run_id(tmp_path, run_id):
    with pytest.raises(ValueError, match="is not a run id"):
        runs.resolve_run(tmp_path, run_id)


def test_resolve_run_refuses_an_id_with_no_run(tmp_path):
    with pytest.raises(ValueError, match="There is no run"):
        runs.resolve_run(tmp_path, "20250101-120000-mlp-0123456789ab")


def test_delete_run_cannot_reach_outside_the_runs_folder(tmp_path):
    root, outside = tmp_path / "runs", tmp_path / "precious"
    outside.mkdir()
    (outside / runs.RUN_FILE).write_text("{}")
    run_dir = make_run(root)

    with pytest.raises(ValueError):
        runs.delete_run(root, "../precious")
    runs.delete_run(root, run_dir.name)

    assert outside.is_dir() and not run_dir.exists()


# ---------------------------------------------------------------------------------------------- events


def test_events_round_trip_and_a_truncated_last_line_is_skipped(tmp_path):
    run_dir = make_run(tmp_path)
    written = [
        Started(
            run_id=run_dir.name,
            model="mlp",
            device="cpu",
            precision="no",
            total_steps=4,
            epochs=1,
            train_rows=10,
            validation_rows=2,
            labels=("neg", "pos"),
        ),
        Step(
            step=1,
            total_steps=4,
            epoch=0.25,
            loss=0.69,
            learning_rate=1e-3,
            samples_per_second=10.0,
            eta_seconds=3.0,
            elapsed_seconds=1.0,
        ),
        Evaluated(step=4, epoch=1.0, loss=0.5, scores={"accuracy": 0.5, "f1_macro": 0.33}, is_best=True),
    ]
    for event in written:
        runs.append_event(run_dir, event)
    with (run_dir / runs.EVENTS_FILE).open("a") as handle:
        handle.write('{"kind": "step", "step": 2, "total_st')  # the process died mid-write

    assert runs.read_events(run_dir) == written
    assert runs.read_events(tmp_path / "no-such-run") == []


def test_a_run_record_reads_typed_and_forgives_missing_fields(tmp_path):
    run_dir = make_run(
        tmp_path,
        status="finished",
        labels=["neg", "pos"],
        metrics={"accuracy": 0.9},
        columns={"text": "review", "label": "sentiment", "features": []},
    )

    record = runs.read_run(run_dir)
    bare = runs.RunRecord.from_dict(tmp_path, {"status": "something new"})

    assert record.status == runs.Status.FINISHED and record.status.has_weights
    assert (record.id, record.model.name, record.model.kind) == (run_dir.name, "mlp", "mlp")
    assert record.labels == ("neg", "pos") and record.columns.text == "review"
    assert record.metrics == {"accuracy": 0.9} and record.data == {"source": "x.csv"}
    assert bare.status == runs.Status.UNKNOWN and bare.labels == () and bare.columns is None
