"""What every stage shares.

The one error type and its locations (``errors``); limits on time, memory and size (``limits``); strict reading of
the files an author writes (``strict``); the declarations' base, whose blocks validate, document and export a JSON
Schema (``schema``); numbers and their display (``numbers``), where each comes from (``provenance``) and how sure it
is (``uncertainty``); tables for pages and downloads (``tables``); links the site may write (``links``); the network
guard (``offline``); the template sandbox (``sandbox``); the project's parts and paths (``project``); its git
history (``history``); and the engine's fingerprint, the ingredient of every cache key (``fingerprint``).
"""
