"""Tests for the task shapes on the command line, run as a user runs it (`python -m workbench ...` in a subprocess):
`train --task multi-label`, `--task regression` and `--text-pair-column`, then `predict --text` (and `--text-pair`) and
`evaluate` print each task's own answer as the JSON last line of stdout; a bad target cell is one line on stderr naming
its line, and exit status 1. Several `--label-column`s (repeated, comma-separated) are checked at the parser."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from task_helpers import pair_rows, rated_rows, topic_rows, write_csv

from workbench.cli import _split_args, build_parser
from workbench.data import load_data
from workbench.labels import Task

OFFLINE_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
MLP = ("--model", "mlp", "--batch-size", "16", "--output", "runs")  # small batches: enough steps to learn


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", *map(str, args)],
        cwd=cwd,
        env=OFFLINE_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def together(commands: dict[str, tuple], cwd: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run independent commands at the same time: most of each one's time is importing torch, not working."""
    started = {name: start(*args, cwd=cwd) for name, args in commands.items()}
    results = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        results[name] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


def last_json(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip(), f"no output; stderr: {result.stderr}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-tasks")
    topics = topic_rows(200, seed=1)
    write_csv(folder / "topics.csv", ["review", "topics"], [(text, "|".join(labels)) for text, labels in topics])
    flags = [
        (text, *("yes" if n in labels else "no" for n in ("praise", "complaint", "plot"))) for text, labels in topics
    ]
    write_csv(folder / "flags.csv", ["review", "praise", "complaint", "plot"], flags)
    rated = rated_rows(200, seed=3)
    write_csv(folder / "rated.csv", ["review", "target"], rated)
    rated[5] = (rated[5][0], "n/a")  # line 7 of the file
    write_csv(folder / "rated_bad.csv", ["review", "target"], rated)
    write_csv(folder / "pairs.csv", ["premise", "hypothesis", "label"], pair_rows(240, seed=4))
    return folder


@pytest.fixture(scope="module")
def trained(cli_dir) -> dict[str, subprocess.CompletedProcess]:
    return together(
        {
            "topics": ("train", "--data", "topics.csv", "--task", "multi-label", "--epochs", "15", *MLP),
            "rated": ("train", "--data", "rated.csv", "--task", "regression", "--epochs", "15", *MLP),
            "pairs": (
                *("train", "--data", "pairs.csv", "--epochs", "20", *MLP),
                *("--text-column", "premise", "--text-pair-column", "hypothesis"),
            ),
            "bad_target": ("train", "--data", "rated_bad.csv", "--task", "regression", "--epochs", "1", *MLP),
        },
        cli_dir,
    )


@pytest.fixture(scope="module")
def used(trained, cli_dir) -> dict[str, subprocess.CompletedProcess]:
    """The trained runs predicted with and evaluated, all at once (each process spends most of its time importing)."""
    run = {name: last_json(trained[name])["run_dir"] for name in ("topics", "rated", "pairs")}
    return together(
        {
            "predict_topics": ("predict", "--run", run["topics"], "--text", "the film great wonderful story"),
            "evaluate_topics": ("evaluate", "--run", run["topics"]),
            "predict_rated": ("predict", "--run", run["rated"], "--text", "great wonderful superb"),
            "predict_pairs": (
                *("predict", "--run", run["pairs"]),
                *("--text", "great", "--text-pair", "loved", "--text", "great", "--text-pair", "awful"),
            ),
        },
        cli_dir,
    )


def run_json(cli_dir: Path, result: subprocess.CompletedProcess) -> dict:
    return json.loads((cli_dir / last_json(result)["run_dir"] / "run.json").read_text())


def test_train_with_the_multi_label_task_prints_its_scores(trained, cli_dir):
    summary = last_json(trained["topics"])

    assert summary["status"] == "finished"
    assert set(summary["metrics"]) == {"f1_micro", "f1_macro", "f1_samples", "subset_accuracy", "hamming_loss"}
    assert summary["metrics"]["f1_micro"] > 0.85
    task = run_json(cli_dir, trained["topics"])["task"]
    assert task["name"] == "multi-label" and task["separator"] == "|"


def test_predict_text_on_a_multi_label_run_prints_its_labels(used):
    answer = last_json(used["predict_topics"])

    assert set(answer) == {"labels", "probabilities", "thresholds"}
    assert set(answer["labels"]) == {"praise", "plot"}
    assert set(answer["probabilities"]) == {"complaint", "plot", "praise"}


def test_repeated_and_comma_separated_label_columns_give_one_multi_label_spec(cli_dir):
    # parsed in this process: a training subprocess more would cost about 10 s of imports for what the parser decides
    args = build_parser().parse_args(
        ["train", "--data", str(cli_dir / "flags.csv"), "--label-column", "praise,complaint", "--label-column", "plot"]
    )
    spec, _ = _split_args(args)

    assert spec.label_columns == ("praise", "complaint", "plot")
    data = load_data(spec)
    assert data.task == Task.MULTI_LABEL
    assert data.labels.names == ("praise", "complaint", "plot")


def test_evaluate_prints_the_multi_label_report(used, trained):
    report = last_json(used["evaluate_topics"])

    assert report["task"] == "multi-label"
    assert {"f1_micro", "f1_macro", "f1_samples", "subset_accuracy", "hamming_loss", "per_label"} <= set(report)
    assert report["f1_micro"] == pytest.approx(last_json(trained["topics"])["metrics"]["f1_micro"])
    assert "misclassified" not in report  # the JSON line is the scores; the rows to look at are the app's


def test_regression_trains_and_predicts_a_value(trained, used, cli_dir):
    summary = last_json(trained["rated"])
    answer = last_json(used["predict_rated"])

    assert summary["status"] == "finished"
    assert set(summary["metrics"]) == {"rmse", "mae", "r2", "pearson", "spearman"}
    assert summary["metrics"]["r2"] > 0.5
    assert {"target_mean", "target_std"} <= set(run_json(cli_dir, trained["rated"])["task"])
    assert set(answer) == {"value"} and answer["value"] > 60  # in the target's unit (a mean of about 50)


def test_a_non_numeric_target_is_one_line_naming_its_line(trained):
    result = trained["bad_target"]

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "'n/a'" in lines[0] and "'target'" in lines[0]
    assert "line 7" in lines[0]


def test_text_pairs_train_and_predict_with_text_pair(trained, used, cli_dir):
    summary = last_json(trained["pairs"])
    answers = last_json(used["predict_pairs"])

    assert summary["status"] == "finished" and summary["metrics"]["accuracy"] >= 0.9
    assert run_json(cli_dir, trained["pairs"])["columns"]["text_pair"] == "hypothesis"
    assert [a["label"] for a in answers] == ["both", "one"]  # the same first text, another second text
