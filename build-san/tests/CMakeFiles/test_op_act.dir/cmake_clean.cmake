file(REMOVE_RECURSE
  "CMakeFiles/test_op_act.dir/test_op_act.c.o"
  "CMakeFiles/test_op_act.dir/test_op_act.c.o.d"
  "test_op_act"
  "test_op_act.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_op_act.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
