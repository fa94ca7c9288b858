"""Check authored interviews as their writers go: format, card, length, coding, repetition.

Usage: python tools/check_interviews.py [FILE ...]   (default: every interview written so far)

Prints one line per problem and a summary; exits 1 when a file has a problem. Repetition
is measured against every interview in the folder, so a writer sees overlaps with other
writers' files too.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from qda.stats.spans import overlap
from qda.study.deidentify import find_identifiers
from qda.synthetic.authored import AuthoredError, authored_files, read
from qda.synthetic.checks import card_conflicts, read_participants, repetition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from forbidden_phrases import FORBIDDEN  # noqa: E402  (the paper's phrases, stored encoded)

ANALYSIS_MENTORSHIP = ("mentoring", "being_mentored")


def target_words(minutes: int) -> int:
    """Participant words asked of an interview of this length (abridged transcripts)."""
    return max(2300, 44 * int(minutes))


def analysis_overlaps(interview) -> int:
    gi = [c for c in interview.codings if c.code == "gender_inequities"]
    me = [c for c in interview.codings if c.code in ANALYSIS_MENTORSHIP]
    return sum(1 for a in gi if any(overlap(a.start, a.end, b.start, b.end) for b in me))


def main(argv: list[str]) -> int:
    participants = read_participants(ROOT / "data" / "participants.csv")
    files = [Path(a) for a in argv] or authored_files()
    everything = {}
    for path in authored_files():
        with contextlib.suppress(AuthoredError):
            everything[path.resolve()] = read(path)
    bad = 0
    for path in files:
        try:
            iv = read(path)
        except AuthoredError as exc:
            print(exc)
            bad += 1
            continue
        problems = card_conflicts(iv, participants)
        words = iv.participant_words()
        minutes = iv.card.get("interview_minutes", 60)
        if words < target_words(minutes):
            problems.append(f"length: {words} participant words, asked for >= {target_words(minutes)}")
        codes = {c.code for c in iv.codings}
        for needed in ("gender_inequities",):
            if needed not in codes:
                problems.append(f"coding: no {needed}")
        if not codes & set(ANALYSIS_MENTORSHIP):
            problems.append("coding: neither mentoring nor being_mentored")
        overlaps = analysis_overlaps(iv)
        if overlaps < 2:
            problems.append(f"coding: gender_inequities overlaps a mentorship code {overlaps} time(s); need >= 2")
        if (
            iv.card.get("gender") == "man"
            and "sexual_harassment" in codes
            and not any(c.code == "sexual_harassment" for c in iv.codings if "told" in c.attribute)
        ):
            pass  # men may relay what a woman told them; the reader checks this by hand
        low = path.read_text(encoding="utf-8").lower()
        for phrase in FORBIDDEN:
            if phrase in low:
                problems.append(f"wording: a phrase of the paper ('{phrase}'); say it in this person's own words")
        for hit in find_identifiers(iv.text).itertuples():
            problems.append(f"identifying-looking {hit.kind} {hit.match!r}: write it as a transcriber would redact it")
        for p in problems:
            print(f"{path}: {p}")
        bad += bool(problems)
        n_codes = len(iv.codings)
        print(
            f"{path.name}: {words} participant words, {len(iv.turns)} turns, {n_codes} codings, "
            f"{overlaps} analysis overlaps{'' if not problems else ', PROBLEMS'}"
        )
    rep = repetition(everything.values())
    print(
        f"corpus so far: {rep['interviews']} interviews; distinct sentences "
        f"{rep['distinct_sentence_share']:.1%}; 12-word runs shared {rep['shared_run_share']:.2%}; "
        f"interviewer turns unique {rep['unique_interviewer_turn_share']:.1%}; "
        f"mean participant words {rep['mean_participant_words']:.0f}"
    )
    mine = {read(p).participant_id for p in files if p.resolve() in everything}
    for pid, others in sorted(rep["shared_runs_with"].items()):
        if pid in mine and sum(others.values()) >= 3:
            print(f"{pid}: shares 12-word runs with {others}: rewrite the shared wording")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
