"""What the build keeps between runs, and whether it still holds.

Every cache in the project, its folder, size and limit, and `cache info|clear` (``folders``); sealed entries, trusted
only if this user's builds wrote them (``keeper``); work kept within one process (``memo``); the record of the last
build, which lets a build with nothing to do stop at once (``uptodate``).
"""
