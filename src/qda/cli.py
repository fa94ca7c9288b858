"""The commands of ``python -m qda``: export, import, validate, map, check-project (REFI-QDA) and deidentify-check.

* ``export --out study.qdpx [--data DIR]`` writes the study (default: the one
  :func:`qda.load_study` finds) as a REFI-QDA project; a ``.qdc`` suffix
  writes the codebook instead (``--version``, default ``final``).
* ``import FILE --out DIR [--mapping qda-project.yml] [--force]`` reads a
  ``.qdpx``/``.qde``/``.qdc`` and writes the tidy tables and transcripts in the ``data/``
  layout, so that ``load_study(DIR)`` works; ``DIR`` must be new, empty or an earlier
  import of the same file unless ``--force`` (see :mod:`qda.exchange.datafolder`).
* ``map FILE`` writes a starter ``qda-project.yml`` beside the export (the project's codes
  as a tree with counts of codings, its coders and variables as comments);
  ``check-project FILE`` checks the mapping against the project, one line per problem.
* ``validate FILE`` checks a REFI-QDA file (schema and semantics, one line per
  problem); ``validate DIR`` checks a data folder with :mod:`qda.validate`.

Each returns 0 on success and 2 on a user error; errors print as one line
``FILE: where: what is wrong; how to fix it`` (the dispatcher in ``qda.__main__``
prints any :class:`qda.errors.QDAError` that escapes).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from qda import load_study
from qda.analysis.mapped import what_it_holds
from qda.errors import DataError, ValidationError
from qda.exchange.datafolder import check_out_folder, write_study
from qda.exchange.mapping import MAPPING_FILE, apply_mapping, check_mapping, read_mapping, starter_mapping
from qda.exchange.read import import_project, load_project, validate_file
from qda.exchange.write import export_codebook, export_project, not_carried
from qda.io import write_text_atomic
from qda.study.deidentify import INSTITUTIONS_FILE, NAMES_FILE, read_list, scan
from qda.study.deidentify_review import read_reviewed, review_file, reviewed_path, unreviewed
from qda.study.validation import validate_study


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one ``qda`` line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise DataError(
            f"qda {self.prog.split()[-1]}", "arguments", message, f"run `python -m qda {self.prog.split()[-1]} --help`"
        )


def export_main(argv: list[str]) -> int:
    """``python -m qda export --out FILE.qdpx|FILE.qdc [--data DIR] [--version V]``."""

    ap = _Parser(prog="qda export", description="Export the study as a REFI-QDA project (.qdpx) or codebook (.qdc).")
    ap.add_argument("--out", required=True, help="the .qdpx or .qdc file to write")
    ap.add_argument("--data", help="data folder or REFI file to export (default: the study load_study finds)")
    ap.add_argument("--version", default="final", help="codebook version for a .qdc (default: final)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in {".qdpx", ".qdc"}:
        raise DataError(
            out, "file name", f"has the suffix {suffix or '(none)'!r}", "end it in .qdpx (project) or .qdc (codebook)"
        )
    study = load_study(args.data)
    # never export a project that fails structural validation: a tool would import a broken file
    # (the study-design checks of the synthetic corpus do not block an export)
    validate_study(study, expect_design=False)
    if suffix == ".qdc":
        export_codebook(study, out, version=args.version)
        print(f"{out}: wrote the {args.version} codebook ({study.codebook['code'].nunique()} codes)")
    else:
        export_project(study, out)
        print(
            f"{out}: wrote {len(study.transcripts)} sources, {study.codebook['code'].nunique()} codes, "
            f"{len(study.codings)} codings, {len(study.memos)} memos"
            + (f", {len(study.themes)} theme assignments" if len(study.themes) else "")
        )
        for what in not_carried(study):
            print(f"{out}: not carried (REFI-QDA has no place for it): {what}", file=sys.stderr)
    return 0


def import_main(argv: list[str]) -> int:
    """``python -m qda import FILE --out DIR [--mapping YML] [--force]``: write the tidy tables of a REFI-QDA file."""

    ap = _Parser(prog="qda import", description="Import a REFI-QDA file and write the data/ layout.")
    ap.add_argument("file", help=".qdpx, .qde or .qdc file")
    ap.add_argument(
        "--out",
        required=True,
        help="folder to write: new, empty, or an earlier import of the same file (replaced whole)",
    )
    ap.add_argument("--mapping", help="qda-project.yml (default: QDA_MAPPING, else qda-project.yml beside FILE)")
    ap.add_argument("--force", action="store_true", help="replace an --out folder that holds anything else")
    args = ap.parse_args(argv)
    check_out_folder(Path(args.out), Path(args.file), args.force)  # before the (possibly long) import
    study = load_project(args.file, args.mapping)  # all parsing and checks happen before any write
    written = write_study(study, args.out, source=args.file, force=args.force)
    missing = study.imported.missing_sources if study.imported else []
    print(
        f"{args.out}: wrote {len(written)} files ({len(study.transcripts)} transcripts, "
        f"{study.codebook['code'].nunique()} codes, {len(study.codings)} codings, {len(study.memos)} memos"
        + (f", {len(study.themes)} theme assignments" if len(study.themes) else "")
        + ")"
    )
    for note in study.imported.notes if study.imported else []:
        print(note, file=sys.stderr)
    if missing:
        print(
            f"{args.file}: sources: {len(missing)} source text(s) not in the file ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}); export a .qdpx that includes the sources",
            file=sys.stderr,
        )
    lacking = study.imported.missing_participant_columns if study.imported else []
    if lacking and study.transcripts.shape[0]:
        print(
            f"{args.file}: participants: no variable for {', '.join(lacking)}; "
            "map your variables in qda-project.yml (see qda-project.example.yml)",
            file=sys.stderr,
        )
    return 0


def validate_main(argv: list[str]) -> int:
    """``python -m qda validate FILE|DIR``: one line per problem; exit 2 if any, else 0."""
    ap = _Parser(prog="qda validate", description="Check a REFI-QDA file or a data folder.")
    ap.add_argument("path", help=".qdpx/.qde/.qdc file or data folder")
    args = ap.parse_args(argv)
    path = Path(args.path)
    if path.is_dir():
        try:
            validate_study(load_study(path))
        except ValidationError as err:
            for p in err.problems:
                print(p.line(), file=sys.stderr)
            return 2
        print(f"{path}: valid data folder")
        return 0

    problems = validate_file(path)
    for p in problems:
        print(p.line(), file=sys.stderr)
    if problems:
        return 2
    print(f"{path}: valid REFI-QDA file")
    return 0


def _display_file(root: Path | None, file: str) -> str:
    if root is None:
        return file
    if root.is_dir() and not Path(file).is_absolute():
        return str(root / file)
    return str(root) if file == root.name else f"{root}!{file}"


def deidentify_main(argv: list[str] | None = None) -> int:
    """``python -m qda deidentify-check [PROJECT] [--names FILE] [--institutions FILE] [--reviewed FILE] [--gate] [--write-review]``.

    Prints one line per unreviewed finding, ``FILE: where: kind 'match' found; review
    it or remove it (then list it in deidentify-reviewed.yml)``, and returns 2 if there
    is any, else 0. ``--gate`` (used by ``make book``) adds a summary line saying the
    book will not be built. PROJECT: a data folder or a ``.qdpx``/``.qde`` file
    (default: the repository's ``data/``). Without ``--names``/``--institutions``,
    ``deidentify-names.txt``/``deidentify-institutions.txt`` beside the project are used
    if present. ``--write-review`` writes every finding into the reviewed file (existing
    entries kept) with ``status: unreviewed``, for the user to confirm one by one; the
    gate counts only entries whose status is ``reviewed``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m qda deidentify-check",
        description="Scan transcripts and memos for identifying data (names, e-mails, phones, "
        "institutions, dates, URLs). Exit 2 if a finding is not listed in deidentify-reviewed.yml.",
    )
    parser.add_argument("project", nargs="?", help="data folder or .qdpx/.qde file (default: data/)")
    parser.add_argument("--names", help="extra person names, one a line")
    parser.add_argument("--institutions", help="extra institution names, one a line")
    parser.add_argument("--reviewed", help="reviewed findings (default: deidentify-reviewed.yml beside the project)")
    parser.add_argument("--gate", action="store_true", help="add the summary line of `make book`")
    parser.add_argument(
        "--write-review",
        action="store_true",
        help="write every finding to the reviewed file (default deidentify-reviewed.yml) marked unreviewed",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse printed its message already
        return 0 if e.code == 0 else 2

    refi = args.project is not None and Path(args.project).suffix.lower() in (".qdpx", ".qde", ".qdc")
    study = import_project(args.project) if refi else load_study(args.project)  # the mapping plays no part
    root = Path(study.root) if study.root is not None else Path(args.project or ".")
    here = root if root.is_dir() else root.parent
    names_file = Path(args.names) if args.names else (here / NAMES_FILE if (here / NAMES_FILE).is_file() else None)
    inst_file = (
        Path(args.institutions)
        if args.institutions
        else (here / INSTITUTIONS_FILE if (here / INSTITUTIONS_FILE).is_file() else None)
    )
    names = read_list(names_file) if names_file else []
    institutions = read_list(inst_file) if inst_file else []
    rev_path = Path(args.reviewed) if args.reviewed else reviewed_path(root)
    reviewed = read_reviewed(rev_path)

    findings = scan(study, names=names, institutions=institutions)
    if args.write_review:
        existing = rev_path.read_text(encoding="utf-8") if rev_path.is_file() else None
        write_text_atomic(rev_path, review_file(findings, existing))
        reviewed = read_reviewed(rev_path)
        todo = unreviewed(findings, reviewed)
        print(
            f"{rev_path}: wrote {len(findings)} finding(s), {len(todo)} marked unreviewed; for each, remove the "
            "text from your project or set its status to reviewed, then build"
        )
        return 0
    todo = unreviewed(findings, reviewed)
    for f, loc, kind, match in zip(todo["file"], todo["location"], todo["kind"], todo["match"], strict=False):
        print(
            f"{_display_file(root, f)}: {loc}: {kind} {match!r} found; "
            f"review it or remove it (then list it in {rev_path.name})"
        )
    n_rev = len(findings) - len(todo)
    if len(todo):
        summary = (
            f"deidentify-check: {len(todo)} unreviewed finding(s) in {root} ({n_rev} reviewed); "
            f"remove each or list it (file, kind, match) in {rev_path} "
            "(`python -m qda deidentify-check --write-review PROJECT` lists them all for you)"
        )
        if args.gate:
            summary += "; the book will not be built until then"
        print(summary, file=sys.stderr)
        return 2
    print(
        f"deidentify-check: no unreviewed identifying data in {root} ({len(findings)} finding(s), all reviewed)",
        file=sys.stderr if args.gate else sys.stdout,
    )
    return 0


def _mapping_path(project: Path) -> Path:
    """The mapping of ``project``: QDA_MAPPING if set, else qda-project.yml beside it."""
    env = os.environ.get("QDA_MAPPING")
    return Path(env) if env else project.parent / MAPPING_FILE


def map_main(argv: list[str]) -> int:
    """``python -m qda map PROJECT [--out FILE] [--force]``: write a starter qda-project.yml."""
    ap = _Parser(prog="qda map", description="Write a starter qda-project.yml for a REFI-QDA export.")
    ap.add_argument("project", help="the .qdpx or .qde export")
    ap.add_argument("--out", help="file to write (default: qda-project.yml beside the export)")
    ap.add_argument("--force", action="store_true", help="replace an existing file")
    args = ap.parse_args(argv)
    project = Path(args.project)
    out = Path(args.out) if args.out else project.parent / MAPPING_FILE
    if out.exists() and not args.force:
        raise DataError(out, "file", "exists already", "edit it, or pass --force to replace it with a new starter")
    study = import_project(project)  # no mapping: the starter lists the project as it is
    write_text_atomic(out, starter_mapping(study, project.name))
    print(
        f"{out}: wrote a starter mapping ({len(study.codebook)} codes, "
        f"{study.codings['coder'].nunique()} coder(s)); fill in analysis (and optionally compare_by, themes), "
        f"then run `python -m qda check-project {project}`"
    )
    return 0


def check_project_main(argv: list[str]) -> int:
    """``python -m qda check-project PROJECT``: check the mapping against the project; one line per problem, exit 2."""
    ap = _Parser(prog="qda check-project", description="Check qda-project.yml against the export before a build.")
    ap.add_argument("project", help="the .qdpx or .qde export")
    args = ap.parse_args(argv)
    project = Path(args.project)
    if not project.is_file():
        raise DataError(project, "file", "does not exist", "export your project as .qdpx and give its path")
    study = import_project(project)
    mapping = _mapping_path(project)
    if not mapping.is_file():
        if study.synthetic:
            print(f"{project}: an export of the synthetic corpus; no mapping needed")
            return 0
        print(
            f"{mapping}: file: does not exist; run `python -m qda map {project}`, "
            "fill in its analysis section, then run check-project again",
            file=sys.stderr,
        )
        return 2
    problems = check_mapping(study, read_mapping(mapping))
    for p in problems:
        print(p.line(), file=sys.stderr)
    if problems:
        return 2
    apply_mapping(study, mapping)
    for note in study.imported.notes if study.imported else []:
        print(note, file=sys.stderr)
    holds = what_it_holds(study)
    built = ", ".join(holds.loc[holds["built"], "page"])
    skipped = "; ".join(f"{p} ({why})" for p, why in holds.loc[~holds["built"], ["page", "why"]].itertuples(False))
    print(
        f"{mapping}: the mapping fits {project.name}; pages on your data: {built}"
        + (f"; not built: {skipped}" if skipped else "")
    )
    return 0
