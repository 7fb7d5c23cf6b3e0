"""The routing core: pure functions of a message, the routing state and a tenant policy.

`COMPILED` says whether the modules on the per-message path were imported from the mypyc build made at install
(`routing.native`), `BUILD` how, in words. `OMNIROUTE_PURE=1` forces the pure-Python modules.
"""

from routing import native as _native

COMPILED, BUILD = _native.activate(__path__)
