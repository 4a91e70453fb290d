"""Package list for setuptools (the rest of the configuration is in pyproject.toml).

templates/ and samples/ are installed as toolkit._templates and toolkit._samples; setuptools'
package finder cannot discover mapped directories, so they are added here.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["toolkit", "toolkit.*"]) + ["toolkit._templates", "toolkit._samples"])
