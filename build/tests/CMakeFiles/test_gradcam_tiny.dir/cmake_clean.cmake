file(REMOVE_RECURSE
  "CMakeFiles/test_gradcam_tiny.dir/test_gradcam_tiny.c.o"
  "CMakeFiles/test_gradcam_tiny.dir/test_gradcam_tiny.c.o.d"
  "test_gradcam_tiny"
  "test_gradcam_tiny.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_gradcam_tiny.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
