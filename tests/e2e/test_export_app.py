"""The Runs tab's export through `gradio_client`: a trained run is exported to ONNX by `/export_run`, the runs
listing says so in its last column, and `/predict` answers from the export."""

from __future__ import annotations

from pathlib import Path

from gradio_client import Client, handle_file

from workbench import runs

EXAMPLE = Path(__file__).resolve().parents[2] / "workbench" / "ui" / "examples" / "reviews.csv"
STATUS = 4  # position of the job status in /train's outputs


def test_export_run_writes_onnx_that_predict_then_uses(app_url, app_runs_dir):
    client = Client(app_url, verbose=False)
    client.predict(handle_file(str(EXAMPLE)), api_name="/load_data")
    run_id = [update for update in client.submit(model="mlp", epochs=2, api_name="/train")][-1][STATUS]["run_id"]
    before = client.predict(run_id, "What a wonderful, moving film", api_name="/predict")

    notice = client.predict(run_id, "int8", api_name="/export_run")

    assert notice.startswith(f"Exported run {run_id} to `model.onnx` (ONNX, int8 weights, ")
    assert (app_runs_dir / run_id / "model.onnx").is_file()
    assert runs.read_run(app_runs_dir / run_id).export["quantization"] == "int8"
    listing = client.predict(api_name="/list_runs")[0]
    assert listing["headers"][-1] == "export"
    assert [row[-1] for row in listing["data"] if row[0] == run_id][0].startswith("ONNX, int8 weights")
    after = client.predict(run_id, "What a wonderful, moving film", api_name="/predict")
    assert max(after, key=after.get) == max(before, key=before.get)
