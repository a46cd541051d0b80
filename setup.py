"""Build the optional compiled kernels (coverage/_dijkstra.pyx, _reach.pyx, _sample.pyx).

Everything else is in pyproject.toml. The extension is optional: where no C compiler (or no
Cython) is available the install still succeeds and care15 uses scipy's Dijkstra instead, which
gives the same numbers, slower (``care15.access.ENGINE`` says which one is in use); the street
samples of the isochrone fields are then made with numpy (``care15.isofield.SAMPLER``).
"""

import sys

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # built without build isolation and without Cython: no kernel
    ext_modules = []
else:
    flags = [] if sys.platform == "win32" else ["-O3"]
    ext_modules = cythonize(
        [Extension("care15._dijkstra", ["coverage/_dijkstra.pyx"], extra_compile_args=flags),
         Extension("care15._reach", ["coverage/_reach.pyx"], extra_compile_args=flags),
         Extension("care15._sample", ["coverage/_sample.pyx"], extra_compile_args=flags)],
        language_level=3,
    )
    for ext in ext_modules:
        ext.optional = True  # cythonize() does not carry the flag over

setup(ext_modules=ext_modules)
