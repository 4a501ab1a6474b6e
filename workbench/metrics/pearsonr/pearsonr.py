"""Pearson correlation coefficient, computed with scipy's `scipy.stats.pearsonr`.
Ships inside the workbench so it loads with no network."""

import math

import datasets
import evaluate
from scipy.stats import pearsonr

_DESCRIPTION = (
    "Pearson's r measures how well a straight line relates predictions to true values: the covariance of the two "
    "divided by the product of their standard deviations. 1 is a perfect increasing line, -1 a decreasing one, "
    "0 no linear relation."
)

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): predicted values.
    references (list of float): true values.
Returns:
    pearsonr (float): the coefficient, between -1 and 1, higher is better. It is undefined when either input is
        constant (all values equal) or there are fewer than two rows; scipy gives NaN (or raises) then, and this
        module returns 0.0 instead, so results stay JSON-safe.
"""

_CITATION = """@article{2020SciPy-NMeth,
  author  = {Virtanen, Pauli and Gommers, Ralf and Oliphant, Travis E. and others},
  title   = {{SciPy} 1.0: Fundamental Algorithms for Scientific Computing in Python},
  journal = {Nature Methods},
  year    = {2020},
  volume  = {17},
  pages   = {261--272},
  doi     = {10.1038/s41592-019-0686-2}
}"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Pearsonr(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("float32"), "references": datasets.Value("float32")}
            ),
            reference_urls=["https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.pearsonr.html"],
        )

    def _compute(self, predictions, references) -> dict:
        # Checked first rather than caught: scipy raises below two rows and warns (then gives NaN) on constant input.
        if len(references) < 2 or len(set(references)) < 2 or len(set(predictions)) < 2:
            return {"pearsonr": 0.0}
        coefficient = float(pearsonr(references, predictions)[0])
        return {"pearsonr": 0.0 if math.isnan(coefficient) else coefficient}
