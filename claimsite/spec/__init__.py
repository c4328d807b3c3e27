"""The report spec.

Every block an author writes, declared once (``model``); a spec read and given its data: tables, views and row look-
ups (``report``).
"""
