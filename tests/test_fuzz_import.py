"""Fuzz test of the REFI-QDA importer (slow; excluded from `make test`).

Run: ``.venv/bin/python -m pytest tests/test_fuzz_import.py -m slow -s`` (``QDA_FUZZ_SECONDS``
sets the budget, default 60 s). Hypothesis draws inputs from five families:

1. mutated bytes of the published REFI-QDA files in ``shared/fixtures/refi`` (flip,
   insert, delete, truncate, duplicate a chunk);
2. a ``.qdpx`` whose members are kept but one member's bytes are mutated, re-zipped;
3. structural mutations of a fixture's ``project.qde`` XML tree (delete, duplicate or
   move elements; set attributes to hostile values: negative, huge, non-numeric,
   unknown GUIDs), as a ``.qde`` or inside its ``.qdpx``;
4. random XML trees built from REFI-QDA element and attribute names;
5. random zips (member names such as ``../x``, absolute paths, duplicates; random or
   seed contents).

The only allowed exceptions are subclasses of :class:`qda.errors.QDAError`; an input
that raises anything else, runs longer than 20 s, or writes a file is saved to
``tests/bad_inputs/generated/fuzz/`` (git-ignored) and reported. The number of inputs
tried and the outcome counts are printed.
"""

from __future__ import annotations

import collections
import io
import os
import random
import signal
import time
import traceback
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SHARED
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from qda.errors import QDAError

FUZZ_SECONDS = float(os.environ.get("QDA_FUZZ_SECONDS", "60"))
PER_INPUT_SECONDS = 20
CRASH_DIR = ROOT / "tests" / "bad_inputs" / "generated" / "fuzz"
NS = "urn:QDA-XML:project:1.0"

TAGS = [
    "Project",
    "Users",
    "User",
    "CodeBook",
    "Codes",
    "Code",
    "Sets",
    "Set",
    "MemberCode",
    "Cases",
    "Case",
    "SourceRef",
    "Variables",
    "Variable",
    "VariableValue",
    "VariableRef",
    "TextValue",
    "IntegerValue",
    "BooleanValue",
    "Sources",
    "TextSource",
    "PlainTextContent",
    "PlainTextSelection",
    "Coding",
    "CodeRef",
    "Notes",
    "Note",
    "NoteRef",
    "Description",
    "Links",
    "Link",
    "Graphs",
]
ATTRS = [
    "guid",
    "name",
    "startPosition",
    "endPosition",
    "plainTextPath",
    "richTextPath",
    "targetGUID",
    "creatingUser",
    "creationDateTime",
    "modifyingUser",
    "isCodable",
    "color",
    "typeOfVariable",
    "id",
    "origin",
    "basePath",
    "sourceGUID",
    "direction",
    "originGUID",
]
HOSTILE_VALUES = [
    "",
    "-1",
    "0",
    "1",
    "99999999999999999999",
    "1e3",
    "abc",
    "NaN",
    "12.5",
    " 3 ",
    "00000000-0000-0000-0000-000000000000",
    "internal://missing.txt",
    "relative://../../etc/passwd",
    "file:///etc/passwd",
    "x" * 5000,
    "\u202e\u0000",
    "#GGGGGG",
    "2019-02-30T25:61:00Z",
    "Text",
    "Integer",
    "Boolean",
    "true",
    "maybe",
]


#: values lxml accepts as attribute values (no NUL or control characters)
_SETTABLE = [v for v in HOSTILE_VALUES if "\x00" not in v]


def _seeds() -> list[tuple[str, bytes]]:
    folder = SHARED / "fixtures" / "refi"
    if not folder.is_dir():
        return []
    return [
        (p.suffix.lower(), p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in {".qdpx", ".qde", ".qdc"}
    ]


def _zip(members: list[tuple[str, bytes]], deflate: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name or "unnamed")
            info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            z.writestr(info, data)
    return buf.getvalue()


def _unzip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def _mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for op, pos, chunk in ops:
        n = len(buf)
        i = pos % (n + 1)
        if op == "flip" and n:
            buf[i % n] ^= (chunk[0] if chunk else 0xFF) or 1
        elif op == "insert":
            buf[i:i] = chunk
        elif op == "delete":
            del buf[i : i + 1 + len(chunk) * 8]
        elif op == "truncate":
            del buf[i:]
        elif op == "duplicate" and n:
            j = min(n, i + 1 + len(chunk) * 16)
            buf[j:j] = buf[i:j]
    return bytes(buf)


_mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]),
        st.integers(0, 2**22),
        st.binary(max_size=12),
    ),
    min_size=1,
    max_size=8,
)


def _tree_mutate(xml: bytes, rnd: random.Random, n_ops: int) -> bytes:
    """Structural mutations of a trusted seed tree (lxml, no entities: the seeds are ours)."""
    from lxml import etree

    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
    for _ in range(n_ops):
        nodes = [e for e in root.iter() if isinstance(e.tag, str)]
        el = rnd.choice(nodes)
        op = rnd.randrange(6)
        if op == 0 and el is not root and el.getparent() is not None:
            el.getparent().remove(el)
        elif op == 1 and el is not root and el.getparent() is not None:
            el.getparent().append(etree.fromstring(etree.tostring(el)))
        elif op == 2:
            el.set(rnd.choice(list(el.attrib) or ATTRS), rnd.choice(_SETTABLE))
        elif op == 3 and el.attrib:
            del el.attrib[rnd.choice(list(el.attrib))]
        elif op == 4:
            other = rnd.choice(nodes)
            if other.get("guid") and el.get("guid") is not None:
                el.set("guid", other.get("guid"))
            elif other.get("guid"):
                el.set(rnd.choice(["targetGUID", "creatingUser", "sourceGUID"]), other.get("guid"))
        elif op == 5:
            child = etree.SubElement(el, f"{{{NS}}}{rnd.choice(TAGS)}")
            for a in rnd.sample(ATTRS, rnd.randrange(3)):
                child.set(a, rnd.choice(_SETTABLE))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


@st.composite
def _random_xml(draw) -> bytes:
    def element(depth: int) -> str:
        tag = draw(st.sampled_from(TAGS))
        attrs = "".join(
            f' {a}="{v}"'
            for a, v in draw(
                st.dictionaries(st.sampled_from(ATTRS), st.sampled_from(HOSTILE_VALUES[:-6]), max_size=4)
            ).items()
        )
        kids = "" if depth > 4 else "".join(element(depth + 1) for _ in range(draw(st.integers(0, 3))))
        text = draw(st.sampled_from(["", "text", "&amp;", "<![CDATA[x]]>", "\u00e9"]))
        return f"<{tag}{attrs}>{text}{kids}</{tag}>"

    prolog = draw(
        st.sampled_from(
            [
                "",
                '<!DOCTYPE Project [<!ENTITY e "lol">]>',
                '<!DOCTYPE Project SYSTEM "http://127.0.0.1:9/x.dtd">',
                '<!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
            ]
        )
    )
    body = element(0)
    if not body.startswith("<Project"):
        body = f"<Project>{body}</Project>"
    body = body.replace("<Project", f'<Project xmlns="{NS}"', 1)
    return f'<?xml version="1.0" encoding="utf-8"?>{prolog}{body}'.encode()


_NAMES = [
    "project.qde",
    "sources/a.txt",
    "sources/b.txt",
    "../x",
    "/abs/project.qde",
    "sources/../../y",
    "sources/",
    "C:\\x.txt",
    "sources/\u00e9.txt",
    "a" * 300,
    "project.qde",
]


def _cases(seeds: list[tuple[str, bytes]]):
    qdpx = [d for s, d in seeds if s == ".qdpx"]
    qde_xml = [d for s, d in seeds if s in {".qde", ".qdc"}] + [dict(_unzip(d)).get("project.qde", b"") for d in qdpx]
    qde_xml = [x for x in qde_xml if x]

    # draw indices, not the seeds themselves (hypothesis would build megabyte-long reprs)
    def pick(items):
        return st.integers(0, len(items) - 1).map(lambda i: items[i])

    raw = st.tuples(pick(seeds), _mutations).map(lambda t: ("mutated bytes", t[0][0], _mutate(t[0][1], t[1])))

    def member_mutation(t):
        data, k, ops, deflate = t
        members = _unzip(data)
        name, content = members[k % len(members)]
        members[k % len(members)] = (name, _mutate(content, ops))
        return ("mutated member", ".qdpx", _zip(members, deflate))

    member = st.tuples(pick(qdpx), st.integers(0, 50), _mutations, st.booleans()).map(member_mutation)

    def tree(t):
        xml, seed, n, as_qdpx = t
        out = _tree_mutate(xml, random.Random(seed), n)
        if as_qdpx:
            return ("mutated tree", ".qdpx", _zip([("project.qde", out), ("sources/a.txt", b"Hello there.\n")]))
        return ("mutated tree", ".qde", out)

    trees = st.tuples(pick(qde_xml), st.integers(0, 2**32), st.integers(1, 12), st.booleans()).map(tree)

    rand_xml = st.tuples(_random_xml(), st.sampled_from([".qde", ".qdc", ".qdpx"])).map(
        lambda t: ("random xml", t[1], t[0] if t[1] != ".qdpx" else _zip([("project.qde", t[0])]))
    )

    content = st.one_of(
        st.binary(max_size=200),
        pick(qde_xml),
        _random_xml(),
        st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    )
    rand_zip = st.tuples(st.lists(st.tuples(st.sampled_from(_NAMES), content), max_size=5), st.booleans()).map(
        lambda t: ("random zip", ".qdpx", _zip(t[0], t[1]))
    )
    return st.one_of(raw, member, trees, rand_xml, rand_zip)


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


@pytest.mark.slow
def test_fuzz_import_project(tmp_path):
    import qda.refi as refi

    seeds = _seeds()
    if not seeds:
        pytest.skip("no REFI-QDA fixtures in ../shared/fixtures/refi")
    work = tmp_path / "work"
    work.mkdir()
    stats: collections.Counter = collections.Counter()
    outcomes: collections.Counter = collections.Counter()
    crashes: dict[tuple, tuple[str, str, Path]] = {}
    slowest = [0.0, ""]

    def check(case) -> None:
        family, suffix, data = case
        stats[family] += 1
        path = work / f"input{suffix}"
        path.write_bytes(data)
        problem = None
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(PER_INPUT_SECONDS)
        t0 = time.perf_counter()
        try:
            refi.import_project(path)
            outcomes["imported"] += 1
        except QDAError as e:
            outcomes[type(e).__name__] += 1
            if "\n" in str(e):
                outcomes["multi-line message"] += 1
            if e.where == "structure":
                outcomes["generic 'structure' catch-all"] += 1
        except _Hang:
            problem = ("hang", f"no result after {PER_INPUT_SECONDS} s")
        except Exception as e:  # noqa: BLE001 - this is what the fuzz looks for
            tb = traceback.extract_tb(e.__traceback__)[-1]
            problem = (f"{type(e).__name__} at {Path(tb.filename).name}:{tb.lineno}", f"{type(e).__name__}: {e}"[:300])
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        dt = time.perf_counter() - t0
        if dt > slowest[0]:
            slowest[:] = [dt, family]
        path.unlink()
        written = sorted(p.name for p in work.iterdir())
        if written:  # the importer must not write anything next to its input
            problem = problem or ("wrote files", ", ".join(written))
            for p in work.iterdir():
                if p.is_file():
                    p.unlink()
        if problem and problem[0] not in crashes:
            CRASH_DIR.mkdir(parents=True, exist_ok=True)
            saved = CRASH_DIR / f"crash-{len(crashes) + 1:02d}{suffix}"
            saved.write_bytes(data)
            crashes[problem[0]] = (family, problem[1], saved)
        if problem:
            outcomes["crash"] += 1

    strategy = _cases(seeds)

    @settings(
        max_examples=150, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def one_round(case):
        check(case)

    t_start = time.perf_counter()
    rounds = 0
    while time.perf_counter() - t_start < FUZZ_SECONDS:
        one_round()
        rounds += 1
    elapsed = time.perf_counter() - t_start
    total = sum(stats.values())
    print(f"\nfuzz of qda.refi.import_project: {total} inputs in {elapsed:.0f} s ({rounds} hypothesis runs)")
    print("  by family:", dict(stats))
    print("  outcomes:", dict(outcomes))
    print(f"  slowest input: {slowest[0]:.2f} s ({slowest[1]})")
    for key, (family, msg, saved) in crashes.items():
        print(f"  CRASH {key} [{family}]: {msg} -> {saved}")
    assert elapsed >= min(FUZZ_SECONDS, 60) and total > 0
    assert not crashes, "\n".join(f"{k} [{f}]: {m} (input saved as {s})" for k, (f, m, s) in crashes.items())


# ---------------------------------------------------------------------------
# Crashes the fuzz found, as small deterministic cases (run by `make test`).
# Both are fixed in qda.refi; these keep them fixed.
# ---------------------------------------------------------------------------


def _import_raises_only_qda_errors(path: Path) -> None:
    import qda.refi as refi

    try:
        refi.import_project(path)
    except QDAError as e:
        assert "\n" not in str(e) and str(e).startswith(str(path))


def test_xml_declaring_an_unknown_encoding(tmp_path):
    """Found by the fuzz: LookupError from the XML parser (refi.parse_xml)."""
    path = tmp_path / "codebook.qdc"
    path.write_bytes(
        b'<?xml version="1.0" encoding="utpf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>'
    )
    _import_raises_only_qda_errors(path)


def test_qdpx_member_with_a_corrupt_deflate_stream(tmp_path):
    """Found by the fuzz: zlib.error while reading a zip member (refi._Package._read)."""
    import zlib

    head = b'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x">'
    xml = head + b"<Description>" + b"a mentoring project " * 200 + b"</Description></Project>"
    good = _zip([("project.qde", xml)])
    start = 30 + len("project.qde")  # first byte of the deflate stream in the local entry
    for k in range(start, start + 40):  # the first single-byte change that makes the stream invalid
        bad = bytearray(good)
        bad[k] ^= 0xFF
        try:
            zlib.decompress(bytes(bad[start:]), -15)
        except zlib.error:
            break
    else:  # pragma: no cover
        pytest.fail("could not build a corrupt deflate stream")
    path = tmp_path / "corrupt.qdpx"
    path.write_bytes(bytes(bad))
    _import_raises_only_qda_errors(path)
