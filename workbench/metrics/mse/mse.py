"""Mean squared error (or its root), computed with scikit-learn's `mean_squared_error`.
Ships inside the workbench so it loads with no network."""

import math

import datasets
import evaluate
from sklearn.metrics import mean_squared_error

_DESCRIPTION = (
    "Mean squared error is the mean of the squared differences between predicted and true values: "
    "sum((y - y_hat) ** 2) / n. Its square root (RMSE) is in the units of the target."
)

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): predicted values.
    references (list of float): true values.
    squared (bool, default True): True gives the MSE, False its square root, the RMSE.
Returns:
    mse (float): 0 or more, lower is better (0 means every prediction is exact).
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
class Mse(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("float32"), "references": datasets.Value("float32")}
            ),
            reference_urls=[
                "https://scikit-learn.org/stable/modules/generated/sklearn.metrics.mean_squared_error.html"
            ],
        )

    def _compute(self, predictions, references, squared=True) -> dict:
        # The RMSE is taken here as the root of the MSE: newer scikit-learn removed its own `squared` argument.
        mse = float(mean_squared_error(references, predictions))
        return {"mse": mse if squared else math.sqrt(mse)}
