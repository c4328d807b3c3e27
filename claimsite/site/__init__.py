"""The site.

The build, stage by stage (``build``); the MkDocs plugin that adds the generated pages, with the engine's theme and
assets (``plugin``, ``theme/``); publishing into the site folder (``publish``, ``folder``) with MkDocs, or with
Zensical (``zensical``); the live preview (``preview``).
"""
