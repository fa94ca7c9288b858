"""Every way the importer reads selections gives the same result (issue 17, speed).

:func:`qda.exchange.structure.read_document` reads coded selections in one of four ways:
cut from the bytes by one regular expression when written exactly as this package writes them
(:func:`_cut_usual_selections`), in batches from lxml (XPath over a run of finished selections,
:meth:`_Capture.take`), one by one from lxml (:func:`_parse_lxml`), or one by one from expat
(:func:`_parse_expat`). The fast ways accept only selections of the usual form and leave the
rest to the one-by-one hook. These tests build documents that mix the usual form with every
unusual one the hook words differently, cut them into chunks and segments of many sizes, damage
them byte by byte, and compare what each way captured (every column, the problems, what is left
in the tree, or the one-line refusal) and what ``validate`` reports.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qda.errors import QDAError
from qda.exchange import safety, structure
from qda.exchange.safety import Limits
from qda.exchange.structure import Selections, _Capture, read_document

NS = "urn:QDA-XML:project:1.0"
U1 = "00000000-0001-4000-8000-000000000001"
U2 = "00000000-0001-4000-8000-000000000002"
CODE = "00000000-0002-4000-8000-000000000001"
NOTE = "00000000-0007-4000-8000-000000000001"


def _g(kind: int, k: int) -> str:
    return f"{k:08x}-{kind:04x}-4000-8000-000000000000"


def _coding(k: int, *, user: str | None = U1, refs: str | None = None) -> str:
    refs = f'<CodeRef targetGUID="{CODE}"/>' if refs is None else refs
    attr = "" if user is None else f' creatingUser="{user}"'
    return f'<Coding guid="{_g(5, k)}"{attr}>{refs}</Coding>'


def _usual_description(k: int) -> str:
    return f"<Description>Coding ID: C{k}\nRound: r{k % 3}\nCodebook version: v{k % 2}</Description>"


def _selection(k: int, inner: str, attrs: str | None = None) -> str:
    attrs = attrs or f'guid="{_g(4, k)}" startPosition="{k}" endPosition="{k + 5}" creatingUser="{U2}"'
    return f"<PlainTextSelection {attrs}>{inner}</PlainTextSelection>"


#: One selection per form: the usual one, and each way a selection can differ from it.
FORMS = {
    "usual": lambda k: _selection(k, _usual_description(k) + _coding(k)),
    "usual, indented": lambda k: _selection(k, "\n  " + _usual_description(k) + "\n  " + _coding(k) + "\n"),
    "usual, named": lambda k: _selection(
        k,
        _usual_description(k) + _coding(k),
        f'guid="{_g(4, k)}" name="C {k} qda-cut-run" startPosition="{k}" endPosition="{k + 9}" creatingUser="{U2}"',
    ),
    "usual, not ASCII": lambda k: _selection(
        k, f"<Description>Coding ID: Ç{k}\nRound:\tr\u00f8und 2\nCodebook version: v🙂</Description>" + _coding(k)
    ),
    "usual, but a ] in it": lambda k: _selection(
        k, f"<Description>Coding ID: [C{k}]\nRound: r\nCodebook version: v</Description>" + _coding(k)
    ),
    "no Description": lambda k: _selection(k, _coding(k)),
    "another Description": lambda k: _selection(k, "<Description>said twice</Description>" + _coding(k)),
    "theme Description": lambda k: _selection(
        k, f"<Description>Theme coding ID: T{k}\nRound: full</Description>" + _coding(k)
    ),
    "empty Description": lambda k: _selection(k, "<Description/>" + _coding(k)),
    "two Descriptions": lambda k: _selection(k, _usual_description(k) * 2 + _coding(k)),
    "Coding first": lambda k: _selection(k, _coding(k) + _usual_description(k)),
    "element in Description": lambda k: _selection(
        k, f"<Description>Coding ID: C{k}<b/>\nRound: r\nCodebook version: v</Description>" + _coding(k)
    ),
    "entity and CDATA": lambda k: _selection(
        k,
        f"<Description>Coding ID: A&amp;{k}<![CDATA[<x>]]>\nRound: r\nCodebook version: v</Description>" + _coding(k),
    ),
    "comment in Description": lambda k: _selection(
        k, f"<Description>Coding ID: C<!-- c -->{k}\nRound: r\nCodebook version: v</Description>" + _coding(k)
    ),
    "two Codings": lambda k: _selection(k, _usual_description(k) + _coding(k) + _coding(k + 10_000)),
    "no Coding": lambda k: _selection(k, _usual_description(k)),
    "no CodeRef": lambda k: _selection(k, _usual_description(k) + _coding(k, refs="")),
    "two CodeRefs": lambda k: _selection(
        k, _usual_description(k) + _coding(k, refs=f'<CodeRef targetGUID="{CODE}"/>' * 2)
    ),
    "NoteRef on selection": lambda k: _selection(
        k, _usual_description(k) + _coding(k) + f'<NoteRef targetGUID="{NOTE}"/>'
    ),
    "NoteRef on coding": lambda k: _selection(
        k, _usual_description(k) + _coding(k, refs=f'<CodeRef targetGUID="{CODE}"/><NoteRef targetGUID="{NOTE}"/>')
    ),
    "user on selection only": lambda k: _selection(k, _usual_description(k) + _coding(k, user=None)),
    "empty coding user": lambda k: _selection(k, _usual_description(k) + _coding(k, user="")),
    "no user at all": lambda k: _selection(
        k, _usual_description(k) + _coding(k, user=None), f'guid="{_g(4, k)}" startPosition="1" endPosition="2"'
    ),
    "position not a number": lambda k: _selection(
        k, _usual_description(k) + _coding(k), f'guid="{_g(4, k)}" startPosition="x" endPosition="2"'
    ),
    "position beyond 64 bits": lambda k: _selection(
        k, _usual_description(k) + _coding(k), f'guid="{_g(4, k)}" startPosition="1" endPosition="{2**64}"'
    ),
    "position with spaces": lambda k: _selection(
        k, _usual_description(k) + _coding(k), f'guid="{_g(4, k)}" startPosition=" 7 " endPosition="+9"'
    ),
    "no guid": lambda k: _selection(k, _usual_description(k) + _coding(k), 'startPosition="1" endPosition="2"'),
    "GUID in braces, upper case": lambda k: _selection(
        k,
        _usual_description(k) + _coding(k),
        f'guid="{{{_g(4, k).upper()}}}" startPosition="1" endPosition="2" creatingUser="{U2}"',
    ),
    "selection in selection": lambda k: _selection(
        k, _usual_description(k) + _coding(k) + _selection(k + 20_000, _usual_description(k) + _coding(k + 20_000))
    ),
    "no children": lambda k: f'<PlainTextSelection guid="{_g(4, k)}" startPosition="1" endPosition="2"/>',
}
#: What a source may hold besides its selections, before and after them.
SOURCE_HEADS = ["", "<Description>a source</Description>", "<PlainTextContent>text</PlainTextContent>"]
SOURCE_TAILS = ["", f'<VariableValue><VariableRef targetGUID="{U1}"/><TextValue>x</TextValue></VariableValue>']


def _document(sources: list[tuple[int, list[str], int]], stray: bool, namespace: bool) -> bytes:
    parts, k = [], 0
    for s, (head, forms, tail) in enumerate(sources):
        sels = []
        for form in forms:
            sels.append(FORMS[form](k))
            k += 1
        parts.append(
            f'<TextSource guid="{_g(3, s)}" name="S{s}" plainTextPath="internal://{_g(3, s)}.txt">'
            f"{SOURCE_HEADS[head]}{''.join(sels)}{SOURCE_TAILS[tail]}</TextSource>\n"
        )
    stray_sel = FORMS["usual"](99_999) if stray else ""  # a selection outside any source stays in the tree
    xmlns = f' xmlns="{NS}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<Project{xmlns} name="p">\n<Sources>\n{"".join(parts)}'
        f"{stray_sel}</Sources>\n</Project>\n"
    ).encode()


WAYS = ("cut", "batched", "lxml", "expat")


def _captured(data: bytes, way: str, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """What read_document captured one way: ``cut`` (the default, from the bytes), ``batched``,
    ``lxml`` (one by one) or ``expat``; the columns by source, the problems, what is left."""
    with monkeypatch.context() as m:
        if way != "cut":
            m.setattr(structure, "_cut_usual_selections", lambda *a: None)
        if way in ("lxml", "expat"):
            m.setattr(safety, "_parse_lxml_batched", _refuse_batched)
        if way == "expat":
            m.setattr(safety, "_parse_lxml", lambda *a: None)
        doc = read_document(SimpleNamespace(xml=data), "f.qde", Limits())
    columns = {
        src.get("guid"): {name: list(getattr(rows, name)) for name in (*Selections.COLUMNS, "note_refs")}
        | {"n_selections": rows.n_selections}
        for src, rows in doc.selections.items()
    }
    left = [(el.tag, sorted(el.attrib.items()), (el.text or "").strip()) for el in doc.root.iter()]
    return list(columns), columns, [str(p) for p in doc.problems], left


def _refuse_batched(*args: object) -> None:
    raise safety._Unusual


@settings(max_examples=300, deadline=None)
@given(
    sources=st.lists(
        st.tuples(
            st.integers(0, len(SOURCE_HEADS) - 1),
            st.lists(st.sampled_from(sorted(FORMS)) | st.just("usual"), max_size=12),
            st.integers(0, len(SOURCE_TAILS) - 1),
        ),
        min_size=1,
        max_size=4,
    ),
    chunk=st.sampled_from([1, 64, 333, 4096, 1 << 18]),
    open_min=st.sampled_from([0, 1, 3, 4096]),
    segment=st.sampled_from([1, 200, 1 << 24]),
    stray=st.booleans(),
)
def test_every_way_captures_the_same(sources, chunk, open_min, segment, stray) -> None:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(structure, "CUT_SEGMENT", segment)
    monkeypatch.setattr(safety, "BATCH_CHUNK", chunk)
    monkeypatch.setattr(safety, "BATCH_OPEN_MIN", open_min)
    try:
        data = _document(sources, stray, namespace=True)
        cut, *others = (_captured(data, way, monkeypatch) for way in WAYS)
        for way, other in zip(WAYS[1:], others, strict=True):
            assert cut == other, way
    finally:
        monkeypatch.undo()


def test_usual_selections_are_taken_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above is not empty: the usual form goes through ``take``, in runs."""
    taken: list[int] = []
    take = _Capture.take

    def spy(self: _Capture, parent: object, start: int, stop: int) -> bool:
        ok = take(self, parent, start, stop)
        taken.append(stop - start if ok else 0)
        return ok

    monkeypatch.setattr(_Capture, "take", spy)
    monkeypatch.setattr(safety, "BATCH_CHUNK", 512)
    monkeypatch.setattr(safety, "BATCH_OPEN_MIN", 2)
    data = _document([(1, ["usual"] * 40, 1), (0, ["usual"] * 5, 0)], stray=False, namespace=True)
    _, columns, problems, _ = _captured(data, "batched", monkeypatch)
    assert sum(taken) == 45 and len([t for t in taken if t]) > 2  # open runs and whole sources
    assert [len(c["coding_guid"]) for c in columns.values()] == [40, 5]
    assert columns[_g(3, 0)]["round"][:3] == ["r0", "r1", "r2"]


@pytest.mark.parametrize(
    ("why", "data"),
    [
        ("no default namespace", _document([(0, ["usual"] * 3, 0)], stray=False, namespace=False)),
        (
            "a source inside a source",
            _document([(0, ["usual"] * 3, 0)], stray=False, namespace=True).replace(
                b"</TextSource>", b'<TextSource guid="00000009-0003-4000-8000-000000000000"/></TextSource>'
            ),
        ),
    ],
)
def test_unusual_documents_go_one_by_one(why: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Capture, "take", lambda *a: pytest.fail(f"take called ({why})"))
    _, columns, _, _ = _captured(data, "batched", monkeypatch)
    assert sum(len(c["coding_guid"]) for c in columns.values()) == 3


def test_kept_children_stay_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A source's own Description and VariableValue stay, in place; the selections between go."""
    monkeypatch.setattr(safety, "BATCH_CHUNK", 100)
    monkeypatch.setattr(safety, "BATCH_OPEN_MIN", 1)
    data = _document([(1, ["usual", "NoteRef on selection", "usual"] * 3, 1)], stray=True, namespace=True)
    *_, left = _captured(data, "batched", monkeypatch)
    tags = [t for t, _, _ in left]
    assert tags[:5] == ["Project", "Sources", "TextSource", "Description", "VariableValue"]
    assert tags.count("PlainTextSelection") == 1  # the stray one, outside any source


def _cut_runs_taken(data: bytes, monkeypatch: pytest.MonkeyPatch) -> int:
    taken = []
    take = _Capture._take_cut_run

    def spy(self: _Capture, run: int, parent: object) -> bool:
        ok = take(self, run, parent)
        taken.append(ok)
        return ok

    monkeypatch.setattr(_Capture, "_take_cut_run", spy)
    monkeypatch.setattr(structure, "CUT_SEGMENT", 700)  # runs that span segments
    doc = read_document(SimpleNamespace(xml=data), "f.qde", Limits())
    assert sum(len(r) for r in doc.selections.values()) == 9
    return (
        sum(taken)
        if all(taken) and doc.selections and all(structure._CUT_RUN not in el.attrib for el in doc.root.iter())
        else -1
    )


USUAL_NINE = [(0, ["usual", "usual, indented", "usual, named"] * 2, 0), (1, ["usual"] * 3, 1)]


def test_this_packages_own_selections_are_cut_from_the_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _document(USUAL_NINE, stray=False, namespace=True)
    assert _cut_runs_taken(data, monkeypatch) == 2  # one run per source


@pytest.mark.parametrize(
    ("why", "change"),
    [
        ("a comment", lambda d: d.replace(b"<Sources>", b"<Sources><!-- a note -->")),
        ("a processing instruction", lambda d: d.replace(b"<Sources>", b"<Sources><?pi x?>")),
        ("the placeholder's name in a text", lambda d: d.replace(b"a source", b"qda-cut-run")),
        ("another encoding", lambda d: d.replace(b'encoding="utf-8"', b'encoding="iso-8859-1"')),
        (
            "a source outside <Sources>",
            lambda d: d.replace(b"<Sources>", b"<Sources><Cases>", 1).replace(
                b"</TextSource>\n", b"</TextSource></Cases>\n", 1
            ),
        ),
    ],
)
def test_documents_that_are_not_cut(why: str, change, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each of these is read from the tree (the cut would be unsafe or the placeholder misplaced)."""
    data = change(_document(USUAL_NINE, stray=False, namespace=True))
    assert _cut_runs_taken(data, monkeypatch) in (0, -1), why


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("valid", lambda d: d),
        ("a run where the schema allows no selection", lambda d: d.replace(b"TextSource", b"PictureSource")),
        ("an error elsewhere", lambda d: d.replace(b'name="S1"', b'name="S1" colour="red"')),
        ("both", lambda d: d.replace(b"TextSource", b"PictureSource").replace(b'name="p"', b'name="p" x="1"')),
    ],
)
def test_validate_on_the_stand_in_equals_validate_on_the_file(case, change, tmp_path, monkeypatch) -> None:
    """The schema judges a cut file by its stand-in (one selection per run) only when that is
    valid; otherwise the file itself, so that every error is listed with its own line."""
    from qda.exchange.read import validate_file

    path = tmp_path / "f.qde"
    path.write_bytes(change(_document(USUAL_NINE, stray=False, namespace=True)))
    doc = read_document(SimpleNamespace(xml=path.read_bytes()), "f.qde", Limits())
    assert doc.schema_stand_in is not None and len(doc.schema_stand_in) < len(path.read_bytes()) / 2
    found = validate_file(path)
    monkeypatch.setattr(structure, "_cut_usual_selections", lambda *a: None)
    assert found == validate_file(path)
    assert any("schema:" in p.what for p in found) == (case != "valid")


def _outcome(data: bytes, way: str, monkeypatch: pytest.MonkeyPatch) -> tuple | str:
    try:
        return _captured(data, way, monkeypatch)
    except QDAError as e:
        return f"{type(e).__name__}: {e}"


@settings(max_examples=200, deadline=None)
@given(
    at=st.floats(0, 1),
    cut_length=st.integers(0, 40),
    insert=st.sampled_from([b"", b"<", b">", b"&", b"\xff", b"\x01", b'"', b"<!-- x -->", b"</TextSource>", b"]]>"]),
)
def test_damaged_files_give_the_same_outcome_every_way(at, cut_length, insert) -> None:
    """Bytes deleted or inserted anywhere in a file of usual selections: the same rows, problems
    or one-line refusal whether the selections are cut from the bytes or read from the tree."""
    monkeypatch = pytest.MonkeyPatch()
    try:
        data = _document(USUAL_NINE, stray=False, namespace=True)
        i = int(at * len(data))
        damaged = data[:i] + insert + data[i + cut_length :]
        assert _outcome(damaged, "cut", monkeypatch) == _outcome(damaged, "batched", monkeypatch)
    finally:
        monkeypatch.undo()


def test_the_schemas_allow_the_stand_in_argument() -> None:
    """``_schema_stand_in`` is valid exactly when the file is only while the schemas declare no
    identity constraint and allow any number of selections wherever they allow one: a new
    version of the XSDs that breaks either fails here, before validate could be wrong."""
    from lxml import etree

    xs = "{http://www.w3.org/2001/XMLSchema}"
    for name in ("Project.xsd", "Codebook.xsd"):
        schema = etree.parse(str(safety.SCHEMA_DIR / name))
        assert not [el.tag for el in schema.iter(f"{xs}unique", f"{xs}key", f"{xs}keyref")], name
    selections = etree.parse(str(safety.SCHEMA_DIR / "Project.xsd")).iter(f"{xs}element")
    places = [el for el in selections if el.get("name") == "PlainTextSelection"]
    assert places and all(el.get("maxOccurs") == "unbounded" for el in places)
    assert structure._USUAL_SELECTION.fullmatch(structure._STAND_IN_SELECTION)


def test_every_coding_this_package_exports_is_cut(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exporter and the cut agree on the usual form: if ``write._selection`` changes how it
    writes a coding, this fails (the import would still be right, but slow)."""
    from test_refi import qde_of, small_study

    from qda.refi import export_project

    data = qde_of(export_project(small_study(), tmp_path / "s.qdpx"))
    cut = structure._cut_usual_selections(data, Limits())
    assert cut is not None
    selections = re.findall(rb"<PlainTextSelection .*?</PlainTextSelection>", data, re.S)
    # theme codings are written with another Description; a coding memo adds a NoteRef
    usual = [s for s in selections if b"<Description>Coding ID: " in s and b"<NoteRef" not in s]
    assert 0 < len(usual) < len(selections) and len(cut[1].sel_guid) == len(usual)
    assert _captured(data, "cut", monkeypatch) == _captured(data, "expat", monkeypatch)
