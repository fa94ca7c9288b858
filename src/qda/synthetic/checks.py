"""Checks on the authored interviews: each against its persona card, and the corpus for repetition.

These are the acceptance checks of a corpus written one interview at a time: a card and
its interview must not contradict each other (no children spoken of when the card has
none, no clinic for a card without clinical duties, the rank and track said match), and
the participants' speech must not repeat across interviews (distinct sentences, few
shared 12-word runs). The same functions back the writers' checker
(``tools/check_interviews.py``) and the tests.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .authored import CARD_FROM_PARTICIPANTS, CARD_OWN_FIELDS, TRACKS, Interview

RANK_ORDER = {"assistant": 0, "associate": 1, "full": 2}

# (card condition, pattern that contradicts it in the participant's speech, what is wrong)
_CHILD = r"\b(my|our) (son|sons|daughter|daughters|kids|children|child|baby|toddler|twins)\b"
_PARTNER = r"\b(my|our) (wife|husband|spouse|fianc[ée]e?)\b"
_CLINICAL = r"\b(my patients|my clinic|clinic days?|on service|attending on|in the OR|my call nights)\b"
_TENURE_OWN = r"\b(my tenure (clock|case|review|packet|decision)|I got tenure|I was tenured|when I got tenure)\b"
_OWN_LAB = r"\bmy (own )?(lab|R01)\b"
_WORD = re.compile(r"[A-Za-z0-9']+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _yes(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _field_text(card: dict, key: str) -> str:
    value = card.get(key)
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


def participant_speech(interview: Interview) -> str:
    return "\n".join(t.text for t in interview.turns if t.speaker == "PARTICIPANT")


def card_conflicts(interview: Interview, participants: dict[str, dict] | None = None) -> list[str]:
    """What in the interview contradicts its persona card (and the card participants.csv).

    ``participants`` maps participant ids to their ``participants.csv`` rows; when given,
    the card's repeated columns must agree with the row.
    """
    card, pid = interview.card, interview.participant_id
    problems = []
    for key in CARD_FROM_PARTICIPANTS + CARD_OWN_FIELDS:
        if key not in card:
            problems.append(f"card: no '{key}'")
    if participants is not None:
        row = participants.get(pid)
        if row is None:
            problems.append("card: participant not in participants.csv")
        else:
            for key in CARD_FROM_PARTICIPANTS:
                if key in card and _yes(card[key]) != str(row[key]):
                    problems.append(f"card: {key} is '{_yes(card[key])}', participants.csv says '{row[key]}'")
    if card.get("track") not in TRACKS:
        problems.append(f"card: track must be one of {TRACKS}")
    speech = participant_speech(interview)
    family = card.get("family") or {}
    children = str(family.get("children", "")).strip().lower() if isinstance(family, dict) else ""
    partner = str(family.get("partner", "")).strip().lower() if isinstance(family, dict) else ""
    checks = [
        (children in ("none", "no", "0", ""), _CHILD, "speaks of own children; the card has none"),
        (partner in ("none", "no", ""), _PARTNER, "speaks of a spouse; the card has no partner"),
        (
            _yes(card.get("clinical_duties")) == "no",
            _CLINICAL,
            "speaks of clinical work; the card has no clinical duties",
        ),
        (card.get("track") != "tenure", _TENURE_OWN, "speaks of own tenure; the card's track is not tenure"),
        (card.get("track") == "clinician-educator", _OWN_LAB, "speaks of an own lab or R01; a clinician-educator card"),
    ]
    for applies, pattern, what in checks:
        if applies:
            m = re.search(pattern, speech, re.I)
            if m:
                problems.append(f"interview: {what} ('{m.group(0)}')")
    rank = RANK_ORDER.get(str(card.get("rank")))
    for m in re.finditer(
        r"\b(?:I'm|I am|I was promoted to|I got promoted to|I made) (?:an? )?(assistant|associate|full)\b", speech
    ):
        said = RANK_ORDER[m.group(1)]
        if rank is not None and (said > rank or (m.group(0).startswith(("I'm", "I am")) and said != rank)):
            problems.append(f"interview: says '{m.group(0)}'; the card's rank is {card.get('rank')}")
    family_text = _field_text(card, "family").lower()
    cares_for_someone = "parent" in family_text or "care" in family_text
    if _yes(card.get("primary_caregiver")) == "yes" and children in ("none", "no", "0", "") and not cares_for_someone:
        problems.append("card: a primary caregiver with no children and no one cared for")
    return problems


def read_participants(path: str | Path) -> dict[str, dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return {row["participant_id"]: row for row in csv.DictReader(f)}


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def sentences(text: str, min_words: int = 6) -> list[str]:
    out = []
    for para in text.split("\n"):
        for s in _SENTENCE.split(para):
            if len(_WORD.findall(s)) >= min_words:
                out.append(" ".join(words(s)))
    return out


def repetition(interviews: Iterable[Interview], n: int = 12) -> dict:
    """Repetition of participant speech across interviews.

    Returns the share of distinct sentences (6+ words) over all sentences, the share of
    ``n``-word runs that also occur in another interview, the share of interviewer turns
    found in one interview only, the mean participant words, and per interview the other
    interviews it shares runs with.
    """
    interviews = list(interviews)
    sentence_count: Counter = Counter()
    n_sentences = 0
    grams_by: dict[str, set] = {}
    owners: dict[tuple, set] = defaultdict(set)
    asked: dict[str, set] = defaultdict(set)
    for iv in interviews:
        speech = participant_speech(iv)
        ss = sentences(speech)
        n_sentences += len(ss)
        sentence_count.update(ss)
        grams = set()
        for para in speech.split("\n"):
            w = words(para)
            grams.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))
        grams_by[iv.participant_id] = grams
        for g in grams:
            owners[g].add(iv.participant_id)
        for t in iv.turns:
            if t.speaker == "INTERVIEWER":
                asked[" ".join(words(t.text))].add(iv.participant_id)
    distinct = sum(1 for s, c in sentence_count.items() for _ in range(c) if c == 1)
    total_grams = sum(len(g) for g in grams_by.values())
    shared = {pid: Counter() for pid in grams_by}
    n_shared = 0
    for pid, grams in grams_by.items():
        for g in grams:
            if len(owners[g]) > 1:
                n_shared += 1
                for other in owners[g] - {pid}:
                    shared[pid][other] += 1
    n_turns = sum(sum(1 for t in iv.turns if t.speaker == "INTERVIEWER") for iv in interviews)
    unique_turns = sum(
        sum(1 for t in iv.turns if t.speaker == "INTERVIEWER" and len(asked[" ".join(words(t.text))]) == 1)
        for iv in interviews
    )
    return {
        "interviews": len(interviews),
        "sentences": n_sentences,
        "distinct_sentence_share": distinct / n_sentences if n_sentences else float("nan"),
        "shared_run_share": n_shared / total_grams if total_grams else float("nan"),
        "unique_interviewer_turn_share": unique_turns / n_turns if n_turns else float("nan"),
        "mean_participant_words": (
            sum(iv.participant_words() for iv in interviews) / len(interviews) if interviews else float("nan")
        ),
        "shared_runs_with": {pid: dict(c.most_common(5)) for pid, c in shared.items() if c},
        "repeated_sentences": [s for s, c in sentence_count.items() if c > 1],
    }


def interview_lengths(interviews: Iterable[Interview]) -> pd.DataFrame:
    """Participant words against the stated length of each interview (transcripts are abridged).

    One row per interview: ``participant_id``, ``minutes`` (the card's
    ``interview_minutes``), ``participant_words`` and ``words_per_minute``.
    """
    rows = [(iv.participant_id, int(iv.card["interview_minutes"]), iv.participant_words()) for iv in interviews]
    frame = pd.DataFrame(rows, columns=["participant_id", "minutes", "participant_words"])
    return frame.assign(words_per_minute=frame["participant_words"] / frame["minutes"])


def planned_themes(interviews: Iterable[Interview]) -> pd.DataFrame:
    """The themes each persona card plans in its ``events`` (0 = none): one row per (card, theme).

    Columns ``participant_id``, ``gender``, ``theme``; a theme planned twice on one card
    counts once. What a card plans is the writer's intent, not a reading of the interview.
    """
    rows = {
        (iv.participant_id, str(iv.card.get("gender")), int(e["theme"]))
        for iv in interviews
        for e in iv.card.get("events", [])
    }
    return pd.DataFrame(sorted(rows), columns=["participant_id", "gender", "theme"])
