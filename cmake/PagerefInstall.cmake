# `cmake --install build --prefix DIR` and the Debian package (cpack -G DEB in
# build/): everything a user runs, in the layout of cmake/PagerefLayout.cmake.
# test/install/install-test.py installs into a temporary prefix and runs it
# with the build tree renamed; .ci/run does the same with the package.
install(TARGETS pageref RUNTIME DESTINATION ${PAGEREF_INSTALL_BINDIR})
if(TARGET pageref-clangd)
  install(TARGETS pageref-clangd RUNTIME DESTINATION ${PAGEREF_INSTALL_BINDIR})
endif()
install(TARGETS PagerefTidyModule LIBRARY DESTINATION ${PAGEREF_INSTALL_PLUGINDIR})
install(PROGRAMS tools/kernel/prepare-kernel.py DESTINATION ${PAGEREF_INSTALL_DATADIR})
install(FILES analyzer/data/api-model.json DESTINATION ${PAGEREF_INSTALL_DATADIR})
install(DIRECTORY ci/ DESTINATION ${PAGEREF_INSTALL_DATADIR}/ci)
install(DIRECTORY docs/ DESTINATION ${PAGEREF_INSTALL_DOCDIR})
install(FILES README.md DESTINATION ${PAGEREF_INSTALL_DOCDIR})

# The manual page (with the project's version), compressed as Debian ships
# them; in the build tree at the place it is installed to, so that
# `man -l build/share/man/man1/pageref.1.gz` shows it.
find_program(PAGEREF_GZIP gzip REQUIRED)
set(man_dir ${CMAKE_BINARY_DIR}/${PAGEREF_INSTALL_MANDIR}/man1)
configure_file(packaging/pageref.1.in ${man_dir}/pageref.1 @ONLY)
set(man_gz ${man_dir}/pageref.1.gz)
add_custom_command(OUTPUT ${man_gz}
  COMMAND ${PAGEREF_GZIP} -9 -n -c ${man_dir}/pageref.1 > ${man_gz}
  DEPENDS ${man_dir}/pageref.1
  COMMENT "Compressing the manual page pageref(1)")
add_custom_target(pageref-man ALL DEPENDS ${man_gz})
install(FILES ${man_gz} DESTINATION ${PAGEREF_INSTALL_MANDIR}/man1)
