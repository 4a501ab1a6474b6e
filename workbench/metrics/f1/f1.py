"""F1, computed with scikit-learn's `f1_score`.
A local copy of the Hub's `evaluate-metric/f1` so the workbench can load it with no network;
unlike the Hub module it defaults to macro averaging, which suits multi-class labels."""

import datasets
import evaluate
from sklearn.metrics import f1_score

_DESCRIPTION = "F1 is the harmonic mean of precision and recall: 2 * (precision * recall) / (precision + recall)."

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of int): predicted label ids.
    references (list of int): true label ids.
    labels (list of int, optional): the label ids to score, and their order when average=None.
    average (str or None, default "macro"): "macro", "micro", "weighted", "binary", or None for one score per class.
    zero_division (0 or 1, default 0): the score for a class with no predicted (or true) examples.
Returns:
    f1 (float, or list of float when average=None): between 0 and 1, higher is better.
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
class F1(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}
            ),
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.f1_score.html"],
        )

    def _compute(self, predictions, references, labels=None, average="macro", zero_division=0) -> dict:
        score = f1_score(references, predictions, labels=labels, average=average, zero_division=zero_division)
        # average=None gives a numpy array (one score per class); plain Python keeps the result JSON-safe.
        return {"f1": [float(s) for s in score] if average is None else float(score)}
