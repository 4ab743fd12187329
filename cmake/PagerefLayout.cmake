# Where pageref's files go, relative to the install prefix. The build tree has
# the same layout (bin/, lib/pageref/, and share/ as links to the sources, made
# in tools/pageref/CMakeLists.txt), and pageref finds each file relative to its
# own executable (tools/pageref/Layout.cpp), so a build-tree pageref and an
# installed one resolve alike and an installed one never names the build tree.
set(PAGEREF_INSTALL_BINDIR "bin")
# The clang-tidy plugin: a private directory, as Debian keeps plugins
# (/usr/lib/pageref/PagerefTidyModule.so, loaded with clang-tidy-19 --load).
set(PAGEREF_INSTALL_PLUGINDIR "lib/pageref")
# prepare-kernel.py (for --debian and trees without a compile database), the
# API model pageref has built in (the base for --api-model files), the CI templates.
set(PAGEREF_INSTALL_DATADIR "share/pageref")
set(PAGEREF_INSTALL_DOCDIR "share/doc/pageref")
set(PAGEREF_INSTALL_MANDIR "share/man")
