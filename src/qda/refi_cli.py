"""Command line for REFI-QDA exchange: ``python -m qda export|import|validate``.

* ``export --out study.qdpx [--data DIR]`` writes the study (default: the one
  :func:`qda.corpus.load_study` finds) as a REFI-QDA project; a ``.qdc`` suffix
  writes the codebook instead (``--version``, default ``final``).
* ``import FILE --out DIR [--mapping qda-project.yml]`` reads a ``.qdpx``/``.qde``/``.qdc``
  and writes the tidy tables and transcripts in the ``data/`` layout, so that
  ``load_study(DIR)`` works.
* ``validate FILE`` checks a REFI-QDA file (schema and semantics, one line per
  problem); ``validate DIR`` checks a data folder with :mod:`qda.validate`.

Each returns 0 on success and 2 on a user error; errors print as one line
``FILE: where: what is wrong; how to fix it`` (the dispatcher in ``qda.__main__``
prints any :class:`qda.errors.QDAError` that escapes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import DataError, QDAError, ValidationError


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one ``qda`` line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise DataError(f"qda {self.prog.split()[-1]}", "arguments", message, f"run `python -m qda {self.prog.split()[-1]} --help`")


def export_main(argv: list[str]) -> int:
    """``python -m qda export --out FILE.qdpx|FILE.qdc [--data DIR] [--version V]``."""
    from .corpus import load_study
    from .refi import export_codebook, export_project

    ap = _Parser(prog="qda export", description="Export the study as a REFI-QDA project (.qdpx) or codebook (.qdc).")
    ap.add_argument("--out", required=True, help="the .qdpx or .qdc file to write")
    ap.add_argument("--data", help="data folder or REFI file to export (default: the study load_study finds)")
    ap.add_argument("--version", default="final", help="codebook version for a .qdc (default: final)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in {".qdpx", ".qdc"}:
        raise DataError(out, "file name", f"has the suffix {suffix or '(none)'!r}", "end it in .qdpx (project) or .qdc (codebook)")
    study = load_study(args.data)
    # never export a project that fails structural validation: a tool would import a broken file
    # (the study-design checks of the synthetic corpus do not block an export)
    from . import validate

    validate(study, expect_design=False)
    if suffix == ".qdc":
        export_codebook(study, out, version=args.version)
        print(f"{out}: wrote the {args.version} codebook ({study.codebook['code'].nunique()} codes)")
    else:
        export_project(study, out)
        print(f"{out}: wrote {len(study.transcripts)} sources, {study.codebook['code'].nunique()} codes, "
              f"{len(study.codings)} codings, {len(study.memos)} memos")
    return 0


def import_main(argv: list[str]) -> int:
    """``python -m qda import FILE --out DIR [--mapping YML]``: write the tidy tables of a REFI-QDA file."""
    from .refi import load_project, write_study

    ap = _Parser(prog="qda import", description="Import a REFI-QDA file and write the data/ layout.")
    ap.add_argument("file", help=".qdpx, .qde or .qdc file")
    ap.add_argument("--out", required=True, help="folder to write (created; files inside are replaced atomically)")
    ap.add_argument("--mapping", help="qda-project.yml (default: QDA_MAPPING, else qda-project.yml beside FILE)")
    args = ap.parse_args(argv)
    study = load_project(args.file, args.mapping)  # all parsing and checks happen before any write
    written = write_study(study, args.out)
    missing = study.extra.get("missing_sources") or []
    print(f"{args.out}: wrote {len(written)} files ({len(study.transcripts)} transcripts, "
          f"{study.codebook['code'].nunique()} codes, {len(study.codings)} codings, {len(study.memos)} memos)")
    if missing:
        print(f"{args.file}: sources: {len(missing)} source text(s) not in the file ({', '.join(missing[:3])}"
              f"{', ...' if len(missing) > 3 else ''}); export a .qdpx that includes the sources", file=sys.stderr)
    lacking = study.extra.get("missing_participant_columns") or []
    if lacking and study.transcripts.shape[0]:
        print(f"{args.file}: participants: no variable for {', '.join(lacking)}; "
              "map your variables in qda-project.yml (see qda-project.example.yml)", file=sys.stderr)
    return 0


def validate_main(argv: list[str]) -> int:
    """``python -m qda validate FILE|DIR``: one line per problem; exit 2 if any, else 0."""
    ap = _Parser(prog="qda validate", description="Check a REFI-QDA file or a data folder.")
    ap.add_argument("path", help=".qdpx/.qde/.qdc file or data folder")
    args = ap.parse_args(argv)
    path = Path(args.path)
    if path.is_dir():
        from .corpus import load_study
        from .validate import validate_study  # written by another module owner

        try:
            validate_study(load_study(path))
        except ValidationError as err:
            for p in err.problems:
                print(p.line(), file=sys.stderr)
            return 2
        print(f"{path}: valid data folder")
        return 0
    from .refi import validate_file

    problems = validate_file(path)
    for p in problems:
        print(p.line(), file=sys.stderr)
    if problems:
        return 2
    print(f"{path}: valid REFI-QDA file")
    return 0


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - convenience
    """Run one of the three commands directly (``python -m qda.refi_cli export ...``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cmds = {"export": export_main, "import": import_main, "validate": validate_main}
    if not argv or argv[0] not in cmds:
        print("usage: python -m qda.refi_cli export|import|validate ...", file=sys.stderr)
        return 2
    try:
        return cmds[argv[0]](argv[1:])
    except QDAError as err:
        print(str(err), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
