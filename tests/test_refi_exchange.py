"""REFI-QDA exchange, issue 17: exact import or one-line refusal, linear time, BOM offsets, --out, round trip.

Every input here is built by the test (big ones generated, never committed).
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_qda
from test_refi import _handmade_qdpx, small_study

import qda
from qda.errors import LimitExceededError, RefiError, UnsafeInputError
from qda.exchange.text import OffsetMap, normalise_newlines
from qda.exchange.write import not_carried
from qda.refi import Limits, export_project, import_project, read_qdpx_members, validate_file, write_study

G = "9f2c1e7a-1111-4a2b-8c3d-0123456789ab"
CODE = "0b1c2d3e-2222-4a2b-8c3d-0123456789ab"
USER = "1c2d3e4f-3333-4a2b-8c3d-0123456789ab"


def project(body: str, origin: str = "test") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{origin}">'
        f'<Users><User guid="{USER}" name="Ana"/></Users>'
        f'<CodeBook><Codes><Code guid="{CODE}" name="Mentor talk" isCodable="true"/></Codes></CodeBook>{body}</Project>'
    )


def selection(i: int, s: int, e: int, refs: int = 1) -> str:
    coderefs = f'<CodeRef targetGUID="{CODE}"/>' * refs
    return (
        f'<PlainTextSelection guid="{i:08x}-5555-4a2b-8c3d-0123456789ab" startPosition="{s}" endPosition="{e}">'
        f'<Coding guid="{i:08x}-6666-4a2b-8c3d-0123456789ab" creatingUser="{USER}">{coderefs}</Coding>'
        "</PlainTextSelection>"
    )


def qdpx(path: Path, xml: str, sources: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml)
        for name, data in (sources or {}).items():
            zf.writestr(name, data)
    return path


def source(sels: str, g: str = G, name: str = "Interview 1") -> str:
    return f'<TextSource guid="{g}" name="{name}" plainTextPath="internal://{g}.txt">{sels}</TextSource>'


def refused(path: Path, exc: type, pattern: str, tmp_path: Path) -> None:
    """The API raises ``exc`` in one line; the CLI exits 2 with one line and writes nothing."""
    with pytest.raises(exc, match=pattern) as info:
        import_project(path)
    assert "\n" not in str(info.value)
    out = tmp_path / "out"
    r = run_qda("import", str(path), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not out.exists()
    v = run_qda("validate", str(path), cwd=tmp_path)
    assert v.returncode == 2 and "Traceback" not in v.stderr


# ---------------------------------------------------------------------------
# 1. every input imports exactly or is refused
# ---------------------------------------------------------------------------
TEXT = "R: my mentor wrote the letter.\n"


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (f"<Sources>{source(selection(1, 3, 12))}</Sources><Sources/>", r"<Project 'p'>: has 2 <Sources> elements"),
        (f"<Sources>{source(selection(1, 3, 12, refs=2))}</Sources>", r"<Coding guid=00000001-[^>]*>: has 2 <CodeRef>"),
        (
            f"<Sources>{source(selection(1, 3, 12, refs=0))}</Sources>",
            r"<Coding guid=00000001-[^>]*>: has no <CodeRef>",
        ),
    ],
    ids=["second Sources", "two CodeRefs", "no CodeRef"],
)
def test_structure_that_would_lose_data_is_refused(tmp_path, body, pattern):
    p = qdpx(tmp_path / "p.qdpx", project(body), {f"sources/{G}.txt": TEXT.encode()})
    refused(p, RefiError, pattern, tmp_path)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
)
def test_sources_are_decoded_by_their_byte_order_mark(tmp_path, encoding, bom):
    text = "R: my mentor \U0001f600 wrote it.\n"
    p = qdpx(
        tmp_path / "p.qdpx",
        project(f"<Sources>{source(selection(1, 3, 12))}</Sources>"),
        {f"sources/{G}.txt": bom + text.encode(encoding)},
    )
    st = import_project(p)
    assert st.text("Interview_1") == text
    assert st.with_text(st.codings)["text"].tolist() == ["my mentor"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-32-le", "utf-16-be"])
def test_wide_text_without_a_bom_is_refused(tmp_path, encoding):
    p = qdpx(
        tmp_path / "p.qdpx",
        project(f"<Sources>{source(selection(1, 3, 12))}</Sources>"),
        {f"sources/{G}.txt": TEXT.encode(encoding)},
    )
    refused(p, RefiError, r"holds the control character U\+0000, so it is not text \(UTF-16 or UTF-32", tmp_path)
    assert any("not text" in x.what for x in validate_file(p))


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("startPosition", "99999999999999999999"), ("endPosition", "-99999999999999999999"), ("endPosition", str(2**63))],
)
def test_positions_beyond_64_bits_are_refused_in_one_line(tmp_path, attribute, value):
    """Found by review: int64 overflow was a traceback (OverflowError) from import and validate."""
    xml = project(f"<Sources>{source(selection(1, 3, 12))}</Sources>")
    old = 'startPosition="3"' if attribute == "startPosition" else 'endPosition="12"'
    assert old in xml
    path = qdpx(tmp_path / "huge.qdpx", xml.replace(old, f'{attribute}="{value}"'), {f"sources/{G}.txt": TEXT.encode()})
    refused(path, RefiError, rf"{attribute}='{value}' is beyond any text", tmp_path)


def test_trailing_data_and_hidden_zips_are_refused(tmp_path):
    xml = project("").encode()
    (tmp_path / "junk.qde").write_bytes(xml + b"<more/>")
    refused(tmp_path / "junk.qde", RefiError, r"is not well-formed XML \(junk after document element", tmp_path)
    hidden = qdpx(
        tmp_path / "hidden.qdpx",
        project(f"<Sources>{source(selection(1, 3, 12))}</Sources>"),
        {f"sources/{G}.txt": TEXT.encode()},
    )
    (tmp_path / "appended.qde").write_bytes(xml + hidden.read_bytes())
    refused(tmp_path / "appended.qde", RefiError, r"is not well-formed XML", tmp_path)
    (tmp_path / "tail.qdpx").write_bytes(hidden.read_bytes() + b"extra bytes")
    refused(
        tmp_path / "tail.qdpx", UnsafeInputError, r"zip: has 11 bytes of data after the end of the archive", tmp_path
    )
    (tmp_path / "head.qdpx").write_bytes(b"PK\x03\x04" + b"x" * 60 + hidden.read_bytes())
    with pytest.raises(RefiError):
        import_project(tmp_path / "head.qdpx")


# ---------------------------------------------------------------------------
# 2. linear time, bounded memory
# ---------------------------------------------------------------------------
def test_forty_thousand_notes_with_one_name_import_in_linear_time(tmp_path):
    notes = "".join(
        f'<Note guid="{i:08x}-7777-4a2b-8c3d-0123456789ab" name="memo"><PlainTextContent>x</PlainTextContent></Note>'
        for i in range(40_000)
    )
    p = tmp_path / "notes.qde"
    p.write_text(project(f"<Notes>{notes}</Notes>"), encoding="utf-8")
    t = time.perf_counter()
    st = import_project(p)
    took = time.perf_counter() - t
    assert len(st.memos) == 40_000 and st.memos["memo_id"].is_unique
    assert st.memos["memo_id"].iloc[-1] == "memo_40000"
    assert took < 60, f"{took:.1f} s: name de-duplication is not linear"  # quadratic took > 180 s


def test_a_member_counts_against_the_limit_each_time_it_is_used(tmp_path):
    text = ("mentor " * 3000).encode()  # 21,000 bytes
    srcs = "".join(
        f'<TextSource guid="{i:08x}-8888-4a2b-8c3d-0123456789ab" name="s{i}" plainTextPath="internal://{G}.txt"/>'
        for i in range(10)
    )
    p = qdpx(tmp_path / "p.qdpx", project(f"<Sources>{srcs}</Sources>"), {f"sources/{G}.txt": text})
    assert len(import_project(p).transcripts) == 10
    limit = 5 * len(text) + 4000
    with pytest.raises(LimitExceededError, match=r"a source text counts each time a source uses it"):
        import_project(p, limits=Limits(max_uncompressed=limit))


def test_offset_map_holds_one_integer_per_crlf():
    text = "a" * 100_000 + "\r\n" + "b\r\n" * 3
    lf, omap = normalise_newlines(text)
    assert isinstance(omap, OffsetMap) and omap.cr.size == 4
    assert normalise_newlines("no carriage return \U0001f600")[1] is None  # astral characters need no map
    assert lf[int(omap(100_005)) :] == "b\nb\n"


# ---------------------------------------------------------------------------
# 3. no traceback
# ---------------------------------------------------------------------------
def test_huge_inline_text_validates(tmp_path):
    big = "mentor " * 1_700_000  # 11.9 MB in one text node (lxml's default limit is 10 MB)
    body = f'<Sources><TextSource guid="{G}" name="big"><PlainTextContent>{big}</PlainTextContent>{selection(1, 0, 6)}</TextSource></Sources>'
    p = tmp_path / "big.qde"
    p.write_text(project(body), encoding="utf-8")
    assert validate_file(p) == []
    r = run_qda("validate", str(p), cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr


def test_ten_thousand_nested_codes_import_and_export_without_recursion(tmp_path):
    n = 10_000
    codes = "".join(f'<Code guid="{i:08x}-9999-4a2b-8c3d-0123456789ab" name="c{i}" isCodable="true">' for i in range(n))
    p = tmp_path / "deep.qde"
    p.write_text(project("").replace("</Codes>", codes + "</Code>" * n + "</Codes>"), encoding="utf-8")
    with pytest.raises(LimitExceededError):
        import_project(p)
    st = import_project(p, limits=Limits(max_depth=n + 10))
    assert len(st.codebook) == n + 1
    out = export_project(st, tmp_path / "deep.qdpx")  # no false "parent cycle"
    assert len(import_project(out, limits=Limits(max_depth=n + 10)).codebook) == n + 1
    r = run_qda("validate", str(p), cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_import_into_an_existing_file_is_one_line(tmp_path):
    p = export_project(small_study(), tmp_path / "s.qdpx")
    (tmp_path / "file.txt").write_text("keep me")
    r = run_qda("import", str(p), "--out", str(tmp_path / "file.txt"), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.strip().endswith("give a folder path (it is created)")
    assert len(r.stderr.strip().splitlines()) == 1 and (tmp_path / "file.txt").read_text() == "keep me"


# ---------------------------------------------------------------------------
# 4. BOM offsets
# ---------------------------------------------------------------------------
BOM_TEXT = "Q: first\nA: the mentor helped me a lot\n"


def _bom_project(tmp_path: Path, sels: list[tuple[int, int]], origin: str = "test") -> Path:
    body = "".join(selection(i + 1, s, e) for i, (s, e) in enumerate(sels))
    return qdpx(
        tmp_path / "bom.qdpx",
        project(f"<Sources>{source(body)}</Sources>", origin),
        {f"sources/{G}.txt": b"\xef\xbb\xbf" + BOM_TEXT.encode()},
    )


def _selected(st) -> list[str]:
    return st.with_text(st.codings)["text"].tolist()


def test_bom_base_from_a_selection_that_fits_only_one_base(tmp_path):
    s = BOM_TEXT.index("the mentor")
    st = import_project(_bom_project(tmp_path, [(s + 1, s + 11), (s + 1, len(BOM_TEXT) + 1)]))
    assert _selected(st)[0] == "the mentor"
    assert "the BOM as code point 0 (a selection ends one past the text" in st.imported.notes[0]
    st = import_project(_bom_project(tmp_path, [(0, 2), (s, s + 10)]))
    assert _selected(st) == ["Q:", "the mentor"] and "after the BOM (a selection starts at 0" in st.imported.notes[0]
    with pytest.raises(RefiError, match="some selections fit only an offset base after the BOM"):
        import_project(_bom_project(tmp_path, [(0, 2), (s + 1, len(BOM_TEXT) + 1)]))


def test_bom_base_from_the_origin_and_the_cli_line(tmp_path):
    s = BOM_TEXT.index("the mentor")
    p = _bom_project(tmp_path, [(s + 1, s + 11)], origin="qc 1.7.8")
    assert _selected(import_project(p)) == ["the mentor"]
    r = run_qda("import", str(p), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (
        "1 source(s) start with a byte-order mark; offsets read the BOM as code point 0 (the project's origin 'qc 1.7.8'"
        in r.stderr
    )
    # word boundaries decide when neither a selection nor the origin does
    words = [(BOM_TEXT.index(w) + 1, BOM_TEXT.index(w) + 1 + len(w)) for w in ("first", "mentor", "helped")]
    st = import_project(_bom_project(tmp_path, words))
    assert _selected(st) == ["first", "mentor", "helped"] and "word boundaries" in st.imported.notes[0]


# ---------------------------------------------------------------------------
# 4b. Inline text (PlainTextContent) with CR line ends (item 6)
# ---------------------------------------------------------------------------
CR_TEXT = "Q: first\r\nA: the mentor helped me\r\nQ: and then?\r\nA: fine\r\n"


def _inline_project(tmp_path: Path, content: str, sels: list[tuple[int, int]]) -> Path:
    """A project whose one source holds ``content`` (XML, as written) inline; sels on CR_TEXT."""
    body = "".join(selection(i + 1, s, e) for i, (s, e) in enumerate(sels))
    xml = project(
        f'<Sources><TextSource guid="{G}" name="i"><PlainTextContent>{content}</PlainTextContent>{body}</TextSource></Sources>'
    )
    path = tmp_path / f"inline{len(list(tmp_path.glob('inline*')))}.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml.encode("utf-8"))  # the CRs as written, raw or escaped
    assert (b"\r" in zipfile.ZipFile(path).read("project.qde")) == ("\r" in content)
    return path


def _span(word: str) -> tuple[int, int]:
    return CR_TEXT.index(word), CR_TEXT.index(word) + len(word)


def test_inline_text_with_escaped_crlf_keeps_every_selection(tmp_path):
    # &#13; survives XML parsing: the text holds CRLF, and positions count the CRs (spec 10.2)
    sels = [_span("the mentor"), _span("fine\r\n"), _span("first\r\nA:")]
    st = import_project(_inline_project(tmp_path, CR_TEXT.replace("\r", "&#13;"), sels))
    lf = CR_TEXT.replace("\r\n", "\n")
    assert st.transcripts["text"].tolist() == [lf]
    assert _selected(st) == [CR_TEXT[s:e].replace("\r\n", "\n") for s, e in sels]
    assert st.imported.notes == []


def test_inline_text_with_raw_crlf_counted_with_the_crs(tmp_path):
    # raw CRLF: XML reads LF; a selection ending at the CRLF text's end fits only counting the CRs
    sels = [_span("the mentor"), _span("fine\r\n")]
    for content in (CR_TEXT, f"<![CDATA[{CR_TEXT}]]>", CR_TEXT[:20] + "<![CDATA[" + CR_TEXT[20:] + "]]>"):
        st = import_project(_inline_project(tmp_path, content, sels))
        assert st.transcripts["text"].tolist() == [CR_TEXT.replace("\r\n", "\n")]
        assert _selected(st) == ["the mentor", "fine\n"], content
        assert [n for n in st.imported.notes if "raw CR line ends" in n and "count them" in n] != []


def test_inline_text_with_raw_crlf_selections_on_the_first_line_need_no_decision(tmp_path):
    st = import_project(_inline_project(tmp_path, CR_TEXT, [_span("first")]))
    assert _selected(st) == ["first"] and st.imported.notes == []


def test_inline_text_with_raw_crlf_that_cannot_be_read_is_refused_in_one_line(tmp_path):
    # "the mentor" counted with the CRs, or "he mentor " without them: nothing tells which
    path = _inline_project(tmp_path, CR_TEXT, [_span("the mentor"), _span("first")])
    pattern = "raw CR line ends, which XML reads as LF, and 1 selection"
    refused(path, RefiError, pattern, tmp_path)
    r = run_qda("validate", str(path), cwd=tmp_path)
    assert r.returncode == 2 and len([line for line in r.stderr.splitlines() if pattern in line]) == 1, r.stderr
    # the same text with its CRs escaped imports
    assert _selected(
        import_project(_inline_project(tmp_path, CR_TEXT.replace("\r", "&#13;"), [_span("the mentor")]))
    ) == ["the mentor"]


# ---------------------------------------------------------------------------
# 5. --out
# ---------------------------------------------------------------------------
def test_out_folder_rules(tmp_path):
    a = export_project(small_study(), tmp_path / "a.qdpx")
    out = tmp_path / "out"
    assert run_qda("import", str(a), "--out", str(out), cwd=tmp_path).returncode == 0
    assert (out / "SYNTHETIC").exists()
    # the same file again: replaced whole (a file added by hand disappears)
    (out / "transcripts" / "old.txt").write_text("stale")
    assert run_qda("import", str(a), "--out", str(out), cwd=tmp_path).returncode == 0
    assert not (out / "transcripts" / "old.txt").exists()
    # another file into it: refused in one line, nothing changed
    other = _handmade_qdpx(tmp_path / "other.qdpx", TEXT.encode(), [(3, 12)])
    before = sorted(p.name for p in out.rglob("*"))
    r = run_qda("import", str(other), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2 and "already holds an import of another file" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and sorted(p.name for p in out.rglob("*")) == before
    # --force replaces it: no transcript and no SYNTHETIC marker of the earlier import survive
    assert run_qda("import", str(other), "--out", str(out), "--force", cwd=tmp_path).returncode == 0
    st = qda.load_study(out)
    assert st.synthetic is False and list(st.transcripts["transcript_id"]) == ["Interview_1"]
    # a folder with other content is refused too
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.md").write_text("mine")
    r = run_qda("import", str(a), "--out", str(tmp_path / "mine"), cwd=tmp_path)
    assert r.returncode == 2 and "1 item(s) that are not an earlier import" in r.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


# ---------------------------------------------------------------------------
# 7. what the export carries; the data-folder round trip
# ---------------------------------------------------------------------------
def rich_study():
    s = small_study()
    s.themes = pd.DataFrame(
        {
            "theme_coding_id": ["T1", "T2", "T3"],
            "transcript_id": ["P001", "P002", "P003"],
            "start": [3, 3, 3],
            "end": [20, 30, 25],
            "theme": [1, 2, 2],
            "theme_name": ["Finding a mentor", "Sponsorship", "Sponsorship"],
            "subtheme": ["", "Named for a committee", ""],
            "coder": ["analyst_a", "analyst_b", "analyst_a"],
        }
    )
    from qda.study.schema import coerce

    s.themes = coerce(s.themes.astype(object), "themes", Path("themes"))
    s.reconciliation = coerce(
        pd.DataFrame(
            [
                {
                    "round": "2",
                    "transcript_id": "P001",
                    "unit_id": "P001-T1",
                    "code": "mentorship",
                    "coded_by": "analyst_a",
                    "not_coded_by": "analyst_b",
                    "resolution": "present",
                    "note": "kept",
                }
            ]
        ).astype(object),
        "reconciliation",
        Path("reconciliation"),
    )
    return s


def test_export_carries_roles_themes_memos_and_says_what_it_cannot(tmp_path):
    s = rich_study()
    back = import_project(export_project(s, tmp_path / "s.qdpx"))
    assert back.coders.set_index("coder")["role"].to_dict() == {"analyst_a": "lead", "analyst_b": "second"}
    pd.testing.assert_frame_equal(s.themes.astype(str), back.themes.astype(str))
    assert len(back.memos) == 3 and set(back.codebook["code"]) == set(s.codebook["code"])
    assert not_carried(s)[1] == "the reconciliation log (1 decisions)"
    folder = tmp_path / "data"
    s.reconciliation = s.reconciliation.iloc[:0]  # its unit ids are not turns of these texts
    write_study(s, folder)
    r = run_qda("export", "--out", str(tmp_path / "x.qdpx"), "--data", str(folder), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "3 theme assignments" in r.stdout
    assert "not carried (REFI-QDA has no place for it): 1 earlier codebook version(s) (v1)" in r.stderr


def test_data_folder_round_trip_is_byte_identical(tmp_path, study):
    """export -> import to a folder -> export gives the same bytes (the synthetic corpus, or data/ as it is)."""
    write_study(rich_study(), tmp_path / "small-data")
    for name, s in (("small", qda.load_study(tmp_path / "small-data")), ("data", study)):
        first = export_project(s, tmp_path / f"{name}-1.qdpx")
        out = tmp_path / f"{name}-folder"
        r = run_qda("import", str(first), "--out", str(out), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        r = run_qda("export", "--out", str(tmp_path / f"{name}-2.qdpx"), "--data", str(out), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        second = tmp_path / f"{name}-2.qdpx"
        m1, m2 = read_qdpx_members(first), read_qdpx_members(second)
        assert m1.keys() == m2.keys(), name
        for k in m1:
            assert m1[k] == m2[k], (name, k)
        assert first.read_bytes() == second.read_bytes(), name


# ---------------------------------------------------------------------------
# 8. spreadsheet formulas
# ---------------------------------------------------------------------------
def test_formula_names_are_reported_and_written_safely(tmp_path):
    s = small_study()
    s.coders.loc[0, "coder"] = '=HYPERLINK("http://x")'
    s.codings["coder"] = s.codings["coder"].replace("analyst_a", s.coders.loc[0, "coder"])
    s.memos["coder"] = s.memos["coder"].replace("analyst_a", s.coders.loc[0, "coder"])
    cb = s.codebook.copy()
    cb.loc[cb["code"] == "mentoring", "name"] = "+Mentoring"
    s.codebook = cb
    p = export_project(s, tmp_path / "f.qdpx")
    whats = [pr.line() for pr in validate_file(p)]
    assert any("coder '=HYPERLINK" in w and "spreadsheet" in w for w in whats)
    assert any("code '+Mentoring'" in w for w in whats)
    out = tmp_path / "out"
    r = run_qda("import", str(p), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0 and "written with a leading apostrophe" in r.stderr
    coders_csv = (out / "coders.csv").read_text()
    assert "'=HYPERLINK" in coders_csv and "\n=HYPERLINK" not in coders_csv
    assert "-0.5" not in coders_csv  # numbers are never touched (see formula_safe)


def test_deferred_guids_are_the_dict_on_every_access_copy_and_pickle(tmp_path):
    """The codings' GUID entries are made on first read (issue 17 item 2); every route sees the same dict."""
    import copy
    import dataclasses
    import pickle

    export_project(small_study(), tmp_path / "s.qdpx")
    first = import_project(tmp_path / "s.qdpx").imported
    assert "guids" not in vars(first)  # deferred: the study has codings outside themes
    expected = list(first.guids.items())
    assert any(k.startswith("coding:") for k, _ in expected) and any(k.startswith("selection:") for k, _ in expected)
    for route in (copy.copy, copy.deepcopy, lambda r: pickle.loads(pickle.dumps(r))):
        rec = import_project(tmp_path / "s.qdpx").imported
        assert list(route(rec).guids.items()) == expected
    assert dataclasses.asdict(import_project(tmp_path / "s.qdpx").imported)["guids"] == dict(expected)
    with pytest.raises(AttributeError):
        _ = first.no_such_attribute
