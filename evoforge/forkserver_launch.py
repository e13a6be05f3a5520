"""The fork server's entry point: `python -P -m evoforge.forkserver_launch [--native PATH]`.

Why not `-m evoforge.sandboxes.forkserver` directly: that imports the
`evoforge.sandboxes` package first, and the arenas Python fills while it
does (about 4 MB) would lie outside the reserve that the zygote backs by
huge pages (sandboxes/hugepages.py). So this loads the C module from its
path under its own name, starts the reserve, and only then imports and runs
the server. Without --native (the module was not built, or the Python
fallback is under test) it just runs the server.
"""

from __future__ import annotations

import runpy
import sys
from importlib.machinery import ExtensionFileLoader
from importlib.util import module_from_spec, spec_from_loader

NATIVE_FLAG = "--native"
NATIVE_MODULE = "evoforge.sandboxes._zygote"
SERVER_MODULE = "evoforge.sandboxes.forkserver"


def load_native(path: str) -> None:
    loader = ExtensionFileLoader(NATIVE_MODULE, path)
    module = module_from_spec(spec_from_loader(NATIVE_MODULE, loader))
    loader.exec_module(module)
    sys.modules[NATIVE_MODULE] = module  # `from evoforge.sandboxes import _zygote` finds it here
    module.reserve_arenas()


def main() -> None:
    if NATIVE_FLAG in sys.argv:
        load_native(sys.argv[sys.argv.index(NATIVE_FLAG) + 1])
    runpy.run_module(SERVER_MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
