file(REMOVE_RECURSE
  "CMakeFiles/test_f16.dir/test_f16.c.o"
  "CMakeFiles/test_f16.dir/test_f16.c.o.d"
  "test_f16"
  "test_f16.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_f16.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
