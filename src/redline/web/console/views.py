"""Words the console's templates translate from data (precedences, states, roles, link states).

The view of a message itself is shared with the API: ``redline.services.views``.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a word for extraction into the catalogue; templates translate it when shown."""
    return message


# Words the templates translate from data (precedences, states, roles, link states).
VOCABULARY = (
    N_("FLASH"), N_("IMMEDIATE"), N_("PRIORITY"), N_("ROUTINE"),
    N_("queued"), N_("sent"), N_("delivered"), N_("acknowledged"), N_("overdue"),
    N_("operator"), N_("supervisor"), N_("auditor"), N_("admin"),
    N_("up"), N_("degraded"), N_("down"), N_("unknown"), N_("ok"), N_("failing"), N_("held"),
    N_("opened"), N_("updated"), N_("closed"),
)  # fmt: skip
