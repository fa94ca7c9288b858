"""A worked "own project": the synthetic study as another QDA program would hand it over.

Used by the chapter "Rerun this book on your own project" and by the tests; not part of
the package (it edits an export's XML as text, which only suits our own exports).
Run as a script: ``python tools/demo_project.py OUT_DIR`` writes ``OUT_DIR/demo.qdpx`` and
its ``qda-project.yml``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from qda.exchange.naming import SYNTHETIC_MARKER
from qda.exchange.read import read_qdpx_members
from qda.exchange.write import export_project
from qda.io import atomic_write
from qda.study.model import Study

# ---------------------------------------------------------------------------
# A worked "own project": the synthetic study as another tool would hand it over
# ---------------------------------------------------------------------------
#: The code names a user's tool might give the four analysis roles (used by the demo).
DEMO_CODE_NAMES = {
    "gender_inequities": "GI - gendered treatment",
    "mentorship": "MENTOR (all)",
    "mentoring": "Mentor gives",
    "being_mentored": "Mentee receives",
}


def make_demo_project(study: Study, out_dir: str | Path, names: dict[str, str] | None = None) -> Path:
    """Write ``out_dir/export.qdpx`` + ``out_dir/qda-project.yml``: a stand-in for a user's project.

    The synthetic study is exported (:func:`export_project`), its four analysis codes are
    renamed as another tool would name them (``names``, default :data:`DEMO_CODE_NAMES`),
    the slugs that would let the importer recognise them are removed, the synthetic
    marker is dropped (so the import is treated as a real project, ``synthetic=False``),
    and a mapping file maps the new names back to the analysis roles. This is what the
    chapter "Rerun this book on your own project" and its test build the book on.
    Writes only inside ``out_dir``.
    """
    names = dict(DEMO_CODE_NAMES if names is None else names)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = export_project(study, out_dir / ".synthetic-export.qdpx")
    try:
        members = read_qdpx_members(tmp)
    finally:
        tmp.unlink()
    xml = members["project.qde"].decode("utf-8")
    current = study.codebook.drop_duplicates("code", keep="last").set_index("code")["name"]
    for role, new in names.items():
        slug = study.analysis_codes.get(role, role)
        xml = re.sub(f'name="{re.escape(str(current[slug]))}"', f'name="{new}"', xml)
        xml = xml.replace(f"Code ID: {slug}\n", "").replace(f"Code ID: {slug}<", "<")
    xml = xml.replace(f"<Description>{SYNTHETIC_MARKER}", "<Description>A coded interview project")
    target = out_dir / "export.qdpx"
    with atomic_write(target, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(2019, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, xml.encode("utf-8") if name.endswith(".qde") else members[name])
    mapping = (
        "analysis:\n"
        f'  code_a: "{names["gender_inequities"]}"\n'
        f'  code_b: "{names["mentorship"]}"\n'
        f'  code_b_parts: ["{names["mentoring"]}", "{names["being_mentored"]}"]\n'
        'compare_by: "gender"\n'
    )
    with atomic_write(out_dir / "qda-project.yml", "w") as f:
        f.write(
            "# Which of this project's codes the book's analysis uses\n# (see qda-project.example.yml).\n" + mapping
        )
    return target


if __name__ == "__main__":
    import sys

    import qda

    print(make_demo_project(qda.load_study(), sys.argv[1]))
