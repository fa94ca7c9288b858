"""The parsed QDA-XML document: one streaming pass, schema-level structure, GUIDs and references.

:func:`read_document` parses the project XML once (:func:`qda.exchange.safety.parse_xml`).
Coded selections, the bulk of a large project, are taken out of the tree as they finish
and kept as compact columns (:class:`Selections`), so memory grows with the codings'
data, not with an element tree of them. Two faster ways give the same columns: selections
written exactly as this package writes them are cut from the bytes before parsing
(:func:`_cut_usual_selections`; their elements are never built), and runs of selections of
the usual form are taken from lxml's tree in batches (:meth:`_Capture.take`). Anything else
goes through the hook one selection at a time; ``tests/test_refi_capture_paths.py`` checks
that every way captures the same.  Every check here walks with a loop, never by
recursion, so a deep code tree cannot exhaust the stack.

Schema-level structure that, broken, would lose data on import is an error here
(:data:`AT_MOST_ONCE`, :data:`EXACTLY_ONE`): a second ``<Sources>`` or ``<CodeBook>``, a
``<Coding>`` with two ``<CodeRef>`` or none, a ``<VariableValue>`` with two values, ...
Other schema deviations (an empty ``<Sets/>``, an unknown attribute) lose nothing and are
reported only by ``validate``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from array import array
from dataclasses import dataclass, field

from lxml import etree

from qda.errors import Problem, QDAError, RefiError
from qda.exchange.naming import _SEL_LABELS, _parse_labelled, norm_guid
from qda.exchange.safety import LIBXML_MAX_DEPTH, Limits, _blank_default_namespace, _Package, parse_xml

SOURCE_TAGS = frozenset({"TextSource", "PictureSource", "PDFSource", "AudioSource", "VideoSource"})
VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")
#: parent -> children the schemas allow at most once; a second one would be dropped by a reader.
AT_MOST_ONCE: dict[str, tuple[str, ...]] = {
    "Project": (
        "Users",
        "CodeBook",
        "Variables",
        "Cases",
        "Sources",
        "Notes",
        "Links",
        "Sets",
        "Graphs",
        "Description",
    ),
    "CodeBook": ("Codes", "Sets"),
    "Code": ("Description",),
    "Case": ("Description",),
    "Set": ("Description",),
    "Note": ("Description", "PlainTextContent"),
    "TextSource": ("Description", "PlainTextContent"),
    "PlainTextSelection": ("Description",),
}
#: parent -> child it must have exactly once.
EXACTLY_ONE = {"Coding": "CodeRef", "VariableValue": "VariableRef"}
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: GUIDs joined by line feeds, every one well formed (one regular-expression match for a list)
_GUIDS_JOINED = re.compile(rf"(?:{_GUID.pattern}\n)*{_GUID.pattern}")


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


class Selections:
    """The codings of one source's PlainTextSelections, one entry per ``<Coding>``, as columns."""

    #: the columns, one item per coding
    COLUMNS = (
        "sel_guid",
        "start",
        "end",
        "coding_guid",
        "user",
        "code_ref",
        "coding_id",
        "round",
        "version",
        "theme_id",
    )

    def __init__(self) -> None:
        self.sel_guid: list[str] = []
        self.start = array("q")
        self.end = array("q")
        self.coding_guid: list[str] = []
        self.user: list[str] = []
        self.code_ref: list[str] = []
        self.coding_id: list[str] = []
        self.round: list[str] = []
        self.version: list[str] = []
        self.theme_id: list[str] = []
        self.note_refs: list[tuple[str, str]] = []  # (selection or coding guid, note guid)
        self.n_selections = 0

    def __len__(self) -> int:
        return len(self.coding_guid)

    def append_empty(self, sel_guid: str, start: int, end: int) -> None:
        """A selection without a coding: its positions are checked, nothing is imported."""
        self.sel_guid.append(sel_guid)
        self.start.append(start)
        self.end.append(end)
        for name in self.COLUMNS[3:]:
            getattr(self, name).append("")

    def extend_from(self, other: Selections, a: int, b: int) -> None:
        """Append rows ``a:b`` of ``other`` (every column; not its NoteRefs or count)."""
        for name in self.COLUMNS:
            getattr(self, name).extend(getattr(other, name)[a:b])


@dataclass
class Doc:
    """The namespace-free document with its GUID-bearing elements indexed."""

    file: str
    kind: str  # "project" | "codebook"
    root: ET.Element
    users: dict[str, ET.Element] = field(default_factory=dict)
    codes: dict[str, tuple[ET.Element, str]] = field(default_factory=dict)  # guid -> (el, parent guid)
    variables: dict[str, ET.Element] = field(default_factory=dict)
    sources: dict[str, ET.Element] = field(default_factory=dict)
    notes: dict[str, ET.Element] = field(default_factory=dict)
    selections: dict[ET.Element, Selections] = field(default_factory=dict)  # source element -> its codings
    # TextSource guid -> its inline text with the raw CRs the parser read as LF (inline_texts_with_raw_cr)
    raw_cr_texts: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: A much smaller document that the schema accepts exactly when it accepts the file (see
    #: _schema_stand_in), or None.
    schema_stand_in: bytes | None = None

    def problem(self, where: str, what: str, fix: str) -> None:
        self.problems.append(Problem(self.file, where, what, fix))

    def raise_first(self) -> None:
        """Raise the first problem as a one-line :class:`RefiError` (naming how many more there are)."""
        if self.problems:
            p = self.problems[0]
            n = len(self.problems) - 1
            more = f" (and {n} more; run `python -m qda validate FILE`)" if n else ""
            raise RefiError(p.file, p.where, p.what + more, p.fix)


class _Capture:
    """The ``on_end`` hook of :func:`parse_xml`: takes finished selections out of the tree.

    One selection at a time (``__call__``), or a run of finished selections of one source at once
    (``take``, the :class:`~qda.exchange.safety.BatchHook` protocol): XPath gives each attribute
    of the whole run as one list, so no selection passes through Python alone. ``take`` accepts
    a run only when every selection in it has this package's usual form, and then gives exactly
    the rows ``__call__`` would; anything else (a NoteRef, a second Coding, a Description in
    another form, a missing or malformed attribute) is declined and goes to ``__call__``.
    """

    parent_tags = SOURCE_TAGS

    def __init__(self, doc_problems: list[Problem], file: str):
        self.problems = doc_problems
        self.file = file
        self.by_source: dict[ET.Element, Selections] = {}
        self._intern: dict[str, str] = {}
        self._norm: dict[str | None, str] = {}  # creatingUser / targetGUID as written -> normalised
        self._n_problems = len(doc_problems)
        self._parent: ET.Element | None = None  # the last selection's source, and its rows
        self._rows = Selections()
        self.cut: _CutSelections | None = None  # selections cut from the bytes, if any
        self.cut_runs_taken = 0

    def reset(self) -> None:
        """Forget what a first, abandoned parse captured (:func:`qda.exchange.safety.parse_xml`)."""
        self.by_source = {}
        self._parent = None
        self.cut_runs_taken = 0
        del self.problems[self._n_problems :]

    def _rows_of(self, parent: ET.Element) -> Selections:
        if parent is self._parent:  # selections of one source arrive together
            return self._rows
        rows = self.by_source.get(parent)
        if rows is None:
            rows = self.by_source[parent] = Selections()
        self._parent, self._rows = parent, rows
        return rows

    def _take_cut_run(self, run: int, parent: ET.Element) -> bool:
        """The rows of a run cut from the bytes (:func:`_cut_usual_selections`), at its placeholder.

        Only on a source at the schema's place (``Project/Sources/*``, lxml's tree): the
        selections cut there were nested no deeper than the depth limit checks. Anywhere else
        the placeholder stays, and :func:`read_document` parses the original bytes instead.
        """
        cut = self.cut
        assert cut is not None
        sources = parent.getparent() if hasattr(parent, "getparent") else None
        if sources is None or sources.tag != "Sources" or sources.getparent() is None:
            return False
        if sources.getparent().getparent() is not None:
            return False
        a, b = cut.bounds[run], cut.bounds[run + 1]
        rows = self._rows_of(parent)
        rows.n_selections += b - a
        rows.extend_from(cut, a, b)
        self.cut_runs_taken += 1
        return True

    def _i(self, s: str) -> str:
        return self._intern.setdefault(s, s)  # one string object per distinct value

    def _n(self, g: str | None) -> str:
        """``norm_guid`` of a GUID that repeats (users, codes), computed once and interned."""
        k = self._norm.get(g)
        if k is None:
            k = self._norm[g] = self._i(norm_guid(g))
        return k

    @staticmethod
    def _where(el: ET.Element, parent: ET.Element) -> str:
        return f"<{parent.tag} guid={parent.get('guid')}> <PlainTextSelection guid={el.get('guid')}>"

    def _positions(self, el: ET.Element, parent: ET.Element) -> list[int]:
        """The whole-number positions of a selection, a problem for each that is not one."""
        pos = []
        for attr in ("startPosition", "endPosition"):
            v = el.get(attr)
            try:
                n = int(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                what = "is not a whole number"
            else:
                if _POSITION_MIN <= n <= _POSITION_MAX:
                    pos.append(n)
                    continue
                what = "is beyond any text (positions are stored as 64-bit integers)"
            self.problems.append(
                Problem(self.file, self._where(el, parent), f"{attr}={v!r} {what}", "fix the selection's positions")
            )
        return pos

    def __call__(self, el: ET.Element, parent: ET.Element) -> bool:
        if el.tag != "PlainTextSelection" or parent.tag not in SOURCE_TAGS:
            return False
        if self.cut is not None and (run := el.get(_CUT_RUN)) is not None:
            return self._take_cut_run(int(run), parent)
        rows = self._rows_of(parent)
        rows.n_selections += 1
        get = el.get
        sg = (get("guid") or "").strip().strip("{}").lower()  # norm_guid, inline
        try:
            pos = [int(get("startPosition")), int(get("endPosition"))]  # type: ignore[arg-type]
            if not (_POSITION_MIN <= pos[0] <= _POSITION_MAX and _POSITION_MIN <= pos[1] <= _POSITION_MAX):
                pos = self._positions(el, parent)
        except (TypeError, ValueError):
            pos = self._positions(el, parent)
        codings = []
        desc = None
        n_desc = 0
        for c in el:  # one pass over the children, in document order
            tag = c.tag
            if tag == "Coding":
                codings.append(c)
            elif tag == "Description":
                n_desc += 1
                if desc is None:
                    desc = c
            elif tag == "NoteRef":
                rows.note_refs.append((sg, norm_guid(c.get("targetGUID"))))
        if n_desc > 1:
            self.problems.append(_twice(self.file, self._where(el, parent), "Description", n_desc))
        if len(pos) < 2:
            return True
        if not codings:  # kept (without a coding) so that its positions are still checked
            rows.append_empty(sg, pos[0], pos[1])
            return True
        sel_user = get("creatingUser")
        text = "" if desc is None else desc.text or ""
        m = _SEL_DESCRIPTION.fullmatch(text)  # the usual form at once, else the general parser
        info = dict(zip(_SEL_KEYS, m.groups(), strict=True)) if m else _parse_labelled(text, _SEL_LABELS, None)
        one = len(codings) == 1
        cid_one = info.get("coding_id") if one else None
        tid_one = (info.get("theme_coding_id") or "") if one else ""
        rnd = self._i(info.get("round", "full"))
        ver = self._i(info.get("codebook_version", "final"))
        start, end = pos
        for c in codings:
            refs = []
            notes = []
            for r in c:
                tag = r.tag
                if tag == "CodeRef":
                    refs.append(r)
                elif tag == "NoteRef":
                    notes.append(r)
            cg = (c.get("guid") or "").strip().strip("{}").lower()  # norm_guid, inline
            if len(refs) != 1:
                self.problems.append(
                    _exactly_one(self.file, f"{self._where(el, parent)} <Coding guid={c.get('guid')}>", "CodeRef", refs)
                )
                continue
            for nr in notes:
                rows.note_refs.append((cg, norm_guid(nr.get("targetGUID"))))
            rows.sel_guid.append(sg)
            rows.start.append(start)
            rows.end.append(end)
            rows.coding_guid.append(cg)
            rows.user.append(self._n(c.get("creatingUser") or sel_user))
            rows.code_ref.append(self._n(refs[0].get("targetGUID")))
            rows.coding_id.append(cid_one or cg)
            rows.theme_id.append(tid_one)
            rows.round.append(rnd)
            rows.version.append(ver)
        return True

    def take(self, parent: ET.Element, start: int, stop: int) -> bool:
        """Capture ``parent``'s children ``start <= i < stop`` at once when all are usual selections.

        Before ``start`` and from ``stop`` on, the parent holds children kept in the tree, never
        selections (``__call__`` takes every selection of a source), except an unfinished last
        child: when that is a selection, the XPaths of ``_RUN[True]`` leave it out.
        """
        n = stop - start
        open_selection = len(parent) > stop and parent[-1].tag == "PlainTextSelection"
        if _N_SELECTIONS(parent) != n + open_selection:
            return False
        run = _RUN[open_selection]
        described = run.shape(parent) == _usual_shape(n)
        if not described and run.bare_shape(parent) != _bare_shape(n):
            return False
        sel_guid = run.guid(parent)
        starts = run.start(parent)
        ends = run.end(parent)
        coding_guid = run.coding_guid(parent)
        users = run.coding_user(parent)
        code_refs = run.code_ref(parent)
        if not all(len(col) == n for col in (sel_guid, starts, ends, coding_guid, users, code_refs)) or "" in users:
            return False  # an attribute missing (or a coding's user empty: then the selection's counts)
        try:
            start_col = array("q", map(int, starts))
            end_col = array("q", map(int, ends))
        except (ValueError, OverflowError):  # __call__ words each bad position
            return False
        if described:
            joined = "\x00".join(run.description(parent)) + "\x00"
            if _SEL_DESCRIPTIONS_ALL.fullmatch(joined) is None:
                return False
            info = _SEL_DESCRIPTIONS.findall(joined)
        else:  # no Description: the coding's GUID as its id, the defaults of __call__
            info = [("", "full", "final")] * n
        sel_guid = _norm_guids(sel_guid)
        coding_guid = _norm_guids(coding_guid)
        for g in {*users, *code_refs}:
            self._n(g)
        norm = self._norm.__getitem__
        rounds = {r: self._i(r) for r in {i[1] for i in info}}
        versions = {v: self._i(v) for v in {i[2] for i in info}}
        rows = self._rows_of(parent)
        rows.n_selections += n
        rows.sel_guid.extend(sel_guid)
        rows.start.extend(start_col)
        rows.end.extend(end_col)
        rows.coding_guid.extend(coding_guid)
        rows.user.extend(map(norm, users))
        rows.code_ref.extend(map(norm, code_refs))
        rows.coding_id.extend([i[0] or g for i, g in zip(info, coding_guid, strict=True)])
        rows.theme_id.extend([""] * n)
        rows.round.extend([rounds[i[1]] for i in info])
        rows.version.extend([versions[i[2]] for i in info])
        return True


class _RunPaths:
    """The XPaths ``take`` evaluates on a source, over its selections ``{S}`` (all, or all but the last)."""

    def __init__(self, selections: str):
        def xpath(path: str) -> etree.XPath:
            return etree.XPath(path.replace("{S}", selections), smart_strings=False)

        # Each count is n for n selections of the usual form (2n for the first): first child a
        # Description, second a Coding, no third; the Description's one child a text node; the
        # Coding's one child a CodeRef. A selection adds at most one to each count but the first,
        # so equal counts mean every selection has that form (one XPath call, one string).
        self.shape = xpath(
            "concat(count({S}/*), ',', count({S}/*[1][self::Description]), ',', count({S}/*[2][self::Coding]), ',',"
            " count({S}/Description/node()), ',', count({S}/Description/node()[1][self::text()]), ',',"
            " count({S}/Coding/*), ',', count({S}/Coding/*[1][self::CodeRef]))"
        )
        # The same for a selection without a Description (as qc writes them): one Coding holding
        # one CodeRef, nothing else.
        self.bare_shape = xpath(
            "concat(count({S}/*), ',', count({S}/*[1][self::Coding]), ',', count({S}/Coding/*), ',',"
            " count({S}/Coding/*[1][self::CodeRef]))"
        )
        # one item per selection, in document order, when each has the attribute
        self.guid = xpath("{S}/@guid")
        self.start = xpath("{S}/@startPosition")
        self.end = xpath("{S}/@endPosition")
        self.description = xpath("{S}/Description/text()")
        self.coding_guid = xpath("{S}/Coding/@guid")
        self.coding_user = xpath("{S}/Coding/@creatingUser")
        self.code_ref = xpath("{S}/Coding/CodeRef/@targetGUID")


def _usual_shape(n: int) -> str:
    return f"{2 * n},{n},{n},{n},{n},{n},{n}"


def _bare_shape(n: int) -> str:
    return f"{n},{n},{n},{n}"


_N_SELECTIONS = etree.XPath("count(PlainTextSelection)")
#: [parent finished, parent open (its last child unfinished)]
_RUN = (_RunPaths("PlainTextSelection"), _RunPaths("PlainTextSelection[position() < last()]"))


def _norm_guids(guids: list[str]) -> list[str]:
    """``norm_guid`` of each; at once when all are already lower-case 8-4-4-4-12 (nothing to change)."""
    if _GUIDS_JOINED.fullmatch("\n".join(guids)) is not None:
        return guids
    return [norm_guid(g) for g in guids]


#: Positions are kept in int64 arrays; one outside their range is refused, not overflowed.
_POSITION_MIN, _POSITION_MAX = -(2**63), 2**63 - 1

#: The Description this package writes on a selection; anything else goes through _parse_labelled.
_SEL_DESCRIPTION = re.compile(r"Coding ID:[ \t]?([^\n]*)\nRound:[ \t]?([^\n]*)\nCodebook version:[ \t]?([^\n]*)")


_SEL_KEYS = ("coding_id", "round", "codebook_version")
#: _SEL_DESCRIPTION for many descriptions joined, each ended by NUL (which XML text never holds):
#: all are of the usual form when the joined text is a run of _ONE_OF_JOINED (no backtracking
#: between items: each is atomic), and findall then gives each one's three fields.
_FIELD = r"[ \t]?([^\n\x00]*)"
_ONE_OF_JOINED = rf"(?>Coding ID:{_FIELD}\nRound:{_FIELD}\nCodebook version:{_FIELD})\x00"
_SEL_DESCRIPTIONS = re.compile(_ONE_OF_JOINED)
_SEL_DESCRIPTIONS_ALL = re.compile(rf"(?:{_ONE_OF_JOINED})*+")


def _twice(file: str, where: str, tag: str, n: int) -> Problem:
    return Problem(
        file,
        where,
        f"has {n} <{tag}> elements where the schema allows one (a reader keeps one and loses the rest)",
        f"merge them into one <{tag}> and export again",
    )


def _exactly_one(file: str, where: str, tag: str, found: list) -> Problem:
    what = f"has no <{tag}>" if not found else f"has {len(found)} <{tag}> elements"
    return Problem(file, where, f"{what}; the schema requires exactly one", f"give it exactly one <{tag}>")


_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"
_ATTRS = rb"((?:[^>\"']|\"[^\"]*\"|'[^']*')*)"
_TEXT_SOURCE = re.compile(rb"<" + _NAME + rb"TextSource\b" + _ATTRS + rb">")
# what may come first in a TextSource: an optional Description, then the PlainTextContent
_INLINE = re.compile(
    rb"\s*(?:<" + _NAME + rb"Description\b[^>]*?(?:/>|>.*?</" + _NAME + rb"Description\s*>)\s*)?"
    rb"<" + _NAME + rb"PlainTextContent\b" + _ATTRS + rb">(.*?)</" + _NAME + rb"PlainTextContent\s*>",
    re.S,
)
_GUID_ATTR = re.compile(rb"""\sguid\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CDATA = re.compile(rb"(<!\[CDATA\[.*?\]\]>)", re.S)
_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml(?:[^?]|\?(?!>))*\?>")


def inline_texts_with_raw_cr(data: bytes, file: str, limits: Limits) -> dict[str, str]:
    """The inline text (``<TextSource><PlainTextContent>``) of each source whose XML holds a
    raw CR there, as written: CRs kept. TextSource guid (normalised) -> text.

    An XML parser reads a raw CRLF or CR as LF (XML 1.0, section 2.11); only a CR written as
    ``&#13;`` reaches the text. Whether the exporting tool counted the raw CRs in its
    selections' positions cannot be told from the parsed text, so the importer is given both
    readings (see :func:`qda.exchange.build._raw_cr_reading`). The raw document is searched
    only when it holds a CR byte; each such text is parsed again, alone, with its raw CRs
    written as ``&#13;`` (inside a CDATA section: the section closed, ``&#13;``, reopened).
    """
    if b"\r" not in data:
        return {}
    found: dict[str, str] = {}
    declaration = (m.group(0) if (m := _DECLARATION.match(data)) else b"").removeprefix(b"\xef\xbb\xbf")
    for source in _TEXT_SOURCE.finditer(data):
        if source.group(1).rstrip().endswith(b"/"):
            continue
        inline, guid = _INLINE.match(data, source.end()), _GUID_ATTR.search(source.group(1))
        if inline is None or guid is None or b"\r" not in inline.group(2):
            continue
        body = b"".join(
            part.replace(b"\r", b"]]>&#13;<![CDATA[")
            if part.startswith(b"<![CDATA[")
            else part.replace(b"\r", b"&#13;")
            for part in _CDATA.split(inline.group(2))
        )
        text = parse_xml(declaration + b"<t>" + body + b"</t>", file, limits).text or ""
        found[norm_guid((guid.group(1) or guid.group(2) or b"").decode("utf-8", "replace"))] = text
    return found


# ---------------------------------------------------------------------------
# Usual selections cut from the bytes (the fast path of read_document)
# ---------------------------------------------------------------------------
_GUID_BYTES = rb"(" + _GUID.pattern.encode() + rb")"  # a canonical GUID: norm_guid leaves it as it is
_SPACE = rb"[ \t\r\n]*+"
#: A Description field: no line end, no markup or reference, no character XML forbids, no "]"
#: (so never "]]>"); bytes from 0x80 are checked as UTF-8 when decoded.
_FIELD_BYTES = rb"[ \t]?([^\x00-\x08\x0a-\x1f<&\]]*+)"
#: A selection exactly as this package writes it (``_selection`` in :mod:`qda.exchange.write`):
#: fixed attributes in a fixed order, canonical GUIDs, whole-number positions, the labelled
#: Description, one Coding with one CodeRef. Its bytes are one complete element whose every
#: character is allowed where it stands, so cutting it out leaves a document well formed
#: exactly when the original is.
_USUAL_SELECTION = re.compile(
    rb'<PlainTextSelection guid="' + _GUID_BYTES
    + rb'"(?: name="[\x20\x21\x23-\x25\x27-\x3b\x3d-\x7e]*+")? startPosition="([0-9]{1,18})"'
    + rb' endPosition="([0-9]{1,18})" creatingUser="' + _GUID_BYTES + rb'">' + _SPACE
    + rb"<Description>Coding ID:" + _FIELD_BYTES + rb"\nRound:" + _FIELD_BYTES
    + rb"\nCodebook version:" + _FIELD_BYTES + rb"</Description>" + _SPACE
    + rb'<Coding guid="' + _GUID_BYTES + rb'" creatingUser="' + _GUID_BYTES + rb'">' + _SPACE
    + rb'<CodeRef targetGUID="' + _GUID_BYTES + rb'"/>' + _SPACE + rb"</Coding>" + _SPACE
    + rb"</PlainTextSelection>"
)  # fmt: skip
_USUAL_GROUPS = 10  # sel guid, start, end, sel user, coding id, round, version, coding guid, user, code
#: The placeholder's attribute; a document that holds these bytes anywhere is not cut.
_CUT_RUN = "qda-cut-run"
_XML_ENCODING = re.compile(rb"""\A<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
#: The bytes cut at a time (the tree of a cut part is never built; its columns are).
CUT_SEGMENT = 16 * 1024 * 1024


class _CutSelections(Selections):
    """The selections cut from the bytes, in document order; run r is rows
    ``bounds[r]:bounds[r+1]`` (consecutive selections with only white space between them)."""

    def __init__(self) -> None:
        super().__init__()
        self.bounds: list[int] = []

    @property
    def n_runs(self) -> int:
        return max(0, len(self.bounds) - 1)


class _NotCut(Exception):
    pass


def _cut_usual_selections(data: bytes, limits: Limits) -> tuple[bytes, _CutSelections] | None:
    """The document with each run of usual selections replaced by a placeholder, and their columns.

    The fastest way to read this package's own exports: a selection written exactly as
    :data:`_USUAL_SELECTION` is read from the bytes by one regular expression, and its element
    is never built. Only for a document where every ``<PlainTextSelection`` in the bytes is a
    start tag (no comment, CDATA section, processing instruction or DOCTYPE after the root's
    start tag), in UTF-8, with the one default namespace of :func:`_blank_default_namespace`,
    the placeholder's name nowhere, and the depth limit at or above libxml2's; else None. The
    placeholder ``<PlainTextSelection qda-cut-run="r"/>`` is taken by the hook
    (:meth:`_Capture._take_cut_run`) in document order with the other selections; if any is
    not, :func:`read_document` reads the original bytes.
    """
    head = _blank_default_namespace(data)
    if head is None or limits.max_depth < LIBXML_MAX_DEPTH:
        return None
    body = len(head)
    declared = _XML_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return None
    if data.find(b"<PlainTextSelection", body) < 0:
        return None
    cut = _CutSelections()
    interned: dict[str, str] = {}
    out = [data[:body]]
    pending: list[bytes] = []  # the bytes after the last cut selection, not yet written
    at = body
    try:
        while at < len(data):
            stop = data.find(b"<PlainTextSelection", at + CUT_SEGMENT)  # a cut never spans two segments
            stop = len(data) if stop < 0 else stop
            parts = _USUAL_SELECTION.split(data[at:stop])
            at = stop
            gaps = parts[0 :: _USUAL_GROUPS + 1]
            if len(gaps) == 1:
                pending.append(gaps[0])
                continue
            first_row = len(cut.sel_guid)
            _cut_columns(cut, parts, interned)
            # A new run starts at a selection with more than white space before it (white space
            # after a cut selection is its tail, cut with it). Gaps repeat: each is judged once.
            pending.append(gaps[0])
            gaps[0] = b"".join(pending)
            breaks = {g for g in set(gaps) if g.strip(_WHITE)}
            starts = [i for i in range(1, len(gaps) - 1) if gaps[i] in breaks]
            if not cut.bounds or gaps[0] in breaks:
                starts.insert(0, 0)
            for i in starts:
                out.append(gaps[i])
                out.append(f'<PlainTextSelection {_CUT_RUN}="{len(cut.bounds)}"/>'.encode())
                cut.bounds.append(first_row + i)
            pending = [gaps[-1]]
    except _NotCut:
        return None
    if not cut.bounds:
        return None
    out.extend(pending)
    cut.bounds.append(len(cut.sel_guid))
    reduced = b"".join(out)
    # Every "<" in a cut selection is its own markup, so a comment, CDATA section, processing
    # instruction or DOCTYPE (which could hide selection-like bytes) would show in what is left.
    if reduced.find(b"<!", body) >= 0 or reduced.find(b"<?", body) >= 0:
        return None
    if reduced.count(_CUT_RUN.encode()) != cut.n_runs:  # the placeholder's name was in the file
        return None
    return reduced, cut


_WHITE = b" \t\r\n"
_PLACEHOLDER = re.compile(rb"<PlainTextSelection " + _CUT_RUN.encode() + rb'="[0-9]+"/>')
#: One selection of the usual form (any matches _USUAL_SELECTION and is valid where this is).
_STAND_IN_SELECTION = (
    b'<PlainTextSelection guid="00000000-0000-0000-0000-000000000000" name="" startPosition="0" endPosition="0"'
    b' creatingUser="00000000-0000-0000-0000-000000000000"><Description>Coding ID: \nRound: \nCodebook version: '
    b'</Description><Coding guid="00000000-0000-0000-0000-000000000000" creatingUser="00000000-0000-0000-0000-'
    b'000000000000"><CodeRef targetGUID="00000000-0000-0000-0000-000000000000"/></Coding></PlainTextSelection>'
)


def _schema_stand_in(reduced: bytes) -> bytes:
    """The cut document with one usual selection for each run: valid under the schema exactly
    when the original is.

    Every cut selection matches :data:`_USUAL_SELECTION`, whose attributes and children are
    all of the schema's types for a PlainTextSelection (GUIDType, xsd:integer, xsd:string;
    Description, then one Coding holding one CodeRef), so each is valid wherever one of them is.
    A run is a sequence of sibling selections and the schema allows any number of them where it
    allows one (``maxOccurs="unbounded"``); the schemas declare no identity constraint (key,
    unique), so GUIDs repeated or removed change nothing.
    """
    return _PLACEHOLDER.sub(_STAND_IN_SELECTION, reduced)


def _cut_columns(cut: _CutSelections, parts: list[bytes], interned: dict[str, str]) -> None:
    """Append the columns of one segment's cut selections (the groups of ``re.split``)."""
    step = _USUAL_GROUPS + 1

    def text(k: int, sep: bytes = b"\n") -> list[str]:
        joined = sep.join(parts[k::step]).decode("utf-8")  # ValueError on bytes that are not UTF-8
        if "\ufffe" in joined or "\uffff" in joined:  # not XML characters
            raise _NotCut
        return joined.split(sep.decode())

    def shared(values: list[str]) -> list[str]:
        one = {v: interned.setdefault(v, v) for v in set(values)}  # one object per distinct value
        return list(map(one.__getitem__, values))

    try:
        coding_guid = text(8)
        coding_id = text(5, b"\x00")
        cut.sel_guid.extend(text(1))
        cut.start.extend(map(int, parts[2::step]))
        cut.end.extend(map(int, parts[3::step]))
        cut.coding_guid.extend(coding_guid)
        cut.user.extend(shared(text(9)))
        cut.code_ref.extend(shared(text(10)))
        cut.coding_id.extend([c or g for c, g in zip(coding_id, coding_guid, strict=True)])
        cut.round.extend(shared(text(6, b"\x00")))
        cut.version.extend(shared(text(7, b"\x00")))
        cut.theme_id.extend([""] * len(coding_guid))
    except ValueError:
        raise _NotCut from None


def read_document(pkg: _Package, label: str, limits: Limits) -> Doc:
    """Parse ``pkg.xml`` once, capture the selections, check structure, index GUIDs and references."""
    problems: list[Problem] = []
    capture = _Capture(problems, label)
    root = reduced = None
    cut = _cut_usual_selections(pkg.xml, limits)
    if cut is not None:  # parse the document without its usual selections, placeholders in their stead
        reduced, capture.cut = cut
        try:
            root = parse_xml(reduced, label, limits, on_end=capture, end_tag="PlainTextSelection")
        except QDAError:  # the original bytes give the refusal, with its line and column
            root = None
        if root is None or isinstance(root, ET.Element) or capture.cut_runs_taken != capture.cut.n_runs:
            capture.reset()
            capture.cut = root = reduced = None
    if root is None:
        root = parse_xml(pkg.xml, label, limits, on_end=capture, end_tag="PlainTextSelection")
    if root.tag not in ("Project", "CodeBook"):
        raise RefiError(
            label,
            f"root element <{root.tag}>",
            "is neither <Project> nor <CodeBook>",
            "give a REFI-QDA .qdpx, .qde or .qdc file",
        )
    doc = Doc(label, "codebook" if root.tag == "CodeBook" else "project", root, problems=problems)
    doc.selections = capture.by_source
    if reduced is not None:
        doc.schema_stand_in = _schema_stand_in(reduced)
    doc.raw_cr_texts = inline_texts_with_raw_cr(pkg.xml, label, limits)
    _check_structure(doc)
    _index(doc)
    return doc


def _check_structure(doc: Doc) -> None:
    """The schema-level structure whose breaking would lose data (see the module docstring)."""
    for parent in doc.root.iter():
        single = AT_MOST_ONCE.get(parent.tag)
        one = EXACTLY_ONE.get(parent.tag)
        if single is None and one is None:
            continue
        counts: dict[str, int] = {}
        for c in parent:
            counts[c.tag] = counts.get(c.tag, 0) + 1
        for tag in single or ():
            if counts.get(tag, 0) > 1:
                doc.problems.append(_twice(doc.file, _where(parent), tag, counts[tag]))
        if one is not None and counts.get(one, 0) != 1:
            doc.problems.append(_exactly_one(doc.file, _where(parent), one, [None] * counts.get(one, 0)))
        if parent.tag == "VariableValue" and sum(counts.get(t, 0) for t in VALUE_TAGS) > 1:
            doc.problems.append(
                Problem(
                    doc.file,
                    _where(parent),
                    "has more than one value; the schema allows one",
                    "keep one value per VariableValue",
                )
            )


def _all_new_guids(rows: Selections, seen: dict[str, str], seen_rows: set[str]) -> set[str] | None:
    """The GUIDs of a source's selections and codings when every one is well formed, distinct,
    and in neither ``seen`` nor ``seen_rows``; else None (without a loop in Python).

    A selection with several codings is listed once per coding: its GUID counts once. Each
    well-formed GUID has 36 characters, so the joined text has the length of ``len(new)`` of
    them exactly when no item holds a line feed of its own.
    """
    selections = dict.fromkeys(rows.sel_guid)
    new = set(selections)
    new.update(rows.coding_guid)
    new.discard("")  # no guid attribute (not checked here)
    listed = len(selections) + len(rows.coding_guid) - ("" in selections) - rows.coding_guid.count("")
    if len(new) != listed:
        return None
    joined = "\n".join(new)
    if new and (len(joined) != 37 * len(new) - 1 or _GUIDS_JOINED.fullmatch(joined) is None):
        return None
    return new if new.isdisjoint(seen) and new.isdisjoint(seen_rows) else None


def _index(doc: Doc) -> None:
    """Collect the GUID-bearing elements; record malformed and duplicate GUIDs and dangling references."""
    root, kind = doc.root, doc.kind
    seen: dict[str, str] = {}
    for el in root.iter():
        g = el.get("guid")
        if g is None or (el.tag == "MemberCode" and kind == "codebook"):
            continue
        k = norm_guid(g)
        if not _GUID.fullmatch(k):
            doc.problem(_where(el), f"guid {g!r} is not a GUID", "use 8-4-4-4-12 hexadecimal digits")
        if k in seen:
            doc.problem(_where(el), f"duplicate GUID {g} (also on {seen[k]})", "give every element its own GUID")
        else:
            seen[k] = _where(el)
    seen_rows: set[str] = set()  # the GUIDs of selections and codings
    for rows in doc.selections.values():
        new = _all_new_guids(rows, seen, seen_rows)
        if new is not None:  # the usual case, checked at once
            seen_rows |= new
            continue
        for g in (g for g in (*dict.fromkeys(rows.sel_guid), *rows.coding_guid) if g):
            if not _GUID.fullmatch(g):
                doc.problem(f"<PlainTextSelection or Coding guid={g}>", "is not a GUID", "use 8-4-4-4-12 hex digits")
            elif g in seen or g in seen_rows:
                doc.problem(
                    f"<PlainTextSelection or Coding guid={g}>",
                    f"duplicate GUID (also on {seen.get(g, 'a selection or coding')})",
                    "give every element its own GUID",
                )
            else:
                seen_rows.add(g)
    codebook = root if kind == "codebook" else _child(root, "CodeBook")
    stack = [(c, "") for c in reversed(_children(_child(codebook, "Codes"), "Code"))]
    while stack:  # depth-first, document order, no recursion
        code, parent = stack.pop()
        g = norm_guid(code.get("guid"))
        doc.codes.setdefault(g, (code, parent))
        stack.extend((sub, g) for sub in reversed(_children(code, "Code")))
    if kind == "codebook":
        for s in _children(_child(root, "Sets"), "Set"):
            for m in _children(s, "MemberCode"):
                if norm_guid(m.get("guid")) not in doc.codes:
                    doc.problem(
                        _where(s), f"MemberCode guid={m.get('guid')} names no Code", "remove it or add the code"
                    )
        return
    doc.users = {norm_guid(u.get("guid")): u for u in _children(_child(root, "Users"), "User")}
    doc.variables = {norm_guid(v.get("guid")): v for v in _children(_child(root, "Variables"), "Variable")}
    sources = _child(root, "Sources")
    doc.sources = {norm_guid(s.get("guid")): s for s in ([] if sources is None else list(sources))}
    doc.notes = {norm_guid(n.get("guid")): n for n in _children(_child(root, "Notes"), "Note")}
    _check_references(doc)


_TARGETS = {
    "CodeRef": "codes",
    "MemberCode": "codes",
    "SourceRef": "sources",
    "MemberSource": "sources",
    "NoteRef": "notes",
    "MemberNote": "notes",
    "VariableRef": "variables",
}
_FIXES = {
    "CodeRef": "add the code to the CodeBook or remove the coding",
    "NoteRef": "add the Note or remove the reference",
    "SourceRef": "add the source or remove the reference",
    "VariableRef": "declare the Variable under <Variables>",
}


def _check_references(doc: Doc) -> None:
    def dangling(owner: str, tag: str, target: str | None) -> None:
        doc.problem(
            owner, f"<{tag} targetGUID={target}> points to nothing", _FIXES.get(tag, "remove it or add its target")
        )

    for parent in doc.root.iter():
        for el in parent:
            kind = _TARGETS.get(el.tag)
            if kind and norm_guid(el.get("targetGUID")) not in getattr(doc, kind):
                dangling(_where(parent), el.tag, el.get("targetGUID"))
        for attr in ("creatingUser", "modifyingUser"):
            if parent.get(attr) and doc.users and norm_guid(parent.get(attr)) not in doc.users:
                doc.problem(_where(parent), f"{attr}={parent.get(attr)} is not a <User>", "add the user under <Users>")
    for src, rows in doc.selections.items():
        refs_found = doc.codes.keys() >= set(rows.code_ref)
        users_found = not doc.users or doc.users.keys() >= set(rows.user) - {""}
        if refs_found and users_found and not rows.note_refs:  # the usual case, checked at once
            continue
        for i, (ref, user) in enumerate(zip(rows.code_ref, rows.user, strict=False)):
            if not rows.coding_guid[i]:
                continue
            where = f"<Coding guid={rows.coding_guid[i]}>"
            if ref not in doc.codes:
                dangling(where, "CodeRef", ref)
            if user and doc.users and user not in doc.users:
                doc.problem(where, f"creatingUser={user} is not a <User>", "add the user under <Users>")
        for _, note in rows.note_refs:
            if note not in doc.notes:
                dangling(_where(src), "NoteRef", note)
