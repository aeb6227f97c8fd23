"""Build the Python package: the core library and the CPython glue.

    python3 setup.py build_ext --inplace   # what `make` does
    pip install .                           # inside a venv

One core per process: the core is built as the shared library
libwsevent.so.1 and shipped inside the package, next to the extension,
which links to it by its soname (rpath $ORIGIN).  The dynamic linker loads
an object with a given soname once per process, so a C host already linked
with libwsevent.so.1, or a Lua module loaded in the same process, shares
this one core and its handle space.
"""
import glob
import os
import re

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

CORE_SOURCES = sorted(glob.glob("core/src/event/*.c") + glob.glob("core/src/net/*.c"))
CORE_HEADERS = glob.glob("core/include/*.h") + glob.glob("core/src/*/*.h")
SONAME = "libwsevent.so.1"
# Shipped in the package for providers' builds (wsevent.get_include()).
PUBLIC_HEADERS = ["core/include/wsevent.h", "core/include/wsevent_provider.h"]


def version():
    """The one version, kept in core/include/wsevent.h."""
    with open("core/include/wsevent.h") as f:
        return re.search(r'#define WSEVENT_VERSION_STRING "([^"]+)"', f.read()).group(1)
WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter",
            "-Wno-missing-field-initializers", "-Wno-cast-function-type"]


class build_core_then_ext(build_ext):
    """Build libwsevent.so.1 beside the extension, then the extension."""

    def build_extension(self, ext):
        target_dir = os.path.dirname(self.get_ext_fullpath(ext.name))
        os.makedirs(target_dir, exist_ok=True)
        library = os.path.join(target_dir, SONAME)
        objects = self.compiler.compile(
            CORE_SOURCES, output_dir=self.build_temp,
            include_dirs=["core/include"], macros=[("_GNU_SOURCE", None)],
            extra_preargs=["-std=c11", "-fPIC", "-fvisibility=hidden"],
            extra_postargs=['-DWSEVENT_EXTERN=extern __attribute__((visibility("default")))']
            + WARNINGS,
            depends=CORE_HEADERS)
        if self.force or self._newer(objects, library):
            self.compiler.link_shared_object(
                objects, library, libraries=["pthread"],
                extra_postargs=["-Wl,-soname," + SONAME, "-Wl,-z,nodelete"])
        include = os.path.join(target_dir, "include")
        os.makedirs(include, exist_ok=True)
        for header in PUBLIC_HEADERS:
            self.copy_file(header, include, level=self.verbose)
        ext.extra_link_args = ["-L" + target_dir, "-l:" + SONAME,
                               "-Wl,-rpath,$ORIGIN"]
        ext.depends = list(ext.depends) + [library]
        super().build_extension(ext)

    def copy_extensions_to_source(self):
        """--inplace copies each extension into the tree: the core too."""
        super().copy_extensions_to_source()
        build_py = self.get_finalized_command("build_py")
        for ext in self.extensions:
            inplace_file, regular_file = self._get_inplace_equivalent(build_py, ext)
            built, tree = os.path.dirname(regular_file), os.path.dirname(inplace_file)
            self.copy_file(os.path.join(built, SONAME), os.path.join(tree, SONAME),
                           level=self.verbose)
            for header in PUBLIC_HEADERS:
                self.copy_file(header, os.path.join(tree, "include"), level=self.verbose)

    @staticmethod
    def _newer(sources, target):
        if not os.path.exists(target):
            return True
        mtime = os.path.getmtime(target)
        return any(os.path.getmtime(s) > mtime for s in sources)


setup(
    name="wsevent",
    version=version(),
    description="Windows Sockets event objects for Linux",
    package_dir={"": "python"},
    packages=["wsevent"],
    package_data={"wsevent": ["py.typed", "__init__.pyi", "include/*.h"]},
    include_package_data=False,  # not the glue's .c files
    ext_modules=[
        Extension(
            "wsevent._wsevent",
            sources=sorted(glob.glob("python/wsevent/*.c")),
            include_dirs=["core/include", "python/wsevent/include"],
            depends=CORE_HEADERS + glob.glob("python/wsevent/*.h")
            + glob.glob("python/wsevent/include/wsevent_python.h"),
            define_macros=[("_GNU_SOURCE", None)],
            extra_compile_args=["-std=c11", "-fvisibility=hidden"] + WARNINGS,
        )
    ],
    cmdclass={"build_ext": build_core_then_ext},
    python_requires=">=3.11",
)
