"""The task shapes through the launched app's API (`gradio_client`), as an API user would: a multi-label CSV and a
regression CSV are detected, trained, predicted and evaluated; the task can be changed; a bad cell is one sentence."""

from __future__ import annotations

from gradio_client import Client, handle_file
from task_csvs import write_prices_csv, write_topics_csv

STATUS = 4  # position of the job status in /train's outputs
SUMMARY = 7  # position of the data summary in /load_data's outputs


def trained_run(client: Client, **settings) -> str:
    job = client.submit(api_name="/train", model="mlp", **settings)  # epochs on auto: small data, many epochs
    final = [update for update in job][-1][STATUS]
    assert final["status"] == "finished", final
    return final["run_id"]


def test_a_multi_label_csv_trains_predicts_and_evaluates(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    outputs = client.predict(handle_file(str(write_topics_csv(tmp_path / "topics.csv"))), api_name="/load_data")
    assert "Task: **multi-label**" in outputs[SUMMARY] and "separated by ';'" in outputs[SUMMARY]

    run_id = trained_run(client)
    probabilities = client.predict(run_id, "the coach says the new robot", api_name="/predict")
    report = client.predict(run_id, None, api_name="/evaluate")[-1]

    thresholds = report["thresholds"]
    assert report["task"] == "multi-label" and report["f1_micro"] > 0.8 and all(0 < t < 1 for t in thresholds.values())
    assert set(probabilities) == {"politics", "sports", "tech"}
    assert probabilities["sports"] >= thresholds["sports"] and probabilities["politics"] < thresholds["politics"]


def test_a_regression_csv_predicts_in_the_targets_unit(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    outputs = client.predict(handle_file(str(write_prices_csv(tmp_path / "prices.csv"))), api_name="/load_data")
    assert "Task: **regression**" in outputs[SUMMARY]

    run_id = trained_run(client)
    cheap = client.predict(run_id, "a dark old noisy", [1, 30.0], api_name="/predict")["value"]
    dear = client.predict(run_id, "a bright renovated garden", [5, 180.0], api_name="/predict")["value"]
    report = client.predict(run_id, None, api_name="/evaluate")[-1]

    assert 500 < cheap < dear < 6000  # dollars, not standardised units
    assert report["task"] == "regression" and report["r2"] > 0.8


def test_the_task_can_be_changed_and_a_bad_target_is_one_sentence(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    path = write_prices_csv(tmp_path / "rooms.csv")
    client.predict(handle_file(str(path)), api_name="/load_data")

    rooms = client.predict("description", ["rooms"], ["area"], "(none)", "auto", "auto", api_name="/set_columns")
    as_number = client.predict(
        "description", ["rooms"], ["area"], "(none)", "regression", "auto", api_name="/set_columns"
    )

    assert "Task: **single-label**" in rooms[0] and "regression" in rooms[0]  # the alternative is named
    assert "Task: **regression**" in as_number[0]
    bad = tmp_path / "bad.csv"
    bad.write_text(path.read_text().replace("\n", "\nfree text,2,50.0,about a thousand\n", 1))
    summary = client.predict(handle_file(str(bad)), api_name="/load_data")[SUMMARY]  # loads, to be mended
    assert "Not ready to train:** The target column 'price' holds 'about a thousand' on line 2" in summary
