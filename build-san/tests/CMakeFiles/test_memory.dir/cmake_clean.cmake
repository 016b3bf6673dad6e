file(REMOVE_RECURSE
  "CMakeFiles/test_memory.dir/test_memory.c.o"
  "CMakeFiles/test_memory.dir/test_memory.c.o.d"
  "test_memory"
  "test_memory.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_memory.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
