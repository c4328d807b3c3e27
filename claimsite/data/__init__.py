"""The data package.

Its descriptor, declared (``descriptor``); one set of rules for reading a data file at any size (``_reading``);
large files kept in DuckDB (``large``); the loaded, typed datasets (``load``).
"""
