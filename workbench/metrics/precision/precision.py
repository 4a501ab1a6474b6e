"""Precision, computed with scikit-learn's `precision_score`.
A local copy of the Hub's `evaluate-metric/precision` so the workbench can load it with no network;
unlike the Hub module it defaults to macro averaging, which suits multi-class labels. Like the Hub module,
config_name="multilabel" takes 0/1 indicator rows (one entry per label) instead of label ids."""

import datasets
import evaluate
from sklearn.metrics import precision_score

_DESCRIPTION = "Precision is the fraction of predicted positives that are correct: TP / (TP + FP)."

_KWARGS_DESCRIPTION = """
Load with config_name="multilabel" to score multi-label rows instead of single label ids.
Args:
    predictions (list of int, or list of list of int with "multilabel"): predicted label ids, or one 0/1
        indicator row per example (one entry per label).
    references (list of int, or list of list of int with "multilabel"): true label ids, or indicator rows.
    labels (list of int, optional): the label ids (multilabel: column indices) to score, and their order when
        average=None.
    average (str or None, default "macro"): "macro", "micro", "weighted", "binary", "samples" (multilabel only:
        the mean over rows of each row's score), or None for one score per class.
    zero_division (0 or 1, default 0): the score for a class with no predicted (or true) examples.
Returns:
    precision (float, or list of float when average=None): between 0 and 1, higher is better.
"""

_CITATION = """@article{scikit-learn,
  title={Scikit-learn: Machine Learning in {P}ython},
  author={Pedregosa, F. and others},
  journal={Journal of Machine Learning Research},
  volume={12},
  pages={2825--2830},
  year={2011}
}"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Precision(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int32")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
                if self.config_name == "multilabel"
                else {"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}
            ),
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.precision_score.html"],
        )

    def _compute(self, predictions, references, labels=None, average="macro", zero_division=0) -> dict:
        score = precision_score(references, predictions, labels=labels, average=average, zero_division=zero_division)
        # average=None gives a numpy array (one score per class); plain Python keeps the result JSON-safe.
        return {"precision": [float(s) for s in score] if average is None else float(score)}
