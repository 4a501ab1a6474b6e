"""Predicting with a saved run: `Predictor.load(run_dir)` reads nothing but the run folder (the run's model family
loads its own files), then `predict` gives a label and the probability of every label for one text, many texts, or
the rows of a file (written back in its own format).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from safetensors import SafetensorError

from . import runs
from .columns import Columns, align_columns
from .data import ModelInputs, inputs_of
from .export import exported_scorer
from .labels import Task
from .models import Scorer, family_of_kind
from .tables import read_rows
from .tasks import Prediction, TaskRules, rules_from_record
from .writers import FORMULA_PREFIXES, neutralise_formula, write_table

# rows predicted between two progress reports of a labelled file: about 2 s for BERT on a 2-core CPU, so a
# cancelled labelling stops within seconds, and large enough that batching stays efficient
LABEL_BATCH_ROWS = 512

__all__ = ["FORMULA_PREFIXES", "Prediction", "Predictor", "neutralise_formula"]


class Predictor:
    """A run loaded for prediction; it tells what its model reads (`columns`, `feature_names`, `reads_pairs`) and
    what it answers (`task`, `labels`), so that no caller needs to know the model family."""

    def __init__(self, record: runs.RunRecord, scorer: Scorer):
        self.record, self.scorer = record, scorer
        self.run_dir = record.path
        self.labels: list[str] = list(record.labels)
        self.columns: Columns = record.columns
        self.rules: TaskRules = rules_from_record(record.task, record.labels)
        self.feature_names: list[str] = (
            list(self.columns.features) if family_of_kind(record.model.kind).reads_features else []
        )

    @classmethod
    def load(cls, run_dir: str | Path) -> Predictor:
        run_dir = Path(run_dir)
        record = runs.require_loadable(run_dir)
        family = family_of_kind(record.model.kind)
        try:
            scorer = exported_scorer(record) or family.load(run_dir)  # ONNX Runtime where a current export is
        except (OSError, RuntimeError, KeyError, ValueError, SafetensorError) as error:  # damaged files
            raise ValueError(
                f"The saved model of run {run_dir.name} is damaged or incomplete "
                f"({type(error).__name__}) and cannot be loaded; train it again."
            ) from error
        return cls(record, scorer)

    @property
    def task(self) -> Task:
        return self.rules.task

    @property
    def reads_text(self) -> bool:
        return self.columns.text is not None

    @property
    def feature_defaults(self) -> list[float]:
        """Where a form of `feature_names` values starts: the training rows' means (0 for a run that kept none)."""
        means = self.record.data.get("feature_means") or {}
        return [float(means.get(name, 0.0)) for name in self.feature_names]

    @property
    def reads_pairs(self) -> bool:
        return self.columns.text_pair is not None

    def predict(
        self,
        texts: str | Sequence[str],
        features: Sequence[Sequence[float]] | None = None,
        pairs: str | Sequence[str] | None = None,
    ) -> Prediction | list[Prediction]:
        """One prediction for one text, a list for a list of texts (`features`: rows of `feature_names` values;
        `pairs`: the second texts, for a model trained on text pairs)."""
        if isinstance(texts, str):
            single_pair = [pairs] if isinstance(pairs, str) else pairs
            return self.predict([texts], [features[0]] if features else None, single_pair)[0]
        return self.predict_inputs(self.inputs(list(texts), features, pairs))

    def inputs(
        self, texts: list[str], features: Sequence[Sequence[float]] | None, pairs: Sequence[str] | None
    ) -> ModelInputs:
        features = [list(f) for f in features] if features is not None else [[] for _ in texts]
        if self.feature_names and any(len(f) != len(self.feature_names) for f in features):
            raise ValueError(
                f"This model reads the numeric columns {', '.join(self.feature_names)}; give a value for each."
            )
        if self.reads_pairs:
            pairs = [p or "" for p in pairs] if pairs is not None else [""] * len(texts)
        return ModelInputs(texts, list(pairs) if self.reads_pairs else None, features)

    def predict_inputs(self, inputs: ModelInputs) -> list[Prediction]:
        if not inputs.texts:
            return []
        return self.rules.predictions(self.scorer.logits(inputs))

    def output_columns(self, existing: Sequence[str]) -> list[str]:
        """The columns a labelled file gains: the answer (and each label's probability); renamed with a leading
        underscore while the file already has a column of that name."""
        if self.task == Task.REGRESSION:
            wanted = ["predicted_value"]
        elif self.task == Task.MULTI_LABEL:
            wanted = ["predicted_labels", *(f"p_{name}" for name in self.labels)]
        else:
            wanted = ["predicted_label", "confidence", *(f"p_{name}" for name in self.labels)]
        taken, out = set(existing), []
        for name in wanted:
            while name in taken:
                name = "_" + name
            taken.add(name)
            out.append(name)
        return out

    def answer_cells(self, prediction: Prediction) -> list[str | float]:
        """The cells `output_columns` names, numbers as numbers (rounded to 6 places) for the file's own types."""
        if self.task == Task.REGRESSION:
            return [prediction.value]
        probabilities = [round(prediction.probabilities[name], 6) for name in self.labels]
        if self.task == Task.MULTI_LABEL:
            return ["|".join(prediction.labels), *probabilities]
        return [prediction.label, round(prediction.score, 6), *probabilities]

    def predict_file(self, path: str | Path, output: str | Path, sheet: str | None = None) -> int:
        """Write the file's rows back, cells as they were, with the answer added (label and probabilities, labels,
        or value), in the format `output` names; returns the count."""
        progress = [(0, 0), *self.label_file(path, output, sheet)]
        return progress[-1][0]

    def label_file(self, path: str | Path, output: str | Path, sheet: str | None = None) -> Iterator[tuple[int, int]]:
        """`predict_file` a batch at a time, yielding (rows done, rows in all) after each batch. The output is
        written whole after the last one, so a caller that stops iterating (a cancelled job) leaves no file."""
        source = read_rows(path, sheet=sheet)
        table = align_columns(source.as_dataset(), self.columns.inputs, Path(path).name)
        inputs = inputs_of(table, self.columns)
        predictions: list[Prediction] = []
        for start in range(0, len(inputs.texts), LABEL_BATCH_ROWS):
            predictions += self.predict_inputs(inputs.part(start, start + LABEL_BATCH_ROWS))
            yield len(predictions), len(inputs.texts)
        header = [*source.columns, *self.output_columns(source.columns)]
        rows = [[*row, *self.answer_cells(p)] for row, p in zip(source.rows, predictions)]
        write_table(output, header, rows)
