"""Claims.

Sentences checked against the data and published with their values (``check``); each check a spec may declare, one
module each, registered in one place (``checks``), on what they share: the values a check reads, its result and the
reason it fails, and whether a gap is beyond the data's uncertainty (``_checking``); numbers typed by hand in prose
(``literals``); what changed between two versions of the data (``changes``).
"""
