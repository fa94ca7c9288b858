"""The mapping file (qda-project.yml): how a user's project names the analysis roles; load_project."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd

from qda.errors import DataError, Problem
from qda.exchange.naming import INSTITUTION_PREFIX
from qda.io import read_yaml
from qda.study.codebook import code_tree, descendants, find_code
from qda.study.model import Study
from qda.study.schema import DEFAULT_ANALYSIS_CODES, SCHEMAS, coerce

# ---------------------------------------------------------------------------
# Mapping file (qda-project.yml) and load_project
# ---------------------------------------------------------------------------
MAPPING_FILE = "qda-project.yml"
#: Top-level keys of the mapping file. ``analysis_codes`` is the old form of ``analysis``.
MAPPING_KEYS = ("analysis", "compare_by", "themes", "coders", "participants", "analysis_codes", "project_name")
ANALYSIS_KEYS = ("code_a", "code_b", "code_b_parts")
#: The resolved mapping of a project that names nothing (see ``Study.analysis``).
EMPTY_ANALYSIS = {"code_a": "", "code_b": "", "code_b_parts": [], "compare_by": "", "themes": []}
#: A value the starter file (``python -m qda map``) leaves for the user to fill.
PLACEHOLDERS = {"", "...", "…", "?", "todo", "TODO"}
_FILL = "write one of your codes (the list is in the comments of qda-project.yml from `python -m qda map`)"


class MappingError(DataError):
    """Every problem of a mapping at once: ``str(err)`` is one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.file, first.where, first.what, first.fix)

    def line(self) -> str:
        return "\n".join(p.line() for p in self.problems)


def read_mapping(path: str | Path) -> dict:
    """Read a ``qda-project.yml`` mapping (see ``qda-project.example.yml``) with yaml.safe_load.

    Only the file's syntax is checked here; :func:`check_mapping` checks its content.
    """
    path = Path(path)
    data = read_yaml(path, "write it with `python -m qda map PROJECT` or from qda-project.example.yml") or {}
    if not isinstance(data, dict):
        raise DataError(path, "top level", "is not a mapping", "start from qda-project.example.yml")
    data["_file"] = str(path)
    return data


def _scratch(study: Study) -> Study:
    """A shallow copy whose tables and import record can be replaced without touching ``study``."""
    imported = dataclasses.replace(study.imported) if study.imported is not None else None
    return dataclasses.replace(study, imported=imported, analysis=dict(study.analysis))


def _resolve(study: Study, mapping: dict) -> tuple[Study, list[Problem], list[str]]:
    """Apply ``mapping`` to a scratch copy of ``study``: (the copy, every problem, notes)."""
    file = str(mapping.get("_file", MAPPING_FILE))
    problems: list[Problem] = []
    notes: list[str] = []

    def bad(where: str, what: str, fix: str) -> None:
        problems.append(Problem(file, where, what, fix))

    out = _scratch(study)
    unknown = sorted(set(mapping) - set(MAPPING_KEYS) - {"_file"})
    for key in unknown:
        bad(str(key), "is not a key of the mapping", f"use {', '.join(MAPPING_KEYS[:5])} (see qda-project.example.yml)")
    cb = study.codebook

    def code(where: str, target) -> str:
        if not isinstance(target, str | int | float) or str(target).strip() in PLACEHOLDERS:
            bad(where, "is not filled in", _FILL)
            return ""
        slug, why = find_code(cb, str(target))
        if slug is None:
            bad(where, why, "fix the name")
            return ""
        return slug

    spec = dict(EMPTY_ANALYSIS) if not study.synthetic else dict(study.analysis)
    roles = dict(study.analysis_codes)
    analysis = mapping.get("analysis")
    old = mapping.get("analysis_codes")
    if analysis is not None and old is not None:
        bad("analysis_codes", "is given beside analysis", "keep analysis and delete analysis_codes (its old form)")
    if analysis is not None:
        if not isinstance(analysis, dict):
            bad("analysis", "is not a mapping", "write code_a:, code_b: and optionally code_b_parts: under it")
            analysis = {}
        for key in sorted(set(analysis) - set(ANALYSIS_KEYS)):
            bad(f"analysis.{key}", "is not a key of analysis", f"use {', '.join(ANALYSIS_KEYS)}")
        spec["code_a"] = code("analysis.code_a", analysis.get("code_a"))
        spec["code_b"] = code("analysis.code_b", analysis.get("code_b"))
        parts = analysis.get("code_b_parts") or []
        parts = [parts] if isinstance(parts, str) else parts
        if not isinstance(parts, list):
            bad("analysis.code_b_parts", "is not a list", 'write it as ["...", "..."] or leave it out')
            parts = []
        spec["code_b_parts"] = [code(f"analysis.code_b_parts[{i}]", p) for i, p in enumerate(parts)]
    elif old is not None:
        if not isinstance(old, dict):
            bad("analysis_codes", "is not a mapping", "write role: code lines under it, or use analysis:")
            old = {}
        for role, target in old.items():
            if role not in DEFAULT_ANALYSIS_CODES:
                bad(f"analysis_codes.{role}", "is not an analysis role", f"use {', '.join(DEFAULT_ANALYSIS_CODES)}")
                continue
            roles[role] = code(f"analysis_codes.{role}", target) or roles[role]
        notes.append(
            f"{file}: analysis_codes: is the old form of the mapping and still works; write "
            "analysis: {code_a: ..., code_b: ..., code_b_parts: [...]} instead (see qda-project.example.yml)"
        )
        slugs = set(cb["code"].astype(str))
        pick = {r: (roles.get(r, "") if roles.get(r, "") in slugs else "") for r in DEFAULT_ANALYSIS_CODES}
        spec["code_a"], spec["code_b"] = pick["gender_inequities"], pick["mentorship"]
        spec["code_b_parts"] = [pick[r] for r in ("mentoring", "being_mentored") if pick[r]]
        if not spec["code_b"] and spec["code_b_parts"]:  # the parts' common parent stands in
            parents = set(cb.loc[cb["code"].isin(spec["code_b_parts"]), "parent"].astype(str)) - {""}
            spec["code_b"] = parents.pop() if len(parents) == 1 else ""
    if spec["code_a"] and spec["code_b"]:
        fam_a, fam_b = descendants(cb, spec["code_a"]), descendants(cb, spec["code_b"])
        both = [c for c in fam_a if c in fam_b]
        if both:
            bad(
                "analysis",
                f"code_a and code_b overlap ({both[0]!r} is in both, counting descendants)",
                "choose two codes neither of which lies below the other",
            )
        for i, p in enumerate(spec["code_b_parts"]):
            if p and (p == spec["code_b"] or p not in fam_b):
                bad(
                    f"analysis.code_b_parts[{i}]",
                    f"{p!r} is not below code_b {spec['code_b']!r}",
                    "name sub-codes of code_b, or leave code_b_parts out",
                )
    elif analysis is not None and not problems:
        bad("analysis", "names no code_a and code_b", "write both, or delete analysis")
    spec["code_b_parts"] = [p for p in spec["code_b_parts"] if p]
    themes = mapping.get("themes") or []
    themes = [themes] if isinstance(themes, str) else themes
    if not isinstance(themes, list):
        bad("themes", "is not a list", 'write it as ["...", "..."] or leave it out')
        themes = []
    spec["themes"] = [t for t in (code(f"themes[{i}]", t) for i, t in enumerate(themes)) if t]
    if analysis is not None or old is not None:
        roles["gender_inequities"] = spec["code_a"] or roles["gender_inequities"]
        roles["mentorship"] = spec["code_b"] or roles["mentorship"]
        for role, part in zip(("mentoring", "being_mentored"), spec["code_b_parts"], strict=False):
            roles[role] = part

    pmap = mapping.get("participants")
    if pmap:
        if study.imported is None or study.imported.variables is None:
            bad("participants", "the study was not imported from REFI-QDA", "remove the participants section")
        elif not isinstance(pmap, dict):
            bad("participants", "is not a mapping", "write column: {variable: NAME, values: {...}} lines")
        else:
            try:
                set_participants(out, out.imported.variables, out.imported.variable_types, pmap, file)
            except DataError as e:
                problems.append(Problem(e.file, e.where.removeprefix("mapping "), e.what, e.fix))
    compare_by = mapping.get("compare_by")
    if compare_by is not None:
        spec["compare_by"] = _compare_column(out, pmap if isinstance(pmap, dict) else {}, compare_by, bad)

    coders = mapping.get("coders")
    if coders:
        if not isinstance(coders, dict):
            bad("coders", "is not a mapping", 'write "Name in the tool": id lines under it')
        else:
            known = sorted(set(study.codings["coder"].astype(str)) | set(study.coders["coder"].astype(str)))
            for k in coders:
                if str(k) not in known:
                    bad(
                        f"coders.{k}",
                        f"no coder {str(k)!r} in the project",
                        f"use one of {', '.join(known) or '(none)'}",
                    )
            ren = {str(k): str(v) for k, v in coders.items()}
            out.codings = out.codings.assign(coder=out.codings["coder"].map(lambda c: ren.get(c, c)))
            out.memos = out.memos.assign(coder=out.memos["coder"].map(lambda c: ren.get(c, c)))
            out.coders = out.coders.assign(coder=out.coders["coder"].map(lambda c: ren.get(c, c)))
    out.analysis = spec
    out.analysis_codes = roles
    return out, problems, notes


def _compare_column(study: Study, pmap: dict, name, bad) -> str:
    """The participants column that ``compare_by`` names (a variable, or a column it was mapped to)."""
    if not isinstance(name, str) or name.strip() in PLACEHOLDERS:
        if isinstance(name, str) and not name.strip():
            return ""  # left empty on purpose: no comparison
        bad("compare_by", "is not a variable name", "write the name of a case or source variable, or leave it out")
        return ""
    name = name.strip()
    cols = study.participants.columns
    for col, spec in pmap.items():
        var = spec if isinstance(spec, str) else (spec or {}).get("variable", col)
        if name in (col, var):
            return str(col)
    if name in cols and name != "participant_id":
        filled = study.participants[name].astype(str).str.strip().ne("").any()
        if filled:
            return name
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    if slug in cols and study.participants[slug].astype(str).str.strip().ne("").any():
        return slug
    raw = study.imported.variables if study.imported is not None else None
    names = [c for c in (raw.columns if raw is not None else []) if c != "participant_id"]
    bad(
        "compare_by",
        f"no variable {name!r} in the project"
        + (f"; its variables: {', '.join(names[:8])}" if names else "; the project has no case or source variables"),
        "name one of them, or leave compare_by out",
    )
    return ""


def check_mapping(study: Study, mapping: dict | str | Path) -> list[Problem]:
    """Every problem of ``mapping`` against ``study`` (one :class:`Problem` each); nothing is changed."""
    if not isinstance(mapping, dict):
        mapping = read_mapping(mapping)
    return _resolve(study, mapping)[1]


def apply_mapping(study: Study, mapping: dict | str | Path) -> Study:
    """Apply a mapping (dict or ``qda-project.yml`` path) to an imported study, in place.

    * ``analysis``: ``code_a``, ``code_b`` (each a code standing for itself and its
      descendants) and ``code_b_parts`` (sub-codes of code_b to split by), each given as
      slug, name, or a name path ``"Parent/Child"``; ``themes``: a list of codes;
      ``compare_by``: a case or source variable. Sets ``study.analysis`` (and the four
      roles of ``study.analysis_codes``: code_a, code_b and the first two parts).
    * ``analysis_codes`` (the old form): role -> code; still read, with a note.
    * ``participants``: contract column -> ``{variable: NAME, values: {theirs: ours}}``
      (or just ``NAME``); a value without a mapping is an error, never dropped.
    * ``coders``: ``{user name: coder}`` renames coders in codings and memos.

    Every problem is found before anything changes; they raise together as one
    :class:`MappingError` (a :class:`~qda.errors.DataError`), one line each.
    """
    if not isinstance(mapping, dict):
        mapping = read_mapping(mapping)
    done, problems, notes = _resolve(study, mapping)
    if problems:
        raise MappingError(problems)
    for name in ("participants", "institutions", "codings", "memos", "coders", "analysis", "analysis_codes"):
        setattr(study, name, getattr(done, name))
    if study.imported is not None:
        study.imported.missing_participant_columns = done.imported.missing_participant_columns
        study.imported.mapping = {k: v for k, v in mapping.items() if k != "_file"}
        study.imported.notes.extend(notes)
    return study


def set_participants(study: Study, raw: pd.DataFrame, var_type: dict[str, str], pmap: dict | None, file: str) -> None:
    """Fill study.participants (and institutions) from the raw variable table (see import_project)."""
    raw = raw.copy()
    cols = SCHEMAS["participants"]
    out = pd.DataFrame({"participant_id": raw["participant_id"].astype(str)})
    used: set[str] = {"participant_id"}
    pmap = pmap or {}
    for col, spec in pmap.items():
        if col not in cols:
            raise DataError(
                file, f"mapping participants.{col}", "is not a participants column", f"use one of {', '.join(cols)}"
            )
        spec = {"variable": spec} if isinstance(spec, str) else dict(spec or {})
        var = spec.get("variable", col)
        if var not in raw.columns:
            raise DataError(
                file,
                f"mapping participants.{col}.variable",
                f"no variable {var!r} in the project",
                f"use one of {', '.join(c for c in raw.columns if c != 'participant_id') or '(none)'}",
            )
        vals = raw[var].astype(str)
        vmap = {str(k): str(v) for k, v in (spec.get("values") or {}).items()}
        if vmap:
            unmapped = sorted(set(vals) - set(vmap) - {""})
            if unmapped:
                raise DataError(
                    file,
                    f"mapping participants.{col}.values",
                    f"value(s) {', '.join(map(repr, unmapped[:5]))} of {var!r} have no mapping",
                    "add them under values:",
                )
            vals = vals.map(lambda v, vmap=vmap: vmap.get(v, v))
        out[col] = vals.to_numpy()
        used.add(var)
    auto = {re.sub(r"[^0-9a-z]+", "_", c.lower()).strip("_"): c for c in raw.columns if c not in used}
    for col in cols:
        if col not in out.columns and col in auto:
            out[col] = raw[auto[col]].astype(str).to_numpy()
            used.add(auto[col])
    missing = [c for c in cols if c not in out.columns]
    for c in missing:
        out[c] = "0" if cols[c] == "int" else ""
    typed = coerce(out[list(cols)].astype(object), "participants", Path(file))
    inst_cols = [
        c
        for c in raw.columns
        if c.startswith(INSTITUTION_PREFIX)
        and c[len(INSTITUTION_PREFIX) :] in SCHEMAS["institutions"]
        and c != "institution_id"
        and c not in used
    ]
    extras = [c for c in raw.columns if c not in used and c not in inst_cols]
    for c in extras:
        typed[c] = raw[c].astype(str).to_numpy()
    if inst_cols and "institution_id" not in missing:
        inst = pd.DataFrame({"institution_id": typed["institution_id"]})
        for c in SCHEMAS["institutions"]:
            if c != "institution_id":
                inst[c] = (
                    raw[INSTITUTION_PREFIX + c].astype(str).to_numpy() if INSTITUTION_PREFIX + c in raw.columns else ""
                )
        inst = inst[inst["institution_id"] != ""].drop_duplicates("institution_id").sort_values("institution_id")
        study.institutions = coerce(inst.astype(object), "institutions", Path(file))
    study.participants = typed
    study.imported.missing_participant_columns = [c for c in missing if c != "participant_id"]


# ---------------------------------------------------------------------------
# The starter file (python -m qda map)
# ---------------------------------------------------------------------------
def _q(text: str) -> str:
    """``text`` as a double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(str(text).split())


def starter_mapping(study: Study, project_name: str) -> str:
    """A ``qda-project.yml`` for the user to fill: the keys, then the project's codes
    (as a tree, with counts of codings), coders and variables as comments."""
    cb, c = study.codebook, study.codings
    tree = code_tree(cb)
    own = c.groupby(c["code"].astype(str)).size()
    coders = c.groupby(c["coder"].astype(str)).size()
    lines = [
        f"# qda-project.yml for {_comment(project_name)}: which of your codes the book's analysis uses.",
        "# Written by `python -m qda map`. Fill in the values, then check them with",
        f"#   python -m qda check-project {_comment(project_name)}",
        '# Write a code as its name, or as its path "Parent/Child" when two codes share a name.',
        "# A parent code (or code group) stands for itself and every code below it.",
        "",
        "analysis:",
        '  code_a: ""          # the first code of the analysis set',
        '  code_b: ""          # the second; the analysis set is where code_a and code_b co-occur',
        '  code_b_parts: []    # optional: sub-codes of code_b to split the set by, e.g. ["Giving", "Receiving"]',
        'compare_by: ""        # optional: a case or source variable to compare participants by (see below)',
        "themes: []            # optional: the codes (or groups) that hold your themes",
    ]
    if len(coders):
        lines.append('coders:               # optional: "name in your tool": the name the pages show')
        lines.extend(f"  {_q(name)}: {_q(name)}" for name in coders.index)
    n_codes = len(tree)
    lines += [
        "",
        (
            f"# Your project: {len(study.transcripts)} sources, {len(study.participants)} cases or sources "
            f"as participants, {n_codes} codes, {len(c)} codings, {len(coders)} coder(s)."
        ),
        "#",
        "# Codes, as a tree (codings of the code itself / of it and everything below it):",
    ]
    below: dict[str, int] = {}
    for code in reversed(tree["code"].tolist()):  # children come after their parent
        below[code] = int(own.get(code, 0))
    parent = dict(zip(tree["code"], tree["parent"], strict=True))
    for code in reversed(tree["code"].tolist()):
        if parent[code]:
            below[parent[code]] = below.get(parent[code], 0) + below[code]
    for code, name, path, depth, shared in tree[["code", "name", "path", "depth", "shared_name"]].itertuples(False):
        note = f"   [name shared: write {_q(path)}]" if shared else ""
        lines.append(f"#   {'  ' * int(depth)}{_comment(name)} ({int(own.get(code, 0))} / {below[code]}){note}")
    if not n_codes:
        lines.append("#   (none)")
    lines += ["#", "# Coders (codings):"]
    lines += [f"#   {_comment(k)} ({v})" for k, v in coders.items()] or ["#   (none)"]
    lines += ["#", "# Variables of cases or sources (values), for compare_by:"]
    raw = study.imported.variables if study.imported is not None else None
    names = [col for col in (raw.columns if raw is not None else []) if col != "participant_id"]
    for col in names:
        values = sorted({str(v) for v in raw[col] if str(v).strip()})
        more = ", ..." if len(values) > 6 else ""
        lines.append(f"#   {_comment(col)}: {', '.join(_comment(v) for v in values[:6])}{more}")
    if not names:
        lines.append("#   (none: the project has no case or source variables, so leave compare_by empty)")
    return "\n".join(lines) + "\n"
