"""Command line: ``python -m qda COMMAND ...`` (also installed as ``qda``).

Each command lives in the module of its concept; this file only dispatches.
User errors (:class:`qda.errors.QDAError`) print as one line
``FILE: where: what is wrong; how to fix it`` on stderr and exit with code 2.
"""

from __future__ import annotations

import importlib
import sys

from qda.errors import QDAError, ValidationError

#: command -> (module, function, one-line help). The function takes argv (list of
#: str, without the command) and returns an exit code.
COMMANDS = {
    "generate": ("qda.synthetic.generate", "main", "regenerate the synthetic corpus (seeded, byte-identical)"),
    "validate": ("qda.cli", "validate_main", "check a REFI-QDA file or a data folder; exit 2 on errors"),
    "export": ("qda.cli", "export_main", "export the study as a REFI-QDA .qdpx project or .qdc codebook"),
    "import": ("qda.cli", "import_main", "import a REFI-QDA file and write the tidy data tables"),
    "map": ("qda.cli", "map_main", "write a starter qda-project.yml for a REFI-QDA export"),
    "check-project": ("qda.cli", "check_project_main", "check qda-project.yml against the export; exit 2 on problems"),
    "deidentify-check": ("qda.cli", "deidentify_main", "scan transcripts and memos for identifying data"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print("usage: python -m qda COMMAND [options]\n\ncommands:")
        for name, (_, _, help_) in COMMANDS.items():
            print(f"  {name:18s} {help_}")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        print(f"qda: {cmd}: unknown command; run `python -m qda --help` for the list", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[cmd]
    try:
        return int(getattr(importlib.import_module(module), func)(rest) or 0)
    except ValidationError as err:  # one line per problem, nothing else
        for problem in err.problems:
            print(problem.line(), file=sys.stderr)
        return 2
    except QDAError as err:
        print(str(err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
