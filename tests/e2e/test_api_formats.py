"""Other file types and Hub datasets through the launched app's API (`gradio_client`), as an API user would: a JSON
Lines file trains and a Parquet file comes back labelled as Parquet; a workbook's second sheet is chosen; a bad file
is one sentence; a Hub dataset loads by name (here a dataset folder laid out as on the Hub, the app being offline),
and a name the offline app cannot reach, or a server folder on a shared app, is refused in one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import openpyxl
import pyarrow.parquet as pq
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from test_api_tasks import SUMMARY, trained_run

HUB_CARD = """---
dataset_info:
  features:
  - name: text
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': negative
          '1': positive
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
---
# reviews
"""


def review_rows(n: int = 60) -> list[dict]:
    good, bad = ["great fun", "loved it", "wonderful"], ["awful mess", "boring", "terrible"]
    return [
        {"review": f"{(good if i % 2 else bad)[i % 3]} {i}", "sentiment": "positive" if i % 2 else "negative"}
        for i in range(n)
    ]


def hub_folder(root: Path) -> Path:
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["negative", "positive"])}
    )
    rows = review_rows()
    table = {"text": [r["review"] for r in rows], "label": [int(r["sentiment"] == "positive") for r in rows]}
    (root / "data").mkdir(parents=True)
    datasets.Dataset.from_dict(table, features=features).to_parquet(str(root / "data" / "train-00000-of-00001.parquet"))
    (root / "README.md").write_text(HUB_CARD)
    return root


def test_a_jsonl_file_trains_and_a_parquet_file_comes_back_as_parquet(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in review_rows()))
    outputs = client.predict(handle_file(str(path)), api_name="/load_data")
    assert "Task: **single-label**" in outputs[SUMMARY]

    run_id = trained_run(client)
    to_label = tmp_path / "new.parquet"
    pq.write_table(_parquet(), to_label)
    labelled = client.predict(run_id, handle_file(str(to_label)), api_name="/predict_csv")

    assert labelled.endswith(".parquet")
    table = pq.read_table(labelled)
    assert table.column_names[:3] == ["review", "stars", "predicted_label"]
    assert table.column("stars").to_pylist() == [5, 1]  # the file's own numbers stay numbers
    assert table.column("predicted_label").to_pylist() == ["positive", "negative"]


def _parquet():
    import pyarrow as pa

    return pa.Table.from_pylist([{"review": "great fun 1", "stars": 5}, {"review": "awful mess 2", "stars": 1}])


def test_a_workbook_shows_its_sheets_and_loads_the_one_chosen(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "about"
    book.active.append(["notes"])
    book.active.append(["made by hand"])
    sheet = book.create_sheet("reviews")
    sheet.append(["review", "sentiment"])
    for row in review_rows():
        sheet.append([row["review"], row["sentiment"]])
    book.save(path)

    first = client.predict(handle_file(str(path)), api_name="/load_data")
    chosen = client.predict(handle_file(str(path)), "reviews", api_name="/load_sheet")

    picker = first[-1]  # the sheet picker, as an update: shown, with both sheets, on the first
    assert picker["visible"] and picker["value"] == "about" and ["reviews", "reviews"] in picker["choices"]
    assert "Not ready to train:** No label column found" in first[SUMMARY] and "Choose another sheet" in first[SUMMARY]
    assert chosen[-1]["value"] == "reviews" and "Task: **single-label**" in chosen[SUMMARY]


def test_a_bad_jsonl_file_is_one_sentence(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    path = tmp_path / "broken.jsonl"
    path.write_text('{"review": "great", "sentiment": "positive"}\n{"review": \n')
    with pytest.raises(AppError, match="broken.jsonl: line 2 is not JSON"):
        client.predict(handle_file(str(path)), api_name="/load_data")


def test_a_hub_dataset_loads_by_name_with_its_label_names(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    outputs = client.predict(str(hub_folder(tmp_path / "reviews")), "", "train[:40]", "", api_name="/load_hub_dataset")

    assert "Task: **single-label**" in outputs[SUMMARY] and "40 rows" in outputs[SUMMARY].replace(",", "")
    assert "'negative'" in str(outputs[0]) and "'positive'" in str(outputs[0])  # the preview: ids as label names
    with pytest.raises(AppError, match="Could not reach the Hugging Face Hub to load stanfordnlp/imdb"):
        client.predict("stanfordnlp/imdb", "", "train", "", api_name="/load_hub_dataset")


def test_a_shared_app_takes_hub_ids_not_server_folders(shared_app_url, tmp_path):
    client = Client(shared_app_url, verbose=False)
    with pytest.raises(AppError, match="a dataset is a Hugging Face Hub id"):
        client.predict(str(hub_folder(tmp_path / "reviews")), "", "train", "", api_name="/load_hub_dataset")
