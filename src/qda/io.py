"""Safe file writing shared by every module that writes (exports, data tables).

Writes go to a temporary file in the destination folder, are flushed to disk and
then renamed over the target (``os.replace`` is atomic on POSIX and Windows), so
a failure mid-write leaves the previous file intact and no partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from qda.errors import DataError


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is untouched.
    ``mode`` is ``"wb"`` (bytes) or ``"w"`` (text, UTF-8 with LF line ends by default).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if "b" in mode:
            f = os.fdopen(fd, mode)
        else:
            f = os.fdopen(fd, mode, encoding=encoding or "utf-8", newline="\n")
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_yaml(path: str | Path, fix_missing: str):
    """``yaml.safe_load`` of ``path``; unreadable input raises :class:`qda.errors.DataError`.

    The error names the file, the line (for YAML syntax errors) and a fix;
    ``fix_missing`` is the fix printed when the file does not exist.
    """
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(path, "file", "does not exist", fix_missing) from None
    except UnicodeDecodeError as e:
        raise DataError(path, f"byte {e.start}", "is not UTF-8 text", "save the file as UTF-8") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "parsing"
        raise DataError(
            path, where, f"is not valid YAML ({getattr(e, 'problem', e)})", "fix the indentation or quoting"
        ) from None


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, LF) to ``path`` atomically."""
    with atomic_write(path, "w") as f:
        f.write(text)


def write_csv_atomic(frame, path: str | Path) -> None:
    """Write a DataFrame as CSV (UTF-8, LF, no index) to ``path`` atomically."""
    with atomic_write(path, "w") as f:
        frame.to_csv(f, index=False, lineterminator="\n")
