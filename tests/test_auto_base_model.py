"""Which base model auto fine-tunes (models/__init__.py `_fine_tuning`, models/catalog.py): the strongest installed
encoder when about MIN_FINE_TUNE_EPOCHS of its epochs fit the time budget on this machine, the bundled MiniLM
otherwise; the estimate follows the rows, their tokens and the machine's measured matmul speed. all-mpnet-base-v2
is "installed" here as the tiny BERT, so a run that picks it trains in seconds."""

import json
from pathlib import Path
from types import SimpleNamespace

import datasets
import pytest
import torch
from engine_helpers import run_to_end, write_sentiment_csv

from workbench import devices, encoders
from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import Started
from workbench.models import MIN_FINE_TUNE_EPOCHS, auto_choice
from workbench.models.catalog import FASTEST_SCALE, FINE_TUNE_COSTS, REFERENCE_GFLOPS, fine_tune_epochs, mean_tokens

MEASURED_SPEED = devices.training_matmul_gflops.__wrapped__  # the probe itself, uncached


def machine_speed(monkeypatch, gflops: float) -> None:
    monkeypatch.setattr(devices, "training_matmul_gflops", lambda: gflops)


@pytest.fixture
def mpnet_installed(monkeypatch, tiny_bert_dir):
    """all-mpnet-base-v2 installed (as the tiny BERT), on a machine as fast as the one its cost was measured on."""
    monkeypatch.setattr(encoders, "installed_encoder_names", lambda: [encoders.MPNET, encoders.MINILM])
    monkeypatch.setattr(encoders, "mpnet_path", lambda: Path(tiny_bert_dir))
    machine_speed(monkeypatch, REFERENCE_GFLOPS)


@pytest.fixture(scope="module")
def many_short_reviews_csv(tmp_path_factory):
    """480 training rows per class of short texts: auto fine-tunes BERT on them."""
    return write_sentiment_csv(tmp_path_factory.mktemp("auto-base") / "reviews.csv", rows=1200, seed=1)


@pytest.fixture(scope="module")
def many_short_reviews(many_short_reviews_csv):
    return load_data(DataSpec(path=str(many_short_reviews_csv)), seed=0)


def test_the_larger_installed_model_is_fine_tuned_when_its_epochs_fit_the_budget(mpnet_installed, many_short_reviews):
    model, why = auto_choice(TrainConfig(time_budget=5), many_short_reviews)

    assert model == encoders.MPNET
    assert "BERT fine-tuning of all-mpnet-base-v2 (about" in why and "epochs of it fit the 5-minute budget" in why


def test_the_minilm_is_fine_tuned_when_too_few_epochs_of_the_larger_fit(
    mpnet_installed, many_short_reviews, monkeypatch
):
    fits = fine_tune_epochs(encoders.MPNET, many_short_reviews, 300, mean_tokens(many_short_reviews.train))
    assert fits > MIN_FINE_TUNE_EPOCHS
    machine_speed(monkeypatch, REFERENCE_GFLOPS * MIN_FINE_TUNE_EPOCHS / fits / 1.1)  # a slower machine

    model, why = auto_choice(TrainConfig(time_budget=5), many_short_reviews)
    assert model == encoders.MINILM and f"would fit the 5-minute budget, under the {MIN_FINE_TUNE_EPOCHS}" in why
    assert auto_choice(TrainConfig(time_budget=50), many_short_reviews)[0] == encoders.MPNET  # ten times the time


def test_without_a_time_budget_the_minilm_is_fine_tuned(mpnet_installed, many_short_reviews):
    for unbounded in (TrainConfig(time_budget=0), TrainConfig(epochs=3)):  # epochs set: the budget is not used
        model, why = auto_choice(unbounded, many_short_reviews)
        assert model == encoders.MINILM and "the fastest, as the run has no time budget" in why
    assert auto_choice(TrainConfig(model="all-mpnet-base-v2", time_budget=0), many_short_reviews)[0] == encoders.MPNET


def test_with_the_minilm_alone_installed_the_reason_reads_as_before(default_install, many_short_reviews):
    model, why = auto_choice(TrainConfig(time_budget=5), many_short_reviews)

    assert model == encoders.MINILM and why.startswith("Auto chose BERT fine-tuning, as there are 480 training rows")


def test_choosing_the_model_leaves_the_runs_random_numbers_alone(mpnet_installed, many_short_reviews, monkeypatch):
    """Auto measures the machine after the run's seed is set; the model it picks must start (head, dropout) as it
    would where the user named it."""
    monkeypatch.setattr(devices, "training_matmul_gflops", MEASURED_SPEED)
    torch.manual_seed(7)
    expected = torch.rand(3)

    torch.manual_seed(7)
    auto_choice(TrainConfig(time_budget=5), many_short_reviews)
    assert torch.equal(torch.rand(3), expected)


def test_the_epochs_that_fit_follow_the_budget_the_rows_and_the_machines_speed(monkeypatch):
    machine_speed(monkeypatch, REFERENCE_GFLOPS)
    data = SimpleNamespace(train=range(3000), validation=range(600))  # a validation row costs a third of a training one
    epoch = FINE_TUNE_COSTS[encoders.MPNET].seconds_per_1000_rows(40) * (3000 + 600 / 3) / 1000

    assert fine_tune_epochs(encoders.MPNET, data, 600, tokens=40) == pytest.approx(600 / epoch)
    assert fine_tune_epochs(encoders.MPNET, data, 1200, tokens=40) == pytest.approx(2 * 600 / epoch)
    assert fine_tune_epochs(encoders.MPNET, data, 600, tokens=200) < fine_tune_epochs(encoders.MPNET, data, 600, 40)
    assert fine_tune_epochs(encoders.MINILM, data, 600, tokens=40) > 4 * fine_tune_epochs(encoders.MPNET, data, 600, 40)
    machine_speed(monkeypatch, REFERENCE_GFLOPS / 2)  # half the matmul speed: half the epochs
    assert fine_tune_epochs(encoders.MPNET, data, 600, tokens=40) == pytest.approx(600 / epoch / 2)
    machine_speed(monkeypatch, REFERENCE_GFLOPS * 1000)  # a GPU: its steps are not a thousand times faster
    assert fine_tune_epochs(encoders.MPNET, data, 600, tokens=40) == pytest.approx(600 / epoch / FASTEST_SCALE)


def test_mean_tokens_counts_the_bundled_tokenizers_tokens_as_a_run_truncates_them():
    rows = datasets.Dataset.from_dict({"text": ["good movie", "a " * 1000]})
    pairs = datasets.Dataset.from_dict({"text": ["good movie"], "text_pair": ["bad film"]})

    assert mean_tokens(rows) == (4 + 256) / 2  # [CLS] good movie [SEP]; the long text cut at the CPU's 256
    assert mean_tokens(pairs) == 7  # [CLS] good movie [SEP] bad film [SEP]


def test_on_few_rows_per_class_the_minilm_is_fine_tuned(mpnet_installed, tmp_path):
    path = write_sentiment_csv(tmp_path / "reviews.csv", rows=200, seed=1)  # 80 training rows per class, short
    data = load_data(DataSpec(path=str(path)), seed=0)

    model, why = auto_choice(TrainConfig(time_budget=5), data)
    assert model == encoders.MINILM and "a larger model only from 200 rows per class" in why


def test_a_run_that_auto_gives_the_larger_model_trains_it_and_says_why(mpnet_installed, tmp_path):
    path = write_sentiment_csv(tmp_path / "reviews.csv", rows=520, seed=1)  # 208 training rows per class, short
    data = load_data(DataSpec(path=str(path)), seed=0)

    events = run_to_end(TrainConfig(time_budget=5, output=str(tmp_path / "runs")), data)
    started = next(e for e in events if isinstance(e, Started))
    assert started.model == encoders.MPNET and "epochs of it fit the 5-minute budget" in started.route
    assert events[-1].kind == "finished"
    record = json.loads((Path(started.run_dir) / "run.json").read_text())
    assert record["model"]["name"] == encoders.MPNET and record["model"]["route"] == started.route


def test_the_train_tabs_panel_follows_the_forms_time_budget(mpnet_installed, many_short_reviews_csv):
    from workbench.ui.train_tab import describe_model

    state = {"path": str(many_short_reviews_csv), "text": "review", "labels": ["sentiment"], "features": []}

    assert "Auto chose BERT fine-tuning of all-mpnet-base-v2" in describe_model("auto", state, TrainConfig())
    unbounded = describe_model("auto", state, TrainConfig(time_budget=0))
    assert "Auto chose BERT fine-tuning of the bundled MiniLM (the fastest" in unbounded
