# lit configuration for pageref's check tests (clang-tidy style).
import os
import lit.formats

config.name = "pageref"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".c", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.pageref_obj_root, "test")
config.excludes = ["Inputs", "unit", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in", "check_pageref_tidy.py"]

tools = os.path.dirname(config.filecheck)
config.environment["PATH"] = os.pathsep.join([tools, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(
    ("%check_pageref_tidy",
     "%s %s --clang-tidy %s --plugin %s --filecheck %s" % (
         config.python, os.path.join(config.test_source_root, "check_pageref_tidy.py"),
         config.clang_tidy, config.pageref_plugin, config.filecheck)))
config.substitutions.append(("%kernel_include", os.path.join(config.pageref_src_root, "testdata", "include")))
config.substitutions.append(("%clang_tidy", config.clang_tidy))
config.substitutions.append(("%pageref_plugin", config.pageref_plugin))
config.substitutions.append(("%pageref", config.pageref_bin))
config.substitutions.append(("%python", config.python))

import shutil
if shutil.which("clang-tidy-14"):
    config.available_features.add("clang-tidy-14")
