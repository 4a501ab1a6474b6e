"""Spearman rank correlation coefficient, computed with scipy's `scipy.stats.spearmanr`.
Ships inside the workbench so it loads with no network."""

import math

import datasets
import evaluate
from scipy.stats import spearmanr

_DESCRIPTION = (
    "Spearman's rho is Pearson's r computed on the ranks of the values: it measures how well predictions put the "
    "rows in the order of the true values, whatever the scale. 1 is the same order, -1 the reverse, 0 no "
    "monotonic relation."
)

_KWARGS_DESCRIPTION = """
Args:
    predictions (list of float): predicted values.
    references (list of float): true values.
Returns:
    spearmanr (float): the coefficient, between -1 and 1, higher is better. It is undefined when either input is
        constant (all values equal) or there are fewer than two rows; scipy gives NaN then, and this
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
class Spearmanr(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("float32"), "references": datasets.Value("float32")}
            ),
            reference_urls=["https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.spearmanr.html"],
        )

    def _compute(self, predictions, references) -> dict:
        # Checked first rather than caught: scipy warns and gives NaN for constant input or a single row.
        if len(references) < 2 or len(set(references)) < 2 or len(set(predictions)) < 2:
            return {"spearmanr": 0.0}
        coefficient = float(spearmanr(references, predictions)[0])
        return {"spearmanr": 0.0 if math.isnan(coefficient) else coefficient}
