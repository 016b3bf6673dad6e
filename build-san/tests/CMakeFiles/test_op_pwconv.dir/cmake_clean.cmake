file(REMOVE_RECURSE
  "CMakeFiles/test_op_pwconv.dir/test_op_pwconv.c.o"
  "CMakeFiles/test_op_pwconv.dir/test_op_pwconv.c.o.d"
  "test_op_pwconv"
  "test_op_pwconv.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_op_pwconv.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
