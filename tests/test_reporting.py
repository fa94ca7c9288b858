"""The reporting checklists: every item present, every place they name exists in the book."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import ROOT

from qda.errors import DataError
from qda.study.reporting import CHECKLISTS, STATUSES, load_checklists, read_checklist, status_counts, unresolved

CHAPTERS = ROOT / "chapters"


@pytest.fixture(scope="module")
def checklists():
    return load_checklists(ROOT / "reporting")


@pytest.mark.parametrize("name", list(CHECKLISTS))
def test_checklist_has_every_item(checklists, name):
    frame = checklists[name]
    assert len(frame) == CHECKLISTS[name][1]  # SRQR 21, COREQ 32
    assert list(frame["number"]) == list(range(1, len(frame) + 1))
    assert frame["item"].str.strip().astype(bool).all() and frame["topic"].str.strip().astype(bool).all()


@pytest.mark.parametrize("name", list(CHECKLISTS))
def test_every_place_named_exists(checklists, name):
    assert unresolved(checklists[name], CHAPTERS) == []


@pytest.mark.parametrize("name", list(CHECKLISTS))
def test_items_not_reported_give_a_reason(checklists, name):
    frame = checklists[name]
    missing = frame.loc[frame["status"] == "not reported", "reason"].str.strip()
    assert missing.astype(bool).all()
    assert set(frame["status"]) <= set(STATUSES)


def test_a_missing_chapter_or_label_is_caught():
    frame = pd.DataFrame(
        {
            "number": [1, 2, 3, 4],
            "where": [
                "chapters/no-such-chapter.md",
                "chapters/limitations.md#no-such-label",
                "chapters/limitations.md#theme1",  # a label of another chapter
                "chapters/limitations.md#limitations",
            ],
        }
    )
    problems = unresolved(frame, CHAPTERS)
    assert [p.split(":")[0] for p in problems] == ["item 1", "item 2", "item 3"]


def test_a_bad_row_is_refused(tmp_path):
    good = "item,number,topic,where,status,reason\n"
    cases = {
        "status": "A,1,T,chapters/x.md,done,\n",
        "paper": "A,1,T,chapters/x.md,reported in the paper,\n",
        "reason": "A,1,T,,not reported,\n",
        "number": "A,2,T,chapters/x.md,reported,\n",
    }
    for case, row in cases.items():
        path = tmp_path / f"{case}.csv"
        path.write_text(good + row, encoding="utf-8")
        with pytest.raises(DataError):
            read_checklist(path)


def test_status_counts_add_up(checklists):
    counts = status_counts(checklists)
    assert list(counts.index) == list(STATUSES)
    assert counts.sum().to_dict() == {name: n for name, (_, n) in CHECKLISTS.items()}
