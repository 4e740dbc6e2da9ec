"""The package's version, in one place: pyproject.toml reads it from here (setuptools' `attr:`,
without importing the package), and the modules that report it import it from here, not from the
package `__init__` above them."""

__version__ = "0.1.0"
