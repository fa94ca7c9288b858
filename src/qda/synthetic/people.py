"""The invented participants and institutions of the synthetic corpus (seeded draws).

Participants follow the patterns of the study's Table 1 (Murphy et al., Academic Medicine
2022): half women, half men; men more often MD or MD-PhD and in leadership posts and
endowed chairs; every rank for both genders; two video interviews; about an hour each;
some men primary caregivers. Institutions are balanced over region, ownership and
prestige. The exact numbers are the draws', not the paper's. The persona card of each
authored interview repeats these columns and a test holds them equal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CLINICAL_FIELDS = [
    "cardiology",
    "general surgery",
    "pediatrics",
    "radiation oncology",
    "internal medicine",
    "obstetrics and gynecology",
    "anesthesiology",
    "otolaryngology",
    "neurology",
    "emergency medicine",
]
RESEARCH_FIELDS = [
    "neuroscience",
    "immunology",
    "biochemistry",
    "epidemiology",
    "genetics",
    "pharmacology",
    "health services research",
]


def make_institutions(rng: np.random.Generator, n: int = 16) -> pd.DataFrame:
    """16 invented institutions, balanced over region, ownership and prestige tier."""
    regions = np.array(["Northeast", "Midwest", "South", "West"])[rng.permutation(np.arange(n) % 4)]
    owner = np.array(["public", "private"])[rng.permutation(np.arange(n) % 2)]
    tier = np.array(["higher", "middle", "lower"])[rng.permutation(np.arange(n) % 3)]
    letters = [chr(ord("A") + i) if i < 26 else f"A{i}" for i in range(n)]
    return pd.DataFrame(
        {
            "institution_id": [f"I{i + 1:02d}" for i in range(n)],
            "pseudonym": [f"Institution {x}" for x in letters],
            "region": regions,
            "ownership": owner,
            "prestige_tier": tier,
        }
    )


def _pick(rng, options, probs, size):
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=np.asarray(probs) / sum(probs))]


def make_participants(rng: np.random.Generator, n: int, n_institutions: int = 16) -> pd.DataFrame:
    """``n`` invented participants (half women, half men) following the paper's patterns."""
    gender = np.array(["woman"] * (n // 2) + ["man"] * (n - n // 2), dtype=object)[rng.permutation(n)]
    inst = np.empty(n, dtype=object)
    rank = np.empty(n, dtype=object)
    degree = np.empty(n, dtype=object)
    for g, p_rank, p_deg in (
        ("woman", [0.38, 0.30, 0.32], [0.38, 0.47, 0.15]),
        ("man", [0.27, 0.25, 0.48], [0.52, 0.22, 0.26]),
    ):
        idx = np.flatnonzero(gender == g)
        inst[idx] = [f"I{k % n_institutions + 1:02d}" for k in rng.permutation(len(idx))]
        r = _pick(rng, ["assistant", "associate", "full"], p_rank, len(idx))
        for k, want in enumerate(["assistant", "associate", "full"]):  # every rank for both genders
            if len(idx) >= 3 and want not in r:
                r[k] = want
        rank[idx] = r
        degree[idx] = _pick(rng, ["MD", "PhD", "MD-PhD"], p_deg, len(idx))
    man = gender == "man"
    # leadership: probability by rank and gender; kind of post by gender
    p_lead = np.select([rank == "assistant", rank == "associate"], [0.04, 0.2], 0.55) * np.where(man, 1.0, 0.6)
    lead_kind = np.where(
        man,
        _pick(rng, ["dean", "chair", "center director", "other"], [0.15, 0.30, 0.30, 0.25], n),
        _pick(rng, ["dean", "chair", "center director", "other"], [0.08, 0.22, 0.30, 0.40], n),
    )
    lead_kind = np.where(rank == "assistant", "other", lead_kind)
    leadership = np.where(rng.random(n) < p_lead, lead_kind, "none")
    p_chair = np.select([rank == "full", rank == "associate"], [0.42, 0.08], 0.0) * np.where(man, 1.0, 0.55)
    endowed = rng.random(n) < p_chair
    stage = np.select([rank == "assistant", rank == "associate"], ["early", "mid"], "senior")
    u = rng.random(n)
    age = np.select(
        [
            (rank == "assistant") & (u < 0.65),
            rank == "assistant",
            (rank == "associate") & (u < 0.15),
            (rank == "associate") & (u < 0.75),
            rank == "associate",
            u < 0.10,
            u < 0.60,
        ],
        ["30-39", "40-49", "30-39", "40-49", "50-59", "40-49", "50-59"],
        "60+",
    )
    clin = _pick(rng, CLINICAL_FIELDS, [1] * len(CLINICAL_FIELDS), n)
    res = _pick(rng, RESEARCH_FIELDS, [1] * len(RESEARCH_FIELDS), n)
    field_ = np.where((degree == "MD") | ((degree == "MD-PhD") & (rng.random(n) < 0.5)), clin, res)
    mode = np.full(n, "in person", dtype=object)
    mode[rng.choice(n, size=min(2, n), replace=False)] = "video call"
    minutes = np.clip(np.rint(rng.normal(60, 8, n)), 45, 80).astype(int)
    care = rng.random(n) < np.where(man, 0.12, 0.38)
    men = np.flatnonzero(man)
    need = max(2, round(0.08 * len(men))) - int(care[men].sum())
    if need > 0:  # some men are primary caregivers (the paper notes it)
        care[rng.choice(men[~care[men]], size=need, replace=False)] = True
    return pd.DataFrame(
        {
            "participant_id": [f"P{i + 1:03d}" if n < 1000 else f"P{i + 1:0{len(str(n))}d}" for i in range(n)],
            "gender": gender,
            "institution_id": inst,
            "rank": rank,
            "degree": degree,
            "leadership": leadership,
            "endowed_chair": np.where(endowed, "yes", "no"),
            "age_band": age,
            "career_stage": stage,
            "field": field_,
            "interview_mode": mode,
            "interview_minutes": minutes,
            "primary_caregiver": np.where(care, "yes", "no"),
        }
    )
