"""REFI-QDA export/import (qda.refi): schema validity, round trip, real exports, mapping."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xmlschema
from conftest import SHARED

import qda
from qda.errors import DataError
from qda.exchange.safety import SCHEMA_DIR
from qda.refi import (
    apply_mapping,
    canonical_xml,
    code_description,
    export_codebook,
    export_project,
    import_project,
    load_project,
    normalise_newlines,
    parse_code_description,
    read_qdpx_members,
    schema_errors,
    slugify,
    validate_file,
)
from qda.study.model import Study
from qda.study.schema import SCHEMAS, coerce

FIXTURES = SHARED / "fixtures" / "refi"


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(SCHEMAS[table])).astype(object)
    return coerce(df.where(df.notna(), ""), table, Path(table))


def small_study() -> Study:
    """A hand-made study touching every exported feature (our own invented text)."""
    texts = {
        "P001": "I: How did you find a mentor?\nR: My chair introduced me to someone in cardiology. Café talks helped.\n",
        "P002": "I: Tell me about sponsorship.\nR: She put my name forward for the committee \u2014 twice. \U0001f600 ok\n",
        "P003": "I: Any differences by gender?\nR: Women were asked to do more service work than men.\n",
    }
    participants = frame(
        "participants",
        [
            {
                "participant_id": p,
                "gender": g,
                "institution_id": i,
                "rank": r,
                "degree": d,
                "leadership": "none",
                "endowed_chair": ec,
                "age_band": "40-49",
                "career_stage": cs,
                "field": "medicine",
                "interview_mode": "video call",
                "interview_minutes": m,
                "primary_caregiver": pc,
            }
            for p, g, i, r, d, ec, cs, m, pc in [
                ("P001", "woman", "I01", "assistant", "MD", "no", "early", "52", "yes"),
                ("P002", "man", "I02", "full", "PhD", "yes", "senior", "61", "no"),
                ("P003", "woman", "I01", "associate", "MD-PhD", "no", "mid", "47", "no"),
            ]
        ],
    )
    institutions = frame(
        "institutions",
        [
            {
                "institution_id": "I01",
                "pseudonym": "Institution A",
                "region": "West",
                "ownership": "public",
                "prestige_tier": "higher",
            },
            {
                "institution_id": "I02",
                "pseudonym": "Institution B",
                "region": "South",
                "ownership": "private",
                "prestige_tier": "middle",
            },
        ],
    )
    coders = frame("coders", [{"coder": "analyst_a", "role": "lead"}, {"coder": "analyst_b", "role": "second"}])
    base = {"origin": "deductive", "introduced_round": "1", "refined_round": "", "example": "An invented line."}
    cb_rows = []
    for v in ("v1", "final"):
        cb_rows += [
            {
                **base,
                "version": v,
                "code": "mentorship",
                "name": "Experiences of mentorship",
                "parent": "",
                "code_group": "Mentorship",
                "definition": f"Talk about mentoring ({v}).",
                "inclusion": "Giving or getting guidance.\nAlso sponsorship.",
                "exclusion": "Formal teaching.",
                "color": "#0072B2",
                "refined_round": "2" if v == "final" else "",
            },
            {
                **base,
                "version": v,
                "code": "mentoring",
                "name": "Mentoring",
                "parent": "mentorship",
                "code_group": "Mentorship",
                "definition": "Giving mentorship.",
                "inclusion": "As mentor.",
                "exclusion": "As mentee.",
                "color": "#56B4E9",
            },
            {
                **base,
                "version": v,
                "code": "being_mentored",
                "name": "Being mentored",
                "parent": "mentorship",
                "code_group": "Mentorship",
                "definition": "Receiving mentorship.",
                "inclusion": "As mentee.",
                "exclusion": "As mentor.",
                "color": "#009E73",
            },
            {
                **base,
                "version": v,
                "code": "gender_inequities",
                "name": "Gender inequities (any)",
                "parent": "",
                "code_group": "Inequities",
                "definition": "Unequal treatment by gender.",
                "inclusion": "Pay, service.",
                "exclusion": "General climate.",
                "color": "#D55E00",
                "origin": "inductive",
                "introduced_round": "2",
            },
        ]
    cb_rows.append(
        {
            **base,
            "version": "v1",
            "code": "dropped_code",
            "name": "Dropped code",
            "parent": "",
            "code_group": "",
            "definition": "Only in v1.",
            "inclusion": "x",
            "exclusion": "y",
            "color": "",
        }
    )
    codebook = frame("codebook", cb_rows)

    def span(t: str, needle: str) -> tuple[int, int]:
        s = texts[t].index(needle)
        return s, s + len(needle)

    c_rows = []
    for i, (t, needle, coder, rnd, code, ver) in enumerate(
        [
            ("P001", "My chair introduced me to someone in cardiology.", "analyst_a", "1", "being_mentored", "v1"),
            ("P001", "My chair introduced me to someone in cardiology.", "analyst_b", "1", "mentorship", "v1"),
            ("P001", "Café talks helped.", "analyst_a", "1", "dropped_code", "v1"),
            (
                "P002",
                "She put my name forward for the committee \u2014 twice. \U0001f600",
                "analyst_a",
                "full",
                "being_mentored",
                "final",
            ),
            (
                "P003",
                "Women were asked to do more service work than men.",
                "analyst_b",
                "full",
                "gender_inequities",
                "final",
            ),
            (
                "P003",
                "Women were asked to do more service work than men.",
                "analyst_a",
                "full",
                "gender_inequities",
                "final",
            ),
        ]
    ):
        s, e = span(t, needle)
        c_rows.append(
            {
                "coding_id": f"C{i + 1:04d}",
                "transcript_id": t,
                "coder": coder,
                "round": rnd,
                "start": s,
                "end": e,
                "code": code,
                "codebook_version": ver,
            }
        )
    codings = frame("codings", c_rows)
    memos = frame(
        "memos",
        [
            {
                "memo_id": "M001",
                "coder": "analyst_a",
                "date": "2019-10-01",
                "attached_to": "code",
                "code": "mentoring",
                "coding_id": "",
                "text": "Boundary with sponsorship needs a rule.",
            },
            {
                "memo_id": "M002",
                "coder": "analyst_b",
                "date": "2019-11-02",
                "attached_to": "coding",
                "code": "",
                "coding_id": "C0005",
                "text": "Clear case of service load.",
            },
            {
                "memo_id": "M003",
                "coder": "analyst_a",
                "date": "2020-01-17",
                "attached_to": "project",
                "code": "",
                "coding_id": "",
                "text": "Round 3 closed: criteria stable.\nSecond line.",
            },
        ],
    )
    transcripts = frame(
        "transcripts",
        [
            {
                "transcript_id": t,
                "participant_id": t,
                "path": f"{t}.txt",
                "text": x,
                "n_chars": str(len(x)),
                "n_words": str(len(x.split())),
            }
            for t, x in texts.items()
        ],
    )
    return Study(
        participants=participants,
        transcripts=transcripts,
        codebook=codebook,
        codings=codings,
        institutions=institutions,
        coders=coders,
        memos=memos,
        synthetic=True,
    )


def qde_of(path: Path) -> bytes:
    return read_qdpx_members(path)["project.qde"]


# ---------------------------------------------------------------------------
# export: schema validity and reproducibility
# ---------------------------------------------------------------------------
def test_export_project_validates_against_project_xsd_with_two_validators(tmp_path):
    out = export_project(small_study(), tmp_path / "s.qdpx")
    xml = qde_of(out)
    assert schema_errors(xml, "project") == []  # lxml
    xmlschema.XMLSchema(str(SCHEMA_DIR / "Project.xsd")).validate(io.BytesIO(xml))  # independent validator
    names = zipfile.ZipFile(out).namelist()
    assert names[0] == "project.qde" and len([n for n in names if n.startswith("sources/")]) == 3
    text = xml.decode()
    assert text.count("<PlainTextSelection ") == 6 and text.count("<Coding ") == 6
    assert text.count("<Case ") == 3 and text.count("<Set ") == 2
    assert text.count("<Note ") == 5 and text.count("Coder role: ") == 2  # 3 memos, 2 coder roles
    assert 'plainTextPath="internal://' in text


def test_export_codebook_validates_against_codebook_xsd(tmp_path):
    s = small_study()
    out = export_codebook(s, tmp_path / "cb.qdc")
    xml = out.read_bytes()
    assert schema_errors(xml, "codebook") == []
    xmlschema.XMLSchema(str(SCHEMA_DIR / "Codebook.xsd")).validate(io.BytesIO(xml))
    assert xml.decode().count("<Code ") == 4  # the final version only
    v1 = export_codebook(s, tmp_path / "v1.qdc", version="v1").read_bytes().decode()
    assert v1.count("<Code ") == 5 and "(v1)" in v1
    with pytest.raises(DataError, match="version 'v9'.*does not exist"):
        export_codebook(s, tmp_path / "v9.qdc", version="v9")


def test_export_is_byte_identical_on_repeat(tmp_path):
    a = export_project(small_study(), tmp_path / "a.qdpx").read_bytes()
    b = export_project(small_study(), tmp_path / "b.qdpx").read_bytes()
    assert a == b


def test_project_export_holds_all_code_versions_and_criteria(tmp_path):
    s = small_study()
    xml = qde_of(export_project(s, tmp_path / "s.qdpx")).decode()
    # dropped_code exists only in v1 but has codings: it must still be a Code
    assert 'name="Dropped code"' in xml
    assert "Definition: Talk about mentoring (final)." in xml  # the latest text wins
    assert "Inclusion: Giving or getting guidance.\nAlso sponsorship." in xml
    # name does not slugify to the slug -> the slug is kept as Code ID
    assert "Code ID: gender_inequities" in xml and "Code ID: mentoring" not in xml
    assert "Round: 1\nCodebook version: v1" in xml


# ---------------------------------------------------------------------------
# round trip
# ---------------------------------------------------------------------------
def test_round_trip_is_identical(tmp_path):
    s = small_study()
    first = export_project(s, tmp_path / "first.qdpx")
    back = import_project(first)
    second = export_project(back, tmp_path / "second.qdpx")
    m1, m2 = read_qdpx_members(first), read_qdpx_members(second)
    assert m1.keys() == m2.keys()
    assert canonical_xml(m1["project.qde"]) == canonical_xml(m2["project.qde"])
    assert first.read_bytes() == second.read_bytes()
    for k in m1:
        assert m1[k] == m2[k], k
    # the tables themselves
    key = ["coding_id"]
    pd.testing.assert_frame_equal(
        s.codings.sort_values(key).reset_index(drop=True).astype(str),
        back.codings[list(SCHEMAS["codings"])].sort_values(key).reset_index(drop=True).astype(str),
    )
    pd.testing.assert_frame_equal(s.memos.astype(str), back.memos.astype(str))
    pd.testing.assert_frame_equal(s.participants, back.participants[list(SCHEMAS["participants"])])
    pd.testing.assert_frame_equal(s.institutions.astype(str), back.institutions.astype(str))
    assert list(back.coders["coder"]) == ["analyst_a", "analyst_b"]
    assert back.synthetic is True
    for cid in s.codings["coding_id"]:
        assert s.coding_text(cid) == back.coding_text(cid)
    final = s.codebook[s.codebook["version"].astype(str) == "final"].set_index("code")
    got = back.codebook.set_index("code")
    for col in [
        "name",
        "parent",
        "code_group",
        "definition",
        "inclusion",
        "exclusion",
        "example",
        "origin",
        "introduced_round",
        "color",
    ]:
        assert (got.loc[final.index, col].astype(str) == final[col].astype(str)).all(), col
    assert got.loc["mentorship", "refined_round"] == 2 and pd.isna(got.loc["mentoring", "refined_round"])
    assert got.loc["dropped_code", "definition"] == "Only in v1."


def test_codebook_round_trip(tmp_path):
    s = small_study()
    back = import_project(export_codebook(s, tmp_path / "cb.qdc"))
    assert set(back.codebook["code"]) == {"mentorship", "mentoring", "being_mentored", "gender_inequities"}
    assert back.codings.empty and list(back.codings.columns) == list(SCHEMAS["codings"])
    again = export_codebook(back, tmp_path / "cb2.qdc")
    assert canonical_xml((tmp_path / "cb.qdc").read_bytes()) == canonical_xml(again.read_bytes())


@pytest.mark.parametrize(
    "fields",
    [
        {"definition": "One.", "inclusion": "Two\nlines.", "exclusion": "", "example": "Ex: colon inside."},
        {"definition": "", "inclusion": "", "exclusion": "Only this.", "example": ""},
    ],
)
def test_code_description_parses_back(fields):
    row = {**fields, "origin": "inductive", "introduced_round": 3, "refined_round": pd.NA, "code": "x_y"}
    got = parse_code_description(code_description(row, with_id=True))
    for k, v in fields.items():
        assert got.get(k, "") == v
    assert got["origin"] == "inductive" and got["introduced_round"] == "3" and got["code"] == "x_y"
    assert "refined_round" not in got


def test_free_text_description_becomes_the_definition():
    assert parse_code_description("Apply when the paper uses affordances.") == {
        "definition": "Apply when the paper uses affordances."
    }


def test_slugify_matches_the_codebook_slug_rule():
    for name in ["Gender inequities", "2022-05-10T02:05:59Z 19e4dce", "Mentoría", "!!!"]:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", slugify(name)), name


# ---------------------------------------------------------------------------
# offsets: BOM and CRLF
# ---------------------------------------------------------------------------
def test_normalise_newlines_keeps_selected_characters():
    stored = "a\r\nbc\r\n\r\nd\re"
    text, shift = normalise_newlines(stored)
    assert text == "a\nbc\n\nd\ne"
    for s in range(len(stored) + 1):
        for e in range(s, len(stored) + 1):
            got = text[s - shift[s] : e - shift[e]]
            assert got == stored[s:e].replace("\r\n", "\n").replace("\r", "\n") or (
                # a range that starts or ends between CR and LF keeps the LF
                stored[s:e].startswith("\n") or stored[s:e].endswith("\r")
            ), (s, e)


def _handmade_qdpx(
    path: Path,
    source: bytes,
    selections: list[tuple[int, int]],
    *,
    qde_name="project.qde",
    ptp="internal://{g}.txt",
    member="sources/{g}.txt",
    guid_case=str.upper,
    ns="urn:QDA-XML:project:1.0",
    source_vars=False,
) -> Path:
    g = "9f2c1e7a-1111-4a2b-8c3d-0123456789ab"
    code, user, var = (
        "0b1c2d3e-2222-4a2b-8c3d-0123456789ab",
        "1c2d3e4f-3333-4a2b-8c3d-0123456789ab",
        "2d3e4f50-4444-4a2b-8c3d-0123456789ab",
    )
    sels = "".join(
        f'<PlainTextSelection guid="{i:08x}-5555-4a2b-8c3d-0123456789ab" startPosition="{s}" endPosition="{e}">'
        f'<Coding guid="{i:08x}-6666-4a2b-8c3d-0123456789ab" creatingUser="{guid_case(user)}">'
        f'<CodeRef targetGUID="{guid_case(code)}"/></Coding></PlainTextSelection>'
        for i, (s, e) in enumerate(selections)
    )
    vv = (
        f'<VariableValue><VariableRef targetGUID="{var}"/><TextValue>Female</TextValue></VariableValue>'
        if source_vars
        else ""
    )
    variables = (
        f'<Variables><Variable guid="{var}" name="Sex" typeOfVariable="Text"/></Variables>' if source_vars else ""
    )
    xml = (
        f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{ns}" name="hand" origin="test">'
        f'<Users><User guid="{user.lower()}" name="Ana"/></Users>'
        f'<CodeBook><Codes><Code guid="{code.lower()}" name="Mentor talk" isCodable="true"/></Codes></CodeBook>'
        f'{variables}<Sources><TextSource guid="{guid_case(g)}" name="Interview 1" plainTextPath="{ptp.format(g=guid_case(g))}">'
        f"{sels}{vv}</TextSource></Sources></Project>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(qde_name, xml)
        zf.writestr(member.format(g=guid_case(g)), source)
    return path


def test_bom_and_crlf_sources_keep_offsets_right(tmp_path):
    stored = "\ufeffQ: first line\r\nA: the mentor helped me\r\nQ: next\r\n"
    body = stored[1:]  # offsets count code points after the BOM
    s = body.index("the mentor helped me")
    e = s + len("the mentor helped me\r\nQ")
    p = _handmade_qdpx(tmp_path / "bom.qdpx", stored.encode("utf-8"), [(s, e), (0, len(body))])
    st = import_project(p)
    text = st.text("Interview_1")
    assert "\r" not in text and not text.startswith("\ufeff")
    got = st.with_text(st.codings)["text"].tolist()
    assert got[0] == "the mentor helped me\nQ"
    assert got[1] == text == "Q: first line\nA: the mentor helped me\nQ: next\n"


@pytest.mark.parametrize("variant", ["lower_guids", "qde_name", "bare_path", "namespace", "source_vars"])
def test_real_export_variants_are_accepted(tmp_path, variant):
    src = b"R: my mentor wrote the letter.\n"
    kw = {
        "lower_guids": {"guid_case": str.lower},
        "qde_name": {"qde_name": "My Project.qde"},
        "bare_path": {"ptp": "interview-1.txt", "member": "sources/interview-1.txt"},
        "namespace": {"ns": "urn:QDA-XML:project:1:0"},
        "source_vars": {"source_vars": True},
    }[variant]
    st = import_project(_handmade_qdpx(tmp_path / "v.qdpx", src, [(3, 12)], **kw))
    assert st.with_text(st.codings)["text"].tolist() == ["my mentor"]
    assert st.codings["coder"].tolist() == ["Ana"] and st.codings["code"].tolist() == ["mentor_talk"]
    if variant == "source_vars":
        m = apply_mapping(st, {"participants": {"gender": {"variable": "Sex", "values": {"Female": "woman"}}}})
        assert m.participants["gender"].astype(str).tolist() == ["woman"]


# ---------------------------------------------------------------------------
# the real exports in ../shared/fixtures/refi
# ---------------------------------------------------------------------------
EXPECTED = {  # file -> (users, codes, top-level codes, transcripts, codings, missing source texts)
    "atlasti-win-23.2.3_ponte_blank-atlas-project.qdpx": (2, 0, 0, 0, 0, 0),
    "atlasti-win-23.2.3_ponte_target-atlas-project.qdpx": (2, 3, 1, 0, 0, 0),
    "atlasti-win-23.4.0_requal-test_codebook.qdc": (0, 1, 1, 0, 0, 0),
    "maxqda-24.7.0_paper_themes_project.qde": (1, 307, None, 10, 0, 10),
    "nvivo-mac-15.0.0_qualitative-coding_nvivo_project.qdpx": (2, 262, None, 2, 0, 0),
    "qc-1.3.2_qualitative-coding_demo.qdpx": (1, 262, None, 2, 205, 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_imports(shared, name):
    users, codes, top, trans, codings, missing = EXPECTED[name]
    st = import_project(FIXTURES / name)
    assert len(st.coders) == users
    assert len(st.codebook) == codes and st.codebook["code"].is_unique
    if top is not None:
        assert (st.codebook["parent"] == "").sum() == top
    assert len(st.transcripts) == trans and len(st.codings) == codings
    assert len(st.imported.missing_sources) == missing
    assert st.synthetic is False
    assert validate_file(FIXTURES / name) == []
    for table in ("codings", "memos", "participants", "transcripts", "codebook"):
        assert list(getattr(st, table).columns)[: len(SCHEMAS[table])] == list(SCHEMAS[table])


def test_fixture_details(shared):
    target = import_project(FIXTURES / "atlasti-win-23.2.3_ponte_target-atlas-project.qdpx").codebook
    assert (target["parent"] == "commits").sum() == 2
    qdc = import_project(FIXTURES / "atlasti-win-23.4.0_requal-test_codebook.qdc").codebook.iloc[0]
    assert (qdc["name"], qdc["color"], qdc["definition"], qdc["code_group"]) == (
        "code1",
        "#46AA00",
        "description",
        "code group 1",
    )
    mx = import_project(FIXTURES / "maxqda-24.7.0_paper_themes_project.qde").codebook
    assert (mx["definition"].str.len() > 0).mean() > 0.9  # MAXQDA descriptions become definitions


def test_qc_demo_selections_match_their_text(shared):
    """158 selections / 205 codings; each selection named line:N is exactly line N (0-based) of its source."""
    p = FIXTURES / "qc-1.3.2_qualitative-coding_demo.qdpx"
    st = import_project(p)
    xml = read_qdpx_members(p)["project.qde"].decode()
    names = re.findall(
        r'<PlainTextSelection guid="[^"]+" name="line:(\d+)" startPosition="(\d+)" endPosition="(\d+)"', xml
    )
    assert len(names) == 158
    sels = st.codings[["transcript_id", "start", "end"]].drop_duplicates()
    assert len(sels) == 158 and len(st.codings) == 205
    text = st.text("board_2017")
    lines = text.split("\n")
    for n, s, e in names:
        got = text[int(s) : int(e)]
        assert got == lines[int(n)] + "\n" and got.strip()
    assert set(st.codings["transcript_id"]) == {"board_2017"}
    assert set(st.codings["code"]) <= set(st.codebook["code"])


def test_qc_demo_reexport_validates_and_round_trips(shared, tmp_path):
    st = import_project(FIXTURES / "qc-1.3.2_qualitative-coding_demo.qdpx")
    out = export_project(st, tmp_path / "qc.qdpx")
    assert schema_errors(qde_of(out), "project") == []
    back = import_project(out)
    cols = ["transcript_id", "start", "end", "code", "coder"]
    a = st.codings[cols].sort_values(cols).reset_index(drop=True)
    b = back.codings[cols].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(a.astype(str), b.astype(str))
    assert back.text("board_2017") == st.text("board_2017")


# ---------------------------------------------------------------------------
# mapping and load_project
# ---------------------------------------------------------------------------
def test_mapping_resolves_codes_by_name_path_and_slug(tmp_path):
    st = import_project(export_project(small_study(), tmp_path / "s.qdpx"))
    m = apply_mapping(
        st,
        {
            "analysis_codes": {
                "mentoring": "Experiences of mentorship/Mentoring",
                "being_mentored": "being mentored",
                "gender_inequities": "gender_inequities",
            }
        },
    )
    assert m.analysis_codes["mentoring"] == "mentoring" and m.analysis_codes["being_mentored"] == "being_mentored"
    with pytest.raises(DataError, match=r"analysis_codes.mentorship: no code 'Nope'"):
        apply_mapping(st, {"analysis_codes": {"mentorship": "Nope"}})
    with pytest.raises(DataError, match=r"participants.gender.values: value\(s\) 'man'"):
        apply_mapping(st, {"participants": {"gender": {"variable": "gender", "values": {"woman": "woman"}}}})


def test_load_project_reads_the_mapping_beside_the_file(tmp_path, monkeypatch):
    monkeypatch.delenv("QDA_MAPPING", raising=False)
    p = export_project(small_study(), tmp_path / "s.qdpx")
    (tmp_path / "qda-project.yml").write_text(
        "analysis_codes:\n  mentorship: Experiences of mentorship\n"
        "participants:\n  rank:\n    variable: rank\n    values: {assistant: assistant, associate: associate, full: full}\n"
    )
    st = qda.load_study(p)
    assert st.analysis_codes["mentorship"] == "mentorship"
    assert st.imported.mapping["analysis_codes"] == {"mentorship": "Experiences of mentorship"}
    (tmp_path / "bad.yml").write_text("analysis_codes: [\n")
    monkeypatch.setenv("QDA_MAPPING", str(tmp_path / "bad.yml"))
    with pytest.raises(DataError, match=r"bad.yml: line \d+: is not valid YAML"):
        load_project(p)


# ---------------------------------------------------------------------------
# the synthetic corpus (once data/ exists)
# ---------------------------------------------------------------------------
def test_synthetic_study_exports_validates_and_round_trips(study, tmp_path):
    out = export_project(study, tmp_path / "synthetic.qdpx")
    xml = qde_of(out)
    assert schema_errors(xml, "project") == []
    cb = export_codebook(study, tmp_path / "synthetic.qdc")
    assert schema_errors(cb.read_bytes(), "codebook") == []
    back = import_project(out)
    again = export_project(back, tmp_path / "again.qdpx")
    assert canonical_xml(xml) == canonical_xml(qde_of(again))
    assert out.read_bytes() == again.read_bytes()
    key = ["coding_id"]
    pd.testing.assert_frame_equal(
        study.codings.sort_values(key).reset_index(drop=True).astype(str),
        back.codings[list(SCHEMAS["codings"])].sort_values(key).reset_index(drop=True).astype(str),
    )
    pd.testing.assert_frame_equal(
        study.participants.reset_index(drop=True), back.participants[list(SCHEMAS["participants"])]
    )
    memo_key = ["memo_id"]
    pd.testing.assert_frame_equal(
        study.memos.sort_values(memo_key).reset_index(drop=True).astype(str),
        back.memos.sort_values(memo_key).reset_index(drop=True).astype(str),
    )
    assert back.synthetic is True


def test_rerun_on_your_own_project_with_renamed_codes(study, tmp_path, monkeypatch):
    """Export the synthetic study, rename its codes as a user's tool would, map them back."""
    monkeypatch.delenv("QDA_MAPPING", raising=False)
    out = export_project(study, tmp_path / "mine.qdpx")
    members = read_qdpx_members(out)
    cb = study.codebook.drop_duplicates("code", keep="last").set_index("code")
    xml = members["project.qde"].decode()
    new_names = {
        "gender_inequities": "GI - gendered treatment",
        "mentorship": "MENTOR (all)",
        "mentoring": "Mentor gives",
        "being_mentored": "Mentee receives",
    }
    for slug, new in new_names.items():
        old = cb.loc[slug, "name"]
        xml, n = re.subn(f'name="{re.escape(old)}"', f'name="{new}"', xml)
        assert n >= 1
        xml = xml.replace(f"Code ID: {slug}\n", "").replace(f"Code ID: {slug}<", "<")  # a tool keeps no slug
    xml = xml.replace("<Description>SYNTHETIC DATA", "<Description>A user project")
    renamed = tmp_path / "renamed" / "export.qdpx"
    renamed.parent.mkdir()
    with zipfile.ZipFile(renamed, "w") as zf:
        for k, v in members.items():
            zf.writestr(k, xml.encode() if k == "project.qde" else v)
    (renamed.parent / "qda-project.yml").write_text(
        "analysis_codes:\n" + "".join(f'  {role}: "{name}"\n' for role, name in new_names.items())
    )
    st = qda.load_study(renamed)
    assert st.synthetic is False
    for role, name in new_names.items():
        slug = st.analysis_codes[role]
        assert st.codebook.set_index("code").loc[slug, "name"] == name
        assert (st.codings["code"] == slug).sum() == (study.codings["code"] == role).sum()
    roles = [st.analysis_codes[r] for r in ("gender_inequities", "mentoring", "being_mentored")]
    assert st.codings["code"].isin(roles).sum() > 2000  # the analysis codes carry most of the coding
