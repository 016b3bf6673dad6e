file(REMOVE_RECURSE
  "CMakeFiles/test_op_misc.dir/test_op_misc.c.o"
  "CMakeFiles/test_op_misc.dir/test_op_misc.c.o.d"
  "test_op_misc"
  "test_op_misc.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_op_misc.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
