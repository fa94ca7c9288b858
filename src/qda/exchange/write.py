"""Writing REFI-QDA: the project (.qdpx) and codebook (.qdc) exports.

What a project export carries and what it cannot (REFI-QDA 1.5 has no place for it):

* carried: users, the coders' roles (a ``Note`` named ``Coder role: <coder>``, since a
  ``User`` has no description in Project.xsd), each code's latest text and history
  lines, code groups (``Set``), cases and variables, sources, codings, memos (``Note``),
  theme assignments (codes below a root code marked :data:`~qda.exchange.naming.THEMES_ROOT`);
* not carried: earlier codebook versions (only each code's latest text; a ``.qdc`` per
  version carries them one at a time) and the reconciliation log (:func:`not_carried`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from qda.errors import DataError, ReferenceIntegrityError, RefiError
from qda.exchange.naming import (
    INSTITUTION_PREFIX,
    ROLE_NOTE,
    SYNTHETIC_MARKER,
    THEMES_ROOT,
    _labelled_text,
    code_description,
    make_guid,
    origin,
    slugify,
)
from qda.exchange.safety import NS_CODEBOOK, NS_PROJECT, tree_schema_errors
from qda.io import atomic_write
from qda.study.model import Study


class _Guids:
    def __init__(self, study: Study):
        self.known = study.imported.guids if study.imported else {}

    def __call__(self, kind: str, key: str) -> str:
        return self.known.get(f"{kind}:{key}") or make_guid(kind, key)


class _Xml:
    """Makes lxml elements in one namespace (passed explicitly, never held as global state)."""

    def __init__(self, ns: str):
        self.ns = ns

    def __call__(self, parent: Any, tag: str, text: str | None = None, **attrs: Any) -> Any:
        """One element; empty attributes are left out."""
        a = {k: str(v) for k, v in attrs.items() if v is not None and v != ""}
        if parent is None:
            el = etree.Element(f"{{{self.ns}}}{tag}", a, nsmap={None: self.ns})
        else:
            el = etree.SubElement(parent, f"{{{self.ns}}}{tag}", a)
        if text is not None:
            el.text = text
        return el


def _version_rank(versions: Iterable[str]) -> list[str]:
    vs = list(dict.fromkeys(str(v) for v in versions))
    return [v for v in vs if v != "final"] + (["final"] if "final" in vs else [])


def codes_for_export(study: Study, version: str | None) -> pd.DataFrame:
    """One row per code: the given version's rows, or (None) each code's latest version."""
    cb = study.codebook.copy()
    if cb.empty:
        return cb
    cb["version"] = cb["version"].astype(str)
    if version is not None:
        sel = cb[cb["version"] == version]
        if sel.empty:
            raise DataError(
                "codebook",
                f"version {version!r}",
                "does not exist",
                f"use one of {', '.join(_version_rank(cb['version']))}",
            )
        return sel.drop_duplicates("code").reset_index(drop=True)
    rank = {v: i for i, v in enumerate(_version_rank(cb["version"]))}
    first = {c: i for i, c in enumerate(dict.fromkeys(cb["code"]))}
    cb["_r"] = cb["version"].map(rank)
    latest = cb.sort_values("_r", kind="stable").drop_duplicates("code", keep="last")
    latest = latest.assign(_o=latest["code"].map(first)).sort_values("_o", kind="stable")
    return latest.drop(columns=["_r", "_o"]).reset_index(drop=True)


_RGB = re.compile(r"^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$")


def _code_tree(codes: pd.DataFrame) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Rows by slug and children by parent slug; a missing parent or a parent cycle is an error."""
    rows = {r["code"]: r for _, r in codes.iterrows()}
    kids: dict[str, list[str]] = {}
    for s in rows:
        p = str(rows[s]["parent"] or "")
        if p and p not in rows:
            raise ReferenceIntegrityError(
                "codebook", f"code {s!r}", f"has parent {p!r}, which is not a code", "fix the parent or add the code"
            )
        kids.setdefault(p, []).append(s)
    reached = set()
    stack = list(kids.get("", []))
    while stack:
        s = stack.pop()
        reached.add(s)
        stack.extend(kids.get(s, []))
    cyclic = [s for s in rows if s not in reached]
    if cyclic:
        raise DataError(
            "codebook", f"code {cyclic[0]!r}", "is its own ancestor (a parent cycle)", "fix the parent column"
        )
    return rows, kids


def _codebook_xml(
    E: _Xml, parent: Any, codes: pd.DataFrame, guid: _Guids, note_refs: dict[str, list[str]], project: bool
) -> dict[str, str]:
    """Nested <Code> elements under ``parent`` (a <Codes>), without recursion; returns slug -> GUID."""
    rows, kids = _code_tree(codes)
    out: dict[str, str] = {}
    stack = [(parent, s) for s in reversed(kids.get("", []))]
    while stack:
        under, slug = stack.pop()
        r = rows[slug]
        g = out[slug] = guid("code", slug)
        color = str(r.get("color") or "")
        name = str(r["name"] or slug)
        el = E(under, "Code", guid=g, name=name, isCodable="true", color=color if _RGB.match(color) else None)
        desc = code_description(r, with_id=slugify(name) != slug)
        if desc:
            E(el, "Description", desc)
        if project:
            for n in note_refs.get(slug, []):
                E(el, "NoteRef", targetGUID=n)
        stack.extend((el, k) for k in reversed(kids.get(slug, [])))
    return out


def _sets_xml(E: _Xml, parent: Any, codes: pd.DataFrame, code_guid: dict[str, str], guid: _Guids, project: bool):
    groups: dict[str, list[str]] = {}
    for slug, grp in zip(codes["code"], codes["code_group"], strict=False):
        if str(grp):
            groups.setdefault(str(grp), []).append(slug)
    if not groups:
        return
    sets = E(parent, "Sets")
    for grp, members in groups.items():
        s = E(sets, "Set", guid=guid("set", grp), name=grp)
        for m in members:
            if project:
                E(s, "MemberCode", targetGUID=code_guid[m])
            else:
                E(s, "MemberCode", guid=code_guid[m])


def _serialise(root: Any) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _check_own(root: Any, kind: str) -> None:
    """Validate our own output tree (no re-parse, so no parser depth limit applies)."""
    errs = tree_schema_errors(root, kind)
    if errs:  # our own output: a bug, but say where
        line, msg = errs[0]
        raise RefiError(
            f"<export {kind}>",
            f"line {line}",
            f"fails {kind.title()}.xsd ({msg})",
            "report this bug with the study that produced it",
        )


def codebook_xml(study: Study, version: str = "final") -> bytes:
    """The ``.qdc`` XML (Codebook.xsd) of one codebook version: codes, hierarchy, colours, Sets."""
    return _serialise(_codebook_tree(study, version))


def _codebook_tree(study: Study, version: str) -> Any:
    E = _Xml(NS_CODEBOOK)
    guid = _Guids(study)
    root = E(None, "CodeBook", origin=origin())
    codes = codes_for_export(study, version)
    if codes.empty:
        raise DataError("codebook", "table", "has no codes", "add codes before exporting a codebook")
    code_guid = _codebook_xml(E, E(root, "Codes"), codes, guid, {}, project=False)
    _sets_xml(E, root, codes, code_guid, guid, project=False)
    return root


def _var_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "Boolean"
    if pd.api.types.is_integer_dtype(series):
        return "Integer"
    return "Text"


def _fmt_value(v: Any, typ: str) -> str:
    if typ == "Boolean":
        return "true" if bool(v) else "false"
    if typ == "Integer":
        return str(int(v))
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


# ---------------------------------------------------------------------------
# The project, one function per part
# ---------------------------------------------------------------------------
def _users(E: _Xml, root: Any, study: Study, guid: _Guids) -> dict[str, str]:
    known = list(study.coders["coder"])
    others = set(study.codings["coder"]) | set(study.themes["coder"]) | (set(study.memos["coder"]) - {""})
    coders = list(dict.fromkeys([*known, *sorted(others - set(known))]))
    user = {c: guid("user", c) for c in coders}
    if coders:
        users = E(root, "Users")
        for c in coders:
            E(users, "User", guid=user[c], name=c)
    return user


def _memo_refs(study: Study, guid: _Guids):
    note_guid = {m: guid("note", m) for m in study.memos["memo_id"]}
    code_notes: dict[str, list[str]] = {}
    coding_notes: dict[str, list[str]] = {}
    project_notes: list[str] = []
    for mid, kind, code, cid in zip(
        study.memos["memo_id"], study.memos["attached_to"], study.memos["code"], study.memos["coding_id"], strict=False
    ):
        if str(kind) == "code":
            code_notes.setdefault(str(code), []).append(note_guid[mid])
        elif str(kind) == "coding":
            coding_notes.setdefault(str(cid), []).append(note_guid[mid])
        else:
            project_notes.append(note_guid[mid])
    return note_guid, code_notes, coding_notes, project_notes


def _theme_codes(E: _Xml, codes_el: Any, study: Study, guid: _Guids) -> dict[tuple[int, str], str]:
    """Theme assignments as codes: a root code, one code per theme, one below it per subtheme."""
    th = study.themes
    if th.empty:
        return {}
    root = E(codes_el, "Code", guid=guid("themes", "root"), name="Themes", isCodable="false")
    E(root, "Description", THEMES_ROOT)
    out: dict[tuple[int, str], str] = {}
    pairs = th[["theme", "theme_name", "subtheme"]].drop_duplicates()
    pairs = pairs.sort_values(["theme", "subtheme"], kind="stable")
    for theme, grp in pairs.groupby("theme", sort=True):
        name = str(grp["theme_name"].iloc[0])
        g = out[(int(theme), "")] = guid("theme", f"{int(theme)}|")
        el = E(root, "Code", guid=g, name=f"Theme {int(theme)}: {name}", isCodable="true")
        E(el, "Description", _labelled_text([("Theme", str(int(theme))), ("Theme name", name)]))
        for sub in grp["subtheme"].astype(str):
            if sub:
                sg = out[(int(theme), sub)] = guid("theme", f"{int(theme)}|{sub}")
                sub_el = E(el, "Code", guid=sg, name=sub, isCodable="true")
                E(sub_el, "Description", _labelled_text([("Theme", str(int(theme))), ("Subtheme", sub)]))
    return out


def _cases(E: _Xml, root: Any, study: Study, guid: _Guids, src_guid: dict[str, str]) -> None:
    p, tr, inst = study.participants, study.transcripts, study.institutions
    var_cols = [c for c in p.columns if c != "participant_id"]
    var_types = {c: _var_type(p[c]) for c in var_cols}
    inst_cols = (
        [c for c in inst.columns if c != "institution_id"] if len(inst) and "institution_id" in p.columns else []
    )
    inst_rows = inst.set_index("institution_id").to_dict("index") if inst_cols else {}
    all_vars = var_cols + [INSTITUTION_PREFIX + c for c in inst_cols]
    var_guid = {v: guid("variable", v) for v in all_vars}
    if not len(p):
        return
    if all_vars:
        variables = E(root, "Variables")
        for v in all_vars:
            E(variables, "Variable", guid=var_guid[v], name=v, typeOfVariable=var_types.get(v, "Text"))
    cases = E(root, "Cases")
    by_pid = tr.groupby("participant_id", sort=True)["transcript_id"].apply(list).to_dict()
    for _, row in p.iterrows():
        pid = str(row["participant_id"])
        case = E(cases, "Case", guid=guid("case", pid), name=pid)
        values = [(v, row[v], var_types[v]) for v in var_cols]
        irow = inst_rows.get(row.get("institution_id"), {})
        values += [(INSTITUTION_PREFIX + c, irow.get(c, ""), "Text") for c in inst_cols]
        for v, val, typ in values:
            if not isinstance(val, str) and pd.isna(val):
                continue  # a value not recorded is left out, not written as 0 or "nan"
            vv = E(case, "VariableValue")
            E(vv, "VariableRef", targetGUID=var_guid[v])
            E(vv, f"{typ}Value", _fmt_value(val, typ))
        for t in sorted(by_pid.get(pid, [])):
            E(case, "SourceRef", targetGUID=src_guid[t])


def _selection(E: _Xml, src: Any, kind: str, key: str, s: int, e: int, user: str | None, desc, code: str, guid):
    sel = E(
        src,
        "PlainTextSelection",
        guid=guid(f"{kind}selection", key),
        name=key,
        startPosition=s,
        endPosition=e,
        creatingUser=user,
    )
    E(sel, "Description", _labelled_text(desc))
    cod = E(sel, "Coding", guid=guid(f"{kind}coding", key), creatingUser=user)
    E(cod, "CodeRef", targetGUID=code)
    return sel


def _check_span(table: str, key: str, s: int, e: int, t: str, n: int) -> None:
    if not 0 <= s < e <= n:
        raise DataError(
            table,
            f"{key}",
            f"offsets {s}-{e} do not fit transcript {t} ({n} characters)",
            "fix start/end (end is exclusive)",
        )


def _sources(E: _Xml, root: Any, study: Study, guid: _Guids, user, code_guid, theme_guid, coding_notes, src_guid):
    codings, tr, th = study.codings, study.transcripts, study.themes
    members: dict[str, str] = {}
    if not len(tr):
        return members
    sources = E(root, "Sources")
    by_t = dict(tuple(codings.groupby("transcript_id", sort=False))) if len(codings) else {}
    th_by_t = dict(tuple(th.groupby("transcript_id", sort=False))) if len(th) else {}
    texts = study.texts()
    for t in sorted(tr["transcript_id"]):
        text = texts[t]
        g = src_guid[t]
        src = E(sources, "TextSource", guid=g, name=t, plainTextPath=f"internal://{g}.txt")
        members[f"sources/{g}.txt"] = text
        cs = by_t.get(t)
        if cs is not None:
            for _, c in cs.sort_values(["start", "end", "coding_id"], kind="stable").iterrows():
                cid, s, e = str(c["coding_id"]), int(c["start"]), int(c["end"])
                _check_span("codings", f"coding {cid}", s, e, t, len(text))
                if str(c["code"]) not in code_guid:
                    raise ReferenceIntegrityError(
                        "codings",
                        f"coding {cid}",
                        f"code {c['code']!r} is not in the codebook",
                        "add the code to the codebook or fix the coding",
                    )
                desc = [
                    ("Coding ID", cid),
                    ("Round", str(c["round"])),
                    ("Codebook version", str(c["codebook_version"])),
                ]
                sel = _selection(
                    E, src, "", cid, s, e, user.get(str(c["coder"])), desc, code_guid[str(c["code"])], guid
                )
                for n in coding_notes.pop(cid, []):
                    E(sel, "NoteRef", targetGUID=n)
        ts = th_by_t.get(t)
        if ts is not None:
            for _, r in ts.sort_values(["start", "end", "theme_coding_id"], kind="stable").iterrows():
                tid, s, e = str(r["theme_coding_id"]), int(r["start"]), int(r["end"])
                _check_span("themes", f"theme coding {tid}", s, e, t, len(text))
                code = theme_guid[(int(r["theme"]), str(r["subtheme"]))]
                _selection(
                    E, src, "theme_", tid, s, e, user.get(str(r["coder"])), [("Theme coding ID", tid)], code, guid
                )
    for table, frame_ in (("codings", codings), ("themes", th)):
        if len(frame_) and not set(frame_["transcript_id"]) <= set(tr["transcript_id"]):
            bad = sorted(set(frame_["transcript_id"]) - set(tr["transcript_id"]))[0]
            raise ReferenceIntegrityError(
                table, f"transcript {bad!r}", f"has {table} but no transcript", "add the transcript"
            )
    if coding_notes:
        bad = next(iter(coding_notes))
        raise ReferenceIntegrityError("memos", f"coding {bad!r}", "is not a coding", "fix the memo's coding_id")
    return members


def _notes(E: _Xml, root: Any, study: Study, guid: _Guids, user: dict[str, str], note_guid: dict[str, str]) -> None:
    memos = study.memos
    roles = [(c, str(r)) for c, r in zip(study.coders["coder"], study.coders["role"], strict=False) if str(r)]
    if not len(memos) and not roles:
        return
    notes = E(root, "Notes")
    for _, m in memos.iterrows():
        d = m["date"]
        when = None if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%dT00:00:00Z")
        note = E(
            notes,
            "Note",
            guid=note_guid[m["memo_id"]],
            name=str(m["memo_id"]),
            creatingUser=user.get(str(m["coder"])),
            creationDateTime=when,
        )
        E(note, "PlainTextContent", str(m["text"]))
    for coder, role in roles:
        note = E(notes, "Note", guid=guid("role", coder), name=f"{ROLE_NOTE}{coder}", creatingUser=user.get(coder))
        E(note, "PlainTextContent", role)


def project_xml(study: Study) -> tuple[bytes, dict[str, str]]:
    """The ``project.qde`` XML (Project.xsd) and ``{zip member: text}`` of the sources."""
    root, members = _project_tree(study)
    return _serialise(root), members


def _project_tree(study: Study) -> tuple[Any, dict[str, str]]:
    E = _Xml(NS_PROJECT)
    guid = _Guids(study)
    name = (study.imported.project_name if study.imported else "") or (
        "Mentoring and gender inequities (SYNTHETIC)" if study.synthetic else "qda project"
    )
    root = E(None, "Project", name=name, origin=origin())
    user = _users(E, root, study, guid)
    note_guid, code_notes, coding_notes, project_notes = _memo_refs(study, guid)
    codes = codes_for_export(study, None)
    code_guid: dict[str, str] = {}
    theme_guid: dict[tuple[int, str], str] = {}
    if not codes.empty or not study.themes.empty:
        codes_el = E(E(root, "CodeBook"), "Codes")
        if not codes.empty:
            code_guid = _codebook_xml(E, codes_el, codes, guid, code_notes, project=True)
        theme_guid = _theme_codes(E, codes_el, study, guid)
    for c in code_notes:
        if c not in code_guid:
            raise ReferenceIntegrityError("memos", f"code {c!r}", "is not in the codebook", "fix the memo's code")
    src_guid = {t: guid("source", t) for t in study.transcripts["transcript_id"]}
    _cases(E, root, study, guid, src_guid)
    members = _sources(E, root, study, guid, user, code_guid, theme_guid, coding_notes, src_guid)
    _notes(E, root, study, guid, user, note_guid)
    if not codes.empty:
        _sets_xml(E, root, codes, code_guid, guid, project=True)
    if study.synthetic:
        E(
            root,
            "Description",
            f"{SYNTHETIC_MARKER}: a generated corpus that mirrors the design of an interview study "
            "of mentoring and gender inequities in academic medicine. No real participant.",
        )
    for n in project_notes:
        E(root, "NoteRef", targetGUID=n)
    return root, members


def not_carried(study: Study) -> list[str]:
    """What a project export leaves out because REFI-QDA 1.5 has no place for it (one phrase each)."""
    out = []
    versions = _version_rank(study.codebook["version"].astype(str)) if len(study.codebook) else []
    if len(versions) > 1:
        out.append(
            f"{len(versions) - 1} earlier codebook version(s) ({', '.join(versions[:-1])}): only each code's latest "
            "text is exported (export one version with `--out FILE.qdc --version V`)"
        )
    if len(study.reconciliation):
        out.append(f"the reconciliation log ({len(study.reconciliation)} decisions)")
    return out


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def export_project(study: Study, path: str | Path) -> Path:
    """Write ``study`` as a REFI-QDA project ``.qdpx`` (zip: ``project.qde`` + ``sources/<GUID>.txt``).

    The XML is validated against ``Project.xsd`` before anything is written; the zip
    is written atomically (:func:`qda.io.atomic_write`) with fixed timestamps and
    order, so the same study gives the same bytes.
    """
    path = Path(path)
    root, members = _project_tree(study)
    _check_own(root, "project")
    xml = _serialise(root)
    with atomic_write(path, "wb") as f, zipfile.ZipFile(f, "w") as zf:
        for name, data in [("project.qde", xml), *sorted((k, v.encode("utf-8")) for k, v in members.items())]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return path


def export_codebook(study: Study, path: str | Path, version: str = "final") -> Path:
    """Write one codebook version as a REFI-QDA codebook ``.qdc`` (validated, atomic)."""
    path = Path(path)
    root = _codebook_tree(study, version)
    _check_own(root, "codebook")
    with atomic_write(path, "wb") as f:
        f.write(_serialise(root))
    return path
