"""Tests for workbench.train: the event stream a user watches, that models actually learn, the run folder a run
leaves behind (finished, stopped or failed), reproducibility, class weights, early stopping, and clear errors."""

import json
import math
import random
from pathlib import Path

import pytest
import torch
from engine_helpers import of_kind, run_to_end, write_sentiment_csv
from safetensors.torch import load_file

from workbench import runs
from workbench.config import BUNDLED_BERT, DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import Evaluated, Failed, Finished, Started, Step, Stopped, started_of
from workbench.models import choose_model, family_for, with_family_defaults
from workbench.models.bert import LengthGroupedBatches
from workbench.predict import Predictor
from workbench.tasks import class_weights
from workbench.train import TrainingRun, train


def mean(values):
    return sum(values) / len(values)


def run_record(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


# ---------------------------------------------------------------------------------------------- the MLP


def test_mlp_events_come_in_order(mlp_digits_run):
    events, _ = mlp_digits_run
    kinds = [e.kind for e in events]

    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert set(kinds[1:-1]) == {"step", "evaluated"}
    assert kinds.index("step") < kinds.index("evaluated")  # an epoch trains before it is evaluated
    started = events[0]
    assert kinds.count("evaluated") == started.epochs == 8  # one evaluation per epoch (patience off)
    steps = [e.step for e in of_kind(events, Step)]
    assert steps == sorted(set(steps)) and steps[-1] == started.total_steps
    assert started.total_steps == 8 * 8  # 480 training rows in batches of 64, 8 epochs
    assert all(s.total_steps == started.total_steps for s in of_kind(events, Step))
    epochs = [e.epoch for e in of_kind(events, Evaluated)]
    assert epochs == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]


def test_mlp_loss_falls(mlp_digits_run):
    losses = [e.loss for e in of_kind(mlp_digits_run[0], Step)]

    assert mean(losses[-5:]) < 0.5 * mean(losses[:5])
    evaluated = of_kind(mlp_digits_run[0], Evaluated)
    assert evaluated[-1].loss < 0.5 * evaluated[0].loss


def test_mlp_learns_digits(mlp_digits_run):
    events, _ = mlp_digits_run
    finished = events[-1]

    assert finished.metrics["accuracy"] > 0.9
    assert finished.metrics["f1_macro"] > 0.9
    assert max(e.accuracy for e in of_kind(events, Evaluated)) > 0.9


def test_mlp_run_folder_is_complete(mlp_digits_run):
    events, run_dir = mlp_digits_run
    finished = events[-1]

    for name in (
        "model.safetensors",
        "run.json",
        "metrics.json",
        "events.jsonl",
        "validation.parquet",
        "featurizer.json",
        "mlp.json",
    ):
        assert (run_dir / name).is_file(), name
    record = run_record(run_dir)
    assert record["status"] == "finished"
    assert record["metrics"] == finished.metrics
    assert record["labels"] == [str(d) for d in range(10)]
    assert record["model"]["kind"] == "mlp"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["accuracy"] == finished.metrics["accuracy"]
    assert len(metrics["confusion_matrix"]) == 10
    assert runs.read_events(run_dir) == events
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_saved_mlp_predicts_like_the_evaluation(mlp_digits_run, digits_data):
    events, run_dir = mlp_digits_run
    predictor = Predictor.load(run_dir)
    validation = digits_data.validation

    predictions = predictor.predict([""] * len(validation), validation["features"])

    truth = [digits_data.labels.names[i] for i in validation["label"]]
    accuracy = mean([p.label == t for p, t in zip(predictions, truth)])
    assert accuracy == pytest.approx(events[-1].metrics["accuracy"])


# ---------------------------------------------------------------------------------------------- tiny BERT


def test_tiny_bert_loss_falls_and_finishes(bert_text_run):
    events, run_dir = bert_text_run
    losses = [e.loss for e in of_kind(events, Step)]

    assert isinstance(events[-1], Finished)
    assert mean(losses[-5:]) < 0.5 * mean(losses[:5])
    assert events[-1].metrics["accuracy"] >= 0.9
    assert run_record(run_dir)["status"] == "finished"
    assert (run_dir / "model.safetensors").is_file() and (run_dir / "config.json").is_file()


def test_tiny_bert_folder_loads_with_a_plain_pipeline(bert_text_run):
    from transformers import pipeline

    _, run_dir = bert_text_run
    texts = [
        "the film was great and fun",
        "awful boring mess",
        "i loved this wonderful story",
        "a dull and terrible movie",
        "really superb",
        "it was so poor",
    ]

    classifier = pipeline("text-classification", model=str(run_dir), device="cpu")
    from_pipeline = [out["label"] for out in classifier(texts)]
    from_predictor = [p.label for p in Predictor.load(run_dir).predict(texts)]

    assert from_pipeline == from_predictor
    assert from_predictor == ["positive", "negative", "positive", "negative", "positive", "negative"]


# ---------------------------------------------------------------------------------------------- stop, crash


def stop_after(calls: int):
    count = {"n": 0}

    def should_stop() -> bool:
        count["n"] += 1
        return count["n"] > calls

    return should_stop


def test_stop_flag_keeps_a_loadable_stopped_run(digits_data, tmp_path):
    config = TrainConfig(model="mlp", epochs=5, hidden_size=32, output=str(tmp_path))

    events = run_to_end(config, digits_data, stop_after(3))

    assert isinstance(events[-1], Stopped)
    assert not of_kind(events, Finished)
    assert events[-1].step == 3
    run_dir = Path(started_of(events).run_dir)
    assert run_record(run_dir)["status"] == "stopped"
    assert runs.read_events(run_dir)[-1] == events[-1]
    prediction = Predictor.load(run_dir).predict("", [digits_data.validation["features"][0]])
    assert prediction.label in digits_data.labels.names


def test_a_watcher_that_goes_away_leaves_a_stopped_run(digits_data, tmp_path):
    stream = train(TrainConfig(model="mlp", epochs=5, hidden_size=32, output=str(tmp_path)), digits_data)
    started = next(stream)
    next(stream)

    stream.close()  # what happens when a browser tab closes mid-run

    run_dir = Path(started.run_dir)
    assert run_record(run_dir)["status"] == "stopped"
    assert runs.read_events(run_dir)[-1].reason == "the watcher went away"
    Predictor.load(run_dir)


def test_crash_inside_training_gives_a_failed_run(digits_data, tmp_path, monkeypatch):
    original = TrainingRun.train_step
    calls = {"n": 0}

    def crashing_step(self, batch):
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("simulated disk on fire")
        return original(self, batch)

    monkeypatch.setattr("workbench.train.TrainingRun.train_step", crashing_step)

    events = run_to_end(TrainConfig(model="mlp", epochs=2, hidden_size=32, output=str(tmp_path)), digits_data)

    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.error == "Training failed: RuntimeError: simulated disk on fire"
    assert failed.step == 2
    run_dir = Path(started_of(events).run_dir)
    record = run_record(run_dir)
    assert record["status"] == "failed" and "simulated disk on fire" in record["error"]
    with pytest.raises(ValueError, match="failed"):
        Predictor.load(run_dir)


# ---------------------------------------------------------------------------------------------- reproducibility


def weights_of(events) -> dict[str, torch.Tensor]:
    return load_file(str(Path(started_of(events).run_dir) / "model.safetensors"))


def test_same_seed_same_run_other_seed_other_run(digits_data, tmp_path):
    def run(seed: int) -> list:
        return run_to_end(
            TrainConfig(model="mlp", epochs=2, hidden_size=32, seed=seed, output=str(tmp_path)), digits_data
        )

    first, second, other = run(7), run(7), run(8)

    assert first[-1].metrics == second[-1].metrics
    assert [e.loss for e in of_kind(first, Step)] == [e.loss for e in of_kind(second, Step)]
    a, b, c = weights_of(first), weights_of(second), weights_of(other)
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


# ---------------------------------------------------------------------------------------------- class weights


def test_class_weights_favour_the_rare_class():
    weights = class_weights([0] * 90 + [1] * 10, 2)

    assert weights[1] > weights[0]
    assert weights[1] / weights[0] == pytest.approx(9.0)
    assert (weights * torch.tensor([90.0, 10.0])).sum() == pytest.approx(100.0)  # the mean weight per row is 1


def test_balanced_classes_weigh_one():
    assert torch.allclose(class_weights([0, 1, 2] * 5, 3), torch.ones(3))


def test_a_class_absent_from_training_does_not_divide_by_zero():
    weights = class_weights([0, 0, 1, 1], 3)

    assert torch.isfinite(weights).all()


def test_class_weights_change_the_training_loss_and_lift_the_rare_class(tmp_path):
    # two overlapping clouds, 90% "common": unweighted, the MLP leans to the common class; weighted, it finds more
    rng = random.Random(0)
    path = tmp_path / "imbalanced.csv"
    rows = [(rng.gauss(0, 1), rng.gauss(0, 1), "common") for _ in range(360)]
    rows += [(rng.gauss(1, 1), rng.gauss(1, 1), "rare") for _ in range(40)]
    path.write_text("x,y,kind\n" + "".join(f"{x:.4f},{y:.4f},{k}\n" for x, y, k in rows))
    data = load_data(DataSpec(path=str(path), label_columns="kind", validation_fraction=0.25))

    def run(weighted: bool) -> list:
        config = TrainConfig(model="mlp", epochs=5, patience=0, class_weights=weighted, output=str(tmp_path / "r"))
        return run_to_end(config, data)

    weighted, plain = run(True), run(False)

    assert of_kind(weighted, Step)[0].loss != pytest.approx(of_kind(plain, Step)[0].loss)
    rare = lambda events: events[-1].metrics["recall_macro"]  # noqa: E731  (the rare class's recall moves it)
    assert rare(weighted) > rare(plain)


# ---------------------------------------------------------------------------------------------- early stopping


def test_early_stopping_restores_the_best_epoch(digits_data, tmp_path):
    # A high learning rate overshoots after a few epochs; with patience 1 training stops at the first worse epoch.
    config = TrainConfig(model="mlp", epochs=20, lr=0.05, patience=1, output=str(tmp_path))

    events = run_to_end(config, digits_data)

    evaluated = of_kind(events, Evaluated)
    best = max(evaluated, key=lambda e: e.f1_macro)
    finished = events[-1]
    assert len(evaluated) < 20  # it stopped early
    assert not evaluated[-1].is_best and evaluated[-1].f1_macro < best.f1_macro  # the last epoch was worse ...
    assert finished.best_epoch == best.epoch
    assert finished.metrics["f1_macro"] == pytest.approx(best.f1_macro, abs=1e-12)  # ... and was not kept
    assert finished.metrics["accuracy"] == pytest.approx(best.accuracy, abs=1e-12)
    assert run_record(Path(started_of(events).run_dir))["best_epoch"] == best.epoch


# ---------------------------------------------------------------------------------------------- choosing a model


def test_auto_picks_by_the_data_and_the_mlp_for_numbers(text_data, digits_data, default_install):
    assert choose_model(TrainConfig(), text_data) == "setfit"  # 36 rows per class of short texts: contrastive mode
    assert choose_model(TrainConfig(), digits_data) == "mlp"
    assert choose_model(TrainConfig(model="mlp"), text_data) == "mlp"


def test_family_defaults_fill_only_what_is_unset():
    mlp = with_family_defaults(TrainConfig(model="mlp", epochs=3, patience=0), family_for("mlp"), train_rows=100_000)
    bert = with_family_defaults(TrainConfig(), family_for(BUNDLED_BERT), train_rows=100_000)

    assert (mlp.epochs, mlp.batch_size, mlp.patience) == (3, 64, 0)
    assert (bert.epochs, bert.batch_size, bert.patience) == (10, 16, 3)  # the defaults the --help text promises


def test_small_data_gets_enough_steps_to_learn():
    config = with_family_defaults(TrainConfig(model="mlp"), family_for("mlp"), train_rows=100)

    steps = config.epochs * math.ceil(100 / config.batch_size)
    assert steps >= 300
    assert config.patience > 5  # patience grows with the epochs, or early stopping would cut the longer run short


def test_bert_on_numeric_data_names_the_mlp(tiny_bert_dir, digits_data, tmp_path):
    with pytest.raises(ValueError, match="choose the MLP"):
        list(train(TrainConfig(model=str(tiny_bert_dir), output=str(tmp_path / "runs")), digits_data))
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())  # no half run left


def test_unknown_hub_model_offline_names_the_bundled_default(text_data, tmp_path):
    with pytest.raises(ValueError, match=f"'{BUNDLED_BERT}'") as caught:
        list(train(TrainConfig(model="nobody-here/no-such-model", output=str(tmp_path / "runs")), text_data))
    assert "nobody-here/no-such-model" in str(caught.value)
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_local_folder_without_config_is_refused(text_data, tmp_path):
    (tmp_path / "not-a-model").mkdir()

    with pytest.raises(ValueError, match="no config.json"):
        list(train(TrainConfig(model=str(tmp_path / "not-a-model"), output=str(tmp_path / "runs")), text_data))


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": 5.0}, "lr"),
        ({"max_length": 4}, "max_length"),
        ({"model": "  "}, "model"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**settings)


# ---------------------------------------------------------------------------------------------- length grouping


def test_length_grouped_batches_cover_every_row_once_with_similar_lengths():
    rng = random.Random(0)
    lengths = [rng.randint(3, 120) for _ in range(403)]
    sampler = LengthGroupedBatches(lengths, batch_size=8, generator=torch.Generator().manual_seed(0), chunk_batches=10)

    epochs = [list(sampler), list(sampler)]

    for batches in epochs:
        assert len(batches) == len(sampler) == 51
        assert sorted(i for batch in batches for i in batch) == list(range(403))
        assert all(len(batch) <= 8 for batch in batches)
    assert epochs[0] != epochs[1]  # reshuffled every epoch

    def spread(batches):
        return mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])

    shuffled = list(range(403))
    rng.shuffle(shuffled)
    random_batches = [shuffled[i : i + 8] for i in range(0, 403, 8)]
    assert spread(epochs[0]) < 0.25 * spread(random_batches)


def test_length_grouped_batches_follow_the_seed():
    lengths = list(range(100))

    def batches(seed):
        return list(LengthGroupedBatches(lengths, 4, torch.Generator().manual_seed(seed)))

    assert batches(1) == batches(1)
    assert batches(1) != batches(2)


# ---------------------------------------------------------------------------------------------- the real model


def test_bundled_minilm_fine_tunes_and_predicts(tmp_path):
    data = load_data(DataSpec(path=str(write_sentiment_csv(tmp_path / "small.csv", rows=40, seed=3))))
    config = TrainConfig(model=BUNDLED_BERT, epochs=1, max_length=32, output=str(tmp_path / "runs"))

    events = run_to_end(config, data)

    assert isinstance(events[0], Started) and events[0].max_length == 32
    assert isinstance(events[-1], Finished), events[-1]
    run_dir = Path(started_of(events).run_dir)
    assert run_record(run_dir)["model"]["name"] == BUNDLED_BERT
    prediction = Predictor.load(run_dir).predict("the film was great and fun")
    assert prediction.label in {"positive", "negative"}
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
