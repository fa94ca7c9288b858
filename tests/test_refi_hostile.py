"""Hostile and broken REFI-QDA input (issue 9 items 1-3): clear errors, nothing written, nothing leaked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import run_qda

from qda.errors import LimitExceededError, RefiError, UnsafeInputError
from qda.refi import Limits, export_project, import_project, validate_file

sys.path.insert(0, str(Path(__file__).parent / "bad_inputs"))
import make_bad_inputs as mbi  # noqa: E402

BAD = Path(__file__).parent / "bad_inputs"
ROOT = Path(__file__).resolve().parents[1]

# file -> (exception type from the API, pattern of the message after "FILE: ")
CASES = {
    "malformed.qdpx": (RefiError, r"line 1, column \d+: is not well-formed XML"),
    "xxe.qde": (UnsafeInputError, r"XML: declares a DTD or entities"),
    "xxe_parameter.qdpx": (UnsafeInputError, r"XML: declares a DTD or entities"),
    "billion_laughs.qde": (UnsafeInputError, r"XML: declares a DTD or entities"),
    "zip_slip_dotdot.qdpx": (UnsafeInputError, r"zip entry '\.\./evil\.txt': points outside the archive \(zip-slip\)"),
    "zip_slip_absolute.qdpx": (
        UnsafeInputError,
        r"zip entry '/tmp/evil\.txt': points outside the archive \(zip-slip\)",
    ),
    "no_qde.qdpx": (RefiError, r"zip: holds no \.qde project file"),
    "selection_out_of_range.qdpx": (
        RefiError,
        r"<PlainTextSelection guid=aaaaaaaa-[^>]*>: positions 21-5000 lie outside the text \(0-56 code points\)",
    ),
    "selection_end_before_start.qdpx": (
        RefiError,
        r"<PlainTextSelection guid=aaaaaaaa-[^>]*>: ends at 21, not after its start 40",
    ),
    "selection_missing_source.qdpx": (
        RefiError,
        r"<TextSource guid=9f2c1e7a-[^>]*>: has 1 coded selection\(s\) but its text .* is not in the file",
    ),
    "unknown_guid.qdpx": (
        RefiError,
        r"<Coding guid=bbbbbbbb-[^>]*>: <CodeRef targetGUID=deadbeef-[^>]*> points to nothing",
    ),
    "duplicate_guid.qdpx": (RefiError, r"<Code 'Twin' guid=0B1C2D3E-[^>]*>: duplicate GUID"),
    "not_utf8_source.qdpx": (RefiError, r"text internal://9f2c1e7a-[^,]*\.txt, byte 6: is not UTF-8 text"),
    "not_utf8_xml.qde": (RefiError, r"line 1, column \d+: is not well-formed XML"),
    "empty.qdpx": (RefiError, r"file: is empty"),
    "empty.qde": (RefiError, r"file: is empty"),
    "empty_member.qdpx": (RefiError, r"XML: is empty"),
    "not_a_zip.qdpx": (RefiError, r"zip: is not a readable zip archive"),
}
LARGE = {
    "zip_bomb_ratio.qdpx": (
        LimitExceededError,
        r"zip entry 'sources/[^']+': expands \d+-fold, above the limit of 200 \(zip bomb\?\)",
        None,
    ),
    "zip_bomb_total.qdpx": (
        LimitExceededError,
        r"zip: expands to \d+ bytes, above the limit of 536870912",
        Limits(max_ratio=1e9),
    ),
    "zip_bomb_lying_header.qdpx": (
        UnsafeInputError,
        r"zip entry 'sources/[^']+': cannot be decompressed \(Bad CRC-32",
        None,
    ),
    "many_entries.qdpx": (LimitExceededError, r"zip: has 10002 entries, above the limit of 10000", None),
    "deep_nesting.qde": (LimitExceededError, r"XML element <x>: is nested deeper than 256 levels", None),
}


@pytest.fixture(scope="module")
def large() -> Path:
    mbi.write_large()
    return mbi.GENERATED


def test_committed_samples_are_what_the_generator_writes(tmp_path):
    mbi.write_small(tmp_path)
    for name in CASES:
        assert (tmp_path / name).read_bytes() == (BAD / name).read_bytes(), name


def _one_line(err: Exception, path: Path, pattern: str) -> str:
    line = str(err)
    assert "\n" not in line
    assert line.startswith(str(path)), line
    import re

    assert re.search(pattern, line), line
    assert line.count(": ") >= 2 and "; " in line  # FILE: where: what; fix
    return line


@pytest.mark.parametrize("name", sorted(CASES))
def test_api_raises_the_specific_error(name):
    exc, pattern = CASES[name]
    path = BAD / name
    with pytest.raises(exc) as info:
        import_project(path)
    line = _one_line(info.value, path, pattern)
    assert mbi.SECRET not in line
    problems = validate_file(path)
    assert problems and any(__import__("re").search(pattern, p.line()) for p in problems)


@pytest.mark.parametrize("name", sorted(LARGE))
def test_limits_stop_large_inputs(large, name):
    exc, pattern, limits = LARGE[name]
    with pytest.raises(exc) as info:
        import_project(large / name, limits=limits)
    _one_line(info.value, large / name, pattern)


def test_limits_are_settings(large, monkeypatch):
    p = large / "deep_nesting.qde"
    with pytest.raises(LimitExceededError, match="deeper than 100 levels"):
        import_project(p, limits=Limits(max_depth=100))
    monkeypatch.setenv("QDA_REFI_MAX_ENTRIES", "1")
    with pytest.raises(LimitExceededError, match="has 2 entries, above the limit of 1"):
        import_project(BAD / "bom_crlf_ok.qdpx")
    monkeypatch.setenv("QDA_REFI_MAX_ENTRIES", "many")
    with pytest.raises(Exception, match="QDA_REFI_MAX_ENTRIES: environment: 'many' is not a number"):
        import_project(BAD / "bom_crlf_ok.qdpx")
    monkeypatch.delenv("QDA_REFI_MAX_ENTRIES")
    assert Limits.from_env(max_depth=7) == Limits(max_depth=7)


def _python_dash_m(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "qda", *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_import_exits_2_with_one_line_and_writes_nothing(tmp_path, name):
    exc, pattern = CASES[name]
    out = tmp_path / "out"
    r = run_qda("import", str(BAD / name), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists()
    assert mbi.SECRET not in r.stdout + r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing beside it either
    v = run_qda("validate", str(BAD / name), cwd=tmp_path)
    assert v.returncode == 2 and v.stderr.strip() and "Traceback" not in v.stderr


@pytest.mark.parametrize("name", ["zip_slip_dotdot.qdpx"])
def test_python_dash_m_refuses_in_one_line_with_exit_2(tmp_path, name):
    """The same refusals through a real `python -m qda` process: the exit status, and no
    traceback at exit (the other tests call the commands in this process)."""
    out = tmp_path / "out"
    r = _python_dash_m("import", str(BAD / name), "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert re.search(CASES[name][1], r.stderr) and not out.exists()
    v = _python_dash_m("validate", str(BAD / name), cwd=tmp_path)
    assert v.returncode == 2 and v.stderr.strip() and "Traceback" not in v.stderr, v.stderr


def test_xxe_never_reads_the_local_file(tmp_path, monkeypatch):
    """Besides the refusal: no open() of the secret file happens while importing."""
    import builtins

    opened = []
    real_open = builtins.open

    def spy(file, *a, **k):
        opened.append(str(file))
        return real_open(file, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    for name in ("xxe.qde", "xxe_parameter.qdpx"):
        with pytest.raises(UnsafeInputError) as info:
            import_project(BAD / name)
        assert mbi.SECRET not in str(info.value)
    assert not any(o.endswith("secret.txt") for o in opened)


def test_bom_crlf_sample_imports_with_offsets_kept(tmp_path):
    st = import_project(BAD / "bom_crlf_ok.qdpx")
    # selection 23-56 of the stored text (after the BOM, with CRLF) = "A senior colleague read my grant."
    assert st.with_text(st.codings)["text"].tolist() == ["A senior colleague read my grant."]
    assert "\r" not in st.text("interview")


# ---------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------
def _tiny_study():
    from test_refi import small_study

    return small_study()


def test_failed_replace_leaves_the_previous_export_intact(tmp_path, monkeypatch):
    target = tmp_path / "study.qdpx"
    target.write_bytes(b"previous export")

    def boom(*a, **k):
        raise OSError("disk full (injected)")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="injected"):
        export_project(_tiny_study(), target)
    assert target.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["study.qdpx"]  # no temp file left


def test_failure_mid_zip_leaves_the_previous_export_intact(tmp_path, monkeypatch):
    target = tmp_path / "study.qdpx"
    export_project(_tiny_study(), target)
    before = target.read_bytes()
    real = zipfile.ZipFile.writestr
    calls = {"n": 0}

    def flaky(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("write failed mid-archive (injected)")
        return real(self, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", flaky)
    with pytest.raises(OSError, match="injected"):
        export_project(_tiny_study(), target)
    assert target.read_bytes() == before and calls["n"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["study.qdpx"]


def test_import_writer_refuses_paths_outside_the_folder(tmp_path):
    from qda.errors import DataError
    from qda.refi import write_study

    st = _tiny_study()
    st.transcripts.loc[0, "transcript_id"] = "../../escape"
    with pytest.raises(DataError, match=r"transcript '\.\./\.\./escape': is not a safe file name"):
        write_study(st, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "escape.txt").exists()
