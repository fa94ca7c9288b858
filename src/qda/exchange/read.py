"""REFI-QDA 1.5 exchange: export a :class:`~qda.corpus.Study` as ``.qdpx``/``.qdc``, import it back.

Reference: REFI-QDA, *Exchange of processed data between QDA software packages*,
version 1.5 (2019-09-25, ed. F. van Blommestein; www.qdasoftware.org), with the
QDA-XML 1.0 schemas ``Project.xsd`` and ``Codebook.xsd`` shipped in ``qda/schema``.

Mapping between the study tables (:data:`qda.corpus.SCHEMAS`) and QDA-XML
---------------------------------------------------------------------------
=====================  ======================================================
study                  REFI-QDA project (``project.qde`` inside the ``.qdpx``)
=====================  ======================================================
coders                 ``Users/User`` (name = coder; the role is not exchanged)
codebook               ``CodeBook/Codes/Code`` nested by ``parent``, ``color``;
                       definition, criteria, origin and rounds as labelled lines
                       in ``Description`` (see :func:`code_description`)
codebook.code_group    ``Sets/Set`` with ``MemberCode``
participants           ``Variables`` + one ``Cases/Case`` per participant, named
                       by ``participant_id``, with ``VariableValue`` per column
                       and ``SourceRef`` to the participant's transcripts
institutions           extra case variables ``institution_<column>``
transcripts            ``Sources/TextSource``, ``plainTextPath=internal://<GUID>.txt``,
                       the text in ``sources/<GUID>.txt`` (UTF-8, no BOM, LF)
codings                one ``PlainTextSelection`` per coding row (code-point
                       offsets, exclusive end) holding one ``Coding``/``CodeRef``;
                       ``creatingUser`` = the coder.  The selection's
                       ``Description`` reads ``Coding ID: ...``, ``Round: ...``,
                       ``Codebook version: ...`` so every round stays recoverable.
memos                  ``Notes/Note`` (text in ``PlainTextContent``), referenced by a
                       ``NoteRef`` from the Code (code memos), from the
                       PlainTextSelection (coding memos) or from the Project.
=====================  ======================================================

GUIDs are UUID-5 over stable keys (``"code:<slug>"``, ``"coding:<coding_id>"``,
...) so that the same study always exports to the same bytes.  A study imported
from another tool keeps its GUIDs (``study.imported.guids``).

Offsets on import (decision, see PROVENANCE "Gotchas")
-----------------------------------------------------
REFI offsets count Unicode code points (spec 10.2) of the source text.  We read
them against the text *as stored, after decoding and dropping a leading byte-order
mark* (the BOM is an encoding signature, not text), with CRLF and CR kept.  We
then normalise line ends to LF (the study's transcripts never contain CR) and
move every offset left by the number of CR characters of CRLF pairs before it,
so each selection covers exactly the same characters as before.

Safety (untrusted files)
------------------------
XML is parsed by :mod:`defusedxml` with DTDs forbidden (no entities, no external
references: XXE and billion-laughs fail before any expansion) and an element
depth limit; zip members are checked for absolute names, ``..`` parts, symlinks,
their number, their declared total size and their compression ratio before
anything is decompressed; nothing outside the given file is ever read.  Limits are
:class:`Limits` (environment variables ``QDA_REFI_MAX_UNCOMPRESSED``,
``QDA_REFI_MAX_ENTRIES``, ``QDA_REFI_MAX_DEPTH``, ``QDA_REFI_MAX_RATIO``).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from qda.errors import Problem, QDAError, RefiError
from qda.exchange.mapping import MAPPING_FILE, apply_mapping, set_participants
from qda.exchange.naming import (
    _SEL_LABELS,
    SYNTHETIC_MARKER,
    _parse_labelled,
    norm_guid,
    parse_code_description,
    sanitise_id,
    slugify,
)
from qda.exchange.safety import (
    Limits,
    _Package,
    decode_source,
    normalise_newlines,
    parse_xml,
    schema_errors,
)
from qda.study.model import ImportRecord, Study
from qda.study.schema import SCHEMAS, coerce, empty_frame


# ---------------------------------------------------------------------------
# The parsed document (namespace-free) and its semantic checks
# ---------------------------------------------------------------------------
@dataclass
class _Doc:
    file: str
    kind: str  # "project" | "codebook"
    root: ET.Element
    users: dict[str, ET.Element] = field(default_factory=dict)
    codes: dict[str, tuple[ET.Element, str]] = field(default_factory=dict)  # guid -> (el, parent guid)
    variables: dict[str, ET.Element] = field(default_factory=dict)
    sources: dict[str, ET.Element] = field(default_factory=dict)
    notes: dict[str, ET.Element] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, where: str, what: str, fix: str) -> None:
        self.problems.append(Problem(self.file, where, what, fix))


def _children(el: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if el is None else [c for c in el if c.tag == name]


def _child(el: ET.Element | None, name: str) -> ET.Element | None:
    if el is None:
        return None
    for c in el:
        if c.tag == name:
            return c
    return None


def _text(el: ET.Element | None) -> str:
    return "" if el is None or el.text is None else el.text


def _where(el: ET.Element) -> str:
    name = el.get("name")
    g = el.get("guid")
    return f"<{el.tag}{' ' + repr(name) if name else ''}{' guid=' + g if g else ''}>"


def _index(root: ET.Element, file: str) -> _Doc:
    """Collect the GUID-bearing elements; record duplicate GUIDs and dangling references."""
    kind = "codebook" if root.tag == "CodeBook" else "project"
    if root.tag not in ("Project", "CodeBook"):
        raise RefiError(
            file,
            f"root element <{root.tag}>",
            "is neither <Project> nor <CodeBook>",
            "give a REFI-QDA .qdpx, .qde or .qdc file",
        )
    doc = _Doc(file, kind, root)
    seen: dict[str, str] = {}
    for el in root.iter():
        g = el.get("guid")
        if g is None or el.tag in ("MemberCode",) and kind == "codebook":
            continue
        k = norm_guid(g)
        if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", k):
            doc.problem(_where(el), f"guid {g!r} is not a GUID", "use 8-4-4-4-12 hexadecimal digits")
        if k in seen:
            doc.problem(_where(el), f"duplicate GUID {g} (also on {seen[k]})", "give every element its own GUID")
        else:
            seen[k] = _where(el)
    codebook = root if kind == "codebook" else _child(root, "CodeBook")

    def walk(code: ET.Element, parent: str) -> None:
        doc.codes.setdefault(norm_guid(code.get("guid")), (code, parent))
        for sub in _children(code, "Code"):
            walk(sub, norm_guid(code.get("guid")))

    for c in _children(_child(codebook, "Codes"), "Code"):
        walk(c, "")
    if kind == "codebook":
        for s in _children(_child(root, "Sets"), "Set"):
            for m in _children(s, "MemberCode"):
                if norm_guid(m.get("guid")) not in doc.codes:
                    doc.problem(
                        _where(s), f"MemberCode guid={m.get('guid')} names no Code", "remove it or add the code"
                    )
        return doc
    doc.users = {norm_guid(u.get("guid")): u for u in _children(_child(root, "Users"), "User")}
    doc.variables = {norm_guid(v.get("guid")): v for v in _children(_child(root, "Variables"), "Variable")}
    doc.sources = {norm_guid(s.get("guid")): s for s in list(_child(root, "Sources") or [])}
    doc.notes = {norm_guid(n.get("guid")): n for n in _children(_child(root, "Notes"), "Note")}
    targets = {
        "CodeRef": doc.codes,
        "MemberCode": doc.codes,
        "SourceRef": doc.sources,
        "MemberSource": doc.sources,
        "NoteRef": doc.notes,
        "MemberNote": doc.notes,
        "VariableRef": doc.variables,
    }
    fixes = {
        "CodeRef": "add the code to the CodeBook or remove the coding",
        "NoteRef": "add the Note or remove the reference",
        "SourceRef": "add the source or remove the reference",
        "VariableRef": "declare the Variable under <Variables>",
    }
    parent_of = {c: p for p in root.iter() for c in p}
    for el in root.iter():
        if el.tag in targets and norm_guid(el.get("targetGUID")) not in targets[el.tag]:
            owner = parent_of.get(el, root)
            doc.problem(
                _where(owner),
                f"<{el.tag} targetGUID={el.get('targetGUID')}> points to nothing",
                fixes.get(el.tag, "remove the reference or add its target"),
            )
        for attr in ("creatingUser", "modifyingUser"):
            if el.get(attr) and doc.users and norm_guid(el.get(attr)) not in doc.users:
                doc.problem(_where(el), f"{attr}={el.get(attr)} is not a <User>", "add the user under <Users>")
    return doc


def _int_attr(doc: _Doc, el: ET.Element, name: str) -> int | None:
    v = el.get(name)
    try:
        return int(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        doc.problem(_where(el), f"{name}={v!r} is not a whole number", "fix the selection's positions")
        return None


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------
def _open(path: str | Path, limits: Limits | None) -> tuple[_Package, _Doc]:
    limits = limits or Limits.from_env()
    pkg = _Package(Path(path), limits)
    label = str(pkg.path) if pkg.kind != "qdpx" else f"{pkg.path}!{pkg.qde_name}"
    root = parse_xml(pkg.xml, label, limits)
    return pkg, _index(root, label)


def _first_problem(doc: _Doc) -> None:
    if doc.problems:
        p = doc.problems[0]
        more = (
            f" (and {len(doc.problems) - 1} more; run `python -m qda validate FILE`)" if len(doc.problems) > 1 else ""
        )
        raise RefiError(p.file, p.where, p.what + more, p.fix)


def _value_of(vv: ET.Element) -> tuple[str, str]:
    """(text value, REFI type) of a VariableValue."""
    for tag, typ in (
        ("TextValue", "Text"),
        ("BooleanValue", "Boolean"),
        ("IntegerValue", "Integer"),
        ("FloatValue", "Float"),
        ("DateValue", "Date"),
        ("DateTimeValue", "DateTime"),
    ):
        c = _child(vv, tag)
        if c is not None:
            return _text(c).strip() if typ != "Text" else _text(c), typ
    return "", "Text"


def _unique(base: str, taken: set[str]) -> str:
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def import_project(
    path: str | Path, mapping: dict | str | Path | None = None, *, limits: Limits | None = None
) -> Study:
    """Read a ``.qdpx``, ``.qde`` or ``.qdc`` file into a :class:`~qda.corpus.Study`.

    Rules (the inverse of :func:`export_project`; see the module docstring):

    * transcripts: one per ``TextSource``; ``transcript_id`` = source name (sanitised,
      :func:`sanitise_id`), else the plainTextPath's stem when it is not a GUID, else
      the GUID; text decoded by :func:`decode_source`, offsets normalised by
      :func:`normalise_newlines`.  Sources whose text is not in the file (a bare
      ``.qde``) get empty text and are listed in ``study.imported.missing_sources``;
      a selection on such a source is an error.
    * codings: one row per ``Coding`` (in a ``PlainTextSelection``, or directly on a
      source = the whole text); ``coder`` = the User of ``creatingUser``;
      ``round``/``codebook_version``/``coding_id`` from the selection's labelled
      Description when present, else ``"full"``/``"final"``/the Coding GUID.
    * codebook: one row per Code, ``version="final"``; slug from ``Code ID:`` or
      :func:`slugify` of the name (made unique with the parent's slug); fields from
      :func:`parse_code_description`; ``code_group`` = the first Set naming it.
    * participants: one row per Case (or per source when there are no Cases), values
      of VariableValues on the case or its sources; variables named like a
      participants column fill it (``mapping`` renames and recodes, see
      :func:`apply_mapping`); other variables become extra columns; contract columns
      the project lacks are filled with ""/0/False and listed in
      ``study.imported.missing_participant_columns``.
    * memos: one per Note; attached to the code or coding whose NoteRef names it,
      else to the project.

    Every error is a :class:`~qda.errors.RefiError` (or its subclasses
    :class:`~qda.errors.UnsafeInputError`, :class:`~qda.errors.LimitExceededError`)
    with a one-line "FILE: where: what; fix" message.
    """
    pkg, doc = _open(path, limits)
    _first_problem(doc)
    study = _safe_build(pkg, doc)
    if mapping is not None:
        study = apply_mapping(study, mapping)
    _first_problem(doc)
    return study


def _safe_build(pkg: _Package, doc: _Doc) -> Study:
    """:func:`_build_study`, turning an unforeseen structural oddity into one RefiError line."""
    try:
        return _build_study(pkg, doc)
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise RefiError(
            doc.file,
            "structure",
            f"cannot be read as a REFI-QDA project ({type(e).__name__}: {e})",
            "run `python -m qda validate FILE` and re-export the project",
        ) from None


def _build_study(pkg: _Package, doc: _Doc) -> Study:
    file, root = doc.file, doc.root
    guids: dict[str, str] = {}
    # ---- users -> coders
    coder_of: dict[str, str] = {}
    taken: set[str] = set()
    for g, u in doc.users.items():
        base = (u.get("name") or u.get("id") or g).strip() or g
        coder_of[g] = _unique(base, taken)
        guids[f"user:{coder_of[g]}"] = g
    coders = pd.DataFrame({"coder": list(coder_of.values()), "role": [""] * len(coder_of)})

    # ---- codebook
    slug_of: dict[str, str] = {}
    cb_rows = []
    taken = set()
    set_of: dict[str, str] = {}
    sets_parent = root if doc.kind == "codebook" else root
    for s in _children(_child(sets_parent, "Sets"), "Set"):
        for m in _children(s, "MemberCode"):
            tgt = norm_guid(m.get("guid") if doc.kind == "codebook" else m.get("targetGUID") or m.get("guid"))
            set_of.setdefault(tgt, s.get("name") or "")
            guids.setdefault(f"set:{s.get('name') or ''}", norm_guid(s.get("guid")))
    for g, (el, parent) in doc.codes.items():
        fields = parse_code_description(_text(_child(el, "Description")))
        name = el.get("name") or ""
        base = fields.get("code") or slugify(name)
        if base in taken and parent in slug_of:
            base = f"{slug_of[parent]}__{base}"
        slug = _unique(base, taken)
        slug_of[g] = slug
        guids[f"code:{slug}"] = g

        def _int(v: str | None) -> Any:
            return int(v) if v and v.strip().lstrip("-").isdigit() else None

        cb_rows.append(
            {
                "version": "final",
                "code": slug,
                "name": name,
                "parent": slug_of.get(parent, ""),
                "code_group": set_of.get(g, ""),
                "definition": fields.get("definition", ""),
                "inclusion": fields.get("inclusion", ""),
                "exclusion": fields.get("exclusion", ""),
                "example": fields.get("example", ""),
                "origin": fields.get("origin", ""),
                "introduced_round": _int(fields.get("introduced_round")) or 0,
                "refined_round": _int(fields.get("refined_round")),
                "color": el.get("color") or "",
            }
        )
    codebook = _frame(cb_rows, "codebook", file)
    if doc.kind == "codebook":
        study = Study(
            participants=empty_frame("participants"),
            transcripts=empty_frame("transcripts"),
            codebook=codebook,
            codings=empty_frame("codings"),
            root=pkg.path,
            synthetic=False,
        )
        study.imported = ImportRecord(kind="codebook", origin=root.get("origin", ""), guids=guids)
        return study

    # ---- sources -> transcripts, selections -> codings
    tid_of: dict[str, str] = {}
    taken = set()
    tr_rows, cd_rows = [], []
    sel_coding: dict[str, str] = {}  # selection guid -> first coding id (for memos)
    coding_ids: dict[str, str] = {}  # Coding guid -> coding id
    missing: list[str] = []
    guid_re = re.compile(r"^\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?$")
    for g, src in doc.sources.items():
        ptp = src.get("plainTextPath") or ""
        stem = PurePosixPath(re.sub(r"^internal://", "", ptp)).stem if ptp else ""
        base = src.get("name") or (stem if stem and not guid_re.match(stem) else g)
        tid = _unique(sanitise_id(base), taken)
        tid_of[g] = tid
        guids[f"source:{tid}"] = g
        where = f"<{src.tag} guid={src.get('guid')}>"
        raw: bytes | None = None
        content = _child(src, "PlainTextContent")
        if content is not None:
            raw = _text(content).encode("utf-8")
        elif src.tag == "TextSource":
            raw = pkg.source_bytes(ptp)
        if raw is None:
            missing.append(tid)
            stored = ""
        else:
            stored = decode_source(raw, file, f"{where} text {ptp or 'PlainTextContent'}")
        text, shift = normalise_newlines(stored)
        selections = _children(src, "PlainTextSelection")
        if raw is None and (selections or _children(src, "Coding")):
            doc.problem(
                where,
                f"has {len(selections)} coded selection(s) but its text {ptp!r} is not in the file",
                "export a .qdpx that includes the sources",
            )
            continue
        if src.tag != "TextSource" and (selections or _children(src, "Coding")):
            doc.problem(
                where,
                f"is a {src.tag}; only text sources are analysed",
                "convert it to a text source or remove its codings",
            )
        for sel in selections:
            s, e = _int_attr(doc, sel, "startPosition"), _int_attr(doc, sel, "endPosition")
            if s is None or e is None:
                continue
            sw = f"{where} <PlainTextSelection guid={sel.get('guid')}>"
            if s < 0 or e > len(stored):
                doc.problem(
                    sw,
                    f"positions {s}-{e} lie outside the text (0-{len(stored)} code points)",
                    "fix the positions or export the matching source text",
                )
                continue
            if e <= s:
                doc.problem(sw, f"ends at {e}, not after its start {s}", "fix the positions (end is exclusive)")
                continue
            ns, ne = s - int(shift[s]), e - int(shift[e])
            info = _parse_labelled(_text(_child(sel, "Description")), _SEL_LABELS, None)
            codings = _children(sel, "Coding")
            for c in codings:
                cg = norm_guid(c.get("guid"))
                cid = info.get("coding_id") if len(codings) == 1 and info.get("coding_id") else cg
                coding_ids[cg] = cid
                sel_coding.setdefault(norm_guid(sel.get("guid")), cid)
                guids[f"coding:{cid}"] = cg
                if len(codings) == 1:
                    guids[f"selection:{cid}"] = norm_guid(sel.get("guid"))
                user = norm_guid(c.get("creatingUser") or sel.get("creatingUser"))
                code_ref = norm_guid(_child(c, "CodeRef").get("targetGUID") if _child(c, "CodeRef") is not None else "")
                cd_rows.append(
                    {
                        "coding_id": cid,
                        "transcript_id": tid,
                        "coder": coder_of.get(user, user),
                        "round": info.get("round", "full"),
                        "start": ns,
                        "end": ne,
                        "code": slug_of.get(code_ref, code_ref),
                        "codebook_version": info.get("codebook_version", "final"),
                    }
                )
        for c in _children(src, "Coding"):  # a coding of the whole source
            cg = norm_guid(c.get("guid"))
            coding_ids[cg] = cg
            user = norm_guid(c.get("creatingUser"))
            code_ref = norm_guid(_child(c, "CodeRef").get("targetGUID") if _child(c, "CodeRef") is not None else "")
            cd_rows.append(
                {
                    "coding_id": cg,
                    "transcript_id": tid,
                    "coder": coder_of.get(user, user),
                    "round": "full",
                    "start": 0,
                    "end": len(text),
                    "code": slug_of.get(code_ref, code_ref),
                    "codebook_version": "final",
                }
            )
        tr_rows.append(
            {
                "transcript_id": tid,
                "participant_id": tid,
                "path": f"{pkg.path}!{ptp}" if ptp else str(pkg.path),
                "text": text,
                "n_chars": len(text),
                "n_words": len(text.split()),
            }
        )
    codings = _frame(cd_rows, "codings", file)

    # ---- cases / variables -> participants (raw text values; mapping and typing later)
    var_name = {g: (v.get("name") or g) for g, v in doc.variables.items()}
    var_type = {var_name[g]: v.get("typeOfVariable", "Text") for g, v in doc.variables.items()}
    for g, name in var_name.items():
        guids[f"variable:{name}"] = g

    def values(el: ET.Element) -> dict[str, str]:
        out = {}
        for vv in _children(el, "VariableValue"):
            ref = norm_guid(
                _child(vv, "VariableRef").get("targetGUID") if _child(vv, "VariableRef") is not None else ""
            )
            out[var_name.get(ref, ref)] = _value_of(vv)[0]
        return out

    raw_rows: list[dict[str, str]] = []
    owner_of_source: dict[str, str] = {}
    taken = set()
    for case in _children(_child(root, "Cases"), "Case"):
        pid = _unique((case.get("name") or norm_guid(case.get("guid"))).strip(), taken)
        guids[f"case:{pid}"] = norm_guid(case.get("guid"))
        row = {"participant_id": pid, **values(case)}
        for sref in _children(case, "SourceRef"):
            sg = norm_guid(sref.get("targetGUID"))
            if sg in tid_of:
                owner_of_source.setdefault(sg, pid)
                for k, v in values(doc.sources[sg]).items():
                    row.setdefault(k, v)
        raw_rows.append(row)
    for g, src in doc.sources.items():
        if g not in owner_of_source:
            pid = _unique(tid_of[g], taken) if tid_of[g] in taken else tid_of[g]
            taken.add(pid)
            owner_of_source[g] = pid
            raw_rows.append({"participant_id": pid, **values(src)})
    pid_of_tid = {tid_of[g]: p for g, p in owner_of_source.items()}
    for r in tr_rows:
        r["participant_id"] = pid_of_tid.get(r["transcript_id"], r["transcript_id"])
    transcripts = _frame(tr_rows, "transcripts", file)
    raw = (
        pd.DataFrame(raw_rows, dtype=object).fillna("")
        if raw_rows
        else pd.DataFrame({"participant_id": []}, dtype=object)
    )

    # ---- notes -> memos
    attached: dict[str, tuple[str, str, str]] = {}
    for g, (el, _) in doc.codes.items():
        for nr in _children(el, "NoteRef"):
            attached.setdefault(norm_guid(nr.get("targetGUID")), ("code", slug_of[g], ""))
    for src in doc.sources.values():
        for sel in _children(src, "PlainTextSelection"):
            for nr in _children(sel, "NoteRef"):
                cid = sel_coding.get(norm_guid(sel.get("guid")), "")
                attached.setdefault(norm_guid(nr.get("targetGUID")), ("coding", "", cid))
            for c in _children(sel, "Coding"):
                for nr in _children(c, "NoteRef"):
                    attached.setdefault(
                        norm_guid(nr.get("targetGUID")), ("coding", "", coding_ids[norm_guid(c.get("guid"))])
                    )
    memo_rows = []
    taken = set()
    for g, note in doc.notes.items():
        mid = _unique((note.get("name") or g).strip() or g, taken)
        guids[f"note:{mid}"] = g
        kind, code, cid = attached.get(g, ("project", "", ""))
        user = norm_guid(note.get("creatingUser"))
        when = (note.get("creationDateTime") or "")[:10]
        memo_rows.append(
            {
                "memo_id": mid,
                "coder": coder_of.get(user, ""),
                "date": when,
                "attached_to": kind,
                "code": code,
                "coding_id": cid,
                "text": _text(_child(note, "PlainTextContent")),
            }
        )
    memos = _frame(memo_rows, "memos", file)

    synthetic = _text(_child(root, "Description")).startswith(SYNTHETIC_MARKER)
    study = Study(
        participants=empty_frame("participants"),
        transcripts=transcripts,
        codebook=codebook,
        codings=codings,
        coders=coders,
        memos=memos,
        root=pkg.path,
        synthetic=synthetic,
    )
    study.imported = ImportRecord(
        kind="project",
        origin=root.get("origin", ""),
        project_name=root.get("name", ""),
        guids=guids,
        variables=raw,
        variable_types=var_type,
        missing_sources=list(missing),
    )
    set_participants(study, raw, var_type, None, file)
    return study


def _frame(rows: list[dict], table: str, file: str) -> pd.DataFrame:
    if not rows:
        return empty_frame(table)
    df = pd.DataFrame(rows, columns=list(SCHEMAS[table])).astype(object)
    df = df.where(df.notna(), "")
    return coerce(df, table, Path(file))


def validate_file(path: str | Path, *, limits: Limits | None = None) -> list[Problem]:
    """Every problem of a REFI-QDA file: container/XML safety, schema, then semantics.

    Semantic checks: duplicate GUIDs, references (CodeRef, SourceRef, NoteRef,
    VariableRef, MemberCode, creatingUser) that name nothing, selections out of the
    text, ending before or at their start, or on a source whose text is missing,
    and source text that is not UTF-8.  Safety problems stop the check (one line).
    """

    try:
        pkg, doc = _open(path, limits)
    except QDAError as e:
        return [Problem(e.file, e.where, e.what, e.fix)]
    problems = [
        Problem(doc.file, f"line {line}", f"schema: {msg}", "make the file follow the REFI-QDA schema")
        for line, msg in schema_errors(pkg.xml)
    ]
    try:
        _safe_build(pkg, doc)
    except QDAError as e:
        doc.problems.append(Problem(e.file, e.where, e.what, e.fix))
    return problems + doc.problems


# ---------------------------------------------------------------------------
# Canonical form (round-trip comparisons)
# ---------------------------------------------------------------------------
def canonical_xml(data: bytes) -> str:
    """C14N 2.0 of QDA-XML with whitespace-only text stripped (``xml.etree.ElementTree.canonicalize``)."""
    return ET.canonicalize(data.decode("utf-8"), strip_text=True)


def read_qdpx_members(path: str | Path, limits: Limits | None = None) -> dict[str, bytes]:
    """``{member name: bytes}`` of a (trusted or checked) ``.qdpx``, with the same limits as import."""
    pkg = _Package(Path(path), limits or Limits.from_env())
    if pkg.zip is None:
        return {pkg.path.name: pkg.xml}
    return {info.filename: pkg._read(info) for info in pkg.zip.infolist()}


def load_project(path: str | Path, mapping: dict | str | Path | None = None, *, limits: Limits | None = None) -> Study:
    """Import a REFI-QDA file for the book (called by :func:`qda.corpus.load_study`).

    The mapping is ``mapping`` if given, else the file named by ``QDA_MAPPING``, else
    ``qda-project.yml`` beside the export, else none.  The study is marked
    ``synthetic=False`` unless the file is an export of the synthetic corpus
    (its Project Description starts with :data:`SYNTHETIC_MARKER`).
    """
    path = Path(path)
    if mapping is None:
        env = os.environ.get("QDA_MAPPING")
        if env:
            mapping = Path(env)
        elif (path.parent / MAPPING_FILE).is_file():
            mapping = path.parent / MAPPING_FILE
    return import_project(path, mapping, limits=limits)
