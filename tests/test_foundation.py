"""The foundation: layout, pins, Makefile contract, CI entry point."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib

import yaml
from conftest import ROOT


def test_layout_of_the_design_card():
    for name in [
        "_config.yml",
        "_toc.yml",
        "chapters",
        "data",
        "src/qda",
        "tests",
        "environment.yml",
        "Makefile",
        "README.md",
        "CONTRIBUTING.md",
        ".ci/run",
        "references.bib",
        "CITATION.cff",
        "LICENSE",
        "pyproject.toml",
        "requirements.lock",
    ]:
        assert (ROOT / name).exists(), name


def test_readme_first_two_commands_are_book_and_test():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"^make (\w+)", text, flags=re.M)
    assert commands[:2] == ["book", "test"]


def test_ci_run_is_executable_and_calls_make_test():
    run = ROOT / ".ci" / "run"
    assert os.access(run, os.X_OK)
    assert re.search(r"^make test$", run.read_text(), flags=re.M)


def test_lock_pins_every_package_exactly():
    lines = [x for x in (ROOT / "requirements.lock").read_text().splitlines() if x and not x.startswith("#")]
    assert len(lines) > 50
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", line), line


def test_environment_yml_carries_the_same_pins_as_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    lock = [x for x in (ROOT / "requirements.lock").read_text().splitlines() if x and not x.startswith("#")]
    assert [p for p in pip if "==" in p] == lock


def test_runtime_dependencies_exclude_the_gpl_krippendorff_package():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = " ".join(meta["project"]["dependencies"]).lower()
    assert "krippendorff" not in runtime
    src = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    assert not re.search(r"^\s*(import|from)\s+krippendorff\b", src, flags=re.M)


def test_toc_lists_only_existing_chapters_and_every_chapter_is_listed():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for ch in part["chapters"]:
            files.append(ch["file"])
            files += [s["file"] for s in ch.get("sections", [])]
    for f in files:
        assert (ROOT / f"{f}.md").exists(), f
    on_disk = {f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.md")}
    assert on_disk == set(files)


def test_book_config_warns_synthetic_and_has_no_placeholder_urls():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "synthetic" in cfg["html"]["announcement"].lower()
    assert cfg["bibtex_bibfiles"] == ["references.bib"]
    assert cfg["execute"]["execute_notebooks"] == "cache"
    text = (ROOT / "_config.yml").read_text()
    assert "example.com" not in text and "executablebooks/jupyter-book" not in text
    assert not cfg["html"].get("use_repository_button")


def test_references_cover_the_paper_and_the_method_references():
    bib = (ROOT / "references.bib").read_text()
    for key in [
        "murphy2021mentoring",
        "campbell2013coding",
        "krippendorff2011computing",
        "fleiss1971measuring",
        "cohen1960coefficient",
    ]:
        assert f"{{{key}," in bib


def test_real_data_folder_is_ignored_by_git():
    out = subprocess.run(["git", "check-ignore", "private/interviews.qdpx"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, "private/ must be git-ignored"


def test_one_version_string():
    """The version is written once, in pyproject.toml; the package and CITATION.cff follow it."""
    import tomllib

    import qda

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert qda.__version__ == version
    assert yaml.safe_load((ROOT / "CITATION.cff").read_text())["version"] == version
    assert not re.search(r"__version__\s*=\s*['\"]\d+\.\d+", (ROOT / "src" / "qda" / "__init__.py").read_text())
