"""Source text of REFI-QDA projects: decoding, the byte-order mark, line ends, offsets.

Decoding
--------
A plain-text source is decoded by its byte-order mark (BOM): UTF-32 LE/BE, UTF-8, UTF-16
LE/BE, checked in that order (the UTF-32 LE mark begins with the UTF-16 LE one); without
a BOM it must be UTF-8.  Decoded text that holds C0 control characters other than tab,
line feed, vertical tab, form feed and carriage return (NUL above all: UTF-16 or UTF-32
without a BOM decodes as "UTF-8" full of NULs) is refused: it is not text, and codings
would select garbage.

The offset base when a source starts with a BOM (decision, issue 17 item 4)
--------------------------------------------------------------------------
REFI-QDA 1.5, section 10.2 (PlainTextSelection): positions count Unicode code points, and
"the first codepoint in the file has the number 0".  Read literally, a BOM stored in the
file is code point 0; read as Unicode does (a leading U+FEFF is an encoding signature,
not text), the first character of the text is 0.  The tools differ:

* qc (``qualitative-coding``) 1.7.8 reads the file with its BOM and counts it as code
  point 0 (measured by hand in issue 17; a real qc export imported one character off);
* ATLAS.ti, NVivo and MAXQDA: none of the exports we hold (``shared/fixtures/refi``)
  has a BOM or carries its sources' text, so their behaviour is not known here;
* this package writes UTF-8 without a BOM, so the question never arises for its exports.

So the base is decided per source, from evidence, in this order:

1. selections that fit only one base: a selection ending at ``len(text) + 1`` fits only
   "the BOM is code point 0"; a selection starting at 0 fits only "after the BOM" (in the
   other base it would select the invisible BOM, which no tool lets a user select);
   selections that fit only one base each way are a contradiction, refused;
2. the exporting tool named in the project's ``origin``: qc counts the BOM;
3. word boundaries: the base in which more selections start and end at a word boundary,
   when one base wins clearly (at least 3 selections and twice as many as the other);
4. otherwise after the BOM (the Unicode reading; the importer's behaviour before).

``python -m qda import`` prints one line naming the base used whenever a source has a BOM.

Line ends
---------
The study's transcripts use LF.  A stored CRLF becomes LF and a lone CR becomes LF; a
selection keeps exactly its characters, through :class:`OffsetMap`, which exists only
for a source that holds a CR and stores one integer per CRLF pair (not per character).
Astral characters (outside the Basic Multilingual Plane) need no mapping: Python strings
index code points, as the spec counts them.

Text held inline (``<PlainTextContent>``) is the element's text as XML defines it: a CR
written ``&#13;`` is in the text (and counted, as above), but a raw CRLF or CR in the XML
is read as LF by every XML parser (XML 1.0, section 2.11). An exporter that held CRLF text
and wrote it raw counted CRs the parsed text no longer has; one whose XML writer turned
LF into CRLF did not. Decision (issue 17 item 6): the importer reads such a source both ways
(:func:`qda.exchange.structure.inline_texts_with_raw_cr`) and uses the one its selections
fit (:func:`qda.exchange.build._raw_cr_reading`): when they select the same characters
either way, nothing changes; when a selection ends past the text without the CRs, the CRs
were counted; otherwise the source is refused in one line (write the CRs as ``&#13;``, or
the text as a file), never imported with codings that may be shifted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qda.errors import RefiError

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32 BE"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16 LE"),
    (b"\xfe\xff", "utf-16-be", "UTF-16 BE"),
)
_NOT_TEXT = re.compile(r"[\x00-\x08\x0e-\x1f]")


@dataclass(frozen=True)
class SourceText:
    """A decoded source: ``text`` (BOM removed, line ends as stored) and which BOM it had."""

    text: str
    bom: str  # "" or e.g. "UTF-8"


def decode_source(raw: bytes, file: str, where: str) -> SourceText:
    """Decode a plain-text source by its BOM (UTF-8/16/32), else as UTF-8; refuse what is not text."""
    encoding, label, body = "utf-8", "", raw
    for mark, enc, name in _BOMS:
        if raw.startswith(mark):
            encoding, label, body = enc, name, raw[len(mark) :]
            break
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as e:
        what = f"is not {label} text" if label else "is not UTF-8 text"
        fix = "save the source as UTF-8 and export again"
        raise RefiError(file, f"{where}, byte {e.start + len(raw) - len(body)}", what, fix) from None
    bad = _NOT_TEXT.search(text)
    if bad:
        ch = bad.group()
        hint = " (UTF-16 or UTF-32 without a byte-order mark?)" if ch == "\x00" else ""
        raise RefiError(
            file,
            f"{where}, character {bad.start()}",
            f"holds the control character U+{ord(ch):04X}, so it is not text{hint}",
            "save the source as UTF-8 text and export again",
        )
    return SourceText(text, label)


@dataclass(frozen=True)
class DecodedSource:
    """A source ready for import: ``text`` with LF line ends and the map from stored offsets.

    ``stored_len`` counts the code points of the stored text (BOM removed, line ends as
    stored); ``stored`` is that text itself, kept only when the source has a BOM (the
    offset base is then decided on it, :func:`bom_base`); ``omap`` is None without a CR.
    """

    text: str
    omap: OffsetMap | None
    stored_len: int
    bom: str
    stored: str | None


def decode_normalised(held: bytes | list[bytes], file: str, where: str) -> DecodedSource:
    """:func:`decode_source` then :func:`normalise_newlines`, with the same results and refusals.

    UTF-8 (the usual case) is worked on as bytes, so the stored text (4 bytes per code
    point once it holds one astral character) is never built beside the LF text: CR and
    LF bytes never occur inside a multi-byte UTF-8 sequence, so replacing CRLF and CR in
    the bytes gives the bytes of the LF text (valid exactly when the stored bytes are), and
    a CRLF's position in code points is its byte position minus the continuation bytes
    before it (:func:`_crlf_positions`). Control characters are ASCII bytes, so they are
    found in the bytes as well. ``held`` may be a one-item list, which is emptied: the
    caller then keeps no reference, and the stored bytes are freed before the text is built.
    """
    raw = held.pop() if isinstance(held, list) else held
    mark = b""
    label = ""
    for m, enc, name in _BOMS:
        if raw.startswith(m):
            if enc != "utf-8":  # UTF-16/32: decoded as text, as before
                st = decode_source(raw, file, where)
                text, omap = normalise_newlines(st.text)
                return DecodedSource(text, omap, len(st.text), st.bom, st.text)
            mark, label = m, name
            break
    body = raw[len(mark) :] if mark else raw
    del raw
    if _NOT_TEXT_BYTES.search(body):
        decode_source(mark + body, file, where)  # raises the refusal (a decoding error first, as before)
    try:
        stored = body.decode("utf-8") if label else None  # the offset base is decided on it
    except UnicodeDecodeError:
        decode_source(mark + body, file, where)  # raises the refusal
        raise
    has_cr = b"\r" in body
    cr_bytes, cr_points = _crlf_positions(body) if has_cr else (None, None)
    lf = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if has_cr else body
    del body
    try:
        text = lf.decode("utf-8")
    except UnicodeDecodeError as e:
        pos = e.start
        if cr_bytes is not None:  # back to the stored bytes: add the CRs removed before it
            pos += int(np.searchsorted(cr_bytes - np.arange(len(cr_bytes)), pos, side="right"))
        raise RefiError(
            file,
            f"{where}, byte {pos + len(mark)}",
            f"is not {label} text" if label else "is not UTF-8 text",
            "save the source as UTF-8 and export again",
        ) from None
    omap = OffsetMap(cr_points) if cr_points is not None else None
    stored_len = len(text) + (len(cr_points) if cr_points is not None else 0)
    return DecodedSource(text, omap, stored_len, label, stored)


_NOT_TEXT_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def _crlf_positions(body: bytes, chunk: int = 1 << 24) -> tuple[np.ndarray, np.ndarray]:
    """Byte and code-point positions of the CR of every CRLF pair in UTF-8 ``body`` (bounded memory)."""
    a = np.frombuffer(body, dtype=np.uint8)
    in_bytes, in_points = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    cont_before = 0  # continuation bytes (10xxxxxx) before the current chunk
    for i in range(0, len(a), chunk):
        blk = a[i : i + chunk + 1]  # one byte more: a CR at the chunk's end may pair with the next LF
        n = min(chunk, len(a) - i)
        cont = (a[i : i + n] & 0xC0) == 0x80
        if len(blk) > 1:
            at = np.flatnonzero((blk[:-1] == 13) & (blk[1:] == 10))
            if len(at):
                before = np.concatenate(([0], np.cumsum(cont, dtype=np.int64)))[at]
                in_bytes.append(i + at)
                in_points.append(i + at - cont_before - before)
        cont_before += int(np.count_nonzero(cont))
    return np.concatenate(in_bytes).astype(np.int64), np.concatenate(in_points).astype(np.int64)


# ---------------------------------------------------------------------------
# Offsets
# ---------------------------------------------------------------------------
class OffsetMap:
    """Positions in the stored text -> positions in the LF-only text (see :func:`normalise_newlines`).

    ``cr[k]`` is the position of the CR of the k-th CRLF pair; a stored position ``p``
    moves left by the number of those CRs before it.  Memory: one integer per CRLF pair.
    """

    def __init__(self, cr_positions: np.ndarray):
        self.cr = cr_positions

    def __call__(self, positions):
        p = np.asarray(positions, dtype=np.int64)
        return p - np.searchsorted(self.cr, p, side="left")

    def __getitem__(self, i: int) -> int:  # shift[i], as the earlier array API
        return int(np.searchsorted(self.cr, i, side="left"))


def normalise_newlines(text: str) -> tuple[str, OffsetMap | None]:
    """LF-only text, and the map of stored offsets to it (None when the text has no CR).

    A CRLF pair becomes LF (its CR removed); a lone CR becomes LF.  A selection that
    began or ended at a CRLF keeps the same characters: ``new = old - shift[old]`` where
    ``shift[i]`` counts the CRs of CRLF pairs before position ``i``.
    """
    if "\r" not in text:
        return text, None
    cr = np.fromiter((m.start() for m in re.finditer("\r\n", text)), dtype=np.int64)
    return text.replace("\r\n", "\n").replace("\r", "\n"), OffsetMap(cr)


# ---------------------------------------------------------------------------
# Words (n_words = len(text.split()) without building the list)
# ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _space_codes() -> np.ndarray:
    return np.array([c for c in range(0x3100) if chr(c).isspace()], dtype=np.uint32)


def count_words(text: str, chunk: int = 1 << 22) -> int:
    """``len(text.split())`` in bounded memory (chunks of code points, numpy)."""
    if len(text) <= chunk:
        return len(text.split())
    spaces = _space_codes()
    n, prev_space = 0, True
    for i in range(0, len(text), chunk):
        a = np.frombuffer(text[i : i + chunk].encode("utf-32-le"), dtype=np.uint32)
        sp = np.isin(a, spaces)
        starts = ~sp & np.concatenate(([prev_space], sp[:-1]))
        n += int(starts.sum())
        prev_space = bool(sp[-1])
    return n


# ---------------------------------------------------------------------------
# The offset base of a source with a BOM
# ---------------------------------------------------------------------------
AFTER_BOM, BOM_IS_ZERO = "after the BOM", "the BOM as code point 0"
#: Exporting tools known to count a stored BOM as code point 0 (matched on the origin).
COUNTS_BOM = re.compile(r"^\s*qc\b", re.I)


def _boundary(text: str, p: int) -> bool:
    if p <= 0 or p >= len(text):
        return True
    return not (text[p - 1].isalnum() and text[p].isalnum())


def bom_base(text: str, starts: np.ndarray, ends: np.ndarray, origin: str) -> tuple[int, str]:
    """``(delta, reason)`` for a source that had a BOM: subtract ``delta`` from every offset.

    ``delta`` is 0 (offsets count after the BOM) or 1 (the BOM was code point 0); see the
    module docstring for the rule. Raises ValueError when the selections contradict each other.
    """
    n = len(text)
    if len(starts):
        only_zero = bool((ends == n + 1).any())
        only_after = bool((starts == 0).any())
        if only_zero and only_after:
            raise ValueError("some selections fit only an offset base after the BOM, others only one counting it")
        if only_zero:
            return 1, f"{BOM_IS_ZERO} (a selection ends one past the text, which fits only this base)"
        if only_after:
            return 0, f"{AFTER_BOM} (a selection starts at 0, which fits only this base)"
    if COUNTS_BOM.match(origin or ""):
        return 1, f"{BOM_IS_ZERO} (the project's origin {origin!r} is qc, which counts the BOM)"
    if len(starts) >= 3:
        score = [0, 0]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=False):
            for d in (0, 1):
                score[d] += _boundary(text, s - d) + _boundary(text, e - d)
        if score[1] >= 2 * score[0] and score[1] > score[0]:
            return 1, f"{BOM_IS_ZERO} (selections fall on word boundaries in this base: {score[1]} vs {score[0]})"
        if score[0] >= 2 * score[1] and score[0] > score[1]:
            return 0, f"{AFTER_BOM} (selections fall on word boundaries in this base: {score[0]} vs {score[1]})"
    return 0, f"{AFTER_BOM} (no evidence either way; the Unicode reading of a leading BOM)"
