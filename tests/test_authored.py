"""The authored interviews: compiled exactly, true to their persona cards, not repeating each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from qda.synthetic.authored import AuthoredError, authored_files, parse, read
from qda.synthetic.checks import card_conflicts, read_participants, repetition

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
FILES = authored_files()
TAG = re.compile(r"\{/?[a-z_]+(?::[a-z_-]+)?\}")
LABEL = re.compile(r"^(I|P|INTERVIEWER|PARTICIPANT): ", re.M)


@pytest.fixture(scope="module")
def interviews():
    return [read(f) for f in FILES]


def _words(text: str) -> list[str]:
    return LABEL.sub("", text).split()


def _marked_in_source(source: str, code: str) -> list[str]:
    """What the author marked with ``code``, read from the source file alone (tags and labels dropped)."""
    body = source.split("\n---\n", 1)[1]
    out, pos = [], 0
    opener = re.compile(r"\{" + code + r"(?::[a-z_-]+)?\}")
    while (m := opener.search(body, pos)) is not None:
        close = body.index("{/" + code + "}", m.end())
        out.append(" ".join(_words(TAG.sub(" ", body[m.end() : close]))))
        pos = m.end()
    return out


def test_there_are_104_interviews():
    assert [f.stem for f in FILES] == [f"P{i:03d}" for i in range(1, 105)]


def test_every_compiled_coding_is_the_text_the_author_marked(interviews):
    for f, iv in zip(FILES, interviews, strict=True):
        source = f.read_text(encoding="utf-8")
        for code in {c.code for c in iv.codings}:
            compiled = [" ".join(_words(iv.text[c.start : c.end])) for c in iv.codings if c.code == code]
            assert sorted(compiled) == sorted(_marked_in_source(source, code)), (f.name, code)


def test_compiled_transcript_is_the_source_without_tags(interviews):
    for f, iv in zip(FILES, interviews, strict=True):
        body = f.read_text(encoding="utf-8").split("\n---\n", 1)[1]
        assert _words(TAG.sub(" ", body)) == _words(iv.text.split("\n\n", 1)[1]), f.name


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("P: {mentoring}Never closed.", "never closed"),
        ("P: {made_up}x{/made_up}", "unknown code"),
        ("I: {mentoring}A question.{/mentoring}", "participant turns only"),
        ("P: {gender_inequities}x{/gender_inequities}", "needs an attribute"),
        ("P: x{/mentoring}", "not open"),
        ("Q: who speaks?", "must start with"),
    ],
)
def test_a_broken_source_names_the_line(body, message):
    with pytest.raises(AuthoredError, match=message):
        parse(f"---\nparticipant_id: P999\n---\n{body}\n", "P999.md")


def test_every_card_agrees_with_participants_and_its_interview(interviews):
    participants = read_participants(DATA / "participants.csv")
    problems = {iv.participant_id: card_conflicts(iv, participants) for iv in interviews}
    assert {k: v for k, v in problems.items() if v} == {}


def test_a_contradiction_with_the_card_is_found(interviews):
    iv = interviews[0]
    card = {**iv.card, "family": {"partner": "none", "children": "none", "caregiving": "none"}}
    text = "---\n" + yaml.safe_dump(card) + "---\nI: Family?\n\nP: My kids and my wife keep me sane.\n"
    found = card_conflicts(parse(text, "x.md"))
    assert any("children" in p for p in found) and any("spouse" in p for p in found)


def test_speech_does_not_repeat_across_interviews(interviews):
    rep = repetition(interviews)
    assert rep["distinct_sentence_share"] >= 0.95
    assert rep["shared_run_share"] <= 0.01
    assert rep["unique_interviewer_turn_share"] >= 0.40
    assert rep["mean_participant_words"] >= 2500


def test_the_repetition_measure_sees_a_copied_answer(interviews):
    a, b = interviews[0], interviews[1]
    answer = next(t.text for t in a.turns if t.speaker == "PARTICIPANT" and len(t.text.split()) > 30)
    copied = parse("---\n" + yaml.safe_dump(b.card) + "---\nP: " + answer + "\n", "copy.md")
    assert repetition([a, copied])["shared_run_share"] > 0


def test_personas_file_holds_the_cards(interviews):
    cards = yaml.safe_load((DATA / "personas.yml").read_text(encoding="utf-8"))
    assert [c["participant_id"] for c in cards] == [iv.participant_id for iv in interviews]
    assert cards == [iv.card for iv in interviews]
