"""The versioned codebook: read ``codebook.yml``, list codes, compare versions.

The YAML layout (see the comment at the top of ``data/codebook.yml``): a ``versions``
list (oldest first, each with ``version`` and ``after_round``) and a ``codes`` list.
Each code states its stable fields once and one block per version in which its text
changed; a later block restates only the fields it rewrites. :func:`read_codebook`
expands this history into one tidy row per (version, code) with the columns of
``SCHEMAS["codebook"]``.

The codebook practice follows MacQueen et al. (1998), "Codebook development for
team-based qualitative analysis", Cultural Anthropology Methods 10(2): 31-36
(definition, inclusion and exclusion criteria, example), and the study's own
description of rounds of refinement (Murphy et al. 2022).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd

from qda.errors import DataError
from qda.io import read_yaml
from qda.study.schema import SCHEMAS, coerce

#: The text fields a version block may set.
TEXT_FIELDS = ("definition", "inclusion", "exclusion", "example")
#: The fields every code states once.
STABLE_FIELDS = ("code", "name", "parent", "code_group", "origin", "introduced_round", "color")
#: Fields compared by :func:`compare_versions`, in this order.
COMPARED_FIELDS = ("name", "parent", "code_group", "origin", "color", *TEXT_FIELDS)

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def _clean(value) -> str:
    """A YAML scalar as one tidy line of text (folded blocks end in no newline)."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def read_codebook(path: str | Path) -> pd.DataFrame:
    """Read a versioned codebook YAML into one row per (version, code).

    Rule: a code exists from the first version whose ``after_round`` is at least its
    ``introduced_round`` until (excluding) the version named in ``retired_in``. Its text
    in version V is the text of its introducing block overridden, field by field, by
    every later block up to V. ``refined_round`` is the ``after_round`` of the latest
    block up to V that rewrote a field, or missing (``<NA>``) if none did.

    Returns
    -------
    DataFrame
        Columns of ``SCHEMAS["codebook"]``, versions in file order, codes in file order.

    Raises
    ------
    DataError
        Naming the file and the code: unreadable YAML, a missing or unknown field, an
        unknown version, a bad colour, a parent that does not exist in that version.
    """
    path = Path(path)
    raw = read_yaml(path, "write the codebook (see data/codebook.yml)")
    if not isinstance(raw, dict) or not isinstance(raw.get("versions"), list) or not isinstance(raw.get("codes"), list):
        raise DataError(
            path,
            "top level",
            "needs a `versions` list and a `codes` list",
            "follow the layout described at the top of data/codebook.yml",
        )

    versions: list[str] = []
    rounds: dict[str, int] = {}
    for i, v in enumerate(raw["versions"]):
        if not isinstance(v, dict) or "version" not in v or "after_round" not in v:
            raise DataError(
                path,
                f"versions entry {i + 1}",
                "needs `version` and `after_round`",
                "write e.g. `- version: v1` and `after_round: 1`",
            )
        name = str(v["version"])
        if name in rounds:
            raise DataError(path, f"version {name!r}", "is listed twice", "give each version once")
        try:
            rounds[name] = int(v["after_round"])
        except (TypeError, ValueError):
            raise DataError(
                path,
                f"version {name!r}",
                f"after_round {v['after_round']!r} is not a whole number",
                "write the round number after which this version was adopted",
            ) from None
        versions.append(name)

    rows: list[dict] = []
    seen: set[str] = set()
    for i, c in enumerate(raw["codes"]):
        if not isinstance(c, dict) or "code" not in c:
            raise DataError(path, f"codes entry {i + 1}", "has no `code` slug", "start each code with `- code: slug`")
        code = str(c["code"])
        where = f"code {code!r}"
        if not _SLUG.match(code):
            raise DataError(path, where, "is not a slug (lower-case letters, digits, _)", "rename the code")
        if code in seen:
            raise DataError(path, where, "is defined twice", "merge the two entries")
        seen.add(code)
        allowed = set(STABLE_FIELDS) | set(versions) | {"retired_in"}
        unknown = sorted(set(c) - allowed)
        if unknown:
            raise DataError(
                path,
                where,
                f"has unknown key(s) {', '.join(map(str, unknown))}",
                f"use only {', '.join(sorted(allowed))}",
            )
        missing = [f for f in STABLE_FIELDS if f not in c]
        if missing:
            raise DataError(path, where, f"lacks {', '.join(missing)}", "add the missing field(s)")
        color = str(c["color"])
        if not _COLOR.match(color):
            raise DataError(path, where, f"color {color!r} is not #RRGGBB", 'write a hex colour such as "#0072B2"')
        origin = str(c["origin"])
        if origin not in {"deductive", "inductive"}:
            raise DataError(
                path, where, f"origin {origin!r} is neither deductive nor inductive", "write one of the two"
            )
        try:
            introduced = int(c["introduced_round"])
        except (TypeError, ValueError):
            raise DataError(
                path,
                where,
                f"introduced_round {c['introduced_round']!r} is not a whole number",
                "write the round in which the code was introduced",
            ) from None
        retired = c.get("retired_in")
        if retired is not None and str(retired) not in rounds:
            raise DataError(
                path, where, f"retired_in {retired!r} is not a listed version", f"use one of {', '.join(versions)}"
            )
        first = next((v for v in versions if rounds[v] >= introduced), None)
        if first is None or first not in c:
            raise DataError(
                path,
                where,
                f"has no `{first or versions[-1]}` block for the round it was introduced in",
                "state definition, inclusion, exclusion and example in that block",
            )
        text: dict[str, str] = {}
        refined = pd.NA
        for v in versions:
            block = c.get(v)
            if rounds[v] < rounds[first]:
                if block is not None:
                    raise DataError(
                        path,
                        f"{where}, version {v}",
                        "has a block before the code was introduced",
                        "move the text to the introducing version or lower introduced_round",
                    )
                continue
            if block is None:
                block = {}
            if not isinstance(block, dict):
                raise DataError(
                    path,
                    f"{where}, version {v}",
                    "is not a mapping of fields",
                    "write `definition: ...` etc. under the version",
                )
            bad = sorted(set(block) - set(TEXT_FIELDS))
            if bad:
                raise DataError(
                    path,
                    f"{where}, version {v}",
                    f"sets unknown field(s) {', '.join(map(str, bad))}",
                    f"a version block may set only {', '.join(TEXT_FIELDS)}",
                )
            if v == first:
                lacking = [f for f in TEXT_FIELDS if not _clean(block.get(f))]
                if lacking:
                    raise DataError(
                        path,
                        f"{where}, version {v}",
                        f"lacks {', '.join(lacking)}",
                        "the introducing block must state all four text fields",
                    )
            elif any(_clean(block.get(f)) != text.get(f) for f in block):
                refined = rounds[v]
            text.update({f: _clean(block[f]) for f in block})
            if retired is not None and rounds[v] >= rounds[str(retired)]:
                break
            rows.append(
                {
                    "version": v,
                    "code": code,
                    "name": _clean(c["name"]),
                    "parent": _clean(c["parent"]),
                    "code_group": _clean(c["code_group"]),
                    **{f: text[f] for f in TEXT_FIELDS},
                    "origin": origin,
                    "introduced_round": introduced,
                    "refined_round": refined,
                    "color": color.upper(),
                }
            )

    frame = pd.DataFrame(rows, columns=list(SCHEMAS["codebook"]))
    # parents must exist in the same version
    for v, part in frame.groupby("version", sort=False):
        known = set(part["code"])
        for code, parent in zip(part["code"], part["parent"], strict=False):
            if parent and parent not in known:
                raise DataError(
                    path,
                    f"code {code!r}, version {v}",
                    f"parent {parent!r} is not a code of {v}",
                    "define the parent code or correct the slug",
                )
    frame["refined_round"] = frame["refined_round"].astype("Int64")
    out = coerce(frame.astype({"refined_round": object}).fillna({"refined_round": ""}), "codebook", path)
    out["version"] = pd.Categorical(out["version"].astype(str), categories=versions, ordered=True)
    out = out.sort_values("version", kind="stable").reset_index(drop=True)
    out.attrs["versions"] = versions
    out.attrs["rounds"] = rounds
    return out


def versions_of(codebook: pd.DataFrame) -> list[str]:
    """The codebook's versions, oldest first (file order)."""
    if "versions" in codebook.attrs:
        return list(codebook.attrs["versions"])
    return list(dict.fromkeys(codebook["version"].astype(str)))


def codes_in_version(codebook: pd.DataFrame, version: str) -> list[str]:
    """The code slugs of ``version``, in codebook order.

    Raises ``KeyError`` naming the known versions when ``version`` is not one of them.
    """
    known = versions_of(codebook)
    if version not in known:
        raise KeyError(f"no codebook version {version!r}; known: {', '.join(known)}")
    return codebook.loc[codebook["version"].astype(str) == version, "code"].tolist()


def children(codebook: pd.DataFrame, code: str, version: str | None = None) -> list[str]:
    """The codes whose ``parent`` is ``code`` in ``version`` (default: the latest version)."""
    version = version or versions_of(codebook)[-1]
    part = codebook.loc[codebook["version"].astype(str) == version]
    return part.loc[part["parent"] == code, "code"].tolist()


def compare_versions(codebook: pd.DataFrame, before: str, after: str) -> pd.DataFrame:
    """What changed in the codebook from version ``before`` to version ``after``.

    Rule: a code only in ``after`` is *added* (one row, field ``code``, ``after`` = its
    name); a code only in ``before`` is *removed* (one row, ``before`` = its name); a
    code in both gets one *refined* row per field of :data:`COMPARED_FIELDS` whose text
    differs. Codes in the order of ``after``, then the removed ones.

    Returns
    -------
    DataFrame
        Columns ``code``, ``field``, ``before``, ``after``, ``change``
        (``added`` | ``removed`` | ``refined``).
    """
    a_codes = codes_in_version(codebook, before)
    b_codes = codes_in_version(codebook, after)
    cb = codebook.assign(version=codebook["version"].astype(str))
    a = cb.loc[cb["version"] == before].set_index("code")
    b = cb.loc[cb["version"] == after].set_index("code")
    rows = []
    for code in b_codes:
        if code not in a.index:
            rows.append((code, "code", "", b.at[code, "name"], "added"))
            continue
        for f in COMPARED_FIELDS:
            x, y = str(a.at[code, f]), str(b.at[code, f])
            if x != y:
                rows.append((code, f, x, y, "refined"))
    for code in a_codes:
        if code not in b.index:
            rows.append((code, "code", a.at[code, "name"], "", "removed"))
    return pd.DataFrame(rows, columns=["code", "field", "before", "after", "change"])


def coding_rounds(codings: pd.DataFrame) -> pd.DataFrame:
    """One row per coding round: what was coded, by whom, with which codebook version.

    Rule: group ``codings`` by ``round`` (in the order 1, 2, 3, full, then any other) and
    report ``transcripts`` (first-last transcript id), ``n_transcripts``, ``coders``
    (";"-joined, sorted), ``n_coders``, ``codebook_version`` (";"-joined if several),
    ``n_codings`` and ``n_codes`` (distinct codes applied). The design is the study's
    (Murphy et al. 2022, Method): open coding of 10 transcripts, two rounds of 10 coded
    independently, then the full round.
    """
    need = ["round", "transcript_id", "coder", "code", "codebook_version"]
    missing = [c for c in need if c not in codings.columns]
    if missing:
        raise DataError(
            None,
            "codings",
            f"missing column(s) {', '.join(missing)}",
            "pass the codings table of qda.SCHEMAS['codings']",
        )
    c = codings.assign(round=codings["round"].astype(str))
    order = {r: k for k, r in enumerate(["1", "2", "3", "full"])}
    rows = []
    for rnd, part in sorted(c.groupby("round", sort=False), key=lambda kv: (order.get(kv[0], 99), kv[0])):
        tids = sorted(part["transcript_id"].astype(str).unique())
        coders = sorted(part["coder"].astype(str).unique())
        rows.append(
            {
                "round": rnd,
                "transcripts": f"{tids[0]}-{tids[-1]}",
                "n_transcripts": len(tids),
                "coders": ";".join(coders),
                "n_coders": len(coders),
                "codebook_version": ";".join(dict.fromkeys(part["codebook_version"].astype(str))),
                "n_codings": len(part),
                "n_codes": part["code"].astype(str).nunique(),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# The code tree of the latest version: paths, descendants, finding a code by name
# ---------------------------------------------------------------------------
def code_tree(codebook: pd.DataFrame) -> pd.DataFrame:
    """The latest version's codes as a tree, in depth-first codebook order.

    Columns ``code`` (slug), ``name``, ``parent``, ``path`` (names from the root, joined by
    "/", the form a user writes when two codes share a name), ``depth`` (0 for a root) and
    ``shared_name`` (another code has the same name, so the path is needed). A parent
    that is not a code of the version makes its child a root; a cycle is broken where
    it closes.
    """
    cols = ["code", "name", "parent", "path", "depth", "shared_name"]
    if codebook.empty:
        return pd.DataFrame(columns=cols)
    last = versions_of(codebook)[-1]
    cb = codebook.loc[codebook["version"].astype(str) == last].drop_duplicates("code")
    codes = cb["code"].astype(str).tolist()
    name = dict(zip(codes, cb["name"].astype(str), strict=True))
    parent = {c: (p if p in name and p != c else "") for c, p in zip(codes, cb["parent"].astype(str), strict=True)}
    kids: dict[str, list[str]] = {}
    for c in codes:
        kids.setdefault(parent[c], []).append(c)
    rows: list[tuple] = []
    seen: set[str] = set()

    def walk(code: str, path: str, depth: int) -> None:
        stack = [(code, path, depth)]
        while stack:
            c, p, d = stack.pop()
            if c in seen:
                continue
            seen.add(c)
            full = f"{p}/{name[c]}" if p else name[c]
            rows.append((c, name[c], parent[c], full, d))
            stack.extend((k, full, d + 1) for k in reversed(kids.get(c, [])))

    for root in kids.get("", []):
        walk(root, "", 0)
    for c in codes:  # codes on a cycle (no root above them)
        if c not in seen:
            walk(c, "", 0)
    out = pd.DataFrame(rows, columns=cols[:-1])
    counts = out["name"].str.strip().str.lower().value_counts()
    out["shared_name"] = out["name"].str.strip().str.lower().map(counts).gt(1)
    return out


def descendants(codebook: pd.DataFrame, code: str) -> list[str]:
    """``code`` and every code below it in the latest version (a code stands for its subtree)."""
    tree = code_tree(codebook)
    below: dict[str, list[str]] = {}
    for c, p in zip(tree["code"], tree["parent"], strict=True):
        below.setdefault(p, []).append(c)
    out, todo = [], [code]
    while todo:
        c = todo.pop(0)
        if c in out:
            continue
        out.append(c)
        todo.extend(below.get(c, []))
    return out


def find_code(codebook: pd.DataFrame, target: str) -> tuple[str | None, str]:
    """The slug a user means by ``target``: a slug, a name path ``"Parent/Child"`` or a unique name.

    Returns ``(slug, "")``, or ``(None, reason)`` where the reason is ready for a one-line
    message: ``no code 'X' in the project; codes with 'x': a, b`` or ``'X' names 2 codes
    (a/X, b/X)``. Names and paths compare case-insensitively, ignoring surrounding spaces.
    """
    tree = code_tree(codebook)
    t = str(target).strip()
    if t in set(tree["code"]):
        return t, ""
    by_path = dict(zip(tree["path"].str.lower(), tree["code"], strict=True))
    if t.lower() in by_path:
        return by_path[t.lower()], ""
    named = tree.loc[tree["name"].str.strip().str.lower() == t.lower()]
    if len(named) == 1:
        return str(named["code"].iloc[0]), ""
    if len(named) > 1:
        paths = ", ".join(named["path"].head(4))
        return None, f"{t!r} names {len(named)} codes ({paths}); write the code's path, e.g. {named['path'].iloc[0]!r}"
    return None, f"no code {t!r} in the project; {similar_codes(tree, t)}"


def similar_codes(tree: pd.DataFrame, target: str, n: int = 6) -> str:
    """``codes with 'word': a, b``: names sharing a word with ``target`` (either inside the other), else close names."""
    names = list(dict.fromkeys(tree["name"].astype(str)))
    words = [w for w in re.split(r"[^0-9a-z]+", str(target).lower()) if len(w) >= 3]
    label, hits = "", []
    for w in words:
        found = [
            x
            for x in names
            if w in x.lower() or any(len(p) >= 4 and p in w for p in re.split(r"[^0-9a-z]+", x.lower()))
        ]
        if found and not label:
            label = w
        hits.extend(found)
    if hits:
        return f"codes with {label!r}: {', '.join(sorted(dict.fromkeys(hits))[:n])}"
    close = difflib.get_close_matches(str(target), names, n=n, cutoff=0.5)
    if close:
        return f"close names: {', '.join(close)}"
    return f"the project's codes include {', '.join(names[:n])}"
