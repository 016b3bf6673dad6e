file(REMOVE_RECURSE
  "CMakeFiles/test_model_tiny.dir/test_model_tiny.c.o"
  "CMakeFiles/test_model_tiny.dir/test_model_tiny.c.o.d"
  "test_model_tiny"
  "test_model_tiny.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_model_tiny.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
