"""Every file of the hostile corpus (tests/corpus/make_corpus.py) through the command line, as a user runs it:
either it trains (exit 0, a finished run), or the user gets one line on stderr that says what is wrong, exit
status 1, no traceback, and no run folder left behind. The 100,000-row file is read, split and featurized, then
interrupted with Ctrl-C (training it to the end would take minutes): the run must read as interrupted, never as
finished, and must not load."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench import runs
from workbench.predict import FORMULA_PREFIXES, Predictor

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
from make_corpus import CORPUS, cli_flags, make_corpus, settings_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
TRAINED_SEPARATELY = ("rows_100k.csv",)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def cli_results(corpus, tmp_path_factory) -> tuple[dict, Path]:
    """`python -m workbench train --data F --model mlp --epochs 1` for every file, in one process."""
    folder = tmp_path_factory.mktemp("cli-corpus")
    commands = {
        name: ["train", "--data", str(path), "--model", "mlp", "--epochs", "1", "--output", str(folder / "runs" / name)]
        + cli_flags(settings_of(name))
        for name, path in corpus.items()
        if name not in TRAINED_SEPARATELY
    }
    (folder / "commands.json").write_text(json.dumps(commands))
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "corpus" / "run_cli.py"),
            folder / "commands.json",
            folder / "results.json",
        ],
        env=OFFLINE_ENV,
        check=True,
        timeout=600,
    )
    return json.loads((folder / "results.json").read_text()), folder / "runs"


@pytest.mark.parametrize("name", [n for n in CORPUS if n not in TRAINED_SEPARATELY])
def test_every_corpus_file_trains_or_gets_one_clear_line(name, cli_results):
    results, runs_root = cli_results
    result, expected_error = results[name], CORPUS[name][1]
    output = result["stdout"] + result["stderr"]
    assert "Traceback" not in output, output
    listed = runs.list_runs(runs_root / name)
    if expected_error is None:
        assert result["code"] == 0, output
        assert json.loads(result["stdout"].strip().splitlines()[-1])["status"] == "finished"
        assert [r.status for r in listed] == ["finished"]
    else:
        lines = result["stderr"].strip().splitlines()
        assert result["code"] == 1 and len(lines) == 1, output
        assert lines[0].startswith("error: ") and expected_error in lines[0], lines[0]
        assert not (runs_root / name).exists() or not any((runs_root / name).iterdir()), "a run was left behind"


def test_formula_cells_are_neutralised_in_the_labelled_csv(cli_results, corpus, tmp_path):
    _, runs_root = cli_results
    run_dir = runs.list_runs(runs_root / "formulas.csv")[0].path
    output = tmp_path / "labelled.csv"
    Predictor.load(run_dir).predict_file(corpus["formulas.csv"], output)
    with output.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    dangerous = [c for c in cells if c.startswith(FORMULA_PREFIXES) and not _is_number(c)]
    assert not dangerous, dangerous[:5]
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_100k_rows_start_training_and_ctrl_c_leaves_an_interrupted_run(corpus, tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench",
            "train",
            "--data",
            str(corpus["rows_100k.csv"]),
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--output",
            str(tmp_path),
        ],
        env=OFFLINE_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal sends it: a suite started in the background (`make test &`) ignores SIGINT, its
        # children inherit that, and Python then never raises KeyboardInterrupt (the run trained to its end)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    began = time.monotonic()
    started = process.stdout.readline()  # "Started mlp on cpu (...): 98000 training rows, ..." once all is ready
    ready = time.monotonic() - began
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    print(f"\n100k rows: CLI ready to train after {ready:.1f}s (including imports)")
    assert "98000 training rows" in started, started + stderr  # validation: 2,000 rows, not 20%
    assert process.returncode == 130 and stderr.strip() == "interrupted", (stdout, stderr)
    listed = runs.list_runs(tmp_path)
    assert [r.status for r in listed] == ["interrupted"]
    with pytest.raises(ValueError, match="is interrupted"):
        Predictor.load(listed[0].path)
