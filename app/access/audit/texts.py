"""The access report's texts (English message ids), shared by its printable page and its PDF so
that both say the same in the patient's language."""

from __future__ import annotations

from app.i18n import N_

REPORT_TITLE = N_("Who has processed my data")
INTRODUCTION = N_(
    "This report lists who has viewed or changed your data in Askel, the physical activity "
    "counselling service, from {since} to {until}, why, and to whom your data was disclosed "
    "(Client Data Act 703/2023, section 11). Times are Finnish time."
)
CONTROLLER = N_("Controller of the data: {controller}")
ACCESSES = N_("Viewed and changed")
NO_ACCESSES = N_("No one viewed or changed your data during this period.")
ACCESS_COLUMNS = (N_("When"), N_("Who"), N_("Organisation"), N_("Purpose"), N_("What"))
DISCLOSURES = N_("Disclosed")
NO_DISCLOSURES = N_("Your data was not disclosed to anyone during this period.")
DISCLOSURE_COLUMNS = (N_("When"), N_("What"), N_("To whom"), N_("Disclosed by"))
APPENDIX = N_("Appendix: proof that the entries are in the log")
NO_HEAD = N_("The log has no signed tree head yet: the entries have no proofs.")
HOW_TO_CHECK = (
    N_(
        "Every entry of Askel's log is a leaf of a Merkle tree built as RFC 9162 (Certificate "
        "Transparency) describes. Its leaf hash is the SHA-256 of a zero byte followed by the "
        "entry as the log stores it; the controller gives the entries in that form on request."
    ),
    N_(
        "To check an entry, start from its leaf hash and combine it with each hash of its path in "
        "turn, as RFC 9162, section 2.1.3.2 describes, using its leaf number and the size of the "
        "tree: the result must be the root below. The size, the root and the time are signed "
        'with Askel\'s Ed25519 key; the signature covers the lines "askel audit tree head v1", '
        "the size, the root and the time exactly as given."
    ),
)
SIGNED_HEAD = N_("Signed tree head")
HEAD_SIZE = N_("Size of the tree (entries)")
HEAD_ROOT = N_("Root hash (SHA-256)")
HEAD_TIME = N_("Signed at")
HEAD_KEY = N_("Key id and public key (Ed25519)")
HEAD_SIGNATURE = N_("Signature")
PROOF_COLUMNS = (N_("Entry"), N_("Leaf"), N_("Leaf hash"), N_("Path"))
UNSEALED = N_(
    "{count} of the entries above are so new that they are not yet in the signed tree: they "
    "have no proof in this report."
)
PAGE = N_("Page {number}")
