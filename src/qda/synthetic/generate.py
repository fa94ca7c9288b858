"""Build the SYNTHETIC corpus in ``data/`` from the authored interviews and the team's records.

``python -m qda generate --out data [--participants 104] [--seed 2019]`` writes the
participants, institutions, coders, transcripts, codings, reconciliation log, memos, theme
assignments, the interview guide, the codebook and a ``SYNTHETIC`` marker into ``--out``
(and nowhere else). The same arguments give byte-identical files.

Where each table comes from:

- participants and institutions: seeded draws (:mod:`qda.synthetic.people`);
- transcripts: the 104 interviews written one by one (``interviews/PNNN.md``), compiled by
  :mod:`qda.synthetic.authored` (offsets are computed, never counted by hand);
- codings and reconciliation: the reference coding the authors marked, turned into the
  study's rounds by the team's stated readings (:mod:`qda.synthetic.team`, ``team/team.yml``);
- memos, theme assignments and exemplars: the analysts' own records, written for their
  place (``team/memos.yml``, ``team/theme_assignments.csv``, ``team/exemplars.csv``); a
  memo or an assignment names its passage by a quotation, which is resolved to the coding
  or segment that holds it;
- the codebook (``codebook.yml``) and the interview guide (``interview_guide.md``): written
  by hand, copied.

``--participants N`` other than 104 tiles the authored interviews under new ids, for speed
and memory benchmarks only: the drawn participants then do not match the interviews' cards,
and the ``SYNTHETIC`` marker says so.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from qda.errors import DataError
from qda.io import atomic_write, write_csv_atomic, write_text_atomic
from qda.study.codebook import read_codebook

from .authored import Interview, authored_files, parse
from .people import make_institutions, make_participants
from .records import EXEMPLAR_COLUMNS, apply_notes, make_exemplars, make_memos, make_themes
from .team import coders_table, load_team, make_codings, make_reconciliation

HERE = Path(__file__).parent
PACKAGE_CODEBOOK = HERE / "codebook.yml"
INTERVIEW_GUIDE = HERE / "interview_guide.md"
DESIGN_SIZE = 104


def _write_if_changed(path: Path, data: bytes) -> None:
    """Atomic write, skipped when the file already holds exactly ``data``."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    with atomic_write(path, "wb") as f:
        f.write(data)


def _write_transcripts(out: Path, texts: dict[str, str]) -> None:
    """Write ``out/transcripts/<id>.txt`` for every transcript, all at once.

    The files go into a staging folder inside ``out``, are flushed with one ``os.sync()``,
    and the folder is then renamed into place, so a failure leaves the previous transcripts
    intact. Files of the old folder that are not transcripts (``P<digits>.txt``) are kept.
    """
    tdir = out / "transcripts"
    stage = Path(tempfile.mkdtemp(prefix=".transcripts.", dir=out))
    old = out / f"{stage.name}.old"
    try:
        for tid, text in texts.items():
            (stage / f"{tid}.txt").write_bytes(text.encode("utf-8"))
        if tdir.is_dir():
            for other in tdir.iterdir():
                if not re.fullmatch(r"P\d+\.txt", other.name) and not (stage / other.name).exists():
                    if other.is_file():
                        shutil.copy2(other, stage / other.name)
                    else:
                        shutil.copytree(other, stage / other.name)
        stage.chmod(0o755)
        os.sync()
        if tdir.exists():
            os.replace(tdir, old)
        os.replace(stage, tdir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if old.exists() and not tdir.exists():
            os.replace(old, tdir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_interviews(folder: str | Path | None = None) -> list[Interview]:
    """Every authored interview, compiled, in participant order."""
    files = authored_files(folder)
    if not files:
        raise DataError(folder or HERE / "interviews", "folder", "holds no interview", "restore interviews/PNNN.md")
    return [parse(f.read_text(encoding="utf-8"), str(f)) for f in files]


def personas_yaml(interviews: list[Interview]) -> str:
    """``personas.yml``: the persona card of every interview, in participant order."""
    head = (
        "# Persona cards of the SYNTHETIC corpus: the card each interview was written from.\n"
        "# Built from src/qda/synthetic/interviews/PNNN.md by `python -m qda generate`; see README.md.\n"
    )
    body = yaml.safe_dump([iv.card for iv in interviews], sort_keys=False, allow_unicode=True, width=100)
    return head + body


def tile(interviews: list[Interview], ids: list[str], participants: pd.DataFrame) -> list[Interview]:
    """The authored interviews laid under ``ids`` (repeated when there are more ids).

    For benchmark corpora only: the header names the new id and the drawn participant's
    mode and length, the speech and the codings are those of the authored interview.
    """
    out = []
    for k, pid in enumerate(ids):
        src = interviews[k % len(interviews)]
        row = participants.iloc[k]
        old_header = src.text[: src.text.index("\n\n") + 2]
        new_header = old_header.replace(f"Participant {src.participant_id}.", f"Participant {pid}.")
        new_header = re.sub(r"Interview mode: [^.]*\.", f"Interview mode: {row['interview_mode']}.", new_header)
        new_header = re.sub(r"Length: \d+ minutes", f"Length: {row['interview_minutes']} minutes", new_header)
        shift = len(new_header) - len(old_header)
        text = new_header + src.text[len(old_header) :]
        card = {**src.card, "participant_id": pid}
        turns = [replace(t, start=t.start + shift, end=t.end + shift) for t in src.turns]
        codings = [replace(c, start=c.start + shift, end=c.end + shift) for c in src.codings]
        out.append(Interview(pid, card, text, turns, codings))
    return out


def generate(
    out: str | Path, n_participants: int = DESIGN_SIZE, seed: int = 2019, codebook: str | Path | None = None
) -> dict:
    """Build the synthetic corpus into ``out``; return a few measured facts.

    Parameters
    ----------
    out : folder to write (created if needed); nothing is written elsewhere.
    n_participants : even number >= 2; 104 is the study (the authored interviews), any other
        size tiles them for benchmarks.
    seed : seed of the participants' and institutions' draws.
    codebook : the codebook YAML (default: the package's ``qda/synthetic/codebook.yml``, the
        one source of the codebook); it is copied into ``out``.
    """
    out = Path(out)
    if n_participants < 2 or n_participants % 2:
        raise DataError(
            "--participants",
            str(n_participants),
            "must be an even number of at least 2",
            "the design has equal numbers of women and men",
        )
    cb_path = Path(codebook) if codebook else PACKAGE_CODEBOOK
    cb = read_codebook(cb_path)
    team = load_team()
    r_part = np.random.default_rng(np.random.SeedSequence(seed).spawn(5)[0])
    institutions = make_institutions(r_part)
    participants = make_participants(r_part, n_participants)
    ids = list(participants["participant_id"])
    authored = read_interviews()
    interviews = (
        authored
        if n_participants == DESIGN_SIZE and ids == [iv.participant_id for iv in authored]
        else tile(authored, ids, participants)
    )
    transcripts = pd.DataFrame({"transcript_id": ids, "participant_id": ids, "text": [iv.text for iv in interviews]})
    codings = make_codings(interviews, transcripts, cb, team)
    recon = make_reconciliation(interviews, transcripts, codings, team)
    tiled = interviews is not authored
    source_of = {pid: authored[k % len(authored)].participant_id for k, pid in enumerate(ids)}
    if not tiled:
        recon = apply_notes(recon)
    memos, theme_memos = make_memos(codings, transcripts, source_of)
    themes = make_themes(codings, transcripts, participants, source_of)
    exemplars = make_exemplars(transcripts) if not tiled else pd.DataFrame(columns=EXEMPLAR_COLUMNS)

    out.mkdir(parents=True, exist_ok=True)
    _write_transcripts(out, dict(zip(ids, transcripts["text"], strict=True)))
    for name, frame in (
        ("participants", participants),
        ("institutions", institutions),
        ("coders", coders_table(team)),
        ("codings", codings),
        ("reconciliation", recon),
        ("memos", memos),
        ("themes", themes),
        ("theme_memos", theme_memos),
        ("exemplars", exemplars),
    ):
        write_csv_atomic(frame, out / f"{name}.csv")
    _write_if_changed(out / "personas.yml", personas_yaml(interviews).encode("utf-8"))
    _write_if_changed(out / "interview_guide.md", INTERVIEW_GUIDE.read_bytes())
    _write_if_changed(out / "codebook.yml", cb_path.read_bytes())
    write_text_atomic(
        out / "SYNTHETIC",
        "This folder holds a SYNTHETIC corpus built by `python -m qda generate`.\n"
        "No real person, institution or interview is described. See README.md.\n"
        f"participants: {n_participants}\nseed: {seed}\n"
        + ("tiled: the authored interviews repeated under new ids, for benchmarks only\n" if tiled else ""),
    )
    words = [iv.participant_words() for iv in interviews]
    return {
        "participants": n_participants,
        "mean_participant_words": float(np.mean(words)),
        "codings": len(codings),
        "reconciliation": len(recon),
        "memos": len(memos),
        "themes": len(themes),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m qda generate --out DIR [--participants N] [--seed S] [--codebook FILE]``."""
    ap = argparse.ArgumentParser(prog="python -m qda generate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder to write (e.g. data)")
    ap.add_argument("--participants", type=int, default=DESIGN_SIZE, help="even number (default 104; others tile)")
    ap.add_argument("--seed", type=int, default=2019, help="random seed of the participants (default 2019)")
    ap.add_argument("--codebook", default=None, help="codebook YAML (default: the package's codebook.yml)")
    a = ap.parse_args(argv)
    facts = generate(a.out, a.participants, a.seed, a.codebook)
    print(", ".join(f"{k}={v:.0f}" if isinstance(v, float) else f"{k}={v}" for k, v in facts.items()))
    return 0
