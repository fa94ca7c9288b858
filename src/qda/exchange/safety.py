"""Reading untrusted REFI-QDA containers and XML: limits, safe zip members, safe XML, schemas.

Container rules (item 1 of issue 17): a ``.qdpx`` must be a zip from its first byte to its
last (no data before the first entry, nothing after the end-of-central-directory record
and its comment); a ``.qde``/``.qdc`` is XML, recognised by its bytes, not by
``zipfile.is_zipfile`` (which finds a zip appended to anything), and trailing data after
the root element is refused by the parser. Each zip member is decompressed at most once
(:meth:`_Package.member`), and its expanded size is counted against
``Limits.max_uncompressed`` every time a source uses it.
"""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import defusedxml.ElementTree as DET
from defusedxml.common import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from lxml import etree

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
MIB = 1024 * 1024


# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """Safety limits for reading untrusted REFI-QDA files.

    ``max_uncompressed``: bytes, the expanded size of the project XML plus that of every
    source text each time a source uses it (or the size of a bare ``.qde``/``.qdc``), and
    the sum of the declared sizes of all zip members; ``max_entries``: zip members;
    ``max_depth``: XML element nesting; ``max_ratio``: uncompressed/compressed size of any
    member larger than 1 MiB (text compresses about 3-10x; a zip bomb 1000x).
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
# Reading untrusted containers
# ---------------------------------------------------------------------------
_FIX_REEXPORT = "re-export the project from your QDA program"
_FIX_HOSTILE = "do not open this file; ask its author for a clean export"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_EOCD = b"PK\x05\x06"


def _zip_bounds_problem(path: Path, size: int) -> str | None:
    """Why the zip has data before its first entry or after its end record, or None."""
    with path.open("rb") as f:
        tail_len = min(size, 22 + 65535)
        f.seek(size - tail_len)
        tail = f.read(tail_len)
    pos = tail.rfind(_EOCD)
    if pos < 0 or pos + 22 > len(tail):
        return "has no end-of-archive record"
    comment = int.from_bytes(tail[pos + 20 : pos + 22], "little")
    extra = len(tail) - (pos + 22 + comment)
    if extra > 0:
        return f"has {extra} bytes of data after the end of the archive"
    return None


class _Package:
    """A REFI-QDA file opened for reading: the XML bytes plus access to zip members."""

    def __init__(self, path: Path, limits: Limits):
        self.path = path
        self.limits = limits
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, zipfile.ZipInfo] = {}
        self._cache: dict[str, Any] = {}
        self.used = 0  # expanded bytes used so far (each use of a member counts)
        suffix = path.suffix.lower()
        if not path.is_file():
            raise RefiError(path, "file", "does not exist", "give the path of a .qdpx, .qde or .qdc file")
        size = path.stat().st_size
        if size == 0:
            raise RefiError(path, "file", "is empty", _FIX_REEXPORT)
        if suffix not in {".qdpx", ".qde", ".qdc"}:
            raise RefiError(path, "file name", f"has the suffix {suffix!r}", "give a .qdpx, .qde or .qdc file")
        with path.open("rb") as f:
            head = f.read(4)
        self.qde_name = path.name
        if head.startswith(_ZIP_MAGIC):
            self.kind = "qdpx"
            self._open_zip(size)
        elif suffix == ".qdpx":
            raise RefiError(path, "zip", "is not a readable zip archive (it does not start as one)", _FIX_REEXPORT)
        else:
            self.kind = suffix[1:]
            self._count(size, "file")
            self.xml = path.read_bytes()

    def _count(self, n: int, where: str) -> None:
        self.used += n
        if self.used > self.limits.max_uncompressed:
            raise LimitExceededError(
                self.path,
                where,
                f"brings the expanded size read to {self.used} bytes, above the limit of "
                f"{self.limits.max_uncompressed} (a source text counts each time a source uses it)",
                "raise Limits.max_uncompressed (QDA_REFI_MAX_UNCOMPRESSED) if you trust the file",
            )

    def _open_zip(self, size: int) -> None:
        path, lim = self.path, self.limits
        bounds = _zip_bounds_problem(path, size)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
            raise RefiError(path, "zip", f"is not a readable zip archive ({e})", _FIX_REEXPORT) from None
        self.zip = zf
        infos = zf.infolist()
        if bounds is None and infos and min(i.header_offset for i in infos) != 0:
            bounds = f"has {min(i.header_offset for i in infos)} bytes of data before its first entry"
        if bounds:
            raise UnsafeInputError(path, "zip", bounds, _FIX_HOSTILE)
        if len(infos) > lim.max_entries:
            raise LimitExceededError(
                path,
                "zip",
                f"has {len(infos)} entries, above the limit of {lim.max_entries}",
                "raise Limits.max_entries (QDA_REFI_MAX_ENTRIES) if you trust the file",
            )
        total = 0
        for info in infos:
            self._check_entry(info)
            total += info.file_size
            self.members[info.filename.lower()] = info
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
        if not named and len(qdes) > 1:
            raise RefiError(
                path,
                "zip",
                f"holds {len(qdes)} .qde files and none is project.qde",
                "keep only one .qde in the archive",
            )
        chosen = named[0] if named else qdes[0]
        self.qde_name = chosen.filename
        self._count(chosen.file_size, f"zip entry {chosen.filename!r}")
        self.xml = self._read(chosen)

    def _check_entry(self, info: zipfile.ZipInfo) -> None:
        path, name = self.path, info.filename
        p = PurePosixPath(name.replace("\\", "/"))
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in p.parts or "\x00" in name:
            raise UnsafeInputError(path, f"zip entry {name!r}", "points outside the archive (zip-slip)", _FIX_HOSTILE)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeInputError(path, f"zip entry {name!r}", "is a symbolic link", _FIX_HOSTILE)
        if info.flag_bits & 0x1:
            raise RefiError(path, f"zip entry {name!r}", "is encrypted", "export the project without a password")
        if name.lower() in self.members:
            raise UnsafeInputError(path, f"zip entry {name!r}", "appears twice", _FIX_REEXPORT)
        if info.file_size > MIB and info.file_size > self.limits.max_ratio * max(info.compress_size, 1):
            raise LimitExceededError(
                path,
                f"zip entry {name!r}",
                f"expands {info.file_size / max(info.compress_size, 1):.0f}-fold, above the limit of "
                f"{self.limits.max_ratio:g} (zip bomb?)",
                "raise Limits.max_ratio (QDA_REFI_MAX_RATIO) if you trust the file",
            )

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        assert self.zip is not None
        try:
            with self.zip.open(info) as f:
                data = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error, ValueError) as e:
            # zipfile checks the CRC and the declared size: a lying header ends here
            raise UnsafeInputError(
                self.path, f"zip entry {info.filename!r}", f"cannot be decompressed ({e})", _FIX_REEXPORT
            ) from None
        if len(data) > info.file_size:
            raise UnsafeInputError(
                self.path, f"zip entry {info.filename!r}", "is larger than its header says", _FIX_HOSTILE
            )
        return data

    def member_info(self, plain_text_path: str) -> zipfile.ZipInfo | None:
        """The zip member holding a source's plain text, or None when absent.

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
                return info
        return None

    def member(self, info: zipfile.ZipInfo, convert: Callable[[list[bytes]], Any]) -> Any:
        """``convert([bytes])`` of a member: decompressed and converted once, counted on every use.

        The bytes come in a one-item list that ``convert`` may empty, so that they can be
        freed while it still works (a large source's text is built after its bytes are gone).
        """
        self._count(info.file_size, f"zip entry {info.filename!r}")
        key = info.filename.lower()
        if key not in self._cache:
            self._cache[key] = convert([self._read(info)])
        return self._cache[key]


# ---------------------------------------------------------------------------
# Safe XML
# ---------------------------------------------------------------------------
#: ``on_end(element, parent) -> True`` tells :func:`parse_xml` to drop a finished element.
EndHook = Callable[[ET.Element, ET.Element], bool]
#: lxml's options for every untrusted parse here: no entity expansion, no network, no DTD
#: (each call adds ``huge_tree`` as its size rule allows).
LXML_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False}

#: libxml2 (without ``huge_tree``) refuses documents nested deeper than this; expat then decides.
LIBXML_MAX_DEPTH = 256


def _limit_depth(file: str | Path, tag: str, limit: int) -> LimitExceededError:
    return LimitExceededError(
        file,
        f"XML element <{_local(tag)}>",
        f"is nested deeper than {limit} levels",
        "raise Limits.max_depth (QDA_REFI_MAX_DEPTH) if you trust the file",
    )


def parse_xml(
    data: bytes,
    file: str | Path,
    limits: Limits | None = None,
    on_end: EndHook | None = None,
    end_tag: str | None = None,
) -> ET.Element:
    """Parse untrusted XML safely; return the root with namespace-free (local) tag names.

    defusedxml forbids DTDs (hence entity expansion and external references); depth is
    counted while parsing (no recursion) and stops at ``limits.max_depth``; data after
    the root element is refused by the parser ("junk after document element").
    ``on_end(el, parent)`` sees every finished element; when it returns True the element
    is removed from its parent, so a caller can keep large repeated parts compactly.

    ``end_tag`` (a local name) says that ``on_end`` acts only on elements of that name:
    then lxml parses the document and hands only those elements to Python (the fast path,
    :func:`_parse_lxml`), with the same result. Whenever lxml reports anything (an error,
    a warning, a DOCTYPE, a depth above the limit), the fast attempt is dropped, ``on_end``'s
    ``reset()`` is called, and the document is parsed again by expat element by element,
    which gives the refusal (or result) exactly as before.
    """
    limits = limits or Limits.from_env()
    if not data or data.isspace():
        raise RefiError(file, "XML", "is empty", _FIX_REEXPORT)
    try:
        # A DTD (the only place entities can be declared) comes before the root element:
        # defusedxml's parser reads up to the root's start tag and refuses any; the whole
        # document is then read by a C parser (an undeclared entity is a parse error there).
        for _ in DET.iterparse(
            _BytesSource(data), events=("start",), forbid_dtd=True, forbid_entities=True, forbid_external=True
        ):
            break
        root = None
        if on_end is not None and end_tag is not None:
            try:
                root = _parse_lxml_batched(data, limits.max_depth, on_end, end_tag)
            except _Unusual:  # the element-by-element lxml parse decides
                getattr(on_end, "reset", lambda: None)()
                root = _parse_lxml(data, limits.max_depth, on_end, end_tag)
            if root is None:
                getattr(on_end, "reset", lambda: None)()
        if root is None:
            root = _parse_expat(data, file, limits.max_depth, on_end)
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
    return root


def _parse_expat(data: bytes, file: str | Path, max_depth: int, on_end: EndHook | None) -> ET.Element:
    """The element-by-element parse (expat): every start and end event passes through Python."""
    stack: list[ET.Element] = []
    it = ET.iterparse(_BytesSource(data), events=("start", "end"))
    for event, el in it:
        if event == "start":
            el.tag = _local(el.tag)
            stack.append(el)
            if len(stack) > max_depth:
                raise _limit_depth(file, el.tag, max_depth)
        else:
            stack.pop()
            if on_end is not None and stack and on_end(el, stack[-1]):
                _remove_near_end(stack[-1], el)
    return it.root


class _TooDeep(Exception):
    pass


class _Unusual(Exception):
    """The batched parse met what only the element-by-element parse handles (see _parse_lxml_batched)."""


class BatchHook(Protocol):
    """An :data:`EndHook` that can also take many finished elements at once (:func:`_parse_lxml_batched`).

    ``parent_tags``: the tags of the parents whose ``end_tag`` children the hook takes (for any other
    parent it returns False). ``take(parent, start, stop)`` consumes ``parent``'s children
    ``start <= i < stop`` when all are ``end_tag`` elements it can take in one step, with the same
    result as calling the hook on each in order, and returns True (they are then deleted); it
    returns False, changing nothing, when any needs the element-by-element hook. The children
    before ``start`` are the ones kept so far; after ``stop`` come kept children that are not
    ``end_tag`` elements, then, while the parent is open, its last child, perhaps unfinished.
    """

    parent_tags: frozenset[str]

    def __call__(self, el: Any, parent: Any) -> bool: ...

    def take(self, parent: Any, start: int, stop: int) -> bool: ...


#: Bytes fed to lxml at a time by the batched parse: the tree holds about this much of the
#: batched elements at once, and the hook's ``take`` runs once per chunk and parent.
BATCH_CHUNK = 256 * 1024
#: An open parent's finished children are taken once it holds more than this many children
#: (memory stays bounded); most runs are then whole parents, taken when they end.
BATCH_OPEN_MIN = 4096


def _parse_lxml_batched(data: bytes, max_depth: int, on_end: EndHook, end_tag: str) -> Any:
    """The batched path of :func:`parse_xml`: finished ``end_tag`` elements go to the hook in runs.

    For the usual document (one default namespace, blanked as in :func:`_parse_lxml`; the
    depth limit at or above libxml2's own) and a hook with ``take`` (:class:`BatchHook`): lxml
    is fed :data:`BATCH_CHUNK` bytes at a time, reports only the start and end of the parents
    the hook names, and after each chunk every finished child of an open or just-ended parent
    is offered to ``take`` at once (the elements are never handed to Python one by one).
    Children ``take`` declines go to the hook one by one, in document order, as in
    :func:`_parse_lxml`; those it keeps stay in the tree. The last child of an open parent is
    always left alone (it may be unfinished), so the parser never loses an element it is in.

    Returns None when lxml reports anything (expat decides, as for :func:`_parse_lxml`);
    raises :class:`_Unusual` for a document this path does not handle (a namespace other than
    the one default, a lower depth limit, a parent nested in another parent, a hook without
    ``take``): :func:`_parse_lxml` then parses it element by element.
    """
    take = getattr(on_end, "take", None)
    parent_tags = getattr(on_end, "parent_tags", None)
    head = _blank_default_namespace(data)
    if take is None or not parent_tags or head is None or max_depth < LIBXML_MAX_DEPTH:
        raise _Unusual
    kept: dict[Any, int] = {}  # parent -> its leading children that stay in the tree

    def flush(parent: Any, still_open: bool) -> None:
        start = kept.get(parent, 0)
        stop = len(parent) - still_open  # an open parent's last child may be unfinished
        if stop <= start:
            return
        while start < stop and parent[start].tag != end_tag:  # the hook never sees these: kept
            start += 1
        end = stop
        while end > start and parent[end - 1].tag != end_tag:  # kept too, after the run
            end -= 1
        if end > start and take(parent, start, end):
            del parent[start:end]
            kept[parent] = start + stop - end
            return
        for el in parent[start:stop]:
            if el.tag == end_tag and on_end(el, parent):
                parent.remove(el)
            else:
                start += 1
        kept[parent] = start

    parser = etree.XMLPullParser(
        events=("start", "end"),
        tag=[f"{{*}}{t}" for t in sorted(parent_tags)],
        huge_tree=False,
        **LXML_SAFE,
        remove_comments=True,
        remove_pis=True,
    )
    open_parent: Any = None
    view = memoryview(data)
    try:
        parser.feed(head)
        for at in range(len(head), len(data), BATCH_CHUNK):
            parser.feed(view[at : at + BATCH_CHUNK].tobytes())
            for event, el in parser.read_events():
                if event == "start":
                    if open_parent is not None:
                        raise _Unusual  # a parent inside a parent
                    open_parent = el
                else:
                    flush(el, False)
                    open_parent = None
            if open_parent is not None and len(open_parent) > BATCH_OPEN_MIN:
                flush(open_parent, True)
        root = parser.close()
    except (etree.LxmlError, LookupError, ValueError):  # expat decides (and words any refusal)
        return None
    if len(parser.error_log) or root is None or root.getroottree().docinfo.doctype:
        return None
    return root


def _parse_lxml(data: bytes, max_depth: int, on_end: EndHook, end_tag: str) -> Any:
    """The fast path of :func:`parse_xml`, or None when expat must decide.

    lxml builds the tree in C and stops in Python only at the end of each ``end_tag``
    element (``iterparse(tag="{*}...")``).  libxml2 without ``huge_tree`` refuses a
    document nested deeper than :data:`LIBXML_MAX_DEPTH` (256, the default limit) or a text
    node over 10 MB: expat then decides. Only a lower depth limit is checked here (no
    recursion: the element's children and grandchildren in a loop, anything deeper and
    the rest of the tree by an explicit stack).  Tags become local names: the usual
    document declares one default namespace on its root and none elsewhere, and is parsed
    with that declaration blanked out (:func:`_blank_default_namespace`, no copy of the
    bytes), so its tags arrive local; any other is renamed element by element.
    No DTD is loaded, no entity resolved, nothing read from the network.
    """
    local: dict[Any, str] = {}

    def loc(tag: Any) -> str:
        name = local.get(tag)
        if name is None:
            name = local[tag] = _local(tag)
        return name

    head = _blank_default_namespace(data)
    rename = head is None
    check = max_depth < LIBXML_MAX_DEPTH
    depth: dict[Any, int] = {}  # parent element -> its depth (root = 1)
    it = etree.iterparse(
        _BytesSource(data, head),
        events=("end",),
        tag=f"{{*}}{end_tag}",
        huge_tree=False,
        **LXML_SAFE,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _, el in it:
            parent = el.getparent()
            if parent is None:
                continue
            if rename or check:
                d = depth.get(parent)
                if d is None:
                    d = depth[parent] = sum(1 for _ in parent.iterancestors()) + 1
                    parent.tag = loc(parent.tag)
                el.tag = loc(el.tag)
                d += 1
                deeper = check and d + 2 > max_depth
                for c in el:
                    c.tag = loc(c.tag)
                    for gc in c:
                        gc.tag = loc(gc.tag)
                        if len(gc):
                            deeper = check
                if deeper:
                    _local_and_depth(el, d, max_depth, loc)
            if on_end(el, parent):
                parent.remove(el)
        root = it.root
    except (etree.LxmlError, LookupError, ValueError, _TooDeep):  # expat decides (and words any refusal)
        return None
    if len(it.error_log) or root is None or root.getroottree().docinfo.doctype:
        return None
    if rename or check:
        try:
            _local_and_depth(root, 1, max_depth if check else LIBXML_MAX_DEPTH, loc)
        except _TooDeep:
            return None
    return root


#: The prolog (BOM, XML declaration, comments, PIs, white space) and the root's start tag.
_ROOT_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:[ \t\r\n]+|<\?[^?]*(?:\?(?!>)[^?]*)*\?>|<!--(?:[^-]|-(?!-))*-->)*"
    rb"<[A-Za-z_][A-Za-z0-9_.-]*((?:[ \t\r\n]+[^ \t\r\n=/>]+[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"]*\"|'[^']*'))*)[ \t\r\n]*/?>"
)
_ATTR = re.compile(rb"[ \t\r\n]+([^ \t\r\n=/>]+)[ \t\r\n]*=[ \t\r\n]*(?:\"[^\"]*\"|'[^']*')")


def _blank_default_namespace(data: bytes) -> bytes | None:
    """The document's head up to the end of the root's start tag, its ``xmlns="..."`` blanked.

    Only when that declaration is the document's one namespace declaration (no ``xmlns``
    anywhere after the root's start tag, no prefixed one on it, an unprefixed root name):
    then every element name is unprefixed, and blanking the declaration (spaces of the
    same length, so lines and columns stay) changes only the namespace of each element,
    never its local name, attributes or text. Otherwise None.
    """
    m = _ROOT_START.match(data)
    if m is None:
        return None
    start = None
    for a in _ATTR.finditer(data, m.start(1), m.end(1)):
        name = a.group(1)
        if name == b"xmlns" and start is None:
            start, end = a.start(), a.end()
        elif name.startswith(b"xmlns"):
            return None
    if start is None or data.find(b"xmlns", m.end()) >= 0:
        return None
    return data[:start] + b" " * (end - start) + data[end : m.end()]


def _local_and_depth(top: Any, top_depth: int, max_depth: int, loc: Callable[[Any], str]) -> None:
    """Give ``top`` and its subtree local tag names; raise _TooDeep past ``max_depth`` (a loop, no recursion)."""
    stack = [(top, top_depth)]
    while stack:
        el, d = stack.pop()
        if d > max_depth:
            raise _TooDeep
        el.tag = loc(el.tag)
        stack.extend((c, d + 1) for c in el)


def _remove_near_end(parent: ET.Element, el: ET.Element) -> None:
    """Remove ``el`` from ``parent``, searching from the end (events arrive in batches, so a
    few later siblings may already be there; ``parent.remove`` would search from the start)."""
    for k in range(len(parent) - 1, -1, -1):
        if parent[k] is el:
            del parent[k]
            return


class _BytesSource:
    """A read-only file over bytes without the copy ``io.BytesIO`` makes; ``head`` replaces its start."""

    def __init__(self, data: bytes, head: bytes | None = None):
        self._view = memoryview(data)
        self._head = head or b""
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n is None or n < 0 else min(len(self._view), self._pos + n)
        if self._pos < len(self._head):
            end = min(end, len(self._head))
            out = self._head[self._pos : end]
        else:
            out = self._view[self._pos : end].tobytes()
        self._pos = end
        return out


# ---------------------------------------------------------------------------
# Schema validation (trusted XSDs; documents already passed parse_xml)
# ---------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _schema(kind: str) -> etree.XMLSchema:
    parser = etree.XMLParser(**LXML_SAFE)
    doc = etree.parse(str(SCHEMA_DIR / ("Project.xsd" if kind == "project" else "Codebook.xsd")), parser)
    return etree.XMLSchema(doc)


#: Documents up to this size are validated as a tree (every error, with its line); larger ones
#: are validated while streaming (bounded memory; the first errors, see :func:`schema_errors`).
SCHEMA_TREE_MAX = 32 * MIB


def schema_errors(data: bytes, kind: str | None = None) -> list[tuple[int, str]]:
    """Validate QDA-XML against ``Project.xsd`` or ``Codebook.xsd``; return ``[(line, message)]``.

    Namespace variants (:data:`KNOWN_NAMESPACES`, or none) are rewritten to the
    schema's namespace first, so only structure is judged.  Call :func:`parse_xml`
    first on untrusted bytes (it rejects DTDs and enforces the depth and size limits);
    lxml here resolves nothing, reads nothing from the network, and reads text nodes
    of any length (``huge_tree``: the size is already bounded by ``Limits``).

    A document larger than :data:`SCHEMA_TREE_MAX` in the schema's own namespace is
    validated while it is parsed, finished elements dropped between chunks (a whole tree of
    10^6 codings takes about 2 GB): libxml2's streaming validator stops judging structure at the first
    error, so only the first errors are listed, with line 0 (it gives no line).
    """
    if len(data) > SCHEMA_TREE_MAX:
        streamed = _streamed_schema_errors(data, kind)
        if streamed is not None:
            return streamed
    parser = etree.XMLParser(huge_tree=True, **LXML_SAFE)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        return [(e.lineno or 0, f"cannot be read for schema validation ({e.msg})")]
    local = etree.QName(root).localname
    kind = kind or ("codebook" if local == "CodeBook" else "project")
    return tree_schema_errors(root, kind)


class _PrunedSource(_BytesSource):
    """Bytes for a validating ``iterparse`` that, before each chunk, drops what the parse has finished.

    Between two chunks the open elements are the root and its chain of last children; every
    other element has ended, and the validator (which judges the parse events, not the tree)
    needs none of them, so the tree never holds more than about a chunk.
    """

    root: Any = None

    def read(self, n: int = -1) -> bytes:
        el = self.root
        while el is not None and len(el):
            last = el[-1]
            if len(el) > 1:
                del el[:-1]
            el = last
        return super().read(n)


def _streamed_schema_errors(data: bytes, kind: str | None) -> list[tuple[int, str]] | None:
    """Schema errors found while streaming, or None when the root is not in the schema's namespace."""
    opts = {**LXML_SAFE, "huge_tree": True}
    try:
        for _, el in etree.iterparse(_BytesSource(data), events=("start",), **opts):
            qname = etree.QName(el)
            break
        else:
            return None
    except etree.XMLSyntaxError:
        return None
    kind = kind or ("codebook" if qname.localname == "CodeBook" else "project")
    if qname.namespace != (NS_CODEBOOK if kind == "codebook" else NS_PROJECT):
        return None
    source = _PrunedSource(data)
    it = etree.iterparse(source, events=("start",), tag=qname.text, schema=_schema(kind), **opts)
    try:
        for _, el in it:  # the root (and any element of the same name inside it)
            if source.root is None:
                source.root = el
    except etree.XMLSyntaxError as e:
        errs = [(x.line, x.message) for x in it.error_log if x.level >= etree.ErrorLevels.ERROR]
        return errs or [(e.lineno or 0, f"cannot be read for schema validation ({e.msg})")]
    return []


def tree_schema_errors(root: Any, kind: str) -> list[tuple[int, str]]:
    """Like :func:`schema_errors` for an lxml element (an export before it is written)."""
    ns = NS_CODEBOOK if kind == "codebook" else NS_PROJECT
    for el in root.iter():
        if isinstance(el.tag, str) and not el.tag.startswith(f"{{{ns}}}"):
            el.tag = f"{{{ns}}}{etree.QName(el).localname}"
    schema = _schema(kind)
    if schema.validate(root):
        return []
    return [(e.line, e.message) for e in schema.error_log]
