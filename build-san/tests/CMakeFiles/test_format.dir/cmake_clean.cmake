file(REMOVE_RECURSE
  "CMakeFiles/test_format.dir/test_format.c.o"
  "CMakeFiles/test_format.dir/test_format.c.o.d"
  "test_format"
  "test_format.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_format.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
