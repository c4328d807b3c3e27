"""Claims.

Sentences checked against the data (``check``); numbers typed by hand in prose (``literals``); what changed between
two versions of the data (``changes``).
"""
