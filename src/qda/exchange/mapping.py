"""The mapping file (qda-project.yml): how a user's project names the analysis roles; load_project."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from qda.errors import DataError
from qda.exchange.naming import INSTITUTION_PREFIX
from qda.io import read_yaml
from qda.study.model import Study
from qda.study.schema import DEFAULT_ANALYSIS_CODES, SCHEMAS, coerce

# ---------------------------------------------------------------------------
# Mapping file (qda-project.yml) and load_project
# ---------------------------------------------------------------------------
MAPPING_FILE = "qda-project.yml"


def read_mapping(path: str | Path) -> dict:
    """Read a ``qda-project.yml`` mapping (see ``qda-project.example.yml``) with yaml.safe_load."""
    path = Path(path)
    data = read_yaml(path, "write it from qda-project.example.yml") or {}
    if not isinstance(data, dict):
        raise DataError(path, "top level", "is not a mapping", "start from qda-project.example.yml")
    unknown = set(data) - {"analysis_codes", "participants", "coders", "project_name"}
    if unknown:
        raise DataError(
            path,
            "top level",
            f"unknown key(s) {', '.join(sorted(unknown))}",
            "use analysis_codes, participants, coders (see qda-project.example.yml)",
        )
    data["_file"] = str(path)
    return data


def apply_mapping(study: Study, mapping: dict | str | Path) -> Study:
    """Apply a mapping (dict or ``qda-project.yml`` path) to an imported study, in place.

    * ``analysis_codes``: role -> the user's code, given as slug, name, or a name path
      ``"Parent/Child"``; sets ``study.analysis_codes`` (roles not given keep their
      default slug, which must then exist or is left for the chapter to report).
    * ``participants``: contract column -> ``{variable: NAME, values: {theirs: ours}}``
      (or just ``NAME``); a value without a mapping is an error, never dropped.
    * ``coders``: ``{user name: coder}`` renames coders in codings and memos.
    """
    if not isinstance(mapping, dict):
        mapping = read_mapping(mapping)
    file = mapping.get("_file", MAPPING_FILE)
    cb = study.codebook
    by_name: dict[str, list[str]] = {}
    paths: dict[str, str] = {}
    parent = dict(zip(cb["code"], cb["parent"], strict=False))
    names = dict(zip(cb["code"], cb["name"], strict=False))
    for slug in cb["code"]:
        chain, cur = [], slug
        while cur and cur in names and len(chain) < 100:
            chain.append(names[cur])
            cur = parent.get(cur, "")
        paths["/".join(reversed(chain)).lower()] = slug
        by_name.setdefault(str(names[slug]).strip().lower(), []).append(slug)
    roles = dict(study.analysis_codes)
    for role, target in (mapping.get("analysis_codes") or {}).items():
        if role not in DEFAULT_ANALYSIS_CODES:
            raise DataError(
                file, f"analysis_codes.{role}", "is not an analysis role", f"use {', '.join(DEFAULT_ANALYSIS_CODES)}"
            )
        t = str(target).strip()
        if t in set(cb["code"]):
            roles[role] = t
        elif t.lower() in paths:
            roles[role] = paths[t.lower()]
        elif len(by_name.get(t.lower(), [])) == 1:
            roles[role] = by_name[t.lower()][0]
        elif len(by_name.get(t.lower(), [])) > 1:
            raise DataError(
                file,
                f"analysis_codes.{role}",
                f"{t!r} names {len(by_name[t.lower()])} codes",
                'write the code\'s path, e.g. "Parent/Child"',
            )
        else:
            raise DataError(
                file,
                f"analysis_codes.{role}",
                f"no code {t!r} in the project",
                'write a code name, its path "Parent/Child" or its slug as shown by `python -m qda import`',
            )
    study.analysis_codes = roles
    if mapping.get("participants"):
        raw = study.imported.variables if study.imported else None
        if raw is None:
            raise DataError(
                file, "participants", "the study was not imported from REFI-QDA", "remove the participants section"
            )
        set_participants(study, raw, study.imported.variable_types, mapping["participants"], file)
    if mapping.get("coders"):
        ren = {str(k): str(v) for k, v in mapping["coders"].items()}
        study.codings["coder"] = study.codings["coder"].map(lambda c: ren.get(c, c))
        study.memos["coder"] = study.memos["coder"].map(lambda c: ren.get(c, c))
        study.coders["coder"] = study.coders["coder"].map(lambda c: ren.get(c, c))
    if study.imported is not None:
        study.imported.mapping = {k: v for k, v in mapping.items() if k != "_file"}
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
