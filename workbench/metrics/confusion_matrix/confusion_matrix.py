"""Confusion matrix: counts of (true label, predicted label) pairs, computed with scikit-learn.
A local copy of the Hub's `evaluate-metric/confusion_matrix` so the workbench can load it with no network."""

import datasets
import evaluate
from sklearn.metrics import confusion_matrix

_DESCRIPTION = "The confusion matrix C has C[i][j] = the number of examples with true label i predicted as label j."

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of int): predicted label ids.
    references (list of int): true label ids.
    labels (list of int, optional): the label ids that index the rows and columns, in order; pass them so that
        classes absent from the data still get a row and a column.
Returns:
    confusion_matrix (list of list of int): rows are true labels, columns are predicted labels.
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
class ConfusionMatrix(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}),
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.confusion_matrix.html"],
        )

    def _compute(self, predictions, references, labels=None) -> dict:
        matrix = confusion_matrix(references, predictions, labels=labels)
        return {"confusion_matrix": [[int(count) for count in row] for row in matrix]}
