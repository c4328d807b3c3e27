"""SQL views.

DuckDB runs a report's views over the datasets (``sql``) and follows every value back to the rows that fed it
(``_lineage``).
"""
