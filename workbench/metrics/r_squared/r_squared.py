"""R² (coefficient of determination), computed with scikit-learn's `r2_score`.
Ships inside the workbench so it loads with no network."""

import datasets
import evaluate
from sklearn.metrics import r2_score

_DESCRIPTION = (
    "R² is the fraction of the variance of the true values that the predictions explain: "
    "1 - sum((y - y_hat) ** 2) / sum((y - mean(y)) ** 2). 1 is perfect, 0 is no better than always predicting "
    "the mean, and it is negative for predictions worse than that."
)

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): predicted values.
    references (list of float): true values.
Returns:
    r_squared (float): at most 1, higher is better. When the references are all equal it is 1.0 for exact
        predictions and 0.0 otherwise (scikit-learn's force_finite). With fewer than two rows R² is undefined
        (scikit-learn warns and gives NaN); this module returns 0.0 then, so results stay JSON-safe.
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
class RSquared(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("float32"), "references": datasets.Value("float32")}
            ),
            reference_urls=["https://scikit-learn.org/stable/modules/generated/sklearn.metrics.r2_score.html"],
        )

    def _compute(self, predictions, references) -> dict:
        if len(references) < 2:
            return {"r_squared": 0.0}
        return {"r_squared": float(r2_score(references, predictions))}
