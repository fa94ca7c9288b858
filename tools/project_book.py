"""Build the analysis chapters of the book on a user's own project (QDA_PROJECT).

    QDA_PROJECT=private/export.qdpx make book      # what users type
    .venv/bin/python tools/project_book.py PROJECT [--out _build/project]

The book's configuration is copied with three changes: the banner says the data are the
user's project (not synthetic), every chapter is executed afresh (no execution cache: its
key is code cells only, so a cache could serve the synthetic corpus's outputs), and the
table of contents is `_toc_project.yml` (the chapters that need only a coded project:
participants, the analysis set; the methods chapters need coding rounds and
reconciliation logs, which REFI-QDA does not carry). The HTML goes to OUT/_build/html.
"""

from __future__ import annotations

import argparse
import os
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
    return cfg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "project")
    args = parser.parse_args(argv)
    project = args.project.resolve()
    if not project.exists():
        print(f"{args.project}: file: does not exist; export your project as .qdpx and give its path", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    cfg_path = args.out / "_config.yml"
    cfg_path.write_text(yaml.safe_dump(project_config(project), sort_keys=False, allow_unicode=True))
    env = dict(os.environ, QDA_PROJECT=str(project))
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "-W",
        "-n",
        "--keep-going",
        "--toc",
        str(ROOT / "_toc_project.yml"),
        "--config",
        str(cfg_path),
        "--path-output",
        str(args.out),
    ]
    done = subprocess.run(cmd, env=env, cwd=ROOT)
    if done.returncode == 0:
        print(f"Book built on {project.name}: open file://{args.out.resolve()}/_build/html/index.html")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
