"""The command line: `python -m workbench train|evaluate|predict|explain|compare|push|export|serve`.

Training events become a progress bar on a terminal and plain lines otherwise; each command's result is one JSON
object on the last line of stdout. A mistake in the input is one readable line on stderr and exit status 1.
Under `accelerate launch` every process trains its share and only the main process prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .config import DEFAULT_EXPLAIN_METHOD, EXPLAIN_METHODS, DataSpec, TrainConfig
from .events import Ended, Evaluated, Event, Failed, Finished, Planned, Preparing, Started, Step, describe_event
from .logs import quiet_libraries

# DataSpec fields whose flag reads better renamed (--label-column, repeated, gives several label columns)
FLAG_NAMES = {"path": "data", "eval_path": "eval_data", "label_columns": "label_column"}


def _add_dataclass_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per field, with the field's help text and default, so the CLI never drifts from the config."""
    for field in dataclasses.fields(cls):
        flag = "--" + FLAG_NAMES.get(field.name, field.name).replace("_", "-")
        kind = str(field.type)
        options: dict[str, Any] = {"dest": field.name, "help": field.metadata.get("help")}
        options["default"] = None if field.default is dataclasses.MISSING else field.default
        if kind.startswith("bool"):
            options["action"] = argparse.BooleanOptionalAction
        elif kind.startswith("tuple"):  # repeatable, and each may list names with commas
            options["action"] = "append"
            if isinstance(field.default, tuple):  # argparse appends to its default, which a tuple cannot take
                options["default"] = list(field.default)
        else:
            options["type"] = int if kind.startswith("int") else float if kind.startswith("float") else str
        parser.add_argument(flag, **options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workbench", description="Fine-tune BERT or train an MLP on a table of data."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a model on a file (or Hub dataset) and save it as a run folder")
    _add_dataclass_flags(train, DataSpec)
    _add_hub_flags(train)
    _add_dataclass_flags(train, TrainConfig)
    evaluate = commands.add_parser("evaluate", help="score a run on a labelled file (or its validation rows)")
    evaluate.add_argument("--run", required=True, help="the run folder")
    evaluate.add_argument("--data", help="a labelled file; without it, the run's own validation rows")
    predict = commands.add_parser("predict", help="predict labels for a text or the rows of a file")
    predict.add_argument("--run", required=True, help="the run folder")
    source = predict.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", action="append", help="a text to classify (repeat for several)")
    predict.add_argument(
        "--text-pair", action="append", help="the second text of each --text, for a run trained on text pairs"
    )
    source.add_argument("--data", help="a file whose rows to classify (CSV, TSV, JSON Lines, JSON, Parquet, .xlsx)")
    predict.add_argument("--sheet", help="the sheet of an Excel --data file (the first when not given)")
    predict.add_argument(
        "--output", help="where to write the rows with predictions (with --data), in the format its suffix names"
    )
    explain = commands.add_parser("explain", help="why a run answers a text as it does: each word's push, as JSON")
    explain.add_argument("--run", required=True, help="the run folder")
    explain.add_argument("--text", required=True, help="the text to explain")
    explain.add_argument("--text-pair", help="the second text, for a run trained on pairs")
    explain.add_argument("--feature", action="append", type=float, help="a numeric column's value, in the run's order")
    explain.add_argument("--target", help="the label to explain (default: the answer)")
    explain.add_argument(
        "--method", default=DEFAULT_EXPLAIN_METHOD, choices=EXPLAIN_METHODS, help="how the pushes are measured"
    )
    compare = commands.add_parser("compare", help="runs of the same labels side by side, on a text or a file")
    compare.add_argument("--run", action="append", required=True, help="a run folder (give two or more)")
    against = compare.add_mutually_exclusive_group(required=True)
    against.add_argument("--text", help="a text for every run to answer")
    compare.add_argument("--text-pair", help="the second text, for runs trained on pairs")
    against.add_argument("--data", help="a file whose rows every run answers (with labels, each run is scored)")
    compare.add_argument("--output", help="where to write every row's answers, disagreements first (with --data)")
    push = commands.add_parser("push", help="upload a run to the Hugging Face Hub as a model repo with a model card")
    push.add_argument("--run", required=True, help="the run folder")
    push.add_argument("--repo-id", required=True, help="the Hub repo to create or update, e.g. your-name/reviews-bert")
    push.add_argument("--private", action="store_true", help="create the repo as private")
    export = commands.add_parser("export", help="write a run's model as ONNX beside its weights, for faster serving")
    export.add_argument("--run", required=True, help="the run folder")
    export.add_argument("--format", default="onnx", choices=["onnx"], help="the format to write (onnx)")
    export.add_argument("--quantize", choices=["int8"], help="int8 weights: a quarter of the size, and faster")
    commands.add_parser("models", help="the models --model takes without a network, with their size and cost")
    serve = commands.add_parser("serve", help="start the web app")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    return parser


def _add_hub_flags(parser: argparse.ArgumentParser) -> None:
    hub = parser.add_argument_group("a Hugging Face Hub dataset instead of --data")
    hub.add_argument("--hub-dataset", help="a dataset on the Hub (owner/name) or a dataset folder laid out like one")
    hub.add_argument("--hub-config", help="the dataset's configuration, where it has several")
    hub.add_argument("--hub-split", default="train", help="the split to train on, or a slice of it: train[:5000]")
    hub.add_argument("--eval-split", help="a split to evaluate on (instead of holding back part of the training split)")


def _fetch_hub_splits(args: argparse.Namespace) -> None:
    """With --hub-dataset, the split (and the evaluation split) as local files, given to the flags --data reads."""
    if bool(args.path) == bool(args.hub_dataset):
        raise ValueError("Give the data: a file with --data FILE, or a Hub dataset with --hub-dataset NAME.")
    if not args.hub_dataset:
        return
    from .hub_data import HubDataset, default_folder, fetch_hub_dataset

    def fetch(split: str) -> str:
        return str(fetch_hub_dataset(HubDataset(args.hub_dataset, args.hub_config, split), default_folder()))

    args.path = fetch(args.hub_split)
    if args.eval_split:
        args.eval_path = fetch(args.eval_split)


def _split_args(args: argparse.Namespace) -> tuple[DataSpec, TrainConfig]:
    _fetch_hub_splits(args)
    values = vars(args)
    pick = lambda cls: {f.name: values[f.name] for f in dataclasses.fields(cls)}  # noqa: E731
    return DataSpec(**pick(DataSpec)), TrainConfig(**pick(TrainConfig))


def render_events(events: Iterator[Event], interactive: bool) -> Iterator[Event]:
    """Show events as they pass: a tqdm bar on a terminal, else a line per event (steps at most every 2 s); the
    preparation's progress at most every 10 s a stage, and when a stage is done."""
    bar, last_line, said = None, 0.0, {}
    for event in events:
        line = describe_event(event)
        if isinstance(event, Preparing):
            if event.stage not in said or time.monotonic() - said[event.stage] >= 10 or event.done == event.total:
                said[event.stage] = time.monotonic()
                print(line, flush=True)
        elif isinstance(event, Started):
            print(f"{line} Run folder: {event.run_dir}", flush=True)
            if interactive:
                from tqdm import tqdm

                bar = tqdm(total=event.total_steps, unit="step", file=sys.stderr)
        elif isinstance(event, Step):
            if bar is not None:
                bar.update(event.step - bar.n)
                bar.set_postfix(loss=f"{event.loss:.4f}", rows_s=f"{event.samples_per_second:.1f}")
            elif time.monotonic() - last_line >= 2 or event.step == event.total_steps:
                last_line = time.monotonic()
                print(line, flush=True)
        elif bar is not None and isinstance(event, (Planned, Evaluated)):
            if isinstance(event, Planned):
                bar.total = event.total_steps
            bar.write(line)
        else:
            if bar is not None:
                bar.close()
            print(line, flush=True)
        yield event


def _notes_once_started(events: Iterator[Event], notes: list[str]) -> Iterator[Event]:
    """The data's notes, printed when the run starts: settings refused before a run exists show only the error."""
    for event in events:
        if isinstance(event, Started):
            for note in notes:
                print(f"note: {note}", file=sys.stderr, flush=True)
        yield event


def cmd_train(args: argparse.Namespace) -> int:
    from .data import load_data
    from .devices import process_state
    from .train import train

    spec, config = _split_args(args)
    main_process = process_state().is_main_process  # the others train their share silently
    data = load_data(spec, seed=config.seed)
    events = train(config, data)
    if main_process:
        events = _notes_once_started(events, data.notes)
    run_dir, last = "", None
    for last in render_events(events, interactive=sys.stderr.isatty()) if main_process else events:
        run_dir = getattr(last, "run_dir", run_dir)
    failed = isinstance(last, Failed)
    if not main_process:
        return 1 if failed else 0
    result: dict[str, Any] = {"status": last.status if isinstance(last, Ended) else "unknown", "run_dir": run_dir}
    if isinstance(last, Finished):
        result["metrics"] = last.metrics
    if failed:
        result["error"] = last.error
    print(json.dumps(result))
    return 1 if failed else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .metrics.report import evaluate_run

    report = evaluate_run(args.run, args.data)
    for note in report.pop("notes"):
        print(f"note: {note}", file=sys.stderr)
    report.pop("misclassified")
    print(json.dumps(report))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .predict import Predictor

    predictor = Predictor.load(args.run)
    if args.text:
        if args.text_pair is not None and len(args.text_pair) != len(args.text):
            raise ValueError("Give one --text-pair for each --text.")
        predictions = predictor.predict(args.text, pairs=args.text_pair)
        print(json.dumps([p.to_dict() for p in predictions] if len(predictions) > 1 else predictions[0].to_dict()))
        return 0
    if not args.output:
        raise ValueError(f"Give --output (such as labelled{Path(args.data).suffix}) to say where the predictions go.")
    count = predictor.predict_file(args.data, args.output, sheet=args.sheet)
    print(json.dumps({"rows": count, "output": args.output}))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain
    from .predict import Predictor

    explanation = explain(Predictor.load(args.run), args.text, args.text_pair, args.feature, args.target, args.method)
    print(json.dumps(explanation.to_dict()))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_file, compare_text
    from .predict import Predictor

    predictors = [Predictor.load(run) for run in args.run]
    if args.text is not None:
        print(json.dumps(compare_text(predictors, args.text, args.text_pair)))
        return 0
    comparison = compare_file(predictors, args.data)
    if args.output:
        from .writers import write_table

        write_table(args.output, comparison.columns, comparison.rows)
    result = {"rows": len(comparison.rows), "disagreements": comparison.disagreements, "scores": comparison.scores}
    print(json.dumps({**result, "output": args.output}))
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from .hub import push_run

    url = push_run(args.run, args.repo_id, private=args.private)  # the token comes from HF_TOKEN or the login
    print(json.dumps({"repo_id": args.repo_id, "url": url}))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .export import export_run

    info = export_run(args.run, args.format, args.quantize)
    print(json.dumps({"run_dir": str(args.run), **info.to_dict()}))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .models.catalog import model_choices

    for choice in model_choices():
        print(json.dumps(choice.to_dict()))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .deployment import use_persistent_storage

    use_persistent_storage()  # before gradio reads HF_HOME
    from .ui import launch

    launch(host=args.host, port=args.port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_libraries()
    command = {
        "train": cmd_train,
        "evaluate": cmd_evaluate,
        "predict": cmd_predict,
        "explain": cmd_explain,
        "compare": cmd_compare,
        "push": cmd_push,
        "export": cmd_export,
        "models": cmd_models,
        "serve": cmd_serve,
    }[args.command]
    try:
        return command(args)
    except ValueError as error:  # the engine's way of saying what the user should change
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
