"""REFI-QDA 1.5 exchange: the stable public module.

Reading untrusted files safely is :mod:`qda.exchange.safety`; import and
``load_project`` are :mod:`qda.exchange.read`; the mapping file (``qda-project.yml``)
is :mod:`qda.exchange.mapping`; export is :mod:`qda.exchange.write`. This module
re-exports their public functions so that ``qda.refi.import_project``,
``export_project`` and ``export_codebook`` keep working.
"""

from qda.exchange.datafolder import codebook_yaml, write_study
from qda.exchange.mapping import MAPPING_FILE, apply_mapping, read_mapping
from qda.exchange.naming import (
    SYNTHETIC_MARKER,
    code_description,
    make_guid,
    norm_guid,
    parse_code_description,
    sanitise_id,
    slugify,
)
from qda.exchange.read import canonical_xml, import_project, load_project, read_qdpx_members, validate_file
from qda.exchange.safety import Limits, parse_xml, schema_errors
from qda.exchange.text import decode_source, normalise_newlines
from qda.exchange.write import codebook_xml, export_codebook, export_project, project_xml

__all__ = [
    "Limits",
    "export_project",
    "export_codebook",
    "import_project",
    "load_project",
    "apply_mapping",
    "read_mapping",
    "validate_file",
    "schema_errors",
    "parse_xml",
    "project_xml",
    "codebook_xml",
    "canonical_xml",
    "read_qdpx_members",
    "write_study",
    "codebook_yaml",
    "code_description",
    "parse_code_description",
    "make_guid",
    "norm_guid",
    "slugify",
    "sanitise_id",
    "decode_source",
    "normalise_newlines",
    "MAPPING_FILE",
    "SYNTHETIC_MARKER",
]
