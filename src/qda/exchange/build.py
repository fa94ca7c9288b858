"""The study's tables from a parsed REFI-QDA document (:class:`qda.exchange.structure.Doc`).

One function per table; :func:`build_study` calls them in order.  Every problem found
here is recorded on the document (``doc.problems``), never raised as a Python error, so
the caller reports the first (import) or all of them (validate).
"""

from __future__ import annotations

import operator
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from qda.exchange.mapping import EMPTY_ANALYSIS, set_participants
from qda.exchange.naming import (
    _THEME_LABELS,
    ROLE_NOTE,
    SYNTHETIC_MARKER,
    THEMES_ROOT,
    GuidLog,
    UniqueNames,
    _parse_labelled,
    norm_guid,
    parse_code_description,
    sanitise_id,
    slugify,
)
from qda.exchange.safety import _Package
from qda.exchange.structure import VALUE_TAGS, Doc, Selections, _child, _children, _text
from qda.exchange.text import bom_base, count_words, decode_normalised
from qda.study.model import ImportRecord, Study
from qda.study.schema import SCHEMAS, coerce, empty_frame

_GUID_STEM = re.compile(r"^\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?$")


@dataclass
class _State:
    """What one table's builder hands to the next."""

    pkg: _Package
    doc: Doc
    guids: Any = field(default_factory=GuidLog)  # a _GuidLog; ImportRecord.guids is its dict()
    coder_of: dict[str, str] = field(default_factory=dict)
    slug_of: dict[str, str] = field(default_factory=dict)
    themes_of: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # code guid -> theme
    tid_of: dict[str, str] = field(default_factory=dict)
    first_coding: dict[str, str] = field(default_factory=dict)  # selection or coding guid -> coding id
    wanted: frozenset[str] = frozenset()  # the guids first_coding keeps: those a NoteRef is on (_memos reads them)
    notes: list[str] = field(default_factory=list)


def frame(columns: dict[str, list], table: str, file: str) -> pd.DataFrame:
    """A typed table of ``SCHEMAS[table]`` from columns (lists of equal length)."""
    if not columns or not len(next(iter(columns.values()))):
        return empty_frame(table)
    typed = _typed_frame(columns, table)
    if typed is not None:
        return typed
    df = pd.DataFrame({c: columns[c] for c in SCHEMAS[table]}).astype(object)
    df = df.where(df.notna(), "")
    return coerce(df, table, Path(file))


#: Python type of every value of a column of this kind, for :func:`_typed_frame`.
_PY_TYPE = {"str": str, "category": str, "int": int}


def _typed_frame(columns: dict[str, list], table: str) -> pd.DataFrame | None:
    """The frame :func:`coerce` gives, built directly when every value already has its column's type.

    Only for tables whose columns are all ``str``, ``category`` or ``int`` (codings, themes,
    transcripts); None when any value is of another type (then ``coerce`` decides, with its messages).
    """
    schema = SCHEMAS[table]
    if not all(kind in _PY_TYPE for kind in schema.values()):
        return None
    out = {}
    for col, kind in schema.items():
        values = columns[col]
        if set(map(type, values)) != {_PY_TYPE[kind]}:
            return None
        if kind == "int":
            out[col] = pd.Series(np.array(values, dtype=np.int64), copy=False)
        else:
            s = pd.Series(values, dtype=str)
            out[col] = s.astype("category") if kind == "category" else s
    return pd.DataFrame(out)


def _rows_to_columns(rows: list[dict], table: str) -> dict[str, list]:
    return {c: [r.get(c, "") for r in rows] for c in SCHEMAS[table]} if rows else {}


# ---------------------------------------------------------------------------
# Users, codes
# ---------------------------------------------------------------------------
def _coders(st: _State) -> pd.DataFrame:
    names = UniqueNames()
    roles: dict[str, str] = {}
    for g, u in st.doc.users.items():
        base = (u.get("name") or u.get("id") or g).strip() or g
        st.coder_of[g] = names(base)
        st.guids[f"user:{st.coder_of[g]}"] = g
    for note in st.doc.notes.values():
        name = note.get("name") or ""
        if name.startswith(ROLE_NOTE) and name[len(ROLE_NOTE) :] in names:
            roles[name[len(ROLE_NOTE) :]] = _text(_child(note, "PlainTextContent"))
    coders = list(st.coder_of.values())
    return pd.DataFrame({"coder": coders, "role": [roles.get(c, "") for c in coders]}, columns=["coder", "role"])


def _int_or_none(v: str | None) -> Any:
    return int(v) if v and v.strip().lstrip("-").isdigit() else None


def _codebook(st: _State) -> pd.DataFrame:
    doc = st.doc
    set_of: dict[str, str] = {}
    for s in _children(_child(doc.root, "Sets"), "Set"):
        for m in _children(s, "MemberCode"):
            tgt = norm_guid(m.get("guid") if doc.kind == "codebook" else m.get("targetGUID") or m.get("guid"))
            set_of.setdefault(tgt, s.get("name") or "")
            st.guids.setdefault(f"set:{s.get('name') or ''}", norm_guid(s.get("guid")))
    names = UniqueNames()
    rows = []
    theme_root = ""
    for g, (el, parent) in doc.codes.items():
        desc = _text(_child(el, "Description"))
        if not parent and desc == THEMES_ROOT:
            theme_root = g
            st.guids["themes:root"] = g
            continue
        if parent and (parent == theme_root or parent in st.themes_of):
            t = _parse_labelled(desc, _THEME_LABELS, None)
            if _int_or_none(t.get("theme")) is not None:
                tname = t.get("theme_name") or (st.themes_of[parent][1] if parent in st.themes_of else "")
                st.themes_of[g] = (int(t["theme"]), tname, t.get("subtheme", ""))
                st.guids[f"theme:{t['theme']}|{t.get('subtheme', '')}"] = g
                continue
        fields = parse_code_description(desc)
        name = el.get("name") or ""
        base = fields.get("code") or slugify(name)
        if base in names and parent in st.slug_of:
            base = f"{st.slug_of[parent]}__{base}"
        slug = names(base)
        st.slug_of[g] = slug
        st.guids[f"code:{slug}"] = g
        rows.append(
            {
                "version": "final",
                "code": slug,
                "name": name,
                "parent": st.slug_of.get(parent, ""),
                "code_group": set_of.get(g, ""),
                **{k: fields.get(k, "") for k in ("definition", "inclusion", "exclusion", "example", "origin")},
                "introduced_round": _int_or_none(fields.get("introduced_round")) or 0,
                "refined_round": _int_or_none(fields.get("refined_round")),
                "color": el.get("color") or "",
            }
        )
    return frame(_rows_to_columns(rows, "codebook"), "codebook", doc.file)


# ---------------------------------------------------------------------------
# Sources and codings
# ---------------------------------------------------------------------------
@dataclass
class _Prepared:
    stored_len: int
    stored: str | None  # as stored (line ends kept, BOM removed); only when the source had a BOM
    bom: str
    text: str  # LF only
    omap: Any
    n_words: int
    alt: _Prepared | None = None  # the inline text read with its raw CRs (Doc.raw_cr_texts)


def _prepare(raw: bytes | list[bytes], file: str, label: str) -> _Prepared:
    d = decode_normalised(raw, file, label)  # a one-item list is emptied (the bytes freed early)
    return _Prepared(d.stored_len, d.stored, d.bom, d.text, d.omap, count_words(d.text))


def _source_text(st: _State, src: ET.Element, where: str) -> _Prepared | None:
    content = _child(src, "PlainTextContent")
    ptp = src.get("plainTextPath") or ""
    label = f"{where} text {ptp or 'PlainTextContent'}"
    if content is not None:
        prep = _prepare(_text(content).encode("utf-8"), st.doc.file, label)
        written = st.doc.raw_cr_texts.get(norm_guid(src.get("guid")))
        if written is not None:
            prep.alt = _prepare(written.encode("utf-8"), st.doc.file, label)
        return prep
    if src.tag != "TextSource":
        return None
    info = st.pkg.member_info(ptp)
    if info is None:
        return None
    return st.pkg.member(info, lambda held: _prepare(held, st.doc.file, label))


class _Codings:
    """The codings table as columns, plus the themes rows found among them."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {c: [] for c in SCHEMAS["codings"]}
        self.themes: dict[str, list] = {c: [] for c in SCHEMAS["themes"]}
        self.bom_reasons: dict[str, int] = {}


def _raw_cr_reading(st: _State, where: str, starts: np.ndarray, ends: np.ndarray, prep: _Prepared) -> _Prepared | None:
    """The reading of an inline text with raw CRs that its selections count, or None (a problem).

    XML reads a raw CRLF or CR as LF (so REFI-QDA's text, read as the XML says, has none);
    an exporter that held CRLF text counted the CRs. Decision (issue 17 item 6): the two
    readings give the same LF text; when every selection selects the same characters in
    both, there is nothing to decide; when a selection ends past the text read without the
    CRs but within the text with them, only counting the CRs fits, and it is used (said in
    one line by `import`); otherwise which one the exporter meant cannot be told, and the
    source is refused with one line rather than imported with codings that may be shifted.
    """
    alt = prep.alt
    if alt is None or alt.text != prep.text:  # not two readings of one text: read it as XML does
        return prep
    if ((ends > prep.stored_len) & (ends <= alt.stored_len)).any():
        st.notes.append(
            f"{st.doc.file}: {where}: its inline text has raw CR line ends, which XML reads as LF; "
            "its selections count them (one ends past the text without them)"
        )
        return alt

    def lf(p: _Prepared, x: np.ndarray) -> np.ndarray:
        return p.omap(x) if p.omap is not None else x

    differ = (lf(prep, starts) != lf(alt, starts)) | (lf(prep, ends) != lf(alt, ends))
    if not differ.any():
        return prep
    st.doc.problem(
        where,
        f"has its text inline (PlainTextContent) with raw CR line ends, which XML reads as LF, and "
        f"{int(differ.sum())} selection(s) select different text counting those CRs or not: "
        "which the exporter meant cannot be told",
        "write each CR as &#13; (or store the text as a file, plainTextPath), positions counted on that text",
    )
    return None


def _selection_codings(st: _State, tid: str, src: ET.Element, rows: Selections, prep: _Prepared, out: _Codings) -> None:
    doc = st.doc
    where = f"<{src.tag} guid={src.get('guid')}>"
    starts = np.frombuffer(rows.start, dtype=np.int64).copy() if len(rows) else np.zeros(0, np.int64)
    ends = np.frombuffer(rows.end, dtype=np.int64).copy() if len(rows) else np.zeros(0, np.int64)
    raw_s, raw_e = starts.copy(), ends.copy()
    if prep.alt is not None:
        chosen = _raw_cr_reading(st, where, starts, ends, prep)
        if chosen is None:
            return
        prep = chosen
    if prep.bom:
        try:
            delta, reason = bom_base(prep.stored, starts, ends, doc.root.get("origin", ""))
        except ValueError as e:
            doc.problem(where, f"starts with a byte-order mark and {e}", "export the source as UTF-8 without a BOM")
            return
        out.bom_reasons[reason] = out.bom_reasons.get(reason, 0) + 1
        starts -= delta
        ends -= delta
    n = prep.stored_len
    bad = (starts < 0) | (ends > n) | (ends <= starts)
    for i in np.flatnonzero(bad).tolist():
        sw = f"{where} <PlainTextSelection guid={rows.sel_guid[i]}>"
        s, e = int(raw_s[i]), int(raw_e[i])
        if starts[i] < 0 or ends[i] > n:
            doc.problem(
                sw,
                f"positions {s}-{e} lie outside the text (0-{n} code points)",
                "fix the positions or export the matching source text",
            )
        else:
            doc.problem(sw, f"ends at {e}, not after its start {s}", "fix the positions (end is exclusive)")
    keep = np.flatnonzero(~bad)
    if prep.omap is not None:
        starts, ends = prep.omap(starts), prep.omap(ends)
    if not st.themes_of or st.themes_of.keys().isdisjoint(rows.code_ref):
        _plain_codings(st, tid, rows, keep, starts, ends, out)
        return
    prev_sel = None
    c = out.cols
    for i in keep.tolist():
        sg, cg, cid, ref = rows.sel_guid[i], rows.coding_guid[i], rows.coding_id[i], rows.code_ref[i]
        if not cg:  # a selection without a coding
            continue
        user = rows.user[i]
        coder = st.coder_of.get(user, user)
        if ref in st.themes_of:
            theme, tname, sub = st.themes_of[ref]
            tcid = rows.theme_id[i] or cg
            st.guids[f"theme_coding:{tcid}"] = cg
            if sg != prev_sel:
                st.guids[f"theme_selection:{tcid}"] = sg
            for k, v in (
                ("theme_coding_id", tcid),
                ("transcript_id", tid),
                ("start", int(starts[i])),
                ("end", int(ends[i])),
                ("theme", theme),
                ("theme_name", tname),
                ("subtheme", sub),
                ("coder", coder),
            ):
                out.themes[k].append(v)
            prev_sel = sg
            continue
        st.first_coding.setdefault(cg, cid)
        st.first_coding.setdefault(sg, cid)
        st.guids[f"coding:{cid}"] = cg
        if sg != prev_sel:
            st.guids[f"selection:{cid}"] = sg
        prev_sel = sg
        c["coding_id"].append(cid)
        c["transcript_id"].append(tid)
        c["coder"].append(coder)
        c["round"].append(rows.round[i])
        c["start"].append(int(starts[i]))
        c["end"].append(int(ends[i]))
        c["code"].append(st.slug_of.get(ref, ref))
        c["codebook_version"].append(rows.version[i])


def _plain_codings(
    st: _State, tid: str, rows: Selections, keep: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: _Codings
) -> None:
    """The loop of :func:`_selection_codings` for a source without theme codings, column by column.

    The GUID map and the first coding of each selection and coding are filled with the same
    keys, values and insertion order as the loop would, by ``dict.update`` on pairs built in bulk.
    """
    n = len(rows)
    if len(keep) == n and "" not in rows.coding_guid:  # the usual case: every row kept, every row a coding
        cgs, sgs, cids = rows.coding_guid, rows.sel_guid, rows.coding_id
        users, refs, rounds, versions = rows.user, rows.code_ref, rows.round, rows.version
        s_out, e_out = starts.tolist(), ends.tolist()
    else:
        idx = [i for i in keep.tolist() if rows.coding_guid[i]]  # a selection without a coding adds nothing
        if not idx:
            return
        cgs, sgs, cids, users, refs, rounds, versions = (
            [col[i] for i in idx]
            for col in (
                rows.coding_guid,
                rows.sel_guid,
                rows.coding_id,
                rows.user,
                rows.code_ref,
                rows.round,
                rows.version,
            )
        )
        s_out, e_out = starts[idx].tolist(), ends[idx].tolist()
    m = len(cgs)
    if m == 0:
        return
    if st.wanted:  # first_coding.setdefault(cg, cid), then (sg, cid), row after row
        fc, wanted = st.first_coding, st.wanted
        for cg, sg, cid in zip(cgs, sgs, cids, strict=True):
            if cg in wanted and cg not in fc:
                fc[cg] = cid
            if sg in wanted and sg not in fc:
                fc[sg] = cid
    # guids["coding:" + cid] = cg, then guids["selection:" + cid] = sg where the selection changes
    if not any(map(operator.eq, sgs[1:], sgs[:-1])):  # no selection holds two codings in a row
        st.guids.add_codings(cids, cgs, sgs)
    else:
        guids, prev = st.guids, None
        for cg, sg, cid in zip(cgs, sgs, cids, strict=True):
            guids["coding:" + cid] = cg
            if sg != prev:
                guids["selection:" + cid] = sg
            prev = sg
    coder_of, slug_of = st.coder_of, st.slug_of
    c = out.cols
    c["coding_id"].extend(cids)
    c["transcript_id"].extend([tid] * m)
    c["coder"].extend(map(coder_of.get, users, users))
    c["round"].extend(rounds)
    c["start"].extend(s_out)
    c["end"].extend(e_out)
    c["code"].extend(map(slug_of.get, refs, refs))
    c["codebook_version"].extend(versions)


def _whole_source_codings(st: _State, tid: str, src: ET.Element, length: int, out: _Codings) -> None:
    for cod in _children(src, "Coding"):
        cg = norm_guid(cod.get("guid"))
        st.first_coding.setdefault(cg, cg)
        user = norm_guid(cod.get("creatingUser"))
        ref_el = _child(cod, "CodeRef")
        ref = norm_guid(ref_el.get("targetGUID") if ref_el is not None else "")
        for k, v in (
            ("coding_id", cg),
            ("transcript_id", tid),
            ("coder", st.coder_of.get(user, user)),
            ("round", "full"),
            ("start", 0),
            ("end", length),
            ("code", st.slug_of.get(ref, ref)),
            ("codebook_version", "final"),
        ):
            out.cols[k].append(v)


def _sources(st: _State) -> tuple[pd.DataFrame, _Codings, list[str]]:
    doc, pkg = st.doc, st.pkg
    names = UniqueNames()
    tr_rows: list[dict] = []
    out = _Codings()
    missing: list[str] = []
    for g, src in doc.sources.items():
        ptp = src.get("plainTextPath") or ""
        stem = PurePosixPath(re.sub(r"^internal://", "", ptp)).stem if ptp else ""
        base = src.get("name") or (stem if stem and not _GUID_STEM.match(stem) else g)
        tid = names(sanitise_id(base))
        st.tid_of[g] = tid
        st.guids[f"source:{tid}"] = g
        where = f"<{src.tag} guid={src.get('guid')}>"
        rows = doc.selections.get(src)
        coded = bool(rows and rows.n_selections) or bool(_children(src, "Coding"))
        prep = _source_text(st, src, where)
        if prep is None:
            missing.append(tid)
            if coded:
                doc.problem(
                    where,
                    f"has {rows.n_selections if rows else 0} coded selection(s) but its text {ptp!r} is not in the file",
                    "export a .qdpx that includes the sources",
                )
                continue
            prep = _prepare(b"", doc.file, where)
        if src.tag != "TextSource" and coded:
            doc.problem(
                where,
                f"is a {src.tag}; only text sources are analysed",
                "convert it to a text source or remove its codings",
            )
        if rows is not None:
            _selection_codings(st, tid, src, rows, prep, out)
        _whole_source_codings(st, tid, src, len(prep.text), out)
        tr_rows.append(
            {
                "transcript_id": tid,
                "participant_id": tid,
                "path": f"{pkg.path}!{ptp}" if ptp else str(pkg.path),
                "text": prep.text,
                "n_chars": len(prep.text),
                "n_words": prep.n_words,
            }
        )
    if out.bom_reasons:
        n = sum(out.bom_reasons.values())
        how = "; ".join(f"{k} in {v}" for k, v in out.bom_reasons.items())
        st.notes.append(f"{doc.file}: sources: {n} source(s) start with a byte-order mark; offsets read {how}")
    return tr_rows, out, missing


# ---------------------------------------------------------------------------
# Cases and variables, notes
# ---------------------------------------------------------------------------
def _value_of(vv: ET.Element) -> str:
    """The text of a VariableValue's value (stripped unless it is a TextValue)."""
    for tag in VALUE_TAGS:
        c = _child(vv, tag)
        if c is not None:
            return _text(c) if tag == "TextValue" else _text(c).strip()
    return ""


def _participants(st: _State, tr_rows: list[dict]) -> tuple[pd.DataFrame, dict[str, str]]:
    doc = st.doc
    var_name = {g: (v.get("name") or g) for g, v in doc.variables.items()}
    var_type = {var_name[g]: v.get("typeOfVariable", "Text") for g, v in doc.variables.items()}
    for g, name in var_name.items():
        st.guids[f"variable:{name}"] = g

    def values(el: ET.Element) -> dict[str, str]:
        out = {}
        for vv in _children(el, "VariableValue"):
            ref_el = _child(vv, "VariableRef")
            ref = norm_guid(ref_el.get("targetGUID") if ref_el is not None else "")
            out[var_name.get(ref, ref)] = _value_of(vv)
        return out

    raw_rows: list[dict[str, str]] = []
    owner: dict[str, str] = {}
    names = UniqueNames()
    for case in _children(_child(doc.root, "Cases"), "Case"):
        pid = names((case.get("name") or norm_guid(case.get("guid"))).strip())
        st.guids[f"case:{pid}"] = norm_guid(case.get("guid"))
        row = {"participant_id": pid, **values(case)}
        for sref in _children(case, "SourceRef"):
            sg = norm_guid(sref.get("targetGUID"))
            if sg in st.tid_of:
                owner.setdefault(sg, pid)
                for k, v in values(doc.sources[sg]).items():
                    row.setdefault(k, v)
        raw_rows.append(row)
    for g, src in doc.sources.items():
        if g not in owner:
            owner[g] = names(st.tid_of[g])
            raw_rows.append({"participant_id": owner[g], **values(src)})
    pid_of_tid = {st.tid_of[g]: p for g, p in owner.items()}
    for r in tr_rows:
        r["participant_id"] = pid_of_tid.get(r["transcript_id"], r["transcript_id"])
    raw = (
        pd.DataFrame(raw_rows, dtype=object).fillna("")
        if raw_rows
        else pd.DataFrame({"participant_id": []}, dtype=object)
    )
    return raw, var_type


def _memos(st: _State, coders: pd.DataFrame) -> pd.DataFrame:
    doc = st.doc
    attached: dict[str, tuple[str, str, str]] = {}
    for g, (el, _) in doc.codes.items():
        for nr in _children(el, "NoteRef"):
            if g in st.slug_of:
                attached.setdefault(norm_guid(nr.get("targetGUID")), ("code", st.slug_of[g], ""))
    for rows in doc.selections.values():
        for owner, note in rows.note_refs:
            attached.setdefault(note, ("coding", "", st.first_coding.get(owner, "")))
    role_notes = {f"{ROLE_NOTE}{c}" for c in coders["coder"]}
    names = UniqueNames()
    rows_out = []
    for g, note in doc.notes.items():
        if (note.get("name") or "") in role_notes:
            st.guids[f"role:{note.get('name')[len(ROLE_NOTE) :]}"] = g
            continue
        mid = names((note.get("name") or g).strip() or g)
        st.guids[f"note:{mid}"] = g
        kind, code, cid = attached.get(g, ("project", "", ""))
        user = norm_guid(note.get("creatingUser"))
        rows_out.append(
            {
                "memo_id": mid,
                "coder": st.coder_of.get(user, ""),
                "date": (note.get("creationDateTime") or "")[:10],
                "attached_to": kind,
                "code": code,
                "coding_id": cid,
                "text": _text(_child(note, "PlainTextContent")),
            }
        )
    return frame(_rows_to_columns(rows_out, "memos"), "memos", doc.file)


# ---------------------------------------------------------------------------
# The study
# ---------------------------------------------------------------------------
def build_study(pkg: _Package, doc: Doc) -> Study:
    """The :class:`~qda.study.model.Study` of a parsed document (problems go to ``doc.problems``)."""
    st = _State(pkg, doc)
    coders = _coders(st)
    codebook = _codebook(st)
    origin = doc.root.get("origin", "")
    if doc.kind == "codebook":
        study = Study(
            participants=empty_frame("participants"),
            transcripts=empty_frame("transcripts"),
            codebook=codebook,
            codings=empty_frame("codings"),
            root=pkg.path,
            synthetic=False,
        )
        study.imported = ImportRecord(kind="codebook", origin=origin, guids=st.guids.dict())
        return study
    st.wanted = frozenset(owner for rows in doc.selections.values() for owner, _ in rows.note_refs)
    tr_rows, codings, missing = _sources(st)
    raw, var_type = _participants(st, tr_rows)
    study = Study(
        participants=empty_frame("participants"),
        transcripts=frame(_rows_to_columns(tr_rows, "transcripts"), "transcripts", doc.file),
        codebook=codebook,
        codings=frame(codings.cols, "codings", doc.file),
        coders=coders,
        memos=_memos(st, coders),
        themes=frame(codings.themes, "themes", doc.file),
        root=pkg.path,
        synthetic=_text(_child(doc.root, "Description")).startswith(SYNTHETIC_MARKER),
    )
    study.imported = ImportRecord(
        kind="project",
        origin=origin,
        project_name=doc.root.get("name", ""),
        variables=raw,
        variable_types=var_type,
        missing_sources=missing,
        notes=st.notes,
    )
    if st.guids.blocks:  # the codings' millions of entries are made when first read (by an export)
        study.imported.defer_guids(st.guids.dict)
    else:
        study.imported.guids = st.guids.dict()
    if not study.synthetic:  # a user's project names its analysis codes in its mapping
        study.analysis = {k: (list(v) if isinstance(v, list) else v) for k, v in EMPTY_ANALYSIS.items()}
    set_participants(study, raw, var_type, None, doc.file)
    return study
