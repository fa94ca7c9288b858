"""The confidentiality check (qda.study.deidentify): seeded identifiers are caught, the
synthetic corpus is clean, reviewed findings pass, and the CLI speaks one line each."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import DATA, ROOT

import qda
from qda.__main__ import main as qda_main
from qda.errors import DataError, SchemaError
from qda.study import deidentify, deidentify_review
from qda.study.model import Study
from qda.study.schema import SCHEMAS, empty_frame

# ---------------------------------------------------------------------------
# A small project with seeded identifiers (all invented; example.* domains and
# 555-01xx numbers are reserved for fiction)
# ---------------------------------------------------------------------------
P001 = (
    "INTERVIEWER: Tell me about the people who helped you early on.\n"
    "\n"
    "PARTICIPANT: My first real mentor was Dr. Sarah Whitfield, back when I was a fellow at Stanford University.\n"
    "She still answers at s.whitfield@example.edu, and her office line is (650) 555-0199.\n"
    "I started there on March 3, 2019, my first review was 3/14/2019, and the letter is dated 2019-06-01.\n"
    "Then I moved to the University of Michigan Medical School, and spent a sabbatical at Mayo Clinic.\n"
    "Her lab page is https://lab.example.org/people and a colleague abroad is on +44 20 7946 0958.\n"
)
P002 = (
    "INTERVIEWER: And who do you go to now?\n"
    "\n"
    "PARTICIPANT: Mostly Priya, honestly, and sometimes Grace Chen down the hall.\n"
    "May I add one thing? Grace under pressure is not a plan. Will that do?\n"
    "The Medical Center pays for it, and the National Cancer Institute funded my first R01 in 2019.\n"
    "About 10-12 people came, and I was an Associate Professor of Medicine by then; the Title IX office was closed.\n"
)
MEMO_TEXT = "Participant named Professor Chen and mentioned Johns Hopkins; details at www.example.com."

#: (transcript or memo id, kind, match) that the scan must report, and nothing else.
EXPECTED = {
    ("P001", "person name", "Dr. Sarah Whitfield"),
    ("P001", "institution", "Stanford University"),
    ("P001", "e-mail", "s.whitfield@example.edu"),
    ("P001", "phone", "(650) 555-0199"),
    ("P001", "date", "March 3, 2019"),
    ("P001", "date", "3/14/2019"),
    ("P001", "date", "2019-06-01"),
    ("P001", "institution", "University of Michigan Medical School"),
    ("P001", "institution", "Mayo Clinic"),
    ("P001", "URL", "https://lab.example.org/people"),
    ("P001", "phone", "+44 20 7946 0958"),
    ("P002", "person name", "Priya"),
    ("P002", "person name", "Grace Chen"),
    ("M001", "person name", "Professor Chen"),
    ("M001", "institution", "Johns Hopkins"),
    ("M001", "URL", "www.example.com"),
}

MINIMAL_CODEBOOK = """\
versions:
  - version: v1
    after_round: 1
codes:
  - code: mentorship
    name: Experiences of mentorship
    parent: ""
    code_group: Mentorship
    origin: deductive
    introduced_round: 1
    color: "#0072B2"
    v1:
      definition: Talk of giving or getting help.
      inclusion: Any such talk.
      exclusion: Help with no relationship behind it.
      example: An invented example sentence.
"""


def write_project(folder: Path, transcripts: dict[str, str], memos: list[tuple[str, str]] = ()) -> Path:
    """A minimal data folder (participants, codings, codebook, transcripts, memos)."""
    (folder / "transcripts").mkdir(parents=True)
    part_cols = list(SCHEMAS["participants"])
    rows = []
    for tid in transcripts:
        rows.append(
            {
                "participant_id": tid,
                "gender": "woman",
                "institution_id": "I01",
                "rank": "full",
                "degree": "MD",
                "leadership": "none",
                "endowed_chair": "no",
                "age_band": "50-59",
                "career_stage": "senior",
                "field": "cardiology",
                "interview_mode": "in person",
                "interview_minutes": "60",
                "primary_caregiver": "no",
            }
        )
    pd.DataFrame(rows, columns=part_cols).to_csv(folder / "participants.csv", index=False)
    first = next(iter(transcripts))
    pd.DataFrame(
        [
            {
                "coding_id": "C0001",
                "transcript_id": first,
                "coder": "analyst_a",
                "round": "full",
                "start": 0,
                "end": 10,
                "code": "mentorship",
                "codebook_version": "v1",
            }
        ]
    ).to_csv(folder / "codings.csv", index=False)
    (folder / "codebook.yml").write_text(MINIMAL_CODEBOOK, encoding="utf-8")
    for tid, text in transcripts.items():
        (folder / "transcripts" / f"{tid}.txt").write_text(text, encoding="utf-8")
    if memos:
        pd.DataFrame(
            [
                {
                    "memo_id": mid,
                    "coder": "analyst_a",
                    "date": "2019-11-01",
                    "attached_to": "project",
                    "code": "",
                    "coding_id": "",
                    "text": text,
                }
                for mid, text in memos
            ]
        ).to_csv(folder / "memos.csv", index=False)
    return folder


@pytest.fixture
def seeded(tmp_path) -> Path:
    return write_project(tmp_path / "project", {"P001": P001, "P002": P002}, [("M001", MEMO_TEXT)])


def run_cli(capsys, *args) -> tuple[int, list[str], list[str]]:
    code = qda_main(["deidentify-check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


# ---------------------------------------------------------------------------
# The scan
# ---------------------------------------------------------------------------
def test_seeded_identifiers_are_caught_with_kind_and_location(seeded):
    study = qda.load_study(seeded)
    found = deidentify.scan(study)
    assert list(found.columns) == deidentify.FINDING_COLUMNS
    assert set(zip(found["id"], found["kind"], found["match"], strict=False)) == EXPECTED
    assert len(found) == len(EXPECTED)
    texts = {"P001": P001, "P002": P002, "M001": MEMO_TEXT}
    for row in found.itertuples():
        text = texts[row.id]
        assert text[row.start : row.end] == row.match
        assert f"[{row.match}]" in row.context
        if row.source == "transcript":
            assert row.file == f"transcripts/{row.id}.txt"
            assert row.line == text.count("\n", 0, row.start) + 1
            assert row.location == f"transcript {row.id}, line {row.line}, character {row.start}"
        else:
            assert row.file == "memos.csv"
            assert row.location == f"memo M001 (row 2), character {row.start}"
    whitfield = found.loc[found["match"] == "Dr. Sarah Whitfield"].iloc[0]
    assert (whitfield["line"], whitfield["start"]) == (3, P001.index("Dr. Sarah"))


def test_ambiguous_words_and_generic_institutions_are_not_findings():
    text = (
        "May I say one thing? Grace under pressure. Will you? Grant writing, then Dean meetings. "
        "The Medical Center and the National Cancer Institute and the Children's Hospital. "
        "In 2019, about 10-12 people, half of them 1/2 time. An Associate Professor of Medicine. "
        "So I said, Professor, with respect, no. Sunday mornings in June, August too."
    )
    assert deidentify.find_identifiers(text).empty


@pytest.mark.parametrize(
    "text, kind, match",
    [
        ("call me at 415.555.0134 tomorrow", "phone", "415.555.0134"),
        ("call me at +1 415 555 0134 ext. 12 tomorrow", "phone", "+1 415 555 0134 ext. 12"),
        ("the Paris office is +33 1 23 45 67 89 now", "phone", "+33 1 23 45 67 89"),
        ("we met on 3 March 2019 there", "date", "3 March 2019"),
        ("back in September 2018, I think", "date", "September 2018"),
        ("the 14-03-19 meeting", "date", "14-03-19"),
        ("see med.example.edu/faculty for it", "URL", "med.example.edu/faculty"),
        ("I trained at Feinberg School of Medicine then", "institution", "Feinberg School of Medicine"),
        ("Then Northfield Medical Center hired me", "institution", "Northfield Medical Center"),
        (
            "I went to the University of California, San Francisco, after that",
            "institution",
            "University of California, San Francisco",
        ),
        ("the George Washington University gave me a job", "institution", "George Washington University"),
        ("my chair, Mr. O'Neil, said so", "person name", "Mr. O'Neil"),
        ("then Dr. J. Okafor took over", "person name", "Dr. J. Okafor"),
        ("I asked June Park about it", "person name", "June Park"),
    ],
)
def test_each_shape_is_caught(text, kind, match):
    found = deidentify.find_identifiers(text)
    assert list(zip(found["kind"], found["match"], strict=False)) == [(kind, match)]


def test_user_lists_extend_the_builtin_ones():
    text = "I told Quill about it; we both came from northfield regional, you know."
    assert deidentify.find_identifiers(text).empty
    found = deidentify.find_identifiers(text, names=["Quill"], institutions=["Northfield Regional"])
    assert list(zip(found["kind"], found["match"], strict=False)) == [
        ("person name", "Quill"),
        ("institution", "northfield regional"),
    ]


def test_scan_of_a_study_built_in_memory_has_typed_empty_result():
    tr = pd.DataFrame(
        {
            "transcript_id": ["T1"],
            "participant_id": ["T1"],
            "path": [""],
            "text": ["Nothing to see here, just a chat about grants."],
            "n_chars": [47],
            "n_words": [9],
        }
    )
    study = Study(
        participants=empty_frame("participants"),
        transcripts=tr,
        codebook=empty_frame("codebook"),
        codings=empty_frame("codings"),
    )
    found = deidentify.scan(study)
    assert found.empty and list(found.columns) == deidentify.FINDING_COLUMNS


def _review_all(found: pd.DataFrame, path: Path, skip: int = 0) -> None:
    entries = [
        {"file": f, "kind": k, "match": m, "note": "checked by the data owner"}
        for f, k, m in zip(found["file"], found["kind"], found["match"], strict=False)
    ][skip:]
    path.write_text(yaml.safe_dump({"reviewed": entries}, sort_keys=False), encoding="utf-8")


def test_marking_findings_reviewed_makes_the_check_pass(seeded, capsys):
    found = deidentify.scan(qda.load_study(seeded))
    _review_all(found, seeded / "deidentify-reviewed.yml", skip=1)
    reviewed = deidentify_review.read_reviewed(seeded / "deidentify-reviewed.yml")
    left = deidentify_review.unreviewed(found, reviewed)
    assert list(left["match"]) == [found["match"].iloc[0]]
    code, out, _ = run_cli(capsys, seeded)
    assert code == 2 and len(out) == 1 and repr(found["match"].iloc[0]) in out[0]

    _review_all(found, seeded / "deidentify-reviewed.yml")
    assert deidentify_review.unreviewed(
        found, deidentify_review.read_reviewed(seeded / "deidentify-reviewed.yml")
    ).empty
    code, out, err = run_cli(capsys, seeded)
    assert code == 0
    assert out == [
        f"deidentify-check: no unreviewed identifying data in {seeded} ({len(found)} finding(s), all reviewed)"
    ]


def test_a_wildcard_file_and_a_csv_reviewed_list(seeded, capsys):
    found = deidentify.scan(qda.load_study(seeded))
    rows = found[["kind", "match"]].drop_duplicates().assign(file="*")
    rows[["file", "kind", "match"]].to_csv(seeded / "deidentify-reviewed.csv", index=False)
    assert deidentify_review.reviewed_path(seeded).name == "deidentify-reviewed.csv"
    assert run_cli(capsys, seeded)[0] == 0
    # a reviewed match in one file does not cover the same match in another file
    other = found.assign(file="transcripts/P099.txt")
    exact = found.assign(file=found["file"])[["file", "kind", "match"]]
    assert len(deidentify_review.unreviewed(other, exact)) == len(found)


def test_a_broken_reviewed_list_is_a_one_line_error(seeded, capsys):
    rev = seeded / "deidentify-reviewed.yml"
    rev.write_text("reviewed:\n  - kind: person name\n    match: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        deidentify_review.read_reviewed(rev)
    assert e.value.file == str(rev) and "not valid YAML" in e.value.what
    rev.write_text("reviewed:\n  - {kind: nickname, match: Sal}\n", encoding="utf-8")
    with pytest.raises(SchemaError) as e:
        deidentify_review.read_reviewed(rev)
    assert e.value.where == "entry 1" and "nickname" in e.value.what and "kind" in e.value.fix
    code, out, err = run_cli(capsys, seeded)
    assert code == 2 and out == [] and len(err) == 1
    assert err[0].startswith(f"{rev}: entry 1: kind 'nickname' is not one of person name")


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------
LINE = re.compile(
    r"^(?P<file>\S+): (?P<where>(?:transcript|memo) [^:]+): (?P<kind>person name|e-mail|phone|institution|date|URL) "
    r"(?P<match>'.*'|\".*\") found; review it or remove it \(then list it in deidentify-reviewed\.yml\)$"
)


def test_cli_prints_one_line_per_finding_and_exits_2(seeded, capsys):
    code, out, err = run_cli(capsys, seeded)
    assert code == 2
    assert len(out) == len(EXPECTED)
    for line in out:
        m = LINE.match(line)
        assert m, line
        assert m["file"] in {f"{seeded}/transcripts/P001.txt", f"{seeded}/transcripts/P002.txt", f"{seeded}/memos.csv"}
    assert (
        f"{seeded}/transcripts/P001.txt: transcript P001, line 3, character {P001.index('Dr. Sarah')}: "
        f"person name 'Dr. Sarah Whitfield' found; review it or remove it "
        f"(then list it in deidentify-reviewed.yml)" in out
    )
    assert len(err) == 1 and err[0].startswith(f"deidentify-check: {len(EXPECTED)} unreviewed finding(s)")
    assert "book will not be built" not in err[0]


def test_gate_adds_the_book_summary(seeded, capsys):
    code, out, err = run_cli(capsys, "--gate", seeded)
    assert code == 2 and len(out) == len(EXPECTED)
    assert err[-1].endswith("the book will not be built until then")


def test_cli_names_and_institutions_files(tmp_path, capsys):
    project = write_project(tmp_path / "p", {"P001": "PARTICIPANT: Quill said the Northfield Regional folks agreed.\n"})
    assert run_cli(capsys, project)[0] == 0
    names = tmp_path / "names.txt"
    names.write_text("# our participants\nQuill\n", encoding="utf-8")
    insts = tmp_path / "sites.txt"
    insts.write_text("northfield regional\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, project, "--names", names, "--institutions", insts)
    assert code == 2 and [LINE.match(line)["match"] for line in out] == ["'Quill'", "'Northfield Regional'"]
    # the same lists are picked up from beside the project
    shutil.copy(names, project / deidentify.NAMES_FILE)
    shutil.copy(insts, project / deidentify.INSTITUTIONS_FILE)
    assert run_cli(capsys, project)[0] == 2
    code, _, err = run_cli(capsys, project, "--names", tmp_path / "missing.txt")
    assert code == 2 and err == [
        f"{tmp_path / 'missing.txt'}: file: does not exist; pass an existing file (one name a line)"
    ]


def test_cli_on_a_missing_project_is_one_line_exit_2(tmp_path, capsys):
    code, out, err = run_cli(capsys, tmp_path / "nowhere")
    assert code == 2 and out == [] and len(err) == 1 and err[0].startswith(str(tmp_path / "nowhere"))


def test_the_check_writes_nothing(seeded, capsys):
    before = sorted((p.relative_to(seeded), p.stat().st_mtime_ns) for p in seeded.rglob("*"))
    run_cli(capsys, "--gate", seeded)
    assert sorted((p.relative_to(seeded), p.stat().st_mtime_ns) for p in seeded.rglob("*")) == before


def test_python_dash_m_exit_codes(seeded, tmp_path):
    """The real process: `python -m qda deidentify-check` exits 2, then 0 once clean."""
    proc = subprocess.run(
        [sys.executable, "-m", "qda", "deidentify-check", "--gate", str(seeded)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and len(proc.stdout.splitlines()) == len(EXPECTED)
    clean = write_project(tmp_path / "clean", {"P001": "PARTICIPANT: We talked about grants.\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "qda", "deidentify-check", str(clean)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_makefile_gate_calls_the_check_with_qda_project():
    make = (ROOT / "Makefile").read_text()
    assert re.search(r'python -m qda deidentify-check --gate "\$\(QDA_PROJECT\)"', make)


# ---------------------------------------------------------------------------
# The synthetic corpus passes
# ---------------------------------------------------------------------------
def test_the_team_records_have_no_identifying_data():
    """The analysts' memos, notes and reasons (written by hand, outside the transcripts) are clean."""
    import csv

    team = ROOT / "src/qda/synthetic/team"
    texts = [(p.name, m["text"]) for p in sorted(team.glob("memos*.yml")) for m in yaml.safe_load(p.read_text())]
    for path in sorted(team.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                texts += [(path.name, row[c]) for c in ("note", "reason", "rationale", "quote") if c in row]
    assert len(texts) > 400
    found = [(name, m) for name, s in texts for m in deidentify.find_identifiers(s)["match"]]
    assert found == []


def test_the_synthetic_corpus_has_zero_findings(capsys):
    if not (DATA / "participants.csv").exists():
        pytest.skip("data/ has not been generated yet (make data)")
    study = qda.load_study(DATA)
    found = deidentify.scan(study)
    assert found.empty, found[["file", "location", "kind", "match", "context"]].head(20).to_string()
    code, out, _ = run_cli(capsys, DATA)
    assert code == 0 and out[-1].startswith("deidentify-check: no unreviewed identifying data")


def test_an_emeritus_title_does_not_hide_the_name():
    from qda.study.deidentify import find_identifiers

    found = find_identifiers("We still ask Professor Emeritus Smith for advice.")
    assert list(found["kind"]) == ["person name"] and "Smith" in found["match"].iloc[0]
