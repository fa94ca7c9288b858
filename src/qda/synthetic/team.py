"""The analysis team of the synthetic corpus: reference coding, coding rounds, readings, reconciliation.

The authored interviews carry one reference coding: the team's reconciled reading. The
rounds of the study are made from it, as ``team/team.yml`` states them:

- round 1 (the first ten transcripts, read and discussed to build codebook v1): the lead
  analyst's consolidated coding with v1;
- round 2 (ten more, codebook v1): each of the three analysts codes independently, and
  departs from the reference by a stated *reading* (:data:`READING_RULES`): one counts
  sponsorship as mentoring, one codes only the participant's own experience as inequity,
  one includes the interviewer's question in a segment. Their disagreements are readings,
  not noise, and each led to a v2 criterion (``codebook.yml``, version v2's summary);
- round 3 (ten more, codebook v2): units fixed before coding, as Campbell et al. (2013)
  did: each analyst decides, answer by answer, which codes apply; the readings have
  converged but for the readings still in force in round 3;
- full round (all transcripts, final codebook): two analysts, each with part of the
  codebook (``full_round_groups``), apply the reference.

Reconciliation (rounds 2 and 3): every (answer, code) on which the analysts' decisions
differ, resolved to the reference's decision, with a note naming the criterion that
settled it. Everything is deterministic: no random draw.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import yaml

from qda.errors import DataError
from qda.study.codebook import codes_in_version
from qda.study.units import participant_units, rows_overlapping, speaker_turns, unit_decisions

from .authored import Interview

TEAM_FILE = Path(__file__).parent / "team" / "team.yml"
REFERENCE = "reference"
CODING_COLUMNS = ["coding_id", "transcript_id", "coder", "round", "start", "end", "code", "codebook_version"]
RECONCILIATION_COLUMNS = [
    "round",
    "transcript_id",
    "unit_id",
    "code",
    "coded_by",
    "not_coded_by",
    "resolution",
    "note",
]


def load_team(path: str | Path = TEAM_FILE) -> dict:
    """The team file: ``coders`` (id, role, full-round code groups), ``readings``, ``rounds``."""
    path = Path(path)
    team = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key in ("coders", "readings", "rounds"):
        if key not in team:
            raise DataError(path, key, "is missing", "restore the section (see the file's header)")
    unknown = {r["rule"] for r in team["readings"]} - set(READING_RULES)
    if unknown:
        raise DataError(path, "readings", f"unknown rule(s) {sorted(unknown)}", f"use one of {sorted(READING_RULES)}")
    return team


def coders_table(team: dict) -> pd.DataFrame:
    """``coders.csv``: one row per analyst, ``coder`` and ``role``."""
    return pd.DataFrame([{"coder": c["coder"], "role": " ".join(c["role"].split())} for c in team["coders"]])


def reference_codings(interviews: Iterable[Interview]) -> pd.DataFrame:
    """The authored reference coding: ``transcript_id, start, end, code, attribute``."""
    rows = [(iv.participant_id, c.start, c.end, c.code, c.attribute) for iv in interviews for c in iv.codings]
    return pd.DataFrame(rows, columns=["transcript_id", "start", "end", "code", "attribute"])


# ---------------------------------------------------------------------------
# Readings: each a rule applied to the reference coding of one transcript set
# ---------------------------------------------------------------------------
def _sponsorship_as_mentoring(ref: pd.DataFrame, turns: pd.DataFrame) -> pd.DataFrame:
    spons = ref.loc[(ref["code"] == "networks_sponsorship") & ref["attribute"].isin(["received", "given"])]
    added = spons.assign(code=spons["attribute"].map({"received": "being_mentored", "given": "mentoring"}))
    # an added span is dropped where the reference already codes the same mentorship code there
    keep = pd.Series(True, index=added.index)
    for code, grp in added.groupby("code"):
        keep[grp.index] = ~rows_overlapping(grp, ref.loc[ref["code"] == code])
    return pd.concat([ref, added.loc[keep]], ignore_index=True)


def _question_in_segment(ref: pd.DataFrame, turns: pd.DataFrame) -> pd.DataFrame:
    answers = turns.loc[turns["speaker"] == "PARTICIPANT"]
    line_start = dict(
        zip(
            zip(turns["transcript_id"], turns["turn"], strict=True),
            turns["start"] - (turns["speaker"].str.len() + 2),
            strict=True,
        )
    )
    starts_answer = {
        (t, s): line_start.get((t, k - 1))
        for t, k, s in zip(answers["transcript_id"], answers["turn"], answers["start"], strict=True)
    }
    out = ref.copy()
    out["start"] = [starts_answer.get((t, s)) or s for t, s in zip(out["transcript_id"], out["start"], strict=True)]
    return out


def _own_experience_only(ref: pd.DataFrame, turns: pd.DataFrame) -> pd.DataFrame:
    second_hand = (ref["code"] == "gender_inequities") & ref["attribute"].isin(["observed", "told"])
    return ref.loc[~second_hand]


def _told_not_own(ref: pd.DataFrame, turns: pd.DataFrame) -> pd.DataFrame:
    told = (ref["code"] == "gender_inequities") & (ref["attribute"] == "told")
    return ref.loc[~told]


#: rule id -> function(reference codings, speaker turns) -> the analyst's codings
READING_RULES = {
    "told_not_own": _told_not_own,
    "sponsorship_as_mentoring": _sponsorship_as_mentoring,
    "question_in_segment": _question_in_segment,
    "own_experience_only": _own_experience_only,
}


def _readings_of(team: dict, coder: str, rnd: str) -> list[str]:
    return [r["rule"] for r in team["readings"] if r["coder"] == coder and rnd in r["rounds"]]


def _round_transcripts(team: dict, rnd: str, ids: list[str]) -> list[str]:
    spec = team["rounds"][rnd]
    return ids[spec["first"] - 1 : spec["last"]]


def _whole_units(decisions: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Codings that span whole units, one per applied (unit, code) decision."""
    applied = decisions.loc[decisions["applied"], ["transcript_id", "unit_id", "code"]]
    return applied.merge(units[["unit_id", "start", "end"]], on="unit_id")[["transcript_id", "start", "end", "code"]]


def make_codings(
    interviews: list[Interview], transcripts: pd.DataFrame, codebook: pd.DataFrame, team: dict
) -> pd.DataFrame:
    """Every coding of every round (columns of ``codings.csv``), in a stable order."""
    ref = reference_codings(interviews)
    ids = [iv.participant_id for iv in interviews]
    turns = speaker_turns(transcripts)
    units = participant_units(transcripts)
    frames = []
    for rnd, spec in team["rounds"].items():
        version = spec["codebook_version"]
        allowed = set(codes_in_version(codebook, version))
        tids = set(_round_transcripts(team, rnd, ids))
        ref_r = ref.loc[ref["transcript_id"].isin(tids) & ref["code"].isin(allowed)]
        for coder in spec["coders"]:
            coded = ref_r
            for rule in _readings_of(team, coder, rnd):
                coded = READING_RULES[rule](coded, turns)
            coded = coded.loc[coded["code"].isin(allowed)]
            if spec.get("fixed_units"):
                dec = unit_decisions(coded.assign(coder=coder), units.loc[units["transcript_id"].isin(tids)])
                coded = _whole_units(dec, units)
            frames.append(coded.assign(coder=coder, round=rnd, codebook_version=version))
    groups = dict(
        zip(
            codebook.loc[codebook["version"] == "final", "code"],
            codebook.loc[codebook["version"] == "final", "code_group"],
            strict=True,
        )
    )
    for c in team["coders"]:
        mine = ref.loc[ref["code"].map(groups).isin(c["full_round_groups"])]
        frames.append(mine.assign(coder=c["coder"], round="full", codebook_version="final"))
    out = pd.concat(frames, ignore_index=True)
    order = {"1": 0, "2": 1, "3": 2, "full": 3}
    out = out.assign(_r=out["round"].map(order), _t=out["transcript_id"].map({t: k for k, t in enumerate(ids)}))
    out = out.sort_values(["_r", "_t", "coder", "start", "end", "code"], kind="stable").reset_index(drop=True)
    width = max(6, len(str(len(out))))
    out["coding_id"] = [f"C{k + 1:0{width}d}" for k in range(len(out))]
    out["start"] = out["start"].astype("int64")
    out["end"] = out["end"].astype("int64")
    return out[CODING_COLUMNS]


def _first_words(text: str, n: int = 8) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" ..." if len(words) > n else "")


def make_reconciliation(
    interviews: list[Interview], transcripts: pd.DataFrame, codings: pd.DataFrame, team: dict
) -> pd.DataFrame:
    """One row per round-2/3 (answer, code) on which the analysts' decisions differed.

    Decisions follow :func:`qda.study.units.unit_decisions` (the 50 % rule); the resolution
    is the reference's decision; the note names the reading that caused the disagreement
    and the criterion that settled it, and quotes the answer's first words.
    """
    ref = reference_codings(interviews)
    units = participant_units(transcripts)
    texts = dict(zip(transcripts["transcript_id"], transcripts["text"], strict=True))
    reading = {(r["coder"], r["rule"]): r for r in team["readings"]}
    rows = []
    for rnd in ("2", "3"):
        spec = team["rounds"][rnd]
        c = codings.loc[codings["round"].astype(str) == rnd]
        tids = sorted(set(c["transcript_id"]))
        u = units.loc[units["transcript_id"].isin(tids)]
        both = pd.concat([c, ref.loc[ref["transcript_id"].isin(tids)].assign(coder=REFERENCE)], ignore_index=True)
        dec = unit_decisions(both, u)
        wide = dec.pivot_table(
            index=["transcript_id", "unit_id", "code"], columns="coder", values="applied", aggfunc="max"
        )
        wide = wide.reindex(columns=[*spec["coders"], REFERENCE]).fillna(False).astype(bool)
        coders = list(spec["coders"])
        split = wide[coders].any(axis=1) & ~wide[coders].all(axis=1)
        unit_start = dict(zip(u["unit_id"], u["start"], strict=True))
        unit_end = dict(zip(u["unit_id"], u["end"], strict=True))
        for (tid, uid, code), row in wide.loc[split].iterrows():
            present = bool(row[REFERENCE])
            departed = [k for k in coders if bool(row[k]) != present]
            causes = [reading[(k, r)] for k in departed for r in _readings_of(team, k, rnd) if (k, r) in reading]
            if causes:
                settled = " ".join(dict.fromkeys(" ".join(x["settled_by"].split()) for x in causes))
            else:
                settled = "the answer read as a whole against the code's inclusion and exclusion criteria."
            answer = _first_words(texts[tid][unit_start[uid] : unit_end[uid]])
            verdict = "Kept" if present else "Left off"
            rows.append(
                {
                    "round": rnd,
                    "transcript_id": tid,
                    "unit_id": uid,
                    "code": code,
                    "coded_by": ";".join(k for k in coders if row[k]),
                    "not_coded_by": ";".join(k for k in coders if not row[k]),
                    "resolution": "present" if present else "absent",
                    "note": f'{verdict} {code} on the answer "{answer}": settled by {settled}',
                }
            )
    return pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)


def disagreements_by_reading(reconciliation: pd.DataFrame, team: dict) -> pd.DataFrame:
    """Round-2 and round-3 disagreements, by the stated reading that produced them.

    One row per reading of ``team["readings"]``: ``coder``, ``rule``, ``rounds`` (where the
    reading was in force) and, per round, the number of ``reconciliation`` rows in which that
    analyst's decision departed from the resolution (applied where the team left the code off,
    or the other way round) while the reading was in force. A disagreement no reading
    explains is counted in a last row, ``rule`` "(none)", which should hold zeros.
    """
    rnd = reconciliation["round"].astype(str)
    present = reconciliation["resolution"].astype(str) == "present"
    departed = [
        set(filter(None, str(nc if pres else c).split(";")))
        for c, nc, pres in zip(reconciliation["coded_by"], reconciliation["not_coded_by"], present, strict=True)
    ]
    explained = [False] * len(reconciliation)
    rows = []
    for r in team["readings"]:
        counts = {}
        for round_ in ("2", "3"):
            hit = [
                k
                for k, (who, rr) in enumerate(zip(departed, rnd, strict=True))
                if rr == round_ and round_ in r["rounds"] and r["coder"] in who
            ]
            for k in hit:
                explained[k] = True
            counts[f"round {round_}"] = len(hit)
        rows.append({"coder": r["coder"], "rule": r["rule"], "rounds": ", ".join(r["rounds"]), **counts})
    rest = [k for k, ok in enumerate(explained) if not ok]
    rows.append(
        {
            "coder": "",
            "rule": "(none)",
            "rounds": "",
            "round 2": sum(1 for k in rest if rnd.iloc[k] == "2"),
            "round 3": sum(1 for k in rest if rnd.iloc[k] == "3"),
        }
    )
    return pd.DataFrame(rows)


def share_matching_reference(codings: pd.DataFrame, reference: pd.DataFrame, round_: str = "full") -> float:
    """Share of one round's codings that are, span and code, a coding of the reference."""
    keys = ["transcript_id", "start", "end", "code"]
    ref = set(map(tuple, reference[keys].astype(str).to_numpy()))
    got = codings.loc[codings["round"].astype(str) == round_, keys].astype(str)
    return float(pd.Series([tuple(k) in ref for k in got.to_numpy()]).mean()) if len(got) else float("nan")
