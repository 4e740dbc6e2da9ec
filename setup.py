"""Packaging that pyproject.toml cannot express: the repository's top-level datasets/ folder (the
shipped corpora and every corpus manifest) goes into the wheel as the package data mdlbench/_data,
where mdlbench.datasets.shipped.datasets_dir() finds it once installed."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["mdlbench", "mdlbench.*"]), "mdlbench._data"],
    package_dir={"mdlbench._data": "datasets"},
    include_package_data=False,  # only the globs below: datasets/ holds data, not packages
    package_data={"mdlbench": ["py.typed"], "mdlbench._data": ["*/*"]},
)
