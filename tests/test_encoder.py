"""The sentence-encoder family ("setfit"): a tiny sentence-transformers model built here trains in both modes through
the real engine, saves a run folder the Predictor loads, caches embeddings, and explains; auto's rule picks the
encoder on few rows per class and fine-tuning on many; the offline encoders are listed and the split mpnet zip
unpacks once; one run uses the real bundled MiniLM."""

import json
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch
from engine_helpers import of_kind, run_to_end, write_sentiment_csv

from workbench import encoders
from workbench.config import DataSpec, TrainConfig
from workbench.data import load_data
from workbench.events import Finished, Preparing, Started, Stopped, started_of
from workbench.metrics.report import evaluate_run
from workbench.models import choose_model, family_for, route_reason
from workbench.models import embeddings as embedding_cache
from workbench.predict import Predictor
from workbench.train import train


@pytest.fixture(scope="module")
def sentiment_data(tmp_path_factory):
    path = write_sentiment_csv(tmp_path_factory.mktemp("encoder-data") / "reviews.csv", rows=80, seed=3)
    return load_data(DataSpec(path=str(path)), seed=0)


def train_encoder(data, encoder: Path | str, output: Path, **settings):
    config = TrainConfig(model="setfit", encoder=str(encoder), output=str(output), seed=0, **settings)
    events = run_to_end(config, data)
    assert isinstance(events[-1], Finished), events[-1]
    return events, Path(started_of(events).run_dir)


def test_frozen_head_learns_and_the_run_folder_predicts_and_explains(tiny_encoder_dir, sentiment_data, tmp_path):
    events, run_dir = train_encoder(sentiment_data, tiny_encoder_dir, tmp_path)

    assert events[-1].metrics["accuracy"] >= 0.8  # random features, but the sentiment words still separate
    settings = json.loads((run_dir / "encoder.json").read_text())
    assert settings["mode"] == "frozen" and settings["stored"]  # a folder may move: its weights go into the run
    assert (run_dir / "encoder" / "model.safetensors").is_file() and (run_dir / "model.safetensors").is_file()
    assert not list(run_dir.rglob("*.bin")) and not list(run_dir.rglob("*.pkl"))
    predictor = Predictor.load(run_dir)
    report = evaluate_run(run_dir, predictor=predictor)  # the saved head was refitted on the validation rows too
    assert report["accuracy"] >= events[-1].metrics["accuracy"] and "optimistic" in report["notes"][0]
    assert json.loads((run_dir / "run.json").read_text())["model"]["head"]["refitted"]
    words, _ = predictor.scorer.explainer().attribute(
        "a great film", None, [], lambda logits: logits.softmax(-1)[:, 1], "integrated-gradients"
    )
    assert [w.end for w in words] == [1, 7, 12]  # each word of the text scored


def test_the_head_is_fitted_once_the_same_whatever_the_seed(tiny_encoder_dir, sentiment_data, tmp_path):
    from safetensors.torch import load_file

    from workbench.events import Evaluated, Step

    heads = []
    for seed in (0, 1):
        config = TrainConfig(model="setfit", encoder=str(tiny_encoder_dir), output=str(tmp_path / str(seed)), seed=seed)
        events = run_to_end(config, sentiment_data)
        assert started_of(events).total_steps == 0 and not of_kind(events, Step)  # a solver, not epochs of steps
        assert len(of_kind(events, Evaluated)) == 1 and events[-1].best_epoch is None  # no epochs to choose
        heads.append(load_file(str(Path(started_of(events).run_dir) / "model.safetensors")))
    assert heads[0].keys() == {"output.weight", "output.bias", "words.weight"}
    assert all(torch.allclose(heads[0][k], heads[1][k], atol=1e-5) for k in heads[0])


def test_the_preparation_is_told_before_the_run_starts_and_a_stop_there_leaves_nothing(
    tiny_encoder_dir, sentiment_data, tmp_path, monkeypatch
):
    events, _ = train_encoder(sentiment_data, tiny_encoder_dir, tmp_path / "told")
    before = events[: events.index(started_of(events))]
    stages = [e.stage for e in before]
    assert stages[0].startswith("Loading the sentence encoder") and stages[-1] == "Fitting the head"
    embedded = [e for e in before if e.stage == "Embedding the training rows"]
    assert embedded[-1].done == embedded[-1].total == len(sentiment_data.train)

    from workbench.models import encoder as family

    load = family.load_encoder
    monkeypatch.setattr(family, "load_encoder", lambda name: time.sleep(1) or load(name))  # time to press Stop
    config = TrainConfig(model="setfit", encoder=str(tiny_encoder_dir), output=str(tmp_path / "stopped"))
    stop, events = threading.Event(), []
    for event in train(config, sentiment_data, should_stop=stop.is_set):
        events.append(event)
        stop.set()  # pressed at the first word of the preparation
    stopped = events[-1]
    assert isinstance(stopped, Stopped) and not stopped.saved and not of_kind(events, Started)
    assert not list((tmp_path / "stopped").glob("*/run.json"))  # no run folder, not even a half-written one


def test_a_run_saved_before_the_words_head_still_loads(tiny_encoder_dir, sentiment_data, tmp_path):
    from safetensors.torch import load_file, save_file

    _, run_dir = train_encoder(sentiment_data, tiny_encoder_dir, tmp_path)
    settings = json.loads((run_dir / "encoder.json").read_text())
    del settings["bag"]
    (run_dir / "encoder.json").write_text(json.dumps(settings))
    head = load_file(str(run_dir / "model.safetensors"))
    save_file({k: v for k, v in head.items() if k.startswith("output.")}, str(run_dir / "model.safetensors"))

    predictor = Predictor.load(run_dir)
    assert predictor.predict("a great film").label in ("positive", "negative")
    words, _ = predictor.scorer.explainer().attribute(
        "a great film", None, [], lambda logits: logits.softmax(-1)[:, 1], "integrated-gradients"
    )
    assert [w.end for w in words] == [1, 7, 12]


def test_contrastive_mode_fine_tunes_the_encoder_and_saves_it(tiny_encoder_dir, sentiment_data, tmp_path):
    from sentence_transformers import SentenceTransformer

    events, run_dir = train_encoder(
        sentiment_data,
        tiny_encoder_dir,
        tmp_path,
        setfit_mode="contrastive",
        time_budget=0.05,
    )

    model = json.loads((run_dir / "run.json").read_text())["model"]
    assert model["mode"] == "contrastive" and model["contrastive"]["steps"] >= 1
    # one copy tuned on the training rows was scored; the saved one was tuned on every labelled row
    assert model["contrastive"]["rows"] > model["contrastive"]["scored"]["rows"] > 0
    assert model["head"]["words"] == 0 and "bag" not in json.loads((run_dir / "encoder.json").read_text())
    stages = {e.stage for e in events if isinstance(e, Preparing)}
    assert "Fine-tuning the encoder on pairs from every labelled row (steps)" in stages
    before = SentenceTransformer(str(tiny_encoder_dir), device="cpu").state_dict()
    after = SentenceTransformer(str(run_dir / "encoder"), device="cpu").state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the encoder itself was trained
    assert events[-1].metrics["accuracy"] >= 0.8
    assert Predictor.load(run_dir).predict("loved this wonderful charming story").label in ("positive", "negative")


def test_embeddings_are_cached_per_text_for_an_offline_encoder(tiny_encoder_dir):
    encoder = embedding_cache.load_encoder(str(tiny_encoder_dir))
    calls = []
    original = encoder.encode
    encoder.encode = lambda texts, **kw: calls.append(list(texts)) or original(texts, **kw)

    first = embedding_cache.embed(encoder, ["great film", "dull film"], "test-key")
    again = embedding_cache.embed(encoder, ["dull film", "great film", "a new one"], "test-key")

    assert calls == [["great film", "dull film"], ["a new one"]]  # only the unseen text is embedded again
    assert torch.allclose(again[0], first[1]) and torch.allclose(again[1], first[0])
    embedding_cache.embed(encoder, ["great film"], None)
    assert calls[-1] == ["great film"]  # no key (a fine-tuned encoder): never taken from the cache


def test_auto_takes_either_encoder_at_160_rows_per_class_unless_embedding_outlasts_the_budget(tmp_path, monkeypatch):
    from workbench import encoders

    long_reviews = write_sentiment_csv(tmp_path / "mid.csv", rows=400, seed=1, padding=40)
    data = load_data(DataSpec(path=str(long_reviews)), seed=0)
    auto = TrainConfig(time_budget=5)  # 160 training rows per class of about 47 words

    for encoder in (encoders.MPNET, encoders.MINILM):
        monkeypatch.setattr(encoders, "default_encoder", lambda encoder=encoder: encoder)
        assert choose_model(auto, data) == "setfit" and "at most 200" in route_reason(auto, data)
    monkeypatch.setattr(encoders, "default_encoder", lambda: encoders.MPNET)
    short = TrainConfig(time_budget=0.5)  # embedding 400 texts with mpnet takes about 40 s, most of 30
    assert choose_model(short, data) == "bundled-minilm" and "most of the 30 s budget" in route_reason(short, data)


def test_auto_takes_the_encoder_for_few_rows_per_class_and_fine_tuning_for_many(tmp_path, default_install):
    small = load_data(DataSpec(path=str(write_sentiment_csv(tmp_path / "small.csv", rows=40, seed=1))), seed=0)
    large = load_data(DataSpec(path=str(write_sentiment_csv(tmp_path / "large.csv", rows=1200, seed=1))), seed=0)
    auto = TrainConfig(time_budget=5)

    assert choose_model(auto, small) == "setfit" and "rows per class" in route_reason(auto, small)
    assert choose_model(auto, large) == "bundled-minilm" and "BERT fine-tuning" in route_reason(auto, large)
    assert (
        choose_model(TrainConfig(model="setfit"), large) == "setfit" and route_reason(TrainConfig("mlp"), small) == ""
    )
    assert family_for("setfit").kind == "setfit" and family_for("SetFit ").kind == "setfit"


def short_or_long_texts(folder: Path, rows: int, padding: int = 0):
    path = write_sentiment_csv(folder / f"{rows}-{padding}.csv", rows=rows, seed=1, padding=padding)
    return load_data(DataSpec(path=str(path)), seed=0)


def test_auto_fine_tunes_bert_on_short_texts_beyond_what_contrastive_mode_takes(tmp_path, monkeypatch, default_install):
    auto = TrainConfig(time_budget=5)
    many = short_or_long_texts(tmp_path, 200)  # 80 training rows per class of 4-11 words
    some = short_or_long_texts(tmp_path, 120)  # 48

    assert choose_model(auto, many) == "bundled-minilm" and "of short texts" in route_reason(auto, many)
    assert choose_model(auto, short_or_long_texts(tmp_path, 200, padding=30)) == "setfit"  # 30 words longer: frozen
    assert choose_model(auto, some) == "setfit"  # contrastive mode on the MiniLM
    monkeypatch.setattr(encoders, "default_encoder", lambda: encoders.MPNET)  # no contrastive mode with mpnet
    assert choose_model(auto, some) == "bundled-minilm" and "of short texts" in route_reason(auto, some)


def test_auto_fine_tunes_the_minilm_contrastively_on_few_rows_per_class_more_of_short_texts(tmp_path):
    from workbench.models.encoder import mode_for

    few = short_or_long_texts(tmp_path, 40)  # 16 training rows per class
    short = short_or_long_texts(tmp_path, 160)  # 64, of 4-11 words
    long = short_or_long_texts(tmp_path, 60, padding=30)  # 24, 30 words longer
    auto = TrainConfig(time_budget=5, encoder="bundled-minilm")

    assert mode_for(auto, few) == "contrastive" and "fine-tuned on pairs of the rows" in route_reason(auto, few)
    assert mode_for(auto, short) == "contrastive" and "of 8 words on average" in route_reason(auto, short)
    assert mode_for(auto, long) == "frozen" and "and the words" in route_reason(auto, long)
    assert mode_for(TrainConfig(model="setfit", setfit_mode="frozen", encoder="minilm"), few) == "frozen"  # kept
    assert mode_for(TrainConfig(encoder="all-mpnet-base-v2"), few) == "frozen"  # not measured with mpnet


def test_settings_and_encoders_fail_in_one_sentence(tmp_path):
    with pytest.raises(ValueError, match="setfit_mode must be frozen or contrastive"):
        TrainConfig(model="setfit", setfit_mode="full")
    assert TrainConfig(setfit_mode="auto", encoder="auto").setfit_mode is None
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ValueError, match="is a file"):
        encoders.encoder_path(str(tmp_path / "notes.txt"))
    with pytest.raises(ValueError, match="Could not load the sentence encoder"):
        embedding_cache.load_encoder(str(tmp_path))


def test_the_split_zip_unpacks_once_into_a_folder(tmp_path):
    whole = tmp_path / "model.zip"
    with zipfile.ZipFile(whole, "w") as archive:
        archive.writestr("all-mpnet-base-v2/modules.json", "[]")
        archive.writestr("all-mpnet-base-v2/model.safetensors", b"\x00" * 5000)
        archive.writestr("all-mpnet-base-v2/desktop.ini", "junk")
        archive.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
    blob = whole.read_bytes()
    parts = []
    for i, start in enumerate(range(0, len(blob), 1500)):
        parts.append(tmp_path / f"part.{i}")
        parts[-1].write_bytes(blob[start : start + 1500])

    target = encoders.unpack_mpnet(parts, tmp_path / "cache" / "mpnet")

    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        "1_Pooling/config.json",
        "model.safetensors",
        "modules.json",
    ]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["mpnet"]  # no scratch folder left behind
    parts[0].unlink()  # a second call finds the folder and reads no part
    assert encoders.unpack_mpnet(parts, target) == target


def test_offline_encoders_list_the_bundled_minilm():
    listed = {e.name: e for e in encoders.offline_encoders()}
    assert encoders.MINILM in listed and (listed[encoders.MINILM].path / "modules.json").is_file()
    assert encoders.default_encoder() == next(iter(listed))  # the strongest installed comes first


def test_the_real_bundled_minilm_learns_sentiment_frozen(sentiment_data, tmp_path):
    events, run_dir = train_encoder(sentiment_data, "bundled-minilm", tmp_path, setfit_mode="frozen")

    assert of_kind(events, Finished)[0].metrics["accuracy"] >= 0.9
    assert not json.loads((run_dir / "encoder.json").read_text())["stored"]  # a reference to the installed package
    assert not (run_dir / "encoder").exists()
    assert Predictor.load(run_dir).predict("what a dull, boring waste").label == "negative"


def reviews_with(path: Path, column: str, answer) -> Path:
    """80 reviews, every other one positive, with `answer(i, text)` in `column`."""
    import csv
    import random

    from engine_helpers import sentiment_text

    rng = random.Random(0)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", column])
        for i in range(80):
            text = sentiment_text(rng, "positive" if i % 2 else "negative")
            writer.writerow([text, answer(i, text)])
    return path


@pytest.mark.parametrize("mode", ["frozen", "contrastive"])
def test_a_multi_label_file_trains_and_answers_label_sets(tiny_encoder_dir, tmp_path, mode):
    topics = lambda i, text: "|".join(t for t, on in (("upbeat", i % 2), ("film", "film" in text)) if on)  # noqa: E731
    path = reviews_with(tmp_path / "topics.csv", "topics", topics)
    data = load_data(DataSpec(path=str(path), task="multi-label"), seed=0)

    events, run_dir = train_encoder(data, tiny_encoder_dir, tmp_path, setfit_mode=mode, time_budget=0.05)

    assert events[-1].metrics["f1_micro"] > 0.6
    answer = Predictor.load(run_dir).predict("the film was great fun")
    assert set(answer.labels) <= {"upbeat", "film"} and set(answer.probabilities) == {"upbeat", "film"}


def test_a_number_to_predict_is_answered_in_its_own_unit(tiny_encoder_dir, tmp_path):
    path = reviews_with(tmp_path / "ratings.csv", "rating", lambda i, text: 90 if i % 2 else 10)
    data = load_data(DataSpec(path=str(path), task="regression"), seed=0)

    events, run_dir = train_encoder(data, tiny_encoder_dir, tmp_path)

    predictor = Predictor.load(run_dir)
    good, bad = predictor.predict(["a great wonderful film", "a dull boring waste"])
    assert good.value > 60 and bad.value < 40  # the target's unit (10 to 90), not its standardised scale
