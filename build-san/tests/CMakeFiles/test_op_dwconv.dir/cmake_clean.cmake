file(REMOVE_RECURSE
  "CMakeFiles/test_op_dwconv.dir/test_op_dwconv.c.o"
  "CMakeFiles/test_op_dwconv.dir/test_op_dwconv.c.o.d"
  "test_op_dwconv"
  "test_op_dwconv.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_op_dwconv.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
