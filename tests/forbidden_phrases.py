"""Phrases of the paper and its participants that must never appear in the project.

The passages, chapters and prose of this project are our own writing. These phrases
(quotations or near-quotations of the study's participants, and close variants) are
checked for in the passage bank and the chapters. They are stored ROT13-encoded so that
the quotations themselves never stand in the repository as text.
"""

import codecs

_ENCODED = [
    "orpnhfr v nz n thl",
    "orpnhfr v nz n zna",
    "orpnhfr v'z n thl",
    "orpnhfr v'z n zna",
    "pbzr hc sbe graher",
    "perrcl",
    "perrcl unenffvat",
    "perrcl, unenffvat",
    "qnzntrq tbbqf",
    "qvssrerag fgnaqneq",
    "qb abg jnire",
    "qba'g jnire",
    "svther vg bhg gbtrgure",
    "svther guvf bhg",
    "uryq gb n qvssrerag fgnaqneq",
    "yvsr vf yvsr",
    "byq obl'f",
    "byq oblf",
    "byq oblf cv argjbex",
    "byq juvgr qhqr",
    "byq juvgr qhqrf",
    "byq juvgr thl",
    "byq juvgr zra",
    "byq-oblf",
    "byq-oblf cv argjbex",
    "cneg bs rirelguvat ng ubzr",
    "frr lbh jura lbh pbzr hc sbe graher",
    "hanffnvynoyr",
    "jr jvyy svther guvf bhg",
    "jr'yy svther guvf bhg",
    "jrnevat nal haqrejrne",
]

#: The phrases, lower case, straight apostrophes, single spaces.
FORBIDDEN = [codecs.decode(p, "rot13") for p in _ENCODED]
