
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/support/ecw_build.c" "tests/CMakeFiles/effcam_testsupport.dir/support/ecw_build.c.o" "gcc" "tests/CMakeFiles/effcam_testsupport.dir/support/ecw_build.c.o.d"
  "/work/main/tests/support/ref_conv.c" "tests/CMakeFiles/effcam_testsupport.dir/support/ref_conv.c.o" "gcc" "tests/CMakeFiles/effcam_testsupport.dir/support/ref_conv.c.o.d"
  "/work/main/tests/support/ref_misc.c" "tests/CMakeFiles/effcam_testsupport.dir/support/ref_misc.c.o" "gcc" "tests/CMakeFiles/effcam_testsupport.dir/support/ref_misc.c.o.d"
  "/work/main/tests/support/ref_model.c" "tests/CMakeFiles/effcam_testsupport.dir/support/ref_model.c.o" "gcc" "tests/CMakeFiles/effcam_testsupport.dir/support/ref_model.c.o.d"
  "/work/main/tests/support/test_util.c" "tests/CMakeFiles/effcam_testsupport.dir/support/test_util.c.o" "gcc" "tests/CMakeFiles/effcam_testsupport.dir/support/test_util.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-san/CMakeFiles/effcam.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
