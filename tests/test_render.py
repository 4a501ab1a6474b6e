"""What the Train tab shows when a time budget shortens a run: the bar counts to the new total, the log says why."""

import pandas as pd

from workbench.events import Evaluated, Finished, Planned, Started, Status, Step
from workbench.ui import render


def started_event(**changes) -> Started:
    fields = {"run_id": "r", "model": "bundled-minilm", "device": "cpu", "precision": "bf16", "total_steps": 300}
    return Started(**{**fields, **changes}, epochs=10, train_rows=480, validation_rows=120, labels=("a", "b"))


def budgeted_events() -> list:
    started = started_event()
    planned = Planned(step=10, total_steps=210, epochs=7.0, budget_seconds=300.0, seconds_per_step=1.25)
    step = Step(
        step=105,
        total_steps=210,
        epoch=3.5,
        loss=0.5,
        learning_rate=1e-4,
        samples_per_second=12.0,
        eta_seconds=130.0,
        elapsed_seconds=131.0,
    )
    return [started, planned, step]


def test_progress_counts_to_the_total_the_budget_set():
    html = render.progress_html(budgeted_events(), Status.RUNNING)

    assert "Step 105/210" in html and "width:50.0%" in html


def test_log_says_how_much_of_the_run_fits_the_budget():
    log = render.log_text(budgeted_events())

    assert "up to 300 steps" in log
    assert "Time budget 5m 00s: 210 steps (7 epochs) fit, at 1.25s a step." in log


def test_log_says_when_the_epochs_end_the_run_before_the_budget():
    planned = Planned(step=2, total_steps=504, epochs=3.0, budget_seconds=300.0, seconds_per_step=0.25, all_epochs=True)

    assert render.describe_event(planned) == (
        "Time budget 5m 00s: all 504 steps (3 epochs) fit, at 0.25s a step: the run ends before it."
    )


def test_the_bar_takes_a_new_plan_at_once_and_the_log_keeps_the_latest_plan():
    started, planned, step = budgeted_events()
    replanned = Planned(step=120, total_steps=180, epochs=6.0, budget_seconds=300.0, seconds_per_step=1.5)

    assert "Started bundled-minilm on cpu: 0/210 steps" in render.progress_html([started, planned], Status.RUNNING)
    assert "Step 105/180" in render.progress_html([started, planned, step, replanned], Status.RUNNING)
    log = render.log_text([started, planned, step, replanned]).splitlines()
    assert log == [render.describe_event(started), render.describe_event(replanned)]


def test_the_budget_line_stays_in_a_long_log():
    # on small data the budget is fixed after a few epochs have been logged; it must not scroll away
    started, planned, step = budgeted_events()
    epochs = [
        Evaluated(step=3 * i, epoch=float(i), loss=1.0, scores={"accuracy": 0.5, "f1_macro": 0.5}, is_best=False)
        for i in range(1, 20)
    ]
    log = render.log_text([started, *epochs[:3], planned, *epochs[3:]]).splitlines()

    assert len(log) == 12
    assert log[0].startswith("Started") and log[1].startswith("Time budget")
    assert log[-1].startswith("Epoch 19:")


def test_the_cli_and_the_app_log_say_an_event_in_the_same_words():
    from workbench.events import describe_event

    started, planned, _ = budgeted_events()
    log = render.log_text([started, planned]).splitlines()

    assert log == [describe_event(started), describe_event(planned)]
    assert log[0] == (
        "Started bundled-minilm (single-label) on cpu (bf16): 480 training rows, 120 validation rows, up to 300 steps."
    )


def test_the_data_chart_puts_the_largest_class_first_and_a_histogram_lowest_first():
    # the chart draws the bars in the frame's order
    frame, title, _ = render.label_distribution({"task": "single-label", "class_counts": {"a": 3, "b": 9, "c": 5}})
    assert (title, list(frame["label"]), list(frame["rows"])) == ("Class balance", ["b", "c", "a"], [9, 5, 3])

    histogram = [(0.0, 1000.0, 5), (1000.0, 2000.0, 9), (2000.0, 3000.0, 1)]
    frame, title, _ = render.label_distribution({"task": "regression", "target": {"histogram": histogram}})
    assert title == "Target histogram"
    assert (list(frame["from"]), list(frame["rows"])) == ([0.0, 1000.0, 2000.0], [5, 9, 1])
    assert isinstance(frame["from"].dtype, pd.CategoricalDtype)  # bars named by their starts, not a numeric axis

    narrow = [(1000 + i / 12, 1000 + (i + 1) / 12, 1) for i in range(12)]  # a target from 1,000 to 1,001
    starts = list(render.target_histogram(narrow)["from"])
    assert starts[:3] == [1000.0, 1000.0833, 1000.1667] and len(set(starts)) == 12  # every bar named apart


def test_rows_to_look_at_show_the_answers_first_and_the_text_last():
    """A long text wraps in the last column; the true and predicted answers stay in view, never scrolled away."""
    from workbench.ui.render import misclassified_frame

    row = {"text": "a very long review " * 40, "true": "negative", "predicted": "positive", "confidence": 0.91}
    assert list(misclassified_frame({"misclassified": [row]}).columns) == ["true", "predicted", "confidence", "text"]
    assert list(misclassified_frame({"misclassified": []}).columns) == ["true", "predicted", "text"]


def test_a_model_fitted_by_a_solver_is_told_without_epochs_or_steps():
    started = started_event(model="setfit", precision="no", total_steps=0)
    scores = {"accuracy": 0.9, "f1_macro": 0.88}
    evaluated = Evaluated(step=0, epoch=0.0, loss=0.4, scores=scores, is_best=True)
    finished = Finished(step=0, elapsed_seconds=12.0, best_epoch=None, metrics=scores)

    bar = render.progress_html([started, evaluated, finished], Status.FINISHED)
    log = render.log_text([started, evaluated, finished])

    assert "Finished in 12s: the model was fitted, then scored." in bar and "width:100.0%" in bar
    assert "The fitted model on the validation rows: loss 0.4000, accuracy 0.9000, macro-F1 0.8800." in log
    assert "Finished in 12.0s: accuracy 0.9000, macro-F1 0.8800." in log and "epoch" not in log.lower()
