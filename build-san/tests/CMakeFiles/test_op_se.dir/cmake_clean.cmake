file(REMOVE_RECURSE
  "CMakeFiles/test_op_se.dir/test_op_se.c.o"
  "CMakeFiles/test_op_se.dir/test_op_se.c.o.d"
  "test_op_se"
  "test_op_se.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_op_se.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
