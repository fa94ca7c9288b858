"""Write the hostile and broken REFI-QDA inputs used by tests/test_refi_hostile.py.

``python tests/bad_inputs/make_bad_inputs.py`` rewrites the small committed samples
in ``tests/bad_inputs/`` and the large ones (zip bombs, many entries) in
``tests/bad_inputs/generated/`` (git-ignored).  Every file is built from code here,
so the samples are reproducible and reviewable.

XXE samples point at ``XXE_TARGET`` (``tests/bad_inputs/secret.txt``, a file whose
content must never appear in any output).
"""

from __future__ import annotations

import struct
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATED = HERE / "generated"
SECRET = "TOP-SECRET-LOCAL-FILE-CONTENT-7f3a"

G = {  # fixed GUIDs
    "user": "1c2d3e4f-3333-4a2b-8c3d-0123456789ab",
    "code": "0b1c2d3e-2222-4a2b-8c3d-0123456789ab",
    "src": "9f2c1e7a-1111-4a2b-8c3d-0123456789ab",
    "sel": "aaaaaaaa-5555-4a2b-8c3d-0123456789ab",
    "coding": "bbbbbbbb-6666-4a2b-8c3d-0123456789ab",
}
TEXT = "I: Who helped you?\nR: A senior colleague read my grant.\n"


def project(
    selections: str | None = None,
    *,
    source_guid: str | None = None,
    extra: str = "",
    code_ref: str | None = None,
    prolog: str = "",
) -> str:
    """A small valid project.qde, with parts replaceable to make it broken."""
    if selections is None:
        selections = sel(21, 53, code_ref=code_ref)
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{prolog}'
        f'<Project xmlns="urn:QDA-XML:project:1.0" name="bad" origin="make_bad_inputs">'
        f'<Users><User guid="{G["user"]}" name="ana"/></Users>'
        f'<CodeBook><Codes><Code guid="{G["code"]}" name="Mentoring" isCodable="true"/>{extra}</Codes></CodeBook>'
        f'<Sources><TextSource guid="{source_guid or G["src"]}" name="interview" '
        f'plainTextPath="internal://{G["src"]}.txt">{selections}</TextSource></Sources></Project>'
    )


def sel(start: int, end: int, *, guid: str = G["sel"], code_ref: str | None = None, coding: str = G["coding"]) -> str:
    return (
        f'<PlainTextSelection guid="{guid}" startPosition="{start}" endPosition="{end}">'
        f'<Coding guid="{coding}" creatingUser="{G["user"]}"><CodeRef targetGUID="{code_ref or G["code"]}"/>'
        f"</Coding></PlainTextSelection>"
    )


def qdpx(path: Path, members: dict[str, bytes | str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def src_member(text: bytes | str = TEXT) -> dict[str, bytes | str]:
    return {f"sources/{G['src']}.txt": text}


def write_small(folder: Path = HERE) -> list[Path]:
    """The small committed samples (each a few hundred bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "secret.txt").write_text(SECRET + "\n")
    secret_uri = "secret.txt"  # relative: a naive parser would resolve it beside the sample
    out: dict[str, bytes | str | dict] = {
        "malformed.qdpx": {"project.qde": project()[:-20], **src_member()},
        "xxe.qde": project(prolog=f'<!DOCTYPE Project [<!ENTITY xxe SYSTEM "{secret_uri}">]>').replace(
            'name="Mentoring"', 'name="&xxe;"'
        ),
        "xxe_parameter.qdpx": {
            "project.qde": project(prolog=f'<!DOCTYPE Project [<!ENTITY % p SYSTEM "{secret_uri}"> %p;]>'),
            **src_member(),
        },
        "billion_laughs.qde": project(
            prolog='<!DOCTYPE Project [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
            '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
            '<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">'
            '<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>'
        ).replace('name="Mentoring"', 'name="&i;"'),
        "zip_slip_dotdot.qdpx": {"project.qde": project(), **src_member(), "../evil.txt": "x"},
        "zip_slip_absolute.qdpx": {"project.qde": project(), **src_member(), "/tmp/evil.txt": "x"},
        "no_qde.qdpx": {**src_member(), "readme.txt": "no project here"},
        "selection_out_of_range.qdpx": {"project.qde": project(sel(21, 5000)), **src_member()},
        "selection_end_before_start.qdpx": {"project.qde": project(sel(40, 21)), **src_member()},
        "selection_missing_source.qdpx": {"project.qde": project()},
        "unknown_guid.qdpx": {"project.qde": project(code_ref="deadbeef-0000-4a2b-8c3d-0123456789ab"), **src_member()},
        "duplicate_guid.qdpx": {
            "project.qde": project(extra=f'<Code guid="{G["code"].upper()}" name="Twin" isCodable="true"/>'),
            **src_member(),
        },
        "not_utf8_source.qdpx": {
            "project.qde": project(),
            **src_member("R: caf\xe9 in Latin-1\n".encode("latin-1") * 3),
        },
        "not_utf8_xml.qde": project().replace("Mentoring", "Mentor\udcffing").encode("utf-8", "surrogateescape"),
        "empty.qdpx": b"",
        "empty.qde": b"",
        "empty_member.qdpx": {"project.qde": "", **src_member()},
        "not_a_zip.qdpx": b"PK\x03\x04 this is not really a zip archive",
        "bom_crlf_ok.qdpx": {
            "project.qde": project(sel(23, 56)),
            **src_member(("\ufeff" + TEXT.replace("\n", "\r\n")).encode("utf-8")),
        },
    }
    written = []
    for name, data in out.items():
        p = folder / name
        if isinstance(data, dict):
            qdpx(p, data)
        else:
            p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        written.append(p)
    return written


def deep_xml(depth: int) -> str:
    return project().replace("</Codes>", "<x>" * depth + "</x>" * depth + "</Codes>")


def _patch_sizes(path: Path, member: str, declared: int) -> None:
    """Rewrite the declared uncompressed size of ``member`` (local header and central directory)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    i = data.find(b"PK\x03\x04")
    while i != -1:
        n, m = struct.unpack_from("<HH", data, i + 26)
        if data[i + 30 : i + 30 + n] == name:
            struct.pack_into("<I", data, i + 22, declared)
        i = data.find(b"PK\x03\x04", i + 4)
    i = data.find(b"PK\x01\x02")
    while i != -1:
        n = struct.unpack_from("<H", data, i + 28)[0]
        if data[i + 46 : i + 46 + n] == name:
            struct.pack_into("<I", data, i + 24, declared)
        i = data.find(b"PK\x01\x02", i + 4)
    path.write_bytes(bytes(data))


def write_large(folder: Path = GENERATED) -> list[Path]:
    """Zip bombs and the like: generated on demand, never committed."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    zeros = b"\0" * (1 << 20)

    def bomb(path: Path, mib: int) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr("project.qde", project())
            with zf.open(f"sources/{G['src']}.txt", "w", force_zip64=True) as f:
                for _ in range(mib):
                    f.write(zeros)

    p = folder / "zip_bomb_total.qdpx"  # 600 MiB of zeros: above the 512 MiB total limit
    if not p.exists():
        bomb(p, 600)
    written.append(p)
    p = folder / "zip_bomb_ratio.qdpx"  # 64 MiB of zeros: ratio ~1000 : 1
    if not p.exists():
        bomb(p, 64)
    written.append(p)
    p = folder / "zip_bomb_lying_header.qdpx"  # declares 100 bytes, holds 8 MiB
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", project())
        zf.writestr(f"sources/{G['src']}.txt", b"A" * (8 << 20))
    _patch_sizes(p, f"sources/{G['src']}.txt", 100)
    written.append(p)
    p = folder / "many_entries.qdpx"  # 10 001 members: above the entry limit
    if not p.exists():
        qdpx(p, {"project.qde": project(), **src_member(), **{f"sources/pad{i}.txt": "" for i in range(10_000)}})
    written.append(p)
    p = folder / "deep_nesting.qde"  # 10 000 nested elements: above the depth limit
    p.write_text(deep_xml(10_000))
    written.append(p)
    return written


if __name__ == "__main__":
    small = write_small()
    large = write_large()
    print(f"wrote {len(small)} small samples in {HERE} and {len(large)} large ones in {GENERATED}", file=sys.stderr)
