"""Load on one launched server, over loopback, bounded in count and time: 20 concurrent `/predict` requests while two
trainings are asked for at the same moment. Every prediction is answered, one training runs and the other is told
it waits in the queue, then runs too; the latency figures are printed (no absolute-time asserts: CI machines vary)."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client
from test_api import EXAMPLE, STATUS, load, train_all

PREDICTIONS, TRAININGS = 20, 2


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_predict(client: Client, run_id: str) -> tuple[float, dict]:
    began = time.monotonic()
    answer = client.predict(run_id, "a wonderful, moving film", api_name="/predict")
    return time.monotonic() - began, answer


def figures(latencies: list[float]) -> str:
    return f"p50 {statistics.median(latencies):.3f}s, p95 {percentile(latencies, 0.95):.3f}s, max {max(latencies):.3f}s"


def test_twenty_predictions_and_two_trainings_at_once(app_url):
    setup = Client(app_url, verbose=False)
    load(setup, EXAMPLE)
    run_id = train_all(setup, model="mlp", epochs=2)[-1][STATUS]["run_id"]
    setup.predict(run_id, "warm", api_name="/predict")  # the first request loads the weights; measure the rest
    alone = [timed_predict(setup, run_id)[0] for _ in range(5)]
    trainers = [Client(app_url, verbose=False) for _ in range(TRAININGS)]
    predictors = [Client(app_url, verbose=False) for _ in range(PREDICTIONS)]
    with ThreadPoolExecutor(PREDICTIONS) as pool:  # a first wave with nothing training, for comparison
        idle = [seconds for seconds, _ in pool.map(lambda c: timed_predict(c, run_id), predictors, timeout=120)]
    for trainer in trainers:
        load(trainer, EXAMPLE)
    gate = threading.Barrier(PREDICTIONS + TRAININGS)

    def train(client: Client) -> list[dict]:
        gate.wait()
        return [update[STATUS] for update in train_all(client, model="mlp", epochs=600, patience=0)]

    def predict(client: Client) -> tuple[float, dict]:
        gate.wait()
        return timed_predict(client, run_id)

    with ThreadPoolExecutor(PREDICTIONS + TRAININGS) as pool:
        trainings = [pool.submit(train, client) for client in trainers]
        answers = [pool.submit(predict, client) for client in predictors]
        answers = [future.result(timeout=300) for future in answers]
        trainings = [future.result(timeout=300) for future in trainings]

    assert all(set(answer) == {"negative", "neutral", "positive"} for _, answer in answers)
    print(
        f"\none /predict at a time: {figures(alone)}; {PREDICTIONS} concurrent, idle: {figures(idle)}; "
        f"as 2 trainings start: {figures([seconds for seconds, _ in answers])}"
    )
    first_seen = sorted((statuses[0]["queue_position"], statuses[0]["status"]) for statuses in trainings)
    assert first_seen[1] == (1, "queued"), first_seen  # the later of the two is told it waits behind the other
    assert first_seen[0][0] == 0, first_seen
    assert [statuses[-1]["status"] for statuses in trainings] == ["finished", "finished"]
