"""What the libraries print. The workbench shows its own progress (a bar and lines on the CLI, the Train tab in the
app), so its entry points, `cli.main` and `ui.launch`, quiet the libraries' progress bars and notices once at start.
"""

from __future__ import annotations

import logging


def quiet_libraries() -> None:
    import datasets
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()
    datasets.utils.logging.set_verbosity_error()
    hf_logging.disable_progress_bar()  # loading and saving bars would break the CLI's own progress display
    # the csv builder logs a parse error before raising it; csvfile.py turns the error itself into one sentence
    logging.getLogger("datasets.packaged_modules.csv.csv").setLevel(logging.CRITICAL)
