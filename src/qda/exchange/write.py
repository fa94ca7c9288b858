"""Writing REFI-QDA: the project (.qdpx) and codebook (.qdc) exports, and an imported study as a data folder."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from qda.errors import DataError, ReferenceIntegrityError, RefiError, UnsafeInputError
from qda.exchange.naming import (
    INSTITUTION_PREFIX,
    SYNTHETIC_MARKER,
    _labelled_text,
    code_description,
    make_guid,
    origin,
    sanitise_id,
    slugify,
)
from qda.exchange.safety import NS_CODEBOOK, NS_PROJECT, schema_errors
from qda.io import atomic_write
from qda.study.model import Study
from qda.study.schema import SCHEMAS, empty_frame


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------
class _Guids:
    def __init__(self, study: Study):
        self.known = dict(study.imported.guids if study.imported else {})

    def __call__(self, kind: str, key: str) -> str:
        return self.known.get(f"{kind}:{key}") or make_guid(kind, key)


def _E(parent: Any, tag: str, text: str | None = None, **attrs: Any) -> Any:
    """One lxml element in the current export namespace (``_E.ns``); empty attributes are left out."""
    from lxml import etree

    ns = _E.ns  # type: ignore[attr-defined]
    a = {k: str(v) for k, v in attrs.items() if v is not None and v != ""}
    if parent is None:
        el = etree.Element(f"{{{ns}}}{tag}", a, nsmap={None: ns})
    else:
        el = etree.SubElement(parent, f"{{{ns}}}{tag}", a)
    if text is not None:
        el.text = text
    return el


def _version_rank(versions: Iterable[str]) -> list[str]:
    vs = list(dict.fromkeys(str(v) for v in versions))
    return [v for v in vs if v != "final"] + (["final"] if "final" in vs else [])


def _codes_for_export(study: Study, version: str | None) -> pd.DataFrame:
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


def _codebook_xml(
    parent: ET.Element, codes: pd.DataFrame, guid: _Guids, note_refs: dict[str, list[str]], project: bool
) -> dict[str, str]:
    """Nested <Code> elements under ``parent`` (a <Codes>); returns slug -> GUID."""
    slugs = list(codes["code"])
    if len(set(slugs)) != len(slugs):  # pragma: no cover - drop_duplicates above
        raise DataError("codebook", "code", "duplicate code slugs", "make every code slug unique")
    rows = {r["code"]: r for _, r in codes.iterrows()}
    kids: dict[str, list[str]] = {}
    for s in slugs:
        p = str(rows[s]["parent"] or "")
        if p and p not in rows:
            raise ReferenceIntegrityError(
                "codebook", f"code {s!r}", f"has parent {p!r}, which is not a code", "fix the parent or add the code"
            )
        kids.setdefault(p, []).append(s)
    out: dict[str, str] = {}

    def add(under: ET.Element, slug: str, depth: int) -> None:
        if depth > 100:
            raise DataError(
                "codebook", f"code {slug!r}", "is its own ancestor (a parent cycle)", "fix the parent column"
            )
        r = rows[slug]
        g = guid("code", slug)
        out[slug] = g
        color = str(r.get("color") or "")
        el = _E(
            under,
            "Code",
            guid=g,
            name=str(r["name"] or slug),
            isCodable="true",
            color=color if _RGB.match(color) else None,
        )
        desc = code_description(r, with_id=slugify(str(r["name"] or slug)) != slug)
        if desc:
            _E(el, "Description", desc)
        if project:
            for n in note_refs.get(slug, []):
                _E(el, "NoteRef", targetGUID=n)
        for k in kids.get(slug, []):
            add(el, k, depth + 1)

    for s in kids.get("", []):
        add(parent, s, 0)
    if len(out) != len(slugs):
        raise DataError(
            "codebook", "parent", "some codes are their own ancestors (a parent cycle)", "fix the parent column"
        )
    return out


def _sets_xml(parent: ET.Element, codes: pd.DataFrame, code_guid: dict[str, str], guid: _Guids, project: bool) -> None:
    groups: dict[str, list[str]] = {}
    for slug, grp in zip(codes["code"], codes["code_group"], strict=False):
        if str(grp):
            groups.setdefault(str(grp), []).append(slug)
    if not groups:
        return
    sets = _E(parent, "Sets")
    for grp, members in groups.items():
        s = _E(sets, "Set", guid=guid("set", grp), name=grp)
        for m in members:
            if project:
                _E(s, "MemberCode", targetGUID=code_guid[m])
            else:
                _E(s, "MemberCode", guid=code_guid[m])


def _serialise(root: Any, ns: str) -> bytes:
    from lxml import etree

    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def codebook_xml(study: Study, version: str = "final") -> bytes:
    """The ``.qdc`` XML (Codebook.xsd) of one codebook version: codes, hierarchy, colours, Sets."""
    _E.ns = NS_CODEBOOK  # type: ignore[attr-defined]
    guid = _Guids(study)
    root = _E(None, "CodeBook", origin=origin())
    codes = _codes_for_export(study, version)
    if codes.empty:
        raise DataError("codebook", "table", "has no codes", "add codes before exporting a codebook")
    code_guid = _codebook_xml(_E(root, "Codes"), codes, guid, {}, project=False)
    _sets_xml(root, codes, code_guid, guid, project=False)
    return _serialise(root, NS_CODEBOOK)


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


def project_xml(study: Study) -> tuple[bytes, dict[str, str]]:
    """The ``project.qde`` XML (Project.xsd) and ``{zip member: text}`` of the sources.

    See the module docstring for the element each table becomes.
    """
    _E.ns = NS_PROJECT  # type: ignore[attr-defined]
    guid = _Guids(study)
    name = (study.imported.project_name if study.imported else "") or (
        "Mentoring and gender inequities (SYNTHETIC)" if study.synthetic else "qda project"
    )
    root = _E(None, "Project", name=name, origin=origin())
    codings, memos, tr = study.codings, study.memos, study.transcripts

    # users
    coders = list(
        dict.fromkeys(
            [
                *study.coders["coder"],
                *sorted(set(codings["coder"]) - set(study.coders["coder"])),
                *sorted(set(memos["coder"]) - set(study.coders["coder"]) - set(codings["coder"]) - {""}),
            ]
        )
    )
    user = {c: guid("user", c) for c in coders}
    if coders:
        users = _E(root, "Users")
        for c in coders:
            _E(users, "User", guid=user[c], name=c)

    # memos: notes and where they are referenced
    note_guid = {m: guid("note", m) for m in memos["memo_id"]}
    code_notes: dict[str, list[str]] = {}
    coding_notes: dict[str, list[str]] = {}
    project_notes: list[str] = []
    for _, m in memos.iterrows():
        kind = str(m["attached_to"])
        if kind == "code":
            code_notes.setdefault(str(m["code"]), []).append(note_guid[m["memo_id"]])
        elif kind == "coding":
            coding_notes.setdefault(str(m["coding_id"]), []).append(note_guid[m["memo_id"]])
        else:
            project_notes.append(note_guid[m["memo_id"]])

    # codebook
    codes = _codes_for_export(study, None)
    code_guid: dict[str, str] = {}
    if not codes.empty:
        code_guid = _codebook_xml(_E(_E(root, "CodeBook"), "Codes"), codes, guid, code_notes, project=True)
    for c in code_notes:
        if c not in code_guid:
            raise ReferenceIntegrityError("memos", f"code {c!r}", "is not in the codebook", "fix the memo's code")

    # variables and cases
    p = study.participants
    var_cols = [c for c in p.columns if c != "participant_id"]
    var_types = {c: _var_type(p[c]) for c in var_cols}
    inst = study.institutions
    inst_cols = (
        [c for c in inst.columns if c != "institution_id"] if len(inst) and "institution_id" in p.columns else []
    )
    inst_rows = inst.set_index("institution_id").to_dict("index") if inst_cols else {}
    all_vars = var_cols + [INSTITUTION_PREFIX + c for c in inst_cols]
    var_guid = {v: guid("variable", v) for v in all_vars}
    if all_vars and len(p):
        variables = _E(root, "Variables")
        for v in all_vars:
            _E(variables, "Variable", guid=var_guid[v], name=v, typeOfVariable=var_types.get(v, "Text"))
    src_guid = {t: guid("source", t) for t in tr["transcript_id"]}
    if len(p):
        cases = _E(root, "Cases")
        by_pid = tr.groupby("participant_id", sort=True)["transcript_id"].apply(list).to_dict()
        for _, row in p.iterrows():
            pid = str(row["participant_id"])
            case = _E(cases, "Case", guid=guid("case", pid), name=pid)
            values = [(v, row[v], var_types[v]) for v in var_cols]
            irow = inst_rows.get(row.get("institution_id"), {})
            values += [(INSTITUTION_PREFIX + c, irow.get(c, ""), "Text") for c in inst_cols]
            for v, val, typ in values:
                if not isinstance(val, str) and pd.isna(val):
                    continue  # a value not recorded is left out, not written as 0 or "nan"
                vv = _E(case, "VariableValue")
                _E(vv, "VariableRef", targetGUID=var_guid[v])
                _E(vv, f"{typ}Value", _fmt_value(val, typ))
            for t in sorted(by_pid.get(pid, [])):
                _E(case, "SourceRef", targetGUID=src_guid[t])

    # sources and codings
    members: dict[str, str] = {}
    if len(tr):
        sources = _E(root, "Sources")
        by_t = {t: g for t, g in codings.groupby("transcript_id", sort=False)} if len(codings) else {}
        for t in sorted(tr["transcript_id"]):
            text = study.text(t)
            g = src_guid[t]
            src = _E(sources, "TextSource", guid=g, name=t, plainTextPath=f"internal://{g}.txt")
            members[f"sources/{g}.txt"] = text
            cs = by_t.get(t)
            if cs is None:
                continue
            for _, c in cs.sort_values(["start", "end", "coding_id"], kind="stable").iterrows():
                cid = str(c["coding_id"])
                s, e = int(c["start"]), int(c["end"])
                if not 0 <= s < e <= len(text):
                    raise DataError(
                        "codings",
                        f"coding {cid}",
                        f"offsets {s}-{e} do not fit transcript {t} ({len(text)} characters)",
                        "fix start/end (end is exclusive)",
                    )
                if str(c["code"]) not in code_guid:
                    raise ReferenceIntegrityError(
                        "codings",
                        f"coding {cid}",
                        f"code {c['code']!r} is not in the codebook",
                        "add the code to the codebook or fix the coding",
                    )
                sel = _E(
                    src,
                    "PlainTextSelection",
                    guid=guid("selection", cid),
                    name=cid,
                    startPosition=s,
                    endPosition=e,
                    creatingUser=user.get(str(c["coder"])),
                )
                _E(
                    sel,
                    "Description",
                    _labelled_text(
                        [
                            ("Coding ID", cid),
                            ("Round", str(c["round"])),
                            ("Codebook version", str(c["codebook_version"])),
                        ]
                    ),
                )
                cod = _E(sel, "Coding", guid=guid("coding", cid), creatingUser=user.get(str(c["coder"])))
                _E(cod, "CodeRef", targetGUID=code_guid[str(c["code"])])
                for n in coding_notes.pop(cid, []):
                    _E(sel, "NoteRef", targetGUID=n)
    if len(codings) and not set(codings["transcript_id"]) <= set(tr["transcript_id"]):
        bad = sorted(set(codings["transcript_id"]) - set(tr["transcript_id"]))[0]
        raise ReferenceIntegrityError(
            "codings", f"transcript {bad!r}", "has codings but no transcript", "add the transcript"
        )
    if coding_notes:
        bad = next(iter(coding_notes))
        raise ReferenceIntegrityError("memos", f"coding {bad!r}", "is not a coding", "fix the memo's coding_id")

    # notes
    if len(memos):
        notes = _E(root, "Notes")
        for _, m in memos.iterrows():
            d = m["date"]
            when = None if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%dT00:00:00Z")
            note = _E(
                notes,
                "Note",
                guid=note_guid[m["memo_id"]],
                name=str(m["memo_id"]),
                creatingUser=user.get(str(m["coder"])),
                creationDateTime=when,
            )
            _E(note, "PlainTextContent", str(m["text"]))
    if not codes.empty:
        _sets_xml(root, codes, code_guid, guid, project=True)
    if study.synthetic:
        _E(
            root,
            "Description",
            f"{SYNTHETIC_MARKER}: a generated corpus that mirrors the design of an interview study "
            "of mentoring and gender inequities in academic medicine. No real participant.",
        )
    for n in project_notes:
        _E(root, "NoteRef", targetGUID=n)
    return _serialise(root, NS_PROJECT), members


def _check_own(xml: bytes, kind: str) -> None:
    errs = schema_errors(xml, kind)
    if errs:  # our own output: a bug, but say where
        line, msg = errs[0]
        raise RefiError(
            f"<export {kind}>",
            f"line {line}",
            f"fails {kind.title()}.xsd ({msg})",
            "report this bug with the study that produced it",
        )


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def export_project(study: Study, path: str | Path) -> Path:
    """Write ``study`` as a REFI-QDA project ``.qdpx`` (zip: ``project.qde`` + ``sources/<GUID>.txt``).

    The XML is validated against ``Project.xsd`` before anything is written; the zip
    is written atomically (:func:`qda.io.atomic_write`) with fixed timestamps and
    order, so the same study gives the same bytes.
    """
    path = Path(path)
    xml, members = project_xml(study)
    _check_own(xml, "project")
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
    xml = codebook_xml(study, version)
    _check_own(xml, "codebook")
    with atomic_write(path, "wb") as f:
        f.write(xml)
    return path


# ---------------------------------------------------------------------------
# Writing an imported study as a data folder (CLI `import FILE --out DIR`)
# ---------------------------------------------------------------------------
_UNSTATED = "(not stated in the imported project)"


def codebook_yaml(codebook: pd.DataFrame, source: str = "") -> str:
    """A ``codebook.yml`` that :func:`qda.codebook.read_codebook` reads back.

    The imported codebook has one version, ``final`` (``after_round`` = the largest
    ``introduced_round``, at least 1).  ``read_codebook`` requires a ``#RRGGBB``
    colour, an origin and all four text fields, which other tools may not record:
    the writer then fills ``#999999``, ``inductive`` and the phrase
    ``(not stated in the imported project)``, and says so in the file's header.
    """
    import yaml

    cb = codebook.copy()
    cb["version"] = cb["version"].astype(str)
    latest = _codes_for_export(
        Study(
            participants=empty_frame("participants"),
            transcripts=empty_frame("transcripts"),
            codebook=cb,
            codings=empty_frame("codings"),
        ),
        None,
    )
    after = max([1, *[int(x) for x in latest["introduced_round"]]]) if len(latest) else 1
    codes = []
    filled: Counter = Counter()
    for _, r in latest.iterrows():
        color = str(r["color"] or "")
        if re.fullmatch(r"#[0-9A-Fa-f]{3}", color):
            color = "#" + "".join(ch * 2 for ch in color[1:])
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
            color = "#999999"
            filled["colour"] += 1
        origin = str(r["origin"] or "")
        if origin not in {"deductive", "inductive"}:
            origin = "inductive"
            filled["origin"] += 1
        block = {}
        for f in ("definition", "inclusion", "exclusion", "example"):
            v = " ".join(str(r[f] or "").split())
            if not v:
                v = _UNSTATED
                filled[f] += 1
            block[f] = v
        codes.append(
            {
                "code": str(r["code"]),
                "name": str(r["name"] or r["code"]),
                "parent": str(r["parent"] or ""),
                "code_group": str(r["code_group"] or ""),
                "origin": origin,
                "introduced_round": max(int(r["introduced_round"]), 0),
                "color": color.upper(),
                "final": block,
            }
        )
    head = [
        f"# Codebook imported from a REFI-QDA file{(': ' + source) if source else ''}.",
        "# Written by `python -m qda import`; one version (final).",
    ]
    if filled:
        head.append(
            "# Filled by the importer where the project recorded nothing: "
            + ", ".join(f"{k} ({n} codes)" for k, n in sorted(filled.items()))
            + f"; colour #999999, origin inductive, text {_UNSTATED!r}."
        )
    body = yaml.safe_dump(
        {"versions": [{"version": "final", "after_round": after}], "codes": codes},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return "\n".join(head) + "\n" + body


def write_study(study: Study, out_dir: str | Path) -> list[Path]:
    """Write ``study`` in the ``data/`` layout so that ``load_study(out_dir)`` reads it.

    Files: ``participants.csv``, ``institutions.csv``, ``coders.csv``, ``codings.csv``,
    ``memos.csv``, ``codebook.yml`` (:func:`codebook_yaml`), ``transcripts/<id>.txt``
    and ``SYNTHETIC`` when the study is synthetic.  Every file is rendered in memory
    and every target checked to lie inside ``out_dir`` before the first write; each
    write is atomic (:func:`qda.io.atomic_write`).  Returns the paths written.
    """
    out = Path(out_dir)
    base = out.resolve()
    files: dict[Path, bytes] = {}

    def put(rel: str, data: str) -> None:
        target = (base / rel).resolve()
        if target != base and base not in target.parents:
            raise UnsafeInputError(out, rel, "would be written outside the output folder", "rename the transcript")
        if target in files:
            raise DataError(out, rel, "two items would be written to the same file", "give them distinct ids")
        files[target] = data.encode("utf-8")

    def csv(frame: pd.DataFrame, table: str) -> str:
        cols = list(SCHEMAS[table]) + [c for c in frame.columns if c not in SCHEMAS[table]]
        return frame[cols].to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d")

    put("participants.csv", csv(study.participants, "participants"))
    put("institutions.csv", csv(study.institutions, "institutions"))
    put("coders.csv", csv(study.coders, "coders"))
    put("codings.csv", csv(study.codings, "codings"))
    put("memos.csv", csv(study.memos, "memos"))
    put("codebook.yml", codebook_yaml(study.codebook, str(study.root or "")))
    for tid, text in zip(study.transcripts["transcript_id"], study.transcripts["text"], strict=False):
        if sanitise_id(tid) != tid:
            raise DataError(out, f"transcript {tid!r}", "is not a safe file name", "rename the transcript")
        put(f"transcripts/{tid}.txt", text)
    if study.synthetic:
        put("SYNTHETIC", "This folder holds SYNTHETIC data (an export of the generated corpus).\n")
    written = []
    for target, data in files.items():
        with atomic_write(target, "wb") as f:
            f.write(data)
        written.append(target)
    return written
