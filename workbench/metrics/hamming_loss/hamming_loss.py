"""Hamming loss, computed with scikit-learn's `hamming_loss`: the fraction of multi-label indicator entries that
are wrong. Ships inside the workbench so it loads with no network."""

import datasets
import evaluate
from sklearn.metrics import hamming_loss

_DESCRIPTION = (
    "Hamming loss is the fraction of (row, label) entries predicted wrongly: the number of labels predicted but "
    "absent plus the number present but not predicted, divided by rows * labels."
)

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of list of int): one 0/1 indicator row per example, one entry per label.
    references (list of list of int): the true indicator rows, shaped like predictions.
Returns:
    hamming_loss (float): between 0 and 1, lower is better (0 means every entry is right).
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
class HammingLoss(evaluate.Metric):
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
            ),
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.hamming_loss.html"],
        )

    def _compute(self, predictions, references) -> dict:
        return {"hamming_loss": float(hamming_loss(references, predictions))}
