"""Print the analysis-set segments of a data folder for the analysts to read (Markdown).

Usage: python tools/analysis_segments.py DATA_DIR [FIRST LAST]   (participant numbers, inclusive)

One section per segment: its transcript, the participant's gender, rank and career stage,
the codes that make it a segment (gender_inequities and which mentorship code), and its text.
"""

from __future__ import annotations

import sys

import qda
from qda.analysis.analysis_set import analysis_set


def main(argv: list[str]) -> int:
    study = qda.load_study(argv[0])
    first, last = (int(argv[1]), int(argv[2])) if len(argv) == 3 else (1, 10**6)
    seg = analysis_set(study, round="full")
    seg = seg.loc[seg["transcript_id"].str[1:].astype(int).between(first, last)]
    for row in seg.itertuples():
        print(
            f"## {row.segment_id} ({row.transcript_id}; {row.gender}, {row.rank}, {row.career_stage}; "
            f"mentorship: {row.role})\n"
        )
        print(row.text.replace("\n\n", "\n\n> ").join(["> ", ""]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
