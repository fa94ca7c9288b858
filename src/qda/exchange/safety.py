"""Reading untrusted REFI-QDA containers and XML: limits, safe zip members, safe XML, schemas."""

from __future__ import annotations

import io
import os
import re
import stat
import xml.etree.ElementTree as ET
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import defusedxml.ElementTree as DET
import numpy as np
from defusedxml.common import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)

from qda.errors import DataError, LimitExceededError, RefiError, UnsafeInputError
from qda.exchange.naming import _local

NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
#: Namespaces seen in real exports (PROVENANCE "Gotchas"); elements are matched on local names anyway.
KNOWN_NAMESPACES = {
    NS_PROJECT,
    "urn:QDA-XML:project:1:0",
    NS_CODEBOOK,
    "urn:QDA-XML:codebook:0:4",
    "urn:QDA-XML:codebook:1:0",
}
SCHEMA_DIR = Path(__file__).with_name("schema")
#: UUID-5 namespace of this package's GUIDs (itself uuid5(NAMESPACE_URL, ...)).
#: Marker in the Project Description of exports of the synthetic corpus.
MIB = 1024 * 1024


# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """Safety limits for reading untrusted REFI-QDA files.

    ``max_uncompressed``: bytes, sum of the declared sizes of all zip members (or the
    size of a bare ``.qde``/``.qdc``); ``max_entries``: zip members; ``max_depth``:
    XML element nesting; ``max_ratio``: uncompressed/compressed size of any member
    larger than 1 MiB (text compresses about 3-10x; a zip bomb 1000x).
    """

    max_uncompressed: int = 512 * MIB
    max_entries: int = 10_000
    max_depth: int = 256
    max_ratio: float = 200.0

    @classmethod
    def from_env(cls, **overrides: Any) -> Limits:
        """Defaults, overridden by ``QDA_REFI_MAX_*`` environment variables, then by ``overrides``."""
        vals: dict[str, Any] = {}
        for name, conv in (("max_uncompressed", int), ("max_entries", int), ("max_depth", int), ("max_ratio", float)):
            env = os.environ.get(f"QDA_REFI_{name.upper()}")
            if env:
                try:
                    vals[name] = conv(env)
                except ValueError:
                    raise DataError(
                        f"QDA_REFI_{name.upper()}",
                        "environment",
                        f"{env!r} is not a number",
                        "set it to a whole number or unset it",
                    ) from None
        vals.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**vals)


# ---------------------------------------------------------------------------
# Reading untrusted containers and XML
# ---------------------------------------------------------------------------
_FIX_REEXPORT = "re-export the project from your QDA program"


class _Package:
    """A REFI-QDA file opened for reading: the XML bytes plus access to zip members."""

    def __init__(self, path: Path, limits: Limits):
        self.path = path
        self.limits = limits
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, zipfile.ZipInfo] = {}
        suffix = path.suffix.lower()
        if not path.is_file():
            raise RefiError(path, "file", "does not exist", "give the path of a .qdpx, .qde or .qdc file")
        size = path.stat().st_size
        if size == 0:
            raise RefiError(path, "file", "is empty", _FIX_REEXPORT)
        self.qde_name = path.name
        if suffix == ".qdpx" or zipfile.is_zipfile(path):
            self.kind = "qdpx"
            self._open_zip()
        elif suffix in {".qde", ".qdc"}:
            self.kind = suffix[1:]
            if size > limits.max_uncompressed:
                raise LimitExceededError(
                    path,
                    "file",
                    f"is {size} bytes, above the limit of {limits.max_uncompressed}",
                    "raise Limits.max_uncompressed (QDA_REFI_MAX_UNCOMPRESSED) if you trust it",
                )
            self.xml = path.read_bytes()
        else:
            raise RefiError(path, "file name", f"has the suffix {suffix!r}", "give a .qdpx, .qde or .qdc file")

    def _open_zip(self) -> None:
        path, lim = self.path, self.limits
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise RefiError(path, "zip", f"is not a readable zip archive ({e})", _FIX_REEXPORT) from None
        self.zip = zf
        infos = zf.infolist()
        if len(infos) > lim.max_entries:
            raise LimitExceededError(
                path,
                "zip",
                f"has {len(infos)} entries, above the limit of {lim.max_entries}",
                "raise Limits.max_entries (QDA_REFI_MAX_ENTRIES) if you trust the file",
            )
        total = 0
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            p = PurePosixPath(name.replace("\\", "/"))
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in p.parts or "\x00" in name:
                raise UnsafeInputError(
                    path,
                    f"zip entry {name!r}",
                    "points outside the archive (zip-slip)",
                    "do not open this file; ask its author for a clean export",
                )
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnsafeInputError(
                    path,
                    f"zip entry {name!r}",
                    "is a symbolic link",
                    "do not open this file; ask its author for a clean export",
                )
            if info.flag_bits & 0x1:
                raise RefiError(path, f"zip entry {name!r}", "is encrypted", "export the project without a password")
            key = name.lower()
            if key in seen:
                raise UnsafeInputError(path, f"zip entry {name!r}", "appears twice", _FIX_REEXPORT)
            seen.add(key)
            total += info.file_size
            if info.file_size > MIB and info.file_size > lim.max_ratio * max(info.compress_size, 1):
                raise LimitExceededError(
                    path,
                    f"zip entry {name!r}",
                    f"expands {info.file_size / max(info.compress_size, 1):.0f}-fold, above the limit of {lim.max_ratio:g} (zip bomb?)",
                    "raise Limits.max_ratio (QDA_REFI_MAX_RATIO) if you trust the file",
                )
            self.members[key] = info
        if total > lim.max_uncompressed:
            raise LimitExceededError(
                path,
                "zip",
                f"expands to {total} bytes, above the limit of {lim.max_uncompressed}",
                "raise Limits.max_uncompressed (QDA_REFI_MAX_UNCOMPRESSED) if you trust the file",
            )
        qdes = [i for i in infos if i.filename.lower().endswith(".qde") and "/" not in i.filename.strip("/")]
        if not qdes:
            raise RefiError(path, "zip", "holds no .qde project file", "export again as a REFI-QDA project (.qdpx)")
        named = [i for i in qdes if i.filename.lower() == "project.qde"]
        if named:
            chosen = named[0]
        elif len(qdes) == 1:
            chosen = qdes[0]
        else:
            raise RefiError(
                path,
                "zip",
                f"holds {len(qdes)} .qde files and none is project.qde",
                "keep only one .qde in the archive",
            )
        self.qde_name = chosen.filename
        self.xml = self._read(chosen)

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        assert self.zip is not None
        try:
            with self.zip.open(info) as f:
                data = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as e:
            # zipfile checks the CRC and the declared size: a lying header ends here
            raise UnsafeInputError(
                self.path, f"zip entry {info.filename!r}", f"cannot be decompressed ({e})", _FIX_REEXPORT
            ) from None
        if len(data) > info.file_size:
            raise UnsafeInputError(
                self.path,
                f"zip entry {info.filename!r}",
                "is larger than its header says",
                "do not open this file; ask its author for a clean export",
            )
        return data

    def source_bytes(self, plain_text_path: str) -> bytes | None:
        """The bytes of a source's plain text inside the archive, or None when absent.

        ``internal://X`` and bare ``X`` both resolve to ``sources/X`` (then ``X``);
        member names compare case-insensitively (GUID case differs between tools).
        Nothing outside the archive is read: absolute or external paths give None.
        """
        if self.zip is None or not plain_text_path:
            return None
        rel = re.sub(r"^internal://", "", plain_text_path.strip(), flags=re.I).replace("\\", "/")
        if re.match(r"^[a-z][a-z0-9+.-]*://", rel, flags=re.I) or rel.startswith("/") or ".." in rel.split("/"):
            return None
        for cand in (f"sources/{rel}", rel):
            info = self.members.get(cand.lower())
            if info is not None:
                return self._read(info)
        return None

    def where(self) -> str:
        return self.qde_name


def parse_xml(data: bytes, file: str | Path, limits: Limits | None = None) -> ET.Element:
    """Parse untrusted XML safely; return the root with namespace-free (local) tag names.

    defusedxml forbids DTDs (hence entity expansion and external references);
    depth is counted while parsing and stops at ``limits.max_depth``.
    """
    limits = limits or Limits.from_env()
    if not data.strip():
        raise RefiError(file, "XML", "is empty", _FIX_REEXPORT)
    depth = 0
    try:
        it = DET.iterparse(
            io.BytesIO(data), events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        for event, el in it:
            if event == "start":
                depth += 1
                if depth > limits.max_depth:
                    raise LimitExceededError(
                        file,
                        f"XML element <{_local(el.tag)}>",
                        f"is nested deeper than {limits.max_depth} levels",
                        "raise Limits.max_depth (QDA_REFI_MAX_DEPTH) if you trust the file",
                    )
            else:
                depth -= 1
        root = it.root
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as e:
        raise UnsafeInputError(
            file,
            "XML",
            f"declares a DTD or entities ({type(e).__name__}), which REFI-QDA never needs "
            "and which can read local files or expand without bound",
            "remove the <!DOCTYPE ...> block or re-export the file",
        ) from None
    except DefusedXmlException as e:  # pragma: no cover - other defusedxml refusals
        raise UnsafeInputError(
            file, "XML", f"was refused by the safe parser ({type(e).__name__})", "re-export the file"
        ) from None
    except (LookupError, ValueError) as e:  # an unknown encoding in the XML declaration, bad bytes
        raise RefiError(
            file,
            "XML declaration",
            f"cannot be decoded ({e})",
            'save the file as UTF-8 with encoding="utf-8" in its declaration',
        ) from None
    except ET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        msg = str(e).split(":")[0]
        raise RefiError(file, f"line {line}, column {col}", f"is not well-formed XML ({msg})", _FIX_REEXPORT) from None
    for el in root.iter():
        el.tag = _local(el.tag)
    return root


# ---------------------------------------------------------------------------
# Schema validation (trusted XSDs; documents already passed parse_xml)
# ---------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _schema(kind: str):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    doc = etree.parse(str(SCHEMA_DIR / ("Project.xsd" if kind == "project" else "Codebook.xsd")), parser)
    return etree.XMLSchema(doc)


def schema_errors(data: bytes, kind: str | None = None) -> list[tuple[int, str]]:
    """Validate QDA-XML against ``Project.xsd`` or ``Codebook.xsd``; return ``[(line, message)]``.

    Namespace variants (:data:`KNOWN_NAMESPACES`, or none) are rewritten to the
    schema's namespace first, so only structure is judged.  Call :func:`parse_xml`
    first on untrusted bytes (it rejects DTDs); lxml here resolves nothing and
    reads nothing from the network.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(data, parser)
    local = etree.QName(root).localname
    kind = kind or ("codebook" if local == "CodeBook" else "project")
    ns = NS_CODEBOOK if kind == "codebook" else NS_PROJECT
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = f"{{{ns}}}{etree.QName(el).localname}"
    schema = _schema(kind)
    if schema.validate(root):
        return []
    return [(e.line, e.message) for e in schema.error_log]


# ---------------------------------------------------------------------------
# Source text
# ---------------------------------------------------------------------------
def decode_source(raw: bytes, file: str, where: str) -> str:
    """Decode a plain-text source: UTF-8 (a leading BOM is dropped) or UTF-16 with BOM.

    Raises :class:`RefiError` for bytes that are not UTF-8.  Line ends are kept
    (see :func:`normalise_newlines`).
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RefiError(
            file, f"{where}, byte {e.start}", "is not UTF-8 text", "save the source as UTF-8 and export again"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def normalise_newlines(text: str) -> tuple[str, np.ndarray]:
    """LF-only text, and ``shift`` with ``new_offset = old - shift[old]`` for 0 <= old <= len(text).

    A CRLF pair becomes LF (one code point removed, after the CR); a lone CR becomes LF.
    ``shift[i]`` counts the CRs of CRLF pairs before position ``i``, so a selection that
    began or ended at a CRLF keeps the same characters.
    """
    n = len(text)
    removed = np.zeros(n + 1, dtype=np.int64)
    for m in re.finditer("\r\n", text):
        removed[m.start() + 1] += 1  # the CR at m.start() disappears; positions after it shift
    shift = np.cumsum(removed)
    return text.replace("\r\n", "\n").replace("\r", "\n"), shift
