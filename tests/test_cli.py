"""Tests for the command line, run as a user runs it (`python -m workbench ...` in a subprocess): the last stdout
line of each command is its JSON result, and a mistake in the input is one line on stderr, exit status 1, and no
traceback."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from engine_helpers import write_digits_csv

OFFLINE_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *map(str, args)],
        cwd=cwd,
        env=OFFLINE_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def workbench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return finish(start(*args, cwd=cwd))


def together(*commands: tuple[tuple[str, ...], Path]) -> list[subprocess.CompletedProcess]:
    """Run independent commands at the same time: most of each one's time is importing torch, not working."""
    return [finish(p) for p in [start(*args, cwd=cwd) for args, cwd in commands]]


def last_json(result: subprocess.CompletedProcess) -> dict:
    assert result.stdout.strip(), f"no output; stderr: {result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_clean_failure(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    write_digits_csv(folder / "digits.csv", per_class=40)
    (folder / "empty.csv").write_text("")
    return folder


@pytest.fixture(scope="module")
def trained(cli_dir) -> tuple[subprocess.CompletedProcess, dict]:
    result = workbench(
        "train", "--data", "digits.csv", "--model", "mlp", "--epochs", "3", "--output", "runs", cwd=cli_dir
    )
    return result, last_json(result)


@pytest.fixture(scope="module")
def uses_of_the_run(trained, cli_dir) -> dict[str, subprocess.CompletedProcess]:
    run_dir = trained[1]["run_dir"]
    commands = {
        "evaluate": ("evaluate", "--run", run_dir, "--data", "digits.csv"),
        "evaluate_validation": ("evaluate", "--run", run_dir),
        "predict_csv": ("predict", "--run", run_dir, "--data", "digits.csv", "--output", "out.csv"),
    }
    return dict(zip(commands, together(*[(args, cli_dir) for args in commands.values()])))


@pytest.fixture(scope="module")
def mistakes(cli_dir) -> dict[str, subprocess.CompletedProcess]:
    commands = {
        "misspelled_label": (
            "train",
            "--data",
            "digits.csv",
            "--label-column",
            "digt",
            "--model",
            "mlp",
            "--output",
            "runs-misspelled",
        ),
        "empty_file": ("train", "--data", "empty.csv", "--output", "runs-empty"),
        "bert_on_numbers": ("train", "--data", "digits.csv", "--model", "bundled-minilm", "--output", "runs-bert"),
        "missing_run": ("predict", "--run", "runs/nothing-here", "--text", "hello"),
    }
    return dict(zip(commands, together(*[(args, cli_dir) for args in commands.values()])))


def test_train_prints_a_json_result(trained, cli_dir):
    result, summary = trained

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert summary["status"] == "finished"
    assert set(summary["metrics"]) >= {"accuracy", "f1_macro"}
    assert 0.5 < summary["metrics"]["accuracy"] <= 1.0  # 3 epochs on 320 rows already learn most digits
    run_dir = cli_dir / summary["run_dir"]  # relative to where the command ran, like --output
    assert run_dir.parent.resolve() == (cli_dir / "runs").resolve()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    assert any(line.startswith("Epoch 3:") for line in result.stdout.splitlines())  # events rendered as lines


def test_evaluate_prints_the_full_report(uses_of_the_run):
    result = uses_of_the_run["evaluate"]

    assert result.returncode == 0, result.stderr
    report = last_json(result)
    assert set(report) >= {
        "accuracy",
        "f1_macro",
        "precision_macro",
        "recall_macro",
        "per_class",
        "confusion_matrix",
        "labels",
    }
    assert report["labels"] == [str(d) for d in range(10)]
    assert report["n"] == 400
    assert sum(map(sum, report["confusion_matrix"])) == 400
    assert report["per_class"]["7"]["support"] == 40
    assert report["accuracy"] > 0.5


def test_evaluate_without_data_uses_the_validation_rows(uses_of_the_run, trained):
    result = uses_of_the_run["evaluate_validation"]

    assert result.returncode == 0, result.stderr
    report = last_json(result)
    assert report["n"] == 80  # the 20% held back
    assert report["accuracy"] == pytest.approx(trained[1]["metrics"]["accuracy"])


def test_predict_writes_a_csv(uses_of_the_run, cli_dir):
    result = uses_of_the_run["predict_csv"]

    assert result.returncode == 0, result.stderr
    assert last_json(result) == {"rows": 400, "output": "out.csv"}
    with (cli_dir / "out.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 400
    assert {"px0", "digit", "predicted_label", "confidence", "p_0", "p_9"} <= set(rows[0])
    assert sum(row["predicted_label"] == row["digit"] for row in rows) > 200


def test_predict_text_prints_label_and_probabilities(bert_text_run, tmp_path):
    run_dir = bert_text_run[1]

    one, two = together(
        (("predict", "--run", run_dir, "--text", "the film was great and fun"), tmp_path),
        (("predict", "--run", run_dir, "--text", "great fun", "--text", "awful boring mess"), tmp_path),
    )

    assert one.returncode == 0, one.stderr
    prediction = last_json(one)
    assert prediction["label"] == "positive"
    assert set(prediction["probabilities"]) == {"negative", "positive"}
    assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert two.returncode == 0, two.stderr
    assert [p["label"] for p in last_json(two)] == ["positive", "negative"]


def test_misspelled_label_column_is_one_line(mistakes, cli_dir):
    assert_clean_failure(mistakes["misspelled_label"], "'digt' is not in the file", "px0")
    assert not (cli_dir / "runs-misspelled").exists()


def test_empty_file_is_one_line(mistakes, cli_dir):
    assert_clean_failure(mistakes["empty_file"], "empty.csv is empty")
    assert not (cli_dir / "runs-empty").exists()


def test_bert_on_numeric_csv_is_one_line(mistakes, cli_dir):
    assert_clean_failure(mistakes["bert_on_numbers"], "BERT needs a text column", "'mlp'")
    assert not (cli_dir / "runs-bert").exists() or not list((cli_dir / "runs-bert").iterdir())


def test_predict_on_a_missing_run_is_one_line(mistakes):
    assert_clean_failure(mistakes["missing_run"], "not a run folder")
