"""Accuracy: the fraction of predictions equal to the reference label, computed with scikit-learn.
A local copy of the Hub's `evaluate-metric/accuracy` so the workbench can load it with no network. Like the Hub
module, config_name="multilabel" takes 0/1 indicator rows (one entry per label) and gives subset accuracy."""

import datasets
import evaluate
from sklearn.metrics import accuracy_score

_DESCRIPTION = "Accuracy is the proportion of correct predictions among all predictions: (TP + TN) / N."

_KWARGS_DESCRIPTION = """
Load with config_name="multilabel" to score multi-label rows instead of single label ids.
Args:
    predictions (list of int, or list of list of int with "multilabel"): predicted label ids, or one 0/1
        indicator row per example (one entry per label).
    references (list of int, or list of list of int with "multilabel"): true label ids, or indicator rows.
Returns:
    accuracy (float): between 0 and 1, higher is better. For multi-label rows it is subset accuracy: the fraction
        of rows whose whole predicted row equals the reference row.
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
class Accuracy(evaluate.Metric):
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
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.accuracy_score.html"],
        )

    def _compute(self, predictions, references) -> dict:
        return {"accuracy": float(accuracy_score(references, predictions))}
