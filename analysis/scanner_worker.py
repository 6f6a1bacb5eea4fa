"""A long-lived cfn-lint or checkov process: imported once, then run on request.

Starting either scanner costs more than scanning a template (importing checkov takes
about 2 s, cfn-lint about 1 s), and a test session runs each a dozen times. This module
is that process: ``python -m analysis.scanner_worker cfn-lint`` reads one JSON request
per line on stdin, ``{"argv": [...]}``, runs the scanner's own command-line entry point
in-process with that argv, and answers on stdout with one JSON line
``{"code": exit code, "stdout": ..., "stderr": ...}``. It ends when stdin closes.

The answer is what the command line would have printed: the same entry point, arguments
and environment. ``tests/gates/test_scanner_worker.py`` compares the two.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import warnings
from collections.abc import Callable


def _cfn_lint() -> Callable[[list[str]], int]:
    from cfnlint.runner import main  # type: ignore[import-untyped]

    def run(argv: list[str]) -> int:
        sys.argv = ["cfn-lint", *argv]  # cfn-lint's main reads its arguments from sys.argv
        try:
            main()
        except SystemExit as done:  # the command line always ends with sys.exit
            return _exit_code(done)
        return 0

    return run


def _checkov() -> Callable[[list[str]], int]:
    from checkov.main import Checkov

    def run(argv: list[str]) -> int:
        sys.argv = ["checkov", *argv]  # checkov finds its config files from sys.argv
        scan = Checkov(argv)
        # Fresh runners for every scan: a runner keeps the templates it parsed and would
        # answer the next scan from them, whatever files that one names.
        scan.runners = [type(runner)() for runner in scan.runners]
        try:
            return scan.run() or 0
        except SystemExit as done:
            return _exit_code(done)

    return run


def _exit_code(done: SystemExit) -> int:
    if done.code is None:
        return 0
    return done.code if isinstance(done.code, int) else 1


SCANNERS: dict[str, Callable[[], Callable[[list[str]], int]]] = {"cfn-lint": _cfn_lint, "checkov": _checkov}


def serve(scanner: str) -> None:
    # Answers go out on a copy of stdout; fd 1 itself points at stderr, so nothing a
    # scanner writes past sys.stdout can break an answer.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    warnings.simplefilter("ignore", category=SyntaxWarning)  # as checkov's own launcher does
    run = SCANNERS[scanner]()
    for line in sys.stdin:
        argv = json.loads(line)["argv"]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = run(argv)
            except Exception as crash:  # reported to the caller, who raises it
                code, err = 255, io.StringIO(f"{type(crash).__name__}: {crash}")
        answers.write(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve(sys.argv[1])
