"""Mean absolute error, computed with scikit-learn's `mean_absolute_error`.
Ships inside the workbench so it loads with no network."""

import datasets
import evaluate
from sklearn.metrics import mean_absolute_error

_DESCRIPTION = (
    "Mean absolute error is the mean of the absolute differences between predicted and true values: "
    "sum(|y - y_hat|) / n, in the units of the target."
)

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): predicted values.
    references (list of float): true values.
Returns:
    mae (float): 0 or more, lower is better (0 means every prediction is exact).
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
class Mae(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("float32"), "references": datasets.Value("float32")}
            ),
            reference_urls=[
                "https://scikit-learn.org/stable/modules/generated/sklearn.metrics.mean_absolute_error.html"
            ],
        )

    def _compute(self, predictions, references) -> dict:
        return {"mae": float(mean_absolute_error(references, predictions))}
