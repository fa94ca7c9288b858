"""Issue 19: the generic mapping (qda-project.yml), `qda map`, `qda check-project`, the
analysis on any coded project (qda.analysis.mapped) and `deidentify-check --write-review`.

The project is the qc demo export from the shared fixtures (one coder, 262 codes in a tree,
no variables), copied to a temporary folder with a mapping of its own codes.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from conftest import SHARED, run_qda

import qda
import qda.analysis.mapped as mapped
from qda.analysis.analysis_set import analysis_set
from qda.errors import DataError
from qda.exchange.mapping import apply_mapping, check_mapping
from qda.exchange.read import import_project
from qda.study.deidentify import FINDING_COLUMNS
from qda.study.deidentify_review import read_reviewed, review_file

QC_DEMO = SHARED / "fixtures" / "refi" / "qc-1.3.2_qualitative-coding_demo.qdpx"
#: A mapping of the qc demo's own codes: two parent codes without codings of their own.
QC_MAPPING = """\
analysis:
  code_a: "rq1_definition"
  code_b: "rq2_curriculum_and_instruction"
  code_b_parts: ["curriculum", "rq2_curriculum_and_instruction/pedagogy"]
themes: ["practices", "rationales", "politics"]
coders:
  "cp": "coder_1"
"""

pytestmark = pytest.mark.skipif(not QC_DEMO.exists(), reason=f"fixture {QC_DEMO} not present")


def qc_demo(folder, mapping: str | None = QC_MAPPING):
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "demo.qdpx"
    shutil.copyfile(QC_DEMO, target)
    if mapping is not None:
        (folder / "qda-project.yml").write_text(mapping)
    return target


def test_check_project_prints_one_line_per_problem_and_exits_2(tmp_path):
    project = qc_demo(tmp_path, mapping=None)
    done = run_qda("check-project", str(project))
    assert done.returncode == 2 and "qda map" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    (tmp_path / "qda-project.yml").write_text(
        'analysis:\n  code_a: "Gender inequity"\n  code_b: "Mentorship"\n  code_b_parts: ["practices"]\n'
        'compare_by: "Gender"\nthemes: ["nope"]\ncoders: {"Jane": a}\ncolour: red\n'
    )
    done = run_qda("check-project", str(project))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"{tmp_path / 'qda-project.yml'}: analysis.code_a: no code 'Gender inequity' in the project; "
        "codes with 'gender': equity, gender; fix the name"
    ) in lines
    wheres = [line.split(": ")[1] for line in lines]
    assert wheres == ["colour", "analysis.code_a", "analysis.code_b", "themes[0]", "compare_by", "coders.Jane"]
    assert "Traceback" not in done.stderr


def test_a_parent_code_stands_for_its_descendants(tmp_path):
    study = qda.load_study(qc_demo(tmp_path))
    assert study.analysis["code_a"] == "rq1_definition"
    assert (study.codings["code"] == "rq1_definition").sum() == 0  # a group with no codings of its own
    assert set(study.codings["coder"]) == {"coder_1"}
    seg = mapped.mapped_analysis_set(study)
    assert len(seg) > 0 and set(seg["role"]) <= {"curriculum", "rq2_curriculum_and_instruction/pedagogy", "both"}
    holds = mapped.what_it_holds(study).set_index("page")
    assert holds.loc["co-occurrence and analysis set", "built"] and holds.loc["themes", "built"]
    assert not holds.loc["reliability", "built"] and "1 coder" in holds.loc["reliability", "why"]
    themes = mapped.theme_speakers(study, seg)
    assert list(themes["theme"]) == ["practices", "rationales", "politics"]
    assert (themes["in the analysis set"] <= themes["participants"]).all()


def test_the_synthetic_configuration_is_one_instance_of_the_mapping(study):
    generic = mapped.mapped_analysis_set(study)
    own = analysis_set(study)
    cols = ["segment_id", "start", "end", "coding_ids"]
    pd.testing.assert_frame_equal(generic[cols], own[cols])
    assert (generic["role"] == "both").sum() == (own["role"] == "both").sum()


def test_old_analysis_codes_still_work_with_a_note(tmp_path):
    st = import_project(qc_demo(tmp_path, mapping=None))
    apply_mapping(st, {"analysis_codes": {"gender_inequities": "equity", "mentorship": "identity"}})
    assert st.analysis["code_a"] == "equity" and st.analysis["code_b"] == "identity"
    assert any("analysis_codes: is the old form" in n for n in st.imported.notes)
    with pytest.raises(DataError, match=r"analysis_codes.mentoring: no code 'x'"):
        apply_mapping(st, {"analysis_codes": {"mentoring": "x"}})


def test_overlapping_codes_and_stray_parts_are_problems(tmp_path):
    st = import_project(qc_demo(tmp_path, mapping=None))
    found = check_mapping(st, {"analysis": {"code_a": "rq1_definition", "code_b": "practices", "code_b_parts": []}})
    assert [p.where for p in found] == ["analysis"] and "overlap" in found[0].what
    found = check_mapping(st, {"analysis": {"code_a": "equity", "code_b": "identity", "code_b_parts": ["equity"]}})
    assert any("is not below code_b" in p.what for p in found)


def test_map_writes_a_starter_listing_codes_coders_and_refuses_to_overwrite(tmp_path):
    project = qc_demo(tmp_path, mapping=None)
    done = run_qda("map", str(project))
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "qda-project.yml").read_text()
    assert 'code_a: ""' in text and '"cp": "cp"' in text
    assert "#   rq1_definition (0 / " in text and "#       programming (3 / 3)" in text
    assert "[name shared: write" in text
    again = run_qda("check-project", str(project))
    assert again.returncode == 2 and "analysis.code_a: is not filled in" in again.stderr
    assert run_qda("map", str(project)).returncode == 2


def test_write_review_lists_every_finding_unreviewed_and_the_gate_reads_it(tmp_path):
    project = qc_demo(tmp_path)
    assert run_qda("deidentify-check", "--gate", str(project)).returncode == 2
    done = run_qda("deidentify-check", "--write-review", str(project))
    assert done.returncode == 0, done.stderr
    review = tmp_path / "deidentify-reviewed.yml"
    text = review.read_text()
    assert text.count("status: unreviewed") >= 10 and "status: reviewed" not in text
    assert run_qda("deidentify-check", "--gate", str(project)).returncode == 2  # nothing confirmed yet
    review.write_text(text.replace("status: unreviewed", "status: reviewed"))
    done = run_qda("deidentify-check", "--gate", str(project))
    assert done.returncode == 0, done.stdout + done.stderr


def test_reliability_of_two_coders_on_shared_sources(tmp_path):
    study = qda.load_study(qc_demo(tmp_path))
    second = study.codings.iloc[::2].assign(coder="coder_2")
    second = second.assign(coding_id=second["coding_id"] + "-b", end=second["end"] + 5)
    study.codings = pd.concat([study.codings, second], ignore_index=True)
    assert not mapped.why_not(study, "reliability")
    tables = mapped.project_reliability(study)
    assert set(tables["characters"]["coders"]) == {"coder_1 / coder_2"}
    assert tables["segments"]["percent_agreement"].between(0, 100).all()
    assert tables["unitizing"]["value"].dropna().between(-1, 1).all() and len(tables["unitizing"]) > 0


def test_a_review_file_without_findings_reads_as_nothing_reviewed(tmp_path):
    path = tmp_path / "deidentify-reviewed.yml"
    path.write_text(review_file(pd.DataFrame(columns=FINDING_COLUMNS)))
    assert read_reviewed(path).empty
    path.write_text("reviewed:\n")
    assert read_reviewed(path).empty
