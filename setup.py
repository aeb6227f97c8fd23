"""Build the Python package: the core's C sources plus the CPython glue.

    python3 setup.py build_ext --inplace   # what `make` does
    pip install .                           # inside a venv
"""
import glob

from setuptools import Extension, setup

core = sorted(glob.glob("core/src/*.c"))

setup(
    name="wsevent",
    version="1.0.0",
    description="Windows Sockets event objects for Linux",
    package_dir={"": "python"},
    packages=["wsevent"],
    package_data={"wsevent": ["py.typed", "__init__.pyi"]},
    ext_modules=[
        Extension(
            "wsevent._wsevent",
            sources=["python/wsevent/_wsevent.c"] + core,
            include_dirs=["core/include"],
            depends=glob.glob("core/include/*.h") + glob.glob("core/src/*.h"),
            define_macros=[("_GNU_SOURCE", None)],
            extra_compile_args=["-std=c11", "-fvisibility=hidden",
                                "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers",
                                "-Wno-cast-function-type"],
        )
    ],
    python_requires=">=3.9",
)
