# The Debian package: `cpack -G DEB` in the build directory writes
# pageref_VERSION_ARCH.deb with the install rules of cmake/PagerefInstall.cmake
# under /usr. Depends: what dpkg-shlibdeps finds for the executables (libLLVM,
# libclang-cpp, and for pageref-clangd the grpc, protobuf and abseil runtime
# libraries), plus what pageref runs or reads at run time.
set(CPACK_PACKAGE_NAME pageref)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "pageref")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "static analyzer for the Linux kernel's page-reference discipline")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(PAGEREF_PACKAGE_MAINTAINER "pageref developers <pageref@invalid>" CACHE STRING "Maintainer: of the Debian package")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PAGEREF_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The extended description; CPack puts the summary above it as the synopsis.
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "Checks, built on Clang 19, for code that takes page references from\n"
  "get_user_pages()/pin_user_pages(), iov_iter_get_pages2() and\n"
  "iov_iter_extract_pages(): unbalanced and mismatched releases, ITER_BVEC\n"
  "iterators dropped under async I/O, and the get-pages caller inventory.\n"
  "pageref scans a kernel tree for CI (text, JSON, SARIF, HTML and GitLab\n"
  "Code Quality reports), the clang-tidy-19 plugin runs the same checks, and\n"
  "pageref-clangd shows them in the editor.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# clang-tidy-19: `inventory` runs it, and the plugin is loaded into it.
# libclang-common-19-dev: clang 19's built-in headers (-resource-dir).
# python3: prepare-kernel.py (--debian, a tree without a compile database),
# which installs the kernel's own build dependencies itself when run as root.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "clang-tidy-19, libclang-common-19-dev, python3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "clang-19, make, bc, flex, bison, libelf-dev, libssl-dev, xz-utils")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "linux-source")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
include(CPack)
