"""Build the analysis chapters of the book on a user's own project (QDA_PROJECT).

    QDA_PROJECT=private/export.qdpx make book      # what users type
    .venv/bin/python tools/project_book.py PROJECT [--out _build/project]

The mapping is checked first (`python -m qda check-project`: one line per problem, exit 2,
before any chapter runs). The book's configuration is copied with three changes: the banner
says the data are the user's project (not synthetic), every chapter is executed afresh (no
execution cache: its key is code cells only, so a cache could serve another project's
outputs), and the table of contents is `_toc_project.yml` (the pages of chapters/project/,
which run on any coded project and say why where it lacks what they need).

One project never shows another's results: each build goes to its own folder,
`_build/project/<name>-<key>`, the key a hash of the export's bytes and of its mapping, and
Sphinx's saved environment there is dropped before every build (Sphinx re-reads only the
pages whose source changed, and the page sources are the same for every project). The
HTML goes to OUT/_build/html; `_build/project/latest` points at the last build.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def project_config(project: Path) -> dict:
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg["title"] = f"{cfg['title']}: rerun on {project.name}"
    cfg["html"]["announcement"] = (
        f"Built on the project <b>{project.name}</b>, not on the synthetic corpus. "
        "Check every page for identifying data before you share it."
    )
    cfg["html"]["extra_footer"] = "Built with the qda book on a user's project."
    cfg["execute"]["execute_notebooks"] = "force"
    cfg["execute"].pop("cache", None)
    # the configuration is written elsewhere; local extensions are found relative to it
    cfg["sphinx"]["local_extensions"] = {
        name: str(ROOT / path) for name, path in cfg["sphinx"]["local_extensions"].items()
    }
    return cfg


def mapping_of(project: Path) -> Path:
    """The mapping a build of ``project`` reads: QDA_MAPPING, else qda-project.yml beside it."""
    env = os.environ.get("QDA_MAPPING")
    return Path(env) if env else project.parent / "qda-project.yml"


def project_key(project: Path) -> str:
    """16 hex digits of SHA-256 over the export's bytes and its mapping's bytes (if any)."""
    h = hashlib.sha256(project.read_bytes())
    mapping = mapping_of(project)
    h.update(b"\0mapping\0" + (mapping.read_bytes() if mapping.is_file() else b""))
    return h.hexdigest()[:16]


def build_dir(project: Path) -> Path:
    """The build folder of ``project``: ``_build/project/<stem>-<key>``."""
    project = Path(project).resolve()
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in project.stem)[:40]
    return ROOT / "_build" / "project" / f"{stem}-{project_key(project)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--out", type=Path, help="build folder (default: _build/project/<name>-<key>)")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    if not project.exists():
        print(f"{args.project}: file: does not exist; export your project as .qdpx and give its path", file=sys.stderr)
        return 2
    env = dict(os.environ, QDA_PROJECT=str(project))
    check = subprocess.run([sys.executable, "-m", "qda", "check-project", str(project)], env=env, cwd=ROOT)
    if check.returncode != 0:
        return check.returncode
    out = args.out or build_dir(project)
    for stale in (out / "_build" / ".doctrees", out / "_build" / "jupyter_execute", out / "_build" / "html"):
        shutil.rmtree(stale, ignore_errors=True)  # a fresh Sphinx environment: every page read again
    out.mkdir(parents=True, exist_ok=True)
    args.out = out
    cfg_path = args.out / "_config.yml"
    cfg_path.write_text(yaml.safe_dump(project_config(project), sort_keys=False, allow_unicode=True))
    cmd = [
        sys.executable,
        str(ROOT / "tools" / "build_book.py"),  # jupyter-book build -W -n --keep-going, chapters in parallel
        str(ROOT),
        "--toc",
        str(ROOT / "_toc_project.yml"),
        "--config",
        str(cfg_path),
        "--path-output",
        str(args.out),
    ]
    done = subprocess.run(cmd, env=env, cwd=ROOT)
    if done.returncode == 0:
        latest = ROOT / "_build" / "project" / "latest"
        if args.out.resolve().parent == latest.parent.resolve():
            # a new link renamed over the old one: two builds finishing together cannot collide
            fresh = latest.with_name(f".latest-{os.getpid()}")
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(args.out.name)
            os.replace(fresh, latest)
        print(f"Book built on {project.name}: open file://{args.out.resolve()}/_build/html/index.html")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
