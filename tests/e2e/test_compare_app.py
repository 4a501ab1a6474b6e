"""Runs side by side and explanations through the launched app's API (`gradio_client`), as the Predict tab does
them: two runs of the same labels answer one text with the verdict, and a labelled file comes back with every row's
answers, the disagreements first, and each run's score; `/explain` gives each word's push, toward a chosen label and
by a chosen method."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from gradio_client import Client, handle_file
from test_api_tasks import trained_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "corpus"))
from make_corpus import reviews  # noqa: E402


def test_two_runs_answer_a_text_and_a_file_side_by_side(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    data = tmp_path / "reviews.csv"
    data.write_text(reviews(120))
    client.predict(handle_file(str(data)), api_name="/load_data")
    learnt = trained_run(client, epochs=3)
    barely = trained_run(client, epochs=1, lr="1e-6")  # answers almost at random: the two disagree somewhere

    said, answers = client.predict([learnt, barely], "a wonderful and charming film", "", api_name="/compare")
    assert [row[0] for row in answers["data"]] == [learnt, barely]
    assert ("disagree" in said) == (answers["data"][0][1] != answers["data"][1][1])

    summary, rows, download = client.predict([learnt, barely], handle_file(str(data)), api_name="/compare_file")
    with open(download, newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    disagreements = [row for row in written if row["disagree"] == "yes"]
    assert len(written) == 120 and 0 < len(disagreements) < 120
    assert written[: len(disagreements)] == disagreements  # the disagreements come first
    assert f"{len(disagreements):,} of 120 rows" in summary and f"{learnt}: " in summary
    assert rows["headers"][:3] == ["line", "disagree", "true"]


def test_explain_gives_each_words_push_through_the_api(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    data = tmp_path / "reviews.csv"
    data.write_text(reviews(120))
    client.predict(handle_file(str(data)), api_name="/load_data")
    run_id = trained_run(client, epochs=3)

    answer = client.predict(run_id, "a wonderful and charming film", api_name="/explain")
    toward = client.predict(
        run_id, "a wonderful and charming film", None, "", "negative", "occlusion", api_name="/explain"
    )

    assert [w["word"] for w in answer["words"]] == ["a", "wonderful", "and", "charming", "film"]
    assert answer["method"] == "integrated-gradients" and answer["target"] in {"positive", "negative"}
    assert toward["target"] == "negative" and toward["method"] == "occlusion"
