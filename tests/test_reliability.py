"""Reliability and safety rules checked without a server: nothing in the package unpickles or runs remote code, a
restarted server that got its old pid back still sees the old run as interrupted, linked run folders are refused,
row limits hold before a table is built, and an unexpected error reaches the visitor as one sentence."""

import ast
import os
from pathlib import Path

import pytest

from workbench import csvfile, runs
from workbench.events import started_of

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"
UNSAFE_MODULES = {"pickle", "cPickle", "dill", "joblib", "cloudpickle", "marshal", "shelve"}
WEIGHT_LOADERS = ("AutoModel", "PreTrainedModel")


def calls_in_package():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            yield path, node


def keyword(call: ast.Call, name: str):
    found = [k.value for k in call.keywords if k.arg == name]
    return found[0].value if found and isinstance(found[0], ast.Constant) else ("missing" if not found else "dynamic")


def test_nothing_unpickles_or_runs_remote_code():
    problems = []
    for path, node in calls_in_package():
        where = f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            problems += [f"{where} imports {n}" for n in names if n.split(".")[0] in UNSAFE_MODULES]
        if not isinstance(node, ast.Call):
            continue
        function = ast.unparse(node.func)
        if function.endswith(("torch.load", "read_pickle")):
            if keyword(node, "weights_only") is not True:
                problems.append(f"{where} calls {function} without weights_only=True")
        if keyword(node, "trust_remote_code") not in (False, "missing"):
            problems.append(f"{where} passes trust_remote_code")
        if keyword(node, "allow_pickle") not in (False, "missing"):
            problems.append(f"{where} passes allow_pickle")
        if function.endswith("from_pretrained") and function.startswith(WEIGHT_LOADERS):
            if keyword(node, "use_safetensors") is not True:
                problems.append(f"{where} loads weights without use_safetensors=True")
    assert not problems, problems


def test_a_restarted_server_with_the_old_pid_sees_the_old_run_as_interrupted(tmp_path):
    run_dir = runs.create_run(tmp_path, "mlp", {"model": {"name": "mlp"}})
    assert runs.effective_status(runs.read_run(run_dir)) == "running"  # ours, this very process
    runs.update_run(run_dir, process="a-server-before-the-restart")  # same pid, another process (a container restart)
    assert runs.effective_status(runs.read_run(run_dir)) == "interrupted"


def test_a_linked_run_folder_is_neither_listed_nor_resolved(tmp_path):
    outside = runs.create_run(tmp_path / "elsewhere", "mlp", {"model": {"name": "mlp"}})
    runs.update_run(outside, status="finished")
    root = tmp_path / "runs"
    root.mkdir()
    (root / outside.name).symlink_to(outside)
    assert runs.list_runs(root) == []
    with pytest.raises(ValueError, match="There is no run"):
        runs.resolve_run(root, outside.name)


def test_the_row_limit_holds_before_the_table_is_built(tmp_path, monkeypatch):
    big = tmp_path / "big.csv"
    big.write_text("review,sentiment\n" + "".join(f"fun {i},pos\n" for i in range(1000)))
    monkeypatch.setattr(csvfile.datasets, "load_dataset", lambda *a, **k: pytest.fail("the whole file was read"))
    with pytest.raises(ValueError, match="has more than 999 rows, the limit here; upload a sample"):
        csvfile.read_csv(big, max_rows=999)


def test_line_breaks_inside_cells_do_not_count_as_rows(tmp_path):
    quoted = tmp_path / "quoted.csv"
    quoted.write_text("review,sentiment\n" + "".join(f'"line one\nline two {i}",pos\n' for i in range(10)))
    csvfile.check_row_limit(quoted, 10)
    with pytest.raises(ValueError, match="more than 9 rows"):
        csvfile.check_row_limit(quoted, 9)


def test_an_unexpected_error_reaches_the_visitor_as_one_sentence(caplog):
    import gradio as gr

    from workbench.ui.common import user_errors

    @user_errors
    def handler():
        raise KeyError("features")

    with pytest.raises(gr.Error) as shown:
        handler()
    assert shown.value.message.startswith("Something went wrong on the server (KeyError: 'features'); try again")
    assert "Traceback" in caplog.text  # the whole story goes to the server's log instead


def test_the_package_never_reads_a_hub_token_into_a_run(tmp_path, monkeypatch, digits_data):
    from engine_helpers import run_to_end

    from workbench.config import TrainConfig

    monkeypatch.setenv("HF_TOKEN", "hf_NeverWrittenAnywhere0123")
    events = run_to_end(TrainConfig(model="mlp", epochs=1, output=str(tmp_path)), digits_data)
    written = b"".join(p.read_bytes() for p in Path(started_of(events).run_dir).rglob("*") if p.is_file())
    assert b"hf_NeverWrittenAnywhere0123" not in written and os.environ["HF_TOKEN"]
