file(REMOVE_RECURSE
  "CMakeFiles/effcam_testsupport.dir/support/ecw_build.c.o"
  "CMakeFiles/effcam_testsupport.dir/support/ecw_build.c.o.d"
  "CMakeFiles/effcam_testsupport.dir/support/ref_conv.c.o"
  "CMakeFiles/effcam_testsupport.dir/support/ref_conv.c.o.d"
  "CMakeFiles/effcam_testsupport.dir/support/ref_misc.c.o"
  "CMakeFiles/effcam_testsupport.dir/support/ref_misc.c.o.d"
  "CMakeFiles/effcam_testsupport.dir/support/ref_model.c.o"
  "CMakeFiles/effcam_testsupport.dir/support/ref_model.c.o.d"
  "CMakeFiles/effcam_testsupport.dir/support/test_util.c.o"
  "CMakeFiles/effcam_testsupport.dir/support/test_util.c.o.d"
  "libeffcam_testsupport.a"
  "libeffcam_testsupport.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/effcam_testsupport.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
