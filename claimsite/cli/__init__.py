"""The command line.

Its commands (``main``) and the starters it writes: a new report from a data file, a project of one's own
(``scaffold``).
"""
