"""The book's analysis on any coded project, through its mapping (``study.analysis``).

A user's ``qda-project.yml`` names two codes, ``code_a`` and ``code_b``, optional
sub-codes of code_b to split by (``code_b_parts``), a variable to compare by
(``compare_by``) and the codes that hold the themes (``themes``); see
:func:`qda.exchange.mapping.apply_mapping`. The synthetic study's own configuration is
one instance (:data:`qda.study.schema.DEFAULT_ANALYSIS`).

Rules, written once here:

* A code stands for itself and its descendants in the latest codebook version (its
  *family*, :func:`qda.study.codebook.descendants`). When ``code_b_parts`` is given,
  code_b's side of the analysis set is the parts' families and code_b applied directly
  (as in the study, where mentorship is split into giving and receiving and its other
  children are not part of the set); without parts it is code_b's whole family.
* The analysis set is :func:`qda.analysis.analysis_set.segments_where` on the codings
  relabelled by family: a segment's ``role`` is the part it holds (its code's label),
  "both" for two parts, "several" for more, "unspecified" for code_b applied directly.
* The codings used are those of the round ``"full"`` when a project has one (the
  synthetic study's full coding; every import without round labels), else all.
* Each function returns data, or raises nothing for a project that lacks what it
  needs: :func:`what_it_holds` says, per page, whether the project holds it and why not.
"""

from __future__ import annotations

import dataclasses
from itertools import combinations

import pandas as pd

from qda.analysis.analysis_set import segments_where
from qda.analysis.coded_text import nvivo_coding_comparison, segment_overlap_agreement
from qda.analysis.cooccurrence import cooccurrence_matrix, cooccurring_pairs
from qda.analysis.unitizing import reliability_rounds, unitizing_reliability
from qda.errors import QDAError
from qda.study.codebook import code_tree, descendants, versions_of
from qda.study.model import Study

#: Pages of the book built on a project, in table-of-contents order.
PAGES = ("participants", "co-occurrence and analysis set", "reliability", "themes")


def whose(study: Study) -> str:
    """How captions name the data: "your project", or "the synthetic corpus" (never a path)."""
    return "the synthetic corpus" if study.synthetic else "your project"


def analysis_round(study: Study) -> str | None:
    """``"full"`` when the project has codings of that round, else None (all codings)."""
    return "full" if (study.codings["round"].astype(str) == "full").any() else None


def round_codings(study: Study) -> pd.DataFrame:
    """The codings the analysis uses (see :func:`analysis_round`)."""
    rnd = analysis_round(study)
    c = study.codings
    return c if rnd is None else c.loc[c["round"].astype(str) == rnd]


def labels(study: Study) -> dict[str, str]:
    """Code slug -> the label a reader knows: its name, or its path when another code shares the name."""
    tree = code_tree(study.codebook)
    return {
        c: (p if shared else n) for c, n, p, shared in tree[["code", "name", "path", "shared_name"]].itertuples(False)
    }


def _has(study: Study, code: str) -> bool:
    return bool(code) and code in set(study.codebook["code"].astype(str))


def what_it_holds(study: Study) -> pd.DataFrame:
    """Per page of the project book: ``page``, ``built`` (bool) and ``why`` (what it needs).

    participants: always (one row per case or source); the comparison needs ``compare_by``.
    co-occurrence and analysis set: codings, and ``analysis.code_a``/``code_b``.
    reliability: two or more coders who coded the same source with a code in common.
    themes: ``themes`` set.
    """
    spec, c = study.analysis, study.codings
    rows = [("participants", len(study.participants) > 0, "the project has no cases or sources")]
    if c.empty:
        rows.append((PAGES[1], False, "the project has no codings"))
    elif not (_has(study, spec.get("code_a", "")) and _has(study, spec.get("code_b", ""))):
        rows.append((PAGES[1], False, "qda-project.yml names no analysis.code_a and code_b"))
    else:
        rows.append((PAGES[1], True, ""))
    coders = c["coder"].astype(str).nunique()
    if reliability_rounds(study):
        rows.append((PAGES[2], True, ""))
    elif coders < 2:
        rows.append((PAGES[2], False, f"the project's codings are by {coders} coder(s); reliability needs two or more"))
    else:
        rows.append((PAGES[2], False, "no two coders coded the same source with a code in common"))
    themes = [t for t in spec.get("themes", []) if _has(study, t)]
    rows.append((PAGES[3], bool(themes) and not c.empty, "qda-project.yml names no themes"))
    out = pd.DataFrame(rows, columns=["page", "built", "why"])
    out.loc[out["built"], "why"] = ""
    return out


def why_not(study: Study, page: str) -> str:
    """ "" when ``page`` is built on this project, else the reason (for the page to print)."""
    row = what_it_holds(study).set_index("page").loc[page]
    return "" if row["built"] else str(row["why"])


# ---------------------------------------------------------------------------
# Participants
# ---------------------------------------------------------------------------
def compare_column(study: Study) -> str:
    """The participants column to compare by, or "" (not set, or empty for every participant)."""
    col = study.analysis.get("compare_by", "")
    if not col or col not in study.participants.columns:
        return ""
    return col if study.participants[col].astype(str).str.strip().ne("").any() else ""


def participants_overview(study: Study) -> pd.DataFrame:
    """One row per participant (case, or source without cases): transcripts, characters, codings, coders.

    Columns ``participant``, the compare-by column when set, ``transcripts``,
    ``characters``, ``codings``, ``codes`` (distinct codes applied), ``coders``.
    """
    p = study.participants[["participant_id"]].astype(str).copy()
    col = compare_column(study)
    if col:
        p[col] = study.participants[col].astype(str).to_numpy()
    tr = study.transcripts.assign(participant_id=study.transcripts["participant_id"].astype(str))
    p["transcripts"] = p["participant_id"].map(tr.groupby("participant_id").size()).fillna(0).astype(int)
    p["characters"] = p["participant_id"].map(tr.groupby("participant_id")["n_chars"].sum()).fillna(0).astype(int)
    c = study.codings.merge(tr[["transcript_id", "participant_id"]], on="transcript_id", how="left")
    g = c.groupby("participant_id")
    p["codings"] = p["participant_id"].map(g.size()).fillna(0).astype(int)
    p["codes"] = p["participant_id"].map(g["code"].nunique()).fillna(0).astype(int)
    p["coders"] = p["participant_id"].map(g["coder"].nunique()).fillna(0).astype(int)
    return p.rename(columns={"participant_id": "participant"}).reset_index(drop=True)


def compare_table(study: Study) -> pd.DataFrame:
    """Participants, transcripts and codings per value of the compare-by variable (empty when none is set)."""
    col = compare_column(study)
    if not col:
        return pd.DataFrame(columns=["participants", "transcripts", "codings"])
    ov = participants_overview(study)
    ov[col] = ov[col].replace("", "(no value)")
    out = ov.groupby(col).agg(participants=("participant", "size"), transcripts=("transcripts", "sum"))
    out["codings"] = ov.groupby(col)["codings"].sum()
    return out


def code_counts(study: Study) -> pd.DataFrame:
    """The code tree with counts: ``code`` (label, indented by depth), ``codings`` (its own) and
    ``with descendants``, ``participants`` (with a coding of the family), in tree order."""
    tree = code_tree(study.codebook)
    c = round_codings(study)
    own = c.groupby(c["code"].astype(str)).size()
    tr = study.transcripts.set_index("transcript_id")["participant_id"].astype(str)
    who = c.assign(p=c["transcript_id"].map(tr))
    rows = []
    for code, name, depth in tree[["code", "name", "depth"]].itertuples(False):
        fam = descendants(study.codebook, code)
        sub = who.loc[who["code"].isin(fam)]
        rows.append(
            {
                "code": "\u2003" * int(depth) + str(name),
                "codings": int(own.get(code, 0)),
                "with descendants": len(sub),
                "participants": sub["p"].nunique(),
            }
        )
    return pd.DataFrame(rows, columns=["code", "codings", "with descendants", "participants"])


# ---------------------------------------------------------------------------
# Co-occurrence and the analysis set
# ---------------------------------------------------------------------------
def used_codes(study: Study) -> list[str]:
    """Codes with at least one coding in the analysis round, in tree order."""
    used = set(round_codings(study)["code"].astype(str))
    return [c for c in code_tree(study.codebook)["code"] if c in used]


def cooccurrence_all(study: Study, rule: str = "overlap", top: int | None = 25) -> pd.DataFrame:
    """Co-occurrence counts of the codes used (ATLAS.ti's pairs; the diagonal is each code's codings).

    With ``top``, the ``top`` codes with the most codings (tree order kept), so the table
    stays readable; labels from :func:`labels`.
    """
    c = round_codings(study)
    codes = used_codes(study)
    if top is not None and len(codes) > top:
        n = c.groupby(c["code"].astype(str)).size()
        keep = set(n.sort_values(ascending=False, kind="stable").index[:top])
        codes = [x for x in codes if x in keep]
    m = cooccurrence_matrix(c, rule=rule, codes=codes)
    lab = labels(study)
    return m.rename(index=lab, columns=lab)


def family_codings(study: Study) -> tuple[pd.DataFrame, str, dict[str, str]]:
    """The analysis round's codings of the mapped families, each relabelled as one code.

    Returns (codings, the code_a label, {second-code label: role}); see the module rules.
    """
    spec, cb, lab = study.analysis, study.codebook, labels(study)
    a, b, parts = spec["code_a"], spec["code_b"], list(spec.get("code_b_parts", []))
    relabel = {x: lab[a] for x in descendants(cb, a)}
    role_of = {}
    if parts:
        relabel[b] = lab[b]
        role_of[lab[b]] = "unspecified"
        for part in parts:
            for x in descendants(cb, part):
                relabel[x] = lab[part]
            role_of[lab[part]] = lab[part]
    else:
        for x in descendants(cb, b):
            relabel[x] = lab[b]
        role_of[lab[b]] = lab[b]
    c = round_codings(study)
    c = c.loc[c["code"].astype(str).isin(relabel)]
    return c.assign(code=c["code"].astype(str).map(relabel)), lab[a], role_of


def pair_table(study: Study) -> pd.DataFrame:
    """How code_a meets code_b (the whole side) and each part: one row per second code.

    Columns ``with`` (the second code), ``codings of code_a``, ``codings``, ``pairs`` (co-occurring
    pairs of codings, ATLAS.ti's count), ``c`` (ATLAS.ti's c-coefficient n12 / (n1 + n2 - n12))
    and ``transcripts with both``.
    """
    c, a, role_of = family_codings(study)
    b = labels(study)[study.analysis["code_b"]]
    merged = c.assign(code=c["code"].where(~c["code"].isin(list(role_of)), b))
    variants = [(b, merged)] + [(x, c) for x in role_of if x != b]
    rows = []
    for second, frame in variants:
        pairs = cooccurrence_matrix(frame, codes=[a, second])
        trans = cooccurrence_matrix(frame, count="transcripts", codes=[a, second])
        n1, n2, n12 = int(pairs.loc[a, a]), int(pairs.loc[second, second]), int(pairs.loc[a, second])
        rows.append(
            {
                "with": second,
                "codings of code_a": n1,
                "codings": n2,
                "pairs": n12,
                "c": n12 / (n1 + n2 - n12) if (n1 + n2 - n12) else float("nan"),
                "transcripts with both": int(trans.loc[a, second]),
            }
        )
    return pd.DataFrame(rows)


def mapped_analysis_set(study: Study, rule: str = "overlap", within: int = 0) -> pd.DataFrame:
    """The analysis set of a project's mapping: segments where code_a meets code_b (see the module rules).

    Columns of :data:`qda.analysis.analysis_set.SEGMENT_COLUMNS` plus ``compared`` (the
    participant's value of the compare-by variable, "" when none is set).
    """
    c, a, role_of = family_codings(study)
    seg = segments_where(study, c, a, role_of, rule=rule, within=within)
    col = compare_column(study)
    values = study.participants.set_index("participant_id")[col].astype(str) if col else None
    seg["compared"] = seg["participant_id"].map(values).fillna("") if values is not None else ""
    return seg


def analysis_set_overview(study: Study, segments: pd.DataFrame) -> pd.DataFrame:
    """Segments, participants and transcripts of the analysis set by role (and compare-by value when set)."""
    by = ["role", "compared"] if compare_column(study) else ["role"]
    if segments.empty:
        return pd.DataFrame(columns=[*by, "segments", "participants", "transcripts"])
    g = segments.groupby(by)
    out = pd.DataFrame(
        {
            "segments": g.size(),
            "participants": g["participant_id"].nunique(),
            "transcripts": g["transcript_id"].nunique(),
        }
    )
    return out.reset_index()


# ---------------------------------------------------------------------------
# Who spoke to each theme
# ---------------------------------------------------------------------------
def theme_speakers(study: Study, segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per theme code (with its family): participants with a coding of it, overall and by compare-by value.

    With ``segments`` (the analysis set), also ``in the analysis set``: participants with
    an analysis-set segment that shares a character with a coding of the theme.
    Participants, not codings: a count of who spoke, never of how often (the study's
    no-frequency caveat).
    """
    c = round_codings(study)
    lab = labels(study)
    tr = study.transcripts.set_index("transcript_id")["participant_id"].astype(str)
    col = compare_column(study)
    values = study.participants.set_index("participant_id")[col].astype(str) if col else None
    groups = sorted(set(values)) if values is not None else []
    rows = []
    for theme in study.analysis.get("themes", []):
        fam = descendants(study.codebook, theme)
        sub = c.loc[c["code"].isin(fam)]
        who = set(sub["transcript_id"].map(tr))
        row = {"theme": lab.get(theme, theme), "participants": len(who)}
        for v in groups:
            row[f"{col}: {v or '(no value)'}"] = sum(1 for p in who if values.get(p, "") == v)
        if segments is not None:
            row["in the analysis set"] = _theme_in_segments(sub, segments, tr)
        rows.append(row)
    return pd.DataFrame(rows)


def _theme_in_segments(theme_codings: pd.DataFrame, segments: pd.DataFrame, tr: pd.Series) -> int:
    if theme_codings.empty or segments.empty:
        return 0
    both = pd.concat(
        [
            pd.DataFrame(
                {
                    "coding_id": "S:" + segments["segment_id"].astype(str),
                    "transcript_id": segments["transcript_id"],
                    "start": segments["start"],
                    "end": segments["end"],
                    "code": "segment",
                }
            ),
            theme_codings[["coding_id", "transcript_id", "start", "end"]].assign(code="theme"),
        ],
        ignore_index=True,
    )
    pairs = cooccurring_pairs(both)
    return int(pairs["transcript_id"].map(tr).nunique())


# ---------------------------------------------------------------------------
# Reliability
# ---------------------------------------------------------------------------
def coder_pairs(study: Study, rnd: str) -> list[tuple[str, str]]:
    """Pairs of coders of round ``rnd`` who coded at least one source in common, sorted."""
    c = study.codings.loc[study.codings["round"].astype(str) == str(rnd)]
    per = c.groupby(c["coder"].astype(str))["transcript_id"].agg(lambda s: set(s.astype(str)))
    return [(a, b) for a, b in combinations(sorted(per.index), 2) if per[a] & per[b]]


def project_reliability(study: Study, max_pairs: int = 6) -> dict[str, pd.DataFrame]:
    """Agreement of a project's coders on the sources they coded in common, three ways.

    * ``"unitizing"``: Krippendorff's per-code unitizing alpha (``|u-alpha``) of each
      reliability round (:func:`qda.analysis.unitizing.unitizing_reliability`, codes used
      by some coder; domains whose codes overlap within a coder are skipped with a note).
    * ``"characters"``: character-level agreement and kappa per code, as NVivo counts it
      (:func:`qda.analysis.coded_text.nvivo_coding_comparison`, pooled over sources).
    * ``"segments"``: segment overlap per code, as MAXQDA counts it (90% overlap,
      :func:`qda.analysis.coded_text.segment_overlap_agreement`).

    Every coder pair of a round that coded a source in common (at most ``max_pairs``);
    code labels from :func:`labels`. Empty tables when the project holds no such round.
    """
    lab = labels(study)
    out = {"unitizing": [], "characters": [], "segments": []}
    # REFI-QDA carries one codebook: codings labelled with an earlier version are read against it
    latest = versions_of(study.codebook)[-1] if len(study.codebook) else "final"
    one_book = dataclasses.replace(study, codings=study.codings.assign(codebook_version=latest))
    for rnd in reliability_rounds(study):
        try:
            u = unitizing_reliability(one_book, [rnd], on_overlap="skip")
        except QDAError as e:  # a round the coefficient cannot take: said on the page, never raised
            u = pd.DataFrame(
                [
                    {
                        "round": rnd,
                        "level": "code",
                        "code": "",
                        "value": float("nan"),
                        "n_segments": 1,
                        "n_coders": 0,
                        "note": e.what,
                    }
                ]
            )
        u = u.loc[(u["level"] == "code") & (u["n_segments"] > 0)]
        out["unitizing"].append(u.assign(code=u["code"].map(lambda x: lab.get(x, x))))
        c = study.codings.loc[study.codings["round"].astype(str) == rnd]
        for a, b in coder_pairs(study, rnd)[:max_pairs]:
            try:
                ch = nvivo_coding_comparison(c, study.transcripts, a, b, by="code")
                sg = segment_overlap_agreement(c, a, b)
            except QDAError:
                continue
            out["characters"].append(ch.assign(round=rnd, coders=f"{a} / {b}"))
            out["segments"].append(sg.assign(round=rnd, coders=f"{a} / {b}"))
    frames = {k: (pd.concat(v, ignore_index=True) if v else pd.DataFrame()) for k, v in out.items()}
    for k in ("characters", "segments"):
        if not frames[k].empty:
            frames[k]["code"] = frames[k]["code"].map(lambda x: lab.get(x, x))
    return frames
