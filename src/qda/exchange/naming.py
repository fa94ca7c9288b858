"""Names, GUIDs and labelled descriptions shared by REFI-QDA reading and writing."""

from __future__ import annotations

import re
import uuid
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
#: Namespace of the deterministic GUIDs this package writes (uuid5).
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/qda-book/qda/refi")
#: Start of the project description of an export of the synthetic corpus.
SYNTHETIC_MARKER = "SYNTHETIC DATA"
#: Participant variables that describe the institution carry this prefix.
INSTITUTION_PREFIX = "institution_"


def origin() -> str:
    """The ``origin`` attribute written into exports: this package and its version."""
    try:
        return f"qda {version('qda')} (reproducible analysis book)"
    except PackageNotFoundError:  # a source tree that was never installed
        return "qda (reproducible analysis book)"


def make_guid(kind: str, key: str) -> str:
    """Deterministic GUID: ``uuid5(GUID_NAMESPACE, f"{kind}:{key}")`` (RFC 4122 section 4.3), lower case."""
    return str(uuid.uuid5(GUID_NAMESPACE, f"{kind}:{key}"))


def norm_guid(g: str | None) -> str:
    """GUIDs compare case-insensitively and with or without braces (Project.xsd GUIDType)."""
    return (g or "").strip().strip("{}").lower()


def slugify(name: str) -> str:
    """Code slug from a display name: lower case, runs of non-alphanumerics -> ``_``, ``c_`` before a digit.

    The result matches ``qda.codebook``'s slug rule ``^[a-z][a-z0-9_]*$``.
    """
    s = re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")
    if not s:
        return "code"
    return s if s[0].isalpha() else f"c_{s}"


def sanitise_id(name: str) -> str:
    """A file-safe identifier: characters outside ``[A-Za-z0-9_.-]`` -> ``_``; no leading dot."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("._")
    return s[:120] or "source"


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


#: Labels of the structured code Description, in export order -> codebook column.
_DESC_LABELS = {
    "Definition": "definition",
    "Inclusion": "inclusion",
    "Exclusion": "exclusion",
    "Example": "example",
    "Origin": "origin",
    "Introduced in round": "introduced_round",
    "Refined in round": "refined_round",
    "Code ID": "code",
}
_SEL_LABELS = {
    "Coding ID": "coding_id",
    "Round": "round",
    "Codebook version": "codebook_version",
    "Theme coding ID": "theme_coding_id",
}


def _labelled_text(fields: list[tuple[str, str]]) -> str:
    return "\n".join(f"{label}: {value}" for label, value in fields if value != "")


def _parse_labelled(text: str, labels: dict[str, str], default: str | None) -> dict[str, str]:
    """Inverse of :func:`_labelled_text`: ``Label: value`` lines, continuation lines appended.

    A line is a label line when the text before its first colon is one of ``labels``
    (one space or tab after the colon is dropped). Text before the first label (or all of
    it when there is no label) goes to ``default``.
    """
    out: dict[str, str] = {}
    if not text:
        return out
    key = default
    for line in text.split("\n"):
        head, colon, rest = line.partition(":")
        label = labels.get(head) if colon else None
        if label is not None:
            key = label
            out[key] = rest[1:] if rest[:1] in (" ", "\t") else rest
        elif key is not None:
            out[key] = f"{out[key]}\n{line}" if key in out else line
    return {k: v.strip("\n") for k, v in out.items()}


def code_description(row: pd.Series | dict, with_id: bool = False) -> str:
    """The structured ``Description`` of a Code.

    Lines ``Definition:``, ``Inclusion:``, ``Exclusion:``, ``Example:``, ``Origin:``,
    ``Introduced in round:``, ``Refined in round:`` (empty fields left out), and
    ``Code ID: <slug>`` when the slug cannot be derived from the name
    (:func:`slugify`).  REFI-QDA 1.5 has no separate criteria fields (a Code has only
    Description and NoteRef), so this is our convention; tools show it as free text.
    """
    rr = row.get("refined_round")
    ir = row.get("introduced_round")
    fields = [
        ("Definition", str(row.get("definition", "") or "")),
        ("Inclusion", str(row.get("inclusion", "") or "")),
        ("Exclusion", str(row.get("exclusion", "") or "")),
        ("Example", str(row.get("example", "") or "")),
        ("Origin", str(row.get("origin", "") or "")),
        ("Introduced in round", "" if ir is None or pd.isna(ir) or int(ir) == 0 else str(int(ir))),
        ("Refined in round", "" if rr is None or pd.isna(rr) else str(int(rr))),
    ]
    if with_id:
        fields.append(("Code ID", str(row["code"])))
    return _labelled_text(fields)


def parse_code_description(text: str) -> dict[str, str]:
    """Inverse of :func:`code_description`; unlabelled text is the definition."""
    return _parse_labelled(text, _DESC_LABELS, "definition")


class UniqueNames:
    """Names made unique by a ``_2``, ``_3``, ... suffix, in linear time overall.

    The next suffix to try is remembered per base name, so 40,000 items with one name
    take 40,000 steps, not 40,000^2 / 2.
    """

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self._next: dict[str, int] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.taken

    def __call__(self, base: str) -> str:
        if base not in self.taken:
            self.taken.add(base)
            return base
        i = self._next.get(base, 2)
        while f"{base}_{i}" in self.taken:
            i += 1
        self._next[base] = i + 1
        name = f"{base}_{i}"
        self.taken.add(name)
        return name


#: Labels of a theme code's Description (themes exported as codes under one root code).
_THEME_LABELS = {"Theme": "theme", "Theme name": "theme_name", "Subtheme": "subtheme"}
#: Description of the root code under which the theme codes are exported.
THEMES_ROOT = "Theme assignments of the analysis (qda): each coding of a code below is a theme assignment."
#: Name prefix of the Notes that carry coder roles (a REFI-QDA User has no description).
ROLE_NOTE = "Coder role: "


class GuidLog:
    """``guids`` while the tables are built: the same assignments in the same order, those of the
    codings of a source as one block; :meth:`dict` replays them (``dict.update`` per part)."""

    def __init__(self) -> None:
        self.parts: list[Any] = [{}]  # dicts of single assignments, and blocks (cids, cgs, sgs)
        self.blocks = 0

    def __setitem__(self, key: str, value: str) -> None:
        last = self.parts[-1]
        if not isinstance(last, dict):
            last = {}
            self.parts.append(last)
        last[key] = value

    def setdefault(self, key: str, value: str) -> str:
        if self.blocks:
            self.parts = [self.dict()]
            self.blocks = 0
        for part in self.parts:
            if key in part:
                return part[key]
        self[key] = value
        return value

    def add_codings(self, cids: list[str], cgs: list[str], sgs: list[str]) -> None:
        """``["coding:" + cid] = cg`` then ``["selection:" + cid] = sg`` for each row (no selection repeats)."""
        self.parts.append((cids, cgs, sgs))
        self.blocks += 1

    def dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in self.parts:
            if isinstance(part, dict):
                out.update(part)
                continue
            cids, cgs, sgs = part
            keys: list = [None] * (2 * len(cids))
            vals: list = [None] * (2 * len(cids))
            keys[0::2] = ["coding:" + c for c in cids]
            keys[1::2] = ["selection:" + c for c in cids]
            vals[0::2], vals[1::2] = cgs, sgs
            out.update(zip(keys, vals, strict=True))
        return out
