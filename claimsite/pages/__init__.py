"""Pages.

The Markdown of every report and of the site's own pages, rendered from Jinja templates with every number from the
data (``render``); the home, data and What changed templates a project may override (``defaults/``).
"""
