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
from another tool keeps its GUIDs (``study.extra["refi_guids"]``).

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

import io
import os
import re
import stat
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator

import defusedxml.ElementTree as DET
import numpy as np
import pandas as pd
from defusedxml.common import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from .corpus import DEFAULT_ANALYSIS_CODES, SCHEMAS, Study, _coerce, empty_frame
from .errors import DataError, LimitExceededError, Problem, ReferenceIntegrityError, RefiError, UnsafeInputError
from .io import atomic_write, read_yaml

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
#: Namespaces seen in real exports (PROVENANCE "Gotchas"); elements are matched on local names anyway.
KNOWN_NAMESPACES = {
    NS_PROJECT, "urn:QDA-XML:project:1:0", NS_CODEBOOK, "urn:QDA-XML:codebook:0:4", "urn:QDA-XML:codebook:1:0",
}
SCHEMA_DIR = Path(__file__).with_name("schema")
#: UUID-5 namespace of this package's GUIDs (itself uuid5(NAMESPACE_URL, ...)).
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/qda-book/qda/refi")
#: Marker in the Project Description of exports of the synthetic corpus.
SYNTHETIC_MARKER = "SYNTHETIC DATA"
ORIGIN = "qda 0.1.0 (synthetic mentoring-study book)"
MIB = 1024 * 1024


# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """Safety limits for reading untrusted REFI-QDA files.

    ``max_uncompressed``: bytes, sum of the declared sizes of all zip members (or the
    size of a bare ``.qde``/``.qdc``); ``max_entries``: zip members; ``max_depth``:
    XML element nesting; ``max_ratio``: uncompressed/compressed size of any member
    larger than 1 MiB (text compresses about 3-10x; a zip bomb 1000x).
    """

    max_uncompressed: int = 512 * MIB
    max_entries: int = 10_000
    max_depth: int = 256
    max_ratio: float = 200.0

    @classmethod
    def from_env(cls, **overrides: Any) -> "Limits":
        """Defaults, overridden by ``QDA_REFI_MAX_*`` environment variables, then by ``overrides``."""
        vals: dict[str, Any] = {}
        for name, conv in (("max_uncompressed", int), ("max_entries", int), ("max_depth", int), ("max_ratio", float)):
            env = os.environ.get(f"QDA_REFI_{name.upper()}")
            if env:
                try:
                    vals[name] = conv(env)
                except ValueError:
                    raise DataError(f"QDA_REFI_{name.upper()}", "environment", f"{env!r} is not a number",
                                    "set it to a whole number or unset it") from None
        vals.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**vals)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def make_guid(kind: str, key: str) -> str:
    """Deterministic GUID: ``uuid5(GUID_NAMESPACE, f"{kind}:{key}")`` (RFC 4122 section 4.3), lower case."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def norm_guid(g: str | None) -> str:
    """GUIDs compare case-insensitively and with or without braces (Project.xsd GUIDType)."""
    return (g or "").strip().strip("{}").lower()


def slugify(name: str) -> str:
    """Code slug from a display name: lower case, runs of non-alphanumerics -> ``_``, ``c_`` before a digit.

    The result matches ``qda.codebook``'s slug rule ``^[a-z][a-z0-9_]*$``.
    """
    s = re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")
    if not s:
        return "code"
    return s if s[0].isalpha() else f"c_{s}"


def sanitise_id(name: str) -> str:
    """A file-safe identifier: characters outside ``[A-Za-z0-9_.-]`` -> ``_``; no leading dot."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._")
    return s[:120] or "source"


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


#: Labels of the structured code Description, in export order -> codebook column.
_DESC_LABELS = {
    "Definition": "definition", "Inclusion": "inclusion", "Exclusion": "exclusion", "Example": "example",
    "Origin": "origin", "Introduced in round": "introduced_round", "Refined in round": "refined_round",
    "Code ID": "code",
}
_SEL_LABELS = {"Coding ID": "coding_id", "Round": "round", "Codebook version": "codebook_version"}


def _labelled_text(fields: list[tuple[str, str]]) -> str:
    return "\n".join(f"{label}: {value}" for label, value in fields if value != "")


def _parse_labelled(text: str, labels: dict[str, str], default: str | None) -> dict[str, str]:
    """Inverse of :func:`_labelled_text`: ``Label: value`` lines, continuation lines appended.

    Text before the first label (or all of it when there is no label) goes to ``default``.
    """
    out: dict[str, str] = {}
    pat = re.compile(r"^(" + "|".join(re.escape(k) for k in labels) + r"):[ \t]?(.*)$")
    key = default
    for line in (text or "").split("\n"):
        m = pat.match(line)
        if m:
            key = labels[m.group(1)]
            out[key] = m.group(2)
        elif key is not None:
            out[key] = f"{out[key]}\n{line}" if key in out else line
    return {k: v.strip("\n") for k, v in out.items()}


def code_description(row: pd.Series | dict, with_id: bool = False) -> str:
    """The structured ``Description`` of a Code.

    Lines ``Definition:``, ``Inclusion:``, ``Exclusion:``, ``Example:``, ``Origin:``,
    ``Introduced in round:``, ``Refined in round:`` (empty fields left out), and
    ``Code ID: <slug>`` when the slug cannot be derived from the name
    (:func:`slugify`).  REFI-QDA 1.5 has no separate criteria fields (a Code has only
    Description and NoteRef), so this is our convention; tools show it as free text.
    """
    rr = row.get("refined_round")
    ir = row.get("introduced_round")
    fields = [
        ("Definition", str(row.get("definition", "") or "")),
        ("Inclusion", str(row.get("inclusion", "") or "")),
        ("Exclusion", str(row.get("exclusion", "") or "")),
        ("Example", str(row.get("example", "") or "")),
        ("Origin", str(row.get("origin", "") or "")),
        ("Introduced in round", "" if ir is None or pd.isna(ir) or int(ir) == 0 else str(int(ir))),
        ("Refined in round", "" if rr is None or pd.isna(rr) else str(int(rr))),
    ]
    if with_id:
        fields.append(("Code ID", str(row["code"])))
    return _labelled_text(fields)


def parse_code_description(text: str) -> dict[str, str]:
    """Inverse of :func:`code_description`; unlabelled text is the definition."""
    return _parse_labelled(text, _DESC_LABELS, "definition")


# ---------------------------------------------------------------------------
# Reading untrusted containers and XML
# ---------------------------------------------------------------------------
_FIX_REEXPORT = "re-export the project from your QDA program"


class _Package:
    """A REFI-QDA file opened for reading: the XML bytes plus access to zip members."""

    def __init__(self, path: Path, limits: Limits):
        self.path = path
        self.limits = limits
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, zipfile.ZipInfo] = {}
        suffix = path.suffix.lower()
        if not path.is_file():
            raise RefiError(path, "file", "does not exist", "give the path of a .qdpx, .qde or .qdc file")
        size = path.stat().st_size
        if size == 0:
            raise RefiError(path, "file", "is empty", _FIX_REEXPORT)
        self.qde_name = path.name
        if suffix == ".qdpx" or zipfile.is_zipfile(path):
            self.kind = "qdpx"
            self._open_zip()
        elif suffix in {".qde", ".qdc"}:
            self.kind = suffix[1:]
            if size > limits.max_uncompressed:
                raise LimitExceededError(path, "file", f"is {size} bytes, above the limit of {limits.max_uncompressed}",
                                         "raise Limits.max_uncompressed (QDA_REFI_MAX_UNCOMPRESSED) if you trust it")
            self.xml = path.read_bytes()
        else:
            raise RefiError(path, "file name", f"has the suffix {suffix!r}", "give a .qdpx, .qde or .qdc file")

    def _open_zip(self) -> None:
        path, lim = self.path, self.limits
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise RefiError(path, "zip", f"is not a readable zip archive ({e})", _FIX_REEXPORT) from None
        self.zip = zf
        infos = zf.infolist()
        if len(infos) > lim.max_entries:
            raise LimitExceededError(path, "zip", f"has {len(infos)} entries, above the limit of {lim.max_entries}",
                                     "raise Limits.max_entries (QDA_REFI_MAX_ENTRIES) if you trust the file")
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            p = PurePosixPath(name.replace("\\", "/"))
            if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in p.parts or "\x00" in name):
                raise UnsafeInputError(path, f"zip entry {name!r}", "points outside the archive (zip-slip)",
                                       "do not open this file; ask its author for a clean export")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnsafeInputError(path, f"zip entry {name!r}", "is a symbolic link",
                                       "do not open this file; ask its author for a clean export")
            if info.flag_bits & 0x1:
                raise RefiError(path, f"zip entry {name!r}", "is encrypted", "export the project without a password")
            key = name.lower()
            if key in seen:
                raise UnsafeInputError(path, f"zip entry {name!r}", "appears twice", _FIX_REEXPORT)
            seen.add(key)
            total += info.file_size
            if info.file_size > MIB and info.file_size > lim.max_ratio * max(info.compress_size, 1):
                raise LimitExceededError(
                    path, f"zip entry {name!r}",
                    f"expands {info.file_size / max(info.compress_size, 1):.0f}-fold, above the limit of {lim.max_ratio:g} (zip bomb?)",
                    "raise Limits.max_ratio (QDA_REFI_MAX_RATIO) if you trust the file")
            self.members[key] = info
        if total > lim.max_uncompressed:
            raise LimitExceededError(path, "zip", f"expands to {total} bytes, above the limit of {lim.max_uncompressed}",
                                     "raise Limits.max_uncompressed (QDA_REFI_MAX_UNCOMPRESSED) if you trust the file")
        qdes = [i for i in infos if i.filename.lower().endswith(".qde") and "/" not in i.filename.strip("/")]
        if not qdes:
            raise RefiError(path, "zip", "holds no .qde project file", "export again as a REFI-QDA project (.qdpx)")
        named = [i for i in qdes if i.filename.lower() == "project.qde"]
        if named:
            chosen = named[0]
        elif len(qdes) == 1:
            chosen = qdes[0]
        else:
            raise RefiError(path, "zip", f"holds {len(qdes)} .qde files and none is project.qde",
                            "keep only one .qde in the archive")
        self.qde_name = chosen.filename
        self.xml = self._read(chosen)

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        assert self.zip is not None
        try:
            with self.zip.open(info) as f:
                data = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as e:
            # zipfile checks the CRC and the declared size: a lying header ends here
            raise UnsafeInputError(self.path, f"zip entry {info.filename!r}", f"cannot be decompressed ({e})",
                                   _FIX_REEXPORT) from None
        if len(data) > info.file_size:
            raise UnsafeInputError(self.path, f"zip entry {info.filename!r}", "is larger than its header says",
                                   "do not open this file; ask its author for a clean export")
        return data

    def source_bytes(self, plain_text_path: str) -> bytes | None:
        """The bytes of a source's plain text inside the archive, or None when absent.

        ``internal://X`` and bare ``X`` both resolve to ``sources/X`` (then ``X``);
        member names compare case-insensitively (GUID case differs between tools).
        Nothing outside the archive is read: absolute or external paths give None.
        """
        if self.zip is None or not plain_text_path:
            return None
        rel = re.sub(r"^internal://", "", plain_text_path.strip(), flags=re.I).replace("\\", "/")
        if re.match(r"^[a-z][a-z0-9+.-]*://", rel, flags=re.I) or rel.startswith("/") or ".." in rel.split("/"):
            return None
        for cand in (f"sources/{rel}", rel):
            info = self.members.get(cand.lower())
            if info is not None:
                return self._read(info)
        return None

    def where(self) -> str:
        return self.qde_name


def parse_xml(data: bytes, file: str | Path, limits: Limits | None = None) -> ET.Element:
    """Parse untrusted XML safely; return the root with namespace-free (local) tag names.

    defusedxml forbids DTDs (hence entity expansion and external references);
    depth is counted while parsing and stops at ``limits.max_depth``.
    """
    limits = limits or Limits.from_env()
    if not data.strip():
        raise RefiError(file, "XML", "is empty", _FIX_REEXPORT)
    depth = 0
    try:
        it = DET.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True,
                           forbid_entities=True, forbid_external=True)
        for event, el in it:
            if event == "start":
                depth += 1
                if depth > limits.max_depth:
                    raise LimitExceededError(file, f"XML element <{_local(el.tag)}>",
                                             f"is nested deeper than {limits.max_depth} levels",
                                             "raise Limits.max_depth (QDA_REFI_MAX_DEPTH) if you trust the file")
            else:
                depth -= 1
        root = it.root
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as e:
        raise UnsafeInputError(file, "XML", f"declares a DTD or entities ({type(e).__name__}), which REFI-QDA never needs "
                               "and which can read local files or expand without bound",
                               "remove the <!DOCTYPE ...> block or re-export the file") from None
    except DefusedXmlException as e:  # pragma: no cover - other defusedxml refusals
        raise UnsafeInputError(file, "XML", f"was refused by the safe parser ({type(e).__name__})",
                               "re-export the file") from None
    except (LookupError, ValueError) as e:  # an unknown encoding in the XML declaration, bad bytes
        raise RefiError(file, "XML declaration", f"cannot be decoded ({e})",
                        "save the file as UTF-8 with encoding=\"utf-8\" in its declaration") from None
    except ET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        msg = str(e).split(":")[0]
        raise RefiError(file, f"line {line}, column {col}", f"is not well-formed XML ({msg})", _FIX_REEXPORT) from None
    for el in root.iter():
        el.tag = _local(el.tag)
    return root


# ---------------------------------------------------------------------------
# Schema validation (trusted XSDs; documents already passed parse_xml)
# ---------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _schema(kind: str):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    doc = etree.parse(str(SCHEMA_DIR / ("Project.xsd" if kind == "project" else "Codebook.xsd")), parser)
    return etree.XMLSchema(doc)


def schema_errors(data: bytes, kind: str | None = None) -> list[tuple[int, str]]:
    """Validate QDA-XML against ``Project.xsd`` or ``Codebook.xsd``; return ``[(line, message)]``.

    Namespace variants (:data:`KNOWN_NAMESPACES`, or none) are rewritten to the
    schema's namespace first, so only structure is judged.  Call :func:`parse_xml`
    first on untrusted bytes (it rejects DTDs); lxml here resolves nothing and
    reads nothing from the network.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(data, parser)
    local = etree.QName(root).localname
    kind = kind or ("codebook" if local == "CodeBook" else "project")
    ns = NS_CODEBOOK if kind == "codebook" else NS_PROJECT
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = f"{{{ns}}}{etree.QName(el).localname}"
    schema = _schema(kind)
    if schema.validate(root):
        return []
    return [(e.line, e.message) for e in schema.error_log]


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
        raise RefiError(file, f"root element <{root.tag}>", "is neither <Project> nor <CodeBook>",
                        "give a REFI-QDA .qdpx, .qde or .qdc file")
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
                    doc.problem(_where(s), f"MemberCode guid={m.get('guid')} names no Code", "remove it or add the code")
        return doc
    doc.users = {norm_guid(u.get("guid")): u for u in _children(_child(root, "Users"), "User")}
    doc.variables = {norm_guid(v.get("guid")): v for v in _children(_child(root, "Variables"), "Variable")}
    doc.sources = {norm_guid(s.get("guid")): s for s in list(_child(root, "Sources") or [])}
    doc.notes = {norm_guid(n.get("guid")): n for n in _children(_child(root, "Notes"), "Note")}
    targets = {"CodeRef": doc.codes, "MemberCode": doc.codes, "SourceRef": doc.sources, "MemberSource": doc.sources,
               "NoteRef": doc.notes, "MemberNote": doc.notes, "VariableRef": doc.variables}
    fixes = {"CodeRef": "add the code to the CodeBook or remove the coding", "NoteRef": "add the Note or remove the reference",
             "SourceRef": "add the source or remove the reference", "VariableRef": "declare the Variable under <Variables>"}
    parent_of = {c: p for p in root.iter() for c in p}
    for el in root.iter():
        if el.tag in targets and norm_guid(el.get("targetGUID")) not in targets[el.tag]:
            owner = parent_of.get(el, root)
            doc.problem(_where(owner), f"<{el.tag} targetGUID={el.get('targetGUID')}> points to nothing",
                        fixes.get(el.tag, "remove the reference or add its target"))
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
# Source text
# ---------------------------------------------------------------------------
def decode_source(raw: bytes, file: str, where: str) -> str:
    """Decode a plain-text source: UTF-8 (a leading BOM is dropped) or UTF-16 with BOM.

    Raises :class:`RefiError` for bytes that are not UTF-8.  Line ends are kept
    (see :func:`normalise_newlines`).
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RefiError(file, f"{where}, byte {e.start}", "is not UTF-8 text",
                        "save the source as UTF-8 and export again") from None
    return text[1:] if text.startswith("\ufeff") else text


def normalise_newlines(text: str) -> tuple[str, np.ndarray]:
    """LF-only text, and ``shift`` with ``new_offset = old - shift[old]`` for 0 <= old <= len(text).

    A CRLF pair becomes LF (one code point removed, after the CR); a lone CR becomes LF.
    ``shift[i]`` counts the CRs of CRLF pairs before position ``i``, so a selection that
    began or ended at a CRLF keeps the same characters.
    """
    n = len(text)
    removed = np.zeros(n + 1, dtype=np.int64)
    for m in re.finditer("\r\n", text):
        removed[m.start() + 1] += 1  # the CR at m.start() disappears; positions after it shift
    shift = np.cumsum(removed)
    return text.replace("\r\n", "\n").replace("\r", "\n"), shift


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
        more = f" (and {len(doc.problems) - 1} more; run `python -m qda validate FILE`)" if len(doc.problems) > 1 else ""
        raise RefiError(p.file, p.where, p.what + more, p.fix)


def _value_of(vv: ET.Element) -> tuple[str, str]:
    """(text value, REFI type) of a VariableValue."""
    for tag, typ in (("TextValue", "Text"), ("BooleanValue", "Boolean"), ("IntegerValue", "Integer"),
                     ("FloatValue", "Float"), ("DateValue", "Date"), ("DateTimeValue", "DateTime")):
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


def import_project(path: str | Path, mapping: dict | str | Path | None = None, *, limits: Limits | None = None) -> Study:
    """Read a ``.qdpx``, ``.qde`` or ``.qdc`` file into a :class:`~qda.corpus.Study`.

    Rules (the inverse of :func:`export_project`; see the module docstring):

    * transcripts: one per ``TextSource``; ``transcript_id`` = source name (sanitised,
      :func:`sanitise_id`), else the plainTextPath's stem when it is not a GUID, else
      the GUID; text decoded by :func:`decode_source`, offsets normalised by
      :func:`normalise_newlines`.  Sources whose text is not in the file (a bare
      ``.qde``) get empty text and are listed in ``study.extra["missing_sources"]``;
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
      ``study.extra["missing_participant_columns"]``.
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
        raise RefiError(doc.file, "structure", f"cannot be read as a REFI-QDA project ({type(e).__name__}: {e})",
                        "run `python -m qda validate FILE` and re-export the project") from None


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

        cb_rows.append({
            "version": "final", "code": slug, "name": name, "parent": slug_of.get(parent, ""),
            "code_group": set_of.get(g, ""), "definition": fields.get("definition", ""),
            "inclusion": fields.get("inclusion", ""), "exclusion": fields.get("exclusion", ""),
            "example": fields.get("example", ""), "origin": fields.get("origin", ""),
            "introduced_round": _int(fields.get("introduced_round")) or 0,
            "refined_round": _int(fields.get("refined_round")),
            "color": el.get("color") or "",
        })
    codebook = _frame(cb_rows, "codebook", file)
    if doc.kind == "codebook":
        study = Study(participants=empty_frame("participants"), transcripts=empty_frame("transcripts"),
                      codebook=codebook, codings=empty_frame("codings"), root=pkg.path, synthetic=False)
        study.extra.update(refi_guids=guids, refi_kind="codebook", refi_origin=root.get("origin", ""))
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
            doc.problem(where, f"has {len(selections)} coded selection(s) but its text {ptp!r} is not in the file",
                        "export a .qdpx that includes the sources")
            continue
        if src.tag != "TextSource" and (selections or _children(src, "Coding")):
            doc.problem(where, f"is a {src.tag}; only text sources are analysed",
                        "convert it to a text source or remove its codings")
        for sel in selections:
            s, e = _int_attr(doc, sel, "startPosition"), _int_attr(doc, sel, "endPosition")
            if s is None or e is None:
                continue
            sw = f"{where} <PlainTextSelection guid={sel.get('guid')}>"
            if s < 0 or e > len(stored):
                doc.problem(sw, f"positions {s}-{e} lie outside the text (0-{len(stored)} code points)",
                            "fix the positions or export the matching source text")
                continue
            if e <= s:
                doc.problem(sw, f"ends at {e}, not after its start {s}", "fix the positions (end is exclusive)")
                continue
            ns, ne = s - int(shift[s]), e - int(shift[e])
            info = _parse_labelled(_text(_child(sel, "Description")), _SEL_LABELS, None)
            codings = _children(sel, "Coding")
            for k, c in enumerate(codings):
                cg = norm_guid(c.get("guid"))
                cid = info.get("coding_id") if len(codings) == 1 and info.get("coding_id") else cg
                coding_ids[cg] = cid
                sel_coding.setdefault(norm_guid(sel.get("guid")), cid)
                guids[f"coding:{cid}"] = cg
                if len(codings) == 1:
                    guids[f"selection:{cid}"] = norm_guid(sel.get("guid"))
                user = norm_guid(c.get("creatingUser") or sel.get("creatingUser"))
                code_ref = norm_guid(_child(c, "CodeRef").get("targetGUID") if _child(c, "CodeRef") is not None else "")
                cd_rows.append({
                    "coding_id": cid, "transcript_id": tid, "coder": coder_of.get(user, user),
                    "round": info.get("round", "full"), "start": ns, "end": ne, "code": slug_of.get(code_ref, code_ref),
                    "codebook_version": info.get("codebook_version", "final"),
                })
        for c in _children(src, "Coding"):  # a coding of the whole source
            cg = norm_guid(c.get("guid"))
            coding_ids[cg] = cg
            user = norm_guid(c.get("creatingUser"))
            code_ref = norm_guid(_child(c, "CodeRef").get("targetGUID") if _child(c, "CodeRef") is not None else "")
            cd_rows.append({"coding_id": cg, "transcript_id": tid, "coder": coder_of.get(user, user), "round": "full",
                            "start": 0, "end": len(text), "code": slug_of.get(code_ref, code_ref),
                            "codebook_version": "final"})
        tr_rows.append({"transcript_id": tid, "participant_id": tid, "path": f"{pkg.path}!{ptp}" if ptp else str(pkg.path),
                        "text": text, "n_chars": len(text), "n_words": len(text.split())})
    codings = _frame(cd_rows, "codings", file)

    # ---- cases / variables -> participants (raw text values; mapping and typing later)
    var_name = {g: (v.get("name") or g) for g, v in doc.variables.items()}
    var_type = {var_name[g]: v.get("typeOfVariable", "Text") for g, v in doc.variables.items()}
    for g, name in var_name.items():
        guids[f"variable:{name}"] = g

    def values(el: ET.Element) -> dict[str, str]:
        out = {}
        for vv in _children(el, "VariableValue"):
            ref = norm_guid(_child(vv, "VariableRef").get("targetGUID") if _child(vv, "VariableRef") is not None else "")
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
    raw = pd.DataFrame(raw_rows, dtype=object).fillna("") if raw_rows else pd.DataFrame({"participant_id": []}, dtype=object)

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
                    attached.setdefault(norm_guid(nr.get("targetGUID")), ("coding", "", coding_ids[norm_guid(c.get("guid"))]))
    memo_rows = []
    taken = set()
    for g, note in doc.notes.items():
        mid = _unique((note.get("name") or g).strip() or g, taken)
        guids[f"note:{mid}"] = g
        kind, code, cid = attached.get(g, ("project", "", ""))
        user = norm_guid(note.get("creatingUser"))
        when = (note.get("creationDateTime") or "")[:10]
        memo_rows.append({"memo_id": mid, "coder": coder_of.get(user, ""), "date": when, "attached_to": kind,
                          "code": code, "coding_id": cid, "text": _text(_child(note, "PlainTextContent"))})
    memos = _frame(memo_rows, "memos", file)

    synthetic = _text(_child(root, "Description")).startswith(SYNTHETIC_MARKER)
    study = Study(participants=empty_frame("participants"), transcripts=transcripts, codebook=codebook,
                  codings=codings, coders=coders, memos=memos, root=pkg.path, synthetic=synthetic)
    study.extra.update(refi_guids=guids, refi_kind="project", refi_origin=root.get("origin", ""),
                       refi_project_name=root.get("name", ""), missing_sources=missing,
                       refi_variables=raw, refi_variable_types=var_type)
    _set_participants(study, raw, var_type, None, file)
    return study


def _frame(rows: list[dict], table: str, file: str) -> pd.DataFrame:
    if not rows:
        return empty_frame(table)
    df = pd.DataFrame(rows, columns=list(SCHEMAS[table])).astype(object)
    df = df.where(df.notna(), "")
    return _coerce(df, table, Path(file))


_INST_PREFIX = "institution_"


def _set_participants(study: Study, raw: pd.DataFrame, var_type: dict[str, str], pmap: dict | None, file: str) -> None:
    """Fill study.participants (and institutions) from the raw variable table (see import_project)."""
    raw = raw.copy()
    cols = SCHEMAS["participants"]
    out = pd.DataFrame({"participant_id": raw["participant_id"].astype(str)})
    used: set[str] = {"participant_id"}
    pmap = pmap or {}
    for col, spec in pmap.items():
        if col not in cols:
            raise DataError(file, f"mapping participants.{col}", "is not a participants column",
                            f"use one of {', '.join(cols)}")
        spec = {"variable": spec} if isinstance(spec, str) else dict(spec or {})
        var = spec.get("variable", col)
        if var not in raw.columns:
            raise DataError(file, f"mapping participants.{col}.variable", f"no variable {var!r} in the project",
                            f"use one of {', '.join(c for c in raw.columns if c != 'participant_id') or '(none)'}")
        vals = raw[var].astype(str)
        vmap = {str(k): str(v) for k, v in (spec.get("values") or {}).items()}
        if vmap:
            unmapped = sorted(set(vals) - set(vmap) - {""})
            if unmapped:
                raise DataError(file, f"mapping participants.{col}.values",
                                f"value(s) {', '.join(map(repr, unmapped[:5]))} of {var!r} have no mapping",
                                "add them under values:")
            vals = vals.map(lambda v: vmap.get(v, v))
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
    typed = _coerce(out[list(cols)].astype(object), "participants", Path(file))
    inst_cols = [c for c in raw.columns if c.startswith(_INST_PREFIX) and c[len(_INST_PREFIX):] in SCHEMAS["institutions"]
                 and c != "institution_id" and c not in used]
    extras = [c for c in raw.columns if c not in used and c not in inst_cols]
    for c in extras:
        typed[c] = raw[c].astype(str).to_numpy()
    if inst_cols and "institution_id" not in missing:
        inst = pd.DataFrame({"institution_id": typed["institution_id"]})
        for c in SCHEMAS["institutions"]:
            if c != "institution_id":
                inst[c] = raw[_INST_PREFIX + c].astype(str).to_numpy() if _INST_PREFIX + c in raw.columns else ""
        inst = inst[inst["institution_id"] != ""].drop_duplicates("institution_id").sort_values("institution_id")
        study.institutions = _coerce(inst.astype(object), "institutions", Path(file))
    study.participants = typed
    study.extra["missing_participant_columns"] = [c for c in missing if c != "participant_id"]


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
        raise DataError(path, "top level", f"unknown key(s) {', '.join(sorted(unknown))}",
                        "use analysis_codes, participants, coders (see qda-project.example.yml)")
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
    parent = dict(zip(cb["code"], cb["parent"]))
    names = dict(zip(cb["code"], cb["name"]))
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
            raise DataError(file, f"analysis_codes.{role}", "is not an analysis role",
                            f"use {', '.join(DEFAULT_ANALYSIS_CODES)}")
        t = str(target).strip()
        if t in set(cb["code"]):
            roles[role] = t
        elif t.lower() in paths:
            roles[role] = paths[t.lower()]
        elif len(by_name.get(t.lower(), [])) == 1:
            roles[role] = by_name[t.lower()][0]
        elif len(by_name.get(t.lower(), [])) > 1:
            raise DataError(file, f"analysis_codes.{role}", f"{t!r} names {len(by_name[t.lower()])} codes",
                            "write the code's path, e.g. \"Parent/Child\"")
        else:
            raise DataError(file, f"analysis_codes.{role}", f"no code {t!r} in the project",
                            "write a code name, its path \"Parent/Child\" or its slug as shown by `python -m qda import`")
    study.analysis_codes = roles
    if mapping.get("participants"):
        raw = study.extra.get("refi_variables")
        if raw is None:
            raise DataError(file, "participants", "the study was not imported from REFI-QDA", "remove the participants section")
        _set_participants(study, raw, study.extra.get("refi_variable_types", {}), mapping["participants"], file)
    if mapping.get("coders"):
        ren = {str(k): str(v) for k, v in mapping["coders"].items()}
        study.codings["coder"] = study.codings["coder"].map(lambda c: ren.get(c, c))
        study.memos["coder"] = study.memos["coder"].map(lambda c: ren.get(c, c))
        study.coders["coder"] = study.coders["coder"].map(lambda c: ren.get(c, c))
    study.extra["mapping"] = {k: v for k, v in mapping.items() if k != "_file"}
    return study


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


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------
class _Guids:
    def __init__(self, study: Study):
        self.known = dict(study.extra.get("refi_guids") or {})

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
            raise DataError("codebook", f"version {version!r}", "does not exist",
                            f"use one of {', '.join(_version_rank(cb['version']))}")
        return sel.drop_duplicates("code").reset_index(drop=True)
    rank = {v: i for i, v in enumerate(_version_rank(cb["version"]))}
    first = {c: i for i, c in enumerate(dict.fromkeys(cb["code"]))}
    cb["_r"] = cb["version"].map(rank)
    latest = cb.sort_values("_r", kind="stable").drop_duplicates("code", keep="last")
    latest = latest.assign(_o=latest["code"].map(first)).sort_values("_o", kind="stable")
    return latest.drop(columns=["_r", "_o"]).reset_index(drop=True)


_RGB = re.compile(r"^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$")


def _codebook_xml(parent: ET.Element, codes: pd.DataFrame, guid: _Guids, note_refs: dict[str, list[str]], project: bool) -> dict[str, str]:
    """Nested <Code> elements under ``parent`` (a <Codes>); returns slug -> GUID."""
    slugs = list(codes["code"])
    if len(set(slugs)) != len(slugs):  # pragma: no cover - drop_duplicates above
        raise DataError("codebook", "code", "duplicate code slugs", "make every code slug unique")
    rows = {r["code"]: r for _, r in codes.iterrows()}
    kids: dict[str, list[str]] = {}
    for s in slugs:
        p = str(rows[s]["parent"] or "")
        if p and p not in rows:
            raise ReferenceIntegrityError("codebook", f"code {s!r}", f"has parent {p!r}, which is not a code",
                                          "fix the parent or add the code")
        kids.setdefault(p, []).append(s)
    out: dict[str, str] = {}

    def add(under: ET.Element, slug: str, depth: int) -> None:
        if depth > 100:
            raise DataError("codebook", f"code {slug!r}", "is its own ancestor (a parent cycle)", "fix the parent column")
        r = rows[slug]
        g = guid("code", slug)
        out[slug] = g
        color = str(r.get("color") or "")
        el = _E(under, "Code", guid=g, name=str(r["name"] or slug), isCodable="true",
                color=color if _RGB.match(color) else None)
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
        raise DataError("codebook", "parent", "some codes are their own ancestors (a parent cycle)", "fix the parent column")
    return out


def _sets_xml(parent: ET.Element, codes: pd.DataFrame, code_guid: dict[str, str], guid: _Guids, project: bool) -> None:
    groups: dict[str, list[str]] = {}
    for slug, grp in zip(codes["code"], codes["code_group"]):
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
    root = _E(None, "CodeBook", origin=ORIGIN)
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
    name = study.extra.get("refi_project_name") or ("Mentoring and gender inequities (SYNTHETIC)" if study.synthetic else "qda project")
    root = _E(None, "Project", name=name, origin=ORIGIN)
    codings, memos, tr = study.codings, study.memos, study.transcripts

    # users
    coders = list(dict.fromkeys([*study.coders["coder"], *sorted(set(codings["coder"]) - set(study.coders["coder"])),
                                 *sorted(set(memos["coder"]) - set(study.coders["coder"]) - set(codings["coder"]) - {""})]))
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
    inst_cols = [c for c in inst.columns if c != "institution_id"] if len(inst) and "institution_id" in p.columns else []
    inst_rows = inst.set_index("institution_id").to_dict("index") if inst_cols else {}
    all_vars = var_cols + [_INST_PREFIX + c for c in inst_cols]
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
            values += [(_INST_PREFIX + c, irow.get(c, ""), "Text") for c in inst_cols]
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
                    raise DataError("codings", f"coding {cid}", f"offsets {s}-{e} do not fit transcript {t} ({len(text)} characters)",
                                    "fix start/end (end is exclusive)")
                if str(c["code"]) not in code_guid:
                    raise ReferenceIntegrityError("codings", f"coding {cid}", f"code {c['code']!r} is not in the codebook",
                                                  "add the code to the codebook or fix the coding")
                sel = _E(src, "PlainTextSelection", guid=guid("selection", cid), name=cid, startPosition=s, endPosition=e,
                         creatingUser=user.get(str(c["coder"])))
                _E(sel, "Description", _labelled_text([("Coding ID", cid), ("Round", str(c["round"])),
                                                       ("Codebook version", str(c["codebook_version"]))]))
                cod = _E(sel, "Coding", guid=guid("coding", cid), creatingUser=user.get(str(c["coder"])))
                _E(cod, "CodeRef", targetGUID=code_guid[str(c["code"])])
                for n in coding_notes.pop(cid, []):
                    _E(sel, "NoteRef", targetGUID=n)
    if len(codings) and not set(codings["transcript_id"]) <= set(tr["transcript_id"]):
        bad = sorted(set(codings["transcript_id"]) - set(tr["transcript_id"]))[0]
        raise ReferenceIntegrityError("codings", f"transcript {bad!r}", "has codings but no transcript", "add the transcript")
    if coding_notes:
        bad = next(iter(coding_notes))
        raise ReferenceIntegrityError("memos", f"coding {bad!r}", "is not a coding", "fix the memo's coding_id")

    # notes
    if len(memos):
        notes = _E(root, "Notes")
        for _, m in memos.iterrows():
            d = m["date"]
            when = None if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%dT00:00:00Z")
            note = _E(notes, "Note", guid=note_guid[m["memo_id"]], name=str(m["memo_id"]),
                      creatingUser=user.get(str(m["coder"])), creationDateTime=when)
            _E(note, "PlainTextContent", str(m["text"]))
    if not codes.empty:
        _sets_xml(root, codes, code_guid, guid, project=True)
    if study.synthetic:
        _E(root, "Description", f"{SYNTHETIC_MARKER}: a generated corpus that mirrors the design of an interview study "
                                 "of mentoring and gender inequities in academic medicine. No real participant.")
    for n in project_notes:
        _E(root, "NoteRef", targetGUID=n)
    return _serialise(root, NS_PROJECT), members


def _check_own(xml: bytes, kind: str) -> None:
    errs = schema_errors(xml, kind)
    if errs:  # our own output: a bug, but say where
        line, msg = errs[0]
        raise RefiError(f"<export {kind}>", f"line {line}", f"fails {kind.title()}.xsd ({msg})",
                        "report this bug with the study that produced it")


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
    with atomic_write(path, "wb") as f:
        with zipfile.ZipFile(f, "w") as zf:
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
# Validation (CLI `validate FILE`)
# ---------------------------------------------------------------------------
def validate_file(path: str | Path, *, limits: Limits | None = None) -> list[Problem]:
    """Every problem of a REFI-QDA file: container/XML safety, schema, then semantics.

    Semantic checks: duplicate GUIDs, references (CodeRef, SourceRef, NoteRef,
    VariableRef, MemberCode, creatingUser) that name nothing, selections out of the
    text, ending before or at their start, or on a source whose text is missing,
    and source text that is not UTF-8.  Safety problems stop the check (one line).
    """
    from .errors import QDAError

    try:
        pkg, doc = _open(path, limits)
    except QDAError as e:
        return [Problem(e.file, e.where, e.what, e.fix)]
    problems = [Problem(doc.file, f"line {line}", f"schema: {msg}", "make the file follow the REFI-QDA schema")
                for line, msg in schema_errors(pkg.xml)]
    try:
        _safe_build(pkg, doc)
    except QDAError as e:
        doc.problems.append(Problem(e.file, e.where, e.what, e.fix))
    return problems + doc.problems


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
    latest = _codes_for_export(Study(participants=empty_frame("participants"), transcripts=empty_frame("transcripts"),
                                     codebook=cb, codings=empty_frame("codings")), None)
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
        codes.append({"code": str(r["code"]), "name": str(r["name"] or r["code"]), "parent": str(r["parent"] or ""),
                      "code_group": str(r["code_group"] or ""), "origin": origin,
                      "introduced_round": max(int(r["introduced_round"]), 0), "color": color.upper(), "final": block})
    head = [f"# Codebook imported from a REFI-QDA file{(': ' + source) if source else ''}.",
            "# Written by `python -m qda import`; one version (final)."]
    if filled:
        head.append("# Filled by the importer where the project recorded nothing: "
                    + ", ".join(f"{k} ({n} codes)" for k, n in sorted(filled.items()))
                    + f"; colour #999999, origin inductive, text {_UNSTATED!r}.")
    body = yaml.safe_dump({"versions": [{"version": "final", "after_round": after}], "codes": codes},
                          sort_keys=False, allow_unicode=True, width=100)
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
    for tid, text in zip(study.transcripts["transcript_id"], study.transcripts["text"]):
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


__all__ = [
    "Limits", "export_project", "export_codebook", "import_project", "load_project", "apply_mapping",
    "read_mapping", "validate_file", "schema_errors", "parse_xml", "project_xml", "codebook_xml",
    "canonical_xml", "read_qdpx_members", "write_study", "codebook_yaml", "code_description", "parse_code_description", "make_guid",
    "norm_guid", "slugify", "sanitise_id", "decode_source", "normalise_newlines",
]


# ---------------------------------------------------------------------------
# A worked "own project": the synthetic study as another tool would hand it over
# ---------------------------------------------------------------------------
#: The code names a user's tool might give the four analysis roles (used by the demo).
DEMO_CODE_NAMES = {
    "gender_inequities": "GI - gendered treatment",
    "mentorship": "MENTOR (all)",
    "mentoring": "Mentor gives",
    "being_mentored": "Mentee receives",
}


def make_demo_project(study: Study, out_dir: str | Path, names: dict[str, str] | None = None) -> Path:
    """Write ``out_dir/export.qdpx`` + ``out_dir/qda-project.yml``: a stand-in for a user's project.

    The synthetic study is exported (:func:`export_project`), its four analysis codes are
    renamed as another tool would name them (``names``, default :data:`DEMO_CODE_NAMES`),
    the slugs that would let the importer recognise them are removed, the synthetic
    marker is dropped (so the import is treated as a real project, ``synthetic=False``),
    and a mapping file maps the new names back to the analysis roles. This is what the
    chapter "Rerun this book on your own project" and its test build the book on.
    Writes only inside ``out_dir``.
    """
    names = dict(DEMO_CODE_NAMES if names is None else names)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = export_project(study, out_dir / ".synthetic-export.qdpx")
    try:
        members = read_qdpx_members(tmp)
    finally:
        tmp.unlink()
    xml = members["project.qde"].decode("utf-8")
    current = study.codebook.drop_duplicates("code", keep="last").set_index("code")["name"]
    for role, new in names.items():
        slug = study.analysis_codes.get(role, role)
        xml = re.sub(f'name="{re.escape(str(current[slug]))}"', f'name="{new}"', xml)
        xml = xml.replace(f"Code ID: {slug}\n", "").replace(f"Code ID: {slug}<", "<")
    xml = xml.replace(f"<Description>{SYNTHETIC_MARKER}", "<Description>A coded interview project")
    target = out_dir / "export.qdpx"
    with atomic_write(target, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(2019, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, xml.encode("utf-8") if name.endswith(".qde") else members[name])
    mapping = "analysis_codes:\n" + "".join(f'  {role}: "{name}"\n' for role, name in names.items())
    with atomic_write(out_dir / "qda-project.yml", "w") as f:
        f.write("# Maps the analysis roles of the book to this project's code names.\n" + mapping)
    return target
