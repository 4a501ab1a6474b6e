"""Run many `python -m workbench ...` commands in one process, so that torch is imported once rather than once per
file: each command gets what `python -m workbench ARGS` would give (its stdout, its stderr with any traceback that
escaped, its exit status). Usage: `python tests/corpus/run_cli.py COMMANDS.json RESULTS.json`."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import traceback

from workbench.cli import main


def run(argv: list[str]) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own errors
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # what Python itself would print for an exception that escapes main()
            traceback.print_exc()
            code = 1
    return {"argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


if __name__ == "__main__":
    commands_file, results_file = sys.argv[1:3]
    with open(commands_file, encoding="utf-8") as handle:
        commands = json.load(handle)
    with open(results_file, "w", encoding="utf-8") as handle:
        json.dump({name: run(argv) for name, argv in commands.items()}, handle)
