"""Charts.

Vega-Lite specs built with Altair (``vegalite``); the engine that draws them (``engine``); the files published
beside them (``figures``).
"""
